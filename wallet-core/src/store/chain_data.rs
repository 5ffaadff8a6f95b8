//! Schema v2: what sync learns from the chain, and how one sync is written (one SQLite
//! transaction, so a failed or interrupted sync leaves the store as it was).
//!
//! Tables: `scripts` (the wallet's scripts with keychain, index and the last Electrum status
//! hash), `history` (each script's history as the backend last gave it), `txs` (raw
//! transactions, their height, fee, and whether they are pending: recorded before broadcast
//! and not yet seen on the chain), `outputs` (the wallet's outputs with their unblinded
//! secrets), `spends` (every input of every stored transaction), `blocks` (hash and time of the
//! heights the wallet's transactions are at) and `sync_tip`.
//!
//! A transaction stays stored while at least one script's history lists it (or while it is
//! pending): when a reorg or a mempool eviction takes it out of every history, it is deleted
//! with its outputs and spends, and what it spent becomes unspent again.

use std::collections::{HashMap, HashSet};

use elements::{BlockHash, Script, Txid};
use rusqlite::{params, TransactionBehavior};

use super::tx_rows::{insert_outputs, insert_tx, parse_hash, parse_txid, NewTx};
use super::{keychain_from_db, now_secs, storage_err, Store};
use crate::chain::HistoryEntry;
use crate::descriptor::Keychain;
use crate::{Error, Result};

pub(super) const MIGRATION_V2: &str = "
    CREATE TABLE scripts (
        script BLOB PRIMARY KEY,
        keychain INTEGER NOT NULL CHECK (keychain IN (0, 1)),
        idx INTEGER NOT NULL CHECK (idx >= 0),
        status TEXT,
        UNIQUE (keychain, idx)
    );
    CREATE TABLE history (
        script BLOB NOT NULL REFERENCES scripts(script) ON DELETE CASCADE,
        pos INTEGER NOT NULL,
        txid TEXT NOT NULL,
        height INTEGER NOT NULL,
        PRIMARY KEY (script, pos)
    );
    CREATE INDEX history_txid ON history(txid);
    CREATE TABLE txs (
        txid TEXT PRIMARY KEY,
        raw BLOB NOT NULL,
        height INTEGER,
        fee INTEGER NOT NULL,
        pending INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL
    );
    CREATE TABLE outputs (
        txid TEXT NOT NULL REFERENCES txs(txid) ON DELETE CASCADE,
        vout INTEGER NOT NULL,
        txout BLOB NOT NULL,
        keychain INTEGER NOT NULL CHECK (keychain IN (0, 1)),
        idx INTEGER NOT NULL,
        value INTEGER NOT NULL CHECK (value >= 0),
        asset TEXT NOT NULL,
        value_bf TEXT NOT NULL,
        asset_bf TEXT NOT NULL,
        explicit INTEGER NOT NULL,
        PRIMARY KEY (txid, vout)
    );
    CREATE TABLE spends (
        txid TEXT NOT NULL REFERENCES txs(txid) ON DELETE CASCADE,
        vin INTEGER NOT NULL,
        prev_txid TEXT NOT NULL,
        prev_vout INTEGER NOT NULL,
        PRIMARY KEY (txid, vin)
    );
    CREATE INDEX spends_prev ON spends(prev_txid, prev_vout);
    CREATE TABLE blocks (
        height INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        time INTEGER NOT NULL
    );
    CREATE TABLE sync_tip (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        height INTEGER NOT NULL,
        hash TEXT NOT NULL,
        synced_at INTEGER NOT NULL
    );";

/// One of the wallet's scripts as the store knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptRecord {
    /// The scriptPubKey.
    pub script: Script,
    /// Its keychain.
    pub keychain: Keychain,
    /// Its derivation index.
    pub index: u32,
    /// The Electrum status hash of its last stored history (`None`: no history).
    pub status: Option<String>,
}

/// What the store knows of the chain, as sync needs it to decide what to ask.
#[derive(Clone, Debug, Default)]
pub struct ChainState {
    /// Every script derived so far.
    pub scripts: Vec<ScriptRecord>,
    /// The stored history of each script that has one.
    pub histories: HashMap<Script, Vec<HistoryEntry>>,
    /// Every stored transaction (seen on the chain or pending).
    pub txids: HashSet<Txid>,
    /// Block hashes of the heights stored.
    pub blocks: HashMap<u32, BlockHash>,
    /// The tip of the last sync.
    pub tip: Option<(u32, BlockHash)>,
}

/// Everything one sync writes, applied by [`Store::apply_sync`] in one transaction.
#[derive(Clone, Debug, Default)]
pub struct SyncUpdate {
    /// Drop every stored history first (a full rescan gives them all again).
    pub replace_all_histories: bool,
    /// Scripts derived for the first time (their status is set through `histories`).
    pub new_scripts: Vec<ScriptRecord>,
    /// Histories that changed: script, its whole new history, its status hash.
    pub histories: Vec<(Script, Vec<HistoryEntry>, Option<String>)>,
    /// Transactions not stored yet.
    pub new_txs: Vec<NewTx>,
    /// Outputs to the wallet found in transactions stored before (their script was not
    /// watched when they were stored): recorded beside the stored transaction.
    pub late_outputs: Vec<NewTx>,
    /// Block hash and time of heights (new or changed).
    pub blocks: Vec<(u32, BlockHash, u32)>,
    /// The backend's tip.
    pub tip: Option<(u32, BlockHash)>,
    /// Addresses with history that were never handed out: recorded so that `address new`
    /// continues after them (keychain, index, address).
    pub used_addresses: Vec<(Keychain, u32, String)>,
    /// A recorded transaction that a server accepted before this time (seconds since the
    /// epoch) and that no history lists is dropped: the server does not know it any more
    /// (evicted, expired). `None` keeps them.
    pub drop_unseen_broadcast_before: Option<u64>,
}

fn to_i64(v: u64, what: &str) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Storage(format!("{what} {v} is out of range")))
}

impl Store {
    /// The highest index of `keychain` whose script has history (as of the last sync).
    pub fn last_used_index(&self, keychain: Keychain) -> Result<Option<u32>> {
        let max: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(s.idx) FROM scripts s
                 WHERE s.keychain = ?1 AND EXISTS (SELECT 1 FROM history h WHERE h.script = s.script)",
                [i64::from(keychain.index())],
                |r| r.get(0),
            )
            .map_err(|e| self.err("cannot read the last used address", e))?;
        Ok(max.and_then(|m| u32::try_from(m).ok()))
    }

    /// What the store knows of the chain (scripts, histories, transactions, tip), for sync.
    pub fn chain_state(&self) -> Result<ChainState> {
        let q = |e| self.err("cannot read the sync state", e);
        let mut state = ChainState::default();
        let mut stmt = self
            .conn
            .prepare("SELECT script, keychain, idx, status FROM scripts ORDER BY keychain, idx")
            .map_err(q)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ScriptRecord {
                    script: Script::from(r.get::<_, Vec<u8>>(0)?),
                    keychain: keychain_from_db(r.get(1)?)?,
                    index: u32::try_from(r.get::<_, i64>(2)?)
                        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(2, -1))?,
                    status: r.get(3)?,
                })
            })
            .map_err(q)?;
        state.scripts = rows.collect::<rusqlite::Result<_>>().map_err(q)?;

        let mut stmt = self
            .conn
            .prepare("SELECT script, txid, height FROM history ORDER BY script, pos")
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        while let Some(r) = rows.next().map_err(q)? {
            let script = Script::from(r.get::<_, Vec<u8>>(0).map_err(q)?);
            let txid: String = r.get(1).map_err(q)?;
            let height: i64 = r.get(2).map_err(q)?;
            let entry = HistoryEntry {
                txid: parse_txid(&txid)?,
                height: i32::try_from(height).unwrap_or(0),
                fee: None,
            };
            state.histories.entry(script).or_default().push(entry);
        }

        let mut stmt = self.conn.prepare("SELECT txid FROM txs").map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        while let Some(r) = rows.next().map_err(q)? {
            let txid: String = r.get(0).map_err(q)?;
            state.txids.insert(parse_txid(&txid)?);
        }

        let mut stmt = self
            .conn
            .prepare("SELECT height, hash FROM blocks")
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        while let Some(r) = rows.next().map_err(q)? {
            let height: i64 = r.get(0).map_err(q)?;
            let hash: String = r.get(1).map_err(q)?;
            if let Ok(h) = u32::try_from(height) {
                state.blocks.insert(h, parse_hash(&hash)?);
            }
        }
        state.tip = self.tip()?;
        Ok(state)
    }

    /// Every script sync derived, with its keychain and index (offline).
    pub fn script_index(&self) -> Result<HashMap<Script, (Keychain, u32)>> {
        let q = |e| self.err("cannot read the wallet's scripts", e);
        let mut stmt = self
            .conn
            .prepare("SELECT script, keychain, idx FROM scripts")
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out = HashMap::new();
        while let Some(r) = rows.next().map_err(q)? {
            let script = Script::from(r.get::<_, Vec<u8>>(0).map_err(q)?);
            let keychain = keychain_from_db(r.get(1).map_err(q)?).map_err(q)?;
            let index = u32::try_from(r.get::<_, i64>(2).map_err(q)?)
                .map_err(|_| Error::Storage("bad script index in the store".to_owned()))?;
            out.insert(script, (keychain, index));
        }
        Ok(out)
    }

    /// The tip of the last successful sync (offline).
    pub fn tip(&self) -> Result<Option<(u32, BlockHash)>> {
        use rusqlite::OptionalExtension;
        let row: Option<(i64, String)> = self
            .conn
            .query_row("SELECT height, hash FROM sync_tip WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
            .map_err(|e| self.err("cannot read the tip", e))?;
        match row {
            None => Ok(None),
            Some((h, hash)) => Ok(Some((
                u32::try_from(h).map_err(|_| Error::Storage(format!("bad tip height {h}")))?,
                parse_hash(&hash)?,
            ))),
        }
    }

    /// Writes one sync in ONE immediate transaction: either all of it is stored or nothing.
    ///
    /// Recorded transactions are reconciled with the histories on the way: one that a history
    /// lists becomes a chain transaction; one whose coins a chain transaction spends, or that a
    /// server accepted before `drop_unseen_broadcast_before` and no history lists, fails (and
    /// so does every recorded transaction spending its outputs). Returns the transactions that
    /// failed in this sync, with the reason.
    pub fn apply_sync(&mut self, update: &SyncUpdate) -> Result<Vec<(Txid, String)>> {
        let path = self.path.clone();
        let path = &path;
        let e = |what: &'static str| move |err| storage_err(path, what, err);
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e("cannot lock the wallet database"))?;
        if update.replace_all_histories {
            tx.execute_batch("DELETE FROM history; UPDATE scripts SET status = NULL;")
                .map_err(e("cannot reset histories"))?;
        }
        for s in &update.new_scripts {
            tx.execute(
                "INSERT OR IGNORE INTO scripts (script, keychain, idx, status) VALUES (?1, ?2, ?3, ?4)",
                params![
                    s.script.as_bytes(),
                    i64::from(s.keychain.index()),
                    i64::from(s.index),
                    s.status
                ],
            )
            .map_err(e("cannot record a script"))?;
        }
        for (script, history, status) in &update.histories {
            tx.execute("DELETE FROM history WHERE script = ?1", [script.as_bytes()])
                .map_err(e("cannot replace a history"))?;
            for (pos, h) in history.iter().enumerate() {
                tx.execute(
                    "INSERT INTO history (script, pos, txid, height) VALUES (?1, ?2, ?3, ?4)",
                    params![
                        script.as_bytes(),
                        i64::try_from(pos).unwrap_or(i64::MAX),
                        h.txid.to_string(),
                        i64::from(h.height)
                    ],
                )
                .map_err(e("cannot record a history"))?;
            }
            let n = tx
                .execute(
                    "UPDATE scripts SET status = ?1 WHERE script = ?2",
                    params![status, script.as_bytes()],
                )
                .map_err(e("cannot record a status"))?;
            if n == 0 {
                return Err(Error::Storage(
                    "internal: a history for a script the store does not know".to_owned(),
                ));
            }
        }
        for new in &update.new_txs {
            insert_tx(&tx, new, false).map_err(e("cannot record a transaction"))?;
        }
        for late in &update.late_outputs {
            insert_outputs(&tx, late).map_err(e("cannot record an output"))?;
        }
        for (height, hash, time) in &update.blocks {
            tx.execute(
                "INSERT OR REPLACE INTO blocks (height, hash, time) VALUES (?1, ?2, ?3)",
                params![i64::from(*height), hash.to_string(), i64::from(*time)],
            )
            .map_err(e("cannot record a block"))?;
        }
        tx.execute_batch(
            "UPDATE txs SET pending = 0, failure = NULL
               WHERE pending > 0 AND txid IN (SELECT txid FROM history);
             DELETE FROM txs
               WHERE pending = 0 AND txid NOT IN (SELECT txid FROM history);
             UPDATE txs SET height =
               (SELECT MAX(h.height) FROM history h WHERE h.txid = txs.txid AND h.height > 0);
             DELETE FROM blocks WHERE height NOT IN (SELECT height FROM txs WHERE height IS NOT NULL);",
        )
        .map_err(e("cannot reconcile transactions with the histories"))?;
        let failed = fail_lost_pending(&tx, update.drop_unseen_broadcast_before)
            .map_err(e("cannot reconcile recorded transactions"))?;
        super::pegouts::reconcile(&tx).map_err(e("cannot reconcile the peg-out queue"))?;
        if let Some((height, hash)) = &update.tip {
            tx.execute(
                "INSERT OR REPLACE INTO sync_tip (id, height, hash, synced_at) VALUES (1, ?1, ?2, ?3)",
                params![
                    i64::from(*height),
                    hash.to_string(),
                    to_i64(now_secs(), "time")?
                ],
            )
            .map_err(e("cannot record the tip"))?;
        }
        for (keychain, index, address) in &update.used_addresses {
            tx.execute(
                "INSERT OR IGNORE INTO addresses (keychain, idx, address, label, created_at)
                 VALUES (?1, ?2, ?3, NULL, ?4)",
                params![
                    i64::from(keychain.index()),
                    i64::from(*index),
                    address,
                    to_i64(now_secs(), "time")?
                ],
            )
            .map_err(e("cannot record a used address"))?;
        }
        // Deals move forward from what this sync stored, in the same transaction.
        super::deals::reconcile(&tx)?;
        tx.commit().map_err(e("cannot commit the sync"))?;
        failed
            .into_iter()
            .map(|(t, r)| Ok((parse_txid(&t)?, r)))
            .collect()
    }
}

/// Fails the recorded transactions that can no longer confirm: those whose coins a chain
/// transaction spends (a conflict), those a server accepted before `unseen_before` and that
/// no history lists (dropped), and their descendants.
fn fail_lost_pending(
    db: &rusqlite::Transaction<'_>,
    unseen_before: Option<u64>,
) -> rusqlite::Result<Vec<(String, String)>> {
    let mut failed = Vec::new();
    let mut stmt = db.prepare(
        "SELECT DISTINCT t.txid, c.txid FROM txs t
           JOIN spends s ON s.txid = t.txid
           JOIN spends c ON c.prev_txid = s.prev_txid AND c.prev_vout = s.prev_vout
                        AND c.txid != t.txid
           JOIN txs ct ON ct.txid = c.txid AND ct.pending = 0
         WHERE t.pending = 1",
    )?;
    let conflicts: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    for (txid, winner) in conflicts {
        let reason = format!("conflict: transaction {winner} spent the same coins");
        failed.extend(super::outgoing::fail_with_descendants(db, &txid, &reason)?);
    }
    if let Some(before) = unseen_before {
        let before = i64::try_from(before).unwrap_or(i64::MAX);
        let mut stmt = db.prepare(
            "SELECT txid FROM txs WHERE pending = 1 AND broadcast_at IS NOT NULL
               AND broadcast_at <= ?1",
        )?;
        let dropped: Vec<String> = stmt
            .query_map([before], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        for txid in dropped {
            let reason = "dropped: the server no longer knows it (evicted or expired from \
                          the mempool); `tx rebroadcast` sends it again";
            failed.extend(super::outgoing::fail_with_descendants(db, &txid, reason)?);
        }
    }
    Ok(failed)
}
