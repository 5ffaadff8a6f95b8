//! `demo`: a guided walk-through on throw-away wallets and an in-process sandbox.
//!
//! Everything happens in a temporary folder that is deleted at the end; the wallets are real
//! (encrypted seeds, SQLite stores, CT descriptors) and the chain validates every transaction.

use regtest::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use wallet_core::amount::format_amount;
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::{encrypt_seed, SeedSecret, WordCount};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::tx::{FeeRate, PaymentRequest, Recipient};
use wallet_core::unblind::{blinding_private_key, unblind_output, TxOutSecrets};
use wallet_core::wallet::{Wallet, Wallets};

use elements::{Address, AssetId};

use crate::cmd::sandbox::{describe, sandbox_error};
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};

/// Prints one step: a heading and fields for people, a JSON line with `type` for scripts.
struct Steps<'a> {
    ctx: &'a Context,
    count: usize,
}

impl Steps<'_> {
    fn step(&mut self, title: &str, data: Value, rows: &[(&str, String)]) {
        self.count += 1;
        if self.ctx.out.json {
            let line = json!({ "type": "step", "step": self.count, "title": title, "data": data });
            self.ctx.out.line(&line.to_string());
        } else {
            self.ctx.out.line(&format!("\n{}. {title}", self.count));
            self.ctx.out.fields(
                &rows
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect::<Vec<_>>(),
            );
        }
    }
}

fn demo_wallet(
    ctx: &Context,
    wallets: &Wallets,
    name: &str,
    passphrase: &[u8],
) -> CliResult<Wallet> {
    let secret = SeedSecret::generate(WordCount::Twelve, String::new())?;
    let descriptor = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )?;
    let encrypted = encrypt_seed(&secret, passphrase, &ctx.kdf_params()?)?;
    Ok(wallets.create(Network::Regtest, name, &descriptor, Some(&encrypted))?)
}

/// The output of `txid` paying `wallet`'s receive address `index`, unblinded with its key.
fn received(
    sandbox: &Sandbox,
    wallet: &Wallet,
    index: u32,
    txid: &elements::Txid,
) -> CliResult<TxOutSecrets> {
    let (txout, script) = output_to(sandbox, wallet, index, txid)?;
    let key = blinding_private_key(wallet.descriptor(), &script)?;
    Ok(unblind_output(&txout, &key)?)
}

/// Whether `other` can unblind the output paying `wallet` (it must not).
fn received_by_outsider(
    sandbox: &Sandbox,
    wallet: &Wallet,
    index: u32,
    txid: &elements::Txid,
    other: &Wallet,
) -> CliResult<bool> {
    let (txout, script) = output_to(sandbox, wallet, index, txid)?;
    let key = blinding_private_key(other.descriptor(), &script)?;
    Ok(unblind_output(&txout, &key).is_ok())
}

fn output_to(
    sandbox: &Sandbox,
    wallet: &Wallet,
    index: u32,
    txid: &elements::Txid,
) -> CliResult<(elements::TxOut, elements::Script)> {
    let script = wallet
        .descriptor()
        .script_pubkey(Keychain::External, index)?;
    let tx = sandbox.get_tx(txid).ok_or_else(|| {
        CliError::new(Exit::Backend, "backend", format!("the sandbox lost {txid}"))
    })?;
    let txout = tx
        .output
        .into_iter()
        .find(|o| o.script_pubkey == script)
        .ok_or_else(|| {
            CliError::new(
                Exit::Refused,
                "demo_mismatch",
                format!("{txid} does not pay {}", wallet.name()),
            )
        })?;
    Ok((txout, script))
}

/// Runs the walk-through.
pub fn run(ctx: &Context) -> CliResult<()> {
    let folder = tempfile::Builder::new()
        .prefix("liquid-otc-demo-")
        .tempdir()
        .map_err(|e| {
            CliError::new(
                Exit::Error,
                "io",
                format!("cannot make a temporary folder: {e}"),
            )
        })?;
    let mut steps = Steps { ctx, count: 0 };

    let sandbox = Sandbox::start(SandboxConfig::default()).map_err(sandbox_error)?;
    let info = describe(&sandbox);
    steps.step(
        "Started a private Liquid regtest chain (the sandbox) on loopback",
        info.clone(),
        &[
            ("esplora", sandbox.esplora_url()),
            ("electrum", sandbox.electrum_addr().to_string()),
            ("policy asset", sandbox.policy_asset().to_string()),
        ],
    );
    let result = walk(ctx, &mut steps, &sandbox, folder.path());
    sandbox.shutdown();
    result
}

/// Syncs `wallet` and returns its balance of `asset` (confirmed + unconfirmed).
fn synced_balance(wallet: &mut Wallet, backend: &dyn Backend, asset: &AssetId) -> CliResult<u64> {
    sync(wallet, backend, &SyncOptions::default(), &mut |_| {})?;
    let balances = wallet.store().balances()?;
    Ok(balances
        .get(asset)
        .map(|b| b.confirmed.saturating_add(b.unconfirmed))
        .unwrap_or(0))
}

/// Pays `value` of `asset` from `wallet` to `to` with the same pipeline as `send`.
fn pay(
    wallet: &mut Wallet,
    backend: &dyn Backend,
    policy: AssetId,
    to: Address,
    value: u64,
    asset: AssetId,
    passphrase: &[u8],
) -> CliResult<(elements::Txid, u64)> {
    let request = PaymentRequest {
        recipients: vec![Recipient {
            address: to,
            value,
            asset,
        }],
        fee_rate: FeeRate::MIN,
        drain: false,
    };
    wallet.set_policy_asset(policy);
    let prepared = wallet_core::ops::payment::prepare_payment(
        wallet,
        &request,
        wallet_core::ops::Mode::ForSigning,
    )?;
    let fee = prepared.fee();
    let secret = wallet.unlock_seed(passphrase)?;
    let committed = prepared.commit(wallet, &secret, backend)?;
    Ok((committed.txid, fee))
}

fn walk(
    ctx: &Context,
    steps: &mut Steps,
    sandbox: &Sandbox,
    folder: &std::path::Path,
) -> CliResult<()> {
    let wallets = Wallets::new(folder.join("data"));
    // A throw-away passphrase for throw-away wallets in a temporary folder.
    let passphrase = b"demo passphrase";
    let mut alice = demo_wallet(ctx, &wallets, "alice", passphrase)?;
    let mut bob = demo_wallet(ctx, &wallets, "bob", passphrase)?;
    steps.step(
        "Created two wallets with fresh mnemonics, seeds encrypted at rest",
        json!({
            "alice": alice.descriptor().to_string(),
            "bob": bob.descriptor().to_string(),
        }),
        &[
            ("alice", alice.descriptor().kind_name()),
            ("bob", bob.descriptor().kind_name()),
            ("folder", folder.display().to_string()),
        ],
    );

    let alice_addr = alice.new_address(Keychain::External, Some("demo funding"))?;
    let bob_addr = bob.new_address(Keychain::External, Some("token delivery"))?;
    let inspected = wallet_core::address::inspect(&alice_addr.address)?;
    steps.step(
        "Handed out one confidential receive address each (index stored before shown)",
        json!({ "alice": alice_addr.address, "bob": bob_addr.address, "alice_inspect": inspected }),
        &[
            ("alice", alice_addr.address.clone()),
            ("bob", bob_addr.address.clone()),
            (
                "blinding key",
                inspected.blinding_pubkey.clone().unwrap_or_default(),
            ),
        ],
    );

    let policy = sandbox.policy_asset();
    let lbtc = 150_000_000u64;
    let alice_address = alice.address_at(Keychain::External, alice_addr.index)?;
    let funding = sandbox
        .faucet(&alice_address, lbtc, None)
        .map_err(sandbox_error)?;
    // The token's contract says precision 8, which is how the demo shows its amounts.
    let issued = sandbox
        .issue_with_contract(
            1_000 * 100_000_000,
            r#"{"name":"demo token","precision":8,"ticker":"DEMO","version":0}"#,
        )
        .map_err(sandbox_error)?;
    let tokens = 250 * 100_000_000u64;
    let bob_address = bob.address_at(Keychain::External, bob_addr.index)?;
    let delivery = sandbox
        .faucet(&bob_address, tokens, Some(issued.asset))
        .map_err(sandbox_error)?;
    // Bob needs a little L-BTC for fees of his own.
    let bob_fee_money = 1_000_000u64;
    let bob_funding = sandbox
        .faucet(&bob_address, bob_fee_money, None)
        .map_err(sandbox_error)?;
    let blocks = sandbox.mine(1).map_err(sandbox_error)?;
    steps.step(
        "Funded alice with L-BTC, issued a test token, sent some to bob, mined a block",
        json!({
            "funding_txid": funding.to_string(),
            "asset": issued.asset.to_string(),
            "issuance_txid": issued.txid.to_string(),
            "delivery_txid": delivery.to_string(),
            "bob_fee_funding_txid": bob_funding.to_string(),
            "block": blocks.first().map(ToString::to_string),
            "height": sandbox.tip_height(),
        }),
        &[
            (
                "alice receives",
                format!("{} L-BTC in {funding}", format_amount(lbtc, 8)),
            ),
            ("token", issued.asset.to_string()),
            (
                "bob receives",
                format!("{} tokens in {delivery}", format_amount(tokens, 8)),
            ),
            (
                "and for fees",
                format!("{} L-BTC in {bob_funding}", format_amount(bob_fee_money, 8)),
            ),
            ("height", sandbox.tip_height().to_string()),
        ],
    );

    let alice_sees = received(sandbox, &alice, alice_addr.index, &funding)?;
    let bob_sees = received(sandbox, &bob, bob_addr.index, &delivery)?;
    let outsider = received_by_outsider(sandbox, &alice, alice_addr.index, &funding, &bob)?;
    steps.step(
        "Each wallet unblinds what it received with its own blinding key; others cannot",
        json!({
            "alice": { "value": alice_sees.value, "asset": alice_sees.asset.to_string() },
            "bob": { "value": bob_sees.value, "asset": bob_sees.asset.to_string() },
            "bob_can_read_alice_output": outsider,
        }),
        &[
            (
                "alice",
                format!("{} L-BTC", format_amount(alice_sees.value, 8)),
            ),
            (
                "bob",
                format!(
                    "{} of token {}",
                    format_amount(bob_sees.value, 8),
                    bob_sees.asset
                ),
            ),
            (
                "bob reads alice's",
                if outsider {
                    "yes (a bug)"
                } else {
                    "no: only commitments"
                }
                .to_string(),
            ),
        ],
    );
    if alice_sees.value != lbtc
        || alice_sees.asset != policy
        || bob_sees.value != tokens
        || bob_sees.asset != issued.asset
        || outsider
    {
        return Err(mismatch("an unblinded amount differs from what was sent"));
    }

    // Alice syncs over Electrum, Bob over Esplora: the same wallets, either protocol.
    let electrum =
        BackendConfig::parse_electrum(&format!("tcp://{}", sandbox.electrum_addr()))?.connect()?;
    let esplora = BackendConfig::parse_esplora(&sandbox.esplora_url())?.connect()?;
    let alice_lbtc = synced_balance(&mut alice, electrum.as_ref(), &policy)?;
    let bob_tokens = synced_balance(&mut bob, esplora.as_ref(), &issued.asset)?;
    let bob_lbtc = bob
        .store()
        .balances()?
        .get(&policy)
        .map_or(0, |b| b.confirmed.saturating_add(b.unconfirmed));
    steps.step(
        "Synced: alice over Electrum, bob over Esplora",
        json!({ "alice_lbtc": alice_lbtc, "bob_tokens": bob_tokens, "bob_lbtc": bob_lbtc }),
        &[
            ("alice", format!("{} L-BTC", format_amount(alice_lbtc, 8))),
            (
                "bob",
                format!(
                    "{} L-BTC, {} tokens",
                    format_amount(bob_lbtc, 8),
                    format_amount(bob_tokens, 8)
                ),
            ),
        ],
    );
    if bob_lbtc != bob_fee_money {
        return Err(mismatch("bob's synced L-BTC differs from what was sent"));
    }

    // Alice pays bob, then bob pays alice in the token: build, verify, sign, record, broadcast.
    let price = 50_000_000u64;
    let to_bob = bob.new_address(Keychain::External, Some("payment"))?;
    let to_bob = bob.address_at(Keychain::External, to_bob.index)?;
    let (paid, alice_fee) = pay(
        &mut alice,
        electrum.as_ref(),
        policy,
        to_bob,
        price,
        policy,
        passphrase,
    )?;
    let delivered = 100 * 100_000_000u64;
    let to_alice = alice.new_address(Keychain::External, Some("delivery"))?;
    let to_alice = alice.address_at(Keychain::External, to_alice.index)?;
    let (sent_back, bob_fee) = pay(
        &mut bob,
        esplora.as_ref(),
        policy,
        to_alice,
        delivered,
        issued.asset,
        passphrase,
    )?;
    sandbox.mine(1).map_err(sandbox_error)?;
    steps.step(
        "Alice paid bob 0.5 L-BTC; bob sent alice 100 tokens; both confidential, mined",
        json!({
            "payment_txid": paid.to_string(),
            "payment_fee": alice_fee,
            "delivery_txid": sent_back.to_string(),
            "delivery_fee": bob_fee,
        }),
        &[
            ("payment", format!("{paid} (fee {alice_fee} sat)")),
            ("delivery", format!("{sent_back} (fee {bob_fee} sat)")),
        ],
    );

    let alice_lbtc = synced_balance(&mut alice, electrum.as_ref(), &policy)?;
    let alice_tokens = synced_balance(&mut alice, electrum.as_ref(), &issued.asset)?;
    let bob_lbtc = synced_balance(&mut bob, esplora.as_ref(), &policy)?;
    let bob_tokens = synced_balance(&mut bob, esplora.as_ref(), &issued.asset)?;
    steps.step(
        "Final balances, as each wallet's own store has them",
        json!({
            "alice": { "lbtc": alice_lbtc, "tokens": alice_tokens },
            "bob": { "lbtc": bob_lbtc, "tokens": bob_tokens },
        }),
        &[
            (
                "alice",
                format!(
                    "{} L-BTC, {} tokens",
                    format_amount(alice_lbtc, 8),
                    format_amount(alice_tokens, 8)
                ),
            ),
            (
                "bob",
                format!(
                    "{} L-BTC, {} tokens",
                    format_amount(bob_lbtc, 8),
                    format_amount(bob_tokens, 8)
                ),
            ),
        ],
    );
    let expected_alice = lbtc.checked_sub(price + alice_fee);
    let expected_bob = (bob_fee_money + price).checked_sub(bob_fee);
    if Some(alice_lbtc) != expected_alice
        || alice_tokens != delivered
        || Some(bob_lbtc) != expected_bob
        || bob_tokens != tokens - delivered
    {
        return Err(mismatch(
            "a final balance differs from what the payments moved",
        ));
    }
    ctx.out
        .note("\nDemo finished; its temporary folder is removed.");
    Ok(())
}

fn mismatch(what: &str) -> CliError {
    CliError::new(Exit::Refused, "demo_mismatch", what.to_string())
}
