//! Chain backends: the one interface sync uses to read the chain and broadcast, with two
//! implementations, Esplora (REST over `ureq`) and Electrum (TCP or TLS over `electrum-client`).
//!
//! Both speak Liquid: transactions and headers are fetched as raw bytes and parsed with
//! rust-elements here, never with Bitcoin types. Every transaction fetched is checked to hash to
//! the txid asked for, every header to its height, every broadcast to the txid of the
//! transaction sent. Every failure is an [`Error::Backend`] (or [`Error::BroadcastRejected`])
//! that names the server; nothing here panics on what a server sends.
//!
//! Requests are counted ([`Backend::requests`]): one per HTTP request for Esplora, one per
//! round trip for Electrum (a single call, or a burst of calls sent together);
//! [`Backend::calls`] counts Electrum's calls one by one.

mod config;
mod electrum;
mod esplora;
mod esplora_pages;
mod pool;
mod throttle;

use elements::hashes::sha256;
use elements::{BlockHash, BlockHeader, Script, Transaction, Txid};

pub use config::{BackendConfig, BackendKind, Endpoint, DEFAULT_CONCURRENCY};
pub use electrum::{ElectrumBackend, MAX_BURST};
pub use esplora::EsploraBackend;

use crate::{Error, Result};

/// One transaction of a script's history, in Electrum's terms.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct HistoryEntry {
    /// The transaction.
    pub txid: Txid,
    /// Electrum's height: the block height when confirmed (> 0); `0` when in the mempool;
    /// `-1` when in the mempool with an unconfirmed parent (Electrum only: Esplora cannot tell
    /// and gives `0`).
    pub height: i32,
    /// The fee in satoshi, when the server gives it (Electrum does for mempool entries).
    pub fee: Option<u64>,
}

impl HistoryEntry {
    /// The confirmation height, or `None` while in the mempool.
    pub fn confirmed_height(&self) -> Option<u32> {
        u32::try_from(self.height).ok().filter(|h| *h > 0)
    }
}

/// Independent requests that a backend may send together ([`Backend::burst`]): one round
/// trip on Electrum (up to [`MAX_BURST`] calls), one pool of parallel requests on Esplora.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Burst {
    /// Ask for the tip.
    pub tip: bool,
    /// Ask for the hash of the block at this height of the best chain (to tell whether the
    /// chain under a stored block changed).
    pub block_hash_at: Option<u32>,
    /// Scripts whose Electrum status hash to ask (Esplora answers `None` without a request).
    pub statuses: Vec<Script>,
    /// Scripts whose history to ask.
    pub histories: Vec<Script>,
    /// Transactions to download.
    pub txids: Vec<Txid>,
    /// Heights whose block header to download.
    pub heights: Vec<u32>,
}

impl Burst {
    /// Whether nothing is asked.
    pub fn is_empty(&self) -> bool {
        !self.tip
            && self.block_hash_at.is_none()
            && self.statuses.is_empty()
            && self.histories.is_empty()
            && self.txids.is_empty()
            && self.heights.is_empty()
    }

    /// How many calls this is (Electrum's count: one per item).
    pub fn calls(&self) -> usize {
        usize::from(self.tip)
            + usize::from(self.block_hash_at.is_some())
            + self.statuses.len()
            + self.histories.len()
            + self.txids.len()
            + self.heights.len()
    }
}

/// The answers to a [`Burst`], each list in the order asked.
#[derive(Clone, Debug, Default)]
pub struct BurstAnswer {
    /// The tip (height, hash), when asked.
    pub tip: Option<(u32, BlockHash)>,
    /// The hash of the block at [`Burst::block_hash_at`]; `None` when not asked, or when the
    /// server has no block there or could not say (the caller must then assume the chain
    /// changed).
    pub block_hash_at: Option<BlockHash>,
    /// Status hashes, as [`Backend::statuses`] gives them.
    pub statuses: Vec<Option<String>>,
    /// Histories, as [`Backend::histories`] gives them.
    pub histories: Vec<Vec<HistoryEntry>>,
    /// Transactions, each checked against its txid.
    pub txs: Vec<Transaction>,
    /// Headers, each checked to be at its height.
    pub headers: Vec<BlockHeader>,
}

/// The interface sync uses. Object-safe: hold it as `Box<dyn Backend>`.
///
/// Batch methods take and return slices in the same order: `histories(scripts)[i]` is the
/// history of `scripts[i]`.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// The height and hash of the best block.
    fn tip(&self) -> Result<(u32, BlockHash)>;

    /// The history of each script, ordered as Electrum orders it: confirmed transactions by
    /// height ascending (the server's order inside a block), then mempool transactions.
    fn histories(&self, scripts: &[Script]) -> Result<Vec<Vec<HistoryEntry>>>;

    /// The Electrum status hash of each script (`None`: no history). Electrum subscribes to
    /// the scripts, which is one round trip per 20 scripts, so an unchanged wallet is cheap.
    /// Esplora has no status hashes: it returns `None` for every script without a request,
    /// and sync must then compare histories (see [`Backend::supports_status`]).
    fn statuses(&self, scripts: &[Script]) -> Result<Vec<Option<String>>>;

    /// The requests of `burst`, which do not depend on each other, sent together: Electrum
    /// writes them as one burst (one round trip per [`MAX_BURST`] calls), Esplora runs them
    /// through one pool of parallel requests. This default asks them one kind after the
    /// other (for wrappers and simple backends).
    fn burst(&self, burst: &Burst) -> Result<BurstAnswer> {
        let tip = if burst.tip { Some(self.tip()?) } else { None };
        // No block there (or no answer) means "the chain may have changed": the caller then
        // refreshes what it stored, which is always safe.
        let block_hash_at = burst
            .block_hash_at
            .and_then(|h| self.block_header(h).ok())
            .map(|h| h.block_hash());
        Ok(BurstAnswer {
            tip,
            block_hash_at,
            statuses: self.statuses(&burst.statuses)?,
            histories: self.histories(&burst.histories)?,
            txs: self.transactions(&burst.txids)?,
            headers: self.block_headers(&burst.heights)?,
        })
    }

    /// [`Backend::burst`], handing every transaction to `downloaded` as soon as it has arrived
    /// and was checked against its txid, so that the caller can work on it while the rest of
    /// the burst is still on its way (sync unblinds while downloading). The answer still
    /// carries every transaction. A transaction is handed over once per burst, and never
    /// before the server's chain was checked (a burst that carries the genesis check hands
    /// its transactions over when it is answered). This default hands them over when the
    /// burst is answered (Electrum answers a burst at once anyway).
    fn burst_streaming(
        &self,
        burst: &Burst,
        downloaded: &(dyn Fn(&Transaction) + Sync),
    ) -> Result<BurstAnswer> {
        let answer = self.burst(burst)?;
        for tx in &answer.txs {
            downloaded(tx);
        }
        Ok(answer)
    }

    /// Whether many calls in one [`Backend::burst`] cost about what one costs (Electrum: one
    /// round trip), so that sync may ask a few scripts ahead of the gap limit to save round
    /// trips. Where every call is a request of its own (Esplora), sync asks only what the gap
    /// limit needs.
    fn cheap_calls(&self) -> bool {
        false
    }

    /// Whether [`Backend::statuses`] gives real status hashes (Electrum) or only `None`s.
    fn supports_status(&self) -> bool;

    /// The transactions of `txids`, each checked to hash to the txid asked for.
    fn transactions(&self, txids: &[Txid]) -> Result<Vec<Transaction>>;

    /// The header of the block at `height` of the best chain (checked to be at that height).
    fn block_header(&self, height: u32) -> Result<BlockHeader>;

    /// The headers at `heights` (same order), each checked as [`Backend::block_header`]
    /// checks it: in batches of 20 on Electrum, in parallel on Esplora.
    fn block_headers(&self, heights: &[u32]) -> Result<Vec<BlockHeader>> {
        heights.iter().map(|h| self.block_header(*h)).collect()
    }

    /// Broadcasts `tx`; returns its txid once the server accepted it and answered that txid.
    /// Never retried: a failure after sending may or may not have reached the network.
    fn broadcast(&self, tx: &Transaction) -> Result<Txid>;

    /// A fee rate in sat/vB to confirm within `target_blocks`, or `None` when the server has
    /// no estimate.
    fn fee_estimate(&self, target_blocks: u16) -> Result<Option<f64>>;

    /// The transaction that first issued `asset`, when the server indexes assets (Esplora's
    /// `/asset/:id`); `None` when it does not know the asset or cannot tell (Electrum). An
    /// untrusted hint: the caller fetches that transaction and checks that it issues `asset`.
    fn issuance_tx(&self, _asset: &elements::AssetId) -> Result<Option<Txid>> {
        Ok(None)
    }

    /// The server's URL, for messages.
    fn server(&self) -> &str;

    /// How many requests (round trips) this backend has made so far.
    fn requests(&self) -> u64;

    /// How many calls this backend has made so far: Electrum counts every call of a burst
    /// (what a server serves), where [`Backend::requests`] counts round trips; elsewhere the
    /// same as [`Backend::requests`].
    fn calls(&self) -> u64 {
        self.requests()
    }
}

/// Esplora's script hash: `hex(sha256(script))` in the digest's natural byte order.
pub fn esplora_scripthash(script: &Script) -> String {
    hex_lower(&sha256::Hash::hash(script.as_bytes()).to_byte_array())
}

/// Electrum's script hash: the same 32 bytes as Esplora's, reversed.
pub fn electrum_scripthash(script: &Script) -> String {
    let mut bytes = sha256::Hash::hash(script.as_bytes()).to_byte_array();
    bytes.reverse();
    hex_lower(&bytes)
}

/// The Electrum status hash of a history (in Electrum's order): the hex sha256 of the
/// concatenated `"<txid>:<height>:"`; `None` for an empty history.
pub fn electrum_status(history: &[HistoryEntry]) -> Option<String> {
    if history.is_empty() {
        return None;
    }
    let mut preimage = String::with_capacity(history.len() * 72);
    for e in history {
        preimage.push_str(&format!("{}:{}:", e.txid, e.height));
    }
    Some(hex_lower(
        &sha256::Hash::hash(preimage.as_bytes()).to_byte_array(),
    ))
}

/// A status hash of a history that does not depend on the order of the transactions of one
/// block (nor of the mempool): [`electrum_status`] of the history sorted by height (mempool
/// last) then txid. Esplora histories are compared by it, since not every Esplora server lists
/// one block's transactions in a stable order (mempool.space's electrs does not), and a
/// history that did not change must not look changed.
pub fn order_insensitive_status(history: &[HistoryEntry]) -> Option<String> {
    let mut sorted = history.to_vec();
    sorted.sort_by(|a, b| {
        let key = |e: &HistoryEntry| (e.confirmed_height().unwrap_or(u32::MAX), e.txid);
        key(a).cmp(&key(b))
    });
    electrum_status(&sorted)
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

pub(crate) fn unhex(s: &str) -> std::result::Result<Vec<u8>, String> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err(format!("odd-length hex ({} characters)", s.len()));
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        b'A'..=b'F' => Ok(c - b'A' + 10),
        _ => Err(format!("not hex: byte {c:#04x}")),
    };
    s.as_bytes()
        .chunks(2)
        .map(|p| Ok(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

/// Shortens a server-supplied text for an error message (servers can send megabytes).
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 300;
    let s = s.trim();
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

/// Checks the genesis block hash a server answered against the expected network's.
pub(crate) fn check_genesis(
    server: &str,
    expected: Option<(crate::network::Network, BlockHash)>,
    found: BlockHash,
) -> Result<()> {
    match expected {
        Some((network, genesis)) if genesis != found => Err(Error::WrongChain {
            server: server.to_owned(),
            expected: network,
            genesis: genesis.to_string(),
            found: found.to_string(),
        }),
        _ => Ok(()),
    }
}

pub(crate) fn backend_err(server: &str, reason: impl Into<String>) -> Error {
    Error::Backend {
        server: server.to_owned(),
        reason: reason.into(),
    }
}

/// Parses a raw transaction and checks that it is the one asked for.
pub(crate) fn parse_tx(server: &str, expected: &Txid, bytes: &[u8]) -> Result<Transaction> {
    let tx: Transaction = elements::encode::deserialize(bytes).map_err(|e| {
        backend_err(
            server,
            format!("transaction {expected}: not a valid Liquid transaction ({e})"),
        )
    })?;
    let got = tx.txid();
    if &got != expected {
        return Err(backend_err(
            server,
            format!("asked for transaction {expected} but the server sent {got}"),
        ));
    }
    Ok(tx)
}

/// Parses a raw block header and checks its height.
pub(crate) fn parse_header(server: &str, height: u32, bytes: &[u8]) -> Result<BlockHeader> {
    let header: BlockHeader = elements::encode::deserialize(bytes).map_err(|e| {
        backend_err(
            server,
            format!("block header at height {height}: not a valid Liquid header ({e})"),
        )
    })?;
    if header.height != height {
        return Err(backend_err(
            server,
            format!(
                "asked for the header at height {height} but the server sent one at height {}",
                header.height
            ),
        ));
    }
    Ok(header)
}
