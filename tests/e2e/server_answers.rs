//! Differential checks of the sandbox's servers against electrs: the same table of Esplora and
//! Electrum requests, on the same chain state built on each chain (one confirmed and one
//! unconfirmed confidential payment to a test address), answered by the sandbox and by
//! electrs on elementsd. Status codes, content types and JSON shapes (every key and the type
//! of every value) must be equal; where the answer cannot depend on the chain's history (the
//! liquidregtest genesis block, error texts for fixed inputs), the bodies must be equal too.
//! Runs with `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC` (skipped with a notice otherwise).

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::common::handmade::*;
use crate::common::real_stack::{with_real_stack, TestChain};
use elements::Address;
use serde_json::{json, Value};

/// The liquidregtest genesis block hash (the same on every liquidregtest chain).
const GENESIS: &str = "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21";

/// The test address whose history is asked: test key 1's confidential P2WPKH.
fn address() -> Address {
    p2wpkh(1, true)
}

fn esplora_scripthash(address: &Address) -> String {
    use elements::hashes::sha256;
    sha256::Hash::hash(address.script_pubkey().as_bytes())
        .to_byte_array()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn electrum_scripthash(address: &Address) -> String {
    use elements::hashes::sha256;
    let mut bytes = sha256::Hash::hash(address.script_pubkey().as_bytes()).to_byte_array();
    bytes.reverse();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a chain's servers were asked about: two confidential payments to [`address`] built
/// the same way on each chain (from explicit P2WSH(OP_TRUE) coins), one confirmed.
struct State {
    confirmed: String,
    unconfirmed: String,
}

fn prepare(chain: &dyn TestChain) -> State {
    let policy = chain.policy_asset();
    let coin = |chain: &dyn TestChain| {
        let txid = chain.faucet(&op_true_address(), COIN_VALUE, None).unwrap();
        outpoint_to(chain, &txid, &op_true_address().script_pubkey())
    };
    let (first, second) = (coin(chain), coin(chain));
    chain.mine(1).unwrap();
    let confirmed = confidential_spend(policy, first, 11);
    broadcast(chain, &confirmed);
    chain.mine(1).unwrap();
    let unconfirmed = confidential_spend(policy, second, 12);
    broadcast(chain, &unconfirmed);
    State {
        confirmed: confirmed.txid().to_string(),
        unconfirmed: unconfirmed.txid().to_string(),
    }
}

/// The type skeleton of a JSON value: objects keep their keys, arrays the union of their
/// items' shapes, leaves become their type name.
fn shape(v: &Value) -> Value {
    match v {
        Value::Null => json!("null"),
        Value::Bool(_) => json!("bool"),
        Value::Number(n) if n.is_f64() => json!("float"),
        Value::Number(_) => json!("integer"),
        Value::String(_) => json!("string"),
        Value::Array(items) => {
            let mut shapes: Vec<Value> = items.iter().map(shape).collect();
            shapes.sort_by_key(|s| s.to_string());
            shapes.dedup();
            Value::Array(shapes)
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
    }
}

/// One HTTP answer: status, content type, body.
#[derive(Debug, PartialEq)]
struct Http {
    status: u16,
    content_type: String,
    body: Vec<u8>,
}

fn http(base: &str, method: &str, path: &str, body: Option<&str>) -> Http {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into();
    let url = format!("{base}{path}");
    let mut resp = match (method, body) {
        ("POST", Some(b)) => agent.post(&url).send(b).unwrap(),
        _ => agent.get(&url).call().unwrap(),
    };
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .to_owned();
    Http {
        status: resp.status().as_u16(),
        content_type,
        body: resp.body_mut().read_to_vec().unwrap(),
    }
}

/// How two answers to one request must agree.
#[derive(Clone, Copy, PartialEq)]
enum Compare {
    /// Status and content type; JSON bodies by shape, text bodies by being non-empty.
    Shape,
    /// Status, content type and the exact body.
    Exact,
}

/// The Esplora table: (method, path, body, how to compare).
fn esplora_table(s: &State) -> Vec<(&'static str, String, Option<String>, Compare)> {
    let sh = esplora_scripthash(&address());
    let unknown = "ab".repeat(32);
    vec![
        ("GET", "/blocks/tip/height".into(), None, Compare::Shape),
        ("GET", "/blocks/tip/hash".into(), None, Compare::Shape),
        ("GET", "/block-height/0".into(), None, Compare::Exact),
        (
            "GET",
            format!("/block/{GENESIS}/header"),
            None,
            Compare::Exact,
        ),
        (
            "GET",
            format!("/block/{GENESIS}/status"),
            None,
            Compare::Shape,
        ),
        ("GET", "/block-height/999999".into(), None, Compare::Exact),
        ("GET", format!("/block/{unknown}"), None, Compare::Exact),
        ("GET", format!("/tx/{}", s.confirmed), None, Compare::Shape),
        (
            "GET",
            format!("/tx/{}", s.unconfirmed),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/tx/{}/status", s.confirmed),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/tx/{}/status", s.unconfirmed),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/tx/{}/outspends", s.confirmed),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/tx/{}/raw", s.confirmed),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/tx/{}/hex", s.unconfirmed),
            None,
            Compare::Shape,
        ),
        ("GET", format!("/tx/{unknown}"), None, Compare::Exact),
        ("GET", format!("/tx/{unknown}/raw"), None, Compare::Exact),
        ("GET", "/tx/zz".into(), None, Compare::Exact),
        ("GET", format!("/scripthash/{sh}"), None, Compare::Shape),
        ("GET", format!("/scripthash/{sh}/txs"), None, Compare::Shape),
        (
            "GET",
            format!("/scripthash/{sh}/txs/chain"),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/scripthash/{sh}/txs/mempool"),
            None,
            Compare::Shape,
        ),
        (
            "GET",
            format!("/scripthash/{sh}/utxo"),
            None,
            Compare::Shape,
        ),
        ("GET", "/scripthash/zz/txs".into(), None, Compare::Exact),
        (
            "GET",
            format!("/address/{}/txs", address()),
            None,
            Compare::Shape,
        ),
        ("GET", "/mempool/txids".into(), None, Compare::Shape),
        ("GET", "/fee-estimates".into(), None, Compare::Shape),
        ("GET", "/no/such/endpoint".into(), None, Compare::Exact),
        (
            "POST",
            "/tx".into(),
            Some("deadbeef".into()),
            Compare::Exact,
        ),
        ("POST", "/tx".into(), Some("not hex".into()), Compare::Exact),
    ]
}

fn compare_esplora(ours: &str, theirs: &str, s_ours: &State, s_theirs: &State) -> Vec<String> {
    let mut report = Vec::new();
    for ((method, path, body, how), (_, their_path, _, _)) in esplora_table(s_ours)
        .into_iter()
        .zip(esplora_table(s_theirs))
    {
        let a = http(ours, method, &path, body.as_deref());
        let b = http(theirs, method, &their_path, body.as_deref());
        let text = |h: &Http| {
            String::from_utf8_lossy(&h.body)
                .chars()
                .take(200)
                .collect::<String>()
        };
        let mut problems = Vec::new();
        if a.status != b.status {
            problems.push(format!("status {} vs electrs {}", a.status, b.status));
        }
        if a.content_type != b.content_type {
            problems.push(format!(
                "content type {} vs electrs {}",
                a.content_type, b.content_type
            ));
        }
        match how {
            Compare::Exact if a.body != b.body => {
                problems.push(format!("body {:?} vs electrs {:?}", text(&a), text(&b)))
            }
            Compare::Shape if a.content_type == "application/json" => {
                let parse = |h: &Http| {
                    serde_json::from_slice::<Value>(&h.body)
                        .map(|v| shape(&without_flavour_fields(v)))
                };
                match (parse(&a), parse(&b)) {
                    (Ok(x), Ok(y)) if x == y => {}
                    (x, y) => problems.push(format!("shape {x:?}\n      vs electrs {y:?}")),
                }
            }
            Compare::Shape if a.body.is_empty() != b.body.is_empty() => {
                problems.push(format!("body {:?} vs electrs {:?}", text(&a), text(&b)))
            }
            _ => {}
        }
        report.push(if problems.is_empty() {
            format!("ok   {method} {}", generic(&path))
        } else {
            format!("DIFF {method} {}: {}", generic(&path), problems.join("; "))
        });
    }
    report
}

/// Transaction fields where the two electrs lines differ and the sandbox keeps Blockstream's
/// (`discount_vsize`, `discount_weight`) rather than mempool.space's (`sigops`): no client
/// reads them, and a sigop count the sandbox cannot compute as electrs does would be a guess.
fn without_flavour_fields(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(k, _)| {
                    !["sigops", "discount_vsize", "discount_weight"].contains(&k.as_str())
                })
                .map(|(k, v)| (k, without_flavour_fields(v)))
                .collect(),
        ),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(without_flavour_fields).collect())
        }
        other => other,
    }
}

/// A path with its txids and hashes shortened, for the report.
fn generic(path: &str) -> String {
    path.split('/')
        .map(|p| if p.len() == 64 { "<hash>" } else { p })
        .collect::<Vec<_>>()
        .join("/")
}

/// A line-based Electrum exchange: the reply to `line`, or `None` when the server closed the
/// connection without one.
fn electrum(addr: SocketAddr, line: &str) -> Option<Value> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    writer.write_all(line.as_bytes()).unwrap();
    writer.write_all(b"\n").unwrap();
    let mut reader = BufReader::new(stream);
    let mut reply = String::new();
    match reader.read_line(&mut reply) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(serde_json::from_str(&reply).unwrap()),
    }
}

fn call(method: &str, params: Value) -> String {
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params}).to_string()
}

/// The Electrum table: (request line, how to compare the result).
fn electrum_table(s: &State) -> Vec<(String, Compare)> {
    let sh = electrum_scripthash(&address());
    let unknown = "ab".repeat(32);
    let batch: Vec<Value> = (0..21)
        .map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "server.ping", "params": []}))
        .collect();
    vec![
        (
            call("server.version", json!(["liquid-otc", "1.4"])),
            Compare::Shape,
        ),
        (call("server.ping", json!([])), Compare::Exact),
        (
            call("blockchain.headers.subscribe", json!([])),
            Compare::Shape,
        ),
        (call("blockchain.block.header", json!([0])), Compare::Exact),
        (
            call("blockchain.block.header", json!([999999])),
            Compare::Shape,
        ),
        (
            call("blockchain.scripthash.get_history", json!([sh])),
            Compare::Shape,
        ),
        (
            call("blockchain.scripthash.subscribe", json!([sh])),
            Compare::Shape,
        ),
        (
            call("blockchain.scripthash.listunspent", json!([sh])),
            Compare::Shape,
        ),
        (
            call("blockchain.transaction.get", json!([s.confirmed])),
            Compare::Shape,
        ),
        (
            call("blockchain.transaction.get", json!([unknown])),
            Compare::Shape,
        ),
        (call("blockchain.estimatefee", json!([1])), Compare::Shape),
        (call("blockchain.relayfee", json!([])), Compare::Shape),
        (
            call("blockchain.scripthash.get_balance", json!([sh])),
            Compare::Exact,
        ),
        (call("server.features", json!([])), Compare::Exact),
        (
            json!({"jsonrpc": "2.0", "id": 7, "method": "server.ping", "params": {}}).to_string(),
            Compare::Exact,
        ),
        ("not json".to_owned(), Compare::Exact),
        (Value::Array(batch).to_string(), Compare::Exact),
    ]
}

fn compare_electrum(
    ours: SocketAddr,
    theirs: SocketAddr,
    s_ours: &State,
    s_theirs: &State,
) -> Vec<String> {
    let mut report = Vec::new();
    for ((line, how), (their_line, _)) in electrum_table(s_ours)
        .into_iter()
        .zip(electrum_table(s_theirs))
    {
        let a = electrum(ours, &line);
        let b = electrum(theirs, &their_line);
        let name: String = line.chars().take(60).collect();
        // The answer without the request's id and with an error reduced to its presence.
        let essence = |v: &Option<Value>| -> Value {
            match v {
                None => json!("connection closed without a reply"),
                Some(v) => match (v.get("result"), v.get("error")) {
                    (_, Some(e)) if !e.is_null() => json!({"error": shape(e)}),
                    (Some(r), _) if how == Compare::Exact => json!({"result": r}),
                    (Some(r), _) => json!({"result": shape(r)}),
                    _ => json!({"other": shape(v)}),
                },
            }
        };
        let (x, y) = (essence(&a), essence(&b));
        report.push(if x == y {
            format!("ok   {name}")
        } else {
            format!("DIFF {name}: {x}\n      vs electrs {y}")
        });
    }
    report
}

/// The differences kept on purpose, each with its reason: (start of the request, why).
const KNOWN: &[(&str, &str)] = &[
    (
        "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"blockchain.scripthash.get_",
        "mempool.space's electrs answers an unknown method with an error; the sandbox closes \
         the connection as Blockstream's does, the stricter of the two for clients",
    ),
    (
        "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"server.features",
        "the same",
    ),
    (
        "{\"id\":7,\"jsonrpc\":\"2.0\",\"method\":\"server.ping\",\"params\":{}}",
        "named params: an error there, a closed connection here (Blockstream's)",
    ),
    ("not json", "a line that is not JSON: the same"),
    (
        "[{\"id\":0",
        "a batch array of 21 calls: answered there, a closed connection here (Blockstream's \
         electrs closes on more than 20)",
    ),
];

#[test]
fn sandbox_servers_answer_as_electrs_does() {
    with_real_stack("sandbox_servers_answer_as_electrs_does", |stack| {
        let sandbox = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
        let ours = prepare(&sandbox);
        let theirs = prepare(stack);
        let mut report =
            compare_esplora(&sandbox.esplora_url(), &stack.esplora_url(), &ours, &theirs);
        report.extend(compare_electrum(
            sandbox.electrum_addr(),
            stack.electrum_addr(),
            &ours,
            &theirs,
        ));
        let diffs: Vec<&String> = report.iter().filter(|l| l.starts_with("DIFF")).collect();
        eprintln!(
            "server answers: {} requests compared, {} differ ({} known)\n{}",
            report.len(),
            diffs.len(),
            KNOWN.len(),
            report.join("\n")
        );
        let unknown: Vec<&&String> = diffs
            .iter()
            .filter(|d| {
                !KNOWN
                    .iter()
                    .any(|(k, _)| d.starts_with(&format!("DIFF {k}")))
            })
            .collect();
        let gone: Vec<&str> = KNOWN
            .iter()
            .filter(|(k, _)| !diffs.iter().any(|d| d.starts_with(&format!("DIFF {k}"))))
            .map(|(k, _)| *k)
            .collect();
        assert!(
            unknown.is_empty() && gone.is_empty(),
            "new differences: {unknown:#?}\nknown differences no longer seen (update KNOWN): \
             {gone:?}\n{}",
            report.join("\n")
        );
    });
}
