//! Recipients and fee of a payment, shared by `send` and `pset create`: parse, sync, build.

use clap::Args;
use serde_json::{json, Value};
use wallet_core::amount::parse_amount;
use wallet_core::ops::payment::prepare_payment;
use wallet_core::ops::{Mode, Prepared};
use wallet_core::tx::{FeeRate, PaymentRequest, Recipient};
use wallet_core::wallet::Wallet;

use crate::arg_groups::ScanArgs;
use crate::context::{AssetNames, Context};
use crate::error::{CliError, CliResult};
use crate::values::{self, RecipientArg};

/// Recipients and fee of a payment (shared by `send` and `pset create`).
#[derive(Debug, Args)]
pub struct PaymentArgs {
    /// A payee: ADDRESS:AMOUNT[:ASSET]; repeat for several. AMOUNT is a decimal in the
    /// asset's precision, or base units for an asset of unknown precision (label it with
    /// `asset label`). With --drain: ADDRESS[:all[:ASSET]].
    #[arg(long = "to", value_name = "ADDRESS:AMOUNT[:ASSET]", required = true)]
    pub to: Vec<RecipientArg>,
    /// Fee rate in sat per discounted vbyte, 0.1 to 1000 [default: the server's estimate].
    #[arg(long, value_name = "SAT_PER_VB", value_parser = values::fee_rate)]
    pub fee_rate: Option<FeeRate>,
    /// Sweep every coin of the asset (L-BTC by default) to the one --to address.
    #[arg(long)]
    pub drain: bool,
    /// Allow paying an unconfidential address (its amount and asset become public).
    #[arg(long)]
    pub allow_unconfidential: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Checks that `address`, the value of argument `arg`, is an address of `network`: another
/// network's address is a usage error (exit 2) naming the argument and the address, as any
/// other malformed argument. Used by every command that takes a Liquid address.
pub fn check_address_network(
    arg: &str,
    address: &str,
    network: wallet_core::network::Network,
) -> CliResult<elements::Address> {
    wallet_core::address::parse_for_network(address, network).map_err(|e| match e {
        wallet_core::Error::WrongNetwork { expected, found } => CliError::usage(
            "wrong_network",
            format!("{arg}: {address} is an address of {found}, not of {expected}"),
        )
        .hint(format!(
            "pass an address of {expected}, or --network {found} to work on {found}"
        )),
        other => CliError::from(other),
    })
}

/// One `--to` value, with its amount in base units of its asset's precision.
fn recipient(
    ctx: &Context,
    names: &AssetNames,
    arg: &RecipientArg,
    drain: bool,
    policy: elements::AssetId,
) -> CliResult<Recipient> {
    // Another network's address is a usage error naming --to and the address.
    check_address_network("--to", &arg.address.to_string(), ctx.network)?;
    let asset = arg.asset.resolve(policy);
    let value = match (&arg.amount, drain) {
        (None, true) => 0,
        (Some(other), true) => {
            return Err(CliError::usage(
                "invalid_recipient",
                format!("with --drain the amount is 'all', not '{other}'"),
            ))
        }
        (None, false) => {
            return Err(CliError::usage(
                "invalid_recipient",
                format!("the payment to {} has no amount", arg.address),
            )
            .hint("write ADDRESS:AMOUNT, e.g. el1...:0.5"))
        }
        (Some(amount), false) => {
            let precision = names.precision(&asset);
            parse_amount(&amount.0, precision.unwrap_or(0)).map_err(|e| {
                let unit = match precision {
                    Some(p) => format!("at most {p} decimals"),
                    None => "a whole number of base units (its precision is unknown: \
                             `asset label` sets it)"
                        .to_owned(),
                };
                CliError::from(e).hint(format!("{asset} takes {unit}"))
            })?
        }
    };
    Ok(Recipient {
        address: arg.address.clone(),
        value,
        asset,
    })
}

/// Syncs the wallet, then builds, blinds and verifies the payment of `args` (nothing signed).
pub fn prepare(
    ctx: &Context,
    wallet: &mut Wallet,
    args: &PaymentArgs,
    mode: Mode,
) -> CliResult<Prepared> {
    let names = ctx.asset_names(wallet)?;
    let policy = ctx.policy_asset()?;
    let recipients = args
        .to
        .iter()
        .map(|t| recipient(ctx, &names, t, args.drain, policy))
        .collect::<CliResult<Vec<_>>>()?;
    if !args.allow_unconfidential {
        if let Some(r) = recipients.iter().find(|r| !r.address.is_blinded()) {
            return Err(CliError::usage(
                "unconfidential_address",
                format!(
                    "{} is unconfidential: the amount and asset paid to it become public",
                    r.address
                ),
            )
            .hint("ask for the confidential address, or pass --allow-unconfidential"));
        }
    }
    crate::cmd::sync::sync_with_progress(ctx, wallet, &args.scan, false)?;
    let request = PaymentRequest {
        recipients,
        fee_rate: ctx.fee_rate(args.fee_rate)?,
        drain: args.drain,
    };
    Ok(prepare_payment(wallet, &request, mode)?)
}

/// The fee and net effect of a prepared transaction, for JSON documents.
pub fn summary(prepared: &Prepared) -> Value {
    json!({ "fee": prepared.fee(), "net": crate::view::net_json(prepared.net()) })
}
