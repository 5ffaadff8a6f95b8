//! The chain state: blocks, the UTXO set, the mempool and the script-history index.
//!
//! Everything here is plain data plus bookkeeping; validation lives in `validate`, block
//! assembly in `miner`. The whole state sits behind one mutex in `node`.

use std::collections::{BTreeMap, HashMap, VecDeque};

use elements::hashes::sha256;
use elements::{AssetId, Block, BlockHash, OutPoint, Script, Transaction, TxOut, Txid};

use crate::genesis;

/// Outputs of coinbase transactions can be spent after this many confirmations.
pub const COINBASE_MATURITY: u32 = 100;

/// Esplora-order script hash (sha256 of the scriptPubKey, natural byte order).
pub type ScriptHash = [u8; 32];

/// The Esplora script hash of a script.
pub fn script_hash(script: &Script) -> ScriptHash {
    sha256::Hash::hash(script.as_bytes()).to_byte_array()
}

/// Whether an output is indexed and may enter the UTXO set (not a fee, not provably unspendable).
pub fn is_spendable(out: &TxOut) -> bool {
    !out.script_pubkey.is_empty() && !out.script_pubkey.is_provably_unspendable()
}

/// A spendable output with where it was created.
#[derive(Clone, Debug)]
pub struct Coin {
    /// The output itself.
    pub txout: TxOut,
    /// Height of the block that created it; `None` while in the mempool.
    pub height: Option<u32>,
    /// Whether it is an output of a coinbase transaction.
    pub coinbase: bool,
}

/// A block of the best chain with cached facts.
#[derive(Clone, Debug)]
pub struct BlockEntry {
    /// The block.
    pub block: Block,
    /// Its hash.
    pub hash: BlockHash,
    /// Txids in block order.
    pub txids: Vec<Txid>,
    /// Serialized size.
    pub size: usize,
    /// Weight.
    pub weight: usize,
}

/// A transaction waiting in the mempool.
#[derive(Clone, Debug)]
pub struct MempoolEntry {
    /// The transaction.
    pub tx: Transaction,
    /// Fee in the policy asset, in sat.
    pub fee: u64,
    /// Full virtual size.
    pub vsize: usize,
    /// Whether one of its inputs spends another mempool transaction.
    pub has_unconfirmed_parent: bool,
}

/// Where a confirmed output was spent.
#[derive(Clone, Copy, Debug)]
pub struct SpendRef {
    /// Spending txid.
    pub txid: Txid,
    /// Input index in the spending tx.
    pub vin: u32,
    /// Height of the spending tx, `None` if unconfirmed.
    pub height: Option<u32>,
}

/// One row of the confirmed history index of a script.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct HistRow {
    /// Block height.
    pub height: u32,
    /// 0 = funding, 1 = spending (funding rows sort first, as in electrs).
    pub kind: u8,
    /// Txid in internal byte order (sort key as in electrs).
    pub txid_bytes: [u8; 32],
    /// Output or input index.
    pub index: u32,
}

/// Information about an asset issued on this chain.
#[derive(Clone, Debug)]
pub struct AssetInfo {
    /// Entropy of the asset.
    pub entropy: [u8; 32],
    /// Reissuance token id.
    pub token: AssetId,
    /// Issuance transaction and input.
    pub issuance_txid: Txid,
    /// Input index of the issuance.
    pub issuance_vin: u32,
    /// The outpoint the issuing input spends.
    pub issuance_prevout: OutPoint,
    /// Contract hash committed to by the issuance.
    pub contract_hash: elements::ContractHash,
}

/// A peg-out burn recorded from a confirmed or mempool transaction.
#[derive(Clone, Debug)]
pub struct Pegout {
    /// Transaction carrying the peg-out output.
    pub txid: Txid,
    /// Output index.
    pub vout: u32,
    /// Amount burned (explicit, policy asset).
    pub value: u64,
    /// Destination scriptPubKey on the parent chain.
    pub parent_script: Vec<u8>,
}

/// The whole chain state.
#[derive(Debug)]
pub struct Chain {
    /// Blocks of the best chain, index = height.
    pub blocks: Vec<BlockEntry>,
    by_hash: HashMap<BlockHash, u32>,
    /// Confirmed txid -> (height, position in block).
    tx_loc: HashMap<Txid, (u32, u32)>,
    /// Confirmed, unspent, spendable outputs (spends by mempool txs are tracked separately).
    utxos: HashMap<OutPoint, Coin>,
    /// Confirmed spends of outputs.
    spent_by: HashMap<OutPoint, SpendRef>,
    /// Mempool transactions in arrival order.
    mempool_order: Vec<Txid>,
    mempool: HashMap<Txid, MempoolEntry>,
    /// Outpoints spent by mempool transactions.
    mempool_spends: HashMap<OutPoint, (Txid, u32)>,
    /// Confirmed history rows per script hash.
    hist: HashMap<ScriptHash, Vec<HistRow>>,
    /// Mempool txids per script hash (arrival order).
    mempool_hist: HashMap<ScriptHash, Vec<Txid>>,
    /// Issued assets.
    pub assets: HashMap<AssetId, AssetInfo>,
    /// Last ten txids that entered the mempool.
    pub recent: VecDeque<(Txid, u64, usize)>,
    /// Recorded peg-outs.
    pub pegouts: Vec<Pegout>,
    /// Transactions issuing or burning each asset (confirmed and mempool, arrival order).
    pub asset_txs: HashMap<AssetId, Vec<Txid>>,
    /// Unspent explicit OP_TRUE coins (the faucet's wallet), mempool-aware.
    pub faucet_coins: BTreeMap<OutPoint, (AssetId, u64, Option<u32>, bool)>,
    /// The policy asset.
    pub policy_asset: AssetId,
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

impl Chain {
    /// A chain holding only the liquidregtest genesis block.
    pub fn new() -> Chain {
        let mut c = Chain {
            blocks: Vec::new(),
            by_hash: HashMap::new(),
            tx_loc: HashMap::new(),
            utxos: HashMap::new(),
            spent_by: HashMap::new(),
            mempool_order: Vec::new(),
            mempool: HashMap::new(),
            mempool_spends: HashMap::new(),
            hist: HashMap::new(),
            mempool_hist: HashMap::new(),
            assets: HashMap::new(),
            recent: VecDeque::new(),
            pegouts: Vec::new(),
            asset_txs: HashMap::new(),
            faucet_coins: BTreeMap::new(),
            policy_asset: genesis::policy_asset(),
        };
        c.connect_block(genesis::genesis_block());
        c
    }

    /// Height of the tip.
    pub fn tip_height(&self) -> u32 {
        (self.blocks.len() as u32).saturating_sub(1)
    }

    /// The tip block.
    pub fn tip(&self) -> &BlockEntry {
        // The genesis block is always present.
        &self.blocks[self.blocks.len() - 1]
    }

    /// Block at a height.
    pub fn block_at(&self, height: u32) -> Option<&BlockEntry> {
        self.blocks.get(height as usize)
    }

    /// Height of a block of the best chain.
    pub fn height_of(&self, hash: &BlockHash) -> Option<u32> {
        self.by_hash.get(hash).copied()
    }

    /// Median time past of the block at `height` (median of the last 11 timestamps).
    pub fn median_time(&self, height: u32) -> u32 {
        let start = height.saturating_sub(10);
        let mut times: Vec<u32> = (start..=height)
            .filter_map(|h| self.block_at(h).map(|b| b.block.header.time))
            .collect();
        times.sort_unstable();
        times.get(times.len() / 2).copied().unwrap_or(0)
    }

    /// A transaction by txid, with its confirmation (height, position) if confirmed.
    pub fn get_tx(&self, txid: &Txid) -> Option<(&Transaction, Option<(u32, u32)>)> {
        if let Some(&(h, pos)) = self.tx_loc.get(txid) {
            let tx = self
                .blocks
                .get(h as usize)?
                .block
                .txdata
                .get(pos as usize)?;
            return Some((tx, Some((h, pos))));
        }
        self.mempool.get(txid).map(|e| (&e.tx, None))
    }

    /// Whether a tx is confirmed.
    pub fn is_confirmed(&self, txid: &Txid) -> bool {
        self.tx_loc.contains_key(txid)
    }

    /// The mempool entry of a txid.
    pub fn mempool_entry(&self, txid: &Txid) -> Option<&MempoolEntry> {
        self.mempool.get(txid)
    }

    /// Mempool txids in arrival order.
    pub fn mempool_txids(&self) -> &[Txid] {
        &self.mempool_order
    }

    /// A confirmed or mempool output by outpoint, whether spent or not.
    pub fn get_output(&self, outpoint: &OutPoint) -> Option<&TxOut> {
        let (tx, _) = self.get_tx(&outpoint.txid)?;
        tx.output.get(outpoint.vout as usize)
    }

    /// The coin an input would spend: unspent on chain or created by a mempool tx, and not
    /// already spent by a mempool tx.
    pub fn spendable_coin(&self, outpoint: &OutPoint) -> Option<Coin> {
        if self.mempool_spends.contains_key(outpoint) {
            return None;
        }
        if let Some(c) = self.utxos.get(outpoint) {
            return Some(c.clone());
        }
        let e = self.mempool.get(&outpoint.txid)?;
        let out = e.tx.output.get(outpoint.vout as usize)?;
        if !is_spendable(out) {
            return None;
        }
        Some(Coin {
            txout: out.clone(),
            height: None,
            coinbase: false,
        })
    }

    /// Like [`Chain::spendable_coin`], but an outpoint spent by one of the mempool txs in
    /// `replaced` counts as unspent (a replacement may spend it again).
    pub fn coin_replacing(&self, outpoint: &OutPoint, replaced: &[Txid]) -> Option<Coin> {
        match self.mempool_spends.get(outpoint) {
            Some((t, _)) if replaced.contains(t) => {}
            Some(_) => return None,
            None => {}
        }
        if let Some(c) = self.utxos.get(outpoint) {
            return Some(c.clone());
        }
        let e = self.mempool.get(&outpoint.txid)?;
        let out = e.tx.output.get(outpoint.vout as usize)?;
        if !is_spendable(out) {
            return None;
        }
        Some(Coin {
            txout: out.clone(),
            height: None,
            coinbase: false,
        })
    }

    /// `roots` and every mempool transaction that descends from them.
    pub fn mempool_descendants(&self, roots: &[Txid]) -> Vec<Txid> {
        let mut out: Vec<Txid> = Vec::new();
        let mut todo: Vec<Txid> = roots.to_vec();
        while let Some(t) = todo.pop() {
            if out.contains(&t) || !self.mempool.contains_key(&t) {
                continue;
            }
            out.push(t);
            if let Some(e) = self.mempool.get(&t) {
                for vout in 0..e.tx.output.len() {
                    if let Some((child, _)) =
                        self.mempool_spends.get(&OutPoint::new(t, vout as u32))
                    {
                        todo.push(*child);
                    }
                }
            }
        }
        out
    }

    /// Removes transactions (and nothing else: pass descendants too) from the mempool,
    /// giving the coins they spent back.
    pub fn remove_from_mempool(&mut self, txids: &[Txid]) {
        for txid in txids {
            let Some(e) = self.mempool.remove(txid) else {
                continue;
            };
            for vout in 0..e.tx.output.len() {
                self.faucet_coins.remove(&OutPoint::new(*txid, vout as u32));
            }
            self.pegouts.retain(|p| p.txid != *txid);
            self.assets.retain(|_, a| a.issuance_txid != *txid);
            for v in self.asset_txs.values_mut() {
                v.retain(|t| t != txid);
            }
            for inp in &e.tx.input {
                let op = inp.previous_output;
                self.mempool_spends.remove(&op);
                let restored = if let Some(c) = self.utxos.get(&op) {
                    Some((c.txout.clone(), c.height, c.coinbase))
                } else {
                    self.mempool
                        .get(&op.txid)
                        .and_then(|p| p.tx.output.get(op.vout as usize))
                        .map(|o| (o.clone(), None, false))
                };
                if let Some((out, h, cb)) = restored {
                    self.track_faucet_coin(op, &out, h, cb);
                }
            }
        }
        self.mempool_order.retain(|t| self.mempool.contains_key(t));
        self.rebuild_mempool_index();
    }

    /// The mempool tx spending an outpoint, if any.
    pub fn mempool_spender(&self, outpoint: &OutPoint) -> Option<(Txid, u32)> {
        self.mempool_spends.get(outpoint).copied()
    }

    /// Who spent an output (confirmed or mempool).
    pub fn spender(&self, outpoint: &OutPoint) -> Option<SpendRef> {
        if let Some(s) = self.spent_by.get(outpoint) {
            return Some(*s);
        }
        self.mempool_spends
            .get(outpoint)
            .map(|&(txid, vin)| SpendRef {
                txid,
                vin,
                height: None,
            })
    }

    /// Whether a confirmed outpoint is in the UTXO set.
    pub fn is_confirmed_unspent(&self, outpoint: &OutPoint) -> bool {
        self.utxos.contains_key(outpoint)
    }

    /// Adds an already validated transaction to the mempool.
    pub fn add_to_mempool(&mut self, tx: Transaction, fee: u64) {
        let txid = tx.txid();
        let mut has_unconfirmed_parent = false;
        let mut touched: Vec<ScriptHash> = Vec::new();
        for (vin, inp) in tx.input.iter().enumerate() {
            if self.mempool.contains_key(&inp.previous_output.txid) {
                has_unconfirmed_parent = true;
            }
            if let Some(prev) = self.get_output(&inp.previous_output) {
                touched.push(script_hash(&prev.script_pubkey));
            }
            self.mempool_spends
                .insert(inp.previous_output, (txid, vin as u32));
            self.faucet_coins.remove(&inp.previous_output);
        }
        for (vout, out) in tx.output.iter().enumerate() {
            if is_spendable(out) {
                touched.push(script_hash(&out.script_pubkey));
                self.track_faucet_coin(OutPoint::new(txid, vout as u32), out, None, false);
            }
            self.record_pegout(txid, vout as u32, out);
        }
        touched.sort_unstable();
        touched.dedup();
        for sh in touched {
            self.mempool_hist.entry(sh).or_default().push(txid);
        }
        self.record_issuances(&tx);
        let vsize = tx.vsize();
        self.recent.push_front((txid, fee, vsize));
        self.recent.truncate(10);
        self.mempool_order.push(txid);
        self.mempool.insert(
            txid,
            MempoolEntry {
                tx,
                fee,
                vsize,
                has_unconfirmed_parent,
            },
        );
    }

    fn track_faucet_coin(&mut self, op: OutPoint, out: &TxOut, height: Option<u32>, cb: bool) {
        if out.script_pubkey.as_bytes() == [0x51] {
            if let (Some(asset), Some(value)) = (out.asset.explicit(), out.value.explicit()) {
                self.faucet_coins.insert(op, (asset, value, height, cb));
            }
        }
    }

    fn record_pegout(&mut self, txid: Txid, vout: u32, out: &TxOut) {
        if let Some(p) = out.pegout_data() {
            if self
                .pegouts
                .iter()
                .any(|x| x.txid == txid && x.vout == vout)
            {
                return;
            }
            self.pegouts.push(Pegout {
                txid,
                vout,
                value: p.value,
                parent_script: p.script_pubkey.to_bytes(),
            });
        }
    }

    fn record_issuances(&mut self, tx: &Transaction) {
        for (vin, inp) in tx.input.iter().enumerate() {
            if inp.has_issuance() && inp.asset_issuance.asset_blinding_nonce.is_null() {
                let contract = inp.asset_issuance.asset_entropy.into_contract_hash();
                let entropy = AssetId::generate_asset_entropy(inp.previous_output, contract);
                let asset = AssetId::from_entropy(entropy);
                let token = AssetId::reissuance_token_from_entropy(
                    entropy,
                    inp.asset_issuance.amount.is_confidential(),
                );
                self.assets.entry(asset).or_insert(AssetInfo {
                    entropy: entropy.to_byte_array(),
                    token,
                    issuance_txid: tx.txid(),
                    issuance_vin: vin as u32,
                    issuance_prevout: inp.previous_output,
                    contract_hash: contract,
                });
            }
        }
        // Index the transactions that issue or burn an asset (for `/asset/:id`).
        let txid = tx.txid();
        let mut touched: Vec<AssetId> = Vec::new();
        for inp in &tx.input {
            if inp.has_issuance() {
                touched.push(inp.issuance_ids().0);
            }
        }
        for out in &tx.output {
            if !out.script_pubkey.is_empty()
                && out.script_pubkey.is_provably_unspendable()
                && out.value.explicit().is_some_and(|v| v > 0)
            {
                if let Some(a) = out.asset.explicit() {
                    touched.push(a);
                }
            }
        }
        touched.sort_unstable();
        touched.dedup();
        for a in touched {
            let v = self.asset_txs.entry(a).or_default();
            if !v.contains(&txid) {
                v.push(txid);
            }
        }
    }

    /// Connects a block on top of the tip, moving its transactions out of the mempool.
    /// The block must have been built by `miner` (or loaded from our own storage).
    pub fn connect_block(&mut self, block: Block) {
        let height = self.blocks.len() as u32;
        let hash = block.block_hash();
        let mut txids = Vec::with_capacity(block.txdata.len());
        for (pos, tx) in block.txdata.iter().enumerate() {
            let txid = tx.txid();
            txids.push(txid);
            self.tx_loc.insert(txid, (height, pos as u32));
            let coinbase = tx.is_coinbase();
            let mut rows: Vec<(ScriptHash, HistRow)> = Vec::new();
            if !coinbase {
                for (vin, inp) in tx.input.iter().enumerate() {
                    let op = inp.previous_output;
                    self.mempool_spends.remove(&op);
                    self.faucet_coins.remove(&op);
                    if let Some(coin) = self.utxos.remove(&op) {
                        rows.push((
                            script_hash(&coin.txout.script_pubkey),
                            HistRow {
                                height,
                                kind: 1,
                                txid_bytes: txid.to_byte_array(),
                                index: vin as u32,
                            },
                        ));
                    }
                    self.spent_by.insert(
                        op,
                        SpendRef {
                            txid,
                            vin: vin as u32,
                            height: Some(height),
                        },
                    );
                }
            }
            for (vout, out) in tx.output.iter().enumerate() {
                let op = OutPoint::new(txid, vout as u32);
                if is_spendable(out) {
                    self.utxos.insert(
                        op,
                        Coin {
                            txout: out.clone(),
                            height: Some(height),
                            coinbase,
                        },
                    );
                    rows.push((
                        script_hash(&out.script_pubkey),
                        HistRow {
                            height,
                            kind: 0,
                            txid_bytes: txid.to_byte_array(),
                            index: vout as u32,
                        },
                    ));
                    self.track_faucet_coin(op, out, Some(height), coinbase);
                }
                self.record_pegout(txid, vout as u32, out);
            }
            for (sh, row) in rows {
                self.hist.entry(sh).or_default().push(row);
            }
            if !coinbase && !self.mempool.contains_key(&txid) {
                self.record_issuances(tx);
            }
            self.mempool.remove(&txid);
        }
        self.mempool_order.retain(|t| self.mempool.contains_key(t));
        self.rebuild_mempool_index();
        let size = block.size();
        let weight = block.weight();
        self.by_hash.insert(hash, height);
        self.blocks.push(BlockEntry {
            block,
            hash,
            txids,
            size,
            weight,
        });
    }

    /// Rebuilds the mempool script index and parent flags from the mempool.
    fn rebuild_mempool_index(&mut self) {
        // Rebuild the mempool script index from what is left.
        self.mempool_hist.clear();
        let order = self.mempool_order.clone();
        for txid in order {
            let Some(e) = self.mempool.get(&txid) else {
                continue;
            };
            let mut touched: Vec<ScriptHash> = Vec::new();
            for inp in &e.tx.input {
                if let Some(prev) = self.get_output(&inp.previous_output) {
                    touched.push(script_hash(&prev.script_pubkey));
                }
            }
            for out in &e.tx.output {
                if is_spendable(out) {
                    touched.push(script_hash(&out.script_pubkey));
                }
            }
            touched.sort_unstable();
            touched.dedup();
            for sh in touched {
                self.mempool_hist.entry(sh).or_default().push(txid);
            }
        }
        for e in self.mempool.values_mut() {
            e.has_unconfirmed_parent = false;
        }
        let ids: Vec<Txid> = self.mempool_order.clone();
        for txid in &ids {
            let parent = self
                .mempool
                .get(txid)
                .map(|e| {
                    e.tx.input
                        .iter()
                        .any(|i| self.mempool.contains_key(&i.previous_output.txid))
                })
                .unwrap_or(false);
            if let Some(e) = self.mempool.get_mut(txid) {
                e.has_unconfirmed_parent = parent;
            }
        }
    }

    /// Confirmed history of a script: txids with heights, ascending (Electrum order), deduplicated.
    pub fn confirmed_history(&self, sh: &ScriptHash) -> Vec<(Txid, u32)> {
        let Some(rows) = self.hist.get(sh) else {
            return Vec::new();
        };
        let mut rows = rows.clone();
        rows.sort_unstable();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in rows {
            if seen.insert(r.txid_bytes) {
                out.push((Txid::from_byte_array(r.txid_bytes), r.height));
            }
        }
        out
    }

    /// Mempool history of a script in arrival order.
    pub fn mempool_history(&self, sh: &ScriptHash) -> Vec<Txid> {
        self.mempool_hist.get(sh).cloned().unwrap_or_default()
    }

    /// Confirmed funding/spending counts of a script: (funded, spent, tx_count).
    pub fn confirmed_stats(&self, sh: &ScriptHash) -> (usize, usize, usize) {
        let Some(rows) = self.hist.get(sh) else {
            return (0, 0, 0);
        };
        let funded = rows.iter().filter(|r| r.kind == 0).count();
        let spent = rows.iter().filter(|r| r.kind == 1).count();
        let mut ids: Vec<[u8; 32]> = rows.iter().map(|r| r.txid_bytes).collect();
        ids.sort_unstable();
        ids.dedup();
        (funded, spent, ids.len())
    }

    /// Mempool funding/spending counts of a script: (funded, spent, tx_count).
    pub fn mempool_stats(&self, sh: &ScriptHash) -> (usize, usize, usize) {
        let txids = self.mempool_history(sh);
        let mut funded = 0;
        let mut spent = 0;
        for txid in &txids {
            let Some(e) = self.mempool.get(txid) else {
                continue;
            };
            for out in &e.tx.output {
                if is_spendable(out) && &script_hash(&out.script_pubkey) == sh {
                    funded += 1;
                }
            }
            for inp in &e.tx.input {
                if let Some(prev) = self.get_output(&inp.previous_output) {
                    if &script_hash(&prev.script_pubkey) == sh {
                        spent += 1;
                    }
                }
            }
        }
        (funded, spent, txids.len())
    }

    /// Unspent outputs of a script (confirmed and mempool, minus mempool spends):
    /// (outpoint, output, height if confirmed).
    pub fn utxos_of(&self, sh: &ScriptHash) -> Vec<(OutPoint, TxOut, Option<u32>)> {
        let mut out = Vec::new();
        for (txid, height) in self.confirmed_history(sh) {
            let Some((tx, _)) = self.get_tx(&txid) else {
                continue;
            };
            for (vout, o) in tx.output.iter().enumerate() {
                let op = OutPoint::new(txid, vout as u32);
                if is_spendable(o)
                    && &script_hash(&o.script_pubkey) == sh
                    && self.utxos.contains_key(&op)
                    && !self.mempool_spends.contains_key(&op)
                {
                    out.push((op, o.clone(), Some(height)));
                }
            }
        }
        for txid in self.mempool_history(sh) {
            let Some(e) = self.mempool.get(&txid) else {
                continue;
            };
            for (vout, o) in e.tx.output.iter().enumerate() {
                let op = OutPoint::new(txid, vout as u32);
                if is_spendable(o)
                    && &script_hash(&o.script_pubkey) == sh
                    && !self.mempool_spends.contains_key(&op)
                {
                    out.push((op, o.clone(), None));
                }
            }
        }
        out
    }
}
