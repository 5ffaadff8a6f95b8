//! Tiny loopback servers for the chain backend tests: an HTTP/1.1 server (Esplora) and a
//! newline-framed JSON-RPC server (Electrum), each driven by a closure, plus the recorded
//! electrs fixtures as replay tables. No sleeps: clients block on sockets, servers answer.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::Value;

/// The recorded electrs fixtures, or `None` (skip) when shared/ is missing outside CI.
pub fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/electrs-liquidregtest");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing; CI must have shared/ beside the repository",
            dir.display()
        );
    }
    eprintln!(
        "skipping: {} not found (recorded fixtures live in shared/ beside the repository)",
        dir.display()
    );
    None
}

/// Reads a JSON file.
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Bytes of a hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A parsed HTTP request.
#[derive(Clone, Debug)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    pub body: String,
}

/// What the HTTP server does with a request.
pub enum HttpAction {
    /// A complete response.
    Respond {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// These exact bytes, then close (for truncated or broken answers).
    Raw(Vec<u8>),
    /// Never answer; keep the connection open until the client gives up.
    Hang,
}

impl HttpAction {
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        HttpAction::Respond {
            status: 200,
            content_type,
            body: body.into(),
        }
    }
    pub fn status(status: u16, text: &str) -> Self {
        HttpAction::Respond {
            status,
            content_type: "text/plain",
            body: text.as_bytes().to_vec(),
        }
    }
}

/// A server on 127.0.0.1 that serves until the test process ends.
pub struct TestServer {
    pub addr: SocketAddr,
    /// Requests (HTTP) or lines (Electrum) received so far.
    pub hits: Arc<AtomicUsize>,
}

impl TestServer {
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn tcp_url(&self) -> String {
        format!("tcp://{}", self.addr)
    }
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn read_http_request(reader: &mut BufReader<TcpStream>) -> Option<HttpRequest> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut content_length = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.trim().eq_ignore_ascii_case("content-length") {
                content_length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0u8; content_length];
    reader.read_exact(&mut body).ok()?;
    Some(HttpRequest {
        method,
        path,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// An HTTP/1.1 server answering each request with `handler` (keep-alive supported).
pub fn spawn_http<F>(handler: F) -> TestServer
where
    F: Fn(&HttpRequest) -> HttpAction + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(handler);
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let handler = handler.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                while let Some(req) = read_http_request(&mut reader) {
                    counter.fetch_add(1, Ordering::SeqCst);
                    match handler(&req) {
                        HttpAction::Respond {
                            status,
                            content_type,
                            body,
                        } => {
                            let head = format!(
                                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\r\n",
                                body.len()
                            );
                            if writer.write_all(head.as_bytes()).is_err()
                                || writer.write_all(&body).is_err()
                            {
                                return;
                            }
                        }
                        HttpAction::Raw(bytes) => {
                            let _ = writer.write_all(&bytes);
                            return;
                        }
                        HttpAction::Hang => {
                            // Wait for the client to hang up.
                            let mut sink = Vec::new();
                            let _ = reader.read_to_end(&mut sink);
                            return;
                        }
                    }
                }
            });
        }
    });
    TestServer { addr, hits }
}

/// What the line server does with one request line.
pub enum LineAction {
    /// Send this line (a newline is added).
    Reply(String),
    /// Close the connection without answering (what electrs does on unknown methods).
    Close,
    /// Never answer; keep the connection open.
    Hang,
}

/// A newline-framed JSON-RPC server: `handler(request_line)` decides per line.
pub fn spawn_lines<F>(handler: F) -> TestServer
where
    F: Fn(&str) -> LineAction + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(handler);
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let handler = handler.clone();
            let counter = counter.clone();
            std::thread::spawn(move || {
                let mut writer = stream.try_clone().expect("clone");
                let mut reader = BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line) {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    match handler(line.trim_end()) {
                        LineAction::Reply(mut out) => {
                            out.push('\n');
                            if writer.write_all(out.as_bytes()).is_err() {
                                return;
                            }
                        }
                        LineAction::Close => return,
                        LineAction::Hang => {
                            let mut sink = Vec::new();
                            let _ = reader.read_to_end(&mut sink);
                            return;
                        }
                    }
                }
            });
        }
    });
    TestServer { addr, hits }
}

/// A JSON-RPC answer line to `request` with `result`.
pub fn rpc_result(request: &Value, result: Value) -> String {
    serde_json::json!({"id": request["id"].clone(), "jsonrpc": "2.0", "result": result}).to_string()
}

/// A JSON-RPC error line (electrs sends the error as a plain string).
pub fn rpc_error(request: &Value, error: &str) -> String {
    serde_json::json!({"error": error, "id": request["id"].clone(), "jsonrpc": "2.0"}).to_string()
}

/// One recorded Esplora response.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

fn content_type(ct: &str) -> &'static str {
    match ct {
        "application/json" => "application/json",
        "application/octet-stream" => "application/octet-stream",
        _ => "text/plain",
    }
}

/// The recorded Esplora exchanges of the final state (files without a phase prefix):
/// GETs by path, POSTs by request body.
pub struct EsploraReplay {
    pub gets: HashMap<String, Recorded>,
    pub posts: HashMap<String, Recorded>,
}

impl EsploraReplay {
    pub fn load(fixtures: &Path) -> Self {
        let mut gets = HashMap::new();
        let mut posts = HashMap::new();
        let mut entries: Vec<_> = std::fs::read_dir(fixtures.join("esplora"))
            .expect("esplora fixtures")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("phase") || !name.ends_with(".json") {
                continue;
            }
            let f = read_json(&path);
            let ct = content_type(f["content_type"].as_str().unwrap_or("text/plain"));
            let body = if f.get("body_encoding").is_some() {
                unhex(f["body"].as_str().expect("hex body"))
            } else if ct == "application/json" {
                serde_json::to_vec(&f["body"]).unwrap()
            } else {
                f["body"].as_str().unwrap_or("").as_bytes().to_vec()
            };
            let rec = Recorded {
                status: f["status"].as_u64().expect("status") as u16,
                content_type: ct,
                body,
            };
            let path = f["path"].as_str().expect("path").to_owned();
            match f["method"].as_str() {
                Some("POST") => {
                    posts.insert(f["request_body"].as_str().unwrap_or("").to_owned(), rec);
                }
                _ => {
                    gets.insert(path, rec);
                }
            }
        }
        EsploraReplay { gets, posts }
    }

    /// Serves the recordings; anything unrecorded gets electrs's 404.
    pub fn serve(self) -> TestServer {
        spawn_http(move |req| {
            let rec = if req.method == "POST" && req.path == "/tx" {
                self.posts.get(req.body.trim())
            } else {
                self.gets.get(&req.path)
            };
            match rec {
                Some(r) => HttpAction::Respond {
                    status: r.status,
                    content_type: r.content_type,
                    body: r.body.clone(),
                },
                None => HttpAction::status(404, &format!("endpoint does not exist {:?}", req.path)),
            }
        })
    }
}

/// The recorded Electrum exchanges of the final state, by `method` + `params`.
pub struct ElectrumReplay {
    pub calls: HashMap<String, Value>,
}

fn call_key(method: &str, params: &Value) -> String {
    format!("{method} {params}")
}

impl ElectrumReplay {
    pub fn load(fixtures: &Path) -> Self {
        let mut calls = HashMap::new();
        let mut entries: Vec<_> = std::fs::read_dir(fixtures.join("electrum"))
            .expect("electrum fixtures")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("phase") || name.starts_with("malformed") {
                continue;
            }
            let f = read_json(&path);
            let (Some(method), Some(resp)) = (f["request"]["method"].as_str(), f.get("response"))
            else {
                continue;
            };
            if resp.is_null() {
                continue;
            }
            let params = f["request"]
                .get("params")
                .cloned()
                .unwrap_or(Value::Array(vec![]));
            calls.insert(call_key(method, &params), resp.clone());
        }
        ElectrumReplay { calls }
    }

    /// Serves the recordings: the recorded answer with the client's id; `server.version`
    /// whatever the client's version; anything unrecorded closes the connection, as electrs
    /// does for unknown methods.
    pub fn serve(self) -> TestServer {
        spawn_lines(move |line| {
            let Ok(req) = serde_json::from_str::<Value>(line) else {
                return LineAction::Close;
            };
            let Some(method) = req["method"].as_str() else {
                return LineAction::Close;
            };
            if method == "server.version" {
                return LineAction::Reply(rpc_result(
                    &req,
                    serde_json::json!(["electrs-esplora 0.4.1", "1.4"]),
                ));
            }
            let params = req.get("params").cloned().unwrap_or(Value::Array(vec![]));
            match self.calls.get(&call_key(method, &params)) {
                Some(resp) => {
                    let mut resp = resp.clone();
                    resp["id"] = req["id"].clone();
                    LineAction::Reply(resp.to_string())
                }
                None => LineAction::Close,
            }
        })
    }
}

/// A script of the recorded wallet (`wallet/wallet.json`) by "external/0"-style path.
pub fn wallet_script(fixtures: &Path, chain: &str, index: u64) -> elements::Script {
    let w = read_json(&fixtures.join("wallet/wallet.json"));
    let a = w["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["chain"] == chain && a["index"] == index)
        .unwrap_or_else(|| panic!("no {chain}/{index} in wallet.json"));
    elements::Script::from(unhex(a["script_pubkey"].as_str().unwrap()))
}
