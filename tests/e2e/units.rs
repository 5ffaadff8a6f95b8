//! Units of assets end to end (issue 12, item 3): the sandbox's test assets, the faucet, the
//! wallet's balance and `send` agree on what an amount means; `asset label` gives an asset a
//! ticker and a precision; "base units" is said wherever the precision is unknown; and
//! "insufficient funds" is said in the asset's units.

use crate::common::{Run, Sandbox, ABANDON};
use serde_json::Value;

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// A sandbox chain in process, a data folder with alice (funded with 1 L-BTC) and bob.
struct Setup {
    chain: regtest::Sandbox,
    url: String,
    sb: Sandbox,
}

impl Setup {
    fn new() -> Setup {
        let chain = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
        let url = chain.esplora_url();
        let sb = Sandbox::new();
        sb.restore("alice", ABANDON);
        sb.restore("bob", OTHER);
        let setup = Setup { chain, url, sb };
        let alice = setup.address("alice");
        setup
            .chain
            .faucet(&alice.parse().unwrap(), 100_000_000, None)
            .unwrap();
        setup.chain.mine(1).unwrap();
        setup
    }

    /// Runs the binary as `wallet` against the chain.
    fn lotc(&self, wallet: &str, args: &[&str]) -> Run {
        self.sb.on_chain(&self.url, wallet, args, None)
    }

    /// Runs a command that needs no wallet (sandbox, labels) on regtest.
    fn plain(&self, args: &[&str]) -> Run {
        let mut full = vec!["--network", "regtest"];
        full.extend_from_slice(args);
        self.sb.run(&full)
    }

    fn address(&self, wallet: &str) -> String {
        self.lotc(wallet, &["--json", "address", "new"]).ok().json()["address"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// `sandbox issue` through the binary; the JSON answer.
    fn sandbox_issue(&self, extra: &[&str]) -> Value {
        let mut args = vec!["--json", "sandbox", "issue", "--url", &self.url];
        args.extend_from_slice(extra);
        self.plain(&args).ok().json()
    }

    /// `sandbox faucet` through the binary; the JSON answer, after a block confirms it.
    fn faucet(&self, address: &str, amount: &str, asset: &str) -> Value {
        let paid = self
            .plain(&[
                "--json", "sandbox", "faucet", "--url", &self.url, address, amount, "--asset",
                asset,
            ])
            .ok()
            .json();
        self.chain.mine(1).unwrap();
        paid
    }

    fn send(&self, to: &str) -> Run {
        let pass = self.sb.pass();
        self.lotc(
            "alice",
            &["--yes", "send", "--to", to, "--passphrase-file", &pass],
        )
    }

    /// (confirmed + unconfirmed) base units of `asset` in `wallet`'s balance, after a sync.
    fn held(&self, wallet: &str, asset: &str) -> u64 {
        let doc = self.lotc(wallet, &["--json", "balance"]).ok().json();
        let (c, u) = crate::common::balance_of(&doc, asset);
        c + u
    }

    /// The text `balance` row of `asset` (after a sync), single-spaced.
    fn balance_row(&self, wallet: &str, asset: &str) -> String {
        let text = self.lotc(wallet, &["balance"]).ok().stdout;
        text.lines()
            .find(|l| l.ends_with(asset))
            .unwrap_or_else(|| panic!("{asset} not in\n{text}"))
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[test]
fn an_asset_of_unknown_precision_is_in_base_units_everywhere() {
    let s = Setup::new();
    // No precision: the amount is base units, and the sandbox says so.
    let issued = s.sandbox_issue(&["--amount", "1000"]);
    assert_eq!(issued["amount"], 1000);
    assert_eq!(issued["precision"], 0);
    assert_eq!(issued["labelled"], false);
    assert_eq!(issued["contract"]["precision"], 0);
    let asset = issued["asset"].as_str().unwrap().to_string();
    // Bad input to `sandbox issue`: each a usage error, nothing issued or labelled.
    let issue = |extra: &[&str]| {
        let mut args = vec!["sandbox", "issue", "--url", &s.url];
        args.extend_from_slice(extra);
        s.plain(&args)
    };
    issue(&["--amount", "1.5"]).fails(
        2,
        "error: invalid amount '1.5': more than 0 decimals for an asset of precision 0",
    );
    issue(&["--amount", "1", "--precision", "9"]).fails(
        2,
        "error: invalid value '9' for '--precision <P>': 9 is not in 0..=8",
    );
    issue(&["--amount", "1", "--ticker", "two words"]).fails(2, "ticker 'two words'");
    assert!(!s.sb.home().join("config.json").exists());

    let alice = s.address("alice");
    let paid = s.faucet(&alice, "7", &asset);
    assert_eq!(paid["amount"], 7);
    assert_eq!(paid["precision"], Value::Null);
    let text = s
        .plain(&[
            "sandbox", "faucet", "--url", &s.url, &alice, "3", "--asset", &asset,
        ])
        .ok();
    assert!(
        text.stderr
            .starts_with(&format!("Paid 3 base units of asset {asset} to {alice}")),
        "{}",
        text.stderr
    );
    s.chain.mine(1).unwrap();
    assert_eq!(s.held("alice", &asset), 10);
    assert_eq!(
        s.balance_row("alice", &asset),
        format!("- 10 base units 0 base units {asset}")
    );

    // `send 5` of it pays 5 base units, and bob sees 5.
    let bob = s.address("bob");
    s.send(&format!("{bob}:5:{asset}")).ok();
    s.chain.mine(1).unwrap();
    assert_eq!(s.held("bob", &asset), 5);
    assert_eq!(s.held("alice", &asset), 5);
    let txs = s.lotc("bob", &["txs"]).ok().stdout;
    assert!(
        txs.contains(&format!("+5 base units of {}…", &asset[..8])),
        "{txs}"
    );

    // Too much: said in base units, with the numbers in the JSON error.
    let run = s
        .send(&format!("{bob}:8:{asset}"))
        .fails(5, "error: insufficient funds: 8 base units of asset ");
    assert!(
        run.stderr.starts_with(&format!(
            "error: insufficient funds: 8 base units of asset {asset} needed, 5 base units available"
        )),
        "{}",
        run.stderr
    );
    let pass = s.sb.pass();
    let to = format!("{bob}:8:{asset}");
    let run = s.lotc(
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
    );
    assert_eq!(run.code, 5);
    let error = run.json_error();
    assert_eq!(error["code"], "insufficient_funds");
    assert_eq!(error["asset"], asset.as_str());
    assert_eq!(
        (error["needed"].as_u64(), error["available"].as_u64()),
        (Some(8), Some(5))
    );

    // L-BTC has a precision: its shortfall is said in L-BTC.
    let run = s
        .send(&format!("{bob}:2"))
        .fails(5, "error: insufficient funds: 2.0 L-BTC needed, ");
    assert!(
        run.stderr.starts_with("error: insufficient funds: 2.0"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains(" L-BTC needed, 0.99"), "{}", run.stderr);
    assert!(run.stderr.contains(" L-BTC available"), "{}", run.stderr);
}

#[test]
fn a_labelled_or_sandbox_issued_precision_is_shared_by_faucet_balance_and_send() {
    let s = Setup::new();
    // The sandbox issues with a precision in the contract and labels the asset.
    let issued = s.sandbox_issue(&["--amount", "1000", "--precision", "2", "--ticker", "GLD"]);
    assert_eq!(issued["amount"], 100_000);
    assert_eq!(issued["precision"], 2);
    assert_eq!(issued["labelled"], true);
    assert_eq!(
        issued["contract"],
        serde_json::json!({"name": "sandbox test asset", "precision": 2, "ticker": "GLD", "version": 0})
    );
    assert_eq!(issued["contract_hash"].as_str().unwrap().len(), 64);
    let gold = issued["asset"].as_str().unwrap().to_string();
    let labels = s.plain(&["--json", "asset", "labels"]).ok().json();
    assert_eq!(
        labels["labels"],
        serde_json::json!([{"network": "regtest", "asset": gold, "ticker": "GLD", "precision": 2}])
    );

    let alice = s.address("alice");
    let text = s
        .plain(&[
            "sandbox", "faucet", "--url", &s.url, &alice, "7", "--asset", &gold,
        ])
        .ok();
    assert!(
        text.stderr
            .starts_with(&format!("Paid 7.0 GLD (700 base units) to {alice}")),
        "{}",
        text.stderr
    );
    s.chain.mine(1).unwrap();
    assert_eq!(s.held("alice", &gold), 700);
    assert_eq!(s.balance_row("alice", &gold), format!("GLD 7.0 0.0 {gold}"));
    let bob = s.address("bob");
    s.send(&format!("{bob}:5:{gold}")).ok();
    s.chain.mine(1).unwrap();
    assert_eq!(s.held("bob", &gold), 500);
    s.send(&format!("{bob}:2.01:{gold}"))
        .fails(5, "insufficient funds: 2.01 GLD needed, 2.0 GLD available");

    // An asset the sandbox issued without a precision, labelled afterwards by hand.
    let plain = s.sandbox_issue(&["--amount", "50"])["asset"]
        .as_str()
        .unwrap()
        .to_string();
    s.faucet(&alice, "25", &plain);
    assert_eq!(
        s.balance_row("alice", &plain).replace(&plain, "ID"),
        "- 25 base units 0 base units ID"
    );
    let labelled = s
        .plain(&[
            "--json",
            "asset",
            "label",
            &plain,
            "--ticker",
            "TST",
            "--precision",
            "1",
        ])
        .ok()
        .json();
    assert_eq!(
        labelled,
        serde_json::json!({"network": "regtest", "asset": plain, "ticker": "TST", "precision": 1, "replaced": false})
    );
    assert_eq!(
        s.balance_row("alice", &plain),
        format!("TST 2.5 0.0 {plain}")
    );
    s.send(&format!("{bob}:1.5:{plain}")).ok();
    s.chain.mine(1).unwrap();
    assert_eq!(s.held("bob", &plain), 15);

    // The file is the user's: private, valid JSON, both labels in it.
    let config = s.sb.home().join("config.json");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&config).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(doc["regtest"]["asset_labels"][&plain]["ticker"], "TST");
    assert_eq!(doc["regtest"]["asset_labels"][&gold]["precision"], 2);

    // Unlabelled, it is base units again; unlabelling twice is no error.
    let removed = s.plain(&["--json", "asset", "unlabel", &plain]).ok().json();
    assert_eq!(removed["removed"], true);
    assert_eq!(
        s.balance_row("alice", &plain).replace(&plain, "ID"),
        "- 10 base units 0 base units ID"
    );
    let removed = s.plain(&["--json", "asset", "unlabel", &plain]).ok().json();
    assert_eq!(removed["removed"], false);
}

#[test]
fn asset_label_refuses_bad_input_and_keeps_the_file_as_it_was() {
    let sb = Sandbox::new();
    let id = "ab".repeat(32);
    let regtest = |args: &[&str]| {
        let mut full = vec!["--network", "regtest"];
        full.extend_from_slice(args);
        sb.run(&full)
    };
    regtest(&["asset", "label", "xyz", "--ticker", "T"]).fails(2, "'xyz' is not an asset id");
    regtest(&["asset", "label", &id]).fails(
        2,
        "error: the following required arguments were not provided:\n  --ticker <TICKER>",
    );
    regtest(&["asset", "label", &id, "--precision", "9"]).fails(
        2,
        "error: invalid value '9' for '--precision <P>': 9 is not in 0..=8",
    );
    regtest(&["asset", "label", &id, "--ticker", "two words"]).fails(
        2,
        "ticker 'two words' must be 1 to 16 printable ASCII characters",
    );
    regtest(&["asset", "label", &id, "--ticker", &"X".repeat(17)]).fails(
        2,
        "error: ticker 'XXXXXXXXXXXXXXXXX' must be 1 to 16 printable ASCII characters (no spaces)",
    );
    regtest(&["asset", "label", "L-BTC", "--precision", "2"])
        .fails(2, "built-in asset with precision 8");
    regtest(&["asset", "unlabel", "nope"]).fails(2, "not an asset id");
    // L-BTC's ticker can be relabelled (its precision stays).
    regtest(&[
        "asset",
        "label",
        "L-BTC",
        "--ticker",
        "tBTC",
        "--precision",
        "8",
    ])
    .ok();
    assert!(!sb.home().join("config.json.tmp").exists());

    // A broken config.json is reported and left untouched.
    let config = sb.home().join("config.json");
    std::fs::write(&config, "{ not json").unwrap();
    regtest(&["asset", "label", &id, "--ticker", "T"])
        .fails(2, "config.json: key must be a string at line 1 column 3");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), "{ not json");
    // Unknown keys of the file are kept; a label that would make the file invalid is not
    // written.
    std::fs::write(
        &config,
        r#"{"regtest":{"esplora":"http://127.0.0.1:1","asset_labels":{}}}"#,
    )
    .unwrap();
    regtest(&["asset", "label", &id, "--ticker", "T"]).ok();
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    assert_eq!(doc["regtest"]["esplora"], "http://127.0.0.1:1");
    assert_eq!(
        doc["regtest"]["asset_labels"][&id],
        serde_json::json!({"ticker": "T"})
    );
    let list = regtest(&["asset", "labels"]).ok().stdout;
    assert!(
        list.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["T", "-", id.as_str()]),
        "{list}"
    );
}

#[test]
fn concurrent_labels_are_all_kept() {
    let sb = Sandbox::new();
    let ids: Vec<String> = (0..6u8).map(|i| format!("{i:02x}").repeat(32)).collect();
    let children: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let ticker = format!("T{i}");
            sb.command(&[
                "--network",
                "regtest",
                "asset",
                "label",
                id,
                "--ticker",
                &ticker,
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let labels = sb
        .run(&["--network", "regtest", "--json", "asset", "labels"])
        .ok()
        .json();
    assert_eq!(labels["labels"].as_array().unwrap().len(), ids.len());
}
