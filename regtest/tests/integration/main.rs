//! The sandbox's integration tests, one module per topic in one test binary: its validator
//! against the vectors, the fixtures and hand-made broken transactions, and its Esplora and
//! Electrum servers live.

mod common;

mod electrum;
mod esplora_live;
mod esplora_shapes;
mod fixtures_chain;
mod lifecycle;
mod pegout_policy;
mod reject;
mod reorg;
mod thin_path;
mod vectors;
