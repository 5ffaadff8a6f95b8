//! The maker's first step: pick its coins, build its part of the transaction, reserve the
//! coins and record the deal as proposed.

use elements::Address;

use crate::descriptor::Keychain;
use crate::ops::payment::spendable;
use crate::ops::Knowledge;
use crate::pset::view;
use crate::store::{Deal, DealRole, DealStatus, NewDeal};
use crate::swap::envelope::new_deal_id;
use crate::swap::maker::{build_maker_part, OfferRequest};
use crate::swap::verify::check_problems;
use crate::swap::{Leg, Offer, Stage, Terms};
use crate::tx::{FeeRate, WalletContext};
use crate::wallet::Wallet;
use crate::{Error, Result};

use super::deal::*;

/// Longest an offer may stay open: 30 days (the one constant the taker checks too).
pub const MAX_EXPIRY_SECS: u64 = crate::swap::envelope::MAX_OFFER_LIFETIME_SECS;

/// What a maker asks for.
#[derive(Clone, Debug)]
pub struct CreateRequest {
    /// What it gives.
    pub gives: Leg,
    /// What it wants in return.
    pub receives: Leg,
    /// Who pays the fee.
    pub fee_payer: DealRole,
    /// The rate a maker-paid fee is fixed at.
    pub fee_rate: FeeRate,
    /// Seconds until the offer expires (1 to [`MAX_EXPIRY_SECS`]).
    pub expires_in: u64,
    /// The trader's own label for the counterparty (kept in the ledger, not in the offer).
    pub counterparty: Option<String>,
    /// A memo that travels with the offer (the taker sees it as the maker's words).
    pub memo: Option<String>,
}

/// A created offer: recorded as proposed, its coins reserved.
#[derive(Clone, Debug)]
pub struct CreatedOffer {
    /// The envelope to hand to the taker.
    pub offer: Offer,
    /// The deal as the ledger holds it.
    pub deal: Deal,
}

/// Makes an offer: selects the maker's coins (unreserved ones only), builds its part,
/// checks it through the wallet's own view, and records the deal as proposed with its coins
/// reserved, in one SQLite transaction, before the envelope is returned. Nothing is signed.
pub fn create_offer(wallet: &mut Wallet, request: &CreateRequest) -> Result<CreatedOffer> {
    let policy = wallet.policy_asset();
    if request.expires_in == 0 || request.expires_in > MAX_EXPIRY_SECS {
        return Err(Error::InvalidRequest(format!(
            "an offer expires in 1 second to {} days, not {} seconds",
            MAX_EXPIRY_SECS / 86_400,
            request.expires_in
        )));
    }
    if let Some(memo) = &request.memo {
        Offer::check_memo(memo)?;
    }
    check_counterparty(&request.counterparty)?;
    // The terms without the fee, to refuse bad legs before any coin is picked.
    let draft = Terms {
        maker_gives: request.gives,
        maker_receives: request.receives,
        fee_payer: request.fee_payer,
        fee: (request.fee_payer == DealRole::Maker).then_some(0),
    };
    draft.check(policy)?;
    if request.fee_rate < FeeRate::MIN || request.fee_rate > crate::swap::fee::MAX_FEE_RATE {
        return Err(Error::InvalidRequest(format!(
            "fee rate {}: a deal pays {} to {}",
            request.fee_rate,
            FeeRate::MIN,
            crate::swap::fee::MAX_FEE_RATE
        )));
    }
    let _lock = wallet.lock_spending()?;
    let deal_id = new_deal_id()?;
    let coins = spendable(wallet)?;
    let receive = wallet.new_address(Keychain::External, Some(&label(&deal_id, "receive")))?;
    let descriptor = wallet.descriptor().clone();
    let network = wallet.network();
    let receive_address = descriptor.address(Keychain::External, receive.index, network)?;
    let ctx = WalletContext {
        descriptor: &descriptor,
        network,
        policy_asset: policy,
    };
    let change_label = label(&deal_id, "change");
    let part = {
        let mut change = || -> Result<(u32, Address)> {
            let record = wallet.new_address(Keychain::Internal, Some(&change_label))?;
            Ok((
                record.index,
                descriptor.address(Keychain::Internal, record.index, network)?,
            ))
        };
        let offer_request = OfferRequest {
            gives: request.gives,
            receives: request.receives,
            fee_payer: request.fee_payer,
            fee_rate: request.fee_rate,
        };
        build_maker_part(
            &ctx,
            &coins,
            &offer_request,
            (receive.index, &receive_address),
            &mut change,
        )?
    };
    part.terms.check(policy)?;
    // The part as the wallet's own view reads it: exactly the terms' net effect for the
    // maker (the fee it pays included), nothing the view cannot account for.
    let knowledge = Knowledge::load(wallet)?;
    let know = knowledge.for_view(wallet);
    let own = view(&part.pset, &know)?;
    check_problems(&own)?;
    let expected = part
        .terms
        .net_for(DealRole::Maker, policy, part.terms.fee.unwrap_or(0))?;
    if own.net != expected {
        return Err(Error::Transaction(
            "the offer built does not have the net effect of its terms; nothing was recorded"
                .to_owned(),
        ));
    }
    let created_at = crate::swap::now();
    let offer = Offer {
        network,
        deal_id: deal_id.clone(),
        stage: Stage::Proposed,
        created_at,
        expires_at: created_at.saturating_add(request.expires_in),
        terms: part.terms,
        memo: request.memo.clone(),
        maker_inputs: part.revealed.clone(),
        pset: part.pset.clone(),
    };
    let deal = deal_of(
        &offer,
        DealRole::Maker,
        DealStatus::Proposed,
        request.counterparty.clone(),
        part.inputs.iter().map(|c| c.outpoint).collect(),
    );
    wallet.store_mut().insert_deal(&NewDeal {
        deal: deal.clone(),
        detail: format!(
            "offer made: {} input(s) reserved, expires at {}",
            part.inputs.len(),
            offer.expires_at
        ),
    })?;
    Ok(CreatedOffer { offer, deal })
}
