//! Shared helpers of the end-to-end tests: run the real binary in a temporary data folder.
#![allow(dead_code)]

pub mod desks;
pub mod handmade;
pub mod real_stack;
pub mod scene;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output, Stdio};

use serde_json::Value;

/// Encryption passphrase used by the tests (checked never to leak).
pub const PASSPHRASE: &str = "Tr0ub4dor-Test-Passphrase-9x";

/// The mnemonic of the recorded fixtures and of the public vectors.
pub const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// A folder of `../shared` (vectors or fixtures), or `None` with a printed reason.
/// Under `CI=true` a missing folder is a failure, not a skip.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(sub);
    if path.is_dir() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!(
            "{} is missing and CI=true: the shared folder must sit beside the checkout",
            path.display()
        );
    }
    eprintln!(
        "skipping: {} is missing (the shared folder sits beside the checkout)",
        path.display()
    );
    None
}

/// A `txs --json` answer as sorted "txid|status|net|fee" lines, to compare two wallets'
/// histories.
pub fn history_rows(doc: &Value) -> Vec<String> {
    let mut rows: Vec<String> = doc
        .as_array()
        .expect("a txs answer")
        .iter()
        .map(|r| format!("{}|{}|{}|{}", r["txid"], r["status"], r["net"], r["fee"]))
        .collect();
    rows.sort();
    rows
}

/// (confirmed, unconfirmed) of `asset` in a `balance --json` answer; (0, 0) when absent.
pub fn balance_of(doc: &Value, asset: &str) -> (u64, u64) {
    doc["balances"]
        .as_array()
        .expect("a balance answer")
        .iter()
        .find(|b| b["asset"] == asset)
        .map(|b| {
            (
                b["confirmed"].as_u64().unwrap(),
                b["unconfirmed"].as_u64().unwrap(),
            )
        })
        .unwrap_or((0, 0))
}

/// A temporary data folder and a way to run `liquid-otc` against it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

/// What one run of the binary gave.
pub struct Run {
    /// The exit code; -1 when the process was killed by a signal (see `status`).
    pub code: i32,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Asserts that a process was aborted at a crash point (`LIQUID_OTC_FAULT`), as a crash
/// would end it: killed by a signal, with no exit code; on Unix by SIGABRT, the signal of
/// `std::process::abort`, not some other death (a timeout's kill, a segfault).
#[track_caller]
pub fn assert_aborted(status: &ExitStatus, context: &str, stderr: &str) {
    assert_eq!(
        status.code(),
        None,
        "{context}: the process was not killed but exited: {status:?}\n{stderr}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(libc::SIGABRT),
            "{context}: the process did not abort: {status:?}\n{stderr}"
        );
    }
}

impl Run {
    /// The run of a finished process.
    pub fn of(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            status: out.status,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The stdout as JSON; panics with both streams when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The JSON error object printed on stderr in `--json` mode.
    pub fn json_error(&self) -> Value {
        let doc: Value = serde_json::from_str(self.stderr.trim())
            .unwrap_or_else(|e| panic!("stderr is not JSON ({e}):\n{}", self.stderr));
        doc["error"].clone()
    }

    /// Asserts success and returns self.
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts that the process was aborted at a crash point (see [`assert_aborted`]).
    #[track_caller]
    pub fn aborted(self, context: &str) -> Self {
        assert_aborted(&self.status, context, &self.stderr);
        self
    }

    /// Asserts, of a `--json` run, the exit code and the JSON error on stderr: its `code`,
    /// its `exit` (the same as the process's) and that its message contains `needle` as
    /// written (case included).
    #[track_caller]
    pub fn fails_json(self, exit: i32, code: &str, needle: &str) -> Self {
        assert_eq!(
            self.code, exit,
            "unexpected exit code:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        let error = self.json_error();
        assert_eq!(error["code"], code, "{error}");
        assert_eq!(error["exit"], exit, "{error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(needle),
            "the error message does not mention {needle:?}: {error}"
        );
        self
    }

    /// Asserts the exit code and that stderr mentions `needle`.
    #[track_caller]
    pub fn fails(self, code: i32, needle: &str) -> Self {
        assert_eq!(
            self.code, code,
            "unexpected exit code:\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        assert!(
            self.stderr.to_lowercase().contains(&needle.to_lowercase()),
            "stderr does not mention {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

impl Sandbox {
    /// A new empty data folder with a passphrase file in it.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("pass"), format!("{PASSPHRASE}\n")).unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        Sandbox { dir }
    }

    /// The data folder given to the binary.
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// A path inside the temporary folder (outside the data folder).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The passphrase file.
    pub fn pass(&self) -> String {
        self.path("pass").display().to_string()
    }

    /// The binary, with a clean environment pointing at this data folder.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_liquid-otc"));
        cmd.args(args)
            .env_remove("LIQUID_OTC_NETWORK")
            .env_remove("LIQUID_OTC_WALLET")
            .env_remove("LIQUID_OTC_PASSPHRASE")
            .env("LIQUID_OTC_HOME", self.home())
            .env("LIQUID_OTC_KDF_MEMORY_KIB", "64")
            .env("LIQUID_OTC_KDF_ITERATIONS", "1")
            .env("NO_COLOR", "1");
        cmd
    }

    /// Runs the binary with no stdin.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// Runs the binary, feeding `stdin` when given.
    pub fn run_with_stdin(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let mut cmd = self.command(args);
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn liquid-otc");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        Run::of(child.wait_with_output().unwrap())
    }

    /// Restores the "abandon ... about" wallet on regtest under `name`.
    pub fn restore_abandon(&self, name: &str) -> Value {
        self.restore(name, ABANDON)
    }

    /// Restores `phrase` on regtest as wallet `name`, encrypted with the test passphrase.
    pub fn restore(&self, name: &str, phrase: &str) -> Value {
        self.run_with_stdin(
            &[
                "--network",
                "regtest",
                "--json",
                "wallet",
                "restore",
                "--name",
                name,
                "--passphrase-file",
                &self.pass(),
            ],
            Some(phrase),
        )
        .ok()
        .json()
    }

    /// Runs the binary on regtest as `wallet`, against the Esplora server at `url`.
    pub fn on_chain(&self, url: &str, wallet: &str, args: &[&str], stdin: Option<&str>) -> Run {
        self.on_server(&["--esplora", url], wallet, args, stdin)
    }

    /// Runs the binary on regtest as `wallet`, with `server` flags (`--esplora URL` or
    /// `--electrum tcp://HOST:PORT`).
    pub fn on_server(
        &self,
        server: &[&str],
        wallet: &str,
        args: &[&str],
        stdin: Option<&str>,
    ) -> Run {
        let mut full = vec!["--network", "regtest"];
        full.extend_from_slice(server);
        full.extend_from_slice(&["--wallet", wallet]);
        full.extend_from_slice(args);
        self.run_with_stdin(&full, stdin)
    }
}
