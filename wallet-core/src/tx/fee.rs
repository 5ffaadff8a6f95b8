//! Fee rates and fees on the ELIP-200 discounted size.
//!
//! Liquid, Liquid testnet and the sandbox accept fees computed on a transaction's *discount*
//! virtual size, where the rangeproofs, surjection proofs and the extra bytes of value and
//! nonce commitments are not counted (ELIP-200). Rates are kept in milli-satoshi per vbyte so
//! that 0.1 sat/vB is exact; no floating point touches a fee.

use std::fmt;

use crate::amount::{format_amount, parse_amount};
use crate::{Error, Result};

/// A fee rate in milli-satoshi per (discounted) virtual byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeeRate(u64);

impl FeeRate {
    /// The floor the project pays: 0.1 sat/vB, what Liquid nodes relay with ELIP-200.
    pub const MIN: FeeRate = FeeRate(100);

    /// The ceiling every front end enforces on a fee rate, typed or estimated: 1,000 sat per
    /// discounted vbyte, 10,000 times the floor. Liquid's blocks are not full and its fees sit
    /// at the floor, so a higher rate is a typo (a sat/kvB figure typed as sat/vB) that would
    /// burn L-BTC; elementsd's own default `-maxfeerate` is 10,000 sat/vB (0.1 L-BTC/kvB).
    pub const MAX: FeeRate = FeeRate(1_000_000);

    /// A rate of `msat` milli-satoshi per vbyte.
    pub const fn from_msat_per_vb(msat: u64) -> FeeRate {
        FeeRate(msat)
    }

    /// Parses a rate typed in sat/vB ("0.1", "1", "2.5"); at most 3 decimals.
    pub fn parse_sat_per_vb(text: &str) -> Result<FeeRate> {
        let msat = parse_amount(text, 3).map_err(|_| {
            Error::InvalidAmount(format!(
                "fee rate '{text}': a decimal in sat/vB with at most 3 decimals, e.g. 0.1"
            ))
        })?;
        Ok(FeeRate(msat))
    }

    /// From a backend's estimate in sat/vB, never below [`FeeRate::MIN`]. Estimates are floats
    /// on the wire; this is the one place they are turned into an exact rate (rounded up).
    pub fn from_estimate(sat_per_vb: Option<f64>) -> FeeRate {
        let msat = match sat_per_vb {
            Some(v) if v.is_finite() && v > 0.0 && v < 1e9 => (v * 1000.0).ceil() as u64,
            _ => 0,
        };
        FeeRate(msat).max(FeeRate::MIN)
    }

    /// This rate, or an error that names the ceiling when it is above [`FeeRate::MAX`].
    pub fn check_ceiling(self) -> Result<FeeRate> {
        if self > FeeRate::MAX {
            return Err(Error::InvalidRequest(format!(
                "fee rate {self} is above the ceiling of {}: Liquid's fees sit at the floor of \
                 {}; type the rate in sat per vbyte",
                FeeRate::MAX,
                FeeRate::MIN
            )));
        }
        Ok(self)
    }

    /// Milli-satoshi per vbyte.
    pub fn msat_per_vb(self) -> u64 {
        self.0
    }

    /// The fee for `vsize` virtual bytes, rounded up to a whole satoshi.
    pub fn fee_for_vsize(self, vsize: u64) -> Result<u64> {
        vsize
            .checked_mul(self.0)
            .map(|msat| msat.div_ceil(1000))
            .ok_or_else(|| Error::InvalidAmount("the fee overflows".to_owned()))
    }
}

impl fmt::Display for FeeRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} sat/vB", format_amount(self.0, 3))
    }
}

/// The virtual size that fees are computed on: `ceil(weight / 4)` of a discount weight.
pub fn vsize_of_weight(weight: u64) -> u64 {
    weight.div_ceil(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_exact() {
        assert_eq!(FeeRate::parse_sat_per_vb("0.1").unwrap(), FeeRate::MIN);
        assert_eq!(
            FeeRate::parse_sat_per_vb("2.5").unwrap().msat_per_vb(),
            2500
        );
        for text in ["0.0001", "-1"] {
            let e = FeeRate::parse_sat_per_vb(text).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidAmount(m) if *m == format!(
                    "fee rate '{text}': a decimal in sat/vB with at most 3 decimals, e.g. 0.1"
                )),
                "{e:?}"
            );
        }
        assert_eq!(FeeRate::MIN.fee_for_vsize(326).unwrap(), 33);
        assert_eq!(FeeRate::MIN.fee_for_vsize(0).unwrap(), 0);
        assert_eq!(FeeRate::from_estimate(Some(0.05)), FeeRate::MIN);
        assert_eq!(FeeRate::from_estimate(Some(1.0001)).msat_per_vb(), 1001);
        assert_eq!(FeeRate::from_estimate(Some(f64::NAN)), FeeRate::MIN);
        assert_eq!(FeeRate::from_estimate(None), FeeRate::MIN);
        assert!(matches!(
            FeeRate::from_msat_per_vb(u64::MAX).fee_for_vsize(2),
            Err(Error::InvalidAmount(m)) if m == "the fee overflows"
        ));
        assert_eq!(FeeRate::MIN.to_string(), "0.1 sat/vB");
    }

    #[test]
    fn rates_have_a_ceiling() {
        assert_eq!(FeeRate::MAX.to_string(), "1000.0 sat/vB");
        assert_eq!(FeeRate::MAX.check_ceiling().unwrap(), FeeRate::MAX);
        let e = FeeRate::parse_sat_per_vb("100000")
            .unwrap()
            .check_ceiling()
            .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidRequest(m) if m.starts_with(
                "fee rate 100000.0 sat/vB is above the ceiling of 1000.0 sat/vB"
            )),
            "{e:?}"
        );
    }
}
