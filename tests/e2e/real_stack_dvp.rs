//! A DvP deal on every chain: always on the embedded sandbox, and on a real elementsd +
//! electrs (liquidregtest) when `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC` are set (the
//! harness of `tests/e2e/common/real_stack.rs`). Maker and taker in separate data folders, the
//! envelope through pipes, over Esplora and over Electrum, each fee payer; then the
//! settlement is refused by the node when the taker cancelled first.

use crate::common::real_stack::{with_real_stack, Backend, TestChain, BACKENDS};
use crate::common::{Run, Sandbox as Home};
use elements::Address;
use serde_json::Value;

/// One desk: a data folder with one wallet, talking to `chain` through `backend`.
struct Desk<'a> {
    home: Home,
    name: &'static str,
    server: Vec<String>,
    chain: &'a dyn TestChain,
    backend: Backend,
}

impl<'a> Desk<'a> {
    fn new(chain: &'a dyn TestChain, backend: Backend, name: &'static str) -> Desk<'a> {
        let home = Home::new();
        let words = home.path("words");
        home.run(&[
            "--network",
            "regtest",
            "wallet",
            "create",
            "--name",
            name,
            "--passphrase-file",
            &home.pass(),
            "--mnemonic-out",
            words.to_str().unwrap(),
        ])
        .ok();
        Desk {
            home,
            name,
            server: backend.flags(chain),
            chain,
            backend,
        }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let server: Vec<&str> = self.server.iter().map(String::as_str).collect();
        self.home.on_server(&server, self.name, args, stdin)
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert_eq!(
            run.code,
            0,
            "{} {args:?} on {} over {:?}:\n{}\n{}",
            self.name,
            self.chain.label(),
            self.backend,
            run.stdout,
            run.stderr
        );
        run
    }

    fn address(&self) -> Address {
        let doc = self.ok(&["--json", "address", "new"], None).json();
        doc["address"].as_str().unwrap().parse().unwrap()
    }

    fn balance(&self, asset: &str) -> u64 {
        let doc = self.ok(&["--json", "balance"], None).json();
        let (c, u) = crate::common::balance_of(&doc, asset);
        c + u
    }

    fn deal(&self, id: &str) -> Value {
        self.ok(&["--json", "deal", "show", id], None).json()
    }
}

fn dvp_deal(chain: &dyn TestChain, backend: Backend) {
    let policy = chain.policy_asset().to_string();
    let maker = Desk::new(chain, backend, "exchange");
    let taker = Desk::new(chain, backend, "desk");
    let jpy = chain.issue(50_000_000).unwrap().asset;
    chain.mine(1).unwrap();
    chain.faucet(&maker.address(), 200_000_000, None).unwrap();
    chain
        .faucet(&taker.address(), 40_000_000, Some(jpy))
        .unwrap();
    chain.faucet(&taker.address(), 1_000_000, None).unwrap();
    chain.mine(1).unwrap();
    let jpy = jpy.to_string();
    let want = format!("15000000:{jpy}");
    let (maker_pass, taker_pass) = (maker.home.pass(), taker.home.pass());

    let mut taker_fees = 0u64;
    for payer in ["taker", "maker"] {
        let proposed = maker
            .ok(
                &[
                    "offer",
                    "create",
                    "--give",
                    "0.5:L-BTC",
                    "--want",
                    &want,
                    "--fee-payer",
                    payer,
                ],
                None,
            )
            .stdout;
        let accepted = taker
            .ok(
                &[
                    "--json",
                    "--yes",
                    "offer",
                    "accept",
                    "-",
                    "--passphrase-file",
                    &taker_pass,
                ],
                Some(&proposed),
            )
            .stdout;
        let fee = serde_json::from_str::<Value>(&accepted).unwrap()["fee"]
            .as_u64()
            .unwrap();
        let settled = maker
            .ok(
                &[
                    "--json",
                    "--yes",
                    "offer",
                    "settle",
                    "-",
                    "--passphrase-file",
                    &maker_pass,
                ],
                Some(&accepted),
            )
            .json();
        let id = settled["deal_id"].as_str().unwrap().to_string();
        chain.settle().unwrap();
        chain.mine(1).unwrap();
        maker.ok(&["sync"], None);
        taker.ok(&["sync"], None);
        assert_eq!(maker.deal(&id)["status"], "confirmed");
        assert_eq!(taker.deal(&id)["status"], "confirmed");
        if payer == "taker" {
            taker_fees += fee;
        } else {
            assert!(fee > 0);
            assert_eq!(maker.deal(&id)["fee_paid"], fee);
        }
    }
    let maker_fees: u64 = maker
        .ok(&["--json", "deal", "list"], None)
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["fee_paid"].as_u64().unwrap())
        .sum();
    assert_eq!(maker.balance(&jpy), 30_000_000);
    assert_eq!(maker.balance(&policy), 100_000_000 - maker_fees);
    assert_eq!(taker.balance(&jpy), 10_000_000);
    assert_eq!(taker.balance(&policy), 101_000_000 - taker_fees);

    // The taker cancels before the maker settles: the node refuses the settlement.
    let small = format!("1000000:{jpy}");
    let proposed = maker
        .ok(
            &["offer", "create", "--give", "0.5:L-BTC", "--want", &small],
            None,
        )
        .stdout;
    let accepted = taker
        .ok(
            &[
                "--yes",
                "offer",
                "accept",
                "-",
                "--passphrase-file",
                &taker_pass,
            ],
            Some(&proposed),
        )
        .stdout;
    let id = serde_json::from_str::<Value>(accepted.trim()).unwrap()["deal_id"]
        .as_str()
        .unwrap()
        .to_string();
    taker.ok(
        &[
            "--json",
            "--yes",
            "offer",
            "cancel",
            &id,
            "--passphrase-file",
            &taker_pass,
        ],
        None,
    );
    chain.settle().unwrap();
    let refused = maker.run(
        &[
            "--json",
            "--yes",
            "offer",
            "settle",
            "-",
            "--passphrase-file",
            &maker_pass,
        ],
        Some(&accepted),
    );
    refused
        .fails_json(1, "broadcast_rejected", "txn-mempool-conflict")
        .fails_json(
            1,
            "broadcast_rejected",
            "is recorded as failed and does not count",
        );
    assert_eq!(maker.deal(&id)["status"], "failed");
    chain.mine(1).unwrap();
    taker.ok(&["sync"], None);
    assert_eq!(taker.deal(&id)["status"], "cancelled");
}

#[test]
fn dvp_deal_on_the_embedded_chain() {
    let chain = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
    for backend in BACKENDS {
        dvp_deal(&chain, backend);
    }
}

#[test]
fn dvp_deal_on_the_real_stack() {
    with_real_stack("dvp_deal_on_the_real_stack", |stack| {
        for backend in BACKENDS {
            dvp_deal(stack, backend);
        }
    });
}
