//! Offline reads of what sync stored: unspent outputs, balances per asset, the wallet's
//! transactions with their net effect and fee, raw transactions.
//!
//! Recorded transactions (signed by the wallet, see `outgoing`) count as unconfirmed until the
//! chain shows them: their inputs are spent and their outputs to the wallet's scripts are the
//! wallet's. Failed ones count for nothing.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;

use elements::confidential::{AssetBlindingFactor, ValueBlindingFactor};
use elements::{AssetId, OutPoint, Transaction, TxOut, Txid};
use rusqlite::OptionalExtension;

use super::tx_rows::parse_txid;
use super::{keychain_from_db, Store};
use crate::descriptor::Keychain;
use crate::unblind::TxOutSecrets;
use crate::{Error, Result};

/// An unspent output of the wallet, with everything needed to spend it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletUtxo {
    /// Where it is.
    pub outpoint: OutPoint,
    /// The output as on the chain.
    pub txout: TxOut,
    /// Value, asset and blinding factors.
    pub secrets: TxOutSecrets,
    /// Keychain of its script.
    pub keychain: Keychain,
    /// Derivation index of its script.
    pub index: u32,
    /// Confirmation height; `None` while in the mempool or pending.
    pub height: Option<u32>,
    /// Explicit (public) value and asset: paid to an unconfidential address.
    pub explicit: bool,
    /// Who holds it reserved (e.g. an open offer): never selected while reserved.
    pub reserved_by: Option<String>,
}

/// One of the wallet's outputs (spent or not) as the store holds it: what a PSET view needs
/// to recognise an input as the wallet's and what signing it commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedCoin {
    /// The output as on the chain (its commitments and script).
    pub txout: TxOut,
    /// Value, asset and blinding factors.
    pub secrets: TxOutSecrets,
    /// Keychain of its script.
    pub keychain: Keychain,
    /// Derivation index of its script.
    pub index: u32,
}

/// Confirmed and unconfirmed amounts of one asset, in base units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    /// In outputs of confirmed transactions.
    pub confirmed: u64,
    /// In outputs of transactions in the mempool or pending.
    pub unconfirmed: u64,
}

/// Where a wallet transaction stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TxStatus {
    /// In a block of the best chain.
    Confirmed,
    /// In the backend's mempool.
    Mempool,
    /// Recorded before broadcast, not seen by the backend yet.
    Pending,
}

impl TxStatus {
    /// "confirmed", "mempool" or "pending".
    pub fn as_str(self) -> &'static str {
        match self {
            TxStatus::Confirmed => "confirmed",
            TxStatus::Mempool => "mempool",
            TxStatus::Pending => "pending",
        }
    }
}

/// One of the wallet's transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletTx {
    /// The transaction id.
    pub txid: Txid,
    /// Confirmation height.
    pub height: Option<u32>,
    /// Block time when confirmed, else when the wallet first saw it (seconds since the epoch).
    pub time: Option<u64>,
    /// The hash of the block that confirmed it.
    pub block_hash: Option<elements::BlockHash>,
    /// Confirmed, mempool or pending.
    pub status: TxStatus,
    /// Per asset, what the wallet received minus what it spent (zero entries left out).
    pub net: BTreeMap<AssetId, i64>,
    /// The transaction's fee (its explicit fee outputs), whoever paid it.
    pub fee: u64,
}

/// SQL condition: output `o` is not spent by a transaction that counts (not failed).
const UNSPENT: &str = "NOT EXISTS (SELECT 1 FROM spends s JOIN txs st ON st.txid = s.txid
                      WHERE s.prev_txid = o.txid AND s.prev_vout = o.vout AND st.pending < 2)";

fn row_u32(v: i64) -> rusqlite::Result<u32> {
    u32::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, v))
}

pub(super) fn parse_secrets(
    value: i64,
    asset: &str,
    vbf: &str,
    abf: &str,
    explicit: bool,
) -> Result<TxOutSecrets> {
    let bad = |what: &str| Error::Storage(format!("bad {what} in the store's outputs"));
    Ok(TxOutSecrets {
        value: u64::try_from(value).map_err(|_| bad("value"))?,
        asset: AssetId::from_str(asset).map_err(|_| bad("asset"))?,
        value_bf: ValueBlindingFactor::from_str(vbf).map_err(|_| bad("value blinder"))?,
        asset_bf: AssetBlindingFactor::from_str(abf).map_err(|_| bad("asset blinder"))?,
        explicit,
    })
}

impl Store {
    /// The wallet's unspent outputs (confirmed first, by height), including those of pending
    /// transactions and explicit ones. Reads the store only.
    pub fn utxos(&self) -> Result<Vec<WalletUtxo>> {
        let q = |e| self.err("cannot list unspent outputs", e);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT o.txid, o.vout, o.txout, o.keychain, o.idx, o.value, o.asset,
                            o.value_bf, o.asset_bf, o.explicit, t.height, r.holder
                     FROM outputs o JOIN txs t ON t.txid = o.txid
                     LEFT JOIN reservations r ON r.txid = o.txid AND r.vout = o.vout
                     WHERE t.pending < 2 AND {UNSPENT}
                     ORDER BY t.height IS NULL, t.height, o.txid, o.vout"
            ))
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(q)? {
            let txid: String = r.get(0).map_err(q)?;
            let raw: Vec<u8> = r.get(2).map_err(q)?;
            let txout: TxOut = elements::encode::deserialize(&raw)
                .map_err(|e| Error::Storage(format!("bad output in the store: {e}")))?;
            let explicit = r.get::<_, i64>(9).map_err(q)? != 0;
            let secrets = parse_secrets(
                r.get(5).map_err(q)?,
                &r.get::<_, String>(6).map_err(q)?,
                &r.get::<_, String>(7).map_err(q)?,
                &r.get::<_, String>(8).map_err(q)?,
                explicit,
            )?;
            out.push(WalletUtxo {
                outpoint: OutPoint::new(
                    parse_txid(&txid)?,
                    row_u32(r.get(1).map_err(q)?).map_err(q)?,
                ),
                txout,
                secrets,
                keychain: keychain_from_db(r.get(3).map_err(q)?).map_err(q)?,
                index: row_u32(r.get(4).map_err(q)?).map_err(q)?,
                height: r
                    .get::<_, Option<i64>>(10)
                    .map_err(q)?
                    .map(row_u32)
                    .transpose()
                    .map_err(q)?,
                explicit,
                reserved_by: r.get(11).map_err(q)?,
            });
        }
        Ok(out)
    }

    /// The unspent outputs coin selection may use: [`Store::utxos`] less the reserved ones.
    pub fn spendable_utxos(&self) -> Result<Vec<WalletUtxo>> {
        let mut utxos = self.utxos()?;
        utxos.retain(|u| u.reserved_by.is_none());
        Ok(utxos)
    }

    /// Per asset, the confirmed and unconfirmed value of the unspent outputs. Reads the store
    /// only; sums are checked.
    pub fn balances(&self) -> Result<BTreeMap<AssetId, Balance>> {
        let q = |e| self.err("cannot compute balances", e);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT o.asset, o.value, t.height IS NOT NULL
                     FROM outputs o JOIN txs t ON t.txid = o.txid
                     WHERE t.pending < 2 AND {UNSPENT}"
            ))
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out: BTreeMap<AssetId, Balance> = BTreeMap::new();
        let overflow = || Error::Storage("a balance overflows 64 bits".to_owned());
        while let Some(r) = rows.next().map_err(q)? {
            let asset: String = r.get(0).map_err(q)?;
            let asset = AssetId::from_str(&asset)
                .map_err(|_| Error::Storage(format!("bad asset '{asset}' in the store")))?;
            let value = u64::try_from(r.get::<_, i64>(1).map_err(q)?)
                .map_err(|_| Error::Storage("negative value in the store".to_owned()))?;
            let confirmed = r.get::<_, bool>(2).map_err(q)?;
            let b = out.entry(asset).or_default();
            let slot = if confirmed {
                &mut b.confirmed
            } else {
                &mut b.unconfirmed
            };
            *slot = slot.checked_add(value).ok_or_else(overflow)?;
        }
        Ok(out)
    }

    /// The wallet's transactions, unconfirmed first, then newest block first; at most `limit`.
    pub fn transactions(&self, limit: Option<usize>) -> Result<Vec<WalletTx>> {
        let q = |e| self.err("cannot list transactions", e);
        let limit = limit
            .map(|l| i64::try_from(l).unwrap_or(i64::MAX))
            .unwrap_or(-1);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.txid, t.height, t.pending, t.fee, t.first_seen, b.time, b.hash
                 FROM txs t LEFT JOIN blocks b ON b.height = t.height
                 WHERE t.pending < 2
                 ORDER BY t.height IS NOT NULL, t.height DESC, t.first_seen DESC, t.txid
                 LIMIT ?1",
            )
            .map_err(q)?;
        let mut rows = stmt.query([limit]).map_err(q)?;
        let mut txs = Vec::new();
        while let Some(r) = rows.next().map_err(q)? {
            let txid: String = r.get(0).map_err(q)?;
            let height: Option<i64> = r.get(1).map_err(q)?;
            let pending = r.get::<_, i64>(2).map_err(q)? != 0;
            let fee: i64 = r.get(3).map_err(q)?;
            let first_seen: i64 = r.get(4).map_err(q)?;
            let block_time: Option<i64> = r.get(5).map_err(q)?;
            let block_hash: Option<String> = r.get(6).map_err(q)?;
            let status = match (height, pending) {
                (Some(_), _) => TxStatus::Confirmed,
                (None, true) => TxStatus::Pending,
                (None, false) => TxStatus::Mempool,
            };
            txs.push(WalletTx {
                txid: parse_txid(&txid)?,
                height: height.map(row_u32).transpose().map_err(q)?,
                time: match status {
                    TxStatus::Confirmed => block_time.and_then(|t| u64::try_from(t).ok()),
                    _ => u64::try_from(first_seen).ok(),
                },
                block_hash: match (status, block_hash) {
                    (TxStatus::Confirmed, Some(h)) => Some(h.parse().map_err(|_| {
                        Error::Storage("bad block hash in the store's blocks".to_owned())
                    })?),
                    _ => None,
                },
                status,
                net: BTreeMap::new(),
                fee: u64::try_from(fee).unwrap_or(0),
            });
        }
        let nets = self.net_effects()?;
        for t in &mut txs {
            if let Some(net) = nets.get(&t.txid) {
                t.net = net.clone();
                t.net.retain(|_, v| *v != 0);
            }
        }
        Ok(txs)
    }

    /// Per stored transaction: the wallet's outputs in it minus the wallet's outputs it spends.
    fn net_effects(&self) -> Result<HashMap<Txid, BTreeMap<AssetId, i64>>> {
        let q = |e| self.err("cannot compute net effects", e);
        let mut out: HashMap<Txid, BTreeMap<AssetId, i64>> = HashMap::new();
        let overflow = || Error::Storage("a net effect overflows 64 bits".to_owned());
        for (sql, sign) in [
            ("SELECT txid, asset, value FROM outputs", 1i64),
            (
                "SELECT s.txid, o.asset, o.value FROM spends s
                 JOIN outputs o ON o.txid = s.prev_txid AND o.vout = s.prev_vout",
                -1i64,
            ),
        ] {
            let mut stmt = self.conn.prepare(sql).map_err(q)?;
            let mut rows = stmt.query([]).map_err(q)?;
            while let Some(r) = rows.next().map_err(q)? {
                let txid = parse_txid(&r.get::<_, String>(0).map_err(q)?)?;
                let asset: String = r.get(1).map_err(q)?;
                let asset = AssetId::from_str(&asset)
                    .map_err(|_| Error::Storage(format!("bad asset '{asset}' in the store")))?;
                let value: i64 = r.get(2).map_err(q)?;
                let delta = value.checked_mul(sign).ok_or_else(overflow)?;
                let e = out.entry(txid).or_default().entry(asset).or_insert(0);
                *e = e.checked_add(delta).ok_or_else(overflow)?;
            }
        }
        Ok(out)
    }

    /// A stored transaction (the wallet's, or pending), offline.
    pub fn transaction(&self, txid: &Txid) -> Result<Option<Transaction>> {
        let raw: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT raw FROM txs WHERE txid = ?1",
                [txid.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("cannot read a transaction", e))?;
        raw.map(|raw| {
            elements::encode::deserialize(&raw)
                .map_err(|e| Error::Storage(format!("bad transaction {txid} in the store: {e}")))
        })
        .transpose()
    }

    /// Every stored output of the wallet, spent or not (failed transactions left out): what
    /// a PSET view recognises as the wallet's coins and shows unblinded.
    pub fn coins(&self) -> Result<HashMap<OutPoint, OwnedCoin>> {
        let q = |e| self.err("cannot read outputs", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT o.txid, o.vout, o.keychain, o.idx, o.value, o.asset, o.value_bf,
                        o.asset_bf, o.explicit, o.txout
                 FROM outputs o JOIN txs t ON t.txid = o.txid WHERE t.pending < 2",
            )
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next().map_err(q)? {
            let txid = parse_txid(&r.get::<_, String>(0).map_err(q)?)?;
            let vout = row_u32(r.get(1).map_err(q)?).map_err(q)?;
            let secrets = parse_secrets(
                r.get(4).map_err(q)?,
                &r.get::<_, String>(5).map_err(q)?,
                &r.get::<_, String>(6).map_err(q)?,
                &r.get::<_, String>(7).map_err(q)?,
                r.get::<_, i64>(8).map_err(q)? != 0,
            )?;
            let raw: Vec<u8> = r.get(9).map_err(q)?;
            let txout: TxOut = elements::encode::deserialize(&raw)
                .map_err(|e| Error::Storage(format!("bad output in the store: {e}")))?;
            out.insert(
                OutPoint::new(txid, vout),
                OwnedCoin {
                    txout,
                    secrets,
                    keychain: keychain_from_db(r.get(2).map_err(q)?).map_err(q)?,
                    index: row_u32(r.get(3).map_err(q)?).map_err(q)?,
                },
            );
        }
        Ok(out)
    }

    /// The stored transactions that spend `outpoint` and count (on the chain or recorded by
    /// the wallet; failed ones do not), each with whether it is on the chain.
    pub fn spenders(&self, outpoint: &OutPoint) -> Result<Vec<(Txid, bool)>> {
        let q = |e| self.err("cannot read spends", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.txid, t.pending FROM spends s JOIN txs t ON t.txid = s.txid
                 WHERE s.prev_txid = ?1 AND s.prev_vout = ?2 AND t.pending < 2
                 ORDER BY s.txid",
            )
            .map_err(q)?;
        let rows = stmt
            .query_map(
                rusqlite::params![outpoint.txid.to_string(), i64::from(outpoint.vout)],
                |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)),
            )
            .map_err(q)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(q)?;
        rows.into_iter()
            .map(|(txid, pending)| Ok((parse_txid(&txid)?, pending == 0)))
            .collect()
    }

    /// The secrets of every stored output of the wallet, spent or not (for showing inputs of a
    /// transaction unblinded): outpoint → (secrets, keychain, index).
    pub fn owned_outputs(&self) -> Result<HashMap<OutPoint, (TxOutSecrets, Keychain, u32)>> {
        Ok(self
            .coins()?
            .into_iter()
            .map(|(op, c)| (op, (c.secrets, c.keychain, c.index)))
            .collect())
    }
}
