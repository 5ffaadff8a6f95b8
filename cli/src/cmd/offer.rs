//! `offer create | inspect | accept | settle | cancel`: DvP offers through files and pipes.
//! What is built, verified, signed and recorded is decided in wallet-core
//! (`ops::swap`); this module parses, shows, asks and writes. Every stage's output is the
//! next stage's input: `offer create ... | offer accept - | offer settle -`.

use std::str::FromStr;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{json, Value};
use wallet_core::ops::swap::{
    cancel_off_chain, commit_settle, create_offer, finish_accept, inspect_offer, prepare_accept,
    prepare_cancel, prepare_settle, resume_deal, CancelPlan, CreateRequest, Inspection, Resumed,
    SettleStart,
};
use wallet_core::ops::Mode;
use wallet_core::store::{DealRole, DealStatus};
use wallet_core::swap::envelope::humanize;
use wallet_core::swap::taker::AcceptRequest;
use wallet_core::swap::{Leg, Offer, Stage, Terms};
use wallet_core::wallet::Wallet;

use crate::arg_groups::{PassphraseArgs, ScanArgs};
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult, Exit};
use crate::values::{self, AssetArg, Decimal};
use crate::view::{net_json, read_source_bytes};
use crate::{input, signing};

/// `AMOUNT:ASSET`: an amount (a decimal in the asset's precision) of an asset (id or L-BTC).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegArg {
    /// The amount as typed.
    pub amount: Decimal,
    /// The asset.
    pub asset: AssetArg,
}

impl FromStr for LegArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (amount, asset) = text.trim().split_once(':').ok_or_else(|| {
            format!("'{text}' is not AMOUNT:ASSET, e.g. 1.5:L-BTC or 15000000:<asset id>")
        })?;
        Ok(LegArg {
            amount: amount.parse()?,
            asset: asset.parse()?,
        })
    }
}

/// Who pays the fee of a deal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FeePayerArg {
    /// The maker: the fee is fixed in the offer, on its size plus an allowance for the
    /// taker's part.
    Maker,
    /// The taker: it sizes the fee when it builds the transaction.
    Taker,
}

/// `offer` subcommands.
#[derive(Debug, Subcommand)]
pub enum OfferCommand {
    /// Make an offer (maker): pick and reserve coins, write the envelope (nothing signed).
    #[command(long_about = CREATE_HELP)]
    Create(OfferCreateArgs),
    /// Show an offer: terms, stage, expiry, both legs and, for a wallet, what it would give
    /// and get and whether every check passes. Signs and reserves nothing.
    Inspect(OfferInspectArgs),
    /// Accept an offer (taker): verify, add this wallet's coins, blind, verify its own net
    /// effect, ask, sign, record the deal, write the envelope back.
    #[command(long_about = ACCEPT_HELP)]
    Accept(OfferAcceptArgs),
    /// Settle an accepted offer (maker): verify the whole transaction, ask, sign, record,
    /// broadcast. Again on the same envelope: never a second transaction.
    Settle(OfferSettleArgs),
    /// Cancel a deal: a taker (or `--onchain`) spends one of its coins in the deal back to
    /// itself; a maker that has signed nothing just closes it.
    #[command(long_about = CANCEL_HELP)]
    Cancel(OfferCancelArgs),
}

/// The long help of `offer`.
pub const OFFER_LONG_HELP: &str = "DvP (delivery versus payment) offers: two wallets exchange \
an amount of one asset for an amount of another in ONE Liquid transaction, so both legs settle \
or neither does.\n\nThree messages: the maker's `offer create` writes an envelope; the taker's \
`offer accept` verifies it, adds its part, signs and writes it back; the maker's `offer settle` \
verifies the whole transaction, signs and broadcasts. Each side signs only after its own view \
of the transaction shows exactly the agreed net effect (SIGHASH_ALL). A refused offer exits 3 \
with the reason; nothing is signed, broadcast or reserved. `deal` keeps the ledger.\n\n  \
liquid-otc offer create --give 1.5:L-BTC --want 15000000:<asset id> \\\n    | liquid-otc \
--wallet desk offer accept - | liquid-otc offer settle -";

const CREATE_HELP: &str = "Make a DvP offer: give AMOUNT of one asset, receive AMOUNT of \
another, settled in one transaction with the taker.\n\nThe wallet syncs, picks its coins \
(unreserved ones only), builds its part of the transaction (its output receiving what it wants \
and its change, each with its blinding key) and writes an envelope (JSON) with the terms, the \
PSET and the unblinding data of its coins (the taker needs them to blind; it learns their \
amounts). The coins are reserved for the deal until it ends: `send`, `pset create` and other \
offers do not touch them. Nothing is signed, so no passphrase is asked.\n\nThe fee: with \
--fee-payer taker (the default) the taker sizes it when it accepts, at its own rate \
(--fee-rate is refused here). With --fee-payer maker it \
is fixed now, at --fee-rate on this part plus an allowance for 3 inputs and 3 outputs of the \
taker, and written in the terms; a taker whose part is bigger is refused. Either way the fee \
is at least 0.1 sat per discounted vbyte and at most 10.\n\nThe offer stays open for --expires (1 second \
to 30 days). The envelope goes to stdout, or to -o FILE, a new file created before anything is \
reserved (a name that exists changes nothing); with --json, inside a JSON document whose \
`envelope` field the next stage reads. The ledger keeps it: `deal envelope DEAL` writes it \
again.";

const ACCEPT_HELP: &str = "Accept a DvP offer as the taker.\n\nThe wallet syncs, checks the \
envelope (version, network and genesis, expiry; an offer made more than 5 minutes ahead of this \
machine's clock or open more than 30 days is refused), the maker's part against the terms (its \
revealed data must reopen its coins, which must be the chain's), adds its own coins, its \
output receiving what the maker gives, its change and the fee, blinds every output, then checks \
the whole transaction through its own view: its inputs are exactly the coins it chose, its net \
effect per asset exactly the terms', its outputs confidential, the fee within bounds, and it is \
final at once (lock time 0, every input's sequence 0xffffffff or 0xfffffffe: no relative lock \
time). It shows \
what it gives and gets and asks (--yes for scripts), signs its inputs (SIGHASH_ALL), records \
the deal (accepted; its coins reserved) and writes the envelope back for the maker (-o FILE: \
a new file, created before anything is signed; `deal envelope DEAL` writes it again).\n\nFrom \
then on the maker can settle until the offer expires or this wallet spends one of its coins in \
the deal (`offer cancel`, or `deal expire` from cron). A refused offer exits 3 with the reason; \
nothing is signed, recorded or reserved.";

const CANCEL_HELP: &str = "Cancel a deal of this wallet.\n\nA taker that accepted has signed: \
only spending one of its coins in the deal (back to itself, the fee from its L-BTC) makes the \
offer impossible to settle. That spend is recorded and broadcast; the deal is `cancelling` (still \
exposed) until it confirms, then `cancelled` (sync moves it). A maker that has not settled has \
signed nothing: the deal is closed at once and its coins released, and `offer settle` refuses it \
from then on; --onchain spends a coin anyway (for a copy of the wallet elsewhere).";

/// Arguments of `offer create`.
#[derive(Debug, Args)]
pub struct OfferCreateArgs {
    /// What this wallet gives: AMOUNT:ASSET (ASSET is an id or L-BTC; AMOUNT a decimal in the
    /// asset's precision, base units when it is unknown).
    #[arg(long, value_name = "AMOUNT:ASSET")]
    pub give: LegArg,
    /// What it wants in return: AMOUNT:ASSET.
    #[arg(long, value_name = "AMOUNT:ASSET")]
    pub want: LegArg,
    /// Who pays the fee.
    #[arg(long, value_enum, default_value_t = FeePayerArg::Taker)]
    pub fee_payer: FeePayerArg,
    /// With --fee-payer maker: the rate the fee is fixed at, in sat per discounted vbyte
    /// (0.1 to 10, a deal's cap) [default: the server's estimate, at least 0.1]. The taker
    /// chooses its own when it pays.
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<wallet_core::tx::FeeRate>,
    /// How long the offer stays open: 30m, 2h, 1d (at most 30 days).
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = offer_expiry)]
    pub expires: std::time::Duration,
    /// Your own label for the counterparty (kept in your ledger, not sent; 1 to 64
    /// characters).
    #[arg(long, value_name = "LABEL", value_parser = counterparty)]
    pub counterparty: Option<String>,
    /// A memo sent with the offer (the taker sees it as your words; at most 256 characters,
    /// no control characters).
    #[arg(long, value_name = "TEXT", value_parser = memo)]
    pub memo: Option<String>,
    /// Where to write the envelope: a new file, or - for stdout.
    #[arg(long, short = 'o', value_name = "FILE|-", default_value = "-")]
    pub output: String,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `offer inspect`.
#[derive(Debug, Args)]
pub struct OfferInspectArgs {
    /// The envelope: a file, or - for stdin.
    #[arg(value_name = "FILE|-")]
    pub offer: String,
}

/// Arguments of `offer accept`.
#[derive(Debug, Args)]
pub struct OfferAcceptArgs {
    /// The offer's envelope: a file, or - for stdin.
    #[arg(value_name = "FILE|-")]
    pub offer: String,
    /// Where to write the accepted envelope: a new file, or - for stdout.
    #[arg(long, short = 'o', value_name = "FILE|-", default_value = "-")]
    pub output: String,
    /// Fee rate when this wallet pays the fee, in sat per discounted vbyte (0.1 to 10, a
    /// deal's cap) [default: the server's estimate, at least 0.1].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<wallet_core::tx::FeeRate>,
    /// Your own label for the counterparty (kept in your ledger; 1 to 64 characters).
    #[arg(long, value_name = "LABEL", value_parser = counterparty)]
    pub counterparty: Option<String>,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `offer settle`.
#[derive(Debug, Args)]
pub struct OfferSettleArgs {
    /// The accepted envelope: a file, or - for stdin.
    #[arg(value_name = "FILE|-")]
    pub offer: String,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `offer cancel`.
#[derive(Debug, Args)]
pub struct OfferCancelArgs {
    /// The deal id (or a unique prefix of 8 characters or more).
    #[arg(value_name = "DEAL", value_parser = values::deal_ref)]
    pub deal: String,
    /// Spend one of the wallet's coins in the deal even when it signed nothing.
    #[arg(long)]
    pub onchain: bool,
    /// Fee rate of the cancelling spend, 0.1 to 1000 sat/vB [default: the server's estimate].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<wallet_core::tx::FeeRate>,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Parses a duration such as 30m, 2h or 1d.
pub fn duration(text: &str) -> Result<std::time::Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("'{text}' is not a duration such as 30m, 2h or 1d: {e}"))
}

/// Parses `--expires`: a duration of 1 second to the longest an offer may stay open.
pub fn offer_expiry(text: &str) -> Result<std::time::Duration, String> {
    let d = duration(text)?;
    let max = wallet_core::ops::swap::MAX_EXPIRY_SECS;
    if d.as_secs() == 0 || d.as_secs() > max {
        return Err(format!(
            "'{text}': an offer stays open 1 second to {} days",
            max / 86_400
        ));
    }
    Ok(d)
}

fn memo(text: &str) -> Result<String, String> {
    Offer::check_memo(text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

fn counterparty(text: &str) -> Result<String, String> {
    wallet_core::ops::swap::check_counterparty_label(text).map_err(|e| e.to_string())?;
    Ok(text.to_owned())
}

/// Runs an `offer` subcommand.
pub fn run(ctx: &Context, command: &OfferCommand) -> CliResult<()> {
    match command {
        OfferCommand::Create(args) => create(ctx, args),
        OfferCommand::Inspect(args) => inspect(ctx, args),
        OfferCommand::Accept(args) => accept(ctx, args),
        OfferCommand::Settle(args) => settle(ctx, args),
        OfferCommand::Cancel(args) => cancel(ctx, args),
    }
}

/// A wallet-core error said with the names this wallet trusts: a refusal's amounts in the
/// asset's precision ("the transaction gives you 99.99 L-CAD, the terms say 100 L-CAD").
pub fn offer_error(names: &AssetNames, err: wallet_core::Error) -> CliError {
    match err {
        wallet_core::Error::Offer(refusal) => {
            let words = refusal.words(&|asset, value| names.describe(asset, value));
            let mut cli = CliError::new(Exit::Refused, refusal.code, format!("refused: {words}"));
            if let Some(hint) = refusal.hint {
                cli = cli.hint(hint);
            }
            cli
        }
        other => CliError::from(other),
    }
}

fn leg(names: &AssetNames, arg: &LegArg, policy: elements::AssetId) -> CliResult<Leg> {
    let asset = arg.asset.resolve(policy);
    let precision = names.precision(&asset);
    let amount =
        wallet_core::amount::parse_amount(&arg.amount.0, precision.unwrap_or(0)).map_err(|e| {
            let unit = match precision {
                Some(p) => format!("at most {p} decimals"),
                None => "a whole number of base units (its precision is unknown: `asset label` \
                         sets it)"
                    .to_owned(),
            };
            CliError::from(e).hint(format!("{asset} takes {unit}"))
        })?;
    Ok(Leg { asset, amount })
}

/// Reads an envelope from a file or stdin.
fn read_offer(ctx: &Context, source: &str) -> CliResult<Offer> {
    let bytes = read_source_bytes(source)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        CliError::usage(
            "invalid_offer",
            format!(
                "{source}: not a DvP offer: it is not UTF-8 text (byte {} is not)",
                e.utf8_error().valid_up_to()
            ),
        )
        .hint("pass the file `offer create` or `offer accept` wrote, or - to read stdin")
    })?;
    if text.trim().is_empty() {
        return Err(
            CliError::usage("invalid_offer", format!("{source}: no envelope in it"))
                .hint("pass the file `offer create` or `offer accept` wrote, or - to read stdin"),
        );
    }
    Ok(Offer::parse(&text, ctx.network)?)
}

/// Where a stage's envelope goes: stdout, or a new file (0600) created before the stage
/// changes anything, so that a name that exists or a folder that does not costs nothing.
#[derive(Debug)]
pub enum EnvelopeOut {
    /// Stdout (`-`).
    Stdout,
    /// A new file, created empty; removed again if the stage fails.
    File(input::NewSecretFile, String),
}

impl EnvelopeOut {
    /// Opens `target` (`-` or a new file's path).
    pub fn open(target: &str) -> CliResult<EnvelopeOut> {
        if target == "-" {
            return Ok(EnvelopeOut::Stdout);
        }
        let file = input::NewSecretFile::create(std::path::Path::new(target))?;
        Ok(EnvelopeOut::File(file, target.to_owned()))
    }
}

/// Writes an envelope (the JSON document `envelope` of deal `deal_id` at `stage`): to stdout
/// (one JSON line, or with --json inside a document with `extra`), or to its new file with a
/// note.
pub fn write_envelope(
    ctx: &Context,
    out: EnvelopeOut,
    deal_id: &str,
    stage: &str,
    envelope: Value,
    extra: Value,
) -> CliResult<()> {
    let (file, target) = match out {
        EnvelopeOut::Stdout => {
            if ctx.out.json {
                let mut doc = extra;
                doc["envelope"] = envelope;
                ctx.out.json(&doc);
            } else {
                ctx.out.line(&envelope.to_string());
            }
            return Ok(());
        }
        EnvelopeOut::File(file, target) => (file, target),
    };
    file.finish(&format!("{envelope}\n")).map_err(|e| {
        e.hint(format!(
            "deal {deal_id} is recorded: `liquid-otc deal envelope {deal_id} -o FILE` writes \
             its envelope again"
        ))
    })?;
    if ctx.out.json {
        let mut doc = extra;
        doc["envelope_file"] = json!(target);
        ctx.out.json(&doc);
    } else {
        ctx.out.line(deal_id);
        ctx.out
            .note(&format!("Wrote the {stage} envelope to {target}."));
    }
    Ok(())
}

/// A signed amount for people: "+1.5 L-BTC", "-15000000 base units of asset …".
pub fn signed_text(names: &AssetNames, value: i64, asset: &elements::AssetId) -> String {
    let sign = if value < 0 { "-" } else { "+" };
    format!("{sign}{}", names.describe(asset, value.unsigned_abs()))
}

/// A time for people: RFC 3339 in UTC.
pub fn time_text(secs: u64) -> String {
    humantime::format_rfc3339_seconds(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
        .to_string()
}

/// The terms as JSON (base units, asset ids).
pub fn terms_json(terms: &Terms) -> Value {
    json!({
        "maker_gives": { "asset": terms.maker_gives.asset.to_string(), "amount": terms.maker_gives.amount },
        "maker_receives": { "asset": terms.maker_receives.asset.to_string(), "amount": terms.maker_receives.amount },
        "fee_payer": terms.fee_payer.as_str(),
        "fee": terms.fee,
    })
}

/// The terms for people.
pub fn terms_rows(names: &AssetNames, terms: &Terms) -> Vec<(&'static str, String)> {
    let fee = match (terms.fee_payer, terms.fee) {
        (DealRole::Maker, Some(fee)) => format!("{fee} sat, fixed, paid by the maker"),
        _ => "paid by the taker, sized when it accepts".to_owned(),
    };
    vec![
        (
            "maker gives",
            names.describe(&terms.maker_gives.asset, terms.maker_gives.amount),
        ),
        (
            "maker receives",
            names.describe(&terms.maker_receives.asset, terms.maker_receives.amount),
        ),
        ("fee", fee),
    ]
}

/// Shows an offer's terms and what this wallet's side gives and gets, on stderr.
/// The terms on stderr: in text mode unless `-q`, and in any mode before a question
/// (`asking`, see [`crate::view::shows_summary`]).
fn show_terms(ctx: &Context, names: &AssetNames, offer: &Offer, role: DealRole, asking: bool) {
    if !crate::view::shows_summary(&ctx.out, asking) {
        return;
    }
    let now = wallet_core::swap::now();
    eprintln!(
        "Offer {} ({}, expires {} at {})",
        offer.deal_id,
        offer.stage.as_str(),
        if offer.is_expired(now) {
            "-- EXPIRED".to_owned()
        } else {
            format!("in {}", humanize(offer.expires_at - now))
        },
        time_text(offer.expires_at)
    );
    for (k, v) in terms_rows(names, &offer.terms) {
        eprintln!("  {k:<15} {v}");
    }
    if let Some(memo) = &offer.memo {
        eprintln!("  memo            {memo:?} (the maker's words, not checked)");
    }
    eprintln!("You are the {}.", role.as_str());
}

fn show_net(
    ctx: &Context,
    names: &AssetNames,
    net: &std::collections::BTreeMap<elements::AssetId, i64>,
    fee: u64,
    payer: DealRole,
    role: DealRole,
    asking: bool,
) {
    if !crate::view::shows_summary(&ctx.out, asking) {
        return;
    }
    eprintln!("This wallet's net effect (verified on the blinded transaction):");
    for (asset, value) in net {
        eprintln!("  {}", signed_text(names, *value, asset));
    }
    eprintln!(
        "Fee: {fee} sat, paid by the {}{}",
        payer.as_str(),
        if payer == role { " (this wallet)" } else { "" }
    );
}

fn create(ctx: &Context, args: &OfferCreateArgs) -> CliResult<()> {
    if args.fee_rate.is_some() && args.fee_payer == FeePayerArg::Taker {
        return Err(CliError::usage(
            "usage",
            "--fee-rate: the taker chooses the fee rate when it pays the fee (--fee-payer taker, \
             the default)",
        )
        .hint("drop --fee-rate, or pass --fee-payer maker to fix the fee in the offer"));
    }
    // A bad -o is said before anything is reserved or recorded.
    let out = EnvelopeOut::open(&args.output)?;
    let mut wallet = ctx.open_wallet()?;
    let names = ctx.asset_names(&wallet)?;
    let policy = ctx.policy_asset()?;
    let gives = leg(&names, &args.give, policy)?;
    let receives = leg(&names, &args.want, policy)?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let fee_payer = match args.fee_payer {
        FeePayerArg::Maker => DealRole::Maker,
        FeePayerArg::Taker => DealRole::Taker,
    };
    let fee_rate = match fee_payer {
        DealRole::Maker => ctx.fee_rate(args.fee_rate)?,
        DealRole::Taker => wallet_core::tx::FeeRate::MIN,
    };
    let request = CreateRequest {
        gives,
        receives,
        fee_payer,
        fee_rate,
        expires_in: args.expires.as_secs(),
        counterparty: args.counterparty.clone(),
        memo: args.memo.clone(),
    };
    let created = create_offer(&mut wallet, &request).map_err(|e| offer_error(&names, e))?;
    let offer = &created.offer;
    show_terms(ctx, &names, offer, DealRole::Maker, false);
    ctx.out.note(&format!(
        "Reserved {} coin(s) for deal {}. Send the envelope to the taker; settle what it sends \
         back with `offer settle`.",
        created.deal.coins.len(),
        offer.deal_id
    ));
    let extra = json!({
        "deal_id": offer.deal_id,
        "stage": offer.stage.as_str(),
        "created_at": offer.created_at,
        "expires_at": offer.expires_at,
        "terms": terms_json(&offer.terms),
        "reserved": created.deal.coins.iter().map(wallet_core::pset::outpoint_text).collect::<Vec<_>>(),
    });
    write_envelope(
        ctx,
        out,
        &offer.deal_id,
        offer.stage.as_str(),
        offer.to_value(),
        extra,
    )
}

/// The wallet to inspect with: `--wallet`, or the network's only wallet; none otherwise.
fn optional_wallet(ctx: &Context) -> CliResult<Option<Wallet>> {
    if ctx.wallet.is_some() {
        return ctx.open_wallet().map(Some);
    }
    match ctx.wallets().list(ctx.network)?.len() {
        1 => ctx.open_wallet().map(Some),
        _ => Ok(None),
    }
}

fn inspection_json(
    ctx: &Context,
    offer: &Offer,
    wallet: Option<&Wallet>,
    found: &Inspection,
) -> Value {
    let now = wallet_core::swap::now();
    let maker_inputs: Vec<Value> = offer
        .maker_inputs
        .iter()
        .map(|i| {
            json!({
                "outpoint": wallet_core::pset::outpoint_text(&i.outpoint),
                "asset": i.secrets.asset.to_string(),
                "value": i.secrets.value,
            })
        })
        .collect();
    let maker_n = offer.maker_inputs.len();
    let (maker_outputs, taker) = match offer.stage {
        Stage::Proposed => (
            offer
                .pset
                .outputs()
                .iter()
                .map(|o| {
                    json!({
                        "asset": o.asset.map(|a| a.to_string()),
                        "value": o.amount,
                    })
                })
                .collect::<Vec<_>>(),
            Value::Null,
        ),
        Stage::Accepted => (
            Vec::new(),
            json!({
                "inputs": offer.pset.inputs().len().saturating_sub(maker_n),
                "signed": offer.pset.inputs().iter().skip(maker_n).all(|i| i.final_script_witness.is_some()),
            }),
        ),
    };
    let tx = offer.pset.extract_tx().ok();
    let fee: Option<u64> = tx.as_ref().map(|t| {
        t.output
            .iter()
            .filter(|o| o.is_fee())
            .filter_map(|o| o.value.explicit())
            .sum()
    });
    json!({
        "deal_id": offer.deal_id,
        "stage": offer.stage.as_str(),
        "network": ctx.network.as_str(),
        "created_at": offer.created_at,
        "expires_at": offer.expires_at,
        "expired": offer.is_expired(now),
        "terms": terms_json(&offer.terms),
        "memo": offer.memo,
        "maker": { "inputs": maker_inputs, "outputs": maker_outputs },
        "taker": taker,
        "txid": match offer.stage { Stage::Accepted => tx.as_ref().map(|t| t.txid().to_string()), Stage::Proposed => None },
        "fee": match offer.stage { Stage::Accepted => fee, Stage::Proposed => None },
        "wallet": wallet.map(|w| json!({
            "name": w.name(),
            "role": found.role.map(DealRole::as_str),
            "terms_net": found.terms_net.as_ref().map(net_json),
            "net": found.view.as_ref().map(|v| net_json(&v.net)),
        })),
        "checks": found.checks.iter().map(|c| json!({
            "check": c.name, "ok": c.ok, "detail": c.detail, "code": c.code,
        })).collect::<Vec<_>>(),
        "passes": found.passes(),
    })
}

fn inspect(ctx: &Context, args: &OfferInspectArgs) -> CliResult<()> {
    let offer = read_offer(ctx, &args.offer)?;
    let mut wallet = optional_wallet(ctx)?;
    if let Some(w) = wallet.as_mut() {
        w.set_policy_asset(ctx.policy_asset()?);
    }
    let found = inspect_offer(&offer, wallet.as_mut())?;
    if ctx.out.json {
        ctx.out
            .json(&inspection_json(ctx, &offer, wallet.as_ref(), &found));
        return Ok(());
    }
    let names = match &wallet {
        Some(w) => ctx.asset_names(w)?,
        None => ctx.trusted_asset_names()?,
    };
    let now = wallet_core::swap::now();
    let mut rows: Vec<(&str, String)> = vec![
        ("deal", offer.deal_id.clone()),
        ("stage", offer.stage.as_str().to_owned()),
        ("network", ctx.network.as_str().to_owned()),
        ("created", time_text(offer.created_at)),
        (
            "expires",
            format!(
                "{} ({})",
                time_text(offer.expires_at),
                if offer.is_expired(now) {
                    format!("expired {} ago", humanize(now - offer.expires_at))
                } else {
                    format!("in {}", humanize(offer.expires_at - now))
                }
            ),
        ),
    ];
    rows.extend(terms_rows(&names, &offer.terms));
    if let Some(memo) = &offer.memo {
        rows.push(("memo", format!("{memo:?} (the maker's words, not checked)")));
    }
    let maker_in: Vec<String> = offer
        .maker_inputs
        .iter()
        .map(|i| names.describe(&i.secrets.asset, i.secrets.value))
        .collect();
    rows.push(("maker inputs", maker_in.join(", ")));
    if offer.stage == Stage::Accepted {
        let n = offer.pset.inputs().len() - offer.maker_inputs.len();
        rows.push(("taker inputs", format!("{n} (blinded)")));
        if let Ok(tx) = offer.pset.extract_tx() {
            rows.push(("txid", tx.txid().to_string()));
        }
    }
    if let (Some(w), Some(role)) = (&wallet, found.role) {
        rows.push(("wallet", format!("{} (the {})", w.name(), role.as_str())));
        if let Some(net) = &found.terms_net {
            for (asset, value) in net {
                rows.push(("by the terms", signed_text(&names, *value, asset)));
            }
        }
        if let Some(view) = &found.view {
            for (asset, value) in &view.net {
                rows.push(("net effect", signed_text(&names, *value, asset)));
            }
        }
    }
    for c in &found.checks {
        rows.push((
            if c.ok { "ok" } else { "FAILS" },
            format!("{}: {}", c.name, c.detail),
        ));
    }
    ctx.out.fields(&rows);
    if wallet.is_none() {
        ctx.out.note(
            "no wallet chosen: these are the checks anyone can make; pass --wallet NAME for its \
             side's",
        );
    }
    Ok(())
}

fn accept(ctx: &Context, args: &OfferAcceptArgs) -> CliResult<()> {
    let offer = read_offer(ctx, &args.offer)?;
    // A bad -o is said before anything is signed or recorded.
    let out = EnvelopeOut::open(&args.output)?;
    let mut wallet = ctx.open_wallet()?;
    signing::check_can_sign(&wallet, "accept with a wallet restored from a mnemonic")?;
    let names = ctx.asset_names(&wallet)?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let fee_rate = match offer.terms.fee_payer {
        DealRole::Taker => ctx.fee_rate(args.fee_rate)?,
        DealRole::Maker => wallet_core::tx::FeeRate::MIN,
    };
    let backend = ctx.backend()?;
    let asking = crate::view::asking(ctx, false);
    show_terms(ctx, &names, &offer, DealRole::Taker, asking);
    let prepared = prepare_accept(
        &mut wallet,
        offer,
        &AcceptRequest { fee_rate },
        Some(backend),
        Mode::ForSigning,
    )
    .map_err(|e| offer_error(&names, e))?;
    show_net(
        ctx,
        &names,
        &prepared.prepared.view.net,
        prepared.prepared.fee(),
        prepared.offer.terms.fee_payer,
        DealRole::Taker,
        asking,
    );
    input::confirm(
        ctx.yes,
        "accepting an offer",
        "Sign this acceptance? The maker can settle it until it expires or you cancel it.",
    )?;
    let secret = signing::unlock(&wallet, &args.passphrase)?;
    let net = prepared.prepared.view.net.clone();
    let fee = prepared.prepared.fee();
    let (accepted, deal) = finish_accept(&mut wallet, prepared, &secret, args.counterparty.clone())
        .map_err(|e| offer_error(&names, e))?;
    drop(secret);
    ctx.out.note(&format!(
        "Accepted and signed deal {}: send the envelope back to the maker. Until it settles, \
         `offer cancel {}` is the way out.",
        deal.id, deal.id
    ));
    let extra = json!({
        "deal_id": deal.id,
        "stage": accepted.stage.as_str(),
        "txid": deal.txid.map(|t| t.to_string()),
        "fee": fee,
        "net": net_json(&net),
        "expires_at": deal.expires_at,
    });
    write_envelope(
        ctx,
        out,
        &deal.id,
        accepted.stage.as_str(),
        accepted.to_value(),
        extra,
    )
}

fn settle(ctx: &Context, args: &OfferSettleArgs) -> CliResult<()> {
    let offer = read_offer(ctx, &args.offer)?;
    let mut wallet = ctx.open_wallet()?;
    signing::check_can_sign(&wallet, "settle with the wallet that made the offer")?;
    let names = ctx.asset_names(&wallet)?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let deal_id = offer.deal_id.clone();
    let start = prepare_settle(&mut wallet, offer).map_err(|e| offer_error(&names, e))?;
    let prepared = match start {
        SettleStart::Settled(deal) => {
            ctx.out.note(&format!(
                "Deal {} settled already ({}); nothing was signed.",
                deal.id, deal.status
            ));
            return print_settled(ctx, &deal.id, deal.txid, deal.status, deal.fee, true);
        }
        SettleStart::Recorded(deal) => {
            let resumed = resume_deal(&mut wallet, &deal.id, ctx.backend()?)?;
            let deal = wallet.store().deal(&deal.id)?.unwrap_or(deal);
            ctx.out.note(&match resumed {
                Resumed::Rebroadcast(txid) => format!(
                    "The settlement {txid} was signed and recorded before but never sent: sent \
                     it now (nothing was signed again)."
                ),
                _ => "The settlement was recorded before; nothing was signed again.".to_owned(),
            });
            return print_settled(ctx, &deal.id, deal.txid, deal.status, deal.fee, true);
        }
        SettleStart::Fresh(prepared) => prepared,
    };
    let asking = crate::view::asking(ctx, false);
    show_terms(ctx, &names, &prepared.offer, DealRole::Maker, asking);
    show_net(
        ctx,
        &names,
        &prepared.prepared.view.net,
        prepared.prepared.fee(),
        prepared.offer.terms.fee_payer,
        DealRole::Maker,
        asking,
    );
    ctx.out.note(
        "Every check passed: terms, expiry, no lock time, this wallet's inputs, net effect, \
         confidential outputs, fee, the taker's signatures.",
    );
    input::confirm(
        ctx.yes,
        "settling a deal",
        "Sign and broadcast the settlement?",
    )?;
    let secret = signing::unlock(&wallet, &args.passphrase)?;
    let backend = ctx.backend()?;
    let fee = prepared.prepared.fee();
    let txid = commit_settle(&mut wallet, *prepared, &secret, backend)
        .map_err(|e| offer_error(&names, e))?;
    drop(secret);
    ctx.out.note(&format!(
        "Settled deal {deal_id}: both legs are in {txid}. `deal show {deal_id}` follows it."
    ));
    print_settled(
        ctx,
        &deal_id,
        Some(txid),
        DealStatus::Broadcast,
        Some(fee),
        false,
    )
}

fn print_settled(
    ctx: &Context,
    id: &str,
    txid: Option<elements::Txid>,
    status: DealStatus,
    fee: Option<u64>,
    already: bool,
) -> CliResult<()> {
    if ctx.out.json {
        ctx.out.json(&json!({
            "deal_id": id,
            "txid": txid.map(|t| t.to_string()),
            "status": status.as_str(),
            "fee": fee,
            "already_settled": already,
        }));
    } else {
        ctx.out
            .line(&txid.map(|t| t.to_string()).unwrap_or_default());
    }
    Ok(())
}

/// Cancels deal `id` for `reason`: off the chain when the wallet signed nothing, else a spend
/// of one of its coins, asked for and signed. Returns the JSON result.
pub fn cancel_deal(
    ctx: &Context,
    wallet: &mut Wallet,
    id: &str,
    reason: DealStatus,
    onchain: bool,
    fee_rate: Option<wallet_core::tx::FeeRate>,
    passphrase: &PassphraseArgs,
) -> CliResult<Value> {
    let names = ctx.asset_names(wallet)?;
    let rate = ctx.fee_rate(fee_rate)?;
    let plan = prepare_cancel(wallet, id, reason, onchain, rate, Mode::ForSigning)
        .map_err(|e| offer_error(&names, e))?;
    match plan {
        CancelPlan::OffChain(deal) => {
            cancel_off_chain(wallet, &deal, reason)?;
            ctx.out.note(&format!(
                "Deal {} is {reason}: this wallet never signed for it, so it can never settle; \
                 its coins are free.",
                deal.id
            ));
            Ok(
                json!({ "deal_id": deal.id, "status": reason.as_str(), "cancel_txid": null, "onchain": false }),
            )
        }
        CancelPlan::Pending(deal) => {
            ctx.out.note(&format!(
                "Deal {} is being cancelled already by {}; it stays exposed until that confirms.",
                deal.id,
                deal.cancel_txid.map(|t| t.to_string()).unwrap_or_default()
            ));
            Ok(json!({
                "deal_id": deal.id,
                "status": deal.status.as_str(),
                "cancel_txid": deal.cancel_txid.map(|t| t.to_string()),
                "onchain": true,
            }))
        }
        CancelPlan::OnChain(prepared, deal) => {
            if crate::view::shows_summary(&ctx.out, crate::view::asking(ctx, false)) {
                eprintln!(
                    "Deal {}: spending coin(s) of the deal back to this wallet, fee {} sat.",
                    deal.id,
                    prepared.fee()
                );
            }
            let committed = signing::confirm_and_commit(
                ctx,
                wallet,
                *prepared,
                passphrase,
                "cancelling a deal",
                "Sign and broadcast the cancelling spend?",
            )?;
            ctx.out.note(&format!(
                "Deal {} is cancelling: {} spends a coin of the deal; the deal stays exposed \
                 until it confirms (sync moves it to {reason}).",
                deal.id, committed.txid
            ));
            Ok(json!({
                "deal_id": deal.id,
                "status": DealStatus::Cancelling.as_str(),
                "cancel_txid": committed.txid.to_string(),
                "onchain": true,
            }))
        }
    }
}

fn cancel(ctx: &Context, args: &OfferCancelArgs) -> CliResult<()> {
    let mut wallet = ctx.open_wallet()?;
    crate::cmd::sync::sync_with_progress(ctx, &mut wallet, &args.scan, false)?;
    let doc = cancel_deal(
        ctx,
        &mut wallet,
        &args.deal,
        DealStatus::Cancelled,
        args.onchain,
        args.fee_rate,
        &args.passphrase,
    )?;
    if ctx.out.json {
        ctx.out.json(&doc);
    } else {
        ctx.out.line(&format!(
            "{} {}",
            doc["deal_id"].as_str().unwrap_or_default(),
            doc["status"].as_str().unwrap_or_default()
        ));
    }
    Ok(())
}
