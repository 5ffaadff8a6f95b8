//! The ids an issuance creates: entropy, asset and token ids from an outpoint and a contract
//! hash, the contract hash of a JSON contract, and the new issuances a transaction carries.

use elements::{AssetEntropy, AssetId, ContractHash, OutPoint};

use super::tx_error;
use crate::Result;

/// The ids an issuance creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuanceIds {
    /// The asset entropy: `H(H(prevout) || contract hash)` (a merkle root of both).
    pub entropy: AssetEntropy,
    /// The asset id.
    pub asset: AssetId,
    /// The reissuance token id of an issuance with explicit amounts.
    pub token: AssetId,
}

/// The entropy, asset id and (explicit-issuance) token id of a new issuance spending
/// `outpoint` and committing to `contract_hash` (all zeros without a contract).
pub fn issuance_ids(outpoint: OutPoint, contract_hash: ContractHash) -> IssuanceIds {
    let entropy = AssetId::generate_asset_entropy(outpoint, contract_hash);
    ids_of_entropy(entropy)
}

pub(crate) fn ids_of_entropy(entropy: AssetEntropy) -> IssuanceIds {
    IssuanceIds {
        entropy,
        asset: AssetId::from_entropy(entropy),
        token: AssetId::reissuance_token_from_entropy(entropy, false),
    }
}

/// A new issuance (not a reissuance) carried by an input of a transaction, its ids
/// recomputed here from the input's outpoint and contract hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoundIssuance {
    /// The input carrying it.
    pub vin: u32,
    /// The coin that input spends.
    pub outpoint: OutPoint,
    /// The contract hash committed to, if not all zeros.
    pub contract_hash: Option<ContractHash>,
    /// The asset entropy.
    pub entropy: AssetEntropy,
    /// The asset id.
    pub asset: AssetId,
    /// The reissuance token id (which depends on whether the amount was blinded).
    pub token: AssetId,
    /// The amount issued, when explicit.
    pub amount: Option<u64>,
    /// The reissuance tokens issued, when explicit.
    pub token_amount: Option<u64>,
}

/// Every new issuance in `tx`. Reissuances are left out: they carry the entropy, not the
/// outpoint and contract hash it comes from.
pub fn new_issuances(tx: &elements::Transaction) -> Vec<FoundIssuance> {
    let mut out = Vec::new();
    for (vin, input) in tx.input.iter().enumerate() {
        let iss = &input.asset_issuance;
        if !input.has_issuance() || !iss.asset_blinding_nonce.is_null() {
            continue;
        }
        let Ok(vin) = u32::try_from(vin) else {
            break;
        };
        let contract = iss.asset_entropy.into_contract_hash();
        let ids = issuance_ids(input.previous_output, contract);
        let (asset, token) = input.issuance_ids();
        if asset != ids.asset {
            continue;
        }
        out.push(FoundIssuance {
            vin,
            outpoint: input.previous_output,
            contract_hash: (contract.to_byte_array() != [0; 32]).then_some(contract),
            entropy: ids.entropy,
            asset,
            token,
            amount: iss.amount.explicit(),
            token_amount: iss.inflation_keys.explicit(),
        });
    }
    out
}

/// The contract hash of a JSON contract as Elements computes it: SHA-256 of the JSON
/// serialized compactly with every object's keys sorted. The contract must be a JSON object.
pub fn contract_hash_from_json(text: &str) -> Result<ContractHash> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| tx_error(format!("the contract is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(tx_error("the contract must be a JSON object"));
    }
    ContractHash::from_json_contract(text)
        .map_err(|e| tx_error(format!("the contract is not a JSON object: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_hash_sorts_keys() {
        let a = contract_hash_from_json(r#"{"b":1,"a":{"y":2,"x":3}}"#).unwrap();
        let b = contract_hash_from_json(r#"{ "a": {"x":3, "y":2}, "b": 1 }"#).unwrap();
        assert_eq!(a, b);
        // sha256 of the sorted, compact serialization.
        use elements::hashes::sha256;
        let expected = sha256::Hash::hash(br#"{"a":{"x":3,"y":2},"b":1}"#);
        assert_eq!(a.to_byte_array(), expected.to_byte_array());
        assert!(matches!(
            contract_hash_from_json("[1,2]"),
            Err(crate::Error::Transaction(m)) if m == "the contract must be a JSON object"
        ));
        let e = contract_hash_from_json("{");
        assert!(
            matches!(&e, Err(crate::Error::Transaction(m)) if m.starts_with("the contract is not JSON: ")),
            "{e:?}"
        );
    }
}
