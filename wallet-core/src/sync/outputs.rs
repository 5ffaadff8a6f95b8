//! Unblinding the wallet's outputs of new transactions, in parallel.
//!
//! Only outputs whose script is one of the wallet's are touched. Explicit outputs (explicit
//! value and asset, e.g. a payment to an unconfidential address) count as the wallet's. An
//! output to the wallet's script that does not unblind with the wallet's key is skipped, not
//! an error: anyone can send such an output to a public address, and refusing to sync because
//! of it would let them stop the wallet.

use std::collections::HashMap;

use elements::{Script, Transaction};

use crate::descriptor::{Keychain, WalletDescriptor};
use crate::store::OwnedOutput;
use crate::unblind::{blinding_private_key, explicit_secrets, unblind_output};
use crate::Result;

/// One output to unblind: transaction position, output index, keychain and index.
#[derive(Clone, Copy, Debug)]
pub(super) struct Job {
    tx: usize,
    vout: u32,
    keychain: Keychain,
    index: u32,
}

/// The outputs of `txs` that pay one of the wallet's scripts.
pub(super) fn jobs(txs: &[Transaction], scripts: &HashMap<Script, (Keychain, u32)>) -> Vec<Job> {
    let mut out = Vec::new();
    for (t, tx) in txs.iter().enumerate() {
        for (v, o) in tx.output.iter().enumerate() {
            if let (Some((k, i)), Ok(vout)) = (scripts.get(&o.script_pubkey), u32::try_from(v)) {
                out.push(Job {
                    tx: t,
                    vout,
                    keychain: *k,
                    index: *i,
                });
            }
        }
    }
    out
}

fn unblind_one(
    descriptor: &WalletDescriptor,
    txs: &[Transaction],
    job: &Job,
) -> Result<Option<OwnedOutput>> {
    let Some(txout) = txs
        .get(job.tx)
        .and_then(|t| t.output.get(job.vout as usize))
    else {
        return Ok(None);
    };
    let secrets = match explicit_secrets(txout) {
        Some(s) => s,
        None => {
            let key = blinding_private_key(descriptor, &txout.script_pubkey)?;
            match unblind_output(txout, &key) {
                Ok(s) => s,
                Err(_) => return Ok(None),
            }
        }
    };
    Ok(Some(OwnedOutput {
        vout: job.vout,
        keychain: job.keychain,
        index: job.index,
        secrets,
    }))
}

/// Unblinds `jobs` on up to `threads` threads; returns, per transaction of `txs`, its
/// wallet outputs in output order.
pub(super) fn unblind_all(
    descriptor: &WalletDescriptor,
    txs: &[Transaction],
    jobs: &[Job],
    threads: usize,
) -> Result<Vec<Vec<OwnedOutput>>> {
    let threads = threads.max(1).min(jobs.len().max(1));
    let per_thread = jobs.len().div_ceil(threads).max(1);
    let results: Vec<Result<Vec<Option<OwnedOutput>>>> = if threads == 1 {
        vec![jobs
            .iter()
            .map(|j| unblind_one(descriptor, txs, j))
            .collect()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = jobs
                .chunks(per_thread)
                .map(|chunk| {
                    s.spawn(move || {
                        chunk
                            .iter()
                            .map(|j| unblind_one(descriptor, txs, j))
                            .collect::<Result<Vec<_>>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(crate::Error::Unblind(
                            "internal: an unblinding thread panicked".to_owned(),
                        ))
                    })
                })
                .collect()
        })
    };
    // Chunks keep the order of `jobs`, so results line up with them.
    let mut per_tx: Vec<Vec<OwnedOutput>> = vec![Vec::new(); txs.len()];
    let mut flat = Vec::with_capacity(jobs.len());
    for r in results {
        flat.extend(r?);
    }
    for (job, owned) in jobs.iter().zip(flat) {
        if let (Some(o), Some(slot)) = (owned, per_tx.get_mut(job.tx)) {
            slot.push(o);
        }
    }
    Ok(per_tx)
}

/// Outputs unblinded per second on `threads` threads, for benchmarks: unblinds every output
/// of `txs` paying the wallet's `scripts` and returns how many were unblinded.
pub fn unblind_count(
    descriptor: &WalletDescriptor,
    txs: &[Transaction],
    scripts: &HashMap<Script, (Keychain, u32)>,
    threads: usize,
) -> Result<usize> {
    let jobs = jobs(txs, scripts);
    Ok(unblind_all(descriptor, txs, &jobs, threads)?
        .iter()
        .map(Vec::len)
        .sum())
}
