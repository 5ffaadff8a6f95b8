//! The optional configuration file `<data-dir>/config.json`.
//!
//! ```json
//! { "regtest": { "policy_asset": "<64 hex>", "electrum": "127.0.0.1:50001" },
//!   "liquid": { "esplora": "https://blockstream.info/liquid/api",
//!               "asset_labels": { "<64 hex>": "MYTOKEN" } } }
//! ```
//!
//! Only regtest's policy asset can be changed (a custom Elements chain issues its own); Liquid
//! and Liquid testnet have fixed policy assets and a file that tries to change them is refused.
//! Each network may name a default chain server (`esplora` or `electrum`, not both) and label
//! assets: a label is the user's own ticker, trusted like the built-in list.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use elements::AssetId;
use serde::Deserialize;
use wallet_core::network::Network;

use crate::error::{CliError, CliResult, Exit};

/// Name of the configuration file in the data folder.
pub const CONFIG_FILE: &str = "config.json";

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
    /// The user's tickers for asset ids.
    #[serde(default)]
    pub asset_labels: BTreeMap<String, String>,
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
        }
        Ok(config)
    }

    /// The default server of `network` named in the file: `(esplora, electrum)`.
    pub fn server(&self, network: Network) -> (Option<&str>, Option<&str>) {
        let n = self.network(network);
        (n.esplora.as_deref(), n.electrum.as_deref())
    }

    /// The user's asset labels of `network`, checked (asset ids in hex, labels 1 to 16
    /// printable characters).
    pub fn asset_labels(
        &self,
        network: Network,
        data_dir: &Path,
    ) -> CliResult<BTreeMap<AssetId, String>> {
        let path = data_dir.join(CONFIG_FILE);
        let mut out = BTreeMap::new();
        for (id, label) in &self.network(network).asset_labels {
            let asset = AssetId::from_str(id.trim()).map_err(|_| {
                bad_config(
                    &path,
                    &format!("{network}.asset_labels: '{id}' is not an asset id"),
                )
            })?;
            let ok = (1..=16).contains(&label.chars().count())
                && label.chars().all(|c| c.is_ascii_graphic());
            if !ok {
                return Err(bad_config(
                    &path,
                    &format!(
                        "{network}.asset_labels: label '{label}' must be 1 to 16 printable ASCII characters"
                    ),
                ));
            }
            out.insert(asset, label.clone());
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

fn bad_config(path: &Path, why: &str) -> CliError {
    CliError::new(
        Exit::Usage,
        "invalid_config",
        format!("{}: {why}", path.display()),
    )
    .hint("fix or remove the file; see the CONFIGURATION part of the README")
}
