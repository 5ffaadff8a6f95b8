//! `deal list | show | watch | export | expire`: the deal ledger, for traders and back
//! office. Reads the wallet's store; `watch` and `expire` sync, `show` sends again what a
//! crash left recorded but unsent.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use wallet_core::ops::swap::{expired_deals, is_exposed, resume_deal, Resumed};
use wallet_core::store::{Deal, DealRole, DealStatus};

use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::cmd::offer::{cancel_deal, time_text, write_envelope, EnvelopeOut};
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
    /// Write a deal's envelope again, from the ledger: the offer as made (a maker that has
    /// not settled) or as accepted (a taker; a maker once it settled).
    #[command(long_about = ENVELOPE_HELP)]
    Envelope(DealEnvelopeArgs),
    /// Sync until the deal is confirmed, cancelled, expired or failed, with progress on
    /// stderr.
    Watch(DealWatchArgs),
    /// Export the ledger for reconciliation: CSV or JSON, the same stable columns.
    #[command(long_about = EXPORT_HELP)]
    Export(DealExportArgs),
    /// Cancel every deal past its expiry that has not settled (for a cron job): a spend of
    /// one of the wallet's coins where it signed for the deal, the ledger alone otherwise.
    Expire(DealExpireArgs),
}

const ENVELOPE_HELP: &str = "Write a deal's envelope again, from the ledger.\n\nEvery \
step keeps the envelope it produced in the deal's row: `offer create` the proposed offer, \
`offer accept` the accepted one (what the taker sends back), `offer settle` the accepted one it \
settled. This writes the latest, as the step did: one JSON line on stdout, inside a document's \
`envelope` field with --json, or a new file with -o. Use it when the envelope was lost (a pipe \
that broke, a file that could not be written): nothing is signed or changed.";

const EXPORT_HELP: &str = "Export the deal ledger for reconciliation.\n\nColumns (CSV \
header, and the keys of each JSON object), stable; new ones are only ever added at the end:\n  \
deal_id          the deal id\n  role             maker or taker\n  status           proposed, \
accepted, signed, broadcast, confirmed, cancelling, cancelled, expired or failed\n  \
created_at       when the offer was made (RFC 3339, UTC)\n  expires_at       when it \
expires (RFC 3339, UTC)\n  updated_at       when its row last changed (RFC 3339, UTC)\n  \
counterparty     your label for the counterparty (empty: none)\n  memo             the \
maker's words (empty: none)\n  sent_asset       the asset id this wallet gives\n  \
sent_amount      how much of it, in base units\n  received_asset   the asset id this \
wallet gets\n  received_amount  how much of it, in base units\n  fee_payer        maker or \
taker\n  fee              the fee in sat of L-BTC (empty while unknown)\n  fee_paid         \
what this wallet paid of it, in sat\n  txid             the settlement (empty before the \
taker signed)\n  height           the height of its block (confirmed only)\n  \
confirmations    its confirmations at the last sync (confirmed only)\n  cancel_txid      the \
spend that cancels it (empty: none)\n  exposed          true while a signature of this \
wallet for it is out and no spend of its coins has confirmed\nCSV follows RFC 4180 (fields \
with a comma, quote or line break are quoted; a text field starting with = + - or @ gets a \
leading ' so that a spreadsheet never runs it as a formula). JSON is one array of objects \
with the same values: empty ones are null, amounts, fees, heights and confirmations \
integers, exposed a boolean, times the same RFC 3339 text.\n\n--since keeps the deals made \
on or after DATE (RFC 3339, or YYYY-MM-DD for midnight UTC).";

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
    #[arg(value_name = "DEAL", value_parser = values::deal_ref)]
    pub deal: String,
}

/// Arguments of `deal envelope`.
#[derive(Debug, Args)]
pub struct DealEnvelopeArgs {
    /// The deal id (or a unique prefix of 8 characters or more).
    #[arg(value_name = "DEAL", value_parser = values::deal_ref)]
    pub deal: String,
    /// Where to write the envelope: a new file, or - for stdout.
    #[arg(long, short = 'o', value_name = "FILE|-", default_value = "-")]
    pub output: String,
}

/// Arguments of `deal watch`.
#[derive(Debug, Args)]
pub struct DealWatchArgs {
    /// The deal id (or a unique prefix of 8 characters or more).
    #[arg(value_name = "DEAL", value_parser = values::deal_ref)]
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
    text.trim()
        .parse()
        .map_err(|e: wallet_core::Error| e.to_string())
}

/// Runs a `deal` subcommand.
pub fn run(ctx: &Context, command: &DealCommand) -> CliResult<()> {
    match command {
        DealCommand::List(args) => list(ctx, args),
        DealCommand::Show(args) => show(ctx, args),
        DealCommand::Envelope(args) => envelope(ctx, args),
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

/// A deal as JSON (the shape of `deal list`, `deal show` and `deal watch`).
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
    wallet
        .store()
        .deal(id)?
        .ok_or_else(|| CliError::from(wallet_core::Error::UnknownDeal(id.to_owned())))
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

fn envelope(ctx: &Context, args: &DealEnvelopeArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let deal = find(&wallet, &args.deal)?;
    let out = EnvelopeOut::open(&args.output)?;
    let envelope: Value = serde_json::from_str(&deal.envelope).map_err(|e| {
        CliError::from(wallet_core::Error::StoreDamaged(format!(
            "deal {}'s envelope is not JSON: {e}",
            deal.id
        )))
    })?;
    let stage = envelope["stage"].as_str().unwrap_or_default().to_owned();
    let extra = json!({
        "deal_id": deal.id,
        "status": deal.status.as_str(),
        "stage": stage,
    });
    write_envelope(ctx, out, &deal.id, &stage, envelope, extra)
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

/// The export's columns, in order: the CSV header and the keys of each JSON object.
pub const EXPORT_COLUMNS: [&str; 20] = [
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

/// One deal's export row: a value per column of [`EXPORT_COLUMNS`], in order (null where a
/// CSV field is empty).
fn export_row(d: &Deal, tip: Option<u32>) -> [Value; 20] {
    let ((sa, s), (ra, r), fee_paid) = legs(d);
    [
        json!(d.id),
        json!(d.role.as_str()),
        json!(d.status.as_str()),
        json!(time_text(d.created_at)),
        json!(time_text(d.expires_at)),
        json!(time_text(d.updated_at)),
        json!(d.counterparty),
        json!(d.memo),
        json!(sa.to_string()),
        json!(s),
        json!(ra.to_string()),
        json!(r),
        json!(d.fee_payer.as_str()),
        json!(d.fee),
        json!(fee_paid),
        json!(d.txid.map(|t| t.to_string())),
        json!(d.height),
        json!(confirmations(d, tip)),
        json!(d.cancel_txid.map(|t| t.to_string())),
        json!(is_exposed(d)),
    ]
}

fn export(ctx: &Context, args: &DealExportArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let deals = wallet.store().deals(None, args.since)?;
    let tip = tip(&wallet)?;
    let rows = deals.iter().map(|d| export_row(d, tip));
    match args.format {
        ExportFormat::Json => {
            let objects: Vec<Value> = rows
                .map(|row| {
                    Value::Object(
                        EXPORT_COLUMNS
                            .iter()
                            .map(|c| (*c).to_owned())
                            .zip(row)
                            .collect(),
                    )
                })
                .collect();
            ctx.out.json(&Value::Array(objects));
        }
        ExportFormat::Csv => {
            let mut text = EXPORT_COLUMNS.join(",");
            text.push('\n');
            for row in rows {
                let fields: Vec<String> = row
                    .iter()
                    .map(|v| match v {
                        Value::Null => String::new(),
                        Value::String(t) => csv_field(t, true),
                        other => other.to_string(),
                    })
                    .collect();
                text.push_str(&fields.join(","));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns the help (and so the man page) lists are the ones printed, in order.
    #[test]
    fn the_documented_columns_are_the_exported_ones() {
        let listed: Vec<&str> = EXPORT_HELP
            .lines()
            .filter_map(|l| l.strip_prefix("  "))
            .filter_map(|l| l.split_whitespace().next())
            .collect();
        assert_eq!(listed, EXPORT_COLUMNS);
    }
}
