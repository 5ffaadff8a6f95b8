//! What a DvP deal costs: CPU time of `create`, `accept` and `settle` (the operations of
//! wallet-core, as the CLI runs them after its sync) against the proofs they must make,
//! envelope sizes at each stage, and the wall time of `demo` as a user runs it.
//!
//! Run: `cargo bench --bench dvp [-- RUNS]` (default 10 deals). CPU time is the calling
//! thread's (`/proc/thread-self/schedstat`, nanoseconds), so the in-process sandbox's own
//! validation is not counted; elsewhere than Linux it falls back to wall time. Measured,
//! never asserted.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use elements::confidential::{Asset, AssetBlindingFactor, Value, ValueBlindingFactor};
use elements::secp256k1_zkp::{Secp256k1, SecretKey};
use elements::{RangeProofMessage, Script, SurjectionInput};
use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::ops::swap::{
    commit_settle, create_offer, finish_accept, prepare_accept, prepare_settle, CreateRequest,
    SettleStart,
};
use wallet_core::ops::Mode;
use wallet_core::seed::{encrypt_seed, KdfParams, SeedSecret};
use wallet_core::store::DealRole;
use wallet_core::swap::taker::AcceptRequest;
use wallet_core::swap::{Leg, Offer};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::tx::FeeRate;
use wallet_core::unblind::{blinding_private_key, unblind_output};
use wallet_core::wallet::{Wallet, Wallets};

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// CPU time of the calling thread so far.
fn thread_cpu() -> Option<Duration> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
}

/// Runs `f`, returning its result and the CPU time it took (wall time without schedstat).
fn cpu<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let wall = Instant::now();
    let before = thread_cpu();
    let out = f();
    let took = match (before, thread_cpu()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => wall.elapsed(),
    };
    (out, took)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn wallet(wallets: &Wallets, name: &str, phrase: &str) -> (Wallet, SeedSecret) {
    let secret = SeedSecret::from_phrase(phrase, String::new()).unwrap();
    let d = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let enc = encrypt_seed(&secret, b"pass", &KdfParams::fast_for_tests()).unwrap();
    let w = wallets
        .create(Network::Regtest, name, &d, Some(&enc))
        .unwrap();
    (w, secret)
}

fn fund(sandbox: &Sandbox, w: &mut Wallet, sat: u64, asset: Option<elements::AssetId>) {
    let r = w.new_address(Keychain::External, None).unwrap();
    let address = w.address_at(Keychain::External, r.index).unwrap();
    sandbox.faucet(&address, sat, asset).unwrap();
}

fn synced(w: &mut Wallet, backend: &dyn Backend) {
    sync(w, backend, &SyncOptions::default(), &mut |_| {}).unwrap();
}

/// Wall time of `liquid-otc demo --json` in a fresh data folder, as a user runs it (the
/// seed KDF at its default cost unless `quick`).
fn demo_wall(home: &Path, quick: bool) -> Duration {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_liquid-otc"));
    cmd.args(["--json", "demo"])
        .env("LIQUID_OTC_HOME", home)
        .env_remove("LIQUID_OTC_KDF_MEMORY_KIB")
        .env_remove("LIQUID_OTC_KDF_ITERATIONS");
    if quick {
        cmd.env("LIQUID_OTC_KDF_MEMORY_KIB", "64")
            .env("LIQUID_OTC_KDF_ITERATIONS", "1");
    }
    let start = Instant::now();
    let out = cmd.output().unwrap();
    let took = start.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let policy = sandbox.policy_asset();
    let tmp = tempfile::tempdir().unwrap();
    let (mut maker, maker_seed) = wallet(&Wallets::new(tmp.path().join("a")), "a", ABANDON);
    let (mut taker, taker_seed) = wallet(&Wallets::new(tmp.path().join("b")), "b", OTHER);
    maker.set_policy_asset(policy);
    taker.set_policy_asset(policy);
    let jpy = sandbox
        .issue(u64::from(u32::MAX), Some("JPY"))
        .unwrap()
        .asset;
    let backend = BackendConfig::parse_esplora(&sandbox.esplora_url())
        .unwrap()
        .connect()
        .unwrap();

    let (mut create, mut accept, mut settle) = (Vec::new(), Vec::new(), Vec::new());
    let (mut proposed_bytes, mut accepted_bytes) = (0, 0);
    let mut last_tx = None;
    for _ in 0..runs {
        // Fresh coins for each deal (not timed): one for the maker, two for the taker.
        fund(&sandbox, &mut maker, 200_000_000, None);
        fund(&sandbox, &mut taker, 20_000_000, Some(jpy));
        fund(&sandbox, &mut taker, 100_000, None);
        sandbox.mine(1).unwrap();
        synced(&mut maker, backend.as_ref());
        synced(&mut taker, backend.as_ref());

        let (created, took) = cpu(|| {
            create_offer(
                &mut maker,
                &CreateRequest {
                    gives: Leg {
                        asset: policy,
                        amount: 150_000_000,
                    },
                    receives: Leg {
                        asset: jpy,
                        amount: 15_000_000,
                    },
                    fee_payer: DealRole::Taker,
                    fee_rate: FeeRate::MIN,
                    expires_in: 1_800,
                    counterparty: None,
                    memo: None,
                },
            )
            .unwrap()
        });
        create.push(took);
        let proposed = created.offer.to_json();
        proposed_bytes = proposed.len();

        // The chain check of the maker's coins is network, left out (backend None).
        let (accepted, took) = cpu(|| {
            let offer = Offer::parse(&proposed, Network::Regtest).unwrap();
            let prepared = prepare_accept(
                &mut taker,
                offer,
                &AcceptRequest {
                    fee_rate: FeeRate::MIN,
                },
                None,
                Mode::ForSigning,
            )
            .unwrap();
            finish_accept(&mut taker, prepared, &taker_seed, None)
                .unwrap()
                .0
                .to_json()
        });
        accept.push(took);
        accepted_bytes = accepted.len();

        let (txid, took) = cpu(|| {
            let offer = Offer::parse(&accepted, Network::Regtest).unwrap();
            let SettleStart::Fresh(prepared) = prepare_settle(&mut maker, offer).unwrap() else {
                panic!("a fresh settlement");
            };
            commit_settle(&mut maker, *prepared, &maker_seed, backend.as_ref()).unwrap()
        });
        settle.push(took);
        last_tx = sandbox.get_tx(&txid);
        sandbox.mine(1).unwrap();
    }
    let tx = last_tx.expect("a settlement");
    let blinded = tx.output.iter().filter(|o| !o.is_fee()).count();

    // The proofs alone: per blinded output a rangeproof and a surjection proof over every
    // input (the PSET also carries a small explicit-value and explicit-asset proof each).
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let domain: Vec<SurjectionInput> = (0..tx.input.len())
        .map(|_| {
            SurjectionInput::from(elements::TxOutSecrets::new(
                policy,
                AssetBlindingFactor::new(&mut rng),
                1,
                ValueBlindingFactor::new(&mut rng),
            ))
        })
        .collect();
    let receiver =
        elements::secp256k1_zkp::PublicKey::from_secret_key(&secp, &SecretKey::new(&mut rng));
    let mut proofs = Vec::new();
    for _ in 0..runs {
        let (_, took) = cpu(|| {
            for _ in 0..blinded {
                let abf = AssetBlindingFactor::new(&mut rng);
                let (_, sp) = Asset::Explicit(policy)
                    .blind(&mut rng, &secp, abf, &domain)
                    .unwrap();
                std::hint::black_box(&sp);
                let msg = RangeProofMessage::new(policy, abf);
                let rp = Value::Explicit(150_000_000)
                    .blind(
                        &secp,
                        ValueBlindingFactor::new(&mut rng),
                        receiver,
                        SecretKey::new(&mut rng),
                        &Script::new(),
                        &msg,
                    )
                    .unwrap();
                std::hint::black_box(&rp);
            }
        });
        proofs.push(took);
    }
    // What settling must do on proofs: rewind its own outputs (two here) to check them.
    let mut rewinds = Vec::new();
    let own: Vec<_> = tx
        .output
        .iter()
        .filter(|o| !o.is_fee())
        .filter(|o| {
            blinding_private_key(maker.descriptor(), &o.script_pubkey)
                .and_then(|k| unblind_output(o, &k))
                .is_ok()
        })
        .cloned()
        .collect();
    for _ in 0..runs {
        let (_, took) = cpu(|| {
            for o in &own {
                let k = blinding_private_key(maker.descriptor(), &o.script_pubkey).unwrap();
                std::hint::black_box(unblind_output(o, &k).unwrap());
            }
        });
        rewinds.push(took);
    }
    sandbox.shutdown();

    let demo_home = tempfile::tempdir().unwrap();
    let demo_runs = runs.clamp(1, 3);
    let demo: Vec<Duration> = (0..demo_runs)
        .map(|_| demo_wall(demo_home.path(), false))
        .collect();
    let demo_quick: Vec<Duration> = (0..demo_runs)
        .map(|_| demo_wall(demo_home.path(), true))
        .collect();

    let tx_bytes = elements::encode::serialize(&tx).len();
    println!(
        "deals: {runs} (1.5 L-BTC for 15,000,000 JPY units; {} inputs, {} outputs, {blinded} blinded)",
        tx.input.len(),
        tx.output.len()
    );
    println!("CPU (calling thread), median:");
    println!(
        "  offer create   {:>10}   proofs made: none",
        ms(median(create))
    );
    println!(
        "  offer accept   {:>10}   proofs made: {blinded} rangeproofs + {blinded} surjection proofs (+{} small explicit proofs)",
        ms(median(accept)),
        2 * blinded
    );
    println!(
        "  offer settle   {:>10}   proofs made: none; rewinds its {} outputs, verifies {} signature(s)",
        ms(median(settle)),
        own.len(),
        tx.input.len() - 1
    );
    println!(
        "  those {blinded} rangeproofs + {blinded} surjection proofs alone ({}-input domain): {}",
        tx.input.len(),
        ms(median(proofs))
    );
    println!(
        "  rewinding {} outputs alone: {}",
        own.len(),
        ms(median(rewinds))
    );
    println!("envelope sizes:");
    println!("  proposed       {proposed_bytes:>7} bytes");
    println!("  accepted       {accepted_bytes:>7} bytes");
    println!(
        "  settlement tx  {tx_bytes:>7} bytes, {} discounted vbytes",
        tx.discount_vsize()
    );
    println!(
        "demo wall time (median of {demo_runs}): {} with the default seed KDF (4 unlocks/encryptions), {} with a test KDF",
        ms(median(demo)),
        ms(median(demo_quick))
    );
}
