//! The taker's side of a deal: accept an offer (check the maker's part, build, blind and
//! verify its own, sign), and record it.

use elements::{Address, OutPoint, Txid};
use elements_miniscript::psbt::PsbtExt;

use crate::chain::Backend;
use crate::descriptor::Keychain;
use crate::ops::payment::spendable;
use crate::ops::{Knowledge, Mode, Prepared};
use crate::pset::{approve, same_output, view, Allowed};
use crate::seed::SeedSecret;
use crate::store::{Deal, DealRole, DealStatus, NewDeal, TxKind};
use crate::swap::taker::{build_taker_part, check_maker_part, AcceptRequest};
use crate::swap::verify::{
    check_fee_of, check_final, check_net, check_outputs, check_own_inputs, check_problems,
};
use crate::swap::{Offer, Refusal, Stage};
use crate::tx::WalletContext;
use crate::wallet::Wallet;
use crate::{Error, Result};

use super::deal::*;

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
    let now = crate::swap::now();
    offer.check_not_expired(now)?;
    offer.check_lifetime(now)?;
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
    let unknown = |why: String| {
        Error::Offer(
            Refusal::new(
                "unknown_maker_coin",
                format!("the server cannot give the transactions of the offer's coins: {why}"),
            )
            .hint("nothing was signed; the offer names coins the chain does not have"),
        )
    };
    let txs = match backend.transactions(&txids) {
        Ok(txs) => txs,
        // A server that answers its tip but not these transactions does not know them: the
        // offer's coins are not on its chain (a refusal); one that answers nothing is down.
        Err(e @ Error::Backend { .. }) => match backend.tip() {
            Ok(_) => return Err(unknown(e.to_string())),
            Err(_) => return Err(e),
        },
        Err(other) => return Err(unknown(other.to_string())),
    };
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
    check_final(&build.pset)?;
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
        pending = pending.saturating_add(crate::swap::own::satisfaction_weight(&ctx, coin)?);
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
    accept.prepared.sign_inputs(wallet, seed)?;
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
    // The taker blinded every output, the maker's too: it keeps what it paid the maker (the
    // output of the leg it gives, not the maker's change), so that `tx show` and `txs` say
    // it once the settlement is on the chain.
    let pays = accept.offer.terms.maker_receives;
    let sent: Vec<_> = crate::ops::sent_outputs(
        &accept.prepared.view,
        &accept.prepared.pset,
        wallet.network(),
    )
    .into_iter()
    .filter(|(_, s)| s.secrets.asset == pays.asset && s.secrets.value == pays.amount)
    .collect();
    wallet.store_mut().record_sent(&sent)?;
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
