//! The command-line interface as scripts see it, pinned so that a change shows up in review:
//! the `--help` of every command, and the shape (keys and value types, not values) of the
//! `--json` document of every command in one scenario on the sandbox.
//!
//! Regenerate the snapshots with `UPDATE_SNAPSHOTS=1 cargo test --test e2e interface`, and read
//! the diff: it is the interface change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::scene::Scene;
use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

fn snapshot_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name)
}

/// Compares `text` with the committed snapshot `name` (or writes it with UPDATE_SNAPSHOTS).
fn check_snapshot(name: &str, text: &str) {
    let path = snapshot_path(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != text {
        let first = committed
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(text.lines().count()));
        panic!(
            "{} is stale (first difference at line {}): run `UPDATE_SNAPSHOTS=1 cargo test --test e2e \
             interface` and review the diff\ncommitted: {:?}\nnow:       {:?}",
            path.display(),
            first + 1,
            committed.lines().nth(first),
            text.lines().nth(first)
        );
    }
}

fn all_help(command: &mut clap::Command, path: &str, out: &mut String) {
    let name = if path.is_empty() {
        command.get_name().to_owned()
    } else {
        format!("{path} {}", command.get_name())
    };
    out.push_str(&format!("==== {name} --help\n"));
    out.push_str(&command.render_long_help().to_string());
    out.push('\n');
    let mut subs: Vec<clap::Command> = command.get_subcommands().cloned().collect();
    for sub in &mut subs {
        all_help(sub, &name, out);
    }
}

#[test]
fn every_commands_help_is_pinned() {
    let mut command = liquid_otc_cli::command().term_width(100);
    command.build();
    let mut text = String::new();
    all_help(&mut command, "", &mut text);
    check_snapshot("help.txt", &text);
}

/// The shape of a JSON value: its type, and for objects the shape of each key (sorted), for
/// arrays the union of their elements' shapes.
fn shape(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "bool".to_owned(),
        Value::Number(_) => "number".to_owned(),
        Value::String(_) => "string".to_owned(),
        Value::Array(items) => {
            let mut shapes: Vec<String> = items.iter().map(shape).collect();
            shapes.sort();
            shapes.dedup();
            format!("[{}]", shapes.join(" | "))
        }
        Value::Object(map) => {
            // Maps keyed by asset id (net effects) have a shape, not a fixed set of keys.
            let key = |k: &String| {
                if k.len() == 64 && k.chars().all(|c| c.is_ascii_hexdigit()) {
                    "<asset id>".to_owned()
                } else {
                    k.clone()
                }
            };
            let fields: BTreeMap<String, String> =
                map.iter().map(|(k, v)| (key(k), shape(v))).collect();
            let inner: Vec<String> = fields.iter().map(|(k, v)| format!("{k}: {v}")).collect();
            format!("{{{}}}", inner.join(", "))
        }
    }
}

struct Shapes {
    lines: Vec<String>,
}

impl Shapes {
    /// Records the shape of `run`'s JSON (stdout on success, the error object otherwise).
    fn add(&mut self, label: &str, run: &Run) {
        let doc = if run.code == 0 {
            run.json()
        } else {
            serde_json::from_str(run.stderr.trim())
                .unwrap_or_else(|e| panic!("{label}: stderr is not JSON ({e}): {}", run.stderr))
        };
        self.lines
            .push(format!("{label} (exit {}): {}", run.code, shape(&doc)));
    }
}

#[test]
fn every_commands_json_shape_is_pinned() {
    let chain = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
    let url = chain.esplora_url();
    let sb = Sandbox::new();
    let pass = sb.pass();
    let mut shapes = Shapes { lines: Vec::new() };
    let json = |args: &[&str], stdin: Option<&str>| -> Run {
        let mut full = vec!["--network", "regtest", "--esplora", url.as_str(), "--json"];
        full.extend_from_slice(args);
        sb.run_with_stdin(&full, stdin)
    };
    let words = sb.path("alice.words");
    let words = words.to_str().unwrap();
    shapes.add(
        "wallet create",
        &json(
            &[
                "wallet",
                "create",
                "--name",
                "alice",
                "--passphrase-file",
                &pass,
                "--mnemonic-out",
                words,
            ],
            None,
        ),
    );
    shapes.add(
        "wallet restore",
        &json(
            &[
                "wallet",
                "restore",
                "--name",
                "bob",
                "--passphrase-file",
                &pass,
            ],
            Some(BOB),
        ),
    );
    sb.restore("carol", ABANDON);
    fn alice<'a>(args: &[&'a str]) -> Vec<&'a str> {
        let mut v = vec!["--wallet", "alice"];
        v.extend_from_slice(args);
        v
    }
    shapes.add("wallet list", &json(&["wallet", "list"], None));
    shapes.add("wallet info", &json(&alice(&["wallet", "info"]), None));
    shapes.add(
        "wallet descriptor",
        &json(&alice(&["wallet", "descriptor"]), None),
    );
    let descriptor = json(&alice(&["wallet", "descriptor"]), None).json()["descriptor"]
        .as_str()
        .unwrap()
        .to_owned();
    let desc_file = sb.path("alice.descriptor");
    std::fs::write(&desc_file, &descriptor).unwrap();
    shapes.add(
        "wallet import",
        &json(
            &[
                "wallet",
                "import",
                "--name",
                "watch",
                "--descriptor-file",
                desc_file.to_str().unwrap(),
            ],
            None,
        ),
    );
    let new = json(&alice(&["address", "new", "--label", "x"]), None);
    shapes.add("address new", &new);
    let address = new.json()["address"].as_str().unwrap().to_owned();
    shapes.add(
        "address list",
        &json(&alice(&["address", "list", "--all"]), None),
    );
    shapes.add(
        "address inspect",
        &json(&["address", "inspect", &address], None),
    );
    chain
        .faucet(&address.parse().unwrap(), 100_000_000, None)
        .unwrap();
    chain.mine(1).unwrap();
    shapes.add("sync", &json(&alice(&["sync"]), None));
    shapes.add("balance", &json(&alice(&["balance"]), None));
    let bob_address = json(&["--wallet", "bob", "address", "new"], None).json()["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let to = format!("{bob_address}:0.1");
    shapes.add(
        "send --dry-run",
        &json(&alice(&["send", "--to", &to, "--dry-run"]), None),
    );
    let sent = json(
        &alice(&["--yes", "send", "--to", &to, "--passphrase-file", &pass]),
        None,
    );
    shapes.add("send", &sent);
    let txid = sent.json()["txid"].as_str().unwrap().to_owned();
    shapes.add("tx pending", &json(&alice(&["tx", "pending"]), None));
    chain.mine(1).unwrap();
    shapes.add("txs", &json(&alice(&["txs"]), None));
    shapes.add("utxos", &json(&alice(&["utxos"]), None));
    shapes.add("tx show", &json(&alice(&["tx", "show", &txid]), None));
    let created = json(&alice(&["pset", "create", "--to", &to]), None);
    shapes.add("pset create", &created);
    shapes.add(
        "pset inspect",
        &json(&alice(&["pset", "inspect", "-"]), Some(&created.stdout)),
    );
    let signed = json(
        &alice(&["--yes", "pset", "sign", "-", "--passphrase-file", &pass]),
        Some(&created.stdout),
    );
    shapes.add("pset sign", &signed);
    let finalized = json(&["pset", "finalize", "-"], Some(&signed.stdout));
    shapes.add("pset finalize", &finalized);
    shapes.add(
        "pset finalize --extract",
        &json(
            &["pset", "finalize", "--extract", "-"],
            Some(&signed.stdout),
        ),
    );
    shapes.add(
        "pset broadcast",
        &json(&alice(&["pset", "broadcast", "-"]), Some(&finalized.stdout)),
    );
    chain.mine(1).unwrap();
    let issued = json(
        &alice(&[
            "--yes",
            "asset",
            "issue",
            "--amount",
            "1000",
            "--token",
            "1",
            "--passphrase-file",
            &pass,
        ]),
        None,
    );
    shapes.add("asset issue", &issued);
    let asset = issued.json()["asset"].as_str().unwrap().to_owned();
    chain.mine(1).unwrap();
    shapes.add(
        "asset reissue",
        &json(
            &alice(&[
                "--yes",
                "asset",
                "reissue",
                &asset,
                "--amount",
                "5",
                "--passphrase-file",
                &pass,
            ]),
            None,
        ),
    );
    shapes.add(
        "asset burn",
        &json(
            &alice(&[
                "--yes",
                "asset",
                "burn",
                &asset,
                "--amount",
                "5",
                "--passphrase-file",
                &pass,
            ]),
            None,
        ),
    );
    shapes.add("asset list", &json(&alice(&["asset", "list"]), None));
    shapes.add(
        "asset info",
        &json(&alice(&["asset", "info", &asset]), None),
    );
    shapes.add(
        "asset label",
        &json(
            &[
                "asset",
                "label",
                &asset,
                "--ticker",
                "TST",
                "--precision",
                "2",
            ],
            None,
        ),
    );
    shapes.add("asset labels", &json(&["asset", "labels"], None));
    shapes.add("asset unlabel", &json(&["asset", "unlabel", &asset], None));
    // Errors: one shape for every command.
    shapes.add("error: usage", &json(&alice(&["tx", "show", "nope"]), None));
    shapes.add(
        "error: insufficient funds",
        &json(
            &alice(&[
                "--yes",
                "send",
                "--to",
                &format!("{bob_address}:1000"),
                "--passphrase-file",
                &pass,
            ]),
            None,
        ),
    );
    shapes.add(
        "wallet remove",
        &json(&["--yes", "--wallet", "carol", "wallet", "remove"], None),
    );
    check_snapshot("json_shapes.txt", &(shapes.lines.join("\n") + "\n"));
}

#[test]
fn offer_deal_pegout_and_demo_json_shapes_are_pinned() {
    use crate::common::desks::{deal_id, Desks};
    let mut shapes = Shapes { lines: Vec::new() };
    // DvP: maker and taker in their own data folders.
    let desks = Desks::start(false);
    let created = desks.create(&["--json"]);
    shapes.add("offer create", &created);
    // The maker has not signed: its cancel frees the coins off the chain.
    let first = deal_id(&created.stdout);
    let pass = desks.maker.pass();
    shapes.add(
        "offer cancel",
        &desks.run(
            true,
            &[
                "--json",
                "--yes",
                "offer",
                "cancel",
                &first,
                "--passphrase-file",
                &pass,
            ],
            None,
        ),
    );
    let proposed = desks.proposed(&[]);
    shapes.add(
        "offer inspect (no wallet)",
        &desks.taker.run_with_stdin(
            &["--network", "regtest", "--json", "offer", "inspect", "-"],
            Some(&proposed),
        ),
    );
    shapes.add(
        "offer inspect",
        &desks.run(false, &["--json", "offer", "inspect", "-"], Some(&proposed)),
    );
    // Each stage reads the previous stage's JSON document.
    let accepted = desks.accept(&proposed, &["--json"]);
    shapes.add("offer accept", &accepted);
    shapes.add("offer settle", &desks.settle(&accepted.stdout, &["--json"]));
    let id = deal_id(&proposed);
    desks.node.mine(1).unwrap();
    desks.run(true, &["sync"], None).ok();
    shapes.add(
        "deal list",
        &desks.run(true, &["--json", "deal", "list"], None),
    );
    shapes.add(
        "deal show",
        &desks.run(true, &["--json", "deal", "show", &id], None),
    );
    shapes.add(
        "deal envelope",
        &desks.run(true, &["--json", "deal", "envelope", &id], None),
    );
    shapes.add(
        "deal export",
        &desks.run(
            true,
            &["--json", "deal", "export", "--format", "json"],
            None,
        ),
    );
    shapes.add(
        "deal expire --dry-run",
        &desks.run(true, &["--json", "deal", "expire", "--dry-run"], None),
    );
    // The peg-out desk.
    let scene = Scene::new(&[("desk", ABANDON)]);
    let address = scene.address("desk");
    scene.fund(&address, 100_000_000);
    let pass = scene.sb.pass();
    let btc = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk";
    let json = |args: &[&str]| -> Run {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        scene.run("desk", &full, None)
    };
    shapes.add(
        "pegout send --dry-run",
        &json(&[
            "pegout",
            "send",
            "--btc-address",
            btc,
            "--amount",
            "0.01",
            "--dry-run",
        ]),
    );
    shapes.add(
        "pegout request add",
        &json(&[
            "pegout",
            "request",
            "add",
            "--ref",
            "T-1",
            "--btc-address",
            btc,
            "--amount",
            "0.02",
            "--customer",
            "ACME",
            "--by",
            "carol",
        ]),
    );
    shapes.add("pegout request list", &json(&["pegout", "request", "list"]));
    shapes.add(
        "pegout request approve",
        &json(&["pegout", "request", "approve", "T-1", "--by", "erin"]),
    );
    shapes.add("pegout settings", &json(&["pegout", "settings"]));
    shapes.add(
        "pegout run --dry-run",
        &json(&["pegout", "run", "--dry-run", "--by", "dave"]),
    );
    shapes.add(
        "pegout run",
        &json(&[
            "--yes",
            "pegout",
            "run",
            "--by",
            "dave",
            "--passphrase-file",
            &pass,
        ]),
    );
    shapes.add(
        "pegout request show",
        &json(&["pegout", "request", "show", "T-1"]),
    );
    shapes.add("pegout status", &json(&["pegout", "status"]));
    shapes.add(
        "pegout export",
        &json(&["pegout", "export", "--format", "json"]),
    );
    shapes.add(
        "pegout send",
        &json(&[
            "--yes",
            "pegout",
            "send",
            "--btc-address",
            btc,
            "--amount",
            "0.01",
            "--passphrase-file",
            &pass,
        ]),
    );
    // The demo: one JSON document.
    shapes.add("demo", &scene.sb.run(&["--json", "demo"]));
    check_snapshot("json_shapes_desks.txt", &(shapes.lines.join("\n") + "\n"));
}
