//! Schema v4: the transactions the wallet makes, from the moment they are signed.
//!
//! A signed transaction is recorded (with every row the operation moves: its outputs to the
//! wallet, the secrets of the outputs it pays to others, issuance records, ledger rows) in ONE
//! SQLite transaction before it is broadcast, so that a crash never loses change or forgets a
//! spend. It then moves through these states, kept in `txs.pending`:
//!
//! | `pending` | state | counts in balances and coin selection |
//! |---|---|---|
//! | 0 | seen on the chain (a script history lists it) | yes |
//! | 1 | recorded; `broadcast_at` set once a server accepted it | yes, as unconfirmed |
//! | 2 | failed: refused by the server, conflicting with a chain transaction, unknown to the server long after its broadcast, or spending an output of a failed one (`failure` says which) | no |
//!
//! A failed transaction that a history lists after all becomes an ordinary chain transaction
//! again. Coins can also be *reserved* (a DvP offer holds its inputs until the deal ends):
//! reserved coins are listed but never selected.

use std::collections::HashMap;
use std::str::FromStr;

use elements::hex::DisplayHex;
use elements::{AssetId, OutPoint, Script, Transaction, TxOut, Txid};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::issuances::{insert_asset_event, insert_issuance, AssetEventKind, IssuanceRecord};
use super::tx_rows::{insert_tx, parse_txid, NewTx, OwnedOutput};
use super::{now_secs, storage_err, Store};
use crate::unblind::TxOutSecrets;
use crate::{Error, Result};

pub(super) const MIGRATION_V4: &str = "
    ALTER TABLE txs ADD COLUMN kind TEXT;
    ALTER TABLE txs ADD COLUMN broadcast_at INTEGER;
    ALTER TABLE txs ADD COLUMN failure TEXT;
    CREATE TABLE sent_outputs (
        commitment TEXT PRIMARY KEY,
        address TEXT,
        script BLOB NOT NULL,
        value INTEGER NOT NULL CHECK (value >= 0),
        asset TEXT NOT NULL,
        value_bf TEXT NOT NULL,
        asset_bf TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE reservations (
        txid TEXT NOT NULL,
        vout INTEGER NOT NULL CHECK (vout >= 0),
        holder TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (txid, vout)
    );
    CREATE INDEX reservations_holder ON reservations(holder);";

/// Schema v8: `kept_outputs`, the secrets of the wallet's own confidential outputs in a PSET it
/// signed for someone else to broadcast, by asset and value commitment (see
/// [`Store::note_signed`]). Apart from `sent_outputs`, which says what the wallet paid others.
pub(super) const MIGRATION_V8: &str = "
    CREATE TABLE kept_outputs (
        commitment TEXT PRIMARY KEY,
        script BLOB NOT NULL,
        value INTEGER NOT NULL CHECK (value >= 0),
        asset TEXT NOT NULL,
        value_bf TEXT NOT NULL,
        asset_bf TEXT NOT NULL,
        created_at INTEGER NOT NULL
    );";

/// What made a transaction the wallet signed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxKind {
    /// A payment (`send`).
    Payment,
    /// A PSET signed elsewhere or here and broadcast with `pset broadcast`.
    Pset,
    /// A new asset.
    Issuance,
    /// More of an asset.
    Reissuance,
    /// An amount destroyed.
    Burn,
    /// A DvP swap settled with a counterparty.
    Swap,
    /// A spend of the wallet's own coin that voids an offer.
    Cancel,
    /// Peg-outs to the Bitcoin chain.
    Pegout,
}

impl TxKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            TxKind::Payment => "payment",
            TxKind::Pset => "pset",
            TxKind::Issuance => "issuance",
            TxKind::Reissuance => "reissuance",
            TxKind::Burn => "burn",
            TxKind::Swap => "swap",
            TxKind::Cancel => "cancel",
            TxKind::Pegout => "pegout",
        }
    }
}

/// Where a transaction the wallet recorded stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutgoingState {
    /// Recorded before broadcast; no server has accepted it yet (a crash, or the server could
    /// not be reached): `tx rebroadcast` sends it.
    Recorded,
    /// A server accepted it at this time (seconds since the epoch); not seen in a history yet.
    Broadcast(u64),
    /// It will not confirm as it is, and no longer counts: the reason.
    Failed(String),
}

/// A recorded transaction not (yet) seen on the chain.
#[derive(Clone, Debug)]
pub struct PendingTx {
    /// The signed transaction.
    pub tx: Transaction,
    /// What made it, when the wallet recorded it itself.
    pub kind: Option<String>,
    /// Where it stands.
    pub state: OutgoingState,
    /// When it was recorded (seconds since the epoch).
    pub recorded_at: u64,
}

/// A confidential output the wallet blinded for someone else, with the secrets it blinded it
/// with: what the wallet paid, which only the wallet and the payee can read on the chain.
/// Kept by the output's commitments, which signing does not change, so that a PSET built
/// here and signed elsewhere is read back too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentOutput {
    /// The address paid (confidential).
    pub address: Option<String>,
    /// The script paid.
    pub script: Script,
    /// Amount, asset and the blinding factors used.
    pub secrets: TxOutSecrets,
}

/// The key of a confidential output in `sent_outputs`: its asset and value commitments.
fn commitment_key(txout: &TxOut) -> Option<String> {
    if !txout.value.is_confidential() || !txout.asset.is_confidential() {
        return None;
    }
    let mut bytes = elements::encode::serialize(&txout.asset);
    bytes.extend(elements::encode::serialize(&txout.value));
    Some(bytes.to_lower_hex_string())
}

/// Rows of another ledger (deals, peg-out requests) that a commit writes in the same SQLite
/// transaction as the signed transaction it records.
pub(crate) trait LedgerChange {
    /// Writes the rows; an error rolls the whole commit back.
    fn apply(&self, db: &rusqlite::Transaction<'_>, txid: &Txid) -> Result<()>;
}

/// Everything one commit writes, in one SQLite transaction, before its broadcast.
pub(crate) struct OutgoingTx<'a> {
    /// The signed transaction.
    pub tx: &'a Transaction,
    /// What made it.
    pub kind: TxKind,
    /// Its outputs to the wallet, unblinded.
    pub owned: Vec<OwnedOutput>,
    /// Its outputs to others that the wallet blinded, with the outputs themselves.
    pub sent: Vec<(TxOut, SentOutput)>,
    /// A new asset it issues.
    pub issuance: Option<IssuanceRecord>,
    /// A reissuance or burn it makes.
    pub asset_event: Option<(AssetId, AssetEventKind, u64)>,
    /// Reservations it ends (a settled or cancelled offer's coins).
    pub release_holder: Option<String>,
    /// Rows of other ledgers.
    pub ledger: Vec<&'a dyn LedgerChange>,
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Storage(format!("{what} {v} is out of range")))
}

fn row_u32(v: i64) -> rusqlite::Result<u32> {
    u32::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, v))
}

/// Marks `txid` failed with `reason`, and every recorded transaction that spends one of its
/// outputs (recursively). Returns the transactions newly marked, with their reasons.
pub(super) fn fail_with_descendants(
    db: &rusqlite::Transaction<'_>,
    txid: &str,
    reason: &str,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut marked = Vec::new();
    let n = db.execute(
        "UPDATE txs SET pending = 2, failure = ?2 WHERE txid = ?1 AND pending = 1",
        params![txid, reason],
    )?;
    if n > 0 {
        marked.push((txid.to_owned(), reason.to_owned()));
    }
    marked.extend(fail_children_of_failed(db)?);
    Ok(marked)
}

/// Marks failed every recorded transaction that spends an output of a failed one, until none
/// is left. Returns what it marked.
pub(super) fn fail_children_of_failed(
    db: &rusqlite::Transaction<'_>,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut marked = Vec::new();
    loop {
        let mut stmt = db.prepare(
            "SELECT DISTINCT t.txid, p.txid FROM txs t
               JOIN spends s ON s.txid = t.txid
               JOIN txs p ON p.txid = s.prev_txid AND p.pending = 2
             WHERE t.pending = 1",
        )?;
        let children: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if children.is_empty() {
            return Ok(marked);
        }
        for (child, parent) in children {
            let reason = format!("it spends an output of {parent}, which failed");
            db.execute(
                "UPDATE txs SET pending = 2, failure = ?2 WHERE txid = ?1 AND pending = 1",
                params![child, reason],
            )?;
            marked.push((child, reason));
        }
    }
}

/// Inserts the secrets of outputs the wallet blinded for others inside `db`.
fn insert_sent(db: &rusqlite::Transaction<'_>, sent: &[(TxOut, SentOutput)]) -> Result<()> {
    for (txout, out) in sent {
        let Some(key) = commitment_key(txout) else {
            continue;
        };
        db.execute(
            "INSERT OR REPLACE INTO sent_outputs
             (commitment, address, script, value, asset, value_bf, asset_bf, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                key,
                out.address,
                out.script.as_bytes(),
                to_i64(out.secrets.value, "amount")?,
                out.secrets.asset.to_string(),
                out.secrets.value_bf.to_string(),
                out.secrets.asset_bf.to_string(),
                to_i64(now_secs(), "time")?,
            ],
        )
        .map_err(|e| Error::Storage(format!("cannot record what a transaction pays: {e}")))?;
    }
    Ok(())
}

impl Store {
    /// Writes `record` in ONE immediate transaction: the signed transaction as recorded (state
    /// 1), its outputs to the wallet, the secrets of its outputs to others, the issuance or
    /// asset event it makes, the reservations it ends and the rows of other ledgers. Recording
    /// a transaction already stored changes nothing but the ledgers' rows.
    pub(crate) fn record_outgoing(&mut self, record: &OutgoingTx<'_>) -> Result<()> {
        let path = self.path.clone();
        let e = |what: &'static str| {
            let path = path.clone();
            move |err| storage_err(&path, what, err)
        };
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e("cannot lock the wallet database"))?;
        let txid = record.tx.txid();
        let new = NewTx {
            tx: record.tx.clone(),
            outputs: record.owned.clone(),
        };
        insert_tx(&db, &new, true).map_err(e("cannot record the signed transaction"))?;
        db.execute(
            "UPDATE txs SET kind = ?2 WHERE txid = ?1 AND kind IS NULL",
            params![txid.to_string(), record.kind.as_str()],
        )
        .map_err(e("cannot record the signed transaction"))?;
        insert_sent(&db, &record.sent)?;
        if let Some(issuance) = &record.issuance {
            insert_issuance(&db, issuance).map_err(e("cannot record the issuance"))?;
        }
        if let Some((asset, kind, amount)) = &record.asset_event {
            insert_asset_event(&db, &txid, asset, *kind, *amount)
                .map_err(e("cannot record the asset event"))?;
        }
        if let Some(holder) = &record.release_holder {
            db.execute("DELETE FROM reservations WHERE holder = ?1", [holder])
                .map_err(e("cannot release reserved coins"))?;
        }
        for change in &record.ledger {
            change.apply(&db, &txid)?;
        }
        db.commit()
            .map_err(e("cannot commit the signed transaction"))
    }

    /// Notes that a server accepted recorded transaction `txid` (a failed one counts again:
    /// the server took it after all).
    pub(crate) fn mark_broadcast(&mut self, txid: &Txid) -> Result<()> {
        self.conn
            .execute(
                "UPDATE txs SET pending = 1, failure = NULL, broadcast_at = ?2
                 WHERE txid = ?1 AND pending > 0",
                params![txid.to_string(), to_i64(now_secs(), "time")?],
            )
            .map(drop)
            .map_err(|e| self.err("cannot note the broadcast", e))
    }

    /// Marks recorded transaction `txid` failed (it stops counting), with every recorded
    /// transaction spending its outputs. Returns those marked.
    pub(crate) fn mark_failed(&mut self, txid: &Txid, reason: &str) -> Result<Vec<(Txid, String)>> {
        let path = self.path.clone();
        let q = |err| storage_err(&path, "cannot mark the transaction failed", err);
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(q)?;
        let marked = fail_with_descendants(&db, &txid.to_string(), reason).map_err(q)?;
        db.commit().map_err(q)?;
        marked
            .into_iter()
            .map(|(t, r)| Ok((parse_txid(&t)?, r)))
            .collect()
    }

    /// The recorded transactions not seen on the chain: pending ones and failed ones, oldest
    /// first.
    pub fn pending(&self) -> Result<Vec<PendingTx>> {
        let q = |e| self.err("cannot list pending transactions", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT raw, kind, pending, broadcast_at, failure, first_seen FROM txs
                 WHERE pending > 0 ORDER BY first_seen, txid",
            )
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(q)? {
            let raw: Vec<u8> = r.get(0).map_err(q)?;
            let tx = elements::encode::deserialize(&raw).map_err(|e| {
                Error::Storage(format!("bad pending transaction in the store: {e}"))
            })?;
            let state = match (
                r.get::<_, i64>(2).map_err(q)?,
                r.get::<_, Option<i64>>(3).map_err(q)?,
                r.get::<_, Option<String>>(4).map_err(q)?,
            ) {
                (2, _, reason) => OutgoingState::Failed(reason.unwrap_or_default()),
                (_, Some(at), _) => OutgoingState::Broadcast(u64::try_from(at).unwrap_or(0)),
                _ => OutgoingState::Recorded,
            };
            out.push(PendingTx {
                tx,
                kind: r.get(1).map_err(q)?,
                state,
                recorded_at: u64::try_from(r.get::<_, i64>(5).map_err(q)?).unwrap_or(0),
            });
        }
        Ok(out)
    }

    /// Forgets a recorded transaction not seen on the chain (pending or failed): its inputs
    /// become unspent again. A transaction the chain has shown is left alone; an unknown txid
    /// does nothing. Returns whether it forgot one.
    pub(crate) fn forget_pending(&mut self, txid: &Txid) -> Result<bool> {
        self.conn
            .execute(
                "DELETE FROM txs WHERE txid = ?1 AND pending > 0",
                [txid.to_string()],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err("cannot forget the pending transaction", e))
    }

    /// Keeps the secrets of the outputs the wallet blinded for others (one transaction): a
    /// PSET built here is read back whoever signs and broadcasts it.
    pub(crate) fn record_sent(&mut self, sent: &[(TxOut, SentOutput)]) -> Result<()> {
        let path = self.path.clone();
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| storage_err(&path, "cannot lock the wallet database", e))?;
        insert_sent(&db, sent)?;
        db.commit()
            .map_err(|e| storage_err(&path, "cannot record what a transaction pays", e))
    }

    /// Keeps, in one transaction, the secrets of the wallet's own confidential outputs (output,
    /// script, secrets) in a PSET it signs for someone else to broadcast, by their commitments:
    /// its rangeproofs are witness data that no signature covers, so whoever broadcasts can
    /// swap one for a proof the wallet's key does not rewind; sync then reads the output with
    /// these ([`Store::kept_secrets`]). A row already kept is left as it is.
    pub(crate) fn note_signed(&mut self, outputs: &[(TxOut, Script, TxOutSecrets)]) -> Result<()> {
        let path = self.path.clone();
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| storage_err(&path, "cannot lock the wallet database", e))?;
        for (txout, script, secrets) in outputs {
            let Some(key) = commitment_key(txout) else {
                continue;
            };
            db.execute(
                "INSERT OR IGNORE INTO kept_outputs
                 (commitment, script, value, asset, value_bf, asset_bf, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    key,
                    script.as_bytes(),
                    to_i64(secrets.value, "amount")?,
                    secrets.asset.to_string(),
                    secrets.value_bf.to_string(),
                    secrets.asset_bf.to_string(),
                    to_i64(now_secs(), "time")?,
                ],
            )
            .map_err(|e| storage_err(&path, "cannot keep what the signed PSET pays", e))?;
        }
        db.commit()
            .map_err(|e| storage_err(&path, "cannot keep what the signed PSET pays", e))
    }

    /// The outputs of `tx` whose secrets [`Store::note_signed`] kept, by output index: only
    /// those paying the kept script whose kept secrets open the output's commitments.
    pub fn kept_secrets(&self, tx: &Transaction) -> Result<Vec<(u32, TxOutSecrets)>> {
        let rows = self.records_opening(
            tx,
            "SELECT NULL, script, value, asset, value_bf, asset_bf FROM kept_outputs
             WHERE commitment = ?1",
            "cannot read the kept secrets of an output",
        )?;
        Ok(rows
            .into_iter()
            .map(|(vout, o)| (vout, o.secrets))
            .collect())
    }

    /// The outputs of `tx` that the wallet blinded for others, by output index, with what it
    /// blinded them with.
    pub fn sent_outputs(&self, tx: &Transaction) -> Result<Vec<(u32, SentOutput)>> {
        self.records_opening(
            tx,
            "SELECT address, script, value, asset, value_bf, asset_bf FROM sent_outputs
             WHERE commitment = ?1",
            "cannot read what a transaction paid",
        )
    }

    /// For each confidential output of `tx`, the row `sql` selects by its commitments
    /// (address, script, value, asset, value_bf, asset_bf), kept only when it pays the
    /// recorded script and the recorded secrets open it: a record is only a reading aid.
    fn records_opening(
        &self,
        tx: &Transaction,
        sql: &str,
        what: &'static str,
    ) -> Result<Vec<(u32, SentOutput)>> {
        let q = |e| self.err(what, e);
        let mut stmt = self.conn.prepare(sql).map_err(q)?;
        let mut out = Vec::new();
        for (vout, txout) in tx.output.iter().enumerate() {
            let Some(key) = commitment_key(txout) else {
                continue;
            };
            let mut rows = stmt.query([key]).map_err(q)?;
            let Some(r) = rows.next().map_err(q)? else {
                continue;
            };
            let secrets = super::views::parse_secrets(
                r.get(2).map_err(q)?,
                &r.get::<_, String>(3).map_err(q)?,
                &r.get::<_, String>(4).map_err(q)?,
                &r.get::<_, String>(5).map_err(q)?,
                false,
            )?;
            let script = Script::from(r.get::<_, Vec<u8>>(1).map_err(q)?);
            if script != txout.script_pubkey || !secrets.opens(txout) {
                continue;
            }
            out.push((
                u32::try_from(vout).map_err(|_| Error::Storage("too many outputs".to_owned()))?,
                SentOutput {
                    address: r.get(0).map_err(q)?,
                    script,
                    secrets,
                },
            ));
        }
        Ok(out)
    }

    /// Reserves `outpoints` for `holder` (e.g. `deal:<id>`) in one transaction; refuses when
    /// one is already reserved by another holder.
    #[allow(dead_code)] // the offer flow builds on it
    pub(crate) fn reserve(&mut self, outpoints: &[OutPoint], holder: &str) -> Result<()> {
        let path = self.path.clone();
        let q = |err| storage_err(&path, "cannot reserve coins", err);
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(q)?;
        for op in outpoints {
            let other: Option<String> = db
                .query_row(
                    "SELECT holder FROM reservations WHERE txid = ?1 AND vout = ?2",
                    params![op.txid.to_string(), i64::from(op.vout)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(q)?;
            match other {
                Some(h) if h != holder => {
                    return Err(Error::Transaction(format!(
                        "coin {}:{} is already reserved by {h}",
                        op.txid, op.vout
                    )))
                }
                Some(_) => {}
                None => {
                    db.execute(
                        "INSERT INTO reservations (txid, vout, holder, created_at)
                         VALUES (?1, ?2, ?3, ?4)",
                        params![
                            op.txid.to_string(),
                            i64::from(op.vout),
                            holder,
                            to_i64(now_secs(), "time")?
                        ],
                    )
                    .map_err(q)?;
                }
            }
        }
        db.commit().map_err(q)
    }

    /// Ends every reservation of `holder`.
    #[allow(dead_code)] // the offer flow builds on it
    pub(crate) fn release(&mut self, holder: &str) -> Result<()> {
        self.conn
            .execute("DELETE FROM reservations WHERE holder = ?1", [holder])
            .map(drop)
            .map_err(|e| self.err("cannot release reserved coins", e))
    }

    /// Every reserved coin and its holder.
    pub fn reservations(&self) -> Result<HashMap<OutPoint, String>> {
        let q = |e| self.err("cannot read reservations", e);
        let mut stmt = self
            .conn
            .prepare("SELECT txid, vout, holder FROM reservations")
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next().map_err(q)? {
            let txid = Txid::from_str(&r.get::<_, String>(0).map_err(q)?)
                .map_err(|_| Error::Storage("bad txid in reservations".to_owned()))?;
            let vout = row_u32(r.get(1).map_err(q)?).map_err(q)?;
            out.insert(OutPoint::new(txid, vout), r.get(2).map_err(q)?);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain::HistoryEntry;
    use crate::descriptor::Keychain;
    use crate::network::Network;
    use crate::store::{ScriptRecord, SyncUpdate, WalletMeta};

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let meta = WalletMeta {
            name: "w".to_owned(),
            network: Network::Regtest,
            descriptor: "d".to_owned(),
            fingerprint: None,
            watch_only: true,
            created_at: 1,
        };
        let store = Store::create(&dir.path().join("w.sqlite"), &meta).unwrap();
        (dir, store)
    }

    /// A transaction spending `prev` and paying `value` to a fee output.
    fn spend(prev: OutPoint, value: u64) -> Transaction {
        Transaction {
            version: 2,
            lock_time: elements::LockTime::ZERO,
            input: vec![elements::TxIn {
                previous_output: prev,
                ..Default::default()
            }],
            output: vec![elements::TxOut::new_fee(
                value,
                Network::Regtest.default_policy_asset(),
            )],
        }
    }

    fn record(store: &mut Store, tx: &Transaction) {
        store
            .record_outgoing(&OutgoingTx {
                tx,
                kind: TxKind::Payment,
                owned: Vec::new(),
                sent: Vec::new(),
                issuance: None,
                asset_event: None,
                release_holder: None,
                ledger: Vec::new(),
            })
            .unwrap();
    }

    fn state(store: &Store, txid: &Txid) -> Option<OutgoingState> {
        store
            .pending()
            .unwrap()
            .into_iter()
            .find(|p| p.tx.txid() == *txid)
            .map(|p| p.state)
    }

    fn coin() -> OutPoint {
        OutPoint::new(Txid::from_byte_array([7; 32]), 0)
    }

    #[test]
    fn a_broadcast_transaction_the_server_forgot_is_dropped_after_the_grace_period() {
        let (_dir, mut store) = store();
        let tx = spend(coin(), 100);
        let child = spend(OutPoint::new(tx.txid(), 0), 50);
        record(&mut store, &tx);
        record(&mut store, &child);
        store.mark_broadcast(&tx.txid()).unwrap();
        // Within the grace period: still pending.
        let failed = store
            .apply_sync(&SyncUpdate {
                drop_unseen_broadcast_before: Some(now_secs().saturating_sub(60)),
                ..SyncUpdate::default()
            })
            .unwrap();
        assert!(failed.is_empty(), "{failed:?}");
        assert!(matches!(
            state(&store, &tx.txid()),
            Some(OutgoingState::Broadcast(_))
        ));
        // Past it, unseen: dropped, and so is the transaction spending its output; the one
        // never broadcast is kept by the grace rule but fails as a descendant.
        let failed = store
            .apply_sync(&SyncUpdate {
                drop_unseen_broadcast_before: Some(now_secs() + 1),
                ..SyncUpdate::default()
            })
            .unwrap();
        let txids: Vec<Txid> = failed.iter().map(|(t, _)| *t).collect();
        assert_eq!(txids, vec![tx.txid(), child.txid()]);
        assert!(failed[0].1.starts_with("dropped:"), "{}", failed[0].1);
        assert!(failed[1].1.contains("which failed"), "{}", failed[1].1);
        assert!(matches!(
            state(&store, &child.txid()),
            Some(OutgoingState::Failed(_))
        ));
        // Broadcast again, it counts again.
        store.mark_broadcast(&tx.txid()).unwrap();
        assert!(matches!(
            state(&store, &tx.txid()),
            Some(OutgoingState::Broadcast(_))
        ));
    }

    #[test]
    fn a_recorded_transaction_conflicting_with_a_chain_one_fails_and_one_listed_counts() {
        let (_dir, mut store) = store();
        let ours = spend(coin(), 100);
        record(&mut store, &ours);
        // Another transaction spending the same coin is on the chain (a script's history
        // lists it).
        let theirs = spend(coin(), 200);
        let script = elements::Script::from(vec![0x51]);
        let failed = store
            .apply_sync(&SyncUpdate {
                new_scripts: vec![ScriptRecord {
                    script: script.clone(),
                    keychain: Keychain::External,
                    index: 0,
                    status: None,
                }],
                histories: vec![(
                    script.clone(),
                    vec![HistoryEntry {
                        txid: theirs.txid(),
                        height: 5,
                        fee: None,
                    }],
                    Some("s".to_owned()),
                )],
                new_txs: vec![NewTx {
                    tx: theirs.clone(),
                    outputs: Vec::new(),
                }],
                ..SyncUpdate::default()
            })
            .unwrap();
        assert_eq!(failed.len(), 1, "{failed:?}");
        assert_eq!(failed[0].0, ours.txid());
        assert!(
            failed[0].1.contains(&theirs.txid().to_string()),
            "{}",
            failed[0].1
        );
        // Listed by a history after all: a chain transaction again.
        store
            .apply_sync(&SyncUpdate {
                histories: vec![(
                    script,
                    vec![HistoryEntry {
                        txid: ours.txid(),
                        height: 6,
                        fee: None,
                    }],
                    Some("t".to_owned()),
                )],
                ..SyncUpdate::default()
            })
            .unwrap();
        assert_eq!(
            state(&store, &ours.txid()),
            None,
            "no longer pending or failed"
        );
    }
}
