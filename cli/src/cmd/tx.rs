//! `tx show | pending | rebroadcast | forget`: one transaction of the wallet, and the ones it
//! signed that the chain has not shown.

use clap::Subcommand;

use crate::arg_groups::TxArgs;
use crate::context::Context;
use crate::error::CliResult;

/// `tx` subcommands.
#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Every input and output of a wallet transaction, unblinded where the wallet can, and
    /// what it paid to others.
    Show(TxArgs),
    /// Transactions signed and recorded but not yet seen on the chain, and those that failed
    /// (refused by the server, replaced by a conflicting transaction, or dropped): failed ones
    /// no longer count.
    Pending,
    /// Broadcast a pending (or failed) transaction again.
    Rebroadcast(TxArgs),
    /// Forget a pending or failed transaction that will never confirm (its coins become
    /// spendable).
    Forget(TxArgs),
}

/// Runs a `tx` subcommand.
pub fn run(ctx: &Context, command: &TxCommand) -> CliResult<()> {
    match command {
        TxCommand::Show(args) => crate::cmd::history::show(ctx, args),
        TxCommand::Pending => crate::cmd::pending::list(ctx),
        TxCommand::Rebroadcast(args) => crate::cmd::pending::rebroadcast_cmd(ctx, args),
        TxCommand::Forget(args) => crate::cmd::pending::forget_cmd(ctx, args),
    }
}
