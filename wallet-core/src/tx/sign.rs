//! Signing a PSET with the wallet's seed, and finalizing it into a transaction.
//!
//! Only inputs whose BIP32 derivation names this seed's fingerprint are signed, each with the
//! key derived at the recorded path and checked to be the recorded public key; only
//! SIGHASH_ALL is ever used. Verification of *what* is signed happens before (see `blind` and
//! the PSET view): this module refuses nothing it was not told to.

use elements::bitcoin::bip32::Xpriv;
use elements::bitcoin::secp256k1::{All, Secp256k1};
use elements::bitcoin::{NetworkKind, PublicKey};
use elements::pset::PartiallySignedTransaction;
use elements::sighash::SighashCache;
use elements::{BlockHash, EcdsaSighashType, Transaction};
use elements_miniscript::psbt::PsbtExt;

use crate::network::Network;
use crate::{Error, Result};

fn secp() -> &'static Secp256k1<All> {
    static SECP: std::sync::OnceLock<Secp256k1<All>> = std::sync::OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

fn tx_error(msg: impl Into<String>) -> Error {
    Error::Transaction(msg.into())
}

fn genesis(network: Network) -> BlockHash {
    network
        .genesis_hash()
        .unwrap_or_else(|| BlockHash::from_byte_array([0; 32]))
}

/// Adds this seed's signatures to every input it can sign; returns how many it added.
pub fn sign_pset(
    pset: &mut PartiallySignedTransaction,
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
    let result = sign_with(pset, &master, network);
    master.private_key.non_secure_erase();
    result
}

fn sign_with(
    pset: &mut PartiallySignedTransaction,
    master: &Xpriv,
    network: Network,
) -> Result<usize> {
    let fingerprint = master.fingerprint(secp());
    let unsigned: Transaction = pset
        .extract_tx()
        .map_err(|e| tx_error(format!("the PSET does not form a transaction: {e}")))?;
    let mut cache = SighashCache::new(&unsigned);
    let mut added = 0;
    for i in 0..pset.inputs().len() {
        let ours: Vec<_> = pset.inputs()[i]
            .bip32_derivation
            .iter()
            .filter(|(_, (fp, _))| *fp == fingerprint)
            .map(|(pk, (_, path))| (*pk, path.clone()))
            .collect();
        if ours.is_empty() {
            continue;
        }
        if let Some(ty) = pset.inputs()[i].sighash_type {
            if ty.ecdsa_hash_ty() != Some(EcdsaSighashType::All) {
                return Err(tx_error(format!(
                    "input {i} asks for sighash {ty:?}; this wallet signs only SIGHASH_ALL"
                )));
            }
        }
        let msg = pset
            .sighash_msg(i, &mut cache, None, genesis(network))
            .map_err(|e| tx_error(format!("cannot compute the sighash of input {i}: {e}")))?
            .to_secp_msg();
        for (pk, path) in ours {
            let mut child = master
                .derive_priv(secp(), &path)
                .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
            let derived = PublicKey::new(child.private_key.public_key(secp()));
            if derived != pk {
                child.private_key.non_secure_erase();
                return Err(tx_error(format!(
                    "input {i}: the key at {path} is not the one the PSET names"
                )));
            }
            let sig = secp().sign_ecdsa_low_r(&msg, &child.private_key);
            child.private_key.non_secure_erase();
            let mut bytes = sig.serialize_der().to_vec();
            bytes.push(EcdsaSighashType::All as u8);
            pset.inputs_mut()[i].partial_sigs.insert(pk, bytes);
            added += 1;
        }
    }
    Ok(added)
}

/// Finalizes every input (satisfying its script from the partial signatures) and extracts the
/// transaction, checking each input's satisfaction with the script interpreter. An already
/// finalized PSET is only extracted and checked.
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
    pset.finalize_mut(secp(), genesis(network))
        .map_err(|errors| {
            let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
            tx_error(format!("cannot finalize: {}", text.join("; ")))
        })?;
    pset.extract(secp(), genesis(network))
        .map_err(|e| tx_error(format!("the finalized transaction does not verify: {e}")))
}
