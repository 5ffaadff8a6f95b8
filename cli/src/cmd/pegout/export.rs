//! `pegout export` (the reconciliation file) and `pegout settings`.

use clap::{Args, ValueEnum};
use serde_json::json;
use wallet_core::pegout::queue;
use wallet_core::store::PegoutRequest;

use super::{btc, rfc3339, ActorArgs};
use crate::context::Context;
use crate::error::CliResult;
use crate::output::write_stdout;
use crate::values::Decimal;

/// The export's columns, in order: stable, documented in `pegout export --help`.
pub const EXPORT_COLUMNS: [&str; 14] = [
    "ref",
    "customer",
    "btc_address",
    "amount_sat",
    "status",
    "txid",
    "vout",
    "height",
    "approved_by",
    "approved_at",
    "created_at",
    "created_by",
    "updated_at",
    "reason",
];

/// Long help of `pegout export`.
pub const EXPORT_LONG_HELP: &str = "Every request with its status, transaction, output index, \
height, approvers and times, for reconciliation with the desk's books.\n\nColumns (CSV header, \
and the keys of each JSON object), stable:\n  ref          the desk's reference\n  customer     \
the customer (empty: none)\n  btc_address  the Bitcoin address paid\n  amount_sat   the amount \
in sat (an integer)\n  status       requested, approved, rejected, signed, broadcast or \
confirmed\n  txid         the Liquid transaction paying it (empty before signed)\n  vout         \
the output of that transaction paying it\n  height       the Liquid height of its block \
(confirmed only)\n  approved_by  the approvers' names, ';' between them, oldest first\n  \
approved_at  when the last of them approved (RFC 3339, UTC)\n  created_at   when it was queued \
(RFC 3339, UTC)\n  created_by   who queued it\n  updated_at   when its status last changed \
(RFC 3339, UTC)\n  reason       why it was rejected\nCSV follows RFC 4180 (fields with a comma, \
quote or line break are quoted; a field starting with = + - or @ gets a leading ' so that a \
spreadsheet never runs it as a formula). JSON is one array of objects; empty values are null, numbers \
are integers.\n\n--since keeps the requests that changed at or after DATE: YYYY-MM-DD for midnight UTC, or an \
RFC 3339 time with Z or an offset (2026-12-05T23:00:30+02:00 is 21:00:30 UTC).";

/// Export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
}

/// Arguments of `pegout export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ExportFormat,
    /// Only requests that changed at or after DATE (YYYY-MM-DD: midnight UTC, or RFC 3339
    /// with Z or an offset such as +02:00).
    #[arg(long, value_name = "DATE", value_parser = crate::values::since)]
    pub since: Option<u64>,
}

/// Arguments of `pegout settings`.
#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// Distinct approvers each request needs before a run pays it (1 to 10; 2 for four
    /// eyes).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10))]
    pub approvals: Option<u32>,
    /// The smallest amount a request may ask for, in BTC: at least 0.001 (elementsd's
    /// sendtomainchain refuses less) [default: 0.001]. A run holds back approved requests
    /// below the minimum in force when it runs.
    #[arg(long, value_name = "BTC")]
    pub min_amount: Option<Decimal>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

fn row(r: &PegoutRequest) -> Vec<Option<String>> {
    vec![
        Some(r.reference.clone()),
        r.customer.clone(),
        Some(r.btc_address.clone()),
        Some(r.amount.to_string()),
        Some(r.status.to_string()),
        r.txid.map(|t| t.to_string()),
        r.vout.map(|v| v.to_string()),
        r.height.map(|h| h.to_string()),
        (!r.approvals.is_empty()).then(|| {
            r.approvals
                .iter()
                .map(|a| a.by.as_str())
                .collect::<Vec<_>>()
                .join(";")
        }),
        r.approvals.iter().map(|a| a.at).max().map(rfc3339),
        Some(rfc3339(r.created_at)),
        Some(r.created_by.clone()),
        Some(rfc3339(r.updated_at)),
        r.reason.clone(),
    ]
}

/// One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. A field
/// starting with `=`, `+`, `-` or `@` (a formula to spreadsheets) gets a leading `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// `pegout export`.
pub fn export(ctx: &Context, args: &ExportArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let requests: Vec<PegoutRequest> = wallet
        .store()
        .pegout_requests(None)?
        .into_iter()
        .filter(|r| args.since.is_none_or(|s| r.updated_at >= s))
        .collect();
    match args.format {
        ExportFormat::Csv => {
            let mut text = EXPORT_COLUMNS.join(",");
            text.push('\n');
            for r in &requests {
                let cells: Vec<String> = row(r)
                    .into_iter()
                    .map(|c| csv_field(c.as_deref().unwrap_or("")))
                    .collect();
                text.push_str(&cells.join(","));
                text.push('\n');
            }
            write_stdout(|out| std::io::Write::write_all(out, text.as_bytes()));
        }
        ExportFormat::Json => {
            let docs: Vec<serde_json::Value> = requests
                .iter()
                .map(|r| {
                    let mut doc = serde_json::Map::new();
                    for (key, value) in EXPORT_COLUMNS.iter().zip(row(r)) {
                        let v = match (*key, value) {
                            (_, None) => serde_json::Value::Null,
                            ("amount_sat", Some(v)) | ("vout", Some(v)) | ("height", Some(v)) => {
                                json!(v.parse::<u64>().unwrap_or(0))
                            }
                            (_, Some(v)) => json!(v),
                        };
                        doc.insert((*key).to_owned(), v);
                    }
                    serde_json::Value::Object(doc)
                })
                .collect();
            let mut text = serde_json::to_string_pretty(&docs).unwrap_or_default();
            text.push('\n');
            write_stdout(|out| std::io::Write::write_all(out, text.as_bytes()));
        }
    }
    if !ctx.out.json {
        ctx.out
            .note(&format!("{} request(s) exported.", requests.len()));
    }
    Ok(())
}

/// `pegout settings`.
pub fn settings(ctx: &Context, args: &SettingsArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let min_amount = args
        .min_amount
        .as_ref()
        .map(super::send::btc_amount)
        .transpose()?;
    let settings = if args.approvals.is_some() || min_amount.is_some() {
        let actor = args.actor.name()?;
        queue::set_settings(&mut wallet, args.approvals, min_amount, &actor)?
    } else {
        wallet.store().pegout_settings()?
    };
    if ctx.out.json {
        ctx.out.json(&json!({
            "approvals": settings.approvals,
            "min_amount": settings.min_amount,
        }));
    } else {
        ctx.out.fields(&[
            ("approvers per request", settings.approvals.to_string()),
            ("minimum amount", btc(settings.min_amount)),
        ]);
    }
    Ok(())
}
