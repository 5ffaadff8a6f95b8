//! `send`, `pset create`, `pset broadcast` and the pending-transaction commands
//! (`tx pending | rebroadcast | forget`).
//!
//! A payment is built, blinded and verified by wallet-core, checked once more through the
//! wallet's own view of the PSET, shown, confirmed, signed, recorded as pending and only then
//! broadcast: a crash between signing and broadcasting loses nothing.

use std::str::FromStr;

use elements::pset::PartiallySignedTransaction;
use elements::{Address, AssetId, Transaction, Txid};
use serde_json::{json, Value};
use wallet_core::amount::parse_amount;
use wallet_core::descriptor::Keychain;
use wallet_core::tx::{
    build_payment, finalize_pset, sign_pset, FeeRate, Payment, PaymentRequest, Recipient,
    Spendable, WalletContext,
};
use wallet_core::wallet::Wallet;

use crate::args::{PaymentArgs, PsetCreateArgs, PsetInspectArgs, SendArgs, TxShowArgs};
use crate::cmd::pset::{print_pset, read_pset, show_summary, view_json, wallet_view};
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use crate::input;

/// Test hook: abort the process after the signed transaction is recorded and before it is
/// broadcast, as a crash would (the crash-safety tests use it; nobody else should).
pub const ABORT_BEFORE_BROADCAST_ENV: &str = "LIQUID_OTC_ABORT_BEFORE_BROADCAST";

/// Blocks a fee estimate targets.
const FEE_TARGET_BLOCKS: u16 = 2;

/// Parses one `--to` value.
fn parse_recipient(
    ctx: &Context,
    names: &AssetNames,
    text: &str,
    drain: bool,
    policy: AssetId,
) -> CliResult<Recipient> {
    let mut parts = text.trim().split(':');
    let address_text = parts.next().unwrap_or_default();
    let amount_text = parts.next();
    let asset_text = parts.next();
    if parts.next().is_some() {
        return Err(CliError::usage(
            "invalid_recipient",
            format!("'{text}' has too many ':'; the form is ADDRESS:AMOUNT[:ASSET]"),
        ));
    }
    let address: Address = wallet_core::address::parse_for_network(address_text, ctx.network)?;
    let asset = match asset_text {
        None => policy,
        Some(a) if a.eq_ignore_ascii_case("l-btc") || a.eq_ignore_ascii_case("lbtc") => policy,
        Some(a) => AssetId::from_str(a).map_err(|_| {
            CliError::usage("unknown_asset", format!("'{a}' is not an asset id"))
                .hint("assets are named by their 64-hex id (or L-BTC); `balance` lists yours")
        })?,
    };
    let value = if drain {
        match amount_text {
            None | Some("all") => 0,
            Some(other) => {
                return Err(CliError::usage(
                    "invalid_recipient",
                    format!("with --drain the amount is 'all', not '{other}'"),
                ))
            }
        }
    } else {
        let amount = amount_text.ok_or_else(|| {
            CliError::usage("invalid_recipient", format!("'{text}' has no amount"))
                .hint("write ADDRESS:AMOUNT, e.g. el1...:0.5")
        })?;
        parse_amount(amount, names.precision(&asset).unwrap_or(0))?
    };
    Ok(Recipient {
        address,
        value,
        asset,
    })
}

/// What the wallet can spend, from its store.
pub fn spendable(wallet: &Wallet) -> CliResult<Vec<Spendable>> {
    Ok(wallet
        .store()
        .utxos()?
        .into_iter()
        .map(|u| Spendable {
            outpoint: u.outpoint,
            txout: u.txout,
            secrets: u.secrets,
            keychain: u.keychain,
            index: u.index,
        })
        .collect())
}

/// The fee rate typed (`--fee-rate`), or the server's estimate; never below the relay floor.
pub fn fee_rate(ctx: &Context, typed: Option<&str>) -> CliResult<FeeRate> {
    let rate = match typed {
        Some(text) => FeeRate::parse_sat_per_vb(text)?,
        None => FeeRate::from_estimate(ctx.backend()?.fee_estimate(FEE_TARGET_BLOCKS)?),
    };
    if rate < FeeRate::MIN {
        return Err(CliError::usage(
            "fee_rate_too_low",
            format!("{rate} is below the relay floor of {}", FeeRate::MIN),
        ));
    }
    Ok(rate)
}

/// Syncs, then builds, blinds and verifies the payment (nothing signed).
fn build(
    ctx: &Context,
    wallet: &mut Wallet,
    args: &PaymentArgs,
    reserve: bool,
) -> CliResult<Payment> {
    let names = ctx.asset_names(wallet)?;
    let policy = ctx.policy_asset()?;
    let recipients = args
        .to
        .iter()
        .map(|t| parse_recipient(ctx, &names, t, args.drain, policy))
        .collect::<CliResult<Vec<_>>>()?;
    if !args.allow_unconfidential {
        if let Some(r) = recipients.iter().find(|r| !r.address.is_blinded()) {
            return Err(CliError::usage(
                "unconfidential_address",
                format!(
                    "{} is unconfidential: the amount and asset paid to it become public",
                    r.address
                ),
            )
            .hint("ask for the confidential address, or pass --allow-unconfidential"));
        }
    }
    crate::cmd::sync::sync_with_progress(ctx, wallet, &args.scan, false)?;
    let fee_rate = fee_rate(ctx, args.fee_rate.as_deref())?;
    let request = PaymentRequest {
        recipients,
        fee_rate,
        drain: args.drain,
    };
    build_for(wallet, policy, &request, reserve)
}

/// Builds, blinds and verifies `request` from the wallet's stored coins (no sync, nothing
/// signed); change goes to fresh internal addresses, each stored before use.
pub fn build_for(
    wallet: &mut Wallet,
    policy: AssetId,
    request: &PaymentRequest,
    reserve: bool,
) -> CliResult<Payment> {
    build_checked(wallet, policy, reserve, |c, coins, change| {
        build_payment(c, coins, request, change)
    })
}

/// Runs `build` (a payment, an issuance, ...) on the wallet's stored coins with a change
/// address source, then checks that the wallet's own view of the resulting PSET has exactly
/// the net effect and fee that were built. With `reserve`, each change index is stored before
/// use (as for `address new`); without (a dry run that signs nothing), the next indexes are
/// only previewed, so dry runs do not widen the gap a restore must scan.
pub fn build_checked(
    wallet: &mut Wallet,
    policy: AssetId,
    reserve: bool,
    build: impl FnOnce(
        &WalletContext,
        &[Spendable],
        &mut dyn FnMut() -> wallet_core::Result<(u32, Address)>,
    ) -> wallet_core::Result<Payment>,
) -> CliResult<Payment> {
    let coins = spendable(wallet)?;
    let descriptor = wallet.descriptor().clone();
    let network = wallet.network();
    let payment = {
        let mut preview = wallet.next_index(Keychain::Internal)?;
        let mut change = || -> wallet_core::Result<(u32, Address)> {
            let index = if reserve {
                wallet.new_address(Keychain::Internal, None)?.index
            } else {
                preview += 1;
                preview - 1
            };
            Ok((
                index,
                descriptor.address(Keychain::Internal, index, network)?,
            ))
        };
        let wallet_ctx = WalletContext {
            descriptor: &descriptor,
            network,
            policy_asset: policy,
        };
        build(&wallet_ctx, &coins, &mut change)?
    };
    let view = wallet_view(wallet, policy, &payment.pset)?;
    if view.net != payment.net || view.fee != payment.fee {
        return Err(CliError::new(
            Exit::Refused,
            "verification_failed",
            "the built transaction does not have the net effect it was built for; nothing was \
             signed",
        ));
    }
    Ok(payment)
}

/// Signs the wallet's inputs with `seed`, finalizes, records the transaction as pending
/// (committed) and broadcasts it through `backend`.
pub fn sign_record_broadcast(
    wallet: &mut Wallet,
    payment: &mut Payment,
    seed: &[u8; 64],
    backend: &dyn wallet_core::chain::Backend,
) -> CliResult<Txid> {
    sign_pset(&mut payment.pset, seed, wallet.network())?;
    let tx = finalize_pset(&mut payment.pset, wallet.network())?;
    record_then_broadcast(wallet, &tx, backend)
}

/// Records `tx` as pending (committed), then broadcasts it: a crash in between loses nothing.
pub fn record_then_broadcast(
    wallet: &mut Wallet,
    tx: &Transaction,
    backend: &dyn wallet_core::chain::Backend,
) -> CliResult<Txid> {
    record_pending_in(std::iter::once(wallet), tx)?;
    let txid = tx.txid();
    backend
        .broadcast(tx)
        .map_err(|e| pending_hint(e.into(), &txid))
}

/// Records `tx` as pending in each of `wallets` (each committed) before any broadcast. The
/// test hook `LIQUID_OTC_ABORT_BEFORE_BROADCAST` aborts the process right after, as a crash.
fn record_pending_in<'w>(
    wallets: impl IntoIterator<Item = &'w mut Wallet>,
    tx: &Transaction,
) -> CliResult<()> {
    for wallet in wallets {
        wallet.store_mut().record_pending(tx)?;
    }
    if std::env::var_os(ABORT_BEFORE_BROADCAST_ENV).is_some() {
        std::process::abort();
    }
    Ok(())
}

fn payment_summary(payment: &Payment) -> Value {
    json!({ "fee": payment.fee, "net": net_json(payment) })
}

/// A payment's net effect as JSON: asset id → signed base units.
pub fn net_json(payment: &Payment) -> Value {
    let net: serde_json::Map<String, Value> = payment
        .net
        .iter()
        .map(|(asset, v)| (asset.to_string(), json!(v)))
        .collect();
    Value::Object(net)
}

/// Writes a PSET to a file (0600, new) or `-` (stdout).
fn write_pset_out(
    ctx: &Context,
    target: &str,
    pset: &PartiallySignedTransaction,
    extra: Value,
) -> CliResult<()> {
    if target == "-" {
        print_pset(ctx, pset, extra);
        return Ok(());
    }
    let path = std::path::Path::new(target);
    input::write_new_secret_file(path, &format!("{pset}\n"))?;
    if ctx.out.json {
        let mut doc = json!({ "pset_file": target });
        if let (Some(map), Value::Object(more)) = (doc.as_object_mut(), extra) {
            map.extend(more);
        }
        ctx.out.json(&doc);
    } else {
        ctx.out
            .note(&format!("Wrote the unsigned PSET to {target}."));
    }
    Ok(())
}

/// `send`.
pub fn send(ctx: &Context, args: &SendArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let mut payment = build(ctx, &mut wallet, &args.payment, !args.dry_run)?;
    let summary = payment_summary(&payment);
    if let Some(target) = &args.pset_out {
        return write_pset_out(ctx, target, &payment.pset, summary);
    }
    let view = wallet_view(&wallet, ctx.policy_asset()?, &payment.pset)?;
    show_summary(ctx, &wallet, &view)?;
    if args.dry_run {
        if ctx.out.json {
            let mut doc = view_json(ctx, &payment.pset, &view)?;
            doc["dry_run"] = json!(true);
            ctx.out.json(&doc);
        } else {
            ctx.out.note("Dry run: nothing was signed or sent.");
        }
        return Ok(());
    }
    if wallet.is_watch_only() {
        return Err(wallet_core::Error::WatchOnly(format!(
            "wallet '{}' cannot sign; use --pset-out and sign with the signing wallet",
            wallet.name()
        ))
        .into());
    }
    input::confirm(
        ctx.yes,
        "sending a payment",
        "Sign and broadcast this payment?",
    )?;
    let passphrase = input::encryption_passphrase(&args.passphrase, false)?;
    let secret = wallet.unlock_seed(passphrase.as_bytes())?;
    let backend = ctx.backend()?;
    let txid = sign_record_broadcast(&mut wallet, &mut payment, &secret.seed(), backend)?;
    drop(secret);
    if ctx.out.json {
        let mut doc = summary;
        doc["txid"] = json!(txid.to_string());
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&txid.to_string());
        ctx.out
            .note("Sent. `liquid-otc txs` shows it; it confirms in the next block.");
    }
    Ok(())
}

/// Broadcasts `tx`, already recorded as pending: a failure's hint says how to settle it.
pub fn broadcast_pending(ctx: &Context, tx: &Transaction) -> CliResult<Txid> {
    let txid = tx.txid();
    let backend = ctx.backend().map_err(|e| pending_hint(e, &txid))?;
    backend
        .broadcast(tx)
        .map_err(|e| pending_hint(e.into(), &txid))
}

fn pending_hint(err: CliError, txid: &Txid) -> CliError {
    err.hint(format!(
        "the signed transaction {txid} is recorded as pending: `liquid-otc tx rebroadcast {txid}` \
         sends it again, `liquid-otc tx forget {txid}` drops it"
    ))
}

/// `pset create`.
pub fn pset_create(ctx: &Context, args: &PsetCreateArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let payment = build(ctx, &mut wallet, &args.payment, true)?;
    let summary = payment_summary(&payment);
    print_pset(ctx, &payment.pset, summary);
    Ok(())
}

/// `pset broadcast`.
pub fn pset_broadcast(ctx: &Context, args: &PsetInspectArgs) -> CliResult<()> {
    let mut pset = read_pset(&args.pset)?;
    let tx = finalize_pset(&mut pset, ctx.network)?;
    // Record it first, as `send` does, in every wallet whose coins it spends: the chosen one,
    // or without --wallet each wallet of the network (a multisig coordinator and a signer
    // may share the data folder).
    let mut spenders = Vec::new();
    for wallet in candidate_wallets(ctx)? {
        if spends_wallet(&wallet, &tx)? {
            spenders.push(wallet);
        }
    }
    let txid = if spenders.is_empty() {
        ctx.backend()?.broadcast(&tx)?
    } else {
        record_pending_in(&mut spenders, &tx)?;
        broadcast_pending(ctx, &tx)?
    };
    if ctx.out.json {
        ctx.out.json(&json!({ "txid": txid.to_string() }));
    } else {
        ctx.out.line(&txid.to_string());
    }
    Ok(())
}

/// The wallet chosen with --wallet, else every wallet of the network.
fn candidate_wallets(ctx: &Context) -> CliResult<Vec<Wallet>> {
    if ctx.wallet.is_some() {
        return Ok(vec![ctx.open_wallet()?]);
    }
    let wallets = ctx.wallets();
    wallets
        .list(ctx.network)?
        .iter()
        .map(|name| Ok(wallets.open(ctx.network, name)?))
        .collect()
}

fn spends_wallet(wallet: &Wallet, tx: &Transaction) -> CliResult<bool> {
    let owned = wallet.store().owned_outputs()?;
    Ok(tx
        .input
        .iter()
        .any(|i| owned.contains_key(&i.previous_output)))
}

fn parse_txid(text: &str) -> CliResult<Txid> {
    Txid::from_str(text.trim())
        .map_err(|_| CliError::usage("invalid_txid", format!("'{text}' is not a txid")))
}

fn find_pending(wallet: &Wallet, txid: &Txid) -> CliResult<Transaction> {
    wallet
        .store()
        .pending()?
        .into_iter()
        .find(|tx| tx.txid() == *txid)
        .ok_or_else(|| {
            CliError::new(
                Exit::Error,
                "not_pending",
                format!("{txid} is not a pending transaction"),
            )
            .hint("`liquid-otc tx pending` lists them")
        })
}

/// `tx pending`.
pub fn tx_pending(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let pending = wallet.store().pending()?;
    if ctx.out.json {
        let docs: Vec<Value> = pending
            .iter()
            .map(|tx| json!({ "txid": tx.txid().to_string(), "hex": elements::encode::serialize_hex(tx) }))
            .collect();
        ctx.out.json(&Value::Array(docs));
        return Ok(());
    }
    if pending.is_empty() {
        ctx.out.note("No pending transactions.");
    }
    for tx in &pending {
        ctx.out.line(&tx.txid().to_string());
    }
    Ok(())
}

/// `tx rebroadcast TXID`.
pub fn tx_rebroadcast(ctx: &Context, args: &TxShowArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let txid = parse_txid(&args.txid)?;
    let tx = find_pending(&wallet, &txid)?;
    let sent = broadcast_pending(ctx, &tx)?;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "txid": sent.to_string(), "rebroadcast": true }));
    } else {
        ctx.out.line(&sent.to_string());
    }
    Ok(())
}

/// `tx forget TXID`.
pub fn tx_forget(ctx: &Context, args: &TxShowArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let txid = parse_txid(&args.txid)?;
    find_pending(&wallet, &txid)?;
    input::confirm(
        ctx.yes,
        "forgetting a pending transaction",
        "Forget it? If it was broadcast after all, it may still confirm.",
    )?;
    wallet.store_mut().forget_pending(&txid)?;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "txid": txid.to_string(), "forgotten": true }));
    } else {
        ctx.out
            .note(&format!("Forgot {txid}; its coins are spendable again."));
    }
    Ok(())
}
