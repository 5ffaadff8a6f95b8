//! Peg-outs on both chains: the embedded sandbox always, and elementsd + electrs when
//! `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC` are set (see `tests/e2e/common/real_stack.rs`).
//!
//! A default liquidregtest node relays one `OP_RETURN` output per transaction: `pegout send`
//! is accepted; a queue of three requests is paid one per run; a batch (config.json claiming
//! `multi_data_permitted`) is refused with `multi-op-return` by both chains, stays signed,
//! is abandoned and paid again one by one. Every peg-out is checked on the chain through
//! Esplora's `/tx/:txid` (an `op_return` output of the exact amount and script).

use crate::common::real_stack::{with_real_stack, Backend, TestChain};
use crate::common::{Run, Sandbox, ABANDON};
use serde_json::Value;

const COIN: u64 = 100_000_000;
/// `OP_RETURN` and the push of Bitcoin regtest's genesis hash (internal byte order).
const PEGOUT_PREFIX: &str = "6a2006226e46111a0b59caaf126043eb5bbf28c34f3a5e332a1fc7b2b73cf188910f";
const DEST: [(&str, &str); 3] = [
    (
        "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
        "0014d0c4a3ef09e997b6e99e397e518fe3e41a118ca1",
    ),
    (
        "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
        "76a914243f1394f44554f4ce3fd68649c19adc483ce92488ac",
    ),
    (
        "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc",
        "a9144e9f39ca4688ff102128ea4ccda34105324305b087",
    ),
];

fn pegout_script(spk: &str) -> String {
    format!("{PEGOUT_PREFIX}{:02x}{spk}", spk.len() / 2)
}

struct Desk<'a> {
    sb: Sandbox,
    chain: &'a dyn TestChain,
    server: Vec<String>,
}

impl Desk<'_> {
    fn lotc(&self, args: &[&str]) -> Run {
        let server: Vec<&str> = self.server.iter().map(String::as_str).collect();
        self.sb.on_server(&server, "alice", args, None)
    }

    /// Esplora's `/tx/:txid` output `vout` is a peg-out of `amount` to `spk`.
    fn assert_pegout(&self, txid: &str, vout: u64, amount: u64, spk: &str) {
        let url = self.chain.esplora_url();
        let (code, text) =
            regtest::control::request(&url, "GET", &format!("/tx/{txid}"), None).unwrap();
        assert_eq!(code, 200, "{}: {text}", self.chain.label());
        let tx: Value = serde_json::from_str(&text).unwrap();
        let out = &tx["vout"][vout as usize];
        assert_eq!(out["scriptpubkey_type"], "op_return", "{out}");
        assert_eq!(out["scriptpubkey"], pegout_script(spk), "{out}");
        assert_eq!(out["value"], amount, "{out}");
        assert_eq!(out["asset"], self.chain.policy_asset().to_string());
    }

    fn run(&self) -> Run {
        let pass = self.sb.pass();
        self.lotc(&[
            "--json",
            "--yes",
            "pegout",
            "run",
            "--by",
            "dave",
            "--passphrase-file",
            &pass,
        ])
    }
}

fn scenario(chain: &dyn TestChain, backend: Backend) {
    let label = chain.label();
    let sb = Sandbox::new();
    sb.restore("alice", ABANDON);
    let desk = Desk {
        sb,
        chain,
        server: backend.flags(chain),
    };
    let address: elements::Address = desk.lotc(&["--json", "address", "new"]).ok().json()
        ["address"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    chain.faucet(&address, 2 * COIN, None).unwrap();
    chain.mine(1).unwrap();

    // One peg-out now.
    let pass = desk.sb.pass();
    let doc = desk
        .lotc(&[
            "--json",
            "--yes",
            "pegout",
            "send",
            "--btc-address",
            DEST[0].0,
            "--amount",
            "0.3",
            "--passphrase-file",
            &pass,
        ])
        .ok()
        .json();
    chain.settle().unwrap();
    let txid = doc["txid"].as_str().unwrap();
    desk.assert_pegout(txid, doc["vout"].as_u64().unwrap(), 30_000_000, DEST[0].1);
    chain.mine(1).unwrap();

    // A queue of three, paid as a batch: this chain relays one data output per transaction.
    for (i, (address, _)) in DEST.iter().enumerate() {
        desk.lotc(&[
            "pegout",
            "request",
            "add",
            "--ref",
            &format!("R-{i}"),
            "--btc-address",
            address,
            "--amount",
            &format!("0.0{}", i + 1),
            "--by",
            "carol",
        ])
        .ok();
    }
    desk.lotc(&[
        "pegout", "request", "approve", "R-0", "R-1", "R-2", "--by", "erin",
    ])
    .ok();
    std::fs::write(
        desk.sb.home().join("config.json"),
        "{\"regtest\":{\"multi_data_permitted\":true}}\n",
    )
    .unwrap();
    let run = desk.run();
    assert_eq!(run.code, 1, "{label}: {}", run.stderr);
    let err = run.json_error();
    assert_eq!(err["code"], "broadcast_rejected", "{label}: {err}");
    assert!(
        err["message"].as_str().unwrap().contains("multi-op-return"),
        "{label}: {err}"
    );
    let status = desk.lotc(&["--json", "pegout", "status"]).ok().json();
    let refused = status["transactions"][0]["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    desk.lotc(&["--yes", "pegout", "abandon", &refused, "--by", "dave"])
        .ok();
    // As the node is configured: one peg-out per run. Each is mined before the next run:
    // until the first (which spends the abandoned batch's coin) confirms, the batch could
    // still confirm on a node that relays it, so a run would refuse to pay its requests.
    std::fs::write(desk.sb.home().join("config.json"), "{}\n").unwrap();
    let mut paid = Vec::new();
    for _ in 0..3 {
        let doc = desk.run().ok().json();
        assert_eq!(doc["paid"].as_array().unwrap().len(), 1, "{label}: {doc}");
        chain.mine(1).unwrap();
        chain.settle().unwrap();
        paid.push(doc);
    }
    chain.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for (i, doc) in paid.iter().enumerate() {
        let p = &doc["paid"][0];
        assert_eq!(p["ref"], format!("R-{i}"));
        let txid = doc["txid"].as_str().unwrap();
        desk.assert_pegout(
            txid,
            p["vout"].as_u64().unwrap(),
            (i as u64 + 1) * 1_000_000,
            DEST[i].1,
        );
        let st = desk
            .lotc(&["--json", "pegout", "status", &format!("R-{i}")])
            .ok()
            .json();
        assert_eq!(st["status"], "confirmed", "{label}: {st}");
        assert_eq!(st["txid"], txid);
        assert_eq!(st["vout"], p["vout"]);
    }
    // The first run spent an input of the abandoned transaction: it can never confirm now.
    assert_eq!(paid[0]["pinned"].as_array().unwrap().len(), 1, "{label}");
}

#[test]
fn pegouts_on_the_embedded_chain_behave_as_on_elementsd() {
    let sandbox = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
    scenario(&sandbox, Backend::Esplora);
    sandbox.shutdown();
}

#[test]
fn pegouts_on_elementsd_and_electrs() {
    with_real_stack("pegouts_on_elementsd_and_electrs", |stack| {
        scenario(stack, Backend::Electrum);
    });
}
