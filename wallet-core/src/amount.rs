//! Amounts typed by people: exact decimal parsing and formatting in an asset's precision.
//!
//! No floating point anywhere: "0.1" L-BTC is exactly 10 000 000 base units, "1.123456789" with
//! precision 8 is an error, and anything above `u64::MAX` base units is an error, not a wrap.

use crate::{Error, Result};

/// The most decimals any Liquid asset may have (asset registry rule).
pub const MAX_PRECISION: u8 = 8;

/// Parses a decimal amount (`"1"`, `"0.5"`, `"1000.00000001"`) into base units.
///
/// `precision` is the number of decimals of the asset (8 for L-BTC). Rejects signs, exponents,
/// separators, empty parts, more decimals than the precision, and overflow.
pub fn parse_amount(text: &str, precision: u8) -> Result<u64> {
    let bad = |why: &str| Error::InvalidAmount(format!("'{text}': {why}"));
    if precision > MAX_PRECISION {
        return Err(bad("the asset's precision is above 8"));
    }
    let text_trimmed = text.trim();
    if text_trimmed.is_empty() {
        return Err(bad("empty amount"));
    }
    let (whole, fraction) = match text_trimmed.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text_trimmed, None),
    };
    let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() && fraction.is_none_or(str::is_empty) {
        return Err(bad("no digits"));
    }
    if !digits_only(whole) {
        return Err(bad("only digits and one '.' are allowed"));
    }
    let fraction = fraction.unwrap_or("");
    if !digits_only(fraction) {
        return Err(bad("only digits and one '.' are allowed"));
    }
    if text_trimmed.ends_with('.') {
        return Err(bad("a '.' must be followed by digits"));
    }
    if fraction.len() > usize::from(precision) {
        return Err(bad(&format!(
            "more than {precision} decimals for an asset of precision {precision}"
        )));
    }
    let scale = 10u64.pow(u32::from(precision));
    let overflow = || bad("too large");
    let whole_units: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse::<u64>().map_err(|_| overflow())?
    };
    let mut fraction_units: u64 = 0;
    if !fraction.is_empty() {
        let padded = format!("{fraction:0<width$}", width = usize::from(precision));
        fraction_units = padded.parse::<u64>().map_err(|_| overflow())?;
    }
    whole_units
        .checked_mul(scale)
        .and_then(|units| units.checked_add(fraction_units))
        .ok_or_else(overflow)
}

/// Formats base units as a decimal in the asset's precision, without trailing zeros beyond
/// one decimal place ("1.0", "0.5", "0.00000001"); precision 0 gives a whole number.
pub fn format_amount(units: u64, precision: u8) -> String {
    let precision = precision.min(MAX_PRECISION);
    if precision == 0 {
        return units.to_string();
    }
    let scale = 10u64.pow(u32::from(precision));
    let whole = units / scale;
    let fraction = units % scale;
    let mut fraction = format!("{fraction:0width$}", width = usize::from(precision));
    while fraction.len() > 1 && fraction.ends_with('0') {
        fraction.pop();
    }
    format!("{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(parse_amount("1", 8).unwrap(), 100_000_000);
        assert_eq!(parse_amount("0.1", 8).unwrap(), 10_000_000);
        assert_eq!(parse_amount(".5", 8).unwrap(), 50_000_000);
        assert_eq!(parse_amount("0.00000001", 8).unwrap(), 1);
        assert_eq!(parse_amount("21000000", 8).unwrap(), 2_100_000_000_000_000);
        assert_eq!(parse_amount("7", 0).unwrap(), 7);
        assert_eq!(parse_amount("1.25", 2).unwrap(), 125);
        assert_eq!(parse_amount("184467440737.09551615", 8).unwrap(), u64::MAX);
    }

    #[test]
    fn refuses_what_is_not_an_exact_amount() {
        // Each refusal is an `InvalidAmount` that says why, so that the user can fix the text.
        let refused = |text: &str, precision: u8, why: &str| match parse_amount(text, precision) {
            Err(Error::InvalidAmount(m)) => assert!(
                m.contains(why),
                "{text:?} (precision {precision}): {m:?} does not say {why:?}"
            ),
            other => panic!("{text:?} (precision {precision}) should be refused: {other:?}"),
        };
        const NOT_DIGITS: &str = "only digits and one '.' are allowed";
        for (text, why) in [
            ("", "empty amount"),
            (" ", "empty amount"),
            (".", "no digits"),
            ("1.", "a '.' must be followed by digits"),
            ("-1", NOT_DIGITS),
            ("+1", NOT_DIGITS),
            ("1e8", NOT_DIGITS),
            ("1,5", NOT_DIGITS),
            ("1.2.3", NOT_DIGITS),
            ("0x10", NOT_DIGITS),
            ("1 000", NOT_DIGITS),
            ("abc", NOT_DIGITS),
            (
                "0.000000001",
                "more than 8 decimals for an asset of precision 8",
            ),
        ] {
            refused(text, 8, why);
        }
        refused("1.5", 0, "more than 0 decimals for an asset of precision 0");
        refused("184467440737.09551616", 8, "too large");
        refused("99999999999999999999", 0, "too large");
        refused("1", 9, "the asset's precision is above 8");
    }

    #[test]
    fn formats_round_trip() {
        for (units, precision) in [
            (0u64, 8u8),
            (1, 8),
            (50_000_000, 8),
            (123, 2),
            (7, 0),
            (u64::MAX, 8),
        ] {
            let text = format_amount(units, precision);
            assert_eq!(parse_amount(&text, precision).unwrap(), units, "{text}");
        }
        assert_eq!(format_amount(100_000_000, 8), "1.0");
        assert_eq!(format_amount(1, 8), "0.00000001");
    }
}
