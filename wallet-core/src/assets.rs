//! Well-known assets: the only trusted source of tickers besides the user's own labels. A ticker
//! found anywhere else (an offer, a registry answer) is never shown as if it were trusted.

use std::str::FromStr;

use elements::AssetId;

use crate::network::Network;

/// A well-known asset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownAsset {
    /// The asset id.
    pub id: AssetId,
    /// Display ticker.
    pub ticker: &'static str,
    /// Decimal places of its base unit.
    pub precision: u8,
}

/// Liquid mainnet assets (id, ticker, precision), besides L-BTC.
const LIQUID_ASSETS: &[(&str, &str, u8)] = &[
    (
        "ce091c998b83c78bb71a632313ba3760f1763d9cfcffae02258ffa9865a37bd2",
        "USDt",
        8,
    ),
    (
        "0e99c1a6da379d1f4151fb9df90449d40d0608f6cb33a5bcbfc8c265f42bab0a",
        "L-CAD",
        8,
    ),
    (
        "18729918ab4bca843656f08d4dd877bed6641fbd596a0a963abbf199cfeb3cec",
        "EURx",
        8,
    ),
];

/// The well-known asset `id` on `network`: the network's policy asset (`policy_asset`, which
/// regtest may configure) is L-BTC with 8 decimals; on Liquid mainnet a short built-in list.
pub fn lookup(network: Network, policy_asset: AssetId, id: &AssetId) -> Option<KnownAsset> {
    if *id == policy_asset {
        return Some(KnownAsset {
            id: *id,
            ticker: "L-BTC",
            precision: 8,
        });
    }
    if network != Network::Liquid {
        return None;
    }
    LIQUID_ASSETS.iter().find_map(|(hex, ticker, precision)| {
        let known = AssetId::from_str(hex).ok()?;
        (known == *id).then_some(KnownAsset {
            id: known,
            ticker,
            precision: *precision,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lbtc_and_usdt() {
        let lbtc = Network::Liquid.default_policy_asset();
        assert_eq!(
            lbtc.to_string(),
            "6f0279e9ed041c3d710a9f57d0c02928416460c4b722ae3457a11eec381c526d"
        );
        assert_eq!(
            lookup(Network::Liquid, lbtc, &lbtc).unwrap().ticker,
            "L-BTC"
        );
        let usdt = AssetId::from_str(LIQUID_ASSETS[0].0).unwrap();
        assert_eq!(lookup(Network::Liquid, lbtc, &usdt).unwrap().ticker, "USDt");
        let lcad =
            AssetId::from_str("0e99c1a6da379d1f4151fb9df90449d40d0608f6cb33a5bcbfc8c265f42bab0a")
                .unwrap();
        let known = lookup(Network::Liquid, lbtc, &lcad).unwrap();
        assert_eq!((known.ticker, known.precision), ("L-CAD", 8));
        // Mainnet ids mean nothing on other networks.
        assert!(lookup(Network::LiquidTestnet, lbtc, &lcad).is_none());
        // Mainnet tickers mean nothing on other networks.
        let regtest = Network::Regtest.default_policy_asset();
        assert!(lookup(Network::Regtest, regtest, &usdt).is_none());
        assert_eq!(
            lookup(Network::Regtest, regtest, &regtest).unwrap().ticker,
            "L-BTC"
        );
    }
}
