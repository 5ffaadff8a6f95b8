//! The chains the end-to-end scenarios run on: the embedded sandbox (always) and, opt-in, a real
//! stack of Elements Core (`elementsd`, chain `liquidregtest`) and Blockstream's electrs (Liquid
//! variant), both started on loopback from `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC` (the names
//! LWK's test harness uses).
//!
//! The node is configured as the recorded fixtures were (`../shared/fixtures/electrs-liquidregtest/
//! README.md`): a legacy (BDB) wallet owns the anyone-can-spend initial free coins and 101 blocks
//! are mined before electrs starts. Every operation returns only once electrs shows what the node
//! has (same tip, same mempool), so a wallet that syncs right after it sees the result.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::fs;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use elements::{Address, AssetId, Txid};
use serde_json::{json, Value};

/// Path to an `elementsd` executable (Elements Core 23.x).
pub const ELEMENTSD_ENV: &str = "ELEMENTSD_EXEC";
/// Path to Blockstream's `electrs` built with the `liquid` feature.
pub const ELECTRS_ENV: &str = "ELECTRS_LIQUID_EXEC";
/// RPC credentials written to `elements.conf` and given to electrs as `--cookie USER:PASS`.
pub const RPC_USER: &str = "liquidotc";
/// See [`RPC_USER`].
pub const RPC_PASSWORD: &str = "liquidotc-regtest-only";
/// The node's wallet, named as in the fixtures.
pub const WALLET: &str = "wallet";
/// The policy asset of Elements' `liquidregtest` (the CLI's regtest default).
pub const LIQUIDREGTEST_POLICY_ASSET: &str =
    "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225";
/// Blocks mined before electrs starts (as the fixtures were recorded; leaves initial block
/// download, which electrs waits for).
pub const INITIAL_BLOCKS: u32 = 101;

/// An error of a test chain; its message carries everything needed to understand it (for the
/// real stack: the tails of both processes' logs).
pub struct StackError(pub String);

impl fmt::Display for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shown as the plain message, so that `unwrap()` prints logs readably.
impl fmt::Debug for StackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<RpcError> for StackError {
    fn from(e: RpcError) -> StackError {
        StackError(e.to_string())
    }
}

/// Results of the test chains.
pub type Result<T> = std::result::Result<T, StackError>;

fn fail<T>(msg: impl Into<String>) -> Result<T> {
    Err(StackError(msg.into()))
}

// ---------------------------------------------------------------------------------------------
// The interface the scenarios use.

/// What the end-to-end scenarios need from a chain. Each operation has the meaning of the
/// embedded sandbox's method of the same name, and returns once the chain's Esplora and Electrum
/// servers show its result.
pub trait TestChain {
    /// A short name for messages: "embedded" or "elementsd+electrs".
    fn label(&self) -> &'static str;
    /// Base URL of the Esplora API, e.g. `http://127.0.0.1:PORT`.
    fn esplora_url(&self) -> String;
    /// Address of the Electrum server (plain TCP).
    fn electrum_addr(&self) -> SocketAddr;
    /// The policy asset (L-BTC).
    fn policy_asset(&self) -> AssetId;
    /// Pays `sat` base units of `asset` (L-BTC when `None`) to `address`; blinded when the
    /// address is confidential. The payment stays unconfirmed.
    fn faucet(&self, address: &Address, sat: u64, asset: Option<AssetId>) -> Result<Txid>;
    /// Mines `n` blocks (the first confirms the whole mempool).
    fn mine(&self, n: u32) -> Result<()>;
    /// Issues `sat` base units of a new asset (plus one reissuance token) held by the faucet;
    /// the issuance stays unconfirmed.
    fn issue(&self, sat: u64) -> Result<regtest::Issued>;
    /// Waits until the servers show everything the node has (after a wallet broadcast, say).
    fn settle(&self) -> Result<()>;
    /// Replaces the last `depth` blocks with `depth + 1` new ones (a reorganisation); their
    /// transactions go back to the mempool and into the new blocks.
    fn reorg(&self, depth: u32) -> Result<()>;
    /// Whether `tx` would enter the mempool now (elementsd's `testmempoolaccept`), without
    /// broadcasting it.
    fn test_accept(&self, tx: &elements::Transaction) -> Result<Verdict>;
    /// A transaction of the chain (confirmed or in the mempool).
    fn get_tx(&self, txid: &Txid) -> Result<elements::Transaction>;
}

/// A mempool verdict: accepted, or refused with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Accepted.
    pub allowed: bool,
    /// The refusal's reason as the chain gives it (empty when accepted).
    pub reason: String,
}

impl Verdict {
    /// The reason's code: its first word, without elementsd's ", detail" or the sandbox's
    /// " (detail)" (both name the failed rule first).
    pub fn code(&self) -> &str {
        let end = self
            .reason
            .find([',', ' ', ':', '('])
            .unwrap_or(self.reason.len());
        &self.reason[..end]
    }
}

impl TestChain for regtest::Sandbox {
    fn label(&self) -> &'static str {
        "embedded"
    }

    fn esplora_url(&self) -> String {
        regtest::Sandbox::esplora_url(self)
    }

    fn electrum_addr(&self) -> SocketAddr {
        regtest::Sandbox::electrum_addr(self)
    }

    fn policy_asset(&self) -> AssetId {
        regtest::Sandbox::policy_asset(self)
    }

    fn faucet(&self, address: &Address, sat: u64, asset: Option<AssetId>) -> Result<Txid> {
        regtest::Sandbox::faucet(self, address, sat, asset)
            .map_err(|e| StackError(format!("embedded chain: faucet: {e}")))
    }

    fn mine(&self, n: u32) -> Result<()> {
        regtest::Sandbox::mine(self, n)
            .map(|_| ())
            .map_err(|e| StackError(format!("embedded chain: mine: {e}")))
    }

    fn issue(&self, sat: u64) -> Result<regtest::Issued> {
        regtest::Sandbox::issue(self, sat, None)
            .map_err(|e| StackError(format!("embedded chain: issue: {e}")))
    }

    /// The embedded servers answer from the node itself: nothing to wait for.
    fn settle(&self) -> Result<()> {
        Ok(())
    }

    fn reorg(&self, depth: u32) -> Result<()> {
        regtest::Sandbox::reorg(self, depth, true)
            .map(|_| ())
            .map_err(|e| StackError(format!("embedded chain: reorg: {e}")))
    }

    fn test_accept(&self, tx: &elements::Transaction) -> Result<Verdict> {
        Ok(match regtest::Sandbox::test_accept(self, tx) {
            Ok(_) => Verdict {
                allowed: true,
                reason: String::new(),
            },
            Err(r) => Verdict {
                allowed: false,
                reason: r.reason,
            },
        })
    }

    fn get_tx(&self, txid: &Txid) -> Result<elements::Transaction> {
        regtest::Sandbox::get_tx(self, txid)
            .ok_or_else(|| StackError(format!("embedded chain: no transaction {txid}")))
    }
}

/// How the CLI reaches a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// `--esplora URL`
    Esplora,
    /// `--electrum tcp://HOST:PORT`
    Electrum,
}

/// Both backends, in the order the scenarios run them.
pub const BACKENDS: [Backend; 2] = [Backend::Esplora, Backend::Electrum];

impl Backend {
    /// The CLI's global flags that select this backend of `chain`.
    pub fn flags(self, chain: &dyn TestChain) -> Vec<String> {
        match self {
            Backend::Esplora => vec!["--esplora".into(), chain.esplora_url()],
            Backend::Electrum => vec![
                "--electrum".into(),
                format!("tcp://{}", chain.electrum_addr()),
            ],
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Opting in.

/// The skip notice printed when neither variable is set.
pub fn skip_message(test: &str) -> String {
    format!(
        "skipping the real-stack run of {test}: set {ELEMENTSD_ENV} (an elementsd, Elements Core \
         23.x) and {ELECTRS_ENV} (electrs built with --features liquid) to run it against a real \
         liquidregtest node and electrs as well, e.g. {ELEMENTSD_ENV}=../shared/real-stack/\
         elementsd {ELECTRS_ENV}=../shared/real-stack/electrs cargo test --test e2e real_stack \
         (or run .ci/run, which does)"
    )
}

/// The two executables named by the environment values: `Ok(None)` when neither is set (an
/// empty value counts as unset), an error naming both variables when only one is.
pub fn executables_from(
    elementsd: Option<OsString>,
    electrs: Option<OsString>,
) -> Result<Option<(PathBuf, PathBuf)>> {
    let set = |v: Option<OsString>| v.filter(|s| !s.is_empty()).map(PathBuf::from);
    match (set(elementsd), set(electrs)) {
        (None, None) => Ok(None),
        (Some(node), Some(electrs)) => Ok(Some((node, electrs))),
        (Some(_), None) => fail(format!(
            "{ELEMENTSD_ENV} is set but {ELECTRS_ENV} is not: the real-stack tests need both \
             (elementsd and Blockstream's electrs with the liquid feature)"
        )),
        (None, Some(_)) => fail(format!(
            "{ELECTRS_ENV} is set but {ELEMENTSD_ENV} is not: the real-stack tests need both \
             (elementsd and Blockstream's electrs with the liquid feature)"
        )),
    }
}

/// Whether this is a CI run (`CI=true`), where the real stack is required.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The executables from the environment; `None` (with a printed skip notice) when neither is
/// set, except under `CI=true`, where that is a failure. Panics when only one is set.
pub fn real_stack_executables(test: &str) -> Option<(PathBuf, PathBuf)> {
    match executables_from(
        std::env::var_os(ELEMENTSD_ENV),
        std::env::var_os(ELECTRS_ENV),
    ) {
        Ok(Some(both)) => Some(both),
        Ok(None) if in_ci() => panic!(
            "{test}: CI=true needs the real stack: set {ELEMENTSD_ENV} and {ELECTRS_ENV} (.ci/run \
             points them at ../shared/real-stack/)"
        ),
        Ok(None) => {
            // Straight to the process's stderr: libtest would swallow an `eprintln!` of a
            // passing test, and a skip must be seen.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "{}", skip_message(test));
            None
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

/// One real stack at a time: two full nodes per test in parallel would only compete for the
/// same cores.
static REAL_STACK_LOCK: Mutex<()> = Mutex::new(());

/// Runs `f` on a freshly started real stack when both variables are set, prints a skip notice
/// when neither is, and panics when only one is.
pub fn with_real_stack(test: &str, f: impl FnOnce(&RealStack)) {
    let Some((elementsd, electrs)) = real_stack_executables(test) else {
        return;
    };
    let _one_at_a_time = REAL_STACK_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    // Absolute, since the processes start in their temporary folder (a relative path such as
    // ../shared/real-stack/elementsd would be ambiguous there).
    let absolute = |p: PathBuf| fs::canonicalize(&p).unwrap_or(p);
    let stack = RealStack::start(StackConfig::new(absolute(elementsd), absolute(electrs)))
        .unwrap_or_else(|e| panic!("{test}: the real stack did not start: {e}"));
    {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "{test}: {}", stack.describe());
    }
    f(&stack);
}

// ---------------------------------------------------------------------------------------------
// A small JSON-RPC client for elementsd.

/// Why an elementsd RPC call failed; every variant names the method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RpcError {
    /// No HTTP answer (refused, reset, timed out).
    Transport {
        /// The RPC method.
        method: String,
        /// The URL tried.
        url: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// An HTTP answer without a JSON-RPC body (401 for wrong credentials, say).
    Http {
        /// The RPC method.
        method: String,
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        body: String,
    },
    /// A JSON-RPC error object.
    Rpc {
        /// The RPC method.
        method: String,
        /// The error code (-28: still warming up).
        code: i64,
        /// The error message.
        message: String,
    },
    /// A JSON body that is not a JSON-RPC answer, or a result of an unexpected shape.
    Malformed {
        /// The RPC method.
        method: String,
        /// What is wrong.
        reason: String,
    },
}

/// JSON-RPC code of elementsd answering before it has loaded its state.
pub const RPC_IN_WARMUP: i64 = -28;

impl RpcError {
    /// The JSON-RPC error code, for an error answer.
    pub fn code(&self) -> Option<i64> {
        match self {
            RpcError::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Worth asking again while a node starts: no answer yet, or still warming up.
    pub fn is_not_ready(&self) -> bool {
        matches!(self, RpcError::Transport { .. }) || self.code() == Some(RPC_IN_WARMUP)
    }
}

impl fmt::Display for RpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RpcError::Transport {
                method,
                url,
                reason,
            } => write!(f, "elementsd RPC {method}: no answer from {url}: {reason}"),
            RpcError::Http {
                method,
                status,
                body,
            } => {
                let hint = if *status == 401 || *status == 403 {
                    " (the node refused the rpcuser/rpcpassword)"
                } else {
                    ""
                };
                write!(f, "elementsd RPC {method}: HTTP {status}{hint}: {body:?}")
            }
            RpcError::Rpc {
                method,
                code,
                message,
            } => write!(f, "elementsd RPC {method} failed: error {code}: {message}"),
            RpcError::Malformed { method, reason } => {
                write!(f, "elementsd RPC {method}: unexpected answer: {reason}")
            }
        }
    }
}

/// The body of a JSON-RPC 1.0 request as Bitcoin Core and Elements take it. `params` is an
/// array (positional) or an object (named).
pub fn request_body(id: u64, method: &str, params: &Value) -> String {
    json!({"jsonrpc": "1.0", "id": id, "method": method, "params": params}).to_string()
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(300).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// The `result` of an elementsd answer (HTTP `status`, `body`) to `method`. Elements answers
/// errors with a non-200 status *and* a JSON-RPC error object; the object wins.
pub fn parse_response(
    method: &str,
    status: u16,
    body: &str,
) -> std::result::Result<Value, RpcError> {
    let doc: Value = match serde_json::from_str(body) {
        Ok(doc) => doc,
        Err(e) => {
            if status != 200 {
                return Err(RpcError::Http {
                    method: method.into(),
                    status,
                    body: clip(body),
                });
            }
            return Err(RpcError::Malformed {
                method: method.into(),
                reason: format!("not JSON ({e}): {:?}", clip(body)),
            });
        }
    };
    let Some(obj) = doc.as_object() else {
        return Err(RpcError::Malformed {
            method: method.into(),
            reason: format!("not a JSON object: {}", clip(&doc.to_string())),
        });
    };
    match obj.get("error") {
        None | Some(Value::Null) => {}
        Some(Value::Object(e)) => {
            return Err(RpcError::Rpc {
                method: method.into(),
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("(no message)")
                    .to_owned(),
            })
        }
        Some(other) => {
            return Err(RpcError::Rpc {
                method: method.into(),
                code: 0,
                message: other.to_string(),
            })
        }
    }
    match obj.get("result") {
        Some(result) if status == 200 => Ok(result.clone()),
        _ if status != 200 => Err(RpcError::Http {
            method: method.into(),
            status,
            body: clip(body),
        }),
        _ => Err(RpcError::Malformed {
            method: method.into(),
            reason: format!("neither result nor error: {}", clip(body)),
        }),
    }
}

/// Standard base64 (with padding), for HTTP basic authentication.
pub fn base64(data: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn http_agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        // Loopback only: a proxy from the environment must not be asked.
        .proxy(None)
        // A fresh connection per request: elementsd closes idle ones (-rpcservertimeout), and
        // a POST on a connection closed under it would not be retried.
        .max_idle_connections(0)
        .build()
        .into()
}

/// A JSON-RPC client of one elementsd endpoint (the node, or one of its wallets).
#[derive(Clone)]
pub struct Rpc {
    url: String,
    auth: String,
    agent: ureq::Agent,
}

static RPC_IDS: AtomicU64 = AtomicU64::new(1);

impl Rpc {
    /// A client of the node at `addr` with `user:password`; `timeout` bounds each call.
    pub fn new(addr: SocketAddr, user: &str, password: &str, timeout: Duration) -> Rpc {
        Rpc {
            url: format!("http://{addr}/"),
            auth: format!("Basic {}", base64(format!("{user}:{password}").as_bytes())),
            agent: http_agent(timeout),
        }
    }

    /// The same node's wallet `name` (`/wallet/NAME`).
    pub fn wallet(&self, name: &str) -> Rpc {
        Rpc {
            url: format!("{}wallet/{name}", self.url),
            ..self.clone()
        }
    }

    /// The endpoint's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Calls `method` with `params` (an array, or an object of named parameters).
    pub fn call(&self, method: &str, params: Value) -> std::result::Result<Value, RpcError> {
        let id = RPC_IDS.fetch_add(1, Ordering::Relaxed);
        let transport = |reason: String| RpcError::Transport {
            method: method.into(),
            url: self.url.clone(),
            reason,
        };
        let mut resp = self
            .agent
            .post(&self.url)
            .header("authorization", &self.auth)
            .header("content-type", "application/json")
            .send(request_body(id, method, &params))
            .map_err(|e| transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| transport(format!("reading the HTTP {status} answer: {e}")))?;
        parse_response(method, status, &body)
    }
}

// ---------------------------------------------------------------------------------------------
// Reading elementsd's answers.

fn malformed(method: &str, reason: impl Into<String>) -> StackError {
    StackError(
        RpcError::Malformed {
            method: method.into(),
            reason: reason.into(),
        }
        .to_string(),
    )
}

fn str_field<'a>(method: &str, v: &'a Value, key: &str) -> Result<&'a str> {
    v.get(key).and_then(Value::as_str).ok_or_else(|| {
        malformed(
            method,
            format!("no string {key:?} in {}", clip(&v.to_string())),
        )
    })
}

/// A txid answered by `method` (a bare string).
pub fn parse_txid(method: &str, v: &Value) -> Result<Txid> {
    let s = v
        .as_str()
        .ok_or_else(|| malformed(method, format!("not a txid: {v}")))?;
    Txid::from_str(s).map_err(|e| malformed(method, format!("not a txid ({e}): {s:?}")))
}

fn parse_asset(method: &str, s: &str) -> Result<AssetId> {
    AssetId::from_str(s).map_err(|e| malformed(method, format!("not an asset id ({e}): {s:?}")))
}

/// The policy asset from a `getsidechaininfo` answer (`pegged_asset`).
pub fn parse_sidechain_policy_asset(info: &Value) -> Result<AssetId> {
    parse_asset(
        "getsidechaininfo",
        str_field("getsidechaininfo", info, "pegged_asset")?,
    )
}

/// The policy asset from a `dumpassetlabels` answer (label `bitcoin`).
pub fn parse_labels_policy_asset(labels: &Value) -> Result<AssetId> {
    parse_asset(
        "dumpassetlabels",
        str_field("dumpassetlabels", labels, "bitcoin")?,
    )
}

/// The asset, token and txid of an `issueasset` answer.
pub fn parse_issueasset(v: &Value) -> Result<regtest::Issued> {
    let m = "issueasset";
    Ok(regtest::Issued {
        asset: parse_asset(m, str_field(m, v, "asset")?)?,
        token: parse_asset(m, str_field(m, v, "token")?)?,
        txid: parse_txid(m, &Value::String(str_field(m, v, "txid")?.to_owned()))?,
    })
}

/// The txids of a `getrawmempool` answer, plain (an array) or verbose (an object by txid).
pub fn parse_mempool(v: &Value) -> Result<BTreeSet<String>> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|t| {
                t.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| malformed("getrawmempool", format!("not a txid: {t}")))
            })
            .collect(),
        Value::Object(map) => Ok(map.keys().cloned().collect()),
        other => Err(malformed(
            "getrawmempool",
            format!(
                "neither an array nor an object: {}",
                clip(&other.to_string())
            ),
        )),
    }
}

/// `chain` and `blocks` of a `getblockchaininfo` answer.
pub fn parse_chain_info(v: &Value) -> Result<(String, u64)> {
    let m = "getblockchaininfo";
    let chain = str_field(m, v, "chain")?.to_owned();
    let blocks = v
        .get("blocks")
        .and_then(Value::as_u64)
        .ok_or_else(|| malformed(m, "no \"blocks\""))?;
    Ok((chain, blocks))
}

/// An amount of `sat` base units as elementsd's RPC takes it: a decimal string with 8 places
/// (exact; elementsd reads strings as well as numbers), for L-BTC and issued assets alike.
pub fn rpc_amount(sat: u64) -> String {
    format!("{}.{:08}", sat / 100_000_000, sat % 100_000_000)
}

// ---------------------------------------------------------------------------------------------
// Configuration and command lines.

/// `elements.conf` for a `liquidregtest` node as the fixtures were recorded with, RPC on
/// `127.0.0.1:rpc_port` only. Everything but `chain` sits in the `[liquidregtest]` section:
/// Elements (as Bitcoin Core) ignores network-only options such as `rpcport` and `rpcbind`
/// outside the active chain's section.
pub fn elements_conf(rpc_port: u16) -> String {
    format!(
        "# Written by liquid-otc's real-stack test harness.\n\
         chain=liquidregtest\n\
         \n\
         [liquidregtest]\n\
         server=1\n\
         listen=0\n\
         printtoconsole=0\n\
         txindex=1\n\
         validatepegin=0\n\
         initialfreecoins=2100000000000000\n\
         anyonecanspendaremine=1\n\
         con_blocksubsidy=0\n\
         fallbackfee=0.00001\n\
         acceptdiscountct=1\n\
         rpcuser={RPC_USER}\n\
         rpcpassword={RPC_PASSWORD}\n\
         rpcport={rpc_port}\n\
         rpcbind=127.0.0.1\n\
         rpcallowip=127.0.0.1\n"
    )
}

/// elementsd's command line: its data folder and the configuration file in it.
pub fn elementsd_args(datadir: &Path) -> Vec<OsString> {
    let mut datadir_arg = OsString::from("-datadir=");
    datadir_arg.push(datadir);
    let mut conf_arg = OsString::from("-conf=");
    conf_arg.push(datadir.join("elements.conf"));
    vec![datadir_arg, conf_arg]
}

/// Where electrs listens and reads.
#[derive(Clone, Debug)]
pub struct ElectrsSetup {
    /// elementsd's RPC address.
    pub daemon_rpc: SocketAddr,
    /// elementsd's `-datadir` (electrs appends `liquidregtest` itself).
    pub daemon_dir: PathBuf,
    /// electrs's index.
    pub db_dir: PathBuf,
    /// Esplora HTTP.
    pub http: SocketAddr,
    /// Electrum TCP.
    pub electrum: SocketAddr,
    /// Prometheus metrics (bound by electrs in any case; a fixed default would collide).
    pub monitoring: SocketAddr,
}

/// electrs's command line (Blockstream's `new-index` line, `src/config.rs`).
pub fn electrs_args(s: &ElectrsSetup) -> Vec<OsString> {
    vec![
        "-vv".into(),
        "--network".into(),
        "liquidregtest".into(),
        "--jsonrpc-import".into(),
        "--address-search".into(),
        "--daemon-rpc-addr".into(),
        s.daemon_rpc.to_string().into(),
        "--cookie".into(),
        format!("{RPC_USER}:{RPC_PASSWORD}").into(),
        "--daemon-dir".into(),
        s.daemon_dir.clone().into(),
        "--db-dir".into(),
        s.db_dir.clone().into(),
        "--http-addr".into(),
        s.http.to_string().into(),
        "--electrum-rpc-addr".into(),
        s.electrum.to_string().into(),
        "--monitoring-addr".into(),
        s.monitoring.to_string().into(),
    ]
}

/// A free loopback port: bound to port 0 and released. Never the same one twice in this process.
pub fn free_port() -> Result<u16> {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    let mut given = GIVEN.lock().unwrap_or_else(|e| e.into_inner());
    let given = given.get_or_insert_with(HashSet::new);
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| StackError(format!("cannot bind 127.0.0.1:0 to find a free port: {e}")))?
            .port();
        if given.insert(port) {
            return Ok(port);
        }
    }
    fail("no free loopback port found in 100 tries")
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

// ---------------------------------------------------------------------------------------------
// The real stack.

/// What to start and how long to wait.
#[derive(Clone, Debug)]
pub struct StackConfig {
    /// The elementsd executable.
    pub elementsd: PathBuf,
    /// The electrs executable (Liquid variant).
    pub electrs: PathBuf,
    /// Bound on each start-up step (elementsd answering its RPC, electrs indexing the chain).
    pub startup_deadline: Duration,
    /// Bound on electrs showing the result of one operation.
    pub op_deadline: Duration,
    /// Time between two looks at a condition being waited for.
    pub poll: Duration,
    /// Bound on one elementsd RPC call (generating 101 blocks included).
    pub rpc_timeout: Duration,
}

impl StackConfig {
    /// The defaults: generous deadlines, as a loaded CI machine may need them.
    pub fn new(elementsd: PathBuf, electrs: PathBuf) -> StackConfig {
        StackConfig {
            elementsd,
            electrs,
            startup_deadline: Duration::from_secs(120),
            op_deadline: Duration::from_secs(60),
            poll: Duration::from_millis(50),
            rpc_timeout: Duration::from_secs(120),
        }
    }
}

/// elementsd and electrs on loopback, in a temporary folder; both are killed on drop.
pub struct RealStack {
    dir: tempfile::TempDir,
    config: StackConfig,
    procs: Mutex<Procs>,
    electrs_ready: AtomicBool,
    node: Rpc,
    wallet: Rpc,
    http: ureq::Agent,
    rpc_addr: SocketAddr,
    esplora: String,
    electrum: SocketAddr,
    policy: Option<AssetId>,
    mining_address: String,
    node_version: String,
}

/// The two processes (behind a lock, so that a shared stack can reap them).
#[derive(Default)]
struct Procs {
    elementsd: Option<Child>,
    electrs: Option<Child>,
}

/// The last `n` lines of a file, or a note that it cannot be read.
fn tail(path: &Path, n: usize) -> String {
    match fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            let lines: Vec<&str> = text.lines().collect();
            let start = lines.len().saturating_sub(n);
            if lines.is_empty() {
                "(empty)".to_owned()
            } else {
                lines[start..].join("\n")
            }
        }
        Err(e) => format!("({} cannot be read: {e})", path.display()),
    }
}

/// Spawns `cmd`, retrying while Linux says the file is busy being written (a test that has
/// just written a script may race with another thread's fork).
fn spawn_retrying(cmd: &mut Command) -> std::io::Result<Child> {
    const ETXTBSY: i32 = 26;
    let mut tries = 0;
    loop {
        match cmd.spawn() {
            Err(e) if e.raw_os_error() == Some(ETXTBSY) && tries < 20 => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(25));
            }
            other => return other,
        }
    }
}

impl RealStack {
    /// Starts elementsd, prepares its wallet and 101 blocks, starts electrs and waits until it
    /// has indexed them. On any failure both processes are killed and the error carries the
    /// tails of their logs.
    pub fn start(config: StackConfig) -> Result<RealStack> {
        let dir = tempfile::Builder::new()
            .prefix("liquid-otc-real-stack-")
            .tempdir()
            .map_err(|e| StackError(format!("cannot create a temporary folder: {e}")))?;
        let datadir = dir.path().join("elementsd");
        fs::create_dir(&datadir)
            .map_err(|e| StackError(format!("cannot create {}: {e}", datadir.display())))?;
        let rpc_addr = loopback(free_port()?);
        let conf = datadir.join("elements.conf");
        fs::write(&conf, elements_conf(rpc_addr.port()))
            .map_err(|e| StackError(format!("cannot write {}: {e}", conf.display())))?;
        let http = loopback(free_port()?);
        let electrum = loopback(free_port()?);

        let elementsd = spawn(
            &config.elementsd,
            ELEMENTSD_ENV,
            elementsd_args(&datadir),
            dir.path(),
            "elementsd",
        )?;
        let node = Rpc::new(rpc_addr, RPC_USER, RPC_PASSWORD, config.rpc_timeout);
        // From here on, an early return drops `stack`, which kills what was started.
        let mut stack = RealStack {
            wallet: node.wallet(WALLET),
            node,
            http: http_agent(Duration::from_secs(10)),
            dir,
            config,
            procs: Mutex::new(Procs {
                elementsd: Some(elementsd),
                electrs: None,
            }),
            electrs_ready: AtomicBool::new(false),
            rpc_addr,
            esplora: format!("http://{http}"),
            electrum,
            policy: None,
            mining_address: String::new(),
            node_version: String::new(),
        };
        stack.wait_for_rpc()?;
        stack.prepare_node()?;
        stack.start_electrs(http)?;
        Ok(stack)
    }

    fn datadir(&self) -> PathBuf {
        self.dir.path().join("elementsd")
    }

    fn procs(&self) -> std::sync::MutexGuard<'_, Procs> {
        self.procs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The tails of every log, for error messages.
    pub fn logs(&self) -> String {
        let d = self.dir.path();
        let mut out = format!(
            "--- elementsd stderr ---\n{}\n--- elementsd debug.log ---\n{}\n",
            tail(&d.join("elementsd.stderr"), 20),
            tail(&self.datadir().join("liquidregtest").join("debug.log"), 40),
        );
        if d.join("electrs.stderr").exists() {
            out.push_str(&format!(
                "--- electrs stderr ---\n{}\n",
                tail(&d.join("electrs.stderr"), 40)
            ));
        }
        out
    }

    /// An error about `what`, with the logs.
    fn error(&self, what: impl fmt::Display) -> StackError {
        StackError(format!("{what}\n{}", self.logs()))
    }

    /// Fails when either process has exited.
    fn check_alive(&self) -> Result<()> {
        let mut dead = Vec::new();
        {
            let mut procs = self.procs();
            if let Some(Ok(Some(status))) = procs.elementsd.as_mut().map(Child::try_wait) {
                dead.push(format!("elementsd exited ({status})"));
            }
            if let Some(Ok(Some(status))) = procs.electrs.as_mut().map(Child::try_wait) {
                dead.push(format!(
                    "electrs exited ({status}); is {ELECTRS_ENV} Blockstream's electrs built \
                     with --features liquid?"
                ));
            }
        }
        if dead.is_empty() {
            Ok(())
        } else {
            Err(self.error(dead.join("; ")))
        }
    }

    /// Polls `look` until it returns `Ok(None)`, for at most `deadline`; `Some(state)` means
    /// "not yet" and is quoted if the deadline passes. Fails at once when a process exits.
    /// Once electrs is up, asks it about once a second to look at the node again.
    fn wait_until(
        &self,
        what: &str,
        deadline: Duration,
        mut look: impl FnMut(&Self) -> Result<Option<String>>,
    ) -> Result<()> {
        let start = Instant::now();
        let mut last_trigger: Option<Instant> = None;
        loop {
            self.check_alive()?;
            if self.electrs_ready.load(Ordering::SeqCst)
                && last_trigger.is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
            {
                self.trigger_electrs();
                last_trigger = Some(Instant::now());
            }
            let state = match look(self)? {
                None => return Ok(()),
                Some(state) => state,
            };
            if start.elapsed() >= deadline {
                return Err(self.error(format!(
                    "{what}: not done within {} s; last seen: {state}",
                    deadline.as_secs_f64()
                )));
            }
            std::thread::sleep(self.config.poll);
        }
    }

    /// electrs re-reads the node on SIGUSR1 rather than at its next poll (its `signal.rs`;
    /// electrsd's `trigger()` does the same). Sent only once electrs is serving, i.e. long
    /// after it has installed its handler.
    fn trigger_electrs(&self) {
        let pid = self.procs().electrs.as_ref().map(Child::id);
        if let Some(pid) = pid {
            let _ = Command::new("kill")
                .arg("-USR1")
                .arg(pid.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }

    fn wait_for_rpc(&mut self) -> Result<()> {
        let what = format!("elementsd answering getblockchaininfo on {}", self.rpc_addr);
        let mut info = Value::Null;
        self.wait_until(&what, self.config.startup_deadline, |s| {
            match s.node.call("getblockchaininfo", json!([])) {
                Ok(v) => {
                    info = v;
                    Ok(None)
                }
                Err(e) if e.is_not_ready() => Ok(Some(e.to_string())),
                Err(e) => Err(s.error(e)),
            }
        })?;
        let (chain, _) = parse_chain_info(&info).map_err(|e| self.error(e))?;
        if chain != "liquidregtest" {
            return Err(self.error(format!(
                "{ELEMENTSD_ENV} runs chain {chain:?}, not liquidregtest: is it an elementsd?"
            )));
        }
        self.node_version = self
            .node
            .call("getnetworkinfo", json!([]))
            .ok()
            .and_then(|v| {
                v.get("subversion")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "(unknown version)".to_owned());
        Ok(())
    }

    fn rpc(&self, wallet: bool, method: &str, params: Value) -> Result<Value> {
        let endpoint = if wallet { &self.wallet } else { &self.node };
        endpoint.call(method, params).map_err(|e| self.error(e))
    }

    /// The legacy wallet, the initial free coins in it, 101 blocks, the policy asset.
    fn prepare_node(&mut self) -> Result<()> {
        // A legacy (BDB) wallet, as the fixtures' node had.
        self.rpc(
            false,
            "createwallet",
            json!({"wallet_name": WALLET, "descriptors": false}),
        )?;
        let address = self.rpc(true, "getnewaddress", json!([]))?;
        self.mining_address = match address.as_str() {
            Some(a) => a.to_owned(),
            None => return Err(self.error(format!("getnewaddress answered {address}"))),
        };
        // Mined before the rescan, as electrs's own liquid tests do; leaves initial block
        // download, which electrs waits for.
        self.generate(INITIAL_BLOCKS)?;
        // The initial free coins sit in an anyone-can-spend output of the genesis block: the
        // wallet counts them as its own (anyonecanspendaremine=1) only after a rescan
        // (ElementsProject/elements#956).
        self.rpc(true, "rescanblockchain", json!([]))?;
        let coins = self.rpc(true, "listunspent", json!({"minconf": 0}))?;
        // Coinbase outputs are worth nothing here (con_blocksubsidy=0): look for value.
        let owns_value = coins.as_array().is_some_and(|coins| {
            coins
                .iter()
                .any(|c| c["amount"].as_f64().is_some_and(|a| a > 0.0))
        });
        if !owns_value {
            return Err(self.error(format!(
                "the node's wallet owns no coins after rescanblockchain (listunspent: {}): \
                 initialfreecoins and anyonecanspendaremine=1 did not take effect",
                clip(&coins.to_string())
            )));
        }
        let policy = self
            .rpc(false, "getsidechaininfo", json!([]))
            .and_then(|info| parse_sidechain_policy_asset(&info))
            .or_else(|first| {
                let labels = self.rpc(false, "dumpassetlabels", json!([]))?;
                parse_labels_policy_asset(&labels)
                    .map_err(|e| StackError(format!("{first}\nand then {e}")))
            })?;
        if policy.to_string() != LIQUIDREGTEST_POLICY_ASSET {
            return Err(self.error(format!(
                "the node's policy asset is {policy}, not liquidregtest's \
                 {LIQUIDREGTEST_POLICY_ASSET} that the CLI assumes on regtest"
            )));
        }
        self.policy = Some(policy);
        Ok(())
    }

    /// `generatetoaddress n` to the node's wallet; the new block hashes.
    fn generate(&self, n: u32) -> Result<Vec<String>> {
        let answer = self.rpc(
            true,
            "generatetoaddress",
            json!({"nblocks": n, "address": self.mining_address}),
        )?;
        let hashes: Vec<String> = answer
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|h| h.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if hashes.len() != n as usize {
            return Err(self.error(format!(
                "generatetoaddress {n} answered {}",
                clip(&answer.to_string())
            )));
        }
        Ok(hashes)
    }

    fn start_electrs(&mut self, http: SocketAddr) -> Result<()> {
        let setup = ElectrsSetup {
            daemon_rpc: self.rpc_addr,
            daemon_dir: self.datadir(),
            db_dir: self.dir.path().join("electrs-db"),
            http,
            electrum: self.electrum,
            monitoring: loopback(free_port()?),
        };
        let child = spawn(
            &self.config.electrs,
            ELECTRS_ENV,
            electrs_args(&setup),
            self.dir.path(),
            "electrs",
        )?;
        self.procs().electrs = Some(child);
        let what = format!(
            "electrs indexing the node's {} blocks and serving Esplora on {} and Electrum on {}",
            INITIAL_BLOCKS + 1,
            self.esplora,
            self.electrum
        );
        self.wait_until(&what, self.config.startup_deadline, |s| {
            if let Some(state) = s.difference()? {
                return Ok(Some(state));
            }
            // electrs binds Electrum just after Esplora.
            match TcpStream::connect_timeout(&s.electrum, Duration::from_secs(2)) {
                Ok(_) => Ok(None),
                Err(e) => Ok(Some(format!("Electrum {}: {e}", s.electrum))),
            }
        })?;
        self.electrs_ready.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// GET `path` of electrs's Esplora: `(status, body)`.
    fn esplora_get(&self, path: &str) -> std::result::Result<(u16, String), String> {
        let url = format!("{}{path}", self.esplora);
        let mut resp = self
            .http
            .get(&url)
            .call()
            .map_err(|e| format!("{url}: {e}"))?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("{url}: {e}"))?;
        Ok((status, body))
    }

    /// The body of a 200 answer to GET `path`, else what came instead.
    fn esplora_ok(&self, path: &str) -> std::result::Result<String, String> {
        match self.esplora_get(path)? {
            (200, body) => Ok(body),
            (status, body) => Err(format!(
                "{}{path}: HTTP {status} {}",
                self.esplora,
                clip(&body)
            )),
        }
    }

    /// How electrs differs from the node (tip height and hash, mempool); `None` when it shows
    /// exactly what the node has.
    fn difference(&self) -> Result<Option<String>> {
        let count = self.rpc(false, "getblockcount", json!([]))?;
        let height = count
            .as_u64()
            .ok_or_else(|| malformed("getblockcount", format!("not a height: {count}")))?;
        let hash = self.rpc(false, "getbestblockhash", json!([]))?;
        let mempool = parse_mempool(&self.rpc(false, "getrawmempool", json!([]))?)?;
        let seen_height = match self.esplora_ok("/blocks/tip/height") {
            Ok(h) => h,
            Err(e) => return Ok(Some(e)),
        };
        if seen_height.trim().parse::<u64>().ok() != Some(height) {
            return Ok(Some(format!(
                "electrs tip height {} while the node is at {height}",
                seen_height.trim()
            )));
        }
        let seen_hash = match self.esplora_ok("/blocks/tip/hash") {
            Ok(h) => h,
            Err(e) => return Ok(Some(e)),
        };
        if Some(seen_hash.trim()) != hash.as_str() {
            return Ok(Some(format!(
                "electrs tip {} while the node's is {hash}",
                seen_hash.trim()
            )));
        }
        let seen_mempool = match self.esplora_ok("/mempool/txids") {
            Ok(body) => match serde_json::from_str::<Value>(&body) {
                Ok(v) => parse_mempool(&v)?,
                Err(e) => return Ok(Some(format!("/mempool/txids is not JSON ({e})"))),
            },
            Err(e) => return Ok(Some(e)),
        };
        if seen_mempool != mempool {
            return Ok(Some(format!(
                "electrs mempool {seen_mempool:?} while the node's is {mempool:?}"
            )));
        }
        Ok(None)
    }

    /// Waits until electrs shows the node's tip and mempool, and `txid` if given.
    fn settle_on(&self, what: &str, txid: Option<&Txid>) -> Result<()> {
        self.wait_until(what, self.config.op_deadline, |s| {
            if let Some(state) = s.difference()? {
                return Ok(Some(state));
            }
            if let Some(txid) = txid {
                match s.esplora_get(&format!("/tx/{txid}")) {
                    Ok((200, _)) => {}
                    Ok((status, body)) => {
                        return Ok(Some(format!("/tx/{txid}: HTTP {status} {}", clip(&body))))
                    }
                    Err(e) => return Ok(Some(e)),
                }
            }
            Ok(None)
        })
    }

    /// One line about what runs where.
    pub fn describe(&self) -> String {
        format!(
            "real stack up: {} RPC {}, electrs Esplora {} Electrum {}, folder {}",
            self.node_version,
            self.rpc_addr,
            self.esplora,
            self.electrum,
            self.dir.path().display()
        )
    }

    /// The pids of elementsd and electrs.
    pub fn pids(&self) -> (Option<u32>, Option<u32>) {
        let procs = self.procs();
        (
            procs.elementsd.as_ref().map(Child::id),
            procs.electrs.as_ref().map(Child::id),
        )
    }

    /// The temporary folder holding both data folders and the logs.
    pub fn folder(&self) -> &Path {
        self.dir.path()
    }

    /// The node's RPC client (not the wallet's).
    pub fn node_rpc(&self) -> &Rpc {
        &self.node
    }
}

/// Starts `program` (named by the variable `env`) with its output in `dir/NAME.stdout` and
/// `dir/NAME.stderr`.
fn spawn(program: &Path, env: &str, args: Vec<OsString>, dir: &Path, name: &str) -> Result<Child> {
    let log = |suffix: &str| {
        let path = dir.join(format!("{name}.{suffix}"));
        fs::File::create(&path)
            .map_err(|e| StackError(format!("cannot create {}: {e}", path.display())))
    };
    let mut cmd = Command::new(program);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log("stdout")?)
        .stderr(log("stderr")?);
    spawn_retrying(&mut cmd).map_err(|e| {
        StackError(format!(
            "cannot start {name} from {env}={}: {e}",
            program.display()
        ))
    })
}

/// Whether a process with this pid exists (`kill -0`); a reaped child no longer does.
pub fn pid_running(pid: u32) -> bool {
    Command::new("kill")
        .arg("-0")
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl TestChain for RealStack {
    fn label(&self) -> &'static str {
        "elementsd+electrs"
    }

    fn esplora_url(&self) -> String {
        self.esplora.clone()
    }

    fn electrum_addr(&self) -> SocketAddr {
        self.electrum
    }

    fn policy_asset(&self) -> AssetId {
        self.policy.expect("set during start")
    }

    fn faucet(&self, address: &Address, sat: u64, asset: Option<AssetId>) -> Result<Txid> {
        let mut params = json!({"address": address.to_string(), "amount": rpc_amount(sat)});
        if let Some(asset) = asset {
            params["assetlabel"] = Value::String(asset.to_string());
        }
        let txid = parse_txid("sendtoaddress", &self.rpc(true, "sendtoaddress", params)?)?;
        self.settle_on(&format!("faucet payment {txid}"), Some(&txid))?;
        Ok(txid)
    }

    fn mine(&self, n: u32) -> Result<()> {
        let hashes = self.generate(n)?;
        // As the sandbox's first block does, the node's must take the whole mempool; what it
        // leaves out (a fee under its block policy, say) is named here rather than found later
        // as a balance that stays unconfirmed.
        let entries = self.rpc(false, "getrawmempool", json!({"verbose": true}))?;
        let left = parse_mempool(&entries)?;
        if !left.is_empty() {
            return Err(self.error(format!(
                "mining {n} block(s) left {} transaction(s) in the node's mempool: {}",
                left.len(),
                clip(&entries.to_string())
            )));
        }
        self.settle_on(
            &format!(
                "{n} new block(s) up to {}",
                hashes.last().map_or("", String::as_str)
            ),
            None,
        )
    }

    fn issue(&self, sat: u64) -> Result<regtest::Issued> {
        let answer = self.rpc(
            true,
            "issueasset",
            json!({"assetamount": rpc_amount(sat), "tokenamount": rpc_amount(1)}),
        )?;
        let issued = parse_issueasset(&answer)?;
        self.settle_on(&format!("issuance {}", issued.txid), Some(&issued.txid))?;
        Ok(issued)
    }

    fn settle(&self) -> Result<()> {
        self.settle_on("the node's tip and mempool", None)
    }

    fn test_accept(&self, tx: &elements::Transaction) -> Result<Verdict> {
        let hex: String = elements::encode::serialize(tx)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let answer = self.rpc(false, "testmempoolaccept", json!([[hex]]))?;
        let first = answer
            .get(0)
            .ok_or_else(|| malformed("testmempoolaccept", format!("no result: {answer}")))?;
        let allowed = first
            .get("allowed")
            .and_then(Value::as_bool)
            .ok_or_else(|| malformed("testmempoolaccept", format!("no allowed: {first}")))?;
        Ok(Verdict {
            allowed,
            reason: first
                .get("reject-reason")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        })
    }

    fn get_tx(&self, txid: &Txid) -> Result<elements::Transaction> {
        let hex = self.rpc(false, "getrawtransaction", json!([txid.to_string()]))?;
        let hex = hex
            .as_str()
            .ok_or_else(|| malformed("getrawtransaction", format!("not hex: {hex}")))?;
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|b| u8::from_str_radix(b, 16).ok())
            })
            .collect();
        let bytes = bytes.ok_or_else(|| malformed("getrawtransaction", "not hex"))?;
        elements::encode::deserialize(&bytes)
            .map_err(|e| malformed("getrawtransaction", format!("not a transaction: {e}")))
    }

    /// `invalidateblock` of the block `depth - 1` below the tip (its transactions return to
    /// the mempool), then `depth + 1` blocks mined to a fresh address (so that no new block
    /// can be the invalidated one again).
    fn reorg(&self, depth: u32) -> Result<()> {
        let count = self.rpc(false, "getblockcount", json!([]))?;
        let tip = count
            .as_u64()
            .ok_or_else(|| malformed("getblockcount", format!("not a height: {count}")))?;
        let height = tip
            .checked_sub(u64::from(depth) - 1)
            .filter(|h| depth > 0 && *h > 0)
            .ok_or_else(|| StackError(format!("cannot reorganise {depth} blocks below {tip}")))?;
        let hash = self.rpc(false, "getblockhash", json!([height]))?;
        self.rpc(false, "invalidateblock", json!([hash]))?;
        let address = self.rpc(true, "getnewaddress", json!([]))?;
        let address = address
            .as_str()
            .ok_or_else(|| malformed("getnewaddress", format!("not an address: {address}")))?;
        let mined = self.rpc(
            true,
            "generatetoaddress",
            json!({"nblocks": depth + 1, "address": address}),
        )?;
        self.settle_on(
            &format!("a reorganisation of {depth} block(s) from {hash} to {mined}"),
            None,
        )
    }
}

impl Drop for RealStack {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "the real stack in {} when the test failed:\n{}",
                self.dir.path().display(),
                self.logs()
            );
        }
        let procs = std::mem::take(&mut *self.procs());
        for mut child in [procs.electrs, procs.elementsd].into_iter().flatten() {
            // Fails only when it has already exited; then it is only reaped.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
