//! The same end-to-end scenarios on every chain: always on the embedded sandbox, and also on a
//! real elementsd + electrs (liquidregtest) when `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC` are
//! both set (skipped with a notice when neither is, a failure when only one is). Each scenario
//! runs over Esplora and over Electrum, with fresh wallets on one chain.
//!
//! Below the scenarios: unit tests of the harness (elementsd's recorded answers, the generated
//! `elements.conf` and electrs command line), and its process handling exercised with
//! *stand-ins*: this test binary re-executed as a fake elementsd and a fake electrs that speak
//! just enough JSON-RPC and Esplora. The stand-ins check the harness, never the chain.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use crate::common::real_stack::{
    self as rs, with_real_stack, Backend, RealStack, StackConfig, TestChain, BACKENDS,
};
use crate::common::{Run, Sandbox as Home};
use elements::{Address, AssetId};
use serde_json::{json, Value};

const COIN: u64 = 100_000_000;
/// Cosigner mnemonics of the multisig scenario (BIP39 test vectors).
const SECOND: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const THIRD: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";

// ---------------------------------------------------------------------------------------------
// The CLI, as a user runs it against one chain through one backend.

struct Cli<'a> {
    home: Home,
    chain: &'a dyn TestChain,
    backend: Backend,
    server: Vec<String>,
}

impl<'a> Cli<'a> {
    fn new(chain: &'a dyn TestChain, backend: Backend) -> Cli<'a> {
        Cli {
            home: Home::new(),
            chain,
            backend,
            server: backend.flags(chain),
        }
    }

    /// "on CHAIN over BACKEND", for assertion messages.
    fn ctx(&self) -> String {
        format!("on {} over {:?}", self.chain.label(), self.backend)
    }

    fn policy(&self) -> String {
        self.chain.policy_asset().to_string()
    }

    /// `liquid-otc --network regtest <server> --wallet W <args>`.
    fn run(&self, wallet: &str, args: &[&str]) -> Run {
        self.run_stdin(wallet, args, None)
    }

    fn run_stdin(&self, wallet: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let server: Vec<&str> = self.server.iter().map(String::as_str).collect();
        self.home.on_server(&server, wallet, args, stdin)
    }

    /// A command that signs: `--json --yes ... --passphrase-file`; its JSON answer.
    fn signed(&self, wallet: &str, args: &[&str]) -> Value {
        let pass = self.home.pass();
        let mut full = vec!["--json", "--yes"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--passphrase-file", &pass]);
        let run = self.run(wallet, &full);
        assert_eq!(
            run.code,
            0,
            "{} {args:?} failed {}:\n{}\n{}",
            wallet,
            self.ctx(),
            run.stdout,
            run.stderr
        );
        run.json()
    }

    /// A new wallet with a random mnemonic (kept in `NAME.words`): each backend's run has
    /// addresses of its own on the shared chain.
    fn create_wallet(&self, name: &str) {
        let words = self.home.path(&format!("{name}.words"));
        self.home
            .run(&[
                "--network",
                "regtest",
                "--json",
                "wallet",
                "create",
                "--name",
                name,
                "--passphrase-file",
                &self.home.pass(),
                "--mnemonic-out",
                words.to_str().unwrap(),
            ])
            .ok();
    }

    /// Restores wallet `from`'s mnemonic as `name`.
    fn restore_from(&self, from: &str, name: &str) {
        let words = std::fs::read_to_string(self.home.path(&format!("{from}.words"))).unwrap();
        self.home.restore(name, words.trim());
    }

    /// A fresh confidential receiving address of `wallet`.
    fn address(&self, wallet: &str) -> Address {
        let doc = self.run(wallet, &["--json", "address", "new"]).ok().json();
        let address = Address::from_str(doc["address"].as_str().unwrap()).unwrap();
        assert!(address.is_blinded(), "{address} is confidential");
        address
    }

    /// (confirmed, unconfirmed) of `asset` after a sync.
    fn balance(&self, wallet: &str, asset: &str) -> (u64, u64) {
        let doc = self.run(wallet, &["--json", "balance"]).ok().json();
        crate::common::balance_of(&doc, asset)
    }

    /// `txs` after a sync: one "txid|status|net|fee" line per transaction, sorted.
    fn history(&self, wallet: &str) -> Vec<String> {
        self.run(wallet, &["--json", "sync"]).ok();
        let doc = self.run(wallet, &["--json", "txs"]).ok().json();
        crate::common::history_rows(&doc)
    }

    /// `utxos` (read from the store): "outpoint|value|asset|keychain", sorted.
    fn utxos(&self, wallet: &str) -> Vec<String> {
        let doc = self.run(wallet, &["--json", "utxos"]).ok().json();
        let mut rows: Vec<String> = doc
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                format!(
                    "{}|{}|{}|{}",
                    r["outpoint"], r["value"], r["asset"], r["keychain"]
                )
            })
            .collect();
        rows.sort();
        rows
    }

    /// Runs `args` as one stage of a shell pipeline, `input` (text: PSETs and txids) piped
    /// to its stdin; its stdout.
    fn pipe_stage(&self, wallet: &str, args: &[&str], input: &str) -> String {
        let run = self.run_stdin(wallet, args, Some(input));
        assert!(run.code == 0, "{args:?} {}: {}", self.ctx(), run.stderr);
        run.stdout
    }

    /// A new wallet `name` holding one confirmed L-BTC.
    fn funded_wallet(&self, name: &str) {
        self.create_wallet(name);
        let to = self.address(name);
        self.chain.faucet(&to, COIN, None).unwrap();
        self.chain.mine(1).unwrap();
        assert_eq!(
            self.balance(name, &self.policy()),
            (COIN, 0),
            "{}",
            self.ctx()
        );
    }
}

fn net(doc: &Value, asset: &str) -> i64 {
    doc["net"][asset].as_i64().unwrap_or(0)
}

fn fee(doc: &Value) -> u64 {
    doc["fee"].as_u64().expect("a fee")
}

// ---------------------------------------------------------------------------------------------
// The scenarios.

/// L-BTC and an issued asset paid by the chain's faucet to confidential addresses: seen
/// unconfirmed, then confirmed, with both transactions in the history.
fn receive_lbtc_and_an_asset(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    cli.create_wallet("alice");
    let lbtc_to = cli.address("alice");
    let asset_to = cli.address("alice");
    let issued = chain.issue(5_000_000).unwrap();
    chain.mine(1).unwrap();
    let asset = issued.asset.to_string();
    let policy = cli.policy();

    chain.faucet(&lbtc_to, COIN, None).unwrap();
    chain.faucet(&asset_to, 700, Some(issued.asset)).unwrap();
    // Explicit outputs: paid to the unconfidential form of other addresses of the wallet.
    let explicit_lbtc = cli.address("alice").to_unconfidential();
    let explicit_asset = cli.address("alice").to_unconfidential();
    chain.faucet(&explicit_lbtc, 5_000_000, None).unwrap();
    chain
        .faucet(&explicit_asset, 30, Some(issued.asset))
        .unwrap();
    assert_eq!(
        cli.balance("alice", &policy),
        (0, COIN + 5_000_000),
        "{ctx}: unconfirmed"
    );
    assert_eq!(cli.balance("alice", &asset), (0, 730), "{ctx}: unconfirmed");

    chain.mine(1).unwrap();
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN + 5_000_000, 0),
        "{ctx}: confirmed"
    );
    assert_eq!(cli.balance("alice", &asset), (730, 0), "{ctx}: confirmed");
    let txs = cli.run("alice", &["--json", "txs"]).ok().json();
    let txs = txs.as_array().unwrap();
    assert_eq!(txs.len(), 4, "{ctx}: {txs:?}");
    assert!(
        txs.iter().all(|t| t["status"] == "confirmed"),
        "{ctx}: {txs:?}"
    );
    let mut received: Vec<(i64, i64)> = txs
        .iter()
        .map(|t| (net(t, &policy), net(t, &asset)))
        .collect();
    received.sort();
    assert_eq!(
        received,
        [(0, 30), (0, 700), (5_000_000, 0), (COIN as i64, 0)],
        "{ctx}"
    );
    let utxos = cli.utxos("alice");
    assert_eq!(utxos.len(), 4, "{ctx}: {utxos:?}");
}

/// Alice pays Bob, Bob pays part back; amounts and fees exact on both sides, unconfirmed then
/// confirmed. Both wallets restored from their mnemonics find the same history, balances and
/// coins.
fn send_back_and_forth_then_restore(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    cli.funded_wallet("alice");
    cli.create_wallet("bob");

    let to_bob = cli.address("bob");
    let sent = cli.signed("alice", &["send", "--to", &format!("{to_bob}:0.25")]);
    let f1 = fee(&sent);
    assert!(f1 > 0 && f1 < 1_000, "{ctx}: fee {f1}");
    assert_eq!(net(&sent, &policy), -(25_000_000 + f1 as i64), "{ctx}");
    chain.settle().unwrap();
    assert_eq!(cli.balance("bob", &policy), (0, 25_000_000), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (0, COIN - 25_000_000 - f1),
        "{ctx}: alice's change is unconfirmed"
    );
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("bob", &policy), (25_000_000, 0), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - 25_000_000 - f1, 0),
        "{ctx}"
    );

    let to_alice = cli.address("alice");
    let back = cli.signed("bob", &["send", "--to", &format!("{to_alice}:0.1")]);
    let f2 = fee(&back);
    assert_eq!(net(&back, &policy), -(10_000_000 + f2 as i64), "{ctx}");
    chain.settle().unwrap();
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - 25_000_000 - f1, 10_000_000),
        "{ctx}"
    );
    assert_eq!(cli.balance("bob", &policy), (0, 15_000_000 - f2), "{ctx}");
    chain.mine(1).unwrap();
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - 15_000_000 - f1, 0),
        "{ctx}"
    );
    assert_eq!(cli.balance("bob", &policy), (15_000_000 - f2, 0), "{ctx}");

    // Alice: funding, payment, refund; Bob: payment, refund.
    for (name, count) in [("alice", 3), ("bob", 2)] {
        let restored = format!("{name}-restored");
        cli.restore_from(name, &restored);
        let original = cli.history(name);
        assert_eq!(original.len(), count, "{ctx}: {name}: {original:?}");
        assert_eq!(cli.history(&restored), original, "{ctx}: {name}");
        assert_eq!(
            cli.balance(&restored, &policy),
            cli.balance(name, &policy),
            "{ctx}: {name}"
        );
        assert_eq!(cli.utxos(&restored), cli.utxos(name), "{ctx}: {name}");
    }
}

/// `pset create | pset sign - | pset broadcast -`, as a shell pipeline runs it.
fn pset_pipeline(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    cli.funded_wallet("alice");
    cli.create_wallet("bob");
    let to_bob = cli.address("bob");

    let created = cli.pipe_stage(
        "alice",
        &["pset", "create", "--to", &format!("{to_bob}:0.1")],
        "",
    );
    let inspect = cli
        .run_stdin("alice", &["--json", "pset", "inspect", "-"], Some(&created))
        .ok()
        .json();
    let f = inspect["fee"].as_u64().unwrap();
    assert_eq!(net(&inspect, &policy), -(10_000_000 + f as i64), "{ctx}");

    let pass = cli.home.pass();
    let signed = cli.pipe_stage(
        "alice",
        &["--yes", "pset", "sign", "-", "--passphrase-file", &pass],
        &created,
    );
    let txid = cli.pipe_stage("alice", &["pset", "broadcast", "-"], &signed);
    let txid = txid.trim().to_owned();
    assert!(elements::Txid::from_str(&txid).is_ok(), "{ctx}: {txid:?}");
    chain.settle().unwrap();
    assert_eq!(cli.balance("bob", &policy), (0, 10_000_000), "{ctx}");
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("bob", &policy), (10_000_000, 0), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - 10_000_000 - f, 0),
        "{ctx}"
    );
    let bobs = cli.run("bob", &["--json", "txs"]).ok().json();
    assert_eq!(bobs[0]["txid"], txid.as_str(), "{ctx}");
}

/// `asset issue`, then `asset reissue` and `asset burn`, each visible in the balance; the L-BTC
/// balance pays exactly the three fees.
fn asset_issue_reissue_burn(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    cli.funded_wallet("alice");

    let issued = cli.signed(
        "alice",
        &["asset", "issue", "--amount", "1000", "--token", "1"],
    );
    let asset = issued["asset"].as_str().unwrap().to_owned();
    let token = issued["token"].as_str().unwrap().to_owned();
    assert_eq!(net(&issued, &asset), 1_000, "{ctx}");
    assert_eq!(net(&issued, &token), 1, "{ctx}");
    chain.settle().unwrap();
    assert_eq!(cli.balance("alice", &asset), (0, 1_000), "{ctx}");
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("alice", &asset), (1_000, 0), "{ctx}");
    assert_eq!(cli.balance("alice", &token), (1, 0), "{ctx}");

    let reissued = cli.signed("alice", &["asset", "reissue", &asset, "--amount", "250"]);
    assert_eq!(net(&reissued, &asset), 250, "{ctx}");
    chain.settle().unwrap();
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("alice", &asset), (1_250, 0), "{ctx}");
    assert_eq!(cli.balance("alice", &token), (1, 0), "{ctx}");

    let burned = cli.signed("alice", &["asset", "burn", &asset, "--amount", "10"]);
    assert_eq!(net(&burned, &asset), -10, "{ctx}");
    chain.settle().unwrap();
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("alice", &asset), (1_240, 0), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - fee(&issued) - fee(&reissued) - fee(&burned), 0),
        "{ctx}"
    );
    let info = cli
        .run("alice", &["--json", "asset", "info", &asset])
        .ok()
        .json();
    assert_eq!(info["issued_amount"], 1_000, "{ctx}");
    assert_eq!(info["reissued_amount"], 250, "{ctx}");
    assert_eq!(info["burned_amount"], 10, "{ctx}");

    // A confidential issuance; its reissuance is blinded too (Elements derives the token from
    // whether the reissued amount is blinded: the other kind is refused before signing).
    let secret = cli.signed(
        "alice",
        &[
            "asset",
            "issue",
            "--amount",
            "400",
            "--token",
            "1",
            "--confidential",
        ],
    );
    let hidden = secret["asset"].as_str().unwrap().to_owned();
    chain.settle().unwrap();
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("alice", &hidden), (400, 0), "{ctx}");
    let again = cli.signed("alice", &["asset", "reissue", &hidden, "--amount", "5"]);
    assert_eq!(again["confidential"], true, "{ctx}");
    assert_eq!(net(&again, &hidden), 5, "{ctx}");
    chain.settle().unwrap();
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("alice", &hidden), (405, 0), "{ctx}");
    let pass = cli.home.pass();
    cli.run(
        "alice",
        &[
            "--json",
            "--yes",
            "asset",
            "reissue",
            &asset,
            "--amount",
            "5",
            "--confidential",
            "--passphrase-file",
            &pass,
        ],
    )
    .fails_json(3, "transaction", "comes from an issuance with explicit amounts: Elements accepts only explicit (not confidential) reissuances");
}

/// A 2-of-3 multisig wallet: a watch-only coordinator builds the PSET, two cosigners (each
/// with its own mnemonic and the shared descriptor) sync and sign, the coordinator combines,
/// finalizes and broadcasts. The key order differs per backend, so each run has its own
/// scripts on the shared chain.
fn multisig_cosigning(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    let phrases = [crate::common::ABANDON, SECOND, THIRD];
    let keys: Vec<String> = phrases
        .iter()
        .enumerate()
        .map(|(i, phrase)| {
            let doc = cli.home.restore(&format!("key{i}"), phrase);
            let d = doc["descriptor"].as_str().unwrap();
            let start = d.find("elwpkh(").unwrap() + "elwpkh(".len();
            let end = d.find("/<0;1>/*").unwrap();
            d[start..end].to_owned()
        })
        .collect();
    let order: [usize; 3] = match backend {
        Backend::Esplora => [0, 1, 2],
        Backend::Electrum => [2, 1, 0],
    };
    let descriptor = format!(
        "ct(slip77({}),elwsh(multi(2,{}/<0;1>/*,{}/<0;1>/*,{}/<0;1>/*)))",
        "42".repeat(32),
        keys[order[0]],
        keys[order[1]],
        keys[order[2]]
    );
    let desc_file = cli.home.path("multisig.descriptor");
    std::fs::write(&desc_file, &descriptor).unwrap();
    let desc_arg = desc_file.to_str().unwrap();
    cli.home
        .run(&[
            "--network",
            "regtest",
            "wallet",
            "import",
            "--name",
            "coord",
            "--descriptor-file",
            desc_arg,
        ])
        .ok();
    for (name, phrase) in [("m1", phrases[0]), ("m3", phrases[2])] {
        cli.home
            .run_with_stdin(
                &[
                    "--network",
                    "regtest",
                    "wallet",
                    "restore",
                    "--name",
                    name,
                    "--descriptor-file",
                    desc_arg,
                    "--passphrase-file",
                    &cli.home.pass(),
                ],
                Some(phrase),
            )
            .ok();
    }
    let funding = cli.address("coord");
    chain.faucet(&funding, COIN, None).unwrap();
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("coord", &policy), (COIN, 0), "{ctx}");
    cli.create_wallet("bob");
    let to_bob = cli.address("bob");

    let unsigned = cli.pipe_stage(
        "coord",
        &["pset", "create", "--to", &format!("{to_bob}:0.2")],
        "",
    );
    let pass = cli.home.pass();
    let mut signed = Vec::new();
    for name in ["m1", "m3"] {
        cli.run(name, &["sync"]).ok();
        let view = cli
            .run_stdin(name, &["--json", "pset", "inspect", "-"], Some(&unsigned))
            .ok()
            .json();
        let f = view["fee"].as_u64().unwrap();
        assert_eq!(net(&view, &policy), -(20_000_000 + f as i64), "{ctx}");
        let out = cli.pipe_stage(
            name,
            &["--yes", "pset", "sign", "-", "--passphrase-file", &pass],
            &unsigned,
        );
        let file = cli.home.path(&format!("{name}.pset"));
        std::fs::write(&file, out).unwrap();
        signed.push(file);
    }
    let combined = cli
        .home
        .run(&[
            "--network",
            "regtest",
            "pset",
            "combine",
            signed[0].to_str().unwrap(),
            signed[1].to_str().unwrap(),
        ])
        .ok()
        .stdout;
    let finalized = cli.pipe_stage("coord", &["pset", "finalize", "-"], &combined);
    let txid = cli.pipe_stage("coord", &["pset", "broadcast", "-"], &finalized);
    assert!(
        elements::Txid::from_str(txid.trim()).is_ok(),
        "{ctx}: {txid:?}"
    );
    chain.settle().unwrap();
    assert_eq!(cli.balance("bob", &policy), (0, 20_000_000), "{ctx}");
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("bob", &policy), (20_000_000, 0), "{ctx}");
    let (confirmed, unconfirmed) = cli.balance("coord", &policy);
    assert_eq!(unconfirmed, 0, "{ctx}");
    assert!(
        confirmed < COIN - 20_000_000 && confirmed > COIN - 20_000_000 - 10_000,
        "{ctx}: {confirmed}"
    );
}

/// The block confirming a payment is replaced by a longer branch that confirms it again: the
/// wallet follows, with the new block hash and the same balances.
fn reorg_re_mines_a_payment(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    cli.create_wallet("alice");
    // Room below the tip for the embedded chain, which starts at height 0.
    chain.mine(2).unwrap();
    let to = cli.address("alice");
    let txid = chain.faucet(&to, 30_000_000, None).unwrap().to_string();
    chain.mine(1).unwrap();
    let block_of = |cli: &Cli| -> (Value, Value) {
        cli.run("alice", &["--json", "sync"]).ok();
        let doc = cli
            .run("alice", &["--json", "tx", "show", &txid])
            .ok()
            .json();
        (doc["height"].clone(), doc["block_hash"].clone())
    };
    let (height, hash) = block_of(&cli);
    assert!(
        height.is_u64() && hash.is_string(),
        "{ctx}: {height} {hash}"
    );
    assert_eq!(cli.balance("alice", &policy), (30_000_000, 0), "{ctx}");

    chain.reorg(1).unwrap();
    let (new_height, new_hash) = block_of(&cli);
    assert_eq!(new_height, height, "{ctx}: re-mined at the same height");
    assert_ne!(new_hash, hash, "{ctx}: in another block");
    assert_eq!(cli.balance("alice", &policy), (30_000_000, 0), "{ctx}");
    assert_eq!(cli.history("alice").len(), 1, "{ctx}");
}

/// A payment spends a coin whose own transaction is still unconfirmed; both confirm together.
fn unconfirmed_parent_spent(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    cli.create_wallet("alice");
    cli.create_wallet("bob");
    let to_alice = cli.address("alice");
    chain.faucet(&to_alice, COIN, None).unwrap();
    assert_eq!(cli.balance("alice", &policy), (0, COIN), "{ctx}");

    let to_bob = cli.address("bob");
    let sent = cli.signed("alice", &["send", "--to", &format!("{to_bob}:0.4")]);
    let f = fee(&sent);
    chain.settle().unwrap();
    assert_eq!(cli.balance("bob", &policy), (0, 40_000_000), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (0, COIN - 40_000_000 - f),
        "{ctx}"
    );
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("bob", &policy), (40_000_000, 0), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - 40_000_000 - f, 0),
        "{ctx}"
    );
    assert_eq!(cli.history("alice").len(), 2, "{ctx}");
}

/// A PSET made before a payment spends the same coin again: the server refuses the
/// conflicting transaction (the first does not signal replacement), the CLI says so, and the
/// first payment confirms.
fn conflicting_spend_refused(chain: &dyn TestChain, backend: Backend) {
    let cli = Cli::new(chain, backend);
    let ctx = cli.ctx();
    let policy = cli.policy();
    cli.funded_wallet("alice");
    cli.create_wallet("bob");
    let to_bob = cli.address("bob");
    let stale = cli.pipe_stage(
        "alice",
        &["pset", "create", "--to", &format!("{to_bob}:0.2")],
        "",
    );
    // Signed while its coin is unspent (once the wallet's own payment spends the coin,
    // `pset sign` refuses it itself), broadcast after that payment.
    let pass = cli.home.pass();
    let signed = cli.pipe_stage(
        "alice",
        &["--yes", "pset", "sign", "-", "--passphrase-file", &pass],
        &stale,
    );
    let first = cli.signed("alice", &["send", "--to", &format!("{to_bob}:0.3")]);
    chain.settle().unwrap();
    let refused = cli.run_stdin(
        "alice",
        &["--json", "pset", "broadcast", "-"],
        Some(&signed),
    );
    assert_eq!(refused.code, 1, "{ctx}: {}", refused.stderr);
    let error = refused.json_error();
    assert_eq!(error["code"], "broadcast_rejected", "{ctx}: {error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("txn-mempool-conflict"), "{ctx}: {error}");
    // The refused transaction is recorded as failed: it no longer counts, and says why.
    assert!(
        message.contains("is recorded as failed and does not count"),
        "{ctx}: {error}"
    );
    let pending = cli.run("alice", &["--json", "tx", "pending"]).ok().json();
    let failed: Vec<&serde_json::Value> = pending
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["txid"] != first["txid"])
        .collect();
    assert_eq!(failed.len(), 1, "{ctx}: {pending}");
    assert_eq!(failed[0]["state"], "failed", "{ctx}: {pending}");
    assert_eq!(failed[0]["counts"], false, "{ctx}: {pending}");
    chain.mine(1).unwrap();
    assert_eq!(cli.balance("bob", &policy), (30_000_000, 0), "{ctx}");
    assert_eq!(
        cli.balance("alice", &policy),
        (COIN - 30_000_000 - fee(&first), 0),
        "{ctx}"
    );
}

/// Each scenario: a test on the embedded chain (always) and one on the real stack (opt-in),
/// each over both backends.
macro_rules! on_both_chains {
    ($scenario:ident, $embedded:ident, $real:ident) => {
        #[test]
        fn $embedded() {
            let chain = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
            for backend in BACKENDS {
                $scenario(&chain, backend);
            }
        }

        #[test]
        fn $real() {
            with_real_stack(stringify!($real), |stack| {
                for backend in BACKENDS {
                    $scenario(stack, backend);
                }
            });
        }
    };
}

on_both_chains!(
    receive_lbtc_and_an_asset,
    receive_lbtc_and_an_asset_on_the_embedded_chain,
    receive_lbtc_and_an_asset_on_the_real_stack
);
on_both_chains!(
    send_back_and_forth_then_restore,
    send_back_and_forth_then_restore_on_the_embedded_chain,
    send_back_and_forth_then_restore_on_the_real_stack
);
on_both_chains!(
    pset_pipeline,
    pset_pipeline_on_the_embedded_chain,
    pset_pipeline_on_the_real_stack
);
on_both_chains!(
    asset_issue_reissue_burn,
    asset_issue_reissue_burn_on_the_embedded_chain,
    asset_issue_reissue_burn_on_the_real_stack
);
on_both_chains!(
    multisig_cosigning,
    multisig_cosigning_on_the_embedded_chain,
    multisig_cosigning_on_the_real_stack
);
on_both_chains!(
    reorg_re_mines_a_payment,
    reorg_re_mines_a_payment_on_the_embedded_chain,
    reorg_re_mines_a_payment_on_the_real_stack
);
on_both_chains!(
    unconfirmed_parent_spent,
    unconfirmed_parent_spent_on_the_embedded_chain,
    unconfirmed_parent_spent_on_the_real_stack
);
on_both_chains!(
    conflicting_spend_refused,
    conflicting_spend_refused_on_the_embedded_chain,
    conflicting_spend_refused_on_the_real_stack
);

// ---------------------------------------------------------------------------------------------
// Opting in.

#[test]
fn both_variables_or_neither() {
    use std::ffi::OsString;
    let some = |s: &str| Some(OsString::from(s));
    assert!(rs::executables_from(None, None).unwrap().is_none());
    assert!(rs::executables_from(some(""), some("")).unwrap().is_none());
    let (node, electrs) = rs::executables_from(some("/opt/elementsd"), some("/opt/electrs"))
        .unwrap()
        .unwrap();
    assert_eq!(node, Path::new("/opt/elementsd"));
    assert_eq!(electrs, Path::new("/opt/electrs"));
    for (a, b) in [(some("/opt/elementsd"), None), (None, some("/opt/electrs"))] {
        let e = rs::executables_from(a, b).unwrap_err().to_string();
        assert!(
            e.contains("ELEMENTSD_EXEC") && e.contains("ELECTRS_LIQUID_EXEC") && e.contains("both"),
            "{e}"
        );
    }
    let skip = rs::skip_message("t");
    assert!(
        skip.contains("ELEMENTSD_EXEC") && skip.contains("ELECTRS_LIQUID_EXEC"),
        "{skip}"
    );
}

// ---------------------------------------------------------------------------------------------
// The JSON-RPC client and elementsd's recorded answers.

/// A recorded elementsd answer (`elementsd/NAME` of the fixtures), as the JSON-RPC envelope
/// elementsd sends it (the fixtures hold only the result).
fn recorded(name: &str) -> Option<(Value, String)> {
    let dir = crate::common::shared("fixtures/electrs-liquidregtest/elementsd")?;
    let text = std::fs::read_to_string(dir.join(name)).unwrap();
    let result: Value = if name.ends_with(".json") {
        serde_json::from_str(&text).unwrap()
    } else {
        Value::String(text.trim().to_owned())
    };
    let body = json!({"result": result, "error": null, "id": 7}).to_string();
    Some((result, body))
}

#[test]
fn recorded_elementsd_answers_parse() {
    let Some((_, body)) = recorded("getsidechaininfo.json") else {
        return;
    };
    let info = rs::parse_response("getsidechaininfo", 200, &body).unwrap();
    assert_eq!(
        rs::parse_sidechain_policy_asset(&info).unwrap().to_string(),
        rs::LIQUIDREGTEST_POLICY_ASSET
    );

    let (_, body) = recorded("issueasset.json").unwrap();
    let issued =
        rs::parse_issueasset(&rs::parse_response("issueasset", 200, &body).unwrap()).unwrap();
    assert_eq!(
        issued.asset.to_string(),
        "2dcf5a8834645654911964ec3602426fd3b9b4017554d3f9c19403e7fc1411d3"
    );
    assert_eq!(
        issued.token.to_string(),
        "508e509e3199a8ed8f653a09d9e456dd9aea8802712b9433692635c9e7cd9fca"
    );
    assert_eq!(
        issued.txid.to_string(),
        "b1002ea15425d3f7d7e87a451a6796cf248f95cd36930eec6eb29e435397ee32"
    );

    let (_, body) = recorded("getblockchaininfo_initial.json").unwrap();
    let info = rs::parse_response("getblockchaininfo", 200, &body).unwrap();
    assert_eq!(
        rs::parse_chain_info(&info).unwrap(),
        ("liquidregtest".to_owned(), u64::from(rs::INITIAL_BLOCKS))
    );

    // The verbose form (an object by txid) and the plain one (an array) give the same txids.
    let (verbose, body) = recorded("getrawmempool_final.json").unwrap();
    let txids =
        rs::parse_mempool(&rs::parse_response("getrawmempool", 200, &body).unwrap()).unwrap();
    let plain: Vec<&String> = verbose.as_object().unwrap().keys().collect();
    assert_eq!(txids, rs::parse_mempool(&json!(plain)).unwrap());
    assert!(txids.contains("a3112ebc0d0a8ed9300806a449e3a662e42bdbc8dc2233e03b380e281895753f"));

    let (_, body) = recorded("getblockhash_0.txt").unwrap();
    assert_eq!(
        rs::parse_response("getblockhash", 200, &body).unwrap(),
        "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21"
    );
    let (_, body) = recorded("getnetworkinfo.json").unwrap();
    let info = rs::parse_response("getnetworkinfo", 200, &body).unwrap();
    assert_eq!(info["subversion"], "/Elements Core:23.3.3/");

    // The txid a payment answers is read as elementsd prints it.
    let (tx, _) = recorded("getrawtransaction_pay_lbtc_conf_addr0_verbose.json").unwrap();
    let txid = rs::parse_txid("sendtoaddress", &tx["txid"]).unwrap();
    assert_eq!(txid.to_string(), tx["txid"].as_str().unwrap());
}

#[test]
fn rpc_errors_name_the_method() {
    // What elementsd 23 sends for an RPC error: HTTP 500 and a JSON-RPC error object.
    let e = rs::parse_response(
        "sendtoaddress",
        500,
        r#"{"result":null,"error":{"code":-6,"message":"Insufficient funds"},"id":3}"#,
    )
    .unwrap_err();
    assert_eq!(e.code(), Some(-6));
    assert_eq!(
        e.to_string(),
        "elementsd RPC sendtoaddress failed: error -6: Insufficient funds"
    );
    assert!(!e.is_not_ready());
    // Still loading: worth asking again.
    let warm = rs::parse_response(
        "getblockchaininfo",
        500,
        r#"{"result":null,"error":{"code":-28,"message":"Loading block index…"},"id":1}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&warm, rs::RpcError::Rpc { method, code: -28, .. } if method == "getblockchaininfo"),
        "{warm}"
    );
    assert!(warm.is_not_ready(), "{warm}");
    // Wrong credentials: an empty 401.
    let auth = rs::parse_response("getblockcount", 401, "").unwrap_err();
    assert!(
        matches!(&auth, rs::RpcError::Http { method, status: 401, .. } if method == "getblockcount"),
        "{auth}"
    );
    assert!(
        auth.to_string().contains("getblockcount") && auth.to_string().contains("rpcpassword"),
        "{auth}"
    );
    assert!(!auth.is_not_ready());
    // Unknown method (HTTP 404 with an error object), garbage, and a bodyless object.
    let unknown = rs::parse_response(
        "nosuchmethod",
        404,
        r#"{"result":null,"error":{"code":-32601,"message":"Method not found"},"id":2}"#,
    )
    .unwrap_err();
    assert_eq!(unknown.code(), Some(-32601));
    assert!(
        matches!(&unknown, rs::RpcError::Rpc { message, .. } if message == "Method not found"),
        "{unknown}"
    );
    let garbage = rs::parse_response("getblockcount", 200, "<html>").unwrap_err();
    assert!(garbage.to_string().contains("getblockcount"), "{garbage}");
    assert!(
        matches!(&garbage, rs::RpcError::Malformed { reason, .. } if reason.starts_with("not JSON (")),
        "{garbage}"
    );
    let empty = rs::parse_response("getblockcount", 200, r#"{"id":1}"#).unwrap_err();
    assert!(matches!(empty, rs::RpcError::Malformed { .. }), "{empty}");
    assert!(
        empty.to_string().contains("neither result nor error"),
        "{empty}"
    );
    // A null result is a result (`stop` answers a string, some calls null).
    assert_eq!(
        rs::parse_response(
            "rescanblockchain",
            200,
            r#"{"result":null,"error":null,"id":1}"#
        )
        .unwrap(),
        Value::Null
    );
    // No answer at all.
    let rpc = rs::Rpc::new(
        rs::free_port().map(|p| ([127, 0, 0, 1], p).into()).unwrap(),
        "u",
        "p",
        Duration::from_secs(5),
    );
    let refused = rpc.call("getblockcount", json!([])).unwrap_err();
    assert!(
        matches!(&refused, rs::RpcError::Transport { method, .. } if method == "getblockcount"),
        "{refused}"
    );
    assert!(refused.is_not_ready(), "{refused}");
    assert!(refused.to_string().contains("getblockcount"), "{refused}");
    // Named parameters travel as an object.
    let body: Value = serde_json::from_str(&rs::request_body(
        9,
        "sendtoaddress",
        &json!({"address": "el1...", "amount": "0.00000700"}),
    ))
    .unwrap();
    assert_eq!(body["method"], "sendtoaddress");
    assert_eq!(body["params"]["amount"], "0.00000700");
    assert_eq!(body["id"], 9);
}

#[test]
fn policy_asset_from_asset_labels() {
    // Not recorded: the shape `dumpassetlabels` documents ({"label": "asset id"}).
    let labels = json!({"bitcoin": rs::LIQUIDREGTEST_POLICY_ASSET});
    assert_eq!(
        rs::parse_labels_policy_asset(&labels).unwrap().to_string(),
        rs::LIQUIDREGTEST_POLICY_ASSET
    );
    let e = rs::parse_labels_policy_asset(&json!({})).unwrap_err();
    assert!(e.to_string().contains("dumpassetlabels"), "{e}");
    let e = rs::parse_sidechain_policy_asset(&json!({"pegged_asset": "zz"})).unwrap_err();
    assert!(e.to_string().contains("getsidechaininfo"), "{e}");
}

#[test]
fn amounts_and_basic_auth() {
    assert_eq!(rs::rpc_amount(0), "0.00000000");
    assert_eq!(rs::rpc_amount(700), "0.00000700");
    assert_eq!(rs::rpc_amount(COIN), "1.00000000");
    assert_eq!(rs::rpc_amount(2_100_000_000_000_000), "21000000.00000000");
    assert_eq!(rs::rpc_amount(123_456_789), "1.23456789");
    assert_eq!(rs::base64(b"user:pass"), "dXNlcjpwYXNz");
    assert_eq!(rs::base64(b""), "");
    assert_eq!(rs::base64(b"f"), "Zg==");
    assert_eq!(rs::base64(b"fo"), "Zm8=");
    assert_eq!(rs::base64(b"foo"), "Zm9v");
    assert_eq!(rs::base64(b"foob"), "Zm9vYg==");
}

// ---------------------------------------------------------------------------------------------
// The generated configuration and command lines.

/// `key=value` lines of a configuration file, in order.
type Options = Vec<(String, String)>;

/// The top-level options of a configuration, and those of its `[liquidregtest]` section.
fn conf_sections(conf: &str) -> (Options, Options) {
    let (mut top, mut chain) = (Vec::new(), Vec::new());
    let mut section = String::new();
    for line in conf.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
            continue;
        }
        let (k, v) = line.split_once('=').expect("key=value");
        let pair = (k.to_owned(), v.to_owned());
        match section.as_str() {
            "" => top.push(pair),
            "liquidregtest" => chain.push(pair),
            other => panic!("unexpected section {other}"),
        }
    }
    (top, chain)
}

#[test]
fn elements_conf_matches_the_recorded_stack() {
    let conf = rs::elements_conf(18891);
    let (top, chain) = conf_sections(&conf);
    assert_eq!(top, [("chain".to_owned(), "liquidregtest".to_owned())]);
    let get = |k: &str| -> Vec<&str> {
        chain
            .iter()
            .filter(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    // As the fixtures' README gives the node's configuration.
    for (k, v) in [
        ("txindex", "1"),
        ("validatepegin", "0"),
        ("initialfreecoins", "2100000000000000"),
        ("anyonecanspendaremine", "1"),
        ("con_blocksubsidy", "0"),
        ("fallbackfee", "0.00001"),
        ("acceptdiscountct", "1"),
        // Loopback only, and no peers.
        ("rpcport", "18891"),
        ("rpcbind", "127.0.0.1"),
        ("rpcallowip", "127.0.0.1"),
        ("listen", "0"),
        ("server", "1"),
        ("rpcuser", rs::RPC_USER),
        ("rpcpassword", rs::RPC_PASSWORD),
    ] {
        assert_eq!(get(k), [v], "{k} in\n{conf}");
    }
    assert_eq!(
        chain.len(),
        15,
        "every option is checked above or is printtoconsole:\n{conf}"
    );
    assert_eq!(get("printtoconsole"), ["0"]);
    // Basic authentication needs the pair without a colon in the user.
    assert!(!rs::RPC_USER.contains(':'));

    let args = rs::elementsd_args(Path::new("/tmp/x/elementsd"));
    assert_eq!(
        args,
        [
            "-datadir=/tmp/x/elementsd",
            "-conf=/tmp/x/elementsd/elements.conf"
        ]
    );
}

#[test]
fn electrs_command_line() {
    let setup = rs::ElectrsSetup {
        daemon_rpc: "127.0.0.1:18891".parse().unwrap(),
        daemon_dir: "/tmp/x/elementsd".into(),
        db_dir: "/tmp/x/electrs-db".into(),
        http: "127.0.0.1:3012".parse().unwrap(),
        electrum: "127.0.0.1:50431".parse().unwrap(),
        monitoring: "127.0.0.1:4224".parse().unwrap(),
    };
    let args: Vec<String> = rs::electrs_args(&setup)
        .into_iter()
        .map(|a| a.into_string().unwrap())
        .collect();
    let expected = [
        "-vv",
        "--network",
        "liquidregtest",
        "--jsonrpc-import",
        "--address-search",
        "--daemon-rpc-addr",
        "127.0.0.1:18891",
        "--cookie",
        &format!("{}:{}", rs::RPC_USER, rs::RPC_PASSWORD),
        "--daemon-dir",
        "/tmp/x/elementsd",
        "--db-dir",
        "/tmp/x/electrs-db",
        "--http-addr",
        "127.0.0.1:3012",
        "--electrum-rpc-addr",
        "127.0.0.1:50431",
        "--monitoring-addr",
        "127.0.0.1:4224",
    ];
    assert_eq!(args, expected);
}

#[test]
fn free_ports_differ() {
    let a = rs::free_port().unwrap();
    let b = rs::free_port().unwrap();
    assert_ne!(a, b);
}

// ---------------------------------------------------------------------------------------------
// Process handling, exercised with stand-ins (test-only fakes, never the real stack).

/// Writes a `sh` script that re-executes this test binary as the stand-in `mode`, with the
/// arguments it was given in `LOTC_STAND_IN_ARGS` (one per line) and its pid in `NAME.pid`.
/// SIGUSR1 is ignored, as electrs handles it (the harness sends it to ask for a refresh).
fn stand_in(dir: &Path, mode: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let script = dir.join(format!("{mode}.sh"));
    let pidfile = dir.join(format!("{mode}.pid"));
    for p in [exe.as_path(), pidfile.as_path()] {
        assert!(!p.to_str().unwrap().contains('\''), "{}", p.display());
    }
    let text = format!(
        "#!/bin/sh\n\
         # Test-only stand-in for {mode}: liquid-otc's test binary, not the real program.\n\
         trap '' USR1\n\
         LOTC_STAND_IN='{mode}'\n\
         LOTC_STAND_IN_PIDFILE='{pid}'\n\
         LOTC_STAND_IN_ARGS=$(printf '%s\\n' \"$@\")\n\
         export LOTC_STAND_IN LOTC_STAND_IN_PIDFILE LOTC_STAND_IN_ARGS\n\
         exec '{exe}' real_stack::stand_in_process --exact --ignored --nocapture --test-threads=1\n",
        pid = pidfile.display(),
        exe = exe.display(),
    );
    std::fs::write(&script, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

fn read_pid(dir: &Path, mode: &str) -> u32 {
    std::fs::read_to_string(dir.join(format!("{mode}.pid")))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn quick_config(elementsd: std::path::PathBuf, electrs: std::path::PathBuf) -> StackConfig {
    StackConfig {
        startup_deadline: Duration::from_secs(30),
        op_deadline: Duration::from_secs(30),
        ..StackConfig::new(elementsd, electrs)
    }
}

#[test]
fn stand_in_stack_starts_serves_and_is_killed_on_drop() {
    let scripts = tempfile::tempdir().unwrap();
    let config = quick_config(
        stand_in(scripts.path(), "elementsd"),
        stand_in(scripts.path(), "electrs"),
    );
    let stack = RealStack::start(config).unwrap();
    let (node, electrs) = stack.pids();
    let (node, electrs) = (node.unwrap(), electrs.unwrap());
    assert_eq!(read_pid(scripts.path(), "elementsd"), node);
    assert_eq!(read_pid(scripts.path(), "electrs"), electrs);
    assert!(rs::pid_running(node) && rs::pid_running(electrs));
    let folder = stack.folder().to_owned();
    assert!(folder.join("elementsd/elements.conf").is_file());

    // The harness set the node up as the fixtures' was.
    let calls = |stack: &RealStack| -> Vec<String> {
        let log = stack.node_rpc().call("standin_calls", json!([])).unwrap();
        serde_json::from_value(log).unwrap()
    };
    assert_eq!(
        calls(&stack)
            .iter()
            .filter(|c| !is_polling(c))
            .cloned()
            .collect::<Vec<_>>(),
        [
            "getblockchaininfo",
            "getnetworkinfo",
            "createwallet {\"descriptors\":false,\"wallet_name\":\"wallet\"}",
            "wallet/wallet getnewaddress",
            "wallet/wallet generatetoaddress 101",
            "wallet/wallet rescanblockchain",
            "wallet/wallet listunspent",
            "getsidechaininfo",
        ]
    );
    assert_eq!(
        stack.policy_asset().to_string(),
        rs::LIQUIDREGTEST_POLICY_ASSET
    );
    assert!(stack.esplora_url().starts_with("http://127.0.0.1:"));
    assert!(stack.electrum_addr().ip().is_loopback());

    // Each operation returns once the (lagging) stand-in electrs shows it.
    let address = Address::from_str(STAND_IN_ADDRESS).unwrap();
    let txid = stack.faucet(&address, 700, None).unwrap();
    let esplora = |path: &str| -> String {
        let (status, body) = http_get(&format!("{}{path}", stack.esplora_url()));
        assert_eq!(status, 200, "{path}: {body}");
        body
    };
    assert!(esplora("/mempool/txids").contains(&txid.to_string()));
    let asset = AssetId::from_str(STAND_IN_ASSET).unwrap();
    stack.faucet(&address, COIN, Some(asset)).unwrap();
    let issued = stack.issue(5_000).unwrap();
    assert_eq!(issued.asset, asset);
    stack.mine(2).unwrap();
    assert_eq!(esplora("/blocks/tip/height").trim(), "103");
    assert_eq!(esplora("/mempool/txids").trim(), "[]");
    stack.settle().unwrap();
    let ops: Vec<String> = calls(&stack)
        .into_iter()
        .filter(|c| c.contains("sendtoaddress") || c.contains("issueasset"))
        .collect();
    assert_eq!(
        ops,
        [
            format!("wallet/wallet sendtoaddress {{\"address\":\"{STAND_IN_ADDRESS}\",\"amount\":\"0.00000700\"}}"),
            format!("wallet/wallet sendtoaddress {{\"address\":\"{STAND_IN_ADDRESS}\",\"amount\":\"1.00000000\",\"assetlabel\":\"{STAND_IN_ASSET}\"}}"),
            "wallet/wallet issueasset {\"assetamount\":\"0.00005000\",\"tokenamount\":\"0.00000001\"}".to_owned(),
        ]
    );

    drop(stack);
    assert!(!rs::pid_running(node), "elementsd stand-in killed");
    assert!(!rs::pid_running(electrs), "electrs stand-in killed");
    assert!(!folder.exists(), "temporary folder removed");
}

fn is_polling(call: &str) -> bool {
    [
        "getblockcount",
        "getbestblockhash",
        "getrawmempool",
        "standin_calls",
    ]
    .contains(&call)
        || call.starts_with("warmup")
}

#[test]
fn stand_in_node_that_never_answers_hits_the_deadline_and_is_killed() {
    let scripts = tempfile::tempdir().unwrap();
    let mut config = quick_config(
        stand_in(scripts.path(), "elementsd-silent"),
        stand_in(scripts.path(), "electrs"),
    );
    config.startup_deadline = Duration::from_secs(2);
    let e = RealStack::start(config)
        .err()
        .expect("no stack")
        .to_string();
    assert!(
        e.contains("elementsd answering getblockchaininfo") && e.contains("within 2 s"),
        "{e}"
    );
    assert!(e.contains("elementsd stderr"), "the logs come with it: {e}");
    let pid = read_pid(scripts.path(), "elementsd-silent");
    assert!(!rs::pid_running(pid), "the silent stand-in was killed");
}

#[test]
fn stand_in_node_that_exits_is_reported_with_its_log() {
    let scripts = tempfile::tempdir().unwrap();
    let config = quick_config(
        stand_in(scripts.path(), "elementsd-exits"),
        stand_in(scripts.path(), "electrs"),
    );
    let e = RealStack::start(config)
        .err()
        .expect("no stack")
        .to_string();
    assert!(e.contains("elementsd exited"), "{e}");
    assert!(e.contains("stand-in: refusing to start"), "{e}");
    assert!(
        !scripts.path().join("electrs.pid").exists(),
        "electrs never started"
    );
}

#[test]
fn a_missing_executable_names_its_variable() {
    let config = quick_config(
        "/nonexistent/elementsd".into(),
        "/nonexistent/electrs".into(),
    );
    let e = RealStack::start(config)
        .err()
        .expect("no stack")
        .to_string();
    assert!(e.contains("ELEMENTSD_EXEC=/nonexistent/elementsd"), "{e}");
}

fn http_get(url: &str) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .into();
    let mut resp = agent.get(url).call().unwrap();
    (
        resp.status().as_u16(),
        resp.body_mut().read_to_string().unwrap(),
    )
}

/// external/0 of the fixtures' wallet.
const STAND_IN_ADDRESS: &str = "el1qq2xvpcvfup5j8zscjq05u2wxxjcyewk7979f3mmz5l7uw5pqmx6xf5xy50hsn6vhkm5euwt72x878eq6zxx2z0z676mna6kdq";
/// The fixtures' issued asset.
const STAND_IN_ASSET: &str = "2dcf5a8834645654911964ec3602426fd3b9b4017554d3f9c19403e7fc1411d3";

/// The body of the stand-in processes. Does nothing in an ordinary test run (it is ignored, and
/// returns at once without `LOTC_STAND_IN`).
#[test]
#[ignore = "the body of the stand-in processes that the stand-in tests start"]
fn stand_in_process() {
    let Ok(mode) = std::env::var("LOTC_STAND_IN") else {
        return;
    };
    let args: Vec<String> = std::env::var("LOTC_STAND_IN_ARGS")
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    let pidfile = std::env::var("LOTC_STAND_IN_PIDFILE").unwrap();
    std::fs::write(pidfile, std::process::id().to_string()).unwrap();
    match mode.as_str() {
        "elementsd" => stand_in::elementsd(&args),
        "elementsd-silent" => loop {
            std::thread::sleep(Duration::from_secs(1));
        },
        "elementsd-exits" => {
            eprintln!("stand-in: refusing to start, as a node with a bad option would");
            std::process::exit(1);
        }
        "electrs" => stand_in::electrs(&args),
        other => panic!("unknown stand-in {other}"),
    }
}

/// Test-only fakes of elementsd and electrs: just enough JSON-RPC and Esplora for the harness's
/// start-up, readiness polls and operations. They check how the harness calls them (the
/// configuration it wrote, credentials, named parameters, wallet endpoint) and nothing about
/// Liquid.
mod stand_in {
    use std::collections::BTreeSet;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{SocketAddr, TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use crate::common::real_stack as rs;

    struct Request {
        path: String,
        auth: Option<String>,
        body: String,
    }

    fn read_request(stream: &TcpStream) -> Option<Request> {
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let path = line.split_whitespace().nth(1)?.to_owned();
        let (mut length, mut auth) = (0usize, None);
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':')?;
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().ok()?,
                "authorization" => auth = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).ok()?;
        Some(Request {
            path,
            auth,
            body: String::from_utf8(body).ok()?,
        })
    }

    fn respond(mut stream: &TcpStream, status: u16, content_type: &str, body: &str) {
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = stream.flush();
    }

    fn arg<'a>(args: &'a [String], flag: &str) -> &'a str {
        let i = args
            .iter()
            .position(|a| a == flag)
            .unwrap_or_else(|| panic!("stand-in: no {flag} in {args:?}"));
        &args[i + 1]
    }

    /// `[liquidregtest]` options of the configuration `-conf=` names; `chain` must be set at
    /// the top.
    fn read_conf(args: &[String]) -> Vec<(String, String)> {
        let conf = args
            .iter()
            .find_map(|a| a.strip_prefix("-conf="))
            .expect("stand-in: no -conf=");
        let text = std::fs::read_to_string(conf).unwrap();
        let (top, chain) = super::conf_sections(&text);
        assert_eq!(top, [("chain".to_owned(), "liquidregtest".to_owned())]);
        chain
    }

    struct Node {
        height: u64,
        mempool: Vec<String>,
        wallet: bool,
        scanned: bool,
        next_tx: u64,
        calls: Vec<String>,
        warmup: u32,
    }

    fn hash(height: u64) -> String {
        format!("{:064x}", 0xb10c_0000 + height)
    }

    fn wallet_call(method: &str) -> bool {
        [
            "getnewaddress",
            "generatetoaddress",
            "rescanblockchain",
            "listunspent",
            "sendtoaddress",
            "issueasset",
        ]
        .contains(&method)
    }

    impl Node {
        fn txid(&mut self) -> String {
            self.next_tx += 1;
            let txid = format!("{:064x}", 0xfeed_0000 + self.next_tx);
            self.mempool.push(txid.clone());
            txid
        }

        fn call(
            &mut self,
            path: &str,
            method: &str,
            params: &Value,
        ) -> Result<Value, (i64, String)> {
            let endpoint = path.trim_start_matches('/');
            let logged = match method {
                "createwallet" | "sendtoaddress" | "issueasset" => {
                    format!("{method} {params}")
                }
                "generatetoaddress" => format!("{method} {}", params["nblocks"]),
                _ => method.to_owned(),
            };
            self.calls.push(if endpoint.is_empty() {
                logged
            } else {
                format!("{endpoint} {logged}")
            });
            if wallet_call(method) {
                if endpoint != format!("wallet/{}", rs::WALLET) {
                    return Err((-19, format!("stand-in: {method} on /{endpoint}")));
                }
                if !self.wallet {
                    return Err((
                        -18,
                        "Requested wallet does not exist or is not loaded".into(),
                    ));
                }
            }
            let hex = |v: &Value| v.as_str().is_some_and(|s| s.len() == 64);
            Ok(match method {
                "getblockchaininfo" => json!({
                    "chain": "liquidregtest",
                    "blocks": self.height,
                    "headers": self.height,
                    "bestblockhash": hash(self.height),
                    "initialblockdownload": self.height == 0,
                }),
                "getnetworkinfo" => json!({"subversion": "/stand-in, not Elements Core/"}),
                "createwallet" => {
                    assert_eq!(params["descriptors"], false, "a legacy wallet");
                    self.wallet = true;
                    json!({"name": params["wallet_name"], "warning": ""})
                }
                "getnewaddress" => json!(super::STAND_IN_ADDRESS),
                "generatetoaddress" => {
                    assert_eq!(params["address"], super::STAND_IN_ADDRESS);
                    let n = params["nblocks"].as_u64().unwrap();
                    self.mempool.clear();
                    let hashes: Vec<String> = (1..=n).map(|i| hash(self.height + i)).collect();
                    self.height += n;
                    json!(hashes)
                }
                "rescanblockchain" => {
                    self.scanned = true;
                    json!({"start_height": 0, "stop_height": self.height})
                }
                "listunspent" if self.scanned => {
                    json!([{"txid": hash(0), "vout": 0, "amount": 21_000_000}])
                }
                "listunspent" => json!([]),
                "getsidechaininfo" => json!({"pegged_asset": rs::LIQUIDREGTEST_POLICY_ASSET}),
                "getblockcount" => json!(self.height),
                "getbestblockhash" => json!(hash(self.height)),
                "getrawmempool" => json!(self.mempool),
                "sendtoaddress" => {
                    assert!(params["amount"].is_string(), "amounts travel as strings");
                    if !params["assetlabel"].is_null() {
                        assert!(hex(&params["assetlabel"]));
                    }
                    json!(self.txid())
                }
                "issueasset" => {
                    assert!(params["assetamount"].is_string());
                    json!({
                        "txid": self.txid(),
                        "vin": 0,
                        "entropy": hash(1),
                        "asset": super::STAND_IN_ASSET,
                        "token": "508e509e3199a8ed8f653a09d9e456dd9aea8802712b9433692635c9e7cd9fca",
                    })
                }
                "standin_calls" => json!(self.calls),
                other => return Err((-32601, format!("Method not found: {other}"))),
            })
        }
    }

    /// A node answering JSON-RPC on the configured port with the configured credentials; it
    /// binds late and first answers "warming up", as elementsd does while it loads.
    pub fn elementsd(args: &[String]) -> ! {
        let conf = read_conf(args);
        let get = |k: &str| {
            conf.iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap_or_else(|| panic!("stand-in: no {k} in [liquidregtest]"))
        };
        assert_eq!(get("rpcbind"), "127.0.0.1");
        let port: u16 = get("rpcport").parse().unwrap();
        let expected_auth = format!(
            "Basic {}",
            rs::base64(format!("{}:{}", get("rpcuser"), get("rpcpassword")).as_bytes())
        );
        std::thread::sleep(Duration::from_millis(300));
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        let mut node = Node {
            height: 0,
            mempool: Vec::new(),
            wallet: false,
            scanned: false,
            next_tx: 0,
            calls: Vec::new(),
            warmup: 2,
        };
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let Some(req) = read_request(&stream) else {
                continue;
            };
            if req.auth.as_deref() != Some(expected_auth.as_str()) {
                respond(&stream, 401, "text/html", "");
                continue;
            }
            let doc: Value = serde_json::from_str(&req.body).unwrap();
            let method = doc["method"].as_str().unwrap_or_default();
            let id = doc["id"].clone();
            if node.warmup > 0 {
                node.warmup -= 1;
                node.calls.push(format!("warmup {method}"));
                let body = json!({"result": null, "id": id,
                    "error": {"code": -28, "message": "Loading block index…"}});
                respond(&stream, 500, "application/json", &body.to_string());
                continue;
            }
            let (status, body) = match node.call(&req.path, method, &doc["params"]) {
                Ok(result) => (200, json!({"result": result, "error": null, "id": id})),
                Err((code, message)) => (
                    if code == -32601 { 404 } else { 500 },
                    json!({"result": null, "error": {"code": code, "message": message}, "id": id}),
                ),
            };
            respond(&stream, status, "application/json", &body.to_string());
        }
        unreachable!("the listener never ends")
    }

    /// What the fake electrs last read from the node.
    struct Snapshot {
        at: Instant,
        height: u64,
        hash: String,
        mempool: Vec<String>,
    }

    /// An Esplora server mirroring the node with a lag (it re-reads the node at most every
    /// 300 ms), and an Electrum port that accepts connections.
    pub fn electrs(args: &[String]) -> ! {
        assert_eq!(arg(args, "--network"), "liquidregtest");
        assert!(args.iter().any(|a| a == "--jsonrpc-import"));
        let (user, password) = arg(args, "--cookie").split_once(':').unwrap();
        let daemon: SocketAddr = arg(args, "--daemon-rpc-addr").parse().unwrap();
        let node = rs::Rpc::new(daemon, user, password, Duration::from_secs(10));
        let http = TcpListener::bind(arg(args, "--http-addr")).unwrap();
        let electrum = TcpListener::bind(arg(args, "--electrum-rpc-addr")).unwrap();
        std::thread::spawn(move || {
            for stream in electrum.incoming() {
                drop(stream);
            }
        });
        let read = || Snapshot {
            at: Instant::now(),
            height: node
                .call("getblockcount", json!([]))
                .unwrap()
                .as_u64()
                .unwrap(),
            hash: node
                .call("getbestblockhash", json!([]))
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned(),
            mempool: serde_json::from_value(node.call("getrawmempool", json!([])).unwrap())
                .unwrap(),
        };
        let mut snap = read();
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for stream in http.incoming() {
            let Ok(stream) = stream else { continue };
            let Some(req) = read_request(&stream) else {
                continue;
            };
            if snap.at.elapsed() > Duration::from_millis(300) {
                snap = read();
                seen.extend(snap.mempool.iter().cloned());
            }
            let (status, body) = match req.path.as_str() {
                "/blocks/tip/height" => (200, snap.height.to_string()),
                "/blocks/tip/hash" => (200, snap.hash.clone()),
                "/mempool/txids" => (200, json!(snap.mempool).to_string()),
                p => match p.strip_prefix("/tx/") {
                    Some(txid) if seen.contains(txid) => (200, json!({"txid": txid}).to_string()),
                    Some(_) => (404, "Transaction not found".to_owned()),
                    None => (404, format!("endpoint does not exist {p:?}")),
                },
            };
            respond(&stream, status, "text/plain", &body);
        }
        unreachable!("the listener never ends")
    }
}
