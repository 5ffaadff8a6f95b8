//! The signing invariant, tried against many hostile PSETs: whatever the wallet signs, it
//! counted in its view, for the coin it recorded. An honest two-input payment is mutated in
//! its input fields (outpoint flags, spent-output fields, key origins, scripts, sighash
//! types, duplicated or reordered inputs, issuances) by a seeded generator; for every
//! mutation the view is computed and, when approved, signed; every signature made must be on
//! an input the view counted as the wallet's and must verify against the sighash of the
//! stored coin (its value commitment and the descriptor's script code), not whatever the PSET
//! claims.

use std::collections::HashMap;

use crate::common::test_wallet::{sandbox, TestWallet, COIN};
use elements::bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint};
use elements::pset::{PartiallySignedTransaction, PsbtSighashType};
use elements::secp256k1_zkp::{ecdsa::Signature, Message, Secp256k1};
use elements::sighash::SighashCache;
use elements::{EcdsaSighashType, OutPoint, Txid};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wallet_core::descriptor::{Keychain, ScriptKind};
use wallet_core::network::Network;
use wallet_core::pset::{approve, script_map, view, Allowed, Owner, WalletKnowledge};
use wallet_core::store::OwnedCoin;
use wallet_core::tx::{build_payment, sign_pset, FeeRate, PaymentRequest, Recipient};
use wallet_core::Error;

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const ROUNDS: usize = 600;

/// One random change to the input fields of `pset` (`txs`: the funding transactions).
fn mutate(pset: &mut PartiallySignedTransaction, rng: &mut StdRng, txs: &[elements::Transaction]) {
    let n = pset.inputs().len();
    let i = rng.gen_range(0..n);
    match rng.gen_range(0..13) {
        0 => pset.inputs_mut()[i].previous_output_index |= 1 << 31,
        1 => pset.inputs_mut()[i].previous_output_index |= 1 << 30,
        2 => pset.inputs_mut()[i].witness_utxo = None,
        3 => {
            if let Some(u) = pset.inputs_mut()[i].witness_utxo.as_mut() {
                let inner = u.script_pubkey.clone();
                u.script_pubkey = inner.to_p2sh();
                pset.inputs_mut()[i].redeem_script = Some(inner);
            }
        }
        4 => {
            // The spent output of another input (its value, asset and script).
            let j = rng.gen_range(0..n);
            let other = pset.inputs()[j].witness_utxo.clone();
            pset.inputs_mut()[i].witness_utxo = other;
        }
        5 => {
            let tx = txs[rng.gen_range(0..txs.len())].clone();
            pset.inputs_mut()[i].non_witness_utxo = Some(tx);
        }
        6 => {
            let input = &mut pset.inputs_mut()[i];
            let entries: Vec<_> = input.bip32_derivation.keys().copied().collect();
            for pk in entries {
                let (fp, path) = input.bip32_derivation[&pk].clone();
                let mut steps: Vec<ChildNumber> = path.into();
                if let Some(last) = steps.last_mut() {
                    *last = ChildNumber::from_normal_idx(rng.gen_range(0..30)).unwrap();
                }
                input
                    .bip32_derivation
                    .insert(pk, (fp, DerivationPath::from(steps)));
            }
        }
        7 => {
            let input = &mut pset.inputs_mut()[i];
            for (_, (fp, _)) in input.bip32_derivation.iter_mut() {
                *fp = Fingerprint::from([rng.gen(), rng.gen(), rng.gen(), rng.gen()]);
            }
        }
        8 => {
            pset.inputs_mut()[i].sighash_type =
                Some(PsbtSighashType::from_u32(rng.gen_range(0..0x90)))
        }
        9 => {
            let copy = pset.inputs()[i].clone();
            pset.add_input(copy);
        }
        10 => {
            let input = &mut pset.inputs_mut()[i];
            input.issuance_value_amount = Some(rng.gen_range(1..1_000_000));
            input.issuance_asset_entropy = Some(elements::AssetEntropy::from_byte_array(rng.gen()));
        }
        11 => {
            // Another coin, keeping every field that ties it to the wallet.
            pset.inputs_mut()[i].previous_txid = Txid::from_byte_array(rng.gen());
        }
        _ => {
            let input = &mut pset.inputs_mut()[i];
            let script = input
                .witness_utxo
                .as_ref()
                .map(|u| u.script_pubkey.clone())
                .unwrap_or_default();
            input.witness_script = Some(script);
        }
    }
}

#[test]
fn whatever_is_signed_was_counted_for_the_coin_the_wallet_recorded() {
    let sb = sandbox();
    let alice = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let bob = TestWallet::new(OTHER, ScriptKind::Wpkh);
    let mut funding = Vec::new();
    let mut coins = Vec::new();
    for index in 0..2 {
        let txid = sb
            .faucet(&alice.address(Keychain::External, index), COIN, None)
            .unwrap();
        coins.push(alice.coin(&sb, &txid, Keychain::External, index));
        funding.push(sb.get_tx(&txid).unwrap());
    }
    sb.mine(1).unwrap();
    let ctx = wallet_core::tx::WalletContext {
        descriptor: &alice.descriptor,
        network: Network::Regtest,
        policy_asset: sb.policy_asset(),
    };
    let request = PaymentRequest {
        recipients: vec![Recipient {
            address: bob.address(Keychain::External, 0),
            value: 3 * COIN / 2,
            asset: sb.policy_asset(),
        }],
        fee_rate: FeeRate::MIN,
        drain: false,
    };
    let change = alice.address(Keychain::Internal, 0);
    let payment = build_payment(&ctx, &coins, &request, &mut || Ok((0, change.clone()))).unwrap();
    let owned: HashMap<OutPoint, OwnedCoin> = coins
        .iter()
        .map(|c| {
            (
                c.outpoint,
                OwnedCoin {
                    txout: c.txout.clone(),
                    secrets: c.secrets,
                    keychain: c.keychain,
                    index: c.index,
                },
            )
        })
        .collect();
    let scripts = script_map(&alice.descriptor, 20, 20).unwrap();
    let know = WalletKnowledge {
        descriptor: &alice.descriptor,
        network: Network::Regtest,
        policy_asset: sb.policy_asset(),
        coins: &owned,
        scripts: &scripts,
    };
    let secp = Secp256k1::new();
    let mut rng = StdRng::seed_from_u64(0x11_5e7);
    let (mut signed_rounds, mut refused_rounds) = (0, 0);
    for round in 0..ROUNDS {
        let mut pset = payment.pset.clone();
        for _ in 0..rng.gen_range(1..=3) {
            mutate(&mut pset, &mut rng, &funding);
        }
        // A mutated PSET may be refused at any of the three steps, and each step refuses
        // in its own way only: the view when the PSET is no transaction at all, the approval
        // with a reason per input (what it checks), the signer when a field it needs is
        // missing. Anything else (a storage or crypto error, another kind of refusal) fails.
        let seen = match view(&pset, &know) {
            Ok(seen) => seen,
            Err(Error::Transaction(m)) if m.starts_with("the PSET does not form a transaction") => {
                refused_rounds += 1;
                continue;
            }
            Err(e) => panic!("round {round}: the view failed unexpectedly: {e:?}"),
        };
        let plan = match approve(&pset, &seen, &know, Allowed::default()) {
            Ok(plan) => plan,
            Err(Error::Refused(m)) if m.starts_with("nothing was signed: input ") => {
                refused_rounds += 1;
                continue;
            }
            Err(e) => panic!("round {round}: the approval failed unexpectedly: {e:?}"),
        };
        let before: Vec<usize> = pset.inputs().iter().map(|i| i.partial_sigs.len()).collect();
        let mut signed = pset.clone();
        match sign_pset(
            &mut signed,
            &plan,
            &alice.descriptor,
            alice.seed(),
            Network::Regtest,
        ) {
            Ok(_) => {}
            Err(Error::Transaction(m)) if m.starts_with("input ") => {
                refused_rounds += 1;
                continue;
            }
            Err(e) => panic!("round {round}: signing failed unexpectedly: {e:?}"),
        }
        signed_rounds += 1;
        let tx = signed.extract_tx().unwrap();
        let mut cache = SighashCache::new(&tx);
        for (i, input) in signed.inputs().iter().enumerate() {
            if input.partial_sigs.len() == before[i] {
                continue;
            }
            // Signed: it must be counted as the wallet's, for the coin the wallet recorded.
            let outpoint = pset.inputs()[i].previous_outpoint();
            let coin = owned
                .get(&outpoint)
                .unwrap_or_else(|| panic!("round {round}: input {i} signed but not the wallet's"));
            assert!(
                matches!(seen.inputs[i].owner, Owner::Wallet(..)),
                "round {round}: input {i} signed but not counted"
            );
            assert_eq!(seen.inputs[i].secrets, Some(coin.secrets), "round {round}");
            let script_code = alice
                .descriptor
                .spending_descriptor(coin.keychain, coin.index)
                .unwrap()
                .script_code()
                .unwrap();
            let sighash =
                cache.segwitv0_sighash(i, &script_code, coin.txout.value, EcdsaSighashType::All);
            let msg = Message::from_digest(sighash.to_byte_array());
            for (pk, sig) in &input.partial_sigs {
                assert_eq!(sig.last(), Some(&1), "round {round}: SIGHASH_ALL only");
                let sig = Signature::from_der(&sig[..sig.len() - 1]).unwrap();
                secp.verify_ecdsa(&msg, &sig, &pk.inner)
                    .unwrap_or_else(|_| {
                        panic!("round {round}: input {i}'s signature is not for the recorded coin")
                    });
            }
        }
        // Every counted input was signed, and nothing else.
        let counted: Vec<usize> = seen.own_inputs();
        let signed_inputs: Vec<usize> = (0..signed.inputs().len())
            .filter(|i| signed.inputs()[*i].partial_sigs.len() > before[*i])
            .collect();
        assert_eq!(counted, signed_inputs, "round {round}");
    }
    // The generator must exercise both outcomes, or the test proves nothing.
    assert!(
        signed_rounds > 20,
        "only {signed_rounds} mutated PSETs were signed"
    );
    assert!(refused_rounds > 100, "only {refused_rounds} were refused");
    eprintln!("{signed_rounds} mutated PSETs signed, {refused_rounds} refused");
}
