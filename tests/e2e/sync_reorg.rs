//! A chain reorganisation corrects the wallet's history and balances, and the block time of a
//! transaction re-mined at the same height, over both backends.

use crate::common::Sandbox;
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
    let lbtc = crate::common::balance_of(&doc, policy);
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

/// A fresh sandbox; the flags naming its Electrum or Esplora server; a home with the
/// "abandon" wallet `w`; that wallet's first receive address; two blocks mined.
fn setup(use_electrum: bool) -> (regtest::Sandbox, Vec<String>, Sandbox, String) {
    let chain = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
    let server = if use_electrum {
        vec![
            "--electrum".to_owned(),
            format!("tcp://{}", chain.electrum_addr()),
        ]
    } else {
        vec!["--esplora".to_owned(), chain.esplora_url()]
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
    (chain, server, sb, addr)
}

fn reorg_is_followed(use_electrum: bool) {
    let (chain, server, sb, addr) = setup(use_electrum);
    let server: Vec<&str> = server.iter().map(String::as_str).collect();
    let policy = chain.policy_asset().to_string();
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

/// The timestamp of block `hash`, from the sandbox's Esplora.
fn block_time(esplora: &str, hash: &str) -> u64 {
    let (status, body) =
        regtest::control::request(esplora, "GET", &format!("/block/{hash}"), None).unwrap();
    assert_eq!(status, 200, "{body}");
    let doc: Value = serde_json::from_str(&body).unwrap();
    doc["timestamp"].as_u64().unwrap()
}

/// `txid`'s row in `txs --json`, checked to agree with `tx show --json` on its block hash,
/// time and height.
fn stored_row(sb: &Sandbox, txid: &str) -> Value {
    let txs = sb
        .run(&["--network", "regtest", "--json", "txs"])
        .ok()
        .json();
    let row = txs
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] == txid)
        .unwrap_or_else(|| panic!("{txid} not in {txs}"))
        .clone();
    let show = sb
        .run(&["--network", "regtest", "--json", "tx", "show", txid])
        .ok()
        .json();
    assert_eq!(show["time"], row["time"], "tx show and txs agree");
    assert_eq!(show["block_hash"], row["block_hash"]);
    assert_eq!(show["height"], row["height"]);
    row
}

/// The block hash and time of a stored row.
fn block_of(row: &Value) -> (Value, Value) {
    (row["block_hash"].clone(), row["time"].clone())
}

/// A reorganisation re-mines the wallet's transaction at the same height in a new block: its
/// history (and Electrum status hash) do not change, yet after a normal `sync` the wallet
/// shows the new block's hash and time.
fn same_height_reorg_refreshes_the_block(use_electrum: bool) {
    let (chain, server, sb, addr) = setup(use_electrum);
    let server: Vec<&str> = server.iter().map(String::as_str).collect();
    let esplora = chain.esplora_url();
    let paid = chain
        .faucet(&addr.parse().unwrap(), 25_000_000, None)
        .unwrap()
        .to_string();
    let old = chain.mine(1).unwrap()[0].to_string();
    let height = chain.tip_height();
    let mut sync = vec!["--network", "regtest"];
    sync.extend_from_slice(&server);
    sync.push("sync");
    sb.run(&sync).ok();
    let old_time = block_time(&esplora, &old);
    assert_eq!(
        block_of(&stored_row(&sb, &paid)),
        (Value::from(old.as_str()), Value::from(old_time))
    );

    // The block that re-mines the payment at the same height has another hash (its time
    // may be the same second).
    let new = chain.reorg(1, true).unwrap()[0].to_string();
    assert_ne!(new, old);
    let new_time = block_time(&esplora, &new);

    // A normal sync (not --full) stores the new block.
    sb.run(&sync).ok();
    let row = stored_row(&sb, &paid);
    assert_eq!(
        row["height"],
        Value::from(height),
        "re-mined at the same height"
    );
    assert_eq!(
        block_of(&row),
        (Value::from(new.as_str()), Value::from(new_time)),
        "the block that replaced {old}"
    );
}

#[test]
fn same_height_reorg_over_esplora() {
    same_height_reorg_refreshes_the_block(false);
}

#[test]
fn same_height_reorg_over_electrum() {
    same_height_reorg_refreshes_the_block(true);
}
