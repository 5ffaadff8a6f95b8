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
//! * the transaction is final at once: lock time 0, no input asking for a lock time, every
//!   input's sequence 0xffffffff or 0xfffffffe (no BIP68 relative lock time), so that no
//!   side holds a settlement that becomes valid only at a height or time the other chose;
//! * (maker) the counterparty's inputs are signed and finalized, and their signatures verify
//!   against the transaction as it stands: a transaction changed after the taker signed is
//!   refused before the maker signs.

use std::collections::{BTreeSet, HashSet};

use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, LockTime, OutPoint, TxOut};
use elements_miniscript::{Interpreter, TxEnv};

use super::envelope::{humanize, utc_text};
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

/// The sequences a deal's inputs may have: final (0xffffffff) or final but letting the lock
/// time apply (0xfffffffe, with lock time 0 the same thing). Neither enables a BIP68 relative
/// lock time.
pub const DEAL_SEQUENCES: [u32; 2] = [0xffff_ffff, 0xffff_fffe];

/// The transaction must be minable at once, as the maker builds it: lock time 0 (the PSET's
/// fallback lock time), no input requiring a lock time (`required_time_locktime`,
/// `required_height_locktime`), every input's sequence one of [`DEAL_SEQUENCES`] (a sequence
/// with bit 31 clear in a version 2 transaction is a relative lock time, BIP68). Otherwise
/// a side would sign a settlement that becomes valid only at a height or time the other
/// chose, and keep it.
pub fn check_final(pset: &PartiallySignedTransaction) -> Result<(), Refusal> {
    let refuse = |what: String| {
        Refusal::new("timelock", format!("{what}: a deal settles at once")).hint(
            "nothing was signed; the counterparty's transaction would only be valid later, \
             at a time it chose: ask for a fresh one without a lock time",
        )
    };
    let when = |lock: LockTime| match lock {
        LockTime::Blocks(h) => format!("block {h}"),
        LockTime::Seconds(t) => utc_text(u64::from(t.to_consensus_u32())),
    };
    for (i, input) in pset.inputs().iter().enumerate() {
        if let Some(h) = input.required_height_locktime {
            return Err(refuse(format!(
                "input {i} asks that the transaction not be mined before {}",
                when(LockTime::Blocks(h))
            )));
        }
        if let Some(t) = input.required_time_locktime {
            return Err(refuse(format!(
                "input {i} asks that the transaction not be mined before {}",
                when(LockTime::Seconds(t))
            )));
        }
    }
    let lock = pset
        .locktime()
        .map_err(|e| Refusal::new("malformed_offer", format!("no lock time: {e}")))?;
    if lock.to_consensus_u32() != 0 {
        return Err(refuse(format!(
            "the transaction cannot be mined before {}",
            when(lock)
        )));
    }
    let version = pset.global.tx_data.version;
    for (i, input) in pset.inputs().iter().enumerate() {
        let sequence = input.sequence.map_or(u32::MAX, |s| s.to_consensus_u32());
        if DEAL_SEQUENCES.contains(&sequence) {
            continue;
        }
        let relative = sequence & (1 << 31) == 0 && version >= 2;
        let why = if !relative {
            format!(
                "input {i} has sequence 0x{sequence:08x}; a deal's inputs have 0xffffffff or \
                 0xfffffffe"
            )
        } else if sequence & (1 << 22) != 0 {
            format!(
                "input {i} cannot be spent until {} after its coin was mined (sequence \
                 0x{sequence:08x}, a relative lock time)",
                humanize(u64::from(sequence & 0xffff) * 512)
            )
        } else {
            format!(
                "input {i} cannot be spent until {} block(s) after its coin was mined \
                 (sequence 0x{sequence:08x}, a relative lock time)",
                sequence & 0xffff
            )
        };
        return Err(refuse(why));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use elements::pset::Input;
    use elements::{Sequence, Txid};
    use std::str::FromStr;

    fn pset(sequences: &[Option<u32>]) -> PartiallySignedTransaction {
        let mut pset = PartiallySignedTransaction::new_v2();
        for (i, s) in sequences.iter().enumerate() {
            let mut input = Input::from_prevout(OutPoint::new(
                Txid::from_str(&"11".repeat(32)).unwrap(),
                i as u32,
            ));
            input.sequence = s.map(Sequence);
            pset.add_input(input);
        }
        pset
    }

    #[test]
    fn only_a_transaction_final_at_once_passes() {
        assert!(check_final(&pset(&[None, Some(0xffff_ffff), Some(0xffff_fffe)])).is_ok());
        let reason = |p: &PartiallySignedTransaction| {
            let r = check_final(p).unwrap_err();
            assert_eq!(r.code, "timelock");
            r.reason
        };
        let mut late = pset(&[None]);
        late.global.tx_data.fallback_locktime = Some(LockTime::from_consensus(1_000));
        assert_eq!(
            reason(&late),
            "the transaction cannot be mined before block 1000: a deal settles at once"
        );
        let mut required = pset(&[None, None]);
        required.inputs_mut()[1].required_time_locktime =
            Some(elements::locktime::Time::from_consensus(4_102_444_800).unwrap());
        assert_eq!(
            reason(&required),
            "input 1 asks that the transaction not be mined before 2100-01-01 00:00:00 UTC: a \
             deal settles at once"
        );
        assert!(reason(&pset(&[None, Some(0x0000_ffff)]))
            .starts_with("input 1 cannot be spent until 65535 block(s) after its coin"));
        assert!(reason(&pset(&[Some(0x0040_0001)]))
            .starts_with("input 0 cannot be spent until 8m 32s after its coin"));
        assert!(reason(&pset(&[Some(0)])).starts_with("input 0 cannot be spent until 0 block(s)"));
        assert!(reason(&pset(&[Some(0xffff_fffd)])).starts_with("input 0 has sequence 0xfffffffd"));
    }
}
