//! Shared test helpers: fixture lookup, keys, addresses, signing, HTTP and Electrum clients.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::PathBuf;

use regtest::elements::{
    self,
    confidential::{Asset, AssetBlindingFactor, Nonce, Value, ValueBlindingFactor},
    secp256k1_zkp::{All, Message, PublicKey, Secp256k1, SecretKey},
    sighash::SighashCache,
    Address, AddressParams, AssetId, EcdsaSighashType, LockTime, OutPoint, Script, Sequence,
    Transaction, TxIn, TxOut, TxOutSecrets, TxOutWitness,
};

/// The recorded electrs/elementsd fixtures, or `None` (with a printed reason) when absent.
/// With CI=true a missing folder is a failure.
pub fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/electrs-liquidregtest");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
        panic!("fixtures folder {} is missing (CI=true)", dir.display());
    }
    eprintln!("skipping: fixtures folder {} is missing", dir.display());
    None
}

/// Reads a fixture JSON file.
pub fn fixture_json(dir: &std::path::Path, rel: &str) -> serde_json::Value {
    let p = dir.join(rel);
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn secp() -> Secp256k1<All> {
    Secp256k1::new()
}

/// A deterministic key from a small seed.
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_slice(&[seed; 32]).expect("valid key")
}

/// A deterministic blinding key from a small seed.
pub fn blinding_key(seed: u8) -> SecretKey {
    SecretKey::from_slice(&[seed.wrapping_add(100); 32]).expect("valid key")
}

pub fn pubkey(sk: &SecretKey) -> PublicKey {
    PublicKey::from_secret_key(&secp(), sk)
}

/// P2WPKH address of `seed`, confidential when `blinded`.
pub fn p2wpkh(seed: u8, blinded: bool) -> Address {
    let pk = elements::bitcoin::PublicKey::new(pubkey(&key(seed)));
    let blinder = blinded.then(|| pubkey(&blinding_key(seed)));
    Address::p2wpkh(&pk, blinder, &AddressParams::ELEMENTS)
}

/// Esplora scripthash of an address.
pub fn esplora_sh(a: &Address) -> String {
    use regtest::elements::hashes::sha256;
    regtest::hexutil::encode(sha256::Hash::hash(a.script_pubkey().as_bytes()).as_byte_array())
}

/// Electrum scripthash of an address.
pub fn electrum_sh(a: &Address) -> String {
    use regtest::elements::hashes::sha256;
    let mut b = sha256::Hash::hash(a.script_pubkey().as_bytes()).to_byte_array();
    b.reverse();
    regtest::hexutil::encode(&b)
}

pub fn txin(op: OutPoint) -> TxIn {
    TxIn {
        previous_output: op,
        is_pegin: false,
        script_sig: Script::new(),
        sequence: Sequence::MAX,
        asset_issuance: Default::default(),
        witness: Default::default(),
    }
}

pub fn explicit_out(asset: AssetId, value: u64, spk: Script) -> TxOut {
    TxOut {
        asset: Asset::Explicit(asset),
        value: Value::Explicit(value),
        nonce: Nonce::Null,
        script_pubkey: spk,
        witness: TxOutWitness::default(),
    }
}

pub fn new_tx(inputs: Vec<OutPoint>, outputs: Vec<TxOut>) -> Transaction {
    Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: inputs.into_iter().map(txin).collect(),
        output: outputs,
    }
}

/// Signs input `i` as P2WPKH with key `seed`, spending an output of value `value`.
pub fn sign_p2wpkh(tx: &mut Transaction, i: usize, seed: u8, value: Value) {
    let secp = secp();
    let sk = key(seed);
    let pk = pubkey(&sk);
    let addr = p2wpkh(seed, false);
    let wpkh = &addr.script_pubkey().as_bytes()[2..22].to_vec();
    let mut code = vec![0x76, 0xa9, 0x14];
    code.extend_from_slice(wpkh);
    code.extend_from_slice(&[0x88, 0xac]);
    let sighash = SighashCache::new(&*tx).segwitv0_sighash(
        i,
        &Script::from(code),
        value,
        EcdsaSighashType::All,
    );
    let sig = secp.sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &sk);
    let mut s = sig.serialize_der().to_vec();
    s.push(EcdsaSighashType::All as u8);
    tx.input[i].witness.script_witness =
        elements::Witness::from_slice(&[s, pk.serialize().to_vec()]);
}

/// Unblinds an output sent to `p2wpkh(seed, true)`.
pub fn unblind(out: &TxOut, seed: u8) -> TxOutSecrets {
    out.unblind(&secp(), blinding_key(seed)).expect("unblind")
}

/// Secrets of an explicit output.
pub fn explicit_secrets(asset: AssetId, value: u64) -> TxOutSecrets {
    TxOutSecrets::new(
        asset,
        AssetBlindingFactor::zero(),
        value,
        ValueBlindingFactor::zero(),
    )
}

/// GET `path` from the sandbox: (status, body).
pub fn get(base: &str, path: &str) -> (u16, String) {
    regtest::control::request(base, "GET", path, None).expect("http")
}

/// POST `body` to `path`.
pub fn post(base: &str, path: &str, body: &str) -> (u16, String) {
    regtest::control::request(base, "POST", path, Some(body)).expect("http")
}

pub fn get_json(base: &str, path: &str) -> serde_json::Value {
    let (st, body) = get(base, path);
    assert_eq!(st, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

pub fn tx_hex(tx: &Transaction) -> String {
    regtest::hexutil::encode(&elements::encode::serialize(tx))
}

/// A line-based Electrum client.
pub struct Electrum {
    pub reader: BufReader<TcpStream>,
    pub writer: TcpStream,
}

impl Electrum {
    pub fn connect(addr: std::net::SocketAddr) -> Electrum {
        let s = TcpStream::connect(addr).expect("connect");
        s.set_nodelay(true).expect("nodelay");
        s.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .expect("timeout");
        Electrum {
            reader: BufReader::new(s.try_clone().expect("clone")),
            writer: s,
        }
    }
    pub fn send_line(&mut self, line: &str) {
        let mut buf = line.as_bytes().to_vec();
        buf.push(b'\n');
        self.writer.write_all(&buf).expect("write");
    }
    /// Next line, or `None` when the server closed the connection.
    pub fn read_line(&mut self) -> Option<String> {
        let mut s = String::new();
        match self.reader.read_line(&mut s) {
            Ok(0) => None,
            Ok(_) => Some(s.trim_end().to_string()),
            Err(e) => panic!("read: {e}"),
        }
    }
    pub fn call(&mut self, method: &str, params: serde_json::Value) -> serde_json::Value {
        let req =
            serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        self.send_line(&req.to_string());
        let line = self.read_line().expect("reply");
        serde_json::from_str(&line).expect("json reply")
    }
}
