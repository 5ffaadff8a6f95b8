//! `address new | list | inspect`.

use serde_json::{json, Value};
use wallet_core::address::{inspect as inspect_address, AddressInfo};
use wallet_core::descriptor::Keychain;
use wallet_core::store::AddressRecord;

use crate::context::Context;
use crate::error::CliResult;
use clap::{Args, Subcommand};

/// `address` subcommands.
#[derive(Debug, Subcommand)]
pub enum AddressCommand {
    /// Hand out the next receive address (never the same one twice).
    New(AddressNewArgs),
    /// List the addresses handed out so far.
    List(AddressListArgs),
    /// Decode any Liquid address offline: network, blinding key, script (needs no wallet).
    Inspect(AddressInspectArgs),
}

/// Arguments of `address new`.
#[derive(Debug, Args)]
pub struct AddressNewArgs {
    /// A label stored with the address.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Hand out a change (internal) address instead of a receive address.
    #[arg(long)]
    pub change: bool,
}

/// Arguments of `address list`.
#[derive(Debug, Args)]
pub struct AddressListArgs {
    /// Also list change (internal) addresses.
    #[arg(long)]
    pub all: bool,
}

/// Arguments of `address inspect`.
#[derive(Debug, Args)]
pub struct AddressInspectArgs {
    /// The address to decode.
    pub address: String,
}

/// Runs an `address` subcommand.
pub fn run(ctx: &Context, command: &AddressCommand) -> CliResult<()> {
    match command {
        AddressCommand::New(args) => new(ctx, args),
        AddressCommand::List(args) => list(ctx, args),
        AddressCommand::Inspect(args) => inspect(ctx, args),
    }
}

/// The unconfidential form of an address string of this wallet.
fn unconfidential(address: &str) -> CliResult<String> {
    Ok(inspect_address(address)?.unconfidential)
}

fn record_json(record: &AddressRecord) -> CliResult<Value> {
    Ok(json!({
        "address": record.address,
        "index": record.index,
        "keychain": record.keychain.as_str(),
        "unconfidential": unconfidential(&record.address)?,
        "label": record.label,
    }))
}

fn new(ctx: &Context, args: &AddressNewArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    let keychain = if args.change {
        Keychain::Internal
    } else {
        Keychain::External
    };
    let record = wallet.new_address(keychain, args.label.as_deref())?;
    if ctx.out.json {
        let mut doc = record_json(&record)?;
        if let Some(map) = doc.as_object_mut() {
            map.remove("keychain");
        }
        ctx.out.json(&doc);
        return Ok(());
    }
    ctx.out.line(&record.address);
    ctx.out.note(&format!(
        "{} address {} of wallet '{}'{}",
        if args.change { "change" } else { "receive" },
        record.index,
        wallet.name(),
        record
            .label
            .as_ref()
            .map(|l| format!(", label \"{l}\""))
            .unwrap_or_default()
    ));
    Ok(())
}

fn list(ctx: &Context, args: &AddressListArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let records: Vec<AddressRecord> = wallet
        .addresses()?
        .into_iter()
        .filter(|r| args.all || r.keychain == Keychain::External)
        .collect();
    if ctx.out.json {
        let docs = records
            .iter()
            .map(record_json)
            .collect::<CliResult<Vec<_>>>()?;
        ctx.out.json(&Value::Array(docs));
        return Ok(());
    }
    if records.is_empty() {
        ctx.out.note(&format!(
            "No addresses handed out yet; `{}` makes one.",
            ctx.suggest(Some(wallet.name()), "address new")
        ));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = records
        .iter()
        .map(|r| {
            vec![
                r.index.to_string(),
                r.keychain.as_str().to_string(),
                r.label.clone().unwrap_or_default(),
                r.address.clone(),
            ]
        })
        .collect();
    ctx.out
        .table(&["INDEX", "CHAIN", "LABEL", "ADDRESS"], &rows);
    Ok(())
}

fn inspect(ctx: &Context, args: &AddressInspectArgs) -> CliResult<()> {
    let address = args.address.trim();
    let info: AddressInfo = if ctx.network_explicit {
        // The user named a network: an address of another network is a usage error.
        crate::pay::check_address_network("<ADDRESS>", address, ctx.network)?;
        inspect_address(address)?
    } else {
        inspect_address(address)?
    };
    if ctx.out.json {
        ctx.out
            .json(&serde_json::to_value(&info).unwrap_or(Value::Null));
        return Ok(());
    }
    ctx.out.fields(&[
        ("address", info.address.clone()),
        ("network", info.network.to_string()),
        ("confidential", info.confidential.to_string()),
        (
            "blinding pubkey",
            info.blinding_pubkey.clone().unwrap_or_else(|| "-".into()),
        ),
        ("unconfidential", info.unconfidential.clone()),
        ("script type", info.script_type.clone()),
        ("scriptPubKey", info.script_pubkey.clone()),
    ]);
    Ok(())
}
