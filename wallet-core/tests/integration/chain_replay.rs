//! The chain backends against the recorded answers of a real electrs + elementsd on
//! liquidregtest (shared/fixtures/electrs-liquidregtest), replayed on loopback.

use std::path::Path;

use crate::chain_support::{read_json, unhex, wallet_script, ElectrumReplay, EsploraReplay};
use elements::{BlockHash, Script, Transaction, Txid};
use wallet_core::chain::{
    electrum_scripthash, electrum_status, esplora_scripthash, Backend, BackendConfig, HistoryEntry,
};
use wallet_core::Error;

const TIP_HASH: &str = "ede680b8a1e16dd39b0089663598074db49c25270125027a7778f108bcfc8a76";
const GENESIS: &str = "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21";

/// The wallet paths with recorded histories, and their fixture suffix.
const PATHS: [(&str, u64, &str); 7] = [
    ("external", 0, "external0"),
    ("external", 1, "external1"),
    ("external", 2, "external2"),
    ("external", 3, "external3"),
    ("external", 4, "external4"),
    ("external", 7, "external7"),
    ("internal", 0, "internal0"),
];

fn scripts(fx: &Path) -> Vec<Script> {
    PATHS
        .iter()
        .map(|(c, i, _)| wallet_script(fx, c, *i))
        .collect()
}

/// Electrum's recorded `get_history` of each path.
fn recorded_histories(fx: &Path) -> Vec<Vec<HistoryEntry>> {
    PATHS
        .iter()
        .map(|(_, _, name)| {
            let f = read_json(&fx.join(format!(
                "electrum/blockchain.scripthash.get_history_{name}.json"
            )));
            f["response"]["result"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| HistoryEntry {
                    txid: e["tx_hash"].as_str().unwrap().parse().unwrap(),
                    height: e["height"].as_i64().unwrap() as i32,
                    fee: e["fee"].as_u64(),
                })
                .collect()
        })
        .collect()
}

fn recorded_statuses(fx: &Path) -> Vec<Option<String>> {
    PATHS
        .iter()
        .map(|(_, _, name)| {
            let f = read_json(&fx.join(format!(
                "electrum/blockchain.scripthash.subscribe_{name}.json"
            )));
            f["response"]["result"].as_str().map(str::to_owned)
        })
        .collect()
}

fn without_fees(h: &[Vec<HistoryEntry>]) -> Vec<Vec<(Txid, i32)>> {
    h.iter()
        .map(|v| v.iter().map(|e| (e.txid, e.height)).collect())
        .collect()
}

/// The raw transactions recorded by Esplora (`/tx/:txid/raw`).
fn recorded_raw_txids(fx: &Path) -> Vec<Txid> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fx.join("esplora")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("phase") || !name.ends_with("_raw.json") {
            continue;
        }
        let f = read_json(&path);
        let p = f["path"].as_str().unwrap();
        if let Some(txid) = p.strip_prefix("/tx/").and_then(|r| r.strip_suffix("/raw")) {
            out.push(txid.parse().unwrap());
        }
    }
    out.sort();
    out
}

fn recorded_post_tx(fx: &Path, file: &str) -> (Transaction, serde_json::Value) {
    let f = read_json(&fx.join("esplora").join(file));
    let hex = f["request_body"].as_str().unwrap();
    let tx = elements::encode::deserialize(&unhex(hex.trim())).unwrap();
    (tx, f)
}

#[test]
fn scripthashes_follow_each_servers_byte_order() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let w = read_json(&fx.join("wallet/wallet.json"));
    for a in w["addresses"].as_array().unwrap() {
        let script = Script::from(unhex(a["script_pubkey"].as_str().unwrap()));
        assert_eq!(esplora_scripthash(&script), a["esplora_scripthash"]);
        assert_eq!(electrum_scripthash(&script), a["electrum_scripthash"]);
    }
}

#[test]
fn electrum_status_hashes_recompute_from_history() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let v = read_json(&fx.join("electrum/status_hash_verification.json"));
    let checks = v["checks"].as_array().unwrap();
    assert!(checks.len() >= 7);
    for c in checks {
        let history: Vec<HistoryEntry> = c["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| HistoryEntry {
                txid: e["tx_hash"].as_str().unwrap().parse().unwrap(),
                height: e["height"].as_i64().unwrap() as i32,
                fee: e["fee"].as_u64(),
            })
            .collect();
        let status = electrum_status(&history);
        assert_eq!(
            status.as_deref(),
            c["server_status"].as_str(),
            "{}",
            c["address"]
        );
        assert_eq!(status.as_deref(), c["computed_status"].as_str());
    }
}

#[test]
fn esplora_replay_reads_every_recorded_shape() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let server = EsploraReplay::load(&fx).serve();
    let url = server.http_url();
    let b = BackendConfig::parse_esplora(&url)
        .unwrap()
        .with_concurrency(4)
        .connect()
        .unwrap();
    assert_eq!(b.server(), url);
    assert!(!b.supports_status());

    // Tip: the hash, then its header (which carries the height).
    let (height, hash) = b.tip().unwrap();
    assert_eq!(
        (height, hash),
        (111, TIP_HASH.parse::<BlockHash>().unwrap())
    );
    assert_eq!(b.requests(), 2);

    // Headers are variable-length (genesis 79 bytes, dynafed later): parsed, not split.
    let tip = b.block_header(111).unwrap();
    assert_eq!(tip.block_hash().to_string(), TIP_HASH);
    let genesis = b.block_header(0).unwrap();
    assert_eq!(genesis.block_hash().to_string(), GENESIS);
    let both = b.block_headers(&[111, 0]).unwrap();
    assert_eq!((both[0].height, both[1].height), (111, 0));
    assert_eq!(both[1].block_hash().to_string(), GENESIS);

    // Histories, including external/4's 30 transactions over two pages (25 + 5): the same
    // transactions and heights, in the same order, as Electrum's get_history.
    let scripts = scripts(&fx);
    let before = b.requests();
    let histories = b.histories(&scripts).unwrap();
    assert_eq!(
        without_fees(&histories),
        without_fees(&recorded_histories(&fx))
    );
    assert_eq!(histories[4].len(), 30);
    // One request per script, plus one more page for external/4.
    assert_eq!(b.requests() - before, scripts.len() as u64 + 1);
    // The mempool payment to external/0 comes last, with its fee.
    let last = histories[0].last().unwrap();
    assert_eq!(last.height, 0);
    assert_eq!(last.confirmed_height(), None);
    assert_eq!(last.fee, Some(2491));
    assert_eq!(histories[0][0].confirmed_height(), Some(102));
    // Statuses from Esplora histories equal the Electrum server's (one mempool tx, whose
    // parent is confirmed, so Esplora's 0 is Electrum's 0 here).
    let computed: Vec<Option<String>> = histories.iter().map(|h| electrum_status(h)).collect();
    assert_eq!(computed, recorded_statuses(&fx));
    // Esplora has no status hashes: no request, all None.
    let before = b.requests();
    assert_eq!(b.statuses(&scripts).unwrap(), vec![None; scripts.len()]);
    assert_eq!(b.requests(), before);

    // Raw transactions, each checked against its txid.
    let txids = recorded_raw_txids(&fx);
    assert!(txids.len() >= 7, "{txids:?}");
    let txs = b.transactions(&txids).unwrap();
    for (t, tx) in txids.iter().zip(&txs) {
        assert_eq!(tx.txid(), *t);
    }
    // An unknown transaction: electrs's 404 text, with the server named.
    let unknown: Txid = "abababababababababababababababababababababababababababababababab"
        .parse()
        .unwrap();
    let e = b.transactions(&[unknown]).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(msg.contains(&url) && msg.contains("404"), "{msg}");

    // Fee estimates: every target is 1.0 sat/vB on this regtest.
    assert_eq!(b.fee_estimate(6).unwrap(), Some(1.0));
    assert_eq!(b.fee_estimate(1000).unwrap(), Some(1.0));

    // The issuance of an issued asset; none for a reissuance token (electrs: 404) or an
    // unknown asset (404). For the policy asset electrs names the initial free coins'
    // transaction, which issues nothing: the caller's check refuses it.
    let issued: elements::AssetId =
        "2dcf5a8834645654911964ec3602426fd3b9b4017554d3f9c19403e7fc1411d3"
            .parse()
            .unwrap();
    let issuance: Txid = "b1002ea15425d3f7d7e87a451a6796cf248f95cd36930eec6eb29e435397ee32"
        .parse()
        .unwrap();
    assert_eq!(b.issuance_tx(&issued).unwrap(), Some(issuance));
    for none in [
        "508e509e3199a8ed8f653a09d9e456dd9aea8802712b9433692635c9e7cd9fca",
        "abababababababababababababababababababababababababababababababab",
    ] {
        let asset: elements::AssetId = none.parse().unwrap();
        assert_eq!(b.issuance_tx(&asset).unwrap(), None, "{none}");
    }
    let policy: elements::AssetId =
        "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225"
            .parse()
            .unwrap();
    let free_coins: Txid = "12a51d3e6441abbdb3a5b35983260dec3ff457a301a24a4e76d41b0c0adfb99b"
        .parse()
        .unwrap();
    assert_eq!(b.issuance_tx(&policy).unwrap(), Some(free_coins));
    // The recorded issuance carries that asset (blinded amounts: the token id is the
    // confidential-issuance one).
    let tx = &b.transactions(&[issuance]).unwrap()[0];
    let found = wallet_core::tx::new_issuances(tx);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].asset, issued);
    assert_eq!(
        found[0].token.to_string(),
        "508e509e3199a8ed8f653a09d9e456dd9aea8802712b9433692635c9e7cd9fca"
    );
    assert_eq!((found[0].amount, found[0].token_amount), (None, None));
}

#[test]
fn esplora_replay_broadcasts() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let server = EsploraReplay::load(&fx).serve();
    let url = server.http_url();
    let b = BackendConfig::parse_esplora(&url)
        .unwrap()
        .connect()
        .unwrap();

    // Success: the server answers the txid.
    let (tx, f) = recorded_post_tx(&fx, "post_tx_success_lwk_spend.json");
    assert_eq!(
        b.broadcast(&tx).unwrap().to_string(),
        f["body"].as_str().unwrap()
    );
    // A transaction already in the mempool: 200 and its txid again.
    let (tx, _) = recorded_post_tx(&fx, "post_tx_rebroadcast_mempool_tx.json");
    assert_eq!(b.broadcast(&tx).unwrap(), tx.txid());

    // Rejections keep the node's words and name the server.
    for (file, words) in [
        ("error_post_tx_double_spend.json", "txn-mempool-conflict"),
        (
            "error_post_tx_already_confirmed.json",
            "already in block chain",
        ),
        (
            "error_post_tx_missing_inputs.json",
            "bad-txns-inputs-missingorspent",
        ),
    ] {
        let (tx, _) = recorded_post_tx(&fx, file);
        let hits = server.hits();
        let e = b.broadcast(&tx).unwrap_err();
        assert_eq!(
            server.hits(),
            hits + 1,
            "a rejected broadcast is not retried"
        );
        match &e {
            Error::BroadcastRejected {
                server,
                txid,
                reason,
            } => {
                assert_eq!(server, &url);
                assert_eq!(txid, &tx.txid().to_string());
                assert!(reason.contains(words), "{reason}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

fn electrum(fx: &Path) -> (crate::chain_support::TestServer, Box<dyn Backend>) {
    let server = ElectrumReplay::load(fx).serve();
    let b = BackendConfig::parse_electrum(&server.tcp_url())
        .unwrap()
        .connect()
        .unwrap();
    (server, b)
}

#[test]
fn electrum_replay_reads_every_recorded_shape() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let (server, b) = electrum(&fx);
    assert!(b.supports_status());
    assert_eq!(b.server(), server.tcp_url());
    assert_eq!(
        b.requests(),
        0,
        "plain TCP: server.version goes with the first calls"
    );

    let (height, hash) = b.tip().unwrap();
    assert_eq!(b.requests(), 2, "server.version, then the tip");
    assert_eq!((height, hash.to_string().as_str()), (111, TIP_HASH));
    assert_eq!(b.block_header(111).unwrap().block_hash(), hash);
    assert_eq!(b.block_header(0).unwrap().block_hash().to_string(), GENESIS);
    let one = b.block_header(1).unwrap();
    assert_eq!(one.height, 1);
    let before = b.requests();
    let headers = b.block_headers(&[0, 1, 111]).unwrap();
    assert_eq!(b.requests() - before, 1);
    assert_eq!(headers[2].block_hash(), hash);
    assert_eq!(headers[1], one);

    // All seven histories in one batch round trip.
    let scripts = scripts(&fx);
    let before = b.requests();
    let histories = b.histories(&scripts).unwrap();
    assert_eq!(b.requests() - before, 1);
    assert_eq!(histories, recorded_histories(&fx));
    assert_eq!(histories[4].len(), 30);

    // Status hashes: the server's, and recomputable from the histories.
    let before = b.requests();
    let statuses = b.statuses(&scripts).unwrap();
    assert_eq!(b.requests() - before, 1);
    assert_eq!(statuses, recorded_statuses(&fx));
    assert_eq!(statuses[5], None, "external/7 has no history");
    let computed: Vec<Option<String>> = histories.iter().map(|h| electrum_status(h)).collect();
    assert_eq!(statuses, computed);
    // Asking again (already subscribed on this connection) gives the same, in one round trip.
    let before = b.requests();
    assert_eq!(b.statuses(&scripts).unwrap(), statuses);
    assert_eq!(b.requests() - before, 1);

    // More than 20 scripts: batches of at most 20 (electrs drops bigger ones), all three sent
    // together: one round trip.
    let many: Vec<Script> = scripts.iter().cycle().take(45).cloned().collect();
    let before = b.requests();
    let h = b.histories(&many).unwrap();
    assert_eq!(b.requests() - before, 1);
    assert_eq!(h[44], histories[44 % 7]);

    // Transactions, checked against their txids.
    let replay = ElectrumReplay::load(&fx);
    let mut txids: Vec<Txid> = replay
        .calls
        .iter()
        .filter_map(|(k, v)| {
            let rest = k.strip_prefix("blockchain.transaction.get [\"")?;
            let txid = rest.strip_suffix("\"]")?;
            v["result"].as_str()?;
            txid.parse().ok()
        })
        .collect();
    txids.sort();
    assert!(txids.len() >= 3, "{txids:?}");
    for (t, tx) in txids.iter().zip(b.transactions(&txids).unwrap()) {
        assert_eq!(tx.txid(), *t);
    }
    // An unknown transaction: the server's error text, the server named.
    let unknown: Txid = "abababababababababababababababababababababababababababababababab"
        .parse()
        .unwrap();
    let e = b.transactions(&[unknown]).unwrap_err();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains(&server.tcp_url()) && msg.contains("missing transaction"),
        "{msg}"
    );
    // The connection is still usable after a server-side error.
    assert_eq!(b.tip().unwrap().0, 111);

    // estimatefee falls back to the relay fee, 1e-6 BTC/kvB = 0.1 sat/vB.
    assert_eq!(b.fee_estimate(6).unwrap(), Some(0.1));
}

#[test]
fn electrum_replay_broadcasts() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let (server, b) = electrum(&fx);
    let load = |file: &str| {
        let f = read_json(&fx.join("electrum").join(file));
        let hex = f["request"]["params"][0].as_str().unwrap().to_owned();
        let tx: Transaction = elements::encode::deserialize(&unhex(&hex)).unwrap();
        (tx, f)
    };
    let (tx, f) = load("blockchain.transaction.broadcast_success.json");
    assert_eq!(
        b.broadcast(&tx).unwrap().to_string(),
        f["response"]["result"].as_str().unwrap()
    );
    let (tx, _) = load("blockchain.transaction.broadcast_mempool_tx.json");
    assert_eq!(b.broadcast(&tx).unwrap(), tx.txid());
    for (file, words) in [
        (
            "blockchain.transaction.broadcast_double_spend.json",
            "txn-mempool-conflict",
        ),
        (
            "blockchain.transaction.broadcast_already_confirmed.json",
            "already in block chain",
        ),
    ] {
        let (tx, _) = load(file);
        match b.broadcast(&tx).unwrap_err() {
            Error::BroadcastRejected {
                server: s, reason, ..
            } => {
                assert_eq!(s, server.tcp_url());
                assert!(reason.contains(words), "{reason}");
            }
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn electrum_notifications_between_calls_are_absorbed() {
    // electrs pushes status and header notifications, without ids, on a connection that
    // subscribed; they arrive before the answer of whatever call comes next.
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let session = read_json(&fx.join("electrum/notifications_session.json"));
    let log = session["log"].as_array().unwrap();
    let notifications: Vec<String> = log
        .iter()
        .filter(|e| e["kind"] == "notification")
        .map(|e| e["raw"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(notifications.len(), 3);
    let first_status = log[1]["response"]["result"].as_str().unwrap().to_owned();
    let tip = read_json(&fx.join("electrum/blockchain.headers.subscribe.json"))["response"]
        ["result"]
        .clone();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let server = crate::chain_support::spawn_lines(move |line| {
        let req: serde_json::Value = serde_json::from_str(line).unwrap();
        let reply = |result| crate::chain_support::rpc_result(&req, result);
        crate::chain_support::LineAction::Reply(match req["method"].as_str().unwrap() {
            "server.version" => reply(serde_json::json!(["electrs-esplora 0.4.1", "1.4"])),
            "blockchain.scripthash.subscribe" => reply(serde_json::json!(first_status.clone())),
            _ => {
                let mut out = String::new();
                if !sent.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    for n in &notifications {
                        out.push_str(n);
                        out.push('\n');
                    }
                }
                out.push_str(&reply(tip.clone()));
                out
            }
        })
    });
    let b = BackendConfig::parse_electrum(&server.tcp_url())
        .unwrap()
        .connect()
        .unwrap();
    let external0 = wallet_script(&fx, "external", 0);
    let statuses = b.statuses(std::slice::from_ref(&external0)).unwrap();
    assert_eq!(
        statuses[0].as_deref(),
        log[1]["response"]["result"].as_str()
    );
    // The notifications arrive with this answer and are absorbed.
    assert_eq!(b.tip().unwrap().0, 111);
    assert_eq!(b.tip().unwrap().0, 111);
    assert_eq!(b.statuses(&[external0]).unwrap(), statuses);
}

#[test]
fn a_header_for_another_height_is_refused() {
    let Some(fx) = crate::chain_support::fixtures() else {
        return;
    };
    let tip_hex = read_json(&fx.join("electrum/blockchain.block.header_tip.json"))["response"]
        ["result"]
        .clone();
    let server = crate::chain_support::spawn_lines(move |line| {
        let req: serde_json::Value = serde_json::from_str(line).unwrap();
        let result = match req["method"].as_str().unwrap() {
            "server.version" => serde_json::json!(["x", "1.4"]),
            _ => tip_hex.clone(),
        };
        crate::chain_support::LineAction::Reply(crate::chain_support::rpc_result(&req, result))
    });
    let b = BackendConfig::parse_electrum(&server.tcp_url())
        .unwrap()
        .connect()
        .unwrap();
    for e in [
        b.block_header(5).unwrap_err(),
        b.block_headers(&[111, 5]).unwrap_err(),
    ] {
        assert!(matches!(e, Error::Backend { .. }), "{e:?}");
        let msg = e.to_string();
        assert!(msg.contains(&server.tcp_url()), "{msg}");
        assert!(
            msg.contains("asked for the header at height 5 but the server sent one at height 111"),
            "{msg}"
        );
    }
}
