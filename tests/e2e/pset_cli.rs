//! PSETs through the command line: every stage's `--json` output is the next stage's input,
//! `pset inspect` works without a wallet and on coins the wallet has not synced, and an
//! unsigned PSET's finalize names what is missing.

use crate::common::scene::{Scene, COIN};
use crate::common::{Run, ABANDON};
use serde_json::Value;

const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// alice with one confirmed coin of 1 L-BTC, and bob.
fn setup() -> Scene {
    let scene = Scene::new(&[("alice", ABANDON), ("bob", BOB)]);
    let address = scene.address("alice");
    scene.fund(&address, COIN);
    scene
}

#[test]
fn json_stages_pipe_into_each_other() {
    let scene = setup();
    let (sb, chain, url) = (&scene.sb, &scene.chain, &scene.url);
    let to = format!("{}:0.25", scene.address("bob"));
    let pass = sb.pass();
    let run =
        |args: &[&str], stdin: Option<&str>| -> Run { sb.on_chain(url, "alice", args, stdin) };
    let created = run(&["--json", "pset", "create", "--to", &to], None).ok();
    assert!(created.json()["pset"].is_string());
    let signed = run(
        &[
            "--json",
            "--yes",
            "pset",
            "sign",
            "-",
            "--passphrase-file",
            &pass,
        ],
        Some(&created.stdout),
    )
    .ok();
    assert_eq!(signed.json()["signatures_added"], 1);
    let finalized = run(&["--json", "pset", "finalize", "-"], Some(&signed.stdout)).ok();
    let txid = finalized.json()["txid"].as_str().unwrap().to_owned();
    let sent = run(
        &["--json", "pset", "broadcast", "-"],
        Some(&finalized.stdout),
    )
    .ok();
    assert_eq!(sent.json()["txid"], txid.as_str());
    chain.mine(1).unwrap();
    let bob = sb
        .on_chain(url, "bob", &["--json", "balance"], None)
        .ok()
        .json();
    assert_eq!(
        crate::common::balance_of(&bob, &chain.policy_asset().to_string()),
        (25_000_000, 0)
    );
    // A JSON document without a PSET in it is a usage error.
    run(&["pset", "inspect", "-"], Some("{\"txid\":\"00\"}")).fails(2, "without a \"pset\" field");
}

#[test]
fn inspect_needs_no_wallet_and_shows_what_it_cannot_read() {
    let scene = setup();
    let (sb, url) = (&scene.sb, &scene.url);
    let to = format!("{}:0.25", scene.address("bob"));
    let pset = sb
        .on_chain(url, "alice", &["pset", "create", "--to", &to], None)
        .ok()
        .stdout;
    // Two wallets and no --wallet: what anyone can read, exit 0.
    let public = sb
        .run_with_stdin(
            &["--network", "regtest", "--json", "pset", "inspect", "-"],
            Some(&pset),
        )
        .ok()
        .json();
    assert_eq!(public["wallet"], Value::Null);
    assert_eq!(public["net"], serde_json::json!({}));
    assert!(public["fee"].as_u64().unwrap() > 0);
    assert_eq!(public["inputs"].as_array().unwrap().len(), 1);
    assert!(public["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["owner"]["wallet"] == false));
    let text = sb
        .run_with_stdin(
            &["--network", "regtest", "pset", "inspect", "-"],
            Some(&pset),
        )
        .ok();
    assert!(text.stderr.contains("no wallet chosen"), "{}", text.stderr);

    // A wallet that never synced these coins, with no server: it shows what it can, names
    // what it cannot account for, and exits 0; only `sign` refuses.
    sb.restore("copy", ABANDON);
    let view = sb
        .run_with_stdin(
            &[
                "--network",
                "regtest",
                "--wallet",
                "copy",
                "--json",
                "pset",
                "inspect",
                "-",
            ],
            Some(&pset),
        )
        .ok()
        .json();
    let problems = view["problems"].as_array().unwrap();
    assert!(
        problems
            .iter()
            .any(|p| p.as_str().unwrap().contains("does not know")),
        "{view}"
    );
    // The input pays from one of its scripts with a coin it has not synced: marked so, and
    // the net effect (which could only count the change coming back) is not given as one.
    let input = &view["inputs"][0];
    assert_eq!(input["owner"]["wallet"], false, "{view}");
    assert_eq!(input["owner"]["unsynced"], true, "{view}");
    assert_eq!(input["owner"]["keychain"], "external", "{view}");
    assert_eq!(input["owner"]["index"], 0, "{view}");
    assert_eq!(view["net"], Value::Null, "{view}");
    assert_eq!(view["net_complete"], false, "{view}");
    assert_eq!(view["unsynced_inputs"], serde_json::json!([0]), "{view}");
    let lbtc = scene.chain.policy_asset().to_string();
    assert!(view["net_known"][&lbtc].as_i64().unwrap() > 0, "{view}");
    let text = sb
        .run_with_stdin(
            &[
                "--network",
                "regtest",
                "--wallet",
                "copy",
                "pset",
                "inspect",
                "-",
            ],
            Some(&pset),
        )
        .ok()
        .stdout;
    let net = text.lines().find(|l| l.starts_with("net ")).unwrap();
    assert!(
        net.contains("incomplete: input(s) 0 spend coins paying this wallet's scripts that it has not synced"),
        "{text}"
    );
    assert!(text.contains("known part"), "{text}");
    assert!(
        !text
            .lines()
            .any(|l| l.starts_with("net ") && l.contains('+')),
        "a positive net effect is shown:\n{text}"
    );
    let row = text.lines().find(|l| l.starts_with("0 ")).unwrap();
    assert!(
        row.contains("this wallet's script (external/0), coin not synced")
            && row.contains("unknown (not synced)"),
        "{text}"
    );
}

#[test]
fn finalizing_an_unsigned_pset_names_the_missing_signatures() {
    let scene = setup();
    let (sb, url) = (&scene.sb, &scene.url);
    let to = format!("{}:0.25", scene.address("bob"));
    let pset = sb
        .on_chain(url, "alice", &["pset", "create", "--to", &to], None)
        .ok()
        .stdout;
    let run = sb
        .run_with_stdin(
            &["--network", "regtest", "pset", "finalize", "-"],
            Some(&pset),
        )
        .fails(
            3,
            "input 0 has 0 of 1 signature(s); it needs 1 more from key(s) 73c5da0a",
        );
    assert!(run.stdout.is_empty());
    // Broadcasting it says the same before any server is asked.
    sb.run_with_stdin(
        &["--network", "regtest", "pset", "broadcast", "-"],
        Some(&pset),
    )
    .fails(
        3,
        "error: refused: cannot finalize yet: input 0 has 0 of 1 signature(s); it needs 1 more",
    );
}

#[test]
fn signing_a_coin_the_wallet_already_spent_is_refused_naming_its_transaction() {
    let scene = setup();
    let (sb, url) = (&scene.sb, &scene.url);
    let pass = sb.pass();
    let bob = scene.address("bob");
    let run =
        |args: &[&str], stdin: Option<&str>| -> Run { sb.on_chain(url, "alice", args, stdin) };
    let to = format!("{bob}:0.25");
    let pset = run(&["pset", "create", "--to", &to], None).ok().stdout;
    // Meanwhile alice pays with `send`, from the same (only) coin.
    let to = format!("{bob}:0.1");
    let sent = run(
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
    let sign = |offline: bool| {
        let mut args = vec![
            "--json",
            "--yes",
            "pset",
            "sign",
            "-",
            "--passphrase-file",
            &pass,
        ];
        if offline {
            args.push("--offline");
        }
        run(&args, Some(&pset))
    };
    // Recorded, not synced yet (offline): the coin is spent by a transaction of its own.
    let refused = sign(true).fails_json(3, "refused", "input 0 spends this wallet's coin");
    let message = refused.json_error()["message"].to_string();
    assert!(
        message.contains(&format!(
            "its own transaction {sent} (recorded, not confirmed)"
        )),
        "{message}"
    );
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
    // After a sync the server has it: still refused, naming it.
    let refused = sign(false).fails_json(3, "refused", "input 0 spends this wallet's coin");
    let message = refused.json_error()["message"].to_string();
    assert!(
        message.contains(&format!("its transaction {sent}, seen on the network")),
        "{message}"
    );
    // `pset inspect` shows the same problem and exits 0.
    let view = run(&["--json", "pset", "inspect", "-"], Some(&pset))
        .ok()
        .json();
    assert!(
        view["problems"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p.as_str().unwrap().contains(&sent)),
        "{view}"
    );
}

#[test]
fn a_question_on_a_terminal_comes_after_the_net_effect_and_fee_even_in_json_mode() {
    let scene = setup();
    let (sb, url) = (&scene.sb, &scene.url);
    let to = format!("{}:0.25", scene.address("bob"));
    let pset = sb
        .on_chain(url, "alice", &["pset", "create", "--to", &to], None)
        .ok()
        .stdout;
    let file = sb.path("unsigned.pset");
    std::fs::write(&file, &pset).unwrap();
    for mode in ["--json", "-q"] {
        let mut term = crate::cli_edges::OnTerminal::spawn(sb.command(&[
            "--network",
            "regtest",
            "--wallet",
            "alice",
            mode,
            "pset",
            "sign",
            file.to_str().unwrap(),
            "--offline",
            "--passphrase-file",
            &sb.pass(),
        ]));
        term.wait_for("Sign this PSET?");
        let before = term.seen.clone();
        let net = before.find("This wallet's net effect:");
        let fee = before.find("Fee: ");
        let question = before.find("Sign this PSET?").unwrap();
        assert!(
            net.is_some_and(|n| n < question) && fee.is_some_and(|f| f < question),
            "{mode}: the question came without the net effect and fee:\n{before}"
        );
        assert!(before.contains("-0.25"), "{mode}: {before}");
        term.type_secret("n");
        let (code, shown) = term.finish();
        assert_eq!(code, 130, "{mode}: {shown}");
    }
}

#[test]
fn broadcast_reads_the_extracted_transaction_of_finalize() {
    let scene = setup();
    let (sb, chain, url) = (&scene.sb, &scene.chain, &scene.url);
    let to = format!("{}:0.25", scene.address("bob"));
    let pass = sb.pass();
    let run =
        |args: &[&str], stdin: Option<&str>| -> Run { sb.on_chain(url, "alice", args, stdin) };
    let created = run(&["pset", "create", "--to", &to], None).ok();
    let signed = run(
        &["--yes", "pset", "sign", "-", "--passphrase-file", &pass],
        Some(&created.stdout),
    )
    .ok();
    let extracted = run(
        &["--json", "pset", "finalize", "--extract", "-"],
        Some(&signed.stdout),
    )
    .ok();
    let txid = extracted.json()["txid"].as_str().unwrap().to_owned();
    let file = sb.path("ext.json");
    std::fs::write(&file, &extracted.stdout).unwrap();
    let sent = run(
        &["--json", "pset", "broadcast", file.to_str().unwrap()],
        None,
    )
    .ok();
    assert_eq!(sent.json()["txid"], txid.as_str());
    // Recorded in alice's wallet as the transaction it is.
    let pending = scene.pending("alice");
    assert!(
        pending.iter().any(|p| p["txid"] == txid.as_str()),
        "{pending:?}"
    );
    chain.mine(1).unwrap();
    let bob = sb
        .on_chain(url, "bob", &["--json", "balance"], None)
        .ok()
        .json();
    assert_eq!(
        crate::common::balance_of(&bob, &chain.policy_asset().to_string()),
        (25_000_000, 0)
    );
    // Hex that is no transaction is named as such.
    run(&["pset", "broadcast", "-"], Some("00ff")).fails(2, "-: not a transaction (hex)");
}
