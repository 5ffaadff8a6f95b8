//! Assets through the built binary against the embedded chain: issue, reissue and burn seen
//! in balances and accepted by the sandbox's validator, an issued asset paid to another
//! wallet with `send`, and bad input with its exit code.

use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const COIN: u64 = 100_000_000;

struct Chain {
    node: regtest::Sandbox,
    url: String,
}

fn lotc(sb: &Sandbox, chain: &Chain, wallet: &str, args: &[&str]) -> Run {
    let mut full = vec![
        "--network",
        "regtest",
        "--esplora",
        &chain.url,
        "--wallet",
        wallet,
    ];
    full.extend_from_slice(args);
    sb.run(&full)
}

/// Runs a command that signs, with --json, --yes and the passphrase file.
fn signed(sb: &Sandbox, chain: &Chain, wallet: &str, args: &[&str]) -> Run {
    let pass = sb.pass();
    let mut full = vec!["--json", "--yes"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--passphrase-file", &pass]);
    lotc(sb, chain, wallet, &full)
}

fn restore(sb: &Sandbox, name: &str, phrase: &str) {
    sb.run_with_stdin(
        &[
            "--network",
            "regtest",
            "wallet",
            "restore",
            "--name",
            name,
            "--passphrase-file",
            &sb.pass(),
        ],
        Some(phrase),
    )
    .ok();
}

fn new_address(sb: &Sandbox, chain: &Chain, wallet: &str) -> String {
    lotc(sb, chain, wallet, &["--json", "address", "new"])
        .ok()
        .json()["address"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The row of `asset` in a JSON array of per-asset rows (`balance`'s or `asset list`'s).
fn row_of(rows: &Value, asset: &str) -> Value {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["asset"] == asset)
        .unwrap_or_else(|| panic!("no row for {asset} in {rows}"))
        .clone()
}

/// (confirmed, unconfirmed) of `asset` after a sync.
fn balance(sb: &Sandbox, chain: &Chain, wallet: &str, asset: &str) -> (u64, u64) {
    let doc = lotc(sb, chain, wallet, &["--json", "balance"]).ok().json();
    crate::common::balance_of(&doc, asset)
}

fn setup() -> (Sandbox, Chain) {
    let sb = Sandbox::new();
    let node = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
    let url = node.esplora_url();
    let chain = Chain { node, url };
    restore(&sb, "alice", ABANDON);
    restore(&sb, "bob", OTHER);
    let funding: elements::Address = new_address(&sb, &chain, "alice").parse().unwrap();
    chain.node.faucet(&funding, COIN, None).unwrap();
    chain.node.mine(1).unwrap();
    (sb, chain)
}

/// Restores alice's keys as `alice2`, which after a sync finds `asset` (with `token`) as
/// issued by itself and can reissue `amount` of it (`base_units`, a dry run); returns its `asset info`.
fn restored_issuer_reissues(
    sb: &Sandbox,
    chain: &Chain,
    asset: &str,
    token: &str,
    amount: &str,
    base_units: i64,
) -> Value {
    restore(sb, "alice2", ABANDON);
    lotc(sb, chain, "alice2", &["sync"]).ok();
    let found = lotc(sb, chain, "alice2", &["--json", "asset", "info", asset])
        .ok()
        .json();
    assert_eq!(found["issued_by_wallet"], true);
    assert_eq!(found["token"], token);
    let dry = lotc(
        sb,
        chain,
        "alice2",
        &[
            "--json",
            "asset",
            "reissue",
            asset,
            "--amount",
            amount,
            "--dry-run",
        ],
    )
    .ok()
    .json();
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["net"][asset], base_units);
    found
}

/// The sandbox accepted (and mined) the transaction of a command's JSON answer.
fn accepted(chain: &Chain, doc: &Value) {
    let txid: elements::Txid = doc["txid"].as_str().unwrap().parse().unwrap();
    assert!(chain.node.get_tx(&txid).is_some(), "the sandbox has {txid}");
    chain.node.mine(1).unwrap();
}

#[test]
fn issue_reissue_burn_and_send_an_asset() {
    let (sb, chain) = setup();
    let contract = r#"{"version":0,"ticker":"TST","name":"Test token","precision":2}"#;
    let contract_path = sb.path("contract.json");
    std::fs::write(&contract_path, contract).unwrap();
    let contract_arg = contract_path.display().to_string();

    // Issue 10.00 (precision 2 from the contract) with 3 reissuance tokens.
    let issued = signed(
        &sb,
        &chain,
        "alice",
        &[
            "asset",
            "issue",
            "--amount",
            "10",
            "--token",
            "3",
            "--contract",
            &contract_arg,
        ],
    )
    .ok()
    .json();
    let asset = issued["asset"].as_str().unwrap().to_string();
    let token = issued["token"].as_str().unwrap().to_string();
    assert_eq!(issued["amount"], 1_000);
    assert_eq!(issued["precision"], 2);
    let expected_hash = elements::ContractHash::from_json_contract(contract).unwrap();
    assert_eq!(issued["contract_hash"], expected_hash.to_string());
    assert_eq!(issued["net"][&asset], 1_000);
    assert_eq!(issued["net"][&token], 3);
    assert_eq!(balance(&sb, &chain, "alice", &asset), (0, 1_000));
    accepted(&chain, &issued);
    assert_eq!(balance(&sb, &chain, "alice", &asset), (1_000, 0));
    assert_eq!(balance(&sb, &chain, "alice", &token), (3, 0));

    let info = lotc(&sb, &chain, "alice", &["--json", "asset", "info", &asset])
        .ok()
        .json();
    assert_eq!(info["issued_by_wallet"], true);
    assert_eq!(info["precision"], 2);
    assert_eq!(info["token"], token.as_str());
    assert_eq!(info["contract_hash"], expected_hash.to_string());
    assert_eq!(info["contract"]["ticker"], "TST");
    // A ticker in a contract is not trusted.
    assert_eq!(info["ticker"], Value::Null);
    let human = lotc(&sb, &chain, "alice", &["asset", "info", &asset]).ok();
    assert!(human.stdout.contains("contract hash"), "{}", human.stdout);

    // Elements reissues an explicitly issued asset only with explicit amounts: a blinded
    // reissuance is refused before signing, saying why (elementsd would refuse it with
    // bad-txns-in-ne-out).
    signed(
        &sb,
        &chain,
        "alice",
        &[
            "asset",
            "reissue",
            &asset,
            "--amount",
            "1",
            "--confidential",
        ],
    )
    .fails_json(3, "transaction", "comes from an issuance with explicit amounts: Elements accepts only explicit (not confidential) reissuances");

    // Reissue 5.5: the balance grows, the tokens stay.
    let reissued = signed(
        &sb,
        &chain,
        "alice",
        &["asset", "reissue", &asset, "--amount", "5.5"],
    )
    .ok()
    .json();
    assert_eq!(reissued["net"][&asset], 550);
    assert_eq!(reissued["confidential"], false);
    accepted(&chain, &reissued);
    assert_eq!(balance(&sb, &chain, "alice", &asset), (1_550, 0));
    assert_eq!(balance(&sb, &chain, "alice", &token), (3, 0));

    // Burn 2.25: the balance shrinks.
    let burned = signed(
        &sb,
        &chain,
        "alice",
        &["asset", "burn", &asset, "--amount", "2.25"],
    )
    .ok()
    .json();
    assert_eq!(burned["net"][&asset], -225);
    accepted(&chain, &burned);
    assert_eq!(balance(&sb, &chain, "alice", &asset), (1_325, 0));

    let info = lotc(&sb, &chain, "alice", &["--json", "asset", "info", &asset])
        .ok()
        .json();
    assert_eq!(info["issued_amount"], 1_000);
    assert_eq!(info["reissued_amount"], 550);
    assert_eq!(info["burned_amount"], 225);

    // The same keys restored elsewhere find the issuance on the chain (no precision, no
    // contract text there) and can reissue.
    let found = restored_issuer_reissues(&sb, &chain, &asset, &token, "7", 7);
    assert_eq!(balance(&sb, &chain, "alice2", &asset), (1_325, 0));
    assert_eq!(found["contract_hash"], expected_hash.to_string());
    assert_eq!(found["issued_amount"], 1_000);
    assert_eq!(found["precision"], 0);

    // Burning more than held: insufficient funds.
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "burn", &asset, "--amount", "13.26"],
    )
    .fails_json(5, "insufficient_funds", ": the wallet holds 13.25");

    // Alice types amounts of her asset in its precision everywhere: 1.00 (100 base units)
    // and the 3 tokens to bob; a third decimal is refused.
    let to_bob = new_address(&sb, &chain, "bob");
    signed(
        &sb,
        &chain,
        "alice",
        &["send", "--to", &format!("{to_bob}:0.001:{asset}")],
    )
    .fails_json(
        2,
        "invalid_amount",
        "invalid amount '0.001': more than 2 decimals for an asset of precision 2",
    );
    let sent = signed(
        &sb,
        &chain,
        "alice",
        &[
            "send",
            "--to",
            &format!("{to_bob}:1:{asset}"),
            "--to",
            &format!("{to_bob}:3:{token}"),
        ],
    )
    .ok()
    .json();
    assert_eq!(sent["net"][&asset], -100);
    accepted(&chain, &sent);
    assert_eq!(balance(&sb, &chain, "bob", &asset), (100, 0));
    assert_eq!(balance(&sb, &chain, "alice", &asset), (1_225, 0));
    let shown = lotc(&sb, &chain, "alice", &["balance", "--offline"]).ok();
    assert!(shown.stdout.contains("12.25"), "{}", shown.stdout);
    let alice_balance = lotc(&sb, &chain, "alice", &["--json", "balance", "--offline"])
        .ok()
        .json();
    let row = row_of(&alice_balance["balances"], &asset);
    assert_eq!(row["precision"], 2);
    assert_eq!(row["confirmed"], 1_225);

    // Bob holds it but did not issue it; the list says so, reissuing is refused.
    let list = lotc(&sb, &chain, "bob", &["--json", "asset", "list"])
        .ok()
        .json();
    let row = row_of(&list["assets"], &asset);
    assert_eq!(row["issued_by_wallet"], false);
    assert_eq!(row["confirmed"], 100);
    // Bob holds the tokens but not the entropy. Electrum cannot say which transaction issued
    // the asset, so there he must name it; a transaction that does not issue this asset is
    // refused.
    let bob_fees: elements::Address = new_address(&sb, &chain, "bob").parse().unwrap();
    chain.node.faucet(&bob_fees, COIN, None).unwrap();
    chain.node.mine(1).unwrap();
    let electrum = format!("tcp://{}", chain.node.electrum_addr());
    let bob_over_electrum = |extra: &[&str]| {
        let pass = sb.pass();
        let mut args = vec!["--json", "--yes", "asset", "reissue", &asset];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--passphrase-file", &pass]);
        sb.on_server(&["--electrum", &electrum], "bob", &args, None)
    };
    bob_over_electrum(&["--amount", "1"])
        .fails_json(
            1,
            "unknown_issuance",
            "this wallet did not issue it, and the server does not say which transaction did",
        )
        .fails(
            1,
            "pass --issuance-tx TXID, the asset's issuance transaction",
        );
    bob_over_electrum(&["--amount", "1", "--issuance-tx", "not-a-txid"]).fails_json(
        2,
        "usage",
        "invalid value 'not-a-txid' for '--issuance-tx <TXID>': 'not-a-txid' is not a txid",
    );
    let not_issuance = sent["txid"].as_str().unwrap();
    bob_over_electrum(&["--amount", "1", "--issuance-tx", not_issuance]).fails_json(1, "unknown_issuance", "does not issue it (pass the transaction that first issued the asset, not a reissuance or a payment)");
    // Named, the entropy is read from it: bob reissues 2 base units (his wallet does not know
    // the precision).
    let issuance_txid = issued["txid"].as_str().unwrap();
    let by_bob = bob_over_electrum(&["--amount", "2", "--issuance-tx", issuance_txid])
        .ok()
        .json();
    assert_eq!(by_bob["net"][&asset], 2);
    accepted(&chain, &by_bob);
    // Esplora says which transaction issued the asset (checked all the same).
    let by_bob = signed(
        &sb,
        &chain,
        "bob",
        &["asset", "reissue", &asset, "--amount", "40"],
    )
    .ok()
    .json();
    assert_eq!(by_bob["net"][&asset], 40);
    accepted(&chain, &by_bob);
    assert_eq!(balance(&sb, &chain, "bob", &asset), (142, 0));
    assert_eq!(balance(&sb, &chain, "bob", &token), (3, 0));

    // Alice sent all her tokens away: she can no longer reissue.
    let list = lotc(&sb, &chain, "alice", &["--json", "asset", "list"])
        .ok()
        .json();
    let mine = row_of(&list["assets"], &asset);
    assert_eq!(mine["issued_by_wallet"], true);
    assert_eq!(mine["token"], token.as_str());
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "reissue", &asset, "--amount", "1"],
    )
    .fails_json(
        5,
        "no_reissuance_token",
        "the wallet does not hold the reissuance token ",
    );
}

#[test]
fn bad_asset_input_has_its_exit_code() {
    let (sb, chain) = setup();
    let unknown = "11".repeat(32);
    // Malformed and unknown ids.
    lotc(&sb, &chain, "alice", &["asset", "info", "xyz"]).fails(2, "not an asset id");
    lotc(&sb, &chain, "alice", &["asset", "info", &unknown])
        .fails(1, "error: this wallet neither holds nor issued asset 1111");
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "reissue", &unknown, "--amount", "1"],
    )
    .fails_json(
        1,
        "unknown_issuance",
        "this wallet did not issue it, and the server does not say which transaction did",
    );
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "burn", &unknown, "--amount", "1"],
    )
    .fails_json(
        1,
        "unknown_asset",
        "this wallet neither holds nor issued asset 1111",
    );
    // An asset it knows (here L-BTC) and holds too little of is a shortfall.
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "burn", "L-BTC", "--amount", "2"],
    )
    .fails_json(5, "insufficient_funds", "cannot burn 2.0 of");
    // Amounts: too many decimals for precision 0, above MAX_MONEY, zero, bad precision.
    signed(&sb, &chain, "alice", &["asset", "issue", "--amount", "1.5"]).fails_json(
        2,
        "invalid_amount",
        "invalid amount '1.5': more than 0 decimals for an asset of precision 0",
    );
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "issue", "--amount", "21000001", "--precision", "8"],
    )
    .fails_json(2, "invalid_amount", "the amount is above the most one issuance may create (2100000000000000 base units, ELIP-203)");
    signed(&sb, &chain, "alice", &["asset", "issue", "--amount", "0"]).fails_json(
        2,
        "invalid_amount",
        "invalid amount 0: an issuance must create some of the asset or of its token",
    );
    signed(
        &sb,
        &chain,
        "alice",
        &["asset", "issue", "--amount", "1", "--precision", "9"],
    )
    .fails_json(
        2,
        "usage",
        "invalid value '9' for '--precision <P>': 9 is not in 0..=8",
    );
    // A contract that is not a JSON object.
    let bad = sb.path("bad.json");
    std::fs::write(&bad, "[1, 2]").unwrap();
    signed(
        &sb,
        &chain,
        "alice",
        &[
            "asset",
            "issue",
            "--amount",
            "1",
            "--contract",
            &bad.display().to_string(),
        ],
    )
    .fails_json(
        2,
        "invalid_contract",
        "bad.json: the contract must be a JSON object",
    );
    // Dry run: nothing signed, nothing on the chain; the balance is unchanged.
    let dry = lotc(
        &sb,
        &chain,
        "alice",
        &["--json", "asset", "issue", "--amount", "5", "--dry-run"],
    )
    .ok()
    .json();
    assert_eq!(dry["dry_run"], true);
    let asset = dry["asset"].as_str().unwrap();
    assert_eq!(balance(&sb, &chain, "alice", asset), (0, 0));
    // The confirmation shows the new asset in the precision given, as it will be recorded;
    // JSON keeps base units and says the precision.
    let text = lotc(
        &sb,
        &chain,
        "alice",
        &[
            "asset",
            "issue",
            "--amount",
            "1000",
            "--precision",
            "2",
            "--token",
            "1",
            "--dry-run",
        ],
    )
    .ok()
    .stderr;
    assert!(text.contains("Issues 1000.0 of asset "), "{text}");
    let net_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("+1000.0 of asset "))
        .unwrap_or_else(|| panic!("no +1000.0 line:\n{text}"));
    assert!(!net_line.contains("base units"), "{text}");
    assert!(!text.contains("+100000 "), "{text}");
    // The token has no precision: whole tokens, in base units.
    assert!(text.contains("+1 base units of asset "), "{text}");
    let dry = lotc(
        &sb,
        &chain,
        "alice",
        &[
            "--json",
            "asset",
            "issue",
            "--amount",
            "1000",
            "--precision",
            "2",
            "--dry-run",
        ],
    )
    .ok()
    .json();
    assert_eq!(dry["precision"], 2, "{dry}");
    assert_eq!(dry["net"][dry["asset"].as_str().unwrap()], 100_000, "{dry}");
    // Without a terminal and without --yes, no signing.
    lotc(&sb, &chain, "alice", &["asset", "issue", "--amount", "5"])
        .fails(
            2,
            "needs a confirmation, and there is no terminal to ask on",
        )
        .fails(2, "hint: pass --yes to confirm from a script");
}

#[test]
fn a_confidential_issuance_hides_the_supply_but_not_from_the_issuer() {
    let (sb, chain) = setup();
    let issued = signed(
        &sb,
        &chain,
        "alice",
        &[
            "asset",
            "issue",
            "--amount",
            "12.5",
            "--precision",
            "1",
            "--token",
            "1",
            "--confidential",
        ],
    )
    .ok()
    .json();
    assert_eq!(issued["confidential"], true);
    assert_eq!(issued["amount"], 125);
    let asset = issued["asset"].as_str().unwrap().to_string();
    let token = issued["token"].as_str().unwrap().to_string();
    accepted(&chain, &issued);
    // The chain shows commitments only.
    let txid: elements::Txid = issued["txid"].as_str().unwrap().parse().unwrap();
    let tx = chain.node.get_tx(&txid).unwrap();
    let field = &tx.input[0].asset_issuance;
    assert!(field.amount.is_confidential() && field.inflation_keys.is_confidential());
    let entropy: elements::AssetEntropy = issued["entropy"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        token,
        elements::AssetId::reissuance_token_from_entropy(entropy, true).to_string()
    );
    // The issuer's wallet knows the amounts and the precision.
    assert_eq!(balance(&sb, &chain, "alice", &asset), (125, 0));
    assert_eq!(balance(&sb, &chain, "alice", &token), (1, 0));
    let info = lotc(&sb, &chain, "alice", &["--json", "asset", "info", &asset])
        .ok()
        .json();
    assert_eq!(info["issued_amount"], 125);
    // And reissues with the confidential-issuance token, blinded too: Elements accepts
    // nothing else, so no --confidential is needed.
    let reissued = signed(
        &sb,
        &chain,
        "alice",
        &["asset", "reissue", &asset, "--amount", "0.5"],
    )
    .ok()
    .json();
    assert_eq!(reissued["net"][&asset], 5);
    assert_eq!(reissued["confidential"], true);
    accepted(&chain, &reissued);
    let txid: elements::Txid = reissued["txid"].as_str().unwrap().parse().unwrap();
    let tx = chain.node.get_tx(&txid).unwrap();
    assert!(tx.input[0].asset_issuance.amount.is_confidential());
    assert_eq!(balance(&sb, &chain, "alice", &asset), (130, 0));

    // The same keys restored elsewhere find the issuance, read its blinded amount back with
    // the wallet's blinding key, and can reissue.
    let found = restored_issuer_reissues(&sb, &chain, &asset, &token, "3", 3);
    assert_eq!(balance(&sb, &chain, "alice2", &asset), (130, 0));
    assert_eq!(found["issued_amount"], 125);
}
