//! Issuance, reissuance and burns. Each is a payment built by the same builder (coin
//! selection, fee passes on the discounted size, change, blinding as the last blinder and the
//! checks before signing), with an issuance on input 0 and outputs besides the recipients.
//!
//! Decisions:
//! - Amounts, issued or reissued, are at most `MAX_MONEY` (ELIP-203: larger issuances are
//!   not accepted by default nodes).
//! - A reissuance spends a (blinded) token coin at input 0 and names its asset blinding
//!   factor as the issuance's blinding nonce; the whole token coin comes back as change.
//! - A burn is an explicit output of the amount to a bare `OP_RETURN` script, as Elements'
//!   `destroyamount` makes it.

use elements::script::Builder;
use elements::{Address, AssetEntropy, AssetId, ContractHash, Script};

use super::asset_ids::ids_of_entropy;
use super::build::build_with;
use super::extras::{check_amount, wallet_output, ExtraAsset, ExtraOutput, Extras, IssuanceDraft};
use super::{FeeRate, OutputRole, Payment, PaymentRequest, Spendable, WalletContext};
use crate::descriptor::Keychain;
use crate::{Error, Result};

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
        pinned: Vec::new(),
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
        pinned: Vec::new(),
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
        pinned: Vec::new(),
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
