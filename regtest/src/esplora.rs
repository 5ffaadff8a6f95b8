//! Esplora REST API (Blockstream electrs, Liquid flavour) plus the sandbox control endpoints.
//!
//! `handle` is a pure request -> response function; `answer` adapts it to the sandbox's HTTP
//! server (`crate::http`).

use std::str::FromStr;

use elements::{Address, AddressParams, AssetId, BlockHash, OutPoint, Txid};
use serde::Serialize;

use crate::chain::{script_hash, Chain, ScriptHash};
use crate::hexutil;
use crate::json::{BlockJson, TxJson, TxStatus, UtxoJson};
use crate::service::Service;
use crate::EsploraFlavour;

/// Five years, electrs' cache time for immutable data.
const LONG_TTL: u64 = 157_784_630;
/// Cache time for data that may still change.
const SHORT_TTL: u64 = 10;
/// Mempool txs shown first in `/txs`.
const MAX_MEMPOOL_TXS: usize = 50;
/// Confirmed txs per page.
const CHAIN_TXS_PER_PAGE: usize = 25;

/// An HTTP response, before it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Content type.
    pub content_type: &'static str,
    /// `cache-control` max-age, if any (errors have none).
    pub ttl: Option<u64>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Response {
    fn json<T: Serialize>(v: &T, ttl: u64) -> Response {
        match serde_json::to_vec(v) {
            Ok(body) => Response {
                status: 200,
                content_type: "application/json",
                ttl: Some(ttl),
                body,
            },
            Err(e) => Response::error(500, &format!("serialization failed: {e}")),
        }
    }
    fn text(s: impl Into<String>, ttl: u64) -> Response {
        Response {
            status: 200,
            content_type: "text/plain",
            ttl: Some(ttl),
            body: s.into().into_bytes(),
        }
    }
    fn binary(b: Vec<u8>, ttl: u64) -> Response {
        Response {
            status: 200,
            content_type: "application/octet-stream",
            ttl: Some(ttl),
            body: b,
        }
    }
    fn error(status: u16, msg: &str) -> Response {
        Response {
            status,
            content_type: "text/plain",
            ttl: None,
            body: msg.as_bytes().to_vec(),
        }
    }
    fn bad(msg: &str) -> Response {
        Response::error(400, msg)
    }
    fn not_found(msg: &str) -> Response {
        Response::error(404, msg)
    }
}

type R = Result<Response, Response>;

fn parse_txid(s: &str) -> Result<Txid, Response> {
    hexutil::decode32_display(s)
        .map(Txid::from_byte_array)
        .ok_or_else(|| Response::bad("Invalid hex string"))
}

fn parse_block_hash(s: &str) -> Result<BlockHash, Response> {
    hexutil::decode32_display(s)
        .map(BlockHash::from_byte_array)
        .ok_or_else(|| Response::bad("Invalid hex string"))
}

fn ttl_for(chain: &Chain, height: Option<u32>) -> u64 {
    match height {
        Some(h) if chain.tip_height().saturating_sub(h) >= 10 => LONG_TTL,
        _ => SHORT_TTL,
    }
}

/// Parses a liquidregtest address (confidential or not) the way electrs does.
pub fn parse_address(s: &str) -> Result<Address, String> {
    Address::parse_with_params(s, &AddressParams::ELEMENTS).map_err(|e| e.to_string())
}

/// Handles one request. `path` may carry a query string.
pub(crate) fn handle(svc: &Service, method: &str, url: &str, body: &[u8]) -> Response {
    let (path, query) = match url.split_once('?') {
        Some((p, q)) => (p, q),
        None => (url, ""),
    };
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let res = match method {
        "GET" => get(svc, &parts, query),
        "POST" => post(svc, &parts, body),
        _ => Err(Response::not_found(&format!(
            "endpoint does not exist {:?}",
            path
        ))),
    };
    match res {
        Ok(r) => r,
        Err(r) if r.status == 0 => {
            Response::not_found(&format!("endpoint does not exist {:?}", path))
        }
        Err(r) => r,
    }
}

fn no_endpoint() -> Response {
    Response {
        status: 0,
        content_type: "text/plain",
        ttl: None,
        body: Vec::new(),
    }
}

fn get(svc: &Service, parts: &[&str], query: &str) -> R {
    let chain = svc.node.chain();
    match parts {
        ["blocks", "tip", "height"] => {
            Ok(Response::text(chain.tip_height().to_string(), SHORT_TTL))
        }
        ["blocks", "tip", "hash"] => Ok(Response::text(chain.tip().hash.to_string(), SHORT_TTL)),
        ["blocks"] => blocks(&chain, chain.tip_height()),
        ["blocks", start] => {
            let h: u32 = start.parse().map_err(|_| Response::bad("Invalid number"))?;
            blocks(&chain, h.min(chain.tip_height()))
        }
        ["block-height", h] => {
            let h: u32 = h.parse().map_err(|_| Response::bad("Invalid number"))?;
            let b = chain
                .block_at(h)
                .ok_or_else(|| Response::not_found("Block not found"))?;
            Ok(Response::text(b.hash.to_string(), ttl_for(&chain, Some(h))))
        }
        ["block", hash, rest @ ..] => block(&chain, hash, rest),
        ["tx", txid, rest @ ..] => tx(&chain, txid, rest),
        ["scripthash", h, rest @ ..] => {
            let sh = hexutil::decode32(h).ok_or_else(|| {
                Response::bad(match svc.esplora_flavour {
                    EsploraFlavour::Blockstream => "Invalid scripthash",
                    EsploraFlavour::Mempool => "Invalid hex string",
                })
            })?;
            script_endpoint(&chain, svc.esplora_flavour, &sh, ("scripthash", h), rest)
        }
        ["address", a, rest @ ..] => {
            let addr = parse_address(a).map_err(|e| Response::bad(&e))?;
            let sh = script_hash(&addr.script_pubkey());
            script_endpoint(&chain, svc.esplora_flavour, &sh, ("address", a), rest)
        }
        ["asset", id, rest @ ..] => {
            let id = hexutil::decode32_display(id)
                .map(AssetId::from_byte_array)
                .ok_or_else(|| Response::bad("Invalid hex string"))?;
            let info = crate::asset::asset_json(&chain, &id)
                .ok_or_else(|| Response::not_found("Asset id not found"))?;
            match rest {
                [] => Ok(Response::json(&info, SHORT_TTL)),
                ["supply"] | ["supply", "decimal"] => {
                    let (c, _) = crate::asset::stats(&chain, &id)
                        .ok_or_else(|| Response::not_found("Asset id not found"))?;
                    if c.has_blinded_issuances {
                        return Err(Response::bad("Asset supply is blinded"));
                    }
                    Ok(Response::text(
                        c.issued_amount.saturating_sub(c.burned_amount).to_string(),
                        SHORT_TTL,
                    ))
                }
                ["txs"] | ["txs", "mempool"] | ["txs", "chain"] | ["txs", "chain", _] => {
                    Ok(Response::json(&asset_txs(&chain, &id, rest), SHORT_TTL))
                }
                _ => Err(no_endpoint()),
            }
        }
        ["fee-estimates"] => {
            // A regtest node has no fee estimates: mempool.space's electrs answers `{}`
            // (clients need their own floor); the recorded Blockstream one gave 1.0 for each
            // target.
            let mut m = serde_json::Map::new();
            if svc.esplora_flavour == EsploraFlavour::Blockstream {
                for t in (1..=25).chain([144, 504, 1008]) {
                    m.insert(t.to_string(), serde_json::json!(1.0));
                }
            }
            Ok(Response::json(&m, SHORT_TTL))
        }
        ["mempool"] => Ok(Response::json(&mempool_stats(&chain), SHORT_TTL)),
        ["mempool", "txids"] => {
            let ids: Vec<String> = chain
                .mempool_txids()
                .iter()
                .map(|t| t.to_string())
                .collect();
            Ok(Response::json(&ids, SHORT_TTL))
        }
        ["mempool", "recent"] => {
            let v: Vec<RecentTx> = chain
                .recent
                .iter()
                .map(|(t, fee, vsize)| RecentTx {
                    txid: t.to_string(),
                    fee: *fee,
                    vsize: *vsize,
                })
                .collect();
            Ok(Response::json(&v, 5))
        }
        ["broadcast"] => {
            let hex = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("tx="))
                .ok_or_else(|| Response::bad("Missing tx"))?;
            drop(chain);
            broadcast(svc, hex)
        }
        ["sandbox", "info"] => Ok(Response::json(
            &serde_json::json!({
                "network": "liquidregtest",
                "genesis_hash": chain.blocks[0].hash.to_string(),
                "policy_asset": chain.policy_asset.to_string(),
                "tip_height": chain.tip_height(),
            }),
            0,
        )),
        _ => Err(no_endpoint()),
    }
}

#[derive(Serialize)]
struct BlockStatus {
    in_best_chain: bool,
    height: Option<u32>,
    next_best: Option<String>,
}

/// `/mempool` backlog statistics.
#[derive(Serialize)]
pub struct MempoolStats {
    count: usize,
    vsize: usize,
    total_fee: u64,
    fee_histogram: Vec<(f64, usize)>,
}

#[derive(Serialize)]
struct RecentTx {
    txid: String,
    fee: u64,
    vsize: usize,
}

fn blocks(chain: &Chain, start: u32) -> R {
    let v: Vec<BlockJson> = (0..=start)
        .rev()
        .take(10)
        .filter_map(|h| BlockJson::new(chain, h, false))
        .collect();
    Ok(Response::json(&v, SHORT_TTL))
}

fn block(chain: &Chain, hash: &str, rest: &[&str]) -> R {
    let hash = parse_block_hash(hash)?;
    let height = chain.height_of(&hash);
    if let ["status"] = rest {
        let v = BlockStatus {
            in_best_chain: height.is_some(),
            height,
            next_best: height
                .and_then(|h| chain.block_at(h + 1))
                .map(|b| b.hash.to_string()),
        };
        return Ok(Response::json(&v, ttl_for(chain, height)));
    }
    let h = height.ok_or_else(|| Response::not_found("Block not found"))?;
    let b = chain
        .block_at(h)
        .ok_or_else(|| Response::not_found("Block not found"))?;
    match rest {
        [] => BlockJson::new(chain, h, true)
            .map(|j| Response::json(&j, LONG_TTL))
            .ok_or_else(|| Response::not_found("Block not found")),
        ["header"] => Ok(Response::text(
            hexutil::encode(&elements::encode::serialize(&b.block.header)),
            LONG_TTL,
        )),
        ["raw"] => Ok(Response::binary(
            elements::encode::serialize(&b.block),
            LONG_TTL,
        )),
        ["txids"] => {
            let v: Vec<String> = b.txids.iter().map(|t| t.to_string()).collect();
            Ok(Response::json(&v, LONG_TTL))
        }
        ["txid", i] => {
            let i: usize = i.parse().map_err(|_| Response::bad("Invalid number"))?;
            let t = b
                .txids
                .get(i)
                .ok_or_else(|| Response::not_found("tx index out of range"))?;
            Ok(Response::text(t.to_string(), LONG_TTL))
        }
        ["txs"] | ["txs", _] => {
            let start: usize = match rest {
                ["txs", s] => s.parse().map_err(|_| Response::bad("Invalid number"))?,
                _ => 0,
            };
            if !start.is_multiple_of(25) {
                return Err(Response::bad("start index must be a multipication of 25"));
            }
            if start >= b.block.txdata.len() {
                return Err(Response::not_found("start index out of range"));
            }
            let v: Vec<TxJson> = b
                .block
                .txdata
                .iter()
                .skip(start)
                .take(25)
                .map(|t| TxJson::new(chain, t, Some(h)))
                .collect();
            Ok(Response::json(&v, ttl_for(chain, Some(h))))
        }
        _ => Err(no_endpoint()),
    }
}

fn tx(chain: &Chain, txid: &str, rest: &[&str]) -> R {
    let txid = parse_txid(txid)?;
    let found = chain.get_tx(&txid);
    let height = found.and_then(|(_, loc)| loc.map(|l| l.0));
    let ttl = ttl_for(chain, height);
    if let ["status"] = rest {
        return Ok(Response::json(&TxStatus::new(chain, height), ttl));
    }
    if let ["merkle-proof"] = rest {
        let (h, pos) = found
            .and_then(|(_, loc)| loc)
            .ok_or_else(|| Response::not_found("Transaction not found or is unconfirmed"))?;
        return Ok(Response::json(&merkle_proof(chain, h, pos), ttl));
    }
    if let ["outspend", vout] = rest {
        let vout: u32 = vout.parse().map_err(|_| Response::bad("Invalid number"))?;
        let (t, _) = found.ok_or_else(|| Response::not_found("Transaction not found"))?;
        if (vout as usize) >= t.output.len() {
            return Ok(Response::json(
                &serde_json::json!({"spent": false}),
                SHORT_TTL,
            ));
        }
        return Ok(Response::json(
            &outspend(chain, OutPoint::new(txid, vout)),
            SHORT_TTL,
        ));
    }
    let (t, _) = found.ok_or_else(|| Response::not_found("Transaction not found"))?;
    match rest {
        [] => Ok(Response::json(&TxJson::new(chain, t, height), ttl)),
        ["hex"] => Ok(Response::text(
            hexutil::encode(&elements::encode::serialize(t)),
            ttl,
        )),
        ["raw"] => Ok(Response::binary(elements::encode::serialize(t), ttl)),
        ["outspends"] => {
            let v: Vec<serde_json::Value> = (0..t.output.len() as u32)
                .map(|i| outspend(chain, OutPoint::new(txid, i)))
                .collect();
            Ok(Response::json(&v, SHORT_TTL))
        }
        _ => Err(no_endpoint()),
    }
}

#[derive(Serialize)]
struct OutspendJson {
    spent: bool,
    txid: String,
    vin: u32,
    status: TxStatus,
}

fn outspend(chain: &Chain, op: OutPoint) -> serde_json::Value {
    match chain.spender(&op) {
        Some(s) => serde_json::to_value(OutspendJson {
            spent: true,
            txid: s.txid.to_string(),
            vin: s.vin,
            status: TxStatus::new(chain, s.height),
        })
        .unwrap_or(serde_json::Value::Null),
        None => serde_json::json!({"spent": false}),
    }
}

/// `{"block_height","merkle","pos"}` for a confirmed tx.
pub fn merkle_proof(chain: &Chain, height: u32, pos: u32) -> serde_json::Value {
    let leaves: Vec<[u8; 32]> = chain
        .block_at(height)
        .map(|b| b.txids.iter().map(|t| t.to_byte_array()).collect())
        .unwrap_or_default();
    let branch: Vec<String> = crate::merkle::merkle_branch(&leaves, pos as usize)
        .into_iter()
        .map(|h| Txid::from_byte_array(h).to_string())
        .collect();
    serde_json::json!({"block_height": height, "merkle": branch, "pos": pos})
}

#[derive(Serialize)]
struct Stats {
    funded_txo_count: usize,
    spent_txo_count: usize,
    tx_count: usize,
}

fn script_endpoint(
    chain: &Chain,
    flavour: EsploraFlavour,
    sh: &ScriptHash,
    key: (&str, &str),
    rest: &[&str],
) -> R {
    match rest {
        [] => {
            let (f, s, n) = chain.confirmed_stats(sh);
            let (mf, ms, mn) = chain.mempool_stats(sh);
            let mut m = serde_json::Map::new();
            // electrs builds this with json!: keys come out sorted.
            m.insert(key.0.to_string(), key.1.into());
            m.insert(
                "chain_stats".into(),
                serde_json::to_value(Stats {
                    funded_txo_count: f,
                    spent_txo_count: s,
                    tx_count: n,
                })
                .unwrap_or_default(),
            );
            m.insert(
                "mempool_stats".into(),
                serde_json::to_value(Stats {
                    funded_txo_count: mf,
                    spent_txo_count: ms,
                    tx_count: mn,
                })
                .unwrap_or_default(),
            );
            Ok(Response::json(&m, SHORT_TTL))
        }
        ["txs"] => Ok(Response::json(&first_page(chain, flavour, sh), SHORT_TTL)),
        ["txs", "mempool"] => Ok(Response::json(&mempool_txs(chain, sh), SHORT_TTL)),
        ["txs", "chain"] => Ok(Response::json(&chain_txs(chain, sh, None), SHORT_TTL)),
        ["txs", "chain", last] => {
            let last = hexutil::decode32_display(last).map(Txid::from_byte_array);
            Ok(Response::json(&chain_txs(chain, sh, last), SHORT_TTL))
        }
        ["utxo"] => {
            let v: Vec<UtxoJson> = chain
                .utxos_of(sh)
                .iter()
                .map(|(op, out, h)| UtxoJson::new(chain, op, out, *h))
                .collect();
            Ok(Response::json(&v, SHORT_TTL))
        }
        _ => Err(no_endpoint()),
    }
}

/// `/asset/:id/txs[/mempool|/chain[/:last_seen]]`: issuance and burn transactions, mempool
/// first (arrival order, up to 50), then confirmed ones newest first, 25 per page.
fn asset_txs(chain: &Chain, id: &AssetId, rest: &[&str]) -> Vec<TxJson> {
    let all = chain.asset_txs.get(id).cloned().unwrap_or_default();
    let mut mempool = Vec::new();
    let mut confirmed = Vec::new();
    for t in &all {
        match chain.get_tx(t) {
            Some((tx, None)) => mempool.push(TxJson::new(chain, tx, None)),
            Some((_, Some((h, pos)))) => confirmed.push((h, pos, *t)),
            None => {}
        }
    }
    confirmed.sort_by_key(|c| std::cmp::Reverse((c.0, c.1)));
    let start = match rest {
        ["txs", "chain", last] => {
            let last = hexutil::decode32_display(last).map(Txid::from_byte_array);
            match last {
                Some(l) => match confirmed.iter().position(|c| c.2 == l) {
                    Some(p) => p + 1,
                    None => return Vec::new(),
                },
                None => 0,
            }
        }
        _ => 0,
    };
    let chain_part = || -> Vec<TxJson> {
        confirmed
            .iter()
            .skip(start)
            .take(CHAIN_TXS_PER_PAGE)
            .filter_map(|(h, _, t)| {
                chain
                    .get_tx(t)
                    .map(|(tx, _)| TxJson::new(chain, tx, Some(*h)))
            })
            .collect()
    };
    match rest {
        ["txs", "mempool"] => mempool.into_iter().take(MAX_MEMPOOL_TXS).collect(),
        ["txs", "chain", ..] => chain_part(),
        _ => {
            let mut v: Vec<TxJson> = mempool.into_iter().take(MAX_MEMPOOL_TXS).collect();
            v.extend(chain_part());
            v
        }
    }
}

/// `/scripthash/:hash/txs`: the mempool, then the newest confirmed transactions, as each
/// electrs line lists them (see [`EsploraFlavour`]).
fn first_page(chain: &Chain, flavour: EsploraFlavour, sh: &ScriptHash) -> Vec<TxJson> {
    let mut v: Vec<TxJson> = mempool_txs(chain, sh);
    match flavour {
        EsploraFlavour::Blockstream => v.extend(chain_txs(chain, sh, None)),
        EsploraFlavour::Mempool => {
            // Its handler extends the list with the mempool history a second time, then fills
            // up to the mempool limit with confirmed ones.
            v.extend(mempool_txs(chain, sh));
            let room = MAX_MEMPOOL_TXS.saturating_sub(v.len());
            v.extend(confirmed_txs(chain, sh, None, room));
        }
    }
    v
}

/// Mempool txs of a script in the order they entered (as electrs' mempool history buckets).
fn mempool_txs(chain: &Chain, sh: &ScriptHash) -> Vec<TxJson> {
    chain
        .mempool_history(sh)
        .iter()
        .take(MAX_MEMPOOL_TXS)
        .filter_map(|t| chain.get_tx(t).map(|(tx, _)| TxJson::new(chain, tx, None)))
        .collect()
}

fn chain_txs(chain: &Chain, sh: &ScriptHash, last_seen: Option<Txid>) -> Vec<TxJson> {
    confirmed_txs(chain, sh, last_seen, CHAIN_TXS_PER_PAGE)
}

/// At most `limit` confirmed txs of a script, newest first, after `last_seen` if given.
fn confirmed_txs(
    chain: &Chain,
    sh: &ScriptHash,
    last_seen: Option<Txid>,
    limit: usize,
) -> Vec<TxJson> {
    let hist: Vec<(Txid, u32)> = chain.confirmed_history(sh).into_iter().rev().collect();
    let start = match last_seen {
        Some(l) => match hist.iter().position(|(t, _)| *t == l) {
            Some(p) => p + 1,
            None => return Vec::new(),
        },
        None => 0,
    };
    hist.iter()
        .skip(start)
        .take(limit)
        .filter_map(|(t, h)| {
            chain
                .get_tx(t)
                .map(|(tx, _)| TxJson::new(chain, tx, Some(*h)))
        })
        .collect()
}

/// Mempool backlog: count, vsize, total fee and electrs-style fee histogram.
pub fn mempool_stats(chain: &Chain) -> MempoolStats {
    let mut vsize = 0usize;
    let mut total_fee = 0u64;
    for t in chain.mempool_txids() {
        if let Some(e) = chain.mempool_entry(t) {
            vsize += e.vsize;
            total_fee = total_fee.saturating_add(e.fee);
        }
    }
    MempoolStats {
        count: chain.mempool_txids().len(),
        vsize,
        total_fee,
        fee_histogram: fee_histogram(chain),
    }
}

/// electrs' fee histogram: (fee rate, vsize) bins, highest rate first.
pub fn fee_histogram(chain: &Chain) -> Vec<(f64, usize)> {
    const BIN_WIDTH: usize = 50_000;
    let mut entries: Vec<(f64, usize)> = chain
        .mempool_txids()
        .iter()
        .filter_map(|t| chain.mempool_entry(t))
        .map(|e| {
            let w = e.tx.weight() as f64 / 4.0;
            (e.fee as f64 / w.max(1.0), e.vsize)
        })
        .collect();
    entries.sort_by(|a, b| b.0.partial_cmp(&a.0).unwrap_or(std::cmp::Ordering::Equal));
    let mut out = Vec::new();
    let mut bin = 0usize;
    let mut last_rate = None;
    for (rate, vs) in entries {
        if bin > BIN_WIDTH && last_rate != Some(rate) {
            if let Some(r) = last_rate {
                out.push((r, bin));
            }
            bin = 0;
        }
        bin += vs;
        last_rate = Some(rate);
    }
    if let Some(r) = last_rate {
        if bin > 0 {
            out.push((r, bin));
        }
    }
    out
}

fn broadcast(svc: &Service, hex: &str) -> R {
    let refused = |r: crate::Reject| Response::bad(&r.message_for(svc.esplora_flavour));
    let tx = crate::validate::parse_hex(hex).map_err(refused)?;
    let txid = svc.node.broadcast(tx).map_err(refused)?;
    Ok(Response::text(txid.to_string(), 0))
}

#[derive(serde::Deserialize)]
struct MineReq {
    blocks: u32,
}

#[derive(serde::Deserialize)]
struct FaucetReq {
    address: String,
    amount: u64,
    asset: Option<String>,
}

#[derive(serde::Deserialize)]
struct ReorgReq {
    depth: u32,
    #[serde(default)]
    keep_txs: bool,
}

#[derive(serde::Deserialize)]
struct IssueReq {
    amount: u64,
    name: Option<String>,
    /// A JSON contract object the asset id commits to (then `name` is not used).
    contract: Option<serde_json::Value>,
}

fn post(svc: &Service, parts: &[&str], body: &[u8]) -> R {
    match parts {
        ["tx"] => {
            let hex = String::from_utf8_lossy(body);
            broadcast(svc, &hex)
        }
        ["sandbox", "mine"] => {
            let req: MineReq = serde_json::from_slice(body)
                .map_err(|e| Response::bad(&format!("bad request: {e}")))?;
            if req.blocks > 10_000 {
                return Err(Response::bad("at most 10000 blocks at a time"));
            }
            let hashes = svc
                .node
                .mine(req.blocks)
                .map_err(|e| Response::error(500, &e.to_string()))?;
            let v: Vec<String> = hashes.iter().map(|h| h.to_string()).collect();
            Ok(Response::json(&serde_json::json!({ "hashes": v }), 0))
        }
        ["sandbox", "faucet"] => {
            let req: FaucetReq = serde_json::from_slice(body)
                .map_err(|e| Response::bad(&format!("bad request: {e}")))?;
            let addr = parse_address(&req.address)
                .map_err(|e| Response::bad(&format!("invalid address: {e}")))?;
            let asset = match &req.asset {
                Some(a) => {
                    Some(AssetId::from_str(a).map_err(|_| Response::bad("Invalid hex string"))?)
                }
                None => None,
            };
            let txid = svc
                .faucet(&addr, req.amount, asset)
                .map_err(|e| Response::bad(&e.to_string()))?;
            Ok(Response::json(
                &serde_json::json!({ "txid": txid.to_string() }),
                0,
            ))
        }
        ["sandbox", "reorg"] => {
            let req: ReorgReq = serde_json::from_slice(body)
                .map_err(|e| Response::bad(&format!("bad request: {e}")))?;
            let hashes = svc
                .node
                .reorg(req.depth, req.keep_txs)
                .map_err(|e| Response::bad(&e.to_string()))?;
            let v: Vec<String> = hashes.iter().map(|h| h.to_string()).collect();
            Ok(Response::json(&serde_json::json!({ "hashes": v }), 0))
        }
        ["sandbox", "stop"] => {
            svc.request_stop();
            Ok(Response::json(&serde_json::json!({ "stopping": true }), 0))
        }
        ["sandbox", "issue"] => {
            let req: IssueReq = serde_json::from_slice(body)
                .map_err(|e| Response::bad(&format!("bad request: {e}")))?;
            let issued = match &req.contract {
                Some(contract) => svc.issue_with_contract(req.amount, &contract.to_string()),
                None => svc.issue(req.amount, req.name.as_deref()),
            };
            let i = issued.map_err(|e| Response::bad(&e.to_string()))?;
            Ok(Response::json(
                &serde_json::json!({
                    "asset": i.asset.to_string(),
                    "token": i.token.to_string(),
                    "txid": i.txid.to_string(),
                }),
                0,
            ))
        }
        _ => Err(no_endpoint()),
    }
}

/// Answers one HTTP request of the Esplora API (see [`crate::http`] for the server).
pub(crate) fn answer(svc: &Service, request: &crate::http::Request) -> crate::http::Reply {
    let resp = handle(svc, &request.method, &request.url, &request.body);
    crate::http::Reply {
        status: resp.status,
        content_type: resp.content_type,
        ttl: resp.ttl,
        body: resp.body,
    }
}
