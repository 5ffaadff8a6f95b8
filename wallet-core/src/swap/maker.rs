//! The maker's part of an offer: its coins (largest first, per asset), its output receiving
//! what it wants and its change, each with its blinding key and a `blinder_index` (the PSET
//! would not parse on the other side without it), left unblinded: a surjection proof can only
//! be made once every input is known, so the taker blinds everything as the last blinder. The
//! unblinding data of the maker's coins goes with the offer so that it can.

use std::collections::BTreeMap;

use elements::pset::{self, PartiallySignedTransaction};
use elements::{Address, AssetId, Script};

use super::envelope::RevealedInput;
use super::fee::{
    estimate_weight, taker_allowance, SizedInput, TAKER_ALLOWANCE_INPUTS, TAKER_ALLOWANCE_OUTPUTS,
};
use super::own::{change_address, own_output, satisfaction_weight};
use super::{Leg, Terms};
use crate::store::DealRole;
use crate::tx::{select_asset, vsize_of_weight, FeeRate, Spendable, WalletContext};
use crate::tx::{MAX_MONEY, MIN_POLICY_OUTPUT};
use crate::{Error, Result};

/// Most fee passes before giving up (the fee settles in two or three).
const MAX_FEE_PASSES: usize = 16;

/// What the maker asks for.
#[derive(Clone, Copy, Debug)]
pub struct OfferRequest {
    /// What it gives.
    pub gives: Leg,
    /// What it wants.
    pub receives: Leg,
    /// Who pays the fee.
    pub fee_payer: DealRole,
    /// The rate a maker-paid fee is fixed at (ignored when the taker pays).
    pub fee_rate: FeeRate,
}

/// One output of the maker's part.
#[derive(Clone, Debug)]
pub struct MakerOutput {
    /// Its script.
    pub script: Script,
    /// Its asset.
    pub asset: AssetId,
    /// Its amount.
    pub value: u64,
    /// The branch and index of the wallet's script.
    pub keychain: crate::descriptor::Keychain,
    /// The index.
    pub index: u32,
}

/// The maker's part, built and checked for form; nothing signed.
#[derive(Clone, Debug)]
pub struct MakerPart {
    /// The PSET: the maker's inputs and outputs only.
    pub pset: PartiallySignedTransaction,
    /// The coins it spends, in input order.
    pub inputs: Vec<Spendable>,
    /// Their unblinding data, for the envelope.
    pub revealed: Vec<RevealedInput>,
    /// Its outputs, in order.
    pub outputs: Vec<MakerOutput>,
    /// The terms it implements (with the fee fixed when the maker pays).
    pub terms: Terms,
}

/// Builds the maker's part of `request` from `coins`, paying what it wants to `receive`
/// (external branch, `receive_index`) and its change to addresses from `change`.
pub(crate) fn build_maker_part(
    ctx: &WalletContext,
    coins: &[Spendable],
    request: &OfferRequest,
    receive: (u32, &Address),
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<MakerPart> {
    let policy = ctx.policy_asset;
    let mut fee = 0u64;
    let mut change_addresses: BTreeMap<AssetId, (u32, Address)> = BTreeMap::new();
    for _ in 0..MAX_FEE_PASSES {
        let (inputs, outputs, dust) = plan(
            ctx,
            coins,
            request,
            fee,
            receive,
            &mut change_addresses,
            change,
        )?;
        if request.fee_payer == DealRole::Taker {
            return finish(ctx, request, inputs, outputs, None);
        }
        let mut sized = Vec::new();
        for coin in &inputs {
            sized.push(SizedInput {
                outpoint: coin.outpoint,
                satisfaction_weight: satisfaction_weight(ctx, coin)?,
            });
        }
        let (more_in, more_out) =
            taker_allowance(TAKER_ALLOWANCE_INPUTS, TAKER_ALLOWANCE_OUTPUTS, policy);
        sized.extend(more_in);
        let mut outs: Vec<(Script, AssetId, u64)> = outputs
            .iter()
            .map(|o| (o.script.clone(), o.asset, o.value))
            .collect();
        outs.extend(more_out);
        outs.push((Script::new(), policy, fee.max(1)));
        let needed = request
            .fee_rate
            .fee_for_vsize(vsize_of_weight(estimate_weight(&sized, &outs)))?;
        if needed <= fee {
            let total = fee
                .checked_add(dust)
                .ok_or_else(|| Error::InvalidAmount("the fee overflows".to_owned()))?;
            return finish(ctx, request, inputs, outputs, Some(total));
        }
        fee = needed;
    }
    Err(Error::Transaction(
        "the fee did not settle; try another fee rate".to_owned(),
    ))
}

type Planned = (Vec<Spendable>, Vec<MakerOutput>, u64);

/// The maker's coins of `asset` for `target`: the smallest single coin that covers it, else
/// the largest first. An offer reveals its coins' amounts to the taker and reserves them
/// until the deal ends, so it holds as little as it can.
pub(crate) fn select_for_offer(
    coins: &[Spendable],
    asset: AssetId,
    target: u64,
) -> Result<(Vec<Spendable>, u64)> {
    let single = coins
        .iter()
        .filter(|c| c.secrets.asset == asset && c.secrets.value >= target && c.secrets.value > 0)
        .min_by(|a, b| {
            a.secrets
                .value
                .cmp(&b.secrets.value)
                .then_with(|| a.outpoint.cmp(&b.outpoint))
        });
    match single {
        Some(coin) => Ok((vec![coin.clone()], coin.secrets.value)),
        None => select_asset(coins, asset, target),
    }
}

/// Selects the coins and lays out the outputs for a fee of `fee` (maker pays); returns the
/// L-BTC change too small for an output, which goes to the fee.
fn plan(
    ctx: &WalletContext,
    coins: &[Spendable],
    request: &OfferRequest,
    fee: u64,
    receive: (u32, &Address),
    change_addresses: &mut BTreeMap<AssetId, (u32, Address)>,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Planned> {
    let policy = ctx.policy_asset;
    let mut needs: BTreeMap<AssetId, u64> = BTreeMap::new();
    needs.insert(request.gives.asset, request.gives.amount);
    if request.fee_payer == DealRole::Maker {
        let e = needs.entry(policy).or_insert(0);
        *e = e
            .checked_add(fee)
            .filter(|v| *v <= MAX_MONEY)
            .ok_or_else(|| Error::InvalidAmount("the amounts overflow".to_owned()))?;
    }
    let mut inputs = Vec::new();
    let mut outputs = vec![MakerOutput {
        script: receive.1.script_pubkey(),
        asset: request.receives.asset,
        value: request.receives.amount,
        keychain: crate::descriptor::Keychain::External,
        index: receive.0,
    }];
    let mut dust = 0u64;
    for (asset, needed) in needs {
        let (chosen, sum) = select_for_offer(coins, asset, needed)?;
        inputs.extend(chosen);
        let left = sum.checked_sub(needed).ok_or(Error::InsufficientFunds {
            asset,
            needed,
            available: sum,
        })?;
        if left == 0 {
            continue;
        }
        if asset == policy && left < MIN_POLICY_OUTPUT && request.fee_payer == DealRole::Maker {
            dust = left;
            continue;
        }
        let (index, address) = change_address(change_addresses, asset, change)?;
        outputs.push(MakerOutput {
            script: address.script_pubkey(),
            asset,
            value: left,
            keychain: crate::descriptor::Keychain::Internal,
            index,
        });
    }
    Ok((inputs, outputs, dust))
}

fn finish(
    ctx: &WalletContext,
    request: &OfferRequest,
    inputs: Vec<Spendable>,
    outputs: Vec<MakerOutput>,
    fee: Option<u64>,
) -> Result<MakerPart> {
    let mut pset = PartiallySignedTransaction::new_v2();
    let mut revealed = Vec::new();
    for coin in &inputs {
        // Only the spent output: the maker signs from its own records, so its key origins
        // stay private.
        let mut input = pset::Input::from_prevout(coin.outpoint);
        input.witness_utxo = Some(coin.txout.clone());
        pset.add_input(input);
        revealed.push(RevealedInput {
            outpoint: coin.outpoint,
            secrets: coin.secrets,
            satisfaction_weight: satisfaction_weight(ctx, coin)?,
        });
    }
    for o in &outputs {
        // Blinded by the taker, the last blinder, with input 0's secrets among the others.
        pset.add_output(own_output(
            ctx,
            &o.script,
            o.value,
            o.asset,
            (o.keychain, o.index),
            0,
        )?);
    }
    Ok(MakerPart {
        pset,
        inputs,
        revealed,
        outputs,
        terms: Terms {
            maker_gives: request.gives,
            maker_receives: request.receives,
            fee_payer: request.fee_payer,
            fee,
        },
    })
}
