//! Schema v3: the assets this wallet issued (ids, entropy, contract, precision) and what it
//! issued, reissued and burned of them.
//!
//! An issuance is recorded right after its signed transaction is recorded as pending (and
//! before it is broadcast), so that a reissuance later finds the entropy it needs. The
//! chain stays the authority on balances: these tables only hold what the chain cannot tell
//! (precision, the contract text) and what makes reissuance possible (the entropy).

use std::str::FromStr;

use elements::{AssetEntropy, AssetId, ContractHash, Txid};
use rusqlite::{params, OptionalExtension, Row};

use super::tx_rows::parse_txid;
use super::{now_secs, Store};
use crate::{Error, Result};

pub(super) const MIGRATION_V3: &str = "
    CREATE TABLE issuances (
        asset TEXT PRIMARY KEY,
        token TEXT NOT NULL,
        entropy TEXT NOT NULL,
        contract_hash TEXT,
        contract TEXT,
        txid TEXT NOT NULL,
        vin INTEGER NOT NULL CHECK (vin >= 0),
        precision INTEGER NOT NULL CHECK (precision BETWEEN 0 AND 8),
        amount INTEGER NOT NULL CHECK (amount >= 0),
        token_amount INTEGER NOT NULL CHECK (token_amount >= 0),
        created_at INTEGER NOT NULL
    );
    CREATE TABLE asset_events (
        txid TEXT NOT NULL,
        asset TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('issue', 'reissue', 'burn')),
        amount INTEGER NOT NULL CHECK (amount >= 0),
        created_at INTEGER NOT NULL,
        PRIMARY KEY (txid, asset, kind)
    );";

/// An asset this wallet issued.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuanceRecord {
    /// The asset id.
    pub asset: AssetId,
    /// Its reissuance token id.
    pub token: AssetId,
    /// The asset entropy (what a reissuance needs).
    pub entropy: AssetEntropy,
    /// The contract hash committed to, if a contract was given.
    pub contract_hash: Option<ContractHash>,
    /// The contract's JSON text as given.
    pub contract: Option<String>,
    /// The issuance transaction.
    pub txid: Txid,
    /// The input carrying the issuance.
    pub vin: u32,
    /// Decimal places of the asset's amounts (0..=8).
    pub precision: u8,
    /// Amount issued at first, in base units.
    pub amount: u64,
    /// Reissuance tokens issued, in base units.
    pub token_amount: u64,
    /// When it was recorded, seconds since the Unix epoch.
    pub created_at: u64,
}

impl IssuanceRecord {
    /// What the chain tells of an issuance found in transaction `txid`: precision 0 and no
    /// contract text (the chain holds neither), `created_at` 0.
    pub fn found_in(txid: Txid, found: &crate::tx::FoundIssuance) -> IssuanceRecord {
        IssuanceRecord {
            asset: found.asset,
            token: found.token,
            entropy: found.entropy,
            contract_hash: found.contract_hash,
            contract: None,
            txid,
            vin: found.vin,
            precision: 0,
            amount: found.amount.unwrap_or(0),
            token_amount: found.token_amount.unwrap_or(0),
            created_at: 0,
        }
    }
}

/// Kinds of [`AssetEvent`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetEventKind {
    /// The first issuance.
    Issue,
    /// A reissuance.
    Reissue,
    /// A burn.
    Burn,
}

impl AssetEventKind {
    /// "issue", "reissue" or "burn".
    pub fn as_str(self) -> &'static str {
        match self {
            AssetEventKind::Issue => "issue",
            AssetEventKind::Reissue => "reissue",
            AssetEventKind::Burn => "burn",
        }
    }

    fn parse(text: &str) -> Option<AssetEventKind> {
        match text {
            "issue" => Some(AssetEventKind::Issue),
            "reissue" => Some(AssetEventKind::Reissue),
            "burn" => Some(AssetEventKind::Burn),
            _ => None,
        }
    }
}

/// An issuance, reissuance or burn this wallet made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetEvent {
    /// The transaction.
    pub txid: Txid,
    /// The asset.
    pub asset: AssetId,
    /// What happened.
    pub kind: AssetEventKind,
    /// How much, in base units.
    pub amount: u64,
    /// When it was recorded.
    pub created_at: u64,
}

fn bad(what: &str) -> Error {
    Error::Storage(format!("bad {what} in the store's issuances"))
}

fn issuance_from_row(r: &Row) -> rusqlite::Result<[Option<String>; 11]> {
    let mut out: [Option<String>; 11] = Default::default();
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = match r.get_ref(i)? {
            rusqlite::types::ValueRef::Null => None,
            rusqlite::types::ValueRef::Integer(v) => Some(v.to_string()),
            rusqlite::types::ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
            _ => {
                return Err(rusqlite::Error::InvalidColumnType(
                    i,
                    "issuance".to_owned(),
                    rusqlite::types::Type::Blob,
                ))
            }
        };
    }
    Ok(out)
}

fn parse_record(cols: [Option<String>; 11]) -> Result<IssuanceRecord> {
    let text = |i: usize, what: &str| cols[i].clone().ok_or_else(|| bad(what));
    let num = |i: usize, what: &str| -> Result<u64> {
        text(i, what)?.parse::<u64>().map_err(|_| bad(what))
    };
    Ok(IssuanceRecord {
        asset: AssetId::from_str(&text(0, "asset")?).map_err(|_| bad("asset"))?,
        token: AssetId::from_str(&text(1, "token")?).map_err(|_| bad("token"))?,
        entropy: AssetEntropy::from_str(&text(2, "entropy")?).map_err(|_| bad("entropy"))?,
        contract_hash: cols[3]
            .as_deref()
            .map(ContractHash::from_str)
            .transpose()
            .map_err(|_| bad("contract hash"))?,
        contract: cols[4].clone(),
        txid: parse_txid(&text(5, "txid")?)?,
        vin: u32::try_from(num(6, "vin")?).map_err(|_| bad("vin"))?,
        precision: u8::try_from(num(7, "precision")?)
            .ok()
            .filter(|p| *p <= 8)
            .ok_or_else(|| bad("precision"))?,
        amount: num(8, "amount")?,
        token_amount: num(9, "token amount")?,
        created_at: num(10, "time")?,
    })
}

const ISSUANCE_COLUMNS: &str = "asset, token, entropy, contract_hash, contract, txid, vin, \
     precision, amount, token_amount, created_at";

/// Inserts `record` and its `issue` event inside `db` (an open transaction). Recording the
/// same asset again changes nothing.
pub(super) fn insert_issuance(
    db: &rusqlite::Transaction<'_>,
    record: &IssuanceRecord,
) -> rusqlite::Result<()> {
    let out_of_range = |_| rusqlite::Error::IntegralValueOutOfRange(0, -1);
    let int = |v: u64| i64::try_from(v).map_err(out_of_range);
    db.execute(
        &format!(
            "INSERT OR IGNORE INTO issuances ({ISSUANCE_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            record.asset.to_string(),
            record.token.to_string(),
            record.entropy.to_string(),
            record.contract_hash.map(|h| h.to_string()),
            record.contract,
            record.txid.to_string(),
            i64::from(record.vin),
            i64::from(record.precision),
            int(record.amount)?,
            int(record.token_amount)?,
            int(record.created_at)?,
        ],
    )?;
    insert_asset_event(
        db,
        &record.txid,
        &record.asset,
        AssetEventKind::Issue,
        record.amount,
    )
}

/// Inserts an issuance, reissuance or burn event inside `db` (an open transaction).
pub(super) fn insert_asset_event(
    db: &rusqlite::Transaction<'_>,
    txid: &Txid,
    asset: &AssetId,
    kind: AssetEventKind,
    amount: u64,
) -> rusqlite::Result<()> {
    let amount =
        i64::try_from(amount).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, -1))?;
    db.execute(
        "INSERT OR IGNORE INTO asset_events (txid, asset, kind, amount, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            txid.to_string(),
            asset.to_string(),
            kind.as_str(),
            amount,
            i64::try_from(now_secs()).unwrap_or(i64::MAX),
        ],
    )
    .map(drop)
}

impl Store {
    /// Records an issuance of this wallet's keys found on the chain (a restored wallet), in
    /// one transaction, so that later reissuances find its entropy.
    pub(crate) fn record_issuance(&mut self, record: &IssuanceRecord) -> Result<()> {
        let path = self.path.clone();
        let q = |e| super::storage_err(&path, "cannot record the issuance", e);
        let tx = self.conn.transaction().map_err(q)?;
        insert_issuance(&tx, record).map_err(q)?;
        tx.commit().map_err(q)
    }

    /// The assets this wallet issued, oldest first.
    pub fn issuances(&self) -> Result<Vec<IssuanceRecord>> {
        let q = |e| self.err("cannot list issuances", e);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {ISSUANCE_COLUMNS} FROM issuances ORDER BY created_at, asset"
            ))
            .map_err(q)?;
        let rows = stmt.query_map([], issuance_from_row).map_err(q)?;
        let mut out = Vec::new();
        for row in rows {
            out.push(parse_record(row.map_err(q)?)?);
        }
        Ok(out)
    }

    /// The issuance of `asset`, if this wallet made it.
    pub fn issuance(&self, asset: &AssetId) -> Result<Option<IssuanceRecord>> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {ISSUANCE_COLUMNS} FROM issuances WHERE asset = ?1"),
                [asset.to_string()],
                issuance_from_row,
            )
            .optional()
            .map_err(|e| self.err("cannot read the issuance", e))?;
        row.map(parse_record).transpose()
    }

    /// New issuances found in the stored transactions on inputs that spend the wallet's own
    /// coins: what a restored wallet knows of the assets it issued (precision 0 and no
    /// contract text, since the chain holds neither; `created_at` 0). Assets recorded by
    /// [`Store::record_issuance`] are left out.
    pub fn discovered_issuances(&self) -> Result<Vec<IssuanceRecord>> {
        let owned = self.owned_outputs()?;
        let recorded: std::collections::HashSet<AssetId> =
            self.issuances()?.into_iter().map(|r| r.asset).collect();
        let q = |e| self.err("cannot read transactions", e);
        let mut stmt = self
            .conn
            .prepare("SELECT raw FROM txs ORDER BY height IS NULL, height, first_seen, txid")
            .map_err(q)?;
        let mut rows = stmt.query([]).map_err(q)?;
        let mut out: Vec<IssuanceRecord> = Vec::new();
        while let Some(r) = rows.next().map_err(q)? {
            let raw: Vec<u8> = r.get(0).map_err(q)?;
            let tx: elements::Transaction = elements::encode::deserialize(&raw)
                .map_err(|e| Error::Storage(format!("bad transaction in the store: {e}")))?;
            let txid = tx.txid();
            for found in crate::tx::new_issuances(&tx) {
                if !owned.contains_key(&found.outpoint)
                    || recorded.contains(&found.asset)
                    || out.iter().any(|d| d.asset == found.asset)
                {
                    continue;
                }
                out.push(IssuanceRecord::found_in(txid, &found));
            }
        }
        Ok(out)
    }

    /// The issuances, reissuances and burns this wallet made of `asset`, oldest first.
    pub fn asset_events(&self, asset: &AssetId) -> Result<Vec<AssetEvent>> {
        let q = |e| self.err("cannot list asset events", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT txid, kind, amount, created_at FROM asset_events WHERE asset = ?1
                 ORDER BY created_at, rowid",
            )
            .map_err(q)?;
        let mut rows = stmt.query([asset.to_string()]).map_err(q)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(q)? {
            let kind: String = r.get(1).map_err(q)?;
            out.push(AssetEvent {
                txid: parse_txid(&r.get::<_, String>(0).map_err(q)?)?,
                asset: *asset,
                kind: AssetEventKind::parse(&kind).ok_or_else(|| bad("event kind"))?,
                amount: u64::try_from(r.get::<_, i64>(2).map_err(q)?).map_err(|_| bad("amount"))?,
                created_at: u64::try_from(r.get::<_, i64>(3).map_err(q)?).unwrap_or(0),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::Network;
    use crate::store::WalletMeta;

    #[test]
    fn issuances_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.sqlite");
        let mut store = Store::create(
            &path,
            &WalletMeta {
                name: "w".to_owned(),
                network: Network::Regtest,
                descriptor: "d".to_owned(),
                fingerprint: None,
                watch_only: true,
                created_at: 1,
            },
        )
        .unwrap();
        assert_eq!(
            store.schema_version().unwrap(),
            super::super::SCHEMA_VERSION
        );
        let ids = crate::tx::issuance_ids(
            elements::OutPoint::new(parse_txid(&"11".repeat(32)).unwrap(), 3),
            ContractHash::from_byte_array([7; 32]),
        );
        let record = IssuanceRecord {
            asset: ids.asset,
            token: ids.token,
            entropy: ids.entropy,
            contract_hash: Some(ContractHash::from_byte_array([7; 32])),
            contract: Some("{\"name\":\"x\"}".to_owned()),
            txid: parse_txid(&"22".repeat(32)).unwrap(),
            vin: 0,
            precision: 2,
            amount: 1_000,
            token_amount: 1,
            created_at: 5,
        };
        store.record_issuance(&record).unwrap();
        store.record_issuance(&record).unwrap();
        assert_eq!(store.issuances().unwrap(), vec![record.clone()]);
        assert_eq!(store.issuance(&ids.asset).unwrap(), Some(record.clone()));
        assert_eq!(store.issuance(&ids.token).unwrap(), None);
        let burn = parse_txid(&"33".repeat(32)).unwrap();
        let db = store.conn.transaction().unwrap();
        insert_asset_event(&db, &burn, &ids.asset, AssetEventKind::Burn, 10).unwrap();
        db.commit().unwrap();
        let events = store.asset_events(&ids.asset).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, AssetEventKind::Issue);
        assert_eq!(events[1].amount, 10);
    }
}
