//! Optional SQLite persistence of the sandbox chain in a state directory.
//!
//! Blocks (after genesis) and mempool transactions are stored raw; on start they are replayed
//! into a fresh [`Chain`]. Our own blocks are trusted, but their linkage is checked.

use std::path::Path;

use elements::{Block, Transaction};
use rusqlite::{params, Connection};

use crate::chain::Chain;
use crate::Error;

fn storage<E: std::fmt::Display>(e: E) -> Error {
    Error::Storage(e.to_string())
}

fn in_use(path: &Path, e: rusqlite::Error) -> Error {
    let busy = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    );
    if busy {
        Error::Storage(format!("{} is in use by another sandbox", path.display()))
    } else {
        Error::Storage(format!("{}: {e}", path.display()))
    }
}

/// The SQLite store.
pub struct Store {
    conn: Connection,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

impl Store {
    /// Opens (creating) `<dir>/sandbox.sqlite`.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Storage(format!("{}: {e}", dir.display())))?;
        let path = dir.join("sandbox.sqlite");
        let conn = Connection::open(&path)
            .map_err(|e| Error::Storage(format!("{}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_millis(0))
            .map_err(storage)?;
        // One sandbox per state directory: the exclusive lock is taken by the first write and
        // held until the connection closes, so a second process fails fast.
        conn.execute_batch(
            "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
             CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS blocks (height INTEGER PRIMARY KEY, hash TEXT NOT NULL, raw BLOB NOT NULL);
             CREATE TABLE IF NOT EXISTS mempool (seq INTEGER PRIMARY KEY AUTOINCREMENT, txid TEXT NOT NULL UNIQUE, raw BLOB NOT NULL, fee INTEGER NOT NULL);",
        )
        .map_err(|e| in_use(&path, e))?;
        conn.execute(
            "INSERT INTO meta(key, value) VALUES ('opened', datetime('now')) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [],
        )
        .map_err(|e| in_use(&path, e))?;
        let genesis = crate::genesis::genesis_block().block_hash().to_string();
        let existing: Option<String> = conn
            .query_row("SELECT value FROM meta WHERE key='genesis'", [], |r| {
                r.get(0)
            })
            .ok();
        match existing {
            Some(g) if g != genesis => {
                return Err(Error::Storage(format!(
                    "{} belongs to another chain (genesis {g})",
                    path.display()
                )))
            }
            Some(_) => {}
            None => {
                conn.execute(
                    "INSERT INTO meta(key, value) VALUES ('genesis', ?1)",
                    params![genesis],
                )
                .map_err(storage)?;
            }
        }
        Ok(Store { conn })
    }

    /// Replays stored blocks and mempool into `chain`.
    pub fn load_into(&self, chain: &mut Chain) -> Result<(), Error> {
        let mut stmt = self
            .conn
            .prepare("SELECT height, raw FROM blocks ORDER BY height")
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .map_err(storage)?;
        for row in rows {
            let (height, raw) = row.map_err(storage)?;
            let block: Block = elements::encode::deserialize(&raw).map_err(storage)?;
            if height != i64::from(chain.tip_height()) + 1
                || block.header.prev_blockhash != chain.tip().hash
            {
                return Err(Error::Storage(format!(
                    "stored block {height} does not extend the chain"
                )));
            }
            chain.connect_block(block);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT raw, fee FROM mempool ORDER BY seq")
            .map_err(storage)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, i64>(1)?)))
            .map_err(storage)?;
        for row in rows {
            let (raw, fee) = row.map_err(storage)?;
            let tx: Transaction = elements::encode::deserialize(&raw).map_err(storage)?;
            if chain.get_tx(&tx.txid()).is_none() {
                chain.add_to_mempool(tx, u64::try_from(fee).unwrap_or(0));
            }
        }
        Ok(())
    }

    /// Records an accepted mempool transaction, dropping the ones it replaces, atomically.
    pub fn replace_mempool(
        &self,
        replaced: &[elements::Txid],
        tx: &Transaction,
        fee: u64,
    ) -> Result<(), Error> {
        self.conn.execute_batch("BEGIN").map_err(storage)?;
        let r = (|| {
            for t in replaced {
                self.conn
                    .execute(
                        "DELETE FROM mempool WHERE txid = ?1",
                        params![t.to_string()],
                    )
                    .map_err(storage)?;
            }
            self.add_mempool(tx, fee)
        })();
        match r {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(storage),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Records an accepted mempool transaction.
    pub fn add_mempool(&self, tx: &Transaction, fee: u64) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT OR IGNORE INTO mempool(txid, raw, fee) VALUES (?1, ?2, ?3)",
                params![
                    tx.txid().to_string(),
                    elements::encode::serialize(tx),
                    fee as i64
                ],
            )
            .map_err(storage)?;
        Ok(())
    }

    /// Records mined blocks and drops their transactions from the stored mempool, atomically.
    pub fn add_blocks(&mut self, blocks: &[(u32, Block)]) -> Result<(), Error> {
        let t = self.conn.transaction().map_err(storage)?;
        for (height, block) in blocks {
            t.execute(
                "INSERT INTO blocks(height, hash, raw) VALUES (?1, ?2, ?3)",
                params![
                    height,
                    block.block_hash().to_string(),
                    elements::encode::serialize(block)
                ],
            )
            .map_err(storage)?;
            for tx in &block.txdata {
                t.execute(
                    "DELETE FROM mempool WHERE txid = ?1",
                    params![tx.txid().to_string()],
                )
                .map_err(storage)?;
            }
        }
        t.commit().map_err(storage)
    }

    /// The faucet's randomness counter.
    pub fn faucet_seq(&self) -> Result<u64, Error> {
        let v: Option<String> = self
            .conn
            .query_row("SELECT value FROM meta WHERE key='faucet_seq'", [], |r| {
                r.get(0)
            })
            .ok();
        Ok(v.and_then(|s| s.parse().ok()).unwrap_or(0))
    }

    /// Stores the faucet's randomness counter.
    pub fn set_faucet_seq(&self, seq: u64) -> Result<(), Error> {
        self.conn
            .execute(
                "INSERT INTO meta(key, value) VALUES ('faucet_seq', ?1) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![seq.to_string()],
            )
            .map_err(storage)?;
        Ok(())
    }
}
