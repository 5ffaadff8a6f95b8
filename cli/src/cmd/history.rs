//! `txs`, `utxos` and `tx show`: what the last sync stored, read offline.

use std::str::FromStr;

use elements::Address;
use serde_json::{json, Map, Value};
use wallet_core::descriptor::Keychain;
use wallet_core::store::{WalletTx, WalletUtxo};
use wallet_core::unblind::explicit_secrets;
use wallet_core::wallet::Wallet;

use crate::arg_groups::TxArgs;
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use clap::Args;

/// Arguments of `txs`.
#[derive(Debug, Args)]
pub struct TxsArgs {
    /// Show at most N transactions (the newest).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

fn never_synced_note(ctx: &Context, wallet: &Wallet) -> CliResult<()> {
    if wallet.store().tip()?.is_none() {
        ctx.out
            .warn("this wallet has never been synced: run `sync` first");
    }
    Ok(())
}

fn net_json(tx: &WalletTx) -> Value {
    let mut net = Map::new();
    for (asset, v) in &tx.net {
        net.insert(asset.to_string(), json!(v));
    }
    Value::Object(net)
}

fn net_text(names: &AssetNames, tx: &WalletTx) -> String {
    if tx.net.is_empty() {
        return "0".to_owned();
    }
    tx.net
        .iter()
        .map(|(asset, v)| with_name(names, asset, names.format_signed(asset, *v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An amount already formatted (`names.format`) followed by the asset's name: "0.5 L-BTC",
/// "7.00 TST", "700 base units of 1a2b3c4d…" (no trusted ticker, or no known precision).
fn with_name(names: &AssetNames, asset: &elements::AssetId, amount: String) -> String {
    match names.ticker(asset) {
        Some(t) if names.precision(asset).is_some() => format!("{amount} {t}"),
        Some(t) => format!("{amount} of {t}"),
        None => format!("{amount} of {}", short_id(&asset.to_string())),
    }
}

/// A block time for people: RFC 3339 in UTC to the second, `-` when unconfirmed.
pub fn block_time(time: Option<u64>) -> String {
    match time {
        Some(secs) => humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs),
        )
        .to_string(),
        None => "-".to_owned(),
    }
}

fn short_id(hex: &str) -> String {
    format!("{}…", &hex[..hex.len().min(8)])
}

/// Runs `txs`.
pub fn txs(ctx: &Context, args: &TxsArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    never_synced_note(ctx, &wallet)?;
    let names = ctx.asset_names(&wallet)?;
    let txs = wallet.store().transactions(args.limit)?;
    let paid = paid_outputs(&wallet, &txs)?;
    if ctx.out.json {
        let rows: Vec<_> = txs
            .iter()
            .zip(&paid)
            .map(|(t, paid)| {
                let paid: Vec<Value> = paid
                    .iter()
                    .map(|(vout, p)| {
                        json!({
                            "vout": vout,
                            "address": p.address,
                            "value": p.secrets.value,
                            "asset": p.secrets.asset.to_string(),
                        })
                    })
                    .collect();
                json!({
                    "txid": t.txid.to_string(),
                    "height": t.height,
                    "time": t.time,
                    "block_hash": t.block_hash.map(|h| h.to_string()),
                    "status": t.status.as_str(),
                    "net": net_json(t),
                    "fee": t.fee,
                    "paid": paid,
                })
            })
            .collect();
        ctx.out.json(&Value::Array(rows));
        return Ok(());
    }
    if txs.is_empty() {
        ctx.out.line("no transactions");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = txs
        .iter()
        .zip(&paid)
        .map(|(t, paid)| {
            let paid_text = paid
                .iter()
                .map(|(_, p)| {
                    let amount = names.format(&p.secrets.asset, p.secrets.value);
                    with_name(&names, &p.secrets.asset, amount)
                })
                .collect::<Vec<_>>()
                .join(", ");
            vec![
                t.txid.to_string(),
                t.height.map_or_else(|| "-".to_owned(), |h| h.to_string()),
                block_time(t.time),
                t.block_hash
                    .map_or_else(|| "-".to_owned(), |h| h.to_string()),
                t.status.as_str().to_owned(),
                t.fee.to_string(),
                net_text(&names, t),
                if paid_text.is_empty() {
                    "-".to_owned()
                } else {
                    paid_text
                },
            ]
        })
        .collect();
    ctx.out.table(
        &[
            "TXID",
            "HEIGHT",
            "TIME (UTC)",
            "BLOCK",
            "STATUS",
            "FEE (sat)",
            "NET",
            "PAID",
        ],
        &rows,
    );
    Ok(())
}

/// For each of `txs`, the outputs the wallet blinded for others and what they hold.
fn paid_outputs(
    wallet: &Wallet,
    txs: &[WalletTx],
) -> CliResult<Vec<Vec<(u32, wallet_core::store::SentOutput)>>> {
    let store = wallet.store();
    txs.iter()
        .map(|t| match store.transaction(&t.txid)? {
            Some(tx) => Ok(store.sent_outputs(&tx)?),
            None => Ok(Vec::new()),
        })
        .collect()
}

fn utxo_address(wallet: &Wallet, u: &WalletUtxo) -> CliResult<String> {
    let a = wallet.address_at(u.keychain, u.index)?;
    Ok(if u.explicit {
        a.to_unconfidential().to_string()
    } else {
        a.to_string()
    })
}

/// Runs `utxos`.
pub fn utxos(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    never_synced_note(ctx, &wallet)?;
    let names = ctx.asset_names(&wallet)?;
    let utxos = wallet.store().utxos()?;
    // Watch-only wallets cannot sign, so nothing of theirs is spendable by this program.
    let spendable = !wallet.is_watch_only();
    if ctx.out.json {
        let mut rows = Vec::with_capacity(utxos.len());
        for u in &utxos {
            rows.push(json!({
                "outpoint": outpoint(&u.outpoint),
                "txid": u.outpoint.txid.to_string(),
                "vout": u.outpoint.vout,
                "asset": u.secrets.asset.to_string(),
                "ticker": names.ticker(&u.secrets.asset),
                "value": u.secrets.value,
                "address": utxo_address(&wallet, u)?,
                "keychain": u.keychain.as_str(),
                "index": u.index,
                "height": u.height,
                "spendable": spendable && u.reserved_by.is_none(),
                "public": u.explicit,
                "reserved_by": u.reserved_by,
            }));
        }
        ctx.out.json(&Value::Array(rows));
        return Ok(());
    }
    if utxos.is_empty() {
        ctx.out.line("no unspent outputs");
        return Ok(());
    }
    let mut rows = Vec::with_capacity(utxos.len());
    for u in &utxos {
        let asset = &u.secrets.asset;
        rows.push(vec![
            outpoint(&u.outpoint),
            names.format(asset, u.secrets.value),
            names
                .ticker(asset)
                .unwrap_or_else(|| short_id(&asset.to_string())),
            u.height.map_or_else(|| "-".to_owned(), |h| h.to_string()),
            match (&u.reserved_by, u.explicit) {
                (Some(holder), _) => format!("reserved ({holder})"),
                (None, true) => "public".to_owned(),
                (None, false) => String::new(),
            },
            utxo_address(&wallet, u)?,
        ]);
    }
    ctx.out.table(
        &["OUTPOINT", "VALUE", "ASSET", "HEIGHT", "NOTE", "ADDRESS"],
        &rows,
    );
    if !spendable {
        ctx.out
            .note("watch-only wallet: it cannot sign, so none of these is spendable here");
    }
    Ok(())
}

/// `tx show`.
pub fn show(ctx: &Context, args: &TxArgs) -> CliResult<()> {
    let txid = args.txid;
    let wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let store = wallet.store();
    let tx = store.transaction(&txid)?.ok_or_else(|| {
        CliError::new(
            Exit::Error,
            "unknown_transaction",
            format!(
                "transaction {txid} is not one of wallet '{}'s",
                wallet.name()
            ),
        )
        .hint("run `sync` first; `txs` lists the wallet's transactions")
    })?;
    let info = store
        .transactions(None)?
        .into_iter()
        .find(|t| t.txid == txid);
    let owned = store.owned_outputs()?;
    let sent: std::collections::HashMap<u32, _> = store.sent_outputs(&tx)?.into_iter().collect();
    let params = wallet.network().address_params();
    let our_address = |k: Keychain, i: u32, explicit: bool| -> CliResult<String> {
        let a = wallet.address_at(k, i)?;
        Ok(if explicit {
            a.to_unconfidential().to_string()
        } else {
            a.to_string()
        })
    };

    let mut inputs = Vec::new();
    for (i, input) in tx.input.iter().enumerate() {
        let prev = input.previous_output;
        let mut row = json!({
            "index": i,
            "outpoint": outpoint(&prev),
            "mine": false,
        });
        if let Some((s, k, idx)) = owned.get(&prev) {
            row["mine"] = json!(true);
            row["asset"] = json!(s.asset.to_string());
            row["ticker"] = json!(names.ticker(&s.asset));
            row["value"] = json!(s.value);
            row["address"] = json!(our_address(*k, *idx, s.explicit)?);
        }
        if input.has_issuance() {
            row["issuance"] = json!(true);
        }
        inputs.push(row);
    }
    let mut outputs = Vec::new();
    for (v, o) in tx.output.iter().enumerate() {
        let vout = u32::try_from(v).unwrap_or(u32::MAX);
        let mut row = json!({ "index": v, "mine": false });
        if o.is_fee() {
            row["fee"] = json!(true);
        }
        if let Some((s, k, idx)) = owned.get(&elements::OutPoint::new(txid, vout)) {
            row["mine"] = json!(true);
            row["asset"] = json!(s.asset.to_string());
            row["ticker"] = json!(names.ticker(&s.asset));
            row["value"] = json!(s.value);
            row["public"] = json!(s.explicit);
            row["address"] = json!(our_address(*k, *idx, s.explicit)?);
        } else if let Some(paid) = sent.get(&vout) {
            // The wallet blinded it for the payee and kept what it blinded it with.
            row["asset"] = json!(paid.secrets.asset.to_string());
            row["ticker"] = json!(names.ticker(&paid.secrets.asset));
            row["value"] = json!(paid.secrets.value);
            row["paid_by_wallet"] = json!(true);
            row["address"] = json!(paid.address);
            row["script"] = json!(hex(o.script_pubkey.as_bytes()));
        } else {
            if let Some(s) = explicit_secrets(o) {
                row["asset"] = json!(s.asset.to_string());
                row["ticker"] = json!(names.ticker(&s.asset));
                row["value"] = json!(s.value);
                row["public"] = json!(true);
            } else {
                row["confidential"] = json!(true);
            }
            if !o.is_fee() {
                row["address"] = match Address::from_script(&o.script_pubkey, None, params) {
                    Some(a) => json!(a.to_string()),
                    None => Value::Null,
                };
                row["script"] = json!(hex(o.script_pubkey.as_bytes()));
            }
        }
        outputs.push(row);
    }
    let doc = json!({
        "txid": txid.to_string(),
        "status": info.as_ref().map(|t| t.status.as_str()),
        "height": info.as_ref().and_then(|t| t.height),
        "time": info.as_ref().and_then(|t| t.time),
        "block_hash": info.as_ref().and_then(|t| t.block_hash).map(|h| h.to_string()),
        "fee": info.as_ref().map(|t| t.fee),
        "net": info.as_ref().map(net_json),
        "inputs": inputs,
        "outputs": outputs,
    });
    if ctx.out.json {
        ctx.out.json(&doc);
        return Ok(());
    }
    let mut fields = vec![("txid", txid.to_string())];
    if let Some(t) = &info {
        fields.push(("status", t.status.as_str().to_owned()));
        fields.push((
            "height",
            t.height.map_or_else(|| "-".to_owned(), |h| h.to_string()),
        ));
        if let Some(hash) = t.block_hash {
            fields.push(("block", hash.to_string()));
        }
        if t.time.is_some() {
            fields.push(("time (UTC)", block_time(t.time)));
        }
        fields.push(("fee", format!("{} sat", t.fee)));
        fields.push(("net", net_text(&names, t)));
    }
    ctx.out.fields(&fields);
    let amount = |row: &Value| -> String {
        match (row["asset"].as_str(), row["value"].as_u64()) {
            (Some(a), Some(v)) => match elements::AssetId::from_str(a) {
                Ok(asset) => with_name(&names, &asset, names.format(&asset, v)),
                Err(_) => format!("{v} base units of {}", short_id(a)),
            },
            _ => "confidential".to_owned(),
        }
    };
    ctx.out.line("");
    let rows: Vec<Vec<String>> = inputs
        .iter()
        .map(|r| {
            vec![
                r["index"].to_string(),
                r["outpoint"].as_str().unwrap_or("").to_owned(),
                if r["mine"] == json!(true) {
                    amount(r)
                } else {
                    "not the wallet's".to_owned()
                },
            ]
        })
        .collect();
    ctx.out.table(&["INPUT", "OUTPOINT", "AMOUNT"], &rows);
    ctx.out.line("");
    let rows: Vec<Vec<String>> = outputs
        .iter()
        .map(|r| {
            let to = if r["fee"] == json!(true) {
                "fee".to_owned()
            } else {
                r["address"]
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| r["script"].as_str().map(|s| format!("script {s}")))
                    .unwrap_or_default()
            };
            vec![
                r["index"].to_string(),
                amount(r),
                if r["mine"] == json!(true) { "yes" } else { "" }.to_owned(),
                to,
            ]
        })
        .collect();
    ctx.out.table(&["OUTPUT", "AMOUNT", "MINE", "TO"], &rows);
    Ok(())
}

/// `txid:vout` (rust-elements' own display adds an `[elements]` prefix).
fn outpoint(o: &elements::OutPoint) -> String {
    format!("{}:{}", o.txid, o.vout)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
