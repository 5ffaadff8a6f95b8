//! Why an offer is refused: a stable code, the reason in words, and the amounts that differ
//! from the terms, so that a front end can say them in the asset's precision with the names
//! it trusts ("the offer gives you 99.99 L-CAD, the terms say 100").

use elements::AssetId;

/// One amount that differs from the terms, from this wallet's side: `found` and `expected`
/// are net effects in base units (negative: leaves the wallet).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The asset.
    pub asset: AssetId,
    /// What the transaction would do to this wallet.
    pub found: i64,
    /// What the terms say it must do.
    pub expected: i64,
}

impl Mismatch {
    /// The mismatch in words, with `amount` writing an amount of an asset ("0.5 L-BTC").
    pub fn words(&self, amount: &dyn Fn(&AssetId, u64) -> String) -> String {
        let a = |v: i64| amount(&self.asset, v.unsigned_abs());
        let does = |v: i64| {
            if v >= 0 {
                format!("gives you {}", a(v))
            } else {
                format!("takes {} from you", a(v))
            }
        };
        match (self.found, self.expected) {
            (f, 0) => format!(
                "the transaction {}, which the terms do not mention",
                does(f)
            ),
            (f, e) if e > 0 && f >= 0 => {
                format!("the transaction gives you {}, the terms say {}", a(f), a(e))
            }
            (f, e) if e < 0 && f <= 0 => {
                format!(
                    "the transaction takes {} from you, the terms say {}",
                    a(f),
                    a(e)
                )
            }
            (f, e) => format!("the transaction {}, the terms say it {}", does(f), does(e)),
        }
    }
}

/// A refused offer: nothing was signed, broadcast or reserved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// A stable, machine-readable code (`terms_mismatch`, `expired`, `wrong_network`, ...).
    pub code: &'static str,
    /// What is wrong, in words (amounts in base units; see `mismatches`).
    pub reason: String,
    /// The amounts that differ from the terms, when that is the reason.
    pub mismatches: Vec<Mismatch>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl Refusal {
    /// A refusal with a reason and no amounts.
    pub fn new(code: &'static str, reason: impl Into<String>) -> Refusal {
        Refusal {
            code,
            reason: reason.into(),
            mismatches: Vec::new(),
            hint: None,
        }
    }

    /// Adds what to do about it.
    pub fn hint(mut self, hint: impl Into<String>) -> Refusal {
        self.hint = Some(hint.into());
        self
    }

    /// The reason with the mismatches said by `amount` (the front end's names).
    pub fn words(&self, amount: &dyn Fn(&AssetId, u64) -> String) -> String {
        if self.mismatches.is_empty() {
            return self.reason.clone();
        }
        let parts: Vec<String> = self.mismatches.iter().map(|m| m.words(amount)).collect();
        format!("{}: {}", self.reason, parts.join("; "))
    }
}

/// An amount in base units with its asset id, for messages without trusted names.
pub fn base_units(asset: &AssetId, value: u64) -> String {
    format!("{value} base units of asset {asset}")
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(&base_units))
    }
}

impl From<Refusal> for crate::Error {
    fn from(r: Refusal) -> Self {
        crate::Error::Offer(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn mismatches_read_like_a_trader_speaks() {
        let asset =
            AssetId::from_str("5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225")
                .unwrap();
        let plain = |_: &AssetId, v: u64| format!("{v} X");
        let m = Mismatch {
            asset,
            found: 9_999,
            expected: 10_000,
        };
        assert_eq!(
            m.words(&plain),
            "the transaction gives you 9999 X, the terms say 10000 X"
        );
        let m = Mismatch {
            asset,
            found: -101,
            expected: -100,
        };
        assert_eq!(
            m.words(&plain),
            "the transaction takes 101 X from you, the terms say 100 X"
        );
        let m = Mismatch {
            asset,
            found: -5,
            expected: 0,
        };
        assert_eq!(
            m.words(&plain),
            "the transaction takes 5 X from you, which the terms do not mention"
        );
    }
}
