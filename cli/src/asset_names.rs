//! How assets are named for people: trusted tickers (the user's labels, the built-in list)
//! and precisions (the built-in list, the wallet's own issuances, the user's labels); an
//! amount of an asset of unknown precision is said in base units.

use wallet_core::network::Network;

/// Trusted names of assets: the user's labels and the built-in list; precisions also from the
/// wallet's own issuances.
pub struct AssetNames {
    network: Network,
    policy: elements::AssetId,
    labels: std::collections::BTreeMap<elements::AssetId, crate::config::AssetLabel>,
    issued: std::collections::BTreeMap<elements::AssetId, u8>,
}

impl AssetNames {
    /// Names from the built-in list of `network` (whose policy asset is `policy`), the user's
    /// `labels` and the precisions of the wallet's own `issued` assets.
    pub fn new(
        network: Network,
        policy: elements::AssetId,
        labels: std::collections::BTreeMap<elements::AssetId, crate::config::AssetLabel>,
        issued: std::collections::BTreeMap<elements::AssetId, u8>,
    ) -> Self {
        AssetNames {
            network,
            policy,
            labels,
            issued,
        }
    }

    /// These names with `asset` in `precision`, as the wallet's own issuance: what an issuance
    /// about to be made is shown in before it is recorded.
    pub fn with_issued(mut self, asset: elements::AssetId, precision: u8) -> Self {
        self.issued.insert(asset, precision);
        self
    }

    /// The trusted ticker of `asset`, if any (a user label wins over the built-in list).
    pub fn ticker(&self, asset: &elements::AssetId) -> Option<String> {
        if let Some(t) = self.labels.get(asset).and_then(|l| l.ticker.clone()) {
            return Some(t);
        }
        wallet_core::assets::lookup(self.network, self.policy, asset).map(|k| k.ticker.to_owned())
    }

    /// The decimal places of `asset` when known: the built-in list, else the wallet's own
    /// issuance of it, else the user's label.
    pub fn precision(&self, asset: &elements::AssetId) -> Option<u8> {
        wallet_core::assets::lookup(self.network, self.policy, asset)
            .map(|k| k.precision)
            .or_else(|| self.issued.get(asset).copied())
            .or_else(|| self.labels.get(asset).and_then(|l| l.precision))
    }

    /// The built-in precision of `asset`, which no label can change.
    pub fn builtin_precision(&self, asset: &elements::AssetId) -> Option<u8> {
        wallet_core::assets::lookup(self.network, self.policy, asset).map(|k| k.precision)
    }

    /// `amount` for people: a decimal in the asset's precision when known, else the number
    /// of base units followed by "base units".
    pub fn format(&self, asset: &elements::AssetId, amount: u64) -> String {
        match self.precision(asset) {
            Some(p) => wallet_core::amount::format_amount(amount, p),
            None => format!("{amount} base units"),
        }
    }

    /// A signed `amount` for people (net effects).
    pub fn format_signed(&self, asset: &elements::AssetId, amount: i64) -> String {
        let sign = if amount < 0 { "-" } else { "+" };
        format!("{sign}{}", self.format(asset, amount.unsigned_abs()))
    }

    /// `amount` of `asset` in a sentence: "0.5 L-BTC", "7.00 TST", "7.00 of asset ID" (a
    /// precision but no ticker), "700 base units of asset ID" (precision unknown).
    pub fn describe(&self, asset: &elements::AssetId, amount: u64) -> String {
        let value = self.format(asset, amount);
        match self.ticker(asset) {
            Some(t) if self.precision(asset).is_some() => format!("{value} {t}"),
            Some(t) => format!("{value} of {t} ({asset})"),
            None => format!("{value} of asset {asset}"),
        }
    }
}
