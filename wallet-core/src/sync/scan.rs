//! The gap-limit scan, pipelined with the download: which scripts to check, which of them
//! changed, their histories, the transactions they list that are not stored, and the block
//! headers of their heights.
//!
//! The window of each keychain runs from index 0 to `gap_limit` scripts past the last script
//! with history inside it (and at least every address handed out). Every round is one
//! [`Backend::burst`] (one round trip on Electrum) made of:
//! - the scripts of the window not asked yet: by Electrum status hash for scripts the store
//!   knows (only changed ones have their history fetched, in the next round), by history for
//!   the others and for every script on Esplora;
//! - the histories of known scripts whose status changed;
//! - the transactions and block headers that the histories found so far need;
//! - in the first round, the tip and the hash of the highest block the store knows, which
//!   tells whether a reorganisation replaced blocks under it (see below).
//!
//! Rounds repeat until nothing is left to ask. On backends where calls in one burst cost
//! about one round trip ([`Backend::cheap_calls`], Electrum), a round that found history on
//! the last script it asked looks one more gap ahead in the next round, so that a wallet
//! with long runs of used addresses needs fewer rounds. Scripts asked past the final
//! window are ignored: not stored, not counted as used, their transactions not downloaded.
//!
//! Reorganisations: a stored transaction re-mined at the same height keeps its Electrum
//! status hash and its Esplora history, so the block hash and time stored for its height
//! would stay stale. When the block hash at the highest stored height is not the stored one,
//! the headers of every stored height are downloaded again in the next round.

use std::collections::{HashMap, HashSet};

use elements::{BlockHash, BlockHeader, Script, Transaction, Txid};

use super::outputs::ScriptIndex;
use super::SyncProgress;
use crate::chain::{electrum_status, order_insensitive_status, Backend, Burst, HistoryEntry};
use crate::descriptor::{Keychain, WalletDescriptor};
use crate::store::{ChainState, ScriptRecord};
use crate::{Error, Result};

/// Largest non-hardened BIP32 index.
const MAX_INDEX: u32 = (1 << 31) - 1;

/// What the scan found.
pub(super) struct ScanResult {
    /// The backend's tip.
    pub tip: (u32, BlockHash),
    /// Every script's history inside the final windows (stored ones for unchanged scripts),
    /// and the stored histories of scripts outside them (left as they are).
    pub histories: HashMap<Script, Vec<HistoryEntry>>,
    /// Scripts whose history is new or changed.
    pub changed: HashSet<Script>,
    /// The status hash to store for each changed script.
    statuses: HashMap<Script, Option<String>>,
    /// Keychain and index of every known script.
    pub script_index: HashMap<Script, (Keychain, u32)>,
    /// Scripts derived for the first time, inside the final windows.
    pub new_scripts: Vec<ScriptRecord>,
    /// Scripts asked (by status or history), including any asked past the final windows.
    pub checked: usize,
    /// Transactions downloaded (listed by a history, not stored before).
    pub txs: Vec<Transaction>,
    /// Block headers downloaded: heights not stored, heights of changed histories, and every
    /// stored height after a reorganisation.
    pub headers: Vec<BlockHeader>,
    /// The block at the highest stored height is no longer the stored one.
    pub chain_changed: bool,
}

impl ScanResult {
    /// The histories to write: every changed one (in a full scan every scanned one).
    pub fn updates(&self, full: bool) -> Vec<(Script, Vec<HistoryEntry>, Option<String>)> {
        let mut out: Vec<_> = self
            .histories
            .iter()
            .filter(|(s, _)| full || self.changed.contains(*s))
            .map(|(s, h)| {
                let status = self
                    .statuses
                    .get(s)
                    .cloned()
                    .unwrap_or_else(|| electrum_status(h));
                (s.clone(), h.clone(), status)
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}

/// The scan's inputs and bookkeeping.
pub(super) struct Scanner<'a> {
    descriptor: &'a WalletDescriptor,
    stored_status: HashMap<Script, Option<String>>,
    stored_histories: HashMap<Script, Vec<HistoryEntry>>,
    stored_txids: HashSet<Txid>,
    stored_blocks: HashMap<u32, BlockHash>,
    stored_tip: Option<(u32, BlockHash)>,
    by_index: HashMap<(Keychain, u32), Script>,
    script_index: HashMap<Script, (Keychain, u32)>,
    new_scripts: Vec<ScriptRecord>,
    handed_out: [u32; 2],
    gap: u32,
    full: bool,
}

impl<'a> Scanner<'a> {
    /// A scanner over the stored `state`; `handed_out` is the next index of each keychain.
    pub fn new(
        descriptor: &'a WalletDescriptor,
        state: &ChainState,
        handed_out: [u32; 2],
        gap: u32,
        full: bool,
    ) -> Self {
        let mut s = Scanner {
            descriptor,
            stored_status: HashMap::new(),
            stored_histories: HashMap::new(),
            stored_txids: state.txids.clone(),
            stored_blocks: state.blocks.clone(),
            stored_tip: state.tip,
            by_index: HashMap::new(),
            script_index: HashMap::new(),
            new_scripts: Vec::new(),
            handed_out,
            gap,
            full,
        };
        for r in &state.scripts {
            s.by_index.insert((r.keychain, r.index), r.script.clone());
            s.script_index
                .insert(r.script.clone(), (r.keychain, r.index));
            if !full {
                s.stored_status.insert(r.script.clone(), r.status.clone());
            }
        }
        if !full {
            s.stored_histories = state.histories.clone();
        }
        s
    }

    fn script(&mut self, keychain: Keychain, index: u32) -> Result<Script> {
        if let Some(s) = self.by_index.get(&(keychain, index)) {
            return Ok(s.clone());
        }
        let script = self.descriptor.script_pubkey(keychain, index)?;
        self.by_index.insert((keychain, index), script.clone());
        self.script_index.insert(script.clone(), (keychain, index));
        self.new_scripts.push(ScriptRecord {
            script: script.clone(),
            keychain,
            index,
            status: None,
        });
        Ok(script)
    }

    /// One past the last index of `keychain`'s window, given the histories known so far:
    /// from `gap` (and every address handed out), each script with history inside the window
    /// extends it to `gap` scripts past itself. History past the window does not count.
    fn window_end(
        &self,
        keychain: Keychain,
        histories: &HashMap<Script, Vec<HistoryEntry>>,
    ) -> Result<u32> {
        let mut used: Vec<u32> = histories
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .filter_map(|(s, _)| self.script_index.get(s))
            .filter(|(k, _)| *k == keychain)
            .map(|(_, i)| *i)
            .collect();
        used.sort_unstable();
        let mut end = self.gap.max(self.handed_out[keychain.index() as usize]);
        for i in used {
            if i >= end {
                break;
            }
            end = i
                .checked_add(1)
                .and_then(|n| n.checked_add(self.gap))
                .ok_or_else(|| Error::Storage("address index overflow".to_owned()))?
                .max(end);
        }
        Ok(end.min(MAX_INDEX + 1))
    }

    /// The highest block the store knows (its tip, or a transaction's block above it), to
    /// tell whether the chain under it changed.
    fn reorg_check(&self) -> Option<(u32, BlockHash)> {
        let highest_block = self
            .stored_blocks
            .iter()
            .max_by_key(|(h, _)| **h)
            .map(|(h, b)| (*h, *b));
        match (self.stored_tip, highest_block) {
            (Some(t), Some(b)) if b.0 > t.0 => Some(b),
            (Some(t), _) => Some(t),
            (None, b) => b,
        }
    }

    /// Runs the rounds. Every transaction is handed to `downloaded` as soon as it arrives,
    /// with the scripts known at that moment (some may fall out of the final windows, and
    /// scripts derived later are not among them).
    pub fn run(
        mut self,
        backend: &dyn Backend,
        progress: &mut dyn FnMut(SyncProgress),
        downloaded: &(dyn Fn(&Transaction, &ScriptIndex) + Sync),
    ) -> Result<ScanResult> {
        let use_status = backend.supports_status() && !self.full;
        let look_ahead = backend.cheap_calls();
        // The stored histories, replaced by what the server says as it answers.
        let mut histories = self.stored_histories.clone();
        // Scripts whose history came from the server in this sync.
        let mut fetched: HashSet<Script> = HashSet::new();
        let mut changed = HashSet::new();
        let mut statuses = HashMap::new();
        let mut server_status: HashMap<Script, Option<String>> = HashMap::new();
        // Scripts [0, asked_end) of each keychain have been asked.
        let mut asked_end = [0u32; 2];
        // Whether the next extension of a keychain's window looks a gap further.
        let mut ahead = [false; 2];
        // Known scripts whose status changed: their history goes in the next round.
        let mut status_changed: Vec<Script> = Vec::new();
        let mut asked_txs: HashSet<Txid> = HashSet::new();
        let mut asked_heights: HashSet<u32> = HashSet::new();
        // A full scan downloads the headers of every height anyway.
        let check = if self.full { None } else { self.reorg_check() };
        let mut chain_changed = false;
        let mut tip = None;
        let mut txs = Vec::new();
        let mut headers = Vec::new();
        let mut checked = 0usize;
        loop {
            let mut burst = Burst::default();
            if tip.is_none() {
                burst.tip = true;
                burst.block_hash_at = check.map(|(h, _)| h);
            }
            for k in Keychain::ALL {
                let ki = k.index() as usize;
                let end = self.window_end(k, &histories)?;
                let from = asked_end[ki];
                if end <= from {
                    continue;
                }
                let to = if ahead[ki] {
                    end.saturating_add(self.gap).min(MAX_INDEX + 1)
                } else {
                    end
                };
                for i in from..to {
                    let s = self.script(k, i)?;
                    if use_status && self.stored_status.contains_key(&s) {
                        burst.statuses.push(s);
                    } else {
                        burst.histories.push(s);
                    }
                }
                asked_end[ki] = to;
            }
            checked += burst.statuses.len() + burst.histories.len();
            burst.histories.append(&mut status_changed);

            // What the histories inside the windows need: transactions not stored, and the
            // headers of heights not stored or of changed histories (a reorg may have replaced
            // their block), or of every stored height once the chain under them changed.
            let ends = [
                self.window_end(Keychain::External, &histories)?,
                self.window_end(Keychain::Internal, &histories)?,
            ];
            for (script, history) in &histories {
                let inside = match self.script_index.get(script) {
                    Some((k, i)) => *i < ends[k.index() as usize],
                    None => false,
                };
                if !inside {
                    continue;
                }
                let changed_here = changed.contains(script);
                for e in history {
                    if !self.stored_txids.contains(&e.txid) && asked_txs.insert(e.txid) {
                        burst.txids.push(e.txid);
                    }
                    if let Some(h) = e.confirmed_height() {
                        let needed = changed_here || !self.stored_blocks.contains_key(&h);
                        if needed && asked_heights.insert(h) {
                            burst.heights.push(h);
                        }
                    }
                }
            }
            if chain_changed {
                let tip_height = tip.map_or(0, |(h, _)| h);
                let mut stored: Vec<u32> = self
                    .stored_blocks
                    .keys()
                    .copied()
                    .filter(|h| *h <= tip_height)
                    .collect();
                stored.sort_unstable();
                for h in stored {
                    if asked_heights.insert(h) {
                        burst.heights.push(h);
                    }
                }
            }
            if burst.is_empty() {
                break;
            }
            if !burst.txids.is_empty() {
                progress(SyncProgress::Downloading {
                    done: txs.len(),
                    total: asked_txs.len(),
                });
            }

            let answer = {
                let scripts = &self.script_index;
                backend.burst_streaming(&burst, &|tx| downloaded(tx, scripts))?
            };
            if burst.tip {
                tip = Some(answer.tip.ok_or_else(|| {
                    crate::chain::backend_err(backend.server(), "internal: no tip in the answer")
                })?);
                if let Some((_, stored)) = check {
                    chain_changed = answer.block_hash_at != Some(stored);
                }
            }
            for (s, st) in burst.statuses.iter().zip(answer.statuses) {
                if self.stored_status.get(s) != Some(&st) {
                    status_changed.push(s.clone());
                }
                server_status.insert(s.clone(), st);
            }
            // The highest index with history found in this round, per keychain.
            let mut found: [Option<u32>; 2] = [None, None];
            for (script, mut history) in burst.histories.into_iter().zip(answer.histories) {
                for e in &mut history {
                    e.fee = None;
                }
                // Without server status hashes (Esplora), histories are compared whatever
                // the order of one block's transactions.
                let status = server_status.get(&script).cloned().unwrap_or_else(|| {
                    if backend.supports_status() {
                        electrum_status(&history)
                    } else {
                        order_insensitive_status(&history)
                    }
                });
                let before = self.stored_status.get(&script).cloned().flatten();
                if self.full || status != before || !self.stored_status.contains_key(&script) {
                    changed.insert(script.clone());
                }
                if !history.is_empty() {
                    if let Some((k, i)) = self.script_index.get(&script) {
                        let f = &mut found[k.index() as usize];
                        *f = Some(f.map_or(*i, |x| x.max(*i)));
                    }
                }
                statuses.insert(script.clone(), status);
                histories.insert(script.clone(), history);
                fetched.insert(script);
            }
            for k in Keychain::ALL {
                let ki = k.index() as usize;
                // History on the very last script asked: the used addresses run on past
                // the window, so look a gap further next time. (A looser trigger, history
                // anywhere near the end, would ask more than LWK for many small wallets;
                // this one only when the used addresses end exactly at a window's end.)
                ahead[ki] = look_ahead
                    && found[ki].is_some_and(|i| u64::from(i) + 1 == u64::from(asked_end[ki]));
            }
            txs.extend(answer.txs);
            headers.extend(answer.headers);
            progress(SyncProgress::Scanning { scripts: checked });
            if !asked_txs.is_empty() {
                progress(SyncProgress::Downloading {
                    done: txs.len(),
                    total: asked_txs.len(),
                });
            }
        }
        let tip = tip.ok_or_else(|| {
            crate::chain::backend_err(backend.server(), "internal: the tip was never asked")
        })?;

        // Scripts asked past the final windows: as if never asked.
        let ends = [
            self.window_end(Keychain::External, &histories)?,
            self.window_end(Keychain::Internal, &histories)?,
        ];
        for s in &fetched {
            let outside = match self.script_index.get(s) {
                Some((k, i)) => *i >= ends[k.index() as usize],
                None => true,
            };
            if outside {
                match self.stored_histories.get(s) {
                    Some(h) => histories.insert(s.clone(), h.clone()),
                    None => histories.remove(s),
                };
                changed.remove(s);
                statuses.remove(s);
            }
        }
        let beyond: Vec<Script> = self
            .new_scripts
            .iter()
            .filter(|r| r.index >= ends[r.keychain.index() as usize])
            .map(|r| r.script.clone())
            .collect();
        for s in &beyond {
            self.script_index.remove(s);
        }
        self.new_scripts
            .retain(|r| r.index < ends[r.keychain.index() as usize]);
        Ok(ScanResult {
            tip,
            histories,
            changed,
            statuses,
            script_index: self.script_index,
            new_scripts: self.new_scripts,
            checked,
            txs,
            headers,
            chain_changed,
        })
    }
}
