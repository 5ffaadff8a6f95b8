//! Building and blinding a payment: coin selection, fee on the final size, change per asset,
//! a PSET v2 whose inputs carry what signers need, and blinding as the last blinder.

use std::collections::BTreeMap;
use std::str::FromStr;

use elements::confidential;
use elements::pset::{self, PartiallySignedTransaction};
use elements::{Address, AssetId, Script, Transaction, TxIn, TxOut, TxOutWitness};
use elements_miniscript::psbt::{PsbtExt, PsbtOutputExt};
use elements_miniscript::{DefiniteDescriptorKey, Descriptor};

use super::extras::{resolve_issuance, ExtraAsset, Extras};
use super::fee::{vsize_of_weight, FeeRate};
use super::select::{select_asset, sum_by_asset, total};
use super::tx_error;
use super::{
    Issuance, OutputRole, Payment, PaymentRequest, PlannedOutput, Spendable, WalletContext,
};
use crate::descriptor::Keychain;
use crate::{Error, Result};

/// Smallest L-BTC amount a recipient or a change output may get; smaller change goes to fees.
pub const MIN_POLICY_OUTPUT: u64 = 546;

/// Most fee passes before giving up (the fee converges in two or three).
const MAX_FEE_PASSES: usize = 16;

/// One output before blinding.
struct Draft {
    script: Script,
    value: u64,
    asset: AssetId,
    blinding_key: Option<elements::secp256k1_zkp::PublicKey>,
    role: OutputRole,
}

/// Inputs and outputs of one fee pass.
struct Plan {
    inputs: Vec<Spendable>,
    outputs: Vec<Draft>,
    fee: u64,
    /// The issuance on input 0, resolved against that input.
    issuance: Option<Issuance>,
}

/// Builds and blinds a payment; nothing is signed. `change` hands out a fresh internal
/// address (index, address) and is called at most once per asset that needs change.
pub fn build_payment(
    ctx: &WalletContext,
    utxos: &[Spendable],
    request: &PaymentRequest,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Payment> {
    build_with(ctx, utxos, request, &Extras::default(), change)
}

/// [`build_payment`] with `extras`: an issuance on input 0 (and the coin that must be input
/// 0), and outputs besides the recipients (issued amounts, burns). The same selection, fee
/// passes, blinding and verification apply to them.
pub(crate) fn build_with(
    ctx: &WalletContext,
    utxos: &[Spendable],
    request: &PaymentRequest,
    extras: &Extras,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Payment> {
    check_request(ctx, request, extras)?;
    let mut change_addresses: BTreeMap<AssetId, (u32, Address)> = BTreeMap::new();
    let mut fee = 0u64;
    let mut plan = None;
    for _ in 0..MAX_FEE_PASSES {
        let candidate = plan_outputs(
            ctx,
            utxos,
            request,
            extras,
            fee,
            &mut change_addresses,
            change,
        )?;
        let needed = request
            .fee_rate
            .fee_for_vsize(vsize_of_weight(estimate_weight(ctx, &candidate)?))?;
        if needed <= fee {
            plan = Some(candidate);
            break;
        }
        fee = needed;
    }
    let plan = plan.ok_or_else(|| tx_error("the fee did not settle; try another fee rate"))?;
    let pset = make_pset(ctx, &plan)?;
    let net = planned_net(&plan)?;
    let mut payment = Payment {
        pset,
        fee: plan.fee,
        issuance: plan.issuance,
        inputs: plan.inputs,
        outputs: plan
            .outputs
            .iter()
            .map(|d| PlannedOutput {
                script: d.script.clone(),
                value: d.value,
                asset: d.asset,
                blinded: d.blinding_key.is_some(),
                role: d.role,
            })
            .collect(),
        net,
        output_secrets: Vec::new(),
    };
    // A confidential issuance's rangeproofs are made with the blinding key of input 0's
    // script, when the descriptor has it (watch-only wallets with a public blinding key
    // cannot sign anyway).
    let issuance_key = match (&payment.issuance, payment.inputs.first()) {
        (Some(issuance), Some(first)) if issuance.confidential => {
            crate::unblind::blinding_private_key(ctx.descriptor, &first.txout.script_pubkey).ok()
        }
        _ => None,
    };
    super::blind::blind(&mut payment, issuance_key.as_ref())?;
    Ok(payment)
}

fn check_request(ctx: &WalletContext, request: &PaymentRequest, extras: &Extras) -> Result<()> {
    if request.recipients.is_empty() && extras.is_empty() {
        return Err(Error::InvalidRequest(
            "a payment needs at least one recipient".to_owned(),
        ));
    }
    if request.drain && request.recipients.len() != 1 {
        return Err(Error::InvalidRequest(
            "sweeping (drain) pays exactly one recipient".to_owned(),
        ));
    }
    if request.fee_rate < FeeRate::MIN {
        return Err(Error::InvalidRequest(format!(
            "fee rate {} is below the floor of {}",
            request.fee_rate,
            FeeRate::MIN
        )));
    }
    request.fee_rate.check_ceiling()?;
    for r in &request.recipients {
        if r.address.params != ctx.network.address_params() {
            let found = crate::address::inspect(&r.address.to_string())
                .map(|i| i.network.to_string())
                .unwrap_or_else(|_| "another network".to_owned());
            return Err(Error::WrongNetwork {
                expected: ctx.network,
                found,
            });
        }
        if !request.drain {
            if r.value == 0 {
                return Err(Error::InvalidAmount(format!(
                    "the amount to {} is zero",
                    r.address
                )));
            }
            if r.asset == ctx.policy_asset && r.value < MIN_POLICY_OUTPUT {
                return Err(Error::InvalidAmount(format!(
                    "{} sat to {} is dust: the smallest L-BTC output is {MIN_POLICY_OUTPUT} sat",
                    r.value, r.address
                )));
            }
        }
    }
    Ok(())
}

fn plan_outputs(
    ctx: &WalletContext,
    utxos: &[Spendable],
    request: &PaymentRequest,
    extras: &Extras,
    fee: u64,
    change_addresses: &mut BTreeMap<AssetId, (u32, Address)>,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Plan> {
    let mut outputs = Vec::new();
    let mut inputs = Vec::new();
    let mut fee = fee;

    // Coins that must be inputs (a reissuance spends its token at input 0; a peg-out run
    // may pin more) are not selected again.
    let pinned = extras.required_inputs();
    let pool: Vec<Spendable> = utxos
        .iter()
        .filter(|u| !pinned.iter().any(|p| p.outpoint == u.outpoint))
        .cloned()
        .collect();
    let utxos = pool.as_slice();
    inputs.extend(pinned.iter().map(|p| (*p).clone()));

    let extra_targets = extras.outputs.iter().filter_map(|o| match o.asset {
        ExtraAsset::Id(asset) => Some((asset, o.value)),
        ExtraAsset::Issued | ExtraAsset::Token => None,
    });
    let mut targets = sum_by_asset(
        request
            .recipients
            .iter()
            .map(|r| (r.asset, r.value))
            .chain(extra_targets),
    )?;
    if request.drain {
        let r = &request.recipients[0];
        let all: Vec<Spendable> = utxos
            .iter()
            .filter(|u| u.secrets.asset == r.asset)
            .cloned()
            .collect();
        let available = total(&all)?;
        let value = if r.asset == ctx.policy_asset {
            available
                .checked_sub(fee)
                .filter(|v| *v >= MIN_POLICY_OUTPUT)
        } else {
            Some(available).filter(|v| *v > 0)
        }
        .ok_or(Error::InsufficientFunds {
            asset: r.asset,
            needed: fee.saturating_add(MIN_POLICY_OUTPUT),
            available,
        })?;
        targets.insert(r.asset, value);
        outputs.push(recipient_draft(r, value, 0));
        inputs.extend(all);
    } else {
        for (i, r) in request.recipients.iter().enumerate() {
            outputs.push(recipient_draft(r, r.value, i));
        }
    }

    let policy_needed = targets
        .get(&ctx.policy_asset)
        .copied()
        .unwrap_or(0)
        .checked_add(fee)
        .ok_or_else(|| Error::InvalidAmount("the amounts overflow".to_owned()))?;
    let mut needs: BTreeMap<AssetId, u64> = targets.clone();
    needs.insert(ctx.policy_asset, policy_needed);
    for p in &pinned {
        // Whatever the pinned coins hold beyond what is needed comes back as change.
        needs.entry(p.secrets.asset).or_insert(0);
    }

    for (asset, needed) in needs {
        let pinned_value = pinned
            .iter()
            .filter(|p| p.secrets.asset == asset)
            .try_fold(0u64, |sum, p| sum.checked_add(p.secrets.value))
            .ok_or_else(|| Error::InvalidAmount("the pinned coins overflow".to_owned()))?;
        let (chosen, sum) = if pinned.iter().any(|p| p.secrets.asset == asset) {
            let (more, more_sum) = if needed > pinned_value {
                select_asset(utxos, asset, needed - pinned_value)?
            } else {
                (Vec::new(), 0)
            };
            let sum = more_sum
                .checked_add(pinned_value)
                .ok_or_else(|| Error::InvalidAmount("the selected amount overflows".to_owned()))?;
            (more, sum)
        } else if request.drain && asset == request.recipients[0].asset {
            let chosen: Vec<Spendable> = inputs
                .iter()
                .filter(|u| u.secrets.asset == asset)
                .cloned()
                .collect();
            let sum = total(&chosen)?;
            inputs.retain(|u| u.secrets.asset != asset);
            (chosen, sum)
        } else {
            select_asset(utxos, asset, needed)?
        };
        let left = sum.checked_sub(needed).ok_or(Error::InsufficientFunds {
            asset,
            needed,
            available: sum,
        })?;
        inputs.extend(chosen);
        if left == 0 {
            continue;
        }
        if asset == ctx.policy_asset && left < MIN_POLICY_OUTPUT {
            // Too small to be worth an output: it goes to the fee.
            fee = fee
                .checked_add(left)
                .ok_or_else(|| Error::InvalidAmount("the fee overflows".to_owned()))?;
            continue;
        }
        let (index, address) = match change_addresses.get(&asset) {
            Some(found) => found.clone(),
            None => {
                let fresh = change()?;
                change_addresses.insert(asset, fresh.clone());
                fresh
            }
        };
        outputs.push(Draft {
            script: address.script_pubkey(),
            value: left,
            asset,
            blinding_key: address.blinding_pubkey,
            role: OutputRole::Change(Keychain::Internal, index),
        });
    }
    let issuance = match &extras.issuance {
        Some(draft) => Some(resolve_issuance(draft, inputs.first())?),
        None => None,
    };
    for extra in &extras.outputs {
        let asset = match (extra.asset, &issuance) {
            (ExtraAsset::Id(asset), _) => asset,
            (ExtraAsset::Issued, Some(i)) => i.asset,
            (ExtraAsset::Token, Some(i)) => i.token,
            _ => return Err(tx_error("an issued output without an issuance")),
        };
        outputs.push(Draft {
            script: extra.script.clone(),
            value: extra.value,
            asset,
            blinding_key: extra.blinding_key,
            role: extra.role,
        });
    }
    outputs.push(Draft {
        script: Script::new(),
        value: fee,
        asset: ctx.policy_asset,
        blinding_key: None,
        role: OutputRole::Fee,
    });
    Ok(Plan {
        inputs,
        outputs,
        fee,
        issuance,
    })
}

fn recipient_draft(r: &super::Recipient, value: u64, i: usize) -> Draft {
    Draft {
        script: r.address.script_pubkey(),
        value,
        asset: r.asset,
        blinding_key: r.address.blinding_pubkey,
        role: OutputRole::Recipient(i),
    }
}

/// An upper bound of the final transaction's discount weight (ELIP-200): the explicit skeleton
/// (whose values, assets and nonces weigh what their discounted confidential forms do), plus
/// each input's largest satisfaction and the empty witness fields Elements serializes.
fn estimate_weight(ctx: &WalletContext, plan: &Plan) -> Result<u64> {
    let skeleton = Transaction {
        version: 2,
        lock_time: elements::LockTime::ZERO,
        input: plan
            .inputs
            .iter()
            .enumerate()
            .map(|(i, u)| TxIn {
                previous_output: u.outpoint,
                asset_issuance: match (&plan.issuance, i) {
                    (Some(issuance), 0) => issuance.to_asset_issuance(),
                    _ => Default::default(),
                },
                ..Default::default()
            })
            .collect(),
        output: plan
            .outputs
            .iter()
            .map(|d| TxOut {
                asset: confidential::Asset::Explicit(d.asset),
                value: confidential::Value::Explicit(d.value),
                nonce: confidential::Nonce::Null,
                script_pubkey: d.script.clone(),
                witness: TxOutWitness::default(),
            })
            .collect(),
    };
    let mut weight = skeleton.weight() as u64;
    for u in &plan.inputs {
        let satisfy = ctx
            .descriptor
            .spending_descriptor(u.keychain, u.index)?
            .max_weight_to_satisfy()
            .map_err(|e| tx_error(format!("cannot size the input {}: {e}", u.outpoint)))?;
        // + empty issuance rangeproof, inflation-keys rangeproof and peg-in witness fields.
        weight += satisfy as u64 + 3;
    }
    // Each output's two proof fields; blinded ones are discounted to the same two bytes.
    weight += 2 * plan.outputs.len() as u64;
    // A confidential issuance's commitments and rangeproofs.
    weight += plan.issuance.as_ref().map_or(0, |i| i.blinding_weight());
    Ok(weight)
}

fn make_pset(ctx: &WalletContext, plan: &Plan) -> Result<PartiallySignedTransaction> {
    let mut pset = PartiallySignedTransaction::new_v2();
    for (i, u) in plan.inputs.iter().enumerate() {
        let mut input = pset::Input::from_prevout(u.outpoint);
        input.witness_utxo = Some(u.txout.clone());
        pset.add_input(input);
        let descriptor = ctx.descriptor.spending_descriptor(u.keychain, u.index)?;
        pset.update_input_with_descriptor(i, &descriptor)
            .map_err(|e| {
                tx_error(format!(
                    "input {} is not the wallet's {}/{}: {e}",
                    u.outpoint,
                    u.keychain.as_str(),
                    u.index
                ))
            })?;
    }
    if let Some(issuance) = &plan.issuance {
        issuance.set_on(&mut pset.inputs_mut()[0]);
    }
    for (i, d) in plan.outputs.iter().enumerate() {
        let mut output = pset::Output::new_explicit(
            d.script.clone(),
            d.value,
            d.asset,
            d.blinding_key.map(|inner| elements::bitcoin::PublicKey {
                inner,
                compressed: true,
            }),
        );
        if d.blinding_key.is_some() {
            // Every input is ours and its secrets are known: input 0 stands for all.
            output.blinder_index = Some(0);
        }
        pset.add_output(output);
        if let OutputRole::Change(keychain, index) | OutputRole::Issued(keychain, index) = d.role {
            let descriptor = ctx.descriptor.spending_descriptor(keychain, index)?;
            let plain = Descriptor::<DefiniteDescriptorKey>::from_str(&descriptor.to_string())
                .map_err(|e| tx_error(format!("descriptor: {e}")))?;
            pset.outputs_mut()[i]
                .update_with_descriptor_unchecked(&plain)
                .map_err(|e| tx_error(format!("change output {i}: {e}")))?;
        }
    }
    Ok(pset)
}

/// What the plan takes from and gives to the wallet, per asset (negative: leaves the
/// wallet): its change and issued outputs less its inputs, i.e. what the recipients get, what
/// is burned and the fee, less what is issued to the wallet.
fn planned_net(plan: &Plan) -> Result<BTreeMap<AssetId, i64>> {
    let overflow = || Error::InvalidAmount("the net effect overflows".to_owned());
    let signed = |v: u64| i64::try_from(v).map_err(|_| overflow());
    let mut net: BTreeMap<AssetId, i64> = BTreeMap::new();
    for u in &plan.inputs {
        let e = net.entry(u.secrets.asset).or_insert(0);
        *e = e
            .checked_sub(signed(u.secrets.value)?)
            .ok_or_else(overflow)?;
    }
    for d in plan
        .outputs
        .iter()
        .filter(|d| matches!(d.role, OutputRole::Change(..) | OutputRole::Issued(..)))
    {
        let e = net.entry(d.asset).or_insert(0);
        *e = e.checked_add(signed(d.value)?).ok_or_else(overflow)?;
    }
    net.retain(|_, v| *v != 0);
    Ok(net)
}
