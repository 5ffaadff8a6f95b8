//! `asset label | unlabel | labels`: the user's own tickers and precisions of assets, kept in
//! the data folder's `config.json` per network. No wallet is needed.

use elements::AssetId;
use serde_json::{json, Value};

use crate::config::{self, AssetLabel, CONFIG_FILE};
use crate::context::Context;
use crate::error::{CliError, CliResult};
use clap::Args;

/// Long help of `asset label`.
pub const ASSET_LABEL_LONG_HELP: &str = "Label an asset with your own ticker and/or precision.\n\n\
A label is yours: it is written to the data folder's config.json (atomically, mode 0600) under \
the network's asset_labels, and every command of that data folder and network then shows the \
ticker and reads and prints amounts in that precision (`send --to ADDRESS:7:ASSET` with \
precision 2 pays 700 base units). Without a precision, amounts of an asset stay in base units. \
Tickers are trusted only from the built-in list and your labels, never from a contract, an offer \
or a server. The built-in assets' precision cannot be changed, and a wallet's own issuance keeps \
the precision it was issued with. Labelling again replaces the label.\n\nExit status 2 for a \
malformed asset id, ticker or precision.";

/// Arguments of `asset label`.
#[derive(Debug, Args)]
pub struct AssetLabelArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ASSET")]
    pub asset: crate::values::AssetArg,
    /// Your ticker for it: 1 to 16 printable ASCII characters.
    #[arg(long, value_name = "TICKER", required_unless_present = "precision")]
    pub ticker: Option<String>,
    /// Its decimal places (0 to 8): amounts are typed and shown with that many.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub precision: Option<u8>,
}

/// Arguments of `asset unlabel`.
#[derive(Debug, Args)]
pub struct AssetUnlabelArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ASSET")]
    pub asset: crate::values::AssetArg,
}

fn label_json(ctx: &Context, asset: &AssetId, label: Option<&AssetLabel>) -> Value {
    json!({
        "network": ctx.network.as_str(),
        "asset": asset.to_string(),
        "ticker": label.and_then(|l| l.ticker.clone()),
        "precision": label.and_then(|l| l.precision),
    })
}

/// Runs `asset label`.
pub fn label(ctx: &Context, args: &AssetLabelArgs) -> CliResult<()> {
    let asset = args.asset.resolve(ctx.policy_asset()?);
    let label = AssetLabel::new(args.ticker.clone(), args.precision)
        .map_err(|why| CliError::usage("invalid_label", why))?;
    let names = ctx.trusted_asset_names()?;
    if let (Some(fixed), Some(p)) = (names.builtin_precision(&asset), label.precision) {
        if fixed != p {
            return Err(CliError::usage(
                "fixed_precision",
                format!("asset {asset} is a built-in asset with precision {fixed}; a label cannot change it"),
            )
            .hint("leave out --precision to label only its ticker"));
        }
    }
    let replaced = config::edit(&ctx.data_dir, |doc| {
        config::set_label(doc, ctx.network, &asset, &label)
    })?;
    if ctx.out.json {
        let mut doc = label_json(ctx, &asset, Some(&label));
        doc["replaced"] = json!(replaced);
        ctx.out.json(&doc);
        return Ok(());
    }
    ctx.out.fields(&[
        ("asset", asset.to_string()),
        ("network", ctx.network.to_string()),
        ("ticker", label.ticker.clone().unwrap_or_else(|| "-".into())),
        (
            "precision",
            label
                .precision
                .map_or_else(|| "- (amounts in base units)".into(), |p| p.to_string()),
        ),
    ]);
    ctx.out.note(&format!(
        "{} in {}.",
        if replaced {
            "Label replaced"
        } else {
            "Labelled"
        },
        ctx.data_dir.join(CONFIG_FILE).display()
    ));
    Ok(())
}

/// Runs `asset unlabel`.
pub fn unlabel(ctx: &Context, args: &AssetUnlabelArgs) -> CliResult<()> {
    let asset = args.asset.resolve(ctx.policy_asset()?);
    let removed = if ctx.data_dir.join(CONFIG_FILE).exists() {
        config::edit(&ctx.data_dir, |doc| {
            config::remove_label(doc, ctx.network, &asset)
        })?
    } else {
        false
    };
    if ctx.out.json {
        ctx.out.json(&json!({
            "network": ctx.network.as_str(),
            "asset": asset.to_string(),
            "removed": removed,
        }));
    } else if removed {
        ctx.out.note(&format!(
            "Removed your label of {asset} on {}.",
            ctx.network
        ));
    } else {
        ctx.out
            .note(&format!("You had no label of {asset} on {}.", ctx.network));
    }
    Ok(())
}

/// Runs `asset labels`.
pub fn labels(ctx: &Context) -> CliResult<()> {
    let labels = config::Config::load(&ctx.data_dir)?.asset_labels(ctx.network, &ctx.data_dir)?;
    if ctx.out.json {
        let rows: Vec<Value> = labels
            .iter()
            .map(|(asset, label)| label_json(ctx, asset, Some(label)))
            .collect();
        ctx.out.json(&json!({ "labels": rows }));
        return Ok(());
    }
    if labels.is_empty() {
        ctx.out.line("no labels");
        return Ok(());
    }
    let rows: Vec<Vec<String>> = labels
        .iter()
        .map(|(asset, label)| {
            vec![
                label.ticker.clone().unwrap_or_else(|| "-".into()),
                label
                    .precision
                    .map_or_else(|| "-".into(), |p| p.to_string()),
                asset.to_string(),
            ]
        })
        .collect();
    ctx.out.table(&["TICKER", "PRECISION", "ASSET"], &rows);
    Ok(())
}
