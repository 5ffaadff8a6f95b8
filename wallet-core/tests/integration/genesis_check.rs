//! A server on another chain is refused before anything it says is used: the genesis block
//! hash is checked once per connection, in the first burst (Electrum: the same round trip;
//! Esplora: the same parallel pool), or before the first other request.

use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{BackendConfig, Burst};
use wallet_core::descriptor::{BlindingScheme, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::SeedSecret;
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::wallet::Wallets;
use wallet_core::Error;

fn configs(sb: &Sandbox) -> [BackendConfig; 2] {
    [
        BackendConfig::parse_electrum(&sb.electrum_addr().to_string()).unwrap(),
        BackendConfig::parse_esplora(&sb.esplora_url()).unwrap(),
    ]
}

fn assert_wrong_chain(e: &Error, server: &str) {
    match e {
        Error::WrongChain {
            server: s,
            expected,
            genesis,
            found,
        } => {
            assert_eq!(s, server);
            assert_eq!(*expected, Network::Liquid);
            assert_eq!(
                genesis,
                &Network::Liquid.genesis_hash().unwrap().to_string()
            );
            assert_eq!(
                found,
                &Network::Regtest.genesis_hash().unwrap().to_string(),
                "the sandbox is liquidregtest"
            );
        }
        other => panic!("expected WrongChain, got {other:?}"),
    }
    assert!(e.to_string().contains("is not a liquid server"), "{e}");
}

#[test]
fn a_liquid_wallet_refuses_a_regtest_server() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    sb.mine(1).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let secret = SeedSecret::from_phrase(crate::common::ABANDON, String::new()).unwrap();
    let descriptor = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Liquid,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    for config in configs(&sb) {
        let url = config.url();
        let backend = config.with_network(Network::Liquid).connect().unwrap();
        let name = format!("w{}", url.len());
        let mut w = Wallets::new(tmp.path())
            .create(Network::Liquid, &name, &descriptor, None)
            .unwrap();
        let e = sync(
            &mut w,
            backend.as_ref(),
            &SyncOptions::default(),
            &mut |_| {},
        )
        .unwrap_err();
        assert_wrong_chain(&e, backend.server());
        assert_eq!(w.store().tip().unwrap(), None, "nothing stored");
        // Every other entry point checks too (a broadcast never reaches the wrong chain).
        let fresh = backend_config(&sb, &url)
            .with_network(Network::Liquid)
            .connect()
            .unwrap();
        assert_wrong_chain(&fresh.tip().unwrap_err(), fresh.server());
        assert_wrong_chain(&fresh.block_header(0).unwrap_err(), fresh.server());
    }
}

fn backend_config(sb: &Sandbox, url: &str) -> BackendConfig {
    configs(sb).into_iter().find(|c| c.url() == url).unwrap()
}

/// On the right chain the check costs no round trip on Electrum (one more call in the first
/// burst of the connection, none after) and one request in Esplora's first pool.
#[test]
fn the_check_rides_in_the_first_burst() {
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    sb.mine(2).unwrap();
    for config in configs(&sb) {
        let plain = config.clone().connect().unwrap();
        let checked = config.with_network(Network::Regtest).connect().unwrap();
        let burst = Burst {
            tip: true,
            heights: vec![1],
            ..Burst::default()
        };
        let (r0, c0) = (plain.requests(), plain.calls());
        let a = plain.burst(&burst).unwrap();
        let (r1, c1) = (checked.requests(), checked.calls());
        let b = checked.burst(&burst).unwrap();
        assert_eq!(a.tip, b.tip);
        assert_eq!(a.headers, b.headers);
        let plain_cost = (plain.requests() - r0, plain.calls() - c0);
        let checked_cost = (checked.requests() - r1, checked.calls() - c1);
        if checked.cheap_calls() {
            assert_eq!(checked_cost.0, plain_cost.0, "no extra round trip");
            assert_eq!(checked_cost.1, plain_cost.1 + 1, "one more call");
            // Connecting costs nothing on plain TCP: server.version, the chain check, the
            // tip and the headers are one round trip in all.
            assert_eq!(checked.requests(), 1, "the connection's only round trip");
            assert_eq!(checked.calls(), 4, "version, genesis header, tip, header");
        } else {
            assert_eq!(checked_cost.0, plain_cost.0 + 1, "one more request");
        }
        // Once per connection: the next burst carries nothing more than the plain one's.
        let cost = |b: &dyn wallet_core::chain::Backend| {
            let (r, c) = (b.requests(), b.calls());
            b.burst(&burst).unwrap();
            (b.requests() - r, b.calls() - c)
        };
        assert_eq!(
            cost(checked.as_ref()),
            cost(plain.as_ref()),
            "{}",
            checked.server()
        );
    }
}

/// Transactions are handed to sync's unblinding as they arrive, but never from a server whose
/// chain was not checked yet: a first burst that carries the check hands nothing over when
/// the check fails.
#[test]
fn nothing_is_handed_over_before_the_chain_is_checked() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sb = Sandbox::start(SandboxConfig::default()).unwrap();
    sb.mine(1).unwrap();
    let secret = SeedSecret::from_phrase(crate::common::ABANDON, String::new()).unwrap();
    let regtest = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let address = regtest
        .address(
            wallet_core::descriptor::Keychain::External,
            0,
            Network::Regtest,
        )
        .unwrap();
    let txid = sb.faucet(&address, 10_000, None).unwrap();
    let burst = Burst {
        tip: true,
        txids: vec![txid],
        ..Burst::default()
    };
    for config in configs(&sb) {
        let handed = AtomicUsize::new(0);
        let count = |_: &elements::Transaction| {
            handed.fetch_add(1, Ordering::SeqCst);
        };
        let wrong = config
            .clone()
            .with_network(Network::Liquid)
            .connect()
            .unwrap();
        let e = wrong.burst_streaming(&burst, &count).unwrap_err();
        assert_wrong_chain(&e, wrong.server());
        assert_eq!(handed.load(Ordering::SeqCst), 0, "{}", wrong.server());
        // On the right chain the transaction is handed over once, and answered too.
        let right = config.with_network(Network::Regtest).connect().unwrap();
        let a = right.burst_streaming(&burst, &count).unwrap();
        assert_eq!(a.txs.len(), 1);
        assert_eq!(handed.load(Ordering::SeqCst), 1, "{}", right.server());
    }
}
