//! Which approved requests a run takes, in queue order, and why each other one waits.

use super::*;

/// What a selection pass may spend: the desk's minimum now, the wallet's spendable L-BTC,
/// what is kept back for the fee, and the requests (by index) left out because the fee did
/// not fit with them.
pub(super) struct Budget<'a> {
    /// The desk's minimum now.
    pub(super) min_amount: u64,
    /// The wallet's spendable L-BTC.
    pub(super) available: u64,
    /// Kept back for the fee.
    pub(super) reserve: u64,
    /// Requests left out after a dry build could not fund them.
    pub(super) short: &'a [usize],
    /// Requests that wait for an earlier transaction of theirs, with why.
    pub(super) undecided: &'a [(usize, String)],
}

/// The requests a run chooses (indexes into `runnable`) and those that wait, with why.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Selection {
    /// Indexes of the requests chosen, in queue order.
    pub(super) chosen: Vec<usize>,
    /// Indexes of those that wait, with the kind of reason and its words.
    pub(super) waiting: Vec<(usize, WaitReason, String)>,
}

fn btc(sat: u64) -> String {
    format!("{} BTC", crate::amount::format_amount(sat, 8))
}

/// Chooses, in queue order, every request that the run may pay: at least the minimum,
/// within `--max` and the chain's per-transaction limit, and covered by what is left of the
/// wallet's L-BTC (less `reserve` for the fee) after the requests chosen before it. A
/// request that cannot be funded is skipped, not a wall: later, smaller ones are still paid.
pub(super) fn select(
    runnable: &[crate::store::PegoutRequest],
    options: &RunOptions,
    budget: &Budget<'_>,
) -> Selection {
    let cap = options
        .limits
        .max_per_tx
        .min(options.max.unwrap_or(usize::MAX));
    let spendable = budget.available.saturating_sub(budget.reserve);
    let mut chosen = Vec::new();
    let mut waiting = Vec::new();
    let mut sum = 0u64;
    for (i, r) in runnable.iter().enumerate() {
        if r.amount < budget.min_amount {
            waiting.push((
                i,
                WaitReason::BelowMinimum,
                format!(
                    "{} is below the desk's current minimum of {}: lower the minimum with \
                     `pegout settings --min-amount`, or reject it",
                    btc(r.amount),
                    btc(budget.min_amount)
                ),
            ));
            continue;
        }
        if let Some((_, why)) = budget.undecided.iter().find(|(j, _)| *j == i) {
            waiting.push((i, WaitReason::EarlierTx, why.clone()));
            continue;
        }
        if chosen.len() >= cap {
            let why = if options.max.is_some_and(|m| chosen.len() >= m) {
                "beyond --max".to_owned()
            } else if options.limits.max_per_tx == 1 {
                "the chain relays one peg-out per transaction (multi_data_permitted is off): \
                 run again"
                    .to_owned()
            } else {
                format!(
                    "at most {} peg-outs per transaction: run again",
                    options.limits.max_per_tx
                )
            };
            waiting.push((i, WaitReason::Limit, why));
            continue;
        }
        let fits = !budget.short.contains(&i)
            && sum
                .checked_add(r.amount)
                .is_some_and(|total| total <= spendable);
        if !fits {
            let left = budget.available.saturating_sub(sum);
            let before = if chosen.is_empty() {
                String::new()
            } else {
                format!(
                    " after the {} request(s) this run pays before it ({} of {} L-BTC)",
                    chosen.len(),
                    crate::amount::format_amount(sum, 8),
                    crate::amount::format_amount(budget.available, 8)
                )
            };
            let fee = if budget.reserve > 0 {
                format!(" and a fee of about {} sat", budget.reserve)
            } else {
                " and the fee".to_owned()
            };
            waiting.push((
                i,
                WaitReason::Funds,
                format!(
                    "needs {}{fee}; {} L-BTC is spendable{before}: fund the wallet and run \
                     again, or reject it",
                    btc(r.amount),
                    crate::amount::format_amount(left, 8)
                ),
            ));
            continue;
        }
        sum = sum.saturating_add(r.amount);
        chosen.push(i);
    }
    Selection { chosen, waiting }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{PegoutRequest, RequestStatus};

    fn request(i: i64, amount: u64) -> PegoutRequest {
        PegoutRequest {
            id: i,
            reference: format!("R-{i}"),
            btc_address: String::new(),
            script: Vec::new(),
            amount,
            customer: None,
            note: None,
            status: RequestStatus::Approved,
            created_at: 0,
            created_by: "carol".into(),
            updated_at: 0,
            txid: None,
            vout: None,
            height: None,
            reason: None,
            approvals: Vec::new(),
        }
    }

    fn options(max: Option<usize>, per_tx: usize) -> RunOptions {
        RunOptions {
            max,
            fee_rate: FeeRate::MIN,
            limits: PegoutLimits {
                min_amount: 100_000,
                max_per_tx: per_tx,
            },
            actor: "dave".into(),
        }
    }

    const COIN: u64 = 100_000_000;

    #[test]
    fn an_unpayable_request_is_skipped_not_a_wall() {
        // 21 million BTC first, then four small ones, with 1 L-BTC.
        let runnable = [
            request(1, 21_000_000 * COIN),
            request(2, 2_500_000),
            request(3, 2_500_000),
            request(4, 2_500_000),
            request(5, 2_500_000),
        ];
        let budget = Budget {
            min_amount: 100_000,
            available: COIN,
            reserve: 0,
            short: &[],
            undecided: &[],
        };
        let s = select(&runnable, &options(None, 500), &budget);
        assert_eq!(s.chosen, [1, 2, 3, 4]);
        assert_eq!(s.waiting.len(), 1);
        let (i, kind, why) = &s.waiting[0];
        assert_eq!((*i, *kind), (0, WaitReason::Funds));
        assert_eq!(
            why,
            "needs 21000000.0 BTC and the fee; 1.0 L-BTC is spendable: fund the wallet and run \
             again, or reject it"
        );
        // Behind paid ones, the reason counts what they take.
        let runnable = [request(1, 60_000_000), request(2, 50_000_000)];
        let budget = Budget {
            reserve: 30,
            ..budget
        };
        let s = select(&runnable, &options(None, 500), &budget);
        assert_eq!(s.chosen, [0]);
        assert_eq!(
            s.waiting[0].2,
            "needs 0.5 BTC and a fee of about 30 sat; 0.4 L-BTC is spendable after the 1 \
             request(s) this run pays before it (0.6 of 1.0 L-BTC): fund the wallet and run \
             again, or reject it"
        );
    }

    #[test]
    fn the_minimum_and_the_limits_are_reasons_too() {
        let runnable = [
            request(1, 200_000),
            request(2, 2_000_000),
            request(3, 2_000_000),
            request(4, 2_000_000),
        ];
        let budget = Budget {
            min_amount: 1_000_000,
            available: COIN,
            reserve: 0,
            short: &[],
            undecided: &[],
        };
        let s = select(&runnable, &options(Some(2), 500), &budget);
        assert_eq!(s.chosen, [1, 2]);
        let kinds: Vec<(usize, WaitReason)> = s.waiting.iter().map(|w| (w.0, w.1)).collect();
        assert_eq!(
            kinds,
            [(0, WaitReason::BelowMinimum), (3, WaitReason::Limit)]
        );
        assert_eq!(s.waiting[1].2, "beyond --max");
        let s = select(&runnable, &options(None, 1), &budget);
        assert_eq!(s.chosen, [1]);
        assert!(s.waiting[1].2.contains("one peg-out per transaction"));
        // A request the fee did not fit with is left out, and the next one is taken.
        let s = select(
            &runnable,
            &options(None, 500),
            &Budget {
                short: &[1],
                ..budget
            },
        );
        assert_eq!(s.chosen, [2, 3]);
    }

    #[test]
    fn a_pegout_request_with_an_undecided_earlier_tx_waits_and_the_next_is_chosen() {
        let runnable = [request(1, 2_000_000), request(2, 2_000_000)];
        let why = "earlier transaction T could still confirm".to_owned();
        let undecided = [(0usize, why.clone())];
        let budget = Budget {
            min_amount: 100_000,
            available: COIN,
            reserve: 0,
            short: &[],
            undecided: &undecided,
        };
        // It does not count towards --max either.
        let s = select(&runnable, &options(Some(1), 500), &budget);
        assert_eq!(s.chosen, [1]);
        assert_eq!(s.waiting, vec![(0, WaitReason::EarlierTx, why)]);
    }
}
