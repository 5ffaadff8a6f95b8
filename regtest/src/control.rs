//! HTTP client for the control endpoints of a sandbox running in another process.
//!
//! Plain HTTP/1.1 over a loopback `TcpStream`, one request per connection.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::str::FromStr;
use std::time::Duration;

use elements::{AssetId, BlockHash, Txid};
use serde_json::{json, Value};

use crate::{Error, Issued};

const TIMEOUT: Duration = Duration::from_secs(120);

fn unreachable(url: &str, reason: impl std::fmt::Display) -> Error {
    Error::Unreachable {
        url: url.to_string(),
        reason: reason.to_string(),
    }
}

/// Response headers, names lower-cased.
pub type Headers = Vec<(String, String)>;

/// Sends one request; returns (status, body).
pub fn request(
    esplora_url: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, String), Error> {
    request_with_headers(esplora_url, method, path, body).map(|(s, _, b)| (s, b))
}

/// Sends one request; returns (status, lower-cased headers, body).
pub fn request_with_headers(
    esplora_url: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> Result<(u16, Headers, String), Error> {
    request_within(esplora_url, method, path, body, TIMEOUT)
}

/// Whether a sandbox (or any liquidregtest Esplora server) answers at `esplora_url` within
/// `timeout` with `genesis` as its block 0: how `sandbox start` tells a running sandbox from
/// a stale record (a process gone, a port now closed or held by something else).
pub fn answers(esplora_url: &str, genesis: &BlockHash, timeout: Duration) -> bool {
    match request_within(esplora_url, "GET", "/block-height/0", None, timeout) {
        Ok((200, _, body)) => BlockHash::from_str(body.trim()).is_ok_and(|h| h == *genesis),
        _ => false,
    }
}

fn request_within(
    esplora_url: &str,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Result<(u16, Headers, String), Error> {
    let hostport = esplora_url
        .strip_prefix("http://")
        .ok_or_else(|| {
            Error::InvalidArgument(format!("{esplora_url}: only http:// URLs are supported"))
        })?
        .trim_end_matches('/');
    let hostport = hostport.split('/').next().unwrap_or(hostport);
    let url = format!("{}{}", esplora_url.trim_end_matches('/'), path);
    let addr = hostport
        .to_socket_addrs()
        .map_err(|e| unreachable(&url, e))?
        .next()
        .ok_or_else(|| unreachable(&url, "no address"))?;
    let mut s = TcpStream::connect_timeout(&addr, timeout.min(Duration::from_secs(10)))
        .map_err(|e| unreachable(&url, e))?;
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {hostport}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .map_err(|e| unreachable(&url, e))?;
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).map_err(|e| unreachable(&url, e))?;
    let text = String::from_utf8_lossy(&resp);
    let (head, rest) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| unreachable(&url, "malformed HTTP response"))?;
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| unreachable(&url, "malformed status line"))?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    let headers = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok((status, headers, body))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn post_json(esplora_url: &str, path: &str, body: Value) -> Result<Value, Error> {
    let (status, text) = request(esplora_url, "POST", path, Some(&body.to_string()))?;
    if status != 200 {
        return Err(if text.starts_with("sendrawtransaction") {
            Error::Rejected(text)
        } else if status == 404 {
            Error::Protocol(format!(
                "{esplora_url} is not a sandbox (no {path}): {text}"
            ))
        } else {
            // The sandbox answers with its own error's words ("faucet: ...", "invalid
            // argument: ..."): read them back as that error, not wrapped twice.
            let text = text.trim();
            if let Some(why) = text.strip_prefix("invalid argument: ") {
                Error::InvalidArgument(why.to_owned())
            } else if let Some(why) = text.strip_prefix("faucet: ") {
                Error::Faucet(why.to_owned())
            } else {
                Error::Faucet(text.to_owned())
            }
        });
    }
    serde_json::from_str(&text).map_err(|e| Error::Protocol(format!("{path}: {e}")))
}

fn field<T: FromStr>(v: &Value, k: &str) -> Result<T, Error> {
    v.get(k)
        .and_then(Value::as_str)
        .and_then(|s| T::from_str(s).ok())
        .ok_or_else(|| Error::Protocol(format!("missing or bad `{k}` in {v}")))
}

/// Mines `n` blocks in the sandbox at `esplora_url`.
pub fn mine(esplora_url: &str, n: u32) -> Result<Vec<BlockHash>, Error> {
    let v = post_json(esplora_url, "/sandbox/mine", json!({ "blocks": n }))?;
    hashes(&v)
}

/// The `hashes` array of a mining answer.
fn hashes(v: &Value) -> Result<Vec<BlockHash>, Error> {
    v.get("hashes")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::Protocol(format!("no hashes in {v}")))?
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|s| BlockHash::from_str(s).ok())
                .ok_or_else(|| Error::Protocol(format!("bad block hash {h}")))
        })
        .collect()
}

/// Pays `amount_sat` of `asset` (L-BTC by default) to `address` from the sandbox faucet.
pub fn faucet(
    esplora_url: &str,
    address: &str,
    amount_sat: u64,
    asset: Option<AssetId>,
) -> Result<Txid, Error> {
    let v = post_json(
        esplora_url,
        "/sandbox/faucet",
        json!({ "address": address, "amount": amount_sat, "asset": asset.map(|a| a.to_string()) }),
    )?;
    field(&v, "txid")
}

/// Issues a test asset held by the sandbox faucet.
pub fn issue(esplora_url: &str, amount_sat: u64, name: Option<&str>) -> Result<Issued, Error> {
    let v = post_json(
        esplora_url,
        "/sandbox/issue",
        json!({ "amount": amount_sat, "name": name }),
    )?;
    Ok(Issued {
        asset: field(&v, "asset")?,
        token: field(&v, "token")?,
        txid: field(&v, "txid")?,
    })
}

/// Issues a test asset held by the sandbox faucet whose id commits to the JSON object
/// `contract` (its hash, as Elements computes it).
pub fn issue_with_contract(
    esplora_url: &str,
    amount_sat: u64,
    contract: &Value,
) -> Result<Issued, Error> {
    let v = post_json(
        esplora_url,
        "/sandbox/issue",
        json!({ "amount": amount_sat, "contract": contract }),
    )?;
    Ok(Issued {
        asset: field(&v, "asset")?,
        token: field(&v, "token")?,
        txid: field(&v, "txid")?,
    })
}

/// Replaces the last `depth` blocks of the sandbox at `esplora_url` with `depth + 1` new ones;
/// their transactions return to the mempool when `keep_txs`, or vanish.
pub fn reorg(esplora_url: &str, depth: u32, keep_txs: bool) -> Result<Vec<BlockHash>, Error> {
    let v = post_json(
        esplora_url,
        "/sandbox/reorg",
        json!({ "depth": depth, "keep_txs": keep_txs }),
    )?;
    hashes(&v)
}

/// Asks the sandbox process to stop (its `Sandbox::wait` returns).
pub fn stop(esplora_url: &str) -> Result<(), Error> {
    post_json(esplora_url, "/sandbox/stop", json!({})).map(|_| ())
}
