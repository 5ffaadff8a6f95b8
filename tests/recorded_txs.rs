//! What the wallet records of the transactions it signs (issue 12): a refused or conflicting
//! transaction stops counting and says why in `tx pending`; one money-moving command at a
//! time per wallet; payments to the wallet's own addresses; what the wallet paid to others
//! shown in `send --dry-run`, `tx show` and `txs`.

mod common;

use common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const COIN: u64 = 100_000_000;

struct Scene {
    sb: Sandbox,
    chain: regtest::Sandbox,
    url: String,
}

impl Scene {
    /// alice with one confirmed coin of 1 L-BTC, and bob.
    fn new() -> Scene {
        let chain = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
        let url = chain.esplora_url();
        let sb = Sandbox::new();
        sb.restore("alice", ABANDON);
        sb.restore("bob", BOB);
        let scene = Scene { sb, chain, url };
        let address = scene.address("alice");
        scene.fund(&address);
        scene
    }

    fn run(&self, wallet: &str, args: &[&str]) -> Run {
        self.sb.on_chain(&self.url, wallet, args, None)
    }

    fn run_stdin(&self, wallet: &str, args: &[&str], stdin: &str) -> Run {
        self.sb.on_chain(&self.url, wallet, args, Some(stdin))
    }

    fn address(&self, wallet: &str) -> String {
        self.run(wallet, &["--json", "address", "new"]).ok().json()["address"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    fn fund(&self, address: &str) {
        let address: elements::Address = address.parse().unwrap();
        self.chain.faucet(&address, COIN, None).unwrap();
        self.chain.mine(1).unwrap();
    }

    fn send(&self, wallet: &str, to: &[String]) -> Run {
        let pass = self.sb.pass();
        let mut args = vec!["--json", "--yes", "send", "--passphrase-file", &pass];
        for t in to {
            args.extend(["--to", t.as_str()]);
        }
        self.run(wallet, &args)
    }

    /// (confirmed, unconfirmed) L-BTC after a sync.
    fn lbtc(&self, wallet: &str) -> (u64, u64) {
        let doc = self.run(wallet, &["--json", "balance"]).ok().json();
        common::balance_of(&doc, &self.chain.policy_asset().to_string())
    }

    fn pending(&self, wallet: &str) -> Vec<Value> {
        self.run(wallet, &["--json", "tx", "pending"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }
}

fn fee_of(run: &Run) -> u64 {
    run.json()["fee"].as_u64().unwrap()
}

#[test]
fn a_payment_to_the_wallets_own_addresses_costs_only_the_fee() {
    let scene = Scene::new();
    let own = scene.address("alice");
    let sent = scene.send("alice", &[format!("{own}:0.05")]).ok();
    let fee = fee_of(&sent);
    let net = &sent.json()["net"][scene.chain.policy_asset().to_string()];
    assert_eq!(net.as_i64(), Some(-(fee as i64)), "only the fee leaves");
    scene.chain.mine(1).unwrap();
    assert_eq!(scene.lbtc("alice"), (COIN - fee, 0));

    // One output to itself and one to bob.
    let own = scene.address("alice");
    let bob = scene.address("bob");
    let sent = scene
        .send("alice", &[format!("{own}:0.01"), format!("{bob}:0.01")])
        .ok();
    let fee2 = fee_of(&sent);
    let net = &sent.json()["net"][scene.chain.policy_asset().to_string()];
    assert_eq!(net.as_i64(), Some(-(1_000_000 + fee2 as i64)));
}

#[test]
fn what_the_wallet_paid_is_shown_in_dry_runs_tx_show_and_txs() {
    let scene = Scene::new();
    let bob = scene.address("bob");
    let to = format!("{bob}:0.3");
    let pass = scene.sb.pass();
    let dry = scene
        .run("alice", &["--json", "send", "--to", &to, "--dry-run"])
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
        )
        .ok()
        .json()["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = scene
        .run("alice", &["--json", "tx", "show", &txid])
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
    let txs = scene.run("alice", &["--json", "txs"]).ok().json();
    let row = txs
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] == txid.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["paid"][0]["value"], 30_000_000);
    assert_eq!(row["paid"][0]["address"], bob.as_str());
    let text = scene.run("alice", &["txs"]).ok().stdout;
    assert!(text.contains("0.3 L-BTC"), "{text}");
}

#[test]
fn a_transaction_the_server_refuses_is_recorded_failed_and_stops_counting() {
    let scene = Scene::new();
    // A twin of alice (same mnemonic) prepares a spend of the coin before alice spends it.
    scene.sb.restore("twin", ABANDON);
    let bob = scene.address("bob");
    let pset = scene
        .run("twin", &["pset", "create", "--to", &format!("{bob}:0.2")])
        .ok()
        .stdout;
    let pass = scene.sb.pass();
    let signed = scene
        .run_stdin(
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
            &pset,
        )
        .ok()
        .stdout;
    scene.send("alice", &[format!("{bob}:0.3")]).ok();
    scene.chain.mine(1).unwrap();

    // The twin's copy is refused by the server: recorded as failed, and it says so.
    let refused = scene
        .run_stdin("twin", &["--json", "pset", "broadcast", "-"], &signed)
        .fails(1, "recorded as failed");
    assert!(refused.stderr.contains("missingorspent") || refused.stderr.contains("spent"));
    let pending = scene.pending("twin");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["state"], "failed");
    assert_eq!(pending[0]["counts"], false);
    // Its change is not the twin's: not listed, not counted, never selected.
    let utxos = scene.run("twin", &["--json", "utxos"]);
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
    let scene = Scene::new();
    scene.sb.restore("twin", ABANDON);
    let bob = scene.address("bob");
    // The twin signs and records a payment, and crashes before broadcasting it.
    let pass = scene.sb.pass();
    let to = format!("{bob}:0.2");
    let mut args = vec!["--network", "regtest", "--esplora", &scene.url];
    args.extend([
        "--wallet",
        "twin",
        "--yes",
        "send",
        "--to",
        &to,
        "--passphrase-file",
        &pass,
    ]);
    let crashed = scene
        .sb
        .command(&args)
        .env("LIQUID_OTC_FAULT", "commit.after_record")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!crashed.status.success());
    assert_eq!(scene.pending("twin")[0]["state"], "recorded");

    // alice spends the same coin; it confirms.
    scene.send("alice", &[format!("{bob}:0.3")]).ok();
    scene.chain.mine(1).unwrap();

    // The twin's sync finds the conflict: its transaction fails and says why.
    let synced = scene.run("twin", &["--json", "sync"]).ok().json();
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
    scene.send("twin", &[format!("{bob}:0.1")]).ok();
}

#[test]
fn one_money_moving_command_at_a_time_per_wallet() {
    let scene = Scene::new();
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
    scene
        .send("alice", &[format!("{bob}:0.1")])
        .fails(1, "is busy");
    assert!(scene.pending("alice").is_empty(), "nothing recorded");
    // A dry run needs no lock.
    scene
        .run(
            "alice",
            &["send", "--to", &format!("{bob}:0.1"), "--dry-run"],
        )
        .ok();
    held.unlock().unwrap();
    scene.send("alice", &[format!("{bob}:0.1")]).ok();
}
