//! Payments built, blinded, signed and finalized by wallet-core, then judged by the embedded
//! regtest chain (a strict validator that shares no code with the wallet).

use crate::common::test_wallet::{assert_fee_covers, sandbox, TestWallet, COIN};

use elements::{Address, AssetId, OutPoint, Transaction};
use regtest::Sandbox;
use wallet_core::descriptor::{Keychain, ScriptKind};
use wallet_core::network::Network;
use wallet_core::store::OwnedCoin;
use wallet_core::tx::{build_payment, FeeRate, OutputRole, PaymentRequest, Recipient, Spendable};
use wallet_core::unblind::{blinding_private_key, unblind_output};
use wallet_core::Error;

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// Payments from a [`TestWallet`].
trait Pay {
    /// Builds `request` from `coins`, signs and finalizes.
    fn pay(
        &mut self,
        sandbox: &Sandbox,
        coins: &[Spendable],
        request: &PaymentRequest,
    ) -> Result<(wallet_core::tx::Payment, Transaction), Error>;
}

impl Pay for TestWallet {
    fn pay(
        &mut self,
        sandbox: &Sandbox,
        coins: &[Spendable],
        request: &PaymentRequest,
    ) -> Result<(wallet_core::tx::Payment, Transaction), Error> {
        self.build_signed(sandbox, |ctx, change| {
            build_payment(ctx, coins, request, change)
        })
    }
}

fn request(recipients: Vec<Recipient>) -> PaymentRequest {
    PaymentRequest {
        recipients,
        fee_rate: FeeRate::MIN,
        drain: false,
    }
}

#[test]
fn confidential_lbtc_payment_is_accepted_and_unblinds_for_both_sides() {
    let sb = sandbox();
    let mut alice = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let bob = TestWallet::new(OTHER, ScriptKind::Wpkh);
    let funding = sb
        .faucet(&alice.address(Keychain::External, 0), COIN, None)
        .unwrap();
    sb.mine(1).unwrap();
    let coin = alice.coin(&sb, &funding, Keychain::External, 0);
    assert_eq!(coin.secrets.value, COIN);

    let to_bob = bob.address(Keychain::External, 0);
    let (payment, tx) = alice
        .pay(
            &sb,
            &[coin],
            &request(vec![Recipient {
                address: to_bob.clone(),
                value: 30_000_000,
                asset: sb.policy_asset(),
            }]),
        )
        .unwrap();
    assert_fee_covers(&payment, &tx);
    assert_eq!(
        payment.net.get(&sb.policy_asset()).copied(),
        Some(-(30_000_000 + payment.fee as i64))
    );
    let txid = sb.broadcast(tx.clone()).unwrap();
    assert_eq!(txid, tx.txid());
    sb.mine(1).unwrap();

    // Bob sees exactly what was sent; Alice's change comes back to internal/0.
    let received = bob.coin(&sb, &txid, Keychain::External, 0);
    assert_eq!(received.secrets.value, 30_000_000);
    assert_eq!(received.secrets.asset, sb.policy_asset());
    assert!(!received.secrets.explicit);
    let change = alice.coin(&sb, &txid, Keychain::Internal, 0);
    assert_eq!(change.secrets.value, COIN - 30_000_000 - payment.fee);
    // Nobody else can read Bob's output.
    let key = blinding_private_key(&alice.descriptor, &received.txout.script_pubkey).unwrap();
    let r = unblind_output(&received.txout, &key);
    assert!(
        matches!(&r, Err(Error::Unblind(m))
            if m.contains("does not open with this wallet's blinding key (failed to rewind rangeproof)")),
        "{r:?}"
    );
}

#[test]
fn asset_payment_pays_fee_in_lbtc_with_change_per_asset() {
    let sb = sandbox();
    let mut alice = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let bob = TestWallet::new(OTHER, ScriptKind::Wpkh);
    let issued = sb.issue(1_000 * COIN, Some("TEST")).unwrap();
    let asset_tx = sb
        .faucet(
            &alice.address(Keychain::External, 1),
            500 * COIN,
            Some(issued.asset),
        )
        .unwrap();
    let lbtc_tx = sb
        .faucet(&alice.address(Keychain::External, 2), 10_000, None)
        .unwrap();
    sb.mine(1).unwrap();
    let coins = vec![
        alice.coin(&sb, &asset_tx, Keychain::External, 1),
        alice.coin(&sb, &lbtc_tx, Keychain::External, 2),
    ];
    let (payment, tx) = alice
        .pay(
            &sb,
            &coins,
            &request(vec![Recipient {
                address: bob.address(Keychain::External, 3),
                value: 200 * COIN,
                asset: issued.asset,
            }]),
        )
        .unwrap();
    assert_fee_covers(&payment, &tx);
    let roles: Vec<OutputRole> = payment.outputs.iter().map(|o| o.role).collect();
    assert_eq!(
        roles.len(),
        4,
        "recipient, asset change, L-BTC change, fee: {roles:?}"
    );
    assert_eq!(
        payment.net.get(&issued.asset).copied(),
        Some(-200 * COIN as i64)
    );
    let txid = sb.broadcast(tx).unwrap();
    sb.mine(1).unwrap();
    let got = bob.coin(&sb, &txid, Keychain::External, 3);
    assert_eq!(
        (got.secrets.value, got.secrets.asset),
        (200 * COIN, issued.asset)
    );
}

#[test]
fn nested_segwit_wallet_spends_and_drain_sweeps_everything() {
    let sb = sandbox();
    let mut carol = TestWallet::new(OTHER, ScriptKind::ShWpkh);
    let bob = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let a = sb
        .faucet(&carol.address(Keychain::External, 0), 2 * COIN, None)
        .unwrap();
    let b = sb
        .faucet(&carol.address(Keychain::External, 1), COIN, None)
        .unwrap();
    sb.mine(1).unwrap();
    let coins = vec![
        carol.coin(&sb, &a, Keychain::External, 0),
        carol.coin(&sb, &b, Keychain::External, 1),
    ];
    let (payment, tx) = carol
        .pay(
            &sb,
            &coins,
            &PaymentRequest {
                recipients: vec![Recipient {
                    address: bob.address(Keychain::External, 7),
                    value: 0,
                    asset: sb.policy_asset(),
                }],
                fee_rate: FeeRate::parse_sat_per_vb("1").unwrap(),
                drain: true,
            },
        )
        .unwrap();
    assert_eq!(payment.inputs.len(), 2);
    assert_eq!(tx.output.len(), 2, "a sweep has no change");
    let txid = sb.broadcast(tx).unwrap();
    sb.mine(1).unwrap();
    let got = bob.coin(&sb, &txid, Keychain::External, 7);
    assert_eq!(got.secrets.value, 3 * COIN - payment.fee);
}

#[test]
fn bad_payments_are_refused_before_anything_is_signed() {
    let sb = sandbox();
    let mut alice = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let funding = sb
        .faucet(&alice.address(Keychain::External, 0), COIN, None)
        .unwrap();
    sb.mine(1).unwrap();
    let coin = alice.coin(&sb, &funding, Keychain::External, 0);
    let to = alice.address(Keychain::External, 5);
    let pay = |value: u64, asset: AssetId, address: Address| {
        request(vec![Recipient {
            address,
            value,
            asset,
        }])
    };

    let err = alice
        .pay(
            &sb,
            std::slice::from_ref(&coin),
            &pay(2 * COIN, sb.policy_asset(), to.clone()),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InsufficientFunds { needed, available, .. } if needed >= 2 * COIN && available == COIN),
        "{err}"
    );

    let unknown = AssetId::from_byte_array([7; 32]);
    let err = alice
        .pay(
            &sb,
            std::slice::from_ref(&coin),
            &pay(1, unknown, to.clone()),
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::InsufficientFunds { asset, needed: 1, available: 0 } if asset == unknown),
        "{err:?}"
    );

    let err = alice
        .pay(
            &sb,
            std::slice::from_ref(&coin),
            &pay(100, sb.policy_asset(), to.clone()),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidAmount(m) if m.starts_with("100 sat to ")
            && m.ends_with(" is dust: the smallest L-BTC output is 546 sat")),
        "{err:?}"
    );

    let liquid = alice
        .descriptor
        .address(Keychain::External, 0, Network::Liquid)
        .unwrap();
    let err = alice
        .pay(
            &sb,
            std::slice::from_ref(&coin),
            &pay(COIN / 2, sb.policy_asset(), liquid),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::WrongNetwork { expected: Network::Regtest, found } if found == "liquid"),
        "{err:?}"
    );

    // A coin that is not the wallet's is refused when the PSET is built.
    let stranger = TestWallet::new(OTHER, ScriptKind::Wpkh);
    let mut foreign = coin.clone();
    foreign.txout.script_pubkey = stranger
        .descriptor
        .script_pubkey(Keychain::External, 0)
        .unwrap();
    let err = alice
        .pay(&sb, &[foreign], &pay(COIN / 2, sb.policy_asset(), to))
        .unwrap_err();
    assert!(
        matches!(&err, Error::Transaction(m) if m.contains("not the wallet's")),
        "{err:?}"
    );
}

#[test]
fn the_chain_refuses_a_payment_tampered_after_signing() {
    let sb = sandbox();
    let mut alice = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let bob = TestWallet::new(OTHER, ScriptKind::Wpkh);
    let funding = sb
        .faucet(&alice.address(Keychain::External, 0), COIN, None)
        .unwrap();
    sb.mine(1).unwrap();
    let coin = alice.coin(&sb, &funding, Keychain::External, 0);
    let (_, mut tx) = alice
        .pay(
            &sb,
            &[coin],
            &request(vec![Recipient {
                address: bob.address(Keychain::External, 0),
                value: COIN / 4,
                asset: sb.policy_asset(),
            }]),
        )
        .unwrap();
    // Redirect the recipient's output to Alice's own script: the signature no longer holds.
    tx.output[0].script_pubkey = alice
        .descriptor
        .script_pubkey(Keychain::External, 9)
        .unwrap();
    // The output's rangeproof commits to its script too, and the proofs are checked before
    // the signatures: that is the refusal named.
    let r = sb.broadcast(tx);
    assert!(
        matches!(&r, Err(regtest::Error::Rejected(m)) if m
            == "sendrawtransaction RPC error -26: bad-txns-in-ne-out (rangeproof of output 0 missing or invalid)"),
        "{r:?}"
    );
}

#[test]
fn discounted_sizes_match_elip200_vectors() {
    let Some(doc) = crate::common::vectors("elip200.json") else {
        return;
    };
    for v in doc["vectors"].as_array().unwrap() {
        let bytes = elements::hex::decode_to_vec(v["tx_hex"].as_str().unwrap()).unwrap();
        let tx: Transaction = elements::encode::deserialize(&bytes).unwrap();
        assert_eq!(
            tx.discount_vsize() as u64,
            v["discount_vsize"].as_u64().unwrap()
        );
        assert_eq!(tx.vsize() as u64, v["vsize"].as_u64().unwrap());
        let fee = FeeRate::MIN
            .fee_for_vsize(tx.discount_vsize() as u64)
            .unwrap();
        assert_eq!(fee, v["discount_vsize"].as_u64().unwrap().div_ceil(10));
    }
}

type OwnedCoins = std::collections::HashMap<OutPoint, OwnedCoin>;
type OwnScripts = std::collections::HashMap<elements::Script, (Keychain, u32)>;

/// What a wallet knows of its own coins and scripts, for the PSET view.
fn knowledge_maps(wallet: &TestWallet, coins: &[Spendable]) -> (OwnedCoins, OwnScripts) {
    let owned = coins
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
    let scripts = wallet_core::pset::script_map(&wallet.descriptor, 20, 20).unwrap();
    (owned, scripts)
}

#[test]
fn pset_view_gives_each_side_its_net_effect_and_refuses_lies() {
    use wallet_core::pset::{view, Owner, WalletKnowledge};
    let sb = sandbox();
    let mut alice = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let bob = TestWallet::new(OTHER, ScriptKind::Wpkh);
    let funding = sb
        .faucet(&alice.address(Keychain::External, 0), COIN, None)
        .unwrap();
    sb.mine(1).unwrap();
    let coin = alice.coin(&sb, &funding, Keychain::External, 0);
    let (payment, _) = alice
        .pay(
            &sb,
            std::slice::from_ref(&coin),
            &request(vec![Recipient {
                address: bob.address(Keychain::External, 2),
                value: 12_345_678,
                asset: sb.policy_asset(),
            }]),
        )
        .unwrap();

    let (owned, scripts) = knowledge_maps(&alice, std::slice::from_ref(&coin));
    let know = |coins, scripts| WalletKnowledge {
        descriptor: &alice.descriptor,
        network: Network::Regtest,
        policy_asset: sb.policy_asset(),
        coins,
        scripts,
    };
    let mine = view(&payment.pset, &know(&owned, &scripts)).unwrap();
    assert_eq!(mine.net, payment.net);
    assert_eq!(mine.fee, payment.fee);
    assert!(mine.wallet_pays_fee());
    assert_eq!(mine.own_inputs(), vec![0]);
    assert_eq!(mine.outputs[0].owner, Owner::Other);
    assert!(
        mine.outputs[0].secrets.is_none(),
        "the recipient's amount is hidden from the view"
    );

    let (bob_owned, bob_scripts) = knowledge_maps(&bob, &[]);
    let theirs = view(
        &payment.pset,
        &WalletKnowledge {
            descriptor: &bob.descriptor,
            network: Network::Regtest,
            policy_asset: sb.policy_asset(),
            coins: &bob_owned,
            scripts: &bob_scripts,
        },
    )
    .unwrap();
    assert_eq!(
        theirs.net.get(&sb.policy_asset()).copied(),
        Some(12_345_678)
    );
    assert!(!theirs.wallet_pays_fee());

    assert!(mine.problems.is_empty(), "{:?}", mine.problems);

    // A PSET that describes the wallet's coin with another amount than the wallet recorded:
    // shown, with the problem that forbids signing it.
    let mut lying = payment.pset.clone();
    let mut forged = owned.clone();
    let recorded = forged.get_mut(&coin.outpoint).unwrap();
    recorded.txout.value = elements::confidential::Value::Explicit(COIN + 1);
    let seen = view(&lying, &know(&forged, &scripts)).unwrap();
    assert_eq!(seen.problems.len(), 1, "{:?}", seen.problems);
    assert!(
        seen.problems[0].to_string().contains("another amount"),
        "{}",
        seen.problems[0]
    );

    // An input paying the wallet's script that the store does not know: a problem too.
    let empty = std::collections::HashMap::new();
    let seen = view(&lying, &know(&empty, &scripts)).unwrap();
    assert!(
        seen.problems
            .iter()
            .any(|p| p.to_string().contains("cannot account for")),
        "{:?}",
        seen.problems
    );

    // A fee in another asset means another network's PSET.
    let last = lying.outputs().len() - 1;
    lying.outputs_mut()[last].asset = Some(AssetId::from_byte_array([9; 32]));
    let err = view(&lying, &know(&owned, &scripts)).unwrap_err();
    assert!(
        matches!(&err, Error::WrongNetwork { expected: Network::Regtest, found } if *found == format!(
            "a PSET whose fee is paid in {} rather than this network's policy asset",
            "09".repeat(32)
        )),
        "{err:?}"
    );
}
