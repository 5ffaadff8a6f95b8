//! Blinding a built payment as the last blinder, and checking the result before anyone signs.

use elements::secp256k1_zkp::{self, Secp256k1};
use elements::{confidential, TxOut};
use elements::{CtLocation, CtLocationType};

use std::collections::HashMap;

use super::tx_error;
use super::{OutputRole, Payment, Spendable};
use crate::unblind::TxOutSecrets;
use crate::Result;

fn secp() -> &'static Secp256k1<secp256k1_zkp::All> {
    static SECP: std::sync::OnceLock<Secp256k1<secp256k1_zkp::All>> = std::sync::OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

/// Blinds every output marked for blinding, then verifies the whole transaction: each output
/// opens to exactly what was planned, amounts and proofs balance against the spent outputs,
/// and the fee output is explicit L-BTC of the planned fee.
///
/// `issuance_key` is the wallet's blinding key of input 0's script, for a confidential
/// issuance's rangeproofs (see [`super::issue::Issuance::blind_on`]).
pub(super) fn blind(
    payment: &mut Payment,
    issuance_key: Option<&secp256k1_zkp::SecretKey>,
) -> Result<()> {
    let mut opened: Vec<Option<TxOutSecrets>> = vec![None; payment.outputs.len()];
    // A confidential issuance is blinded first; its amounts are inputs of the balance.
    let issuance_secrets = match &payment.issuance {
        Some(issuance) => {
            let input = payment
                .pset
                .inputs_mut()
                .first_mut()
                .ok_or_else(|| tx_error("an issuance needs an input"))?;
            issuance.blind_on(secp(), input, issuance_key)?
        }
        None => Vec::new(),
    };
    if payment.outputs.iter().any(|o| o.blinded) {
        let mut secrets = input_secrets(&payment.inputs);
        // rust-elements sums every entry of this map into the balance (and only looks up
        // real input indices for surjection domains and blinders), so the issued amounts go
        // under indices past the inputs. The balance is verified below all the same.
        let past_inputs = payment.inputs.len();
        for (k, s) in issuance_secrets.iter().enumerate() {
            secrets.insert(past_inputs + k, *s);
        }
        let factors = payment
            .pset
            .blind_last(&mut rand::rngs::OsRng, secp(), &secrets)
            .map_err(|e| tx_error(format!("blinding failed: {e}")))?;
        for (i, planned) in payment.outputs.iter().enumerate() {
            if !planned.blinded {
                continue;
            }
            // rust-elements reports output factors under an "input" location of that index.
            let location = CtLocation {
                input_index: i,
                ty: CtLocationType::Input,
            };
            let (abf, vbf, _) = factors.get(&location).ok_or_else(|| {
                tx_error(format!("output {i} was left unblinded; refusing to go on"))
            })?;
            opened[i] = Some(TxOutSecrets {
                value: planned.value,
                asset: planned.asset,
                value_bf: *vbf,
                asset_bf: *abf,
                explicit: false,
            });
        }
    } else if payment.inputs.iter().any(|u| !u.secrets.explicit) || !issuance_secrets.is_empty() {
        return Err(tx_error(
            "spending confidential coins needs at least one confidential output: pay a \
             confidential address or leave change",
        ));
    }
    verify(payment, &opened, &issuance_secrets)?;
    payment.output_secrets = payment
        .outputs
        .iter()
        .zip(opened)
        .map(|(planned, opened)| {
            opened.unwrap_or_else(|| TxOutSecrets::explicit(planned.value, planned.asset))
        })
        .collect();
    Ok(())
}

/// The checks that must pass before signing.
fn verify(
    payment: &Payment,
    opened: &[Option<TxOutSecrets>],
    issuance_secrets: &[elements::TxOutSecrets],
) -> Result<()> {
    let tx = payment
        .pset
        .extract_tx()
        .map_err(|e| tx_error(format!("the PSET does not form a transaction: {e}")))?;
    if tx.output.len() != payment.outputs.len() || tx.input.len() != payment.inputs.len() {
        return Err(tx_error("the PSET does not match the plan"));
    }
    // Exactly the planned issuance, on input 0 only, creating the planned ids.
    for (i, txin) in tx.input.iter().enumerate() {
        let planned = payment.issuance.as_ref().filter(|_| i == 0);
        let carries_plan = match planned {
            Some(p) => p.matches(secp(), txin, issuance_secrets),
            None => txin.asset_issuance == elements::AssetIssuance::default(),
        };
        if !carries_plan {
            return Err(tx_error(format!(
                "input {i} does not carry the planned issuance"
            )));
        }
        if let Some(p) = planned {
            let (asset, token) = txin.issuance_ids();
            if asset != p.asset || (!p.is_reissuance() && token != p.token) {
                return Err(tx_error("the issuance does not create the planned asset"));
            }
            let spent = &payment.inputs[i].txout;
            if !p.spends_its_token(secp(), txin, spent) {
                return Err(tx_error(
                    "the reissuance does not spend the token Elements derives for it (from \
                     its entropy and whether its amount is blinded)",
                ));
            }
        }
    }
    for (i, (planned, txout)) in payment.outputs.iter().zip(&tx.output).enumerate() {
        if txout.script_pubkey != planned.script {
            return Err(tx_error(format!(
                "output {i} pays another script than planned"
            )));
        }
        let ok = match &opened[i] {
            Some(secrets) => secrets.opens(txout) && is_confidential(txout),
            None => {
                txout.value == confidential::Value::Explicit(planned.value)
                    && txout.asset == confidential::Asset::Explicit(planned.asset)
            }
        };
        if !ok {
            return Err(tx_error(format!(
                "output {i} does not commit to the planned amount and asset"
            )));
        }
        if planned.role == OutputRole::Fee
            && (!txout.script_pubkey.is_empty() || planned.value != payment.fee)
        {
            return Err(tx_error("the fee output is not the planned explicit fee"));
        }
        if let OutputRole::Pegout(n) = planned.role {
            // The fee output's asset is the policy asset (checked explicit below).
            let policy = payment
                .outputs
                .iter()
                .find(|o| o.role == OutputRole::Fee)
                .map(|o| o.asset);
            let explicit_policy = txout.asset == confidential::Asset::Explicit(planned.asset)
                && policy == Some(planned.asset);
            if opened[i].is_some() || !explicit_policy || !txout.is_pegout() {
                return Err(tx_error(format!(
                    "output {i} (peg-out {n}) is not an explicit L-BTC peg-out output"
                )));
            }
        }
        if planned.role == OutputRole::Burn
            && (!txout.script_pubkey.is_provably_unspendable() || opened[i].is_some())
        {
            return Err(tx_error(format!(
                "output {i} is not an explicit burn to an unspendable script"
            )));
        }
    }
    let spent: Vec<TxOut> = payment.inputs.iter().map(|u| u.txout.clone()).collect();
    tx.verify_tx_amt_proofs(secp(), &spent)
        .map_err(|e| tx_error(format!("amounts or proofs do not verify: {e}")))
}

fn is_confidential(txout: &TxOut) -> bool {
    txout.value.is_confidential() && txout.asset.is_confidential()
}

/// The secrets of every input, as blinding wants them.
fn input_secrets(inputs: &[Spendable]) -> HashMap<usize, elements::TxOutSecrets> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, u)| (i, u.secrets.to_elements()))
        .collect()
}
