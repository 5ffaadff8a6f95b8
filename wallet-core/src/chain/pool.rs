//! Bounded parallel map over scoped threads (no thread pool crate, no async runtime).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::Result;

/// Applies `f` to every item with at most `limit` threads, keeping the order of `items`.
/// Stops handing out work after the first error and returns the error of the lowest index.
pub(crate) fn parallel_map<T, R, F>(items: &[T], limit: usize, f: F) -> Result<Vec<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> Result<R> + Sync,
{
    let workers = limit.max(1).min(items.len());
    if workers <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let slots: Vec<Mutex<Option<Result<R>>>> = items.iter().map(|_| Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| loop {
                if failed.load(Ordering::Relaxed) {
                    break;
                }
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(item) = items.get(i) else { break };
                let r = f(item);
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                if let Ok(mut slot) = slots[i].lock() {
                    *slot = Some(r);
                }
            });
        }
    });
    let mut out = Vec::with_capacity(items.len());
    let mut first_err = None;
    for slot in slots {
        match slot.into_inner().ok().flatten() {
            Some(Ok(r)) => out.push(r),
            Some(Err(e)) => {
                first_err = Some(e);
                break;
            }
            // Not run because an earlier item failed: that error is reported below.
            None => {}
        }
    }
    match first_err {
        Some(e) => Err(e),
        None if out.len() == items.len() => Ok(out),
        None => Err(crate::Error::Backend {
            server: String::new(),
            reason: "internal: a parallel request was not run".to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_reports_first_error() {
        let items: Vec<u32> = (0..50).collect();
        let out = parallel_map(&items, 4, |i| Ok(i * 2)).unwrap();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        let err = parallel_map(&items, 4, |i| {
            if *i == 7 {
                Err(crate::Error::Backend {
                    server: "s".into(),
                    reason: "seven".into(),
                })
            } else {
                Ok(*i)
            }
        })
        .unwrap_err();
        assert!(err.to_string().contains("seven"));
        assert!(parallel_map(&[] as &[u32], 8, |i| Ok(*i))
            .unwrap()
            .is_empty());
    }
}
