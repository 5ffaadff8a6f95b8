//! What a PSET input says about the coin it spends, checked against the wallet's records.
//!
//! For an input the wallet counts as its own, every field describing the spent output must be
//! the stored coin (a signature commits to its value and script: a rewritten field would make
//! the wallet sign for something other than what it showed). For an input the wallet does not
//! count, any field tying it to the wallet (one of its keys, one of its scripts, directly or
//! wrapped) is a reason to refuse: the PSET claims a coin of the wallet that the wallet cannot
//! account for.

use elements::bitcoin::bip32::{ChildNumber, DerivationPath, Fingerprint, Xpub};
use elements::bitcoin::secp256k1::Secp256k1;
use elements::pset::Input;
use elements::{EcdsaSighashType, OutPoint, Script};
use elements_miniscript::descriptor::{DescriptorPublicKey, SinglePubKey};
use elements_miniscript::ForEachKey;

use super::{same_output, WalletKnowledge};
use crate::store::OwnedCoin;

/// Why `input`, which spends the wallet's coin `coin` at `outpoint`, cannot be signed as it
/// stands (empty: nothing wrong).
pub(super) fn own_input_problems(
    input: &Input,
    outpoint: &OutPoint,
    coin: &OwnedCoin,
) -> Vec<String> {
    let mut problems = Vec::new();
    let coin_text = super::outpoint_text(outpoint);
    match &input.witness_utxo {
        None => problems.push(format!(
            "spends this wallet's coin {coin_text} but does not carry it (no witness_utxo)"
        )),
        Some(spent) if !same_output(spent, &coin.txout) => problems.push(format!(
            "spends this wallet's coin {coin_text} but describes it with another amount, \
             asset or script than the wallet holds"
        )),
        Some(_) => {}
    }
    if let Some(prev) = &input.non_witness_utxo {
        let agrees = prev.txid() == outpoint.txid
            && prev
                .output
                .get(outpoint.vout as usize)
                .is_some_and(|o| same_output(o, &coin.txout));
        if !agrees {
            problems.push(format!(
                "carries a previous transaction (non_witness_utxo) that does not hold this \
                 wallet's coin {coin_text}"
            ));
        }
    }
    if input.is_pegin() {
        problems.push(format!(
            "is marked as a peg-in but spends this wallet's coin {coin_text}"
        ));
    }
    if let Some(ty) = input.sighash_type {
        if ty.ecdsa_hash_ty() != Some(EcdsaSighashType::All) {
            problems.push(format!(
                "asks for signature hash {ty:?}; this wallet signs only SIGHASH_ALL, which \
                 commits to every input and output"
            ));
        }
    }
    problems
}

/// Why `input`, which spends a coin the wallet does not count as its own, looks like the
/// wallet's all the same: `None` when nothing ties it to the wallet.
pub(super) fn foreign_input_claim(
    input: &Input,
    outpoint: &OutPoint,
    know: &WalletKnowledge,
) -> Option<String> {
    let coin = super::outpoint_text(outpoint);
    let unknown = |what: &str| {
        format!(
            "spends coin {coin}, which the wallet does not know, but {what}: sync the wallet if \
             the coin is recent; never sign what the wallet cannot account for"
        )
    };
    let ours = |script: &Script| know.scripts.contains_key(script);
    if input
        .witness_utxo
        .as_ref()
        .is_some_and(|u| ours(&u.script_pubkey))
    {
        return Some(unknown("its spent output pays this wallet's script"));
    }
    if let Some(prev) = &input.non_witness_utxo {
        if prev
            .output
            .get(outpoint.vout as usize)
            .is_some_and(|o| ours(&o.script_pubkey))
        {
            return Some(unknown(
                "its previous transaction pays this wallet's script",
            ));
        }
    }
    if let Some(redeem) = &input.redeem_script {
        if ours(redeem) || ours(&redeem.to_p2sh()) {
            return Some(unknown("its redeem script is this wallet's"));
        }
    }
    if let Some(witness) = &input.witness_script {
        let wsh = witness.to_v0_p2wsh();
        if ours(&wsh) || ours(&wsh.to_p2sh()) {
            return Some(unknown("its witness script is this wallet's"));
        }
    }
    for (pk, (fingerprint, path)) in &input.bip32_derivation {
        if derives_from_wallet(know, *fingerprint, path, &pk.inner) {
            return Some(unknown(&format!(
                "it names this wallet's key {pk} at {fingerprint}/{path}"
            )));
        }
    }
    None
}

/// Whether `pk` at `fingerprint`/`path` is a key of the wallet's descriptor: an extended key
/// of the descriptor with that origin derives `pk` along the rest of the path.
fn derives_from_wallet(
    know: &WalletKnowledge,
    fingerprint: Fingerprint,
    path: &DerivationPath,
    pk: &elements::bitcoin::secp256k1::PublicKey,
) -> bool {
    let secp = Secp256k1::verification_only();
    let mut found = false;
    know.descriptor
        .as_confidential()
        .descriptor
        .for_each_key(|key| {
            let (origin, xkey): (Option<(Fingerprint, &DerivationPath)>, &Xpub) = match key {
                DescriptorPublicKey::XPub(x) => (x.origin.as_ref().map(|(f, p)| (*f, p)), &x.xkey),
                DescriptorPublicKey::MultiXPub(x) => {
                    (x.origin.as_ref().map(|(f, p)| (*f, p)), &x.xkey)
                }
                DescriptorPublicKey::Single(s) => {
                    found = matches!(s.key, SinglePubKey::FullKey(k) if k.inner == *pk);
                    return !found;
                }
            };
            let (key_fp, origin_path) = match origin {
                Some(o) => o,
                None if xkey.depth == 0 => (xkey.fingerprint(), &DerivationPath::master()),
                None => return true,
            };
            if key_fp != fingerprint {
                return true;
            }
            let full: &[ChildNumber] = path.as_ref();
            let prefix: &[ChildNumber] = origin_path.as_ref();
            let Some(rest) = full.strip_prefix(prefix) else {
                return true;
            };
            if rest.iter().any(ChildNumber::is_hardened) {
                return true;
            }
            if let Ok(child) = xkey.derive_pub(&secp, &rest.to_vec()) {
                found = child.public_key == *pk;
            }
            !found
        });
    found
}
