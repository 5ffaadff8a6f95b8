//! `deal list | show | watch | export | expire`: the deal ledger, for traders and back
//! office. Reads the wallet's store; `watch` and `expire` sync, `show` sends again what a
//! crash left recorded but unsent.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use wallet_core::ops::swap::{expired_deals, is_exposed, resume_deal, Resumed};
use wallet_core::store::{Deal, DealRole, DealStatus};

use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::cmd::offer::{cancel_deal, time_text};
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult};
use crate::values;

/// `deal` subcommands.
#[derive(Debug, Subcommand)]
pub enum DealCommand {
    /// List the wallet's deals, newest first (from its ledger; run `sync` to move them on).
    List(DealListArgs),
    /// One deal: terms, counterparty, memo, both legs, fee, txid, confirmations, every event.
    /// A settlement recorded but never sent (a crash) is sent now.
    Show(DealIdArgs),
    /// Sync until the deal is confirmed, cancelled, expired or failed, with progress on
    /// stderr.
    Watch(DealWatchArgs),
    /// Export the ledger for reconciliation: CSV (stable columns) or JSON.
    #[command(long_about = EXPORT_HELP)]
    Export(DealExportArgs),
    /// Cancel every deal past its expiry that has not settled (for a cron job): a spend of
    /// one of the wallet's coins where it signed for the deal, the ledger alone otherwise.
    Expire(DealExpireArgs),
}

const EXPORT_HELP: &str = "Export the deal ledger for reconciliation.\n\nCSV columns, in this \
order (stable; new columns are only ever added at the end): deal_id, role (maker|taker), \
status, created_at, expires_at, updated_at (RFC 3339, UTC), counterparty (your label), memo \
(the maker's words), sent_asset, sent_amount, received_asset, received_amount (this wallet's \
legs, base units and asset ids), fee_payer, fee (base units of L-BTC; empty while unknown), \
fee_paid (what this wallet paid of it), txid, height, confirmations (at the last sync), \
cancel_txid. Fields are quoted as RFC 4180 says; a text field starting with =, +, - or @ gets \
a leading ' so that a spreadsheet never runs it. JSON: an array of the same fields with \
integers for amounts and times as seconds since the epoch.";

/// Arguments of `deal list`.
#[derive(Debug, Args)]
pub struct DealListArgs {
    /// Only deals with this status.
    #[arg(long, value_name = "STATUS", value_parser = status)]
    pub status: Option<DealStatus>,
    /// Only deals made on or after this date (YYYY-MM-DD: midnight UTC, or RFC 3339 with Z
    /// or an offset such as +02:00).
    #[arg(long, value_name = "DATE", value_parser = values::since)]
    pub since: Option<u64>,
}

/// A deal named by its id.
#[derive(Debug, Args)]
pub struct DealIdArgs {
    /// The deal id (or a unique prefix of 8 characters or more).
    #[arg(value_name = "DEAL")]
    pub deal: String,
}

/// Arguments of `deal watch`.
#[derive(Debug, Args)]
pub struct DealWatchArgs {
    /// The deal id (or a unique prefix of 8 characters or more).
    #[arg(value_name = "DEAL")]
    pub deal: String,
    /// Seconds between syncs.
    #[arg(long, value_name = "SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub interval: u64,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array.
    Json,
}

/// Arguments of `deal export`.
#[derive(Debug, Args)]
pub struct DealExportArgs {
    /// The format.
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Only deals made on or after this date (YYYY-MM-DD: midnight UTC, or RFC 3339 with Z
    /// or an offset such as +02:00).
    #[arg(long, value_name = "DATE", value_parser = values::since)]
    pub since: Option<u64>,
}

/// Arguments of `deal expire`.
#[derive(Debug, Args)]
pub struct DealExpireArgs {
    /// List the deals that would be cancelled; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Fee rate of the cancelling spends, 0.1 to 1000 sat/vB [default: the server's estimate].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<wallet_core::tx::FeeRate>,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

fn status(text: &str) -> Result<DealStatus, String> {
    text.trim().parse().map_err(|e: wallet_core::Error| {
        e.to_string()
            .trim_start_matches("invalid amount ")
            .to_owned()
    })
}

/// Runs a `deal` subcommand.
pub fn run(ctx: &Context, command: &DealCommand) -> CliResult<()> {
    match command {
        DealCommand::List(args) => list(ctx, args),
        DealCommand::Show(args) => show(ctx, args),
        DealCommand::Watch(args) => watch(ctx, args),
        DealCommand::Export(args) => export(ctx, args),
        DealCommand::Expire(args) => expire(ctx, args),
    }
}

/// This wallet's legs of a deal: (sent asset, amount), (received asset, amount), fee paid.
fn legs(deal: &Deal) -> ((elements::AssetId, u64), (elements::AssetId, u64), u64) {
    let give = (deal.give_asset, deal.give_amount);
    let want = (deal.want_asset, deal.want_amount);
    let fee_paid = if deal.fee_payer == deal.role {
        deal.fee.unwrap_or(0)
    } else {
        0
    };
    match deal.role {
        DealRole::Maker => (give, want, fee_paid),
        DealRole::Taker => (want, give, fee_paid),
    }
}

fn confirmations(deal: &Deal, tip: Option<u32>) -> Option<u32> {
    match (deal.status, deal.height, tip) {
        (DealStatus::Confirmed, Some(h), Some(t)) if t >= h => Some(t - h + 1),
        _ => None,
    }
}

/// A deal as JSON (the shape of `deal list`, `deal show` and `deal export --format json`).
pub fn deal_json(deal: &Deal, tip: Option<u32>) -> Value {
    let ((sent_asset, sent), (received_asset, received), fee_paid) = legs(deal);
    json!({
        "deal_id": deal.id,
        "role": deal.role.as_str(),
        "status": deal.status.as_str(),
        "created_at": deal.created_at,
        "expires_at": deal.expires_at,
        "updated_at": deal.updated_at,
        "counterparty": deal.counterparty,
        "memo": deal.memo,
        "maker_gives": { "asset": deal.give_asset.to_string(), "amount": deal.give_amount },
        "maker_receives": { "asset": deal.want_asset.to_string(), "amount": deal.want_amount },
        "sent": { "asset": sent_asset.to_string(), "amount": sent },
        "received": { "asset": received_asset.to_string(), "amount": received },
        "fee_payer": deal.fee_payer.as_str(),
        "fee": deal.fee,
        "fee_paid": fee_paid,
        "txid": deal.txid.map(|t| t.to_string()),
        "height": deal.height,
        "confirmations": confirmations(deal, tip),
        "cancel_txid": deal.cancel_txid.map(|t| t.to_string()),
        "exposed": is_exposed(deal),
        "coins": deal.coins.iter().map(wallet_core::pset::outpoint_text).collect::<Vec<_>>(),
    })
}

fn tip(wallet: &wallet_core::wallet::Wallet) -> CliResult<Option<u32>> {
    Ok(wallet.store().tip()?.map(|(h, _)| h))
}

fn short(id: &str) -> String {
    id[..id.len().min(12)].to_owned()
}

fn list(ctx: &Context, args: &DealListArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let deals = wallet.store().deals(args.status, args.since)?;
    let tip = tip(&wallet)?;
    if ctx.out.json {
        ctx.out.json(&Value::Array(
            deals.iter().map(|d| deal_json(d, tip)).collect(),
        ));
        return Ok(());
    }
    if deals.is_empty() {
        ctx.out.line("no deals");
        return Ok(());
    }
    let names = ctx.asset_names(&wallet)?;
    let rows: Vec<Vec<String>> = deals
        .iter()
        .map(|d| {
            let ((sa, s), (ra, r), _) = legs(d);
            vec![
                short(&d.id),
                d.role.as_str().to_owned(),
                d.status.as_str().to_owned(),
                time_text(d.created_at),
                names.describe(&sa, s),
                names.describe(&ra, r),
                d.counterparty.clone().unwrap_or_else(|| "-".to_owned()),
            ]
        })
        .collect();
    ctx.out.table(
        &[
            "DEAL",
            "ROLE",
            "STATUS",
            "CREATED",
            "SENDS",
            "RECEIVES",
            "COUNTERPARTY",
        ],
        &rows,
    );
    Ok(())
}

fn find(wallet: &wallet_core::wallet::Wallet, id: &str) -> CliResult<Deal> {
    wallet.store().deal(id)?.ok_or_else(|| {
        CliError::usage(
            "unknown_deal",
            format!("no deal {id} in wallet '{}'", wallet.name()),
        )
        .hint("`liquid-otc deal list` shows the wallet's deals")
    })
}

fn show(ctx: &Context, args: &DealIdArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let mut deal = find(&wallet, &args.deal)?;
    // A settlement (or cancel) recorded but never sent, by a crash or an unreachable
    // server: send it now, never sign again.
    let waiting =
        match (deal.status, deal.cancel_txid) {
            (DealStatus::Signed, _) => true,
            (DealStatus::Cancelling, Some(t)) => wallet.store().pending()?.iter().any(|p| {
                p.tx.txid() == t && p.state == wallet_core::store::OutgoingState::Recorded
            }),
            _ => false,
        };
    if waiting {
        match resume_deal(&mut wallet, &deal.id, ctx.backend()?)? {
            Resumed::Rebroadcast(txid) => ctx.out.note(&format!(
                "{txid} was recorded but never sent (an interruption): sent it now; nothing \
                 was signed again."
            )),
            Resumed::Noted(txid) => ctx.out.note(&format!(
                "{txid} had reached a server; the ledger now says so."
            )),
            Resumed::Nothing => {}
        }
        deal = find(&wallet, &deal.id)?;
    }
    let tip = tip(&wallet)?;
    let events = wallet.store().deal_events(&deal.id)?;
    if ctx.out.json {
        let mut doc = deal_json(&deal, tip);
        doc["events"] = Value::Array(
            events
                .iter()
                .map(|e| json!({ "at": e.at, "status": e.status.as_str(), "detail": e.detail }))
                .collect(),
        );
        ctx.out.json(&doc);
        return Ok(());
    }
    let names = ctx.asset_names(&wallet)?;
    ctx.out.fields(&show_rows(&names, &deal, tip));
    ctx.out.line("");
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                time_text(e.at),
                e.status.as_str().to_owned(),
                e.detail.clone().unwrap_or_default(),
            ]
        })
        .collect();
    ctx.out.table(&["TIME", "STATUS", "EVENT"], &rows);
    Ok(())
}

fn show_rows(names: &AssetNames, deal: &Deal, tip: Option<u32>) -> Vec<(&'static str, String)> {
    let ((sa, s), (ra, r), fee_paid) = legs(deal);
    let mut rows = vec![
        ("deal", deal.id.clone()),
        ("role", deal.role.as_str().to_owned()),
        ("status", deal.status.as_str().to_owned()),
        ("created", time_text(deal.created_at)),
        ("expires", time_text(deal.expires_at)),
        (
            "counterparty",
            deal.counterparty.clone().unwrap_or_else(|| "-".to_owned()),
        ),
    ];
    if let Some(memo) = &deal.memo {
        rows.push(("memo", format!("{memo:?} (the maker's words)")));
    }
    rows.push((
        "maker gives",
        names.describe(&deal.give_asset, deal.give_amount),
    ));
    rows.push((
        "maker receives",
        names.describe(&deal.want_asset, deal.want_amount),
    ));
    rows.push(("this wallet sends", names.describe(&sa, s)));
    rows.push(("this wallet gets", names.describe(&ra, r)));
    rows.push((
        "fee",
        match deal.fee {
            Some(fee) => format!(
                "{fee} sat, paid by the {}{}",
                deal.fee_payer.as_str(),
                if fee_paid > 0 { " (this wallet)" } else { "" }
            ),
            None => format!("paid by the {}, not known yet", deal.fee_payer.as_str()),
        },
    ));
    rows.push((
        "txid",
        deal.txid.map_or_else(|| "-".to_owned(), |t| t.to_string()),
    ));
    rows.push((
        "confirmations",
        match (confirmations(deal, tip), deal.height) {
            (Some(c), Some(h)) => format!("{c} (height {h}, as of the last sync)"),
            _ => "0".to_owned(),
        },
    ));
    if let Some(cancel) = deal.cancel_txid {
        rows.push(("cancel txid", cancel.to_string()));
    }
    if is_exposed(deal) {
        rows.push((
            "exposed",
            "yes: this wallet's signature is out; the deal can still settle until a spend of \
             one of its coins confirms (`offer cancel`, `deal expire`)"
                .to_owned(),
        ));
    }
    let coins: Vec<String> = deal
        .coins
        .iter()
        .map(wallet_core::pset::outpoint_text)
        .collect();
    rows.push(("coins", coins.join(", ")));
    rows
}

fn watch(ctx: &Context, args: &DealWatchArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let id = find(&wallet, &args.deal)?.id;
    let progress = !ctx.out.json && !ctx.out.quiet;
    let mut last: Option<(DealStatus, Option<u32>)> = None;
    loop {
        crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
        let deal = find(&wallet, &id)?;
        let tip = tip(&wallet)?;
        if last != Some((deal.status, tip)) {
            if ctx.out.json {
                let mut line = deal_json(&deal, tip);
                line["type"] = json!("progress");
                line["tip"] = json!(tip);
                ctx.out.line(&line.to_string());
            } else if progress {
                crate::output::write_stderr(&format!(
                    "deal {}: {} (tip {})",
                    short(&deal.id),
                    deal.status,
                    tip.map_or_else(|| "-".to_owned(), |t| t.to_string())
                ));
            }
            last = Some((deal.status, tip));
        }
        let over = matches!(
            deal.status,
            DealStatus::Confirmed
                | DealStatus::Cancelled
                | DealStatus::Expired
                | DealStatus::Failed
        );
        let lapsed = !is_exposed(&deal)
            && matches!(deal.status, DealStatus::Proposed | DealStatus::Accepted)
            && wallet_core::swap::now() >= deal.expires_at;
        if over || lapsed {
            if ctx.out.json {
                let mut line = deal_json(&deal, tip);
                line["type"] = json!("deal");
                ctx.out.line(&line.to_string());
            } else {
                ctx.out.line(&format!("{} {}", deal.id, deal.status));
                if lapsed {
                    ctx.out.note(
                        "the offer is past its expiry and nothing of this wallet's is signed: \
                         `deal expire` closes it",
                    );
                }
            }
            return Ok(());
        }
        // A poll interval between syncs of a long-running command, not a synchronisation.
        std::thread::sleep(std::time::Duration::from_secs(args.interval));
    }
}

/// One CSV field: quoted when it holds a comma, quote or line break (RFC 4180); a text
/// starting with =, +, - or @ is prefixed with ' so that a spreadsheet does not run it.
fn csv_field(text: &str, untrusted: bool) -> String {
    let guarded = if untrusted && text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

/// The export's CSV columns, in order.
pub const CSV_COLUMNS: [&str; 20] = [
    "deal_id",
    "role",
    "status",
    "created_at",
    "expires_at",
    "updated_at",
    "counterparty",
    "memo",
    "sent_asset",
    "sent_amount",
    "received_asset",
    "received_amount",
    "fee_payer",
    "fee",
    "fee_paid",
    "txid",
    "height",
    "confirmations",
    "cancel_txid",
    "exposed",
];

fn export(ctx: &Context, args: &DealExportArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let deals = wallet.store().deals(None, args.since)?;
    let tip = tip(&wallet)?;
    match args.format {
        ExportFormat::Json => {
            ctx.out.json(&Value::Array(
                deals.iter().map(|d| deal_json(d, tip)).collect(),
            ));
        }
        ExportFormat::Csv => {
            let mut text = CSV_COLUMNS.join(",");
            text.push('\n');
            for d in &deals {
                let ((sa, s), (ra, r), fee_paid) = legs(d);
                let opt = |v: Option<String>| v.unwrap_or_default();
                let row = [
                    d.id.clone(),
                    d.role.as_str().to_owned(),
                    d.status.as_str().to_owned(),
                    time_text(d.created_at),
                    time_text(d.expires_at),
                    time_text(d.updated_at),
                    csv_field(&opt(d.counterparty.clone()), true),
                    csv_field(&opt(d.memo.clone()), true),
                    sa.to_string(),
                    s.to_string(),
                    ra.to_string(),
                    r.to_string(),
                    d.fee_payer.as_str().to_owned(),
                    opt(d.fee.map(|f| f.to_string())),
                    fee_paid.to_string(),
                    opt(d.txid.map(|t| t.to_string())),
                    opt(d.height.map(|h| h.to_string())),
                    opt(confirmations(d, tip).map(|c| c.to_string())),
                    opt(d.cancel_txid.map(|t| t.to_string())),
                    is_exposed(d).to_string(),
                ];
                text.push_str(&row.join(","));
                text.push('\n');
            }
            crate::output::write_stdout(|out| {
                use std::io::Write;
                out.write_all(text.as_bytes())
            });
        }
    }
    Ok(())
}

fn expire(ctx: &Context, args: &DealExpireArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    if !args.dry_run {
        crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    }
    let now = wallet_core::swap::now();
    let due = expired_deals(&wallet, now)?;
    if args.dry_run {
        if ctx.out.json {
            ctx.out.json(&json!({
                "dry_run": true,
                "deals": due.iter().map(|d| json!({
                    "deal_id": d.id,
                    "status": d.status.as_str(),
                    "expires_at": d.expires_at,
                    "onchain": is_exposed(d),
                })).collect::<Vec<_>>(),
            }));
        } else if due.is_empty() {
            ctx.out.line("no deal past its expiry");
        } else {
            for d in &due {
                ctx.out.line(&format!(
                    "{} {} expired at {} ({})",
                    d.id,
                    d.status,
                    time_text(d.expires_at),
                    if is_exposed(d) {
                        "would spend a coin of the deal"
                    } else {
                        "would close it in the ledger"
                    }
                ));
            }
        }
        return Ok(());
    }
    let mut done = Vec::new();
    for d in &due {
        done.push(cancel_deal(
            ctx,
            &mut wallet,
            &d.id,
            DealStatus::Expired,
            false,
            args.fee_rate,
            &args.passphrase,
        )?);
    }
    if ctx.out.json {
        ctx.out.json(&json!({ "dry_run": false, "deals": done }));
    } else if done.is_empty() {
        ctx.out.line("no deal past its expiry");
    } else {
        for d in &done {
            ctx.out.line(&format!(
                "{} {}",
                d["deal_id"].as_str().unwrap_or_default(),
                d["status"].as_str().unwrap_or_default()
            ));
        }
    }
    Ok(())
}
