//! The fee of the shared transaction.
//!
//! * The taker pays: the taker sizes the whole transaction when it builds it (the maker's
//!   inputs with the witness weight the maker declared) at its fee rate, never below the
//!   floor.
//! * The maker pays: the fee is part of the terms, fixed when the offer is made (the maker
//!   cannot change its outputs once the taker has built the transaction). The maker sizes
//!   its own part plus an allowance for the taker's: [`TAKER_ALLOWANCE_INPUTS`] inputs and
//!   [`TAKER_ALLOWANCE_OUTPUTS`] outputs. The taker refuses when its part makes the fee fall
//!   below the floor, and says so.
//!
//! Both sides refuse a fee below the floor (0.1 sat per discounted vbyte, ELIP-200) or above
//! the cap ([`MAX_FEE_RATE`] on the transaction's size), whoever pays it.

use elements::{confidential, AssetId, OutPoint, Script, Transaction, TxIn, TxOut, TxOutWitness};

use super::Refusal;
use crate::tx::{vsize_of_weight, FeeRate};

/// The most a deal's fee may be, per discounted vbyte of its transaction: 10 sat/vB, 100
/// times the floor (Liquid's fees sit at the floor).
pub const MAX_FEE_RATE: FeeRate = FeeRate::from_msat_per_vb(10_000);

/// Inputs of the taker that a maker-paid fee covers.
pub const TAKER_ALLOWANCE_INPUTS: usize = 3;
/// Outputs of the taker that a maker-paid fee covers (what it receives and its change).
pub const TAKER_ALLOWANCE_OUTPUTS: usize = 3;
/// Witness weight assumed for an input of the taker in the allowance (a P2SH-wrapped P2WPKH
/// needs about 200; a plain P2WPKH 108).
pub const ALLOWANCE_SATISFACTION: u64 = 300;

/// An input of the shared transaction, for sizing: its outpoint and the largest witness it
/// will carry.
#[derive(Clone, Copy, Debug)]
pub struct SizedInput {
    /// The coin.
    pub outpoint: OutPoint,
    /// The largest witness weight it adds when signed.
    pub satisfaction_weight: u64,
}

/// An upper bound of the discounted weight (ELIP-200) of a transaction with these inputs and
/// outputs once blinded and signed: the explicit skeleton (whose values, assets and nonces
/// weigh what their blinded forms are discounted to), each input's witness plus the three
/// empty witness fields Elements serializes, two proof fields per output.
pub fn estimate_weight(inputs: &[SizedInput], outputs: &[(Script, AssetId, u64)]) -> u64 {
    let skeleton = Transaction {
        version: 2,
        lock_time: elements::LockTime::ZERO,
        input: inputs
            .iter()
            .map(|i| TxIn {
                previous_output: i.outpoint,
                ..Default::default()
            })
            .collect(),
        output: outputs
            .iter()
            .map(|(script, asset, value)| TxOut {
                asset: confidential::Asset::Explicit(*asset),
                value: confidential::Value::Explicit(*value),
                nonce: confidential::Nonce::Null,
                script_pubkey: script.clone(),
                witness: TxOutWitness::default(),
            })
            .collect(),
    };
    let mut weight = skeleton.weight() as u64;
    for i in inputs {
        weight = weight.saturating_add(i.satisfaction_weight.saturating_add(3));
    }
    weight.saturating_add(2 * outputs.len() as u64)
}

/// The allowance for the taker's part: placeholder inputs and outputs (a 34-byte script,
/// the longest standard one) added to the maker's when it fixes the fee.
pub fn taker_allowance(
    inputs: usize,
    outputs: usize,
    asset: AssetId,
) -> (Vec<SizedInput>, Vec<(Script, AssetId, u64)>) {
    let ins = (0..inputs)
        .map(|n| SizedInput {
            outpoint: OutPoint::new(elements::Txid::from_byte_array([0; 32]), n as u32),
            satisfaction_weight: ALLOWANCE_SATISFACTION,
        })
        .collect();
    let outs = (0..outputs)
        .map(|_| (Script::from(vec![0u8; 34]), asset, 1))
        .collect();
    (ins, outs)
}

/// Checks `fee` against the floor and the cap for a transaction of `vsize` discounted
/// vbytes.
pub fn check_fee(fee: u64, vsize: u64) -> Result<(), Refusal> {
    let floor = FeeRate::MIN
        .fee_for_vsize(vsize)
        .map_err(|_| Refusal::new("amount_overflow", "the fee overflows"))?;
    let cap = MAX_FEE_RATE
        .fee_for_vsize(vsize)
        .map_err(|_| Refusal::new("amount_overflow", "the fee overflows"))?;
    if fee < floor {
        return Err(Refusal::new(
            "fee_too_low",
            format!(
                "the fee of {fee} sat is below the network's minimum of {floor} sat for this \
                 {vsize}-vbyte transaction (at {})",
                FeeRate::MIN
            ),
        ));
    }
    if fee > cap {
        return Err(Refusal::new(
            "fee_too_high",
            format!(
                "the fee of {fee} sat is above the cap of {cap} sat for this {vsize}-vbyte \
                 transaction ({MAX_FEE_RATE})"
            ),
        )
        .hint("nothing was signed; a deal's fee is at most 10 sat per discounted vbyte"));
    }
    Ok(())
}

/// The discounted vsize of `tx` once the inputs not yet signed get witnesses of at most
/// `pending_satisfaction` weight in all.
pub fn final_vsize(tx: &Transaction, pending_satisfaction: u64) -> u64 {
    vsize_of_weight((tx.discount_weight() as u64).saturating_add(pending_satisfaction))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_floor_and_the_cap() {
        check_fee(100, 1_000).unwrap();
        let low = check_fee(99, 1_000).unwrap_err();
        assert_eq!(low.code, "fee_too_low");
        assert_eq!(
            low.reason,
            "the fee of 99 sat is below the network's minimum of 100 sat for this 1000-vbyte \
             transaction (at 0.1 sat/vB)"
        );
        check_fee(10_000, 1_000).unwrap();
        let high = check_fee(10_001, 1_000).unwrap_err();
        assert_eq!(high.code, "fee_too_high");
        assert_eq!(
            high.reason,
            "the fee of 10001 sat is above the cap of 10000 sat for this 1000-vbyte transaction \
             (10.0 sat/vB)"
        );
    }

    #[test]
    fn the_estimate_grows_with_the_parts() {
        let asset = crate::network::Network::Regtest.default_policy_asset();
        let (ins, outs) = taker_allowance(1, 1, asset);
        let small = estimate_weight(&ins, &outs);
        let (ins, outs) = taker_allowance(3, 3, asset);
        assert!(estimate_weight(&ins, &outs) > 2 * small);
    }
}
