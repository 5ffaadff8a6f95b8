//! `tx pending | rebroadcast | forget`: the transactions the wallet signed and recorded that
//! the chain has not shown yet, and the failed ones that no longer count.

use serde_json::{json, Value};
use wallet_core::ops::pset_sign::{forget, rebroadcast};
use wallet_core::store::OutgoingState;

use crate::arg_groups::TxArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::input;

fn state_text(state: &OutgoingState) -> (&'static str, Option<String>) {
    match state {
        OutgoingState::Recorded => (
            "recorded",
            Some("not broadcast yet: `tx rebroadcast` sends it".to_owned()),
        ),
        OutgoingState::Broadcast(_) => ("broadcast", None),
        OutgoingState::Failed(reason) => ("failed", Some(reason.clone())),
    }
}

/// `tx pending`.
pub fn list(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let pending = wallet.store().pending()?;
    if ctx.out.json {
        let docs: Vec<Value> = pending
            .iter()
            .map(|p| {
                let (state, reason) = state_text(&p.state);
                json!({
                    "txid": p.tx.txid().to_string(),
                    "kind": p.kind,
                    "state": state,
                    "counts": !matches!(p.state, OutgoingState::Failed(_)),
                    "reason": reason,
                    "broadcast_at": match p.state { OutgoingState::Broadcast(at) => Some(at), _ => None },
                    "recorded_at": p.recorded_at,
                    "hex": elements::encode::serialize_hex(&p.tx),
                })
            })
            .collect();
        ctx.out.json(&Value::Array(docs));
        return Ok(());
    }
    if pending.is_empty() {
        ctx.out.note("No pending transactions.");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = pending
        .iter()
        .map(|p| {
            let (state, reason) = state_text(&p.state);
            vec![
                p.tx.txid().to_string(),
                p.kind.clone().unwrap_or_else(|| "-".to_owned()),
                state.to_owned(),
                reason.unwrap_or_default(),
            ]
        })
        .collect();
    ctx.out.table(&["TXID", "KIND", "STATE", "NOTE"], &rows);
    if pending
        .iter()
        .any(|p| matches!(p.state, OutgoingState::Failed(_)))
    {
        ctx.out
            .note("failed transactions no longer count in balances; `tx forget TXID` removes them");
    }
    Ok(())
}

/// `tx rebroadcast TXID`.
pub fn rebroadcast_cmd(ctx: &Context, args: &TxArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let sent = rebroadcast(&mut wallet, &args.txid, ctx.backend()?)?;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "txid": sent.to_string(), "rebroadcast": true }));
    } else {
        ctx.out.line(&sent.to_string());
    }
    Ok(())
}

/// `tx forget TXID`.
pub fn forget_cmd(ctx: &Context, args: &TxArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let txid = args.txid;
    if !wallet
        .store()
        .pending()?
        .iter()
        .any(|p| p.tx.txid() == txid)
    {
        return Err(wallet_core::Error::NotPending(txid).into());
    }
    input::confirm(
        ctx.yes,
        "forgetting a pending transaction",
        "Forget it? If it was broadcast after all, it may still confirm.",
    )?;
    forget(&mut wallet, &txid)?;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "txid": txid.to_string(), "forgotten": true }));
    } else {
        ctx.out
            .note(&format!("Forgot {txid}; its coins are spendable again."));
    }
    Ok(())
}
