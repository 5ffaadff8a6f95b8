//! `send`: pay one or more addresses. wallet-core prepares the payment (sync, select, build,
//! blind, verify its own view of it); this command shows it, asks, and has it committed
//! (signed, recorded before broadcast, broadcast).

use clap::Args;
use serde_json::json;
use wallet_core::ops::Mode;

use crate::arg_groups::PassphraseArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::pay::{self, PaymentArgs};
use crate::signing;
use crate::view::{self, show_summary, write_pset};

/// Arguments of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub payment: PaymentArgs,
    /// Build, blind and show the payment, then stop before signing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the unsigned PSET to FILE (or - for stdout) instead of signing.
    #[arg(long, value_name = "FILE|-")]
    pub pset_out: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// `send`.
pub fn run(ctx: &Context, args: &SendArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    // A PSET written out keeps its change addresses: it may be signed elsewhere.
    let mode = if args.dry_run && args.pset_out.is_none() {
        Mode::DryRun
    } else {
        Mode::ForSigning
    };
    let prepared = pay::prepare(ctx, &mut wallet, &args.payment, mode)?;
    let summary = pay::summary(&prepared);
    if let Some(target) = &args.pset_out {
        return write_pset(ctx, target, &prepared.pset, summary);
    }
    let names = ctx.asset_names(&wallet)?;
    show_summary(ctx, &names, &prepared.view, view::asking(ctx, args.dry_run))?;
    if args.dry_run {
        view::print_dry_run(ctx, &prepared, json!({}));
        return Ok(());
    }
    let committed = signing::confirm_and_commit(
        ctx,
        &mut wallet,
        prepared,
        &args.passphrase,
        "sending a payment",
        "Sign and broadcast this payment?",
    )?;
    if ctx.out.json {
        let mut doc = summary;
        view::merge(&mut doc, json!({ "txid": committed.txid.to_string() }));
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&committed.txid.to_string());
        ctx.out.note(&format!(
            "Sent. `{}` shows it; it confirms in the next block.",
            ctx.suggest(Some(wallet.name()), "txs")
        ));
    }
    Ok(())
}
