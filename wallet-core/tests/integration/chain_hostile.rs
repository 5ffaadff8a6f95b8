//! The chain backends against servers that lie, break or stall: every case is an error that
//! names the server, never a panic and never a hang.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::chain_support::{
    hex, rpc_error, rpc_result, spawn_http, spawn_lines, HttpAction, LineAction, TestServer,
};
use elements::{Script, Transaction};
use serde_json::{json, Value};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::Error;

/// A small valid Elements transaction (one input, one explicit output), built in code.
fn sample_tx(n: u8) -> Transaction {
    let input = elements::TxIn {
        previous_output: elements::OutPoint::new(hex(&[n; 32]).parse().unwrap(), 0),
        ..Default::default()
    };
    let output = elements::TxOut {
        asset: elements::confidential::Asset::Explicit(
            "0707070707070707070707070707070707070707070707070707070707070707"
                .parse()
                .unwrap(),
        ),
        value: elements::confidential::Value::Explicit(1000 + u64::from(n)),
        nonce: elements::confidential::Nonce::Null,
        script_pubkey: Script::from(
            vec![0x00, 0x14]
                .into_iter()
                .chain([n; 20])
                .collect::<Vec<u8>>(),
        ),
        witness: Default::default(),
    };
    Transaction {
        version: 2,
        lock_time: elements::LockTime::ZERO,
        input: vec![input],
        output: vec![output],
    }
}

fn tx_hex(tx: &Transaction) -> String {
    hex(&elements::encode::serialize(tx))
}

fn esplora(server: &TestServer) -> Box<dyn Backend> {
    BackendConfig::parse_esplora(&server.http_url())
        .unwrap()
        .with_timeout(Duration::from_secs(5))
        .with_retries(2)
        .with_retry_backoff(Duration::from_millis(1))
        .connect()
        .unwrap()
}

fn assert_backend_error(e: &Error, server: &str, words: &str) {
    let msg = e.to_string();
    assert!(matches!(e, Error::Backend { .. }), "{e:?}");
    assert!(msg.contains(server), "'{msg}' does not name {server}");
    assert!(msg.contains(words), "'{msg}' does not say '{words}'");
}

#[test]
fn esplora_tx_that_does_not_hash_to_its_txid() {
    let other = sample_tx(2);
    let bytes = elements::encode::serialize(&other);
    let server = spawn_http(move |_| HttpAction::ok("application/octet-stream", bytes.clone()));
    let b = esplora(&server);
    let asked = sample_tx(1).txid();
    let e = b.transactions(&[asked]).unwrap_err();
    assert_backend_error(
        &e,
        &server.http_url(),
        &format!("asked for transaction {asked}"),
    );
    assert_eq!(server.hits(), 1, "a wrong answer is not retried");
    // Bytes that are not a transaction at all.
    let server = spawn_http(|_| HttpAction::ok("application/octet-stream", vec![1, 2, 3]));
    let e = esplora(&server).transactions(&[asked]).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "not a valid Liquid transaction");
}

#[test]
fn esplora_truncated_body_is_retried_then_reported() {
    let server = spawn_http(|_| {
        HttpAction::Raw(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789".to_vec())
    });
    let b = esplora(&server);
    let e = b.tip().unwrap_err();
    assert_backend_error(&e, &server.http_url(), "/blocks/tip/hash");
    assert_eq!(server.hits(), 3, "first try and two retries");
}

#[test]
fn esplora_garbage_json() {
    let server = spawn_http(|_| HttpAction::ok("application/json", "[{\"txid\": 12, oops"));
    let b = esplora(&server);
    let e = b.histories(&[Script::from(vec![0x51])]).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "malformed JSON");
    let e = b.fee_estimate(2).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "malformed JSON");
    // Well-formed JSON of the wrong shape.
    let server = spawn_http(|_| HttpAction::ok("application/json", "{\"a\":1}"));
    let e = esplora(&server).histories(&[Script::new()]).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "malformed JSON");
}

#[test]
fn esplora_http_500_then_success() {
    let tip = sample_tx(9); // any hash will do for the first request's answer
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = spawn_http(move |req| {
        let n = c.fetch_add(1, Ordering::SeqCst);
        match (n, req.path.as_str()) {
            (0, _) => HttpAction::status(500, "Internal Server Error"),
            (1, _) => HttpAction::status(429, "Too Many Requests"),
            (_, "/fee-estimates") => {
                HttpAction::ok("application/json", "{\"1\":3.5,\"6\":2.0,\"144\":1.0}")
            }
            _ => HttpAction::ok("text/plain", tip.txid().to_string()),
        }
    });
    let b = esplora(&server);
    assert_eq!(b.fee_estimate(10).unwrap(), Some(2.0));
    assert_eq!(b.requests(), 3);
    assert_eq!(b.fee_estimate(1).unwrap(), Some(3.5));
    assert_eq!(b.fee_estimate(200).unwrap(), Some(1.0));

    // 500 forever: bounded retries, then an error with the status and the server.
    let server = spawn_http(|_| HttpAction::status(503, "Service Unavailable"));
    let b = esplora(&server);
    let e = b.fee_estimate(1).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "HTTP 503");
    assert_eq!(server.hits(), 3);
    // 404 is an answer, not a hiccup: no retry.
    let server = spawn_http(|_| HttpAction::status(404, "Block not found"));
    let e = esplora(&server).block_header(7).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "Block not found");
    assert_eq!(server.hits(), 1);
}

#[test]
fn esplora_server_that_never_answers_times_out() {
    let server = spawn_http(|_| HttpAction::Hang);
    let b = BackendConfig::parse_esplora(&server.http_url())
        .unwrap()
        .with_timeout(Duration::from_millis(300))
        .with_retries(3)
        .connect()
        .unwrap();
    let e = b.tip().unwrap_err();
    assert_backend_error(&e, &server.http_url(), "timed out");
    assert_eq!(server.hits(), 1, "a timeout is not retried");
}

#[test]
fn esplora_refused_connection() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let b = BackendConfig::parse_esplora(&url)
        .unwrap()
        .with_retries(1)
        .with_retry_backoff(Duration::from_millis(1))
        .connect()
        .unwrap();
    let e = b.tip().unwrap_err();
    assert_backend_error(&e, &url, "/blocks/tip/hash");
    assert_eq!(b.requests(), 2);
}

#[test]
fn esplora_broadcast_is_never_retried_and_checks_the_txid() {
    let tx = sample_tx(3);
    let server = spawn_http(|_| HttpAction::status(502, "Bad Gateway"));
    let e = esplora(&server).broadcast(&tx).unwrap_err();
    assert_backend_error(
        &e,
        &server.http_url(),
        "may or may not have reached the network",
    );
    assert_eq!(server.hits(), 1);

    let other = sample_tx(4).txid().to_string();
    let server = spawn_http(move |req| {
        assert_eq!(req.method, "POST");
        HttpAction::ok("text/plain", other.clone())
    });
    let e = esplora(&server).broadcast(&tx).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "answered txid");

    let expected = tx_hex(&tx);
    let server = spawn_http(move |req| {
        assert_eq!(req.body, expected, "the raw hex is the body");
        HttpAction::ok("text/plain", sample_tx(3).txid().to_string())
    });
    assert_eq!(esplora(&server).broadcast(&tx).unwrap(), tx.txid());
}

#[test]
fn esplora_paging_that_repeats_is_an_error() {
    // A server that ignores last_seen (as electrs does for a malformed one) would page forever.
    let page: Vec<Value> = (0..25u8)
        .map(|n| {
            json!({"txid": sample_tx(n).txid().to_string(),
                   "status": {"confirmed": true, "block_height": 5}})
        })
        .collect();
    let body = serde_json::to_vec(&page).unwrap();
    let server = spawn_http(move |_| HttpAction::ok("application/json", body.clone()));
    let e = esplora(&server).histories(&[Script::new()]).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "paging went wrong");
    assert_eq!(server.hits(), 2);
}

#[test]
fn esplora_mempool_listed_twice_is_one_history() {
    // mempool.space's electrs lists a script's mempool transactions twice on the first page,
    // then confirmed ones up to 50 entries: 2 x 13 unconfirmed leave room for 24 confirmed,
    // and a page of 24 is followed by /txs/chain/:last.
    let txid = |n: u8| sample_tx(n).txid().to_string();
    let mut first: Vec<Value> = Vec::new();
    for _ in 0..2 {
        first.extend((0..13u8).map(|n| json!({"txid": txid(n), "status": {"confirmed": false}})));
    }
    first.extend((13..37u8).map(
        |n| json!({"txid": txid(n), "status": {"confirmed": true, "block_height": 200 - u32::from(n)}}),
    ));
    let second: Vec<Value> = (37..40u8)
        .map(|n| json!({"txid": txid(n), "status": {"confirmed": true, "block_height": 200 - u32::from(n)}}))
        .collect();
    let last = txid(36);
    let server = spawn_http(move |req| {
        let body = if req.path.ends_with(&format!("/txs/chain/{last}")) {
            serde_json::to_vec(&second).unwrap()
        } else {
            assert!(req.path.ends_with("/txs"), "{}", req.path);
            serde_json::to_vec(&first).unwrap()
        };
        HttpAction::ok("application/json", body)
    });
    let h = esplora(&server).histories(&[Script::new()]).unwrap();
    assert_eq!(server.hits(), 2);
    let h = &h[0];
    assert_eq!(h.len(), 40, "each transaction once");
    assert_eq!(h[0].height, 200 - 39, "oldest first");
    assert_eq!(h[26].height, 200 - 13);
    assert!(h[27..].iter().all(|e| e.height == 0), "then the mempool");
    let distinct: std::collections::HashSet<_> = h.iter().map(|e| e.txid).collect();
    assert_eq!(distinct.len(), 40);
}

#[test]
fn esplora_backs_off_politely_on_429_and_503() {
    // The first answer is 429 with Retry-After: 1; every later request must arrive at least
    // that long after it, then the answers are served. Then a 503 without Retry-After: the
    // retry backoff is waited instead, and the request still succeeds.
    use std::sync::Mutex;
    use std::time::Instant;
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let seen = arrivals.clone();
    let served = Arc::new(AtomicUsize::new(0));
    let count = served.clone();
    let server = spawn_http(move |_| {
        seen.lock().unwrap().push(Instant::now());
        match count.fetch_add(1, Ordering::SeqCst) {
            0 => HttpAction::Raw(
                b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 4\r\n\r\nslow"
                    .to_vec(),
            ),
            3 => HttpAction::status(503, "Service Unavailable"),
            _ => HttpAction::ok("application/json", b"[]".to_vec()),
        }
    });
    // One request at a time, so that every request after the first is sent after the 429.
    let backend = BackendConfig::parse_esplora(&server.http_url())
        .unwrap()
        .with_timeout(Duration::from_secs(5))
        .with_retries(2)
        .with_retry_backoff(Duration::from_millis(1))
        .with_concurrency(1)
        .connect()
        .unwrap();
    let scripts: Vec<Script> = (0..3u8).map(|n| Script::from(vec![n])).collect();
    let h = backend.histories(&scripts).unwrap();
    assert_eq!(h, vec![Vec::new(); 3]);
    let times = arrivals.lock().unwrap().clone();
    assert!(times.len() >= 5, "{} requests", times.len());
    for later in &times[1..] {
        assert!(
            later.duration_since(times[0]) >= Duration::from_secs(1),
            "a request came {:?} after the 429 that asked for 1 s",
            later.duration_since(times[0])
        );
    }

    // A server asking for more than a minute is reported, not waited for.
    let server = spawn_http(|_| {
        HttpAction::Raw(
            b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 3600\r\ncontent-length: 0\r\n\r\n"
                .to_vec(),
        )
    });
    let e = esplora(&server).histories(&[Script::new()]).unwrap_err();
    assert_backend_error(&e, &server.http_url(), "asks clients to wait 3600 s");
    assert_eq!(server.hits(), 1);
}

// ---- Electrum -------------------------------------------------------------------------------

/// An Electrum server that handshakes and answers everything else with `f(request)`.
fn electrum_server<F>(f: F) -> TestServer
where
    F: Fn(&Value) -> LineAction + Send + Sync + 'static,
{
    spawn_lines(move |line| {
        let req: Value = serde_json::from_str(line).expect("the client sends JSON");
        if req["method"] == "server.version" {
            return LineAction::Reply(rpc_result(&req, json!(["test", "1.4"])));
        }
        f(&req)
    })
}

fn electrum(server: &TestServer, timeout: Duration) -> Box<dyn Backend> {
    BackendConfig::parse_electrum(&server.tcp_url())
        .unwrap()
        .with_timeout(timeout)
        .with_retries(1)
        .with_retry_backoff(Duration::from_millis(1))
        .connect()
        .unwrap()
}

#[test]
fn electrum_tx_that_does_not_hash_to_its_txid() {
    let other = tx_hex(&sample_tx(2));
    let server =
        electrum_server(move |req| LineAction::Reply(rpc_result(req, json!(other.clone()))));
    let b = electrum(&server, Duration::from_secs(5));
    let asked = sample_tx(1).txid();
    let e = b.transactions(&[asked]).unwrap_err();
    assert_backend_error(
        &e,
        &server.tcp_url(),
        &format!("asked for transaction {asked}"),
    );
    // Not hex at all.
    let server = electrum_server(|req| LineAction::Reply(rpc_result(req, json!("zz"))));
    let e = electrum(&server, Duration::from_secs(5))
        .transactions(&[asked])
        .unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "blockchain.transaction.get");
}

#[test]
fn electrum_garbage_lines() {
    let server = electrum_server(|_| LineAction::Reply("this is not json".to_owned()));
    let b = electrum(&server, Duration::from_secs(5));
    let e = b.tip().unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "malformed");
    // JSON of the wrong shape.
    let server =
        electrum_server(|req| LineAction::Reply(rpc_result(req, json!({"no": "history"}))));
    let e = electrum(&server, Duration::from_secs(5))
        .histories(&[Script::new()])
        .unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "malformed answer");
    // A status that is not a status hash.
    let server = electrum_server(|req| LineAction::Reply(rpc_result(req, json!(42))));
    let e = electrum(&server, Duration::from_secs(5))
        .statuses(&[Script::new()])
        .unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "blockchain.scripthash.subscribe");
}

#[test]
fn electrum_server_that_never_answers_times_out() {
    let server = electrum_server(|_| LineAction::Hang);
    let b = electrum(&server, Duration::from_millis(300));
    let e = b.tip().unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "timed out");
    // And one that never even answers `server.version` (sent with the first calls over
    // plain TCP: connecting succeeds, the first call times out).
    let server = spawn_lines(|_| LineAction::Hang);
    let b = BackendConfig::parse_electrum(&server.tcp_url())
        .unwrap()
        .with_timeout(Duration::from_millis(300))
        .connect()
        .unwrap();
    let e = b.tip().unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "timed out");
}

#[test]
fn electrum_server_that_hangs_up_is_retried_then_reported() {
    let server = electrum_server(|_| LineAction::Close);
    let b = electrum(&server, Duration::from_secs(5));
    let e = b.block_header(3).unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "closed the connection");
    // handshake + call, then reconnect (handshake) + call: 4 lines.
    assert_eq!(server.hits(), 4);
}

#[test]
fn electrum_refused_connection() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("127.0.0.1:{port}");
    let e = BackendConfig::parse_electrum(&url)
        .unwrap()
        .with_retries(0)
        .connect()
        .unwrap_err();
    assert_backend_error(&e, &format!("tcp://{url}"), "cannot connect");
}

#[test]
fn electrum_server_errors_and_broadcast() {
    let tx = sample_tx(5);
    let txid = tx.txid().to_string();
    let server = electrum_server(move |req| match req["method"].as_str().unwrap() {
        "blockchain.block.header" => LineAction::Reply(rpc_error(req, "missing header")),
        "blockchain.transaction.broadcast" => LineAction::Close,
        "blockchain.estimatefee" => LineAction::Reply(rpc_result(req, json!(-1))),
        _ => LineAction::Reply(rpc_result(req, json!(txid.clone()))),
    });
    let b = electrum(&server, Duration::from_secs(5));
    let e = b.block_header(500).unwrap_err();
    assert_backend_error(&e, &server.tcp_url(), "missing header");
    assert_eq!(b.fee_estimate(2).unwrap(), None);
    let hits = server.hits();
    let e = b.broadcast(&tx).unwrap_err();
    assert_backend_error(
        &e,
        &server.tcp_url(),
        "may or may not have reached the network",
    );
    assert_eq!(server.hits(), hits + 1, "a broadcast is never retried");
}

#[test]
fn backend_urls() {
    use wallet_core::chain::{BackendKind, Endpoint};
    use wallet_core::network::Network;
    let c = BackendConfig::parse_esplora("http://127.0.0.1:3000/").unwrap();
    assert_eq!(c.url(), "http://127.0.0.1:3000");
    assert_eq!(c.timeout, Duration::from_secs(30));
    assert_eq!(c.concurrency, 32);
    assert!(BackendConfig::parse_esplora("https://blockstream.info/liquid/api").is_ok());
    assert!(BackendConfig::parse_esplora("http://[::1]:3000").is_ok());
    const NO_SCHEME: &str = "must start with http:// or https:// (e.g. http://127.0.0.1:3000)";
    for (bad, why) in [
        ("127.0.0.1:3000", NO_SCHEME),
        ("ftp://x", NO_SCHEME),
        ("http://", "has no host"),
        ("http://host:port", "has an invalid port 'port'"),
        ("http://a:99999", "has an invalid port '99999'"),
    ] {
        let e = BackendConfig::parse_esplora(bad).unwrap_err();
        assert!(
            matches!(&e, Error::BackendConfig(m) if *m == format!("Esplora URL '{bad}' {why}")),
            "{bad}: {e:?}"
        );
    }
    let c = BackendConfig::parse_electrum("tls://blockstream.info:995").unwrap();
    assert_eq!(
        c.endpoint,
        Endpoint::Electrum {
            host: "blockstream.info".into(),
            port: 995,
            tls: true
        }
    );
    assert_eq!(
        BackendConfig::parse_electrum("ssl://h:1").unwrap().url(),
        "tls://h:1"
    );
    assert_eq!(
        BackendConfig::parse_electrum("h:50001").unwrap().url(),
        "tcp://h:50001"
    );
    assert_eq!(
        BackendConfig::parse_electrum("tcp://[::1]:50001")
            .unwrap()
            .url(),
        "tcp://[::1]:50001"
    );
    for (bad, why) in [
        ("host", " needs a port: host:port, e.g. 127.0.0.1:50001"),
        (
            "http://h:1",
            ": unknown scheme; use tcp://host:port, tls://host:port or host:port",
        ),
        ("tcp://h:0", " has an invalid port '0'"),
        ("tcp://:5", " has an invalid host"),
        ("h:x", " has an invalid port 'x'"),
    ] {
        let e = BackendConfig::parse_electrum(bad).unwrap_err();
        assert!(
            matches!(&e, Error::BackendConfig(m) if *m == format!("Electrum server '{bad}'{why}")),
            "{bad}: {e:?}"
        );
    }
    let d = |n, k| BackendConfig::default_for(n, k).map(|c| c.url());
    assert_eq!(
        d(Network::Liquid, BackendKind::Esplora).unwrap(),
        "https://blockstream.info/liquid/api"
    );
    assert_eq!(
        d(Network::LiquidTestnet, BackendKind::Esplora).unwrap(),
        "https://blockstream.info/liquidtestnet/api"
    );
    assert_eq!(
        d(Network::Liquid, BackendKind::Electrum).unwrap(),
        "tls://blockstream.info:995"
    );
    assert_eq!(
        d(Network::LiquidTestnet, BackendKind::Electrum).unwrap(),
        "tls://blockstream.info:465"
    );
    let e = d(Network::Regtest, BackendKind::Esplora).unwrap_err();
    assert!(matches!(e, Error::BackendConfig(_)), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("regtest has no default"), "{msg}");
    assert!(msg.contains("liquid-otc sandbox start"), "{msg}");
    assert!(
        msg.contains("--esplora") && msg.contains("--electrum"),
        "{msg}"
    );
}
