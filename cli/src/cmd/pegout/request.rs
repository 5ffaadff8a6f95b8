//! `pegout request add|import|list|show|approve|reject`: the queue as support staff work it.

use std::path::Path;

use clap::{Args, Subcommand};
use serde_json::json;
use wallet_core::pegout::queue;
use wallet_core::pegout::RequestInput;
use wallet_core::store::{PegoutRequest, Queued, RequestStatus};

use super::{btc, request_json, rfc3339, status_arg, ActorArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult};
use crate::values::Decimal;

/// Long help of `pegout request import`.
pub const IMPORT_LONG_HELP: &str = "Queue every request of a file or none.\n\nCSV (RFC 4180) \
starts with a header naming the columns ref, btc_address, amount (required), customer and note \
(optional), in any order. JSON Lines holds one object per line with the same keys, amount a \
string of BTC (\"0.0015\") or amount_sat an integer; a JSON number for amount, an unknown key \
or a key given twice is refused.\n\nEvery bad row is reported in one pass with its line and \
reason: rows that cannot be read, rows that fail the checks of `request add`, a reference \
repeated in the file, and a reference already in the queue (an import queues new requests \
only, even when the queued one has the same content).\n\nExit status: 0 when every row was \
queued; 3 when every bad row is one that `request add` would refuse (a reference already used, \
another Bitcoin network); 2 when any row is malformed (cannot be read, bad address or checksum, \
amount below the minimum or with 9 decimals), whatever else the file holds, since the file \
must be fixed first; 2 too when the file itself cannot be read (its header, its size).";

/// `pegout request` subcommands.
#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Queue a request, validated at once (network, checksum, script kind, amount at least
    /// the minimum, 8 decimals at most). The same reference with the same content again
    /// changes nothing; with other content it is refused (exit 3).
    Add(AddArgs),
    /// Queue every request of a file (CSV with a header ref,btc_address,amount[,customer]
    /// [,note], or JSON Lines) or none: every bad row is reported with its line.
    #[command(long_about = IMPORT_LONG_HELP)]
    Import(ImportArgs),
    /// List the queue, oldest first.
    List(ListArgs),
    /// One request with its approvals and every event of its audit log.
    Show(ShowArgs),
    /// Approve requests (all or none); a request runs once enough distinct names approved it.
    Approve(ApproveArgs),
    /// Reject a request that is not paid yet, with a reason.
    Reject(RejectArgs),
}

/// Arguments of `pegout request add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The Bitcoin address to pay, on the parent chain of --network.
    #[arg(long, value_name = "ADDRESS")]
    pub btc_address: String,
    /// The amount in BTC (at most 8 decimals), at least the desk's minimum.
    #[arg(long, value_name = "BTC")]
    pub amount: Decimal,
    /// The desk's external reference (ticket), unique in the queue: 1 to 64 printable ASCII
    /// characters without spaces.
    #[arg(long = "ref", value_name = "TICKET")]
    pub reference: String,
    /// Who the customer is.
    #[arg(long, value_name = "NAME")]
    pub customer: Option<String>,
    /// A note for the desk.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `pegout request import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The file to import, or - for stdin.
    #[arg(value_name = "FILE|-")]
    pub file: String,
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `pegout request list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only requests of this status: requested, approved, rejected, signed, broadcast,
    /// confirmed.
    #[arg(long, value_name = "STATUS", value_parser = status_arg)]
    pub status: Option<RequestStatus>,
}

/// Arguments of `pegout request show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The request's reference.
    #[arg(value_name = "REF")]
    pub reference: String,
}

/// Arguments of `pegout request approve`.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The references to approve.
    #[arg(value_name = "REF", required = true)]
    pub references: Vec<String>,
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Arguments of `pegout request reject`.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The request's reference.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Why it is rejected (kept in the request and its audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    #[command(flatten)]
    pub actor: ActorArgs,
}

/// Runs a `pegout request` subcommand.
pub fn run(ctx: &Context, command: &RequestCommand) -> CliResult<()> {
    match command {
        RequestCommand::Add(args) => add(ctx, args),
        RequestCommand::Import(args) => import(ctx, args),
        RequestCommand::List(args) => list(ctx, args),
        RequestCommand::Show(args) => show(ctx, args),
        RequestCommand::Approve(args) => approve(ctx, args),
        RequestCommand::Reject(args) => reject(ctx, args),
    }
}

fn add(ctx: &Context, args: &AddArgs) -> CliResult<()> {
    wallet_core::pegout::check_supported(ctx.network)?;
    let actor = args.actor.name()?;
    let mut wallet = ctx.open_wallet()?;
    let input = RequestInput {
        reference: args.reference.clone(),
        btc_address: args.btc_address.clone(),
        amount: args.amount.0.clone(),
        customer: args.customer.clone(),
        note: args.note.clone(),
    };
    let queued = queue::add(&mut wallet, &input, &actor)?;
    let required = wallet.store().pegout_settings()?.approvals;
    let (added, request) = match queued {
        Queued::Added(r) => (true, r),
        Queued::AlreadyQueued(r) => (false, r),
    };
    if ctx.out.json {
        ctx.out.json(&json!({
            "queued": added,
            "request": request_json(&request, required),
        }));
    } else if added {
        ctx.out.line(&format!(
            "Queued {}: {} to {} ({}; needs {required} approver(s)).",
            request.reference,
            btc(request.amount),
            request.btc_address,
            request.status
        ));
    } else {
        ctx.out.line(&format!(
            "{} is already queued with the same content ({}): nothing changed.",
            request.reference, request.status
        ));
    }
    Ok(())
}

/// Reads an import: a file, or stdin for `-`; at most [`wallet_core::pegout::import::MAX_BYTES`].
fn read_import(source: &str) -> CliResult<String> {
    use std::io::Read;
    let limit = wallet_core::pegout::import::MAX_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    if source == "-" {
        std::io::stdin()
            .lock()
            .take(limit)
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::io(Path::new("stdin"), e))?;
    } else {
        let path = Path::new(source);
        std::fs::File::open(path)
            .and_then(|f| f.take(limit).read_to_end(&mut bytes))
            .map_err(|e| CliError::io(path, e))?;
    }
    String::from_utf8(bytes).map_err(|e| {
        CliError::usage(
            "invalid_import",
            format!(
                "{source} is not UTF-8 text (byte {} is not valid)",
                e.utf8_error().valid_up_to()
            ),
        )
        .hint("save the file as UTF-8 CSV or JSON Lines")
    })
}

fn import(ctx: &Context, args: &ImportArgs) -> CliResult<()> {
    let actor = args.actor.name()?;
    wallet_core::pegout::check_supported(ctx.network)?;
    let text = read_import(&args.file)?;
    let mut wallet = ctx.open_wallet()?;
    let source = if args.file == "-" {
        "stdin".to_owned()
    } else {
        args.file.clone()
    };
    let queued = queue::import(&mut wallet, &text, &source, &actor)?;
    let total: u64 = queued.iter().map(|r| r.amount).sum();
    if ctx.out.json {
        let required = wallet.store().pegout_settings()?.approvals;
        ctx.out.json(&json!({
            "imported": queued.len(),
            "total": total,
            "requests": queued.iter().map(|r| request_json(r, required)).collect::<Vec<_>>(),
        }));
    } else {
        ctx.out.line(&format!(
            "Imported {} request(s), {} in all; each needs approval.",
            queued.len(),
            btc(total)
        ));
    }
    Ok(())
}

fn approvals_text(r: &PegoutRequest, required: u32) -> String {
    format!(
        "{}/{required}",
        wallet_core::store::distinct_approvers(&r.approvals)
    )
}

fn list(ctx: &Context, args: &ListArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let required = wallet.store().pegout_settings()?.approvals;
    let requests = wallet.store().pegout_requests(args.status)?;
    if ctx.out.json {
        ctx.out.json(&json!(requests
            .iter()
            .map(|r| request_json(r, required))
            .collect::<Vec<_>>()));
        return Ok(());
    }
    if requests.is_empty() {
        ctx.out.note("No peg-out request.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = requests
        .iter()
        .map(|r| {
            vec![
                r.reference.clone(),
                r.status.to_string(),
                wallet_core::amount::format_amount(r.amount, 8),
                approvals_text(r, required),
                r.customer.clone().unwrap_or_else(|| "-".into()),
                r.btc_address.clone(),
                match (r.txid, r.vout) {
                    (Some(t), Some(v)) => format!("{t}:{v}"),
                    _ => "-".into(),
                },
            ]
        })
        .collect();
    ctx.out.table(
        &[
            "REF",
            "STATUS",
            "BTC",
            "APPROVALS",
            "CUSTOMER",
            "ADDRESS",
            "OUTPUT",
        ],
        &rows,
    );
    Ok(())
}

fn find(wallet: &wallet_core::wallet::Wallet, reference: &str) -> CliResult<PegoutRequest> {
    Ok(wallet
        .store()
        .pegout_request(reference)?
        .ok_or_else(|| wallet_core::Error::UnknownRequest(reference.to_owned()))?)
}

fn show(ctx: &Context, args: &ShowArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let required = wallet.store().pegout_settings()?.approvals;
    let r = find(&wallet, &args.reference)?;
    let events = wallet.store().pegout_events(Some(&r.reference))?;
    if ctx.out.json {
        let mut doc = request_json(&r, required);
        doc["events"] = json!(events
            .iter()
            .map(|e| json!({
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "kind": e.kind,
                "txid": e.txid,
                "detail": e.detail,
            }))
            .collect::<Vec<_>>());
        ctx.out.json(&doc);
        return Ok(());
    }
    let mut fields = vec![
        ("ref", r.reference.clone()),
        ("status", r.status.to_string()),
        ("amount", btc(r.amount)),
        ("btc address", r.btc_address.clone()),
    ];
    if let Some(c) = &r.customer {
        fields.push(("customer", c.clone()));
    }
    if let Some(n) = &r.note {
        fields.push(("note", n.clone()));
    }
    fields.push((
        "queued",
        format!("{} by {}", rfc3339(r.created_at), r.created_by),
    ));
    fields.push(("approvals", super::approvals_field(&r, required)));
    if let (Some(t), Some(v)) = (r.txid, r.vout) {
        fields.push(("output", format!("{t}:{v}")));
    }
    if let Some(h) = r.height {
        fields.push(("height", h.to_string()));
    }
    if let Some(reason) = &r.reason {
        fields.push(("rejected because", reason.clone()));
    }
    ctx.out.fields(&fields);
    ctx.out.line("");
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                rfc3339(e.at),
                e.actor.clone(),
                e.kind.clone(),
                e.detail.clone(),
            ]
        })
        .collect();
    ctx.out
        .table(&["TIME (UTC)", "BY", "EVENT", "DETAIL"], &rows);
    Ok(())
}

fn approve(ctx: &Context, args: &ApproveArgs) -> CliResult<()> {
    let actor = args.actor.name()?;
    let mut wallet = ctx.open_wallet()?;
    let required = wallet.store().pegout_settings()?.approvals;
    let done = queue::approve(&mut wallet, &args.references, &actor)?;
    if ctx.out.json {
        ctx.out.json(&json!(done
            .iter()
            .map(|a| {
                let mut doc = request_json(&a.request, required);
                doc["already_approved_by_you"] = json!(a.already);
                doc
            })
            .collect::<Vec<_>>()));
        return Ok(());
    }
    for a in &done {
        let r = &a.request;
        let line = if a.already {
            let recorded = r
                .approvals
                .iter()
                .find(|x| wallet_core::store::same_actor(&x.by, &actor))
                .map_or(actor.as_str(), |x| x.by.as_str());
            let same = if recorded == actor {
                String::new()
            } else {
                format!(" as '{recorded}' (names are compared ignoring case)")
            };
            format!(
                "{}: {actor} had approved it already{same}; nothing changed ({} approvals, {}).",
                r.reference,
                approvals_text(r, required),
                r.status
            )
        } else {
            format!(
                "{}: approved by {actor} ({} approvals): {}.",
                r.reference,
                approvals_text(r, required),
                r.status
            )
        };
        ctx.out.line(&line);
    }
    Ok(())
}

fn reject(ctx: &Context, args: &RejectArgs) -> CliResult<()> {
    let actor = args.actor.name()?;
    let mut wallet = ctx.open_wallet()?;
    let required = wallet.store().pegout_settings()?.approvals;
    let r = queue::reject(&mut wallet, &args.reference, &args.reason, &actor)?;
    if ctx.out.json {
        ctx.out.json(&request_json(&r, required));
    } else {
        ctx.out
            .line(&format!("{}: rejected by {actor}.", r.reference));
    }
    Ok(())
}
