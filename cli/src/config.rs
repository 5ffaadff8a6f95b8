//! The optional configuration file `<data-dir>/config.json`.
//!
//! ```json
//! { "regtest": { "policy_asset": "<64 hex>", "electrum": "127.0.0.1:50001" },
//!   "liquid": { "esplora": "https://blockstream.info/liquid/api",
//!               "asset_labels": { "<64 hex>": "MYTOKEN",
//!                                 "<64 hex>": { "ticker": "TST", "precision": 2 } } } }
//! ```
//!
//! Only regtest's policy asset can be changed (a custom Elements chain issues its own); Liquid
//! and Liquid testnet have fixed policy assets and a file that tries to change them is refused.
//! Each network may name a default chain server (`esplora` or `electrum`, not both) and label
//! assets: a label is the user's own ticker and/or precision, trusted like the built-in list
//! (a plain string is a ticker alone). `asset label` and `asset unlabel` edit the labels
//! ([`edit`]): under a lock, atomically, mode 0600, keeping the rest of the file.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use elements::AssetId;
use serde::Deserialize;
use wallet_core::network::Network;

use crate::error::{CliError, CliResult, Exit};

/// Name of the configuration file in the data folder.
pub const CONFIG_FILE: &str = "config.json";

/// Largest `esplora_requests` accepted.
pub const MAX_ESPLORA_REQUESTS: usize = 256;

/// Settings of one network.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// The policy asset (regtest only).
    pub policy_asset: Option<String>,
    /// Default Esplora server of the network.
    pub esplora: Option<String>,
    /// Default Electrum server of the network ([tcp://|tls://]HOST:PORT).
    pub electrum: Option<String>,
    /// The most Esplora requests in flight at once (default 32, 1 to
    /// [`MAX_ESPLORA_REQUESTS`]), for a server that wants fewer.
    pub esplora_requests: Option<usize>,
    /// The user's labels of asset ids.
    #[serde(default)]
    pub asset_labels: BTreeMap<String, LabelEntry>,
    /// Whether the chain's nodes relay several `OP_RETURN` outputs per transaction
    /// (elementsd's `-multi_data_permitted=1`), so that a peg-out run batches several
    /// peg-outs in one transaction (regtest only: Liquid and Liquid testnet always do).
    pub multi_data_permitted: Option<bool>,
}

/// A label as written in the file: a ticker alone, or an object.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum LabelEntry {
    /// `"TICKER"`.
    Ticker(String),
    /// `{ "ticker": "TICKER", "precision": 2 }`, either field optional.
    Full {
        /// The ticker.
        ticker: Option<String>,
        /// Decimal places (0 to 8).
        precision: Option<u8>,
    },
}

/// A checked label: the user's ticker and/or precision for an asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssetLabel {
    /// The ticker, 1 to 16 printable ASCII characters.
    pub ticker: Option<String>,
    /// Decimal places, 0 to 8.
    pub precision: Option<u8>,
}

impl AssetLabel {
    /// Checks a label: a ticker of 1 to 16 printable ASCII characters, a precision of 0 to
    /// 8, at least one of them. The error says what is wrong.
    pub fn new(ticker: Option<String>, precision: Option<u8>) -> Result<AssetLabel, String> {
        if ticker.is_none() && precision.is_none() {
            return Err("a label needs a ticker, a precision or both".to_owned());
        }
        if let Some(t) = &ticker {
            let ok =
                (1..=16).contains(&t.chars().count()) && t.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                return Err(format!(
                    "ticker '{t}' must be 1 to 16 printable ASCII characters (no spaces)"
                ));
            }
        }
        if let Some(p) = precision {
            if p > 8 {
                return Err(format!("precision {p} is above 8"));
            }
        }
        Ok(AssetLabel { ticker, precision })
    }

    /// The label as the file stores it.
    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::Map::new();
        if let Some(t) = &self.ticker {
            v.insert("ticker".into(), t.clone().into());
        }
        if let Some(p) = self.precision {
            v.insert("precision".into(), p.into());
        }
        serde_json::Value::Object(v)
    }
}

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Liquid mainnet settings.
    #[serde(default)]
    pub liquid: NetworkConfig,
    /// Liquid testnet settings.
    #[serde(default)]
    pub liquidtestnet: NetworkConfig,
    /// Regtest settings.
    #[serde(default)]
    pub regtest: NetworkConfig,
}

impl Config {
    /// Reads the file of `data_dir`; a missing file is the default configuration.
    pub fn load(data_dir: &Path) -> CliResult<Config> {
        let path = data_dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(e) => return Err(CliError::io(&path, e)),
        };
        let config: Config =
            serde_json::from_str(&text).map_err(|e| bad_config(&path, &e.to_string()))?;
        for network in Network::ALL {
            config.policy_asset(network, data_dir)?;
            config.asset_labels(network, data_dir)?;
            let n = config.network(network);
            if n.esplora.is_some() && n.electrum.is_some() {
                return Err(bad_config(
                    &path,
                    &format!("{network} names both an esplora and an electrum server: keep one"),
                ));
            }
            if let Some(r) = n.esplora_requests {
                if !(1..=MAX_ESPLORA_REQUESTS).contains(&r) {
                    return Err(bad_config(
                        &path,
                        &format!(
                            "{network}.esplora_requests is {r}: use 1 to {MAX_ESPLORA_REQUESTS}"
                        ),
                    ));
                }
            }
        }
        Ok(config)
    }

    /// The default server of `network` named in the file: `(esplora, electrum)`.
    pub fn server(&self, network: Network) -> (Option<&str>, Option<&str>) {
        let n = self.network(network);
        (n.esplora.as_deref(), n.electrum.as_deref())
    }

    /// The most Esplora requests in flight at once on `network`, when the file says.
    pub fn esplora_requests(&self, network: Network) -> Option<usize> {
        self.network(network).esplora_requests
    }

    /// The user's asset labels of `network`, checked (asset ids in hex, tickers 1 to 16
    /// printable characters, precisions 0 to 8).
    pub fn asset_labels(
        &self,
        network: Network,
        data_dir: &Path,
    ) -> CliResult<BTreeMap<AssetId, AssetLabel>> {
        let path = data_dir.join(CONFIG_FILE);
        let mut out = BTreeMap::new();
        for (id, entry) in &self.network(network).asset_labels {
            let asset = AssetId::from_str(id.trim()).map_err(|_| {
                bad_config(
                    &path,
                    &format!("{network}.asset_labels: '{id}' is not an asset id"),
                )
            })?;
            let (ticker, precision) = match entry {
                LabelEntry::Ticker(t) => (Some(t.clone()), None),
                LabelEntry::Full { ticker, precision } => (ticker.clone(), *precision),
            };
            let label = AssetLabel::new(ticker, precision)
                .map_err(|why| bad_config(&path, &format!("{network}.asset_labels.{id}: {why}")))?;
            out.insert(asset, label);
        }
        Ok(out)
    }

    fn network(&self, network: Network) -> &NetworkConfig {
        match network {
            Network::Liquid => &self.liquid,
            Network::LiquidTestnet => &self.liquidtestnet,
            Network::Regtest => &self.regtest,
        }
    }

    /// Whether `network`'s nodes relay several `OP_RETURN` outputs per transaction, as the
    /// file says (regtest only; `false` when it does not say).
    pub fn multi_data_permitted(&self, network: Network) -> bool {
        self.network(network).multi_data_permitted.unwrap_or(false)
    }

    /// The policy asset of `network`: the configured one on regtest, the fixed one elsewhere.
    pub fn policy_asset(&self, network: Network, data_dir: &Path) -> CliResult<AssetId> {
        let path = data_dir.join(CONFIG_FILE);
        match (&self.network(network).policy_asset, network) {
            (None, _) => Ok(network.default_policy_asset()),
            (Some(id), Network::Regtest) => AssetId::from_str(id.trim()).map_err(|_| {
                bad_config(
                    &path,
                    &format!("regtest.policy_asset '{id}' is not an asset id"),
                )
            }),
            (Some(_), other) => Err(bad_config(
                &path,
                &format!("the policy asset of {other} is fixed and cannot be configured"),
            )),
        }
    }
}

/// The `asset_labels` object of `network` in a configuration document (as [`edit`] hands
/// it over), created if missing.
fn labels_mut(
    doc: &mut serde_json::Value,
    network: Network,
) -> CliResult<&mut serde_json::Map<String, serde_json::Value>> {
    let not_object = |what: &str| {
        CliError::usage(
            "invalid_config",
            format!("{CONFIG_FILE}: {what} is not a JSON object"),
        )
        .hint("fix or remove the file; see the CONFIGURATION part of the README")
    };
    doc.as_object_mut()
        .ok_or_else(|| not_object("the file"))?
        .entry(network.as_str())
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .ok_or_else(|| not_object(network.as_str()))?
        .entry("asset_labels")
        .or_insert_with(|| serde_json::json!({}))
        .as_object_mut()
        .ok_or_else(|| not_object("asset_labels"))
}

/// Removes `asset`'s label of `network` from a configuration document, however its id is
/// spelled (upper or lower case); whether there was one.
pub fn remove_label(
    doc: &mut serde_json::Value,
    network: Network,
    asset: &AssetId,
) -> CliResult<bool> {
    let labels = labels_mut(doc, network)?;
    let keys: Vec<String> = labels
        .keys()
        .filter(|k| AssetId::from_str(k.trim()).is_ok_and(|a| a == *asset))
        .cloned()
        .collect();
    for key in &keys {
        labels.remove(key);
    }
    Ok(!keys.is_empty())
}

/// Sets `asset`'s label of `network` in a configuration document, replacing any other;
/// whether one was replaced.
pub fn set_label(
    doc: &mut serde_json::Value,
    network: Network,
    asset: &AssetId,
    label: &AssetLabel,
) -> CliResult<bool> {
    let replaced = remove_label(doc, network, asset)?;
    labels_mut(doc, network)?.insert(asset.to_string(), label.to_json());
    Ok(replaced)
}

/// Lock file serialising edits of `config.json` (two `asset label` at once lose nothing).
const CONFIG_LOCK: &str = "config.lock";

/// Edits `config.json` of `data_dir`: under an exclusive lock, reads the file as JSON (a
/// missing file is `{}`), lets `change` modify it, checks that the result is a valid
/// configuration, and writes it atomically with mode 0600 (temporary file, fsync, rename).
/// Keys this version does not change are kept as they were. Returns what `change` returned.
pub fn edit<T>(
    data_dir: &Path,
    change: impl FnOnce(&mut serde_json::Value) -> CliResult<T>,
) -> CliResult<T> {
    use std::os::unix::fs::OpenOptionsExt;
    wallet_core::wallet::create_private_dir_all(data_dir)?;
    let lock_path = data_dir.join(CONFIG_LOCK);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| CliError::io(&lock_path, e))?;
    lock.lock().map_err(|e| CliError::io(&lock_path, e))?;
    let path = data_dir.join(CONFIG_FILE);
    let mut doc = match std::fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|e| bad_config(&path, &e.to_string()))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::json!({}),
        Err(e) => return Err(CliError::io(&path, e)),
    };
    if !doc.is_object() {
        return Err(bad_config(&path, "the file is not a JSON object"));
    }
    let result = change(&mut doc)?;
    let config: Config =
        serde_json::from_value(doc.clone()).map_err(|e| bad_config(&path, &e.to_string()))?;
    for network in Network::ALL {
        config.policy_asset(network, data_dir)?;
        config.asset_labels(network, data_dir)?;
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    wallet_core::wallet::write_private_atomic(&path, text.as_bytes())?;
    drop(lock);
    Ok(result)
}

fn bad_config(path: &Path, why: &str) -> CliError {
    CliError::new(
        Exit::Usage,
        "invalid_config",
        format!("{}: {why}", path.display()),
    )
    .hint("fix or remove the file; see the CONFIGURATION part of the README")
}

#[cfg(test)]
mod esplora_requests_tests {
    use super::*;

    fn load(json: &str) -> CliResult<Config> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), json).unwrap();
        Config::load(dir.path())
    }

    #[test]
    fn esplora_requests_is_read_and_bounded() {
        let c = load(r#"{ "liquid": { "esplora_requests": 4 } }"#).unwrap();
        assert_eq!(c.esplora_requests(Network::Liquid), Some(4));
        assert_eq!(c.esplora_requests(Network::Regtest), None);
        for bad in [0, MAX_ESPLORA_REQUESTS + 1] {
            let e = load(&format!(
                r#"{{ "liquid": {{ "esplora_requests": {bad} }} }}"#
            ))
            .unwrap_err();
            assert!(format!("{e:?}").contains("esplora_requests"), "{e:?}");
        }
    }
}
