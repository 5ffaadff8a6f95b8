//! Electrum (TCP or TLS) over `electrum-client`, with raw calls: Liquid transactions and
//! headers are not Bitcoin's, so they are fetched as hex and parsed with rust-elements here.
//!
//! electrs closes the connection, without a reply, on a JSON-RPC batch array of more than 20
//! calls. electrum-client writes a batch as one burst of
//! newline-separated requests (one JSON object per line, never a JSON-RPC array) and matches
//! the answers by id: so all the calls of one method call (histories, transactions, headers,
//! subscriptions), or of a [`Burst`] mixing them, are written together (up to [`MAX_BURST`])
//! and cost one round trip.

use std::collections::HashSet;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use electrum_client::raw_client::{ElectrumPlaintextStream, ElectrumSslStream, RawClient};
use electrum_client::{Batch, ElectrumApi, Param};
use elements::hashes::sha256;
use elements::{BlockHash, BlockHeader, Script, Transaction, Txid};
use serde::Deserialize;
use serde_json::Value;

use super::{
    backend_err, check_genesis, clip, electrum_scripthash, hex_lower, parse_header, parse_tx,
    unhex, Backend, BackendConfig, Burst, BurstAnswer, Endpoint, HistoryEntry,
};
use crate::{Error, Result};

/// Most calls written in one burst before waiting for their answers.
pub const MAX_BURST: usize = 1000;

/// A connection without electrum-client's own retry layer (which sleeps for seconds and
/// hides the first error), so that failures come back as they happened.
enum Raw {
    Tcp(RawClient<ElectrumPlaintextStream>),
    Tls(RawClient<ElectrumSslStream>),
}

impl Raw {
    fn raw_call(
        &self,
        method: &str,
        params: Vec<Param>,
    ) -> std::result::Result<Value, electrum_client::Error> {
        match self {
            Raw::Tcp(c) => c.raw_call(method, params),
            Raw::Tls(c) => c.raw_call(method, params),
        }
    }

    fn batch_call(&self, batch: &Batch) -> std::result::Result<Vec<Value>, electrum_client::Error> {
        match self {
            Raw::Tcp(c) => c.batch_call(batch),
            Raw::Tls(c) => c.batch_call(batch),
        }
    }

    fn batch_script_subscribe(
        &self,
        scripts: &[&electrum_client::bitcoin::Script],
    ) -> std::result::Result<Vec<Option<electrum_client::ScriptStatus>>, electrum_client::Error>
    {
        match self {
            Raw::Tcp(c) => c.batch_script_subscribe(scripts.iter().copied()),
            Raw::Tls(c) => c.batch_script_subscribe(scripts.iter().copied()),
        }
    }
}

struct Conn {
    client: Raw,
    /// Script hashes subscribed on this connection (electrum-client must know them, or a
    /// later notification for them fails the call that receives it).
    subscribed: HashSet<[u8; 32]>,
    /// Whether this connection's server was checked to be on the expected chain (or needs
    /// no check).
    genesis_ok: bool,
    /// Whether `server.version` is still to be sent (plain TCP connections send it with
    /// their first calls instead of a round trip of its own).
    version_pending: bool,
}

/// What a connection must still send before (or with) its first calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Preamble {
    /// `server.version` (the Electrum protocol's first message).
    version: bool,
    /// `blockchain.block.header 0`, the genesis check.
    genesis: bool,
}

impl Preamble {
    fn calls(self) -> Vec<(&'static str, Vec<Param>)> {
        let mut out = Vec::new();
        if self.version {
            out.push((
                "server.version",
                vec![
                    Param::String(CLIENT_NAME.to_owned()),
                    Param::String(PROTOCOL_VERSION.to_owned()),
                ],
            ));
        }
        if self.genesis {
            out.push(("blockchain.block.header", vec![Param::U32(0)]));
        }
        out
    }

    fn len(self) -> usize {
        usize::from(self.version) + usize::from(self.genesis)
    }
}

/// How this client names itself in `server.version`.
const CLIENT_NAME: &str = concat!("liquid-otc/", env!("CARGO_PKG_VERSION"));
/// The Electrum protocol version asked for (electrs speaks 1.4).
const PROTOCOL_VERSION: &str = "1.4";

/// An Electrum server. One connection, opened at [`ElectrumBackend::connect`] and reopened
/// after a failure; calls are serialized on it.
pub struct ElectrumBackend {
    url: String,
    /// `host:port` (IPv6 in brackets).
    addr: String,
    tls: bool,
    config: BackendConfig,
    conn: Mutex<Option<Conn>>,
    requests: AtomicU64,
    /// Calls written (every call of a burst counts), for [`Backend::calls`].
    calls: AtomicU64,
}

impl std::fmt::Debug for ElectrumBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ElectrumBackend({})", self.url)
    }
}

#[derive(Deserialize)]
struct RawHistory {
    tx_hash: String,
    height: i32,
    #[serde(default)]
    fee: Option<u64>,
}

#[derive(Deserialize)]
struct RawTip {
    height: u32,
    hex: String,
}

/// What went wrong in one attempt.
struct Failure {
    reason: String,
    /// The server answered with an error for this call (the connection is fine).
    server_said: bool,
    /// Trying again on a new connection is safe and may help.
    retry: bool,
}

fn classify(e: electrum_client::Error) -> Failure {
    use electrum_client::Error as E;
    let io_failure = |io: &std::io::Error| {
        let (reason, retry) = match io.kind() {
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                ("no answer in time (timed out)".to_owned(), false)
            }
            std::io::ErrorKind::UnexpectedEof => (
                "the server closed the connection without answering (electrs does this on an \
                 unknown method, a batch of more than 20 calls or a malformed request)"
                    .to_owned(),
                true,
            ),
            std::io::ErrorKind::ConnectionRefused => (
                format!("connection refused ({io}): is the server running?"),
                true,
            ),
            _ => (io.to_string(), true),
        };
        Failure {
            reason,
            server_said: false,
            retry,
        }
    };
    match e {
        E::AllAttemptsErrored(mut v) => match v.pop() {
            Some(last) => classify(last),
            None => Failure {
                reason: "the call failed".to_owned(),
                server_said: false,
                retry: false,
            },
        },
        E::Protocol(v) => Failure {
            reason: match v.as_str() {
                Some(s) => clip(s),
                None => clip(&v.to_string()),
            },
            server_said: true,
            retry: false,
        },
        E::IOError(io) => io_failure(&io),
        E::SharedIOError(io) => io_failure(&io),
        E::NotSubscribed(_) => Failure {
            reason: "a notification arrived for a script subscribed in a single burst; the \
                     connection is reopened"
                .to_owned(),
            server_said: false,
            retry: true,
        },
        E::JSON(j) => Failure {
            reason: format!("malformed answer: {j}"),
            server_said: false,
            retry: false,
        },
        other => Failure {
            reason: other.to_string(),
            server_said: false,
            retry: false,
        },
    }
}

impl ElectrumBackend {
    /// Connects to the server of `config` (an Electrum endpoint) and handshakes.
    pub fn connect(config: BackendConfig) -> Result<Self> {
        let (addr, tls) = match &config.endpoint {
            Endpoint::Electrum { host, port, tls } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                (format!("{host}:{port}"), *tls)
            }
            other => {
                return Err(Error::BackendConfig(format!(
                    "{other} is not an Electrum server"
                )))
            }
        };
        let url = config.endpoint.to_string();
        let backend = ElectrumBackend {
            url,
            addr,
            tls,
            config,
            conn: Mutex::new(None),
            requests: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        };
        {
            let mut guard = backend.lock();
            backend.ensure_open(&mut guard)?;
        }
        Ok(backend)
    }

    fn lock(&self) -> MutexGuard<'_, Option<Conn>> {
        // A poisoned lock only means another call panicked; the connection is reopened below.
        match self.conn.lock() {
            Ok(g) => g,
            Err(p) => {
                let mut g = p.into_inner();
                *g = None;
                g
            }
        }
    }

    fn err(&self, reason: impl Into<String>) -> Error {
        backend_err(&self.url, reason)
    }

    fn count_calls(&self, n: usize) {
        self.calls
            .fetch_add(u64::try_from(n).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    fn open(&self) -> std::result::Result<Conn, Failure> {
        let timeout = Some(self.config.timeout);
        let addr = self.addr.as_str();
        let cannot_connect = |e: electrum_client::Error| {
            let mut f = classify(e);
            f.reason = format!("cannot connect: {}", f.reason);
            f
        };
        // TLS goes through electrum-client's handshake, which sends `server.version` (one
        // round trip); plain TCP connects only, and the version goes with the first calls.
        let (client, version_pending) = if self.tls {
            self.requests.fetch_add(1, Ordering::Relaxed);
            self.count_calls(1);
            let c = RawClient::new_ssl(addr, true, timeout, None).map_err(cannot_connect)?;
            (Raw::Tls(c), false)
        } else {
            let stream = connect_tcp(addr, self.config.timeout)
                .map_err(|e| cannot_connect(electrum_client::Error::IOError(e)))?;
            (Raw::Tcp(RawClient::from(stream)), true)
        };
        Ok(Conn {
            client,
            subscribed: HashSet::new(),
            genesis_ok: self.config.expected_genesis().is_none(),
            version_pending,
        })
    }

    /// What `conn` (or a connection still to be opened, when `None`) must send first.
    fn preamble_of(&self, conn: Option<&Conn>) -> Preamble {
        let genesis_needed = self.config.expected_genesis().is_some();
        match conn {
            Some(c) => Preamble {
                version: c.version_pending,
                genesis: !c.genesis_ok,
            },
            None => Preamble {
                version: !self.tls,
                genesis: genesis_needed,
            },
        }
    }

    /// Checks the answers to `preamble`'s calls (in its order) and marks `conn` as done with
    /// them.
    fn accept_preamble(
        &self,
        conn: &mut Conn,
        preamble: Preamble,
        answers: &[Value],
    ) -> Result<()> {
        self.check_preamble(preamble, answers)?;
        conn.version_pending &= !preamble.version;
        conn.genesis_ok |= preamble.genesis;
        Ok(())
    }

    /// Checks the answers to `preamble`'s calls (in its order): a `server.version` answer and
    /// this network's genesis block.
    fn check_preamble(&self, preamble: Preamble, answers: &[Value]) -> Result<()> {
        let mut answers = answers.iter();
        if preamble.version {
            let v = answers.next().unwrap_or(&Value::Null);
            if !v.is_array() {
                return Err(self.err(format!(
                    "server.version: not a [server, protocol] answer: {}",
                    clip(&v.to_string())
                )));
            }
        }
        if preamble.genesis {
            self.verify_genesis(answers.next().unwrap_or(&Value::Null))?;
        }
        Ok(())
    }

    fn ensure_open(&self, guard: &mut Option<Conn>) -> Result<()> {
        let mut attempt = 0;
        while guard.is_none() {
            match self.open() {
                Ok(c) => *guard = Some(c),
                Err(f) => {
                    attempt += 1;
                    if !f.retry || attempt > self.config.retries {
                        return Err(self.err(f.reason));
                    }
                    std::thread::sleep(self.config.backoff(attempt));
                }
            }
        }
        Ok(())
    }

    /// The genesis block hash in an answer to `blockchain.block.header 0`, checked against
    /// the network's.
    fn verify_genesis(&self, v: &Value) -> Result<()> {
        let header = self.parse_header_answer(0, v)?;
        check_genesis(
            &self.url,
            self.config.expected_genesis(),
            header.block_hash(),
        )
    }

    /// What the next call should carry: what the connection (or the one that will be
    /// opened) has not sent yet.
    fn pending_preamble(&self) -> Preamble {
        self.preamble_of(self.lock().as_ref())
    }

    /// Runs one round trip `f` on the connection; read-only calls (`retry_safe`) are retried
    /// on a new connection after a transport failure. A connection that has not sent its
    /// preamble (`server.version`, the genesis check) sends it first, one round trip, unless
    /// `f` carries it itself (`carries_preamble`; then `f` accepts it).
    fn call<R>(
        &self,
        what: &str,
        retry_safe: bool,
        carries_preamble: bool,
        f: impl Fn(&mut Conn) -> std::result::Result<R, electrum_client::Error>,
    ) -> std::result::Result<R, (Failure, Error)> {
        let mut guard = self.lock();
        let mut attempt = 0u32;
        loop {
            if let Err(e) = self.ensure_open(&mut guard) {
                let f = Failure {
                    reason: e.to_string(),
                    server_said: false,
                    retry: false,
                };
                return Err((f, e));
            }
            let conn = guard.as_mut().expect("opened above");
            let preamble = if carries_preamble {
                Preamble::default()
            } else {
                self.preamble_of(Some(conn))
            };
            let res = if preamble.len() > 0 {
                self.requests.fetch_add(1, Ordering::Relaxed);
                self.count_calls(preamble.len());
                let mut batch = Batch::default();
                for (method, params) in preamble.calls() {
                    batch.raw(method.to_owned(), params);
                }
                conn.client.batch_call(&batch)
            } else {
                Ok(Vec::new())
            };
            if let Ok(answers) = &res {
                if let Err(e) = self.accept_preamble(conn, preamble, answers) {
                    let f = Failure {
                        reason: e.to_string(),
                        server_said: false,
                        retry: false,
                    };
                    return Err((f, e));
                }
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            match res.and_then(|_| f(conn)) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    let failure = classify(e);
                    if !failure.server_said {
                        // The connection is in an unknown state: never reuse it.
                        *guard = None;
                    }
                    attempt += 1;
                    if !(retry_safe && failure.retry) || attempt > self.config.retries {
                        let what = if failure.server_said {
                            format!("{what}: the server answered an error: {}", failure.reason)
                        } else {
                            format!("{what}: {}", failure.reason)
                        };
                        let e = self.err(what);
                        return Err((failure, e));
                    }
                    std::thread::sleep(self.config.backoff(attempt));
                }
            }
        }
    }

    fn read<R>(
        &self,
        what: &str,
        f: impl Fn(&mut Conn) -> std::result::Result<R, electrum_client::Error>,
    ) -> Result<R> {
        self.call(what, true, false, f).map_err(|(_, e)| e)
    }

    /// Runs `method` once per item: up to [`MAX_BURST`] calls written in one burst, then their
    /// answers read (one round trip). electrum-client writes a `Batch` as one line per call,
    /// never as a JSON-RPC array, so electrs' limit of 20 calls per array does not apply.
    fn batched<T>(
        &self,
        method: &str,
        items: &[T],
        param: impl Fn(&T) -> Param,
    ) -> Result<Vec<Value>> {
        let mut out = Vec::with_capacity(items.len());
        for burst in items.chunks(MAX_BURST) {
            let mut batch = Batch::default();
            for item in burst {
                batch.raw(method.to_owned(), vec![param(item)]);
            }
            let answers = self.read(&format!("{method} ({} calls)", burst.len()), |c| {
                self.count_calls(burst.len());
                c.client.batch_call(&batch)
            })?;
            if answers.len() != burst.len() {
                return Err(self.err(format!(
                    "{method}: {} answers to {} calls",
                    answers.len(),
                    burst.len()
                )));
            }
            out.extend(answers);
        }
        Ok(out)
    }

    /// The status of each script, subscribing to it. Scripts not yet subscribed on this
    /// connection go through electrum-client's subscription call (so that it accepts later
    /// notifications for them), the others are re-subscribed with raw calls (which answer the
    /// current status too): one burst each, so one round trip (two when both kinds are
    /// asked).
    fn subscribe_registered(&self, scripts: &[Script]) -> Result<Vec<Option<String>>> {
        let hashes: Vec<[u8; 32]> = scripts.iter().map(script_hash_bytes).collect();
        let what = format!(
            "blockchain.scripthash.subscribe ({} scripts)",
            scripts.len()
        );
        let answers: Vec<Value> = self.read(&what, |c| {
            self.count_calls(scripts.len());
            let new: Vec<usize> = (0..scripts.len())
                .filter(|i| !c.subscribed.contains(&hashes[*i]))
                .collect();
            let old: Vec<usize> = (0..scripts.len())
                .filter(|i| c.subscribed.contains(&hashes[*i]))
                .collect();
            let mut answers = vec![Value::Null; scripts.len()];
            if !new.is_empty() {
                let btc: Vec<&electrum_client::bitcoin::Script> = new
                    .iter()
                    .map(|i| electrum_client::bitcoin::Script::from_bytes(scripts[*i].as_bytes()))
                    .collect();
                let statuses = c.client.batch_script_subscribe(&btc)?;
                for (i, st) in new.iter().zip(statuses) {
                    c.subscribed.insert(hashes[*i]);
                    answers[*i] = st.map_or(Value::Null, |h| Value::String(hex_lower(&h[..])));
                }
            }
            if !old.is_empty() {
                if !new.is_empty() {
                    // A second round trip inside this call.
                    self.requests.fetch_add(1, Ordering::Relaxed);
                }
                let mut batch = Batch::default();
                for i in &old {
                    batch.raw(
                        "blockchain.scripthash.subscribe".to_owned(),
                        vec![Param::String(electrum_scripthash(&scripts[*i]))],
                    );
                }
                for (i, v) in old.iter().zip(c.client.batch_call(&batch)?) {
                    answers[*i] = v;
                }
            }
            Ok(answers)
        })?;
        scripts
            .iter()
            .zip(&answers)
            .map(|(s, v)| self.parse_status(s, v))
            .collect()
    }

    fn parse_tip(&self, v: Value) -> Result<(u32, BlockHash)> {
        let tip: RawTip = serde_json::from_value(v).map_err(|e| {
            self.err(format!(
                "blockchain.headers.subscribe: malformed answer ({e})"
            ))
        })?;
        let bytes =
            unhex(&tip.hex).map_err(|e| self.err(format!("blockchain.headers.subscribe: {e}")))?;
        let header = parse_header(&self.url, tip.height, &bytes)?;
        Ok((tip.height, header.block_hash()))
    }

    /// Calls of any methods written in bursts of up to [`MAX_BURST`] (one round trip each);
    /// answers in the order of `calls`. The error keeps what went wrong (an answer that is
    /// an error, or the connection).
    /// The first calls are `preamble`'s, accepted here for the connection that answers
    /// them (a wrong genesis is reported by the caller, which reads every answer).
    fn burst_calls(
        &self,
        what: &str,
        calls: &[(&'static str, Vec<Param>)],
        preamble: Preamble,
    ) -> std::result::Result<Vec<Value>, (Failure, Error)> {
        let mut out = Vec::with_capacity(calls.len());
        for (n, chunk) in calls.chunks(MAX_BURST).enumerate() {
            let mut batch = Batch::default();
            for (method, params) in chunk {
                batch.raw((*method).to_owned(), params.clone());
            }
            let carried = if n == 0 {
                preamble
            } else {
                Preamble::default()
            };
            let answers = self.call(what, true, carried.len() > 0, |c| {
                self.count_calls(chunk.len());
                let answers = c.client.batch_call(&batch)?;
                let head = &answers[..carried.len().min(answers.len())];
                // Errors are reported by the caller, which reads every answer.
                let _ = self.accept_preamble(c, carried, head);
                Ok(answers)
            })?;
            if answers.len() != chunk.len() {
                let reason = format!("{} answers to {} calls", answers.len(), chunk.len());
                let e = self.err(format!("{what}: {reason}"));
                let f = Failure {
                    reason,
                    server_said: false,
                    retry: false,
                };
                return Err((f, e));
            }
            out.extend(answers);
        }
        Ok(out)
    }

    fn parse_tx_answer(&self, txid: &Txid, v: &Value) -> Result<Transaction> {
        let hex = v.as_str().ok_or_else(|| {
            self.err(format!(
                "blockchain.transaction.get {txid}: no transaction in the answer: {}",
                clip(&v.to_string())
            ))
        })?;
        let bytes =
            unhex(hex).map_err(|e| self.err(format!("blockchain.transaction.get {txid}: {e}")))?;
        parse_tx(&self.url, txid, &bytes)
    }

    fn parse_header_answer(&self, height: u32, v: &Value) -> Result<BlockHeader> {
        let what = format!("blockchain.block.header {height}");
        let hex = v.as_str().ok_or_else(|| {
            self.err(format!(
                "{what}: not a hex header: {}",
                clip(&v.to_string())
            ))
        })?;
        let bytes = unhex(hex).map_err(|e| self.err(format!("{what}: {e}")))?;
        parse_header(&self.url, height, &bytes)
    }

    fn parse_history(&self, script: &Script, v: Value) -> Result<Vec<HistoryEntry>> {
        let sh = electrum_scripthash(script);
        if v.is_null() {
            return Err(self.err(format!(
                "blockchain.scripthash.get_history {sh}: no result (the server answered an error)"
            )));
        }
        let raw: Vec<RawHistory> = serde_json::from_value(v).map_err(|e| {
            self.err(format!(
                "blockchain.scripthash.get_history {sh}: malformed answer ({e})"
            ))
        })?;
        raw.into_iter()
            .map(|r| {
                let txid = r.tx_hash.parse().map_err(|_| {
                    self.err(format!(
                        "blockchain.scripthash.get_history {sh}: bad tx_hash '{}'",
                        clip(&r.tx_hash)
                    ))
                })?;
                if r.height < -1 {
                    return Err(self.err(format!(
                        "blockchain.scripthash.get_history {sh}: impossible height {}",
                        r.height
                    )));
                }
                Ok(HistoryEntry {
                    txid,
                    height: r.height,
                    fee: r.fee,
                })
            })
            .collect()
    }

    fn parse_status(&self, script: &Script, v: &Value) -> Result<Option<String>> {
        match v {
            Value::Null => Ok(None),
            Value::String(s) if s.len() == 64 && unhex(s).is_ok() => {
                Ok(Some(s.to_ascii_lowercase()))
            }
            other => Err(self.err(format!(
                "blockchain.scripthash.subscribe {}: not a status hash: {}",
                electrum_scripthash(script),
                clip(&other.to_string())
            ))),
        }
    }
}

/// A plain TCP connection to `addr` (`host:port`) with `timeout` on connecting and on every
/// read and write, and without Nagle's delay (a burst's lines go out at once).
fn connect_tcp(addr: &str, timeout: std::time::Duration) -> std::io::Result<TcpStream> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&a, timeout) {
            Ok(stream) => {
                stream.set_read_timeout(Some(timeout))?;
                stream.set_write_timeout(Some(timeout))?;
                stream.set_nodelay(true)?;
                return Ok(stream);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("{addr} resolves to no address"),
        )
    }))
}

fn script_hash_bytes(script: &Script) -> [u8; 32] {
    let mut b = sha256::Hash::hash(script.as_bytes()).to_byte_array();
    b.reverse();
    b
}

impl Backend for ElectrumBackend {
    fn tip(&self) -> Result<(u32, BlockHash)> {
        let v = self.read("blockchain.headers.subscribe", |c| {
            self.count_calls(1);
            c.client.raw_call("blockchain.headers.subscribe", vec![])
        })?;
        self.parse_tip(v)
    }

    fn histories(&self, scripts: &[Script]) -> Result<Vec<Vec<HistoryEntry>>> {
        let answers = self.batched("blockchain.scripthash.get_history", scripts, |s| {
            Param::String(electrum_scripthash(s))
        })?;
        scripts
            .iter()
            .zip(answers)
            .map(|(s, v)| self.parse_history(s, v))
            .collect()
    }

    fn statuses(&self, scripts: &[Script]) -> Result<Vec<Option<String>>> {
        let mut out = Vec::with_capacity(scripts.len());
        for burst in scripts.chunks(MAX_BURST) {
            out.extend(self.subscribe_registered(burst)?);
        }
        Ok(out)
    }

    /// Every call in one burst (one round trip per [`MAX_BURST`] calls). Statuses are raw
    /// `blockchain.scripthash.subscribe` calls, which bypass electrum-client's bookkeeping: a
    /// later notification for one of them makes electrum-client fail the call reading it,
    /// which is then retried on a new connection (it is a read). When the server answers an
    /// error and the block hash at a height was asked (a height above its tip, e.g. a server
    /// behind the one of the last sync), the burst is sent again without it and that hash is
    /// `None`.
    fn burst(&self, burst: &Burst) -> Result<BurstAnswer> {
        let mut calls: Vec<(&'static str, Vec<Param>)> = Vec::with_capacity(burst.calls() + 1);
        // The first burst of a connection carries `server.version` and the chain check in
        // the same round trip.
        let preamble = self.pending_preamble();
        calls.extend(preamble.calls());
        if burst.tip {
            calls.push(("blockchain.headers.subscribe", vec![]));
        }
        for s in &burst.statuses {
            calls.push((
                "blockchain.scripthash.subscribe",
                vec![Param::String(electrum_scripthash(s))],
            ));
        }
        for s in &burst.histories {
            calls.push((
                "blockchain.scripthash.get_history",
                vec![Param::String(electrum_scripthash(s))],
            ));
        }
        for t in &burst.txids {
            calls.push((
                "blockchain.transaction.get",
                vec![Param::String(t.to_string())],
            ));
        }
        for h in &burst.heights {
            calls.push(("blockchain.block.header", vec![Param::U32(*h)]));
        }
        if let Some(h) = burst.block_hash_at {
            calls.push(("blockchain.block.header", vec![Param::U32(h)]));
        }
        let what = format!(
            "burst of {} calls (tip {}, {} statuses, {} histories, {} transactions, {} headers)",
            calls.len(),
            if burst.tip { "yes" } else { "no" },
            burst.statuses.len(),
            burst.histories.len(),
            burst.txids.len(),
            burst.heights.len() + usize::from(burst.block_hash_at.is_some()),
        );
        let mut answers = match self.burst_calls(&what, &calls, preamble) {
            Ok(a) => a,
            Err((f, _)) if f.server_said && burst.block_hash_at.is_some() => {
                calls.pop();
                let mut a = self
                    .burst_calls(&what, &calls, preamble)
                    .map_err(|(_, e)| e)?;
                a.push(Value::Null);
                a
            }
            Err((_, e)) => return Err(e),
        };
        // The preamble's answers, checked before anything else of the answer is read.
        let rest = answers.split_off(preamble.len().min(answers.len()));
        self.check_preamble(preamble, &answers)?;
        let mut answers = rest;
        // Answers in the order of `calls`, consumed from the end.
        let mut out = BurstAnswer::default();
        if let Some(h) = burst.block_hash_at {
            let v = answers.pop().unwrap_or(Value::Null);
            out.block_hash_at = if v.is_null() {
                None
            } else {
                Some(self.parse_header_answer(h, &v)?.block_hash())
            };
        }
        let header_answers = answers.split_off(answers.len() - burst.heights.len());
        let tx_answers = answers.split_off(answers.len() - burst.txids.len());
        let history_answers = answers.split_off(answers.len() - burst.histories.len());
        let status_answers = answers.split_off(answers.len() - burst.statuses.len());
        if burst.tip {
            out.tip = Some(self.parse_tip(answers.pop().unwrap_or(Value::Null))?);
        }
        out.statuses = burst
            .statuses
            .iter()
            .zip(&status_answers)
            .map(|(s, v)| self.parse_status(s, v))
            .collect::<Result<_>>()?;
        out.histories = burst
            .histories
            .iter()
            .zip(history_answers)
            .map(|(s, v)| self.parse_history(s, v))
            .collect::<Result<_>>()?;
        out.txs = burst
            .txids
            .iter()
            .zip(&tx_answers)
            .map(|(t, v)| self.parse_tx_answer(t, v))
            .collect::<Result<_>>()?;
        out.headers = burst
            .heights
            .iter()
            .zip(&header_answers)
            .map(|(h, v)| self.parse_header_answer(*h, v))
            .collect::<Result<_>>()?;
        Ok(out)
    }

    fn cheap_calls(&self) -> bool {
        true
    }

    fn supports_status(&self) -> bool {
        true
    }

    fn transactions(&self, txids: &[Txid]) -> Result<Vec<Transaction>> {
        let answers = self.batched("blockchain.transaction.get", txids, |t| {
            Param::String(t.to_string())
        })?;
        txids
            .iter()
            .zip(&answers)
            .map(|(txid, v)| self.parse_tx_answer(txid, v))
            .collect()
    }

    fn block_header(&self, height: u32) -> Result<BlockHeader> {
        let what = format!("blockchain.block.header {height}");
        let v = self.read(&what, |c| {
            self.count_calls(1);
            c.client
                .raw_call("blockchain.block.header", vec![Param::U32(height)])
        })?;
        let hex = v.as_str().ok_or_else(|| {
            self.err(format!(
                "{what}: not a hex header: {}",
                clip(&v.to_string())
            ))
        })?;
        let bytes = unhex(hex).map_err(|e| self.err(format!("{what}: {e}")))?;
        parse_header(&self.url, height, &bytes)
    }

    fn block_headers(&self, heights: &[u32]) -> Result<Vec<BlockHeader>> {
        let answers = self.batched("blockchain.block.header", heights, |h| Param::U32(*h))?;
        heights
            .iter()
            .zip(&answers)
            .map(|(h, v)| self.parse_header_answer(*h, v))
            .collect()
    }

    fn broadcast(&self, tx: &Transaction) -> Result<Txid> {
        let txid = tx.txid();
        let hex = hex_lower(&elements::encode::serialize(tx));
        let what = format!("blockchain.transaction.broadcast of {txid}");
        let res = self.call(&what, false, false, |c| {
            self.count_calls(1);
            c.client.raw_call(
                "blockchain.transaction.broadcast",
                vec![Param::String(hex.clone())],
            )
        });
        let v = match res {
            Ok(v) => v,
            Err((f, _)) if f.server_said => {
                return Err(Error::BroadcastRejected {
                    server: self.url.clone(),
                    txid: txid.to_string(),
                    reason: f.reason,
                })
            }
            Err((f, _)) => {
                return Err(self.err(format!(
                    "{what}: {}; the transaction may or may not have reached the network: \
                     check its status before sending again",
                    f.reason
                )))
            }
        };
        let got: Txid = v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
            self.err(format!(
                "{what}: the server answered {} instead of the txid",
                clip(&v.to_string())
            ))
        })?;
        if got != txid {
            return Err(self.err(format!("{what}: the server answered txid {got}")));
        }
        Ok(txid)
    }

    fn fee_estimate(&self, target_blocks: u16) -> Result<Option<f64>> {
        let what = format!("blockchain.estimatefee {target_blocks}");
        let v = self.read(&what, |c| {
            self.count_calls(1);
            c.client.raw_call(
                "blockchain.estimatefee",
                vec![Param::Usize(usize::from(target_blocks.max(1)))],
            )
        })?;
        let btc_per_kvb = v
            .as_f64()
            .ok_or_else(|| self.err(format!("{what}: not a number: {}", clip(&v.to_string()))))?;
        if !btc_per_kvb.is_finite() || btc_per_kvb < 0.0 {
            return Ok(None); // -1: the server has no estimate
        }
        // BTC per 1000 vB to sat per vB, without float noise (1e-6 BTC/kvB is 0.1, not
        // 0.09999999999999999).
        Ok(Some((btc_per_kvb * 1e11).round() / 1e6))
    }

    fn server(&self) -> &str {
        &self.url
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}
