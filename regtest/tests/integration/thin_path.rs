//! The thinnest path end to end: genesis -> mine -> faucet to P2WPKH -> Esplora shows it ->
//! a signed spend is accepted, a bad signature is rejected.

use crate::common::*;

use regtest::elements::{confidential::Value, OutPoint, Txid};
use regtest::{Sandbox, SandboxConfig};
use std::str::FromStr;

#[test]
fn faucet_then_signed_spend() {
    // Error texts as Blockstream's electrs words them (the recorded fixtures).
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        esplora_flavour: regtest::EsploraFlavour::Blockstream,
        ..Default::default()
    })
    .unwrap();
    let url = sb.esplora_url();
    assert_eq!(
        sb.genesis_hash().to_string(),
        "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21"
    );
    sb.mine(1).unwrap();
    assert_eq!(get(&url, "/blocks/tip/height"), (200, "1".to_string()));

    let addr = p2wpkh(1, false);
    let txid = sb.faucet(&addr, 100_000_000, None).unwrap();
    let sh = esplora_sh(&addr);
    let txs = get_json(&url, &format!("/scripthash/{sh}/txs"));
    assert_eq!(txs[0]["txid"], txid.to_string());
    assert_eq!(txs[0]["status"]["confirmed"], false);
    sb.mine(1).unwrap();
    let txs = get_json(&url, &format!("/scripthash/{sh}/txs"));
    assert_eq!(txs[0]["status"]["confirmed"], true);
    assert_eq!(txs[0]["status"]["block_height"], 2);

    // Spend it: 0.4 to address 2, change to address 1, fee.
    let policy = sb.policy_asset();
    let faucet_tx = sb.get_tx(&txid).unwrap();
    let vout = faucet_tx
        .output
        .iter()
        .position(|o| o.script_pubkey == addr.script_pubkey())
        .unwrap() as u32;
    let fee = 300;
    let mut tx = new_tx(
        vec![OutPoint::new(txid, vout)],
        vec![
            explicit_out(policy, 40_000_000, p2wpkh(2, false).script_pubkey()),
            explicit_out(policy, 60_000_000 - fee, addr.script_pubkey()),
            regtest::elements::TxOut::new_fee(fee, policy),
        ],
    );
    // Signed by the wrong key: refused.
    let mut bad = tx.clone();
    sign_p2wpkh(&mut bad, 0, 2, Value::Explicit(100_000_000));
    let (st, body) = post(&url, "/tx", &tx_hex(&bad));
    assert_eq!(st, 400);
    assert!(
        body.starts_with("sendrawtransaction RPC error -26: mempool-script-verify-flag-failed"),
        "{body}"
    );
    // Right key, wrong amount in the sighash: refused.
    let mut bad = tx.clone();
    sign_p2wpkh(&mut bad, 0, 1, Value::Explicit(100_000_001));
    let (st, body) = post(&url, "/tx", &tx_hex(&bad));
    assert_eq!(st, 400, "{body}");
    // Good.
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(100_000_000));
    let (st, body) = post(&url, "/tx", &tx_hex(&tx));
    assert_eq!((st, body.as_str()), (200, tx.txid().to_string().as_str()));
    assert_eq!(Txid::from_str(&body).unwrap(), tx.txid());
    // Rebroadcast of a mempool tx: 200 and its txid.
    assert_eq!(
        post(&url, "/tx", &tx_hex(&tx)),
        (200, tx.txid().to_string())
    );
    sb.mine(1).unwrap();
    // Rebroadcast of a confirmed tx.
    assert_eq!(
        post(&url, "/tx", &tx_hex(&tx)),
        (
            400,
            "sendrawtransaction RPC error -27: Transaction already in block chain".to_string()
        )
    );
    let utxo = get_json(
        &url,
        &format!("/scripthash/{}/utxo", esplora_sh(&p2wpkh(2, false))),
    );
    assert_eq!(utxo[0]["value"], 40_000_000);
    sb.shutdown();
}
