//! DvP offers: two wallets exchange asset A for asset B in ONE Liquid transaction, both
//! signing SIGHASH_ALL, so both legs settle or neither does.
//!
//! Three messages ([`envelope`]): the maker's offer (its coins, its output receiving B and
//! its change, unblinded, plus the unblinding data of its coins), the taker's acceptance (its
//! coins, its output receiving A, its change and the fee added, every output blinded as the
//! last blinder, its inputs signed and finalized), and the maker's settlement (verified,
//! signed, recorded, broadcast). Modules, one job each:
//!
//! * [`terms`]: what was agreed, in base units and asset ids, and each side's expected net
//!   effect; [`refusal`]: why an offer is refused, in a trader's words.
//! * [`envelope`]: the versioned, genesis-bound JSON document, parsed as hostile input.
//! * [`fee`]: the size of the shared transaction, the fee floor and cap.
//! * [`maker`]: the maker's part; [`taker`]: the taker's checks of it and its own part.
//! * [`verify`]: the checks both sides run through the wallet's PSET view before signing.
//!
//! The operations that record, sign and broadcast are in [`crate::ops::swap`].

pub mod envelope;
pub mod fee;
pub mod maker;
pub(crate) mod own;
pub mod refusal;
pub mod taker;
pub mod terms;
pub mod verify;

pub use envelope::{Offer, RevealedInput, Stage, ENVELOPE_FORMAT, ENVELOPE_VERSION};
pub use refusal::{Mismatch, Refusal};
pub use terms::{Leg, Terms};

/// The time deals are judged by (seconds since the epoch): the system clock, moved forward in
/// test builds by [`CLOCK_ENV`].
pub fn now() -> u64 {
    crate::store::now_secs().saturating_add(clock_offset())
}

/// The environment variable that moves a test build's deal clock forward by that many
/// seconds, so that expiry is tested without waiting.
pub const CLOCK_ENV: &str = "LIQUID_OTC_CLOCK_OFFSET";

/// Seconds the deal clock is moved forward ([`CLOCK_ENV`]; 0 when unset or malformed).
#[cfg(feature = "fault-injection")]
fn clock_offset() -> u64 {
    std::env::var(CLOCK_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Always 0: this build's clock is the system's.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
fn clock_offset() -> u64 {
    0
}
