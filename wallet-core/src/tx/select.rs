//! Coin selection: which of the wallet's outputs pay for what, asset by asset.
//!
//! Largest first within each asset: few inputs keep the transaction (and its fee) small, and the
//! choice is deterministic for a given set of outputs (ties broken by outpoint).

use std::collections::BTreeMap;

use elements::AssetId;

use super::Spendable;
use crate::{Error, Result};

/// Selects outputs of `asset` worth at least `target`, largest first.
///
/// Returns the chosen outputs and their total. Fails with [`Error::InsufficientFunds`] naming
/// what is needed and what is there.
pub fn select_asset(
    utxos: &[Spendable],
    asset: AssetId,
    target: u64,
) -> Result<(Vec<Spendable>, u64)> {
    let mut candidates: Vec<&Spendable> =
        utxos.iter().filter(|u| u.secrets.asset == asset).collect();
    candidates.sort_by(|a, b| {
        b.secrets
            .value
            .cmp(&a.secrets.value)
            .then_with(|| a.outpoint.cmp(&b.outpoint))
    });
    let available = total(candidates.iter().copied())?;
    if available < target {
        return Err(Error::InsufficientFunds {
            asset,
            needed: target,
            available,
        });
    }
    let mut chosen = Vec::new();
    let mut sum = 0u64;
    for utxo in candidates {
        if sum >= target && !chosen.is_empty() {
            break;
        }
        sum = sum
            .checked_add(utxo.secrets.value)
            .ok_or_else(|| Error::InvalidAmount("the selected amount overflows".to_owned()))?;
        chosen.push(utxo.clone());
    }
    Ok((chosen, sum))
}

/// The sum of the values of `utxos`, checked.
pub fn total<'a>(utxos: impl IntoIterator<Item = &'a Spendable>) -> Result<u64> {
    utxos.into_iter().try_fold(0u64, |acc, u| {
        acc.checked_add(u.secrets.value)
            .ok_or_else(|| Error::InvalidAmount("the wallet's amounts overflow".to_owned()))
    })
}

/// Sums amounts per asset, checked.
pub fn sum_by_asset(
    items: impl IntoIterator<Item = (AssetId, u64)>,
) -> Result<BTreeMap<AssetId, u64>> {
    let mut sums = BTreeMap::new();
    for (asset, value) in items {
        let entry: &mut u64 = sums.entry(asset).or_insert(0);
        *entry = entry
            .checked_add(value)
            .ok_or_else(|| Error::InvalidAmount("the amounts overflow".to_owned()))?;
    }
    Ok(sums)
}
