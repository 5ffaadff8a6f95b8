//! End to end through the built binary: wallets, addresses, JSON shapes and bad input.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;

use crate::common::{shared, Sandbox, ABANDON};
use serde_json::Value;

fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .expect("a JSON object")
        .keys()
        .cloned()
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The recorded regtest wallet (descriptor and addresses of "abandon ... about").
fn fixture_wallet() -> Option<Value> {
    let dir = shared("fixtures/electrs-liquidregtest/wallet")?;
    let text = std::fs::read_to_string(dir.join("wallet.json")).unwrap();
    Some(serde_json::from_str(&text).unwrap())
}

fn create_alice(sb: &Sandbox) -> Value {
    let mnemonic = sb.path("alice.words");
    sb.run(&[
        "--network",
        "regtest",
        "--json",
        "wallet",
        "create",
        "--name",
        "alice",
        "--passphrase-file",
        &sb.pass(),
        "--mnemonic-out",
        mnemonic.to_str().unwrap(),
    ])
    .ok()
    .json()
}

fn new_address(sb: &Sandbox, wallet: &str, label: Option<&str>) -> Value {
    let mut args = vec![
        "--network",
        "regtest",
        "--json",
        "--wallet",
        wallet,
        "address",
        "new",
    ];
    if let Some(label) = label {
        args.extend(["--label", label]);
    }
    sb.run(&args).ok().json()
}

#[test]
fn create_info_and_addresses_continue_across_processes() {
    let sb = Sandbox::new();
    let created = create_alice(&sb);
    assert_eq!(
        keys(&created),
        set(&[
            "wallet",
            "network",
            "descriptor",
            "fingerprint",
            "watch_only"
        ])
    );
    assert_eq!(created["wallet"], "alice");
    assert_eq!(created["network"], "regtest");
    assert_eq!(created["watch_only"], false);
    let descriptor = created["descriptor"].as_str().unwrap();
    assert!(descriptor.starts_with("ct(slip77("), "{descriptor}");
    assert!(descriptor.contains("elwpkh(["), "{descriptor}");
    assert!(descriptor.contains("/84'/1'/0']tpub") || descriptor.contains("/84h/1h/0h]tpub"));

    let words = sb.path("alice.words");
    let mode = std::fs::metadata(&words).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mnemonic file must be 0600");
    let phrase = std::fs::read_to_string(&words).unwrap();
    assert_eq!(phrase.split_whitespace().count(), 12);

    let info = sb
        .run(&["--network", "regtest", "--json", "wallet", "info"])
        .ok()
        .json();
    assert_eq!(info["wallet"], "alice");
    assert_eq!(info["descriptor"], created["descriptor"]);
    assert_eq!(info["next_receive_index"], 0);

    let first = new_address(&sb, "alice", Some("invoice 17"));
    assert_eq!(
        keys(&first),
        set(&["address", "index", "unconfidential", "label"])
    );
    assert_eq!(first["index"], 0);
    assert_eq!(first["label"], "invoice 17");
    assert!(first["address"].as_str().unwrap().starts_with("el1"));
    assert!(first["unconfidential"]
        .as_str()
        .unwrap()
        .starts_with("ert1"));
    let second = new_address(&sb, "alice", None);
    assert_eq!(second["index"], 1);
    assert_eq!(second["label"], Value::Null);
    assert_ne!(first["address"], second["address"]);
    // Every run is a new process: the third continues where the store says.
    let third = new_address(&sb, "alice", None);
    assert_eq!(third["index"], 2);

    let list = sb
        .run(&["--network", "regtest", "--json", "address", "list"])
        .ok()
        .json();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 3);
    assert_eq!(list[0]["address"], first["address"]);
    assert_eq!(list[0]["label"], "invoice 17");

    // Human output is readable and aligned, and names the wallet.
    let human = sb.run(&["--network", "regtest", "wallet", "info"]).ok();
    assert!(
        human.stdout.contains("next receive index  3"),
        "{}",
        human.stdout
    );

    // Restoring from the written mnemonic gives the same wallet.
    let restored = sb
        .run_with_stdin(
            &[
                "--network",
                "regtest",
                "--json",
                "wallet",
                "restore",
                "--name",
                "alice2",
                "--passphrase-file",
                &sb.pass(),
            ],
            Some(&phrase),
        )
        .ok()
        .json();
    assert_eq!(restored["descriptor"], created["descriptor"]);
    assert_eq!(restored["fingerprint"], created["fingerprint"]);
    for expected in [&first, &second] {
        let got = new_address(&sb, "alice2", None);
        assert_eq!(got["address"], expected["address"]);
    }
}

#[test]
fn restore_reproduces_the_recorded_regtest_wallet() {
    let Some(fixture) = fixture_wallet() else {
        return;
    };
    let sb = Sandbox::new();
    let restored = sb.restore_abandon("abandon");
    assert_eq!(restored["descriptor"], fixture["descriptor"]);
    assert_eq!(restored["fingerprint"], fixture["signer_fingerprint"]);
    let externals: Vec<&Value> = fixture["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["chain"] == "external")
        .collect();
    for expected in externals.iter().take(3) {
        let got = new_address(&sb, "abandon", None);
        assert_eq!(got["index"], expected["index"]);
        assert_eq!(got["address"], expected["confidential"]);
        assert_eq!(got["unconfidential"], expected["unconfidential"]);
    }
    let change = sb
        .run(&[
            "--network",
            "regtest",
            "--json",
            "address",
            "new",
            "--change",
        ])
        .ok()
        .json();
    let internal0 = fixture["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["chain"] == "internal" && a["index"] == 0)
        .unwrap();
    assert_eq!(change["address"], internal0["confidential"]);
}

#[test]
fn watch_only_import_derives_the_same_addresses() {
    let sb = Sandbox::new();
    let signing = sb.restore_abandon("signer");
    let descriptor = signing["descriptor"].as_str().unwrap();
    let imported = sb
        .run(&[
            "--network",
            "regtest",
            "--json",
            "wallet",
            "import",
            "--name",
            "watch",
            "--descriptor",
            descriptor,
        ])
        .ok()
        .json();
    assert_eq!(
        keys(&imported),
        set(&[
            "wallet",
            "network",
            "descriptor",
            "fingerprint",
            "watch_only"
        ])
    );
    assert_eq!(imported["watch_only"], true);
    assert_eq!(imported["descriptor"], signing["descriptor"]);
    for _ in 0..3 {
        let a = new_address(&sb, "signer", None);
        let b = new_address(&sb, "watch", None);
        assert_eq!(a["address"], b["address"]);
        assert_eq!(a["index"], b["index"]);
    }
    // The same descriptor read from stdin.
    sb.run_with_stdin(
        &[
            "--network",
            "regtest",
            "wallet",
            "import",
            "--name",
            "watch2",
            "--descriptor",
            "-",
        ],
        Some(descriptor),
    )
    .ok();
    let list = sb
        .run(&["--network", "regtest", "--json", "wallet", "list"])
        .ok()
        .json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["wallet"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["signer", "watch", "watch2"]);
}

#[test]
fn address_inspect_decodes_offline_and_names_other_networks() {
    let Some(fixture) = fixture_wallet() else {
        return;
    };
    let sb = Sandbox::new();
    let ext0 = &fixture["addresses"][0];
    let address = ext0["confidential"].as_str().unwrap();
    // No wallet and no --network needed.
    let info = sb
        .run(&["--json", "address", "inspect", address])
        .ok()
        .json();
    assert_eq!(
        keys(&info),
        set(&[
            "address",
            "network",
            "confidential",
            "blinding_pubkey",
            "unconfidential",
            "script_type",
            "script_pubkey"
        ])
    );
    assert_eq!(info["network"], "regtest");
    assert_eq!(info["confidential"], true);
    assert_eq!(info["unconfidential"], ext0["unconfidential"]);
    assert_eq!(info["script_pubkey"], ext0["script_pubkey"]);
    assert_eq!(info["script_type"], "p2wpkh");
    assert_eq!(info["blinding_pubkey"], ext0["blinding_pubkey"]);

    let unconf = sb
        .run(&[
            "--json",
            "address",
            "inspect",
            ext0["unconfidential"].as_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(unconf["confidential"], false);
    assert_eq!(unconf["blinding_pubkey"], Value::Null);

    // Asking for another network is a usage error (exit 2), naming the argument and the
    // address's real network.
    let wrong = sb.run(&[
        "--network",
        "liquid",
        "--json",
        "address",
        "inspect",
        address,
    ]);
    assert_eq!(wrong.code, 2, "{}", wrong.stderr);
    let err = wrong.json_error();
    assert_eq!(err["code"], "wrong_network");
    assert_eq!(
        err["message"],
        format!("<ADDRESS>: {address} is an address of regtest, not of liquid").as_str(),
        "{err}"
    );
}

#[test]
fn malformed_addresses_are_usage_errors() {
    let sb = Sandbox::new();
    sb.run(&["address", "inspect", "el1qqnotanaddress"])
        .fails(2, "error: invalid address: blech32 error");
    sb.run(&[
        "address",
        "inspect",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
    ])
    .fails(2, "error: invalid address: this is a Bitcoin address, not a Liquid one (to send to Bitcoin use a peg-out)");
    let json = sb
        .run(&["--json", "address", "inspect", "garbage"])
        .fails_json(2, "invalid_address", "invalid address: base58 error");
    let err = json.json_error();
    assert!(err["hints"].is_array());
    assert!(json.stdout.is_empty());
}

#[test]
fn bad_mnemonics_are_refused_without_echoing_words() {
    let sb = Sandbox::new();
    let bad_checksum = "abandon ".repeat(12);
    sb.run_with_stdin(
        &[
            "--network",
            "regtest",
            "wallet",
            "restore",
            "--passphrase-file",
            &sb.pass(),
        ],
        Some(&bad_checksum),
    )
    .fails(
        2,
        "error: invalid mnemonic: checksum does not match: check the words and their order",
    );
    let unknown = ABANDON.replace("about", "zyzzyva");
    let run = sb
        .run_with_stdin(
            &[
                "--network",
                "regtest",
                "wallet",
                "restore",
                "--passphrase-file",
                &sb.pass(),
            ],
            Some(&unknown),
        )
        .fails(
            2,
            "error: invalid mnemonic: word 12 is not in the BIP39 English list",
        );
    assert!(
        !run.stderr.contains("zyzzyva"),
        "the unknown word is echoed: {}",
        run.stderr
    );
    sb.run_with_stdin(
        &[
            "--network",
            "regtest",
            "wallet",
            "restore",
            "--passphrase-file",
            &sb.pass(),
        ],
        Some("abandon abandon abandon"),
    )
    .fails(2, "error: invalid mnemonic: 12 or 24 words expected, got 3");
    // Nothing was created by the failed attempts.
    let list = sb
        .run(&["--network", "regtest", "--json", "wallet", "list"])
        .ok()
        .json();
    assert_eq!(list.as_array().unwrap().len(), 0);
}

#[test]
fn wrong_passphrase_and_tampered_seed_are_refused() {
    let sb = Sandbox::new();
    sb.restore_abandon("w");
    std::fs::write(sb.path("wrong"), "not the passphrase\n").unwrap();
    std::fs::write(sb.path("new"), "a brand new passphrase\n").unwrap();
    let wrong = sb.path("wrong");
    let new = sb.path("new");
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "change-passphrase",
        "--passphrase-file",
        wrong.to_str().unwrap(),
        "--new-passphrase-file",
        new.to_str().unwrap(),
    ])
    .fails(
        3,
        "error: wrong passphrase: it does not decrypt this seed file",
    );

    // Changing it with the right one works, and then only the new one opens the seed.
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "change-passphrase",
        "--passphrase-file",
        &sb.pass(),
        "--new-passphrase-file",
        new.to_str().unwrap(),
    ])
    .ok();
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "change-passphrase",
        "--passphrase-file",
        &sb.pass(),
        "--new-passphrase-file",
        new.to_str().unwrap(),
    ])
    .fails(
        3,
        "error: wrong passphrase: it does not decrypt this seed file",
    );

    let seed = sb.home().join("regtest/w/seed.enc");
    let mut bytes = std::fs::read(&seed).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&seed, &bytes).unwrap();
    let run = sb.run(&[
        "--network",
        "regtest",
        "--json",
        "wallet",
        "change-passphrase",
        "--passphrase-file",
        new.to_str().unwrap(),
        "--new-passphrase-file",
        wrong.to_str().unwrap(),
    ]);
    run.fails_json(
        3,
        "seed_file_tampered",
        "the seed file is damaged: its checksum does not match",
    );
}

#[test]
fn invalid_descriptors_are_refused() {
    let sb = Sandbox::new();
    const NOT_CT: &str = "invalid descriptor: not a confidential descriptor: it must look like \
                          ct(<blinding key>,<descriptor>)";
    let cases = [
        ("garbage", NOT_CT),
        (
            "elwpkh(tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*)",
            NOT_CT,
        ),
        (
            "ct(slip77(zz),elwpkh(tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*))",
            "invalid descriptor: its blinding key does not parse: unexpected «failed to parse hex»",
        ),
        (
            "ct(slip77(9c8e4f05c7711a98c838be228bcb84924d4570ca53f35fa1c793e58841d47023),elwpkh(tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*))#aaaaaaaa",
            "invalid descriptor: checksum 'aaaaaaaa' does not match, expected 'ut288yus'",
        ),
    ];
    for (descriptor, words) in cases {
        sb.run(&[
            "--network",
            "regtest",
            "--json",
            "wallet",
            "import",
            "--descriptor",
            descriptor,
        ])
        .fails_json(2, "invalid_descriptor", words);
    }
    // A mainnet key on regtest is a network mismatch.
    let mainnet = "ct(slip77(9c8e4f05c7711a98c838be228bcb84924d4570ca53f35fa1c793e58841d47023),elwpkh(xpub661MyMwAqRbcFkPHucMnrGNzDwb6teAX1RbKQmqtEF8kK3Z7LZ59qafCjB9eCRLiTVG3uxBxgKvRgbubRhqSKXnGGb1aoaqLrpMBDrVxga8/<0;1>/*))";
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "import",
        "--descriptor",
        mainnet,
    ])
    .fails(
        3,
        "error: wrong network: expected regtest, found liquid (an xpub, a mainnet key)",
    );
}

#[test]
fn remove_needs_yes_without_a_terminal() {
    let sb = Sandbox::new();
    sb.restore_abandon("gone");
    sb.run(&["--network", "regtest", "wallet", "remove"])
        .fails(
            2,
            "needs a confirmation, and there is no terminal to ask on",
        )
        .fails(2, "hint: pass --yes to confirm from a script");
    assert!(sb.home().join("regtest/gone").exists());
    let removed = sb
        .run(&[
            "--network",
            "regtest",
            "--json",
            "--yes",
            "wallet",
            "remove",
        ])
        .ok()
        .json();
    assert_eq!(removed["removed"], "gone");
    assert!(!sb.home().join("regtest/gone").exists());
}

#[test]
fn unknown_wallet_and_unusable_data_dir_are_clear_errors() {
    let sb = Sandbox::new();
    sb.restore_abandon("known");
    let run = sb
        .run(&["--network", "regtest", "--wallet", "nope", "wallet", "info"])
        .fails(
            1,
            "error: no wallet named 'nope' on regtest; available: known",
        );
    assert!(
        run.stderr.contains("known"),
        "hint should list wallets: {}",
        run.stderr
    );

    sb.run(&["--network", "liquid", "wallet", "info"])
        .fails(1, "error: there is no wallet on liquid");

    // A data folder that cannot be created (its parent is a file).
    std::fs::write(sb.path("a-file"), "x").unwrap();
    let bad = sb.path("a-file").join("home");
    let run = sb
        .command(&[])
        .env("LIQUID_OTC_HOME", &bad)
        .args([
            "--network",
            "regtest",
            "--json",
            "wallet",
            "import",
            "--descriptor",
        ])
        .arg(sb.restore_abandon("source")["descriptor"].as_str().unwrap())
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(bad.to_str().unwrap()),
        "error names the path: {stderr}"
    );
}

#[test]
fn create_without_terminal_needs_files() {
    let sb = Sandbox::new();
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "create",
        "--passphrase-file",
        &sb.pass(),
    ])
    .fails(
        2,
        "error: without a terminal the new mnemonic cannot be shown",
    )
    .fails(2, "hint: pass --mnemonic-out FILE");
    let out = sb.path("words");
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "create",
        "--mnemonic-out",
        out.to_str().unwrap(),
    ])
    .fails(
        2,
        "error: the seed-encryption passphrase is needed, and there is no terminal to ask on",
    )
    .fails(2, "hint: pass --passphrase-file FILE or --passphrase-fd N");
    assert!(!out.exists(), "a failed create leaves no mnemonic file");
    // 24 words, nested segwit, ELIP-151 blinding.
    let created = sb
        .run(&[
            "--network",
            "regtest",
            "--json",
            "wallet",
            "create",
            "--name",
            "big",
            "--words",
            "24",
            "--kind",
            "sh-wpkh",
            "--blinding",
            "elip151",
            "--passphrase-file",
            &sb.pass(),
            "--mnemonic-out",
            out.to_str().unwrap(),
        ])
        .ok()
        .json();
    let descriptor = created["descriptor"].as_str().unwrap();
    assert!(
        descriptor.starts_with("ct(elip151,elsh(wpkh(["),
        "{descriptor}"
    );
    assert_eq!(
        std::fs::read_to_string(&out)
            .unwrap()
            .split_whitespace()
            .count(),
        24
    );
    // The name is taken now.
    let again = sb.path("words2");
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "create",
        "--name",
        "big",
        "--passphrase-file",
        &sb.pass(),
        "--mnemonic-out",
        again.to_str().unwrap(),
    ])
    .fails(1, "error: a wallet named 'big' already exists on regtest");
    assert!(!again.exists());
}

#[test]
fn usage_errors_exit_2_and_are_json_in_json_mode() {
    let sb = Sandbox::new();
    sb.run(&["--json", "wallet", "frobnicate"]).fails_json(
        2,
        "usage",
        "unrecognized subcommand 'frobnicate'",
    );
    sb.run(&["--network", "mars", "wallet", "list"])
        .fails(2, "error: invalid value 'mars' for '--network <NETWORK>'");
    let help = sb.run(&["--help"]).ok();
    assert!(help.stdout.contains("Exit status"));
}

#[test]
fn completions_are_generated() {
    let sb = Sandbox::new();
    let bash = sb.run(&["completions", "bash"]).ok();
    assert!(bash.stdout.contains("liquid-otc"));
    assert!(bash.stdout.contains("wallet"));
    sb.run(&["completions", "tcsh"])
        .fails(2, "error: invalid value 'tcsh' for '<SHELL>'");
}

#[test]
fn regtest_policy_asset_comes_from_the_config_file() {
    let sb = Sandbox::new();
    sb.restore_abandon("w");
    let info = sb
        .run(&["--network", "regtest", "--json", "wallet", "info"])
        .ok()
        .json();
    assert_eq!(
        info["policy_asset"],
        "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225"
    );
    let custom = "b2e15d0d7a0c94e4e2ce0fe6e8691b9e451377f6e46e8045a86f7c4b5d4f0f23";
    let config = sb.home().join("config.json");
    std::fs::write(
        &config,
        format!(r#"{{"regtest":{{"policy_asset":"{custom}"}}}}"#),
    )
    .unwrap();
    let info = sb
        .run(&["--network", "regtest", "--json", "wallet", "info"])
        .ok()
        .json();
    assert_eq!(info["policy_asset"], custom);

    std::fs::write(&config, r#"{"liquid":{"policy_asset":"b2e15d0d7a0c94e4e2ce0fe6e8691b9e451377f6e46e8045a86f7c4b5d4f0f23"}}"#).unwrap();
    sb.run(&["--network", "regtest", "wallet", "info"]).fails(
        2,
        "config.json: the policy asset of liquid is fixed and cannot be configured",
    );
    std::fs::write(&config, "{not json").unwrap();
    sb.run(&["--network", "regtest", "wallet", "info"])
        .fails(2, "config.json: key must be a string at line 1 column 2");
    std::fs::write(&config, r#"{"regtest":{"policy_asset":"nope"}}"#).unwrap();
    sb.run(&["--network", "regtest", "wallet", "info"])
        .fails(2, "not an asset id");
}

#[test]
fn passphrase_can_come_from_a_file_descriptor() {
    let sb = Sandbox::new();
    let out = sb.path("fd.words");
    // fd 0 is the simplest descriptor a test can hand over; scripts use any open fd.
    let created = sb
        .run_with_stdin(
            &[
                "--network",
                "regtest",
                "--json",
                "wallet",
                "create",
                "--passphrase-fd",
                "0",
                "--mnemonic-out",
                out.to_str().unwrap(),
            ],
            Some(&format!("{}\n", crate::common::PASSPHRASE)),
        )
        .ok()
        .json();
    assert_eq!(created["wallet"], "default");
    // The passphrase read from the fd opens the seed.
    std::fs::write(sb.path("next"), "next passphrase\n").unwrap();
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "change-passphrase",
        "--passphrase-file",
        &sb.pass(),
        "--new-passphrase-file",
        sb.path("next").to_str().unwrap(),
    ])
    .ok();
}

#[test]
fn multisig_descriptors_import_as_watch_only() {
    let (Some(fixture), Some(vectors)) = (fixture_wallet(), shared("vectors")) else {
        return;
    };
    // Two cosigners: the recorded regtest wallet's account key and the LWK testnet wallet's.
    let ours = fixture["keyorigin_xpub_bip84"].as_str().unwrap();
    let theirs_desc =
        std::fs::read_to_string(vectors.join("lwk-testnet-psets/descriptor")).unwrap();
    let start = theirs_desc.find('[').unwrap();
    let end = theirs_desc[start..]
        .find('/')
        .map(|_| theirs_desc[start..].find("/<").unwrap() + start)
        .unwrap();
    let theirs = &theirs_desc[start..end];
    let blinding = fixture["slip77_master_blinding_key"].as_str().unwrap();
    let descriptor = format!("ct({blinding},elwsh(multi(2,{ours}/<0;1>/*,{theirs}/<0;1>/*)))");
    let sb = Sandbox::new();
    let imported = sb
        .run(&[
            "--network",
            "regtest",
            "--json",
            "wallet",
            "import",
            "--name",
            "multi",
            "--descriptor",
            &descriptor,
        ])
        .ok()
        .json();
    assert_eq!(imported["watch_only"], true);
    let info = sb
        .run(&["--network", "regtest", "--json", "wallet", "info"])
        .ok()
        .json();
    assert!(info["kind"].as_str().unwrap().contains("2-of-2"), "{info}");
    let address = new_address(&sb, "multi", None);
    let inspected = sb
        .run(&[
            "--json",
            "address",
            "inspect",
            address["address"].as_str().unwrap(),
        ])
        .ok()
        .json();
    assert_eq!(inspected["script_type"], "p2wsh");
    assert_eq!(inspected["confidential"], true);
}
