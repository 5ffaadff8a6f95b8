//! Issuance, reissuance and burns. Each is a payment built by the same builder (coin
//! selection, fee passes on the discounted size, change, blinding as the last blinder and the
//! checks before signing), with an issuance on input 0 and outputs besides the recipients.
//!
//! Decisions:
//! - Issued amounts are explicit in the issuance (valid everywhere, and the supply is
//!   public) unless the issuance is confidential: then each amount is a commitment (on the
//!   asset's unblinded tag) with a 52-bit rangeproof, made here because rust-elements' PSET
//!   blinder refuses issuances, and its blinding factor joins the inputs' in the balance
//!   the last output's blinder closes. The token id follows (`reissuance_token_from_entropy`
//!   with `confidential`). A reissuance may be blinded the same way. The outputs that
//!   receive issued amounts, to the wallet's confidential addresses, are blinded as usual.
//! - Amounts, issued or reissued, are at most `MAX_MONEY` (ELIP-203: larger issuances are
//!   not accepted by default nodes).
//! - A reissuance spends a (blinded) token coin at input 0 and names its asset blinding
//!   factor as the issuance's blinding nonce; the whole token coin comes back as change.
//! - A burn is an explicit output of the amount to a bare `OP_RETURN` script, as Elements'
//!   `destroyamount` makes it.

use elements::pset;
use elements::script::Builder;
use elements::secp256k1_zkp;
use elements::{
    confidential, Address, AssetEntropy, AssetId, AssetIssuance, ContractHash, OutPoint, Script,
};

use super::build::build_with;
use super::{FeeRate, OutputRole, Payment, PaymentRequest, Spendable, WalletContext};
use crate::descriptor::Keychain;
use crate::{Error, Result};

/// The most that one issuance may create of an asset or of its token (21 million coins of 8
/// decimals, as for L-BTC; ELIP-203).
pub const MAX_MONEY: u64 = 2_100_000_000_000_000;

fn tx_error(msg: impl Into<String>) -> Error {
    Error::Transaction(msg.into())
}

/// The ids an issuance creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuanceIds {
    /// The asset entropy: `H(H(prevout) || contract hash)` (a merkle root of both).
    pub entropy: AssetEntropy,
    /// The asset id.
    pub asset: AssetId,
    /// The reissuance token id of an issuance with explicit amounts.
    pub token: AssetId,
}

/// The entropy, asset id and (explicit-issuance) token id of a new issuance spending
/// `outpoint` and committing to `contract_hash` (all zeros without a contract).
pub fn issuance_ids(outpoint: OutPoint, contract_hash: ContractHash) -> IssuanceIds {
    let entropy = AssetId::generate_asset_entropy(outpoint, contract_hash);
    ids_of_entropy(entropy)
}

fn ids_of_entropy(entropy: AssetEntropy) -> IssuanceIds {
    IssuanceIds {
        entropy,
        asset: AssetId::from_entropy(entropy),
        token: AssetId::reissuance_token_from_entropy(entropy, false),
    }
}

/// A new issuance (not a reissuance) carried by an input of a transaction, its ids
/// recomputed here from the input's outpoint and contract hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FoundIssuance {
    /// The input carrying it.
    pub vin: u32,
    /// The coin that input spends.
    pub outpoint: OutPoint,
    /// The contract hash committed to, if not all zeros.
    pub contract_hash: Option<ContractHash>,
    /// The asset entropy.
    pub entropy: AssetEntropy,
    /// The asset id.
    pub asset: AssetId,
    /// The reissuance token id (which depends on whether the amount was blinded).
    pub token: AssetId,
    /// The amount issued, when explicit.
    pub amount: Option<u64>,
    /// The reissuance tokens issued, when explicit.
    pub token_amount: Option<u64>,
}

/// Every new issuance in `tx`. Reissuances are left out: they carry the entropy, not the
/// outpoint and contract hash it comes from.
pub fn new_issuances(tx: &elements::Transaction) -> Vec<FoundIssuance> {
    let mut out = Vec::new();
    for (vin, input) in tx.input.iter().enumerate() {
        let iss = &input.asset_issuance;
        if !input.has_issuance() || !iss.asset_blinding_nonce.is_null() {
            continue;
        }
        let Ok(vin) = u32::try_from(vin) else {
            break;
        };
        let contract = iss.asset_entropy.into_contract_hash();
        let ids = issuance_ids(input.previous_output, contract);
        let (asset, token) = input.issuance_ids();
        if asset != ids.asset {
            continue;
        }
        out.push(FoundIssuance {
            vin,
            outpoint: input.previous_output,
            contract_hash: (contract.to_byte_array() != [0; 32]).then_some(contract),
            entropy: ids.entropy,
            asset,
            token,
            amount: iss.amount.explicit(),
            token_amount: iss.inflation_keys.explicit(),
        });
    }
    out
}

/// The contract hash of a JSON contract as Elements computes it: SHA-256 of the JSON
/// serialized compactly with every object's keys sorted. The contract must be a JSON object.
pub fn contract_hash_from_json(text: &str) -> Result<ContractHash> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| tx_error(format!("the contract is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(tx_error("the contract must be a JSON object"));
    }
    ContractHash::from_json_contract(text)
        .map_err(|e| tx_error(format!("the contract is not a JSON object: {e}")))
}

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

/// What goes on input 0, before the inputs are chosen.
#[derive(Clone, Debug)]
pub(crate) enum IssuanceDraft {
    /// A new asset committing to this contract hash (zeros: none).
    New {
        contract_hash: Option<ContractHash>,
        amount: u64,
        token_amount: u64,
        confidential: bool,
    },
    /// More of the asset of `entropy`, spending its token at input 0.
    Reissue {
        entropy: AssetEntropy,
        amount: u64,
        confidential: bool,
    },
}

/// The asset of an extra output: known, or the one being issued (or its token).
#[derive(Clone, Copy, Debug)]
pub(crate) enum ExtraAsset {
    Id(AssetId),
    Issued,
    Token,
}

/// An output besides the recipients.
#[derive(Clone, Debug)]
pub(crate) struct ExtraOutput {
    pub script: Script,
    pub blinding_key: Option<elements::secp256k1_zkp::PublicKey>,
    pub value: u64,
    pub asset: ExtraAsset,
    pub role: OutputRole,
}

/// What a transaction carries besides payments.
#[derive(Clone, Debug, Default)]
pub(crate) struct Extras {
    pub issuance: Option<IssuanceDraft>,
    /// The coin that must be input 0.
    pub first_input: Option<Spendable>,
    pub outputs: Vec<ExtraOutput>,
}

impl Extras {
    pub(crate) fn is_empty(&self) -> bool {
        self.issuance.is_none() && self.first_input.is_none() && self.outputs.is_empty()
    }
}

/// The issuance of `draft` on `first` (input 0).
pub(crate) fn resolve_issuance(
    draft: &IssuanceDraft,
    first: Option<&Spendable>,
) -> Result<Issuance> {
    let first = first.ok_or_else(|| tx_error("an issuance needs an input"))?;
    match *draft {
        IssuanceDraft::New {
            contract_hash,
            amount,
            token_amount,
            confidential,
        } => {
            let ids = issuance_ids(
                first.outpoint,
                contract_hash.unwrap_or_else(|| ContractHash::from_byte_array([0; 32])),
            );
            Ok(Issuance {
                outpoint: first.outpoint,
                blinding_nonce: None,
                contract_hash,
                entropy: ids.entropy,
                asset: ids.asset,
                // The token id depends on whether the issued amount is blinded (an amount of
                // 0 stays null, so it is not, even when the token amount is).
                token: AssetId::reissuance_token_from_entropy(
                    ids.entropy,
                    confidential && amount > 0,
                ),
                amount,
                token_amount,
                confidential,
            })
        }
        IssuanceDraft::Reissue {
            entropy,
            amount,
            confidential,
        } => {
            let ids = ids_of_entropy(entropy);
            let blinded_token = AssetId::reissuance_token_from_entropy(entropy, true);
            if first.secrets.asset != ids.token && first.secrets.asset != blinded_token {
                return Err(tx_error("input 0 of a reissuance must spend its token"));
            }
            // Elements finds the token a reissuance spends from its entropy and from whether
            // the reissued amount is blinded (`CalculateReissuanceToken(.., nAmount.
            // IsCommitment())`): the token of an explicit issuance reissues explicit amounts
            // only, the token of a confidential issuance blinded ones only. Anything else is
            // refused by every node as `bad-txns-in-ne-out`.
            let token_blinded = first.secrets.asset == blinded_token;
            if confidential != token_blinded {
                let (issued, must) = if token_blinded {
                    ("a confidential issuance", "blinded (confidential)")
                } else {
                    (
                        "an issuance with explicit amounts",
                        "explicit (not confidential)",
                    )
                };
                return Err(tx_error(format!(
                    "the reissuance token of asset {} comes from {issued}: Elements accepts \
                     only {must} reissuances of it",
                    ids.asset
                )));
            }
            if first.secrets.explicit
                || first.secrets.asset_bf == elements::confidential::AssetBlindingFactor::zero()
            {
                return Err(tx_error(
                    "the reissuance token coin is not blinded; Elements accepts a reissuance \
                     only from a blinded token coin: send the token to a confidential address \
                     of this wallet first",
                ));
            }
            Ok(Issuance {
                outpoint: first.outpoint,
                blinding_nonce: Some(elements::AssetBlindingNonce::from_blinding_factor(
                    first.secrets.asset_bf,
                )),
                contract_hash: None,
                entropy,
                asset: ids.asset,
                token: first.secrets.asset,
                amount,
                token_amount: 0,
                confidential,
            })
        }
    }
}

fn check_amount(what: &str, value: u64) -> Result<()> {
    if value > MAX_MONEY {
        return Err(Error::InvalidAmount(format!(
            "{value}: {what} is above the most one issuance may create ({MAX_MONEY} base units, \
             ELIP-203)"
        )));
    }
    Ok(())
}

fn wallet_output(
    address: &Address,
    keychain_index: (Keychain, u32),
    value: u64,
    asset: ExtraAsset,
) -> ExtraOutput {
    ExtraOutput {
        script: address.script_pubkey(),
        blinding_key: address.blinding_pubkey,
        value,
        asset,
        role: OutputRole::Issued(keychain_index.0, keychain_index.1),
    }
}

/// A new asset.
#[derive(Clone, Debug)]
pub struct IssueRequest {
    /// Amount of the asset, in base units.
    pub amount: u64,
    /// Amount of reissuance tokens (0: the asset can never be reissued).
    pub token_amount: u64,
    /// The contract hash to commit to, if any.
    pub contract_hash: Option<ContractHash>,
    /// The wallet's address receiving the asset, with its branch and index.
    pub asset_address: (Keychain, u32, Address),
    /// The wallet's address receiving the tokens (used when `token_amount > 0`).
    pub token_address: (Keychain, u32, Address),
    /// Blind the issued amounts (a confidential issuance: the supply is then public only
    /// as commitments); explicit otherwise.
    pub confidential: bool,
    /// Fee rate.
    pub fee_rate: FeeRate,
}

/// Builds, blinds and verifies a new issuance (nothing signed).
pub fn build_issuance(
    ctx: &WalletContext,
    utxos: &[Spendable],
    request: &IssueRequest,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Payment> {
    check_amount("the amount", request.amount)?;
    check_amount("the token amount", request.token_amount)?;
    if request.amount == 0 && request.token_amount == 0 {
        return Err(Error::InvalidAmount(
            "0: an issuance must create some of the asset or of its token".to_owned(),
        ));
    }
    let mut outputs = Vec::new();
    if request.amount > 0 {
        let (k, i, a) = &request.asset_address;
        outputs.push(wallet_output(
            a,
            (*k, *i),
            request.amount,
            ExtraAsset::Issued,
        ));
    }
    if request.token_amount > 0 {
        let (k, i, a) = &request.token_address;
        outputs.push(wallet_output(
            a,
            (*k, *i),
            request.token_amount,
            ExtraAsset::Token,
        ));
    }
    let extras = Extras {
        issuance: Some(IssuanceDraft::New {
            contract_hash: request.contract_hash,
            amount: request.amount,
            token_amount: request.token_amount,
            confidential: request.confidential,
        }),
        first_input: None,
        outputs,
    };
    build_with(
        ctx,
        utxos,
        &empty_request(request.fee_rate),
        &extras,
        change,
    )
}

/// More of an asset whose entropy the wallet knows.
#[derive(Clone, Debug)]
pub struct ReissueRequest {
    /// The asset's entropy (from its issuance).
    pub entropy: AssetEntropy,
    /// Amount to create, in base units.
    pub amount: u64,
    /// The wallet's address receiving it.
    pub asset_address: (Keychain, u32, Address),
    /// Blind the reissued amount (a commitment and a rangeproof); explicit otherwise.
    pub confidential: bool,
    /// Fee rate.
    pub fee_rate: FeeRate,
}

/// Builds, blinds and verifies a reissuance. Fails with [`Error::InsufficientFunds`] naming
/// the token when the wallet holds none.
pub fn build_reissuance(
    ctx: &WalletContext,
    utxos: &[Spendable],
    request: &ReissueRequest,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Payment> {
    check_amount("the amount", request.amount)?;
    if request.amount == 0 {
        return Err(Error::InvalidAmount(
            "0: a reissuance must create some of the asset".to_owned(),
        ));
    }
    let ids = ids_of_entropy(request.entropy);
    let blinded_token = AssetId::reissuance_token_from_entropy(request.entropy, true);
    // The largest blinded token coin (ties by outpoint, for a deterministic choice).
    let token_coin = utxos
        .iter()
        .filter(|u| {
            (u.secrets.asset == ids.token || u.secrets.asset == blinded_token)
                && !u.secrets.explicit
        })
        .max_by(|a, b| {
            a.secrets
                .value
                .cmp(&b.secrets.value)
                .then_with(|| b.outpoint.cmp(&a.outpoint))
        })
        .cloned()
        .ok_or(Error::InsufficientFunds {
            asset: ids.token,
            needed: 1,
            available: 0,
        })?;
    let (k, i, a) = &request.asset_address;
    let extras = Extras {
        issuance: Some(IssuanceDraft::Reissue {
            entropy: request.entropy,
            amount: request.amount,
            confidential: request.confidential,
        }),
        first_input: Some(token_coin),
        outputs: vec![wallet_output(
            a,
            (*k, *i),
            request.amount,
            ExtraAsset::Issued,
        )],
    };
    build_with(
        ctx,
        utxos,
        &empty_request(request.fee_rate),
        &extras,
        change,
    )
}

/// Destroying an amount of an asset.
#[derive(Clone, Debug)]
pub struct BurnRequest {
    /// The asset.
    pub asset: AssetId,
    /// Amount to destroy, in base units.
    pub amount: u64,
    /// Fee rate.
    pub fee_rate: FeeRate,
}

/// The script of a burn output: a bare `OP_RETURN`.
pub fn burn_script() -> Script {
    Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .into_script()
}

/// Builds, blinds and verifies a burn. Fails with [`Error::InsufficientFunds`] when the
/// wallet holds less than `amount`.
pub fn build_burn(
    ctx: &WalletContext,
    utxos: &[Spendable],
    request: &BurnRequest,
    change: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<Payment> {
    if request.amount == 0 {
        return Err(Error::InvalidAmount("0: nothing to burn".to_owned()));
    }
    let extras = Extras {
        issuance: None,
        first_input: None,
        outputs: vec![ExtraOutput {
            script: burn_script(),
            blinding_key: None,
            value: request.amount,
            asset: ExtraAsset::Id(request.asset),
            role: OutputRole::Burn,
        }],
    };
    build_with(
        ctx,
        utxos,
        &empty_request(request.fee_rate),
        &extras,
        change,
    )
}

fn empty_request(fee_rate: FeeRate) -> PaymentRequest {
    PaymentRequest {
        recipients: Vec::new(),
        fee_rate,
        drain: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_hash_sorts_keys() {
        let a = contract_hash_from_json(r#"{"b":1,"a":{"y":2,"x":3}}"#).unwrap();
        let b = contract_hash_from_json(r#"{ "a": {"x":3, "y":2}, "b": 1 }"#).unwrap();
        assert_eq!(a, b);
        // sha256 of the sorted, compact serialization.
        use elements::hashes::sha256;
        let expected = sha256::Hash::hash(br#"{"a":{"x":3,"y":2},"b":1}"#);
        assert_eq!(a.to_byte_array(), expected.to_byte_array());
        assert!(contract_hash_from_json("[1,2]").is_err());
        assert!(contract_hash_from_json("{").is_err());
    }
}

#[cfg(test)]
mod blinding_tests {
    use super::*;

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
