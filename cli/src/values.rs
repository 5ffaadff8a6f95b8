//! Typed command-line values: clap parses them, so a malformed one is a usage error (exit 2)
//! naming the argument, wherever it appears.

use std::str::FromStr;

use elements::{Address, AssetId, Txid};
use wallet_core::tx::FeeRate;

/// An asset on the command line: its 64-hex id, or `L-BTC` for the network's policy asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssetArg {
    /// The network's policy asset.
    Policy,
    /// An asset id.
    Id(AssetId),
}

impl AssetArg {
    /// The asset id, with `policy` standing for L-BTC.
    pub fn resolve(self, policy: AssetId) -> AssetId {
        match self {
            AssetArg::Policy => policy,
            AssetArg::Id(id) => id,
        }
    }
}

impl FromStr for AssetArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("l-btc") || t.eq_ignore_ascii_case("lbtc") {
            return Ok(AssetArg::Policy);
        }
        AssetId::from_str(t).map(AssetArg::Id).map_err(|_| {
            format!(
                "'{text}' is not an asset id: assets are named by their 64-hex id (or L-BTC); \
                 `balance` and `asset list` show the wallet's"
            )
        })
    }
}

/// A decimal amount as typed (`0.5`, `1000`): checked for its form here, and for the asset's
/// precision once the asset is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decimal(pub String);

impl FromStr for Decimal {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let (whole, frac) = t.split_once('.').unwrap_or((t, ""));
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if t.is_empty() || whole.is_empty() && frac.is_empty() || !digits(whole) || !digits(frac) {
            return Err(format!(
                "'{text}' is not an amount: write a decimal such as 0.5 or 1000 (no sign, no \
                 exponent, no thousands separators)"
            ));
        }
        Ok(Decimal(t.to_owned()))
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parses a txid (64 hex characters).
pub fn txid(text: &str) -> Result<Txid, String> {
    Txid::from_str(text.trim())
        .map_err(|_| format!("'{text}' is not a txid: a txid is 64 hex characters"))
}

/// Parses a deal id as typed: its 32 hex characters or a prefix of at least 8, lowercased.
pub fn deal_ref(text: &str) -> Result<String, String> {
    let t = text.trim().to_ascii_lowercase();
    if (8..=32).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(t)
    } else {
        Err(format!(
            "'{text}' is not a deal id: give the 32 hex characters `deal list` shows, or a \
             unique prefix of 8 or more"
        ))
    }
}

/// Parses a count of reissuance tokens: a whole number, no sign.
pub fn token_count(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!(
            "'{text}' is not a number of tokens: write a whole number such as 0 or 1"
        ));
    }
    t.parse()
        .map_err(|_| format!("{t} tokens is more than can be issued"))
}

/// Parses a fee rate in sat per discounted vbyte, at least the relay floor of 0.1 and at
/// most the ceiling of 1,000 ([`FeeRate::MAX`], shared with every front end).
pub fn fee_rate(text: &str) -> Result<FeeRate, String> {
    let rate = FeeRate::parse_sat_per_vb(text.trim()).map_err(|_| {
        format!(
            "'{text}' is not a fee rate: write a decimal in sat/vB with at most 3 decimals, \
             e.g. 0.1"
        )
    })?;
    if rate < FeeRate::MIN {
        return Err(format!(
            "{rate} is below the relay floor of {}",
            FeeRate::MIN
        ));
    }
    if rate > FeeRate::MAX {
        return Err(format!(
            "{rate} is above the ceiling of {} (Liquid's fees sit at the floor of {}; a \
             higher rate only burns L-BTC): type the rate in sat per vbyte",
            FeeRate::MAX,
            FeeRate::MIN
        ));
    }
    Ok(rate)
}

/// Parses a `--since` time (`deal list|export`, `pegout export`) into seconds since the
/// epoch: `YYYY-MM-DD` (midnight UTC), or an RFC 3339 time with `Z` or an offset
/// (`2026-12-05T23:00:30+02:00` is 21:00:30 UTC), a fraction of a second dropped; a time
/// without an offset is taken as UTC.
pub fn since(text: &str) -> Result<u64, String> {
    let bad = |why: &str| {
        format!(
            "'{text}' is not a date{why}: write YYYY-MM-DD, or an RFC 3339 time such as \
             2026-01-31T08:00:00Z or 2026-01-31T10:00:00+02:00"
        )
    };
    let t = text.trim().to_ascii_uppercase();
    if !t.is_ascii() {
        return Err(bad(""));
    }
    let (local, offset): (String, i64) = if t.len() == 10 {
        (format!("{t}T00:00:00"), 0)
    } else if let Some(utc) = t.strip_suffix('Z') {
        (utc.to_owned(), 0)
    } else if t.len() > 19 && matches!(t.as_bytes()[t.len() - 6], b'+' | b'-') {
        let (local, zone) = t.split_at(t.len() - 6);
        let number = |s: &str| s.parse::<i64>().ok().filter(|_| s.len() == 2);
        let (hours, minutes) = match (zone.as_bytes()[3], number(&zone[1..3]), number(&zone[4..])) {
            (b':', Some(h), Some(m)) if h <= 23 && m <= 59 => (h, m),
            _ => return Err(bad(&format!(" (bad UTC offset '{zone}')"))),
        };
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        (local.to_owned(), sign * (hours * 3600 + minutes * 60))
    } else {
        (t.clone(), 0)
    };
    let time = humantime::parse_rfc3339_weak(&local).map_err(|e| bad(&format!(" ({e})")))?;
    let local_secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| format!("'{text}' is before 1970"))?
        .as_secs();
    i64::try_from(local_secs)
        .ok()
        .and_then(|s| s.checked_sub(offset))
        .and_then(|s| u64::try_from(s).ok())
        .ok_or_else(|| format!("'{text}' is before 1970"))
}

/// Parses a Liquid address of any network (the network is checked against `--network` once
/// it is known).
pub fn address(text: &str) -> Result<Address, String> {
    wallet_core::address::parse_any(text.trim()).map_err(|e| e.to_string())
}

/// One payee of `--to ADDRESS:AMOUNT[:ASSET]` (with `--drain`: `ADDRESS[:all[:ASSET]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipientArg {
    /// Where to pay.
    pub address: Address,
    /// How much (`None`: `all`, for a sweep).
    pub amount: Option<Decimal>,
    /// Which asset (L-BTC when left out).
    pub asset: AssetArg,
}

impl FromStr for RecipientArg {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut parts = text.trim().split(':');
        let address = address(parts.next().unwrap_or_default())?;
        let amount = match parts.next() {
            None | Some("all") => None,
            Some(a) => Some(a.parse::<Decimal>()?),
        };
        let asset = match parts.next() {
            None => AssetArg::Policy,
            Some(a) => a.parse()?,
        };
        if parts.next().is_some() {
            return Err(format!(
                "'{text}' has too many ':'; the form is ADDRESS:AMOUNT[:ASSET]"
            ));
        }
        Ok(RecipientArg {
            address,
            amount,
            asset,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_checked_for_their_form() {
        for good in ["0.5", "1000", "1.", ".5", " 7 "] {
            assert!(good.parse::<Decimal>().is_ok(), "{good}");
        }
        for bad in ["", ".", "-1", "1e5", "1,000", "0x10", "1.2.3", "abc"] {
            assert_eq!(
                bad.parse::<Decimal>().unwrap_err(),
                format!(
                    "'{bad}' is not an amount: write a decimal such as 0.5 or 1000 (no sign, no \
                     exponent, no thousands separators)"
                ),
            );
        }
    }

    #[test]
    fn assets_are_ids_or_lbtc() {
        assert_eq!("L-BTC".parse::<AssetArg>().unwrap(), AssetArg::Policy);
        assert_eq!("lbtc".parse::<AssetArg>().unwrap(), AssetArg::Policy);
        assert_eq!(
            "USDT".parse::<AssetArg>().unwrap_err(),
            "'USDT' is not an asset id: assets are named by their 64-hex id (or L-BTC); \
             `balance` and `asset list` show the wallet's"
        );
        let id = "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225";
        assert!(matches!(id.parse::<AssetArg>().unwrap(), AssetArg::Id(_)));
    }

    #[test]
    fn token_counts_are_whole_numbers() {
        assert_eq!(token_count("1"), Ok(1));
        assert_eq!(
            token_count("-1").unwrap_err(),
            "'-1' is not a number of tokens: write a whole number such as 0 or 1"
        );
        assert_eq!(
            token_count("99999999999999999999").unwrap_err(),
            "99999999999999999999 tokens is more than can be issued"
        );
    }

    #[test]
    fn since_takes_dates_and_rfc3339_with_offsets() {
        // 2026-12-05T21:00:30Z
        const T: u64 = 1_796_504_430;
        assert_eq!(since("2026-12-05T21:00:30Z"), Ok(T));
        assert_eq!(since("2026-12-05t21:00:30z"), Ok(T));
        assert_eq!(since("2026-12-05T21:00:30"), Ok(T));
        assert_eq!(since("2026-12-05T23:00:30+02:00"), Ok(T));
        assert_eq!(since("2026-12-05T23:00:30.250+02:00"), Ok(T));
        assert_eq!(since("2026-12-05T15:30:30-05:30"), Ok(T));
        assert_eq!(since("2026-12-05T21:00:30+00:00"), Ok(T));
        assert_eq!(since("2026-12-05"), Ok(T - 21 * 3600 - 30));
        assert_eq!(since("1970-01-01T01:00:00+01:00"), Ok(0));
        assert_eq!(
            since("1970-01-01T00:59:59+01:00").unwrap_err(),
            "'1970-01-01T00:59:59+01:00' is before 1970"
        );
        for bad in [
            "2026-12-05T23:00:30+2:00",
            "2026-12-05T23:00:30+24:00",
            "2026-12-05T23:00:30+02-00",
            "yesterday",
            "2026-13-05",
        ] {
            let e = since(bad).unwrap_err();
            assert!(e.starts_with(&format!("'{bad}' is not a date")), "{e}");
        }
    }

    #[test]
    fn fee_rates_have_a_floor_and_a_ceiling() {
        assert!(fee_rate("0.1").is_ok());
        assert_eq!(fee_rate("1000").unwrap(), FeeRate::MAX);
        assert_eq!(
            fee_rate("100000").unwrap_err(),
            "100000.0 sat/vB is above the ceiling of 1000.0 sat/vB (Liquid's fees sit at the \
             floor of 0.1 sat/vB; a higher rate only burns L-BTC): type the rate in sat per vbyte"
        );
        assert_eq!(
            fee_rate("0.05").unwrap_err(),
            "0.05 sat/vB is below the relay floor of 0.1 sat/vB"
        );
        assert_eq!(
            fee_rate("fast").unwrap_err(),
            "'fast' is not a fee rate: write a decimal in sat/vB with at most 3 decimals, e.g. 0.1"
        );
    }
}
