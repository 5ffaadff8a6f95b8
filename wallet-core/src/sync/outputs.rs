//! Unblinding the wallet's outputs of new transactions, in parallel, while they download.
//!
//! [`Unblinder`] takes each transaction as soon as it has arrived (and was checked against its
//! txid) and queues its outputs to the scripts known at that moment; worker threads, one per
//! core, rewind them while the rest downloads. At the end the outputs of the final jobs (the
//! transactions the final histories list, paying the scripts of the final windows) that were
//! not queued yet (their script was derived after the transaction arrived) are queued too,
//! and the results are taken for exactly those jobs: a rewind done for a transaction or a
//! script that fell out of the sync is dropped, and no output is unblinded twice.
//!
//! Only outputs whose script is one of the wallet's are touched. Explicit outputs (explicit
//! value and asset, e.g. a payment to an unconfidential address) count as the wallet's. An
//! output to the wallet's script that does not unblind with the wallet's key is skipped, not
//! an error: anyone can send such an output to a public address, and refusing to sync because
//! of it would let them stop the wallet.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Condvar, Mutex, MutexGuard};

use elements::{Script, Transaction, TxOut, Txid};

use crate::descriptor::{Keychain, WalletDescriptor};
use crate::store::OwnedOutput;
use crate::unblind::{blinding_private_key, explicit_secrets, unblind_received, TxOutSecrets};
use crate::Result;

/// The wallet's scripts and where each is derived.
pub(super) type ScriptIndex = HashMap<Script, (Keychain, u32)>;

/// What unblinding one output gave: its secrets, `None` when it does not unblind with the
/// wallet's keys, or an error of those keys.
type Outcome = Result<Option<TxOutSecrets>>;

/// One output to unblind: transaction position, output index, keychain and index.
#[derive(Clone, Copy, Debug)]
pub(super) struct Job {
    pub(super) tx: usize,
    pub(super) vout: u32,
    pub(super) keychain: Keychain,
    pub(super) index: u32,
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

/// The secrets of `txout`, an output to one of the wallet's scripts: explicit, or rewound with
/// the wallet's blinding key (`unblind_received`) and checked to reopen its commitments;
/// `None` when it does not unblind with the wallet's key (reported, not an error).
pub(super) fn secrets_of(
    descriptor: &WalletDescriptor,
    txout: &TxOut,
) -> Result<Option<TxOutSecrets>> {
    if let Some(s) = explicit_secrets(txout) {
        return Ok(Some(s));
    }
    let key = blinding_private_key(descriptor, &txout.script_pubkey)?;
    Ok(unblind_received(txout, &key).ok())
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
    let Some(secrets) = secrets_of(descriptor, txout)? else {
        return Ok(None);
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

/// Abandons the [`Unblinder`] when dropped (its workers stop; harmless once they are done).
pub(super) struct AbandonOnDrop<'u, 'a>(pub(super) &'u Unblinder<'a>);

impl Drop for AbandonOnDrop<'_, '_> {
    fn drop(&mut self) {
        self.0.abandon();
    }
}

/// One output waiting to be unblinded.
struct Pending {
    txid: Txid,
    vout: u32,
    txout: TxOut,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    /// Every output ever queued, so that none is unblinded twice.
    offered: HashSet<(Txid, u32)>,
    /// No more outputs will come: workers stop once the queue is empty.
    closed: bool,
    /// The sync failed: workers stop at once.
    abandoned: bool,
}

/// Unblinds outputs while transactions download (see the module documentation). Run
/// [`Unblinder::work`] on worker threads; feed it with [`Unblinder::offer`]; end with
/// [`Unblinder::finish`] (then join the workers and call [`Unblinder::collect`]) or
/// [`Unblinder::abandon`].
pub(super) struct Unblinder<'a> {
    descriptor: &'a WalletDescriptor,
    queue: Mutex<Queue>,
    ready: Condvar,
    done: Mutex<HashMap<(Txid, u32), Outcome>>,
}

impl<'a> Unblinder<'a> {
    pub(super) fn new(descriptor: &'a WalletDescriptor) -> Self {
        Unblinder {
            descriptor,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
            done: Mutex::new(HashMap::new()),
        }
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn push(&self, items: impl IntoIterator<Item = Pending>) {
        let mut q = self.queue();
        if q.closed || q.abandoned {
            return;
        }
        let mut added = false;
        for p in items {
            if q.offered.insert((p.txid, p.vout)) {
                q.pending.push_back(p);
                added = true;
            }
        }
        drop(q);
        if added {
            self.ready.notify_all();
        }
    }

    /// Queues the outputs of `tx` (checked against its txid) that pay one of `scripts`.
    pub(super) fn offer(&self, tx: &Transaction, scripts: &ScriptIndex) {
        let mut items = Vec::new();
        let mut txid = None;
        for (v, o) in tx.output.iter().enumerate() {
            if let (true, Ok(vout)) = (scripts.contains_key(&o.script_pubkey), u32::try_from(v)) {
                let txid = *txid.get_or_insert_with(|| tx.txid());
                items.push(Pending {
                    txid,
                    vout,
                    txout: o.clone(),
                });
            }
        }
        self.push(items);
    }

    /// Unblinds queued outputs until the queue is finished and empty, or abandoned.
    pub(super) fn work(&self) {
        loop {
            let next = {
                let mut q = self.queue();
                loop {
                    if q.abandoned {
                        return;
                    }
                    if let Some(p) = q.pending.pop_front() {
                        break p;
                    }
                    if q.closed {
                        return;
                    }
                    q = self.ready.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let result = secrets_of(self.descriptor, &next.txout);
            self.done
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert((next.txid, next.vout), result);
        }
    }

    /// Queues the outputs of the final `jobs` not queued yet, and tells the workers that
    /// nothing more will come: they stop once the queue is empty.
    pub(super) fn finish(&self, txs: &[Transaction], jobs: &[Job]) {
        let items: Vec<Pending> = jobs
            .iter()
            .filter_map(|j| {
                let tx = txs.get(j.tx)?;
                Some(Pending {
                    txid: tx.txid(),
                    vout: j.vout,
                    txout: tx.output.get(j.vout as usize)?.clone(),
                })
            })
            .collect();
        self.push(items);
        self.queue().closed = true;
        self.ready.notify_all();
    }

    /// The sync failed: workers stop without unblinding what is left.
    pub(super) fn abandon(&self) {
        self.queue().abandoned = true;
        self.ready.notify_all();
    }

    /// After [`Unblinder::finish`] and once the workers have returned: per transaction of
    /// `txs`, its outputs among `jobs` that unblinded, in output order. An error of the
    /// wallet's keys (e.g. a descriptor that cannot unblind) is the sync's error.
    pub(super) fn collect(
        &self,
        txs: &[Transaction],
        jobs: &[Job],
    ) -> Result<Vec<Vec<OwnedOutput>>> {
        let mut done = std::mem::take(&mut *self.done.lock().unwrap_or_else(|e| e.into_inner()));
        let mut per_tx: Vec<Vec<OwnedOutput>> = vec![Vec::new(); txs.len()];
        let mut txids: HashMap<usize, Txid> = HashMap::new();
        for job in jobs {
            let Some(tx) = txs.get(job.tx) else { continue };
            let txid = *txids.entry(job.tx).or_insert_with(|| tx.txid());
            let secrets = done.remove(&(txid, job.vout)).ok_or_else(|| {
                crate::Error::Unblind(
                    "internal: an output was not unblinded (an unblinding thread panicked?)"
                        .to_owned(),
                )
            })??;
            if let (Some(secrets), Some(slot)) = (secrets, per_tx.get_mut(job.tx)) {
                slot.push(OwnedOutput {
                    vout: job.vout,
                    keychain: job.keychain,
                    index: job.index,
                    secrets,
                });
            }
        }
        Ok(per_tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::descriptor::{BlindingScheme, ScriptKind};
    use crate::network::Network;
    use crate::seed::SeedSecret;
    use elements::confidential;

    fn descriptor() -> WalletDescriptor {
        let phrase = "abandon abandon abandon abandon abandon abandon abandon abandon abandon \
                      abandon abandon about";
        let secret = SeedSecret::from_phrase(phrase, String::new()).unwrap();
        WalletDescriptor::from_seed(
            &secret.seed(),
            Network::Regtest,
            ScriptKind::Wpkh,
            BlindingScheme::Slip77,
        )
        .unwrap()
    }

    fn explicit(script: &Script, value: u64) -> TxOut {
        TxOut {
            asset: confidential::Asset::Explicit(Network::Regtest.default_policy_asset()),
            value: confidential::Value::Explicit(value),
            nonce: confidential::Nonce::Null,
            script_pubkey: script.clone(),
            witness: Default::default(),
        }
    }

    fn tx(n: u8, outputs: Vec<TxOut>) -> Transaction {
        Transaction {
            version: 2,
            lock_time: elements::LockTime::ZERO,
            input: vec![elements::TxIn {
                previous_output: elements::OutPoint::new(Txid::from_byte_array([n; 32]), 0),
                ..Default::default()
            }],
            output: outputs,
        }
    }

    #[test]
    fn outputs_are_unblinded_once_and_only_the_final_ones_are_kept() {
        let d = descriptor();
        let script = |k, i| d.script_pubkey(k, i).unwrap();
        let (e0, e1, i7) = (
            script(Keychain::External, 0),
            script(Keychain::External, 1),
            script(Keychain::Internal, 7),
        );
        let stranger = Script::from(vec![0x51]);
        // a: pays e0 and i7 (i7 not derived yet when `a` arrives); b: pays e1, but the
        // final histories do not list it; c: an output to e0 that is neither explicit nor
        // blinded to the wallet (its value is null) is unreadable, not an error.
        let a = tx(
            1,
            vec![explicit(&e0, 10), explicit(&stranger, 5), explicit(&i7, 20)],
        );
        let b = tx(2, vec![explicit(&e1, 30)]);
        let mut odd = explicit(&e0, 1);
        odd.value = confidential::Value::Null;
        let c = tx(3, vec![odd]);
        let early: HashMap<Script, (Keychain, u32)> = [
            (e0.clone(), (Keychain::External, 0)),
            (e1.clone(), (Keychain::External, 1)),
        ]
        .into_iter()
        .collect();
        let mut finals = early.clone();
        finals.insert(i7.clone(), (Keychain::Internal, 7));

        let u = Unblinder::new(&d);
        u.offer(&a, &early);
        u.offer(&b, &early);
        u.offer(&a, &finals); // a again, with i7 known by now: only i7 is new
        u.offer(&c, &finals);
        {
            let q = u.queue();
            assert_eq!(q.offered.len(), 4, "a:0, b:0, a:2, c:0, each once");
            assert_eq!(q.pending.len(), 4);
        }
        let kept = vec![a.clone(), c.clone()];
        let jobs = jobs(&kept, &finals);
        assert_eq!(jobs.len(), 3);
        std::thread::scope(|s| {
            let w = s.spawn(|| u.work());
            u.finish(&kept, &jobs);
            w.join().unwrap();
        });
        assert_eq!(u.queue().offered.len(), 4, "finish queued nothing twice");
        let per_tx = u.collect(&kept, &jobs).unwrap();
        let got: Vec<Vec<(u32, u64, Keychain, u32)>> = per_tx
            .iter()
            .map(|outs| {
                outs.iter()
                    .map(|o| (o.vout, o.secrets.value, o.keychain, o.index))
                    .collect()
            })
            .collect();
        assert_eq!(
            got,
            vec![
                vec![
                    (0, 10, Keychain::External, 0),
                    (2, 20, Keychain::Internal, 7)
                ],
                vec![],
            ]
        );
    }

    #[test]
    fn an_output_offered_only_at_the_end_is_unblinded_and_abandon_stops_the_workers() {
        let d = descriptor();
        let e0 = d.script_pubkey(Keychain::External, 0).unwrap();
        let a = tx(1, vec![explicit(&e0, 10)]);
        let scripts: HashMap<Script, (Keychain, u32)> =
            [(e0, (Keychain::External, 0))].into_iter().collect();
        let txs = vec![a];
        let jobs = jobs(&txs, &scripts);
        let u = Unblinder::new(&d);
        u.finish(&txs, &jobs);
        u.work(); // the queue is finished: returns once it is empty
        assert_eq!(u.collect(&txs, &jobs).unwrap()[0][0].secrets.value, 10);

        let u = Unblinder::new(&d);
        u.offer(&txs[0], &scripts);
        u.abandon();
        u.work(); // returns at once, leaving the queue as it is
        assert_eq!(u.queue().pending.len(), 1);
        assert!(u.collect(&txs, &jobs).is_err(), "nothing was unblinded");
    }
}
