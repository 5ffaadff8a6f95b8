//! A shared pause for every request to one server, after it asked clients to slow down
//! (HTTP 429 Too Many Requests or 503 Service Unavailable, with or without `Retry-After`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The longest `Retry-After` honoured; a server asking for more is reported instead.
pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// When requests may be sent again.
#[derive(Debug, Default)]
pub(super) struct Throttle {
    until: Mutex<Option<Instant>>,
}

impl Throttle {
    /// Blocks until the current pause, if any, is over.
    pub(super) fn wait(&self) {
        loop {
            let until = *self.until.lock().unwrap_or_else(|e| e.into_inner());
            match until {
                Some(t) if t > Instant::now() => std::thread::sleep(t - Instant::now()),
                _ => return,
            }
        }
    }

    /// Pauses every request for `d` from now (a longer pause already set is kept).
    pub(super) fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        let mut current = self.until.lock().unwrap_or_else(|e| e.into_inner());
        if current.is_none_or(|c| c < until) {
            *current = Some(until);
        }
    }
}

/// A `Retry-After` header's delay in seconds (the HTTP-date form is not used by Esplora
/// servers and is ignored).
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn a_longer_pause_is_kept() {
        let t = Throttle::default();
        t.pause(Duration::from_millis(30));
        let first = t.until.lock().unwrap().unwrap();
        t.pause(Duration::ZERO);
        assert_eq!(t.until.lock().unwrap().unwrap(), first);
        t.wait();
        assert!(Instant::now() >= first);
    }
}
