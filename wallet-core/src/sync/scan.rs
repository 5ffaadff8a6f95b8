//! The gap-limit scan: which scripts to check, which of them changed, their histories.
//!
//! Rounds: each round checks the scripts of both keychains not checked yet up to the window
//! end (`gap_limit` past the last script with history, and at least every address handed
//! out); a round that finds history near the end of the window opens another. Within a round,
//! scripts the store already knows are compared by Electrum status hash when the backend has
//! them (one batch per 20 scripts), and only the changed ones have their history fetched;
//! scripts seen for the first time, and every script on Esplora, have their history fetched
//! directly. The tip is asked together with the first round (one burst on Electrum).

use std::collections::{HashMap, HashSet};

use elements::{BlockHash, Script};

use super::SyncProgress;
use crate::chain::{electrum_status, Backend, HistoryEntry};
use crate::descriptor::{Keychain, WalletDescriptor};
use crate::store::{ChainState, ScriptRecord};
use crate::{Error, Result};

/// Largest non-hardened BIP32 index.
const MAX_INDEX: u32 = (1 << 31) - 1;

/// What the scan found.
pub(super) struct ScanResult {
    /// The backend's tip.
    pub tip: (u32, BlockHash),
    /// Every scanned script's history (stored ones for unchanged scripts).
    pub histories: HashMap<Script, Vec<HistoryEntry>>,
    /// Scripts whose history is new or changed.
    pub changed: HashSet<Script>,
    /// The status hash to store for each changed script.
    statuses: HashMap<Script, Option<String>>,
    /// Keychain and index of every known script.
    pub script_index: HashMap<Script, (Keychain, u32)>,
    /// Scripts derived for the first time.
    pub new_scripts: Vec<ScriptRecord>,
    /// Scripts checked.
    pub checked: usize,
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

    /// One past the last index to check on `keychain`, given the histories known so far.
    fn window_end(
        &self,
        keychain: Keychain,
        histories: &HashMap<Script, Vec<HistoryEntry>>,
    ) -> Result<u32> {
        let last_used = histories
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .filter_map(|(s, _)| self.script_index.get(s))
            .filter(|(k, _)| *k == keychain)
            .map(|(_, i)| *i)
            .max();
        let after_used = match last_used {
            Some(i) => i.checked_add(1).and_then(|n| n.checked_add(self.gap)),
            None => Some(self.gap),
        }
        .ok_or_else(|| Error::Storage("address index overflow".to_owned()))?;
        let end = after_used.max(self.handed_out[keychain.index() as usize]);
        Ok(end.min(MAX_INDEX + 1))
    }

    /// Runs the scan rounds.
    pub fn run(
        mut self,
        backend: &dyn Backend,
        progress: &mut dyn FnMut(SyncProgress),
    ) -> Result<ScanResult> {
        let mut histories = self.stored_histories.clone();
        let mut changed = HashSet::new();
        let mut statuses = HashMap::new();
        let mut checked_end = [0u32; 2];
        let mut tip = None;
        let mut checked = 0usize;
        loop {
            let mut batch = Vec::new();
            for k in Keychain::ALL {
                let end = self.window_end(k, &histories)?;
                let slot = &mut checked_end[k.index() as usize];
                for i in *slot..end {
                    batch.push(self.script(k, i)?);
                }
                *slot = (*slot).max(end);
            }
            if batch.is_empty() {
                break;
            }
            let use_status = backend.supports_status() && !self.full;
            let (known, fresh): (Vec<Script>, Vec<Script>) = batch
                .iter()
                .cloned()
                .partition(|s| use_status && self.stored_status.contains_key(s));
            // The tip comes with the first round: with the statuses (an unchanged wallet on
            // Electrum costs that one round trip) or with the histories (a first scan).
            let mut server_status = HashMap::new();
            let mut to_fetch = fresh;
            if !known.is_empty() {
                let got = if tip.is_none() {
                    let (t, statuses) = backend.tip_and_statuses(&known)?;
                    tip = Some(t);
                    statuses
                } else {
                    backend.statuses(&known)?
                };
                for (s, st) in known.iter().zip(got) {
                    if self.stored_status.get(s) != Some(&st) {
                        to_fetch.push(s.clone());
                    }
                    server_status.insert(s.clone(), st);
                }
            }
            let fetched: Vec<(Script, Vec<HistoryEntry>)> = if to_fetch.is_empty() {
                Vec::new()
            } else if tip.is_none() {
                let (t, h) = backend.tip_and_histories(&to_fetch)?;
                tip = Some(t);
                to_fetch.into_iter().zip(h).collect()
            } else {
                let h = backend.histories(&to_fetch)?;
                to_fetch.into_iter().zip(h).collect()
            };
            for (script, mut history) in fetched {
                for e in &mut history {
                    e.fee = None;
                }
                let status = server_status
                    .get(&script)
                    .cloned()
                    .unwrap_or_else(|| electrum_status(&history));
                let before = self.stored_status.get(&script).cloned().flatten();
                if self.full || status != before || !self.stored_status.contains_key(&script) {
                    changed.insert(script.clone());
                }
                statuses.insert(script.clone(), status);
                histories.insert(script, history);
            }
            checked += batch.len();
            progress(SyncProgress::Scanning { scripts: checked });
        }
        // Scripts never fetched keep their stored history (unchanged); scripts outside the
        // window are not part of the result.
        let tip = match tip {
            Some(t) => t,
            None => backend.tip()?,
        };
        Ok(ScanResult {
            tip,
            histories,
            changed,
            statuses,
            script_index: self.script_index,
            new_scripts: self.new_scripts,
            checked,
        })
    }
}
