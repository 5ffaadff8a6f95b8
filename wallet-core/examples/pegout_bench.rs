//! Peg-out desk benchmark (measured, never asserted), on the embedded sandbox (relaying
//! several data outputs per transaction, as Liquid does):
//!
//! - a run paying 1, 10 and 100 approved requests: the time to prepare it (read the queue
//!   under the lock, select, build with fee passes, blind the change, verify, check every
//!   peg-out), to commit it (sign, finalize, record with the requests marked signed in one
//!   SQLite transaction, broadcast to the sandbox over Esplora, mark them broadcast), and the
//!   transaction's size, weight, discounted vsize and fee at 0.1 sat/vB;
//! - an import of 10,000 CSV rows (parse, validate every address and amount, check the
//!   references against the queue, one SQLite transaction with one event per request):
//!   requests per second.
//!
//! Each size runs `RUNS` times (default 3, each in a fresh wallet); the median is printed.
//!
//! ```sh
//! cargo run -p wallet-core --release --example pegout_bench            # 3 runs each
//! cargo run -p wallet-core --release --example pegout_bench -- 5       # 5 runs each
//! ```

use std::time::{Duration, Instant};

use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::ops::pegout::{prepare_run, RunOptions};
use wallet_core::ops::Mode;
use wallet_core::pegout::queue;
use wallet_core::pegout::PegoutLimits;
use wallet_core::pegout::RequestInput;
use wallet_core::seed::{encrypt_seed, KdfParams, SeedSecret};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::tx::FeeRate;
use wallet_core::wallet::{Wallet, Wallets};

const PASS: &[u8] = b"bench";
const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
/// Bitcoin regtest addresses of four kinds, paid in turn.
const BTC: [&str; 3] = [
    "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
    "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
    "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc",
];

fn wallet(dir: &std::path::Path) -> Wallet {
    let secret = SeedSecret::from_phrase(ABANDON, String::new()).unwrap();
    let descriptor = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let seed = encrypt_seed(&secret, PASS, &KdfParams::fast_for_tests()).unwrap();
    Wallets::new(dir)
        .create(Network::Regtest, "desk", &descriptor, Some(&seed))
        .unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

struct RunSample {
    prepare: Duration,
    commit: Duration,
    size: usize,
    weight: usize,
    discount_vsize: usize,
    fee: u64,
    inputs: usize,
}

/// One run paying `n` requests, in a fresh wallet funded with 10 coins of 1 L-BTC.
fn run_once(sandbox: &Sandbox, n: usize) -> RunSample {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wallet(dir.path());
    for _ in 0..10 {
        let a = w.new_address(Keychain::External, None).unwrap();
        let a: elements::Address = a.address.parse().unwrap();
        sandbox.faucet(&a, 100_000_000, None).unwrap();
    }
    sandbox.mine(1).unwrap();
    let backend: Box<dyn Backend> = BackendConfig::parse_esplora(&sandbox.esplora_url())
        .unwrap()
        .connect()
        .unwrap();
    sync(
        &mut w,
        backend.as_ref(),
        &SyncOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    let mut refs = Vec::new();
    for i in 0..n {
        let reference = format!("B-{i}");
        queue::add(
            &mut w,
            &RequestInput {
                reference: reference.clone(),
                btc_address: BTC[i % BTC.len()].to_owned(),
                amount: format!("0.00{:06}", 100_000 + i),
                customer: None,
                note: None,
            },
            "bench",
        )
        .unwrap();
        refs.push(reference);
    }
    queue::approve(&mut w, &refs, "bench").unwrap();
    let seed = w.unlock_seed(PASS).unwrap();
    let options = RunOptions {
        max: None,
        fee_rate: FeeRate::MIN,
        limits: PegoutLimits::for_network(Network::Regtest, true),
        actor: "bench".to_owned(),
    };
    let started = Instant::now();
    let run = prepare_run(&mut w, &options, Mode::ForSigning).unwrap();
    let prepare = started.elapsed();
    assert_eq!(run.paid.len(), n);
    let fee = run.prepared.as_ref().unwrap().fee();
    let started = Instant::now();
    let done = run.commit(&mut w, &seed, backend.as_ref()).unwrap();
    let commit = started.elapsed();
    let tx = sandbox.get_tx(&done.txid).unwrap();
    sandbox.mine(1).unwrap();
    RunSample {
        prepare,
        commit,
        size: elements::encode::serialize(&tx).len(),
        weight: tx.weight(),
        discount_vsize: tx.discount_vsize(),
        fee,
        inputs: tx.input.len(),
    }
}

fn import_once(rows: usize) -> Duration {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wallet(dir.path());
    let mut csv = String::from("ref,btc_address,amount,customer,note\n");
    for i in 0..rows {
        csv.push_str(&format!(
            "IMP-{i:06},{},0.{:08},customer {i},\"note, {i}\"\n",
            BTC[i % BTC.len()],
            100_000 + i
        ));
    }
    let started = Instant::now();
    let queued = queue::import(&mut w, &csv, "bench.csv", "bench").unwrap();
    let took = started.elapsed();
    assert_eq!(queued.len(), rows);
    took
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("RUNS is a number"))
        .unwrap_or(3)
        .max(1);
    let sandbox = Sandbox::start(SandboxConfig {
        multi_data_permitted: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    println!(
        "pegout run (median of {runs}; fee rate 0.1 sat/vB; sandbox over Esplora on loopback)"
    );
    println!(
        "{:>9}  {:>11}  {:>11}  {:>8}  {:>8}  {:>9}  {:>7}  {:>6}",
        "requests", "prepare ms", "commit ms", "bytes", "weight", "disc. vB", "fee sat", "inputs"
    );
    for n in [1usize, 10, 100] {
        let samples: Vec<RunSample> = (0..runs).map(|_| run_once(&sandbox, n)).collect();
        let last = samples.last().unwrap();
        let (size, weight, dvs, fee, inputs) = (
            last.size,
            last.weight,
            last.discount_vsize,
            last.fee,
            last.inputs,
        );
        let prepare = median(samples.iter().map(|s| s.prepare).collect());
        let commit = median(samples.iter().map(|s| s.commit).collect());
        println!(
            "{n:>9}  {:>11.1}  {:>11.1}  {size:>8}  {weight:>8}  {dvs:>9}  {fee:>7}  {inputs:>6}",
            prepare.as_secs_f64() * 1e3,
            commit.as_secs_f64() * 1e3,
        );
    }
    let rows = 10_000;
    let took = median((0..runs).map(|_| import_once(rows)).collect());
    println!(
        "import of {rows} CSV rows: {:.0} ms, {:.0} requests/s (median of {runs})",
        took.as_secs_f64() * 1e3,
        rows as f64 / took.as_secs_f64()
    );
    sandbox.shutdown();
}
