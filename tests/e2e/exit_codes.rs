//! One table of exit codes for every command (issue 14): a malformed argument is 2 wherever it
//! appears, a verification that fails is 3 (another network's address, a damaged wallet
//! file), an unknown asset and a malformed asset id are told apart, and `-v` shows an error's
//! causes.

use crate::common::{Sandbox, ABANDON};

const ASSET: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const REGTEST_ADDRESS: &str = "el1qq2xvpcvfup5j8zscjq05u2wxxjcyewk7979f3mmz5l7uw5pqmx6xf5xy50hsn6vhkm5euwt72x878eq6zxx2z0z676mna6kdq";

fn setup() -> Sandbox {
    let sb = Sandbox::new();
    sb.restore_abandon("alice");
    sb
}

/// `args` on regtest as alice, in JSON mode: the exit code and the error's code.
fn error_of(sb: &Sandbox, args: &[&str]) -> (i32, String, String) {
    let mut full = vec!["--network", "regtest", "--wallet", "alice", "--json"];
    full.extend_from_slice(args);
    let run = sb.run(&full);
    let error = run.json_error();
    (
        run.code,
        error["code"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn a_malformed_argument_is_a_usage_error_wherever_it_appears() {
    let sb = setup();
    let to_bad_amount = format!("{REGTEST_ADDRESS}:1.2.3");
    let to_bad_asset = format!("{REGTEST_ADDRESS}:1:USDT");
    // Every one is clap's usage error, naming the argument and, through the value parser,
    // what is wrong with the value.
    let not_a_txid = |v: &str, arg: &str| {
        format!("invalid value '{v}' for '{arg}': '{v}' is not a txid: a txid is 64 hex characters")
    };
    let not_an_amount = |v: &str, arg: &str| {
        format!(
            "invalid value '{v}' for '{arg}': '{v}' is not an amount: write a decimal such as 0.5 \
             or 1000 (no sign, no exponent, no thousands separators)"
        )
    };
    let not_an_asset = |v: &str, arg: &str| {
        format!(
            "invalid value '{v}' for '{arg}': '{v}' is not an asset id: assets are named by their \
             64-hex id (or L-BTC); `balance` and `asset list` show the wallet's"
        )
    };
    const TO: &str = "--to <ADDRESS:AMOUNT[:ASSET]>";
    let cases: Vec<(Vec<&str>, String)> = vec![
        (vec!["tx", "show", "not-a-txid"], not_a_txid("not-a-txid", "<TXID>")),
        (vec!["tx", "rebroadcast", "abc"], not_a_txid("abc", "<TXID>")),
        (vec!["tx", "forget", "00"], not_a_txid("00", "<TXID>")),
        (
            vec!["send", "--to", "not-an-address:1"],
            format!("invalid value 'not-an-address:1' for '{TO}': invalid address: base58 error"),
        ),
        (
            vec!["send", "--to", &to_bad_amount],
            format!(
                "invalid value '{to_bad_amount}' for '{TO}': '1.2.3' is not an amount: write a \
                 decimal"
            ),
        ),
        (
            vec!["send", "--to", &to_bad_asset],
            format!(
                "invalid value '{to_bad_asset}' for '{TO}': 'USDT' is not an asset id: assets are \
                 named by their 64-hex id (or L-BTC)"
            ),
        ),
        (
            vec!["send", "--to", REGTEST_ADDRESS, "--fee-rate", "fast"],
            "invalid value 'fast' for '--fee-rate <SAT_PER_VB>': 'fast' is not a fee rate: write a \
             decimal in sat/vB with at most 3 decimals, e.g. 0.1"
                .to_owned(),
        ),
        (
            vec!["send", "--to", REGTEST_ADDRESS, "--fee-rate", "0.01"],
            "invalid value '0.01' for '--fee-rate <SAT_PER_VB>': 0.01 sat/vB is below the relay \
             floor of 0.1 sat/vB"
                .to_owned(),
        ),
        (
            vec!["pset", "create", "--to", "el1qq:1"],
            format!("invalid value 'el1qq:1' for '{TO}': invalid address: blech32 error: invalid checksum"),
        ),
        (
            vec!["asset", "info", "not-an-asset"],
            not_an_asset("not-an-asset", "<ID>"),
        ),
        (
            vec!["asset", "burn", "USDT", "--amount", "1"],
            not_an_asset("USDT", "<ASSET>"),
        ),
        // A negative number reaches the value's parser, written apart or attached.
        (
            vec!["asset", "burn", ASSET, "--amount", "-1"],
            not_an_amount("-1", "--amount <AMOUNT>"),
        ),
        (
            vec!["asset", "burn", ASSET, "--amount=-1"],
            not_an_amount("-1", "--amount <AMOUNT>"),
        ),
        (
            vec!["sandbox", "issue", "--amount", "-5"],
            not_an_amount("-5", "--amount <A>"),
        ),
        (
            vec!["send", "--to", REGTEST_ADDRESS, "--fee-rate", "-2"],
            "invalid value '-2' for '--fee-rate <SAT_PER_VB>': '-2' is not a fee rate".to_owned(),
        ),
        (
            vec!["asset", "reissue", ASSET, "--amount", "1e3"],
            not_an_amount("1e3", "--amount <AMOUNT>"),
        ),
        (
            vec![
                "asset",
                "reissue",
                ASSET,
                "--amount",
                "1",
                "--issuance-tx",
                "zz",
            ],
            not_a_txid("zz", "--issuance-tx <TXID>"),
        ),
        (
            vec!["asset", "issue", "--amount", "ten"],
            not_an_amount("ten", "--amount <AMOUNT>"),
        ),
        (
            vec!["asset", "issue", "--amount", "1", "--token", "-1"],
            "invalid value '-1' for '--token <N>': '-1' is not a number of tokens: write a whole \
             number such as 0 or 1"
                .to_owned(),
        ),
        (
            vec!["asset", "issue", "--amount", "1", "--token=many"],
            "invalid value 'many' for '--token <N>': 'many' is not a number of tokens".to_owned(),
        ),
        (
            vec!["asset", "label", "not-an-asset", "--ticker", "X"],
            not_an_asset("not-an-asset", "<ASSET>"),
        ),
        (
            vec!["sandbox", "faucet", REGTEST_ADDRESS, "lots"],
            not_an_amount("lots", "<AMOUNT>"),
        ),
        (
            vec!["sandbox", "faucet", REGTEST_ADDRESS, "1", "--asset", "gold"],
            not_an_asset("gold", "--asset <ID>"),
        ),
    ];
    for (args, words) in cases {
        let (code, error, message) = error_of(&sb, &args);
        assert_eq!((code, error.as_str()), (2, "usage"), "{args:?}: {message}");
        assert!(
            message.contains(&words),
            "{args:?}: {message:?} does not say {words:?}"
        );
    }
    // A fee rate above the ceiling (wallet_core's FeeRate::MAX, 1,000 sat/vB) is refused by
    // every command that takes one: 100000 once paid a 0.292 L-BTC fee for a 0.002 BTC
    // peg-out.
    let fee_commands: [&[&str]; 11] = [
        &["send", "--to", &format!("{REGTEST_ADDRESS}:1")],
        &["pset", "create", "--to", &format!("{REGTEST_ADDRESS}:1")],
        &["pegout", "run"],
        &["pegout", "send", "--amount", "0.002"],
        &["asset", "issue", "--amount", "1"],
        &["asset", "reissue", ASSET, "--amount", "1"],
        &["asset", "burn", ASSET, "--amount", "1"],
        &["offer", "create"],
        &["offer", "accept", "-"],
        &["offer", "cancel", "deadbeefdeadbeef"],
        &["deal", "expire"],
    ];
    for command in fee_commands {
        let mut args = command.to_vec();
        args.extend_from_slice(&["--fee-rate", "100000"]);
        let (code, error, message) = error_of(&sb, &args);
        assert_eq!((code, error.as_str()), (2, "usage"), "{args:?}: {message}");
        assert!(
            message.contains(
                "invalid value '100000' for '--fee-rate <SAT_PER_VB>': 100000.0 sat/vB is above \
                 the ceiling of 1000.0 sat/vB"
            ),
            "{args:?}: {message}"
        );
    }
    // The ceiling itself is a rate (the command then fails for another reason).
    let (_, error, message) = error_of(&sb, &["pegout", "run", "--fee-rate", "1000", "--max", "0"]);
    assert!(!message.contains("ceiling"), "{error}: {message}");

    // A PSET that is not one.
    sb.run_with_stdin(
        &["--network", "regtest", "--json", "pset", "inspect", "-"],
        Some("not a pset"),
    )
    .fails_json(2, "invalid_pset", "-: not a PSET (base64)");
}

#[test]
fn an_unknown_asset_and_a_malformed_asset_id_are_different_errors() {
    let sb = setup();
    let (code, malformed, message) = error_of(&sb, &["asset", "info", "not-an-asset"]);
    assert_eq!((code, malformed.as_str()), (2, "usage"), "{message}");
    assert!(message.contains("is not an asset id"), "{message}");
    let (code, unknown, message) = error_of(&sb, &["asset", "info", ASSET]);
    assert_eq!((code, unknown.as_str()), (1, "unknown_asset"), "{message}");
    assert!(message.contains("neither holds nor issued"), "{message}");
}

/// Every command that looks an asset up: a well-formed id the wallet knows nothing of is an
/// unknown thing (exit 1, as an unknown wallet or transaction), a malformed one a usage error
/// (exit 2, above), and an asset it knows but holds too little of a shortfall (exit 5).
#[test]
fn an_unknown_asset_is_exit_1_in_every_command_that_looks_one_up() {
    let sb = setup();
    let chain = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
    let url = chain.esplora_url();
    let pass = sb.pass();
    let error_on_chain = |args: &[&str]| {
        let mut full = vec!["--esplora", url.as_str(), "--yes"];
        full.extend_from_slice(args);
        error_of(&sb, &full)
    };
    let cases: [(&[&str], &str, &str); 4] = [
        (
            &["asset", "info", ASSET],
            "unknown_asset",
            "neither holds nor issued asset 1111",
        ),
        (
            &[
                "asset",
                "burn",
                ASSET,
                "--amount",
                "1",
                "--passphrase-file",
                &pass,
            ],
            "unknown_asset",
            "neither holds nor issued asset 1111",
        ),
        (
            &["asset", "burn", ASSET, "--amount", "1", "--dry-run"],
            "unknown_asset",
            "neither holds nor issued asset 1111",
        ),
        (
            &[
                "asset",
                "reissue",
                ASSET,
                "--amount",
                "1",
                "--passphrase-file",
                &pass,
            ],
            "unknown_issuance",
            "cannot reissue asset 1111",
        ),
    ];
    for (args, code_name, words) in cases {
        let (code, error, message) = error_on_chain(args);
        assert_eq!(
            (code, error.as_str()),
            (1, code_name),
            "{args:?}: {message}"
        );
        assert!(message.contains(words), "{args:?}: {message}");
    }
    // A label needs no lookup (it is how one names an asset before holding it); once
    // labelled, the asset is known: `info` shows it and a burn of none is a shortfall.
    sb.run(&[
        "--network",
        "regtest",
        "asset",
        "label",
        ASSET,
        "--ticker",
        "GLD",
        "--precision",
        "2",
    ])
    .ok();
    sb.run(&[
        "--network",
        "regtest",
        "--wallet",
        "alice",
        "asset",
        "info",
        ASSET,
    ])
    .ok();
    let (code, error, message) =
        error_on_chain(&["asset", "burn", ASSET, "--amount", "1", "--dry-run"]);
    assert_eq!(
        (code, error.as_str()),
        (5, "insufficient_funds"),
        "{message}"
    );
    assert!(message.contains("cannot burn 1.0 of 1111"), "{message}");
}

#[test]
fn an_address_of_another_network_is_a_usage_error_naming_the_argument() {
    let sb = setup();
    let liquid = "lq1qqf8er278e6nyvuwtgf39e6ewvdcnjupn9a86rzpx655y5lhkt0walu3djf9cklkxd3ryld97hu8h3xepw7sh2rlu7q45dcew5";
    let to = format!("{liquid}:1");
    for (args, arg) in [
        (vec!["send", "--to", to.as_str()], "--to"),
        (vec!["pset", "create", "--to", to.as_str()], "--to"),
        (vec!["send", "--to", to.as_str(), "--dry-run"], "--to"),
        (vec!["address", "inspect", liquid], "<ADDRESS>"),
        (vec!["sandbox", "faucet", liquid, "1"], "<ADDRESS>"),
    ] {
        let (code, error, message) = error_of(&sb, &args);
        assert_eq!(
            (code, error.as_str()),
            (2, "wrong_network"),
            "{args:?}: {message}"
        );
        assert_eq!(
            message,
            format!("{arg}: {liquid} is an address of liquid, not of regtest"),
            "{args:?}"
        );
    }
}

#[test]
fn failed_verifications_are_refusals() {
    let sb = setup();

    // A wallet database replaced by something that is not one.
    let db = sb.home().join("regtest/alice/wallet.sqlite");
    std::fs::write(&db, b"this is not a database, it was replaced").unwrap();
    let (code, error, message) = error_of(&sb, &["balance", "--offline"]);
    assert_eq!(
        (code, error.as_str()),
        (3, "wallet_file_damaged"),
        "{message}"
    );
    assert!(
        message.starts_with("the wallet's database is damaged or was modified: ")
            && message.ends_with("file is not a database"),
        "{message}"
    );
}

#[test]
fn verbose_errors_show_their_causes() {
    let sb = Sandbox::new();
    // A data folder that is a file: the wallet cannot be created there.
    let file = sb.path("not-a-folder");
    std::fs::write(&file, b"x").unwrap();
    let home = file.to_str().unwrap();
    let run = sb
        .command(&[
            "--network",
            "regtest",
            "--data-dir",
            home,
            "-v",
            "wallet",
            "restore",
            "--name",
            "w",
            "--passphrase-file",
            &sb.pass(),
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            // It may fail before it reads the words: a closed pipe is not the test's concern.
            let _ = child.stdin.take().unwrap().write_all(ABANDON.as_bytes());
            child.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    // The error names the path it could not use; -v adds the cause under it.
    let regtest = file.join("regtest");
    assert!(
        stderr.starts_with(&format!("error: {}: Not a directory", regtest.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n  caused by: Not a directory"),
        "{stderr}"
    );
}
