//! Settings every command shares: network, data folder, wallet choice, output, KDF cost.

use std::path::PathBuf;

use wallet_core::network::Network;
use wallet_core::seed::KdfParams;
use wallet_core::wallet::{Wallet, Wallets};

use crate::args::{GlobalArgs, NetworkArg};
use crate::error::{CliError, CliResult, Exit};
use crate::output::Output;

/// Environment variables that lower the seed KDF's cost (tests, tiny machines).
pub const KDF_MEMORY_ENV: &str = "LIQUID_OTC_KDF_MEMORY_KIB";
/// See [`KDF_MEMORY_ENV`].
pub const KDF_ITERATIONS_ENV: &str = "LIQUID_OTC_KDF_ITERATIONS";

/// Resolved global settings.
pub struct Context {
    /// Output mode.
    pub out: Output,
    /// The network chosen with `--network`.
    pub network: Network,
    /// Whether `--network` was given explicitly (flag or environment).
    pub network_explicit: bool,
    /// Root of the data folder.
    pub data_dir: PathBuf,
    /// `--wallet`, if given.
    pub wallet: Option<String>,
    /// `--yes`.
    pub yes: bool,
}

impl Context {
    /// Builds the context from the parsed global flags.
    pub fn new(global: &GlobalArgs, network_explicit: bool) -> CliResult<Self> {
        let out = Output::new(global.json, global.quiet, global.verbose, global.color);
        let network = match global.network {
            NetworkArg::Liquid => Network::Liquid,
            NetworkArg::Liquidtestnet => Network::LiquidTestnet,
            NetworkArg::Regtest => Network::Regtest,
        };
        let data_dir = match &global.data_dir {
            Some(dir) => dir.clone(),
            None => directories::ProjectDirs::from("", "", "liquid-otc")
                .map(|dirs| dirs.data_dir().to_path_buf())
                .ok_or_else(|| {
                    CliError::new(Exit::Error, "no_data_dir", "cannot find a home folder")
                        .hint("pass --data-dir DIR or set LIQUID_OTC_HOME")
                })?,
        };
        Ok(Context {
            out,
            network,
            network_explicit,
            data_dir,
            wallet: global.wallet.clone(),
            yes: global.yes,
        })
    }

    /// The wallets of the data folder.
    pub fn wallets(&self) -> Wallets {
        Wallets::new(self.data_dir.clone())
    }

    /// The wallet named by `--wallet`, or the only wallet of the network.
    pub fn open_wallet(&self) -> CliResult<Wallet> {
        let wallets = self.wallets();
        let name = match &self.wallet {
            Some(name) => name.clone(),
            None => {
                let names = wallets.list(self.network)?;
                match names.as_slice() {
                    [only] => only.clone(),
                    [] => {
                        return Err(CliError::new(
                            Exit::Error,
                            "no_wallet",
                            format!("there is no wallet on {}", self.network),
                        )
                        .hint("create one with `wallet create` or `wallet restore`")
                        .hint("or choose another network with --network"))
                    }
                    _ => {
                        return Err(CliError::usage(
                            "wallet_required",
                            format!("{} has several wallets; say which one", self.network),
                        )
                        .hint(format!("pass --wallet NAME, one of: {}", names.join(", "))))
                    }
                }
            }
        };
        Ok(wallets.open(self.network, &name)?)
    }

    /// The policy asset of the network (regtest's can be set in `config.json`).
    pub fn policy_asset(&self) -> CliResult<elements::AssetId> {
        crate::config::Config::load(&self.data_dir)?.policy_asset(self.network, &self.data_dir)
    }

    /// The KDF cost for new seed files: strong unless lowered through the environment.
    pub fn kdf_params(&self) -> CliResult<KdfParams> {
        let mut params = KdfParams::strong();
        if let Some(value) = env_u32(KDF_MEMORY_ENV)? {
            params.memory_kib = value;
        }
        if let Some(value) = env_u32(KDF_ITERATIONS_ENV)? {
            params.iterations = value;
        }
        Ok(params)
    }
}

fn env_u32(name: &str) -> CliResult<Option<u32>> {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().map(Some).map_err(|_| {
            CliError::usage("bad_environment", format!("{name} must be a whole number"))
        }),
        Err(_) => Ok(None),
    }
}
