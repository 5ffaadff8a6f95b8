//! The peg-out desk's request queue: requests, approvals, the transactions that pay them, and
//! an append-only audit log, in the wallet's database.
//!
//! A request moves through these statuses; every change is ONE SQLite transaction that also
//! appends ONE event (time, actor, what changed) per request it changes:
//!
//! | status | meaning | next |
//! |---|---|---|
//! | requested | queued, validated, waiting for approvals | approved, rejected |
//! | approved | enough distinct approvers | signed (a run), rejected, requested (the desk now wants more approvers) |
//! | rejected | refused by the desk, with a reason (final) | - |
//! | signed | a signed transaction paying it is recorded (before its broadcast) | broadcast, confirmed, approved (abandoned or conflicted) |
//! | broadcast | a server accepted that transaction | confirmed, approved (abandoned or conflicted) |
//! | confirmed | that transaction is in a block (height and output index kept) | broadcast (its block left the chain) |
//!
//! Guards in the schema itself, whatever the code above does: the text, address, script and
//! amount of a request never change and a request is never deleted; only the transitions
//! above are possible; at most one transaction is *live* for a request
//! (`pegout_payments_one_live`); and the event log refuses updates and deletes.
//!
//! A request is paid at most once: it moves to `signed` only from `approved`, in the same
//! SQLite transaction that records the signed transaction (before it is broadcast; a request
//! that is no longer approved rolls the whole record back); it goes back to `approved` only
//! when that transaction can no longer confirm as it is: a chain transaction spent one of
//! its coins (sync), or the desk abandoned it while the server did not know it. A later run
//! that pays it again must spend a coin of every earlier transaction of it that could still
//! confirm, or know that a final (2 blocks deep) transaction spent one or one of a recorded
//! parent's, or spend the change of a shallower one (see `ops::pegout::FINAL_DEPTH`). And since
//! anyone holding an abandoned transaction can still broadcast it, sync moves a request to
//! `broadcast` or `confirmed` by ANY of its transactions that the chain shows, from whatever
//! status the desk had moved it to (`approved`, `requested`, even `rejected`: schema v7).

use std::collections::BTreeMap;
use std::str::FromStr;

use elements::{OutPoint, Txid};
use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::outgoing::{fail_with_descendants, LedgerChange};
use super::tx_rows::parse_txid;
use super::{now_secs, storage_err, Store};
use crate::{Error, Result};

pub(super) const MIGRATION_PEGOUTS: &str = "
    CREATE TABLE pegout_settings (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        approvals INTEGER NOT NULL CHECK (approvals BETWEEN 1 AND 10),
        min_amount INTEGER NOT NULL CHECK (min_amount > 0)
    );
    INSERT INTO pegout_settings (id, approvals, min_amount) VALUES (1, 1, 100000);
    CREATE TABLE pegout_requests (
        id INTEGER PRIMARY KEY,
        ref TEXT NOT NULL UNIQUE,
        btc_address TEXT NOT NULL,
        script BLOB NOT NULL,
        amount INTEGER NOT NULL CHECK (amount > 0),
        customer TEXT,
        note TEXT,
        status TEXT NOT NULL CHECK (status IN
            ('requested', 'approved', 'rejected', 'signed', 'broadcast', 'confirmed')),
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        txid TEXT,
        vout INTEGER,
        height INTEGER,
        reason TEXT
    );
    CREATE INDEX pegout_requests_status ON pegout_requests(status, id);
    CREATE INDEX pegout_requests_txid ON pegout_requests(txid);
    CREATE TRIGGER pegout_requests_frozen
        BEFORE UPDATE OF ref, btc_address, script, amount, customer, note, created_at,
            created_by ON pegout_requests
        BEGIN SELECT RAISE(ABORT, 'a peg-out request never changes once queued'); END;
    CREATE TRIGGER pegout_requests_kept BEFORE DELETE ON pegout_requests
        BEGIN SELECT RAISE(ABORT, 'peg-out requests are never deleted'); END;
    CREATE TRIGGER pegout_requests_transitions BEFORE UPDATE OF status ON pegout_requests
        WHEN NEW.status != OLD.status AND OLD.status || '>' || NEW.status NOT IN (
            'requested>approved', 'requested>rejected', 'approved>requested',
            'approved>rejected', 'approved>signed', 'signed>broadcast', 'signed>confirmed',
            'signed>approved', 'broadcast>confirmed', 'broadcast>approved',
            'confirmed>broadcast')
        BEGIN SELECT RAISE(ABORT, 'this peg-out status change is not allowed'); END;
    CREATE TABLE pegout_approvals (
        request_id INTEGER NOT NULL REFERENCES pegout_requests(id),
        approver TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (request_id, approver)
    );
    CREATE TABLE pegout_txs (
        txid TEXT PRIMARY KEY,
        raw BLOB NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('live', 'abandoned', 'conflicted')),
        created_at INTEGER NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE TABLE pegout_tx_inputs (
        txid TEXT NOT NULL REFERENCES pegout_txs(txid),
        prev_txid TEXT NOT NULL,
        prev_vout INTEGER NOT NULL,
        PRIMARY KEY (txid, prev_txid, prev_vout)
    );
    CREATE TABLE pegout_payments (
        request_id INTEGER NOT NULL REFERENCES pegout_requests(id),
        txid TEXT NOT NULL REFERENCES pegout_txs(txid),
        vout INTEGER NOT NULL CHECK (vout >= 0),
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        PRIMARY KEY (request_id, txid)
    );
    CREATE UNIQUE INDEX pegout_payments_one_live ON pegout_payments(request_id) WHERE active = 1;
    CREATE TABLE pegout_events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        request_id INTEGER REFERENCES pegout_requests(id),
        txid TEXT,
        kind TEXT NOT NULL,
        detail TEXT NOT NULL
    );
    CREATE INDEX pegout_events_request ON pegout_events(request_id, seq);
    CREATE TRIGGER pegout_events_no_update BEFORE UPDATE ON pegout_events
        BEGIN SELECT RAISE(ABORT, 'the peg-out audit log is append-only'); END;
    CREATE TRIGGER pegout_events_no_delete BEFORE DELETE ON pegout_events
        BEGIN SELECT RAISE(ABORT, 'the peg-out audit log is append-only'); END;";

/// Version 7: a request whose earlier transaction (abandoned, conflicted) reaches the chain
/// after all is paid by it, whatever status the desk had moved it to since: `broadcast` and
/// `confirmed` can be reached from `requested`, `approved` and `rejected` too (sync only).
pub(super) const MIGRATION_PEGOUTS_PAID_ONCE: &str = "
    DROP TRIGGER pegout_requests_transitions;
    CREATE TRIGGER pegout_requests_transitions BEFORE UPDATE OF status ON pegout_requests
        WHEN NEW.status != OLD.status AND OLD.status || '>' || NEW.status NOT IN (
            'requested>approved', 'requested>rejected', 'approved>requested',
            'approved>rejected', 'approved>signed', 'signed>broadcast', 'signed>confirmed',
            'signed>approved', 'broadcast>confirmed', 'broadcast>approved',
            'confirmed>broadcast', 'requested>broadcast', 'requested>confirmed',
            'approved>broadcast', 'approved>confirmed', 'rejected>broadcast',
            'rejected>confirmed')
        BEGIN SELECT RAISE(ABORT, 'this peg-out status change is not allowed'); END;";

/// Where a peg-out request stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RequestStatus {
    /// Queued, waiting for approvals.
    Requested,
    /// Approved by enough distinct approvers: the next run pays it.
    Approved,
    /// Refused by the desk (final).
    Rejected,
    /// A signed transaction paying it is recorded, not yet accepted by a server.
    Signed,
    /// A server accepted the transaction paying it.
    Broadcast,
    /// The transaction paying it is in a block.
    Confirmed,
}

impl RequestStatus {
    /// Every status, in the order a request goes through them.
    pub const ALL: [RequestStatus; 6] = [
        RequestStatus::Requested,
        RequestStatus::Approved,
        RequestStatus::Rejected,
        RequestStatus::Signed,
        RequestStatus::Broadcast,
        RequestStatus::Confirmed,
    ];

    /// The stored (and printed) name.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Requested => "requested",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Signed => "signed",
            RequestStatus::Broadcast => "broadcast",
            RequestStatus::Confirmed => "confirmed",
        }
    }
}

impl std::fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RequestStatus {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        RequestStatus::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown status '{s}': one of requested, approved, rejected, signed, \
                     broadcast, confirmed"
                )
            })
    }
}

/// A request as it is queued (checked by `ops::pegout` before it gets here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewRequest {
    /// The desk's external reference (a ticket), unique in the queue.
    pub reference: String,
    /// The Bitcoin address, canonical.
    pub btc_address: String,
    /// Its scriptPubKey.
    pub script: Vec<u8>,
    /// Amount in sat.
    pub amount: u64,
    /// Who the customer is, for the desk.
    pub customer: Option<String>,
    /// A note.
    pub note: Option<String>,
}

/// Who approved a request, and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approval {
    /// The approver's name.
    pub by: String,
    /// When (seconds since the epoch).
    pub at: u64,
}

/// A queued peg-out request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PegoutRequest {
    /// Its row id (queue order).
    pub id: i64,
    /// The desk's external reference.
    pub reference: String,
    /// The Bitcoin address.
    pub btc_address: String,
    /// Its scriptPubKey.
    pub script: Vec<u8>,
    /// Amount in sat.
    pub amount: u64,
    /// The customer.
    pub customer: Option<String>,
    /// The note.
    pub note: Option<String>,
    /// Where it stands.
    pub status: RequestStatus,
    /// When it was queued.
    pub created_at: u64,
    /// Who queued it.
    pub created_by: String,
    /// When it last changed.
    pub updated_at: u64,
    /// The transaction paying it (signed, broadcast, confirmed).
    pub txid: Option<Txid>,
    /// The output of that transaction that pays it.
    pub vout: Option<u32>,
    /// The Liquid height of the block holding it (confirmed).
    pub height: Option<u32>,
    /// Why it was rejected.
    pub reason: Option<String>,
    /// Its approvals, oldest first.
    pub approvals: Vec<Approval>,
}

impl PegoutRequest {
    /// Whether `new` asks for exactly this (the same reference, address, amount, customer
    /// and note): queueing it again is a no-op.
    pub fn same_as(&self, new: &NewRequest) -> bool {
        self.reference == new.reference
            && self.btc_address == new.btc_address
            && self.script == new.script
            && self.amount == new.amount
            && self.customer == new.customer
            && self.note == new.note
    }
}

/// One entry of the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PegoutEvent {
    /// Its order in the log.
    pub seq: i64,
    /// When (seconds since the epoch).
    pub at: u64,
    /// Who (a desk member's name, or `sync`).
    pub actor: String,
    /// The request it concerns, if one.
    pub reference: Option<String>,
    /// The transaction it concerns, if one.
    pub txid: Option<String>,
    /// What happened: requested, approval, approved, rejected, signed, broadcast,
    /// broadcast_failed, confirmed, unconfirmed, requeued, settings.
    pub kind: String,
    /// What changed, in words.
    pub detail: String,
}

/// The desk's settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeskSettings {
    /// Distinct approvers a request needs before a run pays it (1 to 10).
    pub approvals: u32,
    /// The smallest amount a request may ask for, in sat.
    pub min_amount: u64,
}

/// What queueing a request did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Queued {
    /// It was queued.
    Added(PegoutRequest),
    /// The same request (same reference and content) was already queued: nothing changed.
    AlreadyQueued(PegoutRequest),
}

/// A bad row of an import, by its line number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The line of the file (1 is the first).
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
    /// Whether it is a refusal of a well-formed row (a reference already used, another
    /// network: [`crate::Error::is_refusal`]) rather than malformed input.
    pub refused: bool,
}

/// Why `new` cannot be imported when `existing` holds its reference: said as `request add`
/// says it.
fn conflict(line: usize, new: &NewRequest, existing: &PegoutRequest) -> RowError {
    let reason = if existing.same_as(new) {
        format!(
            "reference '{}' is already in the queue ({}) with the same content: an import \
             queues new requests only (remove the row)",
            new.reference, existing.status
        )
    } else {
        Error::DuplicateRequest {
            reference: new.reference.clone(),
            status: existing.status.as_str().to_owned(),
        }
        .to_string()
    };
    RowError {
        line,
        reason,
        refused: true,
    }
}

/// What an approval did to one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Approved {
    /// The request after the approval.
    pub request: PegoutRequest,
    /// Whether this approver had approved it already (nothing changed).
    pub already: bool,
}

/// A transaction of the desk that still pays requests (`live`).
#[derive(Clone, Debug)]
pub struct LiveTx {
    /// The signed transaction.
    pub tx: elements::Transaction,
    /// The references it pays, with their statuses.
    pub requests: Vec<(String, RequestStatus)>,
}

/// Where a transaction that spends a coin stands, as the wallet's synced chain data says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpenderState {
    /// In a block at this height.
    Confirmed(u32),
    /// In the server's mempool.
    Mempool,
    /// Recorded by the wallet, not seen by a server yet.
    Recorded,
    /// Counted as failed by the wallet (refused, conflicted, dropped or abandoned).
    Failed,
}

/// A transaction that spends a coin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CoinSpender {
    /// The spending transaction.
    pub txid: Txid,
    /// Where it stands.
    pub state: SpenderState,
}

/// An earlier transaction of a request (no longer its payment), with the coins it spends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EarlierTx {
    /// The transaction.
    pub txid: Txid,
    /// Whether the chain or the mempool shows it (the last sync saw it).
    pub seen: bool,
    /// Each coin it spends, with the other transactions the wallet knows that spend it.
    pub inputs: Vec<(OutPoint, Vec<CoinSpender>)>,
}

/// The longest desk member's name.
pub const MAX_ACTOR_LEN: usize = 64;

/// Checks a desk member's name (an actor of the audit log and an approver) and returns it
/// in its recorded form: surrounding spaces trimmed and runs of spaces made one; then 1 to
/// [`MAX_ACTOR_LEN`] characters, each an ASCII letter or digit, `.`, `-`, `_`, `@` or a
/// space. Anything else is refused (control characters, and every non-ASCII character, so
/// that a look-alike such as a Cyrillic `е` cannot pass for another name). Two names are
/// the same person when they are equal ignoring ASCII case ([`same_actor`]): `erin` and
/// `ERIN` are one approver.
pub fn check_actor(actor: &str) -> Result<String> {
    let name = actor
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let ok = (1..=MAX_ACTOR_LEN).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | ' '));
    if !ok {
        return Err(Error::InvalidPegoutRequest(format!(
            "'{}' is not a usable name: 1 to {MAX_ACTOR_LEN} ASCII letters, digits, spaces and \
             . - _ @ (names are compared ignoring case)",
            actor.escape_default()
        )));
    }
    Ok(name)
}

/// Whether two checked names ([`check_actor`]) are the same person: equal ignoring ASCII
/// case.
pub fn same_actor(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

/// How many different people approved: names counted once ignoring ASCII case.
pub fn distinct_approvers(approvals: &[Approval]) -> usize {
    let mut seen: Vec<String> = approvals
        .iter()
        .map(|a| a.by.to_ascii_lowercase())
        .collect();
    seen.sort();
    seen.dedup();
    seen.len()
}

fn to_i64(v: u64) -> rusqlite::Result<i64> {
    i64::try_from(v).map_err(|_| rusqlite::Error::IntegralValueOutOfRange(0, -1))
}

fn now() -> i64 {
    i64::try_from(now_secs()).unwrap_or(i64::MAX)
}

/// Appends one event to the log.
fn event(
    db: &rusqlite::Transaction<'_>,
    actor: &str,
    request_id: Option<i64>,
    txid: Option<&str>,
    kind: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    db.execute(
        "INSERT INTO pegout_events (at, actor, request_id, txid, kind, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![now(), actor, request_id, txid, kind, detail],
    )
    .map(drop)
}

const REQUEST_COLUMNS: &str = "id, ref, btc_address, script, amount, customer, note, status, \
     created_at, created_by, updated_at, txid, vout, height, reason";

fn bad_row(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("bad {what} in the peg-out queue").into(),
    )
}

fn request_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PegoutRequest> {
    let u64_of = |i: usize| -> rusqlite::Result<u64> {
        u64::try_from(r.get::<_, i64>(i)?).map_err(|_| bad_row("number"))
    };
    let status: String = r.get(7)?;
    Ok(PegoutRequest {
        id: r.get(0)?,
        reference: r.get(1)?,
        btc_address: r.get(2)?,
        script: r.get(3)?,
        amount: u64_of(4)?,
        customer: r.get(5)?,
        note: r.get(6)?,
        status: status.parse().map_err(|_| bad_row("status"))?,
        created_at: u64_of(8)?,
        created_by: r.get(9)?,
        updated_at: u64_of(10)?,
        txid: r
            .get::<_, Option<String>>(11)?
            .map(|t| Txid::from_str(&t).map_err(|_| bad_row("txid")))
            .transpose()?,
        vout: r
            .get::<_, Option<i64>>(12)?
            .map(|v| u32::try_from(v).map_err(|_| bad_row("vout")))
            .transpose()?,
        height: r
            .get::<_, Option<i64>>(13)?
            .map(|v| u32::try_from(v).map_err(|_| bad_row("height")))
            .transpose()?,
        reason: r.get(14)?,
        approvals: Vec::new(),
    })
}

fn approvals_of(db: &rusqlite::Connection, id: i64) -> rusqlite::Result<Vec<Approval>> {
    let mut stmt = db.prepare_cached(
        "SELECT approver, at FROM pegout_approvals WHERE request_id = ?1 ORDER BY at, approver",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(Approval {
            by: r.get(0)?,
            at: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
        })
    })?;
    rows.collect()
}

fn request_by_ref(
    db: &rusqlite::Connection,
    reference: &str,
) -> rusqlite::Result<Option<PegoutRequest>> {
    let found = db
        .query_row(
            &format!("SELECT {REQUEST_COLUMNS} FROM pegout_requests WHERE ref = ?1"),
            [reference],
            request_from_row,
        )
        .optional()?;
    match found {
        Some(mut r) => {
            r.approvals = approvals_of(db, r.id)?;
            Ok(Some(r))
        }
        None => Ok(None),
    }
}

fn settings_in(db: &rusqlite::Connection) -> rusqlite::Result<DeskSettings> {
    db.query_row(
        "SELECT approvals, min_amount FROM pegout_settings WHERE id = 1",
        [],
        |r| {
            Ok(DeskSettings {
                approvals: u32::try_from(r.get::<_, i64>(0)?).unwrap_or(1),
                min_amount: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(1),
            })
        },
    )
}

fn insert_request(
    db: &rusqlite::Transaction<'_>,
    new: &NewRequest,
    actor: &str,
    origin: &str,
) -> rusqlite::Result<i64> {
    let at = now();
    db.execute(
        "INSERT INTO pegout_requests
           (ref, btc_address, script, amount, customer, note, status, created_at, created_by,
            updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'requested', ?7, ?8, ?7)",
        params![
            new.reference,
            new.btc_address,
            new.script,
            to_i64(new.amount)?,
            new.customer,
            new.note,
            at,
            actor
        ],
    )?;
    let id = db.last_insert_rowid();
    event(
        db,
        actor,
        Some(id),
        None,
        "requested",
        &format!(
            "queued {} sat to {}{}{origin}",
            new.amount,
            new.btc_address,
            new.customer
                .as_deref()
                .map(|c| format!(" for {c}"))
                .unwrap_or_default()
        ),
    )?;
    Ok(id)
}

fn set_status(
    db: &rusqlite::Transaction<'_>,
    id: i64,
    status: RequestStatus,
) -> rusqlite::Result<()> {
    db.execute(
        "UPDATE pegout_requests SET status = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, status.as_str(), now()],
    )
    .map(drop)
}

fn names(approvals: &[String]) -> String {
    approvals.join(", ")
}

fn approver_names(db: &rusqlite::Connection, id: i64) -> rusqlite::Result<Vec<String>> {
    Ok(approvals_of(db, id)?.into_iter().map(|a| a.by).collect())
}

/// Moves requests between `requested` and `approved` so that `approved` means "as many
/// distinct approvers as the desk requires", after the requirement changed.
fn rebalance(
    db: &rusqlite::Transaction<'_>,
    settings: DeskSettings,
    actor: &str,
) -> rusqlite::Result<()> {
    let mut stmt = db.prepare(
        "SELECT r.id, r.status, COUNT(DISTINCT lower(a.approver)) FROM pegout_requests r
           LEFT JOIN pegout_approvals a ON a.request_id = r.id
         WHERE r.status IN ('requested', 'approved') GROUP BY r.id",
    )?;
    let rows: Vec<(i64, String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    let need = i64::from(settings.approvals);
    for (id, status, count) in rows {
        let (to, kind) = match status.as_str() {
            "requested" if count >= need => (RequestStatus::Approved, "approved"),
            "approved" if count < need => (RequestStatus::Requested, "unapproved"),
            _ => continue,
        };
        set_status(db, id, to)?;
        let who = names(&approver_names(db, id)?);
        event(
            db,
            actor,
            Some(id),
            None,
            kind,
            &format!(
                "the desk now requires {need} approver(s); it has {count} ({who}): status {}",
                to.as_str()
            ),
        )?;
    }
    Ok(())
}

impl Store {
    fn pegout_db(&mut self, what: &'static str) -> Result<rusqlite::Transaction<'_>> {
        let path = self.path.clone();
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(move |e| storage_err(&path, what, e))
    }

    /// The desk's settings.
    pub fn pegout_settings(&self) -> Result<DeskSettings> {
        settings_in(&self.conn).map_err(|e| self.err("cannot read the peg-out settings", e))
    }

    /// Changes the desk's settings (one transaction, one event), and moves requests between
    /// `requested` and `approved` to match a new number of approvers.
    pub(crate) fn pegout_set_settings(
        &mut self,
        approvals: Option<u32>,
        min_amount: Option<u64>,
        actor: &str,
    ) -> Result<DeskSettings> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot change the peg-out settings", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        let before = settings_in(&db).map_err(q)?;
        let after = DeskSettings {
            approvals: approvals.unwrap_or(before.approvals),
            min_amount: min_amount.unwrap_or(before.min_amount),
        };
        if after == before {
            return Ok(before);
        }
        db.execute(
            "UPDATE pegout_settings SET approvals = ?1, min_amount = ?2 WHERE id = 1",
            params![
                i64::from(after.approvals),
                to_i64(after.min_amount).map_err(q)?
            ],
        )
        .map_err(q)?;
        event(
            &db,
            actor,
            None,
            None,
            "settings",
            &format!(
                "approvers required {} -> {}, minimum {} -> {} sat",
                before.approvals, after.approvals, before.min_amount, after.min_amount
            ),
        )
        .map_err(q)?;
        rebalance(&db, after, actor).map_err(q)?;
        db.commit().map_err(q)?;
        Ok(after)
    }

    /// Queues `new` (one transaction, one event); the same reference with the same content
    /// is a no-op ([`Queued::AlreadyQueued`]), with other content a refusal
    /// ([`Error::DuplicateRequest`]).
    pub(crate) fn pegout_add(&mut self, new: &NewRequest, actor: &str) -> Result<Queued> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot queue the peg-out request", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        if let Some(existing) = request_by_ref(&db, &new.reference).map_err(q)? {
            if existing.same_as(new) {
                return Ok(Queued::AlreadyQueued(existing));
            }
            return Err(Error::DuplicateRequest {
                reference: new.reference.clone(),
                status: existing.status.as_str().to_owned(),
            });
        }
        insert_request(&db, new, actor, "").map_err(q)?;
        let added = request_by_ref(&db, &new.reference)
            .map_err(q)?
            .ok_or_else(|| Error::Storage("the queued request vanished".to_owned()))?;
        db.commit().map_err(q)?;
        Ok(Queued::Added(added))
    }

    /// Queues every row of an import in ONE transaction, or none: a reference already in
    /// the queue is a row error (whatever its content). Returns the queued requests.
    pub(crate) fn pegout_import(
        &mut self,
        rows: &[(usize, NewRequest)],
        actor: &str,
        source: &str,
    ) -> Result<std::result::Result<Vec<PegoutRequest>, Vec<RowError>>> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot import peg-out requests", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        let mut errors = Vec::new();
        for (line, new) in rows {
            if let Some(existing) = request_by_ref(&db, &new.reference).map_err(q)? {
                errors.push(conflict(*line, new, &existing));
            }
        }
        if !errors.is_empty() {
            return Ok(Err(errors));
        }
        let mut ids = Vec::with_capacity(rows.len());
        for (line, new) in rows {
            let origin = format!(" (imported from {source}, line {line})");
            ids.push(insert_request(&db, new, actor, &origin).map_err(q)?);
        }
        db.commit().map_err(q)?;
        let mut out = Vec::with_capacity(rows.len());
        for (_, new) in rows {
            if let Some(r) = self.pegout_request(&new.reference)? {
                out.push(r);
            }
        }
        Ok(Ok(out))
    }

    /// The rows of an import whose reference is already in the queue, each with the reason
    /// (read only: [`Store::pegout_import`] checks again inside its transaction).
    pub(crate) fn pegout_conflicts(&self, rows: &[(usize, NewRequest)]) -> Result<Vec<RowError>> {
        let mut errors = Vec::new();
        for (line, new) in rows {
            if let Some(existing) = self.pegout_request(&new.reference)? {
                errors.push(conflict(*line, new, &existing));
            }
        }
        Ok(errors)
    }

    /// The request with this reference.
    pub fn pegout_request(&self, reference: &str) -> Result<Option<PegoutRequest>> {
        request_by_ref(&self.conn, reference)
            .map_err(|e| self.err("cannot read the peg-out queue", e))
    }

    /// The requests of one status or all, oldest first, with their approvals.
    pub fn pegout_requests(&self, status: Option<RequestStatus>) -> Result<Vec<PegoutRequest>> {
        let q = |e| self.err("cannot read the peg-out queue", e);
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {REQUEST_COLUMNS} FROM pegout_requests
                 WHERE ?1 IS NULL OR status = ?1 ORDER BY id"
            ))
            .map_err(q)?;
        let rows = stmt
            .query_map([status.map(RequestStatus::as_str)], request_from_row)
            .map_err(q)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(q)?;
        let mut approvals: BTreeMap<i64, Vec<Approval>> = BTreeMap::new();
        let mut stmt = self
            .conn
            .prepare("SELECT request_id, approver, at FROM pegout_approvals ORDER BY at, approver")
            .map_err(q)?;
        let mut all = stmt.query([]).map_err(q)?;
        while let Some(r) = all.next().map_err(q)? {
            approvals
                .entry(r.get(0).map_err(q)?)
                .or_default()
                .push(Approval {
                    by: r.get(1).map_err(q)?,
                    at: u64::try_from(r.get::<_, i64>(2).map_err(q)?).unwrap_or(0),
                });
        }
        Ok(rows
            .into_iter()
            .map(|mut r| {
                r.approvals = approvals.remove(&r.id).unwrap_or_default();
                r
            })
            .collect())
    }

    /// The audit log, oldest first: every event, or those of one request.
    pub fn pegout_events(&self, reference: Option<&str>) -> Result<Vec<PegoutEvent>> {
        let q = |e| self.err("cannot read the peg-out audit log", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT e.seq, e.at, e.actor, r.ref, e.txid, e.kind, e.detail
                 FROM pegout_events e LEFT JOIN pegout_requests r ON r.id = e.request_id
                 WHERE ?1 IS NULL OR r.ref = ?1 ORDER BY e.seq",
            )
            .map_err(q)?;
        let rows = stmt
            .query_map([reference], |r| {
                Ok(PegoutEvent {
                    seq: r.get(0)?,
                    at: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                    actor: r.get(2)?,
                    reference: r.get(3)?,
                    txid: r.get(4)?,
                    kind: r.get(5)?,
                    detail: r.get(6)?,
                })
            })
            .map_err(q)?;
        rows.collect::<rusqlite::Result<_>>().map_err(q)
    }

    /// Records `actor`'s approval of each of `references` in ONE transaction (all or none):
    /// a request still `requested` or already `approved` takes it (an approver counts once,
    /// names compared ignoring ASCII case: [`same_actor`]);
    /// it becomes `approved` once the desk's number of distinct approvers is reached.
    pub(crate) fn pegout_approve(
        &mut self,
        references: &[String],
        actor: &str,
    ) -> Result<Vec<Approved>> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot approve peg-out requests", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        let need = settings_in(&db).map_err(q)?.approvals;
        let mut ids = Vec::new();
        for reference in references {
            let r = request_by_ref(&db, reference)
                .map_err(q)?
                .ok_or_else(|| Error::UnknownRequest(reference.clone()))?;
            if !matches!(r.status, RequestStatus::Requested | RequestStatus::Approved) {
                return Err(Error::Refused(format!(
                    "request '{reference}' is {}: only requested or approved requests can be \
                     approved; nothing was approved",
                    r.status
                )));
            }
            let already = r.approvals.iter().any(|a| same_actor(&a.by, actor));
            if !already {
                db.execute(
                    "INSERT INTO pegout_approvals (request_id, approver, at) VALUES (?1, ?2, ?3)",
                    params![r.id, actor, now()],
                )
                .map_err(q)?;
                let count = distinct_approvers(&approvals_of(&db, r.id).map_err(q)?);
                let who = approver_names(&db, r.id).map_err(q)?;
                let done = count >= need as usize;
                let (kind, detail) = if done && r.status == RequestStatus::Requested {
                    set_status(&db, r.id, RequestStatus::Approved).map_err(q)?;
                    (
                        "approved",
                        format!(
                            "approval {count} of {need} ({}): status approved",
                            names(&who)
                        ),
                    )
                } else {
                    (
                        "approval",
                        format!("approval {count} of {need} ({})", names(&who)),
                    )
                };
                event(&db, actor, Some(r.id), None, kind, &detail).map_err(q)?;
            }
            ids.push((reference.clone(), already));
        }
        let mut out = Vec::new();
        for (reference, already) in ids {
            let request = request_by_ref(&db, &reference)
                .map_err(q)?
                .ok_or_else(|| Error::UnknownRequest(reference.clone()))?;
            out.push(Approved { request, already });
        }
        db.commit().map_err(q)?;
        Ok(out)
    }

    /// Rejects a request that is not paid yet (`requested` or `approved`), with a reason
    /// (one transaction, one event).
    pub(crate) fn pegout_reject(
        &mut self,
        reference: &str,
        reason: &str,
        actor: &str,
    ) -> Result<PegoutRequest> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot reject the peg-out request", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        let r = request_by_ref(&db, reference)
            .map_err(q)?
            .ok_or_else(|| Error::UnknownRequest(reference.to_owned()))?;
        if !matches!(r.status, RequestStatus::Requested | RequestStatus::Approved) {
            return Err(Error::Refused(format!(
                "request '{reference}' is {}: only requested or approved requests can be \
                 rejected",
                r.status
            )));
        }
        db.execute(
            "UPDATE pegout_requests SET status = 'rejected', reason = ?2, updated_at = ?3
             WHERE id = ?1",
            params![r.id, reason, now()],
        )
        .map_err(q)?;
        event(
            &db,
            actor,
            Some(r.id),
            None,
            "rejected",
            &format!("status {} -> rejected: {reason}", r.status),
        )
        .map_err(q)?;
        let out = request_by_ref(&db, reference)
            .map_err(q)?
            .ok_or_else(|| Error::UnknownRequest(reference.to_owned()))?;
        db.commit().map_err(q)?;
        Ok(out)
    }

    /// The approved requests a run may pay (as many distinct approvers as the desk
    /// requires), oldest first.
    pub fn pegout_runnable(&self) -> Result<Vec<PegoutRequest>> {
        let need = self.pegout_settings()?.approvals as usize;
        Ok(self
            .pegout_requests(Some(RequestStatus::Approved))?
            .into_iter()
            .filter(|r| distinct_approvers(&r.approvals) >= need)
            .collect())
    }

    /// Every earlier transaction of request `id` (abandoned, conflicted, or replaced by
    /// another), oldest first, with what the wallet's synced chain data says of it and of
    /// each coin it spends: so that a run paying `id` again can make sure none of them can
    /// still confirm beside the new one.
    pub(crate) fn pegout_earlier_txs(&self, id: i64) -> Result<Vec<EarlierTx>> {
        let q = |e| self.err("cannot read the peg-out transactions", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT p.txid, w.pending FROM pegout_payments p
                   JOIN pegout_txs t ON t.txid = p.txid
                   LEFT JOIN txs w ON w.txid = p.txid
                 WHERE p.request_id = ?1 AND p.active = 0 ORDER BY t.created_at, p.txid",
            )
            .map_err(q)?;
        let txs: Vec<(String, Option<i64>)> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(q)?
            .collect::<rusqlite::Result<_>>()
            .map_err(q)?;
        let mut inputs_stmt = self
            .conn
            .prepare(
                "SELECT prev_txid, prev_vout FROM pegout_tx_inputs WHERE txid = ?1
                 ORDER BY prev_txid, prev_vout",
            )
            .map_err(q)?;
        let mut out = Vec::with_capacity(txs.len());
        for (txid, pending) in txs {
            let ops: Vec<(String, i64)> = inputs_stmt
                .query_map([&txid], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(q)?
                .collect::<rusqlite::Result<_>>()
                .map_err(q)?;
            let inputs = self.spenders_of(&txid, ops)?;
            out.push(EarlierTx {
                txid: parse_txid(&txid)?,
                seen: pending == Some(0),
                inputs,
            });
        }
        Ok(out)
    }

    /// Each coin of `ops` (spent by `txid`), with the other transactions the wallet knows
    /// that spend it and where they stand.
    fn spenders_of(
        &self,
        txid: &str,
        ops: Vec<(String, i64)>,
    ) -> Result<Vec<(OutPoint, Vec<CoinSpender>)>> {
        let q = |e| self.err("cannot read the peg-out transactions", e);
        let mut spenders_stmt = self
            .conn
            .prepare_cached(
                "SELECT s.txid, t.pending, t.height FROM spends s JOIN txs t ON t.txid = s.txid
                 WHERE s.prev_txid = ?1 AND s.prev_vout = ?2 AND s.txid != ?3 ORDER BY s.txid",
            )
            .map_err(q)?;
        let mut inputs = Vec::with_capacity(ops.len());
        for (prev, vout) in ops {
            let rows: Vec<(String, i64, Option<i64>)> = spenders_stmt
                .query_map(params![prev, vout, txid], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })
                .map_err(q)?
                .collect::<rusqlite::Result<_>>()
                .map_err(q)?;
            let mut spenders = Vec::with_capacity(rows.len());
            for (t, pending, height) in rows {
                let state = match (pending, height) {
                    (0, Some(h)) => SpenderState::Confirmed(
                        u32::try_from(h).map_err(|_| Error::Storage("bad height".into()))?,
                    ),
                    (0, None) => SpenderState::Mempool,
                    (1, _) => SpenderState::Recorded,
                    _ => SpenderState::Failed,
                };
                spenders.push(CoinSpender {
                    txid: parse_txid(&t)?,
                    state,
                });
            }
            let op = OutPoint::new(
                parse_txid(&prev)?,
                u32::try_from(vout).map_err(|_| Error::Storage("bad vout".to_owned()))?,
            );
            inputs.push((op, spenders));
        }
        Ok(inputs)
    }

    /// A transaction the desk or the wallet recorded (`None` when neither did): whether
    /// the last sync saw it (in a block or the mempool), and each coin it spends with the
    /// other transactions the wallet knows that spend it. The desk's own record of its
    /// inputs comes first (kept even when `tx forget` dropped the wallet's row).
    pub(crate) fn recorded_tx_inputs(&self, txid: &Txid) -> Result<Option<EarlierTx>> {
        use rusqlite::OptionalExtension;
        let q = |e| self.err("cannot read the recorded transactions", e);
        let t = txid.to_string();
        let pending: Option<i64> = self
            .conn
            .query_row("SELECT pending FROM txs WHERE txid = ?1", [&t], |r| {
                r.get(0)
            })
            .optional()
            .map_err(q)?;
        // The coins `txid` spends, as `table` (the desk's record, or the wallet's) keeps them.
        let spent_in = |table: &str| -> Result<Vec<(String, i64)>> {
            self.conn
                .prepare_cached(&format!(
                    "SELECT prev_txid, prev_vout FROM {table} WHERE txid = ?1
                     ORDER BY prev_txid, prev_vout"
                ))
                .map_err(q)?
                .query_map([&t], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(q)?
                .collect::<rusqlite::Result<_>>()
                .map_err(q)
        };
        let mut ops = spent_in("pegout_tx_inputs")?;
        if ops.is_empty() {
            ops = spent_in("spends")?;
        }
        if ops.is_empty() {
            return Ok(None);
        }
        Ok(Some(EarlierTx {
            txid: *txid,
            seen: pending == Some(0),
            inputs: self.spenders_of(&t, ops)?,
        }))
    }

    /// Notes that a server accepted peg-out transaction `txid`: its `signed` requests become
    /// `broadcast` (one transaction, one event each).
    pub(crate) fn pegout_mark_broadcast(&mut self, txid: &Txid, actor: &str) -> Result<usize> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot mark peg-out requests broadcast", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        let ids = ids_with(&db, txid, &["signed"]).map_err(q)?;
        for id in &ids {
            set_status(&db, *id, RequestStatus::Broadcast).map_err(q)?;
            event(
                &db,
                actor,
                Some(*id),
                Some(&txid.to_string()),
                "broadcast",
                "status signed -> broadcast: a server accepted the transaction",
            )
            .map_err(q)?;
        }
        db.commit().map_err(q)?;
        Ok(ids.len())
    }

    /// Notes (one event per request) that broadcasting `txid` failed: the requests stay
    /// `signed`.
    pub(crate) fn pegout_note_broadcast_failure(
        &mut self,
        txid: &Txid,
        reason: &str,
        actor: &str,
    ) -> Result<()> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot note the failed broadcast", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        for id in ids_with(&db, txid, &["signed"]).map_err(q)? {
            event(
                &db,
                actor,
                Some(id),
                Some(&txid.to_string()),
                "broadcast_failed",
                reason,
            )
            .map_err(q)?;
        }
        db.commit().map_err(q)
    }

    /// The desk's transactions that pay requests not confirmed yet, oldest first, with the
    /// references they pay and their statuses.
    pub fn pegout_live_txs(&self) -> Result<Vec<LiveTx>> {
        let q = |e| self.err("cannot read the peg-out transactions", e);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT t.txid, t.raw FROM pegout_txs t WHERE t.state = 'live'
                   AND EXISTS (SELECT 1 FROM pegout_payments p
                                 JOIN pegout_requests r ON r.id = p.request_id
                               WHERE p.txid = t.txid AND p.active = 1
                                 AND r.status != 'confirmed')
                 ORDER BY t.created_at, t.txid",
            )
            .map_err(q)?;
        let rows: Vec<(String, Vec<u8>)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(q)?
            .collect::<rusqlite::Result<_>>()
            .map_err(q)?;
        let mut out = Vec::new();
        for (txid, raw) in rows {
            let tx: elements::Transaction = elements::encode::deserialize(&raw)
                .map_err(|e| Error::Storage(format!("bad peg-out transaction {txid}: {e}")))?;
            let mut stmt = self
                .conn
                .prepare(
                    "SELECT r.ref, r.status FROM pegout_payments p
                       JOIN pegout_requests r ON r.id = p.request_id
                     WHERE p.txid = ?1 AND p.active = 1 ORDER BY p.vout",
                )
                .map_err(q)?;
            let requests = stmt
                .query_map([&txid], |r| {
                    let status: String = r.get(1)?;
                    Ok((
                        r.get::<_, String>(0)?,
                        status.parse().map_err(|_| bad_row("status"))?,
                    ))
                })
                .map_err(q)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(q)?;
            out.push(LiveTx { tx, requests });
        }
        Ok(out)
    }

    /// A transaction of the desk (live, abandoned or conflicted), as it was signed.
    pub fn pegout_tx(&self, txid: &Txid) -> Result<Option<elements::Transaction>> {
        let raw: Option<Vec<u8>> = self
            .conn
            .query_row(
                "SELECT raw FROM pegout_txs WHERE txid = ?1",
                [txid.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("cannot read the peg-out transactions", e))?;
        raw.map(|raw| {
            elements::encode::deserialize(&raw)
                .map_err(|e| Error::Storage(format!("bad peg-out transaction {txid}: {e}")))
        })
        .transpose()
    }

    /// The wallet's record of `txid`: `None` when it has none, else its `pending` state (0
    /// seen on the chain, 1 recorded, 2 failed).
    pub(crate) fn recorded_state(&self, txid: &Txid) -> Result<Option<i64>> {
        self.conn
            .query_row(
                "SELECT pending FROM txs WHERE txid = ?1",
                [txid.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err("cannot read a recorded transaction", e))
    }

    /// Abandons live peg-out transaction `txid` on the desk's word (the caller checked that
    /// the server does not know it): the wallet stops counting it (and every recorded
    /// transaction spending its outputs), and the requests it and those pay go back to
    /// `approved`, in ONE transaction with one event per request. Returns the references.
    pub(crate) fn pegout_abandon(&mut self, txid: &Txid, actor: &str) -> Result<Vec<String>> {
        let path = self.path.clone();
        let q = |e| storage_err(&path, "cannot abandon the peg-out transaction", e);
        let db = self.pegout_db("cannot lock the wallet database")?;
        let state: Option<String> = db
            .query_row(
                "SELECT state FROM pegout_txs WHERE txid = ?1",
                [txid.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(q)?;
        match state.as_deref() {
            Some("live") => {}
            Some(other) => {
                return Err(Error::Refused(format!(
                    "peg-out transaction {txid} is already {other}; nothing changed"
                )))
            }
            None => return Err(Error::UnknownPegoutTx(*txid)),
        }
        let chain_seen: Option<i64> = db
            .query_row(
                "SELECT pending FROM txs WHERE txid = ?1",
                [txid.to_string()],
                |r| r.get(0),
            )
            .optional()
            .map_err(q)?;
        if chain_seen == Some(0) {
            return Err(Error::Refused(format!(
                "transaction {txid} is on the chain or in the server's mempool (the last sync \
                 saw it): it can still confirm, so its requests stay with it"
            )));
        }
        let reason = format!("abandoned by {actor}");
        let mut failed = vec![txid.to_string()];
        if chain_seen.is_some() {
            for (t, _) in fail_with_descendants(&db, &txid.to_string(), &reason).map_err(q)? {
                if !failed.contains(&t) {
                    failed.push(t);
                }
            }
            // An already failed transaction's descendants.
            for (t, _) in super::outgoing::fail_children_of_failed(&db).map_err(q)? {
                if !failed.contains(&t) {
                    failed.push(t);
                }
            }
        }
        let mut refs = Vec::new();
        for t in &failed {
            let is_live: bool = db
                .query_row(
                    "SELECT COUNT(*) FROM pegout_txs WHERE txid = ?1 AND state = 'live'",
                    [t],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(q)?
                > 0;
            if !is_live {
                continue;
            }
            let why = if t == &txid.to_string() {
                reason.clone()
            } else {
                format!("it spends an output of {txid}, abandoned by {actor}")
            };
            refs.extend(requeue(&db, t, "abandoned", &why, actor).map_err(q)?);
        }
        db.commit().map_err(q)?;
        Ok(refs)
    }
}

/// The ids of the requests paid by live payment `txid` whose status is one of `statuses`.
fn ids_with(
    db: &rusqlite::Connection,
    txid: &Txid,
    statuses: &[&str],
) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = db.prepare(
        "SELECT r.id, r.status FROM pegout_payments p JOIN pegout_requests r ON r.id = p.request_id
         WHERE p.txid = ?1 AND p.active = 1 ORDER BY r.id",
    )?;
    let rows: Vec<(i64, String)> = stmt
        .query_map([txid.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows
        .into_iter()
        .filter(|(_, s)| statuses.contains(&s.as_str()))
        .map(|(id, _)| id)
        .collect())
}

/// Ends live transaction `txid` (`state`: abandoned or conflicted) and puts the requests it
/// paid back to `approved`, one event each. Returns their references.
fn requeue(
    db: &rusqlite::Transaction<'_>,
    txid: &str,
    state: &str,
    why: &str,
    actor: &str,
) -> rusqlite::Result<Vec<String>> {
    db.execute(
        "UPDATE pegout_txs SET state = ?2 WHERE txid = ?1 AND state = 'live'",
        params![txid, state],
    )?;
    let mut stmt = db.prepare(
        "SELECT r.id, r.ref, r.status FROM pegout_payments p
           JOIN pegout_requests r ON r.id = p.request_id
         WHERE p.txid = ?1 AND p.active = 1 ORDER BY r.id",
    )?;
    let rows: Vec<(i64, String, String)> = stmt
        .query_map([txid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    let mut refs = Vec::new();
    for (id, reference, status) in rows {
        db.execute(
            "UPDATE pegout_payments SET active = 0 WHERE request_id = ?1 AND txid = ?2",
            params![id, txid],
        )?;
        db.execute(
            "UPDATE pegout_requests SET status = 'approved', txid = NULL, vout = NULL,
               height = NULL, updated_at = ?2 WHERE id = ?1",
            params![id, now()],
        )?;
        event(
            db,
            actor,
            Some(id),
            Some(txid),
            "requeued",
            &format!("status {status} -> approved: {why}; the next run pays it again"),
        )?;
        refs.push(reference);
    }
    Ok(refs)
}

/// The requests a run pays, written in the same SQLite transaction as the signed
/// transaction (before its broadcast): each request must still be `approved` with enough
/// distinct approvers, at least the desk's minimum, and ask for exactly what was built, or
/// the whole record rolls back.
pub(crate) struct PegoutsSigned {
    /// (request id, reference, output index, amount, script).
    pub requests: Vec<(i64, String, u32, u64, Vec<u8>)>,
    /// The transaction's inputs.
    pub inputs: Vec<OutPoint>,
    /// Who ran it.
    pub actor: String,
}

impl LedgerChange for PegoutsSigned {
    fn apply(&self, db: &rusqlite::Transaction<'_>, txid: &Txid) -> Result<()> {
        let q = |e| Error::Storage(format!("cannot record the peg-out requests: {e}"));
        let t = txid.to_string();
        let raw: Vec<u8> = db
            .query_row("SELECT raw FROM txs WHERE txid = ?1", [&t], |r| r.get(0))
            .map_err(q)?;
        db.execute(
            "INSERT INTO pegout_txs (txid, raw, state, created_at, created_by)
             VALUES (?1, ?2, 'live', ?3, ?4)",
            params![t, raw, now(), self.actor],
        )
        .map_err(q)?;
        for op in &self.inputs {
            db.execute(
                "INSERT OR IGNORE INTO pegout_tx_inputs (txid, prev_txid, prev_vout)
                 VALUES (?1, ?2, ?3)",
                params![t, op.txid.to_string(), i64::from(op.vout)],
            )
            .map_err(q)?;
        }
        let need = i64::from(settings_in(db).map_err(q)?.approvals);
        for (id, reference, vout, amount, script) in &self.requests {
            let approvals: i64 = db
                .query_row(
                    "SELECT COUNT(DISTINCT lower(approver)) FROM pegout_approvals
                     WHERE request_id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(q)?;
            let changed = db
                .execute(
                    "UPDATE pegout_requests SET status = 'signed', txid = ?2, vout = ?3,
                       height = NULL, updated_at = ?4
                     WHERE id = ?1 AND status = 'approved' AND amount = ?5 AND script = ?6
                       AND amount >= (SELECT min_amount FROM pegout_settings WHERE id = 1)",
                    params![
                        id,
                        t,
                        i64::from(*vout),
                        now(),
                        to_i64(*amount).map_err(q)?,
                        script
                    ],
                )
                .map_err(q)?;
            if changed != 1 || approvals < need {
                return Err(Error::Refused(format!(
                    "request '{reference}' is no longer approved, or is below the desk's \
                     minimum (another command changed it or the settings); nothing was \
                     recorded or broadcast"
                )));
            }
            db.execute(
                "INSERT INTO pegout_payments (request_id, txid, vout, active)
                 VALUES (?1, ?2, ?3, 1)",
                params![id, t, i64::from(*vout)],
            )
            .map_err(q)?;
            event(
                db,
                &self.actor,
                Some(*id),
                Some(&t),
                "signed",
                &format!(
                    "status approved -> signed: transaction {t} output {vout} pays {amount} sat; \
                     recorded before its broadcast"
                ),
            )
            .map_err(q)?;
        }
        Ok(())
    }
}

/// Moves requests forward from what the sync just stored, inside its SQLite transaction
/// (actor `sync`). A request is paid by whichever of its transactions reaches the chain, so
/// first every desk transaction the chain or the mempool shows, whatever the desk said of it
/// (abandoned, conflicted, or replaced by a later one), becomes the payment of the requests
/// it pays ([`adopt_seen`]). Then a live transaction that a chain transaction conflicts with
/// keeps nothing: a request whose peg-out output the winner pays is paid by the winner, the
/// others go back to `approved`; a live transaction in a block confirms its requests
/// (height kept); one seen in the mempool makes them `broadcast` (also when its block left
/// the chain).
pub(super) fn reconcile(db: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    adopt_seen(db)?;
    let mut stmt = db.prepare(
        "SELECT t.txid, w.pending, w.height FROM pegout_txs t
           LEFT JOIN txs w ON w.txid = t.txid
         WHERE t.state = 'live'",
    )?;
    let live: Vec<(String, Option<i64>, Option<i64>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    for (txid, pending, height) in live {
        if pending != Some(0) {
            // Not seen on the chain: conflicted when a chain transaction spends its coins.
            let mut stmt = db.prepare(
                "SELECT DISTINCT c.txid, ct.height FROM pegout_tx_inputs i
                   JOIN spends c ON c.prev_txid = i.prev_txid AND c.prev_vout = i.prev_vout
                                AND c.txid != i.txid
                   JOIN txs ct ON ct.txid = c.txid AND ct.pending = 0
                 WHERE i.txid = ?1 ORDER BY ct.height IS NULL, c.txid",
            )?;
            let found: Vec<(String, Option<i64>)> = stmt
                .query_map([&txid], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            let winners: Vec<String> = found.iter().map(|(t, _)| t.clone()).collect();
            if let Some((winner, height)) = found.first() {
                // A winner that pays a request's very peg-out output is its payment; the
                // others go back to approved.
                adopt_same_output(db, &txid, &winners)?;
                // Say what is known: a spender in a block, or only in the mempool (then
                // the earlier transaction could still confirm if the spender never does,
                // and the next run pays these requests only once it is decided).
                let why = match height {
                    Some(h) => format!(
                        "conflict: transaction {winner}, in a block at height {h}, spent coins \
                         of {txid}, which cannot confirm unless a reorganisation drops that \
                         block"
                    ),
                    None => format!(
                        "conflict: transaction {winner}, in the server's mempool (not \
                         confirmed yet), spends coins of {txid}, which cannot confirm while \
                         it stands"
                    ),
                };
                requeue(db, &txid, "conflicted", &why, "sync")?;
                continue;
            }
            // Confirmed once, now in no block and no mempool of the server (a reorganisation
            // that dropped it): the requests wait for it again; the next run sends it.
            let mut stmt = db.prepare(
                "SELECT r.id FROM pegout_payments p JOIN pegout_requests r ON r.id = p.request_id
                 WHERE p.txid = ?1 AND p.active = 1 AND r.status = 'confirmed'",
            )?;
            let ids: Vec<i64> = stmt
                .query_map([&txid], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            for id in ids {
                db.execute(
                    "UPDATE pegout_requests SET status = 'broadcast', height = NULL,
                       updated_at = ?2 WHERE id = ?1",
                    params![id, now()],
                )?;
                event(
                    db,
                    "sync",
                    Some(id),
                    Some(&txid),
                    "unconfirmed",
                    "status confirmed -> broadcast: its block left the best chain and the \
                     server no longer lists it; the next run sends it again",
                )?;
            }
            continue;
        }
        let mut stmt = db.prepare(
            "SELECT r.id, r.status, r.height, p.vout FROM pegout_payments p
               JOIN pegout_requests r ON r.id = p.request_id
             WHERE p.txid = ?1 AND p.active = 1",
        )?;
        let rows: Vec<(i64, String, Option<i64>, i64)> = stmt
            .query_map([&txid], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        for (id, status, had, vout) in rows {
            match height {
                Some(h) if status != "confirmed" || had != Some(h) => {
                    db.execute(
                        "UPDATE pegout_requests SET status = 'confirmed', height = ?2,
                           updated_at = ?3 WHERE id = ?1",
                        params![id, h, now()],
                    )?;
                    event(
                        db,
                        "sync",
                        Some(id),
                        Some(&txid),
                        "confirmed",
                        &format!(
                            "status {status} -> confirmed at Liquid height {h}, output {vout}"
                        ),
                    )?;
                }
                None if status != "broadcast" => {
                    db.execute(
                        "UPDATE pegout_requests SET status = 'broadcast', height = NULL,
                           updated_at = ?2 WHERE id = ?1",
                        params![id, now()],
                    )?;
                    let why = if status == "confirmed" {
                        "its block left the best chain; the transaction is back in the mempool"
                    } else {
                        "the server lists the transaction in its mempool"
                    };
                    event(
                        db,
                        "sync",
                        Some(id),
                        Some(&txid),
                        if status == "confirmed" {
                            "unconfirmed"
                        } else {
                            "broadcast"
                        },
                        &format!("status {status} -> broadcast: {why}"),
                    )?;
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// The status, height and words for a request paid by a transaction the chain shows at
/// `height` (`None`: in the mempool).
fn seen_status(height: Option<i64>, vout: i64) -> (&'static str, String) {
    match height {
        Some(h) => (
            "confirmed",
            format!("confirmed after all, at Liquid height {h}, output {vout}"),
        ),
        None => (
            "broadcast",
            format!("is in the server's mempool after all (output {vout})"),
        ),
    }
}

/// Whether desk transactions `a` and `b` spend a coin in common (so at most one confirms).
fn share_an_input(db: &rusqlite::Connection, a: &str, b: &str) -> rusqlite::Result<bool> {
    db.query_row(
        "SELECT EXISTS (SELECT 1 FROM pegout_tx_inputs x JOIN pegout_tx_inputs y
            ON y.prev_txid = x.prev_txid AND y.prev_vout = x.prev_vout
          WHERE x.txid = ?1 AND y.txid = ?2)",
        params![a, b],
        |r| r.get(0),
    )
}

/// Makes `txid`, which the chain or the mempool shows (`height`), the payment of request
/// `id` at output `vout`, in place of its current payment `replaced` (if one): the payment
/// rows, the transaction's state (live again), the request's status, txid, output and
/// height, and one event that says why.
#[allow(clippy::too_many_arguments)]
fn make_payment(
    db: &rusqlite::Transaction<'_>,
    id: i64,
    status: &str,
    txid: &str,
    vout: i64,
    height: Option<i64>,
    replaced: Option<&str>,
    why: &str,
) -> rusqlite::Result<()> {
    let mut also = String::new();
    if let Some(other) = replaced {
        db.execute(
            "UPDATE pegout_payments SET active = 0 WHERE request_id = ?1 AND txid = ?2",
            params![id, other],
        )?;
        also = if share_an_input(db, txid, other)? {
            format!(
                "; transaction {other}, which paid it again, spends the same coins and can no \
                 longer confirm"
            )
        } else {
            format!(
                "; WARNING: transaction {other} pays it too and spends other coins: if it \
                 confirms as well, the request is paid twice (`pegout abandon {other}` while \
                 no server knows it)"
            )
        };
    }
    db.execute(
        "INSERT INTO pegout_payments (request_id, txid, vout, active) VALUES (?1, ?2, ?3, 1)
         ON CONFLICT (request_id, txid) DO UPDATE SET active = 1, vout = excluded.vout",
        params![id, txid, vout],
    )?;
    db.execute(
        "UPDATE pegout_txs SET state = 'live' WHERE txid = ?1",
        [txid],
    )?;
    let (to, what) = seen_status(height, vout);
    db.execute(
        "UPDATE pegout_requests SET status = ?2, txid = ?3, vout = ?4, height = ?5,
           updated_at = ?6 WHERE id = ?1",
        params![id, to, txid, vout, height, now()],
    )?;
    event(
        db,
        "sync",
        Some(id),
        Some(txid),
        to,
        &format!(
            "status {status} -> {to}: {why} {what}; it is this request's payment, so the \
             request is not paid again{also}"
        ),
    )
}

/// Every transaction ever recorded for a request that the chain or the mempool shows pays
/// it: a request whose current payment is another transaction (or none: it went back to
/// approved after an abandon or a conflict, or was rejected since) is moved to it, with an
/// event ("abandoned transaction T confirmed after all"). A request whose current payment
/// is shown too keeps it (both paid it: nothing can undo that; the chain data says so).
fn adopt_seen(db: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let mut stmt = db.prepare(
        "SELECT p.request_id, p.txid, p.vout, t.state, w.height FROM pegout_payments p
           JOIN pegout_txs t ON t.txid = p.txid
           JOIN txs w ON w.txid = p.txid AND w.pending = 0
         WHERE p.active = 0
         ORDER BY w.height IS NULL, w.height, t.created_at, p.txid, p.request_id",
    )?;
    let rows: Vec<(i64, String, i64, String, Option<i64>)> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    for (id, txid, vout, state, height) in rows {
        let current: Option<(String, Option<i64>)> = db
            .query_row(
                "SELECT p.txid, w.pending FROM pegout_payments p
                   LEFT JOIN txs w ON w.txid = p.txid
                 WHERE p.request_id = ?1 AND p.active = 1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        if current
            .as_ref()
            .is_some_and(|(_, pending)| *pending == Some(0))
        {
            continue;
        }
        let status: String = db.query_row(
            "SELECT status FROM pegout_requests WHERE id = ?1",
            [id],
            |r| r.get(0),
        )?;
        let why = match state.as_str() {
            "live" => format!("transaction {txid}, which paid it before,"),
            other => format!("{other} transaction {txid}"),
        };
        make_payment(
            db,
            id,
            &status,
            &txid,
            vout,
            height,
            current.as_ref().map(|(t, _)| t.as_str()),
            &why,
        )?;
    }
    Ok(())
}

fn parse_tx(raw: &[u8]) -> rusqlite::Result<elements::Transaction> {
    elements::encode::deserialize(raw).map_err(|_| bad_row("transaction"))
}

/// Live transaction `txid` lost to chain transactions `winners`: a request of it whose very
/// peg-out output (same script, same explicit amount and asset) a winner pays is paid by
/// that winner, which the desk records as one of its transactions.
fn adopt_same_output(
    db: &rusqlite::Transaction<'_>,
    txid: &str,
    winners: &[String],
) -> rusqlite::Result<()> {
    let raw: Vec<u8> = db.query_row("SELECT raw FROM pegout_txs WHERE txid = ?1", [txid], |r| {
        r.get(0)
    })?;
    let lost = parse_tx(&raw)?;
    let mut stmt = db.prepare(
        "SELECT r.id, r.status, p.vout FROM pegout_payments p
           JOIN pegout_requests r ON r.id = p.request_id
         WHERE p.txid = ?1 AND p.active = 1 ORDER BY p.vout",
    )?;
    let rows: Vec<(i64, String, i64)> = stmt
        .query_map([txid], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    drop(stmt);
    for (id, status, vout) in rows {
        let Some(out) = usize::try_from(vout).ok().and_then(|v| lost.output.get(v)) else {
            continue;
        };
        for winner in winners {
            let (raw, height): (Vec<u8>, Option<i64>) = db.query_row(
                "SELECT raw, height FROM txs WHERE txid = ?1",
                [winner],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let won = parse_tx(&raw)?;
            let mut stmt = db.prepare("SELECT vout FROM pegout_payments WHERE txid = ?1")?;
            let used: Vec<i64> = stmt
                .query_map([winner], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            let found = won.output.iter().enumerate().find_map(|(j, o)| {
                let j = i64::try_from(j).ok()?;
                (o == out && !o.is_fee() && !used.contains(&j)).then_some(j)
            });
            let Some(j) = found else {
                continue;
            };
            db.execute(
                "INSERT OR IGNORE INTO pegout_txs (txid, raw, state, created_at, created_by)
                 VALUES (?1, ?2, 'live', ?3, 'sync')",
                params![winner, raw, now()],
            )?;
            for input in &won.input {
                db.execute(
                    "INSERT OR IGNORE INTO pegout_tx_inputs (txid, prev_txid, prev_vout)
                     VALUES (?1, ?2, ?3)",
                    params![
                        winner,
                        input.previous_output.txid.to_string(),
                        i64::from(input.previous_output.vout)
                    ],
                )?;
            }
            let why = format!(
                "transaction {winner}, which spent coins of {txid}, pays the same peg-out and"
            );
            make_payment(db, id, &status, winner, j, height, Some(txid), &why)?;
            break;
        }
    }
    Ok(())
}
