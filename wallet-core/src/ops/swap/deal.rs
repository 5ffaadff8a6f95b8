//! What the steps of a deal share: a deal's row and the terms read from it, the labels of
//! the addresses a deal uses, the counterparty label's check.

use elements::OutPoint;

use crate::store::{now_secs, Deal, DealRole, DealStatus};
use crate::swap::{Leg, Offer, Terms};
use crate::{Error, Result};

pub(super) fn label(id: &str, what: &str) -> String {
    format!("deal {} {what}", &id[..8.min(id.len())])
}

pub(super) fn check_counterparty(label: &Option<String>) -> Result<()> {
    match label {
        Some(l) => check_counterparty_label(l),
        None => Ok(()),
    }
}

/// A counterparty label (the trader's own, kept in its ledger): 1 to 64 characters, no
/// control characters.
pub fn check_counterparty_label(l: &str) -> Result<()> {
    if l.is_empty() || l.chars().count() > 64 || l.chars().any(char::is_control) {
        return Err(Error::InvalidRequest(format!(
            "counterparty label {l:?}: 1 to 64 characters, no control characters"
        )));
    }
    Ok(())
}

pub(super) fn deal_of(
    offer: &Offer,
    role: DealRole,
    status: DealStatus,
    counterparty: Option<String>,
    coins: Vec<OutPoint>,
) -> Deal {
    Deal {
        id: offer.deal_id.clone(),
        role,
        status,
        created_at: offer.created_at,
        expires_at: offer.expires_at,
        updated_at: now_secs(),
        counterparty,
        memo: offer.memo.clone(),
        give_asset: offer.terms.maker_gives.asset,
        give_amount: offer.terms.maker_gives.amount,
        want_asset: offer.terms.maker_receives.asset,
        want_amount: offer.terms.maker_receives.amount,
        fee_payer: offer.terms.fee_payer,
        fee: offer.terms.fee,
        txid: None,
        height: None,
        cancel_txid: None,
        cancel_reason: None,
        envelope: offer.to_json(),
        coins,
    }
}

/// The terms a ledger row holds.
pub fn deal_terms(deal: &Deal) -> Terms {
    Terms {
        maker_gives: Leg {
            asset: deal.give_asset,
            amount: deal.give_amount,
        },
        maker_receives: Leg {
            asset: deal.want_asset,
            amount: deal.want_amount,
        },
        fee_payer: deal.fee_payer,
        fee: match deal.fee_payer {
            DealRole::Maker => deal.fee,
            DealRole::Taker => None,
        },
    }
}
