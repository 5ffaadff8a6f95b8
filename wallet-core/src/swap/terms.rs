//! The terms of a deal: the maker gives `maker_gives` and receives `maker_receives`; the fee
//! payer; the fee itself when the maker pays it (fixed at creation, since the maker cannot
//! change its outputs once the taker has built the transaction). Everything in base units and
//! asset ids. Each side's expected net effect follows from them, and is what it verifies the
//! PSET against.

use std::collections::BTreeMap;

use elements::AssetId;

use super::Refusal;
use crate::store::DealRole;
use crate::tx::{MAX_MONEY, MIN_POLICY_OUTPUT};

/// One leg of a deal: an amount of an asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leg {
    /// The asset.
    pub asset: AssetId,
    /// The amount, in base units.
    pub amount: u64,
}

/// What the two sides agreed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Terms {
    /// What the maker gives (the taker receives).
    pub maker_gives: Leg,
    /// What the maker receives (the taker gives).
    pub maker_receives: Leg,
    /// Who pays the fee.
    pub fee_payer: DealRole,
    /// The fee in the policy asset, fixed in the terms when the maker pays it; `None` when
    /// the taker pays (the taker sets it when it builds the transaction).
    pub fee: Option<u64>,
}

fn leg_ok(leg: &Leg, side: &str, policy: AssetId) -> Result<(), Refusal> {
    if leg.amount == 0 {
        return Err(Refusal::new(
            "bad_terms",
            format!("the terms give {side} nothing (amount 0)"),
        ));
    }
    if leg.amount > MAX_MONEY {
        return Err(Refusal::new(
            "amount_overflow",
            format!(
                "the terms ask for {} base units {side}, more than any asset can have \
                 ({MAX_MONEY})",
                leg.amount
            ),
        ));
    }
    if leg.asset == policy && leg.amount < MIN_POLICY_OUTPUT {
        return Err(Refusal::new(
            "bad_terms",
            format!(
                "{} sat of L-BTC {side} is dust: the smallest L-BTC amount is \
                 {MIN_POLICY_OUTPUT} sat",
                leg.amount
            ),
        ));
    }
    Ok(())
}

impl Terms {
    /// Checks that the terms can describe a deal: amounts between 1 and MAX_MONEY (L-BTC not
    /// dust), two different assets, and a fixed fee exactly when the maker pays it.
    pub fn check(&self, policy: AssetId) -> Result<(), Refusal> {
        leg_ok(&self.maker_gives, "to the taker", policy)?;
        leg_ok(&self.maker_receives, "to the maker", policy)?;
        if self.maker_gives.asset == self.maker_receives.asset {
            return Err(Refusal::new(
                "bad_terms",
                format!(
                    "both legs are asset {}: a swap exchanges two different assets",
                    self.maker_gives.asset
                ),
            ));
        }
        match (self.fee_payer, self.fee) {
            (DealRole::Maker, None) => Err(Refusal::new(
                "bad_terms",
                "the terms say the maker pays the fee but do not fix it",
            )),
            (DealRole::Taker, Some(_)) => Err(Refusal::new(
                "bad_terms",
                "the terms say the taker pays the fee but fix it as the maker would",
            )),
            (_, Some(fee)) if fee > MAX_MONEY => Err(Refusal::new(
                "amount_overflow",
                format!("the fee of {fee} sat is more than any amount can be"),
            )),
            _ => Ok(()),
        }
    }

    /// The net effect `role` must see, per asset (negative: leaves its wallet), with `fee`
    /// (the transaction's) counted on the side that pays it. Zero entries are left out.
    pub fn net_for(
        &self,
        role: DealRole,
        policy: AssetId,
        fee: u64,
    ) -> Result<BTreeMap<AssetId, i64>, Refusal> {
        let overflow = || Refusal::new("amount_overflow", "the terms' amounts overflow");
        let signed = |v: u64| i64::try_from(v).map_err(|_| overflow());
        let mut net = BTreeMap::new();
        let (gets, gives) = match role {
            DealRole::Maker => (self.maker_receives, self.maker_gives),
            DealRole::Taker => (self.maker_gives, self.maker_receives),
        };
        net.insert(gets.asset, signed(gets.amount)?);
        net.insert(gives.asset, -signed(gives.amount)?);
        if self.fee_payer == role && fee > 0 {
            let e = net.entry(policy).or_insert(0);
            *e = e.checked_sub(signed(fee)?).ok_or_else(overflow)?;
        }
        net.retain(|_, v| *v != 0);
        Ok(net)
    }
}

/// Compares a net effect with the expected one: `None` when equal, else the refusal listing
/// every asset that differs, with the fee named when it is what differs.
pub fn compare_net(
    found: &BTreeMap<AssetId, i64>,
    expected: &BTreeMap<AssetId, i64>,
    terms: &Terms,
    role: DealRole,
    policy: AssetId,
    fee: u64,
) -> Option<Refusal> {
    let mut mismatches = Vec::new();
    let assets: std::collections::BTreeSet<&AssetId> =
        found.keys().chain(expected.keys()).collect();
    for asset in assets {
        let f = found.get(asset).copied().unwrap_or(0);
        let e = expected.get(asset).copied().unwrap_or(0);
        if f != e {
            mismatches.push(super::Mismatch {
                asset: *asset,
                found: f,
                expected: e,
            });
        }
    }
    if mismatches.is_empty() {
        return None;
    }
    let fee_i = i64::try_from(fee).unwrap_or(i64::MAX);
    let only_fee = mismatches.len() == 1
        && mismatches[0].asset == policy
        && fee > 0
        && (mismatches[0].found - mismatches[0].expected).checked_abs() == Some(fee_i);
    let (code, reason) = if only_fee {
        let payer = terms.fee_payer.as_str();
        let this = role.as_str();
        if mismatches[0].found < mismatches[0].expected {
            (
                "fee_payer",
                format!(
                    "the transaction makes this wallet (the {this}) pay the fee of {fee} sat; \
                     the terms say the {payer} pays it"
                ),
            )
        } else {
            (
                "fee_payer",
                format!(
                    "the transaction does not take the fee of {fee} sat from this wallet (the \
                     {this}); the terms say the {payer} pays it"
                ),
            )
        }
    } else {
        (
            "terms_mismatch",
            "this wallet's net effect is not what the terms say".to_owned(),
        )
    };
    Some(Refusal {
        code,
        reason,
        mismatches,
        hint: Some(
            "nothing was signed; ask the counterparty for an offer with the agreed terms"
                .to_owned(),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn asset(byte: u8) -> AssetId {
        AssetId::from_str(&format!("{byte:02x}").repeat(32)).unwrap()
    }

    fn terms(payer: DealRole, fee: Option<u64>) -> Terms {
        Terms {
            maker_gives: Leg {
                asset: asset(1),
                amount: 150_000_000,
            },
            maker_receives: Leg {
                asset: asset(2),
                amount: 15_000_000,
            },
            fee_payer: payer,
            fee,
        }
    }

    #[test]
    fn each_side_expects_the_mirror_of_the_other() {
        let policy = asset(1);
        let t = terms(DealRole::Maker, Some(300));
        t.check(policy).unwrap();
        let maker = t.net_for(DealRole::Maker, policy, 300).unwrap();
        assert_eq!(maker[&asset(1)], -150_000_300);
        assert_eq!(maker[&asset(2)], 15_000_000);
        let taker = t.net_for(DealRole::Taker, policy, 300).unwrap();
        assert_eq!(taker[&asset(1)], 150_000_000);
        assert_eq!(taker[&asset(2)], -15_000_000);
    }

    #[test]
    fn bad_terms_are_refused() {
        let policy = asset(9);
        let refused = |t: Terms, code: &str, why: &str| {
            let r = t.check(policy).unwrap_err();
            assert_eq!(r.code, code, "{r:?}");
            assert!(r.reason.contains(why), "{r:?} does not say {why:?}");
        };
        refused(
            terms(DealRole::Maker, None),
            "bad_terms",
            "the terms say the maker pays the fee but do not fix it",
        );
        refused(
            terms(DealRole::Taker, Some(1)),
            "bad_terms",
            "the terms say the taker pays the fee but fix it as the maker would",
        );
        let mut t = terms(DealRole::Taker, None);
        t.maker_receives.asset = t.maker_gives.asset;
        refused(t, "bad_terms", "a swap exchanges two different assets");
        let mut t = terms(DealRole::Taker, None);
        t.maker_gives.amount = MAX_MONEY + 1;
        refused(
            t,
            "amount_overflow",
            &format!(
                "the terms ask for {} base units to the taker, more than any asset can have",
                MAX_MONEY + 1
            ),
        );
        let mut t = terms(DealRole::Taker, None);
        t.maker_gives.amount = u64::MAX;
        refused(
            t,
            "amount_overflow",
            &format!("the terms ask for {} base units to the taker", u64::MAX),
        );
    }

    #[test]
    fn the_fee_on_the_wrong_side_is_named() {
        let policy = asset(1);
        let t = terms(DealRole::Taker, None);
        let expected = t.net_for(DealRole::Maker, policy, 250).unwrap();
        let mut found = expected.clone();
        *found.get_mut(&policy).unwrap() -= 250;
        let r = compare_net(&found, &expected, &t, DealRole::Maker, policy, 250).unwrap();
        assert_eq!(r.code, "fee_payer");
        found.insert(policy, -150_000_001);
        let r = compare_net(&found, &expected, &t, DealRole::Maker, policy, 250).unwrap();
        assert_eq!(r.code, "terms_mismatch");
        assert!(compare_net(&expected, &expected, &t, DealRole::Maker, policy, 250).is_none());
    }
}
