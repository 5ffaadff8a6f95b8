//! What the wallet records of the transactions it signs (issue 12): a refused or conflicting
//! transaction stops counting and says why in `tx pending`; one money-moving command at a
//! time per wallet; payments to the wallet's own addresses; what the wallet paid to others
//! shown in `send --dry-run`, `tx show` and `txs`.

use crate::common::scene::{Scene, COIN};
use crate::common::{Run, ABANDON};

const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// alice with one confirmed coin of 1 L-BTC, and bob.
fn setup() -> Scene {
    let scene = Scene::new(&[("alice", ABANDON), ("bob", BOB)]);
    let address = scene.address("alice");
    scene.fund(&address, COIN);
    scene
}

/// `send --yes` from `wallet` to each of `to` (ADDRESS:AMOUNT), in JSON.
fn send(scene: &Scene, wallet: &str, to: &[String]) -> Run {
    let pass = scene.sb.pass();
    let mut args = vec!["--json", "--yes", "send", "--passphrase-file", &pass];
    for t in to {
        args.extend(["--to", t.as_str()]);
    }
    scene.run(wallet, &args, None)
}

fn fee_of(run: &Run) -> u64 {
    run.json()["fee"].as_u64().unwrap()
}

#[test]
fn a_payment_to_the_wallets_own_addresses_costs_only_the_fee() {
    let scene = setup();
    let own = scene.address("alice");
    let sent = send(&scene, "alice", &[format!("{own}:0.05")]).ok();
    let fee = fee_of(&sent);
    let net = &sent.json()["net"][scene.chain.policy_asset().to_string()];
    assert_eq!(net.as_i64(), Some(-(fee as i64)), "only the fee leaves");
    scene.chain.mine(1).unwrap();
    assert_eq!(scene.lbtc("alice"), (COIN - fee, 0));

    // One output to itself and one to bob.
    let own = scene.address("alice");
    let bob = scene.address("bob");
    let sent = send(
        &scene,
        "alice",
        &[format!("{own}:0.01"), format!("{bob}:0.01")],
    )
    .ok();
    let fee2 = fee_of(&sent);
    let net = &sent.json()["net"][scene.chain.policy_asset().to_string()];
    assert_eq!(net.as_i64(), Some(-(1_000_000 + fee2 as i64)));
}

#[test]
fn what_the_wallet_paid_is_shown_in_dry_runs_tx_show_and_txs() {
    let scene = setup();
    let bob = scene.address("bob");
    let to = format!("{bob}:0.3");
    let pass = scene.sb.pass();
    let dry = scene
        .run("alice", &["--json", "send", "--to", &to, "--dry-run"], None)
        .ok()
        .json();
    let paid = dry["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["owner"]["wallet"] == false && o["owner"]["fee"].is_null())
        .unwrap()
        .clone();
    assert_eq!(paid["value"], 30_000_000);
    assert_eq!(paid["asset"], scene.chain.policy_asset().to_string());
    assert_eq!(
        paid["address"],
        bob.as_str(),
        "the confidential address paid"
    );

    let txid = scene
        .run(
            "alice",
            &[
                "--json",
                "--yes",
                "send",
                "--to",
                &to,
                "--passphrase-file",
                &pass,
            ],
            None,
        )
        .ok()
        .json()["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = scene
        .run("alice", &["--json", "tx", "show", &txid], None)
        .ok()
        .json();
    let out = shown["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["paid_by_wallet"] == true)
        .expect("the payment to bob is shown")
        .clone();
    assert_eq!(out["value"], 30_000_000);
    assert_eq!(out["address"], bob.as_str());
    let txs = scene.run("alice", &["--json", "txs"], None).ok().json();
    let row = txs
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] == txid.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["paid"][0]["value"], 30_000_000);
    assert_eq!(row["paid"][0]["address"], bob.as_str());
    let text = scene.run("alice", &["txs"], None).ok().stdout;
    assert!(text.contains("0.3 L-BTC"), "{text}");
}

#[test]
fn a_transaction_the_server_refuses_is_recorded_failed_and_stops_counting() {
    let scene = setup();
    // A twin of alice (same mnemonic) prepares a spend of the coin before alice spends it.
    scene.sb.restore("twin", ABANDON);
    let bob = scene.address("bob");
    let pset = scene
        .run(
            "twin",
            &["pset", "create", "--to", &format!("{bob}:0.2")],
            None,
        )
        .ok()
        .stdout;
    let pass = scene.sb.pass();
    let signed = scene
        .run(
            "twin",
            &[
                "--yes",
                "pset",
                "sign",
                "-",
                "--offline",
                "--passphrase-file",
                &pass,
            ],
            Some(&pset),
        )
        .ok()
        .stdout;
    send(&scene, "alice", &[format!("{bob}:0.3")]).ok();
    scene.chain.mine(1).unwrap();

    // The twin's copy is refused by the server: recorded as failed, and it says so.
    let refused = scene
        .run("twin", &["--json", "pset", "broadcast", "-"], Some(&signed))
        .fails_json(
            1,
            "broadcast_rejected",
            "is recorded as failed and does not count",
        );
    assert!(refused.stderr.contains("missingorspent") || refused.stderr.contains("spent"));
    let pending = scene.pending("twin");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["state"], "failed");
    assert_eq!(pending[0]["counts"], false);
    // Its change is not the twin's: not listed, not counted, never selected.
    let utxos = scene.run("twin", &["--json", "utxos"], None);
    let utxos = utxos.ok().json();
    let failed_txid = pending[0]["txid"].as_str().unwrap().to_owned();
    assert!(
        utxos
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["txid"] != failed_txid.as_str()),
        "{utxos}"
    );
    // After a sync the twin sees what alice did, exactly.
    assert_eq!(scene.lbtc("twin"), scene.lbtc("alice"));
}

#[test]
fn a_recorded_transaction_that_a_chain_transaction_conflicts_with_fails_at_sync() {
    let scene = setup();
    scene.sb.restore("twin", ABANDON);
    let bob = scene.address("bob");
    // The twin signs and records a payment, and crashes before broadcasting it.
    let pass = scene.sb.pass();
    let to = format!("{bob}:0.2");
    let args = ["--yes", "send", "--to", &to, "--passphrase-file", &pass];
    scene.crash("twin", "commit.after_record", &args, None);
    assert_eq!(scene.pending("twin")[0]["state"], "recorded");

    // alice spends the same coin; it confirms.
    send(&scene, "alice", &[format!("{bob}:0.3")]).ok();
    scene.chain.mine(1).unwrap();

    // The twin's sync finds the conflict: its transaction fails and says why.
    let synced = scene.run("twin", &["--json", "sync"], None).ok().json();
    assert_eq!(
        synced["failed_txs"].as_array().unwrap().len(),
        1,
        "{synced}"
    );
    let pending = scene.pending("twin");
    assert_eq!(pending[0]["state"], "failed");
    assert!(
        pending[0]["reason"].as_str().unwrap().contains("conflict"),
        "{pending:?}"
    );
    assert_eq!(scene.lbtc("twin"), scene.lbtc("alice"));
    // The twin can pay again from what it really has.
    send(&scene, "twin", &[format!("{bob}:0.1")]).ok();
}

#[test]
fn one_money_moving_command_at_a_time_per_wallet() {
    let scene = setup();
    let lock_path = scene.sb.home().join("regtest/alice/spend.lock");
    let held = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    held.try_lock().unwrap();
    let bob = scene.address("bob");
    send(&scene, "alice", &[format!("{bob}:0.1")]).fails_json(1, "wallet_busy", "wallet 'alice' is busy: another liquid-otc command is building, signing or broadcasting with it");
    assert!(scene.pending("alice").is_empty(), "nothing recorded");
    // A dry run needs no lock.
    scene
        .run(
            "alice",
            &["send", "--to", &format!("{bob}:0.1"), "--dry-run"],
            None,
        )
        .ok();
    held.unlock().unwrap();
    send(&scene, "alice", &[format!("{bob}:0.1")]).ok();
}
