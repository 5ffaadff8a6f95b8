//! Signing an approved PSET with the wallet's seed, and finalizing it into a transaction.
//!
//! Only the inputs of a [`SigningPlan`] are signed (made by [`crate::pset::approve`]: exactly
//! the inputs the wallet's view counted), and each signature is computed from the wallet's
//! own records, not from the PSET: the script code comes from the descriptor at the coin's
//! derivation path, the value commitment from the stored coin, the key from the seed along
//! the descriptor's key origin. A PSET that changed since it was approved (another unsigned
//! transaction) is refused. Only SIGHASH_ALL is ever used.

use elements::bitcoin::bip32::Xpriv;
use elements::bitcoin::secp256k1::{All, Secp256k1};
use elements::bitcoin::{NetworkKind, PublicKey};
use elements::pset::PartiallySignedTransaction;
use elements::sighash::SighashCache;
use elements::{BlockHash, EcdsaSighashType, Transaction};
use elements_miniscript::psbt::PsbtExt;
use elements_miniscript::ForEachKey;

use super::tx_error;
use crate::descriptor::WalletDescriptor;
use crate::network::Network;
use crate::pset::SigningPlan;
use crate::{Error, Result};

fn secp() -> &'static Secp256k1<All> {
    static SECP: std::sync::OnceLock<Secp256k1<All>> = std::sync::OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

fn genesis(network: Network) -> BlockHash {
    network
        .genesis_hash()
        .unwrap_or_else(|| BlockHash::from_byte_array([0; 32]))
}

/// Adds this seed's signatures to exactly the inputs of `plan`; returns how many it added.
///
/// Fails when `pset` is no longer the transaction `plan` was approved for, or when the seed
/// holds no key of an input of the plan (nothing is added then).
pub fn sign_pset(
    pset: &mut PartiallySignedTransaction,
    plan: &SigningPlan,
    descriptor: &WalletDescriptor,
    seed: &[u8; 64],
    network: Network,
) -> Result<usize> {
    let kind = if network.is_mainnet() {
        NetworkKind::Main
    } else {
        NetworkKind::Test
    };
    let mut master = Xpriv::new_master(kind, seed)
        .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
    let mut signed = pset.clone();
    let result = sign_with(&mut signed, plan, descriptor, &master);
    master.private_key.non_secure_erase();
    let added = result?;
    *pset = signed;
    Ok(added)
}

fn sign_with(
    pset: &mut PartiallySignedTransaction,
    plan: &SigningPlan,
    descriptor: &WalletDescriptor,
    master: &Xpriv,
) -> Result<usize> {
    let unsigned: Transaction = pset
        .extract_tx()
        .map_err(|e| tx_error(format!("the PSET does not form a transaction: {e}")))?;
    if unsigned.txid() != plan.unsigned_txid {
        return Err(Error::Refused(
            "the PSET changed after it was checked: nothing was signed".to_owned(),
        ));
    }
    let fingerprint = master.fingerprint(secp());
    let mut cache = SighashCache::new(&unsigned);
    let mut added = 0;
    for input in &plan.inputs {
        let spending = descriptor.spending_descriptor(input.keychain, input.key_index)?;
        let script_code = spending
            .script_code()
            .map_err(|e| tx_error(format!("input {}: no script code: {e}", input.index)))?;
        let sighash = cache.segwitv0_sighash(
            input.index,
            &script_code,
            input.spent.value,
            EcdsaSighashType::All,
        );
        let msg = elements::secp256k1_zkp::Message::from_digest(sighash.to_byte_array());
        let mut keys = Vec::new();
        spending.for_each_key(|key| {
            if key.master_fingerprint() == fingerprint {
                keys.push(key.clone());
            }
            true
        });
        let mut signed_here = 0;
        for key in keys {
            let Some(path) = key.full_derivation_path() else {
                continue;
            };
            let Ok(expected) = key.derive_public_key(secp()) else {
                continue;
            };
            let mut child = master
                .derive_priv(secp(), &path)
                .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
            let derived = PublicKey::new(child.private_key.public_key(secp()));
            if derived != expected {
                child.private_key.non_secure_erase();
                continue;
            }
            let sig = secp().sign_ecdsa_low_r(&msg, &child.private_key);
            child.private_key.non_secure_erase();
            let mut bytes = sig.serialize_der().to_vec();
            bytes.push(EcdsaSighashType::All as u8);
            pset.inputs_mut()[input.index]
                .partial_sigs
                .insert(expected, bytes);
            signed_here += 1;
        }
        if signed_here == 0 {
            return Err(tx_error(format!(
                "input {}: this seed holds none of the keys of the wallet's coin at {}/{}",
                input.index,
                input.keychain.as_str(),
                input.key_index
            )));
        }
        // The scripts and key origins a finalizer needs, from the wallet's own descriptor.
        pset.update_input_with_descriptor(input.index, &spending)
            .map_err(|e| tx_error(format!("input {}: {e}", input.index)))?;
        added += signed_here;
    }
    Ok(added)
}

/// Finalizes every input (satisfying its script from the partial signatures) and extracts the
/// transaction, checking each input's satisfaction with the script interpreter. An already
/// finalized PSET is only extracted and checked.
///
/// When an input cannot be satisfied yet, the error names each such input and the key
/// fingerprints whose signatures it still lacks.
pub fn finalize_pset(
    pset: &mut PartiallySignedTransaction,
    network: Network,
) -> Result<Transaction> {
    let finalized = pset
        .inputs()
        .iter()
        .all(|i| i.final_script_witness.is_some() || i.final_script_sig.is_some());
    if finalized {
        // Finalizing again would fail: the finalizer cleared the scripts it consumed.
        return pset
            .extract(secp(), genesis(network))
            .map_err(|e| tx_error(format!("the finalized transaction does not verify: {e}")));
    }
    let missing = missing_signatures(pset);
    if !missing.is_empty() {
        return Err(Error::Refused(format!(
            "cannot finalize yet: {}",
            missing.join("; ")
        )));
    }
    // Inputs finalized already (a counterparty's in a DvP deal) keep their witness; the
    // extraction below checks every input with the script interpreter all the same.
    let mut attempt = pset.clone();
    let mut errors = Vec::new();
    for index in 0..attempt.inputs().len() {
        let input = &attempt.inputs()[index];
        if input.final_script_witness.is_some() || input.final_script_sig.is_some() {
            continue;
        }
        if let Err(e) = attempt.finalize_inp_mut(secp(), index, genesis(network)) {
            errors.push(e.to_string());
        }
    }
    if !errors.is_empty() {
        return Err(tx_error(format!("cannot finalize: {}", errors.join("; "))));
    }
    let tx = attempt
        .extract(secp(), genesis(network))
        .map_err(|e| tx_error(format!("the finalized transaction does not verify: {e}")))?;
    *pset = attempt;
    Ok(tx)
}

/// For each input not finalized and short of signatures: which input and whose signatures
/// (key fingerprints, from its key origins) it lacks.
fn missing_signatures(pset: &PartiallySignedTransaction) -> Vec<String> {
    let mut out = Vec::new();
    for (i, input) in pset.inputs().iter().enumerate() {
        if input.final_script_witness.is_some() || input.final_script_sig.is_some() {
            continue;
        }
        let needed = input
            .witness_script
            .as_ref()
            .and_then(multisig_threshold)
            .unwrap_or(1);
        if input.partial_sigs.len() >= needed {
            continue;
        }
        let lacking: Vec<String> = input
            .bip32_derivation
            .iter()
            .filter(|(pk, _)| !input.partial_sigs.contains_key(*pk))
            .map(|(_, (fp, _))| fp.to_string())
            .collect();
        let who = if lacking.is_empty() {
            "of a key the PSET does not name (no key origins)".to_owned()
        } else {
            format!("from key(s) {}", lacking.join(", "))
        };
        out.push(format!(
            "input {i} has {} of {needed} signature(s); it needs {} more {who}",
            input.partial_sigs.len(),
            needed - input.partial_sigs.len()
        ));
    }
    out
}

/// The k of a `k <pubkeys> n OP_CHECKMULTISIG` witness script.
fn multisig_threshold(script: &elements::Script) -> Option<usize> {
    let first = *script.as_bytes().first()?;
    let last = *script.as_bytes().last()?;
    let checkmultisig = elements::opcodes::all::OP_CHECKMULTISIG.into_u8();
    let op_1 = elements::opcodes::all::OP_PUSHNUM_1.into_u8();
    let op_16 = elements::opcodes::all::OP_PUSHNUM_16.into_u8();
    (last == checkmultisig && (op_1..=op_16).contains(&first))
        .then(|| usize::from(first - op_1 + 1))
}
