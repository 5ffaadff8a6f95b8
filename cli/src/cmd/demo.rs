//! `demo`: the DvP walk-through on an in-process sandbox and throw-away wallets.
//!
//! "Exchange A" sells 1.5 L-BTC to "Desk B" for 15,000,000 units of a JPY token issued on the
//! sandbox: two real wallets (encrypted seeds, SQLite stores, CT descriptors) in separate
//! data folders, the envelope passed between them as text, every verification shown, one
//! transaction that the strict sandbox accepts, balances before and after, both ledgers at
//! the end. Everything lives in a temporary folder that is deleted at the end. The demo
//! checks what it shows: a mismatch is an error, so the README's first command is also a
//! smoke test.

use std::time::Instant;

use regtest::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::ops::swap::{
    commit_settle, create_offer, finish_accept, prepare_accept, prepare_settle, CreateRequest,
    SettleStart,
};
use wallet_core::ops::Mode;
use wallet_core::seed::{encrypt_seed, SeedSecret, WordCount};
use wallet_core::store::{DealRole, DealStatus};
use wallet_core::swap::taker::AcceptRequest;
use wallet_core::swap::{Leg, Offer};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::tx::FeeRate;
use wallet_core::unblind::{blinding_private_key, unblind_output};
use wallet_core::wallet::{Wallet, Wallets};

use elements::AssetId;

use crate::cmd::sandbox::sandbox_error;
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};

/// What the demo trades: 1.5 L-BTC for 15,000,000 JPY units.
const LBTC_GIVEN: u64 = 150_000_000;
const JPY_WANTED: u64 = 15_000_000;

/// The steps: printed as they happen for people, gathered into one document for `--json`.
struct Steps<'a> {
    ctx: &'a Context,
    done: Vec<Value>,
}

impl Steps<'_> {
    fn step(&mut self, title: &str, data: Value, rows: &[(&str, String)]) {
        let n = self.done.len() + 1;
        if !self.ctx.out.json {
            self.ctx.out.line(&format!("\n{n}. {title}"));
            self.ctx.out.fields(
                &rows
                    .iter()
                    .map(|(k, v)| (*k, v.clone()))
                    .collect::<Vec<_>>(),
            );
        }
        self.done
            .push(json!({ "step": n, "title": title, "data": data }));
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

fn mismatch(what: impl Into<String>) -> CliError {
    CliError::new(Exit::Refused, "demo_mismatch", what.into())
}

/// Runs the walk-through.
pub fn run(ctx: &Context) -> CliResult<()> {
    let started = Instant::now();
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
    let mut steps = Steps {
        ctx,
        done: Vec::new(),
    };
    let sandbox = Sandbox::start(SandboxConfig::default()).map_err(sandbox_error)?;
    steps.step(
        "Started a private Liquid regtest chain (the sandbox) on loopback",
        json!({
            "esplora": sandbox.esplora_url(),
            "electrum": sandbox.electrum_addr().to_string(),
            "policy_asset": sandbox.policy_asset().to_string(),
        }),
        &[
            ("esplora", sandbox.esplora_url()),
            ("electrum", sandbox.electrum_addr().to_string()),
        ],
    );
    let result = walk(ctx, &mut steps, &sandbox, folder.path());
    sandbox.shutdown();
    result?;
    let wall_ms = started.elapsed().as_millis() as u64;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "steps": steps.done, "wall_ms": wall_ms }));
    } else {
        ctx.out.note(&format!(
            "\nDemo finished in {:.1} s; its temporary folder is removed.",
            wall_ms as f64 / 1000.0
        ));
    }
    Ok(())
}

fn balances(wallet: &mut Wallet, backend: &dyn Backend, assets: &[AssetId]) -> CliResult<Vec<u64>> {
    sync(wallet, backend, &SyncOptions::default(), &mut |_| {})?;
    let all = wallet.store().balances()?;
    Ok(assets
        .iter()
        .map(|a| {
            all.get(a)
                .map_or(0, |b| b.confirmed.saturating_add(b.unconfirmed))
        })
        .collect())
}

fn lbtc(sat: u64) -> String {
    format!("{} L-BTC", wallet_core::amount::format_amount(sat, 8))
}

fn jpy(units: u64) -> String {
    format!("{units} JPY")
}

fn walk(
    ctx: &Context,
    steps: &mut Steps,
    sandbox: &Sandbox,
    folder: &std::path::Path,
) -> CliResult<()> {
    // Two desks, two data folders.
    let passphrase = b"demo passphrase";
    let mut exchange = demo_wallet(
        ctx,
        &Wallets::new(folder.join("exchange-a")),
        "exchange-a",
        passphrase,
    )?;
    let mut desk = demo_wallet(
        ctx,
        &Wallets::new(folder.join("desk-b")),
        "desk-b",
        passphrase,
    )?;
    let policy = sandbox.policy_asset();
    exchange.set_policy_asset(policy);
    desk.set_policy_asset(policy);
    steps.step(
        "Created \"Exchange A\" and \"Desk B\": fresh mnemonics, seeds encrypted, separate data folders",
        json!({
            "exchange_a": exchange.descriptor().to_string(),
            "desk_b": desk.descriptor().to_string(),
        }),
        &[
            ("Exchange A", exchange.descriptor().kind_name()),
            ("Desk B", desk.descriptor().kind_name()),
        ],
    );

    // A JPY token on the sandbox, and funds.
    let issued = sandbox
        .issue_with_contract(
            1_000_000_000,
            r#"{"name":"demo yen","precision":0,"ticker":"JPY","version":0}"#,
        )
        .map_err(sandbox_error)?;
    let jpy_asset = issued.asset;
    let to_exchange = exchange.new_address(Keychain::External, Some("funding"))?;
    let to_exchange = exchange.address_at(Keychain::External, to_exchange.index)?;
    sandbox
        .faucet(&to_exchange, 200_000_000, None)
        .map_err(sandbox_error)?;
    let to_desk = desk.new_address(Keychain::External, Some("funding"))?;
    let to_desk = desk.address_at(Keychain::External, to_desk.index)?;
    sandbox
        .faucet(&to_desk, 20_000_000, Some(jpy_asset))
        .map_err(sandbox_error)?;
    sandbox
        .faucet(&to_desk, 100_000, None)
        .map_err(sandbox_error)?;
    sandbox.mine(1).map_err(sandbox_error)?;
    steps.step(
        "Issued a JPY token (precision 0) and funded both desks; mined a block",
        json!({ "jpy_asset": jpy_asset.to_string(), "height": sandbox.tip_height() }),
        &[
            ("JPY token", jpy_asset.to_string()),
            ("Exchange A", format!("receives {}", lbtc(200_000_000))),
            (
                "Desk B",
                format!("receives {} and {}", jpy(20_000_000), lbtc(100_000)),
            ),
        ],
    );

    let electrum =
        BackendConfig::parse_electrum(&format!("tcp://{}", sandbox.electrum_addr()))?.connect()?;
    let esplora = BackendConfig::parse_esplora(&sandbox.esplora_url())?.connect()?;
    let assets = [policy, jpy_asset];
    let a_before = balances(&mut exchange, electrum.as_ref(), &assets)?;
    let b_before = balances(&mut desk, esplora.as_ref(), &assets)?;
    steps.step(
        "Balances before (Exchange A synced over Electrum, Desk B over Esplora)",
        json!({
            "exchange_a": { "lbtc": a_before[0], "jpy": a_before[1] },
            "desk_b": { "lbtc": b_before[0], "jpy": b_before[1] },
        }),
        &[
            (
                "Exchange A",
                format!("{}, {}", lbtc(a_before[0]), jpy(a_before[1])),
            ),
            (
                "Desk B",
                format!("{}, {}", lbtc(b_before[0]), jpy(b_before[1])),
            ),
        ],
    );

    // 1. Exchange A makes the offer.
    let created = create_offer(
        &mut exchange,
        &CreateRequest {
            gives: Leg {
                asset: policy,
                amount: LBTC_GIVEN,
            },
            receives: Leg {
                asset: jpy_asset,
                amount: JPY_WANTED,
            },
            fee_payer: DealRole::Taker,
            fee_rate: FeeRate::MIN,
            expires_in: 30 * 60,
            counterparty: Some("Desk B".to_owned()),
            memo: Some("demo trade".to_owned()),
        },
    )?;
    let proposed_text = created.offer.to_json();
    let reserved = exchange.store().reservations()?.len();
    steps.step(
        "Exchange A makes the offer: gives 1.5 L-BTC, wants 15,000,000 JPY (nothing signed)",
        json!({
            "deal_id": created.offer.deal_id,
            "envelope_bytes": proposed_text.len(),
            "reserved_coins": reserved,
            "expires_at": created.offer.expires_at,
        }),
        &[
            ("deal", created.offer.deal_id.clone()),
            (
                "envelope",
                format!(
                    "{} bytes of JSON (terms, PSET, its coins' unblinding data)",
                    proposed_text.len()
                ),
            ),
            (
                "reserved",
                format!("{reserved} coin(s), until the deal ends"),
            ),
            ("expires", "in 30 minutes".to_owned()),
        ],
    );

    // 2. Desk B receives the text, verifies, builds its part, verifies again, signs.
    let offer = Offer::parse(&proposed_text, Network::Regtest)?;
    let accept = prepare_accept(
        &mut desk,
        offer,
        &AcceptRequest {
            fee_rate: FeeRate::MIN,
        },
        Some(esplora.as_ref()),
        Mode::ForSigning,
    )?;
    let fee = accept.prepared.fee();
    let desk_net = accept.prepared.view.net.clone();
    let expected_desk = [
        (policy, LBTC_GIVEN as i64 - fee as i64),
        (jpy_asset, -(JPY_WANTED as i64)),
    ];
    if expected_desk
        .iter()
        .any(|(a, v)| desk_net.get(a).copied().unwrap_or(0) != *v)
    {
        return Err(mismatch(
            "Desk B's verified net effect differs from the terms",
        ));
    }
    let secret = desk.unlock_seed(passphrase)?;
    let (accepted, desk_deal) =
        finish_accept(&mut desk, accept, &secret, Some("Exchange A".to_owned()))?;
    drop(secret);
    let accepted_text = accepted.to_json();
    steps.step(
        "Desk B verifies and accepts: its part added, every output blinded, its inputs signed",
        json!({
            "checks": [
                "envelope version, network and genesis hash",
                "not expired",
                "the maker's part does exactly what the terms say",
                "the revealed unblinding data reopens the maker's coins, which are the chain's",
                "no coin of Desk B's is in the offer",
                "Desk B's own view of the blinded transaction: net effect = terms, inputs = its chosen coins, outputs confidential, fee within bounds, SIGHASH_ALL",
            ],
            "net": { policy.to_string(): desk_net.get(&policy), jpy_asset.to_string(): desk_net.get(&jpy_asset) },
            "fee": fee,
            "txid": desk_deal.txid.map(|t| t.to_string()),
            "envelope_bytes": accepted_text.len(),
        }),
        &[
            ("checked", "envelope, expiry, maker's part vs terms, revealed data vs chain".to_owned()),
            ("net effect", format!("+{} -{} (verified on the blinded transaction)", lbtc(LBTC_GIVEN - fee), jpy(JPY_WANTED))),
            ("fee", format!("{fee} sat, paid by Desk B (0.1 sat/vB)")),
            ("envelope", format!("{} bytes, back to Exchange A", accepted_text.len())),
            ("exposed", "until it settles, expires, or Desk B spends a coin of the deal".to_owned()),
        ],
    );

    // 3. A tampered copy is refused; the real one settles.
    let mut tampered = Offer::parse(&accepted_text, Network::Regtest)?;
    tampered.terms.maker_receives.amount -= 1;
    let refusal = match prepare_settle(&mut exchange, tampered) {
        Err(wallet_core::Error::Offer(r)) => r,
        Err(other) => return Err(other.into()),
        Ok(_) => return Err(mismatch("a tampered envelope was not refused")),
    };
    steps.step(
        "A copy of the envelope asking one JPY less is refused by Exchange A: nothing signed",
        json!({ "code": refusal.code, "reason": refusal.to_string() }),
        &[("refused", format!("{} ({})", refusal, refusal.code))],
    );
    let accepted = Offer::parse(&accepted_text, Network::Regtest)?;
    let SettleStart::Fresh(settle) = prepare_settle(&mut exchange, accepted)? else {
        return Err(mismatch("the deal was settled already"));
    };
    let exchange_net = settle.prepared.view.net.clone();
    if exchange_net.get(&policy) != Some(&-(LBTC_GIVEN as i64))
        || exchange_net.get(&jpy_asset) != Some(&(JPY_WANTED as i64))
    {
        return Err(mismatch(
            "Exchange A's verified net effect differs from the terms",
        ));
    }
    let secret = exchange.unlock_seed(passphrase)?;
    let txid = commit_settle(&mut exchange, *settle, &secret, electrum.as_ref())?;
    drop(secret);
    steps.step(
        "Exchange A verifies the whole transaction, signs, records, broadcasts: both legs in one",
        json!({
            "checks": [
                "the envelope's terms and times are the ones it offered; not expired",
                "its inputs are exactly the coins it offered, unspent",
                "its net effect is the terms', found by unblinding its outputs with its own keys",
                "its outputs are confidential; one explicit L-BTC fee within bounds",
                "Desk B's signatures verify against the transaction as it stands",
            ],
            "txid": txid.to_string(),
        }),
        &[
            (
                "net effect",
                format!("-{} +{} (verified)", lbtc(LBTC_GIVEN), jpy(JPY_WANTED)),
            ),
            ("txid", txid.to_string()),
        ],
    );
    sandbox.mine(1).map_err(sandbox_error)?;

    // What each side can read on the chain.
    let tx = sandbox
        .get_tx(&txid)
        .ok_or_else(|| mismatch("the sandbox lost the settlement"))?;
    let exchange_outputs = readable(&exchange, &tx);
    let desk_outputs = readable(&desk, &tx);
    let a_after = balances(&mut exchange, electrum.as_ref(), &assets)?;
    let b_after = balances(&mut desk, esplora.as_ref(), &assets)?;
    steps.step(
        "Mined. Each desk unblinds only its own outputs; balances after",
        json!({
            "exchange_a": { "lbtc": a_after[0], "jpy": a_after[1], "outputs_it_reads": exchange_outputs },
            "desk_b": { "lbtc": b_after[0], "jpy": b_after[1], "outputs_it_reads": desk_outputs },
            "outputs": tx.output.len(),
        }),
        &[
            ("Exchange A", format!("{}, {} (reads outputs {exchange_outputs:?})", lbtc(a_after[0]), jpy(a_after[1]))),
            ("Desk B", format!("{}, {} (reads outputs {desk_outputs:?})", lbtc(b_after[0]), jpy(b_after[1]))),
        ],
    );
    let ok = a_after[0] == a_before[0] - LBTC_GIVEN
        && a_after[1] == a_before[1] + JPY_WANTED
        && b_after[0] == b_before[0] + LBTC_GIVEN - fee
        && b_after[1] == b_before[1] - JPY_WANTED
        && exchange_outputs.iter().all(|i| !desk_outputs.contains(i));
    if !ok {
        return Err(mismatch(
            "a balance after the settlement differs from the terms",
        ));
    }

    // The ledgers.
    let a_deal = exchange
        .store()
        .deal(&created.offer.deal_id)?
        .ok_or_else(|| mismatch("Exchange A lost the deal"))?;
    let b_deal = desk
        .store()
        .deal(&created.offer.deal_id)?
        .ok_or_else(|| mismatch("Desk B lost the deal"))?;
    let events: Vec<String> = exchange
        .store()
        .deal_events(&a_deal.id)?
        .iter()
        .map(|e| e.status.as_str().to_owned())
        .collect();
    steps.step(
        "The ledgers: each desk's deal confirmed, with its event log",
        json!({
            "exchange_a": { "status": a_deal.status.as_str(), "height": a_deal.height, "counterparty": a_deal.counterparty, "events": events },
            "desk_b": { "status": b_deal.status.as_str(), "height": b_deal.height, "counterparty": b_deal.counterparty },
        }),
        &[
            ("Exchange A", format!("{} at height {} with {}; events: {}", a_deal.status, a_deal.height.unwrap_or(0), a_deal.counterparty.clone().unwrap_or_default(), events.join(" → "))),
            ("Desk B", format!("{} at height {} with {}", b_deal.status, b_deal.height.unwrap_or(0), b_deal.counterparty.clone().unwrap_or_default())),
        ],
    );
    if a_deal.status != DealStatus::Confirmed || b_deal.status != DealStatus::Confirmed {
        return Err(mismatch("a ledger does not show the deal confirmed"));
    }
    Ok(())
}

/// The outputs of `tx` that `wallet` unblinds with its own keys.
fn readable(wallet: &Wallet, tx: &elements::Transaction) -> Vec<usize> {
    tx.output
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.is_fee())
        .filter(|(_, o)| {
            blinding_private_key(wallet.descriptor(), &o.script_pubkey)
                .and_then(|k| unblind_output(o, &k))
                .is_ok()
        })
        .map(|(i, _)| i)
        .collect()
}
