//! Payments through the built binary against the embedded chain: send, the PSET pipeline
//! through pipes, crash safety between signing and broadcast, and bad input.

use std::process::Stdio;

use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const COIN: u64 = 100_000_000;

struct Chain {
    node: regtest::Sandbox,
    /// `--esplora URL` or `--electrum tcp://...`: the server the wallets talk to.
    server: Vec<String>,
}

impl Chain {
    fn start(electrum: bool) -> Chain {
        let node = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
        let server = if electrum {
            vec![
                "--electrum".to_string(),
                format!("tcp://{}", node.electrum_addr()),
            ]
        } else {
            vec!["--esplora".to_string(), node.esplora_url()]
        };
        Chain { node, server }
    }

    fn fund(&self, address: &str, sat: u64) {
        let address: elements::Address = address.parse().unwrap();
        self.node.faucet(&address, sat, None).unwrap();
        self.node.mine(1).unwrap();
    }

    fn server(&self) -> Vec<&str> {
        self.server.iter().map(String::as_str).collect()
    }
}

/// Runs the binary on regtest against `chain` as `wallet`.
fn lotc(sb: &Sandbox, chain: &Chain, wallet: &str, args: &[&str]) -> Run {
    sb.on_server(&chain.server(), wallet, args, None)
}

fn lotc_stdin(
    sb: &Sandbox,
    chain: &Chain,
    wallet: &str,
    args: &[&str],
    stdin: Option<&str>,
) -> Run {
    sb.on_server(&chain.server(), wallet, args, stdin)
}

fn new_address(sb: &Sandbox, chain: &Chain, wallet: &str) -> String {
    lotc(sb, chain, wallet, &["--json", "address", "new"])
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Confirmed and unconfirmed L-BTC of a wallet after a sync.
fn lbtc(sb: &Sandbox, chain: &Chain, wallet: &str) -> (u64, u64) {
    let doc = lotc(sb, chain, wallet, &["--json", "balance"]).ok().json();
    crate::common::balance_of(&doc, &chain.node.policy_asset().to_string())
}

/// Runs `send 0.3 to bob` as alice with the process aborted after the signed transaction is
/// recorded and before it is broadcast, as a crash would.
fn crash_send(sb: &Sandbox, chain: &Chain, to_bob: &str) -> std::process::Output {
    let to = format!("{to_bob}:0.3");
    let pass = sb.pass();
    let mut args = vec!["--network", "regtest"];
    args.extend(chain.server());
    args.extend([
        "--wallet",
        "alice",
        "--yes",
        "send",
        "--to",
        &to,
        "--passphrase-file",
        &pass,
    ]);
    sb.command(&args)
        .env("LIQUID_OTC_FAULT", "commit.after_record")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn setup() -> (Sandbox, Chain) {
    setup_on(false)
}

fn setup_on(electrum: bool) -> (Sandbox, Chain) {
    let sb = Sandbox::new();
    let chain = Chain::start(electrum);
    sb.restore("alice", ABANDON);
    sb.restore("bob", OTHER);
    let funding = new_address(&sb, &chain, "alice");
    chain.fund(&funding, COIN);
    (sb, chain)
}

#[test]
fn send_pays_and_both_wallets_see_it_over_esplora() {
    send_pays_and_both_wallets_see_it(false);
}

#[test]
fn send_pays_and_both_wallets_see_it_over_electrum() {
    send_pays_and_both_wallets_see_it(true);
}

fn send_pays_and_both_wallets_see_it(electrum: bool) {
    let (sb, chain) = setup_on(electrum);
    let to_bob = new_address(&sb, &chain, "bob");
    let sent = lotc(
        &sb,
        &chain,
        "alice",
        &[
            "--json",
            "--yes",
            "send",
            "--to",
            &format!("{to_bob}:0.25"),
            "--passphrase-file",
            &sb.pass(),
        ],
    )
    .ok()
    .json();
    let fee = sent["fee"].as_u64().unwrap();
    assert!(fee > 0 && fee < 1_000, "fee {fee}");
    let policy = chain.node.policy_asset().to_string();
    assert_eq!(sent["net"][&policy], -(25_000_000 + fee as i64));
    assert_eq!(sent["txid"].as_str().unwrap().len(), 64);

    // Unconfirmed on both sides, then confirmed.
    assert_eq!(lbtc(&sb, &chain, "bob"), (0, 25_000_000));
    chain.node.mine(1).unwrap();
    assert_eq!(lbtc(&sb, &chain, "bob"), (25_000_000, 0));
    assert_eq!(lbtc(&sb, &chain, "alice"), (COIN - 25_000_000 - fee, 0));

    // Bob sweeps everything back: one output, no change.
    let to_alice = new_address(&sb, &chain, "alice");
    let swept = lotc(
        &sb,
        &chain,
        "bob",
        &[
            "--json",
            "--yes",
            "send",
            "--drain",
            "--to",
            &to_alice,
            "--passphrase-file",
            &sb.pass(),
        ],
    )
    .ok()
    .json();
    let sweep_fee = swept["fee"].as_u64().unwrap();
    assert_eq!(swept["net"][&policy], -25_000_000);
    chain.node.mine(1).unwrap();
    assert_eq!(lbtc(&sb, &chain, "bob"), (0, 0));
    assert_eq!(
        lbtc(&sb, &chain, "alice"),
        (COIN - 25_000_000 - fee + 25_000_000 - sweep_fee, 0)
    );
}

#[test]
fn pset_pipeline_through_pipes() {
    let (sb, chain) = setup();
    let to_bob = new_address(&sb, &chain, "bob");
    let created = lotc(
        &sb,
        &chain,
        "alice",
        &["pset", "create", "--to", &format!("{to_bob}:0.1")],
    )
    .ok();

    // The view of the unsigned PSET: alice pays 0.1 plus the fee.
    let pset_text = created.stdout;
    let inspect = lotc_stdin(
        &sb,
        &chain,
        "alice",
        &["--json", "pset", "inspect", "-"],
        Some(&pset_text),
    )
    .ok()
    .json();
    let policy = chain.node.policy_asset().to_string();
    let fee = inspect["fee"].as_i64().unwrap();
    assert_eq!(inspect["net"][&policy], -(10_000_000 + fee));
    assert_eq!(inspect["wallet_pays_fee"], true);
    // Bob's view of the same PSET: he receives 0.1 and pays nothing.
    let bobs = lotc_stdin(
        &sb,
        &chain,
        "bob",
        &["--json", "pset", "inspect", "-"],
        Some(&pset_text),
    )
    .ok()
    .json();
    assert_eq!(bobs["net"][&policy], 10_000_000);
    assert_eq!(bobs["wallet_pays_fee"], false);
    // Bob cannot sign it: nothing in it is his.
    lotc_stdin(
        &sb,
        &chain,
        "bob",
        &[
            "--yes",
            "pset",
            "sign",
            "-",
            "--passphrase-file",
            &sb.pass(),
        ],
        Some(&pset_text),
    )
    .fails(
        3,
        "error: nothing to sign: no input of this PSET is this wallet's",
    );

    // send --pset-out writes the same kind of unsigned PSET to a new 0600 file.
    let out = sb.path("from-send.pset");
    lotc(
        &sb,
        &chain,
        "alice",
        &[
            "send",
            "--to",
            &format!("{to_bob}:0.05"),
            "--pset-out",
            out.to_str().unwrap(),
        ],
    )
    .ok();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let viewed = lotc(
        &sb,
        &chain,
        "alice",
        &["--json", "pset", "inspect", out.to_str().unwrap()],
    )
    .ok()
    .json();
    assert_eq!(
        viewed["net"][&policy],
        -(5_000_000 + viewed["fee"].as_i64().unwrap())
    );
    lotc(
        &sb,
        &chain,
        "alice",
        &[
            "send",
            "--to",
            &format!("{to_bob}:0.05"),
            "--pset-out",
            out.to_str().unwrap(),
        ],
    )
    .fails(
        2,
        "from-send.pset already exists; it will not be overwritten",
    );

    // create | sign - | broadcast -, as a shell pipeline would run it: each stage's stdout
    // piped to the next one's stdin.
    let pass = sb.pass();
    let signed = lotc_stdin(
        &sb,
        &chain,
        "alice",
        &["--yes", "pset", "sign", "-", "--passphrase-file", &pass],
        Some(&pset_text),
    )
    .ok();
    let sent = lotc_stdin(
        &sb,
        &chain,
        "alice",
        &["pset", "broadcast", "-"],
        Some(&signed.stdout),
    )
    .ok();
    let txid = sent.stdout.trim().to_string();
    assert_eq!(txid.len(), 64);
    chain.node.mine(1).unwrap();
    assert_eq!(lbtc(&sb, &chain, "bob"), (10_000_000, 0));
}

#[test]
fn a_crash_between_signing_and_broadcast_loses_nothing() {
    let (sb, chain) = setup_on(true);
    let to_bob = new_address(&sb, &chain, "bob");
    let crashed = crash_send(&sb, &chain, &to_bob);
    crate::common::assert_aborted(
        &crashed.status,
        "send at commit.after_record",
        &String::from_utf8_lossy(&crashed.stderr),
    );
    // Nothing reached the chain, but the wallet remembers the signed transaction.
    assert_eq!(lbtc(&sb, &chain, "bob"), (0, 0));
    let pending = lotc(&sb, &chain, "alice", &["--json", "tx", "pending"])
        .ok()
        .json();
    let pending = pending.as_array().unwrap();
    assert_eq!(pending.len(), 1);
    let txid = pending[0]["txid"].as_str().unwrap().to_string();
    // Its change is counted; the spent coin is not offered again.
    let (confirmed, unconfirmed) = lbtc(&sb, &chain, "alice");
    assert_eq!(confirmed, 0);
    assert!(unconfirmed > COIN - 30_000_000 - 1_000 && unconfirmed < COIN - 30_000_000);
    lotc(
        &sb,
        &chain,
        "alice",
        &[
            "--yes",
            "send",
            "--to",
            &format!("{to_bob}:0.9"),
            "--passphrase-file",
            &sb.pass(),
        ],
    )
    .fails(5, "error: insufficient funds: 0.9 L-BTC needed, ");

    let again = lotc(
        &sb,
        &chain,
        "alice",
        &["--json", "tx", "rebroadcast", &txid],
    )
    .ok()
    .json();
    assert_eq!(again["txid"], txid.as_str());
    chain.node.mine(1).unwrap();
    assert_eq!(lbtc(&sb, &chain, "bob"), (30_000_000, 0));
    lotc(&sb, &chain, "alice", &["sync"]).ok();
    let pending = lotc(&sb, &chain, "alice", &["--json", "tx", "pending"])
        .ok()
        .json();
    assert_eq!(
        pending.as_array().unwrap().len(),
        0,
        "confirmed: no longer pending"
    );
}

#[test]
fn forgetting_a_pending_transaction_frees_its_coins() {
    let (sb, chain) = setup();
    let to_bob = new_address(&sb, &chain, "bob");
    let crashed = crash_send(&sb, &chain, &to_bob);
    crate::common::assert_aborted(
        &crashed.status,
        "send at commit.after_record",
        &String::from_utf8_lossy(&crashed.stderr),
    );
    let pending = lotc(&sb, &chain, "alice", &["--json", "tx", "pending"])
        .ok()
        .json();
    let txid = pending[0]["txid"].as_str().unwrap().to_string();
    lotc(&sb, &chain, "alice", &["tx", "forget", &txid])
        .fails(
            2,
            "needs a confirmation, and there is no terminal to ask on",
        )
        .fails(2, "hint: pass --yes to confirm from a script");
    lotc(&sb, &chain, "alice", &["--yes", "tx", "forget", &txid]).ok();
    assert_eq!(lbtc(&sb, &chain, "alice"), (COIN, 0));
}

#[test]
fn bad_payments_fail_with_their_exit_codes() {
    let (sb, chain) = setup();
    let to_bob = new_address(&sb, &chain, "bob");
    let pass = sb.pass();
    let send = |to: String| -> Run {
        lotc(
            &sb,
            &chain,
            "alice",
            &["--yes", "send", "--to", &to, "--passphrase-file", &pass],
        )
    };
    send(format!("{to_bob}:2")).fails(
        5,
        "error: insufficient funds: 2.0 L-BTC needed, 1.0 L-BTC available",
    );
    send(format!("{to_bob}:0.000000001")).fails(
        2,
        "error: invalid amount '0.000000001': more than 8 decimals for an asset of precision 8",
    );
    send(format!("{to_bob}:999999999999"))
        .fails(2, "error: invalid amount '999999999999': too large");
    send(format!("{to_bob}:0.1:nonsense")).fails(
        2,
        "'nonsense' is not an asset id: assets are named by their 64-hex id (or L-BTC)",
    );
    // An asset the wallet does not hold (of unknown precision: base units).
    send(format!("{to_bob}:10:{}", "ab".repeat(32))).fails(5, "error: insufficient funds: 10 base units of asset abababababababababababababababababababababababababababababababab needed, 0 base units available");
    send(format!("{to_bob}:0.000001")).fails(2, " is dust: the smallest L-BTC output is 546 sat");
    send(to_bob.clone()).fails(2, " has no amount");
    let unconfidential = sb
        .run(&["--json", "address", "inspect", &to_bob])
        .ok()
        .json()["unconfidential"]
        .as_str()
        .unwrap()
        .to_string();
    send(format!("{unconfidential}:0.1"))
        .fails(
            2,
            "is unconfidential: the amount and asset paid to it become public",
        )
        .fails(2, "or pass --allow-unconfidential");
    if let Some(vectors) = crate::common::shared("vectors") {
        let text = std::fs::read_to_string(vectors.join("elip151.json")).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap();
        let mainnet = doc["valid"][0]["confidential_address"].as_str().unwrap();
        send(format!("{mainnet}:0.1"))
            .fails(
                2,
                &format!("error: --to: {mainnet} is an address of liquid, not of regtest"),
            )
            .fails(2, "hint: pass an address of regtest, or --network liquid");
    }
    // Without --yes and without a terminal: an error naming --yes, nothing sent.
    lotc(
        &sb,
        &chain,
        "alice",
        &[
            "send",
            "--to",
            &format!("{to_bob}:0.1"),
            "--passphrase-file",
            &pass,
        ],
    )
    .fails(
        2,
        "needs a confirmation, and there is no terminal to ask on",
    )
    .fails(2, "hint: pass --yes to confirm from a script");
    // Dry run: the plan, nothing signed, and no change index used up.
    let change_index = |sb: &Sandbox| {
        sb.run(&[
            "--network",
            "regtest",
            "--wallet",
            "alice",
            "--json",
            "wallet",
            "info",
        ])
        .ok()
        .json()["next_change_index"]
            .clone()
    };
    let before = change_index(&sb);
    let dry = lotc(
        &sb,
        &chain,
        "alice",
        &[
            "--json",
            "send",
            "--dry-run",
            "--to",
            &format!("{to_bob}:0.1"),
        ],
    )
    .ok()
    .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(change_index(&sb), before);
    assert_eq!(lbtc(&sb, &chain, "bob"), (0, 0));

    // Pending-transaction commands with bad txids.
    lotc(&sb, &chain, "alice", &["tx", "rebroadcast", "zz"]).fails(
        2,
        "error: invalid value 'zz' for '<TXID>': 'zz' is not a txid",
    );
    lotc(
        &sb,
        &chain,
        "alice",
        &["--yes", "tx", "forget", &"ab".repeat(32)],
    )
    .fails(1, "is not a pending transaction of this wallet");

    // Malformed PSETs and a PSET of another network.
    std::fs::write(sb.path("garbage.pset"), "not a pset").unwrap();
    let garbage = sb.path("garbage.pset");
    lotc(
        &sb,
        &chain,
        "alice",
        &["pset", "inspect", garbage.to_str().unwrap()],
    )
    .fails(2, "garbage.pset: not a PSET (base64)");
    let created = lotc(
        &sb,
        &chain,
        "alice",
        &["pset", "create", "--to", &format!("{to_bob}:0.1")],
    )
    .ok();
    sb.run_with_stdin(
        &[
            "--network",
            "liquidtestnet",
            "wallet",
            "restore",
            "--name",
            "t",
            "--passphrase-file",
            &sb.pass(),
        ],
        Some(ABANDON),
    )
    .ok();
    sb.run_with_stdin(
        &["--network", "liquidtestnet", "pset", "inspect", "-"],
        Some(&created.stdout),
    )
    .fails(
        3,
        "error: wrong network: expected liquidtestnet, found a PSET whose fee is paid in ",
    );

    // Two different PSETs cannot be combined.
    let other = lotc(
        &sb,
        &chain,
        "alice",
        &["pset", "create", "--to", &format!("{to_bob}:0.2")],
    )
    .ok();
    std::fs::write(sb.path("a.pset"), &created.stdout).unwrap();
    std::fs::write(sb.path("b.pset"), &other.stdout).unwrap();
    let (a, b) = (sb.path("a.pset"), sb.path("b.pset"));
    sb.run(&[
        "--network",
        "regtest",
        "pset",
        "combine",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ])
    .fails(3, "cannot be combined");
}
