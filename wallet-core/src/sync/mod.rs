//! Sync: scan the wallet's scripts on a chain backend, download the transactions not stored
//! yet, unblind the wallet's outputs in them, and store it all as ONE SQLite transaction.
//!
//! * Scan: both keychains, from index 0 up to `gap_limit` scripts past the last one with
//!   history (and at least every address handed out), extended while new history appears,
//!   in rounds that also download what the previous rounds found (see `scan`).
//! * Incremental: on Electrum, the scripts' status hashes are compared with the stored ones
//!   and only changed scripts' histories are fetched; on Esplora (no status hashes) the
//!   histories are fetched in parallel and compared. Only transactions not stored are
//!   downloaded; only outputs to the wallet's scripts are unblinded, on `threads` workers
//!   that start with the first transaction downloaded (see `outputs`).
//! * Reorgs and mempool evictions: a changed history replaces the stored one, and a stored
//!   transaction that no history lists any more is dropped with its outputs and spends (see
//!   [`crate::store::SyncUpdate`]); transactions the wallet recorded stay until seen, and
//!   fail (stop counting) when a chain transaction spends their coins or when the server
//!   still does not know them `pending_grace` after it accepted them. When
//!   the block at the highest stored height was replaced (a transaction re-mined at the same
//!   height keeps its status hash), the hash and time of every stored height are downloaded
//!   again.
//! * Nothing is written unless the whole sync succeeded: a backend failure leaves the store
//!   as it was.
//!
//! This module never prints: progress goes through the caller's callback.

pub mod outputs;
mod scan;
mod second_look;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Instant;

use elements::{BlockHash, Txid};

use crate::chain::Backend;
use crate::descriptor::Keychain;
use crate::store::{NewTx, SyncUpdate};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// How to sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncOptions {
    /// Unused scripts scanned past the last used one, per keychain (default 20).
    pub gap_limit: u32,
    /// Ignore the stored histories and status hashes and scan everything again (stored
    /// transactions, which cannot change under their txid, are not downloaded again).
    pub full: bool,
    /// Threads that unblind outputs (default: the machine's parallelism; at least 1).
    pub threads: usize,
    /// How long after a server accepted one of the wallet's transactions it may stay unknown
    /// to the server's histories before it is counted as dropped (default 20 minutes: an
    /// index catches up within seconds; a mempool eviction is for good).
    pub pending_grace: std::time::Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            gap_limit: DEFAULT_GAP_LIMIT,
            full: false,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            pending_grace: DEFAULT_PENDING_GRACE,
        }
    }
}

/// How long a broadcast transaction may stay unknown to the server before it counts as
/// dropped ([`SyncOptions::pending_grace`]).
pub const DEFAULT_PENDING_GRACE: std::time::Duration = std::time::Duration::from_secs(20 * 60);

/// The default gap limit (BIP44's, and LWK's).
pub const DEFAULT_GAP_LIMIT: u32 = 20;

/// Largest gap limit accepted (a typo like 20000 would cost thousands of requests).
pub const MAX_GAP_LIMIT: u32 = 1000;

/// What a sync is doing, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncProgress {
    /// Scripts checked so far (statuses or histories).
    Scanning {
        /// Scripts checked.
        scripts: usize,
    },
    /// Transactions downloaded.
    Downloading {
        /// Done so far.
        done: usize,
        /// To download in all.
        total: usize,
    },
    /// Outputs unblinded.
    Unblinding {
        /// Outputs to unblind in all.
        total: usize,
    },
    /// Writing to the store.
    Saving,
}

/// What one sync did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncReport {
    /// Height of the backend's tip.
    pub height: u32,
    /// Hash of the backend's tip.
    pub tip: BlockHash,
    /// Transactions downloaded and stored.
    pub new_txs: usize,
    /// Requests (Electrum: round trips) made during this sync.
    pub requests: u64,
    /// Calls made during this sync (Electrum: every call of a burst; Esplora: requests).
    pub calls: u64,
    /// Wall time of the sync in milliseconds.
    pub elapsed_ms: u64,
    /// Scripts whose status or history was checked.
    pub scripts_checked: usize,
    /// Outputs unblinded (or read as explicit) in the new transactions.
    pub unblinded: usize,
    /// Outputs of the new transactions paying one of the wallet's scripts that do not unblind
    /// with the wallet's keys (blinded to another key by mistake or on purpose): not counted
    /// in any balance. Reported by the sync that downloads them, once.
    pub unreadable_outputs: usize,
    /// Stored transactions dropped because no history lists them any more (reorg, eviction).
    pub dropped_txs: usize,
    /// The wallet's own recorded transactions that failed in this sync (a conflicting
    /// transaction spent their coins, or the server dropped them), with the reason: they no
    /// longer count, and `tx pending` lists them.
    pub failed_txs: Vec<(Txid, String)>,
    /// The block at the highest stored height had been replaced (a reorganisation): the
    /// block hash and time of every stored height were downloaded again.
    pub chain_changed: bool,
}

/// Syncs `wallet` with `backend`. See the module documentation.
pub fn sync(
    wallet: &mut Wallet,
    backend: &dyn Backend,
    options: &SyncOptions,
    progress: &mut dyn FnMut(SyncProgress),
) -> Result<SyncReport> {
    let started = Instant::now();
    let requests_before = backend.requests();
    let calls_before = backend.calls();
    if options.gap_limit == 0 || options.gap_limit > MAX_GAP_LIMIT {
        return Err(Error::BackendConfig(format!(
            "gap limit {} is out of range: use 1 to {MAX_GAP_LIMIT}",
            options.gap_limit
        )));
    }
    let state = wallet.store().chain_state()?;
    let pending: HashSet<Txid> = wallet
        .store()
        .pending()?
        .iter()
        .map(|t| t.tx.txid())
        .collect();
    let handed_out = [
        wallet.next_index(Keychain::External)?,
        wallet.next_index(Keychain::Internal)?,
    ];
    // Outputs are unblinded on `threads` workers while the scan downloads (see `outputs`).
    let unblinder = &outputs::Unblinder::new(wallet.descriptor());
    let (scan, listed, txs, jobs, owned) = std::thread::scope(|s| {
        let workers: Vec<_> = (0..options.threads.max(1))
            .map(|_| s.spawn(move || unblinder.work()))
            .collect();
        // However this closure ends (an error, a panic in the scan or in `progress`), the
        // workers stop, so that the scope's join cannot wait for them forever.
        let _stop = outputs::AbandonOnDrop(unblinder);
        let scanned = (|| {
            let mut scan = scan::Scanner::new(
                wallet.descriptor(),
                &state,
                handed_out,
                options.gap_limit,
                options.full,
            )
            .run(backend, progress, &|tx, scripts| {
                unblinder.offer(tx, scripts)
            })?;
            // Transactions listed by the final histories (a download whose script fell out
            // of the window, which only a history that emptied during this sync can cause,
            // is not kept).
            let listed: BTreeSet<Txid> =
                scan.histories.values().flatten().map(|e| e.txid).collect();
            let txs: Vec<_> = std::mem::take(&mut scan.txs)
                .into_iter()
                .filter(|t| listed.contains(&t.txid()))
                .collect();
            let jobs = outputs::jobs(&txs, &scan.script_index);
            progress(SyncProgress::Unblinding { total: jobs.len() });
            unblinder.finish(&txs, &jobs);
            Ok::<_, Error>((scan, listed, txs, jobs))
        })();
        if scanned.is_err() {
            unblinder.abandon();
        }
        let joined: Vec<bool> = workers.into_iter().map(|w| w.join().is_ok()).collect();
        let panicked = joined.contains(&false);
        let (scan, listed, txs, jobs) = scanned?;
        if panicked {
            return Err(Error::Unblind(
                "internal: an unblinding thread panicked".to_owned(),
            ));
        }
        let mut owned = unblinder.collect(&txs, &jobs)?;
        second_look::kept_secrets_for_new(wallet, &txs, &jobs, &mut owned)?;
        let jobs = jobs.len();
        Ok::<_, Error>((scan, listed, txs, jobs, owned))
    })?;
    let unblinded: usize = owned.iter().map(Vec::len).sum();
    let unreadable_outputs = jobs.saturating_sub(unblinded);
    let downloaded_txids: HashSet<Txid> = txs.iter().map(|t| t.txid()).collect();
    let (late_outputs, late_unreadable) =
        second_look::stored_outputs(wallet, &scan, options.full, &state.txids, &downloaded_txids)?;
    let unblinded = unblinded + late_outputs.iter().map(|t| t.outputs.len()).sum::<usize>();
    let unreadable_outputs = unreadable_outputs + late_unreadable;
    let downloaded = txs.len();
    let new_txs: Vec<NewTx> = txs
        .into_iter()
        .zip(owned)
        .map(|(tx, outputs)| NewTx { tx, outputs })
        .collect();

    let blocks = scan
        .headers
        .iter()
        .map(|h| (h.height, h.block_hash(), h.time))
        .collect();
    let used_addresses = used_addresses(wallet, &scan, handed_out)?;
    let dropped_txs = state
        .txids
        .iter()
        .filter(|t| !listed.contains(*t) && !pending.contains(*t))
        .count();
    let update = SyncUpdate {
        replace_all_histories: options.full,
        new_scripts: scan.new_scripts.clone(),
        histories: scan.updates(options.full),
        new_txs,
        late_outputs,
        blocks,
        tip: Some(scan.tip),
        used_addresses,
        drop_unseen_broadcast_before: crate::store::now_secs()
            .checked_sub(options.pending_grace.as_secs()),
    };
    progress(SyncProgress::Saving);
    let failed_txs = wallet.store_mut().apply_sync(&update)?;
    Ok(SyncReport {
        height: scan.tip.0,
        tip: scan.tip.1,
        new_txs: downloaded,
        requests: backend.requests().saturating_sub(requests_before),
        calls: backend.calls().saturating_sub(calls_before),
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        scripts_checked: scan.checked,
        unblinded,
        unreadable_outputs,
        dropped_txs,
        failed_txs,
        chain_changed: scan.chain_changed,
    })
}

/// Addresses with history that were never handed out, so that the store's next index moves
/// past them and `address new` never hands out an address that has history.
fn used_addresses(
    wallet: &Wallet,
    scan: &scan::ScanResult,
    handed_out: [u32; 2],
) -> Result<Vec<(Keychain, u32, String)>> {
    let mut out = Vec::new();
    let mut used: HashMap<Keychain, BTreeSet<u32>> = HashMap::new();
    for (script, history) in &scan.histories {
        if history.is_empty() {
            continue;
        }
        if let Some((k, i)) = scan.script_index.get(script) {
            used.entry(*k).or_default().insert(*i);
        }
    }
    for (k, indexes) in used {
        let next = handed_out[k.index() as usize];
        for i in indexes.range(next..) {
            out.push((k, *i, wallet.address_at(k, *i)?.to_string()));
        }
    }
    Ok(out)
}
