//! The checks both sides run on the whole transaction before signing it, through the
//! wallet's own view of the PSET ([`crate::pset::view`], then [`crate::pset::approve`] for
//! what may be signed):
//!
//! * this wallet's inputs, found by outpoint in its store (whoever put them there), are
//!   exactly the coins it put in the deal;
//! * its net effect per asset is exactly what the terms say (the fee counted on the side that
//!   pays it), nothing else moves;
//! * every output to its scripts unblinded with its keys (the view refuses one that does not)
//!   and is confidential;
//! * one explicit fee output in L-BTC, within the floor and the cap;
//! * (maker) the counterparty's inputs are signed and finalized, and their signatures verify
//!   against the transaction as it stands: a transaction changed after the taker signed is
//!   refused before the maker signs.

use std::collections::{BTreeSet, HashSet};

use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, OutPoint, TxOut};
use elements_miniscript::{Interpreter, TxEnv};

use super::fee::{check_fee, final_vsize};
use super::terms::compare_net;
use super::{Refusal, Terms};
use crate::network::Network;
use crate::pset::{outpoint_text, Owner, PsetView};
use crate::store::DealRole;

fn secp() -> &'static elements::secp256k1_zkp::Secp256k1<elements::secp256k1_zkp::All> {
    static SECP: std::sync::OnceLock<
        elements::secp256k1_zkp::Secp256k1<elements::secp256k1_zkp::All>,
    > = std::sync::OnceLock::new();
    SECP.get_or_init(elements::secp256k1_zkp::Secp256k1::new)
}

/// The view's problems as one refusal (the view found something it cannot account for).
pub fn check_problems(view: &PsetView) -> Result<(), Refusal> {
    if view.problems.is_empty() {
        return Ok(());
    }
    let text: Vec<String> = view.problems.iter().map(ToString::to_string).collect();
    let code = if view
        .problems
        .iter()
        .any(|p| p.reason.contains("signature hash"))
    {
        "sighash"
    } else if view
        .problems
        .iter()
        .any(|p| p.reason.contains("does not unblind"))
    {
        "unreadable_own_output"
    } else {
        "pset_problem"
    };
    Err(Refusal::new(code, text.join("; "))
        .hint("nothing was signed; the counterparty's transaction is broken or tampered with"))
}

/// This wallet's inputs in the view must be exactly `coins` (the ones it put in the deal).
pub fn check_own_inputs(view: &PsetView, coins: &[OutPoint]) -> Result<(), Refusal> {
    let found: BTreeSet<OutPoint> = view
        .inputs
        .iter()
        .filter(|i| matches!(i.owner, Owner::Wallet(..)))
        .map(|i| i.outpoint)
        .collect();
    let expected: BTreeSet<OutPoint> = coins.iter().copied().collect();
    let extra: Vec<String> = found.difference(&expected).map(outpoint_text).collect();
    if !extra.is_empty() {
        return Err(Refusal::new(
            "extra_own_input",
            format!(
                "the transaction also spends this wallet's coin(s) {}, which it did not put in \
                 the deal",
                extra.join(", ")
            ),
        )
        .hint("nothing was signed; the counterparty added coins of yours: do not trade on this envelope"));
    }
    let missing: Vec<String> = expected.difference(&found).map(outpoint_text).collect();
    if !missing.is_empty() {
        return Err(Refusal::new(
            "missing_own_input",
            format!(
                "the transaction no longer spends this wallet's coin(s) {} of the deal",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// This wallet's net effect must be what the terms say for `role`, with the transaction's
/// `fee` on the side that pays it.
pub fn check_net(
    view: &PsetView,
    terms: &Terms,
    role: DealRole,
    policy: AssetId,
) -> Result<(), Refusal> {
    let expected = terms.net_for(role, policy, view.fee)?;
    match compare_net(&view.net, &expected, terms, role, policy, view.fee) {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// Every output to this wallet is confidential (its amounts are nobody else's business), and
/// the transaction has one fee output.
pub fn check_outputs(view: &PsetView, pset: &PartiallySignedTransaction) -> Result<(), Refusal> {
    for (i, output) in view.outputs.iter().enumerate() {
        if let Owner::Wallet(..) = output.owner {
            let txout = pset.outputs()[i].to_txout();
            if !txout.value.is_confidential() || !txout.asset.is_confidential() {
                return Err(Refusal::new(
                    "unblinded_own_output",
                    format!(
                        "output {i} pays this wallet with its amount and asset in the clear; a \
                         deal's outputs are confidential"
                    ),
                ));
            }
        }
    }
    let fees = view
        .outputs
        .iter()
        .filter(|o| o.owner == Owner::Fee)
        .count();
    if fees != 1 {
        return Err(Refusal::new(
            "malformed_offer",
            format!("the transaction has {fees} fee outputs; a deal has one"),
        ));
    }
    Ok(())
}

/// The fee: fixed by the terms when the maker pays it, and within the floor and the cap on
/// the transaction's size (the inputs not yet signed counted with `pending_satisfaction`).
pub fn check_fee_of(
    view: &PsetView,
    pset: &PartiallySignedTransaction,
    terms: &Terms,
    pending_satisfaction: u64,
) -> Result<(), Refusal> {
    if let (DealRole::Maker, Some(fixed)) = (terms.fee_payer, terms.fee) {
        if view.fee != fixed {
            return Err(Refusal::new(
                "fee_mismatch",
                format!(
                    "the fee is {} sat; the terms fix it at {fixed} sat, paid by the maker",
                    view.fee
                ),
            ));
        }
    }
    let tx = pset
        .extract_tx()
        .map_err(|e| Refusal::new("malformed_offer", format!("no transaction: {e}")))?;
    check_fee(view.fee, final_vsize(&tx, pending_satisfaction))
}

/// Every input not in `own` must be finalized, and its witness must satisfy the coin it
/// spends with signatures valid for the transaction as it stands. Refused otherwise: the
/// transaction changed after the other side signed (or it never signed).
pub fn check_counterparty_signatures(
    pset: &PartiallySignedTransaction,
    own: &HashSet<usize>,
    network: Network,
) -> Result<(), Refusal> {
    let tx = pset
        .extract_tx()
        .map_err(|e| Refusal::new("malformed_offer", format!("no transaction: {e}")))?;
    let spent: Vec<TxOut> = pset
        .inputs()
        .iter()
        .enumerate()
        .map(|(i, input)| {
            input.witness_utxo.clone().ok_or_else(|| {
                Refusal::new(
                    "malformed_offer",
                    format!("input {i} does not carry the coin it spends"),
                )
            })
        })
        .collect::<Result<_, _>>()?;
    let genesis = network
        .genesis_hash()
        .unwrap_or_else(|| elements::BlockHash::from_byte_array([0; 32]));
    let changed = |i: usize, why: String| {
        Refusal::new(
            "bad_signature",
            format!("the counterparty's input {i} {why}"),
        )
        .hint(
            "nothing was signed: the transaction was changed after the taker signed it, or the \
             taker never signed; ask for a fresh acceptance",
        )
    };
    for (i, input) in pset.inputs().iter().enumerate() {
        if own.contains(&i) {
            continue;
        }
        let witness = match &input.final_script_witness {
            Some(w) if !w.is_empty() => w.to_vec(),
            _ => return Err(changed(i, "is not signed".to_owned())),
        };
        let empty = elements::Script::new();
        let script_sig = input.final_script_sig.as_ref().unwrap_or(&empty);
        let sequence = tx.input[i].sequence;
        let interpreter = Interpreter::from_txdata(
            &spent[i].script_pubkey,
            script_sig,
            &witness,
            sequence,
            tx.lock_time,
        )
        .map_err(|e| changed(i, format!("has a witness that does not fit its coin ({e})")))?;
        let env =
            TxEnv::new(&tx, &spent, i).ok_or_else(|| changed(i, "cannot be checked".to_owned()))?;
        let mut satisfied = false;
        for step in interpreter.iter(secp(), &env, genesis) {
            if let Err(e) = step {
                return Err(changed(
                    i,
                    format!("has a signature that does not verify ({e})"),
                ));
            }
            satisfied = true;
        }
        if !satisfied {
            return Err(changed(i, "satisfies nothing".to_owned()));
        }
    }
    Ok(())
}
