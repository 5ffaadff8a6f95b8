//! A chain reorganisation corrects the wallet's history and balances, over both backends.

mod common;

use common::Sandbox;
use regtest::SandboxConfig;
use serde_json::Value;

/// The wallet's L-BTC (confirmed, unconfirmed) and its transactions' heights, after a sync
/// through `server` (`--esplora URL` or `--electrum tcp://...`).
fn state(sb: &Sandbox, server: &[&str], policy: &str) -> ((u64, u64), Vec<Value>) {
    let mut args = vec!["--network", "regtest"];
    args.extend_from_slice(server);
    let mut balance = args.clone();
    balance.extend(["--json", "balance"]);
    let doc = sb.run(&balance).ok().json();
    let lbtc = doc["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == policy)
        .map(|b| {
            (
                b["confirmed"].as_u64().unwrap(),
                b["unconfirmed"].as_u64().unwrap(),
            )
        })
        .unwrap_or((0, 0));
    let mut txs = args;
    txs.extend(["--json", "txs"]);
    let txs = sb.run(&txs).ok().json();
    let heights = txs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["height"].clone())
        .collect();
    (lbtc, heights)
}

fn reorg_is_followed(use_electrum: bool) {
    let chain = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
    let policy = chain.policy_asset().to_string();
    let esplora = chain.esplora_url();
    let electrum = format!("tcp://{}", chain.electrum_addr());
    let server: Vec<&str> = if use_electrum {
        vec!["--electrum", &electrum]
    } else {
        vec!["--esplora", &esplora]
    };
    let sb = Sandbox::new();
    sb.restore_abandon("w");
    let addr = sb
        .run(&["--network", "regtest", "--json", "address", "new"])
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_string();
    chain.mine(2).unwrap();
    let kept = chain
        .faucet(&addr.parse().unwrap(), 40_000_000, None)
        .unwrap();
    chain.mine(1).unwrap();
    let orphan = chain
        .faucet(&addr.parse().unwrap(), 60_000_000, None)
        .unwrap();
    chain.mine(1).unwrap();
    let (balance, heights) = state(&sb, &server, &policy);
    assert_eq!(balance, (100_000_000, 0));
    assert_eq!(heights.len(), 2);

    // The block holding the second payment is replaced and the payment vanishes.
    chain.reorg(1, false).unwrap();
    let (balance, heights) = state(&sb, &server, &policy);
    assert_eq!(
        balance,
        (40_000_000, 0),
        "the orphaned payment no longer counts"
    );
    assert_eq!(
        heights,
        vec![Value::from(3)],
        "only {kept} remains, at height 3"
    );
    let show = sb.run(&["--network", "regtest", "tx", "show", &orphan.to_string()]);
    assert_ne!(
        show.code, 0,
        "the orphaned transaction is gone from the wallet"
    );

    // Returned to the mempool by a deeper reorganisation, it is mined again higher up.
    chain.reorg(2, true).unwrap();
    let (balance, _) = state(&sb, &server, &policy);
    assert_eq!(
        balance,
        (40_000_000, 0),
        "the kept payment is re-mined in the new branch"
    );
}

#[test]
fn reorg_over_esplora() {
    reorg_is_followed(false);
}

#[test]
fn reorg_over_electrum() {
    reorg_is_followed(true);
}
