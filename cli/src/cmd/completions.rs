//! `completions SHELL`: shell completion scripts from the clap tree.

use crate::error::CliResult;
use clap::Args;

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Prints the completion script for the chosen shell on stdout.
pub fn run(args: &CompletionsArgs) -> CliResult<()> {
    let mut command = crate::command();
    // clap_complete panics when its writer fails: generate in memory, then write through
    // the output layer, which ends quietly on a closed pipe (`| head -1`).
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "liquid-otc", &mut script);
    crate::output::write_stdout(|out| std::io::Write::write_all(out, &script));
    Ok(())
}
