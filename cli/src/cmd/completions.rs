//! `completions SHELL`: shell completion scripts from the clap tree.

use crate::args::CompletionsArgs;
use crate::error::CliResult;

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
