//! DvP offers between two real wallets (SQLite stores, encrypted seeds) on the embedded
//! chain, which validates the settlement strictly: create, accept, settle; each side's
//! ledger, reservations and balances; the chain's view of what each side received.

use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::ops::swap::{
    commit_settle, create_offer, finish_accept, prepare_accept, prepare_settle, CreateRequest,
    SettleStart,
};
use wallet_core::ops::Mode;
use wallet_core::seed::{encrypt_seed, KdfParams, SeedSecret};
use wallet_core::store::{DealRole, DealStatus};
use wallet_core::swap::taker::AcceptRequest;
use wallet_core::swap::{Leg, Offer};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::tx::FeeRate;
use wallet_core::wallet::{Wallet, Wallets};

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const PASS: &[u8] = b"pass";

fn wallet(wallets: &Wallets, name: &str, phrase: &str) -> (Wallet, SeedSecret) {
    let secret = SeedSecret::from_phrase(phrase, String::new()).unwrap();
    let d = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let enc = encrypt_seed(&secret, PASS, &KdfParams::fast_for_tests()).unwrap();
    let w = wallets
        .create(Network::Regtest, name, &d, Some(&enc))
        .unwrap();
    (w, secret)
}

fn fund(sandbox: &Sandbox, w: &mut Wallet, sat: u64, asset: Option<elements::AssetId>) {
    let r = w.new_address(Keychain::External, None).unwrap();
    let address = w.address_at(Keychain::External, r.index).unwrap();
    sandbox.faucet(&address, sat, asset).unwrap();
}

fn balance(w: &Wallet, asset: &elements::AssetId) -> u64 {
    w.store()
        .balances()
        .unwrap()
        .get(asset)
        .map_or(0, |b| b.confirmed + b.unconfirmed)
}

fn synced(w: &mut Wallet, backend: &dyn Backend) {
    sync(w, backend, &SyncOptions::default(), &mut |_| {}).unwrap();
}

#[test]
fn lbtc_against_an_issued_asset_settles_in_one_transaction() {
    for payer in [DealRole::Taker, DealRole::Maker] {
        settle_with(payer);
    }
}

fn settle_with(payer: DealRole) {
    let sandbox = Sandbox::start(SandboxConfig::default()).unwrap();
    let policy = sandbox.policy_asset();
    let tmp = tempfile::tempdir().unwrap();
    let maker_home = Wallets::new(tmp.path().join("maker"));
    let taker_home = Wallets::new(tmp.path().join("taker"));
    let (mut maker, maker_seed) = wallet(&maker_home, "exchange", crate::common::ABANDON);
    let (mut taker, taker_seed) = wallet(&taker_home, "desk", OTHER);
    let jpy = sandbox.issue(100_000_000, Some("JPY")).unwrap().asset;
    fund(&sandbox, &mut maker, 200_000_000, None);
    fund(&sandbox, &mut taker, 30_000_000, Some(jpy));
    fund(&sandbox, &mut taker, 100_000, None);
    sandbox.mine(1).unwrap();
    let backend = BackendConfig::parse_esplora(&sandbox.esplora_url())
        .unwrap()
        .connect()
        .unwrap();
    maker.set_policy_asset(policy);
    taker.set_policy_asset(policy);
    synced(&mut maker, backend.as_ref());
    synced(&mut taker, backend.as_ref());

    let created = create_offer(
        &mut maker,
        &CreateRequest {
            gives: Leg {
                asset: policy,
                amount: 150_000_000,
            },
            receives: Leg {
                asset: jpy,
                amount: 15_000_000,
            },
            fee_payer: payer,
            fee_rate: FeeRate::MIN,
            expires_in: 1_800,
            counterparty: Some("Desk B".to_owned()),
            memo: Some("trade 1".to_owned()),
        },
    )
    .unwrap();
    assert_eq!(created.deal.status, DealStatus::Proposed);
    assert_eq!(maker.store().reservations().unwrap().len(), 1);
    // The envelope travels as text.
    let text = created.offer.to_json();
    let offer = Offer::parse(&text, Network::Regtest).unwrap();

    let accept = prepare_accept(
        &mut taker,
        offer,
        &AcceptRequest {
            fee_rate: FeeRate::MIN,
        },
        Some(backend.as_ref()),
        Mode::ForSigning,
    )
    .unwrap();
    let fee = accept.prepared.fee();
    let (accepted, taker_deal) = finish_accept(&mut taker, accept, &taker_seed, None).unwrap();
    assert_eq!(taker_deal.status, DealStatus::Accepted);
    let accepted = Offer::parse(&accepted.to_json(), Network::Regtest).unwrap();

    let SettleStart::Fresh(settle) = prepare_settle(&mut maker, accepted.clone()).unwrap() else {
        panic!("a fresh settlement");
    };
    let txid = commit_settle(&mut maker, *settle, &maker_seed, backend.as_ref()).unwrap();
    assert_eq!(Some(txid), taker_deal.txid);
    assert!(maker.store().reservations().unwrap().is_empty());
    // Settling the same envelope again signs nothing.
    assert!(matches!(
        prepare_settle(&mut maker, accepted).unwrap(),
        SettleStart::Settled(_)
    ));
    // Each side reads exactly its own outputs of the settlement, and no one else's.
    let tx = sandbox.get_tx(&txid).unwrap();
    let readable = |w: &Wallet| -> Vec<usize> {
        tx.output
            .iter()
            .enumerate()
            .filter(|(_, o)| !o.is_fee())
            .filter(|(_, o)| {
                wallet_core::unblind::blinding_private_key(w.descriptor(), &o.script_pubkey)
                    .and_then(|k| wallet_core::unblind::unblind_output(o, &k))
                    .is_ok()
            })
            .map(|(i, _)| i)
            .collect()
    };
    let (mine, theirs) = (readable(&maker), readable(&taker));
    assert_eq!(mine, [0, 1], "{theirs:?}");
    assert!(theirs.iter().all(|i| *i >= 2), "{theirs:?}");
    sandbox.mine(1).unwrap();
    synced(&mut maker, backend.as_ref());
    synced(&mut taker, backend.as_ref());
    let maker_fee = if payer == DealRole::Maker { fee } else { 0 };
    let taker_fee = fee - maker_fee;
    assert_eq!(balance(&maker, &jpy), 15_000_000);
    assert_eq!(balance(&maker, &policy), 50_000_000 - maker_fee);
    assert_eq!(balance(&taker, &jpy), 15_000_000);
    assert_eq!(balance(&taker, &policy), 150_100_000 - taker_fee);
    let deal = maker.store().deal(&created.deal.id).unwrap().unwrap();
    assert_eq!(deal.status, DealStatus::Confirmed);
    assert_eq!(deal.height, Some(2));
    let deal = taker.store().deal(&created.deal.id).unwrap().unwrap();
    assert_eq!(deal.status, DealStatus::Confirmed);
    assert!(taker.store().reservations().unwrap().is_empty());
    let events = maker.store().deal_events(&deal.id).unwrap();
    let statuses: Vec<DealStatus> = events.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            DealStatus::Proposed,
            DealStatus::Accepted,
            DealStatus::Signed,
            DealStatus::Broadcast,
            DealStatus::Confirmed
        ]
    );
    sandbox.shutdown();
}
