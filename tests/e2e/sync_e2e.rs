//! `sync`, `balance`, `txs`, `utxos` and `tx show` through the built binary against an
//! in-process sandbox, over both backends; hostile servers; the gap limit after a restore; a
//! restored wallet's history after spends. Reorgs: `tests/e2e/sync_reorg.rs` (the sandbox orphans
//! blocks); payments back and forth: `tests/e2e/payments.rs`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::str::FromStr;

use crate::common::{Run, Sandbox as Home};
use elements::{Address, AssetId};
use regtest::{Sandbox, SandboxConfig};
use serde_json::Value;

const LBTC: &str = "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225";

/// The two ways of reaching the sandbox, as global flags.
fn backends(sb: &Sandbox) -> [(&'static str, Vec<String>); 2] {
    [
        ("esplora", vec!["--esplora".into(), sb.esplora_url()]),
        (
            "electrum",
            vec!["--electrum".into(), sb.electrum_addr().to_string()],
        ),
    ]
}

/// Runs `liquid-otc --network regtest <server flags> <args>`.
fn lotc(home: &Home, server: &[String], args: &[&str]) -> Run {
    let mut all: Vec<&str> = vec!["--network", "regtest"];
    all.extend(server.iter().map(String::as_str));
    all.extend(args);
    home.run(&all)
}

fn new_address(home: &Home, wallet: &str) -> Address {
    let v = lotc(home, &[], &["--wallet", wallet, "--json", "address", "new"])
        .ok()
        .json();
    Address::from_str(v["address"].as_str().unwrap()).unwrap()
}

/// `balance --offline --json` as (asset → (confirmed, unconfirmed)).
fn balances(home: &Home, wallet: &str) -> Vec<(String, u64, u64)> {
    let v = lotc(
        home,
        &[],
        &["--wallet", wallet, "--json", "balance", "--offline"],
    )
    .ok()
    .json();
    v["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["asset"].as_str().unwrap().to_owned(),
                b["confirmed"].as_u64().unwrap(),
                b["unconfirmed"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// A fresh random wallet `name` (so that each test case has addresses of its own).
fn create_wallet(home: &Home, name: &str) {
    let words = home.path(&format!("{name}.words"));
    lotc(
        home,
        &[],
        &[
            "--json",
            "wallet",
            "create",
            "--name",
            name,
            "--passphrase-file",
            &home.pass(),
            "--mnemonic-out",
            words.to_str().unwrap(),
        ],
    )
    .ok();
}

fn import_watch_only(home: &Home, from: &str, name: &str) {
    let d = lotc(
        home,
        &[],
        &["--wallet", from, "--json", "wallet", "descriptor"],
    )
    .ok()
    .json();
    let descriptor = d["descriptor"].as_str().unwrap();
    let file = home.path(&format!("{name}.descriptor"));
    std::fs::write(&file, descriptor).unwrap();
    lotc(
        home,
        &[],
        &[
            "--json",
            "wallet",
            "import",
            "--name",
            name,
            "--descriptor-file",
            file.to_str().unwrap(),
        ],
    )
    .ok();
}

#[test]
fn receive_confirm_explicit_and_watch_only_over_both_backends() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let issued = sb.issue(5_000_000_000, Some("TEST")).unwrap();
    sb.mine(1).unwrap();
    for (kind, server) in backends(&sb) {
        let home = Home::new();
        create_wallet(&home, "alice");
        let a0 = new_address(&home, "alice");
        let a1 = new_address(&home, "alice");
        let a2 = new_address(&home, "alice").to_unconfidential();
        let t_lbtc = sb.faucet(&a0, 125_000_000, None).unwrap();
        let t_asset = sb.faucet(&a1, 700_000_000, Some(issued.asset)).unwrap();
        let t_explicit = sb.faucet(&a2, 50_000_000, None).unwrap();
        // A payment to one of alice's scripts blinded to someone else's key: it cannot be
        // read, counts in no balance, and is reported.
        let mut misblinded = new_address(&home, "alice");
        let secp = elements::secp256k1_zkp::Secp256k1::new();
        let stranger = elements::secp256k1_zkp::SecretKey::from_slice(&[7u8; 32]).unwrap();
        misblinded.blinding_pubkey = Some(elements::secp256k1_zkp::PublicKey::from_secret_key(
            &secp, &stranger,
        ));
        let t_misblinded = sb.faucet(&misblinded, 30_000_000, None).unwrap();

        let r = lotc(&home, &server, &["--wallet", "alice", "--json", "sync"])
            .ok()
            .json();
        assert_eq!(r["new_txs"], 4, "{kind}: {r}");
        assert_eq!(r["unreadable_outputs"], 1, "{kind}: {r}");
        assert_eq!(r["height"], sb.tip_height(), "{kind}");
        for key in ["tip", "requests", "elapsed_ms"] {
            assert!(!r[key].is_null(), "{kind}: {key} missing in {r}");
        }
        let mut b = balances(&home, "alice");
        b.sort();
        let asset = issued.asset.to_string();
        let mut want = vec![
            (LBTC.to_owned(), 0, 175_000_000),
            (asset.clone(), 0, 700_000_000),
        ];
        want.sort();
        assert_eq!(b, want, "{kind}: unconfirmed first");

        sb.mine(1).unwrap();
        // `balance` syncs first.
        let v = lotc(&home, &server, &["--wallet", "alice", "--json", "balance"])
            .ok()
            .json();
        let lbtc = v["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == LBTC)
            .unwrap();
        assert_eq!(lbtc["confirmed"], 175_000_000, "{kind}: {v}");
        assert_eq!(lbtc["unconfirmed"], 0);
        assert_eq!(lbtc["ticker"], "L-BTC");
        let other = v["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["asset"] == asset.as_str())
            .unwrap();
        assert_eq!(other["confirmed"], 700_000_000);
        assert!(other["ticker"].is_null(), "no ticker for an unknown asset");
        assert_eq!(v["height"], sb.tip_height());

        // Human balance.
        let text = lotc(&home, &[], &["--wallet", "alice", "balance", "--offline"]).ok();
        assert!(text.stdout.contains("L-BTC"), "{}", text.stdout);
        assert!(text.stdout.contains("1.75"), "{}", text.stdout);

        // utxos: three, the explicit one flagged public and paid to the unconfidential address.
        let u = lotc(&home, &[], &["--wallet", "alice", "--json", "utxos"])
            .ok()
            .json();
        let u = u.as_array().unwrap();
        assert_eq!(u.len(), 3, "{kind}: {u:?}");
        for row in u {
            assert_eq!(row["height"], sb.tip_height());
            assert_eq!(row["spendable"], true);
            let public = row["txid"] == t_explicit.to_string().as_str();
            assert_eq!(row["public"], public, "{row}");
            if public {
                assert_eq!(row["value"], 50_000_000);
                assert_eq!(row["address"], a2.to_string().as_str());
            }
        }

        // txs: four, confirmed, with their net effect and fee; the unreadable payment is in
        // the history (it touches alice's script) with no effect.
        let t = lotc(&home, &[], &["--wallet", "alice", "--json", "txs"])
            .ok()
            .json();
        let t = t.as_array().unwrap();
        assert_eq!(t.len(), 4);
        let unreadable = t
            .iter()
            .find(|r| r["txid"] == t_misblinded.to_string().as_str())
            .unwrap();
        assert_eq!(unreadable["net"], serde_json::json!({}), "{unreadable}");
        for row in t {
            assert_eq!(row["status"], "confirmed");
            assert_eq!(row["height"], sb.tip_height());
            assert!(row["time"].as_u64().unwrap() > 0);
            assert!(row["fee"].as_u64().unwrap() > 0);
        }
        let asset_tx = t
            .iter()
            .find(|r| r["txid"] == t_asset.to_string().as_str())
            .unwrap();
        assert_eq!(asset_tx["net"][asset.as_str()], 700_000_000);
        let limited = lotc(
            &home,
            &[],
            &["--wallet", "alice", "--json", "txs", "--limit", "1"],
        )
        .ok()
        .json();
        assert_eq!(limited.as_array().unwrap().len(), 1);

        // tx show: the wallet's output unblinded, the others hidden or explicit.
        let s = lotc(
            &home,
            &[],
            &[
                "--wallet",
                "alice",
                "--json",
                "tx",
                "show",
                &t_lbtc.to_string(),
            ],
        )
        .ok()
        .json();
        let mine: Vec<&Value> = s["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["mine"] == true)
            .collect();
        assert_eq!(mine.len(), 1, "{s}");
        assert_eq!(mine[0]["value"], 125_000_000);
        assert_eq!(mine[0]["asset"], LBTC);
        assert_eq!(mine[0]["address"], a0.to_string().as_str());
        assert!(s["outputs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["fee"] == true));
        let human = lotc(
            &home,
            &[],
            &["--wallet", "alice", "tx", "show", &t_lbtc.to_string()],
        )
        .ok();
        assert!(human.stdout.contains("1.25 L-BTC"), "{}", human.stdout);
        lotc(
            &home,
            &[],
            &["--wallet", "alice", "tx", "show", &"00".repeat(32)],
        )
        .fails(1, "error: transaction 0000000000000000000000000000000000000000000000000000000000000000 is not one of wallet 'alice's");

        // A watch-only wallet sees the same.
        import_watch_only(&home, "alice", "watch");
        lotc(&home, &server, &["--wallet", "watch", "--json", "sync"]).ok();
        assert_eq!(balances(&home, "watch"), balances(&home, "alice"));
        let wu = lotc(&home, &[], &["--wallet", "watch", "--json", "utxos"])
            .ok()
            .json();
        assert_eq!(wu.as_array().unwrap().len(), 3);
        assert!(wu
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["spendable"] == false));

        // Nothing new: no download.
        let r = lotc(&home, &server, &["--wallet", "alice", "--json", "sync"])
            .ok()
            .json();
        assert_eq!(r["new_txs"], 0);
    }
    sb.shutdown();
}

#[test]
fn nothing_new_costs_one_electrum_round_trip() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let home = Home::new();
    home.restore_abandon("w");
    let a = new_address(&home, "w");
    sb.faucet(&a, 10_000, None).unwrap();
    sb.mine(1).unwrap();
    let server = vec!["--electrum".to_owned(), sb.electrum_addr().to_string()];
    let r = lotc(&home, &server, &["--json", "sync"]).ok().json();
    assert_eq!(r["new_txs"], 1);
    let r = lotc(&home, &server, &["--json", "sync"]).ok().json();
    assert_eq!(r["new_txs"], 0);
    assert_eq!(
        r["requests"], 1,
        "an unchanged wallet costs one round trip: {r}"
    );
    sb.shutdown();
}

#[test]
fn gap_limit_after_restore_and_same_history() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let home = Home::new();
    // A first instance hands out 26 addresses and is paid at 0 and at index 25.
    home.restore_abandon("first");
    let mut last = None;
    let mut a0 = None;
    for _ in 0..26 {
        let a = new_address(&home, "first");
        a0.get_or_insert(a.clone());
        last = Some(a);
    }
    sb.faucet(&a0.unwrap(), 30_000, None).unwrap();
    sb.faucet(&last.unwrap(), 40_000, None).unwrap();
    sb.mine(1).unwrap();
    let server = vec!["--esplora".to_owned(), sb.esplora_url()];
    lotc(&home, &server, &["--wallet", "first", "--json", "sync"]).ok();
    assert_eq!(
        balances(&home, "first"),
        vec![(LBTC.to_owned(), 70_000, 0)],
        "addresses handed out are always scanned"
    );

    // Restored elsewhere: a gap of 20 stops before index 25 (documented), 30 finds it.
    home.restore_abandon("restored");
    lotc(&home, &server, &["--wallet", "restored", "--json", "sync"]).ok();
    assert_eq!(
        balances(&home, "restored"),
        vec![(LBTC.to_owned(), 30_000, 0)]
    );
    lotc(
        &home,
        &server,
        &[
            "--wallet",
            "restored",
            "--json",
            "sync",
            "--gap-limit",
            "30",
        ],
    )
    .ok();
    assert_eq!(
        balances(&home, "restored"),
        vec![(LBTC.to_owned(), 70_000, 0)]
    );
    // The next address is past every used index.
    let next = lotc(
        &home,
        &[],
        &["--wallet", "restored", "--json", "address", "new"],
    )
    .ok()
    .json();
    assert_eq!(next["index"], 26);
    // Same history as the original.
    let txs = |w: &str| {
        let v = lotc(&home, &[], &["--wallet", w, "--json", "txs"])
            .ok()
            .json();
        let mut ids: Vec<String> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| format!("{}:{}:{}", r["txid"], r["height"], r["net"]))
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(txs("first"), txs("restored"));
    sb.shutdown();
}

#[test]
fn regtest_without_server_says_how_to_start_the_sandbox() {
    let home = Home::new();
    home.restore_abandon("w");
    let e = lotc(&home, &[], &["--json", "sync"])
        .fails_json(
            2,
            "no_server",
            "regtest has no default chain server and no running sandbox is recorded",
        )
        .json_error();
    assert!(e["hints"].to_string().contains("sandbox start"), "{e}");
    // Offline commands work without any server.
    lotc(&home, &[], &["--json", "balance", "--offline"]).ok();
    lotc(&home, &[], &["--json", "txs"]).ok();
    lotc(&home, &[], &["--json", "utxos"]).ok();
}

#[test]
fn a_liquid_wallet_refuses_a_regtest_server_with_exit_3() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    sb.mine(1).unwrap();
    let home = Home::new();
    home.run_with_stdin(
        &[
            "--network",
            "liquid",
            "wallet",
            "restore",
            "--name",
            "main",
            "--passphrase-file",
            &home.pass(),
        ],
        Some(crate::common::ABANDON),
    )
    .ok();
    for (name, server) in backends(&sb) {
        let mut args: Vec<&str> = vec!["--network", "liquid"];
        args.extend(server.iter().map(String::as_str));
        args.extend(["--wallet", "main", "--json", "sync"]);
        let r = home.run(&args);
        assert_eq!(r.code, 3, "{name}: {}", r.stderr);
        let e = r.json_error();
        assert_eq!(e["code"], "wrong_chain", "{name}: {e}");
        let message = e["message"].as_str().unwrap();
        assert!(message.contains("is not a liquid server"), "{message}");
        assert!(
            message.contains("00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21"),
            "names the server's (liquidregtest) genesis: {message}"
        );
        // Nothing was learned from it.
        let balance = home.run(&["--network", "liquid", "--json", "balance", "--offline"]);
        assert_eq!(balance.ok().json()["balances"], serde_json::json!([]));
    }
    // The same server is fine for a regtest wallet.
    home.restore_abandon("w");
    let (_, server) = &backends(&sb)[1];
    lotc(&home, server, &["--wallet", "w", "sync"]).ok();
}

/// A one-connection-at-a-time HTTP server whose answers come from `handler(path)`; `None`
/// forwards the request to `upstream` unchanged.
fn hostile_http(
    upstream: String,
    handler: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
            }
            let body = match handler(&path) {
                Some(b) => b,
                // Raw bodies are binary: fetch their hex form and decode it.
                None => match path.strip_suffix("/raw") {
                    Some(p) => {
                        let hex = format!("{p}/hex");
                        let (status, body) =
                            regtest::control::request(&upstream, "GET", &hex, None).unwrap();
                        assert_eq!(status, 200, "{path}");
                        unhex(body.trim())
                    }
                    None => {
                        let (status, body) =
                            regtest::control::request(&upstream, "GET", &path, None).unwrap();
                        assert_eq!(status, 200, "{path}");
                        body.into_bytes()
                    }
                },
            };
            // A body starting with TRUNCATE announces twice its length, then closes.
            let declared = if body.starts_with(b"TRUNCATE") {
                body.len() * 2
            } else {
                body.len()
            };
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {declared}\r\nconnection: close\r\n\r\n"
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    url
}

#[test]
fn hostile_servers_fail_with_exit_4_and_leave_the_store_unchanged() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let home = Home::new();
    home.restore_abandon("w");
    let a = new_address(&home, "w");
    sb.faucet(&a, 10_000, None).unwrap();
    sb.mine(1).unwrap();
    let good = vec!["--esplora".to_owned(), sb.esplora_url()];
    lotc(&home, &good, &["--json", "sync"]).ok();
    let before = balances(&home, "w");
    assert_eq!(before, vec![(LBTC.to_owned(), 10_000, 0)]);
    // Something new arrives that the hostile servers will spoil.
    sb.faucet(&a, 20_000, None).unwrap();
    let first_tx = {
        let v = lotc(&home, &[], &["--json", "txs"]).ok().json();
        v[0]["txid"].as_str().unwrap().to_owned()
    };

    // 1. A transaction that does not hash to the txid asked for.
    let upstream = sb.esplora_url();
    let first = first_tx.clone();
    let swap = hostile_http(upstream.clone(), move |path| {
        if path.starts_with("/tx/") && path.ends_with("/raw") {
            let (_, body) =
                regtest::control::request(&upstream, "GET", &format!("/tx/{first}/hex"), None)
                    .unwrap();
            return Some(unhex(body.trim()));
        }
        None
    });
    let r = lotc(
        &home,
        &["--esplora".into(), swap.clone()],
        &["--json", "sync"],
    );
    let e = r
        .fails_json(4, "backend", "but the server sent")
        .json_error();
    assert!(
        e["message"].as_str().unwrap().contains(&swap),
        "names the server: {e}"
    );
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("asked for transaction"),
        "{e}"
    );
    assert_eq!(balances(&home, "w"), before, "store unchanged");

    // 2. Garbage JSON for a history.
    let garbage = hostile_http(sb.esplora_url(), |path| {
        path.starts_with("/scripthash/")
            .then(|| b"[{\"txid\": 12, oops".to_vec())
    });
    let r = lotc(
        &home,
        &["--esplora".into(), garbage.clone()],
        &["--json", "sync"],
    );
    assert!(r
        .fails_json(
            4,
            "backend",
            "/txs: malformed JSON (invalid type: integer `12`"
        )
        .json_error()["message"]
        .as_str()
        .unwrap()
        .contains(&garbage));
    assert_eq!(balances(&home, "w"), before);

    // 2b. A history cut short (the connection closes before the announced length).
    let truncated = hostile_http(sb.esplora_url(), |path| {
        path.starts_with("/scripthash/")
            .then(|| b"TRUNCATE[{\"txid\":\"ab".to_vec())
    });
    let r = lotc(
        &home,
        &["--esplora".into(), truncated.clone()],
        &["--json", "sync"],
    );
    assert!(r
        .fails_json(
            4,
            "backend",
            "the connection closed before the answer was complete",
        )
        .json_error()["message"]
        .as_str()
        .unwrap()
        .contains(&truncated));
    assert_eq!(balances(&home, "w"), before);

    // 3. A server that accepts and never answers, with a short timeout.
    let stall = TcpListener::bind("127.0.0.1:0").unwrap();
    let stall_addr = stall.local_addr().unwrap();
    let held = std::sync::Arc::new(std::sync::Mutex::new(Vec::<TcpStream>::new()));
    let keep = held.clone();
    std::thread::spawn(move || {
        for s in stall.incoming().flatten() {
            keep.lock().unwrap().push(s);
        }
    });
    for flag in ["--esplora", "--electrum"] {
        let url = if flag == "--esplora" {
            format!("http://{stall_addr}")
        } else {
            stall_addr.to_string()
        };
        let started = std::time::Instant::now();
        let r = lotc(
            &home,
            &[flag.into(), url, "--timeout".into(), "1".into()],
            &["--json", "sync"],
        );
        assert_eq!(r.code, 4, "{flag}: {}", r.stderr);
        assert_eq!(r.json_error()["code"], "backend", "{flag}: {}", r.stderr);
        assert!(
            r.json_error()["message"]
                .as_str()
                .unwrap()
                .contains("timed out"),
            "{flag}: {}",
            r.stderr
        );
        assert!(started.elapsed().as_secs() < 20, "{flag} gave up in time");
        assert_eq!(balances(&home, "w"), before);
    }

    // 4. An Electrum server that answers garbage.
    let bad = TcpListener::bind("127.0.0.1:0").unwrap();
    let bad_addr = bad.local_addr().unwrap();
    std::thread::spawn(move || {
        for mut s in bad.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"this is not json\n");
        }
    });
    let r = lotc(
        &home,
        &["--electrum".into(), bad_addr.to_string()],
        &["--json", "sync"],
    );
    assert!(r
        .fails_json(4, "backend", "malformed answer: expected ident")
        .json_error()["message"]
        .as_str()
        .unwrap()
        .contains(&bad_addr.to_string()));
    assert_eq!(balances(&home, "w"), before);

    // The honest server still works afterwards.
    lotc(&home, &good, &["--json", "sync"]).ok();
    assert_eq!(
        balances(&home, "w"),
        vec![(LBTC.to_owned(), 10_000, 20_000)]
    );
    drop(held);
    sb.shutdown();
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn asset_labels_from_config_are_trusted_tickers() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let issued = sb.issue(1_000, None).unwrap();
    let home = Home::new();
    home.restore_abandon("w");
    let a = new_address(&home, "w");
    sb.faucet(&a, 1_000, Some(issued.asset)).unwrap();
    let config = serde_json::json!({
        "regtest": { "asset_labels": { issued.asset.to_string(): "MINE" } }
    });
    std::fs::write(home.home().join("config.json"), config.to_string()).unwrap();
    let server = vec!["--esplora".to_owned(), sb.esplora_url()];
    let v = lotc(&home, &server, &["--json", "balance"]).ok().json();
    let row = &v["balances"][0];
    assert_eq!(row["asset"], issued.asset.to_string().as_str());
    assert_eq!(row["ticker"], "MINE");
    assert_eq!(
        AssetId::from_str(row["asset"].as_str().unwrap()).unwrap(),
        issued.asset
    );
    // A bad label is refused with the file named.
    let config = serde_json::json!({ "regtest": { "asset_labels": { "zz": "X" } } });
    std::fs::write(home.home().join("config.json"), config.to_string()).unwrap();
    lotc(&home, &[], &["balance", "--offline"]).fails(
        2,
        "config.json: regtest.asset_labels: 'zz' is not an asset id",
    );
    sb.shutdown();
}

#[test]
fn restored_wallet_finds_the_same_history_after_spends() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    for (kind, server) in backends(&sb) {
        let home = Home::new();
        create_wallet(&home, "alice");
        create_wallet(&home, "bob");
        let a = new_address(&home, "alice");
        sb.faucet(&a, 100_000_000, None).unwrap();
        sb.mine(1).unwrap();
        lotc(&home, &server, &["--wallet", "alice", "--json", "sync"]).ok();
        // Alice pays Bob (change goes to her internal keychain), Bob pays part back.
        let to_bob = new_address(&home, "bob");
        let pay = |from: &str, to: &Address, amount: &str| {
            lotc(
                &home,
                &server,
                &[
                    "--wallet",
                    from,
                    "--json",
                    "--yes",
                    "send",
                    "--to",
                    &format!("{to}:{amount}"),
                    "--passphrase-file",
                    &home.pass(),
                ],
            )
            .ok();
        };
        pay("alice", &to_bob, "0.4");
        sb.mine(1).unwrap();
        lotc(&home, &server, &["--wallet", "bob", "--json", "sync"]).ok();
        let to_alice = new_address(&home, "alice");
        pay("bob", &to_alice, "0.1");
        // One confirmed, one in the mempool.
        lotc(&home, &server, &["--wallet", "alice", "--json", "sync"]).ok();

        let words = std::fs::read_to_string(home.path("alice.words")).unwrap();
        home.restore("restored", words.trim());
        lotc(&home, &server, &["--wallet", "restored", "--json", "sync"]).ok();
        let history = |w: &str| {
            let v = lotc(&home, &[], &["--wallet", w, "--json", "txs"])
                .ok()
                .json();
            crate::common::history_rows(&v)
        };
        let original = history("alice");
        assert_eq!(original.len(), 3, "{kind}: {original:?}");
        assert_eq!(history("restored"), original, "{kind}");
        assert_eq!(
            balances(&home, "restored"),
            balances(&home, "alice"),
            "{kind}"
        );
        let utxos = |w: &str| {
            let v = lotc(&home, &[], &["--wallet", w, "--json", "utxos"])
                .ok()
                .json();
            let mut o: Vec<String> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|r| format!("{}|{}|{}", r["outpoint"], r["value"], r["keychain"]))
                .collect();
            o.sort();
            o
        };
        assert_eq!(utxos("restored"), utxos("alice"), "{kind}");
        assert!(
            utxos("alice").iter().any(|u| u.ends_with("internal\"")),
            "{kind}: change is on the internal keychain"
        );
    }
    sb.shutdown();
}

/// A transaction sync stored (it spends the wallet's coin) while the address it pays back was
/// past the watched window: once a later sync watches that address (`--full` with a larger
/// gap limit), the output is read from the stored transaction, which is not downloaded again.
#[test]
fn an_output_of_a_stored_transaction_is_found_once_its_address_is_watched() {
    use crate::common::scene::{Scene, COIN};
    use crate::common::ABANDON;
    // Two copies of one wallet: "phone" hands out addresses far ahead, "desk" does not.
    let scene = Scene::new(&[("desk", ABANDON), ("phone", ABANDON)]);
    let funded = scene.address("desk");
    scene.fund(&funded, COIN);
    let mut far = String::new();
    for _ in 0..28 {
        far = scene.address("phone");
    }
    let to_far = format!("{far}:0.5");
    let pass = scene.sb.pass();
    scene
        .run(
            "phone",
            &["--yes", "send", "--to", &to_far, "--passphrase-file", &pass],
            None,
        )
        .ok();
    scene.chain.mine(1).unwrap();
    // desk stores the transaction (it spends desk's coin) but does not watch index 27.
    let (partial, _) = scene.lbtc("desk");
    let (whole, _) = scene.lbtc("phone");
    assert!(partial < whole, "desk does not see the far output yet");
    scene
        .run("desk", &["sync", "--full", "--gap-limit", "30"], None)
        .ok();
    let doc = scene
        .run("desk", &["--json", "balance", "--offline"], None)
        .ok()
        .json();
    let (found, _) = crate::common::balance_of(&doc, &scene.chain.policy_asset().to_string());
    assert_eq!(
        found, whole,
        "desk reads the stored transaction's output once it watches it"
    );
}
