//! The taker's side of an offer: the checks of the maker's part against the terms (before
//! anything is built on it), then its own part: its coins, its output receiving what the
//! maker gives, its change and the fee, every output blinded as the last blinder with every
//! input's secrets (the maker's revealed ones included), and the result verified: each output
//! opens to exactly what was planned, amounts and proofs balance against the spent outputs.

use std::collections::{BTreeMap, HashMap, HashSet};

use elements::pset::{self, PartiallySignedTransaction};
use elements::secp256k1_zkp::{self, Secp256k1};
use elements::{confidential, Address, AssetId, CtLocation, CtLocationType, Script, TxOut};

use super::fee::{estimate_weight, SizedInput};
use super::own::{change_address, own_output, satisfaction_weight};
use super::terms::compare_net;
use super::{Offer, Refusal, Stage};
use crate::store::DealRole;
use crate::tx::{select_asset, vsize_of_weight, FeeRate, Spendable, WalletContext};
use crate::tx::{MAX_MONEY, MIN_POLICY_OUTPUT};
use crate::unblind::TxOutSecrets;
use crate::{Error, Result};

/// Most outputs the maker's part may have.
pub const MAX_MAKER_OUTPUTS: usize = 16;
/// Most fee passes before giving up.
const MAX_FEE_PASSES: usize = 16;

fn secp() -> &'static Secp256k1<secp256k1_zkp::All> {
    static SECP: std::sync::OnceLock<Secp256k1<secp256k1_zkp::All>> = std::sync::OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

/// The maker's part as the taker checked it.
#[derive(Clone, Debug)]
pub struct MakerSide {
    /// The outputs the maker's inputs spend (from the PSET, reopened with the revealed data).
    pub spent: Vec<TxOut>,
    /// The maker's outputs: script, asset, amount.
    pub outputs: Vec<(Script, AssetId, u64)>,
    /// What the maker's part takes and gives, per asset (outputs less inputs).
    pub net: BTreeMap<AssetId, i64>,
}

fn add(
    net: &mut BTreeMap<AssetId, i64>,
    asset: AssetId,
    value: u64,
    sign: i64,
) -> std::result::Result<(), Refusal> {
    let overflow = || Refusal::new("amount_overflow", "the offer's amounts overflow");
    if value > MAX_MONEY {
        return Err(Refusal::new(
            "amount_overflow",
            format!(
                "the offer holds an amount of {value} base units, more than any asset can have"
            ),
        ));
    }
    let v = i64::try_from(value).map_err(|_| overflow())?;
    let e = net.entry(asset).or_insert(0);
    *e = e.checked_add(v * sign).ok_or_else(overflow)?;
    Ok(())
}

/// Checks the maker's part of a proposed offer: well formed, its inputs the ones whose
/// unblinding data it reveals (which must reopen their commitments), its outputs unblinded
/// with a blinding key and a blinder index, and its net effect exactly what the terms make
/// the maker give and receive (and pay, when it pays the fee).
pub fn check_maker_part(offer: &Offer, policy: AssetId) -> std::result::Result<MakerSide, Refusal> {
    offer.terms.check(policy)?;
    if offer.stage != Stage::Proposed {
        return Err(Refusal::new(
            "wrong_stage",
            "this offer was accepted already: only its maker can settle it",
        ));
    }
    let pset = &offer.pset;
    let malformed = |why: String| Refusal::new("malformed_offer", why);
    super::verify::check_final(pset)?;
    if pset.inputs().len() != offer.maker_inputs.len() {
        return Err(malformed(format!(
            "the offer's PSET has {} inputs but reveals {}",
            pset.inputs().len(),
            offer.maker_inputs.len()
        )));
    }
    let mut net = BTreeMap::new();
    let mut spent = Vec::new();
    let mut seen = HashSet::new();
    for (i, (input, revealed)) in pset.inputs().iter().zip(&offer.maker_inputs).enumerate() {
        let outpoint = input.previous_outpoint();
        if outpoint != revealed.outpoint || !seen.insert(outpoint) {
            return Err(malformed(format!(
                "input {i} is not the coin the offer reveals, or spends a coin twice"
            )));
        }
        if input.has_issuance() || input.is_pegin() {
            return Err(malformed(format!(
                "input {i} carries an issuance or a peg-in, which the terms do not mention"
            )));
        }
        let utxo = input
            .witness_utxo
            .clone()
            .ok_or_else(|| malformed(format!("input {i} does not carry the coin it spends")))?;
        if !revealed.secrets.opens(&utxo) {
            return Err(Refusal::new(
                "bad_unblinding_data",
                format!(
                    "the unblinding data the offer reveals for its input {i} ({}) does not \
                     reopen that coin's commitments",
                    crate::pset::outpoint_text(&outpoint)
                ),
            )
            .hint("nothing was signed; the offer is broken or tampered with"));
        }
        add(&mut net, revealed.secrets.asset, revealed.secrets.value, -1)?;
        spent.push(utxo);
    }
    let outputs_n = pset.outputs().len();
    if outputs_n == 0 || outputs_n > MAX_MAKER_OUTPUTS {
        return Err(malformed(format!(
            "the maker's part has {outputs_n} outputs; it has 1 to {MAX_MAKER_OUTPUTS}"
        )));
    }
    let mut outputs = Vec::new();
    for (i, output) in pset.outputs().iter().enumerate() {
        let (Some(value), Some(asset)) = (output.amount, output.asset) else {
            return Err(malformed(format!(
                "output {i} has no explicit amount and asset"
            )));
        };
        if output.amount_comm.is_some() || output.asset_comm.is_some() {
            return Err(malformed(format!(
                "output {i} is blinded already; the taker blinds every output"
            )));
        }
        if output.script_pubkey.is_empty() {
            return Err(malformed(format!(
                "output {i} is a fee output; the taker adds the fee"
            )));
        }
        if output.blinding_key.is_none() {
            return Err(malformed(format!(
                "output {i} pays the maker without a blinding key: its amount would be public"
            )));
        }
        match output.blinder_index {
            Some(b) if (b as usize) < offer.maker_inputs.len() => {}
            _ => {
                return Err(malformed(format!(
                    "output {i} names no input of the maker as its blinder"
                )))
            }
        }
        add(&mut net, asset, value, 1)?;
        outputs.push((output.script_pubkey.clone(), asset, value));
    }
    net.retain(|_, v| *v != 0);
    // What the maker's part leaves for the taker, against what the terms give the taker
    // (before a fee the taker pays itself).
    let maker_fee = match offer.terms.fee_payer {
        DealRole::Maker => offer.terms.fee.unwrap_or(0),
        DealRole::Taker => 0,
    };
    let mut implied: BTreeMap<AssetId, i64> = net.iter().map(|(a, v)| (*a, -v)).collect();
    let fee_i = i64::try_from(maker_fee)
        .map_err(|_| Refusal::new("amount_overflow", "the fee overflows"))?;
    let e = implied.entry(policy).or_insert(0);
    *e = e
        .checked_sub(fee_i)
        .ok_or_else(|| Refusal::new("amount_overflow", "the fee overflows"))?;
    implied.retain(|_, v| *v != 0);
    let expected = offer.terms.net_for(DealRole::Taker, policy, 0)?;
    if let Some(mut refusal) = compare_net(
        &implied,
        &expected,
        &offer.terms,
        DealRole::Taker,
        policy,
        maker_fee,
    ) {
        refusal.reason = if refusal.code == "fee_payer" {
            format!(
                "the offer's part does not pay the fee of {maker_fee} sat its terms say the \
                 maker pays: you would"
            )
        } else {
            "the offer's PSET does not do what its terms say".to_owned()
        };
        return Err(refusal);
    }
    Ok(MakerSide {
        spent,
        outputs,
        net,
    })
}

/// What the taker asks for.
#[derive(Clone, Copy, Debug)]
pub struct AcceptRequest {
    /// Its fee rate, when it pays the fee.
    pub fee_rate: FeeRate,
}

/// One planned output of the whole transaction.
#[derive(Clone, Debug)]
pub struct Planned {
    /// Its script (empty: the fee).
    pub script: Script,
    /// Its asset.
    pub asset: AssetId,
    /// Its amount.
    pub value: u64,
    /// The taker's branch and index, for its own outputs.
    pub own: Option<(crate::descriptor::Keychain, u32)>,
}

/// The whole transaction as the taker built it: blinded and verified, nothing signed.
#[derive(Clone, Debug)]
pub struct TakerBuild {
    /// The PSET.
    pub pset: PartiallySignedTransaction,
    /// The taker's coins, in input order after the maker's.
    pub inputs: Vec<Spendable>,
    /// Every output as planned.
    pub outputs: Vec<Planned>,
    /// The fee.
    pub fee: u64,
    /// The secrets every output was blinded with (explicit ones for the fee).
    pub output_secrets: Vec<TxOutSecrets>,
}

/// Builds the taker's part on a checked maker part: coins for what the maker wants (and
/// the fee when the taker pays), the output receiving what the maker gives, change, fee;
/// blinds and verifies.
pub(crate) fn build_taker_part(
    ctx: &WalletContext,
    offer: &Offer,
    side: &MakerSide,
    coins: &[Spendable],
    request: &AcceptRequest,
    receive: (u32, &Address),
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<TakerBuild> {
    let policy = ctx.policy_asset;
    let terms = &offer.terms;
    let maker_coins: HashSet<_> = offer.maker_inputs.iter().map(|i| i.outpoint).collect();
    let coins: Vec<Spendable> = coins
        .iter()
        .filter(|c| !maker_coins.contains(&c.outpoint))
        .cloned()
        .collect();
    let taker_pays = terms.fee_payer == DealRole::Taker;
    let mut fee = terms.fee.unwrap_or(0);
    let mut change_addresses: BTreeMap<AssetId, (u32, Address)> = BTreeMap::new();
    for _ in 0..MAX_FEE_PASSES {
        let mut needs: BTreeMap<AssetId, u64> = BTreeMap::new();
        needs.insert(terms.maker_receives.asset, terms.maker_receives.amount);
        if taker_pays {
            let e = needs.entry(policy).or_insert(0);
            *e = e
                .checked_add(fee)
                .ok_or_else(|| Refusal::new("amount_overflow", "the fee overflows"))?;
        }
        let mut inputs = Vec::new();
        let mut outputs: Vec<Planned> = side
            .outputs
            .iter()
            .map(|(script, asset, value)| Planned {
                script: script.clone(),
                asset: *asset,
                value: *value,
                own: None,
            })
            .collect();
        outputs.push(Planned {
            script: receive.1.script_pubkey(),
            asset: terms.maker_gives.asset,
            value: terms.maker_gives.amount,
            own: Some((crate::descriptor::Keychain::External, receive.0)),
        });
        let mut pass_fee = fee;
        for (asset, needed) in needs {
            let (chosen, sum) = select_asset(&coins, asset, needed)?;
            inputs.extend(chosen);
            let left = sum.checked_sub(needed).ok_or(Error::InsufficientFunds {
                asset,
                needed,
                available: sum,
            })?;
            if left == 0 {
                continue;
            }
            if asset == policy && left < MIN_POLICY_OUTPUT && taker_pays {
                pass_fee = pass_fee
                    .checked_add(left)
                    .ok_or_else(|| Refusal::new("amount_overflow", "the fee overflows"))?;
                continue;
            }
            let (index, address) = change_address(&mut change_addresses, asset, change)?;
            outputs.push(Planned {
                script: address.script_pubkey(),
                asset,
                value: left,
                own: Some((crate::descriptor::Keychain::Internal, index)),
            });
        }
        outputs.push(Planned {
            script: Script::new(),
            asset: policy,
            value: pass_fee,
            own: None,
        });
        let mut sized: Vec<SizedInput> = offer
            .maker_inputs
            .iter()
            .map(|i| SizedInput {
                outpoint: i.outpoint,
                satisfaction_weight: i.satisfaction_weight,
            })
            .collect();
        for coin in &inputs {
            sized.push(SizedInput {
                outpoint: coin.outpoint,
                satisfaction_weight: satisfaction_weight(ctx, coin)?,
            });
        }
        let outs: Vec<(Script, AssetId, u64)> = outputs
            .iter()
            .map(|o| (o.script.clone(), o.asset, o.value.max(1)))
            .collect();
        let vsize = vsize_of_weight(estimate_weight(&sized, &outs));
        if !taker_pays {
            super::fee::check_fee(fee, vsize).map_err(|r| {
                if r.code == "fee_too_low" {
                    Error::Offer(r.hint(
                        "the fee the maker fixed does not cover your part of the transaction: \
                         consolidate your coins (fewer inputs), or ask for an offer where the \
                         taker pays the fee",
                    ))
                } else {
                    Error::Offer(r)
                }
            })?;
            return finish(ctx, offer, side, inputs, outputs, fee);
        }
        let needed = request.fee_rate.fee_for_vsize(vsize)?;
        if needed <= fee {
            return finish(ctx, offer, side, inputs, outputs, pass_fee);
        }
        fee = needed;
    }
    Err(Error::Transaction(
        "the fee did not settle; try another fee rate".to_owned(),
    ))
}

fn finish(
    ctx: &WalletContext,
    offer: &Offer,
    side: &MakerSide,
    inputs: Vec<Spendable>,
    outputs: Vec<Planned>,
    fee: u64,
) -> Result<TakerBuild> {
    let maker_n = offer.maker_inputs.len();
    let maker_outputs = side.outputs.len();
    let mut pset = offer.pset.clone();
    for coin in &inputs {
        let mut input = pset::Input::from_prevout(coin.outpoint);
        input.witness_utxo = Some(coin.txout.clone());
        pset.add_input(input);
    }
    for o in outputs.iter().skip(maker_outputs) {
        let output = match o.own {
            Some(own) => own_output(
                ctx,
                &o.script,
                o.value,
                o.asset,
                own,
                u32::try_from(maker_n).unwrap_or(u32::MAX),
            )?,
            None => pset::Output::new_explicit(o.script.clone(), o.value, o.asset, None),
        };
        pset.add_output(output);
    }
    // Every input's secrets: the maker's revealed ones and the taker's own.
    let mut secrets: HashMap<usize, elements::TxOutSecrets> = offer
        .maker_inputs
        .iter()
        .enumerate()
        .map(|(i, r)| (i, r.secrets.to_elements()))
        .collect();
    for (j, coin) in inputs.iter().enumerate() {
        secrets.insert(maker_n + j, coin.secrets.to_elements());
    }
    let factors = pset
        .blind_last(&mut rand::rngs::OsRng, secp(), &secrets)
        .map_err(|e| Error::Transaction(format!("blinding failed: {e}")))?;
    let tx = pset
        .extract_tx()
        .map_err(|e| Error::Transaction(format!("the PSET does not form a transaction: {e}")))?;
    if tx.output.len() != outputs.len() {
        return Err(Error::Transaction(
            "the PSET does not match the plan".to_owned(),
        ));
    }
    let mut output_secrets = Vec::new();
    for (i, (planned, txout)) in outputs.iter().zip(&tx.output).enumerate() {
        if txout.script_pubkey != planned.script {
            return Err(Error::Transaction(format!(
                "output {i} pays another script than planned"
            )));
        }
        if planned.script.is_empty() {
            if txout.value != confidential::Value::Explicit(planned.value)
                || txout.asset != confidential::Asset::Explicit(planned.asset)
            {
                return Err(Error::Transaction(
                    "the fee output is not the planned fee".to_owned(),
                ));
            }
            output_secrets.push(TxOutSecrets::explicit(planned.value, planned.asset));
            continue;
        }
        // rust-elements reports output factors under an "input" location of that index, and
        // skips outputs it cannot blind without a word: check each one.
        let location = CtLocation {
            input_index: i,
            ty: CtLocationType::Input,
        };
        let (abf, vbf, _) = factors.get(&location).ok_or_else(|| {
            Error::Transaction(format!("output {i} was left unblinded; refusing to go on"))
        })?;
        let opened = TxOutSecrets {
            value: planned.value,
            asset: planned.asset,
            value_bf: *vbf,
            asset_bf: *abf,
            explicit: false,
        };
        if !opened.opens(txout) || !txout.value.is_confidential() || !txout.asset.is_confidential()
        {
            return Err(Error::Transaction(format!(
                "output {i} does not commit to the planned amount and asset"
            )));
        }
        output_secrets.push(opened);
    }
    let mut spent = side.spent.clone();
    spent.extend(inputs.iter().map(|c| c.txout.clone()));
    tx.verify_tx_amt_proofs(secp(), &spent)
        .map_err(|e| Error::Transaction(format!("amounts or proofs do not verify: {e}")))?;
    // The taker's change says how much its coins held: the maker learns it from no field of
    // the PSET (the commitments are all a signature needs).
    for (output, planned) in pset.outputs_mut().iter_mut().zip(&outputs) {
        if let Some((crate::descriptor::Keychain::Internal, _)) = planned.own {
            output.amount = None;
            output.asset = None;
            output.blind_value_proof = None;
            output.blind_asset_proof = None;
        }
    }
    Ok(TakerBuild {
        pset,
        inputs,
        outputs,
        fee,
        output_secrets,
    })
}
