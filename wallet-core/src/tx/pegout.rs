//! Peg-out transactions: explicit policy-asset outputs to `OP_RETURN <parent genesis>
//! <Bitcoin scriptPubKey>` (see [`crate::pegout`]), built by the payment builder with
//! confidential L-BTC change and the fee, and checked like every output before signing.

use elements::bitcoin;
use elements::Address;

use super::build::build_with;
use super::extras::{ExtraAsset, ExtraOutput, Extras};
use super::{tx_error, FeeRate, OutputRole, Payment, PaymentRequest, Spendable, WalletContext};
use crate::pegout::{pegout_script, MAX_PEGOUTS_PER_TX};
use crate::{Error, Result};

/// One peg-out of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PegoutOutput {
    /// The Bitcoin scriptPubKey the federation pays.
    pub parent_script: bitcoin::ScriptBuf,
    /// The amount in sat (L-BTC burnt, BTC paid before the federation's fee).
    pub value: u64,
}

/// Peg-outs to pay in one transaction.
#[derive(Clone, Debug)]
pub struct PegoutBatch {
    /// The peg-outs, in output order.
    pub outputs: Vec<PegoutOutput>,
    /// Coins that must be inputs (one input of each abandoned transaction that paid the same
    /// requests, so that the two transactions conflict).
    pub pinned: Vec<Spendable>,
    /// Fee rate on the discounted size.
    pub fee_rate: FeeRate,
}

/// Builds, blinds and verifies a transaction paying `batch` (nothing signed): output `n` of
/// role [`OutputRole::Pegout`]`(n)` is the n-th peg-out, explicit, in the policy asset.
/// Fails with [`Error::InsufficientFunds`] when the coins do not cover the peg-outs and fee.
pub fn build_pegouts(
    ctx: &WalletContext,
    utxos: &[Spendable],
    batch: &PegoutBatch,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Payment> {
    if batch.outputs.is_empty() {
        return Err(tx_error("a peg-out transaction needs at least one peg-out"));
    }
    if batch.outputs.len() > MAX_PEGOUTS_PER_TX {
        return Err(tx_error(format!(
            "{} peg-outs in one transaction: at most {MAX_PEGOUTS_PER_TX}",
            batch.outputs.len()
        )));
    }
    let mut outputs = Vec::with_capacity(batch.outputs.len());
    for (n, p) in batch.outputs.iter().enumerate() {
        if p.value == 0 || p.value > super::MAX_MONEY {
            return Err(Error::InvalidAmount(format!(
                "peg-out {n}: {} sat is out of range",
                p.value
            )));
        }
        if p.parent_script.is_empty() {
            return Err(tx_error(format!("peg-out {n} has an empty Bitcoin script")));
        }
        outputs.push(ExtraOutput {
            script: pegout_script(ctx.network, &p.parent_script),
            blinding_key: None,
            value: p.value,
            asset: ExtraAsset::Id(ctx.policy_asset),
            role: OutputRole::Pegout(n),
        });
    }
    let extras = Extras {
        issuance: None,
        first_input: None,
        outputs,
        pinned: batch.pinned.clone(),
    };
    let request = PaymentRequest {
        recipients: Vec::new(),
        fee_rate: batch.fee_rate,
        drain: false,
    };
    build_with(ctx, utxos, &request, &extras, change)
}
