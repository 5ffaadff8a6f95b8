//! Peg-outs: one from the command line ([`prepare_send`]), and the request queue's runs
//! ([`prepare_run`], [`PreparedRun::commit`]), its abandon and its resume after a crash.
//!
//! Whatever starts it, a peg-out transaction is prepared like a payment (coin selection, fee
//! passes, confidential L-BTC change, blinding, the builder's own checks) and then checked
//! once more, independently, from the extracted transaction and the wallet's view of it
//! ([`check_pegouts`]): every output that is not the wallet's change or the fee must read
//! back (with [`crate::pegout::read_pegout`]) as exactly the next expected peg-out, every
//! expected peg-out must be there once, and the wallet's net effect must be exactly the
//! peg-outs plus the fee in L-BTC and nothing in any other asset.

use std::collections::BTreeMap;

use elements::pset::PartiallySignedTransaction;
use elements::AssetId;

use super::payment::prepare_built;
use super::{Mode, Prepared};
use crate::network::Network;
use crate::pegout::{check_amount, check_supported, read_pegout, BtcDestination, PegoutLimits};
use crate::pset::{Owner, PsetView};
use crate::store::TxKind;
use crate::tx::{build_pegouts, FeeRate, PegoutBatch, PegoutOutput};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// A prepared single peg-out, with the index of its output.
#[derive(Debug)]
pub struct PreparedPegout {
    /// The prepared transaction (commit it to sign, record and broadcast).
    pub prepared: Prepared,
    /// The output index of the peg-out.
    pub vout: u32,
}

/// Prepares one peg-out of `amount` sat to `destination` (checked for the wallet's network
/// with [`crate::pegout::parse_btc_address`]), refusing networks where peg-outs cannot be
/// made and amounts below `limits.min_amount`. Sync first; nothing is signed.
pub fn prepare_send(
    wallet: &mut Wallet,
    destination: &BtcDestination,
    amount: u64,
    fee_rate: FeeRate,
    limits: PegoutLimits,
    mode: Mode,
) -> Result<PreparedPegout> {
    check_supported(wallet.network())?;
    check_amount(amount, limits.min_amount)?;
    let expected = vec![PegoutOutput {
        parent_script: destination.script.clone(),
        value: amount,
    }];
    let batch = PegoutBatch {
        outputs: expected.clone(),
        pinned: Vec::new(),
        fee_rate,
    };
    let prepared = prepare_built(wallet, mode, TxKind::Pegout, 0, |ctx, coins, change| {
        build_pegouts(ctx, coins, &batch, change)
    })?;
    let vouts = check_pegouts(
        &prepared.view,
        &prepared.pset,
        wallet.network(),
        wallet.policy_asset(),
        &expected,
    )?;
    Ok(PreparedPegout {
        prepared,
        vout: vouts[0],
    })
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::Refused(format!("{}; nothing was signed", msg.into()))
}

/// The independent check before signing a peg-out transaction: from the transaction itself
/// and the wallet's view of it, every output is the wallet's (change), the fee, or exactly the
/// next of `expected` (an explicit policy-asset peg-out to `network`'s parent chain, read
/// back from the output), each of `expected` is there once and in order, the view has no
/// problem, and the wallet's net effect is exactly minus the peg-outs and the fee in the
/// policy asset. Returns the output index of each expected peg-out.
pub fn check_pegouts(
    view: &PsetView,
    pset: &PartiallySignedTransaction,
    network: Network,
    policy_asset: AssetId,
    expected: &[PegoutOutput],
) -> Result<Vec<u32>> {
    if let Some(problem) = view.problems.first() {
        return Err(refuse(format!(
            "the peg-out transaction has a problem: {problem}"
        )));
    }
    let tx = pset
        .extract_tx()
        .map_err(|e| refuse(format!("the PSET does not form a transaction: {e}")))?;
    if tx.output.len() != view.outputs.len() {
        return Err(refuse("the view does not match the transaction"));
    }
    let mut vouts = Vec::with_capacity(expected.len());
    for (i, (txout, output)) in tx.output.iter().zip(&view.outputs).enumerate() {
        match output.owner {
            Owner::Wallet(..) => continue,
            Owner::Fee if txout.is_fee() => continue,
            Owner::Fee | Owner::Other => {}
        }
        let Some((value, script)) = read_pegout(txout, network, policy_asset) else {
            return Err(refuse(format!(
                "output {i} pays something other than a requested peg-out"
            )));
        };
        let next = vouts.len();
        let Some(want) = expected.get(next) else {
            return Err(refuse(format!(
                "output {i} is a peg-out beyond the {} requested",
                expected.len()
            )));
        };
        if want.value != value || want.parent_script != script {
            return Err(refuse(format!(
                "output {i} does not pay peg-out {next} exactly (amount or Bitcoin script \
                 differs)"
            )));
        }
        vouts.push(u32::try_from(i).map_err(|_| refuse("too many outputs"))?);
    }
    if vouts.len() != expected.len() {
        return Err(refuse(format!(
            "{} of {} peg-outs are in the transaction",
            vouts.len(),
            expected.len()
        )));
    }
    let paid = expected
        .iter()
        .try_fold(0u64, |sum, p| sum.checked_add(p.value))
        .and_then(|sum| sum.checked_add(view.fee))
        .and_then(|sum| i64::try_from(sum).ok())
        .ok_or_else(|| refuse("the peg-outs overflow"))?;
    let want_net: BTreeMap<AssetId, i64> = [(policy_asset, -paid)].into_iter().collect();
    if view.net != want_net || !view.wallet_pays_fee() {
        return Err(refuse(
            "the wallet's net effect is not exactly the peg-outs plus the fee in L-BTC",
        ));
    }
    Ok(vouts)
}

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Pay at most this many requests (oldest first).
    pub max: Option<usize>,
    /// Fee rate.
    pub fee_rate: FeeRate,
    /// How many peg-outs one transaction may carry on this chain.
    pub limits: PegoutLimits,
    /// Who runs it (written in the audit log).
    pub actor: String,
}

/// A request a run pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paid {
    /// Its reference.
    pub reference: String,
    /// Its customer.
    pub customer: Option<String>,
    /// The Bitcoin address.
    pub btc_address: String,
    /// The amount in sat.
    pub amount: u64,
    /// The output of the run's transaction that pays it.
    pub vout: u32,
}

/// A runnable request a run does not pay this time, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Waiting {
    /// Its reference.
    pub reference: String,
    /// The amount in sat.
    pub amount: u64,
    /// What kind of reason.
    pub kind: WaitReason,
    /// Why it waits, in words with the numbers.
    pub why: String,
}

/// The kinds of reason an approved request waits in a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitReason {
    /// The wallet's L-BTC does not cover it (with the fee) after the requests this run pays
    /// before it.
    Funds,
    /// It is below the desk's current minimum (raised since it was queued).
    BelowMinimum,
    /// `--max`, or how many peg-outs one transaction may carry: the next run takes it.
    Limit,
    /// An earlier transaction of it could still confirm, and a new one could not be made to
    /// conflict with it (the reason says what to wait for).
    EarlierTx,
}

/// What a selection pass may spend: the desk's minimum now, the wallet's spendable L-BTC,
/// what is kept back for the fee, and the requests (by index) left out because the fee did
/// not fit with them.
struct Budget<'a> {
    min_amount: u64,
    available: u64,
    reserve: u64,
    short: &'a [usize],
    undecided: &'a [(usize, String)],
}

/// The requests a run chooses (indexes into `runnable`) and those that wait, with why.
#[derive(Debug, PartialEq, Eq)]
struct Selection {
    chosen: Vec<usize>,
    waiting: Vec<(usize, WaitReason, String)>,
}

fn btc(sat: u64) -> String {
    format!("{} BTC", crate::amount::format_amount(sat, 8))
}

/// Chooses, in queue order, every request that the run may pay: at least the minimum,
/// within `--max` and the chain's per-transaction limit, and covered by what is left of the
/// wallet's L-BTC (less `reserve` for the fee) after the requests chosen before it. A
/// request that cannot be funded is skipped, not a wall: later, smaller ones are still paid.
fn select(
    runnable: &[crate::store::PegoutRequest],
    options: &RunOptions,
    budget: &Budget<'_>,
) -> Selection {
    let cap = options
        .limits
        .max_per_tx
        .min(options.max.unwrap_or(usize::MAX));
    let spendable = budget.available.saturating_sub(budget.reserve);
    let mut chosen = Vec::new();
    let mut waiting = Vec::new();
    let mut sum = 0u64;
    for (i, r) in runnable.iter().enumerate() {
        if r.amount < budget.min_amount {
            waiting.push((
                i,
                WaitReason::BelowMinimum,
                format!(
                    "{} is below the desk's current minimum of {}: lower the minimum with \
                     `pegout settings --min-amount`, or reject it",
                    btc(r.amount),
                    btc(budget.min_amount)
                ),
            ));
            continue;
        }
        if let Some((_, why)) = budget.undecided.iter().find(|(j, _)| *j == i) {
            waiting.push((i, WaitReason::EarlierTx, why.clone()));
            continue;
        }
        if chosen.len() >= cap {
            let why = if options.max.is_some_and(|m| chosen.len() >= m) {
                "beyond --max".to_owned()
            } else if options.limits.max_per_tx == 1 {
                "the chain relays one peg-out per transaction (multi_data_permitted is off): \
                 run again"
                    .to_owned()
            } else {
                format!(
                    "at most {} peg-outs per transaction: run again",
                    options.limits.max_per_tx
                )
            };
            waiting.push((i, WaitReason::Limit, why));
            continue;
        }
        let fits = !budget.short.contains(&i)
            && sum
                .checked_add(r.amount)
                .is_some_and(|total| total <= spendable);
        if !fits {
            let left = budget.available.saturating_sub(sum);
            let before = if chosen.is_empty() {
                String::new()
            } else {
                format!(
                    " after the {} request(s) this run pays before it ({} of {} L-BTC)",
                    chosen.len(),
                    crate::amount::format_amount(sum, 8),
                    crate::amount::format_amount(budget.available, 8)
                )
            };
            let fee = if budget.reserve > 0 {
                format!(" and a fee of about {} sat", budget.reserve)
            } else {
                " and the fee".to_owned()
            };
            waiting.push((
                i,
                WaitReason::Funds,
                format!(
                    "needs {}{fee}; {} L-BTC is spendable{before}: fund the wallet and run \
                     again, or reject it",
                    btc(r.amount),
                    crate::amount::format_amount(left, 8)
                ),
            ));
            continue;
        }
        sum = sum.saturating_add(r.amount);
        chosen.push(i);
    }
    Selection { chosen, waiting }
}

/// The peg-out outputs paying `requests`, in order.
fn outputs_of(requests: &[&crate::store::PegoutRequest]) -> Vec<PegoutOutput> {
    requests
        .iter()
        .map(|r| PegoutOutput {
            parent_script: elements::bitcoin::ScriptBuf::from(r.script.clone()),
            value: r.amount,
        })
        .collect()
}

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
fn pins(
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

/// A prepared run: the transaction paying the oldest approved requests the wallet can pay,
/// checked, with the requests it pays and those that wait. Commit it to sign, record (the
/// requests marked `signed` in the same SQLite transaction), broadcast and mark them
/// `broadcast`.
#[derive(Debug)]
pub struct PreparedRun {
    /// The prepared transaction; `None` when nothing can be paid now.
    pub prepared: Option<Prepared>,
    /// The requests it pays, in output order.
    pub paid: Vec<Paid>,
    /// The runnable requests it leaves for later, oldest first.
    pub waiting: Vec<Waiting>,
    /// Coins spent on purpose so that this transaction conflicts with the abandoned
    /// transactions that paid some of these requests before.
    pub pinned: Vec<elements::OutPoint>,
    actor: String,
}

/// What a committed run did.
#[derive(Clone, Debug)]
pub struct RunCommitted {
    /// The transaction.
    pub txid: elements::Txid,
    /// The requests it pays.
    pub paid: Vec<Paid>,
}

/// Prepares a run: under the wallet's spending lock (taken first, kept until commit, so a
/// second run waits for this one to finish or refuses), reads the approved requests with
/// enough distinct approvers, oldest first, and takes each in order that the wallet's L-BTC
/// (with the fee) still covers, at least the desk's current minimum, up to `options.max` and
/// the chain's per-transaction limit; a request that cannot be paid waits with its reason
/// ([`Waiting`]) and does not hold back the ones after it. Builds one transaction paying the
/// chosen and checks it with [`check_pegouts`]. Requests that a transaction paid before (now abandoned
/// or conflicted) are paid with one of that transaction's inputs when it is still the
/// wallet's, so that the two can never both confirm. Sync first; nothing is signed.
pub fn prepare_run(wallet: &mut Wallet, options: &RunOptions, mode: Mode) -> Result<PreparedRun> {
    check_supported(wallet.network())?;
    let actor = crate::store::check_actor(&options.actor)?;
    let lock = match mode {
        Mode::ForSigning => Some(wallet.lock_spending()?),
        Mode::DryRun => None,
    };
    // The desk's minimum now, not the one when a request was queued: a request below it
    // waits (the settings may have been raised since).
    let min_amount = wallet
        .store()
        .pegout_settings()?
        .min_amount
        .max(options.limits.min_amount);
    let runnable = wallet.store().pegout_runnable()?;
    let coins = super::payment::spendable(wallet)?;
    let policy = wallet.policy_asset();
    let available = coins
        .iter()
        .filter(|c| c.secrets.asset == policy)
        .try_fold(0u64, |s, c| s.checked_add(c.secrets.value))
        .unwrap_or(u64::MAX);
    // Choose in queue order, skipping what cannot be paid; dry builds find the fee, and a
    // fee that does not fit keeps that much back (`reserve`) and chooses again.
    let mut reserve = 0u64;
    let mut passes = 0usize;
    let mut short: Vec<usize> = Vec::new();
    let mut undecided: Vec<(usize, String)> = Vec::new();
    let (selection, pinned) = loop {
        let selection = select(
            &runnable,
            options,
            &Budget {
                min_amount,
                available,
                reserve,
                short: &short,
                undecided: &undecided,
            },
        );
        let chosen: Vec<&crate::store::PegoutRequest> =
            selection.chosen.iter().map(|&i| &runnable[i]).collect();
        let (pinned, waits) = pins(wallet, &coins, &chosen)?;
        if !waits.is_empty() {
            // Those requests wait (each pass adds at least one, so this ends); the others
            // are chosen again without them.
            undecided.extend(waits.into_iter().map(|(j, why)| (selection.chosen[j], why)));
            continue;
        }
        let Some(&last) = selection.chosen.last() else {
            break (selection, pinned);
        };
        let trial = PegoutBatch {
            outputs: outputs_of(&chosen),
            pinned: pinned.clone(),
            fee_rate: options.fee_rate,
        };
        match super::payment::prepare_built_locked(
            wallet,
            None,
            Mode::DryRun,
            TxKind::Pegout,
            0,
            |ctx, coins, change| build_pegouts(ctx, coins, &trial, change),
        ) {
            Ok(_) => break (selection, pinned),
            Err(Error::InsufficientFunds { asset, needed, .. }) if asset == policy => {
                let sum = chosen.iter().try_fold(0u64, |s, r| s.checked_add(r.amount));
                let fee = sum.map_or(0, |sum| needed.saturating_sub(sum));
                passes += 1;
                if fee > reserve && passes <= 8 {
                    reserve = fee;
                } else {
                    // The fee estimate did not help (or too many passes): leave out the
                    // last chosen request, which always ends the loop.
                    short.push(last);
                }
            }
            Err(e) => return Err(e),
        }
    };
    let batch: Vec<crate::store::PegoutRequest> = selection
        .chosen
        .iter()
        .map(|&i| runnable[i].clone())
        .collect();
    let waiting: Vec<Waiting> = selection
        .waiting
        .into_iter()
        .map(|(i, kind, why)| Waiting {
            reference: runnable[i].reference.clone(),
            amount: runnable[i].amount,
            kind,
            why,
        })
        .collect();
    let network = wallet.network();
    let k = batch.len();
    if k == 0 {
        return Ok(PreparedRun {
            prepared: None,
            paid: Vec::new(),
            waiting,
            pinned: Vec::new(),
            actor,
        });
    }
    let expected = outputs_of(&batch.iter().collect::<Vec<_>>());
    let chosen = PegoutBatch {
        outputs: expected.clone(),
        pinned: pinned.clone(),
        fee_rate: options.fee_rate,
    };
    let mut prepared = super::payment::prepare_built_locked(
        wallet,
        lock,
        mode,
        TxKind::Pegout,
        0,
        |ctx, coins, change| build_pegouts(ctx, coins, &chosen, change),
    )?;
    let vouts = check_pegouts(&prepared.view, &prepared.pset, network, policy, &expected)?;
    let inputs: Vec<elements::OutPoint> = prepared.view.inputs.iter().map(|i| i.outpoint).collect();
    for p in &pinned {
        if !inputs.contains(&p.outpoint) {
            return Err(refuse(format!(
                "the transaction does not spend {}:{}, which it must to conflict with an \
                 abandoned one",
                p.outpoint.txid, p.outpoint.vout
            )));
        }
    }
    let paid: Vec<Paid> = batch[..k]
        .iter()
        .zip(&vouts)
        .map(|(r, vout)| Paid {
            reference: r.reference.clone(),
            customer: r.customer.clone(),
            btc_address: r.btc_address.clone(),
            amount: r.amount,
            vout: *vout,
        })
        .collect();
    prepared.ledger = vec![Box::new(crate::store::PegoutsSigned {
        requests: batch[..k]
            .iter()
            .zip(&vouts)
            .map(|(r, vout)| (r.id, r.reference.clone(), *vout, r.amount, r.script.clone()))
            .collect(),
        inputs,
        actor: actor.clone(),
    })];
    Ok(PreparedRun {
        prepared: Some(prepared),
        paid,
        waiting,
        pinned: pinned.iter().map(|p| p.outpoint).collect(),
        actor,
    })
}

impl PreparedRun {
    /// Signs, records the transaction and marks its requests `signed` in ONE SQLite
    /// transaction, broadcasts, then marks them `broadcast`. A server's refusal leaves them
    /// `signed` with an event (the error says why; `pegout abandon` puts them back once the
    /// transaction can no longer confirm); an unreachable server leaves them `signed` for
    /// the next run to broadcast again.
    pub fn commit(
        self,
        wallet: &mut Wallet,
        seed: &crate::seed::SeedSecret,
        backend: &dyn crate::chain::Backend,
    ) -> Result<RunCommitted> {
        let prepared = self
            .prepared
            .ok_or_else(|| Error::Transaction("nothing to pay in this run".to_owned()))?;
        let txid = match prepared.commit(wallet, seed, backend) {
            Ok(committed) => committed.txid,
            Err(Error::NotBroadcast {
                txid,
                failed,
                source,
            }) => {
                let reason = if failed {
                    format!("the server refused the transaction: {source}")
                } else {
                    format!(
                        "the server could not be reached: {source}; the next run sends it again"
                    )
                };
                wallet
                    .store_mut()
                    .pegout_note_broadcast_failure(&txid, &reason, &self.actor)?;
                return Err(Error::NotBroadcast {
                    txid,
                    failed,
                    source,
                });
            }
            Err(e) => return Err(e),
        };
        super::fault::point("pegout.before_mark_broadcast");
        wallet
            .store_mut()
            .pegout_mark_broadcast(&txid, &self.actor)?;
        super::fault::point("pegout.after_mark_broadcast");
        Ok(RunCommitted {
            txid,
            paid: self.paid,
        })
    }
}

/// What [`resume`] did with one live transaction of the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResumeAction {
    /// It was recorded but not (known to be) accepted: sent again and accepted.
    Rebroadcast,
    /// A server had accepted it already; its requests are now marked `broadcast`.
    Marked,
    /// The server refused it: the reason. Its requests stay `signed`.
    Refused(String),
    /// The server could not be reached: the next run tries again.
    Unreachable(String),
    /// The wallet no longer recorded it (`tx forget`, or a reorganisation that dropped it
    /// from every block and mempool): recorded again and sent again, accepted. Only `pegout
    /// abandon` releases a transaction's requests.
    Rerecorded,
}

/// One live transaction [`resume`] acted on.
#[derive(Clone, Debug)]
pub struct Resumed {
    /// The transaction.
    pub txid: elements::Txid,
    /// The references it pays.
    pub requests: Vec<String>,
    /// What was done.
    pub action: ResumeAction,
}

/// Finishes what a crash or an unreachable server left undone, before a run pays anything
/// new (under the spending lock): every live peg-out transaction whose requests are still
/// `signed`, or that the wallet counts as failed without a conflict, is broadcast again (or
/// only marked, when a server had accepted it). It never builds a transaction: a request that
/// has one keeps it.
pub fn resume(
    wallet: &mut Wallet,
    backend: &dyn crate::chain::Backend,
    actor: &str,
) -> Result<Vec<Resumed>> {
    check_supported(wallet.network())?;
    let actor = &crate::store::check_actor(actor)?;
    let _lock = wallet.lock_spending()?;
    let pending: std::collections::HashMap<elements::Txid, crate::store::OutgoingState> = wallet
        .store()
        .pending()?
        .into_iter()
        .map(|p| (p.tx.txid(), p.state))
        .collect();
    let mut out = Vec::new();
    let live_txs = parents_first(wallet.store().pegout_live_txs()?, |l| &l.tx);
    for live in live_txs {
        let txid = live.tx.txid();
        let signed = live
            .requests
            .iter()
            .any(|(_, s)| *s == crate::store::RequestStatus::Signed);
        let requests: Vec<String> = live.requests.iter().map(|(r, _)| r.clone()).collect();
        let state = pending.get(&txid);
        let state = match state {
            Some(state) => Some(state.clone()),
            None => match wallet.store().recorded_state(&txid)? {
                // Seen on the chain: sync moves its requests.
                Some(_) => continue,
                // The wallet dropped it (`tx forget`, or a reorganisation that took it out
                // of every block and mempool): the desk's record is what counts; record it
                // again and send it (the same transaction can never pay twice).
                None => {
                    super::pset_sign::record_signed(wallet, &live.tx)?;
                    None
                }
            },
        };
        let action = match state.as_ref() {
            None => match super::broadcast_recorded(wallet, &live.tx, backend) {
                Ok(()) => {
                    wallet.store_mut().pegout_mark_broadcast(&txid, actor)?;
                    ResumeAction::Rerecorded
                }
                Err(Error::NotBroadcast {
                    failed: true,
                    source,
                    ..
                }) => ResumeAction::Refused(source.to_string()),
                Err(Error::NotBroadcast { source, .. }) => {
                    ResumeAction::Unreachable(source.to_string())
                }
                Err(e) => return Err(e),
            },
            Some(crate::store::OutgoingState::Broadcast(_)) if signed => {
                wallet.store_mut().pegout_mark_broadcast(&txid, actor)?;
                ResumeAction::Marked
            }
            Some(crate::store::OutgoingState::Broadcast(_)) => continue,
            Some(
                crate::store::OutgoingState::Recorded | crate::store::OutgoingState::Failed(_),
            ) => match super::broadcast_recorded(wallet, &live.tx, backend) {
                Ok(()) => {
                    super::fault::point("pegout.before_mark_broadcast");
                    wallet.store_mut().pegout_mark_broadcast(&txid, actor)?;
                    ResumeAction::Rebroadcast
                }
                Err(Error::NotBroadcast {
                    failed: true,
                    source,
                    ..
                }) => {
                    let reason = source.to_string();
                    wallet.store_mut().pegout_note_broadcast_failure(
                        &txid,
                        &format!("sent again, refused: {reason}"),
                        actor,
                    )?;
                    ResumeAction::Refused(reason)
                }
                Err(Error::NotBroadcast { source, .. }) => {
                    ResumeAction::Unreachable(source.to_string())
                }
                Err(e) => return Err(e),
            },
        };
        out.push(Resumed {
            txid,
            requests,
            action,
        });
    }
    Ok(out)
}

/// Abandons live peg-out transaction `txid`: only when the server does not know it (neither
/// in its mempool nor in a block, asked through the histories of the scripts it spends) and
/// the last sync did not see it, since otherwise it could still confirm. The wallet stops
/// counting it and its requests go back to `approved` (with those of any peg-out
/// transaction spending its outputs); the next run pays them with one of its inputs, so that
/// the old and the new transaction can never both confirm. Returns the references requeued.
pub fn abandon(
    wallet: &mut Wallet,
    backend: &dyn crate::chain::Backend,
    txid: &elements::Txid,
    actor: &str,
) -> Result<Vec<String>> {
    let actor = &crate::store::check_actor(actor)?;
    let _lock = wallet.lock_spending()?;
    let tx = wallet
        .store()
        .pegout_tx(txid)?
        .ok_or(Error::UnknownPegoutTx(*txid))?;
    let coins = wallet.store().coins()?;
    let scripts: Vec<elements::Script> = tx
        .input
        .iter()
        .filter_map(|i| {
            coins
                .get(&i.previous_output)
                .map(|c| c.txout.script_pubkey.clone())
        })
        .collect();
    if scripts.is_empty() {
        return Err(Error::Refused(format!(
            "the wallet does not know the coins {txid} spends, so it cannot ask the server \
             whether the transaction is known; sync and try again"
        )));
    }
    let histories = backend.histories(&scripts)?;
    if histories.iter().flatten().any(|h| h.txid == *txid) {
        return Err(Error::Refused(format!(
            "{} knows transaction {txid} (in its mempool or in a block): it can still \
             confirm, so its requests stay with it; wait for it, or for a conflicting \
             transaction",
            backend.server()
        )));
    }
    wallet.store_mut().pegout_abandon(txid, actor)
}

/// `items` reordered so that each transaction comes after every one of them whose outputs it
/// spends (parents first, as a server accepts them), otherwise in the given order.
fn parents_first<T>(items: Vec<T>, tx: impl Fn(&T) -> &elements::Transaction) -> Vec<T> {
    let mut left: Vec<(elements::Txid, T)> =
        items.into_iter().map(|t| (tx(&t).txid(), t)).collect();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|(_, t)| {
                !tx(t)
                    .input
                    .iter()
                    .any(|i| left.iter().any(|(p, _)| *p == i.previous_output.txid))
            })
            // A cycle cannot happen (a txid commits to its inputs); keep the order if it did.
            .unwrap_or(0);
        out.push(left.remove(ready).1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PegoutRequest, RequestStatus};
    use elements::{OutPoint, Transaction, TxIn, Txid};

    fn request(i: i64, amount: u64) -> PegoutRequest {
        PegoutRequest {
            id: i,
            reference: format!("R-{i}"),
            btc_address: String::new(),
            script: Vec::new(),
            amount,
            customer: None,
            note: None,
            status: RequestStatus::Approved,
            created_at: 0,
            created_by: "carol".into(),
            updated_at: 0,
            txid: None,
            vout: None,
            height: None,
            reason: None,
            approvals: Vec::new(),
        }
    }

    fn options(max: Option<usize>, per_tx: usize) -> RunOptions {
        RunOptions {
            max,
            fee_rate: FeeRate::MIN,
            limits: PegoutLimits {
                min_amount: 100_000,
                max_per_tx: per_tx,
            },
            actor: "dave".into(),
        }
    }

    const COIN: u64 = 100_000_000;

    #[test]
    fn an_unpayable_request_is_skipped_not_a_wall() {
        // 21 million BTC first, then four small ones, with 1 L-BTC.
        let runnable = [
            request(1, 21_000_000 * COIN),
            request(2, 2_500_000),
            request(3, 2_500_000),
            request(4, 2_500_000),
            request(5, 2_500_000),
        ];
        let budget = Budget {
            min_amount: 100_000,
            available: COIN,
            reserve: 0,
            short: &[],
            undecided: &[],
        };
        let s = select(&runnable, &options(None, 500), &budget);
        assert_eq!(s.chosen, [1, 2, 3, 4]);
        assert_eq!(s.waiting.len(), 1);
        let (i, kind, why) = &s.waiting[0];
        assert_eq!((*i, *kind), (0, WaitReason::Funds));
        assert_eq!(
            why,
            "needs 21000000.0 BTC and the fee; 1.0 L-BTC is spendable: fund the wallet and run \
             again, or reject it"
        );
        // Behind paid ones, the reason counts what they take.
        let runnable = [request(1, 60_000_000), request(2, 50_000_000)];
        let budget = Budget {
            reserve: 30,
            ..budget
        };
        let s = select(&runnable, &options(None, 500), &budget);
        assert_eq!(s.chosen, [0]);
        assert_eq!(
            s.waiting[0].2,
            "needs 0.5 BTC and a fee of about 30 sat; 0.4 L-BTC is spendable after the 1 \
             request(s) this run pays before it (0.6 of 1.0 L-BTC): fund the wallet and run \
             again, or reject it"
        );
    }

    #[test]
    fn the_minimum_and_the_limits_are_reasons_too() {
        let runnable = [
            request(1, 200_000),
            request(2, 2_000_000),
            request(3, 2_000_000),
            request(4, 2_000_000),
        ];
        let budget = Budget {
            min_amount: 1_000_000,
            available: COIN,
            reserve: 0,
            short: &[],
            undecided: &[],
        };
        let s = select(&runnable, &options(Some(2), 500), &budget);
        assert_eq!(s.chosen, [1, 2]);
        let kinds: Vec<(usize, WaitReason)> = s.waiting.iter().map(|w| (w.0, w.1)).collect();
        assert_eq!(
            kinds,
            [(0, WaitReason::BelowMinimum), (3, WaitReason::Limit)]
        );
        assert_eq!(s.waiting[1].2, "beyond --max");
        let s = select(&runnable, &options(None, 1), &budget);
        assert_eq!(s.chosen, [1]);
        assert!(s.waiting[1].2.contains("one peg-out per transaction"));
        // A request the fee did not fit with is left out, and the next one is taken.
        let s = select(
            &runnable,
            &options(None, 500),
            &Budget {
                short: &[1],
                ..budget
            },
        );
        assert_eq!(s.chosen, [2, 3]);
    }

    #[test]
    fn a_pegout_request_with_an_undecided_earlier_tx_waits_and_the_next_is_chosen() {
        let runnable = [request(1, 2_000_000), request(2, 2_000_000)];
        let why = "earlier transaction T could still confirm".to_owned();
        let undecided = [(0usize, why.clone())];
        let budget = Budget {
            min_amount: 100_000,
            available: COIN,
            reserve: 0,
            short: &[],
            undecided: &undecided,
        };
        // It does not count towards --max either.
        let s = select(&runnable, &options(Some(1), 500), &budget);
        assert_eq!(s.chosen, [1]);
        assert_eq!(s.waiting, vec![(0, WaitReason::EarlierTx, why)]);
    }

    fn tx(spends: &[(Txid, u32)], lock: u32) -> Transaction {
        Transaction {
            version: 2,
            lock_time: elements::LockTime::from_consensus(lock),
            input: spends
                .iter()
                .map(|(t, v)| TxIn {
                    previous_output: OutPoint::new(*t, *v),
                    ..TxIn::default()
                })
                .collect(),
            output: Vec::new(),
        }
    }

    #[test]
    fn parents_come_before_their_children() {
        let coin = Txid::from_byte_array([7; 32]);
        let a = tx(&[(coin, 0)], 1);
        let b = tx(&[(a.txid(), 1)], 2);
        let c = tx(&[(b.txid(), 1), (coin, 1)], 3);
        let other = tx(&[(coin, 2)], 4);
        let given = vec![c.clone(), other.clone(), b.clone(), a.clone()];
        let ordered: Vec<Txid> = parents_first(given, |t| t)
            .iter()
            .map(|t| t.txid())
            .collect();
        assert_eq!(ordered, vec![other.txid(), a.txid(), b.txid(), c.txid()]);
        // Already in order: unchanged.
        let given = vec![a.clone(), b.clone(), c.clone()];
        let ordered: Vec<Txid> = parents_first(given, |t| t)
            .iter()
            .map(|t| t.txid())
            .collect();
        assert_eq!(ordered, vec![a.txid(), b.txid(), c.txid()]);
    }
}
