//! The desk's request queue, as its commands use it: every request validated at once
//! (network, address, checksum, script kind, amount at least the desk's minimum and at most
//! 8 decimals, reference, texts), then queued, approved, rejected. The store keeps every
//! change in one SQLite transaction with its audit event (see [`crate::store`]'s `pegouts`).

use super::{check_amount, check_supported, parse_btc_address, RequestInput};
use crate::network::Network;
use crate::store::{
    check_actor, Approved, DeskSettings, NewRequest, PegoutRequest, Queued, RowError,
};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// The longest reference.
pub const MAX_REFERENCE_LEN: usize = 64;
/// The longest customer name.
pub const MAX_CUSTOMER_LEN: usize = 128;
/// The longest note.
pub const MAX_NOTE_LEN: usize = 512;
/// The longest rejection reason.
pub const MAX_REASON_LEN: usize = 512;

fn invalid(msg: String) -> Error {
    Error::InvalidPegoutRequest(msg)
}

/// Checks a reference: 1 to 64 printable ASCII characters without spaces.
pub fn check_reference(reference: &str) -> Result<()> {
    let ok = (1..=MAX_REFERENCE_LEN).contains(&reference.len())
        && reference.chars().all(|c| c.is_ascii_graphic());
    if !ok {
        return Err(invalid(format!(
            "reference '{}' must be 1 to {MAX_REFERENCE_LEN} printable ASCII characters without \
             spaces",
            reference.escape_default()
        )));
    }
    Ok(())
}

/// A free text (customer, note, reason): empty is none; at most `max` characters and no
/// control characters (so that tables, CSV and terminals show it as it is).
fn check_text(what: &str, text: Option<&str>, max: usize) -> Result<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > max || text.chars().any(char::is_control) {
        return Err(invalid(format!(
            "the {what} must be at most {max} characters without control characters"
        )));
    }
    Ok(Some(text.to_owned()))
}

/// Checks everything about a request that does not depend on the queue: the network can
/// peg out, the reference, the Bitcoin address (parent chain, checksum, script kind), the
/// amount (at most 8 decimals, at least `min_amount`), the texts.
pub fn validate(input: &RequestInput, network: Network, min_amount: u64) -> Result<NewRequest> {
    check_supported(network)?;
    let reference = input.reference.trim();
    check_reference(reference)?;
    let destination = parse_btc_address(&input.btc_address, network)?;
    let amount = crate::amount::parse_amount(input.amount.trim(), 8).map_err(|e| match e {
        Error::InvalidAmount(m) => Error::InvalidAmount(format!("{m} (amounts are in BTC)")),
        other => other,
    })?;
    check_amount(amount, min_amount)?;
    Ok(NewRequest {
        reference: reference.to_owned(),
        btc_address: destination.address,
        script: destination.script.to_bytes(),
        amount,
        customer: check_text("customer", input.customer.as_deref(), MAX_CUSTOMER_LEN)?,
        note: check_text("note", input.note.as_deref(), MAX_NOTE_LEN)?,
    })
}

/// Queues a request after [`validate`] with the desk's minimum. The same reference with the
/// same content is a no-op ([`Queued::AlreadyQueued`]); with other content, a refusal.
pub fn add(wallet: &mut Wallet, input: &RequestInput, actor: &str) -> Result<Queued> {
    let actor = &check_actor(actor)?;
    let settings = wallet.store().pegout_settings()?;
    let new = validate(input, wallet.network(), settings.min_amount)?;
    wallet.store_mut().pegout_add(&new, actor)
}

/// Queues every row of an import (CSV with a header, or JSON Lines: see
/// [`super::import::parse`]) or none. Every bad row is reported in ONE pass, with its line
/// number and reason, in [`Error::ImportRejected`]: rows that cannot be read, rows that fail
/// the checks of a typed request, references repeated in the file, and references already
/// in the queue (whatever their content: an import queues new requests only). The error's
/// `refused` says whether every problem is a refusal ([`Error::is_refusal`]: another
/// Bitcoin network, a reference already used), so that a front end can give the file the
/// status `request add` gives the same cause; any malformed row makes the file malformed.
pub fn import(
    wallet: &mut Wallet,
    text: &str,
    source: &str,
    actor: &str,
) -> Result<Vec<PegoutRequest>> {
    let actor = &check_actor(actor)?;
    check_supported(wallet.network())?;
    let settings = wallet.store().pegout_settings()?;
    let rows = super::import::parse(text)?;
    let total = rows.len();
    if total == 0 {
        return Err(invalid("the import holds no request".to_owned()));
    }
    let mut errors: Vec<RowError> = Vec::new();
    let mut good: Vec<(usize, NewRequest)> = Vec::with_capacity(rows.len());
    let mut first_line: std::collections::HashMap<String, usize> = Default::default();
    for row in rows {
        let input = match row.input {
            Ok(input) => input,
            Err(reason) => {
                errors.push(RowError {
                    line: row.line,
                    reason,
                    refused: false,
                });
                continue;
            }
        };
        // A repeated reference is named even when the row has other faults too.
        let reference = input.reference.trim().to_owned();
        if let Some(first) = first_line.get(&reference) {
            errors.push(RowError {
                line: row.line,
                reason: format!(
                    "reference '{}' appears again (first on line {first}): a reference names \
                     one request",
                    reference.escape_default()
                ),
                refused: true,
            });
            continue;
        }
        if !reference.is_empty() {
            first_line.insert(reference, row.line);
        }
        match validate(&input, wallet.network(), settings.min_amount) {
            Ok(new) => good.push((row.line, new)),
            Err(e) => errors.push(RowError {
                line: row.line,
                reason: e.to_string(),
                refused: e.is_refusal(),
            }),
        }
    }
    // The queue is asked about every valid row, whatever else is wrong with the file.
    errors.extend(wallet.store().pegout_conflicts(&good)?);
    if errors.is_empty() {
        match wallet.store_mut().pegout_import(&good, actor, source)? {
            Ok(queued) => return Ok(queued),
            Err(queue_errors) => errors = queue_errors,
        }
    }
    errors.sort_by_key(|e| e.line);
    let refused = errors.iter().all(|e| e.refused);
    Err(Error::ImportRejected {
        rows: errors.into_iter().map(|e| (e.line, e.reason)).collect(),
        total,
        refused,
    })
}

/// Records `actor`'s approval of every request of `references` (all or none). Names are
/// checked and compared as [`check_actor`] says (`ERIN` is `erin`): a second approval by
/// the same person changes nothing and comes back with [`Approved::already`] set.
pub fn approve(wallet: &mut Wallet, references: &[String], actor: &str) -> Result<Vec<Approved>> {
    let actor = &check_actor(actor)?;
    if references.is_empty() {
        return Err(invalid("name at least one request to approve".to_owned()));
    }
    for r in references {
        check_reference(r)?;
    }
    wallet.store_mut().pegout_approve(references, actor)
}

/// Rejects a request that is not paid yet, with a reason.
pub fn reject(
    wallet: &mut Wallet,
    reference: &str,
    reason: &str,
    actor: &str,
) -> Result<PegoutRequest> {
    let actor = &check_actor(actor)?;
    check_reference(reference)?;
    let reason = check_text("reason", Some(reason), MAX_REASON_LEN)?
        .ok_or_else(|| invalid("a rejection needs a reason".to_owned()))?;
    wallet.store_mut().pegout_reject(reference, &reason, actor)
}

/// Changes the desk's settings: how many distinct approvers a request needs (1 to 10) and
/// the smallest amount: at least [`super::DEFAULT_MIN_PEGOUT`] (100,000 sat, below which
/// elementsd's `sendtomainchain` refuses a peg-out) and at most 21 million BTC, else
/// [`Error::InvalidAmount`]. A run checks each request against the minimum in force when it
/// runs, so raising it holds back approved requests below it.
pub fn set_settings(
    wallet: &mut Wallet,
    approvals: Option<u32>,
    min_amount: Option<u64>,
    actor: &str,
) -> Result<DeskSettings> {
    let actor = &check_actor(actor)?;
    if let Some(n) = approvals {
        if !(1..=10).contains(&n) {
            return Err(invalid(format!(
                "{n} approvers: a request needs 1 to 10 distinct approvers"
            )));
        }
    }
    if let Some(m) = min_amount {
        if m < super::DEFAULT_MIN_PEGOUT {
            return Err(Error::InvalidAmount(format!(
                "a minimum of {} BTC is below {} BTC ({} sat), the least elementsd pegs out \
                 (sendtomainchain refuses less); nothing was changed",
                crate::amount::format_amount(m, 8),
                crate::amount::format_amount(super::DEFAULT_MIN_PEGOUT, 8),
                super::DEFAULT_MIN_PEGOUT
            )));
        }
        if m > crate::tx::MAX_MONEY {
            return Err(Error::InvalidAmount(format!(
                "a minimum of {m} sat is above 21 million BTC; nothing was changed"
            )));
        }
    }
    wallet
        .store_mut()
        .pegout_set_settings(approvals, min_amount, actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(reference: &str, address: &str, amount: &str) -> RequestInput {
        RequestInput {
            reference: reference.to_owned(),
            btc_address: address.to_owned(),
            amount: amount.to_owned(),
            customer: Some("  ACME  ".to_owned()),
            note: Some(String::new()),
        }
    }

    const BTC: &str = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk";

    #[test]
    fn validation_names_each_bad_input() {
        let ok = validate(&input("T-1", BTC, "0.001"), Network::Regtest, 100_000).unwrap();
        assert_eq!(ok.amount, 100_000);
        assert_eq!(ok.customer.as_deref(), Some("ACME"));
        assert_eq!(ok.note, None);
        let err = |i: RequestInput| validate(&i, Network::Regtest, 100_000).unwrap_err();
        let bad_request = |i: RequestInput, why: &str| {
            let e = err(i);
            assert!(
                matches!(&e, Error::InvalidPegoutRequest(m) if m.contains(why)),
                "{e:?} does not say {why:?}"
            );
        };
        let bad_amount = |amount: &str, why: &str| {
            let e = err(input("T", BTC, amount));
            assert!(
                matches!(&e, Error::InvalidAmount(m) if m.contains(why)),
                "{amount}: {e:?} does not say {why:?}"
            );
        };
        const BAD_REFERENCE: &str = "must be 1 to 64 printable ASCII characters without spaces";
        bad_request(input("T 1", BTC, "1"), BAD_REFERENCE);
        bad_request(input("", BTC, "1"), BAD_REFERENCE);
        bad_request(input(&"x".repeat(65), BTC, "1"), BAD_REFERENCE);
        bad_amount("0.123456789", "more than 8 decimals");
        bad_amount("0.00099999", "below the minimum peg-out of 0.001 BTC");
        bad_amount("-1", "only digits and one '.' are allowed");
        // A typed amount that does not parse says that amounts are in BTC.
        bad_amount("-1", "(amounts are in BTC)");
        assert!(matches!(
            err(input(
                "T",
                "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
                "1"
            )),
            Error::WrongBitcoinNetwork { ref expected, ref found, .. }
                if expected == "Bitcoin regtest" && found == "Bitcoin mainnet"
        ));
        let mut bad_note = input("T", BTC, "1");
        bad_note.note = Some("line\nbreak".to_owned());
        bad_request(
            bad_note,
            "the note must be at most 512 characters without control characters",
        );
        assert!(matches!(
            validate(&input("T", BTC, "1"), Network::Liquid, 1),
            Err(Error::Refused(m)) if m.contains("Liquid mainnet enforces peg-out authorization (PAK)")
        ));
    }
}
