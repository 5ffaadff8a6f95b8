//! The wallet's SQLite database: its metadata, every address handed out, and (schema v2) what
//! sync learned from the chain: transactions, the wallet's unblinded outputs, spends, script
//! histories with their Electrum status hashes, block heights and times, and the tip.
//!
//! One database per wallet, opened with WAL, `synchronous=FULL`, foreign keys on and a busy
//! timeout, so that several processes can use the same wallet safely. The schema is versioned
//! with `PRAGMA user_version` and migrated forward on open. The file is created with mode 0600
//! before SQLite opens it (SQLite gives its `-wal`/`-shm` files the same mode).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::descriptor::Keychain;
use crate::network::Network;
use crate::{Error, Result};

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = 8;

mod chain_data;
mod deals;
mod issuances;
mod outgoing;
mod pegouts;
mod tx_rows;
mod views;

pub use chain_data::{ChainState, ScriptRecord, SyncUpdate};
pub use deals::{
    holder as deal_holder, Deal, DealChange, DealEvent, DealRole, DealStatus, NewDeal,
};
pub use issuances::{AssetEvent, AssetEventKind, IssuanceRecord};
pub(crate) use outgoing::{LedgerChange, OutgoingTx};
pub use outgoing::{OutgoingState, PendingTx, SentOutput, TxKind};
pub(crate) use pegouts::PegoutsSigned;
pub use pegouts::{
    check_actor, distinct_approvers, same_actor, Approval, Approved, CoinSpender, DeskSettings,
    EarlierTx, LiveTx, NewRequest, PegoutEvent, PegoutRequest, Queued, RequestStatus, RowError,
    SpenderState,
};
pub use tx_rows::{NewTx, OwnedOutput};
pub use views::{Balance, OwnedCoin, TxStatus, WalletTx, WalletUtxo};

/// Largest non-hardened BIP32 index.
const MAX_INDEX: u32 = (1 << 31) - 1;

const MIGRATIONS: &[&str] = &[
    // version 1
    "CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        name TEXT NOT NULL,
        network TEXT NOT NULL,
        descriptor TEXT NOT NULL,
        fingerprint TEXT,
        watch_only INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE addresses (
        keychain INTEGER NOT NULL CHECK (keychain IN (0, 1)),
        idx INTEGER NOT NULL CHECK (idx >= 0),
        address TEXT NOT NULL,
        label TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (keychain, idx)
    );",
    // version 2: what sync learns from the chain
    chain_data::MIGRATION_V2,
    // version 3: the wallet's issuances (see `issuances`)
    issuances::MIGRATION_V3,
    // version 4: what the wallet signs: states, what it paid to others, reserved coins
    outgoing::MIGRATION_V4,
    // version 5: the peg-out desk's request queue and audit log (see `pegouts`)
    pegouts::MIGRATION_PEGOUTS,
    // version 6: the deal ledger (see `deals`)
    deals::MIGRATION_DEALS,
    // version 7: a peg-out request is paid by whichever of its transactions reaches the chain
    pegouts::MIGRATION_PEGOUTS_PAID_ONCE,
    // version 8: the secrets of the wallet's own outputs in PSETs it signed for others
    outgoing::MIGRATION_V8,
];

/// The wallet's identity, stored once at creation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WalletMeta {
    /// Wallet name.
    pub name: String,
    /// Network it lives on.
    pub network: Network,
    /// Canonical CT descriptor with checksum.
    pub descriptor: String,
    /// Master key fingerprint (hex), when known.
    pub fingerprint: Option<String>,
    /// True when no seed is stored.
    pub watch_only: bool,
    /// Creation time, seconds since the Unix epoch.
    pub created_at: u64,
}

/// An address that was handed out.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AddressRecord {
    /// External (receive) or internal (change).
    pub keychain: Keychain,
    /// Derivation index.
    pub index: u32,
    /// The confidential address.
    pub address: String,
    /// The user's label.
    pub label: Option<String>,
    /// When it was reserved, seconds since the Unix epoch.
    pub created_at: u64,
}

/// An open wallet database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({})", self.path.display())
    }
}

/// Seconds since the Unix epoch (0 if the clock is before 1970).
pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map(drop)
        .map_err(|e| Error::io(path, e))
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map(drop)
        .map_err(|e| Error::io(path, e))
}

/// Sets mode 0600 on `path` if it exists (no-op elsewhere than Unix).
pub(crate) fn restrict_file(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(path, e)),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

pub(crate) fn keychain_from_db(v: i64) -> rusqlite::Result<Keychain> {
    match v {
        0 => Ok(Keychain::External),
        1 => Ok(Keychain::Internal),
        _ => Err(rusqlite::Error::IntegralValueOutOfRange(0, v)),
    }
}

impl Store {
    pub(crate) fn err(&self, what: &str, e: rusqlite::Error) -> Error {
        storage_err(&self.path, what, e)
    }

    fn connect(path: &Path) -> Result<Store> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags)
            .map_err(|e| storage_err(path, "cannot open the database", e))?;
        let store = Store {
            conn,
            path: path.to_owned(),
        };
        store
            .conn
            .busy_timeout(Duration::from_secs(10))
            .map_err(|e| store.err("cannot set the busy timeout", e))?;
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(|e| store.err("cannot enable WAL", e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Storage(format!(
                "{}: the database refused WAL mode (got '{mode}'); is it on a network drive?",
                path.display()
            )));
        }
        store
            .conn
            .execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(|e| store.err("cannot set pragmas", e))?;
        Ok(store)
    }

    fn user_version(&self) -> Result<i64> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.err("cannot read the schema version", e))
    }

    fn migrate(&mut self) -> Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| storage_err(&self.path, "cannot start the migration", e))?;
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| storage_err(&self.path, "cannot read the schema version", e))?;
        if version > SCHEMA_VERSION {
            return Err(Error::Storage(format!(
                "{}: the database schema is version {version}, newer than this build supports \
                 ({SCHEMA_VERSION}): upgrade liquid-otc",
                self.path.display()
            )));
        }
        let start = usize::try_from(version).unwrap_or(0);
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(start) {
            tx.execute_batch(sql)
                .map_err(|e| storage_err(&self.path, "migration failed", e))?;
            tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
                .map_err(|e| storage_err(&self.path, "cannot set the schema version", e))?;
        }
        tx.commit()
            .map_err(|e| storage_err(&self.path, "cannot commit the migration", e))
    }

    fn restrict_files(&self) -> Result<()> {
        restrict_file(&self.path)?;
        for suffix in ["-wal", "-shm"] {
            let mut p = self.path.clone().into_os_string();
            p.push(suffix);
            restrict_file(Path::new(&p))?;
        }
        Ok(())
    }

    /// Creates a new database at `path` (which must not exist) holding `meta`.
    pub fn create(path: &Path, meta: &WalletMeta) -> Result<Store> {
        create_private_file(path)?;
        let mut store = Store::connect(path)?;
        store.migrate()?;
        let watch_only = i64::from(meta.watch_only);
        let created_at = i64::try_from(meta.created_at)
            .map_err(|_| Error::Storage("creation time out of range".to_owned()))?;
        store
            .conn
            .execute(
                "INSERT INTO meta (id, name, network, descriptor, fingerprint, watch_only, created_at)
                 VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    meta.name,
                    meta.network.as_str(),
                    meta.descriptor,
                    meta.fingerprint,
                    watch_only,
                    created_at
                ],
            )
            .map_err(|e| store.err("cannot write the wallet metadata", e))?;
        store.restrict_files()?;
        Ok(store)
    }

    /// Opens an existing database, migrating its schema forward if needed.
    pub fn open(path: &Path) -> Result<Store> {
        if !path.is_file() {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "wallet database not found"),
            ));
        }
        let mut store = Store::connect(path)?;
        store.migrate()?;
        store.restrict_files()?;
        Ok(store)
    }

    /// The path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version stored in the database.
    pub fn schema_version(&self) -> Result<i64> {
        self.user_version()
    }

    /// The wallet's metadata.
    pub fn meta(&self) -> Result<WalletMeta> {
        let row = self
            .conn
            .query_row(
                "SELECT name, network, descriptor, fingerprint, watch_only, created_at
                 FROM meta WHERE id = 1",
                [],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, Option<String>>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err("cannot read the wallet metadata", e))?
            .ok_or_else(|| {
                Error::Storage(format!(
                    "{}: the wallet metadata is missing; the database is not a liquid-otc wallet",
                    self.path.display()
                ))
            })?;
        let network = row.1.parse::<Network>().map_err(|e| {
            Error::Storage(format!(
                "{}: bad network in metadata: {e}",
                self.path.display()
            ))
        })?;
        Ok(WalletMeta {
            name: row.0,
            network,
            descriptor: row.2,
            fingerprint: row.3,
            watch_only: row.4 != 0,
            created_at: u64::try_from(row.5).unwrap_or(0),
        })
    }

    fn next_index_in(conn: &Connection, keychain: Keychain) -> rusqlite::Result<i64> {
        conn.query_row(
            "SELECT COALESCE(MAX(idx) + 1, 0) FROM addresses WHERE keychain = ?1",
            [i64::from(keychain.index())],
            |r| r.get(0),
        )
    }

    /// The index the next reserved address of `keychain` will get.
    pub fn next_index(&self, keychain: Keychain) -> Result<u32> {
        let n = Store::next_index_in(&self.conn, keychain)
            .map_err(|e| self.err("cannot read the next address index", e))?;
        u32::try_from(n).map_err(|_| Error::Storage("address index out of range".to_owned()))
    }

    /// Reserves the next index of `keychain` and records its address and label in ONE
    /// immediate transaction, committed before returning (so an address is never handed out
    /// twice, even across processes). `derive` turns the index into the address string.
    pub fn reserve_address(
        &mut self,
        keychain: Keychain,
        derive: impl FnOnce(u32) -> Result<String>,
        label: Option<&str>,
    ) -> Result<AddressRecord> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| storage_err(&path, "cannot lock the wallet database", e))?;
        let next = Store::next_index_in(&tx, keychain)
            .map_err(|e| storage_err(&path, "cannot read the next address index", e))?;
        let index = u32::try_from(next)
            .ok()
            .filter(|i| *i <= MAX_INDEX)
            .ok_or_else(|| {
                Error::Storage(format!(
                    "{}: the {} keychain has used all {} address indexes",
                    path.display(),
                    keychain.as_str(),
                    u64::from(MAX_INDEX) + 1
                ))
            })?;
        let address = derive(index)?;
        let created_at = now_secs();
        tx.execute(
            "INSERT INTO addresses (keychain, idx, address, label, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                i64::from(keychain.index()),
                i64::from(index),
                address,
                label,
                i64::try_from(created_at).unwrap_or(i64::MAX)
            ],
        )
        .map_err(|e| storage_err(&path, "cannot record the address", e))?;
        tx.commit()
            .map_err(|e| storage_err(&path, "cannot commit the address", e))?;
        Ok(AddressRecord {
            keychain,
            index,
            address,
            label: label.map(str::to_owned),
            created_at,
        })
    }

    /// The addresses handed out, of one keychain or both, ordered by keychain then index.
    pub fn addresses(&self, keychain: Option<Keychain>) -> Result<Vec<AddressRecord>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT keychain, idx, address, label, created_at FROM addresses
                 WHERE ?1 IS NULL OR keychain = ?1 ORDER BY keychain, idx",
            )
            .map_err(|e| self.err("cannot list addresses", e))?;
        let rows = stmt
            .query_map([keychain.map(|k| i64::from(k.index()))], |r| {
                Ok(AddressRecord {
                    keychain: keychain_from_db(r.get(0)?)?,
                    index: u32::try_from(r.get::<_, i64>(1)?)
                        .map_err(|_| rusqlite::Error::IntegralValueOutOfRange(1, -1))?,
                    address: r.get(2)?,
                    label: r.get(3)?,
                    created_at: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                })
            })
            .map_err(|e| self.err("cannot list addresses", e))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err("cannot list addresses", e))
    }

    /// Sets (or with `None` clears) the label of an address already handed out.
    pub fn set_label(&mut self, keychain: Keychain, index: u32, label: Option<&str>) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE addresses SET label = ?1 WHERE keychain = ?2 AND idx = ?3",
                params![label, i64::from(keychain.index()), i64::from(index)],
            )
            .map_err(|e| self.err("cannot set the label", e))?;
        if n == 0 {
            return Err(Error::Storage(format!(
                "no {} address with index {index} has been handed out yet: create it first",
                keychain.as_str()
            )));
        }
        Ok(())
    }
}

pub(crate) fn storage_err(path: &Path, what: &str, e: rusqlite::Error) -> Error {
    let damaged = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    );
    if damaged {
        return Error::StoreDamaged(format!("{}: {what}: {e}", path.display()));
    }
    Error::Storage(format!("{}: {what}: {e}", path.display()))
}
