//! wallet-core's integration tests, one module per topic in one test binary: against the
//! public vectors and recorded fixtures in `../shared/`, hostile chain servers on loopback,
//! and the embedded sandbox (the `regtest` crate, which shares no code with the wallet).

mod chain_support;
mod common;

mod chain_hostile;
mod chain_replay;
mod chain_window;
mod descriptor_rules;
mod fixture_wallet;
mod genesis_check;
mod issuance_vectors;
mod issue_sandbox;
mod pegout_queue;
mod pegout_sandbox;
mod seed_file;
mod sign_invariant;
mod store;
mod store_migration;
mod swap_sandbox;
mod sync_sandbox;
mod tx_sandbox;
mod unblind_keys;
mod unblind_regtest;
mod unblind_vectors;
mod vectors_addresses;
mod vectors_elip;
mod vectors_slip77;
mod wallets;
