//! PSETs in and out of the command line, and a wallet's view of one for people and scripts:
//! what `send`, `pset`, `asset` and the later flows all show before anything is signed.

use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;

use elements::hex::DisplayHex;
use elements::pset::PartiallySignedTransaction;
use elements::{Address, AssetId};
use serde_json::{json, Value};
use wallet_core::pset::{outpoint_text, Owner, PsetView};

use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use crate::input;
use crate::output::Output;

/// Reads a file or `-` (stdin, at most 16 MiB) as bytes.
pub fn read_source_bytes(source: &str) -> CliResult<Vec<u8>> {
    if source == "-" {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(16 * 1024 * 1024)
            .read_to_end(&mut bytes)
            .map_err(|e| CliError::new(Exit::Error, "io", format!("cannot read stdin: {e}")))?;
        return Ok(bytes);
    }
    let path = std::path::Path::new(source);
    std::fs::read(path).map_err(|e| CliError::io(path, e))
}

/// Reads text from a file or `-` (stdin).
pub fn read_source(source: &str) -> CliResult<String> {
    if source == "-" {
        let mut text = String::new();
        std::io::stdin()
            .take(16 * 1024 * 1024)
            .read_to_string(&mut text)
            .map_err(|e| CliError::new(Exit::Error, "io", format!("cannot read stdin: {e}")))?;
        return Ok(text);
    }
    let path = std::path::Path::new(source);
    std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))
}

/// Reads a PSET from a file or `-` (stdin): bare base64, or the JSON document a previous
/// stage printed with `--json` (its `pset` field), so every stage's output is the next
/// stage's input.
pub fn read_pset(source: &str) -> CliResult<PartiallySignedTransaction> {
    pset_from_text(source, &read_source(source)?)
}

/// A PSET from the text of `source`: bare base64, or a stage's JSON document.
fn pset_from_text(source: &str, text: &str) -> CliResult<PartiallySignedTransaction> {
    let text = text.trim();
    if text.is_empty() {
        return Err(
            CliError::usage("invalid_pset", format!("{source}: no PSET in it"))
                .hint("pass a file holding a base64 PSET, or - to read one from stdin"),
        );
    }
    let base64 = if text.starts_with('{') {
        let doc: Value = serde_json::from_str(text).map_err(|e| {
            CliError::usage(
                "invalid_pset",
                format!("{source}: not a PSET document: {e}"),
            )
        })?;
        doc.get("pset")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| {
                CliError::usage(
                    "invalid_pset",
                    format!("{source}: a JSON document without a \"pset\" field"),
                )
                .hint("pass the --json output of `pset create`, `pset sign`, `send --pset-out -` ..., or bare base64 (`pset broadcast` also reads `pset finalize --extract`'s)")
            })?
    } else {
        text.to_owned()
    };
    PartiallySignedTransaction::from_str(base64.trim()).map_err(|e| {
        CliError::usage(
            "invalid_pset",
            format!("{source}: not a PSET (base64): {e}"),
        )
        .hint("PSETs are exchanged as base64 text, as `pset` and `send --pset-out` write them")
    })
}

/// Reads what `pset broadcast` sends: a PSET as [`read_pset`] reads it, or a final
/// transaction, as hex or as the JSON document `pset finalize --extract --json` prints (its
/// `hex` field). A transaction becomes a PSET whose inputs are finalized with its own
/// witnesses, so that it is recorded and broadcast as the transaction it is; the second value
/// says so (its inputs then carry no spent outputs: the caller reads them from the chain).
pub fn read_pset_or_tx(source: &str) -> CliResult<(PartiallySignedTransaction, bool)> {
    let text = read_source(source)?;
    let trimmed = text.trim();
    let hex = if trimmed.starts_with('{') {
        match serde_json::from_str::<Value>(trimmed) {
            Ok(doc) if doc.get("pset").is_none() => {
                doc.get("hex").and_then(Value::as_str).map(str::to_owned)
            }
            _ => None,
        }
    } else if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(trimmed.to_owned())
    } else {
        None
    };
    let Some(hex) = hex else {
        return Ok((pset_from_text(source, &text)?, false));
    };
    let tx: elements::Transaction = elements::hex::decode_to_vec(&hex)
        .map_err(|e| e.to_string())
        .and_then(|bytes| elements::encode::deserialize(&bytes).map_err(|e| e.to_string()))
        .map_err(|e| {
        CliError::usage(
            "invalid_transaction",
            format!("{source}: not a transaction (hex): {e}"),
        )
        .hint("pass what `pset finalize --extract` printed (hex, or its --json document), or a PSET")
    })?;
    Ok((PartiallySignedTransaction::from_tx(tx), true))
}

/// Prints a PSET: base64 on its own line, or `{"pset": ...}` plus `extra` in JSON mode.
pub fn print_pset(ctx: &Context, pset: &PartiallySignedTransaction, extra: Value) {
    if ctx.out.json {
        let mut doc = json!({ "pset": pset.to_string() });
        merge(&mut doc, extra);
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&pset.to_string());
    }
}

/// Writes a PSET to a new file (0600) or, for `-`, to stdout as [`print_pset`] does.
pub fn write_pset(
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
        merge(&mut doc, extra);
        ctx.out.json(&doc);
    } else {
        ctx.out.note(&format!("Wrote the PSET to {target}."));
    }
    Ok(())
}

/// Adds the fields of `extra` (an object) to `doc`.
pub fn merge(doc: &mut Value, extra: Value) {
    if let (Some(map), Value::Object(more)) = (doc.as_object_mut(), extra) {
        map.extend(more);
    }
}

/// A net effect as JSON: asset id → signed base units.
pub fn net_json(net: &BTreeMap<AssetId, i64>) -> Value {
    Value::Object(
        net.iter()
            .map(|(asset, v)| (asset.to_string(), json!(v)))
            .collect(),
    )
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
pub fn amount_text(names: &AssetNames, value: u64, asset: &AssetId) -> String {
    names.describe(asset, value)
}

/// A signed amount for people (net effects).
pub fn signed_text(names: &AssetNames, value: i64, asset: &AssetId) -> String {
    let sign = if value < 0 { "-" } else { "+" };
    format!("{sign}{}", amount_text(names, value.unsigned_abs(), asset))
}

/// The address an output pays, when its script has one (confidential when the PSET names
/// the blinding key).
fn output_address(
    ctx: &Context,
    pset: &PartiallySignedTransaction,
    i: usize,
    script: &elements::Script,
) -> Option<String> {
    let blinding = pset
        .outputs()
        .get(i)
        .and_then(|o| o.blinding_key)
        .map(|k| k.inner);
    Address::from_script(script, blinding, ctx.network.address_params()).map(|a| a.to_string())
}

/// The view as JSON (the shape of `pset inspect --json`): net effect, fee, every input and
/// output, and the problems that forbid signing.
pub fn view_json(ctx: &Context, pset: &PartiallySignedTransaction, view: &PsetView) -> Value {
    let inputs: Vec<Value> = view
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let mut owner = owner_json(input.owner);
            if let Some((keychain, index)) = input.unsynced {
                // The wallet's script, a coin it has not synced: not counted, value unknown.
                merge(
                    &mut owner,
                    json!({ "unsynced": true, "keychain": keychain.as_str(), "index": index }),
                );
            }
            json!({
                "index": i,
                "outpoint": outpoint_text(&input.outpoint),
                "owner": owner,
                "value": input.secrets.map(|s| s.value),
                "asset": input.secrets.map(|s| s.asset.to_string()),
                "issuance": input.issuance.map(|is| json!({
                    "asset": is.asset.to_string(),
                    "token": is.token.to_string(),
                    "amount": is.amount,
                    "token_amount": is.token_amount,
                    "reissuance": is.reissuance,
                    "confidential": is.confidential,
                })),
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
            json!({
                "index": i,
                "address": output_address(ctx, pset, i, &output.script_pubkey),
                "script_pubkey": output.script_pubkey.as_bytes().to_lower_hex_string(),
                "owner": owner_json(output.owner),
                "value": output.secrets.map(|s| s.value),
                "asset": output.secrets.map(|s| s.asset.to_string()),
                "blinded": output.blinded,
            })
        })
        .collect();
    // An incomplete net effect (inputs paying from the wallet's scripts with coins it has not
    // synced) is never given as the net: `net` is null, `net_known` what the wallet could
    // count.
    let complete = view.net_complete();
    json!({
        "txid": view.unsigned_txid.to_string(),
        "net": if complete { net_json(&view.net) } else { Value::Null },
        "net_complete": complete,
        "net_known": (!complete).then(|| net_json(&view.net)),
        "unsynced_inputs": view.unsynced_inputs(),
        "fee": view.fee,
        "wallet_pays_fee": view.wallet_pays_fee(),
        "inputs": inputs,
        "outputs": outputs,
        "problems": view.problems.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })
}

/// Whether a command that is about to ask (`asking`), or to act without asking, shows what
/// it is about on stderr: in text mode unless `-q`, and whenever it asks, whatever the mode
/// (a question never comes without what it is about; a JSON document still goes to stdout
/// only).
pub fn shows_summary(out: &Output, asking: bool) -> bool {
    asking || !(out.json || out.quiet)
}

/// Whether a command will ask its confirmation: not a dry run, no `--yes`, and a terminal to
/// ask on (without one the confirmation is an error naming `--yes`).
pub fn asking(ctx: &Context, dry_run: bool) -> bool {
    !dry_run && !ctx.yes && input::interactive()
}

/// Writes the net effect, the fee and any problem on stderr, for a person deciding whether
/// to sign: in text mode unless `-q`, and in any mode when `asking` (see [`shows_summary`]).
pub fn show_summary(
    ctx: &Context,
    names: &AssetNames,
    view: &PsetView,
    asking: bool,
) -> CliResult<()> {
    if !shows_summary(&ctx.out, asking) {
        return Ok(());
    }
    let policy = ctx.policy_asset()?;
    if !view.net_complete() {
        crate::output::write_stderr(&format!(
            "This wallet's net effect is INCOMPLETE: {}; what it can count:",
            unsynced_text(view)
        ));
    } else {
        crate::output::write_stderr("This wallet's net effect:");
    }
    if view.net.is_empty() {
        crate::output::write_stderr("  nothing (no amount enters or leaves this wallet)");
    }
    for (asset, value) in &view.net {
        crate::output::write_stderr(&format!("  {}", signed_text(names, *value, asset)));
    }
    for (i, output) in view.outputs.iter().enumerate() {
        if let (Owner::Other, Some(s)) = (output.owner, output.secrets) {
            crate::output::write_stderr(&format!(
                "  pays {} (output {i})",
                amount_text(names, s.value, &s.asset)
            ));
        }
    }
    let payer = if view.wallet_pays_fee() {
        "paid by this wallet"
    } else {
        "not paid by this wallet alone"
    };
    crate::output::write_stderr(&format!(
        "Fee: {} ({payer}); {} input(s) of this wallet of {}",
        amount_text(names, view.fee, &policy),
        view.own_inputs().len(),
        view.inputs.len()
    ));
    for problem in &view.problems {
        crate::output::write_stderr(&format!("Problem: {problem}"));
    }
    Ok(())
}

/// Says which inputs pay from the wallet's scripts with coins it has not synced.
fn unsynced_text(view: &PsetView) -> String {
    let list = view
        .unsynced_inputs()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "input(s) {list} spend coins paying this wallet's scripts that it has not synced (their \
         value is unknown); sync, then look again"
    )
}

/// What a dry run prints where it stops: the prepared transaction's view as JSON, with
/// `extra` and `"dry_run": true`, or a note that nothing was signed.
pub fn print_dry_run(ctx: &Context, prepared: &wallet_core::ops::Prepared, extra: Value) {
    if ctx.out.json {
        let mut doc = view_json(ctx, &prepared.pset, &prepared.view);
        merge(&mut doc, extra);
        doc["dry_run"] = json!(true);
        ctx.out.json(&doc);
    } else {
        ctx.out.note("Dry run: nothing was signed or sent.");
    }
}

/// The inspect table of a view, on stdout.
pub fn show_table(
    ctx: &Context,
    names: &AssetNames,
    pset: &PartiallySignedTransaction,
    view: &PsetView,
    with_wallet: bool,
) -> CliResult<()> {
    let mut rows = Vec::new();
    if with_wallet && !view.net_complete() {
        // Never a net effect that leaves out what the wallet cannot count.
        rows.push(("net", format!("incomplete: {}", unsynced_text(view))));
        for (asset, value) in &view.net {
            rows.push(("known part", signed_text(names, *value, asset)));
        }
    } else if with_wallet {
        for (asset, value) in &view.net {
            rows.push(("net", signed_text(names, *value, asset)));
        }
        if view.net.is_empty() {
            rows.push(("net", "nothing enters or leaves this wallet".to_string()));
        }
    }
    rows.push((
        "fee",
        format!(
            "{}{}",
            amount_text(names, view.fee, &ctx.policy_asset()?),
            if with_wallet && view.wallet_pays_fee() {
                " (paid by this wallet)"
            } else {
                ""
            }
        ),
    ));
    rows.push(("txid", view.unsigned_txid.to_string()));
    for problem in &view.problems {
        rows.push(("problem", problem.to_string()));
    }
    ctx.out.fields(&rows);
    let describe = |owner: Owner| match owner {
        Owner::Wallet(k, i) => format!("this wallet ({}/{i})", k.as_str()),
        Owner::Other if with_wallet => "other".to_string(),
        Owner::Other => "-".to_string(),
        Owner::Fee => "fee".to_string(),
    };
    let hidden = |with_wallet: bool| if with_wallet { "hidden" } else { "blinded" };
    let inputs: Vec<Vec<String>> = view
        .inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let mut amount = match (input.secrets, input.unsynced) {
                (_, Some(_)) => "unknown (not synced)".to_owned(),
                (Some(s), None) => amount_text(names, s.value, &s.asset),
                (None, None) => hidden(with_wallet).into(),
            };
            if let Some(is) = input.issuance {
                amount.push_str(&format!(
                    "; {} {}",
                    if is.reissuance { "reissues" } else { "issues" },
                    is.amount
                        .map(|a| amount_text(names, a, &is.asset))
                        .unwrap_or_else(|| format!("a blinded amount of {}", is.asset))
                ));
            }
            let owner = match input.unsynced {
                Some((k, index)) => format!(
                    "this wallet's script ({}/{index}), coin not synced",
                    k.as_str()
                ),
                None => describe(input.owner),
            };
            vec![i.to_string(), owner, amount, outpoint_text(&input.outpoint)]
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
                    .map(|s| amount_text(names, s.value, &s.asset))
                    .unwrap_or_else(|| hidden(with_wallet).into()),
                if output.blinded { "yes" } else { "no" }.to_string(),
                output_address(ctx, pset, i, &output.script_pubkey)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn out(json: bool, quiet: bool) -> Output {
        Output {
            json,
            quiet,
            verbose: false,
            color: false,
        }
    }

    #[test]
    fn a_question_never_comes_without_what_it_is_about() {
        // Asking: shown in every mode, --json and -q included.
        for (json, quiet) in [(false, false), (true, false), (false, true), (true, true)] {
            assert!(
                shows_summary(&out(json, quiet), true),
                "json {json}, quiet {quiet}"
            );
        }
        // Not asking (--yes, a dry run, no terminal): text mode only.
        assert!(shows_summary(&out(false, false), false));
        assert!(!shows_summary(&out(true, false), false));
        assert!(!shows_summary(&out(false, true), false));
    }
}
