//! Everything in liquid-otc that knows Liquid: networks, seeds, CT descriptors, addresses and
//! the on-disk wallet store. No printing, no prompting: callers decide how to talk to users.

pub mod address;
pub mod amount;
pub mod assets;
pub mod chain;
pub mod descriptor;
pub mod error;
pub mod network;
pub mod ops;
pub mod pegout;
pub mod pset;
mod rewind;
pub mod seed;
pub mod spend_lock;
pub mod store;
pub mod swap;
pub mod sync;
pub mod tx;
pub mod unblind;
pub mod wallet;

pub use error::Error;

/// Result type of every fallible function in this crate.
pub type Result<T> = std::result::Result<T, Error>;
