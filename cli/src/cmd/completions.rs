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
    clap_complete::generate(
        args.shell,
        &mut command,
        "liquid-otc",
        &mut std::io::stdout(),
    );
    Ok(())
}
