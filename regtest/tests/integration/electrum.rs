//! Electrum protocol against recorded electrs exchanges and on a live sandbox.

use crate::common::*;

use regtest::elements::{OutPoint, TxOut};
use regtest::{Sandbox, SandboxConfig};
use serde_json::{json, Value};

#[test]
fn status_hash_rule_matches_electrs() {
    let Some(dir) = fixtures() else { return };
    let v = fixture_json(&dir, "electrum/status_hash_verification.json");
    for c in v["checks"].as_array().unwrap() {
        let hist: Vec<(String, i64)> = c["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| {
                (
                    h["tx_hash"].as_str().unwrap().to_string(),
                    h["height"].as_i64().unwrap(),
                )
            })
            .collect();
        let want = c["server_status"].as_str().map(str::to_string);
        assert_eq!(
            regtest::electrum::status_of(&hist),
            want,
            "{}",
            c["address"]
        );
    }
}

#[test]
fn replays_match_electrs() {
    let Some(dir) = fixtures() else { return };
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let same = [
        "server.version",
        "server.version_protocol_range",
        "server.banner",
        "server.ping",
        "server.donation_address",
        "server.peers.subscribe",
        "blockchain.relayfee",
        "blockchain.estimatefee_1",
        "blockchain.estimatefee_6",
        "blockchain.block.header_0",
        "blockchain.block.header_beyond_tip",
        "blockchain.scripthash.get_history_external7",
        "blockchain.scripthash.listunspent_external7",
        "blockchain.scripthash.subscribe_external7",
        "blockchain.scripthash.unsubscribe_external0_again",
        "blockchain.transaction.get_unknown",
        "blockchain.transaction.get_verbose",
        "blockchain.transaction.broadcast_garbage",
        "blockchain.transaction.broadcast_garbage_text",
        "batch_with_param_errors",
        "no_jsonrpc_key",
        "no_params_key",
        "string_id",
        "wrong_params_block_header_missing",
        "wrong_params_block_header_string",
        "wrong_params_get_history_int",
        "wrong_params_get_history_short_hex",
        "wrong_params_transaction_get_bad_hex",
        "wrong_params_transaction_get_verbose_string",
    ];
    let mut failures = Vec::new();
    let mut c = Electrum::connect(sb.electrum_addr());
    for f in same {
        let v = fixture_json(&dir, &format!("electrum/{f}.json"));
        c.send_line(v["request_raw"].as_str().unwrap());
        let got = c.read_line();
        let want = v["response_raw"].as_str().map(str::to_string);
        if got != want {
            failures.push(format!("{f}: got {got:?}\n   want {want:?}"));
        }
    }
    // These close the connection without a reply.
    let closing = [
        "malformed_no_id",
        "malformed_named_params",
        "malformed_no_method",
        "malformed_not_json",
        "unknown_method",
        "server.features",
        "blockchain.scripthash.get_balance_external0",
        "batch_with_errors",
    ];
    for f in closing {
        let v = fixture_json(&dir, &format!("electrum/{f}.json"));
        let mut c = Electrum::connect(sb.electrum_addr());
        c.send_line(v["request_raw"].as_str().unwrap());
        if let Some(line) = c.read_line() {
            failures.push(format!("{f}: expected a close, got {line}"));
        }
    }
    // A batch of 21 calls also closes; 20 are answered.
    let batch = |n: usize| {
        let calls: Vec<Value> = (0..n)
            .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "server.ping", "params": []}))
            .collect();
        serde_json::to_string(&calls).unwrap()
    };
    let mut c = Electrum::connect(sb.electrum_addr());
    c.send_line(&batch(20));
    let r: Value = serde_json::from_str(&c.read_line().unwrap()).unwrap();
    assert_eq!(r.as_array().unwrap().len(), 20);
    c.send_line(&batch(21));
    assert_eq!(c.read_line(), None);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    sb.shutdown();
}

#[test]
fn live_history_utxos_headers_and_notifications() {
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_795_358_000),
        ..Default::default()
    })
    .unwrap();
    let policy = sb.policy_asset();
    sb.mine(1).unwrap();
    let plain = p2wpkh(2, false);
    let conf = p2wpkh(3, true);
    let fund = sb.faucet(&plain, 50_000_000, None).unwrap();
    sb.faucet(&conf, 1_000_000, None).unwrap();
    sb.mine(1).unwrap();
    let mut c = Electrum::connect(sb.electrum_addr());
    // listunspent: explicit value byte-swapped, as electrs/rust-elements serde does.
    let r = c.call(
        "blockchain.scripthash.listunspent",
        json!([electrum_sh(&plain)]),
    );
    let u = &r["result"][0];
    assert_eq!(u["value"], json!([1, 9291200917762211840u64]));
    assert_eq!(u["asset"], json!([1, policy.to_string()]));
    assert_eq!(u["nonce"], json!([0]));
    assert_eq!(u["height"], 2);
    assert_eq!(u["tx_hash"], fund.to_string());
    let r = c.call(
        "blockchain.scripthash.listunspent",
        json!([electrum_sh(&conf)]),
    );
    assert_eq!(r["result"][0]["value"][0], 2);
    // The Esplora-order hash is someone else's script: empty.
    let r = c.call(
        "blockchain.scripthash.get_history",
        json!([esplora_sh(&plain)]),
    );
    assert_eq!(r["result"], json!([]));
    // Header of block 1 equals Esplora's.
    let r = c.call("blockchain.block.header", json!([1]));
    let h1 = r["result"].as_str().unwrap().to_string();
    let hash1 = get(&sb.esplora_url(), "/block-height/1").1;
    assert_eq!(
        get(&sb.esplora_url(), &format!("/block/{hash1}/header")).1,
        h1
    );
    assert_eq!(h1.len(), 214 * 2);
    let r = c.call("blockchain.block.headers", json!([0, 10]));
    assert_eq!(r["result"]["count"], 3);
    assert_eq!(r["result"]["max"], 2016);
    let r = c.call("blockchain.block.header", json!([1, 2]));
    assert_eq!(r["result"]["branch"].as_array().unwrap().len(), 2);

    // Subscriptions and notifications.
    let r = c.call("blockchain.headers.subscribe", json!([]));
    assert_eq!(r["result"]["height"], 2);
    let sh = electrum_sh(&plain);
    let r = c.call("blockchain.scripthash.subscribe", json!([sh]));
    let s0 = r["result"].as_str().unwrap().to_string();
    let hist = vec![(fund.to_string(), 2i64)];
    assert_eq!(regtest::electrum::status_of(&hist).unwrap(), s0);
    // Spend the coin and broadcast over Electrum: the reply comes first, then the status.
    let mut tx = new_tx(
        vec![OutPoint::new(fund, 0)],
        vec![
            explicit_out(policy, 49_999_000, plain.script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    let vout = sb
        .get_tx(&fund)
        .unwrap()
        .output
        .iter()
        .position(|o| o.script_pubkey == plain.script_pubkey())
        .unwrap();
    tx.input[0].previous_output.vout = vout as u32;
    sign_p2wpkh(
        &mut tx,
        0,
        2,
        regtest::elements::confidential::Value::Explicit(50_000_000),
    );
    let r = c.call("blockchain.transaction.broadcast", json!([tx_hex(&tx)]));
    assert_eq!(r["result"], tx.txid().to_string());
    let n: Value = serde_json::from_str(&c.read_line().unwrap()).unwrap();
    assert_eq!(n["method"], "blockchain.scripthash.subscribe");
    assert_eq!(n["params"][0], sh);
    let hist = vec![(fund.to_string(), 2i64), (tx.txid().to_string(), 0)];
    assert_eq!(n["params"][1], regtest::electrum::status_of(&hist).unwrap());
    assert!(n.get("id").is_none());
    let r = c.call("blockchain.scripthash.get_history", json!([sh]));
    assert_eq!(
        r["result"][1],
        json!({"fee": 1000, "height": 0, "tx_hash": tx.txid().to_string()})
    );
    // Rebroadcast of the same tx: its txid, no new notification.
    let r = c.call("blockchain.transaction.broadcast", json!([tx_hex(&tx)]));
    assert_eq!(r["result"], tx.txid().to_string());
    // Mine: header notification, then the new status.
    sb.mine(1).unwrap();
    let n: Value = serde_json::from_str(&c.read_line().unwrap()).unwrap();
    assert_eq!(n["method"], "blockchain.headers.subscribe");
    assert_eq!(n["params"][0]["height"], 3);
    let n: Value = serde_json::from_str(&c.read_line().unwrap()).unwrap();
    assert_eq!(n["method"], "blockchain.scripthash.subscribe");
    let r = c.call(
        "blockchain.transaction.get_merkle",
        json!([tx.txid().to_string(), 3]),
    );
    assert_eq!(r["result"]["block_height"], 3);
    let r = c.call(
        "blockchain.transaction.get_merkle",
        json!([tx.txid().to_string(), 4]),
    );
    assert_eq!(r["error"], "invalid confirmation height provided");
    let r = c.call("blockchain.transaction.get", json!([tx.txid().to_string()]));
    assert_eq!(r["result"], tx_hex(&tx));
    let r = c.call("blockchain.transaction.broadcast", json!([tx_hex(&tx)]));
    assert_eq!(
        r["error"],
        "sendrawtransaction RPC error -27: Transaction already in block chain"
    );
    let r = c.call("blockchain.scripthash.unsubscribe", json!([sh]));
    assert_eq!(r["result"], true);
    sb.shutdown();
}

#[test]
fn history_order_within_a_block_and_unconfirmed_parents() {
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_795_358_000),
        ..Default::default()
    })
    .unwrap();
    let policy = sb.policy_asset();
    sb.mine(1).unwrap();
    let a = p2wpkh(2, false);
    let fund = sb.faucet(&a, 1_000_000, None).unwrap();
    sb.mine(1).unwrap();
    let vout = sb
        .get_tx(&fund)
        .unwrap()
        .output
        .iter()
        .position(|o| o.script_pubkey == a.script_pubkey())
        .unwrap();
    // In the next block: a spend from `a` (paying elsewhere) and a new payment to `a`.
    let mut spend = new_tx(
        vec![OutPoint::new(fund, vout as u32)],
        vec![
            explicit_out(policy, 999_000, p2wpkh(7, false).script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    sign_p2wpkh(
        &mut spend,
        0,
        2,
        regtest::elements::confidential::Value::Explicit(1_000_000),
    );
    sb.broadcast(spend.clone()).unwrap();
    let pay = sb.faucet(&a, 2_000, None).unwrap();
    sb.mine(1).unwrap();
    let mut c = Electrum::connect(sb.electrum_addr());
    let h = c.call(
        "blockchain.scripthash.get_history",
        json!([electrum_sh(&a)]),
    )["result"]
        .clone();
    let ids: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tx_hash"].as_str().unwrap())
        .collect();
    // Funding rows first within a block, whatever the txids.
    assert_eq!(
        ids,
        vec![fund.to_string(), pay.to_string(), spend.txid().to_string()]
    );
    let esplora: Vec<String> = get_json(
        &sb.esplora_url(),
        &format!("/scripthash/{}/txs/chain", esplora_sh(&a)),
    )
    .as_array()
    .unwrap()
    .iter()
    .map(|t| t["txid"].as_str().unwrap().to_string())
    .collect();
    let mut rev: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    rev.reverse();
    assert_eq!(esplora, rev);
    // A mempool tx whose parent is unconfirmed has height -1.
    let b = p2wpkh(3, false);
    let parent = sb.faucet(&b, 500_000, None).unwrap();
    let pv = sb
        .get_tx(&parent)
        .unwrap()
        .output
        .iter()
        .position(|o| o.script_pubkey == b.script_pubkey())
        .unwrap();
    let mut child = new_tx(
        vec![OutPoint::new(parent, pv as u32)],
        vec![
            explicit_out(policy, 499_000, b.script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    sign_p2wpkh(
        &mut child,
        0,
        3,
        regtest::elements::confidential::Value::Explicit(500_000),
    );
    sb.broadcast(child.clone()).unwrap();
    let h = c.call(
        "blockchain.scripthash.get_history",
        json!([electrum_sh(&b)]),
    )["result"]
        .clone();
    assert_eq!(h[0]["height"], 0);
    assert_eq!(
        h[1],
        json!({"fee": 1000, "height": -1, "tx_hash": child.txid().to_string()})
    );
    let u = c.call(
        "blockchain.scripthash.listunspent",
        json!([electrum_sh(&b)]),
    )["result"]
        .clone();
    assert_eq!(u.as_array().unwrap().len(), 1);
    assert_eq!(u[0]["height"], 0);
}
