//! Sync benchmark (measured, never asserted): wallets with 65 and 1,000 transactions on the
//! embedded sandbox, over Electrum and Esplora, with no added latency, with the sandbox's
//! `delay_ms: 25` (a sleep before every Esplora response and every Electrum reply line), and
//! through a proxy that delays every chunk by 25 ms each way (a 50 ms round trip, like a remote
//! server; pipelined bursts cost one round trip, as on a real link).
//!
//! Per case: cold (full-scan) wall time, its network part (until the scan ends; unblinding
//! runs during it), the unblinding left after it and the store's write,
//! requests (Electrum: round trips counted by the backend), calls (Electrum: every call of a
//! burst), the calls LWK 0.19's scan would make for the same wallet (computed from what was
//! found: batches of 20 scripts per keychain until an empty one, every transaction, the
//! header of every height and of the tip, the tip), dependent round trips estimated as the
//! network time over the proxy's round trip, and a sync with nothing new; then unblinded
//! outputs per second on 1 and 2 threads as sync unblinds them, the library's full rewind
//! (which verifies the rangeproof) on 1 thread for comparison, and the `balance --offline`
//! store read (median).
//!
//! ```sh
//! cargo run -p wallet-core --release --example sync_bench            # 65 and 1000
//! cargo run -p wallet-core --release --example sync_bench -- 65      # one size
//! ```
//! With `LIQUID_OTC_BIN=target/release/liquid-otc` it also times the `balance --offline`
//! process.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use elements::Transaction;
use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::{SeedSecret, WordCount};
use wallet_core::sync::{outputs::unblind_count, sync, SyncOptions, SyncProgress};
use wallet_core::unblind::{blinding_private_key, unblind_output};
use wallet_core::wallet::{Wallet, Wallets};

/// Spreads a wallet's payments over this many receive addresses per 100 transactions.
const ADDRESSES_PER_100: u32 = 5;

fn descriptor() -> WalletDescriptor {
    let secret = SeedSecret::generate(WordCount::Twelve, String::new()).unwrap();
    WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap()
}

/// Pays `n` confidential transactions to `d`'s first addresses, a block every 25.
fn fund(sb: &Sandbox, d: &WalletDescriptor, n: u32) {
    let addresses = (n * ADDRESSES_PER_100).div_ceil(100).max(1);
    for i in 0..n {
        let a = d
            .address(Keychain::External, i % addresses, Network::Regtest)
            .unwrap();
        sb.faucet(&a, 10_000 + u64::from(i), None).unwrap();
        if i % 25 == 24 {
            sb.mine(1).unwrap();
        }
    }
    sb.mine(1).unwrap();
}

/// A TCP proxy that delivers every chunk `delay` after it was read, in each direction,
/// without holding back the chunks behind it (a link with latency, not a slow server).
fn latency_proxy(upstream: SocketAddr, delay: Duration) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            for (from, to) in [
                (client.try_clone().unwrap(), server.try_clone().unwrap()),
                (server.try_clone().unwrap(), client.try_clone().unwrap()),
            ] {
                pipe(from, to, delay);
            }
        }
    });
    addr
}

fn pipe(mut from: TcpStream, mut to: TcpStream, delay: Duration) {
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx
                        .send((Instant::now() + delay, buf[..n].to_vec()))
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        while let Ok((due, bytes)) = rx.recv() {
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            if to.write_all(&bytes).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

fn connect(kind: &str, esplora: &str, electrum: &str) -> Box<dyn Backend> {
    let config = match kind {
        "esplora" => BackendConfig::parse_esplora(esplora).unwrap(),
        _ => BackendConfig::parse_electrum(electrum).unwrap(),
    };
    config.connect().unwrap()
}

/// The calls LWK 0.19's `full_scan` makes on Electrum for what `w` stores after a cold sync:
/// per keychain, batches of 20 histories until a batch without history; every transaction;
/// the header of every height and of the tip; the tip.
fn lwk_calls(w: &Wallet) -> usize {
    let state = w.store().chain_state().unwrap();
    let mut histories = 0;
    for k in Keychain::ALL {
        let last_used = state
            .scripts
            .iter()
            .filter(|s| s.keychain == k)
            .filter(|s| {
                state
                    .histories
                    .get(&s.script)
                    .is_some_and(|h| !h.is_empty())
            })
            .map(|s| s.index as usize)
            .max();
        histories += match last_used {
            Some(i) => 20 * (i / 20 + 2),
            None => 20,
        };
    }
    let txs = w.store().transactions(None).unwrap();
    let mut heights: std::collections::HashSet<u32> = txs.iter().filter_map(|t| t.height).collect();
    heights.insert(state.tip.unwrap().0);
    histories + txs.len() + heights.len() + 1
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

struct Case<'a> {
    label: &'a str,
    esplora: String,
    electrum: String,
    rtt_ms: Option<f64>,
}

fn main() {
    let sizes: Vec<u32> = match std::env::args().nth(1) {
        Some(n) => vec![n.parse().expect("a number of transactions")],
        None => vec![65, 1000],
    };
    let state = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(data.path());

    // Build the chain once (no delay), then serve it again with `delay_ms: 25`.
    let descriptors: Vec<(u32, WalletDescriptor)> =
        sizes.iter().map(|n| (*n, descriptor())).collect();
    {
        let sb = Sandbox::start(SandboxConfig {
            state_dir: Some(state.path().to_owned()),
            ..SandboxConfig::default()
        })
        .unwrap();
        sb.mine(1).unwrap();
        for (n, d) in &descriptors {
            let t = Instant::now();
            fund(&sb, d, *n);
            eprintln!("funded {n} txs in {:.1} s", t.elapsed().as_secs_f64());
        }
        sb.shutdown();
    }
    println!(
        "| wallet | backend | latency | cold ms | cold network ms | unblinding after it ms | saving ms | cold requests | cold calls | LWK calls | cold round trips | new txs | warm ms | warm requests | warm calls | warm round trips |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    let mut synced: HashMap<u32, Wallet> = HashMap::new();
    let mut counter = 0;
    for delay_ms in [0u64, 25] {
        let sb = Sandbox::start(SandboxConfig {
            state_dir: Some(state.path().to_owned()),
            delay_ms,
            ..SandboxConfig::default()
        })
        .unwrap();
        let mut cases = vec![Case {
            label: if delay_ms == 0 {
                "none"
            } else {
                "sandbox delay_ms 25"
            },
            esplora: sb.esplora_url(),
            electrum: sb.electrum_addr().to_string(),
            rtt_ms: None,
        }];
        if delay_ms == 0 {
            let http: SocketAddr = sb
                .esplora_url()
                .trim_start_matches("http://")
                .parse()
                .unwrap();
            let e = latency_proxy(sb.electrum_addr(), Duration::from_millis(25));
            let h = latency_proxy(http, Duration::from_millis(25));
            cases.push(Case {
                label: "proxy 25 ms each way",
                esplora: format!("http://{h}"),
                electrum: e.to_string(),
                rtt_ms: Some(50.0),
            });
        }
        for case in &cases {
            for (n, d) in &descriptors {
                for kind in ["electrum", "esplora"] {
                    counter += 1;
                    let name = format!("w{counter}");
                    let mut w = wallets.create(Network::Regtest, &name, d, None).unwrap();
                    let backend = connect(kind, &case.esplora, &case.electrum);
                    let options = SyncOptions::default();
                    let t = Instant::now();
                    let mut network_ms = None;
                    let mut saving_ms = None;
                    let cold = sync(&mut w, backend.as_ref(), &options, &mut |p| {
                        let now = Some(t.elapsed().as_secs_f64() * 1000.0);
                        match p {
                            SyncProgress::Unblinding { .. } => network_ms = network_ms.or(now),
                            SyncProgress::Saving => saving_ms = saving_ms.or(now),
                            _ => {}
                        }
                    })
                    .unwrap();
                    let cold_ms = t.elapsed().as_secs_f64() * 1000.0;
                    let network_ms = network_ms.unwrap_or(cold_ms);
                    let saving_ms = saving_ms.unwrap_or(cold_ms);
                    let unblind_after_ms = saving_ms - network_ms;
                    let save_ms = cold_ms - saving_ms;
                    // A new process would reconnect: so does the warm sync.
                    let backend = connect(kind, &case.esplora, &case.electrum);
                    let t = Instant::now();
                    let warm = sync(&mut w, backend.as_ref(), &options, &mut |_| {}).unwrap();
                    let warm_ms = t.elapsed().as_secs_f64() * 1000.0;
                    let rounds = |ms: f64| match case.rtt_ms {
                        Some(rtt) => format!("{:.1}", ms / rtt),
                        None => "-".to_owned(),
                    };
                    let lwk = if kind == "electrum" {
                        lwk_calls(&w).to_string()
                    } else {
                        "-".to_owned()
                    };
                    println!(
                        "| {n} txs | {kind} | {} | {cold_ms:.0} | {network_ms:.0} | {unblind_after_ms:.0} | {save_ms:.0} | {} | {} | {lwk} | {} | {} | {warm_ms:.0} | {} | {} | {} |",
                        case.label,
                        cold.requests,
                        cold.calls,
                        rounds(network_ms),
                        cold.new_txs,
                        warm.requests,
                        warm.calls,
                        rounds(warm_ms),
                    );
                    synced.entry(*n).or_insert(w);
                }
            }
        }
        sb.shutdown();
    }

    // Unblinding throughput and the offline balance read, per wallet size.
    println!();
    println!(
        "| wallet | outputs | unblinded/s, 1 thread | unblinded/s, 2 threads | library rewinds/s, 1 thread | balance read median ms |"
    );
    println!("|---|---|---|---|---|---|");
    for (n, d) in &descriptors {
        let w = &synced[n];
        let txs: Vec<Transaction> = w
            .store()
            .transactions(None)
            .unwrap()
            .iter()
            .filter_map(|t| w.store().transaction(&t.txid).unwrap())
            .collect();
        let mut scripts = HashMap::new();
        for k in Keychain::ALL {
            for i in 0..100 {
                scripts.insert(d.script_pubkey(k, i).unwrap(), (k, i));
            }
        }
        let mut rates = Vec::new();
        let mut outputs = 0;
        for threads in [1, 2] {
            let t = Instant::now();
            outputs = unblind_count(d, &txs, &scripts, threads).unwrap();
            rates.push(outputs as f64 / t.elapsed().as_secs_f64());
        }
        // What sync did before it rewound without verifying proofs: the library's rewind.
        let t = Instant::now();
        let mut rewound = 0usize;
        for tx in &txs {
            for o in tx
                .output
                .iter()
                .filter(|o| scripts.contains_key(&o.script_pubkey))
            {
                let key = blinding_private_key(d, &o.script_pubkey).unwrap();
                unblind_output(o, &key).unwrap();
                rewound += 1;
            }
        }
        let library = rewound as f64 / t.elapsed().as_secs_f64();
        let path = w.dir().join(wallet_core::wallet::DB_FILE);
        let reads: Vec<f64> = (0..21)
            .map(|_| {
                let t = Instant::now();
                let store = wallet_core::store::Store::open(&path).unwrap();
                let b = store.balances().unwrap();
                assert!(!b.is_empty());
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        println!(
            "| {n} txs | {outputs} | {:.0} | {:.0} | {library:.0} | {:.2} |",
            rates[0],
            rates[1],
            median(reads)
        );
        if let Ok(bin) = std::env::var("LIQUID_OTC_BIN") {
            let runs: Vec<f64> = (0..11)
                .map(|_| {
                    let t = Instant::now();
                    let out = std::process::Command::new(&bin)
                        .args(["--network", "regtest", "--json", "--wallet"])
                        .arg(w.name())
                        .args(["balance", "--offline"])
                        .env("LIQUID_OTC_HOME", data.path())
                        .output()
                        .unwrap();
                    assert!(out.status.success());
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            println!(
                "  `balance --offline` process, {n} txs: median {:.1} ms",
                median(runs)
            );
        }
    }
}
