//! The deal ledger (schema v6): every DvP deal this wallet made or took, from its first step,
//! with an append-only event log.
//!
//! Tables: `deals` (one row per deal: role, status, terms in base units and asset ids, the
//! trader's counterparty label and memo, the settlement txid and height, the cancelling
//! spend, the last envelope), `deal_coins` (this wallet's coins in the deal: reserved while it
//! is open, watched by sync) and `deal_events` (append-only: triggers refuse updates and
//! deletes). Every change of a deal is ONE SQLite transaction that writes the row and its
//! event together; a change that a signed transaction makes is written in the transaction
//! that records it ([`DealChange`], a [`super::LedgerChange`]).
//!
//! Statuses: `proposed` (maker: the offer is out), `accepted` (taker: signed and handed back;
//! maker: the accepted envelope came back), `signed` (maker: the settlement is signed and
//! recorded, not yet accepted by a server), `broadcast`, `confirmed` (with its height),
//! `cancelling` (a spend of one of this wallet's coins in the deal is out; the deal is still
//! exposed until it confirms), `cancelled`, `expired`, `failed`. The last four and
//! `confirmed` are final; a final deal holds no reservation.

use std::collections::BTreeSet;
use std::str::FromStr;

use elements::{AssetId, OutPoint, Txid};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::outgoing::LedgerChange;
use super::tx_rows::parse_txid;
use super::{now_secs, storage_err, Store};
use crate::{Error, Result};

pub(super) const MIGRATION_DEALS: &str = "
    CREATE TABLE deals (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('maker', 'taker')),
        status TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        counterparty TEXT,
        memo TEXT,
        give_asset TEXT NOT NULL,
        give_amount INTEGER NOT NULL CHECK (give_amount > 0),
        want_asset TEXT NOT NULL,
        want_amount INTEGER NOT NULL CHECK (want_amount > 0),
        fee_payer TEXT NOT NULL CHECK (fee_payer IN ('maker', 'taker')),
        fee INTEGER CHECK (fee IS NULL OR fee >= 0),
        txid TEXT,
        height INTEGER,
        cancel_txid TEXT,
        cancel_reason TEXT,
        envelope TEXT NOT NULL
    );
    CREATE INDEX deals_status ON deals(status);
    CREATE TABLE deal_coins (
        deal_id TEXT NOT NULL REFERENCES deals(id),
        txid TEXT NOT NULL,
        vout INTEGER NOT NULL CHECK (vout >= 0),
        PRIMARY KEY (deal_id, txid, vout)
    );
    CREATE TABLE deal_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        deal_id TEXT NOT NULL REFERENCES deals(id),
        at INTEGER NOT NULL,
        status TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX deal_events_deal ON deal_events(deal_id, seq);
    CREATE TRIGGER deal_events_no_update BEFORE UPDATE ON deal_events
        BEGIN SELECT RAISE(ABORT, 'the deal event log is append-only'); END;
    CREATE TRIGGER deal_events_no_delete BEFORE DELETE ON deal_events
        BEGIN SELECT RAISE(ABORT, 'the deal event log is append-only'); END;";

/// Which side of a deal this wallet is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DealRole {
    /// It made the offer (gives the first leg, settles).
    Maker,
    /// It accepted the offer (gives the second leg, signs first).
    Taker,
}

impl DealRole {
    /// "maker" or "taker".
    pub fn as_str(self) -> &'static str {
        match self {
            DealRole::Maker => "maker",
            DealRole::Taker => "taker",
        }
    }
}

impl FromStr for DealRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "maker" => Ok(DealRole::Maker),
            "taker" => Ok(DealRole::Taker),
            other => Err(Error::Storage(format!(
                "bad deal role '{other}' in the store"
            ))),
        }
    }
}

/// Where a deal stands (see the module documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DealStatus {
    /// The maker's offer is out.
    Proposed,
    /// The taker signed and handed the offer back.
    Accepted,
    /// The maker signed and recorded the settlement; no server has accepted it yet.
    Signed,
    /// A server accepted the settlement; not in a block yet.
    Broadcast,
    /// The settlement is in a block.
    Confirmed,
    /// A spend of this wallet's coin in the deal is out; the deal is exposed until it confirms.
    Cancelling,
    /// The deal can never settle: cancelled by this wallet or its coins spent elsewhere.
    Cancelled,
    /// Past its expiry, never settled.
    Expired,
    /// The settlement was refused or conflicts with the chain.
    Failed,
}

impl DealStatus {
    /// Every status, in the order of a deal's life.
    pub const ALL: [DealStatus; 9] = [
        DealStatus::Proposed,
        DealStatus::Accepted,
        DealStatus::Signed,
        DealStatus::Broadcast,
        DealStatus::Confirmed,
        DealStatus::Cancelling,
        DealStatus::Cancelled,
        DealStatus::Expired,
        DealStatus::Failed,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DealStatus::Proposed => "proposed",
            DealStatus::Accepted => "accepted",
            DealStatus::Signed => "signed",
            DealStatus::Broadcast => "broadcast",
            DealStatus::Confirmed => "confirmed",
            DealStatus::Cancelling => "cancelling",
            DealStatus::Cancelled => "cancelled",
            DealStatus::Expired => "expired",
            DealStatus::Failed => "failed",
        }
    }

    /// Whether the deal is over (nothing more can happen to it but a reorganisation).
    pub fn is_final(self) -> bool {
        matches!(
            self,
            DealStatus::Confirmed
                | DealStatus::Cancelled
                | DealStatus::Expired
                | DealStatus::Failed
        )
    }
}

impl FromStr for DealStatus {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        DealStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                Error::InvalidRequest(format!(
                    "'{s}' is not a deal status: one of {}",
                    DealStatus::ALL.map(DealStatus::as_str).join(", ")
                ))
            })
    }
}

impl std::fmt::Display for DealStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A deal as the ledger holds it. Amounts are base units; `give`/`want` are the maker's
/// legs (the terms as agreed), whichever side this wallet is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deal {
    /// The deal id (32 hex characters).
    pub id: String,
    /// This wallet's side.
    pub role: DealRole,
    /// Where it stands.
    pub status: DealStatus,
    /// When the offer was made (seconds since the epoch).
    pub created_at: u64,
    /// When the offer expires.
    pub expires_at: u64,
    /// When the row last changed.
    pub updated_at: u64,
    /// The trader's own label for the other side.
    pub counterparty: Option<String>,
    /// The memo (the maker's words: never trusted).
    pub memo: Option<String>,
    /// The asset the maker gives.
    pub give_asset: AssetId,
    /// How much the maker gives.
    pub give_amount: u64,
    /// The asset the maker receives.
    pub want_asset: AssetId,
    /// How much the maker receives.
    pub want_amount: u64,
    /// Who pays the fee: "maker" or "taker".
    pub fee_payer: DealRole,
    /// The fee: fixed in the terms when the maker pays, else known once the taker built it.
    pub fee: Option<u64>,
    /// The settlement transaction, once known (taker: at accept; maker: at settle).
    pub txid: Option<Txid>,
    /// Its confirmation height.
    pub height: Option<u32>,
    /// The spend that cancels the deal, when one was made.
    pub cancel_txid: Option<Txid>,
    /// Why it was cancelled ("cancelled" or "expired").
    pub cancel_reason: Option<DealStatus>,
    /// The last envelope of the deal (JSON).
    pub envelope: String,
    /// This wallet's coins in the deal.
    pub coins: Vec<OutPoint>,
}

impl Deal {
    /// The holder name of the deal's reservations.
    pub fn holder(&self) -> String {
        holder(&self.id)
    }
}

/// The holder name of deal `id`'s reservations: `deal:<id>`.
pub fn holder(id: &str) -> String {
    format!("deal:{id}")
}

/// One entry of a deal's event log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DealEvent {
    /// Order of the entry in the whole ledger.
    pub seq: i64,
    /// When (seconds since the epoch).
    pub at: u64,
    /// The status the deal took (or kept) at that moment.
    pub status: DealStatus,
    /// What happened, in words.
    pub detail: Option<String>,
}

/// A new deal, as `offer create` (maker) or `offer accept` (taker) records it.
#[derive(Clone, Debug)]
pub struct NewDeal {
    /// The deal as it starts (status proposed or accepted).
    pub deal: Deal,
    /// What the first event says.
    pub detail: String,
}

/// A change of one deal: its new status and what goes with it, and the event that says so.
#[derive(Clone, Debug, Default)]
pub struct DealChange {
    /// The deal.
    pub id: String,
    /// The new status (`None`: unchanged; an event is still written).
    pub status: Option<DealStatus>,
    /// Sets the settlement txid.
    pub txid: Option<Txid>,
    /// Set the settlement txid to the transaction being recorded (inside a commit).
    pub txid_from_commit: bool,
    /// Sets the cancelling spend to the transaction being recorded (inside a commit).
    pub cancel_from_commit: bool,
    /// Why the cancel is made ("cancelled" or "expired").
    pub cancel_reason: Option<DealStatus>,
    /// Sets the fee.
    pub fee: Option<u64>,
    /// Replaces the stored envelope.
    pub envelope: Option<String>,
    /// Ends the deal's reservations.
    pub release: bool,
    /// What the event says.
    pub detail: String,
    /// The status the deal must have for the change to apply (refused otherwise): guards
    /// against two commands moving one deal at once.
    pub expect: Option<Vec<DealStatus>>,
}

impl LedgerChange for DealChange {
    fn apply(&self, db: &rusqlite::Transaction<'_>, txid: &Txid) -> Result<()> {
        apply_change(db, self, Some(txid))
    }
}

fn q(what: &'static str) -> impl Fn(rusqlite::Error) -> Error {
    move |e| Error::Storage(format!("{what}: {e}"))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::Storage(format!("{v} is out of range for the ledger")))
}

fn insert_event(
    db: &rusqlite::Transaction<'_>,
    id: &str,
    status: DealStatus,
    detail: &str,
) -> Result<()> {
    db.execute(
        "INSERT INTO deal_events (deal_id, at, status, detail) VALUES (?1, ?2, ?3, ?4)",
        params![id, to_i64(now_secs())?, status.as_str(), detail],
    )
    .map_err(q("cannot write a deal event"))?;
    Ok(())
}

fn apply_change(
    db: &rusqlite::Transaction<'_>,
    change: &DealChange,
    committed: Option<&Txid>,
) -> Result<()> {
    let current: Option<String> = db
        .query_row(
            "SELECT status FROM deals WHERE id = ?1",
            [&change.id],
            |r| r.get(0),
        )
        .optional()
        .map_err(q("cannot read a deal"))?;
    let current = current
        .ok_or_else(|| Error::Storage(format!("deal {} is not in the ledger", change.id)))?;
    let current = DealStatus::from_str(&current)
        .map_err(|_| Error::Storage(format!("bad deal status '{current}' in the store")))?;
    if let Some(expect) = &change.expect {
        if !expect.contains(&current) {
            return Err(Error::Refused(format!(
                "deal {} is {current} now (another command moved it); nothing was changed",
                change.id
            )));
        }
    }
    let status = change.status.unwrap_or(current);
    let now = to_i64(now_secs())?;
    db.execute(
        "UPDATE deals SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![change.id, status.as_str(), now],
    )
    .map_err(q("cannot update a deal"))?;
    let settle = match (change.txid, change.txid_from_commit, committed) {
        (Some(t), _, _) => Some(t),
        (None, true, Some(t)) => Some(*t),
        _ => None,
    };
    if let Some(t) = settle {
        db.execute(
            "UPDATE deals SET txid = ?2 WHERE id = ?1",
            params![change.id, t.to_string()],
        )
        .map_err(q("cannot update a deal"))?;
    }
    if let (true, Some(t)) = (change.cancel_from_commit, committed) {
        db.execute(
            "UPDATE deals SET cancel_txid = ?2, cancel_reason = ?3 WHERE id = ?1",
            params![
                change.id,
                t.to_string(),
                change.cancel_reason.map(DealStatus::as_str)
            ],
        )
        .map_err(q("cannot update a deal"))?;
    }
    if let Some(fee) = change.fee {
        db.execute(
            "UPDATE deals SET fee = ?2 WHERE id = ?1",
            params![change.id, to_i64(fee)?],
        )
        .map_err(q("cannot update a deal"))?;
    }
    if let Some(envelope) = &change.envelope {
        db.execute(
            "UPDATE deals SET envelope = ?2 WHERE id = ?1",
            params![change.id, envelope],
        )
        .map_err(q("cannot update a deal"))?;
    }
    if change.release || status.is_final() {
        db.execute(
            "DELETE FROM reservations WHERE holder = ?1",
            [holder(&change.id)],
        )
        .map_err(q("cannot release a deal's coins"))?;
    }
    insert_event(db, &change.id, status, &change.detail)
}

const DEAL_COLUMNS: &str = "id, role, status, created_at, expires_at, updated_at, counterparty,
    memo, give_asset, give_amount, want_asset, want_amount, fee_payer, fee, txid, height,
    cancel_txid, cancel_reason, envelope";

fn u64_of(v: i64) -> rusqlite::Result<u64> {
    u64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, v))
}

fn read_deal(r: &rusqlite::Row<'_>) -> rusqlite::Result<Result<Deal>> {
    let bad = |what: &str| Error::Storage(format!("bad {what} in the deal ledger"));
    let id: String = r.get(0)?;
    let role: String = r.get(1)?;
    let status: String = r.get(2)?;
    let give_asset: String = r.get(8)?;
    let want_asset: String = r.get(10)?;
    let fee_payer: String = r.get(12)?;
    let txid: Option<String> = r.get(14)?;
    let cancel_txid: Option<String> = r.get(16)?;
    let cancel_reason: Option<String> = r.get(17)?;
    let created_at = u64_of(r.get(3)?)?;
    let expires_at = u64_of(r.get(4)?)?;
    let updated_at = u64_of(r.get(5)?)?;
    let give_amount = u64_of(r.get(9)?)?;
    let want_amount = u64_of(r.get(11)?)?;
    let fee = r.get::<_, Option<i64>>(13)?.map(u64_of).transpose()?;
    let height = r
        .get::<_, Option<i64>>(15)?
        .map(|h| u32::try_from(h).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(15, h)))
        .transpose()?;
    let counterparty = r.get(6)?;
    let memo = r.get(7)?;
    let envelope = r.get(18)?;
    Ok((|| {
        Ok(Deal {
            role: DealRole::from_str(&role)?,
            status: DealStatus::from_str(&status).map_err(|_| bad("status"))?,
            created_at,
            expires_at,
            updated_at,
            counterparty,
            memo,
            give_asset: AssetId::from_str(&give_asset).map_err(|_| bad("asset"))?,
            give_amount,
            want_asset: AssetId::from_str(&want_asset).map_err(|_| bad("asset"))?,
            want_amount,
            fee_payer: DealRole::from_str(&fee_payer)?,
            fee,
            txid: txid.as_deref().map(parse_txid).transpose()?,
            height,
            cancel_txid: cancel_txid.as_deref().map(parse_txid).transpose()?,
            cancel_reason: cancel_reason
                .as_deref()
                .map(DealStatus::from_str)
                .transpose()
                .map_err(|_| bad("cancel reason"))?,
            envelope,
            coins: Vec::new(),
            id,
        })
    })())
}

fn deal_coins(conn: &rusqlite::Connection, id: &str) -> Result<Vec<OutPoint>> {
    let mut stmt = conn
        .prepare("SELECT txid, vout FROM deal_coins WHERE deal_id = ?1 ORDER BY txid, vout")
        .map_err(q("cannot read a deal's coins"))?;
    let rows = stmt
        .query_map([id], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
        .map_err(q("cannot read a deal's coins"))?;
    let mut out = Vec::new();
    for row in rows {
        let (txid, vout) = row.map_err(q("cannot read a deal's coins"))?;
        let vout = u32::try_from(vout)
            .map_err(|_| Error::Storage("bad coin index in the deal ledger".to_owned()))?;
        out.push(OutPoint::new(parse_txid(&txid)?, vout));
    }
    Ok(out)
}

fn load_deal(conn: &rusqlite::Connection, id: &str) -> Result<Option<Deal>> {
    let row = conn
        .query_row(
            &format!("SELECT {DEAL_COLUMNS} FROM deals WHERE id = ?1"),
            [id],
            read_deal,
        )
        .optional()
        .map_err(q("cannot read a deal"))?;
    match row {
        None => Ok(None),
        Some(deal) => {
            let mut deal = deal?;
            deal.coins = deal_coins(conn, id)?;
            Ok(Some(deal))
        }
    }
}

impl Store {
    /// Records a new deal with its coins, reserves those coins for it (refused when another
    /// holder has one) and writes its first event: ONE SQLite transaction.
    pub(crate) fn insert_deal(&mut self, new: &NewDeal) -> Result<()> {
        let path = self.path.clone();
        let e = |what: &'static str| {
            let path = path.clone();
            move |err| storage_err(&path, what, err)
        };
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e("cannot lock the wallet database"))?;
        let d = &new.deal;
        let now = to_i64(now_secs())?;
        db.execute(
            &format!(
                "INSERT INTO deals ({DEAL_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                         ?17, ?18, ?19)"
            ),
            params![
                d.id,
                d.role.as_str(),
                d.status.as_str(),
                to_i64(d.created_at)?,
                to_i64(d.expires_at)?,
                now,
                d.counterparty,
                d.memo,
                d.give_asset.to_string(),
                to_i64(d.give_amount)?,
                d.want_asset.to_string(),
                to_i64(d.want_amount)?,
                d.fee_payer.as_str(),
                d.fee.map(to_i64).transpose()?,
                d.txid.map(|t| t.to_string()),
                d.height.map(i64::from),
                d.cancel_txid.map(|t| t.to_string()),
                d.cancel_reason.map(DealStatus::as_str),
                d.envelope,
            ],
        )
        .map_err(|err| match err {
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::Refused(format!(
                    "deal {} is already in this wallet's ledger: an offer is accepted or made \
                     once (`deal show {}` says where it stands)",
                    d.id, d.id
                ))
            }
            other => storage_err(&path, "cannot record the deal", other),
        })?;
        let holder = holder(&d.id);
        for op in &d.coins {
            db.execute(
                "INSERT INTO deal_coins (deal_id, txid, vout) VALUES (?1, ?2, ?3)",
                params![d.id, op.txid.to_string(), i64::from(op.vout)],
            )
            .map_err(e("cannot record the deal's coins"))?;
            let other: Option<String> = db
                .query_row(
                    "SELECT holder FROM reservations WHERE txid = ?1 AND vout = ?2",
                    params![op.txid.to_string(), i64::from(op.vout)],
                    |r| r.get(0),
                )
                .optional()
                .map_err(e("cannot reserve coins"))?;
            if let Some(other) = other.filter(|h| *h != holder) {
                return Err(Error::Refused(format!(
                    "coin {}:{} is already reserved by {other}; nothing was recorded",
                    op.txid, op.vout
                )));
            }
            db.execute(
                "INSERT OR IGNORE INTO reservations (txid, vout, holder, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![op.txid.to_string(), i64::from(op.vout), holder, now],
            )
            .map_err(e("cannot reserve coins"))?;
        }
        insert_event(&db, &d.id, d.status, &new.detail)?;
        db.commit().map_err(e("cannot commit the deal"))
    }

    /// Applies `change` to its deal and writes its event: ONE SQLite transaction.
    pub(crate) fn change_deal(&mut self, change: &DealChange) -> Result<()> {
        let path = self.path.clone();
        let db = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| storage_err(&path, "cannot lock the wallet database", e))?;
        apply_change(&db, change, None)?;
        db.commit()
            .map_err(|e| storage_err(&path, "cannot commit the deal", e))
    }

    /// The deal `id`, or the only deal whose id starts with `id` (at least 8 characters).
    pub fn deal(&self, id: &str) -> Result<Option<Deal>> {
        if let Some(deal) = load_deal(&self.conn, id)? {
            return Ok(Some(deal));
        }
        if id.len() < 8 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM deals WHERE id LIKE ?1 || '%' LIMIT 2")
            .map_err(|e| self.err("cannot look a deal up", e))?;
        let ids: Vec<String> = stmt
            .query_map([id.to_ascii_lowercase()], |r| r.get(0))
            .map_err(|e| self.err("cannot look a deal up", e))?
            .collect::<rusqlite::Result<_>>()
            .map_err(|e| self.err("cannot look a deal up", e))?;
        match ids.as_slice() {
            [only] => load_deal(&self.conn, only),
            [] => Ok(None),
            _ => Err(Error::InvalidRequest(format!(
                "deal id prefix '{id}' names several deals: type more of it"
            ))),
        }
    }

    /// Every deal, newest first, optionally of one status and created at or after `since`.
    pub fn deals(&self, status: Option<DealStatus>, since: Option<u64>) -> Result<Vec<Deal>> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {DEAL_COLUMNS} FROM deals
                 WHERE (?1 IS NULL OR status = ?1) AND created_at >= ?2
                 ORDER BY created_at DESC, id"
            ))
            .map_err(|e| self.err("cannot list deals", e))?;
        let rows = stmt
            .query_map(
                params![status.map(DealStatus::as_str), to_i64(since.unwrap_or(0))?],
                read_deal,
            )
            .map_err(|e| self.err("cannot list deals", e))?;
        let mut out = Vec::new();
        for row in rows {
            let mut deal = row.map_err(|e| self.err("cannot list deals", e))??;
            deal.coins = deal_coins(&self.conn, &deal.id)?;
            out.push(deal);
        }
        Ok(out)
    }

    /// The event log of deal `id`, oldest first.
    pub fn deal_events(&self, id: &str) -> Result<Vec<DealEvent>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT seq, at, status, detail FROM deal_events WHERE deal_id = ?1 ORDER BY seq",
            )
            .map_err(|e| self.err("cannot read deal events", e))?;
        let rows = stmt
            .query_map([id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    u64_of(r.get(1)?)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, Option<String>>(3)?,
                ))
            })
            .map_err(|e| self.err("cannot read deal events", e))?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, at, status, detail) =
                row.map_err(|e| self.err("cannot read deal events", e))?;
            out.push(DealEvent {
                seq,
                at,
                status: DealStatus::from_str(&status)
                    .map_err(|_| Error::Storage("bad status in the deal events".to_owned()))?,
                detail,
            });
        }
        Ok(out)
    }
}

/// What sync learned about one open deal, decided from the stored transactions.
struct Move {
    status: DealStatus,
    height: Option<u32>,
    detail: String,
}

/// Moves every open deal forward from what the store now holds, inside the sync's own SQLite
/// transaction: its settlement seen in the mempool (broadcast) or in a block (confirmed, with
/// the height; back to broadcast after a reorganisation; a failed deal too, when its
/// settlement reached the chain after all), refused or conflicting (failed);
/// its cancelling spend confirmed (cancelled or expired); one of its coins spent by a
/// confirmed transaction that is neither (cancelled: it can never settle). Each move is an
/// event; a final deal's reservations end.
pub(super) fn reconcile(db: &rusqlite::Transaction<'_>) -> Result<()> {
    let mut stmt = db
        .prepare(&format!(
            "SELECT {DEAL_COLUMNS} FROM deals WHERE status NOT IN ('cancelled', 'expired')"
        ))
        .map_err(q("cannot read open deals"))?;
    let deals: Vec<Deal> = stmt
        .query_map([], read_deal)
        .map_err(q("cannot read open deals"))?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(q("cannot read open deals"))?
        .into_iter()
        .collect::<Result<_>>()?;
    drop(stmt);
    for mut deal in deals {
        deal.coins = deal_coins(db, &deal.id)?;
        let Some(m) = decide(db, &deal)? else {
            continue;
        };
        if m.status == deal.status && m.height == deal.height {
            continue;
        }
        db.execute(
            "UPDATE deals SET height = ?2 WHERE id = ?1",
            params![deal.id, m.height.map(i64::from)],
        )
        .map_err(q("cannot update a deal"))?;
        apply_change(
            db,
            &DealChange {
                id: deal.id.clone(),
                status: Some(m.status),
                detail: m.detail,
                ..DealChange::default()
            },
            None,
        )?;
    }
    Ok(())
}

/// A stored transaction's state: pending (0 chain, 1 recorded, 2 failed), height, failure.
type TxState = (i64, Option<u32>, Option<String>);

/// A stored transaction's state, when it is stored.
fn tx_state(db: &rusqlite::Transaction<'_>, txid: &Txid) -> Result<Option<TxState>> {
    db.query_row(
        "SELECT pending, height, failure FROM txs WHERE txid = ?1",
        [txid.to_string()],
        |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?
                    .and_then(|h| u32::try_from(h).ok()),
                r.get::<_, Option<String>>(2)?,
            ))
        },
    )
    .optional()
    .map_err(q("cannot read a deal's transaction"))
}

fn decide(db: &rusqlite::Transaction<'_>, deal: &Deal) -> Result<Option<Move>> {
    // The settlement first: once it is on the chain nothing else matters.
    if let Some(txid) = deal.txid {
        match tx_state(db, &txid)? {
            Some((0, Some(height), _)) => {
                return Ok(Some(Move {
                    status: DealStatus::Confirmed,
                    height: Some(height),
                    detail: format!("settlement {txid} confirmed at height {height}"),
                }))
            }
            Some((0, None, _)) => {
                let detail = if deal.status == DealStatus::Confirmed {
                    format!("settlement {txid} left its block (reorganisation); in the mempool")
                } else {
                    format!("settlement {txid} seen in the mempool")
                };
                return Ok(Some(Move {
                    status: DealStatus::Broadcast,
                    height: None,
                    detail,
                }));
            }
            Some((2, _, failure)) => {
                return Ok(Some(Move {
                    status: DealStatus::Failed,
                    height: None,
                    detail: format!(
                        "settlement {txid} failed: {}",
                        failure.unwrap_or_else(|| "refused".to_owned())
                    ),
                }))
            }
            Some(_) => return Ok(None), // recorded, waiting for a server
            None if deal.status == DealStatus::Confirmed => {
                return Ok(Some(Move {
                    status: DealStatus::Accepted,
                    height: None,
                    detail: format!("settlement {txid} is no longer on the chain (reorganisation)"),
                }))
            }
            None => {}
        }
    }
    if deal.status == DealStatus::Failed {
        // Only its settlement seen on the chain after all can move a failed deal.
        return Ok(None);
    }
    // A coin of the deal spent by another transaction that counts.
    let mut spenders = BTreeSet::new();
    for coin in &deal.coins {
        let mut stmt = db
            .prepare(
                "SELECT s.txid FROM spends s JOIN txs t ON t.txid = s.txid
                 WHERE s.prev_txid = ?1 AND s.prev_vout = ?2 AND t.pending < 2",
            )
            .map_err(q("cannot read spends"))?;
        let found: Vec<String> = stmt
            .query_map(params![coin.txid.to_string(), i64::from(coin.vout)], |r| {
                r.get(0)
            })
            .map_err(q("cannot read spends"))?
            .collect::<rusqlite::Result<_>>()
            .map_err(q("cannot read spends"))?;
        for t in found {
            let t = parse_txid(&t)?;
            if Some(t) != deal.txid {
                spenders.insert(t);
            }
        }
    }
    for spender in spenders {
        let Some((0, Some(height), _)) = tx_state(db, &spender)? else {
            continue; // not confirmed yet: the deal stays as it is (exposed)
        };
        if Some(spender) == deal.cancel_txid {
            let status = deal.cancel_reason.unwrap_or(DealStatus::Cancelled);
            return Ok(Some(Move {
                status,
                height: None,
                detail: format!(
                    "cancelling spend {spender} confirmed at height {height}: the offer can \
                     never settle"
                ),
            }));
        }
        return Ok(Some(Move {
            status: DealStatus::Cancelled,
            height: None,
            detail: format!(
                "coin of the deal spent by {spender} (confirmed at height {height}): the offer \
                 can never settle"
            ),
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_finality() {
        for s in DealStatus::ALL {
            assert_eq!(DealStatus::from_str(s.as_str()).unwrap(), s);
        }
        // A status typed by a user is a request that cannot be met; readers of the store map
        // it to their own storage error.
        let e = DealStatus::from_str("done").unwrap_err();
        assert!(
            matches!(&e, Error::InvalidRequest(m) if m.starts_with("'done' is not a deal status: one of ")),
            "{e:?}"
        );
        assert!(DealStatus::Confirmed.is_final());
        assert!(!DealStatus::Cancelling.is_final());
    }
}
