//! What each side of a deal builds for its own coins and outputs.

use std::collections::BTreeMap;

use elements::pset;
use elements::{Address, AssetId, Script};

use crate::descriptor::Keychain;
use crate::tx::{Spendable, WalletContext};
use crate::{Error, Result};

/// The largest witness weight spending the wallet's coin `coin` adds.
pub(crate) fn satisfaction_weight(ctx: &WalletContext, coin: &Spendable) -> Result<u64> {
    let weight = ctx
        .descriptor
        .spending_descriptor(coin.keychain, coin.index)?
        .max_weight_to_satisfy()
        .map_err(|e| Error::Transaction(format!("cannot size the input {}: {e}", coin.outpoint)))?;
    Ok(weight as u64)
}

/// The change address (index, address) for `asset`: the one an earlier fee pass drew for it,
/// or a fresh one from `fresh`, remembered in `drawn` so every pass pays the same address.
pub(crate) fn change_address(
    drawn: &mut BTreeMap<AssetId, (u32, Address)>,
    asset: AssetId,
    fresh: &mut dyn FnMut() -> Result<(u32, Address)>,
) -> Result<(u32, Address)> {
    if let Some(known) = drawn.get(&asset) {
        return Ok(known.clone());
    }
    let new = fresh()?;
    drawn.insert(asset, new.clone());
    Ok(new)
}

/// An output paying the wallet's own address at `own` (keychain, index), to be blinded to its
/// blinding key by whoever blinds last, with the secrets of input `blinder_index`.
pub(crate) fn own_output(
    ctx: &WalletContext,
    script: &Script,
    value: u64,
    asset: AssetId,
    own: (Keychain, u32),
    blinder_index: u32,
) -> Result<pset::Output> {
    let blinding = ctx
        .descriptor
        .address(own.0, own.1, ctx.network)?
        .blinding_pubkey
        .ok_or_else(|| {
            Error::Transaction(
                "the wallet's addresses are not confidential: a deal's outputs must be".to_owned(),
            )
        })?;
    let mut output = pset::Output::new_explicit(
        script.clone(),
        value,
        asset,
        Some(elements::bitcoin::PublicKey {
            inner: blinding,
            compressed: true,
        }),
    );
    output.blinder_index = Some(blinder_index);
    Ok(output)
}
