//! Embedded Liquid regtest chain (the sandbox).
//!
//! A strict, in-process `liquidregtest` chain built on rust-elements types: real blocks and
//! transactions, full validation on broadcast (inputs, double spends, amounts and proofs,
//! issuances, fees, signatures), mining on demand and a faucet. It serves Blockstream electrs'
//! Esplora REST API and the Electrum protocol on loopback, with the same shapes and errors.
//!
//! ```no_run
//! let sb = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
//! println!("esplora at {}", sb.esplora_url());
//! sb.mine(1).unwrap();
//! sb.shutdown();
//! ```

#![deny(missing_docs)]

pub mod asset;
pub mod chain;
pub mod control;
pub mod electrum;
pub mod esplora;
pub mod faucet;
pub mod genesis;
pub mod hexutil;
mod http;
pub mod json;
pub mod merkle;
pub mod miner;
pub mod node;
pub mod persist;
mod sandbox;
mod service;
pub mod sigcheck;
pub mod standard;
pub mod validate;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use elements;
pub use sandbox::Sandbox;
pub use validate::Reject;

/// Errors of the sandbox.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bind address that is not on loopback.
    #[error(
        "refusing to bind {0}: the sandbox only listens on loopback addresses (127.0.0.0/8 or ::1)"
    )]
    NotLoopback(SocketAddr),
    /// An I/O error (binding, sockets, files).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// A transaction was refused; the text is what electrs would answer.
    #[error("{0}")]
    Rejected(String),
    /// The sandbox could not be reached over HTTP.
    #[error("sandbox at {url} unreachable: {reason}")]
    Unreachable {
        /// The URL tried.
        url: String,
        /// Why it failed.
        reason: String,
    },
    /// The state directory could not be used.
    #[error("sandbox storage: {0}")]
    Storage(String),
    /// The faucet could not pay.
    #[error("faucet: {0}")]
    Faucet(String),
    /// A bad argument (address, asset id, amount).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The sandbox answered something unexpected.
    #[error("unexpected answer from the sandbox: {0}")]
    Protocol(String),
}

impl From<Reject> for Error {
    fn from(r: Reject) -> Error {
        Error::Rejected(r.message())
    }
}

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Esplora HTTP bind address (loopback only; port 0 picks a free port).
    pub esplora: SocketAddr,
    /// Electrum TCP bind address (loopback only; port 0 picks a free port).
    pub electrum: SocketAddr,
    /// Directory for SQLite persistence; in memory when `None`.
    pub state_dir: Option<PathBuf>,
    /// Delay in milliseconds before every Esplora response and every Electrum reply line.
    pub delay_ms: u64,
    /// Deterministic clock: the timestamp of height 0 + 60 s per block. Real clock when `None`.
    pub fixed_clock: Option<u32>,
    /// Which electrs line's Esplora answers to give where the two differ.
    pub esplora_flavour: EsploraFlavour,
    /// elementsd's `-multi_data_permitted`: relay transactions with several `OP_RETURN`
    /// outputs (several peg-outs in one transaction). Off by default, as on liquidregtest.
    pub multi_data_permitted: bool,
}

/// The two electrs lines that serve Liquid's Esplora API differ in what a script's first page
/// of transactions (`/scripthash/:hash/txs`, `/address/:address/txs`) lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EsploraFlavour {
    /// mempool.space's electrs (liquid.network; the binary in `../shared/real-stack/`, commit
    /// 80758ea): the mempool transactions **twice**, then confirmed ones up to 50 entries in
    /// all. The default, so that clients tested on the sandbox meet the harder shape.
    #[default]
    Mempool,
    /// Blockstream's electrs (blockstream.info; the recorded fixtures): the mempool
    /// transactions (at most 50) once, then at most 25 confirmed ones.
    Blockstream,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            esplora: SocketAddr::from(([127, 0, 0, 1], 0)),
            electrum: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_dir: None,
            delay_ms: 0,
            fixed_clock: None,
            esplora_flavour: EsploraFlavour::default(),
            multi_data_permitted: false,
        }
    }
}

/// A freshly issued test asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The asset id.
    pub asset: elements::AssetId,
    /// Its reissuance token id.
    pub token: elements::AssetId,
    /// The issuance transaction.
    pub txid: elements::Txid,
}
