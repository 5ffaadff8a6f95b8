//! `pegout`: L-BTC to Bitcoin addresses. One peg-out from the command line (`pegout send`)
//! and the support desk's request queue (`pegout request ...`, `run`, `abandon`, `status`,
//! `export`, `settings`). wallet-core prepares, checks, records and broadcasts; these
//! commands parse, ask and print.

mod send;

use clap::Subcommand;

use crate::context::Context;
use crate::error::CliResult;

pub use send::PegoutSendArgs;

/// Long help of the `pegout` group.
pub const PEGOUT_LONG_HELP: &str = "Peg-outs: L-BTC burnt on Liquid with an output naming a \
Bitcoin address, which the Liquid federation pays on the Bitcoin chain.\n\nA peg-out output is \
an explicit L-BTC output to OP_RETURN <Bitcoin genesis hash> <Bitcoin scriptPubKey>, as \
elementsd's sendtomainchain makes it. The Bitcoin address must belong to the parent chain: \
Bitcoin mainnet for liquid, testnet for liquidtestnet, regtest for regtest; p2pkh, p2sh, \
p2wpkh, p2wsh and p2tr addresses are paid. The minimum is 0.001 BTC (100,000 sat, what \
elementsd's sendtomainchain accepts) unless the desk's settings raise it.\n\nLiquid mainnet \
enforces peg-out authorization (PAK), which liquid-otc cannot provide yet: peg-outs are refused \
there (exit 3), as on Liquid testnet, which has no parent chain. On regtest, elementsd relays one \
OP_RETURN output per transaction unless started with -multi_data_permitted=1: set \
\"multi_data_permitted\": true under \"regtest\" in config.json (and start the sandbox with \
--multi-data-permitted) to batch several peg-outs in one transaction.";

/// `pegout` subcommands.
#[derive(Debug, Subcommand)]
pub enum PegoutCommand {
    /// Peg out one amount to one Bitcoin address now (no queue): build, verify, confirm,
    /// sign, record, broadcast.
    Send(PegoutSendArgs),
}

/// The peg-out limits of `wallet`'s network: how many peg-outs one transaction may carry
/// (`multi_data_permitted` of config.json on regtest) and the smallest amount.
pub fn limits(
    ctx: &Context,
    _wallet: &wallet_core::wallet::Wallet,
) -> CliResult<wallet_core::pegout::PegoutLimits> {
    let config = crate::config::Config::load(&ctx.data_dir)?;
    Ok(wallet_core::pegout::PegoutLimits::for_network(
        ctx.network,
        config.multi_data_permitted(ctx.network),
    ))
}

/// Runs a `pegout` subcommand.
pub fn run(ctx: &Context, command: &PegoutCommand) -> CliResult<()> {
    match command {
        PegoutCommand::Send(args) => send::run(ctx, args),
    }
}
