//! An issuance or reissuance on an input: its PSET fields, and the commitments and
//! rangeproofs of a confidential one (made here: rust-elements' PSET blinder refuses
//! issuances), with the nonces that let the issuing wallet read its amounts back.
//!
//! Issued amounts are explicit (valid everywhere, and the supply is public) unless the
//! issuance is confidential: then each amount is a commitment (on the asset's unblinded tag)
//! with a 52-bit rangeproof, and its blinding factor joins the inputs' in the balance the
//! last output's blinder closes. The token id follows (`reissuance_token_from_entropy` with
//! whether the amount is blinded). A reissuance may be blinded the same way.

use elements::pset;
use elements::secp256k1_zkp;
use elements::{confidential, AssetEntropy, AssetId, AssetIssuance, ContractHash, OutPoint};

use super::tx_error;
use crate::Result;

/// An issuance or reissuance as it appears on input 0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issuance {
    /// The coin input 0 spends.
    pub outpoint: OutPoint,
    /// `None` for a new issuance; for a reissuance, the asset blinding factor of the token
    /// coin spent, made public as the issuance's blinding nonce.
    pub blinding_nonce: Option<elements::AssetBlindingNonce>,
    /// The contract hash committed to (new issuances only).
    pub contract_hash: Option<ContractHash>,
    /// The asset entropy.
    pub entropy: AssetEntropy,
    /// The asset issued.
    pub asset: AssetId,
    /// Its reissuance token.
    pub token: AssetId,
    /// Amount of the asset created, explicit.
    pub amount: u64,
    /// Amount of reissuance tokens created (always 0 in a reissuance).
    pub token_amount: u64,
    /// Whether the amounts are blinded in the transaction (the amounts above are then known
    /// only to holders of the wallet's blinding key).
    pub confidential: bool,
}

impl Issuance {
    /// Whether this is a reissuance.
    pub fn is_reissuance(&self) -> bool {
        self.blinding_nonce.is_some()
    }

    /// The transaction field this issuance makes.
    pub(crate) fn to_asset_issuance(&self) -> AssetIssuance {
        let explicit_or_null = |v: u64| {
            if v == 0 {
                confidential::Value::Null
            } else {
                confidential::Value::Explicit(v)
            }
        };
        AssetIssuance {
            asset_blinding_nonce: self
                .blinding_nonce
                .unwrap_or(elements::AssetBlindingNonce::NEW_ISSUANCE),
            asset_entropy: match (self.blinding_nonce, self.contract_hash) {
                (Some(_), _) => self.entropy,
                (None, Some(hash)) => AssetEntropy::from_byte_array(hash.to_byte_array()),
                (None, None) => AssetEntropy::NEW_ISSUANCE,
            },
            amount: explicit_or_null(self.amount),
            inflation_keys: explicit_or_null(self.token_amount),
        }
    }

    /// Writes the issuance into a PSET input, amounts explicit: a confidential issuance is
    /// blinded by [`Issuance::blind_on`] just before the outputs are.
    pub(crate) fn set_on(&self, input: &mut pset::Input) {
        let field = self.to_asset_issuance();
        input.issuance_value_amount = (self.amount > 0).then_some(self.amount);
        input.issuance_inflation_keys = (self.token_amount > 0).then_some(self.token_amount);
        input.issuance_asset_entropy = Some(field.asset_entropy);
        input.issuance_blinding_nonce = self.blinding_nonce;
        input.blinded_issuance = Some(0);
    }

    /// Blinds the amounts of a confidential issuance on `input` (a commitment and a
    /// rangeproof for each non-zero amount, the explicit amounts removed) and returns the
    /// secrets of each, to be counted with the inputs' when the outputs are blinded: an
    /// issuance is an input of its asset with an unblinded asset tag.
    /// `blinding_key` is the wallet's blinding key of input 0's script: the rangeproofs are
    /// made with nonces derived from it ([`issuance_proof_nonce`]) so that the wallet, a
    /// restored copy or a watch-only copy can read the amounts back
    /// ([`read_issued_amounts`]); without one they are random.
    pub(crate) fn blind_on(
        &self,
        secp: &secp256k1_zkp::Secp256k1<secp256k1_zkp::All>,
        input: &mut pset::Input,
        blinding_key: Option<&secp256k1_zkp::SecretKey>,
    ) -> Result<Vec<elements::TxOutSecrets>> {
        if !self.confidential {
            return Ok(Vec::new());
        }
        let mut secrets = Vec::new();
        for (value, asset, is_token) in [
            (self.amount, self.asset, false),
            (self.token_amount, self.token, true),
        ] {
            if value == 0 {
                continue;
            }
            let nonce = match blinding_key {
                Some(key) => issuance_proof_nonce(key, self.outpoint, is_token)?,
                None => secp256k1_zkp::SecretKey::new(&mut rand::rngs::OsRng),
            };
            let (commitment, proof, vbf) = blind_issued_amount(secp, value, asset, nonce)?;
            if is_token {
                input.issuance_inflation_keys = None;
                input.issuance_inflation_keys_comm = Some(commitment);
                input.issuance_keys_rangeproof = Some(proof);
            } else {
                input.issuance_value_amount = None;
                input.issuance_value_comm = Some(commitment);
                input.issuance_value_rangeproof = Some(proof);
            }
            secrets.push(elements::TxOutSecrets::new(
                asset,
                confidential::AssetBlindingFactor::zero(),
                value,
                vbf,
            ));
        }
        Ok(secrets)
    }

    /// Whether `txin` carries exactly this issuance: nonce and entropy as planned, explicit
    /// amounts equal, blinded ones opening to the planned amounts with `secrets` (from
    /// [`Issuance::blind_on`]) and their rangeproofs verifying.
    pub(crate) fn matches(
        &self,
        secp: &secp256k1_zkp::Secp256k1<secp256k1_zkp::All>,
        txin: &elements::TxIn,
        secrets: &[elements::TxOutSecrets],
    ) -> bool {
        let expected = self.to_asset_issuance();
        let field = &txin.asset_issuance;
        if field.asset_blinding_nonce != expected.asset_blinding_nonce
            || field.asset_entropy != expected.asset_entropy
        {
            return false;
        }
        if !self.confidential {
            return field.amount == expected.amount
                && field.inflation_keys == expected.inflation_keys;
        }
        let opens = |got: confidential::Value,
                     proof: Option<&secp256k1_zkp::RangeProof>,
                     value: u64,
                     asset: AssetId| {
            if value == 0 {
                return got == confidential::Value::Null;
            }
            let Some(s) = secrets
                .iter()
                .find(|s| s.asset == asset && s.value == value)
            else {
                return false;
            };
            let generator = secp256k1_zkp::Generator::new_unblinded(secp, asset.into_tag());
            let commitment = secp256k1_zkp::PedersenCommitment::new(
                secp,
                value,
                s.value_bf.into_inner(),
                generator,
            );
            got == confidential::Value::Confidential(commitment)
                && proof.is_some_and(|p| p.verify(secp, commitment, &[], generator).is_ok())
        };
        opens(
            field.amount,
            txin.witness.amount_rangeproof.as_ref(),
            self.amount,
            self.asset,
        ) && opens(
            field.inflation_keys,
            txin.witness.inflation_keys_rangeproof.as_ref(),
            self.token_amount,
            self.token,
        )
    }

    /// For a reissuance: whether `spent` (the coin input 0 spends) holds the token that
    /// Elements derives for `txin`'s reissuance, i.e. from its entropy and from whether its
    /// amount is blinded, blinded with its nonce (`VerifyAmounts` in Elements). New issuances
    /// need no token: `true`.
    pub(crate) fn spends_its_token(
        &self,
        secp: &secp256k1_zkp::Secp256k1<secp256k1_zkp::All>,
        txin: &elements::TxIn,
        spent: &elements::TxOut,
    ) -> bool {
        if !self.is_reissuance() {
            return true;
        }
        let field = &txin.asset_issuance;
        let token = AssetId::reissuance_token_from_entropy(
            field.asset_entropy,
            field.amount.is_confidential(),
        );
        let Ok(tweak) =
            secp256k1_zkp::Tweak::from_slice(&field.asset_blinding_nonce.to_byte_array())
        else {
            return false;
        };
        let expected = secp256k1_zkp::Generator::new_blinded(secp, token.into_tag(), tweak);
        spent.asset == confidential::Asset::Confidential(expected)
    }

    /// Weight a confidential issuance adds to the explicit one [`Issuance::to_asset_issuance`]
    /// makes: per blinded amount, a 33-byte commitment instead of 9 bytes (not discounted)
    /// and a rangeproof in the input witness (its length prefix included; the empty field
    /// was already counted).
    pub(crate) fn blinding_weight(&self) -> u64 {
        if !self.confidential {
            return 0;
        }
        let per_amount = (33 - 9) * 4 + ISSUANCE_RANGEPROOF_MAX_LEN + 2;
        [self.amount, self.token_amount]
            .iter()
            .filter(|v| **v > 0)
            .count() as u64
            * per_amount
    }
}

/// The largest rangeproof [`blind_issued_amount`] makes (52-bit proofs have one length
/// whatever the amount; `issuance_rangeproof_length_is_bounded` checks it).
const ISSUANCE_RANGEPROOF_MAX_LEN: u64 = 4166;

/// Domain tag of [`issuance_proof_nonce`].
const PROOF_NONCE_TAG: &[u8] = b"liquid-otc/issuance-rangeproof/v1";

/// The rangeproof nonce of one amount of a confidential new issuance spending `outpoint`
/// (the asset's amount, or with `token` its token amount): a tagged SHA-256 of the wallet's
/// blinding key of the spent coin's script, the outpoint and the field, so that each proof
/// has its own nonce and whoever holds the blinding key can rewind it.
pub fn issuance_proof_nonce(
    blinding_key: &secp256k1_zkp::SecretKey,
    outpoint: OutPoint,
    token: bool,
) -> Result<secp256k1_zkp::SecretKey> {
    use elements::hashes::{sha256, HashEngine};
    let mut engine = sha256::Hash::engine();
    engine.input(PROOF_NONCE_TAG);
    engine.input(&blinding_key.secret_bytes());
    engine.input(outpoint.txid.as_byte_array());
    engine.input(&outpoint.vout.to_le_bytes());
    engine.input(&[u8::from(token)]);
    let digest = sha256::Hash::from_engine(engine);
    secp256k1_zkp::SecretKey::from_slice(digest.as_byte_array())
        .map_err(|e| tx_error(format!("cannot derive an issuance rangeproof nonce: {e}")))
}

/// The amounts (asset, token) of the new issuance on `txin`, which spends a coin whose
/// script has `blinding_key`: explicit ones as they are, blinded ones rewound with
/// [`issuance_proof_nonce`] and checked to open the commitment; `None` for a blinded amount
/// this key did not make.
pub fn read_issued_amounts(
    txin: &elements::TxIn,
    blinding_key: &secp256k1_zkp::SecretKey,
) -> (Option<u64>, Option<u64>) {
    let secp = secp256k1_zkp::Secp256k1::new();
    let (asset, token) = txin.issuance_ids();
    let read = |value: confidential::Value,
                proof: Option<&secp256k1_zkp::RangeProof>,
                id: AssetId,
                is_token: bool|
     -> Option<u64> {
        match value {
            confidential::Value::Null => Some(0),
            confidential::Value::Explicit(v) => Some(v),
            confidential::Value::Confidential(commitment) => {
                let nonce =
                    issuance_proof_nonce(blinding_key, txin.previous_output, is_token).ok()?;
                let generator = secp256k1_zkp::Generator::new_unblinded(&secp, id.into_tag());
                let (opening, _) = proof?
                    .rewind(&secp, commitment, nonce, &[], generator)
                    .ok()?;
                let reopened = secp256k1_zkp::PedersenCommitment::new(
                    &secp,
                    opening.value,
                    opening.blinding_factor,
                    generator,
                );
                (reopened == commitment).then_some(opening.value)
            }
        }
    };
    (
        read(
            txin.asset_issuance.amount,
            txin.witness.amount_rangeproof.as_ref(),
            asset,
            false,
        ),
        read(
            txin.asset_issuance.inflation_keys,
            txin.witness.inflation_keys_rangeproof.as_ref(),
            token,
            true,
        ),
    )
}

/// A commitment to `value` of `asset` (unblinded tag, as Elements commits issuances) with a
/// fresh value blinding factor, and its rangeproof made with `nonce`: 52 bits, no message,
/// nothing extra committed (as the node verifies issuance rangeproofs).
fn blind_issued_amount(
    secp: &secp256k1_zkp::Secp256k1<secp256k1_zkp::All>,
    value: u64,
    asset: AssetId,
    nonce: secp256k1_zkp::SecretKey,
) -> Result<(
    secp256k1_zkp::PedersenCommitment,
    elements::RangeProof,
    confidential::ValueBlindingFactor,
)> {
    let mut rng = rand::rngs::OsRng;
    let vbf = confidential::ValueBlindingFactor::new(&mut rng);
    let generator = secp256k1_zkp::Generator::new_unblinded(secp, asset.into_tag());
    let commitment =
        secp256k1_zkp::PedersenCommitment::new(secp, value, vbf.into_inner(), generator);
    let proof = elements::RangeProof::new(
        secp,
        0,
        commitment,
        value,
        vbf.into_inner(),
        &[],
        &[],
        nonce,
        0,
        52,
        generator,
    )
    .map_err(|e| tx_error(format!("cannot prove the issued amount: {e}")))?;
    Ok((commitment, proof, vbf))
}

#[cfg(test)]
mod blinding_tests {
    use super::*;
    use crate::tx::MAX_MONEY;

    #[test]
    fn issuance_rangeproof_length_is_bounded() {
        let secp = secp256k1_zkp::Secp256k1::new();
        let asset = AssetId::from_byte_array([7; 32]);
        for value in [1, 1_000, MAX_MONEY] {
            let nonce = secp256k1_zkp::SecretKey::from_slice(&[3; 32]).unwrap();
            let (_, proof, _) = blind_issued_amount(&secp, value, asset, nonce).unwrap();
            let len = proof.len() as u64;
            assert!(len <= ISSUANCE_RANGEPROOF_MAX_LEN, "{len}");
            // Not a loose bound either: the fee is paid on it.
            assert!(len + 200 > ISSUANCE_RANGEPROOF_MAX_LEN, "{len}");
        }
    }
}
