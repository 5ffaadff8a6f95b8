//! `pegout send`: one peg-out now, with the same confirmation, `--dry-run`, `--json` and exit
//! codes as `send`.

use clap::Args;
use serde_json::json;
use wallet_core::amount::parse_amount;
use wallet_core::ops::pegout::prepare_send;
use wallet_core::ops::Mode;
use wallet_core::pegout::{check_supported, parse_btc_address};
use wallet_core::tx::FeeRate;

use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::signing;
use crate::values::{self, Decimal};
use crate::view::{self, show_summary};

/// Arguments of `pegout send`.
#[derive(Debug, Args)]
pub struct PegoutSendArgs {
    /// The Bitcoin address to pay, on the parent chain of --network.
    #[arg(long, value_name = "ADDRESS")]
    pub btc_address: String,
    /// The amount in BTC (at most 8 decimals), e.g. 0.25; at least the minimum peg-out.
    #[arg(long, value_name = "BTC")]
    pub amount: Decimal,
    /// Fee rate in sat per discounted vbyte, 0.1 to 1000 [default: the server's estimate].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<FeeRate>,
    /// Build, blind and show the peg-out, then stop before signing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Parses an amount of BTC typed by a person (8 decimals at most) into sat.
pub fn btc_amount(amount: &Decimal) -> CliResult<u64> {
    parse_amount(&amount.0, 8)
        .map_err(|e| CliError::from(e).hint("type the amount in BTC with at most 8 decimals"))
}

/// `pegout send`.
pub fn run(ctx: &Context, args: &PegoutSendArgs) -> CliResult<()> {
    check_supported(ctx.network)?;
    let destination = parse_btc_address(&args.btc_address, ctx.network)?;
    let amount = btc_amount(&args.amount)?;
    let mut wallet = ctx.open_wallet()?;
    let limits = super::limits(ctx, &wallet)?;
    // Refuse a too small amount before syncing: nothing depends on the chain.
    wallet_core::pegout::check_amount(amount, limits.min_amount)?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::ForSigning
    };
    let fee_rate = ctx.fee_rate(args.fee_rate)?;
    let prepared = prepare_send(&mut wallet, &destination, amount, fee_rate, limits, mode)?;
    let vout = prepared.vout;
    let prepared = prepared.prepared;
    let names = ctx.asset_names(&wallet)?;
    let asking = view::asking(ctx, args.dry_run);
    show_summary(ctx, &names, &prepared.view, asking)?;
    if view::shows_summary(&ctx.out, asking) {
        eprintln!(
            "Peg-out: {} BTC to {} ({}) in output {vout}",
            wallet_core::amount::format_amount(amount, 8),
            destination.address,
            destination.kind
        );
    }
    let summary = json!({
        "btc_address": destination.address,
        "script_kind": destination.kind,
        "amount": amount,
        "asset": wallet.policy_asset().to_string(),
        "vout": vout,
        "fee": prepared.fee(),
        "net": view::net_json(prepared.net()),
    });
    if args.dry_run {
        view::print_dry_run(ctx, &prepared, summary);
        return Ok(());
    }
    let committed = signing::confirm_and_commit(
        ctx,
        &mut wallet,
        prepared,
        &args.passphrase,
        "pegging out",
        "Sign and broadcast this peg-out?",
    )?;
    if ctx.out.json {
        let mut doc = summary;
        view::merge(&mut doc, json!({ "txid": committed.txid.to_string() }));
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&committed.txid.to_string());
        ctx.out.note(
            "Sent. The federation pays the Bitcoin address once the peg-out is confirmed \
             deeply enough on Liquid.",
        );
    }
    Ok(())
}
