//! `pset inspect | sign | combine | finalize`: PSETs through files and pipes.

use std::io::Read;
use std::str::FromStr;

use elements::hex::DisplayHex;
use elements::pset::PartiallySignedTransaction;
use elements::{Address, AssetId};
use serde_json::{json, Value};
use wallet_core::descriptor::Keychain;
use wallet_core::pset::{outpoint_text, script_map, view, Owner, PsetView, WalletKnowledge};
use wallet_core::tx::{finalize_pset, sign_pset};
use wallet_core::wallet::Wallet;

use crate::args::{PsetCombineArgs, PsetCommand, PsetFinalizeArgs, PsetInspectArgs, PsetSignArgs};
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use crate::input;

/// How far past the next unused index the wallet's scripts are recognised.
const SCRIPT_LOOKAHEAD: u32 = 20;

/// Runs a `pset` subcommand.
pub fn run(ctx: &Context, command: &PsetCommand) -> CliResult<()> {
    match command {
        PsetCommand::Create(args) => crate::cmd::send::pset_create(ctx, args),
        PsetCommand::Inspect(args) => inspect(ctx, args),
        PsetCommand::Sign(args) => sign(ctx, args),
        PsetCommand::Combine(args) => combine(ctx, args),
        PsetCommand::Finalize(args) => finalize(ctx, args),
        PsetCommand::Broadcast(args) => crate::cmd::send::pset_broadcast(ctx, args),
    }
}

/// Reads a base64 PSET from a file or `-` (stdin).
pub fn read_pset(source: &str) -> CliResult<PartiallySignedTransaction> {
    let text = if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(16 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| CliError::new(Exit::Error, "io", format!("cannot read stdin: {e}")))?;
        text
    } else {
        let path = std::path::Path::new(source);
        std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(
            CliError::usage("invalid_pset", format!("{source}: no PSET in it"))
                .hint("pass a file holding a base64 PSET, or - to read one from stdin"),
        );
    }
    PartiallySignedTransaction::from_str(text).map_err(|e| {
        CliError::usage(
            "invalid_pset",
            format!("{source}: not a PSET (base64): {e}"),
        )
        .hint("PSETs are exchanged as base64 text, as `pset` and `send --pset-out` write them")
    })
}

/// Prints a PSET: base64 on its own line, or `{"pset": ...}` plus `extra` in JSON mode.
pub fn print_pset(ctx: &Context, pset: &PartiallySignedTransaction, extra: Value) {
    if ctx.out.json {
        let mut doc = json!({ "pset": pset.to_string() });
        if let (Some(map), Value::Object(more)) = (doc.as_object_mut(), extra) {
            map.extend(more);
        }
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&pset.to_string());
    }
}

/// The wallet's view of `pset`, from its store and descriptor (`policy`: the network's
/// policy asset).
pub fn wallet_view(
    wallet: &Wallet,
    policy: AssetId,
    pset: &PartiallySignedTransaction,
) -> CliResult<PsetView> {
    let owned = wallet.store().owned_outputs()?;
    let last_external = wallet
        .next_index(Keychain::External)?
        .saturating_add(SCRIPT_LOOKAHEAD);
    let last_internal = wallet
        .next_index(Keychain::Internal)?
        .saturating_add(SCRIPT_LOOKAHEAD);
    let scripts = script_map(wallet.descriptor(), last_external, last_internal)?;
    let know = WalletKnowledge {
        descriptor: wallet.descriptor(),
        network: wallet.network(),
        policy_asset: policy,
        owned: &owned,
        scripts: &scripts,
    };
    Ok(view(pset, &know)?)
}

fn owner_json(owner: Owner) -> Value {
    match owner {
        Owner::Wallet(keychain, index) => {
            json!({ "wallet": true, "keychain": keychain.as_str(), "index": index })
        }
        Owner::Other => json!({ "wallet": false }),
        Owner::Fee => json!({ "wallet": false, "fee": true }),
    }
}

/// Human text for an amount of an asset, with its trusted ticker when there is one.
fn amount_text(names: &AssetNames, value: u64, asset: &AssetId) -> String {
    let amount = names.format(asset, value);
    match names.ticker(asset) {
        Some(ticker) => format!("{amount} {ticker}"),
        None => format!("{amount} of {asset}"),
    }
}

fn signed_text(names: &AssetNames, value: i64, asset: &AssetId) -> String {
    let sign = if value < 0 { "-" } else { "+" };
    format!("{sign}{}", amount_text(names, value.unsigned_abs(), asset))
}

/// The view as JSON (the shape of `pset inspect --json`).
pub fn view_json(
    ctx: &Context,
    pset: &PartiallySignedTransaction,
    view: &PsetView,
) -> CliResult<Value> {
    let params = ctx.network.address_params();
    let inputs: Vec<Value> = view
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            json!({
                "index": i,
                "outpoint": outpoint_text(&input.outpoint),
                "owner": owner_json(input.owner),
                "value": input.secrets.map(|s| s.value),
                "asset": input.secrets.map(|s| s.asset.to_string()),
                "signatures": pset.inputs()[i].partial_sigs.len(),
                "finalized": pset.inputs()[i].final_script_witness.is_some(),
            })
        })
        .collect();
    let outputs: Vec<Value> = view
        .outputs
        .iter()
        .enumerate()
        .map(|(i, output)| {
            let blinding = pset.outputs()[i].blinding_key.map(|k| k.inner);
            let address = Address::from_script(&output.script_pubkey, blinding, params)
                .map(|a| a.to_string());
            json!({
                "index": i,
                "address": address,
                "script_pubkey": output.script_pubkey.as_bytes().to_lower_hex_string(),
                "owner": owner_json(output.owner),
                "value": output.secrets.map(|s| s.value),
                "asset": output.secrets.map(|s| s.asset.to_string()),
                "blinded": output.blinded,
            })
        })
        .collect();
    let net: serde_json::Map<String, Value> = view
        .net
        .iter()
        .map(|(asset, v)| (asset.to_string(), json!(v)))
        .collect();
    Ok(json!({
        "net": net,
        "fee": view.fee,
        "wallet_pays_fee": view.wallet_pays_fee(),
        "inputs": inputs,
        "outputs": outputs,
    }))
}

/// Writes the net effect and fee on stderr, for a person deciding whether to sign.
pub fn show_summary(ctx: &Context, wallet: &Wallet, view: &PsetView) -> CliResult<()> {
    if ctx.out.json || ctx.out.quiet {
        return Ok(());
    }
    let names = ctx.asset_names(wallet)?;
    let policy = ctx.policy_asset()?;
    eprintln!("This wallet's net effect:");
    if view.net.is_empty() {
        eprintln!("  nothing (no amount enters or leaves this wallet)");
    }
    for (asset, value) in &view.net {
        eprintln!("  {}", signed_text(&names, *value, asset));
    }
    let payer = if view.wallet_pays_fee() {
        "paid by this wallet"
    } else {
        "not paid by this wallet alone"
    };
    eprintln!(
        "Fee: {} ({payer}); {} input(s) of this wallet of {}",
        amount_text(&names, view.fee, &policy),
        view.own_inputs().len(),
        view.inputs.len()
    );
    Ok(())
}

fn inspect(ctx: &Context, args: &PsetInspectArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let pset = read_pset(&args.pset)?;
    let view = wallet_view(&wallet, ctx.policy_asset()?, &pset)?;
    let doc = view_json(ctx, &pset, &view)?;
    if ctx.out.json {
        ctx.out.json(&doc);
        return Ok(());
    }
    let names = ctx.asset_names(&wallet)?;
    let mut rows = Vec::new();
    for (asset, value) in &view.net {
        rows.push(("net", signed_text(&names, *value, asset)));
    }
    if view.net.is_empty() {
        rows.push(("net", "nothing enters or leaves this wallet".to_string()));
    }
    rows.push((
        "fee",
        format!(
            "{}{}",
            amount_text(&names, view.fee, &ctx.policy_asset()?),
            if view.wallet_pays_fee() {
                " (paid by this wallet)"
            } else {
                ""
            }
        ),
    ));
    ctx.out.fields(&rows);
    let describe = |owner: Owner| match owner {
        Owner::Wallet(k, i) => format!("this wallet ({}/{i})", k.as_str()),
        Owner::Other => "other".to_string(),
        Owner::Fee => "fee".to_string(),
    };
    let inputs: Vec<Vec<String>> = view
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            vec![
                i.to_string(),
                describe(input.owner),
                input
                    .secrets
                    .map(|s| amount_text(&names, s.value, &s.asset))
                    .unwrap_or_else(|| "hidden".into()),
                outpoint_text(&input.outpoint),
            ]
        })
        .collect();
    ctx.out.line("");
    ctx.out
        .table(&["INPUT", "OWNER", "AMOUNT", "OUTPOINT"], &inputs);
    let outputs: Vec<Vec<String>> = view
        .outputs
        .iter()
        .enumerate()
        .map(|(i, output)| {
            vec![
                i.to_string(),
                describe(output.owner),
                output
                    .secrets
                    .map(|s| amount_text(&names, s.value, &s.asset))
                    .unwrap_or_else(|| "hidden".into()),
                if output.blinded { "yes" } else { "no" }.to_string(),
                doc["outputs"][i]["address"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| output.script_pubkey.as_bytes().to_lower_hex_string()),
            ]
        })
        .collect();
    ctx.out.line("");
    ctx.out.table(
        &["OUTPUT", "OWNER", "AMOUNT", "BLINDED", "ADDRESS"],
        &outputs,
    );
    Ok(())
}

fn sign(ctx: &Context, args: &PsetSignArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    if wallet.is_watch_only() {
        return Err(wallet_core::Error::WatchOnly(format!(
            "wallet '{}' has no keys to sign with",
            wallet.name()
        ))
        .into());
    }
    let mut pset = read_pset(&args.pset)?;
    let view = wallet_view(&wallet, ctx.policy_asset()?, &pset)?;
    if view.own_inputs().is_empty() {
        return Err(CliError::new(
            Exit::Refused,
            "nothing_to_sign",
            "no input of this PSET is this wallet's",
        )
        .hint("sync the wallet if its coins are recent, or sign with the wallet that owns them"));
    }
    for (i, output) in pset.outputs().iter().enumerate() {
        if output.blinding_key.is_some() && !output.is_fully_blinded() {
            return Err(CliError::new(
                Exit::Refused,
                "not_blinded",
                format!("output {i} is meant to be blinded and is not yet"),
            )
            .hint("a signature commits to the blinded outputs: blind the PSET before signing"));
        }
    }
    show_summary(ctx, &wallet, &view)?;
    input::confirm(ctx.yes, "signing a PSET", "Sign this PSET?")?;
    let passphrase = input::encryption_passphrase(&args.passphrase, false)?;
    let secret = wallet.unlock_seed(passphrase.as_bytes())?;
    let added = sign_pset(&mut pset, &secret.seed(), wallet.network())?;
    ctx.out.note(&format!(
        "Added {added} signature(s) from wallet '{}'.",
        wallet.name()
    ));
    print_pset(ctx, &pset, json!({ "signatures_added": added }));
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
