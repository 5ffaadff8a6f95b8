//! The maker's side of a deal: settle an accepted offer (every check, sign, record, then
//! broadcast), and resume a settlement a crash left recorded.

use std::collections::HashSet;

use elements::{OutPoint, Txid};

use crate::chain::Backend;
use crate::ops::{broadcast_recorded, Knowledge, Prepared};
use crate::pset::{approve, view, Allowed, Owner, PsetView};
use crate::seed::SeedSecret;
use crate::store::{Deal, DealChange, DealRole, DealStatus, OutgoingState, TxKind};
use crate::swap::envelope::check_not_expired;
use crate::swap::verify::{
    check_counterparty_signatures, check_fee_of, check_final, check_net, check_outputs,
    check_own_inputs, check_problems,
};
use crate::swap::{Offer, Refusal, Stage};
use crate::wallet::Wallet;
use crate::{Error, Result};

use super::deal::*;

/// What `offer settle` found.
pub enum SettleStart {
    /// A fresh settlement, verified and ready to be signed.
    Fresh(Box<PreparedSettle>),
    /// The settlement was signed and recorded before (an interruption): it is sent again,
    /// never signed a second time ([`resume_deal`]).
    Recorded(Deal),
    /// The deal settled already.
    Settled(Deal),
}

/// A verified settlement.
pub struct PreparedSettle {
    /// The transaction and the maker's view of it.
    pub prepared: Prepared,
    /// The deal as the ledger holds it.
    pub deal: Deal,
    /// The accepted envelope.
    pub offer: Offer,
}

/// The maker's checks of an accepted envelope against its own ledger and the whole
/// transaction: refused unless every one passes. Returns the view and the signing plan.
pub(super) fn settle_checks(
    wallet: &Wallet,
    offer: &Offer,
    deal: &Deal,
) -> Result<(PsetView, crate::pset::SigningPlan)> {
    let policy = wallet.policy_asset();
    if offer.stage != Stage::Accepted {
        return Err(Refusal::new(
            "wrong_stage",
            "this envelope is the offer as proposed: the taker has not accepted (signed) it yet",
        )
        .hint("send the offer to the taker; settle what `offer accept` gives back")
        .into());
    }
    let terms = deal_terms(deal);
    if offer.terms != terms
        || offer.created_at != deal.created_at
        || offer.expires_at != deal.expires_at
    {
        return Err(Refusal::new(
            "envelope_terms",
            "the envelope's terms or times are not those of the offer this wallet made",
        )
        .hint("nothing was signed; the envelope was tampered with: settle only what you offered")
        .into());
    }
    check_not_expired(&deal.id, deal.expires_at, crate::swap::now())?;
    check_final(&offer.pset)?;
    let unspent: HashSet<OutPoint> = wallet
        .store()
        .utxos()?
        .into_iter()
        .map(|u| u.outpoint)
        .collect();
    if let Some(spent) = deal.coins.iter().find(|c| !unspent.contains(c)) {
        return Err(Refusal::new(
            "coin_spent",
            format!(
                "the deal's coin {} is spent already: the settlement can no longer be valid",
                crate::pset::outpoint_text(spent)
            ),
        )
        .into());
    }
    let knowledge = Knowledge::load(wallet)?;
    let know = knowledge.for_view(wallet);
    let seen = view(&offer.pset, &know)?;
    check_problems(&seen)?;
    check_own_inputs(&seen, &deal.coins)?;
    check_net(&seen, &terms, DealRole::Maker, policy)?;
    check_outputs(&seen, &offer.pset)?;
    let descriptor = wallet.descriptor();
    let mut pending = 0u64;
    let own: HashSet<usize> = seen.own_inputs().into_iter().collect();
    for i in &own {
        let input = &offer.pset.inputs()[*i];
        if input.final_script_witness.is_some() || input.final_script_sig.is_some() {
            return Err(Refusal::new(
                "pset_problem",
                format!("input {i} spends this wallet's coin but carries a witness it never made"),
            )
            .hint("nothing was signed; the envelope was tampered with")
            .into());
        }
    }
    for i in &own {
        if let Owner::Wallet(keychain, index) = seen.inputs[*i].owner {
            let w = descriptor
                .spending_descriptor(keychain, index)?
                .max_weight_to_satisfy()
                .map_err(|e| Error::Transaction(format!("cannot size input {i}: {e}")))?;
            pending = pending.saturating_add(w as u64);
        }
    }
    check_fee_of(&seen, &offer.pset, &terms, pending)?;
    check_counterparty_signatures(&offer.pset, &own, wallet.network())?;
    let plan = approve(&offer.pset, &seen, &know, Allowed::default())?;
    Ok((seen, plan))
}

/// Reads an accepted envelope as the maker: the deal must be this wallet's offer; a deal
/// settled or recorded already is reported as such (never signed twice); otherwise every
/// check of [`crate::swap::verify`] runs on the whole transaction before the settlement is
/// prepared. Holds the spending lock.
pub fn prepare_settle(wallet: &mut Wallet, offer: Offer) -> Result<SettleStart> {
    let lock = wallet.lock_spending()?;
    let deal = wallet.store().deal(&offer.deal_id)?.ok_or_else(|| {
        Error::Offer(
            Refusal::new(
                "unknown_deal",
                format!(
                    "this wallet did not make offer {} (it is not in its ledger)",
                    offer.deal_id
                ),
            )
            .hint("settle with the wallet that made the offer (--wallet)"),
        )
    })?;
    if deal.role != DealRole::Maker {
        return Err(Refusal::new(
            "not_maker",
            format!(
                "this wallet accepted offer {} as the taker; only its maker can settle it",
                deal.id
            ),
        )
        .into());
    }
    match deal.status {
        DealStatus::Proposed | DealStatus::Accepted => {}
        DealStatus::Signed => return Ok(SettleStart::Recorded(deal)),
        DealStatus::Broadcast | DealStatus::Confirmed => return Ok(SettleStart::Settled(deal)),
        other => {
            return Err(Refusal::new(
                "deal_closed",
                format!("deal {} is {other}: it can no longer settle", deal.id),
            )
            .into())
        }
    }
    let (seen, plan) = settle_checks(wallet, &offer, &deal)?;
    let mut prepared = Prepared::new(offer.pset.clone(), seen, plan, TxKind::Swap);
    prepared.lock = Some(lock);
    prepared.release_holder = Some(deal.holder());
    Ok(SettleStart::Fresh(Box::new(PreparedSettle {
        prepared,
        deal,
        offer,
    })))
}

/// Signs, finalizes, records (with the deal's accepted and signed events, in the SQLite
/// transaction that records the settlement) and broadcasts; then notes the broadcast, or the
/// server's refusal (failed). When the server cannot be reached the deal stays signed:
/// `offer settle` again or `deal show` sends the recorded transaction.
pub fn commit_settle(
    wallet: &mut Wallet,
    settle: PreparedSettle,
    seed: &SeedSecret,
    backend: &dyn Backend,
) -> Result<Txid> {
    let PreparedSettle {
        mut prepared,
        deal,
        offer,
    } = settle;
    let fee = prepared.fee();
    prepared.ledger.push(Box::new(DealChange {
        id: deal.id.clone(),
        status: Some(DealStatus::Accepted),
        envelope: Some(offer.to_json()),
        fee: Some(fee),
        expect: Some(vec![DealStatus::Proposed, DealStatus::Accepted]),
        detail: "the taker's signed acceptance came back and passed every check".to_owned(),
        ..DealChange::default()
    }));
    prepared.ledger.push(Box::new(DealChange {
        id: deal.id.clone(),
        status: Some(DealStatus::Signed),
        txid_from_commit: true,
        release: true,
        detail: "settlement signed and recorded".to_owned(),
        ..DealChange::default()
    }));
    match prepared.commit(wallet, seed, backend) {
        Ok(committed) => {
            wallet.store_mut().change_deal(&DealChange {
                id: deal.id.clone(),
                status: Some(DealStatus::Broadcast),
                detail: format!("settlement {} broadcast", committed.txid),
                ..DealChange::default()
            })?;
            Ok(committed.txid)
        }
        Err(Error::NotBroadcast {
            txid,
            failed: true,
            source,
        }) => {
            wallet.store_mut().change_deal(&DealChange {
                id: deal.id.clone(),
                status: Some(DealStatus::Failed),
                detail: format!("the server refused settlement {txid}: {source}"),
                ..DealChange::default()
            })?;
            Err(Error::NotBroadcast {
                txid,
                failed: true,
                source,
            })
        }
        Err(other) => Err(other),
    }
}

/// What [`resume_deal`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Resumed {
    /// A transaction of the deal recorded but never accepted by a server was sent now.
    Rebroadcast(Txid),
    /// It had reached a server after all; the deal now says so.
    Noted(Txid),
    /// Nothing was waiting.
    Nothing,
}

/// Sends again what a crash or an unreachable server left recorded but not broadcast: a
/// maker's signed settlement (status signed) or a cancelling spend. Never signs anything.
pub fn resume_deal(wallet: &mut Wallet, id: &str, backend: &dyn Backend) -> Result<Resumed> {
    let Some(deal) = wallet.store().deal(id)? else {
        return Ok(Resumed::Nothing);
    };
    let (txid, settling) = match (deal.status, deal.txid, deal.cancel_txid) {
        (DealStatus::Signed, Some(t), _) => (t, true),
        (DealStatus::Cancelling, _, Some(t)) => (t, false),
        _ => return Ok(Resumed::Nothing),
    };
    let _lock = wallet.lock_spending()?;
    let pending = wallet
        .store()
        .pending()?
        .into_iter()
        .find(|p| p.tx.txid() == txid);
    let note = |wallet: &mut Wallet, status: DealStatus, detail: String| {
        if !settling && status == DealStatus::Broadcast {
            return Ok(()); // a cancel stays "cancelling" until it confirms
        }
        wallet.store_mut().change_deal(&DealChange {
            id: deal.id.clone(),
            status: Some(status),
            detail,
            ..DealChange::default()
        })
    };
    match pending.map(|p| (p.state, p.tx)) {
        Some((OutgoingState::Recorded, tx)) => match broadcast_recorded(wallet, &tx, backend) {
            Ok(()) => {
                note(
                    wallet,
                    DealStatus::Broadcast,
                    format!("settlement {txid} sent again after an interruption"),
                )?;
                Ok(Resumed::Rebroadcast(txid))
            }
            Err(Error::NotBroadcast {
                failed: true,
                source,
                ..
            }) if settling => {
                note(
                    wallet,
                    DealStatus::Failed,
                    format!("the server refused settlement {txid}: {source}"),
                )?;
                Err(Error::NotBroadcast {
                    txid,
                    failed: true,
                    source,
                })
            }
            Err(e) => Err(e),
        },
        Some((OutgoingState::Broadcast(_), _)) | None => {
            note(
                wallet,
                DealStatus::Broadcast,
                format!("settlement {txid} had reached a server"),
            )?;
            Ok(Resumed::Noted(txid))
        }
        Some((OutgoingState::Failed(reason), _)) if settling => {
            note(
                wallet,
                DealStatus::Failed,
                format!("settlement {txid} failed: {reason}"),
            )?;
            Ok(Resumed::Nothing)
        }
        Some(_) => Ok(Resumed::Nothing),
    }
}
