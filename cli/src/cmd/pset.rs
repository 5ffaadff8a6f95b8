//! `pset create | inspect | sign | combine | finalize | broadcast`: PSETs through files and
//! pipes. What may be signed is decided in wallet-core (`ops::pset_sign`); this module reads,
//! shows, asks and writes.

use clap::{Args, Subcommand};
use serde_json::json;
use wallet_core::ops::pset_sign::{broadcast_pset, inspect_pset, prepare_pset_sign};
use wallet_core::ops::Mode;
use wallet_core::pset::public_view;
use wallet_core::tx::finalize_pset;
use wallet_core::wallet::Wallet;

use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::input;
use crate::pay::{self, PaymentArgs};
use crate::signing;
use crate::view::{
    asking, print_pset, read_pset, read_pset_or_tx, show_summary, show_table, view_json,
};

/// `pset` subcommands: each reads a PSET from a file or `-` (stdin), as bare base64 or as the
/// JSON document the previous stage printed, and writes stdout.
#[derive(Debug, Subcommand)]
pub enum PsetCommand {
    /// Build an unsigned, blinded PSET paying the recipients (as `send`, without signing).
    Create(PsetCreateArgs),
    /// Show a PSET: every input and output, the fee, issuances; with a wallet (read offline,
    /// as of its last sync), its net effect, what it can unblind, and every reason it would
    /// refuse to sign.
    Inspect(PsetInspectArgs),
    /// Sign exactly this wallet's inputs (SIGHASH_ALL) after showing what is signed; prints
    /// the PSET. Syncs first, and refuses a PSET it cannot fully account for.
    Sign(PsetSignArgs),
    /// Merge the signatures and data of several copies of one PSET.
    Combine(PsetCombineArgs),
    /// Finalize every input from its signatures; prints the PSET, or the transaction with
    /// --extract. Names the inputs still short of signatures, and whose.
    Finalize(PsetFinalizeArgs),
    /// Finalize if needed, record as pending in each wallet whose coins it spends (the
    /// --wallet one, or without it every wallet of the network), broadcast. Reads a PSET or
    /// the transaction `pset finalize --extract` printed (hex or its --json document).
    Broadcast(PsetBroadcastArgs),
}

/// Arguments of `pset create`.
#[derive(Debug, Args)]
pub struct PsetCreateArgs {
    #[command(flatten)]
    pub payment: PaymentArgs,
}

/// Arguments of `pset inspect`.
#[derive(Debug, Args)]
pub struct PsetInspectArgs {
    /// A file holding the PSET (base64 or a stage's JSON output), or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
}

/// Arguments of `pset broadcast`.
#[derive(Debug, Args)]
pub struct PsetBroadcastArgs {
    /// A file holding the PSET (base64 or a stage's JSON output) or the final transaction
    /// (hex, or `pset finalize --extract --json`'s document), or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
}

/// Arguments of `pset sign`.
#[derive(Debug, Args)]
pub struct PsetSignArgs {
    /// A file holding the PSET (base64 or a stage's JSON output), or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
    /// Do not contact the chain server: no sync, no lookup of coins the wallet has not stored
    /// (an input that claims to be the wallet's without being stored is then refused).
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `pset combine`.
#[derive(Debug, Args)]
pub struct PsetCombineArgs {
    /// Two or more PSET files (one of them may be `-`).
    #[arg(value_name = "FILE|-", num_args = 2.., required = true)]
    pub psets: Vec<String>,
}

/// Arguments of `pset finalize`.
#[derive(Debug, Args)]
pub struct PsetFinalizeArgs {
    /// A file holding the PSET (base64 or a stage's JSON output), or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
    /// Print the final transaction (hex) instead of the finalized PSET.
    #[arg(long)]
    pub extract: bool,
}

/// Runs a `pset` subcommand.
pub fn run(ctx: &Context, command: &PsetCommand) -> CliResult<()> {
    match command {
        PsetCommand::Create(args) => create(ctx, args),
        PsetCommand::Inspect(args) => inspect(ctx, args),
        PsetCommand::Sign(args) => sign(ctx, args),
        PsetCommand::Combine(args) => combine(ctx, args),
        PsetCommand::Finalize(args) => finalize(ctx, args),
        PsetCommand::Broadcast(args) => broadcast(ctx, args),
    }
}

fn create(ctx: &Context, args: &PsetCreateArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let prepared = pay::prepare(ctx, &mut wallet, &args.payment, Mode::ForSigning)?;
    print_pset(ctx, &prepared.pset, pay::summary(&prepared));
    Ok(())
}

/// The wallet to read a PSET with: the `--wallet` one, or the network's only wallet; `None`
/// when no wallet was named and the network has none or several.
fn optional_wallet(ctx: &Context) -> CliResult<Option<Wallet>> {
    if ctx.wallet.is_some() {
        return ctx.open_wallet().map(Some);
    }
    match ctx.wallets().list(ctx.network)?.len() {
        1 => ctx.open_wallet().map(Some),
        _ => Ok(None),
    }
}

fn inspect(ctx: &Context, args: &PsetInspectArgs) -> CliResult<()> {
    let pset = read_pset(&args.pset)?;
    let wallet = optional_wallet(ctx)?;
    let view = match &wallet {
        // Offline, from the store: coins it has not synced are marked as such (sync first, or
        // let `pset sign` do it) and the rest is shown.
        Some(w) => inspect_pset(w, &pset, None)?,
        None => public_view(&pset, ctx.network, ctx.policy_asset()?)?,
    };
    if ctx.out.json {
        let mut doc = view_json(ctx, &pset, &view);
        doc["wallet"] = json!(wallet.as_ref().map(|w| w.name()));
        ctx.out.json(&doc);
        return Ok(());
    }
    let names = match &wallet {
        Some(w) => ctx.asset_names(w)?,
        None => ctx.trusted_asset_names()?,
    };
    show_table(ctx, &names, &pset, &view, wallet.is_some())?;
    if wallet.is_none() {
        ctx.out.note(
            "no wallet chosen: this is what anyone can read; pass --wallet NAME for its net effect",
        );
    }
    Ok(())
}

fn sign(ctx: &Context, args: &PsetSignArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    signing::check_can_sign(&wallet, "sign with a wallet restored from a mnemonic")?;
    let pset = read_pset(&args.pset)?;
    let backend = if args.offline {
        None
    } else {
        crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
        Some(ctx.backend()?)
    };
    let mut prepared = prepare_pset_sign(&wallet, pset, backend)?;
    let names = ctx.asset_names(&wallet)?;
    show_summary(ctx, &names, &prepared.view, asking(ctx, false))?;
    input::confirm(ctx.yes, "signing a PSET", "Sign this PSET?")?;
    let secret = signing::unlock(&wallet, &args.passphrase)?;
    let added = prepared.sign(&mut wallet, &secret)?;
    drop(secret);
    ctx.out.note(&format!(
        "Added {added} signature(s) from wallet '{}'.",
        wallet.name()
    ));
    print_pset(ctx, &prepared.pset, json!({ "signatures_added": added }));
    Ok(())
}

fn combine(ctx: &Context, args: &PsetCombineArgs) -> CliResult<()> {
    if args.psets.iter().filter(|p| p.as_str() == "-").count() > 1 {
        return Err(CliError::usage(
            "invalid_pset",
            "stdin (-) can be read only once",
        ));
    }
    let mut psets = args.psets.iter();
    let first = psets.next().map(String::as_str).unwrap_or("-");
    let mut combined = read_pset(first)?;
    for source in psets {
        let other = read_pset(source)?;
        combined.merge(other).map_err(|e| {
            CliError::new(
                Exit::Refused,
                "pset_mismatch",
                format!("{source} cannot be combined with {first}: {e}"),
            )
            .hint("combine only copies of the same PSET, signed by different wallets")
        })?;
    }
    print_pset(ctx, &combined, json!({}));
    Ok(())
}

fn finalize(ctx: &Context, args: &PsetFinalizeArgs) -> CliResult<()> {
    let mut pset = read_pset(&args.pset)?;
    let tx = finalize_pset(&mut pset, ctx.network)?;
    if args.extract {
        let hex = elements::encode::serialize_hex(&tx);
        if ctx.out.json {
            ctx.out
                .json(&json!({ "txid": tx.txid().to_string(), "hex": hex }));
        } else {
            ctx.out.line(&hex);
        }
    } else {
        print_pset(ctx, &pset, json!({ "txid": tx.txid().to_string() }));
    }
    Ok(())
}

/// The wallet chosen with --wallet, else every wallet of the network.
fn candidate_wallets(ctx: &Context) -> CliResult<Vec<Wallet>> {
    if ctx.wallet.is_some() {
        return Ok(vec![ctx.open_wallet()?]);
    }
    let wallets = ctx.wallets();
    let policy = ctx.policy_asset()?;
    wallets
        .list(ctx.network)?
        .iter()
        .map(|name| {
            let mut wallet = wallets.open(ctx.network, name)?;
            wallet.set_policy_asset(policy);
            Ok(wallet)
        })
        .collect()
}

/// Gives the inputs of a PSET made from a final transaction the outputs they spend, read from
/// the chain server (each previous transaction checked against its txid), so that the
/// transaction is checked before it is broadcast as a PSET from a signer is.
fn add_spent_outputs(
    pset: &mut elements::pset::PartiallySignedTransaction,
    backend: &dyn wallet_core::chain::Backend,
) -> CliResult<()> {
    let txids: std::collections::BTreeSet<elements::Txid> = pset
        .inputs()
        .iter()
        .filter(|i| !i.is_pegin())
        .map(|i| i.previous_outpoint().txid)
        .collect();
    let previous = backend.transactions(&txids.into_iter().collect::<Vec<_>>())?;
    for input in pset.inputs_mut() {
        let outpoint = input.previous_outpoint();
        input.witness_utxo = previous
            .iter()
            .find(|t| t.txid() == outpoint.txid)
            .and_then(|t| t.output.get(outpoint.vout as usize))
            .cloned()
            .or(input.witness_utxo.take());
    }
    Ok(())
}

fn broadcast(ctx: &Context, args: &PsetBroadcastArgs) -> CliResult<()> {
    let (mut pset, from_tx) = read_pset_or_tx(&args.pset)?;
    if from_tx {
        add_spent_outputs(&mut pset, ctx.backend()?)?;
    }
    // An unsigned PSET is named as such before any server is contacted.
    finalize_pset(&mut pset, ctx.network)?;
    let mut wallets = candidate_wallets(ctx)?;
    let txid = broadcast_pset(&mut wallets, &mut pset, ctx.network, ctx.backend()?)?;
    if ctx.out.json {
        ctx.out.json(&json!({ "txid": txid.to_string() }));
    } else {
        ctx.out.line(&txid.to_string());
    }
    Ok(())
}
