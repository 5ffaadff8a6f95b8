//! `sandbox start | faucet | mine | issue` and `demo`, through the built binary.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use crate::common::Sandbox;
use serde_json::Value;

/// A `sandbox start --json` process; stopped with SIGINT when dropped.
struct Running {
    child: Child,
    info: Value,
}

impl Running {
    fn start(sb: &Sandbox) -> Running {
        let mut child = sb
            .command(&["--json", "sandbox", "start"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let info: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
        Running { child, info }
    }

    fn url(&self) -> String {
        self.info["esplora"].as_str().unwrap().to_string()
    }

    /// Sends SIGINT and returns the exit code.
    fn interrupt(mut self) -> i32 {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap();
        assert!(status.success());
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        std::mem::forget(self);
        code
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn get(url: &str, path: &str) -> Value {
    let (status, body) = regtest::control::request(url, "GET", path, None).unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

#[test]
fn sandbox_commands_drive_a_running_sandbox() {
    let sb = Sandbox::new();
    // Nothing running yet: a backend error (4) that says how to start one.
    sb.run(&["sandbox", "mine"])
        .fails(4, "error: no running sandbox is recorded in ")
        .fails(4, "hint: start one with `liquid-otc sandbox start`");

    let running = Running::start(&sb);
    assert_eq!(
        running.info["policy_asset"],
        "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225"
    );
    assert_eq!(
        running.info["genesis_hash"],
        "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21"
    );
    assert!(running.info["electrum"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    assert!(sb.home().join("sandbox.json").exists());

    sb.restore_abandon("w");
    let address = sb
        .run(&["--network", "regtest", "--json", "address", "new"])
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_string();

    let paid = sb
        .run(&["--json", "sandbox", "faucet", &address, "1.5"])
        .ok()
        .json();
    assert_eq!(paid["amount"], 150_000_000u64);
    let txid = paid["txid"].as_str().unwrap().to_string();
    let status = get(&running.url(), &format!("/tx/{txid}/status"));
    assert_eq!(status["confirmed"], false);

    let mined = sb.run(&["--json", "sandbox", "mine", "2"]).ok().json();
    assert_eq!(mined["blocks"].as_array().unwrap().len(), 2);
    let status = get(&running.url(), &format!("/tx/{txid}/status"));
    assert_eq!(status["confirmed"], true);

    let issued = sb
        .run(&[
            "--json", "sandbox", "issue", "--amount", "1000", "--name", "TEST",
        ])
        .ok()
        .json();
    let asset = issued["asset"].as_str().unwrap().to_string();
    assert_eq!(asset.len(), 64);
    let token_pay = sb
        .run(&[
            "--json", "sandbox", "faucet", &address, "7", "--asset", &asset,
        ])
        .ok()
        .json();
    assert_eq!(token_pay["asset"], asset.as_str());

    // The output to a confidential address is blinded on chain.
    let tx = get(
        &running.url(),
        &format!("/tx/{}", token_pay["txid"].as_str().unwrap()),
    );
    let outs = tx["vout"].as_array().unwrap();
    assert!(
        outs.iter().any(|o| o.get("valuecommitment").is_some()),
        "{tx}"
    );

    // Bad input, each with its exit code.
    sb.run(&["sandbox", "faucet", &address, "0.000000001"])
        .fails(
            2,
            "error: invalid amount '0.000000001': more than 8 decimals for an asset of precision 8",
        );
    sb.run(&["sandbox", "faucet", &address, "1", "--asset", "xyz"])
        .fails(
            2,
            "error: invalid value 'xyz' for '--asset <ID>': 'xyz' is not an asset id",
        );
    if let Some(vectors) = crate::common::shared("vectors") {
        let text = std::fs::read_to_string(vectors.join("elip151.json")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mainnet = doc["valid"][0]["confidential_address"].as_str().unwrap();
        assert!(mainnet.starts_with("lq1"));
        sb.run(&["sandbox", "faucet", mainnet, "1"]).fails(
            2,
            &format!("error: <ADDRESS>: {mainnet} is an address of liquid, not of regtest"),
        );
    }
    // A negative amount, written apart or attached, is refused by the amount's parser before
    // the sandbox is asked anything.
    for args in [
        &["sandbox", "issue", "--amount", "-5"][..],
        &["sandbox", "issue", "--amount=-5"][..],
    ] {
        sb.run(args).fails(
            2,
            "error: invalid value '-5' for '--amount <A>': '-5' is not an amount",
        );
    }

    // A reorganisation replaces the tip block with two new ones.
    let reorg = sb.run(&["--json", "sandbox", "reorg"]).ok().json();
    assert_eq!(reorg["blocks"].as_array().unwrap().len(), 2);
    sb.run(&["sandbox", "reorg", "0"]).fails(
        2,
        "error: invalid value '0' for '[DEPTH]': 0 is not in 1..=100",
    );
    // Deeper than the chain: the sandbox's refusal, a usage error with its own words once.
    sb.run(&["sandbox", "reorg", "100"]).fails(
        2,
        "error: invalid argument: a reorganisation depth must be 1 to ",
    );

    assert_eq!(running.interrupt(), 0);
    assert!(!sb.home().join("sandbox.json").exists());
}

#[test]
fn sandbox_refuses_non_loopback_binds() {
    let sb = Sandbox::new();
    sb.run(&["sandbox", "start", "--esplora", "0.0.0.0:0"])
        .fails(
            2,
            "error: refusing to bind 0.0.0.0:0: the sandbox only listens on loopback addresses",
        );
}

/// The Esplora URL recorded in the data folder's `sandbox.json`.
fn recorded_url(sb: &Sandbox) -> String {
    let text = std::fs::read_to_string(sb.home().join("sandbox.json")).unwrap();
    let info: Value = serde_json::from_str(&text).unwrap();
    info["esplora"].as_str().unwrap().to_string()
}

#[test]
fn a_second_start_refuses_while_the_recorded_sandbox_answers() {
    let sb = Sandbox::new();
    let first = Running::start(&sb);
    assert_eq!(recorded_url(&sb), first.url());

    for json in [true, false] {
        let mut args = vec!["sandbox", "start"];
        if json {
            args.insert(0, "--json");
        }
        let mut second = sb
            .command(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // A sandbox that starts prints its URLs; a refusal closes stdout empty.
        let mut line = String::new();
        BufReader::new(second.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if !line.is_empty() {
            let _ = second.kill();
            let _ = second.wait();
            panic!("a second sandbox started on the same data folder: {line}");
        }
        let out = second.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        let expected = format!("a sandbox is already running at {}", first.url());
        if json {
            let doc: Value = serde_json::from_str(stderr.trim()).unwrap();
            assert_eq!(doc["error"]["code"], "sandbox_running");
            assert!(
                doc["error"]["message"]
                    .as_str()
                    .unwrap()
                    .starts_with(&expected),
                "{doc}"
            );
        } else {
            assert!(
                stderr.starts_with(&format!("error: {expected}")),
                "{stderr}"
            );
        }
        // The first keeps its record and goes on serving.
        assert_eq!(recorded_url(&sb), first.url());
        let _ = get(&first.url(), "/blocks/tip/height");
    }

    // A record whose process is gone is stale: the next start replaces it.
    drop(first);
    assert!(sb.home().join("sandbox.json").exists());
    let third = Running::start(&sb);
    assert_eq!(recorded_url(&sb), third.url());
    assert_eq!(third.interrupt(), 0);
    assert!(!sb.home().join("sandbox.json").exists());

    // A record pointing at a port where nothing answers is stale too.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stale = serde_json::json!({
        "esplora": format!("http://127.0.0.1:{port}"),
        "electrum": format!("127.0.0.1:{port}"),
        "policy_asset": "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225",
        "genesis_hash": "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21",
    });
    std::fs::write(sb.home().join("sandbox.json"), stale.to_string()).unwrap();
    let fourth = Running::start(&sb);
    assert_eq!(recorded_url(&sb), fourth.url());
    assert_eq!(fourth.interrupt(), 0);
}
