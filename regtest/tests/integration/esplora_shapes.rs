//! Esplora JSON shapes, error texts and status codes compared with recorded electrs answers.

use crate::common::*;

use regtest::chain::Chain;
use regtest::elements::{self, encode::deserialize, Transaction};
use regtest::json::{BlockJson, TxJson, UtxoJson};
use regtest::{hexutil, Sandbox, SandboxConfig};
use serde_json::Value;

/// Keys of every object in document order (a tiny JSON tokenizer: a string followed by ':').
fn key_order(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut keys = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'"' {
            let start = i + 1;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            let s = &text[start..i.min(text.len())];
            let mut j = i + 1;
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            if j < b.len() && b[j] == b':' {
                keys.push(s.to_string());
            }
        }
        i += 1;
    }
    keys
}

/// The raw text of the `body` of a fixture file (order preserved).
fn body_text(dir: &std::path::Path, rel: &str) -> String {
    let raw = std::fs::read_to_string(dir.join(rel)).unwrap();
    let start = raw.find("\"body\": ").expect("body") + 8;
    let b = raw.as_bytes();
    let (mut depth, mut i, mut in_str) = (0i32, start, false);
    while i < b.len() {
        let c = b[i];
        if in_str {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                in_str = false;
            }
        } else if c == b'"' {
            in_str = true;
        } else if c == b'{' || c == b'[' {
            depth += 1;
        } else if c == b'}' || c == b']' {
            depth -= 1;
            if depth == 0 {
                return raw[start..=i].to_string();
            }
        }
        i += 1;
    }
    raw[start..].to_string()
}

fn strip_status(keys: Vec<String>) -> Vec<String> {
    let drop = [
        "status",
        "confirmed",
        "block_height",
        "block_hash",
        "block_time",
    ];
    keys.into_iter()
        .filter(|k| !drop.contains(&k.as_str()))
        .collect()
}

fn tx_hex(dir: &std::path::Path, name: &str) -> Transaction {
    let v = fixture_json(dir, &format!("esplora/{name}_hex.json"));
    deserialize(&hexutil::decode(v["body"].as_str().unwrap()).unwrap()).unwrap()
}

fn without_status(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    v
}

#[test]
fn tx_json_matches_electrs() {
    let Some(dir) = fixtures() else { return };
    let mut chain = Chain::new();
    let names = [
        "tx_issuance",
        "tx_pay_lbtc_conf_addr0",
        "tx_pay_asset_conf_addr1",
        "tx_pay_lbtc_explicit_addr2",
        "tx_pay_lbtc_conf_addr3_now_confirmed",
        "tx_lwk_spend",
    ];
    for name in names {
        let tx = tx_hex(&dir, name);
        let fee = tx.fee_in(chain.policy_asset);
        chain.add_to_mempool(tx, fee);
    }
    for name in names {
        let tx = tx_hex(&dir, name);
        let ours = TxJson::new(&chain, &tx, None);
        let want = fixture_json(&dir, &format!("esplora/{name}.json"))["body"].clone();
        let got = serde_json::to_value(&ours).unwrap();
        assert_eq!(without_status(got), without_status(want), "{name}");
        let ours_text = serde_json::to_string(&ours).unwrap();
        assert_eq!(
            strip_status(key_order(&ours_text)),
            strip_status(key_order(&body_text(&dir, &format!("esplora/{name}.json")))),
            "{name}: key order"
        );
    }
    // Genesis txs: the coinbase and the free coins.
    let g = regtest::genesis::genesis_block();
    let want = fixture_json(&dir, "esplora/tx_genesis_0.json")["body"].clone();
    assert_eq!(
        without_status(serde_json::to_value(TxJson::new(&chain, &g.txdata[0], Some(0))).unwrap()),
        without_status(want)
    );
    // Explicit and confidential utxo entries.
    let pay2 = tx_hex(&dir, "tx_pay_lbtc_explicit_addr2");
    let op = elements::OutPoint::new(pay2.txid(), 0);
    let ours = serde_json::to_value(UtxoJson::new(&chain, &op, &pay2.output[0], None)).unwrap();
    let want = fixture_json(&dir, "esplora/scripthash_external2_utxo.json")["body"][0].clone();
    assert_eq!(without_status(ours), without_status(want));
}

#[test]
fn block_json_matches_electrs() {
    let Some(dir) = fixtures() else { return };
    let v = fixture_json(&dir, "esplora/block_h102_raw.json");
    let block: elements::Block =
        deserialize(&hexutil::decode(v["body"].as_str().unwrap()).unwrap()).unwrap();
    let mut chain = Chain::new();
    chain.connect_block(block);
    let mut ours = serde_json::to_value(BlockJson::new(&chain, 1, true).unwrap()).unwrap();
    let mut want = fixture_json(&dir, "esplora/block_h102.json")["body"].clone();
    for k in ["height", "mediantime", "previousblockhash"] {
        ours.as_object_mut().unwrap().remove(k);
        want.as_object_mut().unwrap().remove(k);
    }
    assert_eq!(ours, want);
    let ours_text = serde_json::to_string(&BlockJson::new(&chain, 1, true).unwrap()).unwrap();
    assert_eq!(
        key_order(&ours_text),
        key_order(&body_text(&dir, "esplora/block_h102.json"))
    );
    // Genesis block JSON, identical including values.
    let ours = serde_json::to_value(BlockJson::new(&chain, 0, true).unwrap()).unwrap();
    assert_eq!(
        ours,
        fixture_json(&dir, "esplora/block_genesis.json")["body"]
    );
}

#[test]
fn errors_and_edge_cases_match_electrs() {
    let Some(dir) = fixtures() else { return };
    // The recorded answers are Blockstream's electrs'.
    let sb = Sandbox::start(SandboxConfig {
        esplora_flavour: regtest::EsploraFlavour::Blockstream,
        ..SandboxConfig::default()
    })
    .unwrap();
    let url = sb.esplora_url();
    let files = [
        "error_post_tx_empty",
        "error_post_tx_garbage_hex",
        "error_post_tx_garbage_text",
        "error_post_tx_missing_inputs",
        "error_tx_malformed",
        "error_tx_malformed_short_hex",
        "error_tx_unknown",
        "error_tx_unknown_hex",
        "error_tx_unknown_merkle-proof",
        "error_tx_unknown_outspends",
        "error_block_malformed",
        "error_block_unknown",
        "error_block-height_not_a_number",
        "error_block-height_beyond_tip",
        "error_scripthash_zz",
        "error_scripthash_zz_txs",
        "error_unknown_endpoint",
        "error_get_broadcast_legacy_missing_tx",
        "error_address_bad_checksum",
        "error_address_garbage",
        "error_address_bitcoin_network",
        "error_address_liquidtestnet",
        "error_address_liquidv1",
        "edge_tx_unknown_status",
        "error_asset_malformed",
        "error_asset_unknown",
        "edge_block_unknown_status",
        "scripthash_external0_electrum_byteorder_txs",
        "scripthash_external7_unused",
        "scripthash_external7_unused_txs",
        "scripthash_external7_unused_utxo",
        "block_genesis",
        "block_genesis_header",
        "block_genesis_txids",
        "block-height_0",
        "address_p2pkh_base58_conf_nohistory",
        "address_p2pkh_base58_unconf_nohistory_txs",
        "tx_genesis_1",
    ];
    let mut failures = Vec::new();
    for f in files {
        let v = fixture_json(&dir, &format!("esplora/{f}.json"));
        let method = v["method"].as_str().unwrap();
        let path = v["path"].as_str().unwrap();
        let body = v["request_body"].as_str().unwrap_or("");
        let (status, text) =
            regtest::control::request(&url, method, path, (method == "POST").then_some(body))
                .unwrap();
        let want_body = match &v["body"] {
            Value::String(s) => s.clone(),
            other => serde_json::to_string(other).unwrap(),
        };
        let mut got = text.clone();
        if let (Ok(a), Ok(b)) = (
            serde_json::from_str::<Value>(&text),
            serde_json::from_str::<Value>(&want_body),
        ) {
            if a == b {
                got = want_body.clone();
            }
        }
        if status != v["status"].as_u64().unwrap() as u16 || got != want_body {
            failures.push(format!(
                "{f}: {method} {path}: got {status} {text:?}, want {} {want_body:?}",
                v["status"]
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    sb.shutdown();
}

#[test]
fn asset_json_matches_electrs() {
    let Some(dir) = fixtures() else { return };
    let v = fixture_json(&dir, "esplora/block_h102_raw.json");
    let block: elements::Block =
        deserialize(&hexutil::decode(v["body"].as_str().unwrap()).unwrap()).unwrap();
    let mut chain = Chain::new();
    chain.connect_block(block);
    for (name, id) in [
        (
            "asset_issued",
            "2dcf5a8834645654911964ec3602426fd3b9b4017554d3f9c19403e7fc1411d3",
        ),
        (
            "asset_policy",
            "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225",
        ),
    ] {
        let id: elements::AssetId = id.parse().unwrap();
        let ours = serde_json::to_value(regtest::asset::asset_json(&chain, &id).unwrap()).unwrap();
        let mut want = fixture_json(&dir, &format!("esplora/{name}.json"))["body"].clone();
        let mut ours = without_status(ours);
        want = without_status(want);
        if name == "asset_policy" {
            // The recorded chain also burned 0.3 L-BTC in a peg-out at height 110.
            want["chain_stats"]["tx_count"] = 1.into();
            want["chain_stats"]["burned_amount"] = 0.into();
        }
        ours.as_object_mut().unwrap().remove("status");
        assert_eq!(ours, want, "{name}");
        let text =
            serde_json::to_string(&regtest::asset::asset_json(&chain, &id).unwrap()).unwrap();
        assert_eq!(
            strip_status(key_order(&text)),
            strip_status(key_order(&body_text(&dir, &format!("esplora/{name}.json"))))
        );
    }
    // The reissuance token is not an asset of its own.
    let token: elements::AssetId =
        "508e509e3199a8ed8f653a09d9e456dd9aea8802712b9433692635c9e7cd9fca"
            .parse()
            .unwrap();
    assert!(regtest::asset::asset_json(&chain, &token).is_none());
}

#[test]
fn mempool_backlog_matches_electrs() {
    let Some(dir) = fixtures() else { return };
    let v = fixture_json(&dir, "esplora/block_h102_raw.json");
    let block: elements::Block =
        deserialize(&hexutil::decode(v["body"].as_str().unwrap()).unwrap()).unwrap();
    let mut chain = Chain::new();
    chain.connect_block(block);
    for name in ["tx_pay_lbtc_conf_addr3_now_confirmed", "tx_lwk_spend"] {
        let tx = tx_hex(&dir, name);
        let fee = tx.fee_in(chain.policy_asset);
        chain.add_to_mempool(tx, fee);
    }
    let ours = serde_json::to_string(&regtest::esplora::mempool_stats(&chain)).unwrap();
    let want =
        serde_json::to_string(&fixture_json(&dir, "esplora/phaseC-mempool.json")["body"]).unwrap();
    // Same numbers; key order checked on the raw text.
    assert_eq!(
        serde_json::from_str::<Value>(&ours).unwrap(),
        serde_json::from_str::<Value>(&want).unwrap()
    );
    assert_eq!(
        key_order(&ours),
        key_order(&body_text(&dir, "esplora/phaseC-mempool.json"))
    );
}

#[test]
fn confidential_mempool_utxo_matches_electrs() {
    let Some(dir) = fixtures() else { return };
    let chain = Chain::new();
    let tx = tx_hex(&dir, "tx_pay_lbtc_conf_addr0_unconfirmed");
    let op = elements::OutPoint::new(tx.txid(), 1);
    let ours = serde_json::to_value(UtxoJson::new(&chain, &op, &tx.output[1], None)).unwrap();
    let want = fixture_json(&dir, "esplora/scripthash_external0_utxo.json")["body"][1].clone();
    assert_eq!(ours, want);
}
