//! `pegout run`, `pegout abandon`, `pegout status`.

use clap::Args;
use serde_json::{json, Value};
use wallet_core::ops::pegout::{
    abandon as abandon_tx, prepare_run, resume, ResumeAction, Resumed, RunOptions, WaitReason,
};
use wallet_core::ops::Mode;
use wallet_core::pegout::check_supported;
use wallet_core::store::RequestStatus;
use wallet_core::tx::FeeRate;

use super::{btc, request_json, ActorArgs};
use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::values;
use crate::view::{self, show_summary};

/// Long help of `pegout run`.
pub const RUN_LONG_HELP: &str = "Pay the approved requests (with as many distinct approvers \
as the desk requires), oldest first, in one transaction.\n\nFirst, whatever a crash or an \
unreachable server left undone is finished: a recorded peg-out transaction whose requests are \
still signed is sent again (never rebuilt). Then the wallet syncs, takes up to --max approved \
requests in queue order, each one the wallet's L-BTC can still pay with the fee (a request \
it cannot pay waits and does not hold back smaller ones after it), at least the desk's current \
minimum, as many as one transaction may carry on this chain, builds one transaction paying \
each exactly (checked before signing: every peg-out output \
equals its request, nothing else leaves the wallet), shows the total and asks (--yes for \
scripts), signs, records the transaction and marks its requests signed in one SQLite \
transaction, broadcasts, and marks them broadcast. Requests left for later are listed with the \
reason and the numbers (reason in JSON: funds, below_minimum, limit or earlier_tx). Only one money-moving command runs at a time per wallet: a second run at the same time \
is refused (exit 1, wallet_busy). Requests become confirmed (with height and output index) when \
`sync` sees the transaction in a block.\n\nA request is paid at most once, ever: a \
transaction that once paid it (abandoned, conflicted) and reaches the chain after all is its \
payment (sync marks it confirmed by that transaction), and a request paid again spends a coin \
of each earlier transaction of it, so that at most one can confirm. When no such coin is left, \
the earlier transaction counts as dead only once a transaction 2 blocks deep (final on Liquid) \
spent one of its coins or one of a recorded parent's; a spender 1 block deep is pinned through \
its change to the wallet, if any. Otherwise that request waits (reason earlier_tx, saying what \
to wait for) and the others are paid.\n\n\
Exit status: 0 when something was paid (even if others wait: the waiting are listed on stderr \
and under \"waiting\" in JSON) or nothing was waiting; 1 (broadcast_rejected) when the server \
refused a recorded transaction sent again (its requests stay signed; nothing new is paid); 5 \
when approved requests wait, none is paid and some lack funds; otherwise 3 when requests wait \
and none is paid (earlier_tx when some wait for an earlier transaction, below_minimum when all \
are below the desk's current minimum).";

/// Arguments of `pegout run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pay at most N requests in this run.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max: Option<u64>,
    /// Build and show the batch, then stop before signing (nothing is resumed or recorded).
    #[arg(long)]
    pub dry_run: bool,
    /// Fee rate in sat per discounted vbyte, 0.1 to 1000 [default: the server's estimate].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<FeeRate>,
    #[command(flatten)]
    pub actor: ActorArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `pegout abandon`.
#[derive(Debug, Args)]
pub struct AbandonArgs {
    /// The peg-out transaction to give up.
    #[arg(value_parser = values::txid, value_name = "TXID")]
    pub txid: elements::Txid,
    #[command(flatten)]
    pub actor: ActorArgs,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `pegout status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One request's reference (all of the queue without it).
    #[arg(value_name = "REF")]
    pub reference: Option<String>,
}

fn action_json(r: &Resumed) -> Value {
    let (action, detail) = match &r.action {
        ResumeAction::Rebroadcast => ("rebroadcast", None),
        ResumeAction::Marked => ("marked_broadcast", None),
        ResumeAction::Refused(why) => ("refused", Some(why.clone())),
        ResumeAction::Unreachable(why) => ("unreachable", Some(why.clone())),
        ResumeAction::Rerecorded => ("rerecorded", None),
    };
    json!({
        "txid": r.txid.to_string(),
        "requests": r.requests,
        "action": action,
        "detail": detail,
    })
}

fn say_resumed(ctx: &Context, resumed: &[Resumed]) {
    for r in resumed {
        let what = match &r.action {
            ResumeAction::Rebroadcast => "recorded before a crash; sent again and accepted".into(),
            ResumeAction::Marked => {
                "already accepted by a server; requests marked broadcast".into()
            }
            ResumeAction::Refused(why) => format!(
                "sent again and refused: {why}; its requests stay signed; `pegout abandon {}` \
                 puts them back once it can no longer confirm",
                r.txid
            ),
            ResumeAction::Unreachable(why) => {
                format!("could not be sent again ({why}); the next run retries")
            }
            ResumeAction::Rerecorded => "the wallet had dropped it (tx forget, or a \
                reorganisation); recorded and sent again, accepted"
                .into(),
        };
        ctx.out.warn(&format!(
            "peg-out transaction {} ({}): {what}",
            r.txid,
            r.requests.join(", ")
        ));
    }
}

/// The error of a run whose recorded transactions the server refused again (`None` when
/// none was): their requests stay signed and nothing new is paid, so the run fails with the
/// server's reason, the requests that are stuck and what to do.
fn stuck_error(
    ctx: &Context,
    wallet: &wallet_core::wallet::Wallet,
    resumed: &[Resumed],
) -> Option<CliError> {
    let stuck: Vec<(&Resumed, &String)> = resumed
        .iter()
        .filter_map(|r| match &r.action {
            ResumeAction::Refused(why) => Some((r, why)),
            _ => None,
        })
        .collect();
    if stuck.is_empty() {
        return None;
    }
    let said: Vec<String> = stuck
        .iter()
        .map(|(r, why)| {
            format!(
                "peg-out transaction {} ({}) was sent again and refused: {why}",
                r.txid,
                r.requests.join(", ")
            )
        })
        .collect();
    let mut err = CliError::new(
        Exit::Error,
        "broadcast_rejected",
        format!(
            "{}; its requests stay signed and this run paid nothing new",
            said.join("; ")
        ),
    );
    for (r, _) in &stuck {
        err = err.hint(format!(
            "once {} can no longer confirm, `{}` puts {} back to approved, and the next run \
             pays them with a transaction that conflicts with it",
            r.txid,
            ctx.suggest(
                Some(wallet.name()),
                &format!("pegout abandon {} --yes", r.txid)
            ),
            r.requests.join(", ")
        ));
    }
    Some(err)
}

/// `pegout run`.
pub fn run(ctx: &Context, args: &RunArgs) -> CliResult<()> {
    check_supported(ctx.network)?;
    let actor = args.actor.name()?;
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let resumed = if args.dry_run {
        Vec::new()
    } else {
        let resumed = resume(&mut wallet, ctx.backend()?, &actor)?;
        say_resumed(ctx, &resumed);
        if let Some(err) = stuck_error(ctx, &wallet, &resumed) {
            return Err(err);
        }
        resumed
    };
    let options = RunOptions {
        max: args.max.map(|m| usize::try_from(m).unwrap_or(usize::MAX)),
        fee_rate: ctx.fee_rate(args.fee_rate)?,
        limits: super::limits(ctx, &wallet)?,
        actor: actor.clone(),
    };
    let mode = if args.dry_run {
        Mode::DryRun
    } else {
        Mode::ForSigning
    };
    let run = prepare_run(&mut wallet, &options, mode)?;
    let policy = wallet.policy_asset();
    let paid_total: u64 = run.paid.iter().map(|p| p.amount).sum();
    let mut doc = json!({
        "resumed": resumed.iter().map(action_json).collect::<Vec<_>>(),
        "paid": run.paid.iter().map(|p| json!({
            "ref": p.reference,
            "customer": p.customer,
            "btc_address": p.btc_address,
            "amount": p.amount,
            "vout": p.vout,
        })).collect::<Vec<_>>(),
        "total": paid_total,
        "asset": policy.to_string(),
        "waiting": run.waiting.iter().map(|w| json!({
            "ref": w.reference,
            "amount": w.amount,
            "reason": match w.kind {
                WaitReason::Funds => "funds",
                WaitReason::BelowMinimum => "below_minimum",
                WaitReason::Limit => "limit",
                WaitReason::EarlierTx => "earlier_tx",
            },
            "why": w.why,
        })).collect::<Vec<_>>(),
        "pinned": run.pinned.iter().map(|o| format!("{}:{}", o.txid, o.vout)).collect::<Vec<_>>(),
    });
    if !ctx.out.json {
        for w in &run.waiting {
            ctx.out.warn(&format!(
                "{} ({}) waits: {}",
                w.reference,
                btc(w.amount),
                w.why
            ));
        }
    }
    let Some(prepared) = &run.prepared else {
        let starved = !run.waiting.is_empty();
        if ctx.out.json && !starved {
            doc["txid"] = Value::Null;
            ctx.out.json(&doc);
        } else if !starved {
            ctx.out
                .line("Nothing to pay: no approved request is waiting.");
        }
        if starved {
            // 5 when any waits for funds; otherwise 3: earlier_tx when some wait for an
            // earlier transaction of theirs to be decided, below_minimum when all are below
            // the desk's minimum.
            let funds = run.waiting.iter().any(|w| w.kind == WaitReason::Funds);
            let earlier = run.waiting.iter().any(|w| w.kind == WaitReason::EarlierTx);
            let n = run.waiting.len();
            let mut err = if funds {
                CliError::new(
                    Exit::InsufficientFunds,
                    "insufficient_funds",
                    format!("{n} approved request(s) wait and the wallet can pay none of them"),
                )
            } else if earlier {
                CliError::new(
                    Exit::Refused,
                    "earlier_tx",
                    format!(
                        "{n} approved request(s) wait and none can be paid yet: an earlier \
                         transaction of some could still confirm, and paying them again now \
                         could pay them twice"
                    ),
                )
            } else {
                CliError::new(
                    Exit::Refused,
                    "below_minimum",
                    format!("{n} approved request(s) wait, all below the desk's current minimum"),
                )
            };
            // Text mode said each one's reason above; JSON has only the error document.
            if ctx.out.json {
                for w in &run.waiting {
                    err = err.hint(format!("{}: {}", w.reference, w.why));
                }
            }
            return Err(if funds {
                err.hint("fund the wallet with L-BTC and run again, or reject what it cannot pay")
            } else if earlier {
                err.hint(
                    "do what each reason says (wait for a transaction to confirm or to be \
                     buried deeper), sync and run again",
                )
            } else {
                err.hint("lower the minimum with `pegout settings --min-amount`, or reject them")
            });
        }
        return Ok(());
    };
    let names = ctx.asset_names(&wallet)?;
    let asking = view::asking(ctx, args.dry_run);
    show_summary(ctx, &names, &prepared.view, asking)?;
    if view::shows_summary(&ctx.out, asking) {
        eprintln!(
            "Peg-outs: {} request(s), {} in all:",
            run.paid.len(),
            btc(paid_total)
        );
        for p in &run.paid {
            eprintln!(
                "  {}  {}  to {} (output {})",
                p.reference,
                btc(p.amount),
                p.btc_address,
                p.vout
            );
        }
        if !run.pinned.is_empty() {
            eprintln!(
                "  spending {} coin(s) of abandoned peg-out transactions, so that those can \
                 never confirm too",
                run.pinned.len()
            );
        }
    }
    doc["fee"] = json!(prepared.fee());
    doc["net"] = view::net_json(prepared.net());
    if args.dry_run {
        doc["dry_run"] = json!(true);
        doc["txid"] = json!(prepared.view.unsigned_txid.to_string());
        if ctx.out.json {
            ctx.out.json(&doc);
        } else {
            ctx.out
                .note("Dry run: nothing was signed, recorded or sent.");
        }
        return Ok(());
    }
    crate::signing::check_can_sign(&wallet, "sign with the wallet that holds the keys")?;
    crate::input::confirm(
        ctx.yes,
        "paying peg-out requests",
        &format!(
            "Sign and broadcast {} peg-out(s), {} plus the fee?",
            run.paid.len(),
            btc(paid_total)
        ),
    )?;
    let seed = crate::signing::unlock(&wallet, &args.passphrase)?;
    let committed = run
        .commit(&mut wallet, &seed, ctx.backend()?)
        .map_err(|e| match e {
            wallet_core::Error::NotBroadcast { txid, failed, .. } => {
                let mut err = CliError::from(e);
                err.hints = vec![if failed {
                    format!(
                        "its requests stay signed; once it can no longer confirm, `liquid-otc \
                         pegout abandon {txid}` puts them back to approved (never `tx forget`)"
                    )
                } else {
                    "its requests stay signed; the next `liquid-otc pegout run` sends it again"
                        .to_owned()
                }];
                err
            }
            other => other.into(),
        })?;
    doc["txid"] = json!(committed.txid.to_string());
    if ctx.out.json {
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&committed.txid.to_string());
        ctx.out.note(&format!(
            "Paid {} request(s); `liquid-otc pegout status` follows them to confirmed (sync moves \
             them).",
            committed.paid.len()
        ));
    }
    Ok(())
}

/// `pegout abandon`.
pub fn abandon(ctx: &Context, args: &AbandonArgs) -> CliResult<()> {
    let actor = args.actor.name()?;
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let live = wallet
        .store()
        .pegout_live_txs()?
        .into_iter()
        .find(|l| l.tx.txid() == args.txid);
    if let Some(live) = &live {
        crate::input::confirm(
            ctx.yes,
            "abandoning a peg-out transaction",
            &format!(
                "Abandon {} and put {} request(s) back to approved ({})?",
                args.txid,
                live.requests.len(),
                live.requests
                    .iter()
                    .map(|(r, _)| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )?;
    }
    let requeued = abandon_tx(&mut wallet, ctx.backend()?, &args.txid, &actor)?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "txid": args.txid.to_string(),
            "requeued": requeued,
        }));
    } else {
        ctx.out.line(&format!(
            "Abandoned {}; back to approved: {}.",
            args.txid,
            requeued.join(", ")
        ));
        ctx.out.note(
            "The next `pegout run` pays them with one of its inputs, so the two transactions \
             can never both confirm.",
        );
    }
    Ok(())
}

/// `pegout status`.
pub fn status(ctx: &Context, args: &StatusArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let settings = wallet.store().pegout_settings()?;
    let tip = wallet.store().tip()?.map(|(h, _)| h);
    let confirmations = |height: Option<u32>| -> Option<u32> {
        match (tip, height) {
            (Some(t), Some(h)) if t >= h => Some(t - h + 1),
            _ => None,
        }
    };
    if let Some(reference) = &args.reference {
        let r = wallet
            .store()
            .pegout_request(reference)?
            .ok_or_else(|| wallet_core::Error::UnknownRequest(reference.clone()))?;
        if ctx.out.json {
            let mut doc = request_json(&r, settings.approvals);
            doc["confirmations"] = json!(confirmations(r.height));
            ctx.out.json(&doc);
            return Ok(());
        }
        let mut fields = vec![
            ("ref", r.reference.clone()),
            ("status", r.status.to_string()),
            ("amount", btc(r.amount)),
            ("btc address", r.btc_address.clone()),
            (
                "customer",
                r.customer.clone().unwrap_or_else(|| "-".to_owned()),
            ),
            ("approvals", super::approvals_field(&r, settings.approvals)),
        ];
        if let Some(reason) = &r.reason {
            fields.push(("rejected because", reason.clone()));
        }
        if let (Some(t), Some(v)) = (r.txid, r.vout) {
            fields.push(("txid", t.to_string()));
            fields.push(("output", v.to_string()));
        }
        if let Some(h) = r.height {
            fields.push(("height", h.to_string()));
        }
        if let Some(c) = confirmations(r.height) {
            fields.push(("confirmations", c.to_string()));
        }
        ctx.out.fields(&fields);
        return Ok(());
    }
    let requests = wallet.store().pegout_requests(None)?;
    let live = wallet.store().pegout_live_txs()?;
    let counts: Vec<(RequestStatus, usize, u64)> = RequestStatus::ALL
        .iter()
        .map(|s| {
            let of: Vec<_> = requests.iter().filter(|r| r.status == *s).collect();
            (*s, of.len(), of.iter().map(|r| r.amount).sum())
        })
        .collect();
    if ctx.out.json {
        ctx.out.json(&json!({
            "statuses": counts.iter().map(|(s, n, sat)| json!({
                "status": s.as_str(), "requests": n, "amount": sat,
            })).collect::<Vec<_>>(),
            "transactions": live.iter().map(|l| json!({
                "txid": l.tx.txid().to_string(),
                "requests": l.requests.iter().map(|(r, s)| json!({"ref": r, "status": s.as_str()})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "settings": {"approvals": settings.approvals, "min_amount": settings.min_amount},
            "tip": tip,
        }));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(s, n, sat)| {
            vec![
                s.to_string(),
                n.to_string(),
                wallet_core::amount::format_amount(*sat, 8),
            ]
        })
        .collect();
    ctx.out.table(&["STATUS", "REQUESTS", "BTC"], &rows);
    if !live.is_empty() {
        ctx.out.line("");
        let rows: Vec<Vec<String>> = live
            .iter()
            .map(|l| {
                vec![
                    l.tx.txid().to_string(),
                    l.requests
                        .iter()
                        .map(|(r, s)| format!("{r} ({s})"))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        ctx.out.table(&["TRANSACTION", "REQUESTS"], &rows);
    }
    ctx.out.note(&format!(
        "A request needs {} distinct approver(s); the minimum is {}.",
        settings.approvals,
        btc(settings.min_amount)
    ));
    Ok(())
}
