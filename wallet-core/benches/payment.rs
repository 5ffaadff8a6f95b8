//! Median time to build, blind, verify and sign a 2-input, 3-output confidential payment,
//! against the proofs it creates measured alone (rangeproofs and surjection proofs).
//!
//! Run: `cargo bench -p wallet-core --bench payment [-- RUNS]` (default 50 runs).

use std::time::{Duration, Instant};

use elements::confidential::{Asset, AssetBlindingFactor, Value, ValueBlindingFactor};
use elements::secp256k1_zkp::{Secp256k1, SecretKey};
use elements::{OutPoint, RangeProofMessage, Script, SurjectionInput};
use regtest::{Sandbox, SandboxConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::pset::{approve, script_map, view, Allowed, WalletKnowledge};
use wallet_core::seed::SeedSecret;
use wallet_core::store::OwnedCoin;
use wallet_core::tx::{
    build_payment, finalize_pset, sign_pset, FeeRate, PaymentRequest, Recipient, Spendable,
    WalletContext,
};
use wallet_core::unblind::{blinding_private_key, unblind_output};

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50);
    let sandbox = Sandbox::start(SandboxConfig::default()).expect("sandbox");
    let seed = *SeedSecret::from_phrase(ABANDON, String::new())
        .unwrap()
        .seed();
    let other = *SeedSecret::from_phrase(OTHER, String::new())
        .unwrap()
        .seed();
    let desc = WalletDescriptor::from_seed(
        &seed,
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let payee = WalletDescriptor::from_seed(
        &other,
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();

    // Two confidential coins of 0.5 L-BTC.
    let mut coins = Vec::new();
    for index in 0..2 {
        let address = desc
            .address(Keychain::External, index, Network::Regtest)
            .unwrap();
        let txid = sandbox.faucet(&address, 50_000_000, None).unwrap();
        let tx = sandbox.get_tx(&txid).unwrap();
        let vout = tx
            .output
            .iter()
            .position(|o| o.script_pubkey == address.script_pubkey())
            .unwrap();
        let txout = tx.output[vout].clone();
        let key = blinding_private_key(&desc, &txout.script_pubkey).unwrap();
        coins.push(Spendable {
            outpoint: OutPoint::new(txid, vout as u32),
            secrets: unblind_output(&txout, &key).unwrap(),
            txout,
            keychain: Keychain::External,
            index,
        });
    }
    sandbox.mine(1).unwrap();
    let ctx = WalletContext {
        descriptor: &desc,
        network: Network::Regtest,
        policy_asset: sandbox.policy_asset(),
    };
    // 0.8 L-BTC needs both coins: 2 inputs; outputs: payee, change, fee.
    let request = PaymentRequest {
        recipients: vec![Recipient {
            address: payee
                .address(Keychain::External, 0, Network::Regtest)
                .unwrap(),
            value: 80_000_000,
            asset: sandbox.policy_asset(),
        }],
        fee_rate: FeeRate::MIN,
        drain: false,
    };
    let change = desc
        .address(Keychain::Internal, 0, Network::Regtest)
        .unwrap();

    let mut full = Vec::new();
    let mut build_only = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let mut payment =
            build_payment(&ctx, &coins, &request, &mut || Ok((0, change.clone()))).unwrap();
        build_only.push(start.elapsed());
        // The wallet's view and approval are part of what signing costs.
        let owned = coins
            .iter()
            .map(|c| (c.outpoint, OwnedCoin::from(c)))
            .collect();
        let scripts = script_map(&desc, 2, 1).unwrap();
        let know = WalletKnowledge {
            descriptor: &desc,
            network: Network::Regtest,
            policy_asset: sandbox.policy_asset(),
            coins: &owned,
            scripts: &scripts,
        };
        let seen = view(&payment.pset, &know).unwrap();
        let plan = approve(&payment.pset, &seen, &know, Allowed::default()).unwrap();
        sign_pset(&mut payment.pset, &plan, &desc, &seed, Network::Regtest).unwrap();
        let tx = finalize_pset(&mut payment.pset, Network::Regtest).unwrap();
        full.push(start.elapsed());
        assert_eq!((tx.input.len(), tx.output.len()), (2, 3));
        last = Some(tx);
    }
    // The last one is real: the strict validator accepts it.
    sandbox
        .broadcast(last.unwrap())
        .expect("the sandbox accepts the payment");

    // The proofs alone: one rangeproof and one surjection proof per blinded output.
    let secp = Secp256k1::new();
    let mut rng = rand::thread_rng();
    let asset = sandbox.policy_asset();
    let inputs: Vec<SurjectionInput> = coins
        .iter()
        .map(|c| SurjectionInput::from(c.secrets.to_elements()))
        .collect();
    let receiver =
        elements::secp256k1_zkp::PublicKey::from_secret_key(&secp, &SecretKey::new(&mut rng));
    let mut rangeproofs = Vec::new();
    let mut surjections = Vec::new();
    for _ in 0..runs {
        let abf = AssetBlindingFactor::new(&mut rng);
        let start = Instant::now();
        let (_, proof) = Asset::Explicit(asset)
            .blind(&mut rng, &secp, abf, &inputs)
            .unwrap();
        surjections.push(start.elapsed());
        std::hint::black_box(&proof);
        let vbf = ValueBlindingFactor::new(&mut rng);
        let start = Instant::now();
        let msg = RangeProofMessage::new(asset, abf);
        Value::Explicit(80_000_000)
            .blind(
                &secp,
                vbf,
                receiver,
                SecretKey::new(&mut rng),
                &Script::new(),
                &msg,
            )
            .unwrap();
        rangeproofs.push(start.elapsed());
    }
    let (rp, sp) = (median(rangeproofs), median(surjections));
    println!("runs: {runs}");
    println!(
        "build + blind + verify (2 in, 3 out)     median {}",
        ms(median(build_only))
    );
    println!(
        "... + sign + finalize                    median {}",
        ms(median(full))
    );
    println!("one rangeproof alone                     median {}", ms(rp));
    println!("one surjection proof alone               median {}", ms(sp));
    println!(
        "proofs of 2 blinded outputs (2 rp + 2 sp)       {}",
        ms(2 * (rp + sp))
    );
}
