//! The node: chain state behind a mutex, broadcast, mining, persistence and change events.

use std::sync::mpsc::Sender;
use std::sync::{Mutex, MutexGuard};

use elements::secp256k1_zkp::{All, Secp256k1};
use elements::{BlockHash, Transaction, Txid};

use crate::chain::Chain;
use crate::persist::Store;
use crate::validate::{self, Reject};
use crate::{miner, Error};

/// A change that Electrum subscribers may care about.
#[derive(Clone, Debug)]
pub enum Event {
    /// A new tip at this height.
    Block(u32),
    /// The mempool changed.
    Mempool,
}

/// Block timestamps: a fixed start (+60 s per block) or the wall clock.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    /// Start timestamp for a deterministic clock.
    pub fixed: Option<u32>,
}

impl Clock {
    /// Timestamp of a new block at `height` after a block with time `prev`.
    pub fn block_time(&self, height: u32, prev: u32) -> u32 {
        match self.fixed {
            Some(start) => start
                .saturating_add(height.saturating_mul(60))
                .max(prev.saturating_add(1)),
            None => {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs() as u32)
                    .unwrap_or(0);
                now.max(prev.saturating_add(1))
            }
        }
    }
}

/// Shared node state.
pub struct Node {
    chain: Mutex<Chain>,
    store: Option<Mutex<Store>>,
    /// The secp context used for all checks.
    pub secp: Secp256k1<All>,
    clock: Clock,
    subscribers: Mutex<Vec<(u64, Sender<Event>)>>,
    next_sub: Mutex<u64>,
    /// Counter that seeds the faucet's blinding randomness (deterministic).
    pub faucet_seq: Mutex<u64>,
    /// Reorganisations so far: the coinbase extra nonce of the blocks mined since.
    branch: std::sync::atomic::AtomicU32,
    /// Relay policy on outputs (elementsd's options).
    relay: crate::standard::RelayPolicy,
}

impl Node {
    /// A node with the genesis chain, restored from `store` when given.
    pub fn new(store: Option<Store>, clock: Clock) -> Result<Node, Error> {
        let mut chain = Chain::new();
        let mut seq = 0;
        if let Some(s) = &store {
            s.load_into(&mut chain)?;
            seq = s.faucet_seq()?;
        }
        Ok(Node {
            chain: Mutex::new(chain),
            store: store.map(Mutex::new),
            secp: Secp256k1::new(),
            clock,
            subscribers: Mutex::new(Vec::new()),
            next_sub: Mutex::new(0),
            faucet_seq: Mutex::new(seq),
            branch: std::sync::atomic::AtomicU32::new(0),
            relay: crate::standard::RelayPolicy::default(),
        })
    }

    /// The node with relay policy `relay` (elementsd's `-multi_data_permitted`).
    pub fn with_relay_policy(mut self, relay: crate::standard::RelayPolicy) -> Node {
        self.relay = relay;
        self
    }

    /// Locks the chain state (a poisoned lock is recovered: the state is only ever mutated by
    /// complete operations).
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        self.chain.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers an event subscriber; returns its id.
    pub fn subscribe(&self, tx: Sender<Event>) -> u64 {
        let mut n = self.next_sub.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        let id = *n;
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((id, tx));
        id
    }

    /// Removes a subscriber.
    pub fn unsubscribe(&self, id: u64) {
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _)| *i != id);
    }

    /// Sends an event to every subscriber (dropping the ones that went away).
    pub fn publish(&self, ev: Event) {
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(_, s)| s.send(ev.clone()).is_ok());
    }

    /// Validates and adds a transaction to the mempool. A tx already in the mempool returns its
    /// txid (as elementsd does). Does not publish; see [`Node::broadcast`].
    pub fn accept(&self, tx: Transaction) -> Result<(Txid, bool), Reject> {
        self.accept_as(tx, true)
    }

    /// [`Node::accept`], with the standardness rules only when `standard` (the node's own
    /// faucet payments and test issuances skip them).
    fn accept_as(&self, tx: Transaction, standard: bool) -> Result<(Txid, bool), Reject> {
        let txid = tx.txid();
        // Cheap context checks under the lock, the proofs and signatures without it (so that
        // concurrent broadcasts use every core), then the context again before adding: an
        // outpoint's output never changes, so the verified spent outputs are still the ones.
        let (spent, policy) = {
            let chain = self.chain();
            if chain.mempool_entry(&txid).is_some() {
                return Ok((txid, false));
            }
            crate::standard::check_outputs(&tx, self.relay)?;
            (
                validate::check_context_as(&chain, &tx, self.next_time(&chain), standard)?,
                chain.policy_asset,
            )
        };
        let acc = validate::check_with_spent(&self.secp, &tx, &spent, policy)?;
        let mut chain = self.chain();
        if chain.mempool_entry(&txid).is_some() {
            return Ok((txid, false));
        }
        let next_time = self.next_time(&chain);
        validate::check_context_as(&chain, &tx, next_time, standard)?;
        let replaces = validate::replacement_set(&chain, &tx, acc.fee)?;
        if let Some(store) = &self.store {
            let store = store.lock().unwrap_or_else(|e| e.into_inner());
            store
                .replace_mempool(&replaces, &tx, acc.fee)
                .map_err(|e| Reject::rejected(format!("sandbox-storage ({e})")))?;
        }
        if !replaces.is_empty() {
            chain.remove_from_mempool(&replaces);
        }
        chain.add_to_mempool(tx, acc.fee);
        Ok((txid, true))
    }

    fn next_time(&self, chain: &Chain) -> u32 {
        self.clock
            .block_time(chain.tip_height() + 1, chain.tip().block.header.time)
    }

    /// Whether `tx` would be accepted into the mempool now (elementsd's `testmempoolaccept`):
    /// every check of [`Node::accept`], replacement rules included, without adding it. The
    /// fee on acceptance.
    pub fn test_accept(&self, tx: &Transaction) -> Result<u64, Reject> {
        let chain = self.chain();
        if chain.mempool_entry(&tx.txid()).is_some() {
            return Err(Reject::rejected("txn-already-in-mempool"));
        }
        let next_time = self.next_time(&chain);
        validate::check_tx(&self.secp, &chain, tx, next_time)
            .map(|acc| acc.fee)
            .map_err(|r| {
                // What testmempoolaccept says where sendrawtransaction says otherwise.
                let reason = if r.reason == "Transaction already in block chain" {
                    "txn-already-known".to_owned()
                } else if r.reason == "bad-txns-inputs-missingorspent" {
                    "missing-inputs".to_owned()
                } else {
                    r.reason
                };
                Reject { reason, ..r }
            })
    }

    /// Accepts and notifies subscribers.
    pub fn broadcast(&self, tx: Transaction) -> Result<Txid, Reject> {
        self.broadcast_as(tx, true)
    }

    /// Accepts one of the node's own transactions (faucet, test issuance), which need not be
    /// standard, and notifies subscribers.
    pub fn broadcast_own(&self, tx: Transaction) -> Result<Txid, Reject> {
        self.broadcast_as(tx, false)
    }

    fn broadcast_as(&self, tx: Transaction, standard: bool) -> Result<Txid, Reject> {
        let (txid, new) = self.accept_as(tx, standard)?;
        if new {
            self.publish(Event::Mempool);
        }
        Ok(txid)
    }

    /// Mines `n` blocks; the first takes every mempool transaction.
    pub fn mine(&self, n: u32) -> Result<Vec<BlockHash>, Error> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut chain = self.chain();
        // Build all blocks first, store them in one SQLite transaction, then connect them:
        // memory never runs ahead of the state directory.
        let mut blocks = Vec::with_capacity(n as usize);
        let mut prev_hash = chain.tip().hash;
        let mut prev_time = chain.tip().block.header.time;
        let first = chain.tip_height() + 1;
        for i in 0..n {
            let height = first + i;
            let time = self.clock.block_time(height, prev_time);
            let (fees, txs) = if i == 0 {
                let mut fees: u64 = 0;
                let mut txs = Vec::new();
                for txid in chain.mempool_txids() {
                    if let Some(e) = chain.mempool_entry(txid) {
                        fees = fees.saturating_add(e.fee);
                        txs.push(e.tx.clone());
                    }
                }
                (fees, txs)
            } else {
                (0, Vec::new())
            };
            let extra_nonce = self.branch.load(std::sync::atomic::Ordering::SeqCst);
            let block = miner::build_block(prev_hash, height, time, fees, txs, extra_nonce);
            prev_hash = block.block_hash();
            prev_time = time;
            blocks.push((height, block));
        }
        if let Some(store) = &self.store {
            let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
            store.add_blocks(&blocks)?;
        }
        let mut hashes = Vec::with_capacity(blocks.len());
        for (_, block) in blocks {
            hashes.push(block.block_hash());
            chain.connect_block(block);
        }
        let tip = chain.tip_height();
        drop(chain);
        self.publish(Event::Block(tip));
        Ok(hashes)
    }

    /// Replaces the last `depth` blocks, as a chain reorganisation would: they are
    /// disconnected, and `depth + 1` new blocks are mined on the block below them, so the new
    /// branch wins. Their transactions go back to the mempool when `keep_txs` (re-validated,
    /// like the mempool that was there), or vanish otherwise (as when a conflicting branch
    /// wins). Only for in-memory sandboxes. Returns the hashes of the new blocks.
    pub fn reorg(&self, depth: u32, keep_txs: bool) -> Result<Vec<BlockHash>, Error> {
        if self.store.is_some() {
            return Err(Error::InvalidArgument(
                "reorganisations are only for in-memory sandboxes (started without a state dir)"
                    .to_string(),
            ));
        }
        let (orphaned, waiting) = {
            let mut chain = self.chain();
            let tip = chain.tip_height();
            if tip < 2 {
                return Err(Error::InvalidArgument(format!(
                    "the chain is too short to reorganise (the tip is at {tip}): mine a block \
                     or more first"
                )));
            }
            if depth == 0 || depth >= tip {
                return Err(Error::InvalidArgument(format!(
                    "a reorganisation depth must be 1 to {} (the tip is at {tip})",
                    tip - 1
                )));
            }
            let keep = (tip - depth) as usize;
            let mut fresh = Chain::new();
            fresh.policy_asset = chain.policy_asset;
            for entry in chain.blocks.iter().skip(1).take(keep) {
                fresh.connect_block(entry.block.clone());
            }
            let orphaned: Vec<Transaction> = chain
                .blocks
                .iter()
                .skip(keep + 1)
                .flat_map(|e| e.block.txdata.iter().skip(1).cloned())
                .collect();
            let waiting: Vec<Transaction> = chain
                .mempool_txids()
                .iter()
                .filter_map(|t| chain.mempool_entry(t).map(|e| e.tx.clone()))
                .collect();
            *chain = fresh;
            (orphaned, waiting)
        };
        let back = if keep_txs { orphaned } else { Vec::new() };
        for tx in back.into_iter().chain(waiting) {
            // Whatever no longer fits the new branch is dropped, as a node would.
            let _ = self.accept(tx);
        }
        self.branch
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let mined = self.mine(depth + 1)?;
        self.publish(Event::Mempool);
        Ok(mined)
    }

    /// Next faucet seed, persisted when a store exists.
    pub fn next_faucet_seed(&self) -> u64 {
        let mut seq = self.faucet_seq.lock().unwrap_or_else(|e| e.into_inner());
        *seq += 1;
        if let Some(store) = &self.store {
            let store = store.lock().unwrap_or_else(|e| e.into_inner());
            let _ = store.set_faucet_seq(*seq);
        }
        *seq
    }
}
