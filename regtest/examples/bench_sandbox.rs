//! Benchmark: broadcast and mine 1,000 confidential transactions, then measure history
//! look-ups over Esplora and Electrum. Measured only, never asserted.
//!
//! Run: `cargo run -p regtest --release --example bench_sandbox [-- N]`

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Instant;

use elements::confidential::Value;
use elements::hashes::sha256;
use elements::secp256k1_zkp::{Message, PublicKey, Secp256k1, SecretKey};
use elements::sighash::SighashCache;
use elements::{
    Address, AddressParams, EcdsaSighashType, LockTime, OutPoint, Script, Sequence, Transaction,
    TxIn, TxOut, TxOutSecrets,
};
use rand::SeedableRng;
use regtest::{elements, hexutil, Sandbox, SandboxConfig};

fn key(i: u32, tag: &str) -> SecretKey {
    let h = sha256::Hash::hash(format!("{tag}{i}").as_bytes());
    SecretKey::from_slice(h.as_byte_array()).expect("key")
}

fn address(secp: &Secp256k1<elements::secp256k1_zkp::All>, i: u32) -> Address {
    let pk = elements::bitcoin::PublicKey::new(PublicKey::from_secret_key(secp, &key(i, "spend")));
    let blinder = PublicKey::from_secret_key(secp, &key(i, "blind"));
    Address::p2wpkh(&pk, Some(blinder), &AddressParams::ELEMENTS)
}

fn main() {
    let n: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let secp = Secp256k1::new();
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        ..Default::default()
    })
    .expect("start");
    let url = sb.esplora_url();
    let policy = sb.policy_asset();
    sb.mine(1).expect("mine");

    // Fund n confidential addresses from the faucet (each a validated confidential tx).
    let addrs: Vec<Address> = (0..n).map(|i| address(&secp, i)).collect();
    let t = Instant::now();
    let mut funding = Vec::with_capacity(n as usize);
    for a in &addrs {
        funding.push(sb.faucet(a, 1_000_000, None).expect("faucet"));
    }
    let faucet_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    sb.mine(1).expect("mine");
    let mine_funding_secs = t.elapsed().as_secs_f64();

    // Build n confidential spends (not measured): each spends its coin to the next address.
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut txs = Vec::with_capacity(n as usize);
    for (i, a) in addrs.iter().enumerate() {
        let ftx = sb.get_tx(&funding[i]).expect("funding tx");
        let vout = ftx
            .output
            .iter()
            .position(|o| o.script_pubkey == a.script_pubkey())
            .expect("vout");
        let prev = &ftx.output[vout];
        let secrets = prev
            .unblind(&secp, key(i as u32, "blind"))
            .expect("unblind");
        let dest = &addrs[(i + 1) % addrs.len()];
        let fee = 500;
        let (o1, abf, vbf, _) =
            TxOut::new_not_last_confidential(&mut rng, &secp, 400_000, dest, policy, &[secrets])
                .expect("blind");
        let s1 = TxOutSecrets::new(policy, abf, 400_000, vbf);
        let (o2, _, _, _) = TxOut::new_last_confidential(
            &mut rng,
            &secp,
            secrets.value - 400_000 - fee,
            policy,
            a.script_pubkey(),
            a.blinding_pubkey.expect("blinder"),
            &[secrets],
            &[&s1],
        )
        .expect("blind last");
        let mut tx = Transaction {
            version: 2,
            lock_time: LockTime::ZERO,
            input: vec![TxIn {
                previous_output: OutPoint::new(funding[i], vout as u32),
                is_pegin: false,
                script_sig: Script::new(),
                sequence: Sequence::MAX,
                asset_issuance: Default::default(),
                witness: Default::default(),
            }],
            output: vec![o1, o2, TxOut::new_fee(fee, policy)],
        };
        let sk = key(i as u32, "spend");
        let pk = PublicKey::from_secret_key(&secp, &sk);
        let mut code = vec![0x76, 0xa9, 0x14];
        code.extend_from_slice(&a.script_pubkey().as_bytes()[2..22]);
        code.extend_from_slice(&[0x88, 0xac]);
        let sighash = SighashCache::new(&tx).segwitv0_sighash(
            0,
            &Script::from(code),
            prev.value,
            EcdsaSighashType::All,
        );
        let sig = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &sk);
        let mut s = sig.serialize_der().to_vec();
        s.push(EcdsaSighashType::All as u8);
        tx.input[0].witness.script_witness =
            elements::Witness::from_slice(&[s, pk.serialize().to_vec()]);
        let _ = Value::Null;
        txs.push(hexutil::encode(&elements::encode::serialize(&tx)));
    }

    // Broadcast over HTTP (POST /tx), each fully validated: the first half from one client,
    // the second half from one client per core in parallel.
    let half = txs.len() / 2;
    let t = Instant::now();
    for hex in &txs[..half] {
        let (st, body) = regtest::control::request(&url, "POST", "/tx", Some(hex)).expect("post");
        assert_eq!(st, 200, "{body}");
    }
    let post_secs = t.elapsed().as_secs_f64();
    let clients = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2);
    let rest: Vec<String> = txs[half..].to_vec();
    let t = Instant::now();
    let chunk = rest.len().div_ceil(clients).max(1);
    let handles: Vec<_> = rest
        .chunks(chunk)
        .map(|c| {
            let (c, url) = (c.to_vec(), url.clone());
            std::thread::spawn(move || {
                for hex in &c {
                    let (st, body) =
                        regtest::control::request(&url, "POST", "/tx", Some(hex)).expect("post");
                    assert_eq!(st, 200, "{body}");
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("client");
    }
    let post_par_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    sb.mine(1).expect("mine");
    let mine_secs = t.elapsed().as_secs_f64();

    // History look-ups.
    let lookups = n.min(1000);
    let t = Instant::now();
    for a in addrs.iter().take(lookups as usize) {
        let sh = hexutil::encode(sha256::Hash::hash(a.script_pubkey().as_bytes()).as_byte_array());
        let (st, _) =
            regtest::control::request(&url, "GET", &format!("/scripthash/{sh}/txs"), None)
                .expect("get");
        assert_eq!(st, 200);
    }
    let esplora_secs = t.elapsed().as_secs_f64();
    let stream = TcpStream::connect(sb.electrum_addr()).expect("electrum");
    stream.set_nodelay(true).expect("nodelay");
    let mut w = stream.try_clone().expect("clone");
    let mut r = BufReader::new(stream);
    let t = Instant::now();
    for (i, a) in addrs.iter().take(lookups as usize).enumerate() {
        let mut h = sha256::Hash::hash(a.script_pubkey().as_bytes()).to_byte_array();
        h.reverse();
        let line = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{i},\"method\":\"blockchain.scripthash.get_history\",\"params\":[\"{}\"]}}\n",
            hexutil::encode(&h)
        );
        w.write_all(line.as_bytes()).expect("write");
        let mut resp = String::new();
        r.read_line(&mut resp).expect("read");
    }
    let electrum_secs = t.elapsed().as_secs_f64();

    println!("bench_sandbox: {n} confidential transactions");
    println!(
        "  faucet (build+blind+validate, in process): {:>8.1} tx/s",
        f64::from(n) / faucet_secs
    );
    println!(
        "  mine block with {n} faucet txs:            {:>8.3} s",
        mine_funding_secs
    );
    println!(
        "  POST /tx accepted, 1 client:               {:>8.1} tx/s",
        half as f64 / post_secs
    );
    println!(
        "  POST /tx accepted, {clients} clients in parallel:  {:>8.1} tx/s",
        (txs.len() - half) as f64 / post_par_secs
    );
    println!(
        "  mine block with {n} spends:                {:>8.3} s",
        mine_secs
    );
    println!(
        "  Esplora GET /scripthash/:h/txs:            {:>8.1} req/s",
        f64::from(lookups) / esplora_secs
    );
    println!(
        "  Electrum get_history (sequential):         {:>8.1} req/s",
        f64::from(lookups) / electrum_secs
    );
    sb.shutdown();
}
