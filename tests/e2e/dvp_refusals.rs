//! Every class of malicious or broken offer, through the built binary: refused with exit 3
//! and a reason in a trader's words; nothing signed, nothing broadcast, no reservation left
//! behind.
//!
//! The taker is the victim of an envelope the maker changed (`offer accept` refuses it). The
//! maker is the victim of a taker that changes the offer before accepting it with honest
//! software (so its signatures are valid for the changed transaction) and then puts the
//! agreed terms back in the envelope (`offer settle` refuses it), or that changes the
//! accepted envelope itself.

use crate::common::desks::{deal_id, edit, txid_of, Desks, OTHER};
use crate::common::Run;
use elements::pset::{Input, PartiallySignedTransaction, PsbtSighashType};
use elements::{EcdsaSighashType, LockTime, OutPoint, Sequence, Txid};
use serde_json::{json, Value};
use std::str::FromStr;

/// The taker refused: exit 3 with `code` in the JSON error and a message that says `words`;
/// no envelope on stdout, no deal, no reservation, nothing recorded.
#[track_caller]
fn taker_refused(d: &Desks, run: Run, code: &str, words: &str) -> Value {
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    let error = refusal(run, code, words);
    assert!(d.deals(false).is_empty());
    assert!(d.reserved(false).is_empty());
    assert!(d.pending(false).is_empty());
    error
}

/// The maker refused: exit 3 with `code` and a message that says `words`; the deal still
/// proposed, its own reservation only, nothing recorded, the settlement unknown to the chain.
#[track_caller]
fn maker_refused(d: &Desks, run: Run, code: &str, words: &str, envelope: &str) -> Value {
    assert!(run.stdout.trim().is_empty(), "{}", run.stdout);
    let error = refusal(run, code, words);
    let id = deal_id(envelope);
    assert_eq!(d.deal(true, &id)["status"], "proposed");
    let holders: Vec<String> = d.reserved(true).into_iter().map(|(_, h)| h).collect();
    assert_eq!(holders, vec![format!("deal:{id}")]);
    assert!(d.pending(true).is_empty());
    assert!(d.node.get_tx(&txid_of(envelope)).is_none());
    error
}

/// A refusal (exit 3) with `code` in the JSON error and `words` in its message.
#[track_caller]
fn refusal(run: Run, code: &str, words: &str) -> Value {
    run.fails_json(3, code, words).json_error()
}

fn accept_json(d: &Desks, envelope: &str) -> Run {
    d.accept(envelope, &["--json"])
}

fn settle_json(d: &Desks, envelope: &str) -> Run {
    d.settle(envelope, &["--json"])
}

/// The maker's change output (the L-BTC one) in a proposed offer.
fn change_index(pset: &PartiallySignedTransaction, policy: &str) -> usize {
    pset.outputs()
        .iter()
        .enumerate()
        .skip(1)
        .find(|(_, o)| o.asset.map(|a| a.to_string()).as_deref() == Some(policy))
        .map(|(i, _)| i)
        .unwrap()
}

/// A taker that changes the offer with `change` before accepting it with honest software,
/// then puts the original terms back: a validly signed transaction that is not the deal.
fn hostile_accept(
    d: &Desks,
    proposed: &str,
    change: impl FnOnce(&mut Value, &mut PartiallySignedTransaction),
) -> String {
    let original: Value = serde_json::from_str(proposed).unwrap();
    let changed = edit(proposed, change);
    let accepted = d.accepted(&changed);
    let mut doc: Value = serde_json::from_str(&accepted).unwrap();
    doc["terms"] = original["terms"].clone();
    doc.to_string()
}

// ---- the taker is the victim ---------------------------------------------------------------

#[test]
fn taker_refuses_a_wrong_asset_or_an_amount_short_by_one() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    // The maker gives one base unit less than the terms (its change is one more).
    let short = edit(&proposed, |_, pset| {
        let i = change_index(pset, &d.policy);
        let out = &mut pset.outputs_mut()[i];
        out.amount = Some(out.amount.unwrap() + 1);
    });
    let error = taker_refused(&d, accept_json(&d, &short), "terms_mismatch", "the offer's PSET does not do what its terms say: the transaction gives you 1.49999999 L-BTC");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("gives you 1.49999999 L-BTC, the terms say 1.5 L-BTC"),
        "{message}"
    );
    // The maker asks for one base unit more than the terms.
    let more = edit(&proposed, |_, pset| {
        let out = &mut pset.outputs_mut()[0];
        out.amount = Some(out.amount.unwrap() + 1);
    });
    let error = taker_refused(&d, accept_json(&d, &more), "terms_mismatch", "the offer's PSET does not do what its terms say: the transaction takes 15000001 base units of asset");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("takes 15000001 base units"),
        "{error}"
    );
    // The maker is paid in another asset than the terms say.
    let cad = elements::AssetId::from_str(&d.cad).unwrap();
    let wrong = edit(&proposed, |_, pset| {
        pset.outputs_mut()[0].asset = Some(cad);
    });
    taker_refused(
        &d,
        accept_json(&d, &wrong),
        "terms_mismatch",
        "which the terms do not mention",
    );
}

#[test]
fn taker_refuses_an_offer_spending_its_own_coin() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    d.run(false, &["sync"], None).ok();
    let utxos = d.run(false, &["--json", "utxos"], None).ok().json();
    let mine = OutPoint::from_str(utxos[0]["outpoint"].as_str().unwrap()).unwrap();
    let extra = edit(&proposed, |_, pset| {
        pset.add_input(Input::from_prevout(mine));
    });
    let error = taker_refused(
        &d,
        accept_json(&d, &extra),
        "own_coin_in_offer",
        "the offer's input 1 spends this wallet's coin ",
    );
    assert!(error["message"].as_str().unwrap().contains("coin of yours"));
}

#[test]
fn taker_refuses_a_fee_too_high_or_left_to_it() {
    let d = Desks::start(false);
    let proposed = d.proposed(&["--fee-payer", "maker", "--fee-rate", "0.1"]);
    let fixed = serde_json::from_str::<Value>(&proposed).unwrap()["terms"]["fee"]
        .as_u64()
        .unwrap();
    assert!(fixed > 0 && fixed < 1_000, "{fixed}");
    // The maker's part pays a fee of 0.01 L-BTC: far beyond 10 sat/vB.
    let huge = edit(&proposed, |doc, pset| {
        doc["terms"]["fee"] = json!(fixed + 1_000_000);
        let i = change_index(pset, &d.policy);
        let out = &mut pset.outputs_mut()[i];
        out.amount = Some(out.amount.unwrap() - 1_000_000);
    });
    taker_refused(
        &d,
        accept_json(&d, &huge),
        "fee_too_high",
        " sat is above the cap of ",
    );
    // The terms say the maker pays, but its part does not fund the fee.
    let unpaid = edit(&proposed, |_, pset| {
        let i = change_index(pset, &d.policy);
        let out = &mut pset.outputs_mut()[i];
        out.amount = Some(out.amount.unwrap() + fixed);
    });
    let error = taker_refused(
        &d,
        accept_json(&d, &unpaid),
        "fee_payer",
        "sat its terms say the maker pays: you would",
    );
    assert!(error["message"].as_str().unwrap().contains("fee"));
    // The taker's own fee rate beyond the cap.
    d.cancel(true, &deal_id(&proposed)).ok();
    let taker_pays = d.proposed(&[]);
    taker_refused(
        &d,
        d.accept(&taker_pays, &["--json", "--fee-rate", "50"]),
        "fee_too_high",
        " sat is above the cap of ",
    );
}

#[test]
fn taker_refuses_the_wrong_network_an_unknown_version_and_expiry() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let testnet = edit(&proposed, |doc, _| doc["network"] = json!("liquidtestnet"));
    taker_refused(
        &d,
        accept_json(&d, &testnet),
        "wrong_network",
        "the offer is for liquidtestnet, this wallet is on regtest",
    );
    let genesis = edit(&proposed, |doc, _| {
        doc["genesis_hash"] = json!("11".repeat(32))
    });
    taker_refused(
        &d,
        accept_json(&d, &genesis),
        "wrong_network",
        "refused: the offer is bound to the chain with genesis block 1111",
    );
    let v2 = edit(&proposed, |doc, _| doc["version"] = json!(2));
    taker_refused(
        &d,
        accept_json(&d, &v2),
        "unknown_version",
        "the envelope is version 2; this build reads version 1",
    );
    // Two hours later (the offer lasts one): expired.
    let pass = d.taker.pass();
    let late = d.run_env(
        false,
        &[
            "--json",
            "--yes",
            "offer",
            "accept",
            "-",
            "--passphrase-file",
            &pass,
        ],
        Some(&proposed),
        &[("LIQUID_OTC_CLOCK_OFFSET", "7200")],
    );
    let error = taker_refused(&d, late, "expired", "expired 1h 0m ago");
    assert!(error["message"].as_str().unwrap().contains("expired"));
    // A ticker in an envelope is not part of any version: refused as malformed (exit 2).
    let ticker = edit(&proposed, |doc, _| doc["ticker"] = json!("USDT"));
    accept_json(&d, &ticker).fails_json(
        2,
        "invalid_offer",
        "the envelope is malformed: unknown field `ticker`",
    );
    d.accept("not an envelope", &["--json"]).fails_json(
        2,
        "invalid_offer",
        "not a DvP offer: not JSON",
    );
}

#[test]
fn taker_refuses_terms_that_disagree_with_the_pset_and_overflows() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let terms = edit(&proposed, |doc, _| {
        doc["terms"]["maker_receives"]["amount"] = json!(14_000_000)
    });
    taker_refused(
        &d,
        accept_json(&d, &terms),
        "terms_mismatch",
        "the terms say 14000000 base units of asset",
    );
    let beyond = edit(&proposed, |doc, _| {
        doc["terms"]["maker_gives"]["amount"] = json!(2_100_000_000_000_001u64)
    });
    taker_refused(
        &d,
        accept_json(&d, &beyond),
        "amount_overflow",
        "the terms ask for 2100000000000001 base units to the taker, more than any asset can have",
    );
    let max = edit(&proposed, |doc, _| {
        doc["terms"]["maker_gives"]["amount"] = json!(u64::MAX)
    });
    taker_refused(
        &d,
        accept_json(&d, &max),
        "amount_overflow",
        "the terms ask for 18446744073709551615 base units to the taker",
    );
    let output = edit(&proposed, |_, pset| {
        pset.outputs_mut()[0].amount = Some(u64::MAX);
    });
    taker_refused(&d, accept_json(&d, &output), "amount_overflow", "the offer holds an amount of 18446744073709551615 base units, more than any asset can have");
}

#[test]
fn taker_refuses_revealed_data_that_does_not_reopen_the_coins() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let blinder = edit(&proposed, |doc, _| {
        doc["maker_inputs"][0]["value_blinder"] = json!("01".repeat(32));
    });
    taker_refused(
        &d,
        accept_json(&d, &blinder),
        "bad_unblinding_data",
        "the unblinding data the offer reveals for its input 0",
    );
    let value = edit(&proposed, |doc, _| {
        let v = doc["maker_inputs"][0]["value"].as_u64().unwrap();
        doc["maker_inputs"][0]["value"] = json!(v + 1);
    });
    taker_refused(
        &d,
        accept_json(&d, &value),
        "bad_unblinding_data",
        "the unblinding data the offer reveals for its input 0",
    );
}

#[test]
fn taker_refuses_an_output_to_its_script_blinded_to_another_key() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let mine: elements::Address = d.address(false).parse().unwrap();
    // The maker's receiving output goes to the taker's script, still blinded to the maker's
    // key: the taker could never spend what it would count as received.
    let trap = edit(&proposed, |_, pset| {
        pset.outputs_mut()[0].script_pubkey = mine.script_pubkey();
    });
    taker_refused(
        &d,
        accept_json(&d, &trap),
        "unreadable_own_output",
        "output 0 pays this wallet but does not unblind with its keys",
    );
}

// ---- the maker is the victim ---------------------------------------------------------------

#[test]
fn maker_refuses_an_amount_short_by_one() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let short = hostile_accept(&d, &proposed, |doc, pset| {
        let out = &mut pset.outputs_mut()[0];
        out.amount = Some(out.amount.unwrap() - 1);
        doc["terms"]["maker_receives"]["amount"] = json!(14_999_999);
    });
    let error = maker_refused(&d, settle_json(&d, &short), "terms_mismatch", "this wallet's net effect is not what the terms say: the transaction gives you 14999999 base units of asset", &short);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("gives you 14999999 base units of asset"),
        "{error}"
    );
}

#[test]
fn maker_refuses_being_paid_in_another_asset() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let cad = elements::AssetId::from_str(&d.cad).unwrap();
    let other = hostile_accept(&d, &proposed, |doc, pset| {
        pset.outputs_mut()[0].asset = Some(cad);
        pset.outputs_mut()[0].amount = Some(1_000);
        doc["terms"]["maker_receives"] = json!({ "asset": d.cad, "amount": 1_000 });
    });
    maker_refused(
        &d,
        settle_json(&d, &other),
        "terms_mismatch",
        "the transaction gives you 1000 base units of asset ",
        &other,
    );
}

#[test]
fn maker_refuses_an_extra_input_of_its_own() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let accepted = d.accepted(&proposed);
    // The maker's other coin (0.5 L-BTC), not in the deal.
    d.run(true, &["sync"], None).ok();
    let utxos = d.run(true, &["--json", "utxos"], None).ok().json();
    let free = utxos
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["reserved_by"].is_null() && u["value"] == 50_000_000)
        .unwrap();
    let outpoint = OutPoint::from_str(free["outpoint"].as_str().unwrap()).unwrap();
    let txout = d.node.get_tx(&outpoint.txid).unwrap().output[outpoint.vout as usize].clone();
    let extra = edit(&accepted, |_, pset| {
        let mut input = Input::from_prevout(outpoint);
        input.witness_utxo = Some(txout);
        pset.add_input(input);
    });
    let error = maker_refused(
        &d,
        settle_json(&d, &extra),
        "extra_own_input",
        "the transaction also spends this wallet's coin(s) ",
        &accepted,
    );
    assert!(error["message"]
        .as_str()
        .unwrap()
        .contains("did not put in the deal"));
}

#[test]
fn maker_refuses_an_output_taking_its_change() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let thief = d.thief_address();
    let stolen = hostile_accept(&d, &proposed, |_, pset| {
        let i = change_index(pset, &d.policy);
        let out = &mut pset.outputs_mut()[i];
        out.script_pubkey = thief.script_pubkey();
        out.blinding_key = thief
            .blinding_pubkey
            .map(|inner| elements::bitcoin::PublicKey {
                inner,
                compressed: true,
            });
    });
    let error = maker_refused(&d, settle_json(&d, &stolen), "terms_mismatch", "this wallet's net effect is not what the terms say: the transaction takes 2.0 L-BTC from you, the terms say 1.5 L-BTC", &stolen);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("takes 2.0 L-BTC from you, the terms say 1.5 L-BTC"),
        "{error}"
    );
}

#[test]
fn maker_refuses_a_fee_left_to_it() {
    let d = Desks::start(false);
    // The terms say the taker pays; the hostile taker makes the maker's part pay 2,000 sat.
    let proposed = d.proposed(&[]);
    let shifted = hostile_accept(&d, &proposed, |doc, pset| {
        doc["terms"]["fee_payer"] = json!("maker");
        doc["terms"]["fee"] = json!(2_000);
        let i = change_index(pset, &d.policy);
        let out = &mut pset.outputs_mut()[i];
        out.amount = Some(out.amount.unwrap() - 2_000);
    });
    let error = maker_refused(
        &d,
        settle_json(&d, &shifted),
        "fee_payer",
        "sat; the terms say the taker pays it",
        &shifted,
    );
    assert!(error["message"].as_str().unwrap().contains("taker pays it"));
}

#[test]
fn maker_refuses_a_sighash_other_than_all_on_its_input() {
    let d = Desks::start(false);
    let accepted = d.accepted(&d.proposed(&[]));
    let single = edit(&accepted, |_, pset| {
        pset.inputs_mut()[0].sighash_type = Some(PsbtSighashType::from(
            EcdsaSighashType::SinglePlusAnyoneCanPay,
        ));
    });
    let error = maker_refused(&d, settle_json(&d, &single), "sighash", "input 0 asks for signature hash PsbtSighashType { inner: 131 }; this wallet signs only SIGHASH_ALL", &accepted);
    assert!(error["message"].as_str().unwrap().contains("SIGHASH_ALL"));
    // A witness on the maker's input that the maker never made.
    let witnessed = edit(&accepted, |_, pset| {
        pset.inputs_mut()[0].final_script_witness = Some(vec![vec![1u8; 72], vec![2u8; 33]].into());
    });
    maker_refused(
        &d,
        settle_json(&d, &witnessed),
        "pset_problem",
        "input 0 spends this wallet's coin but carries a witness it never made",
        &accepted,
    );
}

#[test]
fn maker_refuses_changed_terms_network_and_expiry() {
    let d = Desks::start(false);
    let accepted = d.accepted(&d.proposed(&[]));
    let terms = edit(&accepted, |doc, _| {
        doc["terms"]["maker_gives"]["amount"] = json!(150_000_001)
    });
    maker_refused(
        &d,
        settle_json(&d, &terms),
        "envelope_terms",
        "the envelope's terms or times are not those of the offer this wallet made",
        &accepted,
    );
    let later = edit(&accepted, |doc, _| {
        let e = doc["expires_at"].as_u64().unwrap();
        doc["expires_at"] = json!(e + 86_400);
    });
    maker_refused(
        &d,
        settle_json(&d, &later),
        "envelope_terms",
        "the envelope's terms or times are not those of the offer this wallet made",
        &accepted,
    );
    let network = edit(&accepted, |doc, _| {
        doc["genesis_hash"] = json!("22".repeat(32))
    });
    maker_refused(
        &d,
        settle_json(&d, &network),
        "wrong_network",
        "refused: the offer is bound to the chain with genesis block 2222",
        &accepted,
    );
    let pass = d.maker.pass();
    let late = d.run_env(
        true,
        &[
            "--json",
            "--yes",
            "offer",
            "settle",
            "-",
            "--passphrase-file",
            &pass,
        ],
        Some(&accepted),
        &[("LIQUID_OTC_CLOCK_OFFSET", "7200")],
    );
    maker_refused(&d, late, "expired", "expired 1h 0m ago", &accepted);
    // A proposed envelope is not a settlement.
    d.cancel(true, &deal_id(&accepted)).ok();
    let proposed = d.proposed(&[]);
    settle_json(&d, &proposed).fails_json(
        3,
        "wrong_stage",
        "this envelope is the offer as proposed: the taker has not accepted (signed) it yet",
    );
}

#[test]
fn maker_refuses_an_output_to_its_script_blinded_to_another_key() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let thief = d.thief_address();
    let blinded = hostile_accept(&d, &proposed, |_, pset| {
        pset.outputs_mut()[0].blinding_key =
            thief
                .blinding_pubkey
                .map(|inner| elements::bitcoin::PublicKey {
                    inner,
                    compressed: true,
                });
    });
    maker_refused(
        &d,
        settle_json(&d, &blinded),
        "unreadable_own_output",
        "output 0 pays this wallet but does not unblind with its keys",
        &blinded,
    );
}

#[test]
fn maker_refuses_a_transaction_changed_after_the_taker_signed() {
    let d = Desks::start(false);
    let accepted = d.accepted(&d.proposed(&[]));
    let thief = d.thief_address();
    // The taker's own receiving output redirected: nothing of the maker's changes, but the
    // taker's signatures no longer verify.
    let changed = edit(&accepted, |_, pset| {
        let n = pset.outputs().len();
        pset.outputs_mut()[n - 2].script_pubkey = thief.script_pubkey();
    });
    maker_refused(
        &d,
        settle_json(&d, &changed),
        "bad_signature",
        "the counterparty's input 1 has a signature that does not verify",
        &accepted,
    );
    // Unsigned taker inputs: refused the same way.
    let unsigned = edit(&accepted, |_, pset| {
        let n = pset.inputs().len();
        pset.inputs_mut()[n - 1].final_script_witness = None;
    });
    maker_refused(
        &d,
        settle_json(&d, &unsigned),
        "bad_signature",
        "the counterparty's input 2 is not signed",
        &accepted,
    );
    // And the untouched envelope still settles.
    let txid = d.settle(&accepted, &[]).ok().stdout.trim().to_string();
    assert!(d.node.get_tx(&Txid::from_str(&txid).unwrap()).is_some());
}

#[test]
fn taker_refuses_an_offer_of_coins_the_chain_does_not_have() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    // The maker's coin moved to a transaction nobody has: the same revealed data, the same
    // spent output, another outpoint.
    let made_up = Txid::from_str(&"ab".repeat(32)).unwrap();
    let ghost = edit(&proposed, |doc, pset| {
        let vout = pset.inputs()[0].previous_output_index;
        pset.inputs_mut()[0].previous_txid = made_up;
        doc["maker_inputs"][0]["outpoint"] = json!(format!("{made_up}:{vout}"));
    });
    let error = taker_refused(
        &d,
        accept_json(&d, &ghost),
        "unknown_maker_coin",
        "the server cannot give the transactions of the offer's coins",
    );
    assert!(
        error["message"].as_str().unwrap().contains("cannot give"),
        "{error}"
    );
}

// ---- time locks: a settlement valid only later, at a time the other side chose -------------

/// A hostile taker signs its inputs again after changing the accepted transaction (with the
/// keys of its own wallet, derived from its mnemonic): the maker then sees valid signatures
/// of the taker on the changed transaction.
fn resign_taker(pset: &mut PartiallySignedTransaction, maker_inputs: usize) {
    use elements::bitcoin::bip32::{DerivationPath, Xpriv};
    use elements::secp256k1_zkp::{Message, Secp256k1};
    use elements::sighash::SighashCache;
    let secp = Secp256k1::new();
    let seed = bip39::Mnemonic::parse(OTHER).unwrap().to_seed("");
    let master = Xpriv::new_master(elements::bitcoin::NetworkKind::Test, &seed).unwrap();
    let keys: Vec<_> = (0..2)
        .flat_map(|chain| (0..40).map(move |i| (chain, i)))
        .map(|(chain, i)| {
            let path = DerivationPath::from_str(&format!("m/84'/1'/0'/{chain}/{i}")).unwrap();
            let secret = master.derive_priv(&secp, &path).unwrap().private_key;
            let public = elements::bitcoin::PublicKey::new(secret.public_key(&secp));
            let script =
                elements::Address::p2wpkh(&public, None, &elements::AddressParams::ELEMENTS)
                    .script_pubkey();
            (script, secret, public)
        })
        .collect();
    let tx = pset.extract_tx().unwrap();
    for i in maker_inputs..pset.inputs().len() {
        let coin = pset.inputs()[i].witness_utxo.clone().unwrap();
        let (_, secret, public) = keys
            .iter()
            .find(|(script, ..)| *script == coin.script_pubkey)
            .expect("a coin of the taker");
        let mut code = vec![0x76, 0xa9, 0x14];
        code.extend_from_slice(&coin.script_pubkey.as_bytes()[2..22]);
        code.extend_from_slice(&[0x88, 0xac]);
        let sighash = SighashCache::new(&tx).segwitv0_sighash(
            i,
            &elements::Script::from(code),
            coin.value,
            EcdsaSighashType::All,
        );
        let message = Message::from_digest(sighash.to_byte_array());
        let mut signature = secp.sign_ecdsa(&message, secret).serialize_der().to_vec();
        signature.push(EcdsaSighashType::All as u8);
        pset.inputs_mut()[i].final_script_witness = Some(vec![signature, public.to_bytes()].into());
    }
}

/// The accepted envelope changed by a hostile taker with `change`, its inputs signed again.
fn hostile_resigned(
    accepted: &str,
    change: impl FnOnce(&mut PartiallySignedTransaction, usize),
) -> String {
    edit(accepted, |doc, pset| {
        let maker_inputs = doc["maker_inputs"].as_array().unwrap().len();
        change(pset, maker_inputs);
        resign_taker(pset, maker_inputs);
    })
}

#[test]
fn maker_refuses_a_settlement_that_waits_for_a_lock_time() {
    let d = Desks::start(false);
    let accepted = d.accepted(&d.proposed(&[]));
    // The audit's attack: lock time 1000 (the tip is at 2), the taker's inputs at
    // 0xfffffffe so that it applies, the taker's signatures made again.
    let later = hostile_resigned(&accepted, |pset, maker_inputs| {
        pset.global.tx_data.fallback_locktime = Some(LockTime::from_consensus(1_000));
        for input in pset.inputs_mut().iter_mut().skip(maker_inputs) {
            input.sequence = Some(Sequence::ENABLE_LOCKTIME_NO_RBF);
        }
    });
    let error = maker_refused(
        &d,
        settle_json(&d, &later),
        "timelock",
        "refused: the transaction cannot be mined before block 1000: a deal settles at once",
        &later,
    );
    assert!(
        error["hints"][0]
            .as_str()
            .unwrap()
            .contains("nothing was signed"),
        "{error}"
    );
    // A lock time in seconds, said as a date.
    let dated = hostile_resigned(&accepted, |pset, _| {
        pset.global.tx_data.fallback_locktime = Some(LockTime::from_consensus(4_102_444_800));
    });
    maker_refused(
        &d,
        settle_json(&d, &dated),
        "timelock",
        "the transaction cannot be mined before 2100-01-01 00:00:00 UTC: a deal settles at once",
        &dated,
    );
    // The same asked by an input's own field (PSET v2).
    let required = hostile_resigned(&accepted, |pset, maker_inputs| {
        pset.inputs_mut()[maker_inputs].required_height_locktime =
            Some(elements::locktime::Height::from_consensus(1_000).unwrap());
    });
    maker_refused(
        &d,
        settle_json(&d, &required),
        "timelock",
        "input 1 asks that the transaction not be mined before block 1000: a deal settles at once",
        &required,
    );
    // A relative lock time (BIP68) on the maker's own input.
    let relative = hostile_resigned(&accepted, |pset, _| {
        pset.inputs_mut()[0].sequence = Some(Sequence(0x0000_ffff));
    });
    maker_refused(
        &d,
        settle_json(&d, &relative),
        "timelock",
        "input 0 cannot be spent until 65535 block(s) after its coin was mined (sequence \
         0x0000ffff, a relative lock time): a deal settles at once",
        &relative,
    );
    // The untouched envelope still settles.
    d.settle(&accepted, &[]).ok();
}

#[test]
fn taker_refuses_an_offer_that_waits_for_a_lock_time() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    // The maker's input carries a relative time lock.
    let relative = edit(&proposed, |_, pset| {
        pset.inputs_mut()[0].sequence = Some(Sequence(0x0000_ffff));
    });
    taker_refused(
        &d,
        accept_json(&d, &relative),
        "timelock",
        "refused: input 0 cannot be spent until 65535 block(s) after its coin was mined",
    );
    let seconds = edit(&proposed, |_, pset| {
        pset.inputs_mut()[0].sequence = Some(Sequence(0x0040_0002));
    });
    taker_refused(
        &d,
        accept_json(&d, &seconds),
        "timelock",
        "input 0 cannot be spent until 17m 4s after its coin was mined",
    );
    let odd = edit(&proposed, |_, pset| {
        pset.inputs_mut()[0].sequence = Some(Sequence(0xffff_fffd));
    });
    taker_refused(
        &d,
        accept_json(&d, &odd),
        "timelock",
        "input 0 has sequence 0xfffffffd; a deal's inputs have 0xffffffff or 0xfffffffe",
    );
    let later = edit(&proposed, |_, pset| {
        pset.global.tx_data.fallback_locktime = Some(LockTime::from_consensus(1_000));
    });
    taker_refused(
        &d,
        accept_json(&d, &later),
        "timelock",
        "refused: the transaction cannot be mined before block 1000: a deal settles at once",
    );
    // 0xfffffffe with lock time 0 is what other wallets write: accepted.
    let fine = edit(&proposed, |_, pset| {
        pset.inputs_mut()[0].sequence = Some(Sequence::ENABLE_LOCKTIME_NO_RBF);
    });
    d.accept(&fine, &[]).ok();
}

// ---- times no honest maker writes ----------------------------------------------------------

#[test]
fn taker_refuses_an_offer_open_too_long_or_made_in_the_future() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let created = serde_json::from_str::<Value>(&proposed).unwrap()["created_at"]
        .as_u64()
        .unwrap();
    let forever = edit(&proposed, |doc, _| {
        doc["expires_at"] = json!(4_102_444_800u64)
    });
    let error = taker_refused(
        &d,
        accept_json(&d, &forever),
        "bad_times",
        "refused: the offer stays open until 2100-01-01 00:00:00 UTC: more than 30 days, the \
         longest an offer may last; you would be exposed that long",
    );
    assert!(
        error["hints"][0]
            .as_str()
            .unwrap()
            .contains("within 30 days"),
        "{error}"
    );
    // Made 4 months from now.
    let future = edit(&proposed, |doc, _| {
        doc["created_at"] = json!(created + 120 * 86_400);
        doc["expires_at"] = json!(created + 120 * 86_400 + 3_600);
    });
    taker_refused(
        &d,
        accept_json(&d, &future),
        "bad_times",
        "from now: a clock cannot be that far ahead",
    );
    // Open 31 days from its creation.
    let long = edit(&proposed, |doc, _| {
        doc["expires_at"] = json!(created + 31 * 86_400)
    });
    taker_refused(&d, accept_json(&d, &long), "bad_times", "more than 30 days");
    // Times the ledger cannot hold: malformed, before any passphrase or signature.
    let max = edit(&proposed, |doc, _| doc["expires_at"] = json!(u64::MAX));
    accept_json(&d, &max).fails_json(2, "invalid_offer", "up to 9223372036854775807");
    assert!(d.deals(false).is_empty());
    assert!(d.reserved(false).is_empty());
    // The maker's clock 1 minute ahead is fine.
    let skewed = edit(&proposed, |doc, _| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        doc["created_at"] = json!(now + 60);
        doc["expires_at"] = json!(now + 60 + 3_600);
    });
    d.accept(&skewed, &[]).ok();
}
