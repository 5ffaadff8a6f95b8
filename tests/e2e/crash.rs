//! Crash safety at every write point of a commit (sign, record, broadcast, mark), for a
//! payment, a PSET broadcast and an issuance: the process is aborted there (the crash points
//! exist only in test builds, `LIQUID_OTC_FAULT`), the user recovers with the documented
//! command, and the chain shows the payment exactly once with nothing lost.

use crate::common::scene::{Scene, COIN};
use crate::common::ABANDON;

const BOB: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const POINTS: [&str; 3] = [
    "commit.before_record",
    "commit.after_record",
    "commit.after_broadcast",
];

/// alice with one confirmed coin of 1 L-BTC, and bob's address.
fn setup() -> (Scene, String) {
    let scene = Scene::new(&[("alice", ABANDON), ("bob", BOB)]);
    let address = scene.address("alice");
    scene.fund(&address, COIN);
    let bob = scene.address("bob");
    (scene, bob)
}

trait Recovery {
    fn pending_states(&self) -> Vec<(String, String)>;
    fn recover(&self, point: &str, again: impl Fn());
    fn bob_received(&self) -> (u64, usize);
}

impl Recovery for Scene {
    /// The recorded transactions not on the chain, with their states.
    fn pending_states(&self) -> Vec<(String, String)> {
        self.pending("alice")
            .iter()
            .map(|p| {
                (
                    p["txid"].as_str().unwrap().to_owned(),
                    p["state"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// Recovers as the user would after `point`: rebroadcast what is recorded and not yet
    /// accepted, or run the command again when nothing was recorded. Then mines.
    fn recover(&self, point: &str, again: impl Fn()) {
        match point {
            "commit.before_record" => {
                assert!(
                    self.pending_states().is_empty(),
                    "nothing recorded before the crash point"
                );
                again();
            }
            "commit.after_record" => {
                let pending = self.pending_states();
                assert_eq!(pending.len(), 1);
                assert_eq!(pending[0].1, "recorded", "signed, recorded, not broadcast");
                self.run("alice", &["tx", "rebroadcast", &pending[0].0], None)
                    .ok();
            }
            _ => {
                // The server has it; the wallet did not note it. A sync finds it.
                self.run("alice", &["sync"], None).ok();
                assert!(
                    self.pending_states().is_empty(),
                    "{:?}",
                    self.pending_states()
                );
            }
        }
        self.chain.mine(1).unwrap();
    }

    /// bob's confirmed L-BTC and the number of transactions paying him.
    fn bob_received(&self) -> (u64, usize) {
        let balance = self.run("bob", &["--json", "balance"], None).ok().json();
        let txs = self.run("bob", &["--json", "txs"], None).ok().json();
        (
            crate::common::balance_of(&balance, &self.chain.policy_asset().to_string()).0,
            txs.as_array().unwrap().len(),
        )
    }
}

#[test]
fn a_payment_survives_a_crash_at_every_write_point() {
    for point in POINTS {
        let (scene, bob) = setup();
        let pass = scene.sb.pass();
        let to = format!("{bob}:0.3");
        let args = ["--yes", "send", "--to", &to, "--passphrase-file", &pass];
        scene.crash("alice", point, &args, None);
        scene.recover(point, || {
            scene.run("alice", &args, None).ok();
        });
        assert_eq!(
            scene.bob_received(),
            (30_000_000, 1),
            "{point}: paid exactly once"
        );
        let alice = scene.run("alice", &["--json", "balance"], None).ok().json();
        let (confirmed, unconfirmed) =
            crate::common::balance_of(&alice, &scene.chain.policy_asset().to_string());
        assert_eq!(unconfirmed, 0, "{point}");
        assert!(
            confirmed > 69_000_000 && confirmed < 70_000_000,
            "{point}: the change is not lost: {confirmed}"
        );
    }
}

#[test]
fn a_pset_broadcast_survives_a_crash_at_every_write_point() {
    for point in POINTS {
        let (scene, bob) = setup();
        let pass = scene.sb.pass();
        let to = format!("{bob}:0.3");
        let created = scene
            .run("alice", &["pset", "create", "--to", &to], None)
            .ok()
            .stdout;
        let signed = scene
            .run(
                "alice",
                &["--yes", "pset", "sign", "-", "--passphrase-file", &pass],
                Some(&created),
            )
            .ok()
            .stdout;
        let args = ["pset", "broadcast", "-"];
        scene.crash("alice", point, &args, Some(&signed));
        scene.recover(point, || {
            scene.run("alice", &args, Some(&signed)).ok();
        });
        assert_eq!(
            scene.bob_received(),
            (30_000_000, 1),
            "{point}: paid exactly once"
        );
    }
}

#[test]
fn an_issuance_survives_a_crash_at_every_write_point() {
    for point in POINTS {
        let (scene, _) = setup();
        let pass = scene.sb.pass();
        let args = [
            "--yes",
            "--json",
            "asset",
            "issue",
            "--amount",
            "1000",
            "--token",
            "1",
            "--passphrase-file",
            &pass,
        ];
        scene.crash("alice", point, &args, None);
        if point != "commit.before_record" {
            // The issuance was recorded with its transaction: the wallet can name it.
            let listed = scene
                .run("alice", &["--json", "asset", "list"], None)
                .ok()
                .json();
            assert!(
                listed["assets"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|a| a["issued_by_wallet"] == true),
                "{point}: {listed}"
            );
        }
        scene.recover(point, || {
            scene.run("alice", &args, None).ok();
        });
        scene.run("alice", &["sync"], None).ok();
        let listed = scene
            .run("alice", &["--json", "asset", "list"], None)
            .ok()
            .json();
        let issued: Vec<_> = listed["assets"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["issued_by_wallet"] == true)
            .collect();
        assert_eq!(issued.len(), 1, "{point}: issued exactly once: {listed}");
        assert_eq!(issued[0]["confirmed"], 1000, "{point}");
    }
}
