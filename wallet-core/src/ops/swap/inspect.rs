//! What `offer inspect` tells anyone about an envelope, and a wallet about its part in it.

use std::collections::BTreeMap;

use crate::ops::payment::spendable;
use crate::ops::{Knowledge, Mode};
use crate::pset::{view, PsetView};
use crate::store::DealRole;
use crate::swap::taker::{check_maker_part, AcceptRequest};
use crate::swap::verify::{check_net, check_own_inputs, check_problems};
use crate::swap::{Offer, Refusal, Stage};
use crate::tx::FeeRate;
use crate::wallet::Wallet;
use crate::{Error, Result};

use super::accept::prepare_accept;
use super::deal::*;
use super::settle::settle_checks;

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
    checks.push(check_of(
        "times",
        "made no later than now, open at most 30 days",
        offer.check_lifetime(now).map_err(Error::from),
    ));
    checks.push(check_of(
        "final",
        "no lock time, no relative lock time: the transaction settles at once",
        crate::swap::verify::check_final(&offer.pset).map_err(Error::from),
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
