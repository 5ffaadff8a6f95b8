//! Esplora on a live sandbox: paging, ordering, stats, utxos, outspends, proofs, caching.

use crate::common::*;

use regtest::elements::{confidential::Value, OutPoint, TxOut, Txid};
use regtest::{EsploraFlavour, Sandbox, SandboxConfig};
use serde_json::Value as J;

fn header(url: &str, path: &str, name: &str) -> Option<String> {
    let (_, h, _) = regtest::control::request_with_headers(url, "GET", path, None).unwrap();
    h.into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// A sandbox of `flavour` whose external/4-like script received 30 payments in 6 blocks (as in
/// the fixtures' paging phase); the address and the payments' txids.
fn thirty_payments(flavour: EsploraFlavour) -> (Sandbox, regtest::elements::Address, Vec<Txid>) {
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_795_358_000),
        esplora_flavour: flavour,
        ..Default::default()
    })
    .unwrap();
    sb.mine(1).unwrap();
    let addr = p2wpkh(4, true);
    let mut ids = Vec::new();
    for n in 1..=30u64 {
        ids.push(sb.faucet(&addr, 100_000 * n, None).unwrap());
        if n % 5 == 0 {
            sb.mine(1).unwrap();
        }
    }
    (sb, addr, ids)
}

#[test]
fn first_page_as_mempool_electrs_lists_it() {
    // mempool.space's electrs (the real stack's): the mempool twice, then confirmed ones up
    // to 50 entries; /txs/chain pages and /txs/mempool as Blockstream's.
    let (sb, addr, _) = thirty_payments(EsploraFlavour::Mempool);
    let url = sb.esplora_url();
    let sh = esplora_sh(&addr);
    let chain1 = get_json(&url, &format!("/scripthash/{sh}/txs/chain"));
    assert_eq!(chain1.as_array().unwrap().len(), 25);
    let txs = get_json(&url, &format!("/scripthash/{sh}/txs"));
    assert_eq!(
        txs.as_array().unwrap().len(),
        30,
        "all 30 confirmed fit in 50"
    );
    assert_eq!(txs[0], chain1[0]);
    let mut mempool = Vec::new();
    for n in 0..20u64 {
        mempool.push(sb.faucet(&addr, 1_000 + n, None).unwrap().to_string());
    }
    let txs = get_json(&url, &format!("/scripthash/{sh}/txs"));
    let listed: Vec<String> = txs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["txid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed.len(), 50);
    assert_eq!(listed[..20], listed[20..40], "the mempool twice");
    let unique: std::collections::BTreeSet<&String> = listed[..20].iter().collect();
    assert_eq!(unique, mempool.iter().collect());
    assert_eq!(txs[40], chain1[0], "then 10 confirmed ones");
    assert!(txs.as_array().unwrap()[40..]
        .iter()
        .all(|t| t["status"]["confirmed"] == true));
    let only_mempool = get_json(&url, &format!("/scripthash/{sh}/txs/mempool"));
    assert_eq!(only_mempool.as_array().unwrap().len(), 20, "once");
    assert_eq!(get_json(&url, &format!("/address/{addr}/txs")), txs);
    // Its error texts: elementsd's JSON-RPC error object quoted; hex errors; no estimates.
    assert_eq!(
        post(&url, "/tx", "deadbeef"),
        (
            400,
            "sendrawtransaction RPC error: {\"code\":-22,\"message\":\"TX decode failed. Make \
             sure the tx has at least one input.\"}"
                .into()
        )
    );
    assert_eq!(
        get(&url, "/scripthash/zz/txs"),
        (400, "Invalid hex string".into())
    );
    assert_eq!(get_json(&url, "/fee-estimates"), serde_json::json!({}));
}

#[test]
fn paging_ordering_and_views() {
    let (sb, addr, ids) = thirty_payments(EsploraFlavour::Blockstream);
    let url = sb.esplora_url();
    let policy = sb.policy_asset();
    let sh = esplora_sh(&addr);
    let chain1 = get_json(&url, &format!("/scripthash/{sh}/txs/chain"));
    assert_eq!(chain1.as_array().unwrap().len(), 25);
    // Newest first: the last block's txs come first.
    let heights: Vec<u64> = chain1
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"]["block_height"].as_u64().unwrap())
        .collect();
    assert!(heights.windows(2).all(|w| w[0] >= w[1]));
    let last = chain1[24]["txid"].as_str().unwrap();
    let page2 = get_json(&url, &format!("/scripthash/{sh}/txs/chain/{last}"));
    assert_eq!(page2.as_array().unwrap().len(), 5);
    let last2 = page2[4]["txid"].as_str().unwrap();
    assert_eq!(
        get_json(&url, &format!("/scripthash/{sh}/txs/chain/{last2}")),
        J::Array(vec![])
    );
    assert_eq!(
        get_json(
            &url,
            &format!("/scripthash/{sh}/txs/chain/{}", "ab".repeat(32))
        ),
        J::Array(vec![])
    );
    assert_eq!(
        get_json(&url, &format!("/scripthash/{sh}/txs/chain/xyz")),
        chain1
    );
    let after10 = get_json(
        &url,
        &format!(
            "/scripthash/{sh}/txs/chain/{}",
            chain1[9]["txid"].as_str().unwrap()
        ),
    );
    assert_eq!(after10[0], chain1[10]);
    // Mempool first in /txs.
    let m = sb.faucet(&addr, 5_000_000, None).unwrap();
    let txs = get_json(&url, &format!("/scripthash/{sh}/txs"));
    assert_eq!(txs.as_array().unwrap().len(), 26);
    assert_eq!(txs[0]["txid"], m.to_string());
    assert_eq!(txs[1], chain1[0]);
    assert_eq!(
        get_json(&url, &format!("/scripthash/{sh}/txs/mempool"))[0]["txid"],
        m.to_string()
    );
    // Same view by address, confidential or not.
    assert_eq!(get_json(&url, &format!("/address/{addr}/txs")), txs);
    assert_eq!(
        get_json(&url, &format!("/address/{}/txs", addr.to_unconfidential())),
        txs
    );
    // Stats.
    let st = get_json(&url, &format!("/scripthash/{sh}"));
    assert_eq!(st["chain_stats"]["tx_count"], 30);
    assert_eq!(st["chain_stats"]["funded_txo_count"], 30);
    assert_eq!(st["mempool_stats"]["tx_count"], 1);
    assert_eq!(st["scripthash"], sh);
    let st = get_json(&url, &format!("/address/{addr}"));
    assert_eq!(st["address"], addr.to_string());
    // Utxos: mempool entries carry proofs, confirmed ones do not.
    let utxo = get_json(&url, &format!("/scripthash/{sh}/utxo"));
    assert_eq!(utxo.as_array().unwrap().len(), 31);
    let unconf: Vec<&J> = utxo
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["status"]["confirmed"] == false)
        .collect();
    assert_eq!(unconf.len(), 1);
    assert!(unconf[0]["range_proof"].is_string() && unconf[0]["surjection_proof"].is_string());
    assert!(unconf[0]["noncecommitment"].is_string());
    let conf = utxo
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["status"]["confirmed"] == true)
        .unwrap();
    assert!(conf.get("range_proof").is_none() && conf["valuecommitment"].is_string());

    // Spend one coin: outspends (mempool, then confirmed), merkle proof, status.
    let coin_tx = sb.get_tx(&ids[0]).unwrap();
    let vout = coin_tx
        .output
        .iter()
        .position(|o| o.script_pubkey == addr.script_pubkey())
        .unwrap();
    let secrets = unblind(&coin_tx.output[vout], 4);
    let mut tx = new_tx(
        vec![OutPoint::new(ids[0], vout as u32)],
        vec![
            explicit_out(
                policy,
                secrets.value - 500,
                p2wpkh(5, false).script_pubkey(),
            ),
            TxOut::new_fee(500, policy),
        ],
    );
    sign_p2wpkh(&mut tx, 0, 4, coin_tx.output[vout].value);
    let spend_id = sb.broadcast(tx).unwrap();
    let os = get_json(&url, &format!("/tx/{}/outspends", ids[0]));
    assert_eq!(os[vout]["spent"], true);
    assert_eq!(os[vout]["txid"], spend_id.to_string());
    assert_eq!(os[vout]["status"], serde_json::json!({"confirmed": false}));
    assert_eq!(
        get_json(&url, &format!("/tx/{}/outspend/99", ids[0])),
        serde_json::json!({"spent": false})
    );
    assert_eq!(
        get_json(&url, &format!("/tx/{spend_id}/status")),
        serde_json::json!({"confirmed": false})
    );
    let (st, body) = get(&url, &format!("/tx/{spend_id}/merkle-proof"));
    assert_eq!(
        (st, body.as_str()),
        (404, "Transaction not found or is unconfirmed")
    );
    let hashes = sb.mine(1).unwrap();
    let os = get_json(&url, &format!("/tx/{}/outspends", ids[0]));
    assert_eq!(os[vout]["status"]["block_hash"], hashes[0].to_string());
    let proof = get_json(&url, &format!("/tx/{spend_id}/merkle-proof"));
    assert_eq!(proof["block_height"], 8);
    let txids = get_json(&url, &format!("/block/{}/txids", hashes[0]));
    let pos = proof["pos"].as_u64().unwrap() as usize;
    assert_eq!(txids[pos], spend_id.to_string());
    // Electrum-order history: ascending heights; Esplora confirmed = its reverse.
    let st = get_json(&url, &format!("/scripthash/{sh}"));
    assert_eq!(st["chain_stats"]["spent_txo_count"], 1);
    // Hex, raw, header, block-height, tip.
    let (_, hex) = get(&url, &format!("/tx/{spend_id}/hex"));
    assert_eq!(hex, tx_hex(&sb.get_tx(&spend_id).unwrap()));
    let (st, h) = get(&url, &format!("/block-height/{}", 8));
    assert_eq!((st, h), (200, hashes[0].to_string()));
    assert_eq!(get(&url, "/blocks/tip/hash").1, hashes[0].to_string());
    let (_, hdr) = get(&url, &format!("/block/{}/header", hashes[0]));
    assert_eq!(hdr.len(), 152 * 2);
    let blocks = get_json(&url, "/blocks");
    assert_eq!(blocks.as_array().unwrap().len(), 9);
    assert!(blocks[0].get("ext").is_none());
    assert_eq!(
        get_json(&url, &format!("/block/{}", hashes[0]))["ext"]["signblock_witness"],
        serde_json::json!([[81]])
    );
    // Caching rules.
    assert_eq!(
        header(&url, &format!("/block/{}", hashes[0]), "cache-control").as_deref(),
        Some("public, max-age=157784630")
    );
    assert_eq!(
        header(&url, &format!("/tx/{spend_id}"), "cache-control").as_deref(),
        Some("public, max-age=10")
    );
    assert_eq!(header(&url, "/tx/zz", "cache-control"), None);
    assert_eq!(
        header(&url, "/block-height/0", "cache-control").as_deref(),
        Some("public, max-age=10")
    );
    sb.mine(10).unwrap();
    assert_eq!(
        header(&url, &format!("/tx/{spend_id}"), "cache-control").as_deref(),
        Some("public, max-age=157784630")
    );
    assert_eq!(
        header(&url, "/blocks/tip/height", "content-type").as_deref(),
        Some("text/plain")
    );
    // Mempool views.
    let mp = get_json(&url, "/mempool");
    assert_eq!(mp["count"], 0);
    assert_eq!(get_json(&url, "/mempool/txids"), J::Array(vec![]));
    assert_eq!(
        get_json(&url, "/mempool/recent")[0]["txid"],
        spend_id.to_string()
    );
    assert_eq!(get_json(&url, "/fee-estimates")["6"], 1.0);
    let _: Vec<Txid> = vec![];
    let _ = Value::Null;
    sb.shutdown();
}

#[test]
fn asset_endpoints() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let url = sb.esplora_url();
    let issued = sb.issue(5_000, Some("ACME")).unwrap();
    let j = get_json(&url, &format!("/asset/{}", issued.asset));
    assert_eq!(j["mempool_stats"]["issued_amount"], 5000);
    assert_eq!(j["status"]["confirmed"], false);
    sb.mine(1).unwrap();
    let j = get_json(&url, &format!("/asset/{}", issued.asset));
    assert_eq!(j["chain_stats"]["issued_amount"], 5000);
    assert_eq!(j["chain_stats"]["reissuance_tokens"], 1);
    assert_eq!(j["reissuance_token"], issued.token.to_string());
    assert_eq!(j["issuance_txin"]["txid"], issued.txid.to_string());
    assert!(j["contract_hash"].is_string());
    assert_eq!(
        get(&url, &format!("/asset/{}/supply", issued.asset)),
        (200, "5000".into())
    );
    assert_eq!(
        get(&url, &format!("/asset/{}", issued.token)),
        (404, "Asset id not found".into())
    );
    assert_eq!(get(&url, "/asset/xyz"), (400, "Invalid hex string".into()));
    let policy = get_json(&url, &format!("/asset/{}", sb.policy_asset()));
    assert_eq!(
        policy["chain_stats"]["issued_amount"],
        2_100_000_000_000_000u64
    );
}

#[test]
fn asset_history() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let url = sb.esplora_url();
    let issued = sb.issue(5_000, None).unwrap();
    let txs = get_json(&url, &format!("/asset/{}/txs", issued.asset));
    assert_eq!(txs[0]["txid"], issued.txid.to_string());
    assert_eq!(
        get_json(&url, &format!("/asset/{}/txs/chain", issued.asset)),
        J::Array(vec![])
    );
    sb.mine(1).unwrap();
    let chain = get_json(&url, &format!("/asset/{}/txs/chain", issued.asset));
    assert_eq!(chain[0]["txid"], issued.txid.to_string());
    assert_eq!(chain[0]["status"]["confirmed"], true);
    assert_eq!(
        get_json(&url, &format!("/asset/{}/txs/mempool", issued.asset)),
        J::Array(vec![])
    );
}
