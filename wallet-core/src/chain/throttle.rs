//! How many requests one server gets at once, and when: a window of requests in flight across
//! every thread of a backend (a counting semaphore), closed for a while after the server asked
//! clients to slow down (HTTP 429 Too Many Requests or 503 Service Unavailable, with or
//! without `Retry-After`), and halved for the rest of the backend's life each time it asks.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest `Retry-After` honoured; a server asking for more is reported instead.
pub(super) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// At most `size` requests in flight at once, none while paused.
#[derive(Debug)]
pub(super) struct Window {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug)]
struct State {
    size: usize,
    in_flight: usize,
    paused_until: Option<Instant>,
}

/// A place in the [`Window`] (one request in flight), given back when dropped.
pub(super) struct Slot<'a>(&'a Window);

impl Window {
    /// A window of `size` requests (at least 1).
    pub(super) fn new(size: usize) -> Self {
        Window {
            state: Mutex::new(State {
                size: size.max(1),
                in_flight: 0,
                paused_until: None,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits until the pause, if any, is over and the window has room; then takes a place.
    pub(super) fn enter(&self) -> Slot<'_> {
        let mut st = self.lock();
        loop {
            let now = Instant::now();
            match st.paused_until {
                Some(t) if t > now => {
                    st = self
                        .changed
                        .wait_timeout(st, t - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
                _ if st.in_flight >= st.size => {
                    st = self.changed.wait(st).unwrap_or_else(|e| e.into_inner());
                }
                _ => break,
            }
        }
        st.in_flight += 1;
        Slot(self)
    }

    /// The server asked to slow down: no request is sent for `pause` from now (a longer
    /// pause already set is kept), and the window is halved (never below 1).
    pub(super) fn slow_down(&self, pause: Duration) {
        let mut st = self.lock();
        let until = Instant::now() + pause;
        if st.paused_until.is_none_or(|c| c < until) {
            st.paused_until = Some(until);
        }
        st.size = (st.size / 2).max(1);
    }

    /// The current size.
    pub(super) fn size(&self) -> usize {
        self.lock().size
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        st.in_flight = st.in_flight.saturating_sub(1);
        drop(st);
        // Every waiter checks again (one woken during a pause would go back to sleep and
        // leave the room to nobody).
        self.0.changed.notify_all();
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn a_longer_pause_is_kept() {
        let w = Window::new(4);
        w.slow_down(Duration::from_millis(30));
        let first = w.lock().paused_until.unwrap();
        w.slow_down(Duration::ZERO);
        assert_eq!(w.lock().paused_until.unwrap(), first);
        drop(w.enter());
        assert!(Instant::now() >= first);
    }

    #[test]
    fn the_window_bounds_what_is_in_flight_and_only_shrinks() {
        let w = Window::new(3);
        let busy = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..12 {
                s.spawn(|| {
                    for _ in 0..20 {
                        let _slot = w.enter();
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        busy.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 3);
        w.slow_down(Duration::ZERO);
        assert_eq!(w.size(), 1);
        w.slow_down(Duration::ZERO);
        assert_eq!(w.size(), 1, "never below one request");
        assert_eq!(Window::new(0).size(), 1);
    }
}
