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

mod fate;
mod resume;
mod selection;

use fate::pins;
pub use fate::FINAL_DEPTH;
pub use resume::{abandon, resume, ResumeAction, Resumed};
use selection::{select, Budget};

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
