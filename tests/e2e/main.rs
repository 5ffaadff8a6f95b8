//! The end-to-end tests: the real binary against the embedded sandbox (and, with
//! `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC`, against elementsd + electrs), one module per
//! topic in one test binary, so the shared harness (`common`) compiles once and every
//! scenario runs in one pool of test threads.

mod common;

mod assets;
mod cli_edges;
mod crash;
mod differential;
mod dvp;
mod dvp_refusals;
mod exit_codes;
mod foundation;
mod interface;
mod man_pages;
mod multisig;
mod payments;
mod pegout_crash;
mod pegout_desk;
mod pegout_real_stack;
mod pegout_send;
mod pset_attacks;
mod pset_cli;
mod readme;
mod real_stack;
mod real_stack_dvp;
mod recorded_txs;
mod sandbox_cli;
mod secrets;
mod server_answers;
mod sync_e2e;
mod sync_reorg;
mod units;
