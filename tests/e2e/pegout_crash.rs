//! A request is paid at most once, whatever crashes: `pegout run` aborted at each of its
//! steps and run again, two runs at once, a transaction abandoned and paid again, and a
//! transaction that a conflicting spend made impossible. Every claim is checked on the chain
//! (the peg-outs the sandbox recorded), not only in the queue.

use std::process::Stdio;

use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const COIN: u64 = 100_000_000;
const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

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

struct Desk {
    sb: Sandbox,
    node: regtest::Sandbox,
    url: String,
}

impl Desk {
    fn new() -> Desk {
        let sb = Sandbox::new();
        let node = regtest::Sandbox::start(SandboxConfig {
            multi_data_permitted: true,
            ..SandboxConfig::default()
        })
        .unwrap();
        std::fs::write(
            sb.home().join("config.json"),
            "{\"regtest\":{\"multi_data_permitted\":true}}\n",
        )
        .unwrap();
        sb.restore("alice", ABANDON);
        let desk = Desk {
            url: node.esplora_url(),
            sb,
            node,
        };
        desk.fund("alice", COIN);
        desk
    }

    fn fund(&self, wallet: &str, sat: u64) {
        let doc = self
            .lotc_as(wallet, &["--json", "address", "new"])
            .ok()
            .json();
        let address: elements::Address = doc["address"].as_str().unwrap().parse().unwrap();
        self.node.faucet(&address, sat, None).unwrap();
        self.node.mine(1).unwrap();
    }

    fn lotc_as(&self, wallet: &str, args: &[&str]) -> Run {
        self.sb.on_chain(&self.url, wallet, args, None)
    }

    fn lotc(&self, args: &[&str]) -> Run {
        self.lotc_as("alice", args)
    }

    /// Queues and approves <prefix>-1..3 (0.2, 0.1, 0.05 BTC plus a few sat that tell the
    /// prefixes apart, to the three destinations).
    fn queue(&self, prefix: &str) -> Vec<String> {
        let extra = u64::from(prefix.as_bytes()[0]);
        let amounts: Vec<String> = [20_000_000u64, 10_000_000, 5_000_000]
            .iter()
            .map(|a| format!("{:.8}", (a + extra) as f64 / 1e8))
            .collect();
        let mut refs = Vec::new();
        for (i, amount) in amounts.iter().enumerate() {
            let reference = format!("{prefix}-{}", i + 1);
            self.lotc(&[
                "pegout",
                "request",
                "add",
                "--ref",
                &reference,
                "--btc-address",
                DEST[i].0,
                "--amount",
                amount,
                "--by",
                "carol",
            ])
            .ok();
            refs.push(reference);
        }
        let mut args = vec!["pegout", "request", "approve"];
        args.extend(refs.iter().map(String::as_str));
        args.extend(["--by", "erin"]);
        self.lotc(&args).ok();
        refs
    }

    fn run_args(&self) -> Vec<String> {
        [
            "--network",
            "regtest",
            "--esplora",
            &self.url,
            "--wallet",
            "alice",
            "--json",
            "--yes",
            "pegout",
            "run",
            "--by",
            "dave",
            "--passphrase-file",
            &self.sb.pass(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    fn run(&self) -> Run {
        let args = self.run_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.sb.run(&args)
    }

    /// `pegout run` aborted at crash point `point`, as a crash would.
    fn crash_run(&self, point: &str) -> std::process::Output {
        let args = self.run_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.sb
            .command(&args)
            .env("LIQUID_OTC_FAULT", point)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    /// The txids in the sandbox's mempool (Esplora's `/mempool/txids`).
    fn mempool(&self) -> Vec<String> {
        let (code, text) =
            regtest::control::request(&self.url, "GET", "/mempool/txids", None).unwrap();
        assert_eq!(code, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    fn status(&self, reference: &str) -> Value {
        self.lotc(&["--json", "pegout", "status", reference])
            .ok()
            .json()
    }

    /// The peg-outs on the chain (txid, amount, script hex), sorted.
    fn chain_pegouts(&self) -> Vec<(String, u64, String)> {
        let mut out: Vec<_> = self
            .node
            .pegouts()
            .into_iter()
            .map(|(t, _, a, s)| (t.to_string(), a, regtest::hexutil::encode(&s)))
            .collect();
        out.sort();
        out
    }

    /// Mines, syncs, and checks that every request of `refs` is confirmed and paid exactly
    /// once on the chain (one peg-out of its amount to its script, in the transaction the
    /// queue names), and that nothing else was pegged out.
    fn assert_each_paid_once(&self, refs: &[String]) {
        self.node.mine(1).unwrap();
        self.lotc(&["--json", "sync"]).ok();
        let chain = self.chain_pegouts();
        assert_eq!(chain.len(), refs.len(), "peg-outs on the chain: {chain:?}");
        for (i, r) in refs.iter().enumerate() {
            let st = self.status(r);
            assert_eq!(st["status"], "confirmed", "{r}: {st}");
            let txid = st["txid"].as_str().unwrap();
            let paying: Vec<_> = chain
                .iter()
                .filter(|(_, amount, script)| {
                    *amount == st["amount"].as_u64().unwrap() && script == DEST[i % 3].1
                })
                .collect();
            assert_eq!(
                paying.len(),
                1,
                "{r} paid {} times: {chain:?}",
                paying.len()
            );
            assert_eq!(paying[0].0, txid, "{r}");
        }
    }
}

fn aborted(out: &std::process::Output, point: &str) {
    crate::common::assert_aborted(
        &out.status,
        &format!("pegout run at {point}"),
        &String::from_utf8_lossy(&out.stderr),
    );
}

#[test]
fn a_crash_at_each_step_of_a_run_and_a_rerun_pay_each_request_once() {
    let points = [
        ("commit.before_record", "approved", false),
        ("commit.after_record", "signed", false),
        ("commit.after_broadcast", "signed", true),
        ("pegout.before_mark_broadcast", "signed", true),
        ("pegout.after_mark_broadcast", "broadcast", true),
    ];
    for (point, status_after, in_mempool) in points {
        let desk = Desk::new();
        let refs = desk.queue("T");
        aborted(&desk.crash_run(point), point);
        for r in &refs {
            assert_eq!(
                desk.lotc(&["--json", "pegout", "request", "show", r])
                    .ok()
                    .json()["status"],
                status_after,
                "{point}: {r}"
            );
        }
        assert_eq!(desk.mempool().len(), usize::from(in_mempool), "{point}");
        // The rerun finishes the recorded transaction; it never builds a second one.
        let doc = desk.run().ok().json();
        let paid = doc["paid"].as_array().unwrap().len();
        if point == "commit.before_record" {
            assert_eq!(paid, 3, "{point}: nothing was recorded, so the rerun pays");
        } else {
            assert_eq!(paid, 0, "{point}: {doc}");
        }
        if point == "commit.after_record" {
            assert_eq!(doc["resumed"][0]["action"], "rebroadcast", "{doc}");
        }
        desk.assert_each_paid_once(&refs);
        // A third run finds nothing to do.
        let doc = desk.run().ok().json();
        assert!(doc["paid"].as_array().unwrap().is_empty(), "{point}: {doc}");
        assert!(
            doc["resumed"].as_array().unwrap().is_empty(),
            "{point}: {doc}"
        );
    }
}

#[test]
fn a_second_run_is_refused_while_one_holds_the_wallet() {
    let desk = Desk::new();
    let refs = desk.queue("T");
    // Hold the wallet's spending lock as a run in progress does.
    let lock_path = desk.sb.home().join("regtest/alice/spend.lock");
    let lock = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .unwrap();
    lock.lock().unwrap();
    desk.run()
        .fails_json(1, "wallet_busy", "wallet 'alice' is busy");
    assert!(desk.mempool().is_empty());
    drop(lock);
    desk.run().ok();
    desk.assert_each_paid_once(&refs);
}

#[test]
fn two_runs_at_once_make_one_transaction() {
    let desk = Desk::new();
    desk.fund("alice", COIN);
    let mut all = Vec::new();
    for round in ["A", "B", "C"] {
        let refs = desk.queue(round);
        let args = desk.run_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let spawn = || {
            desk.sb
                .command(&args)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        };
        let (one, two) = (spawn(), spawn());
        let mut paid = 0;
        for child in [one, two] {
            let run = crate::common::Run::of(child.wait_with_output().unwrap());
            // Each run pays, or finds the wallet busy: nothing else.
            match run.code {
                0 => paid += run.json()["paid"].as_array().unwrap().len(),
                1 => {
                    run.fails_json(1, "wallet_busy", "wallet 'alice' is busy");
                }
                other => panic!("round {round}: exit {other}: {}", run.stderr),
            }
        }
        assert_eq!(paid, 3, "round {round}: the requests are paid by one run");
        assert_eq!(desk.mempool().len(), 1, "round {round}");
        all.extend(refs);
        desk.assert_each_paid_once(&all);
    }
}

#[test]
fn abandon_needs_a_transaction_nobody_knows_and_the_next_run_conflicts_with_it() {
    let desk = Desk::new();
    // A second coin, so that the run after the abandon could avoid the first one.
    desk.fund("alice", COIN);
    let refs = desk.queue("T");
    aborted(
        &desk.crash_run("commit.after_record"),
        "commit.after_record",
    );
    let old = desk.lotc(&["--json", "pegout", "status"]).ok().json()["transactions"][0]["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_hex = desk.lotc(&["--json", "tx", "pending"]).ok().json()[0]["hex"]
        .as_str()
        .unwrap()
        .to_owned();
    // Without --yes and without a terminal, nothing happens.
    desk.lotc(&["pegout", "abandon", &old, "--by", "dave"])
        .fails(
            2,
            "needs a confirmation, and there is no terminal to ask on",
        )
        .fails(2, "hint: pass --yes to confirm from a script");
    let doc = desk
        .lotc(&["--json", "--yes", "pegout", "abandon", &old, "--by", "dave"])
        .ok()
        .json();
    assert_eq!(doc["requeued"], serde_json::json!(refs));
    let shown = desk
        .lotc(&["--json", "pegout", "request", "show", "T-1"])
        .ok()
        .json();
    assert_eq!(shown["status"], "approved");
    let last = shown["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "requeued");
    assert_eq!(last["actor"], "dave");
    // A second abandon changes nothing.
    desk.lotc(&["--yes", "pegout", "abandon", &old, "--by", "dave"])
        .fails(3, "already abandoned");
    // The next run spends one of the abandoned transaction's inputs.
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 3);
    let pinned = doc["pinned"].as_array().unwrap();
    assert_eq!(pinned.len(), 1, "{doc}");
    let old_tx: elements::Transaction =
        elements::encode::deserialize(&regtest::hexutil::decode(&old_hex).unwrap()).unwrap();
    let new_txid: elements::Txid = doc["txid"].as_str().unwrap().parse().unwrap();
    let new_tx = desk.node.get_tx(&new_txid).unwrap();
    assert!(new_tx.input.iter().any(|i| old_tx
        .input
        .iter()
        .any(|o| o.previous_output == i.previous_output)));
    // So the old transaction, if anyone still had it, can no longer enter the chain.
    let refused = desk.node.broadcast(old_tx.clone()).unwrap_err();
    assert!(
        matches!(&refused, regtest::Error::Rejected(m) if m.ends_with("-26: txn-mempool-conflict")),
        "{refused:?}"
    );
    desk.assert_each_paid_once(&refs);
    let refused = desk.node.broadcast(old_tx).unwrap_err();
    assert!(
        matches!(&refused, regtest::Error::Rejected(m) if m.ends_with("-25: bad-txns-inputs-missingorspent")),
        "{refused:?}"
    );

    // A transaction the server knows cannot be abandoned.
    let more = desk.queue("U");
    let doc = desk.run().ok().json();
    let live = doc["txid"].as_str().unwrap().to_owned();
    let run = desk.lotc(&[
        "--json", "--yes", "pegout", "abandon", &live, "--by", "dave",
    ]);
    run.fails_json(
        3,
        "refused",
        "it can still confirm, so its requests stay with it",
    );
    let mut all = refs.clone();
    all.extend(more);
    desk.assert_each_paid_once(&all);
    // Nor a txid that is not the desk's.
    desk.lotc(&[
        "--yes",
        "pegout",
        "abandon",
        &"ab".repeat(32),
        "--by",
        "dave",
    ])
    .fails(1, "not a peg-out transaction");
}

#[test]
fn a_conflicting_spend_puts_the_requests_back_and_they_are_paid_once() {
    let desk = Desk::new();
    let refs = desk.queue("T");
    aborted(
        &desk.crash_run("commit.after_record"),
        "commit.after_record",
    );
    // The same keys in another wallet spend every coin elsewhere (as a restored copy, or
    // another instance of the desk's wallet, could): the recorded transaction can never
    // confirm.
    desk.sb.restore("copy", ABANDON);
    desk.sb.restore("bob", OTHER);
    let bob = desk
        .lotc_as("bob", &["--json", "address", "new"])
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let pass = desk.sb.pass();
    desk.lotc_as(
        "copy",
        &[
            "--yes",
            "send",
            "--drain",
            "--to",
            &bob,
            "--passphrase-file",
            &pass,
        ],
    )
    .ok();
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        let shown = desk
            .lotc(&["--json", "pegout", "request", "show", r])
            .ok()
            .json();
        assert_eq!(shown["status"], "approved", "{r}: {shown}");
        let last = shown["events"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["kind"], "requeued");
        assert_eq!(last["actor"], "sync");
        assert!(
            last["detail"].as_str().unwrap().contains("conflict"),
            "{last}"
        );
    }
    desk.fund("alice", COIN);
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 3);
    assert!(doc["pinned"].as_array().unwrap().is_empty());
    desk.assert_each_paid_once(&refs);
}

#[test]
fn a_refused_batch_stays_signed_until_abandoned() {
    // config.json says the chain relays several data outputs; this chain does not (as an
    // elementsd started without -multi_data_permitted=1): the server refuses the batch.
    let sb = Sandbox::new();
    let node = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
    std::fs::write(
        sb.home().join("config.json"),
        "{\"regtest\":{\"multi_data_permitted\":true}}\n",
    )
    .unwrap();
    sb.restore("alice", ABANDON);
    let desk = Desk {
        url: node.esplora_url(),
        sb,
        node,
    };
    desk.fund("alice", COIN);
    let refs = desk.queue("T");
    let err = desk
        .run()
        .fails_json(1, "broadcast_rejected", "multi-op-return")
        .json_error();
    assert!(
        err["hints"][0].as_str().unwrap().contains("pegout abandon"),
        "{err}"
    );
    let shown = desk
        .lotc(&["--json", "pegout", "request", "show", "T-1"])
        .ok()
        .json();
    assert_eq!(shown["status"], "signed");
    assert_eq!(
        shown["events"].as_array().unwrap().last().unwrap()["kind"],
        "broadcast_failed"
    );
    // A rerun sends the same transaction again, refused again: it builds nothing new and
    // fails with the server's reason, the stuck requests and what to do.
    let before = desk.mempool();
    let run = desk
        .run()
        .fails_json(1, "broadcast_rejected", "multi-op-return");
    let err = run.json_error();
    let message = err["message"].as_str().unwrap();
    assert!(message.contains("T-1, T-2, T-3"), "{err}");
    assert!(message.contains("stay signed"), "{err}");
    let old = desk.pending_txids()[0].clone();
    assert!(message.contains(&old), "{err}");
    assert!(
        err["hints"][0]
            .as_str()
            .unwrap()
            .contains(&format!("pegout abandon {old}")),
        "{err}"
    );
    assert_eq!(desk.mempool(), before);
    assert_eq!(
        desk.lotc(&["--json", "pegout", "request", "show", "T-2"])
            .ok()
            .json()["status"],
        "signed"
    );
    desk.lotc(&["--yes", "pegout", "abandon", &old, "--by", "dave"])
        .ok();
    // One peg-out per transaction now. The first run spends the refused batch's coin; the
    // batch could still confirm on a chain that relays it until that run confirms, so the
    // next run waits for it (exit 3), then pays the next request.
    std::fs::write(desk.sb.home().join("config.json"), "{}\n").unwrap();
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["pinned"].as_array().unwrap().len(), 1, "{doc}");
    desk.run()
        .fails_json(3, "earlier_tx", "could still confirm")
        .fails(3, &old);
    for _ in 0..2 {
        desk.node.mine(1).unwrap();
        let doc = desk.run().ok().json();
        assert_eq!(doc["paid"].as_array().unwrap().len(), 1, "{doc}");
    }
    desk.assert_each_paid_once(&refs);
}

#[test]
fn a_reorganisation_is_followed_and_a_lost_transaction_is_sent_again() {
    let desk = Desk::new();
    let refs = desk.queue("T");
    desk.run().ok();
    desk.assert_each_paid_once(&refs);
    let txid = desk.status("T-1")["txid"].as_str().unwrap().to_owned();
    // Its block leaves the best chain and the new branch mines it again.
    desk.node.reorg(1, true).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        let st = desk.status(r);
        assert_eq!(st["status"], "confirmed", "{st}");
        assert_eq!(st["txid"], txid);
    }
    // Now a reorganisation drops it from every block and mempool (a conflicting branch
    // won): its requests are no longer confirmed, the desk still holds the transaction, and
    // the next run records it again and sends the same transaction.
    let height = desk.status("T-1")["height"].as_u64().unwrap() as u32;
    desk.node
        .reorg(desk.node.tip_height() - height + 1, false)
        .unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    let shown = desk
        .lotc(&["--json", "pegout", "request", "show", "T-2"])
        .ok()
        .json();
    assert_eq!(shown["status"], "broadcast", "{shown}");
    assert_eq!(shown["height"], Value::Null);
    let last = shown["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "unconfirmed", "{last}");
    assert!(desk.mempool().is_empty());
    let doc = desk.run().ok().json();
    assert_eq!(doc["resumed"][0]["action"], "rerecorded", "{doc}");
    assert_eq!(doc["resumed"][0]["txid"], txid);
    assert!(doc["paid"].as_array().unwrap().is_empty());
    assert_eq!(desk.mempool(), vec![txid.clone()]);
    desk.assert_each_paid_once(&refs);
    assert_eq!(desk.status("T-3")["txid"], txid);
}

// ---------------------------------------------------------------------------------------
// Paid at most once, ever: every transaction ever recorded for a request counts until it is
// dead, whatever the desk said about it (issue: an abandoned transaction that confirms later,
// or that wins against its pinned replacement, paid its customers a second time).

impl Desk {
    /// `pegout run` with extra arguments (`--max`, `--dry-run`).
    fn run_with(&self, extra: &[&str]) -> Run {
        let mut args = self.run_args();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.sb.run(&args)
    }

    /// `pegout run` (with `extra`) aborted right after it recorded its transaction, as if a
    /// proxy had dropped its POST /tx: the requests stay signed. Returns the recorded
    /// transaction.
    fn lost_run(&self, extra: &[&str]) -> elements::Transaction {
        let before: Vec<String> = self.pending_txids();
        let mut args = self.run_args();
        args.extend(extra.iter().map(|s| s.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self
            .sb
            .command(&args)
            .env("LIQUID_OTC_FAULT", "commit.after_record")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        aborted(&out, "commit.after_record");
        let pending = self.lotc(&["--json", "tx", "pending"]).ok().json();
        let new: Vec<&Value> = pending
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| !before.iter().any(|t| p["txid"] == t.as_str()))
            .collect();
        assert_eq!(new.len(), 1, "one new recorded transaction: {pending}");
        let hex = new[0]["hex"].as_str().unwrap();
        elements::encode::deserialize(&regtest::hexutil::decode(hex).unwrap()).unwrap()
    }

    fn pending_txids(&self) -> Vec<String> {
        self.lotc(&["--json", "tx", "pending"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["txid"].as_str().unwrap().to_owned())
            .collect()
    }

    fn abandon(&self, txid: &elements::Txid) -> Value {
        self.lotc(&[
            "--json",
            "--yes",
            "pegout",
            "abandon",
            &txid.to_string(),
            "--by",
            "dave",
        ])
        .ok()
        .json()
    }

    /// The wallet's L-BTC (confirmed + unconfirmed) after a sync.
    fn lbtc(&self) -> u64 {
        let doc = self.lotc(&["--json", "balance"]).ok().json();
        let (c, u) = crate::common::balance_of(&doc, &self.node.policy_asset().to_string());
        c + u
    }
}

/// The explicit fee of `tx`.
fn fee_of(tx: &elements::Transaction) -> u64 {
    tx.output
        .iter()
        .filter(|o| o.is_fee())
        .map(|o| o.value.explicit().unwrap())
        .sum()
}

fn shown(desk: &Desk, reference: &str) -> Value {
    desk.lotc(&["--json", "pegout", "request", "show", reference])
        .ok()
        .json()
}

/// Asserts that `reference` is `status` by transaction `txid` (its last event says so), and
/// that an event of sync mentions `needle`.
fn paid_by(desk: &Desk, reference: &str, status: &str, txid: &elements::Txid, needle: &str) {
    let doc = shown(desk, reference);
    assert_eq!(doc["status"], status, "{reference}: {doc}");
    assert_eq!(doc["txid"], txid.to_string(), "{reference}: {doc}");
    assert!(doc["vout"].is_u64(), "{reference}: {doc}");
    assert_eq!(doc["height"].is_u64(), status == "confirmed", "{doc}");
    let events = doc["events"].as_array().unwrap();
    let last = events.last().unwrap();
    assert_eq!(last["kind"], status, "{reference}: {last}");
    assert_eq!(last["txid"], txid.to_string(), "{reference}: {last}");
    assert!(
        events
            .iter()
            .any(|e| e["actor"] == "sync" && e["detail"].as_str().unwrap().contains(needle)),
        "{reference}: no event says {needle:?}: {doc}"
    );
}

#[test]
fn an_abandoned_transaction_that_confirms_later_is_the_payment() {
    let desk = Desk::new();
    let refs = desk.queue("D");
    let a = desk.lost_run(&[]);
    let doc = desk.abandon(&a.txid());
    assert_eq!(doc["requeued"], serde_json::json!(refs));
    // Anyone holding the raw transaction can still broadcast it.
    desk.node.broadcast(a.clone()).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        paid_by(&desk, r, "broadcast", &a.txid(), "abandoned transaction");
    }
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        paid_by(
            &desk,
            r,
            "confirmed",
            &a.txid(),
            "is in the server's mempool after all",
        );
    }
    // Nothing is left to pay, dry or not.
    let dry = desk.run_with(&["--dry-run"]).ok().json();
    assert!(dry["paid"].as_array().unwrap().is_empty(), "{dry}");
    let doc = desk.run().ok().json();
    assert!(doc["paid"].as_array().unwrap().is_empty(), "{doc}");
    desk.assert_each_paid_once(&refs);
    // The wallet counts the transaction it abandoned and the chain took.
    let pegged: u64 = a
        .output
        .iter()
        .filter(|o| o.script_pubkey.is_op_return() && !o.is_fee())
        .filter_map(|o| o.value.explicit())
        .sum();
    assert_eq!(desk.lbtc(), COIN - pegged - fee_of(&a));
}

#[test]
fn an_abandoned_transaction_that_beats_its_pinned_replacement_is_the_payment() {
    let desk = Desk::new();
    let refs = desk.queue("D");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    // The next run pins one of A's inputs, and its broadcast is lost too.
    let b = desk.lost_run(&[]);
    assert!(b.input.iter().any(|i| a
        .input
        .iter()
        .any(|o| o.previous_output == i.previous_output)));
    // A wins the race.
    desk.node.broadcast(a.clone()).unwrap();
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        paid_by(&desk, r, "confirmed", &a.txid(), "confirmed after all");
    }
    let doc = desk.run().ok().json();
    assert!(doc["paid"].as_array().unwrap().is_empty(), "{doc}");
    assert!(doc["resumed"].as_array().unwrap().is_empty(), "{doc}");
    desk.assert_each_paid_once(&refs);
    let refused = desk.node.broadcast(b).unwrap_err();
    assert!(
        matches!(&refused, regtest::Error::Rejected(m) if m.contains("missingorspent")),
        "{refused:?}"
    );
}

#[test]
fn a_batch_abandoned_and_partly_paid_again_is_paid_once() {
    // The abandoned batch wins against the run that paid its first request again.
    let desk = Desk::new();
    let refs = desk.queue("D");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    let b = desk.lost_run(&["--max", "1"]);
    desk.node.broadcast(a.clone()).unwrap();
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        paid_by(&desk, r, "confirmed", &a.txid(), "confirmed after all");
    }
    assert!(desk.run().ok().json()["paid"]
        .as_array()
        .unwrap()
        .is_empty());
    desk.assert_each_paid_once(&refs);
    assert!(desk.node.broadcast(b).is_err());

    // The run that pays the first request again wins: the others wait until it confirms
    // (only then can the abandoned batch never confirm), then are paid once.
    let desk = Desk::new();
    desk.fund("alice", COIN);
    let refs = desk.queue("E");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    let doc = desk.run_with(&["--max", "1"]).ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 1, "{doc}");
    assert_eq!(doc["pinned"].as_array().unwrap().len(), 1, "{doc}");
    let b = doc["txid"].as_str().unwrap().to_owned();
    let before = desk.mempool();
    desk.run()
        .fails_json(3, "earlier_tx", "could still confirm")
        .fails(3, &a.txid().to_string())
        .fails(3, &b);
    assert_eq!(desk.mempool(), before, "nothing new was sent");
    assert_eq!(shown(&desk, "E-2")["status"], "approved");
    desk.node.mine(1).unwrap();
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 2, "{doc}");
    desk.assert_each_paid_once(&refs);
    let refused = desk.node.broadcast(a).unwrap_err();
    assert!(
        matches!(&refused, regtest::Error::Rejected(m) if m.contains("missingorspent")),
        "{refused:?}"
    );
}

#[test]
fn after_a_reorganisation_resume_sends_parents_before_children() {
    let desk = Desk::new();
    // One peg-out per transaction: three runs make a chain (each spends the last change).
    std::fs::write(desk.sb.home().join("config.json"), "{}\n").unwrap();
    let refs = desk.queue("R");
    let mut txids = Vec::new();
    for _ in 0..3 {
        let doc = desk.run().ok().json();
        txids.push(doc["txid"].as_str().unwrap().to_owned());
    }
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    // A reorganisation drops all three from every block and mempool.
    desk.node.reorg(1, false).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    assert!(desk.mempool().is_empty());
    let doc = desk.run().ok().json();
    let resumed: Vec<&str> = doc["resumed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            assert_eq!(r["action"], "rerecorded", "{doc}");
            r["txid"].as_str().unwrap()
        })
        .collect();
    assert_eq!(resumed, txids, "parents first: {doc}");
    assert_eq!(desk.mempool().len(), 3);
    desk.assert_each_paid_once(&refs);
}

// ---------------------------------------------------------------------------------------
// The re-audit: a spend one block deep that a reorganisation undoes, an earlier transaction
// spending a dead parent's change, and one undecided request holding back the queue.

/// A proxy on 127.0.0.1 in front of the sandbox's Esplora that loses every broadcast: it
/// answers each `POST .../tx` with 503 (the wallet cannot tell whether it reached the
/// network) and forwards everything else, one request per connection. Returns its URL.
fn losing_proxy(upstream: &str) -> String {
    use std::net::TcpListener;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let upstream = upstream.clone();
            std::thread::spawn(move || {
                let _ = proxy_one(conn, &upstream);
            });
        }
    });
    url
}

fn proxy_one(mut client: std::net::TcpStream, upstream: &str) -> std::io::Result<()> {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut reader = BufReader::new(client.try_clone()?);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(());
    }
    let mut headers = Vec::new();
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        let lower = h.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        if !lower.starts_with("connection:") {
            headers.push(h);
        }
    }
    let mut body = vec![0; len];
    reader.read_exact(&mut body)?;
    let path = line.split(' ').nth(1).unwrap_or("");
    if line.starts_with("POST ") && path.ends_with("/tx") {
        client.write_all(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nlost",
        )?;
        return Ok(());
    }
    let mut up = std::net::TcpStream::connect(upstream)?;
    up.write_all(line.as_bytes())?;
    for h in &headers {
        up.write_all(h.as_bytes())?;
    }
    up.write_all(b"Connection: close\r\n\r\n")?;
    up.write_all(&body)?;
    std::io::copy(&mut up, &mut client)?;
    Ok(())
}

impl Desk {
    /// The sandbox's `sandbox faucet`: pays `sat` to a new address of `wallet`, unmined.
    fn faucet_unmined(&self, wallet: &str, sat: u64) -> elements::Txid {
        let doc = self
            .lotc_as(wallet, &["--json", "address", "new"])
            .ok()
            .json();
        let address: elements::Address = doc["address"].as_str().unwrap().parse().unwrap();
        self.node.faucet(&address, sat, None).unwrap()
    }

    /// Alice's own `send` of `amount` (or everything with `None`) to bob, in the mempool.
    fn send_to_bob(&self, amount: Option<&str>) -> elements::Txid {
        self.sb.restore("bob", OTHER);
        let bob = self
            .lotc_as("bob", &["--json", "address", "new"])
            .ok()
            .json()["address"]
            .as_str()
            .unwrap()
            .to_owned();
        let pass = self.sb.pass();
        let to = match amount {
            Some(a) => format!("{bob}:{a}"),
            None => bob,
        };
        let mut args = vec!["--json", "--yes", "send", "--to", &to];
        if amount.is_none() {
            args.push("--drain");
        }
        args.extend(["--passphrase-file", &pass]);
        let doc = self.lotc(&args).ok().json();
        doc["txid"].as_str().unwrap().parse().unwrap()
    }
}

#[test]
fn a_spend_one_block_deep_does_not_free_an_abandoned_transactions_requests() {
    // A (abandoned) spends the wallet's only coin c0; the wallet's own send S spends c0 too,
    // with no change, and confirms in the block that also brings a new coin. Before S is
    // two blocks deep, a reorganisation can drop it and let A confirm: a run must not pay
    // A's requests again from the new coin, but make them wait.
    let desk = Desk::new();
    let refs = desk.queue("S");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    let s = desk.send_to_bob(None);
    desk.faucet_unmined("alice", COIN);
    desk.node.mine(1).unwrap();
    let run = desk
        .run()
        .fails_json(3, "earlier_tx", "could still confirm");
    let err = run.json_error();
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .contains("3 approved request(s) wait"),
        "{err}"
    );
    assert!(
        err["hints"].as_array().unwrap().iter().any(|h| {
            let h = h.as_str().unwrap();
            h.starts_with("S-1: ")
                && h.contains(&s.to_string())
                && h.contains(&a.txid().to_string())
                && h.contains("2 blocks deep")
        }),
        "{err}"
    );
    // Text mode lists each waiting request with its reason.
    desk.lotc(&[
        "--yes",
        "pegout",
        "run",
        "--by",
        "dave",
        "--passphrase-file",
        &desk.sb.pass(),
    ])
    .fails(3, "S-2 (0.10000083 BTC) waits: earlier transaction")
    .fails(3, &format!("wait for transaction {s} to be 2 blocks deep"));
    assert!(desk.mempool().is_empty(), "nothing was sent");
    // The reorganisation: S leaves the chain and A, which anyone may hold, confirms.
    desk.node.reorg(1, false).unwrap();
    desk.node.broadcast(a.clone()).unwrap();
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    let doc = desk.run().ok().json();
    assert!(doc["paid"].as_array().unwrap().is_empty(), "{doc}");
    desk.assert_each_paid_once(&refs);
}

#[test]
fn a_spend_two_blocks_deep_frees_an_abandoned_transactions_requests() {
    let desk = Desk::new();
    let refs = desk.queue("S");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    desk.send_to_bob(None);
    desk.faucet_unmined("alice", COIN);
    desk.node.mine(1).unwrap();
    desk.run()
        .fails_json(3, "earlier_tx", "could still confirm");
    desk.node.mine(1).unwrap();
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 3, "{doc}");
    assert!(doc["pinned"].as_array().unwrap().is_empty(), "{doc}");
    desk.assert_each_paid_once(&refs);
}

#[test]
fn a_spend_with_change_one_block_deep_is_pinned_through_its_change() {
    // S spends A's coin and pays the wallet change: the new transaction B spends that
    // change, so a reorganisation that drops S drops B too, and A alone pays.
    let desk = Desk::new();
    let refs = desk.queue("S");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    let s = desk.send_to_bob(Some("0.1"));
    desk.faucet_unmined("alice", COIN);
    desk.node.mine(1).unwrap();
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 3, "{doc}");
    let pinned = doc["pinned"].as_array().unwrap();
    assert_eq!(pinned.len(), 1, "{doc}");
    assert!(
        pinned[0].as_str().unwrap().starts_with(&format!("{s}:")),
        "{doc}"
    );
    let b: elements::Txid = doc["txid"].as_str().unwrap().parse().unwrap();
    desk.node.mine(1).unwrap();
    let b_tx = desk.node.get_tx(&b).unwrap();
    // A reorganisation of two blocks drops S and B; A is pushed and confirms; B cannot.
    desk.node.reorg(2, false).unwrap();
    desk.node.broadcast(a.clone()).unwrap();
    let refused = desk.node.broadcast(b_tx).unwrap_err();
    assert!(
        matches!(&refused, regtest::Error::Rejected(m) if m.contains("missingorspent")),
        "{refused:?}"
    );
    desk.node.mine(1).unwrap();
    desk.lotc(&["--json", "sync"]).ok();
    for r in &refs {
        paid_by(&desk, r, "confirmed", &a.txid(), "confirmed after all");
    }
    desk.assert_each_paid_once(&refs);
}

#[test]
fn an_earlier_transaction_on_a_dead_parents_change_is_dead_too() {
    let desk = Desk::new();
    let refs = desk.queue("P");
    // P pays P-1 and is lost.
    let p = desk.lost_run(&["--max", "1"]);
    // A second run, through a proxy that loses broadcasts, pays P-2 with P's change.
    let proxy = losing_proxy(&desk.url);
    let mut args = desk.run_args();
    let at = args.iter().position(|a| a == &desk.url).unwrap();
    args[at] = proxy;
    args.extend(["--max".to_owned(), "1".to_owned()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = desk.sb.run(&args);
    assert_ne!(run.code, 0, "{}", run.stderr);
    let live = desk.lotc(&["--json", "pegout", "status"]).ok().json();
    let a = live["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["txid"] != p.txid().to_string())
        .unwrap()["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    let a_tx = desk.node.get_tx(&a.parse().unwrap());
    assert!(a_tx.is_none(), "A never reached the sandbox");
    assert!(desk.mempool().is_empty());
    // Abandoning P puts P-1 and P-2 back.
    let doc = desk.abandon(&p.txid());
    assert_eq!(doc["requeued"], serde_json::json!(["P-1", "P-2"]), "{doc}");
    // P-1 is paid again, spending P's input, and confirms: P, and so A, can never confirm.
    let doc = desk.run_with(&["--max", "1"]).ok().json();
    assert_eq!(doc["paid"][0]["ref"], "P-1", "{doc}");
    desk.node.mine(2).unwrap();
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 2, "{doc}");
    desk.assert_each_paid_once(&refs);
}

#[test]
fn an_undecided_request_waits_and_the_others_are_paid() {
    // E-1's earlier transaction could still confirm (its coin is spent only by a run in the
    // mempool); the requests queued after it are paid all the same.
    let desk = Desk::new();
    desk.fund("alice", COIN);
    let refs = desk.queue("E");
    let a = desk.lost_run(&[]);
    desk.abandon(&a.txid());
    desk.run_with(&["--max", "1"]).ok();
    let more = desk.queue("F");
    let doc = desk.run().ok().json();
    let paid: Vec<&str> = doc["paid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ref"].as_str().unwrap())
        .collect();
    assert_eq!(paid, ["F-1", "F-2", "F-3"], "{doc}");
    let waiting = doc["waiting"].as_array().unwrap();
    assert_eq!(waiting.len(), 2, "{doc}");
    for w in waiting {
        assert_eq!(w["reason"], "earlier_tx", "{doc}");
        assert!(
            w["why"].as_str().unwrap().contains(&a.txid().to_string()),
            "{doc}"
        );
    }
    desk.node.mine(1).unwrap();
    let doc = desk.run().ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 2, "{doc}");
    let mut all = refs.clone();
    all.extend(more);
    desk.assert_each_paid_once(&all);
}
