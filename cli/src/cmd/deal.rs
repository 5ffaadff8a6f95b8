//! `deal list | show | watch | export | expire`: the deal ledger.

use clap::Subcommand;

use crate::context::Context;
use crate::error::CliResult;

/// `deal` subcommands.
#[derive(Debug, Subcommand)]
pub enum DealCommand {}

/// Runs a `deal` subcommand.
pub fn run(_ctx: &Context, command: &DealCommand) -> CliResult<()> {
    match *command {}
}
