//! Sync against the embedded sandbox over both backends: confidential, issued and explicit
//! payments, unconfirmed then confirmed, incremental syncs, the gap limit, address indexes,
//! mempool evictions and reorgs (through a backend that hides transactions), pending
//! transactions, and failures that leave the store unchanged.

use std::collections::HashSet;
use std::sync::Mutex;

use elements::{BlockHash, BlockHeader, Script, Transaction, Txid};
use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{electrum_status, Backend, BackendConfig, HistoryEntry};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::{SeedSecret, WordCount};
use wallet_core::store::TxStatus;
use wallet_core::sync::{sync, SyncOptions, SyncReport};
use wallet_core::wallet::{Wallet, Wallets};
use wallet_core::Result;

fn descriptor() -> WalletDescriptor {
    let secret = SeedSecret::from_phrase(crate::common::ABANDON, String::new()).unwrap();
    WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap()
}

fn wallet(dir: &std::path::Path, name: &str) -> Wallet {
    Wallets::new(dir)
        .create(Network::Regtest, name, &descriptor(), None)
        .unwrap()
}

fn electrum(sb: &Sandbox) -> Box<dyn Backend> {
    BackendConfig::parse_electrum(&sb.electrum_addr().to_string())
        .unwrap()
        .connect()
        .unwrap()
}

fn esplora(sb: &Sandbox) -> Box<dyn Backend> {
    BackendConfig::parse_esplora(&sb.esplora_url())
        .unwrap()
        .connect()
        .unwrap()
}

fn run(w: &mut Wallet, b: &dyn Backend, gap: u32) -> SyncReport {
    let options = SyncOptions {
        gap_limit: gap,
        ..SyncOptions::default()
    };
    sync(w, b, &options, &mut |_| {}).unwrap()
}

fn lbtc() -> elements::AssetId {
    Network::Regtest.default_policy_asset()
}

#[test]
fn receive_confirm_and_incremental_over_both_backends() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut a = wallet(tmp.path(), "electrum");
    let mut b = wallet(tmp.path(), "esplora");
    let addr0 = a.address_at(Keychain::External, 0).unwrap();
    let addr1 = a.address_at(Keychain::External, 1).unwrap();
    let addr2 = a
        .address_at(Keychain::External, 2)
        .unwrap()
        .to_unconfidential();
    let issued = sb.issue(100_000_000_000, Some("TEST")).unwrap();
    sb.mine(1).unwrap();
    let t0 = sb.faucet(&addr0, 125_000_000, None).unwrap();
    let t1 = sb.faucet(&addr1, 700_000_000, Some(issued.asset)).unwrap();
    let t2 = sb.faucet(&addr2, 50_000_000, None).unwrap();

    let ea = electrum(&sb);
    let eb = esplora(&sb);
    for (w, backend) in [(&mut a, &ea), (&mut b, &eb)] {
        let r = run(w, backend.as_ref(), 20);
        assert_eq!(r.new_txs, 3, "{r:?}");
        if backend.supports_status() {
            // Tip and the first windows; the rest of the gap after index 2 with the
            // transactions and headers found in the first.
            assert_eq!(r.requests, 2, "two dependent round trips cold: {r:?}");
            assert_eq!(
                r.calls,
                1 + 1 + 40 + 3 + 3,
                "server.version, tip, 43 histories, 3 transactions"
            );
        }
        let bal = w.store().balances().unwrap();
        assert_eq!(bal[&lbtc()].unconfirmed, 175_000_000);
        assert_eq!(bal[&lbtc()].confirmed, 0);
        assert_eq!(bal[&issued.asset].unconfirmed, 700_000_000);
        let utxos = w.store().utxos().unwrap();
        assert_eq!(utxos.len(), 3);
        for u in &utxos {
            assert!(u.secrets.opens(&u.txout), "stored blinders reopen {u:?}");
        }
        let explicit: Vec<_> = utxos.iter().filter(|u| u.explicit).collect();
        assert_eq!(explicit.len(), 1);
        assert_eq!(explicit[0].outpoint.txid, t2);
        assert_eq!(explicit[0].secrets.value, 50_000_000);
        // Address indexes moved past every used one.
        assert_eq!(w.next_index(Keychain::External).unwrap(), 3);
    }
    sb.mine(1).unwrap();
    for (w, backend) in [(&mut a, &ea), (&mut b, &eb)] {
        let r = run(w, backend.as_ref(), 20);
        assert_eq!(r.new_txs, 0, "confirmations need no download: {r:?}");
        assert_eq!(r.height, sb.tip_height());
        let bal = w.store().balances().unwrap();
        assert_eq!(bal[&lbtc()].confirmed, 175_000_000);
        assert_eq!(bal[&lbtc()].unconfirmed, 0);
        assert_eq!(bal[&issued.asset].confirmed, 700_000_000);
        let txs = w.store().transactions(None).unwrap();
        assert_eq!(txs.len(), 3);
        for t in &txs {
            assert_eq!(t.status, TxStatus::Confirmed);
            assert_eq!(t.height, Some(sb.tip_height()));
            assert!(t.time.is_some());
            assert!(t.fee > 0);
            assert!([t0, t1, t2].contains(&t.txid));
        }
        let t = txs.iter().find(|t| t.txid == t1).unwrap();
        assert_eq!(t.net.get(&issued.asset), Some(&700_000_000));
        assert_eq!(w.store().tip().unwrap(), Some((sb.tip_height(), r.tip)));
        assert!(w.store().transaction(&t1).unwrap().is_some());
    }
    // Nothing new: Electrum compares status hashes only.
    let r = run(&mut a, ea.as_ref(), 20);
    assert_eq!(r.new_txs, 0);
    eprintln!(
        "electrum, nothing new: {} requests, {} scripts",
        r.requests, r.scripts_checked
    );
    assert_eq!(
        r.requests, 1,
        "tip and every status in one round trip: {r:?}"
    );
    // Something new on the same connection: the raw subscriptions of the last sync get
    // notifications, which electrum-client refuses; the read is retried on a new connection.
    let t3 = sb.faucet(&addr0, 1_000, None).unwrap();
    sb.mine(1).unwrap();
    let r = run(&mut a, ea.as_ref(), 20);
    assert_eq!(r.new_txs, 1, "{r:?}");
    assert!(a.store().transaction(&t3).unwrap().is_some());
    let r = run(&mut a, ea.as_ref(), 20);
    assert_eq!(r.new_txs, 0);
    // The same wallet over Esplora sees the new payment, then nothing new.
    let r = run(&mut b, eb.as_ref(), 20);
    assert_eq!(r.new_txs, 1);
    let r = run(&mut b, eb.as_ref(), 20);
    assert_eq!(r.new_txs, 0);
    assert_eq!(a.store().balances().unwrap(), b.store().balances().unwrap());
    sb.shutdown();
}

#[test]
fn gap_limit_and_restore() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut w = wallet(tmp.path(), "gap");
    let far = w.address_at(Keychain::External, 25).unwrap();
    sb.faucet(&far, 10_000, None).unwrap();
    let change = w.address_at(Keychain::Internal, 3).unwrap();
    sb.faucet(&change, 20_000, None).unwrap();
    sb.mine(1).unwrap();
    let e = electrum(&sb);
    let r = run(&mut w, e.as_ref(), 20);
    assert_eq!(r.new_txs, 1, "index 25 is beyond a gap of 20: {r:?}");
    assert!(!w.store().balances().unwrap().is_empty());
    assert_eq!(w.next_index(Keychain::External).unwrap(), 0);
    let r = run(&mut w, e.as_ref(), 30);
    assert_eq!(r.new_txs, 1, "{r:?}");
    assert_eq!(w.store().balances().unwrap()[&lbtc()].confirmed, 30_000);
    assert_eq!(w.next_index(Keychain::External).unwrap(), 26);
    assert_eq!(w.next_index(Keychain::Internal).unwrap(), 4);
    // Once found, index 25 is "used": the next scan keeps it with a gap of 20 after it.
    let r = run(&mut w, e.as_ref(), 20);
    assert_eq!(r.new_txs, 0);
    assert_eq!(w.store().balances().unwrap()[&lbtc()].confirmed, 30_000);
    // A full rescan finds the same.
    let options = SyncOptions {
        full: true,
        ..SyncOptions::default()
    };
    let r = sync(&mut w, e.as_ref(), &options, &mut |_| {}).unwrap();
    assert_eq!(r.new_txs, 0);
    assert_eq!(w.store().transactions(None).unwrap().len(), 2);
    sb.shutdown();
}

/// A backend that hides some transactions from every history, as if they left the mempool
/// or a reorg took them out of the chain, or moves them to another height.
#[derive(Debug)]
struct Hiding {
    inner: Box<dyn Backend>,
    hide: Mutex<HashSet<Txid>>,
    fail_transactions: Mutex<bool>,
}

impl Hiding {
    fn filter(&self, h: Vec<HistoryEntry>) -> Vec<HistoryEntry> {
        let hide = self.hide.lock().unwrap();
        h.into_iter().filter(|e| !hide.contains(&e.txid)).collect()
    }
}

impl Backend for Hiding {
    fn tip(&self) -> Result<(u32, BlockHash)> {
        self.inner.tip()
    }
    fn histories(&self, scripts: &[Script]) -> Result<Vec<Vec<HistoryEntry>>> {
        Ok(self
            .inner
            .histories(scripts)?
            .into_iter()
            .map(|h| self.filter(h))
            .collect())
    }
    fn statuses(&self, scripts: &[Script]) -> Result<Vec<Option<String>>> {
        Ok(self
            .histories(scripts)?
            .iter()
            .map(|h| electrum_status(h))
            .collect())
    }
    fn supports_status(&self) -> bool {
        true
    }
    fn transactions(&self, txids: &[Txid]) -> Result<Vec<Transaction>> {
        if *self.fail_transactions.lock().unwrap() {
            return Err(wallet_core::Error::Backend {
                server: "hiding".into(),
                reason: "down".into(),
            });
        }
        self.inner.transactions(txids)
    }
    fn block_header(&self, height: u32) -> Result<BlockHeader> {
        self.inner.block_header(height)
    }
    fn broadcast(&self, tx: &Transaction) -> Result<Txid> {
        self.inner.broadcast(tx)
    }
    fn fee_estimate(&self, target_blocks: u16) -> Result<Option<f64>> {
        self.inner.fee_estimate(target_blocks)
    }
    fn server(&self) -> &str {
        "hiding"
    }
    fn requests(&self) -> u64 {
        self.inner.requests()
    }
}

#[test]
fn evictions_failures_and_pending() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut w = wallet(tmp.path(), "evict");
    let a0 = w.address_at(Keychain::External, 0).unwrap();
    let a1 = w.address_at(Keychain::External, 1).unwrap();
    let t0 = sb.faucet(&a0, 100_000, None).unwrap();
    sb.mine(1).unwrap();
    let t1 = sb.faucet(&a1, 50_000, None).unwrap();
    let b = Hiding {
        inner: esplora(&sb),
        hide: Mutex::new(HashSet::new()),
        fail_transactions: Mutex::new(false),
    };
    let r = run(&mut w, &b, 20);
    assert_eq!(r.new_txs, 2);
    let bal = w.store().balances().unwrap()[&lbtc()];
    assert_eq!((bal.confirmed, bal.unconfirmed), (100_000, 50_000));

    // The mempool transaction disappears (evicted): it is dropped.
    b.hide.lock().unwrap().insert(t1);
    let r = run(&mut w, &b, 20);
    assert_eq!(r.dropped_txs, 1, "{r:?}");
    let bal = w.store().balances().unwrap()[&lbtc()];
    assert_eq!((bal.confirmed, bal.unconfirmed), (100_000, 0));
    // The confirmed one is reorged out too.
    b.hide.lock().unwrap().insert(t0);
    run(&mut w, &b, 20);
    assert!(w.store().balances().unwrap().is_empty());
    assert!(w.store().transactions(None).unwrap().is_empty());

    // Both come back, but the download fails: the store is unchanged.
    b.hide.lock().unwrap().clear();
    *b.fail_transactions.lock().unwrap() = true;
    let options = SyncOptions::default();
    let r = sync(&mut w, &b, &options, &mut |_| {});
    assert!(
        matches!(&r, Err(wallet_core::Error::Backend { server, reason }) if server == "hiding" && reason == "down"),
        "{:?}",
        r.map(|_| ())
    );
    assert!(w.store().balances().unwrap().is_empty());
    *b.fail_transactions.lock().unwrap() = false;
    let r = run(&mut w, &b, 20);
    assert_eq!(r.new_txs, 2);

    // A pending transaction spending t0's output to a non-wallet script: the output counts as
    // spent until it is forgotten.
    let tx0 = sb.get_tx(&t0).unwrap();
    let vout = tx0
        .output
        .iter()
        .position(|o| o.script_pubkey == a0.script_pubkey())
        .unwrap();
    let spend = Transaction {
        version: 2,
        lock_time: elements::LockTime::ZERO,
        input: vec![elements::TxIn {
            previous_output: elements::OutPoint::new(t0, u32::try_from(vout).unwrap()),
            ..Default::default()
        }],
        output: vec![elements::TxOut::new_fee(1_000, lbtc())],
    };
    wallet_core::ops::pset_sign::record_signed(&mut w, &spend).unwrap();
    assert_eq!(w.store().pending().unwrap().len(), 1);
    let bal = w.store().balances().unwrap()[&lbtc()];
    assert_eq!((bal.confirmed, bal.unconfirmed), (0, 50_000));
    // Sync keeps it.
    run(&mut w, &b, 20);
    assert_eq!(w.store().pending().unwrap().len(), 1);
    let txs = w.store().transactions(None).unwrap();
    let p = txs.iter().find(|t| t.txid == spend.txid()).unwrap();
    assert_eq!(p.status, TxStatus::Pending);
    assert_eq!(p.net.get(&lbtc()), Some(&-100_000));
    wallet_core::ops::pset_sign::forget(&mut w, &spend.txid()).unwrap();
    let bal = w.store().balances().unwrap()[&lbtc()];
    assert_eq!((bal.confirmed, bal.unconfirmed), (100_000, 50_000));
    sb.shutdown();
}

/// A run of used addresses up to the end of the first window makes Electrum ask a gap further
/// ahead in the next round; history found there, past the final window, is ignored exactly as
/// the gap limit says (not downloaded, its script not stored, its address not used).
#[test]
fn look_ahead_keeps_the_gap_limit() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let probe = wallet(tmp.path(), "probe");
    for i in 0..20u32 {
        let a = probe.address_at(Keychain::External, i).unwrap();
        sb.faucet(&a, 1_000 + u64::from(i), None).unwrap();
    }
    // Index 45 is past the window (19 + 1 + 20 = 40) but inside the look-ahead (40 + 20).
    let far_address = probe.address_at(Keychain::External, 45).unwrap();
    let far = sb.faucet(&far_address, 7_000, None).unwrap();
    sb.mine(1).unwrap();
    let backends = [("electrum", electrum(&sb)), ("esplora", esplora(&sb))];
    for (name, backend) in &backends {
        let mut w = wallet(tmp.path(), name);
        let r = run(&mut w, backend.as_ref(), 20);
        assert_eq!(r.new_txs, 20, "{name}: {r:?}");
        assert!(w.store().transaction(&far).unwrap().is_none(), "{name}");
        assert_eq!(w.next_index(Keychain::External).unwrap(), 20, "{name}");
        let state = w.store().chain_state().unwrap();
        let last_external = state
            .scripts
            .iter()
            .filter(|s| s.keychain == Keychain::External)
            .map(|s| s.index)
            .max();
        assert_eq!(last_external, Some(39), "{name}: scripts past the window");
        if backend.cheap_calls() {
            // server.version, tip and the first windows; 20..60 with 20 transactions and
            // their header.
            assert_eq!(r.requests, 2, "{r:?}");
            assert_eq!(r.calls, 1 + 1 + 40 + 40 + 20 + 1, "{r:?}");
        } else {
            // Esplora asks only the window: tip (2), 40 + 20 histories, 20 transactions,
            // one header (2).
            assert_eq!(r.requests, 2 + 60 + 20 + 2, "{r:?}");
        }
        // A gap of 30 reaches index 45.
        let r = run(&mut w, backend.as_ref(), 30);
        assert_eq!(r.new_txs, 1, "{name}: {r:?}");
        assert_eq!(w.next_index(Keychain::External).unwrap(), 46, "{name}");
        assert_eq!(
            w.store().balances().unwrap()[&lbtc()].confirmed,
            (1_000..1_020).sum::<u64>() + 7_000
        );
    }
    sb.shutdown();
}

/// A reorganisation that re-mines a wallet transaction at the same height leaves its status
/// hash (and Esplora history) unchanged: sync still notices that the block under the stored
/// tip was replaced and stores the new block hash and time, in the same sync.
#[test]
fn same_height_reorg_refreshes_block_hash_and_time() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut a = wallet(tmp.path(), "electrum");
    let mut b = wallet(tmp.path(), "esplora");
    let addr = a.address_at(Keychain::External, 0).unwrap();
    sb.mine(1).unwrap();
    let paid = sb.faucet(&addr, 100_000, None).unwrap();
    let old = sb.mine(1).unwrap()[0];
    let height = sb.tip_height();
    // Each sync on a new connection, as each command of the CLI makes one.
    type Connect = fn(&Sandbox) -> Box<dyn Backend>;
    let (to_electrum, to_esplora): (Connect, Connect) = (electrum, esplora);
    for (w, connect) in [(&mut a, to_electrum), (&mut b, to_esplora)] {
        run(w, connect(&sb).as_ref(), 20);
        assert_eq!(w.store().chain_state().unwrap().blocks[&height], old);
        let backend = connect(&sb);
        let r = run(w, backend.as_ref(), 20);
        assert!(!r.chain_changed, "{r:?}");
        if backend.supports_status() {
            assert_eq!(r.requests, 1, "nothing new: one round trip: {r:?}");
        }
    }
    // Someone else's payment waits in the mempool, so the block that re-mines ours at the
    // same height differs from the one it replaces.
    let other = WalletDescriptor::from_seed(
        &SeedSecret::generate(WordCount::Twelve, String::new())
            .unwrap()
            .seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap()
    .address(Keychain::External, 0, Network::Regtest)
    .unwrap();
    sb.faucet(&other, 5_000, None).unwrap();
    let new = sb.reorg(1, true).unwrap()[0];
    assert_ne!(new, old);
    for (w, connect) in [(&mut a, to_electrum), (&mut b, to_esplora)] {
        let backend = connect(&sb);
        let r = run(w, backend.as_ref(), 20);
        assert!(r.chain_changed, "{r:?}");
        assert_eq!((r.new_txs, r.dropped_txs), (0, 0), "{r:?}");
        if backend.supports_status() {
            assert_eq!(r.requests, 2, "statuses and check, then the headers: {r:?}");
        }
        assert_eq!(w.store().chain_state().unwrap().blocks[&height], new);
        let t = w.store().transactions(None).unwrap();
        let t = t.iter().find(|t| t.txid == paid).unwrap();
        assert_eq!(t.height, Some(height));
        let header = backend.block_header(height).unwrap();
        assert_eq!(header.block_hash(), new);
        assert_eq!(t.time, Some(u64::from(header.time)));
        // Then nothing new again.
        let backend = connect(&sb);
        let r = run(w, backend.as_ref(), 20);
        assert!(!r.chain_changed, "{r:?}");
        if backend.supports_status() {
            assert_eq!(r.requests, 1, "{r:?}");
        }
    }
    sb.shutdown();
}

/// A server whose chain is shorter than the stored tip (another server, behind the last one)
/// has no block at the stored height: sync takes the chain as changed instead of failing.
#[test]
fn a_server_behind_the_stored_tip() {
    let ahead = Sandbox::start(SandboxConfig::default()).unwrap();
    let behind = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut a = wallet(tmp.path(), "electrum");
    let mut b = wallet(tmp.path(), "esplora");
    let addr = a.address_at(Keychain::External, 0).unwrap();
    ahead.faucet(&addr, 100_000, None).unwrap();
    ahead.mine(5).unwrap();
    type Connect = fn(&Sandbox) -> Box<dyn Backend>;
    let (to_electrum, to_esplora): (Connect, Connect) = (electrum, esplora);
    for (w, connect) in [(&mut a, to_electrum), (&mut b, to_esplora)] {
        let r = run(w, connect(&ahead).as_ref(), 20);
        assert_eq!(r.new_txs, 1, "{r:?}");
        let r = run(w, connect(&behind).as_ref(), 20);
        assert!(r.chain_changed, "{r:?}");
        assert_eq!(r.dropped_txs, 1, "{r:?}");
        assert_eq!(r.height, behind.tip_height());
        assert!(w.store().transactions(None).unwrap().is_empty());
    }
}

/// An Esplora-like backend (no status hashes) that lists the transactions of one block in
/// another order at every request, as mempool.space's electrs does.
#[derive(Debug)]
struct Shuffling {
    inner: Box<dyn Backend>,
    turn: std::sync::atomic::AtomicUsize,
    shuffle: std::sync::atomic::AtomicBool,
}

impl Backend for Shuffling {
    fn tip(&self) -> Result<(u32, BlockHash)> {
        self.inner.tip()
    }
    fn histories(&self, scripts: &[Script]) -> Result<Vec<Vec<HistoryEntry>>> {
        let turn = if self.shuffle.load(std::sync::atomic::Ordering::Relaxed) {
            self.turn.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        } else {
            0
        };
        Ok(self
            .inner
            .histories(scripts)?
            .into_iter()
            .map(|mut h| {
                // Same heights stay together; inside each, a rotation that changes per call.
                h.sort_by_key(|e| (e.height == 0, e.height));
                let mut out = Vec::new();
                for (_, group) in h.iter().cloned().chunk_by_height() {
                    let mut g: Vec<HistoryEntry> = group;
                    if !g.is_empty() {
                        let k = turn % g.len();
                        g.rotate_left(k);
                    }
                    out.extend(g);
                }
                out
            })
            .collect())
    }
    fn statuses(&self, scripts: &[Script]) -> Result<Vec<Option<String>>> {
        Ok(vec![None; scripts.len()])
    }
    fn supports_status(&self) -> bool {
        false
    }
    fn transactions(&self, txids: &[Txid]) -> Result<Vec<Transaction>> {
        self.inner.transactions(txids)
    }
    fn block_header(&self, height: u32) -> Result<BlockHeader> {
        self.inner.block_header(height)
    }
    fn broadcast(&self, tx: &Transaction) -> Result<Txid> {
        self.inner.broadcast(tx)
    }
    fn fee_estimate(&self, target_blocks: u16) -> Result<Option<f64>> {
        self.inner.fee_estimate(target_blocks)
    }
    fn server(&self) -> &str {
        "shuffling"
    }
    fn requests(&self) -> u64 {
        self.inner.requests()
    }
}

/// Groups consecutive entries of one height.
trait ChunkByHeight {
    fn chunk_by_height(self) -> Vec<(i32, Vec<HistoryEntry>)>;
}

impl<I: Iterator<Item = HistoryEntry>> ChunkByHeight for I {
    fn chunk_by_height(self) -> Vec<(i32, Vec<HistoryEntry>)> {
        let mut out: Vec<(i32, Vec<HistoryEntry>)> = Vec::new();
        for e in self {
            match out.last_mut() {
                Some((h, g)) if *h == e.height => g.push(e),
                _ => out.push((e.height, vec![e])),
            }
        }
        out
    }
}

#[test]
fn a_block_listed_in_another_order_is_not_a_change() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut w = wallet(tmp.path(), "shuffled");
    let to = w.address_at(Keychain::External, 0).unwrap();
    for n in 0..4u64 {
        sb.faucet(&to, 100_000 + n, None).unwrap();
    }
    sb.mine(1).unwrap();
    let backend = Shuffling {
        inner: esplora(&sb),
        turn: std::sync::atomic::AtomicUsize::new(0),
        shuffle: std::sync::atomic::AtomicBool::new(false),
    };
    let cold = run(&mut w, &backend, 20);
    assert_eq!(cold.new_txs, 4);
    // What an unchanged wallet costs when the order stays...
    let steady = run(&mut w, &backend, 20);
    // ... and when the block's transactions come in another order at every request: the
    // same (no header downloaded again, nothing rewritten).
    backend
        .shuffle
        .store(true, std::sync::atomic::Ordering::Relaxed);
    for _ in 0..3 {
        let shuffled = run(&mut w, &backend, 20);
        assert_eq!(shuffled.new_txs, 0);
        assert!(!shuffled.chain_changed);
        assert_eq!(
            shuffled.requests, steady.requests,
            "{shuffled:?} vs {steady:?}"
        );
    }
    assert_eq!(w.store().transactions(None).unwrap().len(), 4);
}

/// Outputs are unblinded while the transactions download, for the scripts known when each
/// arrives. A transaction found through one script that also pays a script the scan derives
/// only in a later round has that output unblinded at the end, and counted like the others.
#[test]
fn an_output_to_a_script_derived_after_its_transaction_arrived() {
    use elements::{confidential, Address, AddressParams, OutPoint, TxIn, TxOut};
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let d = descriptor();
    let script = |k, i| d.script_pubkey(k, i).unwrap();
    let addr = |i| d.address(Keychain::Internal, i, Network::Regtest).unwrap();
    // With a gap of 5, internal 2 then 7 extend the window round by round: internal 12 is
    // derived in the third round, after the transaction below was found through external 0
    // (first round) and downloaded (second round).
    sb.faucet(&addr(2), 10_000, None).unwrap();
    sb.faucet(&addr(7), 20_000, None).unwrap();
    let explicit = |script: Script, value: u64| TxOut {
        asset: confidential::Asset::Explicit(lbtc()),
        value: confidential::Value::Explicit(value),
        nonce: confidential::Nonce::Null,
        script_pubkey: script,
        witness: Default::default(),
    };
    // An explicit coin at P2WSH(OP_TRUE) (no signature needed), spent by hand to external 0
    // and internal 12.
    let op_true = Script::from(vec![0x51]);
    let anyone = Address::p2wsh(&op_true, None, &AddressParams::ELEMENTS);
    let funding = sb.faucet(&anyone, 1_000_000, None).unwrap();
    sb.mine(1).unwrap();
    let vout = sb
        .get_tx(&funding)
        .unwrap()
        .output
        .iter()
        .position(|o| o.script_pubkey == anyone.script_pubkey())
        .unwrap();
    let mut input = TxIn {
        previous_output: OutPoint::new(funding, u32::try_from(vout).unwrap()),
        ..Default::default()
    };
    input.witness.script_witness = vec![op_true.to_bytes()].into();
    let both = Transaction {
        version: 2,
        lock_time: elements::LockTime::ZERO,
        input: vec![input],
        output: vec![
            explicit(script(Keychain::External, 0), 600_000),
            explicit(script(Keychain::Internal, 12), 398_000),
            explicit(Script::new(), 2_000),
        ],
    };
    let both = sb.broadcast(both).unwrap();
    sb.mine(1).unwrap();
    for (name, backend) in [("electrum", electrum(&sb)), ("esplora", esplora(&sb))] {
        let mut w = wallet(tmp.path(), name);
        let r = run(&mut w, backend.as_ref(), 5);
        assert_eq!(
            (r.new_txs, r.unblinded, r.unreadable_outputs),
            (3, 4, 0),
            "{r:?}"
        );
        let utxos = w.store().utxos().unwrap();
        assert_eq!(utxos.len(), 4, "{name}");
        let late = utxos
            .iter()
            .find(|u| u.outpoint == OutPoint::new(both, 1))
            .expect("the output to internal 12");
        assert_eq!(late.secrets.value, 398_000);
        assert_eq!(
            w.store().balances().unwrap()[&lbtc()].confirmed,
            10_000 + 20_000 + 600_000 + 398_000
        );
        assert_eq!(w.next_index(Keychain::Internal).unwrap(), 13, "{name}");
    }
    sb.shutdown();
}
