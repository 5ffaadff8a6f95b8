//! Every rejection class, with real transactions signed (and blinded) in the test.

use crate::common::*;

use rand::SeedableRng;
use regtest::elements::hashes::{hash160, sha256};
use regtest::elements::secp256k1_zkp::Message;
use regtest::elements::sighash::SighashCache;
use regtest::elements::{
    self, confidential::Value, script::Builder, Address, AddressParams, AssetId, EcdsaSighashType,
    OutPoint, Script, Transaction, TxOut, TxOutSecrets,
};
use regtest::{Error, Sandbox, SandboxConfig};

fn start() -> Sandbox {
    // Error texts as Blockstream's electrs words them (the recorded fixtures).
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        esplora_flavour: regtest::EsploraFlavour::Blockstream,
        ..Default::default()
    })
    .unwrap();
    sb.mine(1).unwrap();
    sb
}

/// Faucet `amount` to `addr`, mine, return the outpoint and output.
fn fund(sb: &Sandbox, addr: &Address, amount: u64, asset: Option<AssetId>) -> (OutPoint, TxOut) {
    let txid = sb.faucet(addr, amount, asset).unwrap();
    sb.mine(1).unwrap();
    let tx = sb.get_tx(&txid).unwrap();
    let vout = tx
        .output
        .iter()
        .position(|o| o.script_pubkey == addr.script_pubkey())
        .unwrap();
    (OutPoint::new(txid, vout as u32), tx.output[vout].clone())
}

fn rejected(r: Result<elements::Txid, Error>) -> String {
    match r {
        Err(Error::Rejected(m)) => m,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

/// A signed explicit spend of a P2WPKH(seed) coin worth `value`: `pay` to seed 9, rest - fee back.
fn spend(op: OutPoint, seed: u8, value: u64, pay: u64, fee: u64, policy: AssetId) -> Transaction {
    let mut tx = new_tx(
        vec![op],
        vec![
            explicit_out(policy, pay, p2wpkh(9, false).script_pubkey()),
            explicit_out(
                policy,
                value - pay - fee,
                p2wpkh(seed, false).script_pubkey(),
            ),
            TxOut::new_fee(fee, policy),
        ],
    );
    sign_p2wpkh(&mut tx, 0, seed, Value::Explicit(value));
    tx
}

#[test]
fn decode_missing_spent_duplicate_and_conflicts() {
    let sb = start();
    let url = sb.esplora_url();
    let policy = sb.policy_asset();
    for body in ["", "deadbeef", "this is not a transaction"] {
        assert_eq!(
            post(&url, "/tx", body),
            (400, "sendrawtransaction RPC error -22: TX decode failed. Make sure the tx has at least one input.".into())
        );
    }
    let a = p2wpkh(1, false);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    // Missing input.
    let tx = spend(
        OutPoint::new(elements::Txid::from_byte_array([0xcd; 32]), 0),
        1,
        1_000_000,
        1000,
        500,
        policy,
    );
    assert_eq!(
        rejected(sb.broadcast(tx)),
        "sendrawtransaction RPC error -25: bad-txns-inputs-missingorspent"
    );
    // Duplicate inputs.
    let mut dup = spend(op, 1, 1_000_000, 1000, 500, policy);
    dup.input.push(dup.input[0].clone());
    assert_eq!(
        rejected(sb.broadcast(dup)),
        "sendrawtransaction RPC error -26: bad-txns-inputs-duplicate"
    );
    // Mempool double spend.
    let first = spend(op, 1, 1_000_000, 1000, 500, policy);
    sb.broadcast(first.clone()).unwrap();
    let second = spend(op, 1, 1_000_000, 2000, 600, policy);
    assert_eq!(
        rejected(sb.broadcast(second.clone())),
        "sendrawtransaction RPC error -26: txn-mempool-conflict"
    );
    // Spent on chain.
    sb.mine(1).unwrap();
    assert_eq!(
        rejected(sb.broadcast(second)),
        "sendrawtransaction RPC error -25: bad-txns-inputs-missingorspent"
    );
    // Spending an unconfirmed output works (chains in the mempool).
    let change = OutPoint::new(first.txid(), 1);
    let child = spend(change, 1, 1_000_000 - 1000 - 500, 1000, 500, policy);
    let child_id = sb.broadcast(child.clone()).unwrap();
    let grandchild = spend(
        OutPoint::new(child_id, 1),
        1,
        1_000_000 - 3000,
        1000,
        500,
        policy,
    );
    sb.broadcast(grandchild).unwrap();
}

#[test]
fn amounts_and_fees() {
    let sb = start();
    let policy = sb.policy_asset();
    let a = p2wpkh(1, false);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    // Outputs worth more than the input.
    let mut tx = new_tx(
        vec![op],
        vec![
            explicit_out(policy, 1_000_000, a.script_pubkey()),
            TxOut::new_fee(500, policy),
        ],
    );
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
    assert_eq!(
        rejected(sb.broadcast(tx)),
        "sendrawtransaction RPC error -26: bad-txns-in-ne-out (value in != value out)"
    );
    // No fee output.
    let mut tx = new_tx(
        vec![op],
        vec![explicit_out(policy, 1_000_000, a.script_pubkey())],
    );
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
    let m = rejected(sb.broadcast(tx));
    assert!(
        m.starts_with("sendrawtransaction RPC error -26: min relay fee not met, 0 < "),
        "{m}"
    );
    // Fee below 0.1 sat/discount vB.
    let tx = spend(op, 1, 1_000_000, 1000, 1, policy);
    assert!(rejected(sb.broadcast(tx)).contains("min relay fee not met, 1 < "));
    // Fee in another asset.
    let issued = sb.issue(1_000, Some("fee test")).unwrap();
    sb.mine(1).unwrap();
    let (aop, _) = fund(&sb, &a, 100, Some(issued.asset));
    let mut tx = new_tx(
        vec![op, aop],
        vec![
            explicit_out(policy, 1_000_000 - 500, a.script_pubkey()),
            TxOut::new_fee(500, policy),
            TxOut::new_fee(100, issued.asset),
        ],
    );
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
    sign_p2wpkh(&mut tx, 1, 1, Value::Explicit(100));
    assert!(rejected(sb.broadcast(tx)).contains("sandbox-fee-asset"));
    // Zero-value output to a spendable script.
    let tx = spend(op, 1, 1_000_000, 0, 500, policy);
    assert_eq!(
        rejected(sb.broadcast(tx)),
        "sendrawtransaction RPC error -26: dust"
    );
}

#[test]
fn coinbase_maturity() {
    let sb = start();
    let policy = sb.policy_asset();
    // Block 2 collects the faucet fee into an OP_TRUE coinbase output.
    let a = p2wpkh(1, false);
    sb.faucet(&a, 1000, None).unwrap();
    let hashes = sb.mine(1).unwrap();
    let url = sb.esplora_url();
    let cb = get(&url, &format!("/block/{}/txid/0", hashes[0])).1;
    let cbid: elements::Txid = cb.parse().unwrap();
    let cbtx = sb.get_tx(&cbid).unwrap();
    let fee = cbtx.output[0].value.explicit().unwrap();
    // The coinbase holds a few sat only: burnt (an unspendable output is never dust).
    let burn = Script::from(vec![0x6a]);
    let tx = new_tx(
        vec![OutPoint::new(cbid, 0)],
        vec![
            explicit_out(policy, fee - 20, burn),
            TxOut::new_fee(20, policy),
        ],
    );
    let m = rejected(sb.broadcast(tx.clone()));
    assert!(m.contains("bad-txns-premature-spend-of-coinbase"), "{m}");
    sb.mine(99).unwrap();
    sb.broadcast(tx).unwrap();
}

fn sign_with_code(
    tx: &mut Transaction,
    i: usize,
    code: &Script,
    seed: u8,
    value: Value,
) -> Vec<u8> {
    let sighash = SighashCache::new(&*tx).segwitv0_sighash(i, code, value, EcdsaSighashType::All);
    let sig = secp().sign_ecdsa(&Message::from_digest(sighash.to_byte_array()), &key(seed));
    let mut s = sig.serialize_der().to_vec();
    s.push(EcdsaSighashType::All as u8);
    s
}

#[test]
fn p2sh_p2wpkh_multisig_and_unsupported_scripts() {
    let sb = start();
    let policy = sb.policy_asset();
    // P2SH-P2WPKH.
    let pk = elements::bitcoin::PublicKey::new(pubkey(&key(3)));
    let sh_addr = Address::p2shwpkh(&pk, None, &AddressParams::ELEMENTS);
    let (op, _) = fund(&sb, &sh_addr, 500_000, None);
    let redeem = p2wpkh(3, false).script_pubkey();
    let code = Builder::new()
        .push_opcode(elements::opcodes::all::OP_DUP)
        .push_opcode(elements::opcodes::all::OP_HASH160)
        .push_slice(hash160::Hash::hash(&pk.to_bytes()).as_byte_array())
        .push_opcode(elements::opcodes::all::OP_EQUALVERIFY)
        .push_opcode(elements::opcodes::all::OP_CHECKSIG)
        .into_script();
    let mk = |seed: u8| {
        let mut tx = new_tx(
            vec![op],
            vec![
                explicit_out(policy, 499_000, p2wpkh(9, false).script_pubkey()),
                TxOut::new_fee(1000, policy),
            ],
        );
        tx.input[0].script_sig = Builder::new().push_slice(redeem.as_bytes()).into_script();
        let sig = sign_with_code(&mut tx, 0, &code, seed, Value::Explicit(500_000));
        tx.input[0].witness.script_witness = elements::Witness::from_slice(&[sig, pk.to_bytes()]);
        tx
    };
    assert!(rejected(sb.broadcast(mk(4))).contains("mempool-script-verify-flag-failed"));
    sb.broadcast(mk(3)).unwrap();

    // 2-of-3 P2WSH multisig (sorted keys, as sortedmulti).
    let mut keys: Vec<(u8, Vec<u8>)> = [5u8, 6, 7]
        .iter()
        .map(|s| (*s, pubkey(&key(*s)).serialize().to_vec()))
        .collect();
    keys.sort_by(|a, b| a.1.cmp(&b.1));
    let mut b = Builder::new().push_opcode(elements::opcodes::all::OP_PUSHNUM_2);
    for (_, k) in &keys {
        b = b.push_slice(k);
    }
    let ws = b
        .push_opcode(elements::opcodes::all::OP_PUSHNUM_3)
        .push_opcode(elements::opcodes::all::OP_CHECKMULTISIG)
        .into_script();
    let wsh = Address::p2wsh(&ws, None, &AddressParams::ELEMENTS);
    let (op, _) = fund(&sb, &wsh, 800_000, None);
    let mk = |signers: &[u8]| {
        let mut tx = new_tx(
            vec![op],
            vec![
                explicit_out(policy, 799_000, p2wpkh(9, false).script_pubkey()),
                TxOut::new_fee(1000, policy),
            ],
        );
        let mut stack = vec![Vec::new()];
        for s in signers {
            stack.push(sign_with_code(
                &mut tx,
                0,
                &ws,
                *s,
                Value::Explicit(800_000),
            ));
        }
        stack.push(ws.to_bytes());
        tx.input[0].witness.script_witness = elements::Witness::from_slice(&stack);
        tx
    };
    let (k0, k1, k2) = (keys[0].0, keys[1].0, keys[2].0);
    assert!(rejected(sb.broadcast(mk(&[k0]))).contains("mempool-script-verify-flag-failed"));
    assert!(
        rejected(sb.broadcast(mk(&[k1, k0]))).contains("mempool-script-verify-flag-failed"),
        "out of order"
    );
    assert!(rejected(sb.broadcast(mk(&[k0, 8]))).contains("mempool-script-verify-flag-failed"));
    sb.broadcast(mk(&[k0, k2])).unwrap();

    // P2PKH is not supported: refused, never accepted unchecked.
    let pkh = Address::p2pkh(&pk, None, &AddressParams::ELEMENTS);
    let (op, _) = fund(&sb, &pkh, 100_000, None);
    let tx = new_tx(
        vec![op],
        vec![
            explicit_out(policy, 99_000, pkh.script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    assert!(rejected(sb.broadcast(tx)).contains("sandbox-unsupported-script"));
    let _ = sha256::Hash::hash(b"");
}

#[test]
fn confidential_spend_and_tampered_proofs() {
    let sb = start();
    let policy = sb.policy_asset();
    let secp = secp();
    let a = p2wpkh(1, true);
    let (op, out) = fund(&sb, &a, 2_000_000, None);
    assert!(out.value.is_confidential() && out.asset.is_confidential());
    let secrets = unblind(&out, 1);
    assert_eq!((secrets.value, secrets.asset), (2_000_000, policy));
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let build = |rng: &mut rand::rngs::StdRng| {
        let dest = p2wpkh(2, true);
        let (o1, abf1, vbf1, _) =
            TxOut::new_not_last_confidential(rng, &secp, 700_000, &dest, policy, &[secrets])
                .unwrap();
        let s1 = TxOutSecrets::new(policy, abf1, 700_000, vbf1);
        let fee = 400;
        let (o2, _, _, _) = TxOut::new_last_confidential(
            rng,
            &secp,
            2_000_000 - 700_000 - fee,
            policy,
            a.script_pubkey(),
            a.blinding_pubkey.unwrap(),
            &[secrets],
            &[&s1],
        )
        .unwrap();
        new_tx(vec![op], vec![o1, o2, TxOut::new_fee(fee, policy)])
    };
    let base = build(&mut rng);
    let sign = |mut t: Transaction| {
        sign_p2wpkh(&mut t, 0, 1, out.value);
        t
    };
    // Swapped rangeproofs.
    let mut t = base.clone();
    let rp = t.output[0].witness.rangeproof.clone();
    t.output[0].witness.rangeproof = t.output[1].witness.rangeproof.clone();
    t.output[1].witness.rangeproof = rp;
    assert!(rejected(sb.broadcast(sign(t))).contains("bad-txns-in-ne-out (rangeproof of output 0"));
    // Missing surjection proof.
    let mut t = base.clone();
    t.output[1].witness.surjection_proof = elements::SurjectionProof::EMPTY;
    assert!(rejected(sb.broadcast(sign(t)))
        .contains("bad-txns-in-ne-out (surjection proof of output 1"));
    // Commitments that do not balance (an output from another blinding).
    let mut t = base.clone();
    t.output[1] = build(&mut rng).output[1].clone();
    assert!(rejected(sb.broadcast(sign(t))).contains("bad-txns-in-ne-out"));
    // A proof on an explicit output.
    let mut t = base.clone();
    let n = t.output.len();
    t.output[n - 1].witness.rangeproof = t.output[0].witness.rangeproof.clone();
    assert!(rejected(sb.broadcast(sign(t))).contains("bad-txns-superfluous-rangeproof"));
    // Signed over the wrong spent value commitment.
    let mut t = base.clone();
    sign_p2wpkh(&mut t, 0, 1, Value::Explicit(2_000_000));
    assert!(rejected(sb.broadcast(t)).contains("mempool-script-verify-flag-failed"));
    // Good.
    let good = sign(base);
    sb.broadcast(good.clone()).unwrap();
    sb.mine(1).unwrap();
    let got = unblind(&sb.get_tx(&good.txid()).unwrap().output[0], 2);
    assert_eq!(got.value, 700_000);
}

#[test]
fn issuance_and_reissuance() {
    let sb = start();
    let policy = sb.policy_asset();
    let secp = secp();
    let a = p2wpkh(1, false);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    // A user issuance, explicit amounts: 5000 units and 1 token.
    let mut tx = new_tx(vec![op], vec![]);
    tx.input[0].asset_issuance = elements::AssetIssuance {
        asset_blinding_nonce: elements::AssetBlindingNonce::NEW_ISSUANCE,
        asset_entropy: elements::AssetEntropy::from_byte_array([0; 32]),
        amount: Value::Explicit(5000),
        inflation_keys: Value::Explicit(1),
    };
    let (asset, token) = tx.input[0].issuance_ids();
    assert_eq!(
        asset,
        AssetId::new_issuance(op, elements::ContractHash::from_byte_array([0; 32]))
    );
    tx.output = vec![
        explicit_out(asset, 5000, a.script_pubkey()),
        explicit_out(token, 1, a.script_pubkey()),
        explicit_out(policy, 999_000, a.script_pubkey()),
        TxOut::new_fee(1000, policy),
    ];
    // Issuing more than declared is refused.
    let mut bad = tx.clone();
    bad.output[0].value = Value::Explicit(5001);
    sign_p2wpkh(&mut bad, 0, 1, Value::Explicit(1_000_000));
    assert!(rejected(sb.broadcast(bad)).contains("bad-txns-in-ne-out"));
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
    let iss_id = sb.broadcast(tx.clone()).unwrap();
    sb.mine(1).unwrap();
    let url = sb.esplora_url();
    let j = get_json(&url, &format!("/tx/{iss_id}"));
    assert_eq!(j["vin"][0]["issuance"]["asset_id"], asset.to_string());
    assert_eq!(j["vin"][0]["issuance"]["assetamount"], 5000);
    assert_eq!(j["vin"][0]["issuance"]["tokenamount"], 1);

    // Reissuance from an explicit (unblinded) token is refused: the nonce cannot match.
    let entropy = elements::AssetId::generate_asset_entropy(
        op,
        elements::ContractHash::from_byte_array([0; 32]),
    );
    let token_op = OutPoint::new(iss_id, 1);
    let lbtc_op = OutPoint::new(iss_id, 2);
    let mut re = new_tx(
        vec![token_op, lbtc_op],
        vec![
            explicit_out(token, 1, a.script_pubkey()),
            explicit_out(asset, 100, a.script_pubkey()),
            explicit_out(policy, 998_000, a.script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    re.input[0].asset_issuance = elements::AssetIssuance {
        asset_blinding_nonce: elements::AssetBlindingNonce::from_byte_array([1; 32]),
        asset_entropy: entropy,
        amount: Value::Explicit(100),
        inflation_keys: Value::Null,
    };
    sign_p2wpkh(&mut re, 0, 1, Value::Explicit(1));
    sign_p2wpkh(&mut re, 1, 1, Value::Explicit(999_000));
    let m = rejected(sb.broadcast(re));
    assert!(
        m.contains("bad-txns-in-ne-out") && m.contains("reissuance token"),
        "{m}"
    );

    // Move the token to a confidential address (blinded), then reissue with it.
    let conf = p2wpkh(2, true);
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let in_secrets = [
        explicit_secrets(token, 1),
        explicit_secrets(policy, 999_000),
    ];
    let (tok_out, _, _, _) = TxOut::new_last_confidential(
        &mut rng,
        &secp,
        1,
        token,
        conf.script_pubkey(),
        conf.blinding_pubkey.unwrap(),
        &in_secrets,
        &[],
    )
    .unwrap();
    let mut mv = new_tx(
        vec![token_op, lbtc_op],
        vec![
            tok_out,
            explicit_out(policy, 998_000, p2wpkh(2, false).script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    sign_p2wpkh(&mut mv, 0, 1, Value::Explicit(1));
    sign_p2wpkh(&mut mv, 1, 1, Value::Explicit(999_000));
    let mv_id = sb.broadcast(mv.clone()).unwrap();
    sb.mine(1).unwrap();
    let tok_secrets = unblind(&mv.output[0], 2);
    let tok_op = OutPoint::new(mv_id, 0);
    let fee_op = OutPoint::new(mv_id, 1);
    let mut re = new_tx(vec![tok_op, fee_op], vec![]);
    re.input[0].asset_issuance = elements::AssetIssuance {
        asset_blinding_nonce: elements::AssetBlindingNonce::from_byte_array(
            *tok_secrets.asset_bf.into_inner().as_ref(),
        ),
        asset_entropy: entropy,
        amount: Value::Explicit(250),
        inflation_keys: Value::Null,
    };
    // Domain order: input 0, its issuance, input 1.
    let spent_secrets = [
        tok_secrets,
        explicit_secrets(asset, 250),
        explicit_secrets(policy, 998_000),
    ];
    let (tok_back, _, _, _) = TxOut::new_last_confidential(
        &mut rng,
        &secp,
        1,
        token,
        conf.script_pubkey(),
        conf.blinding_pubkey.unwrap(),
        &spent_secrets,
        &[],
    )
    .unwrap();
    re.output = vec![
        tok_back,
        explicit_out(asset, 250, a.script_pubkey()),
        explicit_out(policy, 997_000, a.script_pubkey()),
        TxOut::new_fee(1000, policy),
    ];
    // The same reissuance with its amount blinded is refused, as elementsd refuses it: the
    // token of an explicit issuance reissues explicit amounts only (Elements derives the
    // token from the entropy and whether the reissued amount is blinded).
    let mut blinded = re.clone();
    let (issue_vbf, _, _, _) = blinded.input[0].blind_issuances(&secp, &mut rng).unwrap();
    assert!(blinded.input[0].asset_issuance.amount.is_confidential());
    let spent_blinded = [
        tok_secrets,
        TxOutSecrets::new(
            asset,
            elements::confidential::AssetBlindingFactor::zero(),
            250,
            issue_vbf,
        ),
        explicit_secrets(policy, 998_000),
    ];
    let (tok_back_blinded, _, _, _) = TxOut::new_last_confidential(
        &mut rng,
        &secp,
        1,
        token,
        conf.script_pubkey(),
        conf.blinding_pubkey.unwrap(),
        &spent_blinded,
        &[],
    )
    .unwrap();
    blinded.output[0] = tok_back_blinded;
    sign_p2wpkh(&mut blinded, 0, 2, mv.output[0].value);
    sign_p2wpkh(&mut blinded, 1, 2, Value::Explicit(998_000));
    let m = rejected(sb.broadcast(blinded));
    assert!(
        m.contains("bad-txns-in-ne-out") && m.contains("with a blinded amount"),
        "{m}"
    );

    sign_p2wpkh(&mut re, 0, 2, mv.output[0].value);
    sign_p2wpkh(&mut re, 1, 2, Value::Explicit(998_000));
    sb.broadcast(re).unwrap();
}

#[test]
fn pegout_is_a_recorded_burn() {
    let sb = start();
    let policy = sb.policy_asset();
    let a = p2wpkh(1, false);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    let parent_spk = hex_lit("0014d0c4a3ef09e997b6e99e397e518fe3e41a118ca1");
    let genesis = regtest::genesis::parent_genesis_hash();
    let script = Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .push_slice(AsRef::<[u8; 32]>::as_ref(&genesis))
        .push_slice(&parent_spk)
        .into_script();
    let mut tx = new_tx(
        vec![op],
        vec![
            explicit_out(policy, 300_000, script),
            explicit_out(policy, 699_000, a.script_pubkey()),
            TxOut::new_fee(1000, policy),
        ],
    );
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
    let txid = sb.broadcast(tx).unwrap();
    sb.mine(1).unwrap();
    assert_eq!(sb.pegouts(), vec![(txid, 0, 300_000, parent_spk)]);
    let j = get_json(&sb.esplora_url(), &format!("/tx/{txid}"));
    assert_eq!(j["vout"][0]["scriptpubkey_type"], "op_return");
    assert_eq!(j["vout"][0]["value"], 300_000);
}

fn hex_lit(s: &str) -> Vec<u8> {
    regtest::hexutil::decode(s).unwrap()
}

#[test]
fn bip125_replacement() {
    let sb = start();
    let policy = sb.policy_asset();
    let a = p2wpkh(1, false);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    let mk = |fee: u64, seq: u32, pay: u64| {
        let mut tx = new_tx(
            vec![op],
            vec![
                explicit_out(policy, pay, p2wpkh(9, false).script_pubkey()),
                explicit_out(policy, 1_000_000 - pay - fee, a.script_pubkey()),
                TxOut::new_fee(fee, policy),
            ],
        );
        tx.input[0].sequence = elements::Sequence(seq);
        sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
        tx
    };
    // Non-signalling original: any conflict is refused.
    let orig = mk(300, 0xffff_fffe, 1000);
    sb.broadcast(orig.clone()).unwrap();
    assert!(rejected(sb.broadcast(mk(5000, 0xffff_fffd, 1000))).ends_with("txn-mempool-conflict"));
    sb.mine(1).unwrap();
    let (op2, _) = fund(&sb, &a, 1_000_000, None);
    let mk = |fee: u64, pay: u64| {
        let mut tx = new_tx(
            vec![op2],
            vec![
                explicit_out(policy, pay, p2wpkh(9, false).script_pubkey()),
                explicit_out(policy, 1_000_000 - pay - fee, a.script_pubkey()),
                TxOut::new_fee(fee, policy),
            ],
        );
        tx.input[0].sequence = elements::Sequence(0xffff_fffd);
        sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
        tx
    };
    let first = mk(300, 1000);
    sb.broadcast(first.clone()).unwrap();
    // A child of the original is evicted with it.
    let mut child = new_tx(
        vec![OutPoint::new(first.txid(), 1)],
        vec![
            explicit_out(policy, 1_000_000 - 1300 - 200, a.script_pubkey()),
            TxOut::new_fee(200, policy),
        ],
    );
    sign_p2wpkh(&mut child, 0, 1, Value::Explicit(1_000_000 - 1300));
    sb.broadcast(child.clone()).unwrap();
    let same = mk(250, 2000);
    let m = rejected(sb.broadcast(same.clone()));
    assert!(
        m.starts_with(&format!("sendrawtransaction RPC error -26: insufficient fee, rejecting replacement {}; new feerate ", same.txid())),
        "{m}"
    );
    let m = rejected(sb.broadcast(mk(480, 2000)));
    assert!(m.contains("less fees than conflicting txs"), "{m}");
    let better = mk(5000, 2000);
    sb.broadcast(better.clone()).unwrap();
    let url = sb.esplora_url();
    let ids = get_json(&url, "/mempool/txids");
    assert_eq!(ids, serde_json::json!([better.txid().to_string()]));
    assert_eq!(get(&url, &format!("/tx/{}", child.txid())).0, 404);
    sb.mine(1).unwrap();
    assert_eq!(
        get_json(&url, &format!("/tx/{}/status", better.txid()))["confirmed"],
        true
    );
}

#[test]
fn locktime_finality() {
    let sb = start();
    let policy = sb.policy_asset();
    let a = p2wpkh(1, false);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    let tip = sb.tip_height();
    let mk = |lt: u32| {
        let mut tx = new_tx(
            vec![op],
            vec![
                explicit_out(policy, 999_000, a.script_pubkey()),
                TxOut::new_fee(1000, policy),
            ],
        );
        tx.lock_time = elements::LockTime::from_consensus(lt);
        tx.input[0].sequence = elements::Sequence(0xffff_fffe);
        sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
        tx
    };
    assert!(rejected(sb.broadcast(mk(tip + 2))).ends_with("non-final"));
    // Time lock in the future (fixed clock starts at 1,700,000,000).
    assert!(rejected(sb.broadcast(mk(1_800_000_000))).ends_with("non-final"));
    sb.broadcast(mk(tip)).unwrap();
}

#[test]
fn blinded_issuance_by_a_user() {
    let sb = start();
    let policy = sb.policy_asset();
    let secp = secp();
    let a = p2wpkh(1, false);
    let conf = p2wpkh(2, true);
    let (op, _) = fund(&sb, &a, 1_000_000, None);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let build = |rng: &mut rand::rngs::StdRng| {
        let mut tx = new_tx(vec![op], vec![]);
        tx.input[0].asset_issuance = elements::AssetIssuance {
            asset_blinding_nonce: elements::AssetBlindingNonce::NEW_ISSUANCE,
            asset_entropy: elements::AssetEntropy::from_byte_array([0; 32]),
            amount: Value::Explicit(5000),
            inflation_keys: Value::Null,
        };
        let (asset, _) = tx.input[0].issuance_ids();
        let (issue_vbf, _, _, _) = tx.input[0].blind_issuances(&secp, rng).unwrap();
        let spent_secrets = [
            explicit_secrets(policy, 1_000_000),
            TxOutSecrets::new(
                asset,
                elements::confidential::AssetBlindingFactor::zero(),
                5000,
                issue_vbf,
            ),
        ];
        let (out, _, _, _) = TxOut::new_last_confidential(
            rng,
            &secp,
            5000,
            asset,
            conf.script_pubkey(),
            conf.blinding_pubkey.unwrap(),
            &spent_secrets,
            &[],
        )
        .unwrap();
        tx.output = vec![
            out,
            explicit_out(policy, 999_000, a.script_pubkey()),
            TxOut::new_fee(1000, policy),
        ];
        (tx, asset)
    };
    let (mut tx, asset) = build(&mut rng);
    assert!(tx.input[0].asset_issuance.amount.is_confidential());
    // Another blinding of the same issuance does not fit these outputs.
    let (other, _) = build(&mut rng);
    let mut bad = tx.clone();
    bad.input[0].asset_issuance.amount = other.input[0].asset_issuance.amount;
    sign_p2wpkh(&mut bad, 0, 1, Value::Explicit(1_000_000));
    let m = rejected(sb.broadcast(bad));
    assert!(
        m.contains("bad-txns-issuance-rangeproof") || m.contains("bad-txns-in-ne-out"),
        "{m}"
    );
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(1_000_000));
    let txid = sb.broadcast(tx.clone()).unwrap();
    sb.mine(1).unwrap();
    let got = unblind(&sb.get_tx(&txid).unwrap().output[0], 2);
    assert_eq!((got.asset, got.value), (asset, 5000));
    let j = get_json(&sb.esplora_url(), &format!("/asset/{asset}"));
    assert_eq!(j["chain_stats"]["has_blinded_issuances"], true);
    assert_eq!(
        get(&sb.esplora_url(), &format!("/asset/{asset}/supply")),
        (400, "Asset supply is blinded".into())
    );
}
