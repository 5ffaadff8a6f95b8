//! Start/stop, loopback-only binds, delays, persistence, determinism, the control client.

use crate::common::*;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use regtest::{control, Error, Sandbox, SandboxConfig};

#[test]
fn refuses_non_loopback_binds() {
    for bad in ["0.0.0.0:0", "192.0.2.1:0"] {
        let addr: SocketAddr = bad.parse().unwrap();
        let r = Sandbox::start(SandboxConfig {
            esplora: addr,
            ..Default::default()
        });
        assert!(matches!(r, Err(Error::NotLoopback(a)) if a == addr));
        let r = Sandbox::start(SandboxConfig {
            electrum: addr,
            ..Default::default()
        });
        assert!(matches!(r, Err(Error::NotLoopback(a)) if a == addr));
    }
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    assert!(sb.esplora_url().starts_with("http://127.0.0.1:"));
    assert!(sb.electrum_addr().ip().is_loopback() && sb.electrum_addr().port() != 0);
    sb.shutdown();
}

#[test]
fn delay_applies_to_esplora_and_electrum() {
    let sb = Sandbox::start(SandboxConfig {
        delay_ms: 150,
        ..Default::default()
    })
    .unwrap();
    let t = Instant::now();
    assert_eq!(get(&sb.esplora_url(), "/blocks/tip/height").1, "0");
    assert!(t.elapsed() >= Duration::from_millis(150));
    let mut c = Electrum::connect(sb.electrum_addr());
    let t = Instant::now();
    let r = c.call("server.ping", serde_json::json!([]));
    assert!(r["result"].is_null());
    assert!(t.elapsed() >= Duration::from_millis(150));
    sb.shutdown();
}

#[test]
fn control_client_and_stop() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let url = sb.esplora_url();
    let hashes = control::mine(&url, 2).unwrap();
    assert_eq!(hashes.len(), 2);
    let addr = p2wpkh(1, true);
    let txid = control::faucet(&url, &addr.to_string(), 12_345, None).unwrap();
    let issued = control::issue(&url, 777, Some("TEST")).unwrap();
    control::mine(&url, 1).unwrap();
    let t2 = control::faucet(&url, &addr.to_string(), 5, Some(issued.asset)).unwrap();
    let got = sb.get_tx(&t2).unwrap();
    let vout = got
        .output
        .iter()
        .position(|o| o.script_pubkey == addr.script_pubkey())
        .unwrap();
    let s = unblind(&got.output[vout], 1);
    assert_eq!((s.asset, s.value), (issued.asset, 5));
    assert!(sb.get_tx(&txid).is_some());
    // Bad requests are errors with the sandbox's words, read back as the sandbox's own error
    // (a faucet refusal is `Faucet` once, not "faucet: faucet: ..."); anything else it says is
    // filed under `Faucet` as it is.
    let faucet_refusal = |e: Error, text: &str| match e {
        Error::Faucet(m) => assert_eq!(m, text),
        other => panic!("{other:?}: not the sandbox's refusal {text:?}"),
    };
    let e = control::faucet(&url, "notanaddress", 1, None).unwrap_err();
    faucet_refusal(e, "invalid address: base58 error: incorrect checksum");
    let e = control::faucet(&url, &addr.to_string(), 0, None).unwrap_err();
    faucet_refusal(e, "amount must be positive");
    let e = control::faucet(
        &url,
        &addr.to_string(),
        1,
        Some(regtest::elements::AssetId::from_byte_array([7; 32])),
    )
    .unwrap_err();
    faucet_refusal(
        e,
        &format!(
            "the faucet holds less than 1 sat of asset {}",
            "07".repeat(32)
        ),
    );
    // Unreachable.
    let e = control::mine("http://127.0.0.1:1", 1).unwrap_err();
    assert!(
        matches!(&e, Error::Unreachable { url, reason } if url == "http://127.0.0.1:1/sandbox/mine" && reason.contains("refused")),
        "{e:?}"
    );
    // Stop request releases wait().
    let sb = std::sync::Arc::new(sb);
    let sb2 = sb.clone();
    let waiter = std::thread::spawn(move || sb2.wait());
    control::stop(&url).unwrap();
    waiter.join().unwrap();
}

#[test]
fn persists_chain_and_mempool() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SandboxConfig {
        state_dir: Some(dir.path().to_path_buf()),
        fixed_clock: Some(1_700_000_000),
        ..Default::default()
    };
    let addr = p2wpkh(1, true);
    let (tip, pending) = {
        let sb = Sandbox::start(cfg.clone()).unwrap();
        sb.mine(3).unwrap();
        sb.faucet(&addr, 1_000, None).unwrap();
        sb.mine(1).unwrap();
        let pending = sb.faucet(&addr, 2_000, None).unwrap();
        let tip = get(&sb.esplora_url(), "/blocks/tip/hash").1;
        sb.shutdown();
        (tip, pending)
    };
    let sb = Sandbox::start(cfg).unwrap();
    assert_eq!(get(&sb.esplora_url(), "/blocks/tip/hash").1, tip);
    assert_eq!(
        get_json(&sb.esplora_url(), "/mempool/txids")[0],
        pending.to_string()
    );
    // The faucet continues from its stored change.
    sb.faucet(&addr, 3_000, None).unwrap();
    sb.mine(1).unwrap();
    let txs = get_json(
        &sb.esplora_url(),
        &format!("/scripthash/{}/txs", esplora_sh(&addr)),
    );
    assert_eq!(txs.as_array().unwrap().len(), 3);
}

#[test]
fn deterministic_with_fixed_clock() {
    let run = || {
        let sb = Sandbox::start(SandboxConfig {
            fixed_clock: Some(1_700_000_000),
            ..Default::default()
        })
        .unwrap();
        sb.mine(1).unwrap();
        sb.faucet(&p2wpkh(1, true), 1_000, None).unwrap();
        sb.issue(10, None).unwrap();
        sb.mine(1).unwrap()[0]
    };
    assert_eq!(run(), run());
}

#[test]
fn garbage_never_crashes_or_hangs() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let url = sb.esplora_url();
    // A malformed parameter of a known route is 400, a route that does not exist 404, each
    // with electrs's words.
    const BAD_HEX: &str = "Invalid hex string";
    const BAD_NUMBER: &str = "Invalid number";
    for (p, status, body_text) in [
        ("/tx/", 400, BAD_HEX.to_owned()),
        ("/block/%ff%fe", 400, BAD_HEX.to_owned()),
        ("/scripthash//txs", 400, BAD_HEX.to_owned()),
        ("/address/%00", 400, "base58 error: decode".to_owned()),
        ("/blocks/-1", 400, BAD_NUMBER.to_owned()),
        ("/block-height/99999999999", 400, BAD_NUMBER.to_owned()),
        ("/tx/00/outspend/x", 400, BAD_HEX.to_owned()),
        ("/", 404, "endpoint does not exist \"/\"".to_owned()),
        (
            "/mempool/x",
            404,
            "endpoint does not exist \"/mempool/x\"".to_owned(),
        ),
    ] {
        let (st, body) = get(&url, p);
        assert_eq!((st, body), (status, body_text), "{p}");
    }
    let (st, body) = post(&url, "/sandbox/mine", "{\"blocks\": -1}");
    assert_eq!(st, 400);
    assert!(
        body.starts_with("bad request: invalid value: integer `-1`, expected u32"),
        "{body}"
    );
    let (st, body) = post(&url, "/tx", &"00".repeat(100_000));
    assert_eq!(st, 400);
    assert_eq!(
        body,
        "sendrawtransaction RPC error: {\"code\":-22,\"message\":\"TX decode failed. Make sure \
         the tx has at least one input.\"}"
    );
    for line in [
        "",
        "[]",
        "[1,2]",
        "null",
        "{\"id\":1,\"method\":5}",
        "{\"id\":1,\"method\":\"blockchain.block.headers\",\"params\":[4294967295, 4294967295]}",
    ] {
        let mut c = Electrum::connect(sb.electrum_addr());
        c.send_line(line);
        c.send_line("{\"id\":9,\"method\":\"server.ping\"}");
        let _ = c.read_line();
    }
    let mut c = Electrum::connect(sb.electrum_addr());
    let r = c.call(
        "blockchain.block.headers",
        serde_json::json!([4294967295u64, 4294967295u64]),
    );
    assert_eq!(r["result"]["count"], 0);
    let r = c.call(
        "blockchain.transaction.id_from_pos",
        serde_json::json!([0, 99]),
    );
    assert_eq!(r["error"], "missing txid");
    assert_eq!(get(&url, "/blocks/tip/height").1, "0");
    sb.shutdown();
}

#[test]
fn concurrent_clients() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let url = sb.esplora_url();
    let electrum = sb.electrum_addr();
    let workers: Vec<_> = (0..4u8)
        .map(|t| {
            let url = url.clone();
            std::thread::spawn(move || {
                let addr = p2wpkh(10 + t, t % 2 == 0);
                let mut c = Electrum::connect(electrum);
                c.call(
                    "blockchain.scripthash.subscribe",
                    serde_json::json!([electrum_sh(&addr)]),
                );
                for i in 0..8u64 {
                    control::faucet(&url, &addr.to_string(), 1_000 + i, None).unwrap();
                    if i % 4 == 3 {
                        control::mine(&url, 1).unwrap();
                    }
                    let _ = get(&url, &format!("/scripthash/{}/txs", esplora_sh(&addr)));
                }
                addr
            })
        })
        .collect();
    let addrs: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()).collect();
    sb.mine(1).unwrap();
    for a in addrs {
        let st = get_json(&url, &format!("/scripthash/{}", esplora_sh(&a)));
        assert_eq!(st["chain_stats"]["tx_count"], 8);
    }
    sb.shutdown();
}

#[test]
fn one_sandbox_per_state_dir() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = SandboxConfig {
        state_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let first = Sandbox::start(cfg.clone()).unwrap();
    first.mine(1).unwrap();
    let second = Sandbox::start(cfg.clone());
    assert!(
        matches!(&second, Err(Error::Storage(m)) if m.contains("in use")),
        "{:?}",
        second.err()
    );
    first.shutdown();
    let again = Sandbox::start(cfg).unwrap();
    assert_eq!(again.tip_height(), 1);
}
