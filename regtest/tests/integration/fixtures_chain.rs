//! The chain against recorded elementsd/electrs ground truth: genesis, headers, coinbase
//! commitment, merkle proofs, and the validator on real elementsd/lwk transactions.

use crate::common::*;

use regtest::elements::{self, encode::deserialize, BlockHeader, OutPoint, Transaction, TxOut};
use regtest::{genesis, hexutil, merkle, miner, validate};

fn read_hex(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let s = std::fs::read_to_string(dir.join(rel)).unwrap();
    hexutil::decode(s.trim()).unwrap()
}

/// Hex body of an esplora fixture (`/tx/:txid/hex` or `/raw`).
fn body_hex(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    let v = fixture_json(dir, rel);
    hexutil::decode(v["body"].as_str().unwrap()).unwrap()
}

fn tx_fixture(dir: &std::path::Path, name: &str) -> Transaction {
    deserialize(&body_hex(dir, &format!("esplora/{name}_hex.json"))).unwrap()
}

#[test]
fn genesis_matches_elementsd() {
    let Some(dir) = fixtures() else { return };
    let g = genesis::genesis_block();
    assert_eq!(
        elements::encode::serialize(&g),
        read_hex(&dir, "elementsd/getblock_genesis_verbosity0.hex")
    );
    let want = std::fs::read_to_string(dir.join("elementsd/getblockhash_0.txt")).unwrap();
    assert_eq!(g.block_hash().to_string(), want.trim());
    assert_eq!(
        elements::encode::serialize(&g.header),
        read_hex(&dir, "elementsd/getblockheader_0_raw.hex")
    );
    assert_eq!(
        genesis::policy_asset().to_string(),
        "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225"
    );
}

#[test]
fn dynafed_headers_match_elementsd() {
    let Some(dir) = fixtures() else { return };
    let raw1 = read_hex(&dir, "elementsd/getblockheader_1_raw.hex");
    let h1: BlockHeader = deserialize(&raw1).unwrap();
    assert_eq!(h1.ext, genesis::ext_data(1));
    assert_eq!(
        h1.block_hash().to_string(),
        "3c25d0505e3ebdea8f723ee4321e27553468a915c88e8374b2ba11ebb1fce9cd"
    );
    // Rebuild the same header from its parts: identical bytes.
    let rebuilt = BlockHeader {
        ext: genesis::ext_data(1),
        ..h1.clone()
    };
    assert_eq!(elements::encode::serialize(&rebuilt), raw1);
    assert_eq!(raw1.len(), 214);
    let tip: BlockHeader =
        deserialize(&read_hex(&dir, "elementsd/getblockheader_tip_raw.hex")).unwrap();
    assert_eq!(tip.height, 111);
    assert_eq!(tip.ext, genesis::ext_data(111));
    assert_eq!(elements::encode::serialize(&tip).len(), 152);
    assert_eq!(tip.version, 0x2000_0000);
    // Height 110 starts an epoch: full parameters.
    let near = fixture_json(
        &dir,
        "electrum/blockchain.block.headers_near_tip_overrun.json",
    );
    let hex = hexutil::decode(near["response"]["result"]["hex"].as_str().unwrap()).unwrap();
    let (h110, used): (BlockHeader, usize) = elements::encode::deserialize_partial(&hex).unwrap();
    assert_eq!(h110.height, 110);
    assert_eq!(used, 214);
    assert_eq!(h110.ext, genesis::ext_data(110));
}

#[test]
fn coinbase_commitment_and_merkle_match_block_102() {
    let Some(dir) = fixtures() else { return };
    let block: elements::Block =
        deserialize(&body_hex(&dir, "esplora/block_h102_raw.json")).unwrap();
    let cb = &block.txdata[0];
    let fees = cb.output[0].value.explicit().unwrap();
    let ours = miner::coinbase(102, fees, &block.txdata[1..], 0);
    assert_eq!(
        ours.input[0].script_sig, cb.input[0].script_sig,
        "BIP34 height push"
    );
    assert_eq!(ours.output[1], cb.output[1], "witness commitment");
    assert_eq!(ours.input[0].witness, cb.input[0].witness);
    let leaves: Vec<[u8; 32]> = block
        .txdata
        .iter()
        .map(|t| t.txid().to_byte_array())
        .collect();
    assert_eq!(
        merkle::merkle_root(&leaves),
        block.header.merkle_root.to_byte_array()
    );
    assert_eq!(block.header.ext, genesis::ext_data(102));
    // Esplora merkle proof of tx 2.
    let proof =
        fixture_json(&dir, "esplora/tx_pay_lbtc_conf_addr0_merkle-proof.json")["body"].clone();
    let branch: Vec<String> = merkle::merkle_branch(&leaves, 2)
        .into_iter()
        .map(|h| elements::Txid::from_byte_array(h).to_string())
        .collect();
    assert_eq!(serde_json::json!(branch), proof["merkle"]);
}

fn spent_outputs(prev: &[&Transaction], tx: &Transaction) -> Vec<TxOut> {
    tx.input
        .iter()
        .map(|i| {
            let p = prev
                .iter()
                .find(|p| p.txid() == i.previous_output.txid)
                .expect("prevout known");
            p.output[i.previous_output.vout as usize].clone()
        })
        .collect()
}

#[test]
fn validator_accepts_real_elementsd_and_lwk_transactions() {
    let Some(dir) = fixtures() else { return };
    let secp = secp();
    let policy = genesis::policy_asset();
    let g = genesis::genesis_block();
    let issuance = tx_fixture(&dir, "tx_issuance");
    let pay0 = tx_fixture(&dir, "tx_pay_lbtc_conf_addr0");
    let pay1 = tx_fixture(&dir, "tx_pay_asset_conf_addr1");
    let pay2 = tx_fixture(&dir, "tx_pay_lbtc_explicit_addr2");
    let pay3 = tx_fixture(&dir, "tx_pay_lbtc_conf_addr3_now_confirmed");
    let lwk = tx_fixture(&dir, "tx_lwk_spend");
    let all = [&g.txdata[1], &issuance, &pay0, &pay1, &pay2, &pay3, &lwk];
    for tx in [&issuance, &pay0, &pay1, &pay2, &pay3, &lwk] {
        let spent = spent_outputs(&all, tx);
        let r = validate::check_with_spent(&secp, tx, &spent, policy);
        assert!(r.is_ok(), "{}: {:?}", tx.txid(), r);
    }
    // Blinded issuance: asset id as elementsd reported.
    assert_eq!(
        issuance.input[0].issuance_ids().0.to_string(),
        "2dcf5a8834645654911964ec3602426fd3b9b4017554d3f9c19403e7fc1411d3"
    );
    // Tampering with any of them is refused.
    let spent = spent_outputs(&all, &lwk);
    let mut t = lwk.clone();
    let mut w = t.input[0].witness.script_witness.to_vec();
    w[0][10] ^= 1;
    t.input[0].witness.script_witness = elements::Witness::from_slice(&w);
    let e = validate::check_with_spent(&secp, &t, &spent, policy).unwrap_err();
    assert_eq!(
        (e.code, e.reason.as_str()),
        (
            -26,
            "mempool-script-verify-flag-failed (Signature must be zero for failed \
             CHECK(MULTI)SIG operation)"
        )
    );
    let mut t = lwk.clone();
    t.output.swap(0, 1);
    let e = validate::check_with_spent(&secp, &t, &spent, policy).unwrap_err();
    // The signature commits to the outputs in order, and scripts are checked before the
    // proofs (whose commitments still balance after a swap): the signature is what fails.
    assert_eq!(
        (e.code, e.reason.as_str()),
        (
            -26,
            "mempool-script-verify-flag-failed (Signature must be zero for failed \
             CHECK(MULTI)SIG operation)"
        )
    );
    let mut t = lwk.clone();
    let fee_ix = t.output.iter().position(|o| o.is_fee()).unwrap();
    t.output[fee_ix].value = elements::confidential::Value::Explicit(34);
    let e = validate::check_with_spent(&secp, &t, &spent, policy).unwrap_err();
    assert_eq!(e.reason, "bad-txns-in-ne-out (value in != value out)");
    let _ = OutPoint::default();
}

#[test]
fn witness_only_hash_matches_elementsd_withash() {
    let Some(dir) = fixtures() else { return };
    let v = fixture_json(&dir, "elementsd/getblock_genesis_verbosity2.json");
    let g = genesis::genesis_block();
    for (i, tx) in g.txdata.iter().enumerate() {
        let mut h = miner::witness_only_hash(tx);
        h.reverse();
        assert_eq!(hexutil::encode(&h), v["tx"][i]["withash"].as_str().unwrap());
    }
}

#[test]
fn rbf_refusal_names_the_replacement() {
    let Some(dir) = fixtures() else { return };
    let v = fixture_json(
        &dir,
        "esplora/phaseB-error_post_tx_double_spend_rbf_same_fee.json",
    );
    let tx: Transaction =
        deserialize(&hexutil::decode(v["request_body"].as_str().unwrap()).unwrap()).unwrap();
    let body = v["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("rejecting replacement {};", tx.txid())),
        "{body}"
    );
}
