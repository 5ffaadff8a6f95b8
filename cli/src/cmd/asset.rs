//! `asset issue | reissue | burn | list | info`.
//!
//! Issuance, reissuance and burns follow `send`: sync, build, blind and verify in
//! wallet-core, check the wallet's own view of the PSET, show it, confirm, sign, record as
//! pending (and record the issuance), then broadcast. `list` and `info` read the store only.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use elements::{AssetId, Txid};
use serde_json::{json, Value};
use wallet_core::amount::{format_amount, parse_amount};
use wallet_core::ops::assets::{
    find_issuance, prepare_burn, prepare_issue, prepare_reissue, IssueTerms,
};
use wallet_core::ops::{Mode, Prepared};
use wallet_core::store::{AssetEventKind, IssuanceRecord};
use wallet_core::tx::{contract_hash_from_json, FeeRate};
use wallet_core::wallet::Wallet;

use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use crate::signing;
use crate::values::{self, AssetArg, Decimal};
use crate::view::{asking, net_json, show_summary, shows_summary};

/// Long help of `asset`.
pub const ASSET_LONG_HELP: &str = "Issue, reissue and burn assets; list and inspect the wallet's \
assets.\n\nIssued and reissued amounts are explicit in the transaction (the supply is public) \
unless `--confidential` blinds them. The outputs receiving them, at fresh change addresses of \
this wallet, are always blinded. Amounts are decimals in \
the asset's precision: 0 unless `asset issue --precision P` (0 to 8, stored with the issuance) \
or a `precision` in the contract says otherwise, and the issuing wallet uses it in every \
command; reissuance tokens are whole numbers. Other wallets type and show an asset in base \
units until you label it with a precision (`asset label ASSET --ticker T --precision P`). \
Tickers come only from the built-in list of well-known assets and your labels.\n\nA wallet holding a reissuance token \
it did not issue reads the entropy from the asset's issuance transaction: the one Esplora names, \
or over Electrum the one given with `--issuance-tx TXID`; the asset id is recomputed from it and \
must match.\n\nExit status 2 for a malformed asset id; 1 for a well-formed id of an asset the \
wallet neither holds nor issued and that no label or the built-in list names (`asset info`, \
`asset burn`), and for `asset reissue` of an asset whose issuance is unknown or named by a \
transaction that does not issue it; 5 when burning more of a known asset than the wallet holds \
or reissuing without the reissuance token.";

/// `asset` subcommands: the wallet's own ([`AssetCommand`]) and the user's labels, which need
/// no wallet.
#[derive(Debug, Subcommand)]
pub enum AssetGroup {
    /// The commands on the wallet's assets.
    #[command(flatten)]
    Wallet(AssetCommand),
    /// Label an asset with your own ticker and/or precision (in the data folder's
    /// config.json; needs no wallet).
    #[command(long_about = crate::cmd::label::ASSET_LABEL_LONG_HELP)]
    Label(crate::cmd::label::AssetLabelArgs),
    /// Remove your label of an asset (nothing to do when there is none).
    Unlabel(crate::cmd::label::AssetUnlabelArgs),
    /// List your asset labels of the network.
    Labels,
}

/// `asset` subcommands on the wallet's assets.
#[derive(Debug, Subcommand)]
pub enum AssetCommand {
    /// Issue a new asset (and optionally reissuance tokens) to this wallet.
    Issue(AssetIssueArgs),
    /// Issue more of an asset this wallet issued, spending (and keeping) its reissuance token.
    Reissue(AssetReissueArgs),
    /// Destroy an amount of an asset: an explicit output to an OP_RETURN script.
    Burn(AssetBurnArgs),
    /// The assets this wallet holds or issued (from the last sync; no network).
    List,
    /// What the wallet knows of one asset: ids, precision, contract, supply it made (no network).
    Info(AssetInfoArgs),
}

/// Options shared by the asset commands that sign and broadcast.
#[derive(Debug, Args)]
pub struct AssetTxArgs {
    /// Fee rate in sat per discounted vbyte, 0.1 to 1000 [default: the server's estimate].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<FeeRate>,
    /// Build, blind and show the transaction, then stop before signing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `asset issue`.
#[derive(Debug, Args)]
pub struct AssetIssueArgs {
    /// Amount to issue, a decimal in the asset's precision (see --precision).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Decimal,
    /// Reissuance tokens to create (a whole number; 0: the asset can never be reissued).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = values::token_count)]
    pub token: u64,
    /// A JSON contract (an object) whose hash the asset id commits to.
    #[arg(long, value_name = "FILE")]
    pub contract: Option<PathBuf>,
    /// Decimal places of the asset [default: the contract's `precision`, else 0].
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub precision: Option<u8>,
    /// Blind the issued amounts: the chain shows commitments instead of the supply (only this
    /// wallet knows the amounts). Without it they are explicit: anyone can audit the supply.
    #[arg(long)]
    pub confidential: bool,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// Arguments of `asset reissue`.
#[derive(Debug, Args)]
pub struct AssetReissueArgs {
    /// The asset id (64 hex characters); this wallet must hold its reissuance token.
    #[arg(value_name = "ASSET")]
    pub asset: AssetArg,
    /// Amount to issue, a decimal in the asset's precision (base units when it is unknown).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Decimal,
    /// The asset's issuance transaction, when another wallet issued it and the server cannot
    /// say which one it is (Electrum): the entropy a reissuance needs is read from there
    /// (and checked against the asset id).
    #[arg(long, value_name = "TXID", value_parser = values::txid)]
    pub issuance_tx: Option<Txid>,
    /// Blind the reissued amount: the chain shows a commitment instead of the amount. Elements
    /// reissues an asset the way it was issued: implied after `asset issue --confidential`,
    /// refused after an issuance with explicit amounts.
    #[arg(long)]
    pub confidential: bool,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// Arguments of `asset burn`.
#[derive(Debug, Args)]
pub struct AssetBurnArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ASSET")]
    pub asset: AssetArg,
    /// Amount to destroy, a decimal in the asset's precision (base units when it is unknown).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: Decimal,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// Arguments of `asset info`.
#[derive(Debug, Args)]
pub struct AssetInfoArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ID")]
    pub id: AssetArg,
}

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

fn format_in(precision: u8, value: u64) -> String {
    format_amount(value, precision)
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

/// Shows the prepared transaction; on a dry run prints it and stops (`Ok(None)`), otherwise
/// asks, signs, records and broadcasts it.
fn show_and_commit(
    ctx: &Context,
    wallet: &mut Wallet,
    names: &AssetNames,
    prepared: Prepared,
    args: &AssetTxArgs,
    what: &str,
) -> CliResult<Option<(Txid, Value)>> {
    show_summary(ctx, names, &prepared.view, asking(ctx, args.dry_run))?;
    let summary = json!({ "fee": prepared.fee(), "net": net_json(prepared.net()) });
    if args.dry_run {
        // Amounts in JSON are base units; the precision says how people read them.
        let ids = match &prepared.issuance {
            Some(i) => json!({
                "asset": i.asset.to_string(),
                "token": i.token.to_string(),
                "precision": names.precision(&i.asset),
            }),
            None => json!({}),
        };
        crate::view::print_dry_run(ctx, &prepared, ids);
        return Ok(None);
    }
    let committed = signing::confirm_and_commit(
        ctx,
        wallet,
        prepared,
        &args.passphrase,
        &format!("signing {what}"),
        &format!("Sign and broadcast {what}?"),
    )?;
    Ok(Some((committed.txid, summary)))
}

fn mode(args: &AssetTxArgs) -> Mode {
    if args.dry_run {
        Mode::DryRun
    } else {
        Mode::ForSigning
    }
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
    let amount = parse_amount(&args.amount.0, precision)?;
    let token_amount = args.token;
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.tx.scan, false)?;
    let terms = IssueTerms {
        amount,
        token_amount,
        contract: contract.as_ref().map(|c| (c.0.clone(), c.1)),
        precision,
        confidential: args.confidential,
        fee_rate: ctx.fee_rate(args.tx.fee_rate)?,
    };
    let prepared = prepare_issue(&mut wallet, &terms, mode(&args.tx))?;
    let issuance = prepared
        .issuance
        .clone()
        .ok_or_else(|| CliError::new(Exit::Error, "internal", "the issuance is missing"))?;
    if shows_summary(&ctx.out, asking(ctx, args.tx.dry_run)) {
        crate::output::write_stderr(&format!(
            "Issues {} of asset {} (precision {precision})",
            format_in(precision, amount),
            issuance.asset
        ));
        if token_amount > 0 {
            crate::output::write_stderr(&format!(
                "with {token_amount} reissuance token(s) {}",
                issuance.token
            ));
        }
    }
    // The new asset is shown in the precision given, as the wallet will once it is recorded.
    let names = ctx
        .asset_names(&wallet)?
        .with_issued(issuance.asset, precision);
    let Some((txid, summary)) = show_and_commit(
        ctx,
        &mut wallet,
        &names,
        prepared,
        &args.tx,
        "this issuance",
    )?
    else {
        return Ok(());
    };
    if ctx.out.json {
        let mut doc = json!({
            "txid": txid.to_string(),
            "asset": issuance.asset.to_string(),
            "token": issuance.token.to_string(),
            "entropy": issuance.entropy.to_string(),
            "contract_hash": issuance.contract_hash.map(|h| h.to_string()),
            "confidential": issuance.confidential,
            "amount": amount,
            "token_amount": token_amount,
            "precision": precision,
        });
        crate::view::merge(&mut doc, summary);
        ctx.out.json(&doc);
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
    let asset = args.asset.resolve(ctx.policy_asset()?);
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.tx.scan, false)?;
    let (record, _) = find_issuance(&mut wallet, ctx.backend()?, &asset, args.issuance_tx)?;
    let names = ctx.asset_names(&wallet)?;
    let precision = precision_of(&names, &asset);
    let amount = parse_amount(&args.amount.0, precision)?;
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
    // Elements reissues an asset the way it was issued: blinded after a confidential issuance
    // (whose token is the blinded kind), explicit otherwise; wallet-core refuses
    // `--confidential` for the latter with a message saying so.
    let confidential = args.confidential || record.token == blinded_token;
    let prepared = prepare_reissue(
        &mut wallet,
        &record,
        amount,
        confidential,
        ctx.fee_rate(args.tx.fee_rate)?,
        mode(&args.tx),
    )?;
    let Some((txid, summary)) = show_and_commit(
        ctx,
        &mut wallet,
        &names,
        prepared,
        &args.tx,
        "this reissuance",
    )?
    else {
        return Ok(());
    };
    if ctx.out.json {
        let mut doc = json!({
            "txid": txid.to_string(),
            "asset": asset.to_string(),
            "amount": amount,
            "confidential": confidential,
        });
        crate::view::merge(&mut doc, summary);
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&txid.to_string());
        ctx.out.note(&format!(
            "Reissued {} of {asset}.",
            format_in(precision, amount)
        ));
    }
    Ok(())
}

/// `asset burn`.
fn burn(ctx: &Context, args: &AssetBurnArgs) -> CliResult<()> {
    let asset = args.asset.resolve(ctx.policy_asset()?);
    let mut wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let precision = precision_of(&names, &asset);
    let amount = parse_amount(&args.amount.0, precision)?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.tx.scan, false)?;
    let held = wallet
        .store()
        .balances()?
        .get(&asset)
        .map(|b| b.confirmed.saturating_add(b.unconfirmed))
        .unwrap_or(0);
    // Holding none of an asset the wallet knows (issued here, labelled, well known) is a
    // shortfall (exit 5); an asset it knows nothing of is unknown (exit 1), as for `info`.
    if held == 0 && !is_known(&names, &known_assets(&wallet)?, &asset) {
        return Err(unknown_asset(&asset));
    }
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
    let prepared = prepare_burn(
        &mut wallet,
        asset,
        amount,
        ctx.fee_rate(args.tx.fee_rate)?,
        mode(&args.tx),
    )?;
    let Some((txid, summary)) =
        show_and_commit(ctx, &mut wallet, &names, prepared, &args.tx, "this burn")?
    else {
        return Ok(());
    };
    if ctx.out.json {
        let mut doc = json!({
            "txid": txid.to_string(),
            "asset": asset.to_string(),
            "burned": amount,
        });
        crate::view::merge(&mut doc, summary);
        ctx.out.json(&doc);
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

/// Whether the wallet knows anything of `asset`: it holds or issued it, or the built-in list
/// or the user's labels name it.
fn is_known(names: &AssetNames, known: &BTreeMap<AssetId, Known>, asset: &AssetId) -> bool {
    known.contains_key(asset) || names.ticker(asset).is_some() || names.precision(asset).is_some()
}

/// A well-formed asset id the wallet knows nothing of: it neither holds nor issued it, and
/// neither the built-in list nor the user's labels name it. Exit 1, as every unknown thing (a
/// malformed id is a usage error, exit 2).
fn unknown_asset(asset: &AssetId) -> CliError {
    CliError::new(
        Exit::Error,
        "unknown_asset",
        format!(
            "this wallet neither holds nor issued asset {asset}, and it is not a well-known \
             asset"
        ),
    )
    .hint("`asset list` shows the wallet's assets; sync first if it just arrived")
}

/// `asset info`.
fn info(ctx: &Context, args: &AssetInfoArgs) -> CliResult<()> {
    let asset = args.id.resolve(ctx.policy_asset()?);
    let wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let known = known_assets(&wallet)?;
    let k = known.get(&asset);
    let ticker = names.ticker(&asset);
    if !is_known(&names, &known, &asset) {
        return Err(unknown_asset(&asset));
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
