//! `pegout`: L-BTC to Bitcoin addresses. One peg-out from the command line (`pegout send`)
//! and the support desk's request queue (`pegout request ...`, `run`, `abandon`, `status`,
//! `export`, `settings`). wallet-core prepares, checks, records and broadcasts; these
//! commands parse, ask and print.

mod export;
mod request;
mod run;
mod send;

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use wallet_core::store::{PegoutRequest, RequestStatus};

use crate::context::Context;
use crate::error::{CliError, CliResult};

pub use export::{ExportArgs, SettingsArgs};
pub use request::RequestCommand;
pub use run::{AbandonArgs, RunArgs, StatusArgs};
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
    /// The request queue: add, import, list, show, approve, reject.
    #[command(subcommand)]
    Request(RequestCommand),
    /// Pay the approved requests, oldest first, in one transaction: recorded (requests marked
    /// signed) before it is broadcast; a rerun after a crash sends the recorded one again.
    #[command(long_about = run::RUN_LONG_HELP)]
    Run(RunArgs),
    /// Give up a peg-out transaction the server does not know, and put its requests back to
    /// approved (the next run pays them with one of its inputs, so both can never confirm).
    Abandon(AbandonArgs),
    /// Where the queue stands, or one request (status, transaction, output, height).
    Status(StatusArgs),
    /// Every request with its status, transaction, approvers and times, as CSV or JSON, for
    /// reconciliation.
    #[command(long_about = export::EXPORT_LONG_HELP)]
    Export(ExportArgs),
    /// Show or change the desk's settings: distinct approvers per request, minimum amount.
    Settings(SettingsArgs),
}

/// Who does what, for the audit log.
#[derive(Debug, Args)]
pub struct ActorArgs {
    /// Your name in the audit log: ASCII letters, digits, spaces and . - _ @, compared
    /// ignoring case [default: LIQUID_OTC_ACTOR, then USER, LOGNAME, then the login name of
    /// the user id].
    #[arg(long, value_name = "NAME", env = "LIQUID_OTC_ACTOR")]
    pub by: Option<String>,
}

impl ActorArgs {
    /// The name to record, checked and normalised by wallet-core
    /// ([`wallet_core::store::check_actor`]): `--by`, `LIQUID_OTC_ACTOR`, then `USER` or
    /// `LOGNAME`, then the name of the process's user id in the password database.
    pub fn name(&self) -> CliResult<String> {
        let name = self
            .by
            .clone()
            .or_else(|| std::env::var("USER").ok().filter(|n| !n.is_empty()))
            .or_else(|| std::env::var("LOGNAME").ok().filter(|n| !n.is_empty()))
            .or_else(login_name)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| {
                CliError::usage(
                    "no_actor",
                    "the audit log needs a name for who does this, and none is known (no \
                     --by, LIQUID_OTC_ACTOR, USER or LOGNAME, and the user id has no name)",
                )
                .hint("pass --by NAME or set LIQUID_OTC_ACTOR")
            })?;
        wallet_core::store::check_actor(&name)
            .map_err(|e| CliError::from(e).hint("pass --by NAME with a name of that form"))
    }
}

/// The name of the process's user id in the password database (`getpwuid_r`).
#[cfg(unix)]
fn login_name() -> Option<String> {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// No password database to ask.
#[cfg(not(unix))]
fn login_name() -> Option<String> {
    None
}

/// A time for people and exports: RFC 3339 in UTC to the second.
pub fn rfc3339(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

/// A request as JSON (amounts in sat, times in seconds since the epoch).
pub fn request_json(r: &PegoutRequest, required: u32) -> Value {
    json!({
        "ref": r.reference,
        "status": r.status.as_str(),
        "btc_address": r.btc_address,
        "amount": r.amount,
        "customer": r.customer,
        "note": r.note,
        "created_at": r.created_at,
        "created_by": r.created_by,
        "updated_at": r.updated_at,
        "approvals": r.approvals.iter().map(|a| json!({"by": a.by, "at": a.at})).collect::<Vec<_>>(),
        "approvals_required": required,
        "txid": r.txid.map(|t| t.to_string()),
        "vout": r.vout,
        "height": r.height,
        "reason": r.reason,
    })
}

/// A request's approvals for people: `distinct/required`, then each approver with the time
/// (`1/2 (erin at 2026-01-31T08:00:00Z)`).
pub fn approvals_field(r: &PegoutRequest, required: u32) -> String {
    let count = wallet_core::store::distinct_approvers(&r.approvals);
    if r.approvals.is_empty() {
        return format!("{count}/{required}");
    }
    format!(
        "{count}/{required} ({})",
        r.approvals
            .iter()
            .map(|a| format!("{} at {}", a.by, rfc3339(a.at)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// A BTC amount for people.
pub fn btc(sat: u64) -> String {
    format!("{} BTC", wallet_core::amount::format_amount(sat, 8))
}

/// Parses a `--status` value.
pub fn status_arg(text: &str) -> Result<RequestStatus, String> {
    text.trim().to_ascii_lowercase().parse()
}

/// The peg-out limits of `wallet`'s network: how many peg-outs one transaction may carry
/// (`multi_data_permitted` of config.json on regtest) and the smallest amount.
pub fn limits(
    ctx: &Context,
    wallet: &wallet_core::wallet::Wallet,
) -> CliResult<wallet_core::pegout::PegoutLimits> {
    let config = crate::config::Config::load(&ctx.data_dir)?;
    let mut limits = wallet_core::pegout::PegoutLimits::for_network(
        ctx.network,
        config.multi_data_permitted(ctx.network),
    );
    limits.min_amount = wallet.store().pegout_settings()?.min_amount;
    Ok(limits)
}

/// Runs a `pegout` subcommand.
pub fn run(ctx: &Context, command: &PegoutCommand) -> CliResult<()> {
    match command {
        PegoutCommand::Send(args) => send::run(ctx, args),
        PegoutCommand::Request(sub) => request::run(ctx, sub),
        PegoutCommand::Run(args) => run::run(ctx, args),
        PegoutCommand::Abandon(args) => run::abandon(ctx, args),
        PegoutCommand::Status(args) => run::status(ctx, args),
        PegoutCommand::Export(args) => export::export(ctx, args),
        PegoutCommand::Settings(args) => export::settings(ctx, args),
    }
}
