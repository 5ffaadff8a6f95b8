//! `asset issue | reissue | burn | list | info`.
//!
//! Issuance, reissuance and burns follow `send`: sync, build, blind and verify in
//! wallet-core, check the wallet's own view of the PSET, show it, confirm, sign, record as
//! pending (and record the issuance), then broadcast. `list` and `info` read the store only.

use std::collections::BTreeMap;
use std::str::FromStr;

use elements::{Address, AssetId, Transaction, Txid};
use serde_json::{json, Value};
use wallet_core::amount::{format_amount, parse_amount};
use wallet_core::descriptor::Keychain;
use wallet_core::store::{AssetEventKind, IssuanceRecord};
use wallet_core::tx::{
    build_burn, build_issuance, build_reissuance, contract_hash_from_json, finalize_pset,
    sign_pset, BurnRequest, IssueRequest, Payment, ReissueRequest,
};
use wallet_core::wallet::Wallet;

use crate::args::{
    AssetBurnArgs, AssetCommand, AssetInfoArgs, AssetIssueArgs, AssetReissueArgs, AssetTxArgs,
};
use crate::cmd::pset::{show_summary, view_json, wallet_view};
use crate::cmd::send::{broadcast_pending, build_checked, fee_rate, net_json};
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use crate::input;

/// Runs an `asset` subcommand.
pub fn run(ctx: &Context, command: &AssetCommand) -> CliResult<()> {
    match command {
        AssetCommand::Issue(args) => issue(ctx, args),
        AssetCommand::Reissue(args) => reissue(ctx, args),
        AssetCommand::Burn(args) => burn(ctx, args),
        AssetCommand::List => list(ctx),
        AssetCommand::Info(args) => info(ctx, args),
    }
}

fn parse_asset(text: &str, policy: AssetId) -> CliResult<AssetId> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("l-btc") || t.eq_ignore_ascii_case("lbtc") {
        return Ok(policy);
    }
    AssetId::from_str(t).map_err(|_| {
        CliError::usage("invalid_asset", format!("'{text}' is not an asset id"))
            .hint("assets are named by their 64-hex id; `asset list` shows the wallet's")
    })
}

fn format_in(precision: u8, value: u64) -> String {
    format_amount(value, precision)
}

/// A fresh change-branch address of the wallet (its index stored before use).
fn fresh_address(wallet: &mut Wallet) -> wallet_core::Result<(Keychain, u32, Address)> {
    let record = wallet.new_address(Keychain::Internal, None)?;
    let address =
        wallet
            .descriptor()
            .address(Keychain::Internal, record.index, wallet.network())?;
    Ok((Keychain::Internal, record.index, address))
}

/// Shows, confirms, signs, finalizes. `None` on a dry run (already reported).
fn sign_confirmed(
    ctx: &Context,
    wallet: &Wallet,
    payment: &mut Payment,
    args: &AssetTxArgs,
    what: &str,
) -> CliResult<Option<Transaction>> {
    let view = wallet_view(wallet, ctx.policy_asset()?, &payment.pset)?;
    show_summary(ctx, wallet, &view)?;
    if args.dry_run {
        if ctx.out.json {
            let mut doc = view_json(ctx, &payment.pset, &view)?;
            doc["dry_run"] = json!(true);
            if let Some(i) = &payment.issuance {
                doc["asset"] = json!(i.asset.to_string());
                doc["token"] = json!(i.token.to_string());
            }
            ctx.out.json(&doc);
        } else {
            ctx.out.note("Dry run: nothing was signed or sent.");
        }
        return Ok(None);
    }
    if wallet.is_watch_only() {
        return Err(wallet_core::Error::WatchOnly(format!(
            "wallet '{}' cannot sign {what}",
            wallet.name()
        ))
        .into());
    }
    input::confirm(
        ctx.yes,
        &format!("signing {what}"),
        &format!("Sign and broadcast {what}?"),
    )?;
    let passphrase = input::encryption_passphrase(&args.passphrase, false)?;
    let secret = wallet.unlock_seed(passphrase.as_bytes())?;
    sign_pset(&mut payment.pset, &secret.seed(), wallet.network())?;
    drop(secret);
    Ok(Some(finalize_pset(&mut payment.pset, wallet.network())?))
}

/// Reads the contract file: its text and hash, and its `precision` when it has one.
fn read_contract(
    path: &std::path::Path,
) -> CliResult<(String, elements::ContractHash, Option<u8>)> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?;
    let hash = contract_hash_from_json(&text).map_err(|e| {
        CliError::usage(
            "invalid_contract",
            format!("{}: {}", path.display(), e.to_string().trim_start_matches("transaction: ")),
        )
        .hint("a contract is a JSON object, e.g. {\"name\":\"My token\",\"ticker\":\"MYT\",\"precision\":0,\"version\":0}")
    })?;
    let value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let precision = match value.get("precision") {
        None => None,
        Some(p) => Some(
            p.as_u64()
                .filter(|p| *p <= 8)
                .map(|p| p as u8)
                .ok_or_else(|| {
                    CliError::usage(
                        "invalid_contract",
                        format!(
                            "{}: `precision` must be a whole number from 0 to 8",
                            path.display()
                        ),
                    )
                })?,
        ),
    };
    Ok((text, hash, precision))
}

/// `asset issue`.
fn issue(ctx: &Context, args: &AssetIssueArgs) -> CliResult<()> {
    let contract = args.contract.as_deref().map(read_contract).transpose()?;
    let contract_precision = contract.as_ref().and_then(|c| c.2);
    let precision = match (args.precision, contract_precision) {
        (Some(p), Some(c)) if p != c => {
            return Err(CliError::usage(
                "precision_mismatch",
                format!("--precision {p} differs from the contract's precision {c}"),
            ))
        }
        (Some(p), _) => p,
        (None, Some(c)) => c,
        (None, None) => 0,
    };
    let amount = parse_amount(&args.amount, precision)?;
    let token_amount = parse_amount(&args.token, 0).map_err(|_| {
        CliError::usage(
            "invalid_amount",
            format!(
                "--token '{}': a whole number of reissuance tokens",
                args.token
            ),
        )
    })?;
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.tx.scan, false)?;
    let fee_rate = fee_rate(ctx, args.tx.fee_rate.as_deref())?;
    let asset_address = fresh_address(&mut wallet)?;
    let token_address = if token_amount > 0 {
        fresh_address(&mut wallet)?
    } else {
        asset_address.clone()
    };
    let request = IssueRequest {
        amount,
        token_amount,
        contract_hash: contract.as_ref().map(|c| c.1),
        asset_address,
        token_address,
        confidential: args.confidential,
        fee_rate,
    };
    let mut payment = build_checked(
        &mut wallet,
        ctx.policy_asset()?,
        !args.tx.dry_run,
        |c, coins, change| build_issuance(c, coins, &request, change),
    )?;
    let issuance = payment
        .issuance
        .clone()
        .ok_or_else(|| CliError::new(Exit::Error, "internal", "the issuance is missing"))?;
    if !ctx.out.json && !ctx.out.quiet {
        eprintln!(
            "Issues {} (precision {precision}: {amount} base units) of asset {}",
            format_in(precision, amount),
            issuance.asset
        );
        if token_amount > 0 {
            eprintln!("with reissuance token {}", issuance.token);
        }
    }
    let Some(tx) = sign_confirmed(ctx, &wallet, &mut payment, &args.tx, "this issuance")? else {
        return Ok(());
    };
    wallet.store_mut().record_pending(&tx)?;
    let record = IssuanceRecord {
        asset: issuance.asset,
        token: issuance.token,
        entropy: issuance.entropy,
        contract_hash: issuance.contract_hash,
        contract: contract.map(|c| c.0),
        txid: tx.txid(),
        vin: 0,
        precision,
        amount,
        token_amount,
        created_at: wallet_core::store::now_secs(),
    };
    wallet.store_mut().record_issuance(&record)?;
    let txid = broadcast_pending(ctx, &tx)?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "txid": txid.to_string(),
            "asset": issuance.asset.to_string(),
            "token": issuance.token.to_string(),
            "entropy": issuance.entropy.to_string(),
            "contract_hash": issuance.contract_hash.map(|h| h.to_string()),
            "confidential": issuance.confidential,
            "amount": amount,
            "token_amount": token_amount,
            "precision": precision,
            "fee": payment.fee,
            "net": net_json(&payment),
        }));
    } else {
        ctx.out.line(&issuance.asset.to_string());
        ctx.out.note(&format!(
            "Issued {} of {} in {txid}; `asset info {}` shows it.",
            format_in(precision, amount),
            issuance.asset,
            issuance.asset
        ));
    }
    Ok(())
}

/// `asset reissue`.
fn reissue(ctx: &Context, args: &AssetReissueArgs) -> CliResult<()> {
    let policy = ctx.policy_asset()?;
    let asset = parse_asset(&args.asset, policy)?;
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.tx.scan, false)?;
    let record = issuance_for_reissue(ctx, &mut wallet, &asset, args.issuance_tx.as_deref())?;
    let names = ctx.asset_names(&wallet)?;
    let precision = precision_of(&names, &asset);
    let amount = parse_amount(&args.amount, precision)?;
    let blinded_token = AssetId::reissuance_token_from_entropy(record.entropy, true);
    let holds_token = wallet
        .store()
        .utxos()?
        .iter()
        .any(|u| u.secrets.asset == record.token || u.secrets.asset == blinded_token);
    if !holds_token {
        return Err(CliError::new(
            Exit::InsufficientFunds,
            "no_reissuance_token",
            format!(
                "the wallet does not hold the reissuance token {} of asset {asset}",
                record.token
            ),
        )
        .hint(
            "only the holder of a reissuance token can reissue; get it back into this wallet first",
        ));
    }
    let fee_rate = fee_rate(ctx, args.tx.fee_rate.as_deref())?;
    let asset_address = fresh_address(&mut wallet)?;
    // Elements reissues an asset the way it was issued: blinded after a confidential
    // issuance (whose token is the blinded kind), explicit otherwise; wallet-core refuses
    // `--confidential` for the latter with a message saying so.
    let confidential = args.confidential || record.token == blinded_token;
    let request = ReissueRequest {
        entropy: record.entropy,
        amount,
        asset_address,
        confidential,
        fee_rate,
    };
    let mut payment = build_checked(
        &mut wallet,
        ctx.policy_asset()?,
        !args.tx.dry_run,
        |c, coins, change| build_reissuance(c, coins, &request, change),
    )?;
    let Some(tx) = sign_confirmed(ctx, &wallet, &mut payment, &args.tx, "this reissuance")? else {
        return Ok(());
    };
    let txid = record_event_and_broadcast(
        ctx,
        &mut wallet,
        &tx,
        &asset,
        AssetEventKind::Reissue,
        amount,
    )?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "txid": txid.to_string(),
            "asset": asset.to_string(),
            "amount": amount,
            "confidential": confidential,
            "fee": payment.fee,
            "net": net_json(&payment),
        }));
    } else {
        ctx.out.line(&txid.to_string());
        ctx.out.note(&format!(
            "Reissued {} of {asset}.",
            format_in(precision, amount)
        ));
    }
    Ok(())
}

/// Records `tx` as pending with what it does to `asset`, then broadcasts it.
fn record_event_and_broadcast(
    ctx: &Context,
    wallet: &mut Wallet,
    tx: &Transaction,
    asset: &AssetId,
    kind: AssetEventKind,
    amount: u64,
) -> CliResult<Txid> {
    wallet.store_mut().record_pending(tx)?;
    wallet
        .store_mut()
        .record_asset_event(&tx.txid(), asset, kind, amount)?;
    broadcast_pending(ctx, tx)
}

/// The issuance of `asset` a reissuance needs: recorded when this wallet issued it; found in
/// the wallet's transactions when its keys issued it (a restored wallet; then recorded);
/// else read from the issuance transaction the user names, or the server names (a token
/// received from another wallet), its ids recomputed and checked against `asset`.
fn issuance_for_reissue(
    ctx: &Context,
    wallet: &mut Wallet,
    asset: &AssetId,
    issuance_tx: Option<&str>,
) -> CliResult<IssuanceRecord> {
    if let Some(record) = wallet.store().issuance(asset)? {
        return Ok(record);
    }
    let discovered = wallet
        .discovered_issuances()?
        .into_iter()
        .find(|d| d.asset == *asset);
    if let Some(found) = discovered {
        wallet.store_mut().record_issuance(&found)?;
        return Ok(found);
    }
    // The user's txid, else the server's answer (Esplora indexes issuances); either way only
    // a hint, checked below against the asset id.
    let txid = match issuance_tx {
        Some(text) => Txid::from_str(text.trim()).map_err(|_| {
            CliError::usage("invalid_txid", format!("'{text}' is not a txid"))
                .hint("a txid is 64 hex characters")
        })?,
        None => ctx.backend()?.issuance_tx(asset)?.ok_or_else(|| {
            CliError::usage(
                "unknown_issuance",
                format!(
                    "this wallet did not issue asset {asset}, and the server does not say \
                     which transaction did, so its entropy is unknown"
                ),
            )
            .hint("holding its reissuance token is enough: pass --issuance-tx TXID, the asset's issuance transaction (the issuer's `asset info` shows it)")
        })?,
    };
    let tx = ctx
        .backend()?
        .transactions(&[txid])?
        .pop()
        .ok_or_else(|| CliError::usage("unknown_issuance", format!("no transaction {txid}")))?;
    let found = wallet_core::tx::new_issuances(&tx)
        .into_iter()
        .find(|f| f.asset == *asset)
        .ok_or_else(|| {
            CliError::usage(
                "wrong_issuance_tx",
                format!("transaction {txid} does not issue asset {asset}"),
            )
            .hint("pass the transaction that first issued the asset, not a reissuance or a payment")
        })?;
    Ok(IssuanceRecord::found_in(txid, &found))
}

/// `asset burn`.
fn burn(ctx: &Context, args: &AssetBurnArgs) -> CliResult<()> {
    let policy = ctx.policy_asset()?;
    let asset = parse_asset(&args.asset, policy)?;
    let mut wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let precision = precision_of(&names, &asset);
    let amount = parse_amount(&args.amount, precision)?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.tx.scan, false)?;
    let held = wallet
        .store()
        .balances()?
        .get(&asset)
        .map(|b| b.confirmed.saturating_add(b.unconfirmed))
        .unwrap_or(0);
    if held < amount {
        return Err(CliError::new(
            Exit::InsufficientFunds,
            "insufficient_funds",
            format!(
                "cannot burn {} of {asset}: the wallet holds {}",
                format_in(precision, amount),
                format_in(precision, held)
            ),
        )
        .hint("`asset list` shows what the wallet holds; sync first if funds just arrived"));
    }
    let fee_rate = fee_rate(ctx, args.tx.fee_rate.as_deref())?;
    let request = BurnRequest {
        asset,
        amount,
        fee_rate,
    };
    let mut payment = build_checked(
        &mut wallet,
        ctx.policy_asset()?,
        !args.tx.dry_run,
        |c, coins, change| build_burn(c, coins, &request, change),
    )?;
    let Some(tx) = sign_confirmed(ctx, &wallet, &mut payment, &args.tx, "this burn")? else {
        return Ok(());
    };
    let txid =
        record_event_and_broadcast(ctx, &mut wallet, &tx, &asset, AssetEventKind::Burn, amount)?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "txid": txid.to_string(),
            "asset": asset.to_string(),
            "burned": amount,
            "fee": payment.fee,
            "net": net_json(&payment),
        }));
    } else {
        ctx.out.line(&txid.to_string());
        ctx.out.note(&format!(
            "Burned {} of {asset}.",
            format_in(precision, amount)
        ));
    }
    Ok(())
}

/// What the wallet knows of one asset, for `list` and `info`.
struct Known {
    confirmed: u64,
    unconfirmed: u64,
    issued: Option<IssuanceRecord>,
    /// The asset this is the reissuance token of (issued by this wallet).
    token_of: Option<AssetId>,
}

fn known_assets(wallet: &Wallet) -> CliResult<BTreeMap<AssetId, Known>> {
    let mut out: BTreeMap<AssetId, Known> = BTreeMap::new();
    let blank = || Known {
        confirmed: 0,
        unconfirmed: 0,
        issued: None,
        token_of: None,
    };
    for (asset, b) in wallet.store().balances()? {
        let k = out.entry(asset).or_insert_with(blank);
        k.confirmed = b.confirmed;
        k.unconfirmed = b.unconfirmed;
    }
    let mut issued = wallet.store().issuances()?;
    issued.extend(wallet.discovered_issuances()?);
    for record in issued {
        let token = record.token;
        let asset = record.asset;
        out.entry(asset).or_insert_with(blank).issued = Some(record);
        if let Some(k) = out.get_mut(&token) {
            k.token_of = Some(asset);
        }
    }
    Ok(out)
}

/// The precision amounts of `asset` are typed and shown in: known (built-in or issued by
/// this wallet), else base units.
fn precision_of(names: &AssetNames, asset: &AssetId) -> u8 {
    names.precision(asset).unwrap_or(0)
}

/// `asset list`.
fn list(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let known = known_assets(&wallet)?;
    if ctx.out.json {
        let rows: Vec<Value> = known
            .iter()
            .map(|(asset, k)| {
                json!({
                    "asset": asset.to_string(),
                    "ticker": names.ticker(asset),
                    "precision": precision_of(&names, asset),
                    "confirmed": k.confirmed,
                    "unconfirmed": k.unconfirmed,
                    "issued_by_wallet": k.issued.is_some(),
                    "token": k.issued.as_ref().map(|r| r.token.to_string()),
                    "token_of": k.token_of.map(|a| a.to_string()),
                })
            })
            .collect();
        ctx.out.json(&json!({ "assets": rows }));
        return Ok(());
    }
    if known.is_empty() {
        ctx.out.line("no assets");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = known
        .iter()
        .map(|(asset, k)| {
            let p = precision_of(&names, asset);
            let what = match (&k.issued, k.token_of) {
                (Some(_), _) => "issued here".to_owned(),
                (None, Some(of)) => format!("token of {}", short(&of)),
                (None, None) => "-".to_owned(),
            };
            vec![
                names.ticker(asset).unwrap_or_else(|| "-".to_owned()),
                format_amount(k.confirmed.saturating_add(k.unconfirmed), p),
                what,
                asset.to_string(),
            ]
        })
        .collect();
    ctx.out
        .table(&["TICKER", "BALANCE", "ISSUANCE", "ASSET"], &rows);
    ctx.out
        .note("balances as of the last sync (`balance` syncs)");
    Ok(())
}

fn short(asset: &AssetId) -> String {
    let s = asset.to_string();
    format!("{}…", &s[..12])
}

/// `asset info`.
fn info(ctx: &Context, args: &AssetInfoArgs) -> CliResult<()> {
    let policy = ctx.policy_asset()?;
    let asset = parse_asset(&args.id, policy)?;
    let wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let known = known_assets(&wallet)?;
    let k = known.get(&asset);
    let ticker = names.ticker(&asset);
    if k.is_none() && ticker.is_none() {
        return Err(CliError::usage(
            "unknown_asset",
            format!("this wallet neither holds nor issued asset {asset}, and it is not a well-known asset"),
        )
        .hint("`asset list` shows the wallet's assets; sync first if it just arrived"));
    }
    let p = precision_of(&names, &asset);
    let issued = k.and_then(|k| k.issued.as_ref());
    let events = wallet.store().asset_events(&asset)?;
    let sum = |kind: AssetEventKind| -> u64 {
        events
            .iter()
            .filter(|e| e.kind == kind)
            .fold(0u64, |acc, e| acc.saturating_add(e.amount))
    };
    let (confirmed, unconfirmed) = k.map_or((0, 0), |k| (k.confirmed, k.unconfirmed));
    // A discovered issuance (restored wallet) has no events: its amount is on the chain.
    let issued_amount = if events.iter().any(|e| e.kind == AssetEventKind::Issue) {
        sum(AssetEventKind::Issue)
    } else {
        issued.map_or(0, |r| r.amount)
    };
    if ctx.out.json {
        ctx.out.json(&json!({
            "asset": asset.to_string(),
            "ticker": ticker,
            "precision": p,
            "confirmed": confirmed,
            "unconfirmed": unconfirmed,
            "issued_by_wallet": issued.is_some(),
            "token": issued.map(|r| r.token.to_string()),
            "token_of": k.and_then(|k| k.token_of).map(|a| a.to_string()),
            "entropy": issued.map(|r| r.entropy.to_string()),
            "contract_hash": issued.and_then(|r| r.contract_hash).map(|h| h.to_string()),
            "contract": issued.and_then(|r| r.contract.as_deref()).and_then(|c| serde_json::from_str::<Value>(c).ok()),
            "issuance_txid": issued.map(|r| r.txid.to_string()),
            "issuance_vin": issued.map(|r| r.vin),
            "issued_amount": issued_amount,
            "reissued_amount": sum(AssetEventKind::Reissue),
            "burned_amount": sum(AssetEventKind::Burn),
            "token_amount": issued.map(|r| r.token_amount),
        }));
        return Ok(());
    }
    let mut rows: Vec<(&str, String)> = vec![
        ("asset", asset.to_string()),
        (
            "ticker",
            ticker.unwrap_or_else(|| "- (none trusted)".to_owned()),
        ),
        ("precision", p.to_string()),
        ("balance", format_amount(confirmed, p)),
        ("unconfirmed", format_amount(unconfirmed, p)),
    ];
    if let Some(of) = k.and_then(|k| k.token_of) {
        rows.push(("token of", of.to_string()));
    }
    if let Some(r) = issued {
        rows.push(("issued here", format!("{}:{}", r.txid, r.vin)));
        rows.push(("token", r.token.to_string()));
        rows.push(("tokens issued", r.token_amount.to_string()));
        rows.push(("entropy", r.entropy.to_string()));
        rows.push((
            "contract hash",
            r.contract_hash
                .map_or_else(|| "- (no contract)".to_owned(), |h| h.to_string()),
        ));
        rows.push(("issued", format_amount(issued_amount, p)));
        rows.push(("reissued", format_amount(sum(AssetEventKind::Reissue), p)));
    }
    if !events.is_empty() || issued.is_some() {
        rows.push(("burned here", format_amount(sum(AssetEventKind::Burn), p)));
    }
    ctx.out.fields(&rows);
    Ok(())
}
