//! Transactions written by hand for the differential tests: explicit coins at P2WSH(OP_TRUE)
//! (spent by a witness holding the script) and at the P2WPKH of fixed test keys, confidential
//! outputs blinded with seeded generators, and the chain operations around them.

use elements::script::Builder;
use elements::secp256k1_zkp::{self, PublicKey, Secp256k1, SecretKey};
use elements::sighash::SighashCache;
use elements::{
    confidential, opcodes, Address, AddressParams, AssetId, EcdsaSighashType, LockTime, OutPoint,
    Script, Sequence, Transaction, TxIn, TxOut, TxOutSecrets, Txid,
};
use rand::SeedableRng;

use super::real_stack::TestChain;

/// Value of each funding coin.
pub const COIN_VALUE: u64 = 1_000_000;
/// A generous fee for the valid cases.
pub const FEE: u64 = 2_000;

/// A secp256k1 context for signing and blinding.
pub fn secp() -> Secp256k1<secp256k1_zkp::All> {
    Secp256k1::new()
}

/// The witness script `OP_TRUE`.
pub fn op_true() -> Script {
    Script::from(vec![0x51])
}

/// The unconfidential P2WSH(OP_TRUE) address: its coins are explicit and need no signature.
pub fn op_true_address() -> Address {
    Address::p2wsh(&op_true(), None, &AddressParams::ELEMENTS)
}

/// Test key `seed` (32 bytes of `seed`).
pub fn key(seed: u8) -> SecretKey {
    SecretKey::from_slice(&[seed; 32]).unwrap()
}

/// The public key of test key `seed`.
pub fn pubkey(seed: u8) -> PublicKey {
    PublicKey::from_secret_key(&secp(), &key(seed))
}

/// The P2WPKH address of test key `seed`; confidential with blinding key `seed + 100`.
pub fn p2wpkh(seed: u8, blinded: bool) -> Address {
    let pk = elements::bitcoin::PublicKey::new(pubkey(seed));
    let blinder = blinded.then(|| pubkey(seed.wrapping_add(100)));
    Address::p2wpkh(&pk, blinder, &AddressParams::ELEMENTS)
}

/// An explicit output.
pub fn explicit(asset: AssetId, value: u64, script: Script) -> TxOut {
    TxOut {
        asset: confidential::Asset::Explicit(asset),
        value: confidential::Value::Explicit(value),
        nonce: confidential::Nonce::Null,
        script_pubkey: script,
        witness: Default::default(),
    }
}

/// An input spending `outpoint`, final sequence, no issuance.
pub fn input(outpoint: OutPoint) -> TxIn {
    TxIn {
        previous_output: outpoint,
        is_pegin: false,
        script_sig: Script::new(),
        sequence: Sequence::MAX,
        asset_issuance: Default::default(),
        witness: Default::default(),
    }
}

/// A transaction spending P2WSH(OP_TRUE) coins.
pub fn spend_op_true(coins: &[OutPoint], outputs: Vec<TxOut>) -> Transaction {
    let mut tx = Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: coins.iter().copied().map(input).collect(),
        output: outputs,
    };
    for i in &mut tx.input {
        i.witness.script_witness = vec![op_true().to_bytes()].into();
    }
    tx
}

/// Signs input `i` (P2WPKH of key `seed`, explicit `value`) with SIGHASH_ALL.
pub fn sign_p2wpkh(tx: &mut Transaction, i: usize, seed: u8, value: u64) {
    let secp = secp();
    let program = p2wpkh(seed, false).script_pubkey();
    let mut code = vec![0x76, 0xa9, 0x14];
    code.extend_from_slice(&program.as_bytes()[2..22]);
    code.extend_from_slice(&[0x88, 0xac]);
    let sighash = SighashCache::new(&*tx).segwitv0_sighash(
        i,
        &Script::from(code),
        confidential::Value::Explicit(value),
        EcdsaSighashType::All,
    );
    let message = secp256k1_zkp::Message::from_digest(sighash.to_byte_array());
    let mut sig = secp
        .sign_ecdsa(&message, &key(seed))
        .serialize_der()
        .to_vec();
    sig.push(EcdsaSighashType::All as u8);
    tx.input[i].witness.script_witness = vec![sig, pubkey(seed).serialize().to_vec()].into();
}

/// A peg-out output: `OP_RETURN <parent genesis> <parent script>`, explicit L-BTC.
pub fn pegout(policy: AssetId, value: u64, genesis: elements::bitcoin::BlockHash) -> TxOut {
    let parent_script = p2wpkh(9, false).script_pubkey();
    let script = Builder::new()
        .push_opcode(opcodes::all::OP_RETURN)
        .push_slice(AsRef::<[u8; 32]>::as_ref(&genesis))
        .push_slice(parent_script.as_bytes())
        .into_script();
    explicit(policy, value, script)
}

/// The output of `txid` paying `script` (an explicit one).
pub fn outpoint_to(chain: &dyn TestChain, txid: &Txid, script: &Script) -> OutPoint {
    let tx = chain.get_tx(txid).unwrap();
    let vout = tx
        .output
        .iter()
        .position(|o| &o.script_pubkey == script)
        .expect("the faucet paid the script");
    assert!(tx.output[vout].value.is_explicit(), "an explicit coin");
    OutPoint::new(*txid, vout as u32)
}

/// Broadcasts through the chain's Esplora server (`POST /tx`), as a wallet would.
pub fn broadcast(chain: &dyn TestChain, tx: &Transaction) {
    let hex: String = elements::encode::serialize(tx)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut resp = agent
        .post(&format!("{}/tx", chain.esplora_url()))
        .send(hex.as_str())
        .unwrap();
    let body = resp.body_mut().read_to_string().unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{}: {body}", chain.label());
    chain.settle().unwrap();
}

/// Two confidential outputs (to test keys 1 and 2) and an explicit fee, spending `coin`.
pub fn confidential_spend(policy: AssetId, coin: OutPoint, seed: u64) -> Transaction {
    let secp = secp();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let spent = [TxOutSecrets::new(
        policy,
        confidential::AssetBlindingFactor::zero(),
        COIN_VALUE,
        confidential::ValueBlindingFactor::zero(),
    )];
    let first_value = 400_000;
    let (first, abf, vbf, _) = TxOut::new_not_last_confidential(
        &mut rng,
        &secp,
        first_value,
        &p2wpkh(1, true),
        policy,
        &spent,
    )
    .unwrap();
    let first_secrets = TxOutSecrets::new(policy, abf, first_value, vbf);
    let to = p2wpkh(2, true);
    let (second, _, _, _) = TxOut::new_last_confidential(
        &mut rng,
        &secp,
        COIN_VALUE - first_value - FEE,
        policy,
        to.script_pubkey(),
        to.blinding_pubkey.unwrap(),
        &spent,
        &[&first_secrets],
    )
    .unwrap();
    spend_op_true(&[coin], vec![first, second, TxOut::new_fee(FEE, policy)])
}
