//! The running sandbox: node, faucet, Esplora and Electrum servers on loopback threads.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;

use elements::{Address, AssetId, BlockHash, Txid};

use crate::node::{Clock, Node};
use crate::persist::Store;
use crate::service::Service;
use crate::{Error, Issued, SandboxConfig};

/// A running sandbox; servers run on background threads until [`Sandbox::shutdown`].
pub struct Sandbox {
    svc: Arc<Service>,
    esplora_addr: SocketAddr,
    electrum_addr: SocketAddr,
    http_acceptor: Option<JoinHandle<()>>,
    acceptor: Option<JoinHandle<()>>,
}

fn check_loopback(a: SocketAddr) -> Result<(), Error> {
    if a.ip().is_loopback() {
        Ok(())
    } else {
        Err(Error::NotLoopback(a))
    }
}

impl Sandbox {
    /// Starts a sandbox: restores state from `state_dir` if given, binds both servers.
    pub fn start(config: SandboxConfig) -> Result<Sandbox, Error> {
        check_loopback(config.esplora)?;
        check_loopback(config.electrum)?;
        let store = match &config.state_dir {
            Some(d) => Some(Store::open(d)?),
            None => None,
        };
        let node = Node::new(
            store,
            Clock {
                fixed: config.fixed_clock,
            },
        )?
        .with_relay_policy(crate::standard::RelayPolicy {
            multi_data_permitted: config.multi_data_permitted,
        });
        let svc = Arc::new(Service::new(node, config.esplora_flavour));
        let listener = TcpListener::bind(config.electrum)?;
        let electrum_addr = listener.local_addr()?;
        let http = TcpListener::bind(config.esplora)?;
        let esplora_addr = http.local_addr()?;
        let http_acceptor = {
            let svc = svc.clone();
            let delay = config.delay_ms;
            std::thread::spawn(move || crate::http::serve(svc, http, delay, crate::esplora::answer))
        };
        let acceptor = {
            let svc = svc.clone();
            let delay = config.delay_ms;
            std::thread::spawn(move || crate::electrum::serve(svc, listener, delay))
        };
        Ok(Sandbox {
            svc,
            esplora_addr,
            electrum_addr,
            http_acceptor: Some(http_acceptor),
            acceptor: Some(acceptor),
        })
    }

    /// Base URL of the Esplora API, e.g. `http://127.0.0.1:PORT`.
    pub fn esplora_url(&self) -> String {
        format!("http://{}", self.esplora_addr)
    }

    /// Electrum URL as LWK and electrum-client spell it, e.g. `tcp://127.0.0.1:PORT`.
    pub fn electrum_url(&self) -> String {
        format!("tcp://{}", self.electrum_addr)
    }

    /// Address of the Electrum server.
    pub fn electrum_addr(&self) -> SocketAddr {
        self.electrum_addr
    }

    /// The policy asset (L-BTC) of the chain.
    pub fn policy_asset(&self) -> AssetId {
        self.svc.node.chain().policy_asset
    }

    /// The genesis block hash.
    pub fn genesis_hash(&self) -> BlockHash {
        self.svc.node.chain().blocks[0].hash
    }

    /// Current tip height.
    pub fn tip_height(&self) -> u32 {
        self.svc.node.chain().tip_height()
    }

    /// Mines `n` blocks (the first confirms the whole mempool).
    pub fn mine(&self, n: u32) -> Result<Vec<BlockHash>, Error> {
        self.svc.node.mine(n)
    }

    /// Replaces the last `depth` blocks with `depth + 1` new ones (a reorganisation); their
    /// transactions return to the mempool when `keep_txs`, or vanish. In-memory only.
    pub fn reorg(&self, depth: u32, keep_txs: bool) -> Result<Vec<BlockHash>, Error> {
        self.svc.node.reorg(depth, keep_txs)
    }

    /// Pays from the faucet; blinded when the address is confidential.
    pub fn faucet(
        &self,
        address: &Address,
        amount_sat: u64,
        asset: Option<AssetId>,
    ) -> Result<Txid, Error> {
        self.svc.faucet(address, amount_sat, asset)
    }

    /// Issues a test asset (plus one reissuance token), held by the faucet.
    pub fn issue(&self, amount_sat: u64, name: Option<&str>) -> Result<Issued, Error> {
        self.svc.issue(amount_sat, name)
    }

    /// Issues a test asset (plus one reissuance token), held by the faucet, whose id commits
    /// to the JSON `contract` (an object).
    pub fn issue_with_contract(&self, amount_sat: u64, contract: &str) -> Result<Issued, Error> {
        self.svc.issue_with_contract(amount_sat, contract)
    }

    /// Validates and broadcasts a transaction in process (same rules as `POST /tx`).
    pub fn broadcast(&self, tx: elements::Transaction) -> Result<Txid, Error> {
        Ok(self.svc.node.broadcast(tx)?)
    }

    /// Whether `tx` would be accepted now, without broadcasting it (elementsd's
    /// `testmempoolaccept`): its fee, or the refusal.
    pub fn test_accept(&self, tx: &elements::Transaction) -> Result<u64, crate::Reject> {
        self.svc.node.test_accept(tx)
    }

    /// A transaction known to the sandbox (confirmed or in the mempool).
    pub fn get_tx(&self, txid: &Txid) -> Option<elements::Transaction> {
        self.svc.node.chain().get_tx(txid).map(|(t, _)| t.clone())
    }

    /// Peg-outs recorded so far: (txid, vout, amount, parent-chain scriptPubKey).
    pub fn pegouts(&self) -> Vec<(Txid, u32, u64, Vec<u8>)> {
        self.svc
            .node
            .chain()
            .pegouts
            .iter()
            .map(|p| (p.txid, p.vout, p.value, p.parent_script.clone()))
            .collect()
    }

    /// Asks a thread blocked in [`Sandbox::wait`] to return.
    pub fn request_stop(&self) {
        self.svc.request_stop();
    }

    /// Blocks until [`Sandbox::request_stop`] is called (or a stop was requested before).
    pub fn wait(&self) {
        self.svc.wait_for_stop();
    }

    /// Stops both servers, closes client connections and joins all threads.
    pub fn shutdown(self) {
        drop(self);
    }

    fn stop_all(&mut self) {
        if self.acceptor.is_none() {
            return;
        }
        self.request_stop();
        self.svc.begin_shutdown();
        // Wake both acceptors.
        let _ = TcpStream::connect(self.electrum_addr);
        let _ = TcpStream::connect(self.esplora_addr);
        if let Some(a) = self.acceptor.take() {
            let _ = a.join();
        }
        if let Some(a) = self.http_acceptor.take() {
            let _ = a.join();
        }
        self.svc.close_connections();
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop_all();
    }
}
