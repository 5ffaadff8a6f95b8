//! What a transaction carries besides payments: an issuance on input 0 (and the coin that
//! must be input 0), and outputs besides the recipients (issued amounts, burns). The builder
//! selects, sizes and blinds them like any output.

use elements::{Address, AssetEntropy, AssetId, ContractHash, Script};

use super::asset_ids::{ids_of_entropy, issuance_ids};
use super::issuance::Issuance;
use super::tx_error;
use super::{OutputRole, Spendable, MAX_MONEY};
use crate::descriptor::Keychain;
use crate::{Error, Result};

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
    /// Coins that must be inputs too, after `first_input` (a peg-out run spends one input of
    /// each abandoned transaction that paid the same requests, so that at most one of the
    /// two can ever confirm).
    pub pinned: Vec<Spendable>,
}

impl Extras {
    pub(crate) fn is_empty(&self) -> bool {
        self.issuance.is_none()
            && self.first_input.is_none()
            && self.outputs.is_empty()
            && self.pinned.is_empty()
    }

    /// Every coin that must be an input, `first_input` first, each once.
    pub(crate) fn required_inputs(&self) -> Vec<&Spendable> {
        let mut out: Vec<&Spendable> = Vec::new();
        for coin in self.first_input.iter().chain(&self.pinned) {
            if !out.iter().any(|c| c.outpoint == coin.outpoint) {
                out.push(coin);
            }
        }
        out
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

pub(crate) fn check_amount(what: &str, value: u64) -> Result<()> {
    if value > MAX_MONEY {
        return Err(Error::InvalidAmount(format!(
            "{value}: {what} is above the most one issuance may create ({MAX_MONEY} base units, \
             ELIP-203)"
        )));
    }
    Ok(())
}

pub(crate) fn wallet_output(
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
