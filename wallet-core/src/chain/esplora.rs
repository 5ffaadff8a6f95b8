//! Esplora (Blockstream's electrs REST API) over `ureq`: a window of requests in flight (32 by
//! default, [`BackendConfig::concurrency`]) over kept-alive connections, so that after the
//! first requests every one reuses a connection instead of opening (and on HTTPS
//! handshaking) a new one; a server that answers 429 or 503 pauses every request
//! (`Retry-After`) and halves the window.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use elements::{BlockHash, BlockHeader, Script, Transaction, Txid};
use serde::Deserialize;

use super::esplora_pages::{EsploraTx, HistoryPages, Next, CHAIN_PAGE};
use super::pool::parallel_map;
use super::throttle::{parse_retry_after, Window, MAX_RETRY_AFTER};
use super::{
    backend_err, check_genesis, clip, esplora_scripthash, hex_lower, parse_header, parse_tx, unhex,
    Backend, BackendConfig, Burst, BurstAnswer, Endpoint, HistoryEntry,
};
use crate::Result;

/// Pages followed for one script before giving up (100 000 transactions).
const MAX_PAGES: usize = 4000;
/// Largest body accepted (a block of big transactions fits well below).
const MAX_BODY: u64 = 64 * 1024 * 1024;

/// An Esplora server.
pub struct EsploraBackend {
    base: String,
    config: BackendConfig,
    agent: ureq::Agent,
    requests: AtomicU64,
    /// Bounds the requests in flight, whichever pool of threads sends them, and holds them
    /// all after a 429 or 503.
    window: Window,
    /// Whether the server's genesis block was checked (or needs no check).
    genesis_checked: AtomicBool,
}

impl std::fmt::Debug for EsploraBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EsploraBackend({})", self.base)
    }
}

/// One failed attempt: the message, and whether trying again is safe and may help.
struct Failure {
    reason: String,
    retry: bool,
    /// The server asked to slow down (429, 503): the window already waits.
    throttled: bool,
}

/// One request of a [`Burst`] (the tip and a header are two requests in a row).
enum Ask<'a> {
    Genesis,
    Tip,
    BlockHashAt(u32),
    History(&'a Script),
    Tx(&'a Txid),
    Header(u32),
}

/// Its answer.
enum Got {
    Genesis(BlockHash),
    Tip((u32, BlockHash)),
    BlockHashAt(Option<BlockHash>),
    History(Vec<HistoryEntry>),
    Tx(Transaction),
    Header(Box<BlockHeader>),
}

impl EsploraBackend {
    /// An Esplora client for `config` (which must be an Esplora endpoint). Nothing is sent yet.
    pub fn new(config: BackendConfig) -> Result<Self> {
        let base = match &config.endpoint {
            Endpoint::Esplora { url } => url.clone(),
            other => {
                return Err(crate::Error::BackendConfig(format!(
                    "{other} is not an Esplora URL"
                )))
            }
        };
        // ureq keeps 3 idle connections per host by default: with more requests in flight,
        // every answer beyond the third would close its connection and the next request
        // would open a new one. Keep one per place in the window.
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .max_idle_connections_per_host(config.concurrency.max(1))
            .max_idle_connections(config.concurrency.max(10))
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("liquid-otc/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Ok(EsploraBackend {
            base,
            requests: AtomicU64::new(0),
            window: Window::new(config.concurrency),
            genesis_checked: AtomicBool::new(config.expected_genesis().is_none()),
            agent,
            config,
        })
    }

    /// How many requests may be in flight now: the configured concurrency, halved each
    /// time the server answered 429 or 503.
    pub fn window(&self) -> usize {
        self.window.size()
    }

    fn err(&self, reason: impl Into<String>) -> crate::Error {
        backend_err(&self.base, reason)
    }

    /// Whether the genesis block is still to be checked.
    fn genesis_pending(&self) -> bool {
        !self.genesis_checked.load(Ordering::Relaxed)
    }

    /// Checks `found`, the server's genesis block hash, against the network's.
    fn accept_genesis(&self, found: BlockHash) -> Result<()> {
        check_genesis(&self.base, self.config.expected_genesis(), found)?;
        self.genesis_checked.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Checks the server's genesis block once (`/block-height/0`), before the first request
    /// that does not carry the check in its own parallel pool.
    fn ensure_genesis(&self) -> Result<()> {
        if self.genesis_pending() {
            let found = self.get_block_hash("/block-height/0")?;
            self.accept_genesis(found)?;
        }
        Ok(())
    }

    /// The tip, without the genesis check.
    fn tip_unchecked(&self) -> Result<(u32, BlockHash)> {
        // The hash, then its header, which carries the height: consistent even if a block
        // arrives between the two requests.
        let hash = self.get_block_hash("/blocks/tip/hash")?;
        let header = self.header_by_hash(&hash, None)?;
        Ok((header.height, hash))
    }

    /// The header at `height`, without the genesis check.
    fn header_at(&self, height: u32) -> Result<BlockHeader> {
        let hash = self.get_block_hash(&format!("/block-height/{height}"))?;
        self.header_by_hash(&hash, Some(height))
    }

    /// One HTTP exchange: `(status, body)`, or a failure. Waits first for a place in the
    /// window and while the server asked to slow down; an answer 429 or 503 makes every
    /// request of this backend wait `Retry-After` (or the retry backoff) before the next
    /// one, and halves the window.
    fn exchange(
        &self,
        path: &str,
        body: Option<&str>,
    ) -> std::result::Result<(u16, Vec<u8>), Failure> {
        let _slot = self.window.enter();
        let url = format!("{}{}", self.base, path);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let resp = match body {
            None => self.agent.get(&url).call(),
            Some(b) => self
                .agent
                .post(&url)
                .header("content-type", "text/plain")
                .send(b),
        };
        let mut resp = resp.map_err(|e| transport_failure(e, self.config.timeout))?;
        let status = resp.status().as_u16();
        if status == 429 || status == 503 {
            let asked = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            if let Some(d) = asked.filter(|d| *d > MAX_RETRY_AFTER) {
                return Err(Failure {
                    reason: format!(
                        "HTTP {status}: the server asks clients to wait {} s before asking again",
                        d.as_secs()
                    ),
                    retry: false,
                    throttled: false,
                });
            }
            self.window
                .slow_down(asked.unwrap_or(self.config.retry_backoff));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| {
                let mut f = transport_failure(e, self.config.timeout);
                f.reason = format!("reading the HTTP {status} response failed: {}", f.reason);
                f
            })?;
        Ok((status, bytes))
    }

    /// GET `path` with retries; the body of a 200 answer.
    fn get(&self, path: &str) -> Result<Vec<u8>> {
        let mut attempt = 0u32;
        loop {
            let failure = match self.exchange(path, None) {
                Ok((200, body)) => return Ok(body),
                Ok((status, body)) => Failure {
                    reason: format!("HTTP {status}: {}", clip(&String::from_utf8_lossy(&body))),
                    retry: status == 429 || (500..600).contains(&status),
                    throttled: status == 429 || status == 503,
                },
                Err(f) => f,
            };
            attempt += 1;
            if !failure.retry || attempt > self.config.retries {
                let tries = if attempt > 1 {
                    format!(" (after {attempt} attempts)")
                } else {
                    String::new()
                };
                return Err(self.err(format!("GET {path}: {}{tries}", failure.reason)));
            }
            // After a 429 or 503 the window holds every request; otherwise back off here.
            if !failure.throttled {
                std::thread::sleep(self.config.backoff(attempt));
            }
        }
    }

    fn get_text(&self, path: &str) -> Result<String> {
        let body = self.get(path)?;
        String::from_utf8(body)
            .map(|s| s.trim().to_owned())
            .map_err(|_| self.err(format!("GET {path}: the answer is not text")))
    }

    fn get_json<T: for<'de> Deserialize<'de>>(&self, path: &str) -> Result<T> {
        let body = self.get(path)?;
        serde_json::from_slice(&body).map_err(|e| {
            self.err(format!(
                "GET {path}: malformed JSON ({e}): {}",
                clip(&String::from_utf8_lossy(&body))
            ))
        })
    }

    fn get_block_hash(&self, path: &str) -> Result<BlockHash> {
        let text = self.get_text(path)?;
        text.parse()
            .map_err(|_| self.err(format!("GET {path}: not a block hash: '{}'", clip(&text))))
    }

    fn header_by_hash(&self, hash: &BlockHash, height: Option<u32>) -> Result<BlockHeader> {
        let path = format!("/block/{hash}/header");
        let text = self.get_text(&path)?;
        let bytes = unhex(&text).map_err(|e| self.err(format!("GET {path}: {e}")))?;
        let header = match height {
            Some(h) => parse_header(&self.base, h, &bytes)?,
            None => elements::encode::deserialize::<BlockHeader>(&bytes)
                .map_err(|e| self.err(format!("GET {path}: not a valid Liquid header ({e})")))?,
        };
        if header.block_hash() != *hash {
            return Err(self.err(format!(
                "GET {path}: the header hashes to {}, not to the block asked for",
                header.block_hash()
            )));
        }
        Ok(header)
    }

    /// The full history of one script, in Electrum's order (see [`HistoryPages`] for how the
    /// pages of both electrs lines are read).
    fn history(&self, script: &Script) -> Result<Vec<HistoryEntry>> {
        let hash = esplora_scripthash(script);
        let mut path = format!("/scripthash/{hash}/txs");
        let mut pages = HistoryPages::default();
        while pages.pages() < MAX_PAGES {
            let page: Vec<EsploraTx> = self.get_json(&path)?;
            match pages
                .add(page)
                .map_err(|e| self.err(format!("GET {path}: {e}")))?
            {
                Next::Done => return Ok(pages.finish()),
                Next::ChainFirst => path = format!("/scripthash/{hash}/txs/chain"),
                Next::ChainAfter(last) => path = format!("/scripthash/{hash}/txs/chain/{last}"),
            }
        }
        Err(self.err(format!(
            "script hash {hash}: more than {} transactions, giving up",
            MAX_PAGES * CHAIN_PAGE
        )))
    }

    fn transaction(&self, txid: &Txid) -> Result<Transaction> {
        let bytes = self.get(&format!("/tx/{txid}/raw"))?;
        parse_tx(&self.base, txid, &bytes)
    }
}

fn transport_failure(e: ureq::Error, timeout: Duration) -> Failure {
    match e {
        ureq::Error::Timeout(_) => Failure {
            reason: format!("no answer within {} s (timed out)", timeout.as_secs_f64()),
            retry: false,

            throttled: false,
        },
        ureq::Error::Io(io) => Failure {
            retry: !matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
            reason: match io.kind() {
                std::io::ErrorKind::ConnectionRefused => {
                    format!("connection refused ({io}): is the server running?")
                }
                std::io::ErrorKind::UnexpectedEof => {
                    format!("the connection closed before the answer was complete ({io})")
                }
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                    format!("no answer within {} s (timed out)", timeout.as_secs_f64())
                }
                _ => io.to_string(),
            },
            throttled: false,
        },
        ureq::Error::ConnectionFailed | ureq::Error::Protocol(_) | ureq::Error::BodyStalled => {
            Failure {
                reason: e.to_string(),
                retry: true,

                throttled: false,
            }
        }
        ureq::Error::HostNotFound => Failure {
            reason: "host not found (check the URL and the network connection)".to_owned(),
            retry: false,

            throttled: false,
        },
        other => Failure {
            reason: other.to_string(),
            retry: false,

            throttled: false,
        },
    }
}

impl Backend for EsploraBackend {
    fn tip(&self) -> Result<(u32, BlockHash)> {
        self.ensure_genesis()?;
        self.tip_unchecked()
    }

    fn histories(&self, scripts: &[Script]) -> Result<Vec<Vec<HistoryEntry>>> {
        self.ensure_genesis()?;
        parallel_map(scripts, self.config.concurrency, |s| self.history(s))
    }

    fn statuses(&self, scripts: &[Script]) -> Result<Vec<Option<String>>> {
        Ok(vec![None; scripts.len()])
    }

    /// The requests of `burst` through two pools of parallel requests run at once, each
    /// bounded by the configured concurrency (as the scan and the download ran before they
    /// were pipelined): histories and transactions in one; the tip, the block hash at a
    /// height and the headers in the other. The block hash at a height is
    /// `/block-height/:height` alone; any failure there (e.g. a height above this server's
    /// tip) answers `None`.
    fn burst(&self, burst: &Burst) -> Result<BurstAnswer> {
        self.burst_streaming(burst, &|_| {})
    }

    /// [`EsploraBackend::burst`], handing each transaction over as soon as it is downloaded
    /// (once the genesis block was checked: a first burst hands them over at its end).
    fn burst_streaming(
        &self,
        burst: &Burst,
        downloaded: &(dyn Fn(&Transaction) + Sync),
    ) -> Result<BurstAnswer> {
        let stream = !self.genesis_pending();
        let mut scripts_and_txs: Vec<Ask> =
            Vec::with_capacity(burst.histories.len() + burst.txids.len());
        scripts_and_txs.extend(burst.histories.iter().map(Ask::History));
        scripts_and_txs.extend(burst.txids.iter().map(Ask::Tx));
        let mut blocks: Vec<Ask> = Vec::with_capacity(burst.heights.len() + 3);
        // The first pool of a connection also checks the genesis block (no round trip of
        // its own); nothing it fetched is returned unless that check passes.
        if self.genesis_pending() {
            blocks.push(Ask::Genesis);
        }
        if burst.tip {
            blocks.push(Ask::Tip);
        }
        if let Some(h) = burst.block_hash_at {
            blocks.push(Ask::BlockHashAt(h));
        }
        blocks.extend(burst.heights.iter().map(|h| Ask::Header(*h)));
        let run = |asks: &[Ask]| {
            parallel_map(asks, self.config.concurrency, |a| {
                Ok(match a {
                    Ask::Genesis => Got::Genesis(self.get_block_hash("/block-height/0")?),
                    Ask::Tip => Got::Tip(self.tip_unchecked()?),
                    Ask::BlockHashAt(h) => {
                        Got::BlockHashAt(self.get_block_hash(&format!("/block-height/{h}")).ok())
                    }
                    Ask::History(s) => Got::History(self.history(s)?),
                    Ask::Tx(t) => {
                        let tx = self.transaction(t)?;
                        if stream {
                            downloaded(&tx);
                        }
                        Got::Tx(tx)
                    }
                    Ask::Header(h) => Got::Header(Box::new(self.header_at(*h)?)),
                })
            })
        };
        let (got_blocks, got_rest) = std::thread::scope(|s| {
            let b = s.spawn(|| run(&blocks));
            let rest = run(&scripts_and_txs);
            let b = b.join().unwrap_or_else(|_| {
                Err(self.err("internal: the tip and header requests panicked"))
            });
            (b, rest)
        });
        let mut out = BurstAnswer {
            statuses: vec![None; burst.statuses.len()],
            ..BurstAnswer::default()
        };
        let (got_blocks, got_rest) = (got_blocks?, got_rest?);
        for g in &got_blocks {
            if let Got::Genesis(found) = g {
                self.accept_genesis(*found)?;
            }
        }
        for g in got_blocks.into_iter().chain(got_rest) {
            if let (Got::Tx(tx), false) = (&g, stream) {
                downloaded(tx);
            }
            match g {
                Got::Genesis(_) => {}
                Got::Tip(t) => out.tip = Some(t),
                Got::BlockHashAt(h) => out.block_hash_at = h,
                Got::History(h) => out.histories.push(h),
                Got::Tx(t) => out.txs.push(t),
                Got::Header(h) => out.headers.push(*h),
            }
        }
        Ok(out)
    }

    fn supports_status(&self) -> bool {
        false
    }

    fn transactions(&self, txids: &[Txid]) -> Result<Vec<Transaction>> {
        self.ensure_genesis()?;
        parallel_map(txids, self.config.concurrency, |t| self.transaction(t))
    }

    fn block_header(&self, height: u32) -> Result<BlockHeader> {
        self.ensure_genesis()?;
        self.header_at(height)
    }

    fn block_headers(&self, heights: &[u32]) -> Result<Vec<BlockHeader>> {
        self.ensure_genesis()?;
        parallel_map(heights, self.config.concurrency, |h| self.header_at(*h))
    }

    fn broadcast(&self, tx: &Transaction) -> Result<Txid> {
        self.ensure_genesis()?;
        let txid = tx.txid();
        let hex = hex_lower(&elements::encode::serialize(tx));
        match self.exchange("/tx", Some(&hex)) {
            Ok((200, body)) => {
                let text = String::from_utf8_lossy(&body);
                let got: Txid = text.trim().parse().map_err(|_| {
                    self.err(format!(
                        "POST /tx: the server accepted {txid} but answered '{}' instead of its txid",
                        clip(&text)
                    ))
                })?;
                if got != txid {
                    return Err(self.err(format!(
                        "POST /tx: sent {txid} but the server answered txid {got}"
                    )));
                }
                Ok(txid)
            }
            Ok((status, body)) if (400..500).contains(&status) && status != 429 => {
                Err(crate::Error::BroadcastRejected {
                    server: self.base.clone(),
                    txid: txid.to_string(),
                    reason: clip(&String::from_utf8_lossy(&body)),
                })
            }
            Ok((status, body)) => Err(self.err(format!(
                "POST /tx of {txid}: HTTP {status}: {}; the transaction may or may not have \
                 reached the network: check its status before sending again",
                clip(&String::from_utf8_lossy(&body))
            ))),
            Err(f) => Err(self.err(format!(
                "POST /tx of {txid}: {}; the transaction may or may not have reached the \
                 network: check its status before sending again",
                f.reason
            ))),
        }
    }

    fn fee_estimate(&self, target_blocks: u16) -> Result<Option<f64>> {
        self.ensure_genesis()?;
        let map: std::collections::HashMap<String, f64> = self.get_json("/fee-estimates")?;
        // The estimate for the largest target not above the one asked for; if every target is
        // above it, the smallest one.
        let mut entries: Vec<(u16, f64)> = map
            .iter()
            .filter_map(|(k, v)| Some((k.parse::<u16>().ok()?, *v)))
            .filter(|(_, v)| v.is_finite() && *v >= 0.0)
            .collect();
        entries.sort_by_key(|(k, _)| *k);
        let best = entries
            .iter()
            .rev()
            .find(|(k, _)| *k <= target_blocks.max(1))
            .or_else(|| entries.first());
        Ok(best.map(|(_, v)| *v))
    }

    fn issuance_tx(&self, asset: &elements::AssetId) -> Result<Option<Txid>> {
        #[derive(Deserialize)]
        struct AssetInfo {
            issuance_txin: Option<TxinRef>,
        }
        #[derive(Deserialize)]
        struct TxinRef {
            txid: String,
        }
        self.ensure_genesis()?;
        let path = format!("/asset/{asset}");
        let body = match self.exchange(&path, None) {
            Ok((404, _)) => return Ok(None),
            Ok((200, body)) => body,
            // Anything else goes through the retrying GET, which names the failure.
            _ => self.get(&path)?,
        };
        let info: AssetInfo = serde_json::from_slice(&body).map_err(|e| {
            self.err(format!(
                "GET {path}: malformed JSON ({e}): {}",
                clip(&String::from_utf8_lossy(&body))
            ))
        })?;
        info.issuance_txin
            .map(|t| {
                t.txid
                    .parse()
                    .map_err(|_| self.err(format!("GET {path}: '{}' is not a txid", clip(&t.txid))))
            })
            .transpose()
    }

    fn server(&self) -> &str {
        &self.base
    }

    fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}
