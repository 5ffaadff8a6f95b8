//! `pegout send` through the built binary against the embedded chain: one peg-out accepted,
//! recorded by the chain and served like any output; the dry run; the networks that refuse.

use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;

const COIN: u64 = 100_000_000;
/// The Bitcoin regtest address of the recorded peg-out (the fixture wallet's external/0 key).
const BTC: &str = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk";
const BTC_SCRIPT: &str = "0014d0c4a3ef09e997b6e99e397e518fe3e41a118ca1";

struct Chain {
    node: regtest::Sandbox,
    server: Vec<String>,
}

impl Chain {
    fn start(electrum: bool) -> Chain {
        let node = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
        let server = if electrum {
            vec!["--electrum".into(), node.electrum_url()]
        } else {
            vec!["--esplora".into(), node.esplora_url()]
        };
        Chain { node, server }
    }
}

fn lotc(sb: &Sandbox, chain: &Chain, args: &[&str]) -> Run {
    let server: Vec<&str> = chain.server.iter().map(String::as_str).collect();
    sb.on_server(&server, "alice", args, None)
}

fn funded(electrum: bool) -> (Sandbox, Chain) {
    let sb = Sandbox::new();
    let chain = Chain::start(electrum);
    sb.restore("alice", ABANDON);
    let doc = lotc(&sb, &chain, &["--json", "address", "new"]).ok().json();
    let address: elements::Address = doc["address"].as_str().unwrap().parse().unwrap();
    chain.node.faucet(&address, COIN, None).unwrap();
    chain.node.mine(1).unwrap();
    (sb, chain)
}

fn lbtc(sb: &Sandbox, chain: &Chain) -> (u64, u64) {
    let doc = lotc(sb, chain, &["--json", "balance"]).ok().json();
    crate::common::balance_of(&doc, &chain.node.policy_asset().to_string())
}

fn pegout_send_pays_the_bitcoin_script(electrum: bool) {
    let (sb, chain) = funded(electrum);
    let pass = sb.pass();
    let doc = lotc(
        &sb,
        &chain,
        &[
            "--json",
            "--yes",
            "pegout",
            "send",
            "--btc-address",
            BTC,
            "--amount",
            "0.3",
            "--passphrase-file",
            &pass,
        ],
    )
    .ok()
    .json();
    let txid: elements::Txid = doc["txid"].as_str().unwrap().parse().unwrap();
    let vout = doc["vout"].as_u64().unwrap() as u32;
    let fee = doc["fee"].as_u64().unwrap();
    assert_eq!(doc["amount"], 30_000_000);
    assert_eq!(doc["btc_address"], BTC);
    assert_eq!(doc["script_kind"], "p2wpkh");
    assert_eq!(
        doc["net"][chain.node.policy_asset().to_string()],
        -(30_000_000 + fee as i64)
    );
    chain.node.mine(1).unwrap();
    // The chain recorded exactly one peg-out: this amount to this Bitcoin script.
    let script = regtest::hexutil::decode(BTC_SCRIPT).unwrap();
    assert_eq!(chain.node.pegouts(), vec![(txid, vout, 30_000_000, script)]);
    let tx = chain.node.get_tx(&txid).unwrap();
    assert!(tx.output[vout as usize].is_pegout());
    assert_eq!(lbtc(&sb, &chain), (COIN - 30_000_000 - fee, 0));
    // The wallet lists it as a peg-out it made.
    let txs = lotc(&sb, &chain, &["--json", "txs"]).ok().json();
    assert!(txs
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["txid"] == txid.to_string()));
}

#[test]
fn pegout_send_pays_the_bitcoin_script_over_esplora() {
    pegout_send_pays_the_bitcoin_script(false);
}

#[test]
fn pegout_send_pays_the_bitcoin_script_over_electrum() {
    pegout_send_pays_the_bitcoin_script(true);
}

#[test]
fn dry_run_signs_nothing_and_shows_the_pegout() {
    let (sb, chain) = funded(false);
    let run = lotc(
        &sb,
        &chain,
        &[
            "--json",
            "pegout",
            "send",
            "--btc-address",
            BTC,
            "--amount",
            "0.001",
            "--dry-run",
        ],
    )
    .ok();
    let doc = run.json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["amount"], 100_000);
    let vout = doc["vout"].as_u64().unwrap() as usize;
    assert_eq!(doc["outputs"][vout]["value"], 100_000);
    assert_eq!(doc["outputs"][vout]["blinded"], false);
    assert!(chain.node.pegouts().is_empty());
    // Human output names the peg-out.
    let run = lotc(
        &sb,
        &chain,
        &[
            "pegout",
            "send",
            "--btc-address",
            BTC,
            "--amount",
            "0.001",
            "--dry-run",
        ],
    )
    .ok();
    assert!(
        run.stderr
            .contains(&format!("Peg-out: 0.001 BTC to {BTC} (p2wpkh)")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("Dry run"), "{}", run.stderr);
}

#[test]
fn networks_without_pegouts_refuse_before_anything() {
    let sb = Sandbox::new();
    // No wallet, no server needed: the refusal comes first.
    let run = sb.run(&[
        "--json",
        "pegout",
        "send",
        "--btc-address",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "--amount",
        "0.5",
    ]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    let err = run.json_error();
    assert_eq!(err["code"], "refused");
    assert!(err["message"].as_str().unwrap().contains("PAK"), "{err}");
    let run = sb.run(&[
        "--network",
        "liquidtestnet",
        "pegout",
        "send",
        "--btc-address",
        "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
        "--amount",
        "0.5",
    ]);
    run.fails(3, "no parent chain");
}

#[test]
fn bad_addresses_and_amounts_are_refused_with_their_exit_codes() {
    let (sb, chain) = funded(false);
    let send = |address: &str, amount: &str| {
        lotc(
            &sb,
            &chain,
            &[
                "--json",
                "--yes",
                "pegout",
                "send",
                "--btc-address",
                address,
                "--amount",
                amount,
            ],
        )
    };
    // A Bitcoin mainnet address on regtest.
    send("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "0.5").fails_json(
        3,
        "wrong_network",
        "is a Bitcoin mainnet address, and peg-outs from regtest pay Bitcoin regtest addresses",
    );
    // A bad checksum.
    send("bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppl", "0.5").fails_json(
        2,
        "invalid_address",
        "is not a valid Bitcoin address: bech32: decoding segwit address failed: invalid checksum",
    );
    // Below the minimum, and nine decimals.
    send(BTC, "0.00099999").fails_json(
        2,
        "invalid_amount",
        "invalid amount 0.00099999: below the minimum peg-out of 0.001 BTC (100000 sat)",
    );
    send(BTC, "0.123456789").fails_json(
        2,
        "invalid_amount",
        "more than 8 decimals for an asset of precision 8",
    );
    // More than the wallet has.
    send(BTC, "2").fails_json(
        5,
        "insufficient_funds",
        "insufficient funds: 2.0 L-BTC needed, 1.0 L-BTC available",
    );
    assert!(chain.node.pegouts().is_empty());
}
