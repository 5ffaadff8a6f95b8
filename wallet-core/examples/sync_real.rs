//! Sync benchmark against real electrs (measured, never asserted), with the same figures on the
//! embedded sandbox beside it: wallets with 65 and 1,000 confidential transactions, over
//! Esplora and Electrum, cold (a new store) and warm (nothing new), with no added latency and
//! with 25 ms each way, every request going through `../shared/bench/latency-proxy.py`, whose
//! counters give requests, calls, rounds (requests sent while nothing else was in flight) and
//! the most requests in flight at once.
//!
//! Run by `benches/real_stack_sync.sh`, which starts elementsd + electrs with
//! `../shared/real-stack/start-stack.sh` and passes:
//!
//! ```sh
//! cargo run -p wallet-core --release --example sync_real -- \
//!     --cli "<elements-cli command line of the node wallet>" \
//!     --esplora http://127.0.0.1:PORT --electrum 127.0.0.1:PORT --proxy ../shared/bench/latency-proxy.py \
//!     [--sizes 65,1000] [--sandbox-only] [--concurrency N]
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
}

fn args() -> Args {
    let mut out = Args {
        cli: None,
        esplora: None,
        electrum: None,
        proxy: "../shared/bench/latency-proxy.py".to_owned(),
        sizes: vec![65, 1000],
        concurrency: None,
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

/// One measured sync: (wall ms, requests, calls, rounds, most in flight).
fn measure(
    proxy: &Proxy,
    config: &BackendConfig,
    w: &mut wallet_core::wallet::Wallet,
) -> (f64, u64, u64, u64, u64) {
    proxy.get("/reset");
    let start = Instant::now();
    let backend = config.connect().unwrap();
    sync(w, backend.as_ref(), &SyncOptions::default(), &mut |_| {}).unwrap();
    let wall = start.elapsed().as_secs_f64() * 1000.0;
    drop(backend);
    let s = proxy.get("/stats");
    let n = |k: &str| s[k].as_u64().unwrap_or(0);
    (
        wall,
        n("requests"),
        n("calls"),
        n("rounds"),
        n("max_inflight"),
    )
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
         in flight | warm ms | warm requests | warm calls | warm rounds |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
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
            for (kind, proxy) in [("esplora", &esplora_proxy), ("electrum", &electrum_proxy)] {
                let mut config = match kind {
                    "esplora" => BackendConfig::parse_esplora(&proxy.url).unwrap(),
                    _ => BackendConfig::parse_electrum(&proxy.url).unwrap(),
                }
                .with_network(Network::Regtest);
                if let Some(c) = a.concurrency {
                    config = config.with_concurrency(c);
                }
                for delay in [0u64, 25] {
                    proxy.get(&format!("/delay?ms={delay}"));
                    let tmp = tempfile::tempdir().unwrap();
                    let mut w = Wallets::new(tmp.path())
                        .create(Network::Regtest, "bench", &d, None)
                        .unwrap();
                    let cold = measure(proxy, &config, &mut w);
                    let warm = measure(proxy, &config, &mut w);
                    let row = format!(
                        "| {name} | {n} | {kind} | {delay} ms | {:.0} | {} | {} | {} | {} | {:.0} | {} | {} | {} |",
                        cold.0, cold.1, cold.2, cold.3, cold.4, warm.0, warm.1, warm.2, warm.3
                    );
                    println!("{row}");
                }
            }
        }
    }
}
