//! Crash points for the crash-safety tests, between the write steps of every operation.
//!
//! Built only with the `fault-injection` feature, which the workspace turns on for its own
//! tests (a dev-dependency of the root package): a release binary has no crash points and
//! never reads their environment variable.

/// The environment variable naming the point at which a test build aborts the process.
pub const FAULT_ENV: &str = "LIQUID_OTC_FAULT";

/// Aborts the process, as a crash would, when [`FAULT_ENV`] names `point`.
#[cfg(feature = "fault-injection")]
pub fn point(point: &str) {
    if std::env::var(FAULT_ENV).is_ok_and(|v| v == point) {
        std::process::abort();
    }
}

/// Does nothing: this build has no crash points.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_point: &str) {}
