//! What a sandbox's servers share: the node, the faucet, the client connections and threads
//! to close at shutdown, and the stop signal.

use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::thread::JoinHandle;

use elements::{Address, AssetId, Txid};

use crate::node::Node;
use crate::{faucet, Error, EsploraFlavour, Issued};

/// Everything the servers share.
pub struct Service {
    /// The node.
    pub node: Node,
    /// Which electrs line's Esplora answers to give.
    pub esplora_flavour: EsploraFlavour,
    faucet_lock: Mutex<()>,
    shutting_down: AtomicBool,
    streams: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    stop: (Mutex<bool>, Condvar),
}

impl Service {
    /// The shared state of a sandbox serving `node`.
    pub(crate) fn new(node: Node, esplora_flavour: EsploraFlavour) -> Service {
        Service {
            node,
            esplora_flavour,
            faucet_lock: Mutex::new(()),
            shutting_down: AtomicBool::new(false),
            streams: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            stop: (Mutex::new(false), Condvar::new()),
        }
    }

    /// From now on the servers answer nothing more and their loops end.
    pub(crate) fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Closes every client connection and joins the threads serving them.
    pub(crate) fn close_connections(&self) {
        for s in self
            .streams
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
        let threads: Vec<JoinHandle<()>> = self
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
            .collect();
        for t in threads {
            let _ = t.join();
        }
    }

    /// Blocks until [`Service::request_stop`] is called (or a stop was requested before).
    pub(crate) fn wait_for_stop(&self) {
        let (m, c) = &self.stop;
        let mut stopped = m.lock().unwrap_or_else(|e| e.into_inner());
        while !*stopped {
            stopped = c.wait(stopped).unwrap_or_else(|e| e.into_inner());
        }
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    pub(crate) fn track_stream(&self, s: TcpStream) {
        let mut v = self.streams.lock().unwrap_or_else(|e| e.into_inner());
        // Forget streams whose peer is gone.
        v.retain(|s| s.peer_addr().is_ok());
        v.push(s);
    }

    pub(crate) fn track_thread(&self, h: JoinHandle<()>) {
        let mut v = self.threads.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|t| !t.is_finished());
        v.push(h);
    }

    /// Asks threads blocked in [`crate::Sandbox::wait`] to return.
    pub fn request_stop(&self) {
        let (m, c) = &self.stop;
        *m.lock().unwrap_or_else(|e| e.into_inner()) = true;
        c.notify_all();
    }

    /// Pays `amount_sat` of `asset` (L-BTC by default) to `address` from the faucet.
    pub fn faucet(
        &self,
        address: &Address,
        amount_sat: u64,
        asset: Option<AssetId>,
    ) -> Result<Txid, Error> {
        if address.params != &elements::AddressParams::ELEMENTS {
            return Err(Error::InvalidArgument(format!(
                "{address} is not a liquidregtest address"
            )));
        }
        let _g = self.faucet_lock.lock().unwrap_or_else(|e| e.into_inner());
        let seed = self.node.next_faucet_seed();
        let tx = {
            let chain = self.node.chain();
            faucet::build_payment(&chain, &self.node.secp, seed, address, amount_sat, asset)?
        };
        Ok(self.node.broadcast_own(tx)?)
    }

    /// Issues a test asset held by the faucet (contract hash: sha256 of `name`).
    pub fn issue(&self, amount_sat: u64, name: Option<&str>) -> Result<Issued, Error> {
        self.issue_committing(amount_sat, faucet::name_contract_hash(name))
    }

    /// Issues a test asset held by the faucet whose id commits to the JSON `contract` (an
    /// object, e.g. with the asset's `precision`).
    pub fn issue_with_contract(&self, amount_sat: u64, contract: &str) -> Result<Issued, Error> {
        self.issue_committing(amount_sat, faucet::json_contract_hash(contract)?)
    }

    fn issue_committing(
        &self,
        amount_sat: u64,
        contract: elements::ContractHash,
    ) -> Result<Issued, Error> {
        let _g = self.faucet_lock.lock().unwrap_or_else(|e| e.into_inner());
        let (tx, asset, token) = {
            let chain = self.node.chain();
            faucet::build_issuance(&chain, amount_sat, contract)?
        };
        let txid = self.node.broadcast_own(tx)?;
        Ok(Issued { asset, token, txid })
    }
}
