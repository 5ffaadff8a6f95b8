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
    let cases: Vec<Vec<&str>> = vec![
        vec!["tx", "show", "not-a-txid"],
        vec!["tx", "rebroadcast", "abc"],
        vec!["tx", "forget", "00"],
        vec!["send", "--to", "not-an-address:1"],
        vec!["send", "--to", &to_bad_amount],
        vec!["send", "--to", &to_bad_asset],
        vec!["send", "--to", REGTEST_ADDRESS, "--fee-rate", "fast"],
        vec!["send", "--to", REGTEST_ADDRESS, "--fee-rate", "0.01"],
        vec!["pset", "create", "--to", "el1qq:1"],
        vec!["asset", "info", "not-an-asset"],
        vec!["asset", "burn", "USDT", "--amount", "1"],
        vec!["asset", "burn", ASSET, "--amount", "-1"],
        vec!["asset", "reissue", ASSET, "--amount", "1e3"],
        vec![
            "asset",
            "reissue",
            ASSET,
            "--amount",
            "1",
            "--issuance-tx",
            "zz",
        ],
        vec!["asset", "issue", "--amount", "ten"],
        vec!["asset", "issue", "--amount", "1", "--token", "-1"],
        vec!["asset", "label", "not-an-asset", "--ticker", "X"],
        vec!["sandbox", "faucet", REGTEST_ADDRESS, "lots"],
        vec!["sandbox", "faucet", REGTEST_ADDRESS, "1", "--asset", "gold"],
    ];
    for args in cases {
        let (code, error, message) = error_of(&sb, &args);
        assert_eq!(code, 2, "{args:?}: {error}: {message}");
    }
    // A PSET that is not one.
    let run = sb.run_with_stdin(
        &["--network", "regtest", "--json", "pset", "inspect", "-"],
        Some("not a pset"),
    );
    assert_eq!(run.code, 2);
    assert_eq!(run.json_error()["code"], "invalid_pset");
}

#[test]
fn an_unknown_asset_and_a_malformed_asset_id_are_different_errors() {
    let sb = setup();
    let (code, malformed, message) = error_of(&sb, &["asset", "info", "not-an-asset"]);
    assert_eq!((code, malformed.as_str()), (2, "usage"), "{message}");
    assert!(message.contains("is not an asset id"), "{message}");
    let (code, unknown, message) = error_of(&sb, &["asset", "info", ASSET]);
    assert_eq!((code, unknown.as_str()), (2, "unknown_asset"), "{message}");
    assert!(message.contains("neither holds nor issued"), "{message}");
}

#[test]
fn failed_verifications_are_refusals() {
    let sb = setup();
    // An address of another network.
    let liquid = "lq1qqf8er278e6nyvuwtgf39e6ewvdcnjupn9a86rzpx655y5lhkt0walu3djf9cklkxd3ryld97hu8h3xepw7sh2rlu7q45dcew5";
    let (code, error, message) = error_of(&sb, &["send", "--to", &format!("{liquid}:1")]);
    assert_eq!((code, error.as_str()), (3, "wrong_network"), "{message}");

    // A wallet database replaced by something that is not one.
    let db = sb.home().join("regtest/alice/wallet.sqlite");
    std::fs::write(&db, b"this is not a database, it was replaced").unwrap();
    let (code, error, message) = error_of(&sb, &["balance", "--offline"]);
    assert_eq!(
        (code, error.as_str()),
        (3, "wallet_file_damaged"),
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
    assert!(stderr.contains("caused by:"), "{stderr}");
}
