//! Hostile PSETs handed to `pset sign` (issue 11): whoever holds the CT descriptor (a
//! multisig coordinator, a watch-only copy) builds a PSET that tries to make the wallet sign a
//! coin its confirmation never showed. Each attack is built here with rust-elements from an
//! honest PSET of the wallet's own coins; `pset sign` must exit 3, print no PSET (so no
//! signature leaves the wallet) and record nothing, while the honest PSET still signs.

use std::str::FromStr;

use crate::common::scene::{Scene, COIN};
use crate::common::{Run, ABANDON};
use elements::pset::PartiallySignedTransaction;

const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// The victim "alice" with two confirmed coins of 1 L-BTC, a watch-only copy "coord" of her
/// descriptor (what the attacker holds), and bob's address to pay.
struct Attack {
    scene: Scene,
    bob_address: String,
}

impl std::ops::Deref for Attack {
    type Target = Scene;
    fn deref(&self) -> &Scene {
        &self.scene
    }
}

impl Attack {
    fn new() -> Attack {
        let scene = Scene::new(&[("alice", ABANDON), ("bob", BOB)]);
        let descriptor = scene
            .run("alice", &["wallet", "descriptor"], None)
            .ok()
            .stdout;
        let file = scene.sb.path("alice.descriptor");
        std::fs::write(&file, descriptor.trim()).unwrap();
        scene
            .sb
            .run(&[
                "--network",
                "regtest",
                "wallet",
                "import",
                "--name",
                "coord",
                "--descriptor-file",
                file.to_str().unwrap(),
            ])
            .ok();
        for _ in 0..2 {
            let address = scene.address("alice");
            scene.fund(&address, COIN);
        }
        let bob_address = scene.address("bob");
        Attack { scene, bob_address }
    }

    /// The coordinator's honest PSET paying bob 1.5 L-BTC: it needs both of alice's coins.
    fn honest_pset(&self) -> PartiallySignedTransaction {
        let to = format!("{}:1.5", self.bob_address);
        let out = self
            .run("coord", &["pset", "create", "--to", &to], None)
            .ok()
            .stdout;
        PartiallySignedTransaction::from_str(out.trim()).unwrap()
    }

    /// `pset sign` by alice of `pset` (from stdin), with `extra` flags.
    fn sign(&self, pset: &PartiallySignedTransaction, extra: &[&str]) -> Run {
        let pass = self.sb.pass();
        let mut args = vec!["--yes", "pset", "sign", "-", "--passphrase-file", &pass];
        args.extend_from_slice(extra);
        self.run("alice", &args, Some(&pset.to_string()))
    }

    /// Asserts that `run` is a refusal naming `needle`, that no PSET (and so no signature)
    /// came out, and that alice recorded nothing.
    fn assert_refused(&self, run: Run, needle: &str) {
        let run = run.fails(3, needle);
        assert!(
            run.stdout.trim().is_empty(),
            "a refused PSET must not be printed:\n{}",
            run.stdout
        );
        assert!(self.pending("alice").is_empty(), "nothing recorded");
    }
}

fn signatures(pset: &PartiallySignedTransaction) -> Vec<usize> {
    pset.inputs().iter().map(|i| i.partial_sigs.len()).collect()
}

/// Rewrites input `i`'s spent output as P2SH(P2WPKH) of the same key, with the real P2WPKH
/// as its redeem script: the same segwit v0 script code and so the same sighash, behind a
/// script the wallet does not recognise as its own.
fn wrap_in_p2sh(pset: &mut PartiallySignedTransaction, i: usize) {
    let input = &mut pset.inputs_mut()[i];
    let mut spent = input.witness_utxo.clone().unwrap();
    let p2wpkh = spent.script_pubkey.clone();
    spent.script_pubkey = p2wpkh.to_p2sh();
    input.witness_utxo = Some(spent);
    input.redeem_script = Some(p2wpkh);
}

#[test]
fn the_honest_pset_signs_both_inputs() {
    let scene = Attack::new();
    let pset = scene.honest_pset();
    let run = scene.sign(&pset, &[]).ok();
    let signed = PartiallySignedTransaction::from_str(run.stdout.trim()).unwrap();
    assert_eq!(signatures(&signed), vec![1, 1,]);
    assert!(
        run.stderr.contains("-1.5"),
        "the loss is shown:\n{}",
        run.stderr
    );
}

#[test]
fn a_flag_bit_in_the_output_index_does_not_hide_a_coin() {
    let scene = Attack::new();
    let mut pset = scene.honest_pset();
    // The issuance flag on input 1's index: the coin is the same once masked, as in the
    // transaction the PSET becomes, so the view must count it; the P2SH rewrite must not pass.
    pset.inputs_mut()[1].previous_output_index |= 1 << 31;
    wrap_in_p2sh(&mut pset, 1);
    scene.assert_refused(
        scene.sign(&pset, &[]),
        "describes it with another amount, asset or script",
    );

    // The flag alone (spent output left honest): the coin is counted and its loss shown,
    // so what is signed is what the confirmation showed.
    let mut flagged = scene.honest_pset();
    flagged.inputs_mut()[1].previous_output_index |= 1 << 31;
    let run = scene.sign(&flagged, &[]).ok();
    assert!(
        run.stderr.contains("2 input(s) of this wallet"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_coin_the_store_has_not_synced_is_looked_up_or_refused() {
    let scene = Attack::new();
    // A third coin arrives; the coordinator syncs and spends it, alice has not synced yet.
    let address = scene.address("alice");
    scene.fund(&address, COIN);
    let to = format!("{}:2.5", scene.bob_address);
    let out = scene
        .run("coord", &["pset", "create", "--to", &to], None)
        .ok()
        .stdout;
    let honest = PartiallySignedTransaction::from_str(out.trim()).unwrap();
    assert_eq!(honest.inputs().len(), 3);
    let mut pset = honest.clone();
    wrap_in_p2sh(&mut pset, 2);
    wrap_in_p2sh(&mut pset, 1);
    wrap_in_p2sh(&mut pset, 0);
    // Offline, the unknown coin's redeem script gives it away.
    scene.assert_refused(scene.sign(&pset, &["--offline"]), "refused");
    // Online, sign syncs first: the coin is known and the rewrite is caught.
    scene.assert_refused(scene.sign(&pset, &[]), "another amount, asset or script");
    // The honest one signs all three after the sync.
    let run = scene.sign(&honest, &[]).ok();
    let signed = PartiallySignedTransaction::from_str(run.stdout.trim()).unwrap();
    assert_eq!(signatures(&signed), vec![1, 1, 1]);
}

#[test]
fn a_non_witness_utxo_instead_of_the_witness_utxo_is_refused() {
    let scene = Attack::new();
    let mut pset = scene.honest_pset();
    let prev = pset.inputs()[1].previous_txid;
    let funding = scene.chain.get_tx(&prev).unwrap();
    let input = &mut pset.inputs_mut()[1];
    input.witness_utxo = None;
    input.non_witness_utxo = Some(funding);
    scene.assert_refused(scene.sign(&pset, &[]), "no witness_utxo");

    // A previous transaction that disagrees with the witness_utxo is refused too.
    let mut pset = scene.honest_pset();
    let other = pset.inputs()[0].previous_txid;
    pset.inputs_mut()[1].non_witness_utxo = Some(scene.chain.get_tx(&other).unwrap());
    scene.assert_refused(scene.sign(&pset, &[]), "does not hold this wallet's coin");
}

#[test]
fn the_same_coin_twice_is_refused() {
    let scene = Attack::new();
    let mut pset = scene.honest_pset();
    let copy = pset.inputs()[0].clone();
    pset.add_input(copy);
    scene.assert_refused(scene.sign(&pset, &[]), "spends the same coin as input 0");
}

#[test]
fn an_issuance_on_the_wallets_input_is_refused() {
    let scene = Attack::new();
    let mut pset = scene.honest_pset();
    let input = &mut pset.inputs_mut()[0];
    input.issuance_value_amount = Some(1_000_000);
    input.issuance_asset_entropy = Some(elements::AssetEntropy::from_byte_array([7; 32]));
    scene.assert_refused(
        scene.sign(&pset, &[]),
        "carries an issuance (issuance of asset",
    );
    // `pset inspect` shows what it would issue, and exits 0.
    let doc = scene
        .run(
            "alice",
            &["--json", "pset", "inspect", "-"],
            Some(&pset.to_string()),
        )
        .ok()
        .json();
    assert_eq!(doc["inputs"][0]["issuance"]["amount"], 1_000_000);
}

#[test]
fn a_sighash_other_than_all_is_refused() {
    let scene = Attack::new();
    let mut pset = scene.honest_pset();
    pset.inputs_mut()[1].sighash_type = Some(elements::pset::PsbtSighashType::from_u32(
        0x83, // SINGLE | ANYONECANPAY
    ));
    scene.assert_refused(scene.sign(&pset, &[]), "signs only SIGHASH_ALL");
}

#[test]
fn an_input_naming_the_wallets_key_for_a_coin_it_does_not_know_is_refused() {
    let scene = Attack::new();
    let mut pset = scene.honest_pset();
    // Input 1 now claims some other coin, but keeps the wallet's key derivation.
    pset.inputs_mut()[1].previous_txid = elements::Txid::from_str(&"11".repeat(32)).unwrap();
    let input = &mut pset.inputs_mut()[1];
    let mut spent = input.witness_utxo.clone().unwrap();
    spent.script_pubkey = elements::Script::from(vec![0x51]);
    input.witness_utxo = Some(spent);
    scene.assert_refused(scene.sign(&pset, &[]), "names this wallet's key");
}

/// The fee of `pset`: its explicit output to the empty script.
fn fee_of(pset: &PartiallySignedTransaction) -> u64 {
    pset.outputs()
        .iter()
        .find(|o| o.script_pubkey.is_empty())
        .and_then(|o| o.amount)
        .expect("a fee output")
}

/// Alice's blinding key for `script`, derived from her CT descriptor as the coordinator can.
fn blinding_key_of(
    scene: &Attack,
    script: &elements::Script,
) -> elements::secp256k1_zkp::SecretKey {
    let text = std::fs::read_to_string(scene.sb.path("alice.descriptor")).unwrap();
    let descriptor = wallet_core::descriptor::WalletDescriptor::parse(
        text.trim(),
        wallet_core::network::Network::Regtest,
    )
    .unwrap();
    wallet_core::unblind::blinding_private_key(&descriptor, script).unwrap()
}

/// An output paying alice far past her last used address (index 27, which only the
/// coordinator's copy handed out) would be counted by her confirmation as coming back while
/// her sync, which watches 20 addresses past the last used one, would never find it. Signing
/// a PSET from elsewhere counts only addresses sync watches: that output counts as leaving, her
/// balance drops by exactly what she was shown, and signing hands out no address (so a PSET
/// that is never broadcast cannot push her next address past a restore's gap limit).
#[test]
fn an_output_to_an_address_sync_does_not_watch_counts_as_leaving() {
    let scene = Attack::new();
    // Alice handed out addresses 0..=9 (0 and 1 funded); the coordinator's copy hands out
    // 0..=27: her sync watches up to index 21.
    for _ in 0..8 {
        scene.address("alice");
    }
    let mut far = String::new();
    for _ in 0..28 {
        far = scene.address("coord");
    }
    let (before, _) = scene.lbtc("alice");
    let to_bob = format!("{}:0.1", scene.bob_address);
    let to_far = format!("{far}:0.5");
    let out = scene
        .run(
            "coord",
            &["pset", "create", "--to", &to_bob, "--to", &to_far],
            None,
        )
        .ok()
        .stdout;
    let pset = PartiallySignedTransaction::from_str(out.trim()).unwrap();
    let fee = fee_of(&pset);
    let run = scene.sign(&pset, &[]).ok();
    let shown = format!("-{}", (COIN * 6 / 10 + fee) as f64 / COIN as f64);
    assert!(
        run.stderr.contains(&shown),
        "alice is shown the 0.5 to the unwatched address as leaving ({shown}):\n{}",
        run.stderr
    );
    let next = scene
        .run("alice", &["--json", "address", "new"], None)
        .ok()
        .json()["index"]
        .as_u64();
    assert_eq!(next, Some(10), "signing handed out no address");
    scene
        .run(
            "coord",
            &["--yes", "pset", "broadcast", "-"],
            Some(&run.stdout),
        )
        .ok();
    scene.chain.mine(1).unwrap();
    let (after, unconfirmed) = scene.lbtc("alice");
    assert_eq!(unconfirmed, 0);
    assert_eq!(
        after,
        before - COIN * 6 / 10 - fee,
        "alice lost what her confirmation showed, no more"
    );
}

/// The rangeproof of alice's change is witness data that no signature covers: whoever holds
/// the signed PSET (here the coordinator, who can rewind it with the descriptor) can swap it
/// for another valid proof of the same commitment that alice's key does not rewind. The
/// secrets she kept when she signed still read the coin.
#[test]
fn change_whose_rangeproof_was_swapped_after_signing_is_still_the_wallets() {
    let scene = Attack::new();
    let (before, _) = scene.lbtc("alice");
    let to_bob = format!("{}:0.5", scene.bob_address);
    let out = scene
        .run("coord", &["pset", "create", "--to", &to_bob], None)
        .ok()
        .stdout;
    let pset = PartiallySignedTransaction::from_str(out.trim()).unwrap();
    let fee = fee_of(&pset);
    let run = scene.sign(&pset, &[]).ok();
    let mut signed = PartiallySignedTransaction::from_str(run.stdout.trim()).unwrap();
    // Alice's change: the confidential output that is not bob's and not the fee.
    let bob: elements::Address = scene.bob_address.parse().unwrap();
    let change = signed
        .outputs()
        .iter()
        .position(|o| !o.script_pubkey.is_empty() && o.script_pubkey != bob.script_pubkey())
        .expect("alice's change");
    let txout = signed.outputs()[change].to_txout();
    let key = blinding_key_of(&scene, &txout.script_pubkey);
    let secrets = wallet_core::unblind::unblind_output(&txout, &key).unwrap();
    let secp = elements::secp256k1_zkp::Secp256k1::new();
    let generator = txout.asset.commitment().unwrap();
    let message = elements::RangeProofMessage::new(secrets.asset, secrets.asset_bf).to_byte_array();
    let forged = elements::secp256k1_zkp::RangeProof::new(
        &secp,
        elements::TxOut::RANGEPROOF_MIN_VALUE,
        txout.value.commitment().unwrap(),
        secrets.value,
        secrets.value_bf.into_inner(),
        &message,
        txout.script_pubkey.as_bytes(),
        elements::secp256k1_zkp::SecretKey::from_slice(&[7; 32]).unwrap(),
        elements::TxOut::RANGEPROOF_EXP_SHIFT,
        elements::TxOut::RANGEPROOF_MIN_PRIV_BITS,
        generator,
    )
    .unwrap();
    signed.outputs_mut()[change].value_rangeproof =
        Some(elements::RangeProof::from_slice(&forged.serialize()).unwrap());
    let swapped = signed.outputs()[change].to_txout();
    assert!(
        wallet_core::unblind::unblind_output(&swapped, &key).is_err(),
        "the swapped proof no longer rewinds with alice's key"
    );
    // The coordinator finalizes and broadcasts it with its own tools.
    let hex = scene
        .run(
            "coord",
            &["pset", "finalize", "-", "--extract"],
            Some(&signed.to_string()),
        )
        .ok()
        .stdout;
    let bytes: Vec<u8> = (0..hex.trim().len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex.trim()[i..i + 2], 16).unwrap())
        .collect();
    let tx: elements::Transaction = elements::encode::deserialize(&bytes).unwrap();
    crate::common::handmade::broadcast(&scene.chain, &tx);
    scene.chain.mine(1).unwrap();
    let (after, unconfirmed) = scene.lbtc("alice");
    assert_eq!(unconfirmed, 0);
    assert_eq!(
        after,
        before - COIN / 2 - fee,
        "alice's change is still hers"
    );
    // The coordinator blinded bob's output, so alice has no record of what it holds; her
    // own change, whose secrets she kept, is not listed as paid to someone else.
    let txs = scene.run("alice", &["--json", "txs"], None).ok().json();
    let row = txs
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] == tx.txid().to_string())
        .expect("the transaction is listed")
        .clone();
    let paid = row["paid"].as_array().cloned().unwrap_or_default();
    assert!(
        paid.is_empty(),
        "alice's change is not listed as paid: {row}"
    );
}
