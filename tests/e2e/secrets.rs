//! Runs every wallet and address command and checks that no secret reaches stdout, stderr or
//! the wallet database in clear: no run of mnemonic words, no passphrase, no private key.

use std::path::Path;

use crate::common::{Sandbox, ABANDON, PASSPHRASE};
use elements::bitcoin::bip32::Xpriv;
use elements::bitcoin::NetworkKind;

/// Every secret string derivable from a mnemonic that must never appear.
fn secrets_of(phrase: &str) -> Vec<String> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    let mut secrets: Vec<String> = words.windows(3).map(|w| w.join(" ")).collect();
    secrets.push(words.join(","));
    secrets.push(words.join("\n"));
    let mnemonic = bip39::Mnemonic::parse(phrase).unwrap();
    let seed = mnemonic.to_seed("");
    secrets.push(elements::hex::DisplayHex::to_lower_hex_string(&seed[..]));
    for kind in [NetworkKind::Main, NetworkKind::Test] {
        let master = Xpriv::new_master(kind, &seed).unwrap();
        secrets.push(master.to_string());
        secrets.push(elements::hex::DisplayHex::to_lower_hex_string(
            &master.private_key.secret_bytes()[..],
        ));
    }
    secrets.push(PASSPHRASE.to_string());
    secrets
}

fn assert_clean(haystack: &[u8], secrets: &[String], what: &str) {
    let text = String::from_utf8_lossy(haystack).to_lowercase();
    for secret in secrets {
        // Runs of three words can legitimately repeat ("abandon abandon abandon") only when the
        // mnemonic itself repeats them, so the check is on the exact runs of this mnemonic.
        assert!(
            !text.contains(&secret.to_lowercase()),
            "a secret ({} chars) appears in {what}",
            secret.len()
        );
    }
}

fn files_under(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn no_command_leaks_a_secret() {
    let sb = Sandbox::new();
    let words = sb.path("words");
    let words_arg = words.to_str().unwrap().to_string();
    let pass = sb.pass();
    std::fs::write(sb.path("new-pass"), "Another-Secret-Passphrase-77\n").unwrap();
    let new_pass = sb.path("new-pass").to_str().unwrap().to_string();
    std::fs::write(sb.path("abandon"), ABANDON).unwrap();
    let abandon_file = sb.path("abandon").to_str().unwrap().to_string();

    let r = ["--network", "regtest"];
    let mut runs = Vec::new();
    for json in [false, true] {
        let mut base: Vec<&str> = r.to_vec();
        if json {
            base.push("--json");
        }
        let name_c = if json { "cj" } else { "c" };
        let name_r = if json { "rj" } else { "r" };
        let name_w = if json { "wj" } else { "w" };
        let out = format!("{words_arg}-{name_c}");
        let with = |extra: &[&str]| -> Vec<String> {
            base.iter()
                .chain(extra.iter())
                .map(|s| s.to_string())
                .collect()
        };
        runs.push((
            with(&[
                "wallet",
                "create",
                "--name",
                name_c,
                "--passphrase-file",
                &pass,
                "--mnemonic-out",
                &out,
            ]),
            None,
        ));
        runs.push((
            with(&[
                "wallet",
                "restore",
                "--name",
                name_r,
                "--passphrase-file",
                &pass,
                "--mnemonic-file",
                &abandon_file,
            ]),
            None,
        ));
        runs.push((
            with(&[
                "wallet",
                "restore",
                "--name",
                &format!("{name_r}2"),
                "--passphrase-file",
                &pass,
            ]),
            Some(ABANDON),
        ));
        runs.push((with(&["--wallet", name_r, "wallet", "info"]), None));
        runs.push((with(&["--wallet", name_r, "wallet", "descriptor"]), None));
        runs.push((with(&["wallet", "list"]), None));
        runs.push((
            with(&["--wallet", name_r, "address", "new", "--label", "x"]),
            None,
        ));
        runs.push((
            with(&["--wallet", name_r, "address", "list", "--all"]),
            None,
        ));
        runs.push((
            with(&[
                "--wallet",
                name_r,
                "wallet",
                "change-passphrase",
                "--passphrase-file",
                &pass,
                "--new-passphrase-file",
                &new_pass,
            ]),
            None,
        ));
        // Wrong passphrase now: the error must not echo it either.
        runs.push((
            with(&[
                "--wallet",
                name_r,
                "wallet",
                "change-passphrase",
                "--passphrase-file",
                &pass,
                "--new-passphrase-file",
                &new_pass,
            ]),
            None,
        ));
        runs.push((with(&["address", "inspect", "el1qq2xvpcvfup5j8zscjq05u2wxxjcyewk7979f3mmz5l7uw5pqmx6xf5xy50hsn6vhkm5euwt72x878eq6zxx2z0z676mna6kdq"]), None));
        // Bad input paths, where a careless error could echo what it read.
        runs.push((with(&["wallet", "restore", "--name", name_w, "--passphrase-file", &pass]), Some("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon")));
        runs.push((with(&["-v", "wallet", "restore", "--name", name_w, "--passphrase-file", &pass]), Some("abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon zzzz")));
        runs.push((
            with(&["-v", "--wallet", name_r, "wallet", "remove", "--yes"]),
            None,
        ));
    }

    let mut secrets = secrets_of(ABANDON);
    secrets.push("Another-Secret-Passphrase-77".to_string());
    for (args, stdin) in &runs {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let run = sb.run_with_stdin(&args, *stdin);
        assert_clean(
            run.stdout.as_bytes(),
            &secrets,
            &format!("stdout of {args:?}"),
        );
        assert_clean(
            run.stderr.as_bytes(),
            &secrets,
            &format!("stderr of {args:?}"),
        );
    }
    // The created wallets' mnemonics (written to files on purpose) appear nowhere else.
    for name in ["c", "cj"] {
        let phrase = std::fs::read_to_string(format!("{words_arg}-{name}")).unwrap();
        let mut created = secrets_of(&phrase);
        created.retain(|s| s != PASSPHRASE);
        let mut files = Vec::new();
        files_under(&sb.home(), &mut files);
        for file in &files {
            assert_clean(
                &std::fs::read(file).unwrap(),
                &created,
                &file.display().to_string(),
            );
        }
    }
    let mut files = Vec::new();
    files_under(&sb.home(), &mut files);
    assert!(files.iter().any(|f| f.ends_with("wallet.sqlite")));
    for file in &files {
        assert_clean(
            &std::fs::read(file).unwrap(),
            &secrets,
            &file.display().to_string(),
        );
    }
}
