//! What an earlier (abandoned or conflicted) transaction of a request means for a run that
//! pays the request again: pinned, a coin to pin, dead, or undecided (the request waits).

use super::*;

/// How many confirmations make a Liquid transaction final. Liquid's federation signs one
/// block a minute and never builds on a block other than the last it signed, so a block
/// that has a successor cannot leave the chain: two confirmations are final (what
/// elementsd's own peg-in rules and the exchanges' practice rely on). A transaction with
/// one confirmation can still be dropped by a reorganisation (as the sandbox's `reorg`
/// does), and with it the proof that an earlier transaction can never confirm.
pub const FINAL_DEPTH: u32 = 2;

/// How many recorded ancestors [`fate_of`] follows to find that a parent of an earlier
/// transaction is dead (an earlier transaction spending the change of an abandoned one,
/// itself spending the change of another, ...).
const MAX_ANCESTORS: usize = 8;

/// What an earlier transaction of a request means for a run that pays the request again.
enum Fate {
    /// One of its coins, or an output of the confirmed transaction that makes it dead, is
    /// already spent by the new transaction.
    Pinned,
    /// Spend this coin (of it, or of the confirmed transaction that makes it dead), so that
    /// at most one of the two confirms.
    Pin(Box<crate::tx::Spendable>),
    /// A transaction at least [`FINAL_DEPTH`] blocks deep spent one of its coins (or one of
    /// a recorded ancestor's): it can never confirm.
    Dead,
    /// It could still confirm, and no coin of it can be spent: why, and what to do.
    Undecided(String),
}

/// Whether a recorded transaction can no longer confirm, from the wallet's chain data.
enum Death {
    /// A transaction at least [`FINAL_DEPTH`] blocks deep spent one of its coins.
    Final,
    /// An output of the confirmed (not yet final) spender is already pinned.
    Pinned,
    /// A confirmed (not yet final) transaction spent one of its coins, and the wallet can
    /// spend this output of it: spending it makes the new transaction invalid whenever a
    /// reorganisation drops that spender.
    Pin(Box<crate::tx::Spendable>),
    /// A confirmed spender is not final yet and pays the wallet nothing spendable: why.
    Shallow(String),
    /// Nothing says it is dead.
    No,
}

impl Death {
    fn rank(&self) -> u8 {
        match self {
            Death::Final => 4,
            Death::Pinned => 3,
            Death::Pin(_) => 2,
            Death::Shallow(_) => 1,
            Death::No => 0,
        }
    }
}

/// What [`fate_of`] reads: the wallet's store, its tip height, its spendable coins and the
/// coins the new transaction already pins.
struct FateCtx<'a> {
    store: &'a crate::store::Store,
    tip: Option<u32>,
    coins: &'a [crate::tx::Spendable],
    pinned: &'a [crate::tx::Spendable],
}

/// Whether `tx` is dead: one of its coins is spent by a confirmed transaction other than
/// itself (final when [`FINAL_DEPTH`] blocks deep; otherwise pinned through an output of it
/// the wallet owns, or not yet known), or, following up to `ancestors` recorded parents,
/// one of its coins comes from a recorded transaction that is itself dead that way.
fn death(tx: &crate::store::EarlierTx, ctx: &FateCtx<'_>, ancestors: usize) -> Result<Death> {
    use crate::store::SpenderState;
    let mut best = Death::No;
    let consider = |d: Death, best: &mut Death| {
        if d.rank() > best.rank() {
            *best = d;
        }
    };
    for (op, spenders) in &tx.inputs {
        let mut confirmed_spender = false;
        for s in spenders {
            let SpenderState::Confirmed(height) = s.state else {
                continue;
            };
            confirmed_spender = true;
            let depth = ctx
                .tip
                .filter(|t| *t >= height)
                .map_or(0, |t| t - height + 1);
            if depth >= FINAL_DEPTH {
                return Ok(Death::Final);
            }
            if ctx.pinned.iter().any(|p| p.outpoint.txid == s.txid) {
                consider(Death::Pinned, &mut best);
            } else if let Some(c) = ctx.coins.iter().find(|c| c.outpoint.txid == s.txid) {
                consider(Death::Pin(Box::new(c.clone())), &mut best);
            } else {
                consider(
                    Death::Shallow(format!(
                        "coin {}:{} of {} is spent by {}, confirmed at height {height}, {depth} \
                         block(s) deep, which a reorganisation could still undo: wait for \
                         transaction {} to be {FINAL_DEPTH} blocks deep, sync and run again",
                        op.txid, op.vout, tx.txid, s.txid, s.txid
                    )),
                    &mut best,
                );
            }
        }
        if confirmed_spender || ancestors == 0 {
            continue;
        }
        if let Some(parent) = ctx.store.recorded_tx_inputs(&op.txid)? {
            if !parent.seen {
                consider(death(&parent, ctx, ancestors - 1)?, &mut best);
            }
        }
        if best.rank() == Death::Final.rank() {
            break;
        }
    }
    Ok(best)
}

/// Decides what `earlier` means for a new transaction paying its request again, from the
/// wallet's synced chain data: pinned already, a coin to pin, dead, or undecided.
fn fate_of(earlier: &crate::store::EarlierTx, ctx: &FateCtx<'_>) -> Result<Fate> {
    use crate::store::SpenderState;
    if earlier.seen {
        return Ok(Fate::Undecided(
            "the last sync saw it on the chain or in the mempool, so it pays the request; \
             sync again"
                .to_owned(),
        ));
    }
    let ops = || earlier.inputs.iter().map(|(op, _)| op);
    if ops().any(|op| ctx.pinned.iter().any(|p| p.outpoint == *op)) {
        return Ok(Fate::Pinned);
    }
    if let Some(coin) = ops().find_map(|op| ctx.coins.iter().find(|c| c.outpoint == *op)) {
        return Ok(Fate::Pin(Box::new(coin.clone())));
    }
    match death(earlier, ctx, MAX_ANCESTORS)? {
        Death::Final => return Ok(Fate::Dead),
        Death::Pinned => return Ok(Fate::Pinned),
        Death::Pin(coin) => return Ok(Fate::Pin(coin)),
        Death::Shallow(why) => return Ok(Fate::Undecided(why)),
        Death::No => {}
    }
    let mut said = Vec::new();
    let mut waiting_for = Vec::new();
    for (op, spenders) in &earlier.inputs {
        let by: Vec<String> = spenders
            .iter()
            .filter(|s| s.state != SpenderState::Failed)
            .map(|s| {
                let how = match s.state {
                    SpenderState::Mempool => "in the mempool, not confirmed",
                    SpenderState::Recorded => "recorded, not seen by a server",
                    SpenderState::Confirmed(_) | SpenderState::Failed => "",
                };
                if !waiting_for.contains(&s.txid) {
                    waiting_for.push(s.txid);
                }
                format!("{} ({how})", s.txid)
            })
            .collect();
        said.push(if by.is_empty() {
            format!(
                "coin {}:{} is neither spendable nor spent by a transaction the wallet knows",
                op.txid, op.vout
            )
        } else {
            format!("coin {}:{} is spent by {}", op.txid, op.vout, by.join(", "))
        });
    }
    let todo = if waiting_for.is_empty() {
        "sync and run again; if the coin is reserved by an open offer, end the offer first"
            .to_owned()
    } else {
        format!(
            "wait until {} confirms (then the earlier transaction never can), sync and run \
             again",
            waiting_for
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    Ok(Fate::Undecided(format!("{}; {todo}", said.join("; "))))
}

/// What [`pins`] decides: the coins to pin, and the requests (by index) that wait, with why.
type Pins = (Vec<crate::tx::Spendable>, Vec<(usize, String)>);

/// Coins of the earlier (abandoned or conflicted) transactions of `requests` that are still
/// the wallet's, or of the confirmed transactions that make them dead: spent so that the new
/// transaction conflicts with (or depends on what killed) each earlier one. Every earlier
/// transaction that could still confirm must conflict with the new one: pin a coin, or know
/// from the chain data that it is dead. A request for which neither holds is not paid: it
/// is returned (by index into `requests`) with why, and its pins are not taken.
pub(super) fn pins(
    wallet: &Wallet,
    coins: &[crate::tx::Spendable],
    requests: &[&crate::store::PegoutRequest],
) -> Result<Pins> {
    let tip = wallet.store().tip()?.map(|(h, _)| h);
    let mut pinned: Vec<crate::tx::Spendable> = Vec::new();
    let mut undecided = Vec::new();
    for (i, r) in requests.iter().enumerate() {
        let mut mine = pinned.clone();
        let mut why = None;
        for earlier in wallet.store().pegout_earlier_txs(r.id)? {
            let ctx = FateCtx {
                store: wallet.store(),
                tip,
                coins,
                pinned: &mine,
            };
            match fate_of(&earlier, &ctx)? {
                Fate::Pinned | Fate::Dead => {}
                Fate::Pin(coin) => mine.push(*coin),
                Fate::Undecided(text) => {
                    why = Some(format!(
                        "earlier transaction {} could still confirm, and a new transaction \
                         could not be made to conflict with it: {text}",
                        earlier.txid
                    ));
                    break;
                }
            }
        }
        match why {
            Some(why) => undecided.push((i, why)),
            None => pinned = mine,
        }
    }
    Ok((pinned, undecided))
}
