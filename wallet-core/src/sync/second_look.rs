//! A second look at outputs to the wallet's scripts that the scan's unblinding did not read:
//!
//! * an output whose rangeproof does not rewind with the wallet's key, but whose secrets the
//!   wallet kept when it signed the transaction (a PSET broadcast by someone else, whose
//!   rangeproofs are witness data that no signature covers, so they can be swapped after
//!   signing);
//! * an output of a transaction an earlier sync stored when the script it pays was not
//!   watched yet (an address far past the last used one, handed out later, or found by a
//!   `--full` rescan with a larger gap limit): the transaction is not downloaded again, so its
//!   outputs to scripts that entered the window are read from the stored copy.
//!
//! Kept secrets count only when they open the output's commitments (see
//! [`crate::store::Store::kept_secrets`]).

use std::collections::{BTreeSet, HashMap, HashSet};

use elements::{OutPoint, Transaction, Txid};

use super::outputs::{secrets_of, Job};
use super::scan::ScanResult;
use crate::store::{NewTx, OwnedOutput};
use crate::wallet::Wallet;
use crate::Result;

/// Fills in, from the secrets the wallet kept, the outputs of `txs` listed in `jobs` that the
/// rewind could not read; `owned` holds the outputs read so far, per transaction.
pub(super) fn kept_secrets_for_new(
    wallet: &Wallet,
    txs: &[Transaction],
    jobs: &[Job],
    owned: &mut [Vec<OwnedOutput>],
) -> Result<()> {
    let mut missing: HashMap<usize, Vec<&Job>> = HashMap::new();
    for job in jobs {
        let read = owned
            .get(job.tx)
            .is_some_and(|o| o.iter().any(|out| out.vout == job.vout));
        if !read {
            missing.entry(job.tx).or_default().push(job);
        }
    }
    for (t, jobs) in missing {
        let (Some(tx), Some(slot)) = (txs.get(t), owned.get_mut(t)) else {
            continue;
        };
        let kept = wallet.store().kept_secrets(tx)?;
        for job in jobs {
            if let Some((_, secrets)) = kept.iter().find(|(vout, _)| *vout == job.vout) {
                slot.push(OwnedOutput {
                    vout: job.vout,
                    keychain: job.keychain,
                    index: job.index,
                    secrets: *secrets,
                });
            }
        }
        slot.sort_by_key(|o| o.vout);
    }
    Ok(())
}

/// The outputs to the wallet's scripts in transactions stored before this sync that the store
/// holds no output for: looked for in the transactions listed by the histories this sync
/// changed (every scanned history when `full`), except those downloaded now (`downloaded`).
/// Also returns how many such outputs do not unblind (reported like the scan's own).
pub(super) fn stored_outputs(
    wallet: &Wallet,
    scan: &ScanResult,
    full: bool,
    stored: &HashSet<Txid>,
    downloaded: &HashSet<Txid>,
) -> Result<(Vec<NewTx>, usize)> {
    let candidates: BTreeSet<Txid> = scan
        .histories
        .iter()
        .filter(|(script, _)| full || scan.changed.contains(*script))
        .filter(|(script, _)| scan.script_index.contains_key(*script))
        .flat_map(|(_, history)| history.iter().map(|e| e.txid))
        .filter(|t| stored.contains(t) && !downloaded.contains(t))
        .collect();
    if candidates.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let known: HashSet<OutPoint> = wallet.store().coins()?.into_keys().collect();
    let mut found = Vec::new();
    let mut unreadable = 0usize;
    for txid in candidates {
        let Some(tx) = wallet.store().transaction(&txid)? else {
            continue;
        };
        let mut outputs = Vec::new();
        let mut kept = None;
        for (v, txout) in tx.output.iter().enumerate() {
            let Some((keychain, index)) = scan.script_index.get(&txout.script_pubkey) else {
                continue;
            };
            let Ok(vout) = u32::try_from(v) else { continue };
            if known.contains(&OutPoint::new(txid, vout)) {
                continue;
            }
            let secrets = match secrets_of(wallet.descriptor(), txout)? {
                Some(s) => Some(s),
                None => {
                    if kept.is_none() {
                        kept = Some(wallet.store().kept_secrets(&tx)?);
                    }
                    kept.iter()
                        .flatten()
                        .find(|(kv, _)| *kv == vout)
                        .map(|(_, s)| *s)
                }
            };
            match secrets {
                Some(secrets) => outputs.push(OwnedOutput {
                    vout,
                    keychain: *keychain,
                    index: *index,
                    secrets,
                }),
                None => unreadable += 1,
            }
        }
        if !outputs.is_empty() {
            found.push(NewTx { tx, outputs });
        }
    }
    Ok((found, unreadable))
}
