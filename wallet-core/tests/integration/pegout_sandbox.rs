//! Peg-out transactions built by wallet-core: the output matches elementsd's
//! `sendtomainchain` byte for byte, the embedded chain accepts them (one, or several where
//! the chain relays several data outputs), and the check before signing refuses every
//! transaction that does not pay exactly the requested peg-outs.

use crate::common::test_wallet::{assert_fee_covers, sandbox, TestWallet, COIN};

use elements::encode::{deserialize, serialize};
use elements::{Address, Txid};
use regtest::{Sandbox, SandboxConfig};
use wallet_core::descriptor::{Keychain, ScriptKind};
use wallet_core::network::Network;
use wallet_core::ops::pegout::check_pegouts;
use wallet_core::pegout::{parse_btc_address, pegout_txout, read_pegout};
use wallet_core::pset::{script_map, view, PsetView, WalletKnowledge};
use wallet_core::store::OwnedCoin;
use wallet_core::tx::{
    build_payment, build_pegouts, FeeRate, OutputRole, Payment, PaymentRequest, PegoutBatch,
    PegoutOutput, Recipient, Spendable, WalletContext,
};
use wallet_core::Error;

/// The Bitcoin regtest address of the fixture's peg-out (the fixture wallet's external/0 key).
const FIXTURE_BTC: &str = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk";

#[test]
fn pegout_output_matches_elementsd_byte_for_byte() {
    let Some(dir) = crate::common::shared_dir("fixtures/electrs-liquidregtest") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("elementsd/getrawtransaction_pegout_verbose.json"))
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    let tx: elements::Transaction =
        deserialize(&crate::common::unhex(doc["hex"].as_str().unwrap())).unwrap();
    assert_eq!(
        tx.txid().to_string(),
        "9bd8761e3077c575d6a421809de4b5f27ed5c9e7a4cf0368df973b7ad3d5d528"
    );
    let policy = Network::Regtest.default_policy_asset();
    let dest = parse_btc_address(FIXTURE_BTC, Network::Regtest).unwrap();
    let ours = pegout_txout(Network::Regtest, policy, &dest.script, 30_000_000);
    assert_eq!(serialize(&ours), serialize(&tx.output[1]));
    assert_eq!(
        crate::common::hex(ours.script_pubkey.as_bytes()),
        doc["vout"][1]["scriptPubKey"]["hex"].as_str().unwrap()
    );
    assert_eq!(
        read_pegout(&tx.output[1], Network::Regtest, policy),
        Some((30_000_000, dest.script.clone()))
    );
    // The change and fee outputs of that transaction are not peg-outs.
    assert_eq!(read_pegout(&tx.output[0], Network::Regtest, policy), None);
    assert_eq!(read_pegout(&tx.output[2], Network::Regtest, policy), None);
}

/// A sandbox and the "abandon" wallet holding one confirmed coin of 1 L-BTC at external/0.
fn funded(sandbox: &Sandbox) -> (TestWallet, Vec<Spendable>) {
    let w = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let funding = w.address(Keychain::External, 0);
    let txid: Txid = sandbox.faucet(&funding, COIN, None).unwrap();
    sandbox.mine(1).unwrap();
    let coins = w.coins_of(&sandbox.get_tx(&txid).unwrap());
    (w, coins)
}

fn destinations() -> Vec<PegoutOutput> {
    [
        (FIXTURE_BTC, 30_000_000),
        ("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", 100_000),
        ("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", 12_345_678),
    ]
    .into_iter()
    .map(|(a, v)| PegoutOutput {
        parent_script: parse_btc_address(a, Network::Regtest).unwrap().script,
        value: v,
    })
    .collect()
}

fn batch(outputs: Vec<PegoutOutput>) -> PegoutBatch {
    PegoutBatch {
        outputs,
        pinned: Vec::new(),
        fee_rate: FeeRate::MIN,
    }
}

/// The wallet's view of `payment` (its inputs are its coins).
fn view_of(w: &TestWallet, sandbox: &Sandbox, payment: &Payment) -> PsetView {
    let coins = payment
        .inputs
        .iter()
        .map(|u| {
            (
                u.outpoint,
                OwnedCoin {
                    txout: u.txout.clone(),
                    secrets: u.secrets,
                    keychain: u.keychain,
                    index: u.index,
                },
            )
        })
        .collect();
    let scripts = script_map(&w.descriptor, 40, 40).unwrap();
    let know = WalletKnowledge {
        descriptor: &w.descriptor,
        network: Network::Regtest,
        policy_asset: sandbox.policy_asset(),
        coins: &coins,
        scripts: &scripts,
    };
    view(&payment.pset, &know).unwrap()
}

#[test]
fn one_pegout_is_accepted_and_recorded_by_the_chain() {
    let sandbox = sandbox();
    let (mut w, coins) = funded(&sandbox);
    let wanted = destinations()[..1].to_vec();
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_pegouts(ctx, &coins, &batch(wanted.clone()), change)
        })
        .unwrap();
    assert_fee_covers(&payment, &tx);
    let view = view_of(&w, &sandbox, &payment);
    let vouts = check_pegouts(
        &view,
        &payment.pset,
        Network::Regtest,
        sandbox.policy_asset(),
        &wanted,
    )
    .unwrap();
    assert_eq!(
        payment.outputs[vouts[0] as usize].role,
        OutputRole::Pegout(0)
    );
    // Confidential change, explicit peg-out, explicit fee.
    assert!(tx.output.iter().any(|o| o.value.is_confidential()));
    let txid = sandbox.broadcast(tx).unwrap();
    sandbox.mine(1).unwrap();
    assert_eq!(
        sandbox.pegouts(),
        vec![(
            txid,
            vouts[0],
            30_000_000,
            wanted[0].parent_script.to_bytes()
        )]
    );
}

#[test]
fn a_batch_needs_a_chain_that_relays_several_data_outputs() {
    for multi in [false, true] {
        let sandbox = Sandbox::start(SandboxConfig {
            fixed_clock: Some(1_700_000_000),
            multi_data_permitted: multi,
            ..SandboxConfig::default()
        })
        .unwrap();
        let (mut w, coins) = funded(&sandbox);
        let wanted = destinations();
        let (payment, tx) = w
            .build_signed(&sandbox, |ctx, change| {
                build_pegouts(ctx, &coins, &batch(wanted.clone()), change)
            })
            .unwrap();
        let view = view_of(&w, &sandbox, &payment);
        let vouts = check_pegouts(
            &view,
            &payment.pset,
            Network::Regtest,
            sandbox.policy_asset(),
            &wanted,
        )
        .unwrap();
        let result = sandbox.broadcast(tx);
        if !multi {
            // elementsd's policy without -multi_data_permitted: one OP_RETURN per transaction.
            let err = result.unwrap_err();
            assert!(
                matches!(&err, regtest::Error::Rejected(m) if m.ends_with("-26: multi-op-return")),
                "{err:?}"
            );
            continue;
        }
        let txid = result.unwrap();
        sandbox.mine(1).unwrap();
        let mut got = sandbox.pegouts();
        got.sort();
        let mut want: Vec<_> = wanted
            .iter()
            .zip(&vouts)
            .map(|(p, v)| (txid, *v, p.value, p.parent_script.to_bytes()))
            .collect();
        want.sort();
        assert_eq!(got, want);
    }
}

#[test]
fn the_check_before_signing_refuses_anything_but_the_requested_pegouts() {
    let sandbox = sandbox();
    let (mut w, coins) = funded(&sandbox);
    let wanted = destinations()[..2].to_vec();
    let policy = sandbox.policy_asset();
    let (payment, _) = w
        .build_signed(&sandbox, |ctx, change| {
            build_pegouts(ctx, &coins, &batch(wanted.clone()), change)
        })
        .unwrap();
    let view = view_of(&w, &sandbox, &payment);
    let check = |expected: &[PegoutOutput]| {
        check_pegouts(&view, &payment.pset, Network::Regtest, policy, expected)
    };
    check(&wanted).unwrap();
    let refused = |r: Result<Vec<u32>, Error>, needle: &str| match r {
        Err(Error::Refused(m)) => assert!(m.contains(needle), "{m}"),
        other => panic!("expected a refusal mentioning {needle:?}, got {other:?}"),
    };
    // One sat more or less than asked.
    let mut more = wanted.clone();
    more[1].value += 1;
    refused(check(&more), "does not pay peg-out 1 exactly");
    // Another Bitcoin script.
    let mut elsewhere = wanted.clone();
    elsewhere[0].parent_script = destinations()[2].parent_script.clone();
    refused(check(&elsewhere), "does not pay peg-out 0 exactly");
    // Fewer or more peg-outs in the transaction than asked.
    refused(check(&wanted[..1]), "beyond the 1 requested");
    refused(check(&destinations()), "2 of 3 peg-outs");
    // The same peg-outs in another order.
    let swapped = vec![wanted[1].clone(), wanted[0].clone()];
    refused(check(&swapped), "exactly");

    // A payment to a stranger is not a peg-out, whatever it pays.
    let stranger: Address = TestWallet::new(
        "legal winner thank year wave sausage worth useful legal winner thank yellow",
        ScriptKind::Wpkh,
    )
    .address(Keychain::External, 0);
    let ctx = WalletContext {
        descriptor: &w.descriptor,
        network: Network::Regtest,
        policy_asset: policy,
    };
    let mut next = 50u32;
    let descriptor = w.descriptor.clone();
    let mut change = || {
        next += 1;
        Ok((
            next,
            descriptor.address(Keychain::Internal, next, Network::Regtest)?,
        ))
    };
    let paying = build_payment(
        &ctx,
        &coins,
        &PaymentRequest {
            recipients: vec![Recipient {
                address: stranger,
                value: 30_000_000,
                asset: policy,
            }],
            fee_rate: FeeRate::MIN,
            drain: false,
        },
        &mut change,
    )
    .unwrap();
    let view = view_of(&w, &sandbox, &paying);
    refused(
        check_pegouts(&view, &paying.pset, Network::Regtest, policy, &wanted[..1]),
        "pays something other than a requested peg-out",
    );

    // A peg-out to mainnet's genesis hash is a burn nobody pays: not the requested peg-out.
    let mut tampered = payment.clone();
    let vout = tampered
        .outputs
        .iter()
        .position(|o| o.role == OutputRole::Pegout(0))
        .unwrap();
    tampered.pset.outputs_mut()[vout].script_pubkey =
        pegout_txout(Network::Liquid, policy, &wanted[0].parent_script, 1).script_pubkey;
    let view = view_of(&w, &sandbox, &tampered);
    refused(
        check_pegouts(&view, &tampered.pset, Network::Regtest, policy, &wanted),
        "pays something other than a requested peg-out",
    );
}

#[test]
fn pinned_coins_are_spent_whatever_selection_would_pick() {
    let sandbox = sandbox();
    let (mut w, mut coins) = funded(&sandbox);
    // A second, smaller coin: largest-first selection alone would never pick it.
    let small = w.address(Keychain::External, 1);
    let txid = sandbox.faucet(&small, 2_000_000, None).unwrap();
    sandbox.mine(1).unwrap();
    let small_coin = w.coin(&sandbox, &txid, Keychain::External, 1);
    coins.push(small_coin.clone());
    let wanted = destinations()[..1].to_vec();
    let mut pinned = batch(wanted.clone());
    pinned.pinned = vec![small_coin.clone()];
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_pegouts(ctx, &coins, &pinned, change)
        })
        .unwrap();
    assert!(tx
        .input
        .iter()
        .any(|i| i.previous_output == small_coin.outpoint));
    assert_eq!(payment.inputs.len(), 2, "the pinned coin and one to pay");
    sandbox.broadcast(tx).unwrap();
}
