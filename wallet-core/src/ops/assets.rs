//! Issuing, reissuing and burning assets: prepared like payments, and committed with the
//! issuance record or asset event in the same SQLite transaction as the signed transaction.

use elements::{Address, AssetId, ContractHash, Txid};

use super::payment::prepare_built;
use super::{Mode, Prepared};
use crate::chain::Backend;
use crate::descriptor::Keychain;
use crate::store::{AssetEventKind, IssuanceRecord, TxKind};
use crate::tx::{
    build_burn, build_issuance, build_reissuance, new_issuances, BurnRequest, FeeRate,
    IssueRequest, ReissueRequest,
};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// A new asset, as the user asked for it.
#[derive(Clone, Debug)]
pub struct IssueTerms {
    /// Amount of the asset, in base units.
    pub amount: u64,
    /// Reissuance tokens (0: never reissuable).
    pub token_amount: u64,
    /// The contract's JSON text and hash, when there is one.
    pub contract: Option<(String, ContractHash)>,
    /// Decimal places of the asset (0..=8), stored with the issuance.
    pub precision: u8,
    /// Blind the issued amounts.
    pub confidential: bool,
    /// Fee rate.
    pub fee_rate: FeeRate,
}

/// A change-branch address of the wallet for an issued amount: stored before use when the
/// transaction will be signed, previewed (`offset` past the next index) on a dry run.
fn issued_address(
    wallet: &mut Wallet,
    mode: Mode,
    offset: u32,
) -> Result<(Keychain, u32, Address)> {
    let index = match mode {
        Mode::ForSigning => wallet.new_address(Keychain::Internal, None)?.index,
        Mode::DryRun => wallet
            .next_index(Keychain::Internal)?
            .checked_add(offset)
            .ok_or_else(|| Error::Storage("address index out of range".to_owned()))?,
    };
    let address = wallet
        .descriptor()
        .address(Keychain::Internal, index, wallet.network())?;
    Ok((Keychain::Internal, index, address))
}

/// Prepares a new issuance.
pub fn prepare_issue(wallet: &mut Wallet, terms: &IssueTerms, mode: Mode) -> Result<Prepared> {
    // On a dry run the change addresses are previewed after these two.
    let asset_address = issued_address(wallet, mode, 0)?;
    let token_address = if terms.token_amount > 0 {
        issued_address(wallet, mode, 1)?
    } else {
        asset_address.clone()
    };
    let request = IssueRequest {
        amount: terms.amount,
        token_amount: terms.token_amount,
        contract_hash: terms.contract.as_ref().map(|c| c.1),
        asset_address,
        token_address,
        confidential: terms.confidential,
        fee_rate: terms.fee_rate,
    };
    let previewed = if terms.token_amount > 0 { 2 } else { 1 };
    let mut prepared = prepare_built(
        wallet,
        mode,
        TxKind::Issuance,
        previewed,
        |ctx, coins, change| build_issuance(ctx, coins, &request, change),
    )?;
    let issuance = prepared
        .issuance
        .clone()
        .ok_or_else(|| Error::Transaction("the built issuance is missing".to_owned()))?;
    prepared.issuance_record = Some(IssuanceRecord {
        asset: issuance.asset,
        token: issuance.token,
        entropy: issuance.entropy,
        contract_hash: issuance.contract_hash,
        contract: terms.contract.as_ref().map(|c| c.0.clone()),
        txid: prepared.view.unsigned_txid,
        vin: 0,
        precision: terms.precision,
        amount: terms.amount,
        token_amount: terms.token_amount,
        created_at: crate::store::now_secs(),
    });
    Ok(prepared)
}

/// Prepares a reissuance of `issuance`'s asset (see [`find_issuance`]): `amount` base units
/// to a fresh address of the wallet, spending (and keeping) its reissuance token.
pub fn prepare_reissue(
    wallet: &mut Wallet,
    issuance: &IssuanceRecord,
    amount: u64,
    confidential: bool,
    fee_rate: FeeRate,
    mode: Mode,
) -> Result<Prepared> {
    let asset_address = issued_address(wallet, mode, 0)?;
    let request = ReissueRequest {
        entropy: issuance.entropy,
        amount,
        asset_address,
        confidential,
        fee_rate,
    };
    let mut prepared = prepare_built(wallet, mode, TxKind::Reissuance, 1, |ctx, coins, change| {
        build_reissuance(ctx, coins, &request, change)
    })?;
    prepared.asset_event = Some((issuance.asset, AssetEventKind::Reissue, amount));
    Ok(prepared)
}

/// Prepares a burn of `amount` base units of `asset`.
pub fn prepare_burn(
    wallet: &mut Wallet,
    asset: AssetId,
    amount: u64,
    fee_rate: FeeRate,
    mode: Mode,
) -> Result<Prepared> {
    let request = BurnRequest {
        asset,
        amount,
        fee_rate,
    };
    let mut prepared = prepare_built(wallet, mode, TxKind::Burn, 0, |ctx, coins, change| {
        build_burn(ctx, coins, &request, change)
    })?;
    prepared.asset_event = Some((asset, AssetEventKind::Burn, amount));
    Ok(prepared)
}

/// Where a reissuance's entropy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IssuanceSource {
    /// Recorded when this wallet issued the asset.
    Recorded,
    /// Found in the wallet's own transactions (its keys issued it; a restored wallet), and
    /// recorded now.
    Discovered,
    /// Read from the issuance transaction named by the user or the server, its ids
    /// recomputed and checked against the asset.
    FromTransaction(Txid),
}

/// The issuance of `asset` a reissuance needs: recorded when this wallet issued it; found in
/// the wallet's transactions when its keys issued it (then recorded); else read from the
/// issuance transaction `issuance_tx` names, or the one the server names (a token received
/// from another wallet), its ids recomputed and checked against `asset`. The server's answer
/// is only a hint.
pub fn find_issuance(
    wallet: &mut Wallet,
    backend: &dyn Backend,
    asset: &AssetId,
    issuance_tx: Option<Txid>,
) -> Result<(IssuanceRecord, IssuanceSource)> {
    if let Some(record) = wallet.store().issuance(asset)? {
        return Ok((record, IssuanceSource::Recorded));
    }
    let discovered = wallet
        .discovered_issuances()?
        .into_iter()
        .find(|d| d.asset == *asset);
    if let Some(found) = discovered {
        wallet.store_mut().record_issuance(&found)?;
        return Ok((found, IssuanceSource::Discovered));
    }
    let txid = match issuance_tx {
        Some(txid) => txid,
        None => backend
            .issuance_tx(asset)?
            .ok_or_else(|| Error::UnknownIssuance {
                asset: *asset,
                reason: "this wallet did not issue it, and the server does not say which \
                     transaction did, so its entropy is unknown"
                    .to_owned(),
            })?,
    };
    let tx = backend
        .transactions(&[txid])?
        .pop()
        .ok_or_else(|| Error::UnknownIssuance {
            asset: *asset,
            reason: format!("the server has no transaction {txid}"),
        })?;
    let found = new_issuances(&tx)
        .into_iter()
        .find(|f| f.asset == *asset)
        .ok_or_else(|| Error::UnknownIssuance {
            asset: *asset,
            reason: format!(
                "transaction {txid} does not issue it (pass the transaction that first issued \
                 the asset, not a reissuance or a payment)"
            ),
        })?;
    Ok((
        IssuanceRecord::found_in(txid, &found),
        IssuanceSource::FromTransaction(txid),
    ))
}
