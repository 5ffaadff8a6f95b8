//! `sandbox start | faucet | mine | issue`: the embedded liquidregtest chain.

use std::path::PathBuf;

use regtest::{Sandbox, SandboxConfig};
use serde_json::{json, Value};
use wallet_core::amount::{format_amount, parse_amount};
use wallet_core::network::Network;

use crate::config::AssetLabel;
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use clap::{Args, Subcommand};

/// `sandbox` subcommands.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox chain in the foreground until interrupted (Ctrl-C).
    #[command(
        long_about = "Run the sandbox chain in the foreground until interrupted (Ctrl-C).\n\n\
A private Elements liquidregtest chain with a strict validator, serving Blockstream's Esplora \
REST API and the Electrum protocol on loopback. Its URLs are printed and recorded in \
<data-dir>/sandbox.json so that `sandbox faucet|mine|issue`, `sync` and `balance` find it. \
The global --esplora and --electrum flags choose the loopback addresses to listen on (a free \
port of 127.0.0.1 by default).\n\nOne sandbox per data folder: while the recorded one answers, \
another start refuses with \"already running at URL\" (exit status 1); a record left by a \
sandbox that is gone or does not answer is replaced."
    )]
    Start(SandboxStartArgs),
    /// Pay L-BTC (or a test asset) from the sandbox faucet to an address.
    Faucet(SandboxFaucetArgs),
    /// Mine blocks on the sandbox chain.
    Mine(SandboxMineArgs),
    /// Issue a test asset held by the faucet, committing to a contract with its precision.
    #[command(long_about = SANDBOX_ISSUE_LONG_HELP)]
    Issue(SandboxIssueArgs),
    /// Replace the last blocks with a longer branch (a reorganisation), to test wallets.
    Reorg(SandboxReorgArgs),
}

/// Long help of `sandbox issue`.
const SANDBOX_ISSUE_LONG_HELP: &str = "Issue a test asset held by the faucet.\n\nThe asset id \
commits to a JSON contract {\"name\", \"precision\", \"ticker\", \"version\": 0} (its hash, as \
Elements computes it). --amount is a decimal in --precision, so base units without it. Wallets \
know an asset's precision only from a trusted source (the built-in list, their own issuance, \
your label), so --ticker or --precision also labels the asset in this data folder's config.json, \
exactly as `asset label` would: `balance`, `send` and `sandbox faucet` of this data folder then \
all use that precision. Without them the asset has precision 0 and everything is in base \
units.";

/// Arguments of `sandbox start`.
#[derive(Debug, Args)]
pub struct SandboxStartArgs {
    /// Keep the chain in SQLite in this folder across restarts (in memory otherwise).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Wait this many milliseconds before every reply, to act like a remote server.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub delay_ms: u64,
    /// Relay transactions with several OP_RETURN outputs (several peg-outs in one
    /// transaction), as elementsd's -multi_data_permitted=1; off by default, as on
    /// liquidregtest. Set "multi_data_permitted": true under "regtest" in config.json too.
    #[arg(long)]
    pub multi_data_permitted: bool,
}

/// Which running sandbox to talk to.
#[derive(Debug, Args)]
pub struct SandboxUrlArgs {
    /// Esplora URL of the sandbox [default: the one `sandbox start` recorded in the data folder].
    #[arg(long, value_name = "URL", env = "LIQUID_OTC_SANDBOX_URL")]
    pub url: Option<String>,
}

/// Arguments of `sandbox faucet`.
#[derive(Debug, Args)]
pub struct SandboxFaucetArgs {
    /// A liquidregtest address (confidential addresses get blinded outputs).
    pub address: String,
    /// Amount: a decimal in the asset's precision (L-BTC: 8 places, e.g. 1.5; an asset
    /// labelled with a precision: that one); base units for an asset of unknown precision.
    pub amount: crate::values::Decimal,
    /// Asset id to pay (default: L-BTC).
    #[arg(long, value_name = "ID")]
    pub asset: Option<crate::values::AssetArg>,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `sandbox mine`.
#[derive(Debug, Args)]
pub struct SandboxMineArgs {
    /// Number of blocks.
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub blocks: u32,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `sandbox reorg`.
#[derive(Debug, Args)]
pub struct SandboxReorgArgs {
    /// How many blocks to replace (DEPTH + 1 new ones are mined).
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub depth: u32,
    /// Return the replaced blocks' transactions to the mempool (they vanish otherwise).
    #[arg(long)]
    pub keep_txs: bool,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `sandbox issue`.
#[derive(Debug, Args)]
pub struct SandboxIssueArgs {
    /// Amount to issue: a decimal in --precision, so base units without it.
    #[arg(long, value_name = "A")]
    pub amount: crate::values::Decimal,
    /// Decimal places of the asset (0 to 8), written in its contract; also labels the asset
    /// with it in this data folder, so that wallets type and show it the same way
    /// [default: 0, amounts in base units].
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub precision: Option<u8>,
    /// A ticker, written in its contract and used as your label of it in this data folder.
    #[arg(long, value_name = "TICKER")]
    pub ticker: Option<String>,
    /// The name in its contract [default: "sandbox test asset"].
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Lock file that serialises `sandbox start`'s look at the record and the writing of its own
/// (two starts at once cannot both find the folder free).
const SANDBOX_LOCK: &str = "sandbox.lock";

/// How long a recorded sandbox has to answer before its record counts as stale.
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Decimals of sandbox amounts (L-BTC and test assets alike, as elementsd's `issueasset`).
const SANDBOX_PRECISION: u8 = 8;

/// Runs a `sandbox` subcommand.
pub fn run(ctx: &Context, command: &SandboxCommand) -> CliResult<()> {
    match command {
        SandboxCommand::Start(args) => start(ctx, args),
        SandboxCommand::Faucet(args) => faucet(ctx, args),
        SandboxCommand::Mine(args) => mine(ctx, args),
        SandboxCommand::Issue(args) => issue(ctx, args),
        SandboxCommand::Reorg(args) => reorg(ctx, args),
    }
}

/// Maps a sandbox error to the CLI's codes and exit statuses.
pub fn sandbox_error(err: regtest::Error) -> CliError {
    let message = err.to_string();
    match err {
        regtest::Error::NotLoopback(_) => CliError::usage("not_loopback", message)
            .hint("use 127.0.0.1:PORT (port 0 picks a free one)"),
        regtest::Error::Unreachable { .. } => CliError::new(Exit::Backend, "backend", message)
            .hint("start one with `liquid-otc sandbox start`, or pass --url"),
        regtest::Error::Protocol(_) => CliError::new(Exit::Backend, "backend", message),
        regtest::Error::Rejected(_) => CliError::new(Exit::Refused, "rejected", message),
        regtest::Error::InvalidArgument(_) => CliError::usage("invalid_argument", message),
        regtest::Error::Faucet(_) => CliError::new(Exit::Error, "faucet", message),
        regtest::Error::Io(_) | regtest::Error::Storage(_) => {
            CliError::new(Exit::Error, "sandbox", message)
        }
    }
}

fn sandbox_file(ctx: &Context) -> PathBuf {
    crate::sandbox_record::path(&ctx.data_dir)
}

/// The description of a running sandbox, as printed by `start` and recorded on disk.
pub fn describe(sandbox: &Sandbox) -> Value {
    json!({
        "esplora": sandbox.esplora_url(),
        "electrum": sandbox.electrum_addr().to_string(),
        "policy_asset": sandbox.policy_asset().to_string(),
        "genesis_hash": sandbox.genesis_hash().to_string(),
    })
}

fn start(ctx: &Context, args: &SandboxStartArgs) -> CliResult<()> {
    if ctx.network_explicit && ctx.network != Network::Regtest {
        return Err(CliError::usage(
            "wrong_network",
            format!("the sandbox is a regtest chain, not {}", ctx.network),
        )
        .hint("leave out --network or pass --network regtest"));
    }
    let config = SandboxConfig {
        esplora: bind_addr("--esplora", ctx.esplora.as_deref(), "http://")?,
        electrum: bind_addr("--electrum", ctx.electrum.as_deref(), "tcp://")?,
        state_dir: args.state_dir.clone(),
        delay_ms: args.delay_ms,
        fixed_clock: None,
        // As the electrs of liquid.network and of the real-stack tests answers.
        esplora_flavour: Default::default(),
        multi_data_permitted: args.multi_data_permitted,
    };
    let record = sandbox_file(ctx);
    let guard = lock_record(ctx)?;
    refuse_if_running(ctx)?;
    let sandbox = Sandbox::start(config).map_err(sandbox_error)?;
    let info = describe(&sandbox);
    let recorded =
        wallet_core::wallet::write_private_atomic(&record, info.to_string().as_bytes()).is_ok();
    drop(guard);
    if !recorded {
        ctx.out.warn(&format!(
            "could not record the URLs in {}; pass --url to the other sandbox commands",
            record.display()
        ));
    }

    let url = sandbox.esplora_url();
    let handler = ctrlc::set_handler(move || {
        let _ = regtest::control::stop(&url);
    });
    if let Err(err) = handler {
        ctx.out
            .warn(&format!("Ctrl-C will not stop the sandbox cleanly: {err}"));
    }

    if ctx.out.json {
        // One line, so that a script can read it and keep the process running.
        ctx.out.line(&info.to_string());
    } else {
        ctx.out.fields(&[
            (
                "esplora",
                info["esplora"].as_str().unwrap_or("").to_string(),
            ),
            (
                "electrum",
                info["electrum"].as_str().unwrap_or("").to_string(),
            ),
            (
                "policy asset",
                info["policy_asset"].as_str().unwrap_or("").to_string(),
            ),
            (
                "genesis hash",
                info["genesis_hash"].as_str().unwrap_or("").to_string(),
            ),
        ]);
        ctx.out.note(&format!(
            "Sandbox running (liquidregtest). Try `{}` and `{}` from another terminal; Ctrl-C \
             stops it.",
            ctx.suggest(None, "sandbox faucet ADDRESS 1.5"),
            ctx.suggest(None, "sandbox mine")
        ));
    }
    sandbox.wait();
    if recorded {
        remove_own_record(ctx, &sandbox.esplora_url());
    }
    sandbox.shutdown();
    ctx.out.note("Sandbox stopped.");
    Ok(())
}

/// Takes the data folder's sandbox lock (waiting for another `sandbox start` that holds it
/// for the few moments it takes to check and write the record); released when dropped.
fn lock_record(ctx: &Context) -> CliResult<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::create_dir_all(&ctx.data_dir).map_err(|e| CliError::io(&ctx.data_dir, e))?;
    let path = ctx.data_dir.join(SANDBOX_LOCK);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .map_err(|e| CliError::io(&path, e))?;
    file.lock().map_err(|e| CliError::io(&path, e))?;
    Ok(file)
}

/// The recorded sandbox's Esplora URL and genesis hash, when the record reads.
fn read_record(ctx: &Context) -> Option<(String, elements::BlockHash)> {
    crate::sandbox_record::read(&ctx.data_dir)
}

/// Refuses (exit 1) while the sandbox recorded in the data folder answers: a second one would
/// take over the record and leave wallets syncing against an empty chain. A record whose
/// sandbox is gone or does not answer is stale and will be replaced.
fn refuse_if_running(ctx: &Context) -> CliResult<()> {
    let record = sandbox_file(ctx);
    match read_record(ctx) {
        Some((url, genesis)) if regtest::control::answers(&url, &genesis, ANSWER_TIMEOUT) => {
            Err(CliError::new(
                Exit::Error,
                "sandbox_running",
                format!(
                    "a sandbox is already running at {url} for this data folder (recorded in {})",
                    record.display()
                ),
            )
            .hint("use that one (`sandbox faucet|mine|issue` find it), stop it with Ctrl-C in its terminal, or pass another --data-dir"))
        }
        Some((url, _)) => {
            ctx.out.note(&format!(
                "the sandbox recorded at {url} no longer answers: replacing its record"
            ));
            Ok(())
        }
        None if record.exists() => {
            ctx.out
                .note(&format!("replacing the unreadable {}", record.display()));
            Ok(())
        }
        None => Ok(()),
    }
}

/// Removes the record on the way out, unless another sandbox has replaced it meanwhile
/// (after this one stopped answering).
fn remove_own_record(ctx: &Context, own_url: &str) {
    let Ok(_guard) = lock_record(ctx) else {
        return;
    };
    if read_record(ctx).is_some_and(|(url, _)| url == own_url) {
        let _ = std::fs::remove_file(sandbox_file(ctx));
    }
}

/// A listen address of `sandbox start`: the global `--esplora`/`--electrum` value as
/// `HOST:PORT` (an `http://` or `tcp://` prefix is accepted), or a free port of 127.0.0.1.
fn bind_addr(flag: &str, value: Option<&str>, scheme: &str) -> CliResult<std::net::SocketAddr> {
    let Some(value) = value else {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], 0)));
    };
    let text = value.trim();
    let text = text
        .strip_prefix(scheme)
        .unwrap_or(text)
        .trim_end_matches('/');
    text.parse().map_err(|_| {
        CliError::usage(
            "invalid_bind_address",
            format!("{flag} '{value}' is not an address to listen on"),
        )
        .hint(format!(
            "for `sandbox start`, {flag} is a loopback HOST:PORT such as 127.0.0.1:3000 (port 0 picks a free one)"
        ))
    })
}

/// The Esplora URL of the sandbox to drive: `--url`, or the one `sandbox start` recorded.
fn sandbox_url(ctx: &Context, args: &SandboxUrlArgs) -> CliResult<String> {
    if let Some(url) = &args.url {
        return Ok(url.trim_end_matches('/').to_string());
    }
    let record = sandbox_file(ctx);
    let no_sandbox = || {
        CliError::new(
            Exit::Backend,
            "no_sandbox",
            format!("no running sandbox is recorded in {}", record.display()),
        )
        .hint(format!(
            "start one with `{}` (same data folder), or pass --url URL",
            ctx.suggest(None, "sandbox start")
        ))
    };
    let text = std::fs::read_to_string(&record).map_err(|_| no_sandbox())?;
    let info: Value = serde_json::from_str(&text).map_err(|_| no_sandbox())?;
    info["esplora"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(no_sandbox)
}

fn faucet(ctx: &Context, args: &SandboxFaucetArgs) -> CliResult<()> {
    crate::pay::check_address_network("<ADDRESS>", args.address.trim(), Network::Regtest)?;
    let url = sandbox_url(ctx, &args.sandbox)?;
    // The sandbox is a liquidregtest chain, whatever --network says; L-BTC is the default.
    let policy = Network::Regtest.default_policy_asset();
    let asset = args
        .asset
        .map(|a| a.resolve(policy))
        .filter(|a| *a != policy);
    // The same precision a wallet of this data folder uses: L-BTC's, else the user's label,
    // else none (base units), so that what is typed here is what `balance` shows.
    let names = ctx.trusted_asset_names()?;
    let precision = match asset {
        None => Some(SANDBOX_PRECISION),
        Some(a) => names.precision(&a),
    };
    let amount = parse_amount(&args.amount.0, precision.unwrap_or(0))?;
    if amount == 0 {
        return Err(CliError::usage(
            "invalid_amount",
            "the amount must be above zero",
        ));
    }
    let txid = regtest::control::faucet(&url, args.address.trim(), amount, asset)
        .map_err(sandbox_error)?;
    if ctx.out.json {
        ctx.out.json(&json!({
            "txid": txid.to_string(),
            "address": args.address.trim(),
            "amount": amount,
            "asset": asset.map(|a| a.to_string()),
            "precision": precision,
        }));
    } else {
        let paid = match asset {
            None => format!("{} L-BTC", format_amount(amount, SANDBOX_PRECISION)),
            Some(a) => match precision {
                Some(_) => format!("{} ({amount} base units)", names.describe(&a, amount)),
                None => names.describe(&a, amount),
            },
        };
        ctx.out.line(&txid.to_string());
        ctx.out.note(&format!(
            "Paid {paid} to {}; it confirms with `{}`.",
            args.address.trim(),
            ctx.suggest(None, "sandbox mine")
        ));
    }
    Ok(())
}

fn mine(ctx: &Context, args: &SandboxMineArgs) -> CliResult<()> {
    let url = sandbox_url(ctx, &args.sandbox)?;
    let hashes = regtest::control::mine(&url, args.blocks).map_err(sandbox_error)?;
    let hashes: Vec<String> = hashes.iter().map(ToString::to_string).collect();
    if ctx.out.json {
        ctx.out.json(&json!({ "blocks": hashes }));
    } else {
        for hash in &hashes {
            ctx.out.line(hash);
        }
    }
    Ok(())
}

fn reorg(ctx: &Context, args: &SandboxReorgArgs) -> CliResult<()> {
    let url = sandbox_url(ctx, &args.sandbox)?;
    let hashes = regtest::control::reorg(&url, args.depth, args.keep_txs).map_err(sandbox_error)?;
    let hashes: Vec<String> = hashes.iter().map(ToString::to_string).collect();
    if ctx.out.json {
        ctx.out
            .json(&json!({ "replaced": args.depth, "blocks": hashes }));
    } else {
        for hash in &hashes {
            ctx.out.line(hash);
        }
        ctx.out.note(&format!(
            "Replaced {} block(s) with {} new one(s); their transactions {}.",
            args.depth,
            hashes.len(),
            if args.keep_txs {
                "went back to the mempool"
            } else {
                "vanished"
            }
        ));
    }
    Ok(())
}

/// The contract of a sandbox test asset: what its id commits to.
fn test_asset_contract(args: &SandboxIssueArgs, precision: u8) -> Value {
    let mut contract = json!({
        "name": args.name.as_deref().unwrap_or("sandbox test asset"),
        "precision": precision,
        "version": 0,
    });
    if let Some(ticker) = &args.ticker {
        contract["ticker"] = json!(ticker);
    }
    contract
}

fn issue(ctx: &Context, args: &SandboxIssueArgs) -> CliResult<()> {
    let url = sandbox_url(ctx, &args.sandbox)?;
    let precision = args.precision.unwrap_or(0);
    let label = (args.ticker.is_some() || args.precision.is_some())
        .then(|| AssetLabel::new(args.ticker.clone(), args.precision))
        .transpose()
        .map_err(|why| CliError::usage("invalid_label", why))?;
    let amount = parse_amount(&args.amount.0, precision)?;
    if amount == 0 {
        return Err(CliError::usage(
            "invalid_amount",
            "the amount must be above zero",
        ));
    }
    let contract = test_asset_contract(args, precision);
    let issued =
        regtest::control::issue_with_contract(&url, amount, &contract).map_err(sandbox_error)?;
    let asset = issued.asset;
    if let Some(label) = &label {
        crate::config::edit(&ctx.data_dir, |doc| {
            crate::config::set_label(doc, Network::Regtest, &asset, label)
        })?;
    }
    if ctx.out.json {
        ctx.out.json(&json!({
            "asset": asset.to_string(),
            "token": issued.token.to_string(),
            "txid": issued.txid.to_string(),
            "amount": amount,
            "precision": precision,
            "contract": contract,
            "contract_hash": regtest::faucet::json_contract_hash(&contract.to_string())
                .map(|h| h.to_string())
                .ok(),
            "labelled": label.is_some(),
        }));
    } else {
        ctx.out.fields(&[
            ("asset", asset.to_string()),
            ("reissuance token", issued.token.to_string()),
            ("txid", issued.txid.to_string()),
            (
                "amount",
                if precision == 0 {
                    format!("{amount} base units")
                } else {
                    format!("{} ({amount} base units)", format_amount(amount, precision))
                },
            ),
            ("precision", precision.to_string()),
            ("contract", contract.to_string()),
        ]);
        if label.is_some() {
            ctx.out.note(&format!(
                "Labelled in {}: wallets of this data folder show it with precision {precision}{}.",
                ctx.data_dir.join(crate::config::CONFIG_FILE).display(),
                args.ticker
                    .as_deref()
                    .map(|t| format!(" as {t}"))
                    .unwrap_or_default()
            ));
        }
        ctx.out.note(&format!(
            "The faucet holds the new asset: `{}` pays it.",
            ctx.suggest(
                None,
                &format!("sandbox faucet ADDRESS AMOUNT --asset {asset}")
            )
        ));
    }
    Ok(())
}
