//! The rows every part of the store writes for a transaction: the transaction itself (with
//! its fee and first-seen time), the wallet's unblinded outputs in it, and its spends; and the
//! readers of stored ids.

use std::str::FromStr;

use elements::{BlockHash, Transaction, Txid};
use rusqlite::params;

use super::now_secs;
use crate::descriptor::Keychain;
use crate::unblind::TxOutSecrets;
use crate::{Error, Result};

/// One of the wallet's outputs in a transaction, unblinded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedOutput {
    /// Output index.
    pub vout: u32,
    /// Keychain of the script it pays.
    pub keychain: Keychain,
    /// Derivation index of the script it pays.
    pub index: u32,
    /// Value, asset and blinding factors.
    pub secrets: TxOutSecrets,
}

/// A transaction to store, with the wallet's outputs in it.
#[derive(Clone, Debug)]
pub struct NewTx {
    /// The transaction (already checked against its txid).
    pub tx: Transaction,
    /// The outputs paying the wallet's scripts, unblinded.
    pub outputs: Vec<OwnedOutput>,
}

/// The fee of `tx`: the sum of its explicit fee outputs (empty script).
pub(crate) fn tx_fee(tx: &Transaction) -> u64 {
    tx.output
        .iter()
        .filter(|o| o.is_fee())
        .filter_map(|o| o.value.explicit())
        .fold(0u64, |acc, v| acc.saturating_add(v))
}

/// Inserts `new` (a transaction with its owned outputs and its spends); a transaction already
/// stored is left as it is.
pub(super) fn insert_tx(
    tx: &rusqlite::Transaction<'_>,
    new: &NewTx,
    pending: bool,
) -> rusqlite::Result<()> {
    let txid = new.tx.txid().to_string();
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO txs (txid, raw, height, fee, pending, first_seen)
         VALUES (?1, ?2, NULL, ?3, ?4, ?5)",
        params![
            txid,
            elements::encode::serialize(&new.tx),
            i64::try_from(tx_fee(&new.tx)).unwrap_or(i64::MAX),
            i64::from(pending),
            i64::try_from(now_secs()).unwrap_or(i64::MAX)
        ],
    )?;
    if inserted == 0 {
        return Ok(());
    }
    insert_outputs(tx, new)?;
    for (vin, input) in new.tx.input.iter().enumerate() {
        if input.previous_output.is_null() {
            continue; // coinbase
        }
        tx.execute(
            "INSERT OR IGNORE INTO spends (txid, vin, prev_txid, prev_vout) VALUES (?1, ?2, ?3, ?4)",
            params![
                txid,
                i64::try_from(vin).unwrap_or(i64::MAX),
                input.previous_output.txid.to_string(),
                i64::from(input.previous_output.vout)
            ],
        )?;
    }
    Ok(())
}

/// Inserts the owned outputs of `new` (replacing any stored row of the same outpoint).
pub(super) fn insert_outputs(tx: &rusqlite::Transaction<'_>, new: &NewTx) -> rusqlite::Result<()> {
    let txid = new.tx.txid().to_string();
    for o in &new.outputs {
        let Some(txout) = new.tx.output.get(o.vout as usize) else {
            continue;
        };
        let Ok(value) = i64::try_from(o.secrets.value) else {
            continue; // above any valid amount: not an output worth keeping
        };
        tx.execute(
            "INSERT OR REPLACE INTO outputs
             (txid, vout, txout, keychain, idx, value, asset, value_bf, asset_bf, explicit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                txid,
                i64::from(o.vout),
                elements::encode::serialize(txout),
                i64::from(o.keychain.index()),
                i64::from(o.index),
                value,
                o.secrets.asset.to_string(),
                o.secrets.value_bf.to_string(),
                o.secrets.asset_bf.to_string(),
                i64::from(o.secrets.explicit)
            ],
        )?;
    }
    Ok(())
}

pub(super) fn parse_txid(s: &str) -> Result<Txid> {
    Txid::from_str(s).map_err(|_| Error::Storage(format!("bad txid '{s}' in the store")))
}

pub(super) fn parse_hash(s: &str) -> Result<BlockHash> {
    BlockHash::from_str(s).map_err(|_| Error::Storage(format!("bad block hash '{s}' in the store")))
}
