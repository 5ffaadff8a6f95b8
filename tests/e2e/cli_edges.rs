//! Edges of the command line that users hit (issue 12): closed pipes, concurrent creation,
//! a second sandbox, passphrase retries on a terminal, the hints and columns the README
//! promises.

use std::process::Stdio;

use crate::common::Sandbox;

/// Runs the binary with its stdout (or stderr) already closed by the reader, as `| head -1`
/// leaves it: every write to it fails with a broken pipe. Returns (exit code, the other
/// stream).
fn run_with_closed(sb: &Sandbox, args: &[&str], close_stderr: bool) -> (i32, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = sb.command(args);
    cmd.stdin(Stdio::null());
    if close_stderr {
        cmd.stdout(Stdio::piped()).stderr(writer);
    } else {
        cmd.stdout(writer).stderr(Stdio::piped());
    }
    let out = cmd.spawn().unwrap().wait_with_output().unwrap();
    let other = if close_stderr { out.stdout } else { out.stderr };
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&other).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_every_command_quietly_with_status_0() {
    let sb = Sandbox::new();
    let pass = sb.pass();
    let words = sb.path("w.words").display().to_string();
    let address = "el1qq2xvpcvfup5j8zscjq05u2wxxjcyewk7979f3mmz5l7uw5pqmx6xf5xy50hsn6vhkm5euwt72x878eq6zxx2z0z676mna6kdq";
    let cases: Vec<Vec<&str>> = vec![
        vec!["completions", "bash"],
        vec!["completions", "zsh"],
        vec!["address", "inspect", address],
        vec!["--json", "address", "inspect", address],
        vec![
            "--network",
            "regtest",
            "--json",
            "wallet",
            "create",
            "--name",
            "w",
            "--passphrase-file",
            &pass,
            "--mnemonic-out",
            &words,
        ],
        vec!["--network", "regtest", "wallet", "list"],
        vec!["--network", "regtest", "address", "new"],
        vec!["--network", "regtest", "--json", "txs"],
        vec!["--help"],
    ];
    for args in &cases {
        let (code, stderr) = run_with_closed(&sb, args, false);
        assert_eq!(code, 0, "{args:?} exited {code}; stderr:\n{stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    // What the command did still happened: the wallet exists and its address was reserved.
    let info = sb
        .run(&["--network", "regtest", "--json", "wallet", "info"])
        .ok()
        .json();
    assert_eq!(info["next_receive_index"], 1);

    // A closed stderr does not turn an error into a panic either: the status stays the
    // documented one.
    let (code, stdout) = run_with_closed(
        &sb,
        &[
            "--network",
            "liquid",
            "--wallet",
            "nobody",
            "wallet",
            "info",
        ],
        true,
    );
    // With stderr closed the message cannot be read: the status, and an empty stdout, are
    // what there is to check.
    assert_eq!(code, 1, "stdout: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
    let (code, stdout) = run_with_closed(&sb, &["--network", "regtest", "send"], true);
    assert_eq!(code, 2, "stdout: {stdout}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[test]
fn concurrent_creates_of_one_name_leave_one_wallet_and_say_the_name_is_taken() {
    const RACERS: usize = 6;
    const ROUNDS: usize = 4;
    let sb = Sandbox::new();
    for round in 0..ROUNDS {
        let name = format!("w{round}");
        // Every process checks that the name is free, then waits for its passphrase on
        // stdin; writing the passphrases only once all of them wait releases them together
        // into the creation itself.
        let mut children: Vec<_> = (0..RACERS)
            .map(|i| {
                let words = sb.path(&format!("{name}-{i}.words")).display().to_string();
                sb.command(&[
                    "--network",
                    "regtest",
                    "--json",
                    "wallet",
                    "create",
                    "--name",
                    &name,
                    "--passphrase-file",
                    "/dev/stdin",
                    "--mnemonic-out",
                    &words,
                ])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
            })
            .collect();
        let mut stdins: Vec<_> = children
            .iter_mut()
            .map(|c| c.stdin.take().unwrap())
            .collect();
        for stdin in &mut stdins {
            std::io::Write::write_all(stdin, format!("{}\n", crate::common::PASSPHRASE).as_bytes())
                .unwrap();
        }
        drop(stdins);
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect();
        let mut winners = 0;
        for (i, out) in outs.iter().enumerate() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let words = sb.path(&format!("{name}-{i}.words"));
            match out.status.code() {
                Some(0) => {
                    winners += 1;
                    assert!(words.exists(), "the winner keeps its mnemonic file");
                }
                Some(1) => {
                    let doc: serde_json::Value = serde_json::from_str(stderr.trim())
                        .unwrap_or_else(|e| panic!("{e}: {stderr}"));
                    assert_eq!(doc["error"]["code"], "wallet_exists", "{stderr}");
                    assert_eq!(
                        doc["error"]["message"],
                        format!(
                            "a wallet named '{name}' already exists on regtest: pick another name or remove it first"
                        )
                    );
                    assert!(!words.exists(), "a loser leaves no mnemonic behind");
                }
                other => panic!("round {round}, racer {i}: exit {other:?}\n{stderr}"),
            }
        }
        assert_eq!(winners, 1, "round {round}: exactly one create wins");
        // The winner's wallet is whole: it opens, and its seed unlocks with the passphrase.
        sb.run(&[
            "--network",
            "regtest",
            "--wallet",
            &name,
            "wallet",
            "change-passphrase",
            "--passphrase-file",
            &sb.pass(),
            "--new-passphrase-file",
            &sb.pass(),
        ])
        .ok();
    }
    let list = sb
        .run(&["--network", "regtest", "--json", "wallet", "list"])
        .ok()
        .json();
    assert_eq!(list.as_array().unwrap().len(), ROUNDS);
    // No temporary folder is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(sb.home().join("regtest"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Restores `phrase` on regtest as `name` (optionally with a descriptor file); the JSON.
fn restore(sb: &Sandbox, name: &str, phrase: &str, descriptor: Option<&str>) -> serde_json::Value {
    let pass = sb.pass();
    let mut args = vec![
        "--network",
        "regtest",
        "--json",
        "wallet",
        "restore",
        "--name",
        name,
        "--passphrase-file",
        &pass,
    ];
    if let Some(file) = descriptor {
        args.extend_from_slice(&["--descriptor-file", file]);
    }
    sb.run_with_stdin(&args, Some(phrase)).ok().json()
}

#[test]
fn a_cosigner_shows_its_own_fingerprint() {
    const SECOND: &str =
        "legal winner thank year wave sausage worth useful legal winner thank yellow";
    const THIRD: &str =
        "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
    let sb = Sandbox::new();
    let mut keys = Vec::new();
    let mut fingerprints = Vec::new();
    for (name, phrase) in [
        ("k1", crate::common::ABANDON),
        ("k2", SECOND),
        ("k3", THIRD),
    ] {
        let doc = restore(&sb, name, phrase, None);
        let descriptor = doc["descriptor"].as_str().unwrap();
        let start = descriptor.find("elwpkh(").unwrap() + "elwpkh(".len();
        let end = descriptor.find("/<0;1>/*").unwrap();
        keys.push(descriptor[start..end].to_string());
        fingerprints.push(doc["fingerprint"].as_str().unwrap().to_string());
    }
    assert_eq!(fingerprints[0], "73c5da0a");
    let file = sb.path("multi.descriptor");
    std::fs::write(
        &file,
        format!(
            "ct(slip77({}),elwsh(multi(2,{}/<0;1>/*,{}/<0;1>/*,{}/<0;1>/*)))",
            "42".repeat(32),
            keys[0],
            keys[1],
            keys[2]
        ),
    )
    .unwrap();
    let created = restore(&sb, "m3", THIRD, Some(file.to_str().unwrap()));
    assert_eq!(created["fingerprint"], fingerprints[2].as_str());
    let info = sb
        .run(&[
            "--network",
            "regtest",
            "--wallet",
            "m3",
            "--json",
            "wallet",
            "info",
        ])
        .ok()
        .json();
    assert_eq!(info["fingerprint"], fingerprints[2].as_str());
    let text = sb
        .run(&["--network", "regtest", "--wallet", "m3", "wallet", "info"])
        .ok();
    assert!(
        text.stdout
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["fingerprint", &fingerprints[2]]),
        "{}",
        text.stdout
    );
    let list = sb
        .run(&["--network", "regtest", "--json", "wallet", "list"])
        .ok()
        .json();
    let m3 = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["wallet"] == "m3")
        .unwrap();
    assert_eq!(m3["fingerprint"], fingerprints[2].as_str());
}

#[test]
fn txs_text_shows_each_confirmed_transactions_block_time_and_hash() {
    let chain = regtest::Sandbox::start(regtest::SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        ..regtest::SandboxConfig::default()
    })
    .unwrap();
    let url = chain.esplora_url();
    let sb = Sandbox::new();
    sb.restore_abandon("w");
    let address = sb
        .on_chain(&url, "w", &["--json", "address", "new"], None)
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_string();
    chain
        .faucet(&address.parse().unwrap(), 100_000, None)
        .unwrap();
    chain.mine(1).unwrap();
    let unconfirmed = chain
        .faucet(&address.parse().unwrap(), 50_000, None)
        .unwrap();
    sb.on_chain(&url, "w", &["sync"], None).ok();
    let rows = sb.on_chain(&url, "w", &["--json", "txs"], None).ok().json();
    let confirmed = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "confirmed")
        .unwrap();
    let height = confirmed["height"].as_u64().unwrap();
    assert_eq!(confirmed["time"], 1_700_000_000 + 60 * height);
    assert_eq!(height, 1);
    let hash = confirmed["block_hash"].as_str().unwrap();

    let text = sb.on_chain(&url, "w", &["txs"], None).ok().stdout;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["TXID", "HEIGHT", "TIME", "(UTC)", "BLOCK", "STATUS", "FEE", "(sat)", "NET", "PAID"]
    );
    let row = lines
        .clone()
        .find(|l| l.starts_with(confirmed["txid"].as_str().unwrap()))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(
        cells[..5],
        [
            confirmed["txid"].as_str().unwrap(),
            "1",
            "2023-11-14T22:14:20Z",
            hash,
            "confirmed"
        ]
    );
    let row = lines
        .find(|l| l.starts_with(&unconfirmed.to_string()))
        .unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    // Unconfirmed: no height or block; the time is when the wallet first saw it.
    assert_eq!([cells[1], cells[3], cells[4]], ["-", "-", "mempool"]);
    assert!(cells[2].len() == 20 && cells[2].ends_with('Z'), "{row}");

    // tx show gives the same block and time.
    let show = sb
        .on_chain(
            &url,
            "w",
            &["tx", "show", confirmed["txid"].as_str().unwrap()],
            None,
        )
        .ok()
        .stdout;
    let field = |name: &str| {
        show.lines()
            .find_map(|l| l.strip_prefix(name).map(|v| v.trim().to_string()))
            .unwrap_or_else(|| panic!("no {name} in\n{show}"))
    };
    assert_eq!(field("block "), hash);
    assert_eq!(field("time (UTC)"), "2023-11-14T22:14:20Z");
}

/// The command quoted in a "Next: `...`" note of `stderr`, without the program name.
fn next_command(stderr: &str) -> Vec<String> {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("Next: `"))
        .unwrap_or_else(|| panic!("no Next: hint in\n{stderr}"));
    let quoted = line.split('`').nth(1).unwrap();
    let mut words = quoted.split_whitespace().map(str::to_owned);
    assert_eq!(words.next().as_deref(), Some("liquid-otc"));
    words.collect()
}

#[test]
fn next_hints_name_the_network_and_wallet_when_the_next_run_needs_them() {
    let sb = Sandbox::new();
    let create = |network: &str, name: &str| {
        let words = sb
            .path(&format!("{network}-{name}.words"))
            .display()
            .to_string();
        sb.run(&[
            "--network",
            network,
            "wallet",
            "create",
            "--name",
            name,
            "--passphrase-file",
            &sb.pass(),
            "--mnemonic-out",
            &words,
        ])
        .ok()
        .stderr
    };
    // The only wallet of the default network: nothing to add.
    assert_eq!(next_command(&create("liquid", "solo")), ["address", "new"]);
    // The only regtest wallet: the network, not the wallet.
    let hint = next_command(&create("regtest", "alice"));
    assert_eq!(hint, ["--network", "regtest", "address", "new"]);
    // A second regtest wallet: both.
    let hint = next_command(&create("regtest", "bob"));
    assert_eq!(
        hint,
        ["--network", "regtest", "--wallet", "bob", "address", "new"]
    );
    // The hint works as written (no environment naming the network or wallet).
    let args: Vec<&str> = hint.iter().map(String::as_str).collect();
    let address = sb.run(&args).ok();
    assert!(address.stdout.starts_with("el1"), "{}", address.stdout);
    assert!(address.stderr.contains("receive address 0 of wallet 'bob'"));

    // A data folder given with --data-dir is repeated.
    let other = sb.path("other home");
    let out = sb
        .command(&[
            "--data-dir",
            other.to_str().unwrap(),
            "--network",
            "regtest",
            "wallet",
            "import",
            "--name",
            "watch",
            "--descriptor",
            "ct(slip77(9c8e4f05c7711a98c838be228bcb84924d4570ca53f35fa1c793e58841d47023),elwpkh([73c5da0a/84'/1'/0']tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*))",
        ])
        .env_remove("LIQUID_OTC_HOME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("Next: `")).unwrap();
    assert_eq!(
        line,
        format!(
            "Next: `liquid-otc --data-dir '{}' --network regtest address new` hands out a receive address.",
            other.display()
        )
    );
}

/// A child process whose stdin, stdout and stderr are one pseudo-terminal, as a person at a
/// terminal runs it.
pub(crate) struct OnTerminal {
    child: std::process::Child,
    master: std::fs::File,
    output: std::sync::mpsc::Receiver<Vec<u8>>,
    /// Everything printed so far.
    pub(crate) seen: String,
    /// How much of `seen` earlier waits consumed.
    consumed: usize,
}

impl OnTerminal {
    pub(crate) fn spawn(mut cmd: std::process::Command) -> OnTerminal {
        use std::os::fd::{FromRawFd, OwnedFd};
        let (mut master, mut slave) = (0, 0);
        // SAFETY: openpty writes two new descriptors into the integers passed; the name,
        // termios and window size pointers may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
        // SAFETY: both descriptors were just opened and are owned by nobody else.
        let (master, slave) = unsafe {
            (
                std::fs::File::from_raw_fd(master),
                OwnedFd::from_raw_fd(slave),
            )
        };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        let child = cmd.spawn().unwrap();
        drop(cmd); // our copies of the terminal's slave side
        let (tx, output) = std::sync::mpsc::channel();
        let mut reader = master.try_clone().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Ends with EIO once the child (the last holder of the slave side) exits.
            while let Ok(n @ 1..) = std::io::Read::read(&mut reader, &mut buf) {
                if tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        OnTerminal {
            child,
            master,
            output,
            seen: String::new(),
            consumed: 0,
        }
    }

    /// Waits until the terminal shows `needle` (after what earlier waits consumed).
    pub(crate) fn wait_for(&mut self, needle: &str) {
        loop {
            if let Some(at) = self.seen[self.consumed..].find(needle) {
                self.consumed += at + needle.len();
                return;
            }
            match self.output.recv() {
                Ok(chunk) => self.seen.push_str(&String::from_utf8_lossy(&chunk)),
                Err(_) => panic!("the terminal closed before {needle:?}:\n{}", self.seen),
            }
        }
    }

    /// Types a secret once the prompt reads without echo (the prompt turns echo off and
    /// flushes pending input only then, so typing earlier could be lost).
    pub(crate) fn type_secret(&mut self, secret: &str) {
        use std::os::fd::AsRawFd;
        loop {
            // SAFETY: tcgetattr fills the zeroed termios from the open master descriptor.
            let mut termios: libc::termios = unsafe { std::mem::zeroed() };
            let rc = unsafe { libc::tcgetattr(self.master.as_raw_fd(), &mut termios) };
            assert_eq!(rc, 0);
            if termios.c_lflag & libc::ECHO == 0 {
                break;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!("exited {status} before reading a secret:\n{}", self.seen);
            }
            std::thread::yield_now();
        }
        std::io::Write::write_all(&mut self.master, format!("{secret}\n").as_bytes()).unwrap();
    }

    /// Waits for the exit; (code, everything the terminal showed).
    pub(crate) fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().unwrap();
        while let Ok(chunk) = self.output.recv() {
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
        (status.code().unwrap_or(-1), self.seen)
    }
}

#[test]
fn a_wrong_passphrase_at_the_terminal_can_be_typed_again_up_to_three_times() {
    let sb = Sandbox::new();
    let words = sb.path("w.words").display().to_string();
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "create",
        "--name",
        "w",
        "--passphrase-file",
        &sb.pass(),
        "--mnemonic-out",
        &words,
    ])
    .ok();
    let new_pass = sb.path("new-pass");
    std::fs::write(&new_pass, "a-new-passphrase\n").unwrap();
    let change = || {
        sb.command(&[
            "--network",
            "regtest",
            "wallet",
            "change-passphrase",
            "--new-passphrase-file",
            new_pass.to_str().unwrap(),
        ])
    };

    // Wrong, then right: the second try unlocks.
    let mut term = OnTerminal::spawn(change());
    term.wait_for("Encryption passphrase");
    term.type_secret("not-the-passphrase");
    term.wait_for("Wrong passphrase; try again (2 attempts left).");
    term.wait_for("Encryption passphrase");
    term.type_secret(crate::common::PASSPHRASE);
    let (code, shown) = term.finish();
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("is now encrypted under the new passphrase"),
        "{shown}"
    );
    assert!(
        !shown.contains(crate::common::PASSPHRASE),
        "the passphrase is never echoed"
    );

    // Three wrong ones: refused with exit 3 after the third.
    let mut term = OnTerminal::spawn(change());
    for left in ["2 attempts left", "1 attempt left"] {
        term.wait_for("Encryption passphrase");
        term.type_secret("wrong");
        term.wait_for(&format!("Wrong passphrase; try again ({left})."));
    }
    term.wait_for("Encryption passphrase");
    term.type_secret("wrong");
    let (code, shown) = term.finish();
    assert_eq!(code, 3, "{shown}");
    assert!(shown.contains("error: wrong passphrase"), "{shown}");
    assert_eq!(
        shown.matches("Wrong passphrase; try again").count(),
        2,
        "{shown}"
    );

    // Without a terminal there is one attempt.
    let wrong = sb.path("wrong-pass");
    std::fs::write(&wrong, "wrong\n").unwrap();
    let run = sb
        .run(&[
            "--network",
            "regtest",
            "wallet",
            "change-passphrase",
            "--passphrase-file",
            wrong.to_str().unwrap(),
            "--new-passphrase-file",
            new_pass.to_str().unwrap(),
        ])
        .fails(3, "wrong passphrase");
    assert!(!run.stderr.contains("try again ("), "{}", run.stderr);
}

#[test]
fn a_signer_at_the_terminal_gets_another_try_at_the_passphrase() {
    let chain = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
    let url = chain.esplora_url();
    let sb = Sandbox::new();
    sb.restore_abandon("alice");
    let funding = sb
        .on_chain(&url, "alice", &["--json", "address", "new"], None)
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_string();
    chain
        .faucet(&funding.parse().unwrap(), 100_000_000, None)
        .unwrap();
    chain.mine(1).unwrap();
    let to = format!("{funding}:0.1");
    let unsigned = sb
        .on_chain(&url, "alice", &["pset", "create", "--to", &to], None)
        .ok()
        .stdout;
    let file = sb.path("unsigned.pset");
    std::fs::write(&file, unsigned.trim()).unwrap();

    let mut term = OnTerminal::spawn(sb.command(&[
        "--network",
        "regtest",
        "--esplora",
        &url,
        "--wallet",
        "alice",
        "--yes",
        "pset",
        "sign",
        file.to_str().unwrap(),
    ]));
    term.wait_for("Encryption passphrase");
    term.type_secret("not-it");
    term.wait_for("Wrong passphrase; try again (2 attempts left).");
    term.wait_for("Encryption passphrase");
    term.type_secret(crate::common::PASSPHRASE);
    let (code, shown) = term.finish();
    assert_eq!(code, 0, "{shown}");
    assert!(
        !shown.contains(crate::common::PASSPHRASE),
        "the passphrase is never echoed"
    );
}
