//! Electrum protocol (JSON-RPC over TCP, newline framed), mimicking electrs-esplora 0.4.1.
//!
//! Like electrs, the connection is closed without a reply on a non-JSON line, a batch of more
//! than 20 calls, an unknown method, a request without `id` or `method`, or `params` given as an
//! object. Errors inside a known method are `{"error":"<text>","id":..,"jsonrpc":"2.0"}`.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use elements::hashes::sha256;
use elements::{BlockHash, Txid};
use serde_json::{json, Value};

use crate::chain::{Chain, ScriptHash};
use crate::hexutil;
use crate::node::Event;
use crate::service::Service;

const SERVER_VERSION: &str = "electrs-esplora 0.4.1";
const PROTOCOL_VERSION: &str = "1.4";
const MAX_BATCH: usize = 20;
const MAX_HEADERS: u32 = 2016;
const MAX_LINE: u64 = 16 << 20;
const RELAY_FEE_BTC_PER_KB: f64 = 1e-6;

/// Per-connection subscriptions.
#[derive(Default)]
struct Subs {
    headers: bool,
    /// Subscribed script hashes (natural order) with the last status sent.
    scripts: HashMap<ScriptHash, Option<String>>,
}

/// What to do with a parsed line.
enum Outcome {
    Reply(Value),
    Close,
}

/// Why a single call fails.
enum CallError {
    /// electrs would drop the connection.
    Close,
    /// A JSON-RPC error with this text.
    Msg(String),
}

impl From<String> for CallError {
    fn from(s: String) -> Self {
        CallError::Msg(s)
    }
}
impl From<&str> for CallError {
    fn from(s: &str) -> Self {
        CallError::Msg(s.to_string())
    }
}

/// Accepts connections until shutdown.
pub(crate) fn serve(svc: Arc<Service>, listener: TcpListener, delay_ms: u64) {
    for stream in listener.incoming() {
        if svc.is_shutting_down() {
            break;
        }
        let Ok(stream) = stream else { continue };
        let _ = stream.set_nodelay(true);
        let svc2 = svc.clone();
        if let Ok(clone) = stream.try_clone() {
            svc.track_stream(clone);
        }
        let h = std::thread::spawn(move || handle_conn(svc2, stream, delay_ms));
        svc.track_thread(h);
    }
}

fn write_line(w: &Mutex<TcpStream>, v: &Value) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(v).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut s = w.lock().unwrap_or_else(|e| e.into_inner());
    s.write_all(&line)?;
    s.flush()
}

fn handle_conn(svc: Arc<Service>, stream: TcpStream, delay_ms: u64) {
    let Ok(write_half) = stream.try_clone() else {
        return;
    };
    let writer = Arc::new(Mutex::new(write_half));
    let subs = Arc::new(Mutex::new(Subs::default()));
    let (tx, rx) = mpsc::channel::<Event>();
    let sub_id = svc.node.subscribe(tx);
    // Notifier: pushes header and script status changes.
    let notifier = {
        let svc = svc.clone();
        let writer = writer.clone();
        let subs = subs.clone();
        std::thread::spawn(move || {
            while let Ok(ev) = rx.recv() {
                if notify(&svc, &writer, &subs, &ev).is_err() {
                    break;
                }
            }
        })
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = Vec::new();
        match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        if line.last() != Some(&b'\n') && line.len() as u64 >= MAX_LINE {
            break;
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let mut after: Vec<Event> = Vec::new();
        match process_line(&svc, &subs, text, &mut after) {
            Outcome::Close => break,
            Outcome::Reply(v) => {
                if delay_ms > 0 {
                    std::thread::sleep(std::time::Duration::from_millis(delay_ms));
                }
                if write_line(&writer, &v).is_err() {
                    break;
                }
            }
        }
        for ev in after {
            svc.node.publish(ev);
        }
    }
    svc.node.unsubscribe(sub_id);
    if let Ok(s) = writer.lock() {
        let _ = s.shutdown(std::net::Shutdown::Both);
    }
    let _ = notifier.join();
}

fn notify(
    svc: &Service,
    writer: &Mutex<TcpStream>,
    subs: &Mutex<Subs>,
    ev: &Event,
) -> std::io::Result<()> {
    let mut msgs = Vec::new();
    {
        let chain = svc.node.chain();
        let mut subs = subs.lock().unwrap_or_else(|e| e.into_inner());
        if let Event::Block(_) = ev {
            if subs.headers {
                msgs.push(json!({
                    "jsonrpc": "2.0",
                    "method": "blockchain.headers.subscribe",
                    "params": [tip_header(&chain)],
                }));
            }
        }
        for (sh, last) in subs.scripts.iter_mut() {
            let status = status_hash(&chain, sh);
            if status != *last {
                *last = status.clone();
                msgs.push(json!({
                    "jsonrpc": "2.0",
                    "method": "blockchain.scripthash.subscribe",
                    "params": [electrum_hex(sh), status],
                }));
            }
        }
    }
    for m in msgs {
        write_line(writer, &m)?;
    }
    Ok(())
}

fn process_line(svc: &Service, subs: &Mutex<Subs>, text: &str, after: &mut Vec<Event>) -> Outcome {
    let Ok(v) = serde_json::from_str::<Value>(text) else {
        return Outcome::Close;
    };
    match v {
        Value::Array(calls) => {
            if calls.len() > MAX_BATCH || calls.is_empty() {
                return Outcome::Close;
            }
            let mut out = Vec::with_capacity(calls.len());
            for c in &calls {
                match process_call(svc, subs, c, after) {
                    Some(r) => out.push(r),
                    None => return Outcome::Close,
                }
            }
            Outcome::Reply(Value::Array(out))
        }
        Value::Object(_) => match process_call(svc, subs, &v, after) {
            Some(r) => Outcome::Reply(r),
            None => Outcome::Close,
        },
        _ => Outcome::Close,
    }
}

/// One call; `None` means close the connection.
fn process_call(
    svc: &Service,
    subs: &Mutex<Subs>,
    call: &Value,
    after: &mut Vec<Event>,
) -> Option<Value> {
    let obj = call.as_object()?;
    let method = obj.get("method")?.as_str()?;
    let id = obj.get("id")?.clone();
    let params: Vec<Value> = match obj.get("params") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.clone(),
        Some(_) => return None,
    };
    match dispatch(svc, subs, method, &params, after) {
        Ok(result) => Some(json!({"id": id, "jsonrpc": "2.0", "result": result})),
        Err(CallError::Msg(e)) => Some(json!({"error": e, "id": id, "jsonrpc": "2.0"})),
        Err(CallError::Close) => None,
    }
}

fn usize_param(params: &[Value], i: usize, name: &str) -> Result<u64, CallError> {
    let v = params.get(i).ok_or_else(|| format!("missing {name}"))?;
    v.as_u64()
        .ok_or_else(|| CallError::Msg(format!("non-integer {name}")))
}

fn hash_param(params: &[Value], i: usize, name: &str) -> Result<[u8; 32], CallError> {
    let v = params.get(i).ok_or_else(|| format!("missing {name}"))?;
    v.as_str()
        .and_then(hexutil::decode32_display)
        .ok_or_else(|| CallError::Msg(format!("bad {name}")))
}

fn electrum_hex(sh: &ScriptHash) -> String {
    let mut b = *sh;
    b.reverse();
    hexutil::encode(&b)
}

fn header_hex(chain: &Chain, height: u32) -> Option<String> {
    chain
        .block_at(height)
        .map(|b| hexutil::encode(&elements::encode::serialize(&b.block.header)))
}

fn tip_header(chain: &Chain) -> Value {
    let h = chain.tip_height();
    json!({"height": h, "hex": header_hex(chain, h)})
}

/// Electrum history of a script: confirmed (ascending) then mempool.
fn history(chain: &Chain, sh: &ScriptHash) -> Vec<Value> {
    let mut v: Vec<Value> = chain
        .confirmed_history(sh)
        .into_iter()
        .map(|(t, h)| json!({"height": h, "tx_hash": t.to_string()}))
        .collect();
    for t in chain.mempool_history(sh) {
        if let Some(e) = chain.mempool_entry(&t) {
            let h: i64 = if e.has_unconfirmed_parent { -1 } else { 0 };
            v.push(json!({"fee": e.fee, "height": h, "tx_hash": t.to_string()}));
        }
    }
    v
}

/// The Electrum status hash of a script, `None` without history.
pub fn status_hash(chain: &Chain, sh: &ScriptHash) -> Option<String> {
    let hist: Vec<(String, i64)> = history(chain, sh)
        .iter()
        .map(|h| {
            (
                h["tx_hash"].as_str().unwrap_or_default().to_string(),
                h["height"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    status_of(&hist)
}

/// The Electrum status of a history given as (tx_hash, height) in `get_history` order:
/// hex sha256 of the concatenated `"<tx_hash>:<height>:"`, `None` when empty.
pub fn status_of(history: &[(String, i64)]) -> Option<String> {
    if history.is_empty() {
        return None;
    }
    let mut s = String::new();
    for (txid, height) in history {
        s.push_str(txid);
        s.push(':');
        s.push_str(&height.to_string());
        s.push(':');
    }
    Some(hexutil::encode(
        sha256::Hash::hash(s.as_bytes()).as_byte_array(),
    ))
}

fn cp_proof(chain: &Chain, height: u32, cp: u32) -> Result<(Vec<String>, String), CallError> {
    if cp < height || cp > chain.tip_height() {
        return Err("header height greater than cp_height or cp_height beyond tip".into());
    }
    let leaves: Vec<[u8; 32]> = (0..=cp)
        .filter_map(|h| chain.block_at(h).map(|b| b.hash.to_byte_array()))
        .collect();
    let branch = crate::merkle::merkle_branch(&leaves, height as usize)
        .into_iter()
        .map(|h| BlockHash::from_byte_array(h).to_string())
        .collect();
    let root = BlockHash::from_byte_array(crate::merkle::merkle_root(&leaves)).to_string();
    Ok((branch, root))
}

fn dispatch(
    svc: &Service,
    subs: &Mutex<Subs>,
    method: &str,
    params: &[Value],
    after: &mut Vec<Event>,
) -> Result<Value, CallError> {
    match method {
        "server.version" => Ok(json!([SERVER_VERSION, PROTOCOL_VERSION])),
        "server.banner" => Ok(json!(format!("Welcome to {SERVER_VERSION}"))),
        "server.ping" | "server.donation_address" => Ok(Value::Null),
        "server.peers.subscribe" => Ok(json!([])),
        "blockchain.relayfee" => Ok(json!(RELAY_FEE_BTC_PER_KB)),
        "blockchain.estimatefee" => {
            usize_param(params, 0, "blocks_count")?;
            Ok(json!(RELAY_FEE_BTC_PER_KB))
        }
        "mempool.get_fee_histogram" => {
            let chain = svc.node.chain();
            Ok(json!(crate::esplora::fee_histogram(&chain)))
        }
        "blockchain.headers.subscribe" => {
            subs.lock().unwrap_or_else(|e| e.into_inner()).headers = true;
            Ok(tip_header(&svc.node.chain()))
        }
        "blockchain.block.header" => {
            let height = usize_param(params, 0, "height")?;
            let chain = svc.node.chain();
            let h = u32::try_from(height).map_err(|_| "missing header")?;
            let hex = header_hex(&chain, h).ok_or("missing header")?;
            match params.get(1) {
                None => Ok(json!(hex)),
                Some(_) => {
                    let cp = usize_param(params, 1, "cp_height")?;
                    let cp = u32::try_from(cp).map_err(|_| "invalid cp_height")?;
                    if cp == 0 && params.get(1).and_then(Value::as_u64) == Some(0) {
                        return Ok(json!(hex));
                    }
                    let (branch, root) = cp_proof(&chain, h, cp)?;
                    Ok(json!({"branch": branch, "header": hex, "root": root}))
                }
            }
        }
        "blockchain.block.headers" => {
            let start = usize_param(params, 0, "start_height")?;
            let count = usize_param(params, 1, "count")?;
            let chain = svc.node.chain();
            let count = count.min(u64::from(MAX_HEADERS)) as u32;
            let start = u32::try_from(start).unwrap_or(u32::MAX);
            let mut hex = String::new();
            let mut n = 0u32;
            for h in start..start.saturating_add(count) {
                match header_hex(&chain, h) {
                    Some(x) => {
                        hex.push_str(&x);
                        n += 1;
                    }
                    None => break,
                }
            }
            let cp = match params.get(2) {
                Some(_) => usize_param(params, 2, "cp_height")?,
                None => 0,
            };
            if cp > 0 && n > 0 {
                let cp = u32::try_from(cp).map_err(|_| "invalid cp_height")?;
                let (branch, root) = cp_proof(&chain, start + n - 1, cp)?;
                Ok(
                    json!({"branch": branch, "count": n, "hex": hex, "max": MAX_HEADERS, "root": root}),
                )
            } else {
                Ok(json!({"count": n, "hex": hex, "max": MAX_HEADERS}))
            }
        }
        "blockchain.scripthash.get_history" => {
            let sh = hash_param(params, 0, "script_hash")?;
            Ok(Value::Array(history(&svc.node.chain(), &sh)))
        }
        "blockchain.scripthash.listunspent" => {
            let sh = hash_param(params, 0, "script_hash")?;
            let chain = svc.node.chain();
            let v: Vec<Value> = chain
                .utxos_of(&sh)
                .into_iter()
                .map(|(op, out, h)| {
                    json!({
                        "asset": serde_json::to_value(out.asset).unwrap_or_default(),
                        "height": h.unwrap_or(0),
                        "nonce": serde_json::to_value(out.nonce).unwrap_or_default(),
                        "tx_hash": op.txid.to_string(),
                        "tx_pos": op.vout,
                        "value": serde_json::to_value(out.value).unwrap_or_default(),
                    })
                })
                .collect();
            Ok(Value::Array(v))
        }
        "blockchain.scripthash.subscribe" => {
            let sh = hash_param(params, 0, "script_hash")?;
            let status = status_hash(&svc.node.chain(), &sh);
            subs.lock()
                .unwrap_or_else(|e| e.into_inner())
                .scripts
                .insert(sh, status.clone());
            Ok(json!(status))
        }
        "blockchain.scripthash.unsubscribe" => {
            let sh = hash_param(params, 0, "script_hash")?;
            let removed = subs
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .scripts
                .remove(&sh)
                .is_some();
            Ok(json!(removed))
        }
        "blockchain.transaction.get" => {
            let txid = Txid::from_byte_array(hash_param(params, 0, "tx_hash")?);
            match params.get(1) {
                None | Some(Value::Null) | Some(Value::Bool(false)) => {}
                Some(Value::Bool(true)) => {
                    return Err("verbose transactions are currently unsupported".into())
                }
                Some(_) => return Err("non-bool verbose value".into()),
            }
            let chain = svc.node.chain();
            let (tx, _) = chain.get_tx(&txid).ok_or("missing transaction")?;
            Ok(json!(hexutil::encode(&elements::encode::serialize(tx))))
        }
        "blockchain.transaction.broadcast" => {
            let hex = params.first().and_then(Value::as_str).ok_or("missing tx")?;
            let tx = crate::validate::parse_hex(hex).map_err(|r| r.message())?;
            let (txid, new) = svc.node.accept(tx).map_err(|r| r.message())?;
            if new {
                after.push(Event::Mempool);
            }
            Ok(json!(txid.to_string()))
        }
        "blockchain.transaction.get_merkle" => {
            let txid = Txid::from_byte_array(hash_param(params, 0, "tx_hash")?);
            let height = usize_param(params, 1, "height")?;
            let chain = svc.node.chain();
            let (_, loc) = chain
                .get_tx(&txid)
                .ok_or("tx not found or is unconfirmed")?;
            let (h, pos) = loc.ok_or("tx not found or is unconfirmed")?;
            if u64::from(h) != height {
                return Err("invalid confirmation height provided".into());
            }
            Ok(crate::esplora::merkle_proof(&chain, h, pos))
        }
        "blockchain.transaction.id_from_pos" => {
            let height = usize_param(params, 0, "height")?;
            let pos = usize_param(params, 1, "tx_pos")?;
            let want_merkle = matches!(params.get(2), Some(Value::Bool(true)));
            let chain = svc.node.chain();
            let b = u32::try_from(height)
                .ok()
                .and_then(|h| chain.block_at(h))
                .ok_or("missing block")?;
            let txid = usize::try_from(pos)
                .ok()
                .and_then(|p| b.txids.get(p))
                .ok_or("missing txid")?;
            if want_merkle {
                let leaves: Vec<[u8; 32]> = b.txids.iter().map(|t| t.to_byte_array()).collect();
                let merkle: Vec<String> = crate::merkle::merkle_branch(&leaves, pos as usize)
                    .into_iter()
                    .map(|h| Txid::from_byte_array(h).to_string())
                    .collect();
                Ok(json!({"merkle": merkle, "tx_hash": txid.to_string()}))
            } else {
                Ok(json!(txid.to_string()))
            }
        }
        _ => Err(CallError::Close),
    }
}
