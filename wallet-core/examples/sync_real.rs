//! Sync benchmark against real electrs (measured, never asserted), with the same figures on the
//! embedded sandbox beside it: wallets with 65 and 1,000 confidential transactions, over
//! Esplora and Electrum, cold (a new store) and warm (nothing new), with no added latency and
//! with 25 ms each way, every request going through `../shared/bench/latency-proxy.py`, whose
//! counters give requests, calls, rounds (requests sent while nothing else was in flight) and
//! the most requests in flight at once. Rows with delay "direct" talk to the server without the
//! proxy (its Python process costs CPU on the same cores): requests and calls are then the
//! client's own counts (Electrum: round trips and calls), rounds and in flight are not known.
//! Each figure is the median of `--runs` syncs (default 1), each cold one on a new store. The
//! last column is the CPU time that other processes used on the machine while the row was
//! measured (all CPU time in `/proc/stat` minus that of this process, electrs, elementsd and
//! the proxies), so that a figure taken while another build ran can be told apart. With
//! `SYNC_REAL_EVENTS=DIR`, the proxy's timeline of each proxied cold sync (one record per
//! request: start and end in ms, route) is written to `DIR/<chain>-<txs>-<backend>-<delay>.json`.
//!
//! Run by `benches/real_stack_sync.sh`, which starts elementsd + electrs with
//! `../shared/real-stack/start-stack.sh` and passes:
//!
//! ```sh
//! cargo run -p wallet-core --release --example sync_real -- \
//!     --cli "<elements-cli command line of the node wallet>" \
//!     --esplora http://127.0.0.1:PORT --electrum 127.0.0.1:PORT --proxy ../shared/bench/latency-proxy.py \
//!     [--sizes 65,1000] [--sandbox-only] [--concurrency N] [--runs N]
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use regtest::{Sandbox, SandboxConfig};
use serde_json::Value;
use wallet_core::chain::BackendConfig;
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::{SeedSecret, WordCount};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::wallet::Wallets;

/// Receive addresses per 100 transactions (as `sync_bench`).
const ADDRESSES_PER_100: u32 = 5;

struct Args {
    cli: Option<Vec<String>>,
    esplora: Option<String>,
    electrum: Option<String>,
    proxy: String,
    sizes: Vec<u32>,
    concurrency: Option<usize>,
    runs: usize,
}

fn args() -> Args {
    let mut out = Args {
        cli: None,
        esplora: None,
        electrum: None,
        proxy: "../shared/bench/latency-proxy.py".to_owned(),
        sizes: vec![65, 1000],
        concurrency: None,
        runs: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--cli" => out.cli = Some(value().split_whitespace().map(str::to_owned).collect()),
            "--esplora" => out.esplora = Some(value()),
            "--electrum" => out.electrum = Some(value()),
            "--proxy" => out.proxy = value(),
            "--sizes" => {
                out.sizes = value()
                    .split(',')
                    .map(|s| s.trim().parse().expect("a size"))
                    .collect()
            }
            "--concurrency" => out.concurrency = Some(value().parse().expect("a number")),
            "--runs" => out.runs = value().parse::<usize>().expect("a number").max(1),
            "--sandbox-only" => out.cli = None,
            other => panic!("unknown argument {other}"),
        }
    }
    out
}

/// A chain to fund wallets on: the sandbox in process, or elementsd through elements-cli.
enum Chain<'a> {
    Sandbox(&'a Sandbox),
    Node { cli: &'a [String], esplora: String },
}

impl Chain<'_> {
    fn pay(&self, address: &elements::Address, sat: u64) {
        match self {
            Chain::Sandbox(sb) => {
                sb.faucet(address, sat, None).unwrap();
            }
            Chain::Node { cli, .. } => {
                let amount = format!("{}.{:08}", sat / 100_000_000, sat % 100_000_000);
                run(cli, &["sendtoaddress", &address.to_string(), &amount]);
            }
        }
    }

    fn mine(&self) {
        match self {
            Chain::Sandbox(sb) => {
                sb.mine(1).unwrap();
            }
            Chain::Node { cli, esplora } => {
                let to = run(cli, &["getnewaddress"]);
                run(cli, &["generatetoaddress", "1", to.trim()]);
                let height: u64 = run(cli, &["getblockcount"]).trim().parse().unwrap();
                wait_for_index(esplora, height);
            }
        }
    }
}

fn run(cli: &[String], args: &[&str]) -> String {
    let out = Command::new(&cli[0])
        .args(&cli[1..])
        .args(args)
        .output()
        .expect("elements-cli runs");
    assert!(
        out.status.success(),
        "elements-cli {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Polls electrs until it shows `height` and an empty mempool (never a fixed sleep).
fn wait_for_index(esplora: &str, height: u64) {
    let start = Instant::now();
    loop {
        let tip = ureq::get(&format!("{esplora}/blocks/tip/height"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok());
        let mempool = ureq::get(&format!("{esplora}/mempool/txids"))
            .call()
            .ok()
            .and_then(|mut r| r.body_mut().read_to_string().ok());
        if tip.as_deref().map(str::trim) == Some(&height.to_string())
            && mempool.as_deref().map(str::trim) == Some("[]")
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "electrs did not index"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn fund(chain: &Chain, d: &WalletDescriptor, n: u32) {
    let addresses = (n * ADDRESSES_PER_100).div_ceil(100).max(1);
    for i in 0..n {
        let a = d
            .address(Keychain::External, i % addresses, Network::Regtest)
            .unwrap();
        chain.pay(&a, 10_000 + u64::from(i));
        if i % 25 == 24 {
            chain.mine();
        }
    }
    chain.mine();
}

/// One latency proxy process and its control URL.
struct Proxy {
    child: Child,
    url: String,
    control: String,
}

impl Proxy {
    fn start(script: &str, mode: &str, upstream: &str) -> Proxy {
        let mut child = Command::new("python3")
            .args([script, mode, "--upstream", upstream, "--delay-ms", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 runs the latency proxy");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let v: Value = serde_json::from_str(&line).expect("the proxy's first line");
        Proxy {
            child,
            url: v["url"].as_str().unwrap().to_owned(),
            control: v["control"]
                .as_str()
                .unwrap()
                .trim_end_matches('/')
                .to_owned(),
        }
    }

    fn get(&self, path: &str) -> Value {
        let text = ureq::get(&format!("{}{path}", self.control))
            .call()
            .unwrap()
            .body_mut()
            .read_to_string()
            .unwrap();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

/// One measured sync: wall ms, then requests, calls, rounds and most in flight (from the
/// proxy's counters, or from the client's own counts without a proxy).
fn measure(
    proxy: Option<&Proxy>,
    config: &BackendConfig,
    w: &mut wallet_core::wallet::Wallet,
    events: Option<&str>,
) -> (f64, [String; 4]) {
    if let Some(p) = proxy {
        p.get("/reset");
    }
    let start = Instant::now();
    let backend = config.connect().unwrap();
    let report = sync(w, backend.as_ref(), &SyncOptions::default(), &mut |_| {}).unwrap();
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    drop(backend);
    let counts = match proxy {
        Some(p) => {
            if let (Ok(dir), Some(label)) = (std::env::var("SYNC_REAL_EVENTS"), events) {
                let events = p.get("/events");
                std::fs::write(format!("{dir}/{label}.json"), events.to_string()).unwrap();
            }
            let s = p.get("/stats");
            let n = |k: &str| s[k].as_u64().unwrap_or(0).to_string();
            [n("requests"), n("calls"), n("rounds"), n("max_inflight")]
        }
        None => [
            report.requests.to_string(),
            report.calls.to_string(),
            "-".to_owned(),
            "-".to_owned(),
        ],
    };
    (wall, counts)
}

/// The median of `runs` cold syncs (each on a new store) and of the warm sync after each.
fn measure_runs(
    runs: usize,
    proxy: Option<&Proxy>,
    config: &BackendConfig,
    d: &WalletDescriptor,
    label: &str,
) -> ((f64, [String; 4]), (f64, [String; 4])) {
    let mut colds = Vec::new();
    let mut warms = Vec::new();
    for _ in 0..runs {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = Wallets::new(tmp.path())
            .create(Network::Regtest, "bench", d, None)
            .unwrap();
        colds.push(measure(proxy, config, &mut w, Some(label)));
        warms.push(measure(proxy, config, &mut w, None));
    }
    let median = |mut v: Vec<(f64, [String; 4])>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v.swap_remove(v.len() / 2)
    };
    (median(colds), median(warms))
}

/// Clock ticks of CPU time used so far: (by the whole machine, by this benchmark's processes).
fn cpu_ticks() -> (u64, u64) {
    let total = std::fs::read_to_string("/proc/stat")
        .ok()
        .and_then(|s| {
            let line = s.lines().next()?.to_owned();
            let f: Vec<u64> = line
                .split_whitespace()
                .skip(1)
                .filter_map(|x| x.parse().ok())
                .collect();
            // user nice system idle iowait irq softirq steal: all but idle and iowait.
            Some(f.iter().take(8).sum::<u64>() - f.get(3)? - f.get(4)?)
        })
        .unwrap_or(0);
    let mut ours = 0;
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let comm = &stat[open + 1..close];
        if !matches!(comm, "sync_real" | "electrs" | "elementsd" | "python3") {
            continue;
        }
        // Fields after the command: state is field 3, utime 14 and stime 15.
        let f: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let tick = |i: usize| {
            f.get(i - 3)
                .and_then(|x| x.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ours += tick(14) + tick(15);
    }
    (total, ours)
}

/// CPU seconds used by other processes since `before` (a [`cpu_ticks`] reading).
fn others_cpu_since(before: (u64, u64)) -> f64 {
    let now = cpu_ticks();
    let others = (now.0.saturating_sub(before.0)).saturating_sub(now.1.saturating_sub(before.1));
    // Linux counts /proc times in USER_HZ, 100 per second.
    others as f64 / 100.0
}

fn main() {
    let a = args();
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let mut chains: Vec<(String, Chain, String, String)> = vec![(
        "sandbox".to_owned(),
        Chain::Sandbox(&sandbox),
        sandbox.esplora_url(),
        sandbox.electrum_addr().to_string(),
    )];
    if let (Some(cli), Some(esplora), Some(electrum)) = (&a.cli, &a.esplora, &a.electrum) {
        chains.push((
            "electrs".to_owned(),
            Chain::Node {
                cli,
                esplora: esplora.clone(),
            },
            esplora.clone(),
            electrum.clone(),
        ));
    }
    println!(
        "| chain | txs | backend | delay | cold ms | cold requests | cold calls | cold rounds | \
         in flight | warm ms | warm requests | warm calls | warm rounds | others' CPU s |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (name, chain, esplora, electrum) in &chains {
        let esplora_proxy = Proxy::start(&a.proxy, "http", esplora);
        let electrum_proxy = Proxy::start(&a.proxy, "electrum", electrum);
        for &n in &a.sizes {
            let d = descriptor();
            let funded = Instant::now();
            fund(chain, &d, n);
            eprintln!(
                "{name}: {n} transactions paid in {:.1} s",
                funded.elapsed().as_secs_f64()
            );
            for (kind, proxy, direct) in [
                ("esplora", &esplora_proxy, esplora),
                ("electrum", &electrum_proxy, electrum),
            ] {
                for delay in [None, Some(0u64), Some(25)] {
                    let url = match delay {
                        None => direct,
                        Some(ms) => {
                            proxy.get(&format!("/delay?ms={ms}"));
                            &proxy.url
                        }
                    };
                    let mut config = match kind {
                        "esplora" => BackendConfig::parse_esplora(url).unwrap(),
                        _ => BackendConfig::parse_electrum(url).unwrap(),
                    }
                    .with_network(Network::Regtest);
                    if let Some(c) = a.concurrency {
                        config = config.with_concurrency(c);
                    }
                    let proxy = delay.map(|_| proxy);
                    let delay = delay.map_or("direct".to_owned(), |ms| format!("{ms} ms"));
                    let label = format!("{name}-{n}-{kind}-{}", delay.replace(' ', ""));
                    let cpu = cpu_ticks();
                    let (cold, warm) = measure_runs(a.runs, proxy, &config, &d, &label);
                    let others = others_cpu_since(cpu);
                    let [cr, cc, cn, cf] = &cold.1;
                    let [wr, wc, wn, _] = &warm.1;
                    println!(
                        "| {name} | {n} | {kind} | {delay} | {:.0} | {cr} | {cc} | {cn} | {cf} | {:.0} | {wr} | {wc} | {wn} | {others:.1} |",
                        cold.0,
                        warm.0,
                    );
                }
            }
        }
    }
}
