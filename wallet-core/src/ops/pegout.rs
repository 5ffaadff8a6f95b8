//! Peg-outs: one from the command line ([`prepare_send`]), and the request queue's runs
//! ([`prepare_run`], [`PreparedRun::commit`]), its abandon and its resume after a crash.
//!
//! Whatever starts it, a peg-out transaction is prepared like a payment (coin selection, fee
//! passes, confidential L-BTC change, blinding, the builder's own checks) and then checked
//! once more, independently, from the extracted transaction and the wallet's view of it
//! ([`check_pegouts`]): every output that is not the wallet's change or the fee must read
//! back (with [`crate::pegout::read_pegout`]) as exactly the next expected peg-out, every
//! expected peg-out must be there once, and the wallet's net effect must be exactly the
//! peg-outs plus the fee in L-BTC and nothing in any other asset.

use std::collections::BTreeMap;

use elements::pset::PartiallySignedTransaction;
use elements::AssetId;

use super::payment::prepare_built;
use super::{Mode, Prepared};
use crate::network::Network;
use crate::pegout::{check_amount, check_supported, read_pegout, BtcDestination, PegoutLimits};
use crate::pset::{Owner, PsetView};
use crate::store::TxKind;
use crate::tx::{build_pegouts, FeeRate, PegoutBatch, PegoutOutput};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// A prepared single peg-out, with the index of its output.
#[derive(Debug)]
pub struct PreparedPegout {
    /// The prepared transaction (commit it to sign, record and broadcast).
    pub prepared: Prepared,
    /// The output index of the peg-out.
    pub vout: u32,
}

/// Prepares one peg-out of `amount` sat to `destination` (checked for the wallet's network
/// with [`crate::pegout::parse_btc_address`]), refusing networks where peg-outs cannot be
/// made and amounts below `limits.min_amount`. Sync first; nothing is signed.
pub fn prepare_send(
    wallet: &mut Wallet,
    destination: &BtcDestination,
    amount: u64,
    fee_rate: FeeRate,
    limits: PegoutLimits,
    mode: Mode,
) -> Result<PreparedPegout> {
    check_supported(wallet.network())?;
    check_amount(amount, limits.min_amount)?;
    let expected = vec![PegoutOutput {
        parent_script: destination.script.clone(),
        value: amount,
    }];
    let batch = PegoutBatch {
        outputs: expected.clone(),
        pinned: Vec::new(),
        fee_rate,
    };
    let prepared = prepare_built(wallet, mode, TxKind::Pegout, 0, |ctx, coins, change| {
        build_pegouts(ctx, coins, &batch, change)
    })?;
    let vouts = check_pegouts(
        &prepared.view,
        &prepared.pset,
        wallet.network(),
        wallet.policy_asset(),
        &expected,
    )?;
    Ok(PreparedPegout {
        prepared,
        vout: vouts[0],
    })
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::Refused(format!("{}; nothing was signed", msg.into()))
}

/// The independent check before signing a peg-out transaction: from the transaction itself
/// and the wallet's view of it, every output is the wallet's (change), the fee, or exactly the
/// next of `expected` (an explicit policy-asset peg-out to `network`'s parent chain, read
/// back from the output), each of `expected` is there once and in order, the view has no
/// problem, and the wallet's net effect is exactly minus the peg-outs and the fee in the
/// policy asset. Returns the output index of each expected peg-out.
pub fn check_pegouts(
    view: &PsetView,
    pset: &PartiallySignedTransaction,
    network: Network,
    policy_asset: AssetId,
    expected: &[PegoutOutput],
) -> Result<Vec<u32>> {
    if let Some(problem) = view.problems.first() {
        return Err(refuse(format!(
            "the peg-out transaction has a problem: {problem}"
        )));
    }
    let tx = pset
        .extract_tx()
        .map_err(|e| refuse(format!("the PSET does not form a transaction: {e}")))?;
    if tx.output.len() != view.outputs.len() {
        return Err(refuse("the view does not match the transaction"));
    }
    let mut vouts = Vec::with_capacity(expected.len());
    for (i, (txout, output)) in tx.output.iter().zip(&view.outputs).enumerate() {
        match output.owner {
            Owner::Wallet(..) => continue,
            Owner::Fee if txout.is_fee() => continue,
            Owner::Fee | Owner::Other => {}
        }
        let Some((value, script)) = read_pegout(txout, network, policy_asset) else {
            return Err(refuse(format!(
                "output {i} pays something other than a requested peg-out"
            )));
        };
        let next = vouts.len();
        let Some(want) = expected.get(next) else {
            return Err(refuse(format!(
                "output {i} is a peg-out beyond the {} requested",
                expected.len()
            )));
        };
        if want.value != value || want.parent_script != script {
            return Err(refuse(format!(
                "output {i} does not pay peg-out {next} exactly (amount or Bitcoin script \
                 differs)"
            )));
        }
        vouts.push(u32::try_from(i).map_err(|_| refuse("too many outputs"))?);
    }
    if vouts.len() != expected.len() {
        return Err(refuse(format!(
            "{} of {} peg-outs are in the transaction",
            vouts.len(),
            expected.len()
        )));
    }
    let paid = expected
        .iter()
        .try_fold(0u64, |sum, p| sum.checked_add(p.value))
        .and_then(|sum| sum.checked_add(view.fee))
        .and_then(|sum| i64::try_from(sum).ok())
        .ok_or_else(|| refuse("the peg-outs overflow"))?;
    let want_net: BTreeMap<AssetId, i64> = [(policy_asset, -paid)].into_iter().collect();
    if view.net != want_net || !view.wallet_pays_fee() {
        return Err(refuse(
            "the wallet's net effect is not exactly the peg-outs plus the fee in L-BTC",
        ));
    }
    Ok(vouts)
}
