//! Issuance ids computed by wallet-core against the public ELIP-203 vectors.

use std::str::FromStr;

use elements::AssetEntropy;
use wallet_core::tx::issuance_ids;

#[test]
fn ids_of_elip203_vector_2() {
    // ELIP-203 test vector 2: an explicit issuance on its only input.
    let Some(doc) = crate::common::vectors("elip203.json") else {
        return;
    };
    let hex = doc["vectors"][1]["tx_hex"].as_str().unwrap();
    let bytes = elements::hex::decode_to_vec(hex).unwrap();
    let tx: elements::Transaction = elements::encode::deserialize(&bytes).unwrap();
    let input = &tx.input[0];
    let ids = issuance_ids(
        input.previous_output,
        input.asset_issuance.asset_entropy.into_contract_hash(),
    );
    let (asset, token) = input.issuance_ids();
    assert_eq!(ids.asset, asset);
    assert_eq!(ids.token, token);
    assert_eq!(
        AssetEntropy::from_str(&ids.entropy.to_string()).unwrap(),
        ids.entropy
    );
}
