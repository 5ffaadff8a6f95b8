//! The clap command tree: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Text appended to the top-level help and to every man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0    success
  1    error (I/O, storage, anything not listed below); an unknown wallet, transaction, asset
  2    usage: bad arguments or malformed input (mnemonic, address or its network, descriptor)
  3    refused because a verification failed (wrong network, wrong passphrase, tampered file)
  4    backend unreachable or misbehaving
  5    insufficient funds (to pay, or to burn an asset the wallet knows)
  130  cancelled by the user";

/// liquid-otc: a command-line wallet and OTC settlement tool for the Liquid Network.
#[derive(Debug, Parser)]
#[command(
    name = "liquid-otc",
    version,
    about = "Command-line wallet and OTC settlement tool for the Liquid Network",
    long_about = "Command-line wallet and OTC (delivery-versus-payment) settlement tool for the \
Liquid Network.\n\nResults go to stdout; prompts, progress and warnings to stderr. With --json \
every command prints one JSON document, and errors are a JSON object on stderr.",
    after_long_help = EXIT_STATUS_HELP,
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every command.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Network to use.
    #[arg(long, global = true, value_enum, env = "LIQUID_OTC_NETWORK", default_value_t = NetworkArg::Liquid)]
    pub network: NetworkArg,

    /// Folder holding wallets and configuration [default: the platform's data folder].
    #[arg(long, global = true, env = "LIQUID_OTC_HOME", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Wallet to use; may be left out when the network has exactly one wallet.
    #[arg(long, global = true, env = "LIQUID_OTC_WALLET", value_name = "NAME")]
    pub wallet: Option<String>,

    /// Print one JSON document on stdout; errors as JSON on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    /// Answer yes to every confirmation (needed when not on a terminal).
    #[arg(long, short = 'y', global = true)]
    pub yes: bool,

    /// Print only results: no notes or warnings on stderr.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more detail, including the cause chain of errors.
    #[arg(long, short = 'v', global = true)]
    pub verbose: bool,

    /// Esplora server to sync with, e.g. https://blockstream.info/liquid/api [default: config.json, then the network's public server]. For `sandbox start`: the loopback HOST:PORT to listen on.
    #[arg(long, global = true, env = "LIQUID_OTC_ESPLORA", value_name = "URL")]
    pub esplora: Option<String>,

    /// Electrum server to sync with: [tcp://|tls://]HOST:PORT (plain TCP without a scheme). For `sandbox start`: the loopback HOST:PORT to listen on.
    #[arg(
        long,
        global = true,
        env = "LIQUID_OTC_ELECTRUM",
        value_name = "HOST:PORT"
    )]
    pub electrum: Option<String>,

    /// Seconds to wait for each answer of the chain server before giving up.
    #[arg(long, global = true, env = "LIQUID_OTC_TIMEOUT", value_name = "SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// When to use colors on a terminal (NO_COLOR turns them off in auto mode).
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto, value_name = "WHEN")]
    pub color: ColorArg,
}

/// The networks a wallet can live on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NetworkArg {
    /// Liquid mainnet.
    Liquid,
    /// Liquid testnet.
    Liquidtestnet,
    /// Elements liquidregtest (the embedded sandbox or a local elementsd).
    Regtest,
}

/// Color choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colors when stderr is a terminal and NO_COLOR is unset.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, restore, import, list, inspect and remove wallets.
    #[command(subcommand)]
    Wallet(crate::cmd::wallet::WalletCommand),
    /// Derive, list and inspect confidential addresses.
    #[command(subcommand)]
    Address(crate::cmd::address::AddressCommand),
    /// Pay one or more addresses, in any asset: build, blind, verify, confirm, sign, record,
    /// broadcast.
    #[command(
        long_about = "Pay one or more addresses, in any asset.\n\nThe wallet syncs, picks coins per \
asset, pays the fee in L-BTC on the final (ELIP-200 discounted) size, sends change of each asset \
to a fresh change address, and blinds every output to a confidential address. It shows its net \
effect and the fee and asks before signing (--yes for scripts). The signed transaction is \
recorded before it is broadcast, so a crash loses nothing: `tx pending` lists it and `tx \
rebroadcast` or `tx forget` settle it.\n\nAmounts are decimals in the asset's precision (8 for \
L-BTC and the built-in assets; the issuance's for assets this wallet issued); assets of unknown \
precision take base units. ASSET is an asset id, or L-BTC."
    )]
    Send(crate::cmd::send::SendArgs),
    /// Inspect, sign, combine and finalize PSETs (files or stdin, results on stdout).
    #[command(subcommand)]
    Pset(crate::cmd::pset::PsetCommand),
    /// Issue, reissue and burn assets; list and inspect the wallet's assets; label assets.
    #[command(subcommand, long_about = crate::cmd::asset::ASSET_LONG_HELP)]
    Asset(crate::cmd::asset::AssetGroup),
    /// Peg-outs to Bitcoin: one now (`send`), or the desk's request queue (add, approve,
    /// run in batches, track to confirmed, export).
    #[command(subcommand, long_about = crate::cmd::pegout::PEGOUT_LONG_HELP)]
    Pegout(crate::cmd::pegout::PegoutCommand),
    /// DvP offers: create, inspect, accept, settle, cancel (one transaction, both legs).
    #[command(subcommand, long_about = crate::cmd::offer::OFFER_LONG_HELP)]
    Offer(crate::cmd::offer::OfferCommand),
    /// The deal ledger: list, show, watch, export, expire.
    #[command(subcommand)]
    Deal(crate::cmd::deal::DealCommand),
    /// Scan the chain for the wallet's transactions and store them (incremental).
    #[command(
        long_about = "Scan the chain for the wallet's transactions and store them.\n\nBoth \
keychains are scanned up to --gap-limit unused addresses past the last used one. Later syncs \
are incremental: over Electrum only scripts whose status hash changed are looked at, and only \
transactions not stored yet are downloaded. Reorganisations and transactions leaving the \
mempool are reconciled. The server comes from --esplora/--electrum, config.json, or the \
network's public server; on regtest, a running `sandbox start` of the same data folder."
    )]
    Sync(crate::cmd::sync::SyncArgs),
    /// Show the wallet's balance per asset (syncs first unless --offline).
    Balance(crate::cmd::sync::BalanceArgs),
    /// List the wallet's transactions with their net effect per asset (from the last sync).
    Txs(crate::cmd::history::TxsArgs),
    /// List the wallet's unspent outputs (from the last sync).
    Utxos,
    /// Inspect one of the wallet's transactions.
    #[command(subcommand)]
    Tx(crate::cmd::tx::TxCommand),
    /// Run or drive the embedded Liquid regtest chain (no install needed).
    #[command(subcommand)]
    Sandbox(crate::cmd::sandbox::SandboxCommand),
    /// A guided walk-through on throw-away regtest wallets and an in-process sandbox.
    Demo,
    /// Print a shell completion script to stdout.
    Completions(crate::cmd::completions::CompletionsArgs),
}
