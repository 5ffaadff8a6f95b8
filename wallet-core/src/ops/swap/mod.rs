//! DvP offers as operations: create (maker), accept (taker), settle (maker), cancel and
//! expire (either side), recovery after a crash, and inspection. Every decision to sign goes
//! through the wallet's view of the PSET and [`crate::pset::approve`], then the deal's terms
//! ([`crate::swap::verify`]); every change of a deal is one SQLite transaction with its event,
//! and the settlement's is the transaction that records it.

mod accept;
mod cancel;
mod create;
mod deal;
mod inspect;
mod settle;

pub use accept::*;
pub use cancel::*;
pub use create::*;
pub use deal::{check_counterparty_label, deal_terms};
pub use inspect::*;
pub use settle::*;
