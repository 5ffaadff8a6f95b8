//! Settings every command shares: network, data folder, wallet choice, output, KDF cost.

use std::path::PathBuf;

use wallet_core::network::Network;
use wallet_core::seed::KdfParams;
use wallet_core::wallet::{Wallet, Wallets};

use crate::args::{GlobalArgs, NetworkArg};
pub use crate::asset_names::AssetNames;
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
    /// `--esplora`, if given.
    pub esplora: Option<String>,
    /// `--electrum`, if given.
    pub electrum: Option<String>,
    /// `--timeout`: per-request timeout of the chain server.
    pub timeout: std::time::Duration,
    /// Whether `--data-dir` came from the command line (not from `LIQUID_OTC_HOME`), so that
    /// a suggested next command must repeat it.
    data_dir_flag: bool,
    /// The chain server, connected once on first use and shared by every step of a command.
    backend: std::cell::OnceCell<Box<dyn wallet_core::chain::Backend>>,
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
        let data_dir_flag = global.data_dir.as_ref().is_some_and(|dir| {
            std::env::var_os("LIQUID_OTC_HOME").is_none_or(|env| std::path::Path::new(&env) != dir)
        });
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
            esplora: global.esplora.clone(),
            electrum: global.electrum.clone(),
            timeout: std::time::Duration::from_secs(global.timeout),
            data_dir_flag,
            backend: std::cell::OnceCell::new(),
        })
    }

    /// A command line to suggest in a hint, `liquid-otc [--data-dir DIR] [--network N]
    /// [--wallet NAME] REST`, with each flag only where the next run needs it: the data folder
    /// when it was given with `--data-dir`, the network when it is not the default (liquid),
    /// the wallet when `wallet` is named and the network has more than one wallet (unless
    /// `LIQUID_OTC_WALLET` already names it).
    pub fn suggest(&self, wallet: Option<&str>, rest: &str) -> String {
        let mut line = String::from("liquid-otc");
        if self.data_dir_flag {
            line.push_str(" --data-dir ");
            line.push_str(&shell_word(&self.data_dir.display().to_string()));
        }
        if self.network != Network::Liquid {
            line.push_str(" --network ");
            line.push_str(self.network.as_str());
        }
        if let Some(name) = wallet {
            let from_env = std::env::var("LIQUID_OTC_WALLET").is_ok_and(|w| w == name);
            let several = self
                .wallets()
                .list(self.network)
                .map_or(true, |names| names.len() > 1);
            if several && !from_env {
                line.push_str(" --wallet ");
                line.push_str(name);
            }
        }
        line.push(' ');
        line.push_str(rest);
        line
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
        let mut wallet = wallets.open(self.network, &name)?;
        wallet.set_policy_asset(self.policy_asset()?);
        Ok(wallet)
    }

    /// The fee rate to pay: the one typed, or the server's estimate for the next blocks, never
    /// below the network's floor (0.1 sat per discounted vbyte).
    pub fn fee_rate(
        &self,
        typed: Option<wallet_core::tx::FeeRate>,
    ) -> CliResult<wallet_core::tx::FeeRate> {
        /// Blocks a fee estimate targets.
        const FEE_TARGET_BLOCKS: u16 = 2;
        let rate = match typed {
            Some(rate) => rate,
            None => wallet_core::tx::FeeRate::from_estimate(
                self.backend()?.fee_estimate(FEE_TARGET_BLOCKS)?,
            ),
        };
        if typed.is_none() && rate > wallet_core::tx::FeeRate::MAX {
            return Err(CliError::new(
                Exit::Backend,
                "fee_estimate",
                format!(
                    "the server's fee estimate of {rate} is above the ceiling of {}; nothing \
                     was built",
                    wallet_core::tx::FeeRate::MAX
                ),
            )
            .hint("pass --fee-rate (Liquid's fees sit at the floor of 0.1 sat/vB)"));
        }
        Ok(rate.check_ceiling()?)
    }

    /// The policy asset of the network (regtest's can be set in `config.json`).
    pub fn policy_asset(&self) -> CliResult<elements::AssetId> {
        crate::config::Config::load(&self.data_dir)?.policy_asset(self.network, &self.data_dir)
    }

    /// The chain server to use, connected: `--esplora`/`--electrum` (or their environment
    /// variables), else the network's server in `config.json`, else the network's public
    /// server; on regtest (no public server) the Esplora URL of a running `sandbox start`
    /// recorded in the data folder, with a note saying so. Connected once per command: a
    /// send's sync, fee estimate and broadcast share one connection.
    pub fn backend(&self) -> CliResult<&dyn wallet_core::chain::Backend> {
        if let Some(backend) = self.backend.get() {
            return Ok(backend.as_ref());
        }
        let connected = self.connect_backend()?;
        Ok(self.backend.get_or_init(|| connected).as_ref())
    }

    fn connect_backend(&self) -> CliResult<Box<dyn wallet_core::chain::Backend>> {
        use wallet_core::chain::{BackendConfig, BackendKind};
        let config = crate::config::Config::load(&self.data_dir)?;
        let parsed = match (&self.esplora, &self.electrum) {
            (Some(_), Some(_)) => {
                return Err(CliError::usage(
                    "two_servers",
                    "both --esplora and --electrum are given (flags or LIQUID_OTC_ESPLORA / LIQUID_OTC_ELECTRUM)",
                )
                .hint("keep one of them"))
            }
            (Some(url), None) => BackendConfig::parse_esplora(url)?,
            (None, Some(url)) => BackendConfig::parse_electrum(url)?,
            (None, None) => match config.server(self.network) {
                (Some(url), _) => BackendConfig::parse_esplora(url)?,
                (None, Some(url)) => BackendConfig::parse_electrum(url)?,
                (None, None) if self.network == Network::Regtest => {
                    match crate::sandbox_record::recorded_esplora(&self.data_dir) {
                        Some(url) => {
                            self.out.note(&format!(
                                "using the sandbox recorded in the data folder: {url}"
                            ));
                            BackendConfig::parse_esplora(&url)?
                        }
                        None => {
                            return Err(CliError::new(
                                Exit::Usage,
                                "no_server",
                                "regtest has no default chain server and no running sandbox is \
                                 recorded in the data folder",
                            )
                            .hint(format!("start one with `{}` (same data folder) in another terminal", self.suggest(None, "sandbox start")))
                            .hint("or pass --esplora URL / --electrum HOST:PORT of a liquidregtest server"))
                        }
                    }
                }
                (None, None) => BackendConfig::default_for(self.network, BackendKind::Esplora)?,
            },
        };
        let mut parsed = parsed.with_timeout(self.timeout);
        if let Some(n) = config.esplora_requests(self.network) {
            parsed = parsed.with_concurrency(n);
        }
        // The server must be on this network's chain (genesis block checked once per
        // connection), unless config.json names another policy asset: a custom Elements
        // chain, whose genesis is not known here.
        if config.policy_asset(self.network, &self.data_dir)? == self.network.default_policy_asset()
        {
            parsed = parsed.with_network(self.network);
        }
        Ok(parsed.connect()?)
    }

    /// How `wallet` names assets: the ticker is the user's label from `config.json`, else the
    /// built-in list of well-known assets (the network's policy asset is L-BTC), else none.
    /// The precision is the built-in one (8 for L-BTC and the built-in assets), else the one
    /// recorded when this wallet issued the asset, else the user's label, else unknown
    /// (amounts in base units).
    pub fn asset_names(&self, wallet: &wallet_core::wallet::Wallet) -> CliResult<AssetNames> {
        let config = crate::config::Config::load(&self.data_dir)?;
        Ok(AssetNames::new(
            self.network,
            config.policy_asset(self.network, &self.data_dir)?,
            config.asset_labels(self.network, &self.data_dir)?,
            wallet
                .store()
                .issuances()?
                .into_iter()
                .map(|r| (r.asset, r.precision))
                .collect(),
        ))
    }

    /// How commands without a wallet (the sandbox's, `asset label`) name assets: the built-in
    /// list and the user's labels only.
    pub fn trusted_asset_names(&self) -> CliResult<AssetNames> {
        let config = crate::config::Config::load(&self.data_dir)?;
        Ok(AssetNames::new(
            self.network,
            config.policy_asset(self.network, &self.data_dir)?,
            config.asset_labels(self.network, &self.data_dir)?,
            std::collections::BTreeMap::new(),
        ))
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

/// `word` as one shell word: unchanged when it is plain, else in single quotes.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@%,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
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
