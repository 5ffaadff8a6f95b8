//! DvP offers as operations: create (maker), accept (taker), settle (maker), cancel and
//! expire (either side), recovery after a crash, and inspection. Every decision to sign goes
//! through the wallet's view of the PSET and [`crate::pset::approve`], then the deal's terms
//! ([`crate::swap::verify`]); every change of a deal is one SQLite transaction with its event,
//! and the settlement's is the transaction that records it.

use std::collections::{BTreeMap, HashSet};

use elements::{Address, OutPoint, Txid};
use elements_miniscript::psbt::PsbtExt;

use super::payment::{prepare_built, spendable};
use super::{broadcast_recorded, Knowledge, Mode, Prepared};
use crate::chain::Backend;
use crate::descriptor::Keychain;
use crate::pset::{approve, same_output, view, Allowed, Owner, PsetView};
use crate::seed::SeedSecret;
use crate::store::{
    now_secs, Deal, DealChange, DealRole, DealStatus, NewDeal, OutgoingState, TxKind,
};
use crate::swap::envelope::{check_not_expired, new_deal_id};
use crate::swap::maker::{build_maker_part, OfferRequest};
use crate::swap::taker::{build_taker_part, check_maker_part, AcceptRequest};
use crate::swap::verify::{
    check_counterparty_signatures, check_fee_of, check_net, check_outputs, check_own_inputs,
    check_problems,
};
use crate::swap::{Leg, Offer, Refusal, Stage, Terms};
use crate::tx::{build_with, Extras, FeeRate, PaymentRequest, Spendable, WalletContext};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// Longest an offer may stay open: 30 days.
pub const MAX_EXPIRY_SECS: u64 = 30 * 24 * 3_600;

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

fn label(id: &str, what: &str) -> String {
    format!("deal {} {what}", &id[..8.min(id.len())])
}

fn check_counterparty(label: &Option<String>) -> Result<()> {
    if let Some(l) = label {
        if l.is_empty() || l.chars().count() > 64 || l.chars().any(char::is_control) {
            return Err(Error::InvalidAmount(format!(
                "counterparty label '{l}': 1 to 64 characters, no control characters"
            )));
        }
    }
    Ok(())
}

/// Makes an offer: selects the maker's coins (unreserved ones only), builds its part,
/// checks it through the wallet's own view, and records the deal as proposed with its coins
/// reserved, in one SQLite transaction, before the envelope is returned. Nothing is signed.
pub fn create_offer(wallet: &mut Wallet, request: &CreateRequest) -> Result<CreatedOffer> {
    let policy = wallet.policy_asset();
    if request.expires_in == 0 || request.expires_in > MAX_EXPIRY_SECS {
        return Err(Error::InvalidAmount(format!(
            "an offer expires in 1 second to 30 days, not {} seconds",
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
        return Err(Error::InvalidAmount(format!(
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

fn deal_of(
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

/// An accepted offer, built, blinded and verified, ready to be shown and signed.
pub struct PreparedAccept {
    /// The whole transaction and the taker's view of it (what it gives and gets).
    pub prepared: Prepared,
    /// The offer as received.
    pub offer: Offer,
    /// The taker's coins in it.
    pub coins: Vec<OutPoint>,
}

impl std::fmt::Debug for PreparedAccept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreparedAccept")
            .field("deal", &self.offer.deal_id)
            .field("prepared", &self.prepared)
            .finish_non_exhaustive()
    }
}

/// The taker's checks that need nothing but the offer and the wallet's store, in order:
/// not in the ledger already, not expired, the maker's part against the terms, and no coin of
/// this wallet in it.
fn precheck_accept(wallet: &Wallet, offer: &Offer, know: &Knowledge) -> Result<()> {
    if let Some(deal) = wallet.store().deal(&offer.deal_id)? {
        return Err(match deal.role {
            DealRole::Maker => Refusal::new(
                "own_offer",
                format!(
                    "this wallet made offer {}: settle it, do not accept it",
                    deal.id
                ),
            ),
            DealRole::Taker => Refusal::new(
                "already_accepted",
                format!(
                    "this wallet accepted offer {} already (it is {}); `deal show {}` has it",
                    deal.id, deal.status, deal.id
                ),
            ),
        }
        .into());
    }
    offer.check_not_expired(crate::swap::now())?;
    for (i, input) in offer.pset.inputs().iter().enumerate() {
        let outpoint = input.previous_outpoint();
        if know.coins.contains_key(&outpoint) {
            return Err(Refusal::new(
                "own_coin_in_offer",
                format!(
                    "the offer's input {i} spends this wallet's coin {}: the maker put a coin \
                     of yours in its part",
                    crate::pset::outpoint_text(&outpoint)
                ),
            )
            .hint("nothing was signed; do not trade on this offer")
            .into());
        }
    }
    check_maker_part(offer, wallet.policy_asset())?;
    Ok(())
}

/// The maker's coins must be the outputs on the chain the offer says they are: their
/// transactions are fetched (each checked against its txid) and compared.
fn check_maker_coins_on_chain(offer: &Offer, backend: &dyn Backend) -> Result<()> {
    let txids: Vec<Txid> = offer
        .maker_inputs
        .iter()
        .map(|i| i.outpoint.txid)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let txs = backend.transactions(&txids).map_err(|e| match e {
        Error::Backend { .. } => e,
        other => Error::Offer(Refusal::new(
            "unknown_maker_coin",
            format!("the server cannot give the transactions of the offer's coins: {other}"),
        )),
    })?;
    for (i, (input, revealed)) in offer
        .pset
        .inputs()
        .iter()
        .zip(&offer.maker_inputs)
        .enumerate()
    {
        let on_chain = txs
            .iter()
            .find(|t| t.txid() == revealed.outpoint.txid)
            .and_then(|t| t.output.get(revealed.outpoint.vout as usize));
        let matches = match (on_chain, &input.witness_utxo) {
            (Some(chain), Some(claimed)) => same_output(chain, claimed),
            _ => false,
        };
        if !matches {
            return Err(Refusal::new(
                "unknown_maker_coin",
                format!(
                    "the offer's input {i} ({}) is not the coin the chain has at that outpoint",
                    crate::pset::outpoint_text(&revealed.outpoint)
                ),
            )
            .hint("nothing was signed; the offer is broken or tampered with")
            .into());
        }
    }
    Ok(())
}

/// Builds the taker's side of `offer` on the wallet's synced coins and verifies it: the
/// offer's checks, then the whole transaction through the wallet's view (its inputs exactly
/// the coins it chose, its net effect exactly the terms', its outputs confidential, the fee
/// within bounds). With `backend`, the maker's coins are also checked against the chain.
/// Nothing is signed or recorded; with [`Mode::ForSigning`] the spending lock is held.
pub fn prepare_accept(
    wallet: &mut Wallet,
    offer: Offer,
    request: &AcceptRequest,
    backend: Option<&dyn Backend>,
    mode: Mode,
) -> Result<PreparedAccept> {
    let knowledge = Knowledge::load(wallet)?;
    precheck_accept(wallet, &offer, &knowledge)?;
    if let Some(backend) = backend {
        check_maker_coins_on_chain(&offer, backend)?;
    }
    let side = check_maker_part(&offer, wallet.policy_asset())?;
    let lock = match mode {
        Mode::ForSigning => Some(wallet.lock_spending()?),
        Mode::DryRun => None,
    };
    let coins = spendable(wallet)?;
    let descriptor = wallet.descriptor().clone();
    let network = wallet.network();
    let policy = wallet.policy_asset();
    let ctx = WalletContext {
        descriptor: &descriptor,
        network,
        policy_asset: policy,
    };
    let receive_index = match mode {
        Mode::ForSigning => {
            wallet
                .new_address(Keychain::External, Some(&label(&offer.deal_id, "receive")))?
                .index
        }
        Mode::DryRun => wallet.next_index(Keychain::External)?,
    };
    let receive = descriptor.address(Keychain::External, receive_index, network)?;
    let change_label = label(&offer.deal_id, "change");
    let mut preview = wallet.next_index(Keychain::Internal)?;
    let build = {
        let mut change = || -> Result<(u32, Address)> {
            let index = match mode {
                Mode::ForSigning => {
                    wallet
                        .new_address(Keychain::Internal, Some(&change_label))?
                        .index
                }
                Mode::DryRun => {
                    preview += 1;
                    preview - 1
                }
            };
            Ok((
                index,
                descriptor.address(Keychain::Internal, index, network)?,
            ))
        };
        build_taker_part(
            &ctx,
            &offer,
            &side,
            &coins,
            request,
            (receive_index, &receive),
            &mut change,
        )?
    };
    let knowledge = Knowledge::load(wallet)?;
    let know = knowledge.for_view(wallet);
    let mut seen = view(&build.pset, &know)?;
    check_problems(&seen)?;
    let chosen: Vec<OutPoint> = build.inputs.iter().map(|c| c.outpoint).collect();
    check_own_inputs(&seen, &chosen)?;
    check_net(&seen, &offer.terms, DealRole::Taker, policy)?;
    check_outputs(&seen, &build.pset)?;
    let mut pending = 0u64;
    for r in &offer.maker_inputs {
        pending = pending.saturating_add(r.satisfaction_weight);
    }
    for coin in &build.inputs {
        pending = pending.saturating_add(crate::swap::maker::satisfaction_weight(&ctx, coin)?);
    }
    check_fee_of(&seen, &build.pset, &offer.terms, pending)?;
    // The taker blinded every output: show what the maker's hold.
    for (output, secrets) in seen.outputs.iter_mut().zip(&build.output_secrets) {
        if output.secrets.is_none() {
            output.secrets = Some(*secrets);
        }
    }
    let plan = approve(&build.pset, &seen, &know, Allowed::default())?;
    let mut prepared = Prepared::new(build.pset, seen, plan, TxKind::Swap);
    prepared.lock = lock;
    Ok(PreparedAccept {
        prepared,
        offer,
        coins: chosen,
    })
}

/// Signs the taker's inputs, finalizes them, records the deal as accepted with the taker's
/// coins reserved (ONE SQLite transaction, before the envelope leaves this function) and
/// returns the accepted envelope for the maker.
pub fn finish_accept(
    wallet: &mut Wallet,
    mut accept: PreparedAccept,
    seed: &SeedSecret,
    counterparty: Option<String>,
) -> Result<(Offer, Deal)> {
    check_counterparty(&counterparty)?;
    accept.prepared.sign(wallet, seed)?;
    let genesis = wallet
        .network()
        .genesis_hash()
        .unwrap_or_else(|| elements::BlockHash::from_byte_array([0; 32]));
    let secp = elements::secp256k1_zkp::Secp256k1::verification_only();
    let own: Vec<usize> = accept
        .prepared
        .signing_plan()
        .inputs
        .iter()
        .map(|i| i.index)
        .collect();
    let mut pset = accept.prepared.pset.clone();
    for index in own {
        pset.finalize_inp_mut(&secp, index, genesis).map_err(|e| {
            Error::Transaction(format!("cannot finalize this wallet's input {index}: {e}"))
        })?;
    }
    let txid = pset
        .extract_tx()
        .map_err(|e| Error::Transaction(format!("the PSET does not form a transaction: {e}")))?
        .txid();
    let mut accepted = accept.offer.clone();
    accepted.stage = Stage::Accepted;
    accepted.pset = pset;
    let mut deal = deal_of(
        &accepted,
        DealRole::Taker,
        DealStatus::Accepted,
        counterparty,
        accept.coins.clone(),
    );
    deal.txid = Some(txid);
    deal.fee = Some(accept.prepared.fee());
    wallet.store_mut().insert_deal(&NewDeal {
        deal: deal.clone(),
        detail: format!(
            "accepted and signed: {} input(s) of this wallet, settlement {txid}; exposed until \
             it settles or a coin of the deal is spent",
            accept.coins.len()
        ),
    })?;
    drop(accept);
    Ok((accepted, deal))
}

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
fn settle_checks(
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
    let deal = wallet.store().deal(id)?.ok_or_else(|| {
        Error::InvalidAmount(format!(
            "no deal {id} in this wallet's ledger (`deal list`)"
        ))
    })?;
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

/// The result of one check of an inspection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// Which check.
    pub name: &'static str,
    /// Whether it passed.
    pub ok: bool,
    /// What it found.
    pub detail: String,
    /// The refusal code when it failed.
    pub code: Option<&'static str>,
}

/// What `offer inspect` found.
#[derive(Clone, Debug)]
pub struct Inspection {
    /// The wallet's side, when a wallet was given: from its ledger, else the taker.
    pub role: Option<DealRole>,
    /// The wallet's net effect per asset by the terms (what it would give and get).
    pub terms_net: Option<BTreeMap<elements::AssetId, i64>>,
    /// The wallet's view of the PSET (accepted offers).
    pub view: Option<PsetView>,
    /// Every check run, in order.
    pub checks: Vec<Check>,
}

impl Inspection {
    /// Whether every check passed.
    pub fn passes(&self) -> bool {
        self.checks.iter().all(|c| c.ok)
    }
}

fn check_of<T>(name: &'static str, ok_detail: &str, result: Result<T>) -> Check {
    match result {
        Ok(_) => Check {
            name,
            ok: true,
            detail: ok_detail.to_owned(),
            code: None,
        },
        Err(Error::Offer(r)) => Check {
            name,
            ok: false,
            detail: r.to_string(),
            code: Some(r.code),
        },
        Err(e) => Check {
            name,
            ok: false,
            detail: e.to_string(),
            code: None,
        },
    }
}

/// Inspects an offer: with no wallet, what anyone can check (expiry, the maker's part against
/// the terms, the revealed data); with a wallet, the checks its side would run before signing
/// (the taker's on a proposed offer, its part built as a dry run at 0.1 sat/vB from its last
/// sync, without the chain check of the maker's coins; the maker's on an accepted one).
/// Signs, reserves and records nothing.
pub fn inspect_offer(offer: &Offer, wallet: Option<&mut Wallet>) -> Result<Inspection> {
    let now = crate::swap::now();
    let policy = match wallet {
        Some(ref w) => w.policy_asset(),
        None => offer.network.default_policy_asset(),
    };
    let mut checks = vec![check_of(
        "terms",
        "amounts within bounds, two different assets, the fee payer and fee consistent",
        offer.terms.check(policy).map_err(Error::from),
    )];
    checks.push(check_of(
        "expiry",
        "not expired",
        offer.check_not_expired(now).map_err(Error::from),
    ));
    match offer.stage {
        Stage::Proposed => checks.push(check_of(
            "maker_part",
            "the maker's part does what the terms say; its revealed data reopens its coins",
            check_maker_part(offer, policy).map_err(Error::from),
        )),
        Stage::Accepted => {
            let reopen = offer
                .maker_inputs
                .iter()
                .zip(offer.pset.inputs())
                .enumerate()
                .try_for_each(|(i, (r, input))| {
                    let ok = input.previous_outpoint() == r.outpoint
                        && input
                            .witness_utxo
                            .as_ref()
                            .is_some_and(|u| r.secrets.opens(u));
                    if ok {
                        Ok(())
                    } else {
                        Err(Error::Offer(Refusal::new(
                            "bad_unblinding_data",
                            format!("the revealed data of maker input {i} does not reopen it"),
                        )))
                    }
                });
            checks.push(check_of(
                "revealed_data",
                "the maker's revealed data reopens its coins",
                reopen,
            ));
        }
    }
    let Some(wallet) = wallet else {
        return Ok(Inspection {
            role: None,
            terms_net: None,
            view: None,
            checks,
        });
    };
    let deal = wallet.store().deal(&offer.deal_id)?;
    let role = deal.as_ref().map_or(DealRole::Taker, |d| d.role);
    let fee_for_net = offer.terms.fee.unwrap_or(0);
    let terms_net = Some(offer.terms.net_for(role, policy, fee_for_net)?);
    let knowledge = Knowledge::load(wallet)?;
    let mut seen = None;
    match (offer.stage, role, &deal) {
        (Stage::Proposed, DealRole::Taker, None) => {
            let own = offer
                .maker_inputs
                .iter()
                .enumerate()
                .find(|(_, i)| knowledge.coins.contains_key(&i.outpoint));
            checks.push(check_of(
                "no_own_coin",
                "no coin of this wallet is in the offer",
                match own {
                    Some((i, _)) => Err(Error::Offer(Refusal::new(
                        "own_coin_in_offer",
                        format!("the offer's input {i} spends this wallet's coin"),
                    ))),
                    None => Ok(()),
                },
            ));
            let spendable: u64 = spendable(wallet)?
                .iter()
                .filter(|c| c.secrets.asset == offer.terms.maker_receives.asset)
                .fold(0u64, |a, c| a.saturating_add(c.secrets.value));
            checks.push(check_of(
                "funds",
                "this wallet holds enough unreserved coins of what the maker wants (as of its last sync)",
                if spendable >= offer.terms.maker_receives.amount {
                    Ok(())
                } else {
                    Err(Error::InsufficientFunds {
                        asset: offer.terms.maker_receives.asset,
                        needed: offer.terms.maker_receives.amount,
                        available: spendable,
                    })
                },
            ));
            if checks.iter().all(|c| c.ok) {
                let dry = prepare_accept(
                    wallet,
                    offer.clone(),
                    &AcceptRequest {
                        fee_rate: FeeRate::MIN,
                    },
                    None,
                    Mode::DryRun,
                );
                if let Ok(p) = &dry {
                    seen = Some(p.prepared.view.clone());
                }
                checks.push(check_of(
                    "acceptance",
                    "its part built as a dry run (nothing signed or reserved): this wallet's \
                     net effect is the terms', its outputs confidential, the fee within bounds",
                    dry,
                ));
            }
        }
        (_, DealRole::Taker, Some(d)) => {
            checks.push(Check {
                name: "ledger",
                ok: true,
                detail: format!("this wallet accepted this offer; the deal is {}", d.status),
                code: None,
            });
            if offer.stage == Stage::Accepted {
                let know = knowledge.for_view(wallet);
                let v = view(&offer.pset, &know)?;
                checks.push(check_of(
                    "net_effect",
                    "this wallet's net effect is what the terms say",
                    check_problems(&v)
                        .and_then(|()| check_own_inputs(&v, &d.coins))
                        .and_then(|()| check_net(&v, &offer.terms, DealRole::Taker, policy))
                        .map_err(Error::from),
                ));
                seen = Some(v);
            }
        }
        (Stage::Accepted, DealRole::Maker, Some(d)) => {
            let result = settle_checks(wallet, offer, d);
            if let Ok((v, _)) = &result {
                seen = Some(v.clone());
            }
            checks.push(check_of(
                "settlement",
                "every check before settling passes: terms, expiry, this wallet's inputs, net \
                 effect, confidential outputs, fee, the taker's signatures",
                result,
            ));
        }
        (Stage::Proposed, DealRole::Maker, Some(d)) => {
            checks.push(check_of(
                "ledger",
                &format!("this wallet made this offer; the deal is {}", d.status),
                if offer.terms == deal_terms(d) {
                    Ok(())
                } else {
                    Err(Error::Offer(Refusal::new(
                        "envelope_terms",
                        "the envelope's terms are not those of the offer this wallet made",
                    )))
                },
            ));
        }
        (_, DealRole::Taker, None) => {}
        (_, DealRole::Maker, None) => {}
    }
    Ok(Inspection {
        role: Some(role),
        terms_net,
        view: seen,
        checks,
    })
}
