//! Ending a deal that did not settle: cancel it (on or off the chain) and find the expired
//! ones.

use crate::ops::payment::prepare_built;
use crate::ops::{Mode, Prepared};
use crate::store::{Deal, DealChange, DealRole, DealStatus, TxKind};
use crate::swap::Refusal;
use crate::tx::{build_with, Extras, FeeRate, PaymentRequest, Spendable};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// Whether a signature of this wallet for the deal is out of its hands, so that only a
/// spend of one of its coins ends the deal: the taker once it accepted, either side while a
/// cancel is pending.
pub fn is_exposed(deal: &Deal) -> bool {
    matches!(
        (deal.role, deal.status),
        (DealRole::Taker, DealStatus::Accepted) | (_, DealStatus::Cancelling)
    )
}

/// How a deal is cancelled.
pub enum CancelPlan {
    /// Nothing of this wallet's is signed (a maker's offer before settlement): the ledger
    /// alone ends it; settle refuses it from then on.
    OffChain(Deal),
    /// A spend of one of the wallet's coins in the deal back to itself, to sign.
    OnChain(Box<Prepared>, Deal),
    /// A cancelling spend is out already.
    Pending(Deal),
}

/// Prepares ending deal `id` for `reason` (cancelled or expired): off the chain when this
/// wallet never signed for it, else a spend of one of its coins in the deal back to itself
/// (with L-BTC for the fee from its other coins when the coin is not L-BTC), which the
/// ledger marks cancelling until it confirms. `onchain` spends a coin in every case.
pub fn prepare_cancel(
    wallet: &mut Wallet,
    id: &str,
    reason: DealStatus,
    onchain: bool,
    fee_rate: FeeRate,
    mode: Mode,
) -> Result<CancelPlan> {
    let deal = wallet
        .store()
        .deal(id)?
        .ok_or_else(|| Error::UnknownDeal(id.to_owned()))?;
    match deal.status {
        DealStatus::Cancelling => return Ok(CancelPlan::Pending(deal)),
        DealStatus::Proposed | DealStatus::Accepted => {}
        DealStatus::Signed | DealStatus::Broadcast => {
            return Err(Refusal::new(
                "deal_settling",
                format!(
                    "deal {} is {}: its settlement {} is signed; it can no longer be cancelled",
                    deal.id,
                    deal.status,
                    deal.txid.map(|t| t.to_string()).unwrap_or_default()
                ),
            )
            .into())
        }
        other => {
            return Err(Refusal::new(
                "deal_closed",
                format!("deal {} is {other} already", deal.id),
            )
            .into())
        }
    }
    if !is_exposed(&deal) && !onchain {
        return Ok(CancelPlan::OffChain(deal));
    }
    let utxos = wallet.store().utxos()?;
    let policy = wallet.policy_asset();
    let mut candidates: Vec<Spendable> = utxos
        .into_iter()
        .filter(|u| deal.coins.contains(&u.outpoint))
        .map(|u| Spendable {
            outpoint: u.outpoint,
            txout: u.txout,
            secrets: u.secrets,
            keychain: u.keychain,
            index: u.index,
        })
        .collect();
    // An L-BTC coin pays its own fee; the largest first.
    candidates.sort_by_key(|c| {
        (
            c.secrets.asset != policy,
            std::cmp::Reverse(c.secrets.value),
        )
    });
    let coin = candidates.into_iter().next().ok_or_else(|| {
        Error::Offer(Refusal::new(
            "coin_spent",
            format!(
                "every coin of deal {} is spent already; sync to see whether it settled",
                deal.id
            ),
        ))
    })?;
    let request = PaymentRequest {
        recipients: Vec::new(),
        fee_rate,
        drain: false,
    };
    let extras = Extras {
        first_input: Some(coin),
        ..Extras::default()
    };
    let mut prepared = prepare_built(wallet, mode, TxKind::Cancel, 0, |ctx, coins, change| {
        build_with(ctx, coins, &request, &extras, change)
    })?;
    prepared.ledger.push(Box::new(DealChange {
        id: deal.id.clone(),
        status: Some(DealStatus::Cancelling),
        cancel_from_commit: true,
        cancel_reason: Some(reason),
        expect: Some(vec![DealStatus::Proposed, DealStatus::Accepted]),
        detail: format!(
            "{} by spending a coin of the deal back to this wallet; exposed until it confirms",
            if reason == DealStatus::Expired {
                "expired"
            } else {
                "cancelled"
            }
        ),
        ..DealChange::default()
    }));
    Ok(CancelPlan::OnChain(Box::new(prepared), deal))
}

/// Ends a deal off the chain (nothing of this wallet's is signed for it): status `reason`,
/// its reservations released, one event.
pub fn cancel_off_chain(wallet: &mut Wallet, deal: &Deal, reason: DealStatus) -> Result<()> {
    let _lock = wallet.lock_spending()?;
    wallet.store_mut().change_deal(&DealChange {
        id: deal.id.clone(),
        status: Some(reason),
        release: true,
        expect: Some(vec![DealStatus::Proposed, DealStatus::Accepted]),
        detail: format!(
            "{} by this wallet before it signed anything: the offer can never settle, its \
             coins are free",
            if reason == DealStatus::Expired {
                "expired"
            } else {
                "cancelled"
            }
        ),
        ..DealChange::default()
    })
}

/// The deals past their expiry at `now` that have not settled and are not being cancelled.
pub fn expired_deals(wallet: &Wallet, now: u64) -> Result<Vec<Deal>> {
    Ok(wallet
        .store()
        .deals(None, None)?
        .into_iter()
        .filter(|d| {
            d.expires_at <= now && matches!(d.status, DealStatus::Proposed | DealStatus::Accepted)
        })
        .collect())
}
