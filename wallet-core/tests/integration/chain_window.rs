//! Esplora's window: at most `concurrency` requests in flight, over as many kept-alive
//! connections (never a new connection per request), halved when the server asks clients to
//! slow down. Counted by a loopback server; no sleeps.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use elements::Script;
use wallet_core::chain::{Backend, BackendConfig, EsploraBackend, DEFAULT_CONCURRENCY};

/// What the server saw.
#[derive(Default)]
struct Seen {
    connections: AtomicUsize,
    /// Requests being handled now (from arrival until just before the answer is written, so
    /// never more than the client has in flight).
    handling: AtomicUsize,
    /// Per request: when it arrived and how many were being handled then (itself included).
    arrivals: Mutex<Vec<(Instant, usize)>>,
}

/// An HTTP/1.1 server (keep-alive) that answers request number `n` (0-based) with
/// `answer(n)`, a complete response.
fn serve(answer: fn(usize) -> &'static str) -> (String, Arc<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Seen::default());
    let s = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            s.connections.fetch_add(1, Ordering::SeqCst);
            let s = s.clone();
            std::thread::spawn(move || connection(stream, &s, answer));
        }
    });
    (url, seen)
}

fn connection(stream: TcpStream, seen: &Seen, answer: fn(usize) -> &'static str) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        // A GET without a body: the request line and headers up to an empty line.
        let mut line = String::new();
        loop {
            line.clear();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line.trim_end().is_empty() => break,
                Ok(_) => {}
            }
        }
        let now = seen.handling.fetch_add(1, Ordering::SeqCst) + 1;
        let n = {
            let mut a = seen.arrivals.lock().unwrap();
            a.push((Instant::now(), now));
            a.len() - 1
        };
        seen.handling.fetch_sub(1, Ordering::SeqCst);
        if writer.write_all(answer(n).as_bytes()).is_err() {
            return;
        }
    }
}

const EMPTY: &str =
    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n[]";

fn scripts(n: usize) -> Vec<Script> {
    (0..n)
        .map(|i| Script::from(i.to_le_bytes().to_vec()))
        .collect()
}

#[test]
fn esplora_keeps_a_window_of_kept_alive_connections() {
    for (concurrency, n) in [(4, 100), (DEFAULT_CONCURRENCY, 300)] {
        let (url, seen) = serve(|_| EMPTY);
        let backend = BackendConfig::parse_esplora(&url)
            .unwrap()
            .with_concurrency(concurrency)
            .connect()
            .unwrap();
        let h = backend.histories(&scripts(n)).unwrap();
        assert_eq!(h.len(), n);
        let arrivals = seen.arrivals.lock().unwrap();
        assert_eq!(arrivals.len(), n, "one request per script");
        let most = arrivals.iter().map(|a| a.1).max().unwrap();
        assert!(
            most <= concurrency,
            "{most} in flight, window {concurrency}"
        );
        let connections = seen.connections.load(Ordering::SeqCst);
        assert!(
            connections <= concurrency,
            "{connections} connections for {n} requests with a window of {concurrency}"
        );
        // A second call reuses the kept connections (it may open the ones the first did not
        // need, never more).
        drop(arrivals);
        backend.histories(&scripts(n)).unwrap();
        assert!(seen.connections.load(Ordering::SeqCst) <= concurrency);
    }
}

#[test]
fn esplora_halves_its_window_when_asked_to_slow_down() {
    // The first request is answered 429 with Retry-After: 1; every other one at once.
    let (url, seen) = serve(|n| {
        if n == 0 {
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\ncontent-length: 4\r\n\r\nslow"
        } else {
            EMPTY
        }
    });
    let backend = EsploraBackend::new(
        BackendConfig::parse_esplora(&url)
            .unwrap()
            .with_concurrency(8)
            .with_timeout(Duration::from_secs(10)),
    )
    .unwrap();
    assert_eq!(backend.window(), 8);
    backend.histories(&scripts(80)).unwrap();
    assert_eq!(backend.window(), 4, "halved once");
    let arrivals = seen.arrivals.lock().unwrap();
    assert_eq!(arrivals.len(), 81, "every script, and the one asked again");
    let first = arrivals[0].0;
    // Until the client has read the 429, the other threads go on; after the pause, never
    // more than the window of 4 (an upper bound: this server answers at once, so it rarely
    // sees more than one at a time; `window()` above is the exact check).
    let later: Vec<usize> = arrivals
        .iter()
        .filter(|a| a.0.duration_since(first) >= Duration::from_secs(1))
        .map(|a| a.1)
        .collect();
    assert!(!later.is_empty());
    assert!(later.iter().all(|n| *n <= 4), "{later:?}");
    assert!(arrivals.iter().all(|a| a.1 <= 8));
    assert!(seen.connections.load(Ordering::SeqCst) <= 8);
}
