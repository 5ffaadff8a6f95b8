//! `sync` and `balance`: bring the wallet's store up to date with the chain, and show what it
//! holds per asset.

use std::io::IsTerminal;

use serde_json::json;
use wallet_core::sync::{sync as sync_wallet, SyncOptions, SyncProgress, SyncReport};
use wallet_core::wallet::Wallet;

use crate::arg_groups::ScanArgs;
use crate::context::Context;
use crate::error::CliResult;
use clap::Args;

/// Arguments of `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Forget the stored histories and status hashes and scan everything again.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `balance`.
#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// Read the store only: no network, the balance as of the last sync.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Runs `sync`.
pub fn run(ctx: &Context, args: &SyncArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let report = sync_with_progress(ctx, &mut wallet, &args.scan, args.full)?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "height": report.height,
            "tip": report.tip.to_string(),
            "new_txs": report.new_txs,
            "unreadable_outputs": report.unreadable_outputs,
            "failed_txs": report.failed_txs.iter().map(|(txid, reason)| json!({
                "txid": txid.to_string(),
                "reason": reason,
            })).collect::<Vec<_>>(),
            "requests": report.requests,
            "elapsed_ms": report.elapsed_ms,
        }));
    } else {
        ctx.out.fields(&[
            ("height", report.height.to_string()),
            ("tip", report.tip.to_string()),
            ("new transactions", report.new_txs.to_string()),
            ("requests", report.requests.to_string()),
            ("elapsed", format!("{} ms", report.elapsed_ms)),
        ]);
        if report.dropped_txs > 0 {
            ctx.out.note(&format!(
                "{} stored transaction(s) are no longer on the chain or in the mempool and were dropped",
                report.dropped_txs
            ));
        }
    }
    Ok(())
}

/// Syncs `wallet` with the configured server, showing a progress bar on a terminal (never
/// with --json or --quiet, nor when stderr is not a terminal).
pub fn sync_with_progress(
    ctx: &Context,
    wallet: &mut Wallet,
    scan: &ScanArgs,
    full: bool,
) -> CliResult<SyncReport> {
    let backend = ctx.backend()?;
    let options = SyncOptions {
        gap_limit: scan.gap_limit,
        full,
        ..SyncOptions::default()
    };
    let show = !ctx.out.json && !ctx.out.quiet && std::io::stderr().is_terminal();
    let bar = if show {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_message(format!("syncing with {}", backend.server()));
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut progress = |p: SyncProgress| match p {
        SyncProgress::Scanning { scripts } => {
            bar.set_message(format!("scanning: {scripts} scripts checked"));
            bar.tick();
        }
        SyncProgress::Downloading { done, total } => {
            if total > 0 {
                bar.set_message(format!("downloading transactions: {done}/{total}"));
                bar.tick();
            }
        }
        SyncProgress::Unblinding { total } => {
            if total > 0 {
                bar.set_message(format!("unblinding {total} outputs"));
                bar.tick();
            }
        }
        SyncProgress::Saving => {
            bar.set_message("saving");
            bar.tick();
        }
    };
    let result = sync_wallet(wallet, backend, &options, &mut progress);
    bar.finish_and_clear();
    let report = result?;
    for (txid, reason) in &report.failed_txs {
        ctx.out.warn(&format!(
            "transaction {txid} of this wallet failed and no longer counts ({reason}); \
             `tx pending` lists it"
        ));
    }
    if report.unreadable_outputs > 0 {
        ctx.out.warn(&format!(
            "{} new output(s) pay this wallet's addresses but do not unblind with its keys: \
             they are not in any balance (the sender blinded them to another key)",
            report.unreadable_outputs
        ));
    }
    Ok(report)
}

/// Runs `balance`.
pub fn balance(ctx: &Context, args: &BalanceArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    if !args.offline {
        sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    }
    let names = ctx.asset_names(&wallet)?;
    let balances = wallet.store().balances()?;
    let tip = wallet.store().tip()?;
    if tip.is_none() {
        ctx.out
            .warn("this wallet has never been synced: run `sync` (or `balance` without --offline)");
    }
    if ctx.out.json {
        let rows: Vec<_> = balances
            .iter()
            .map(|(asset, b)| {
                json!({
                    "asset": asset.to_string(),
                    "ticker": names.ticker(asset),
                    "precision": names.precision(asset),
                    "confirmed": b.confirmed,
                    "unconfirmed": b.unconfirmed,
                })
            })
            .collect();
        ctx.out.json(&json!({
            "balances": rows,
            "height": tip.map(|t| t.0),
            "tip": tip.map(|t| t.1.to_string()),
        }));
        return Ok(());
    }
    if balances.is_empty() {
        ctx.out.line("no funds");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = balances
        .iter()
        .map(|(asset, b)| {
            vec![
                names.ticker(asset).unwrap_or_else(|| "-".to_owned()),
                names.format(asset, b.confirmed),
                names.format(asset, b.unconfirmed),
                asset.to_string(),
            ]
        })
        .collect();
    ctx.out
        .table(&["TICKER", "CONFIRMED", "UNCONFIRMED", "ASSET"], &rows);
    if let Some((height, _)) = tip {
        ctx.out.note(&format!("as of block {height}"));
    }
    Ok(())
}
