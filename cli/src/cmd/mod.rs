//! One module per top-level command.

pub mod address;
pub mod asset;
pub mod completions;
pub mod deal;
pub mod demo;
pub mod history;
pub mod label;
pub mod offer;
pub mod pegout;
pub mod pending;
pub mod pset;
pub mod sandbox;
pub mod send;
pub mod sync;
pub mod tx;
pub mod wallet;
