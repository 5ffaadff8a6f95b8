//! Edges of the command line that users hit (issue 12): closed pipes, concurrent creation,
//! a second sandbox, passphrase retries on a terminal, the hints and columns the README
//! promises.

mod common;

use std::process::Stdio;

use common::Sandbox;

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
    assert_eq!(code, 1, "stdout: {stdout}");
    let (code, _) = run_with_closed(&sb, &["--network", "regtest", "send"], true);
    assert_eq!(code, 2);
}
