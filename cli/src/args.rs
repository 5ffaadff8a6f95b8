//! The clap command tree: every command, flag and its help text.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Text appended to the top-level help and to every man page.
pub const EXIT_STATUS_HELP: &str = "\
Exit status:
  0    success
  1    error (I/O, storage, anything not listed below)
  2    usage: bad arguments or malformed input (mnemonic, address, descriptor)
  3    refused because a verification failed (wrong network, wrong passphrase, tampered file)
  4    backend unreachable or misbehaving
  5    insufficient funds
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
    Wallet(WalletCommand),
    /// Derive, list and inspect confidential addresses.
    #[command(subcommand)]
    Address(AddressCommand),
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
    Send(SendArgs),
    /// Inspect, sign, combine and finalize PSETs (files or stdin, results on stdout).
    #[command(subcommand)]
    Pset(PsetCommand),
    /// Issue, reissue and burn assets; list and inspect the wallet's assets; label assets.
    #[command(subcommand, long_about = ASSET_LONG_HELP)]
    Asset(AssetGroup),
    /// Scan the chain for the wallet's transactions and store them (incremental).
    #[command(
        long_about = "Scan the chain for the wallet's transactions and store them.\n\nBoth \
keychains are scanned up to --gap-limit unused addresses past the last used one. Later syncs \
are incremental: over Electrum only scripts whose status hash changed are looked at, and only \
transactions not stored yet are downloaded. Reorganisations and transactions leaving the \
mempool are reconciled. The server comes from --esplora/--electrum, config.json, or the \
network's public server; on regtest, a running `sandbox start` of the same data folder."
    )]
    Sync(SyncArgs),
    /// Show the wallet's balance per asset (syncs first unless --offline).
    Balance(BalanceArgs),
    /// List the wallet's transactions with their net effect per asset (from the last sync).
    Txs(TxsArgs),
    /// List the wallet's unspent outputs (from the last sync).
    Utxos,
    /// Inspect one of the wallet's transactions.
    #[command(subcommand)]
    Tx(TxCommand),
    /// Run or drive the embedded Liquid regtest chain (no install needed).
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// A guided walk-through on throw-away regtest wallets and an in-process sandbox.
    Demo,
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
}

/// Scan options shared by `sync` and `balance`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Unused addresses scanned past the last used one, on each keychain.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub gap_limit: u32,
}

/// Arguments of `sync`.
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Forget the stored histories and status hashes and scan everything again.
    #[arg(long)]
    pub full: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `balance`.
#[derive(Debug, Args)]
pub struct BalanceArgs {
    /// Read the store only: no network, the balance as of the last sync.
    #[arg(long)]
    pub offline: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `txs`.
#[derive(Debug, Args)]
pub struct TxsArgs {
    /// Show at most N transactions (the newest).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
}

/// `tx` subcommands.
#[derive(Debug, Subcommand)]
pub enum TxCommand {
    /// Every input and output of a wallet transaction, unblinded where the wallet can.
    Show(TxShowArgs),
    /// Transactions signed and recorded but not yet seen by the chain server.
    Pending,
    /// Broadcast a pending transaction again.
    Rebroadcast(TxShowArgs),
    /// Forget a pending transaction that will never confirm (its coins become spendable).
    Forget(TxShowArgs),
}

/// Arguments of `tx show`.
#[derive(Debug, Args)]
pub struct TxShowArgs {
    /// The transaction id.
    pub txid: String,
}

/// `wallet` subcommands.
#[derive(Debug, Subcommand)]
pub enum WalletCommand {
    /// Create a new wallet from a fresh BIP39 mnemonic.
    #[command(
        long_about = "Create a new wallet from a fresh BIP39 mnemonic.\n\nOn a terminal the \
mnemonic is shown once and the encryption passphrase is asked twice. Without a terminal, \
--passphrase-file (or --passphrase-fd) and --mnemonic-out are required; the mnemonic file is \
written with mode 0600 and must not exist yet."
    )]
    Create(CreateArgs),
    /// Restore a wallet from an existing BIP39 mnemonic.
    #[command(
        long_about = "Restore a wallet from an existing BIP39 mnemonic.\n\nThe mnemonic is read \
from a hidden prompt on a terminal, from --mnemonic-file, or from stdin; never from the command \
line."
    )]
    Restore(RestoreArgs),
    /// Import a CT descriptor as a watch-only wallet.
    Import(ImportArgs),
    /// List the wallets of the network.
    List,
    /// Show a wallet's network, descriptor, fingerprint and address indexes.
    Info,
    /// Print the wallet's CT descriptor (it holds the view key: share it only to watch).
    Descriptor,
    /// Re-encrypt the seed under a new passphrase (the current one is checked first).
    ChangePassphrase(ChangePassphraseArgs),
    /// Delete a wallet and its encrypted seed (asks unless --yes).
    Remove,
}

/// Arguments of `wallet change-passphrase`.
#[derive(Debug, Args)]
pub struct ChangePassphraseArgs {
    /// Where the current passphrase comes from.
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    /// Read the new passphrase from the first line of this file (asked twice on a terminal otherwise).
    #[arg(long, value_name = "FILE")]
    pub new_passphrase_file: Option<PathBuf>,
}

/// Arguments of `wallet create`.
#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Name of the new wallet [default: "default"].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Number of mnemonic words.
    #[arg(long, value_enum, default_value_t = WordsArg::Twelve)]
    pub words: WordsArg,
    #[command(flatten)]
    pub keys: KeyChoiceArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    #[command(flatten)]
    pub bip39: Bip39PassphraseArgs,
    /// Write the new mnemonic to this file (mode 0600) instead of showing it.
    #[arg(long, value_name = "FILE")]
    pub mnemonic_out: Option<PathBuf>,
}

/// Arguments of `wallet restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// Name of the restored wallet [default: "default"].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub keys: KeyChoiceArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
    #[command(flatten)]
    pub bip39: Bip39PassphraseArgs,
    /// Read the mnemonic from this file instead of a prompt or stdin.
    #[arg(long, value_name = "FILE")]
    pub mnemonic_file: Option<PathBuf>,
    /// Use this CT descriptor instead of the standard one (e.g. a multisig this mnemonic is a
    /// cosigner of); the mnemonic must hold one of its keys. --kind and --blinding are ignored.
    #[arg(long, value_name = "DESCRIPTOR", conflicts_with = "descriptor_file")]
    pub descriptor: Option<String>,
    /// Read that descriptor from a file.
    #[arg(long, value_name = "FILE")]
    pub descriptor_file: Option<PathBuf>,
}

/// Mnemonic lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WordsArg {
    /// 12 words (128 bits of entropy).
    #[value(name = "12")]
    Twelve,
    /// 24 words (256 bits of entropy).
    #[value(name = "24")]
    TwentyFour,
}

/// Script and blinding-key choice for wallets made from a mnemonic.
#[derive(Debug, Args)]
pub struct KeyChoiceArgs {
    /// Script kind: wpkh (BIP84, native segwit) or sh-wpkh (BIP49, nested segwit).
    #[arg(long, value_enum, default_value_t = KindArg::Wpkh)]
    pub kind: KindArg,
    /// Blinding keys: slip77 (master blinding key) or elip151 (derived from the descriptor).
    #[arg(long, value_enum, default_value_t = BlindingArg::Slip77)]
    pub blinding: BlindingArg,
}

/// Single-signature script kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Native segwit v0 (BIP84).
    Wpkh,
    /// Segwit v0 nested in P2SH (BIP49).
    ShWpkh,
}

/// Blinding-key schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BlindingArg {
    /// SLIP-77 master blinding key from the seed.
    Slip77,
    /// ELIP-151 key derived from the descriptor itself.
    Elip151,
}

/// Where the seed-encryption passphrase comes from when not on a terminal.
#[derive(Debug, Args)]
pub struct PassphraseArgs {
    /// Read the encryption passphrase from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "passphrase_fd")]
    pub passphrase_file: Option<PathBuf>,
    /// Read the encryption passphrase from this open file descriptor.
    #[arg(long, value_name = "N")]
    pub passphrase_fd: Option<u32>,
}

/// Optional BIP39 passphrase (the "25th word").
#[derive(Debug, Args)]
pub struct Bip39PassphraseArgs {
    /// Read a BIP39 passphrase (25th word) from this file.
    #[arg(long, value_name = "FILE", conflicts_with = "ask_bip39_passphrase")]
    pub bip39_passphrase_file: Option<PathBuf>,
    /// Ask for a BIP39 passphrase (25th word) on the terminal.
    #[arg(long)]
    pub ask_bip39_passphrase: bool,
}

/// Arguments of `wallet import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Name of the watch-only wallet [default: "default"].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// The CT descriptor, `ct(<blinding key>,<descriptor>)`; `-` reads it from stdin.
    #[arg(
        long,
        value_name = "DESCRIPTOR",
        required_unless_present = "descriptor_file"
    )]
    pub descriptor: Option<String>,
    /// Read the CT descriptor from this file (keeps the view key out of the process list).
    #[arg(long, value_name = "FILE", conflicts_with = "descriptor")]
    pub descriptor_file: Option<PathBuf>,
}

/// `address` subcommands.
#[derive(Debug, Subcommand)]
pub enum AddressCommand {
    /// Hand out the next receive address (never the same one twice).
    New(AddressNewArgs),
    /// List the addresses handed out so far.
    List(AddressListArgs),
    /// Decode any Liquid address offline: network, blinding key, script (needs no wallet).
    Inspect(AddressInspectArgs),
}

/// Arguments of `address new`.
#[derive(Debug, Args)]
pub struct AddressNewArgs {
    /// A label stored with the address.
    #[arg(long, value_name = "LABEL")]
    pub label: Option<String>,
    /// Hand out a change (internal) address instead of a receive address.
    #[arg(long)]
    pub change: bool,
}

/// Arguments of `address list`.
#[derive(Debug, Args)]
pub struct AddressListArgs {
    /// Also list change (internal) addresses.
    #[arg(long)]
    pub all: bool,
}

/// Arguments of `address inspect`.
#[derive(Debug, Args)]
pub struct AddressInspectArgs {
    /// The address to decode.
    pub address: String,
}

/// `pset` subcommands: each reads a PSET (base64) from a file or `-` (stdin) and writes stdout.
#[derive(Debug, Subcommand)]
pub enum PsetCommand {
    /// Build an unsigned, blinded PSET paying the recipients (as `send`, without signing).
    Create(PsetCreateArgs),
    /// Show a PSET as this wallet sees it: its net effect per asset, the fee, every input and
    /// output, unblinded where the wallet can.
    Inspect(PsetInspectArgs),
    /// Sign this wallet's inputs (SIGHASH_ALL) after showing what is signed; prints the PSET.
    Sign(PsetSignArgs),
    /// Merge the signatures and data of several copies of one PSET.
    Combine(PsetCombineArgs),
    /// Finalize every input from its signatures; prints the PSET, or the transaction with
    /// --extract.
    Finalize(PsetFinalizeArgs),
    /// Finalize if needed, record as pending in each wallet whose coins it spends (the
    /// --wallet one, or without it every wallet of the network), broadcast.
    Broadcast(PsetInspectArgs),
}

/// Recipients and fee of a payment (shared by `send` and `pset create`).
#[derive(Debug, Args)]
pub struct PaymentArgs {
    /// A payee: ADDRESS:AMOUNT[:ASSET]; repeat for several. AMOUNT is a decimal in the
    /// asset's precision, or base units for an asset of unknown precision (label it with
    /// `asset label`). With --drain: ADDRESS[:all[:ASSET]].
    #[arg(long = "to", value_name = "ADDRESS:AMOUNT[:ASSET]", required = true)]
    pub to: Vec<String>,
    /// Fee rate in sat per discounted vbyte [default: the server's estimate, at least 0.1].
    #[arg(long, value_name = "SAT_PER_VB")]
    pub fee_rate: Option<String>,
    /// Sweep every coin of the asset (L-BTC by default) to the one --to address.
    #[arg(long)]
    pub drain: bool,
    /// Allow paying an unconfidential address (its amount and asset become public).
    #[arg(long)]
    pub allow_unconfidential: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
}

/// Arguments of `send`.
#[derive(Debug, Args)]
pub struct SendArgs {
    #[command(flatten)]
    pub payment: PaymentArgs,
    /// Build, blind and show the payment, then stop before signing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the unsigned PSET to FILE (or - for stdout) instead of signing.
    #[arg(long, value_name = "FILE|-")]
    pub pset_out: Option<String>,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `pset create`.
#[derive(Debug, Args)]
pub struct PsetCreateArgs {
    #[command(flatten)]
    pub payment: PaymentArgs,
}

/// Arguments of `pset inspect`.
#[derive(Debug, Args)]
pub struct PsetInspectArgs {
    /// A file holding the PSET in base64, or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
}

/// Arguments of `pset sign`.
#[derive(Debug, Args)]
pub struct PsetSignArgs {
    /// A file holding the PSET in base64, or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `pset combine`.
#[derive(Debug, Args)]
pub struct PsetCombineArgs {
    /// Two or more PSET files (one of them may be `-`).
    #[arg(value_name = "FILE|-", num_args = 2.., required = true)]
    pub psets: Vec<String>,
}

/// Arguments of `pset finalize`.
#[derive(Debug, Args)]
pub struct PsetFinalizeArgs {
    /// A file holding the PSET in base64, or `-` for stdin.
    #[arg(value_name = "FILE|-")]
    pub pset: String,
    /// Print the final transaction (hex) instead of the finalized PSET.
    #[arg(long)]
    pub extract: bool,
}

/// `sandbox` subcommands.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Run the sandbox chain in the foreground until interrupted (Ctrl-C).
    #[command(
        long_about = "Run the sandbox chain in the foreground until interrupted (Ctrl-C).\n\n\
A private Elements liquidregtest chain with a strict validator, serving Blockstream's Esplora \
REST API and the Electrum protocol on loopback. Its URLs are printed and recorded in \
<data-dir>/sandbox.json so that `sandbox faucet|mine|issue`, `sync` and `balance` find it. \
The global --esplora and --electrum flags choose the loopback addresses to listen on (a free \
port of 127.0.0.1 by default).\n\nOne sandbox per data folder: while the recorded one answers, \
another start refuses with \"already running at URL\" (exit status 1); a record left by a \
sandbox that is gone or does not answer is replaced."
    )]
    Start(SandboxStartArgs),
    /// Pay L-BTC (or a test asset) from the sandbox faucet to an address.
    Faucet(SandboxFaucetArgs),
    /// Mine blocks on the sandbox chain.
    Mine(SandboxMineArgs),
    /// Issue a test asset held by the faucet, committing to a contract with its precision.
    #[command(long_about = SANDBOX_ISSUE_LONG_HELP)]
    Issue(SandboxIssueArgs),
    /// Replace the last blocks with a longer branch (a reorganisation), to test wallets.
    Reorg(SandboxReorgArgs),
}

/// Long help of `sandbox issue`.
const SANDBOX_ISSUE_LONG_HELP: &str = "Issue a test asset held by the faucet.\n\nThe asset id \
commits to a JSON contract {\"name\", \"precision\", \"ticker\", \"version\": 0} (its hash, as \
Elements computes it). --amount is a decimal in --precision, so base units without it. Wallets \
know an asset's precision only from a trusted source (the built-in list, their own issuance, \
your label), so --ticker or --precision also labels the asset in this data folder's config.json, \
exactly as `asset label` would: `balance`, `send` and `sandbox faucet` of this data folder then \
all use that precision. Without them the asset has precision 0 and everything is in base \
units.";

/// Arguments of `sandbox start`.
#[derive(Debug, Args)]
pub struct SandboxStartArgs {
    /// Keep the chain in SQLite in this folder across restarts (in memory otherwise).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Wait this many milliseconds before every reply, to act like a remote server.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub delay_ms: u64,
}

/// Which running sandbox to talk to.
#[derive(Debug, Args)]
pub struct SandboxUrlArgs {
    /// Esplora URL of the sandbox [default: the one `sandbox start` recorded in the data folder].
    #[arg(long, value_name = "URL", env = "LIQUID_OTC_SANDBOX_URL")]
    pub url: Option<String>,
}

/// Arguments of `sandbox faucet`.
#[derive(Debug, Args)]
pub struct SandboxFaucetArgs {
    /// A liquidregtest address (confidential addresses get blinded outputs).
    pub address: String,
    /// Amount: a decimal in the asset's precision (L-BTC: 8 places, e.g. 1.5; an asset
    /// labelled with a precision: that one); base units for an asset of unknown precision.
    pub amount: String,
    /// Asset id to pay (default: L-BTC).
    #[arg(long, value_name = "ID")]
    pub asset: Option<String>,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `sandbox mine`.
#[derive(Debug, Args)]
pub struct SandboxMineArgs {
    /// Number of blocks.
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub blocks: u32,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `sandbox reorg`.
#[derive(Debug, Args)]
pub struct SandboxReorgArgs {
    /// How many blocks to replace (DEPTH + 1 new ones are mined).
    #[arg(default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub depth: u32,
    /// Return the replaced blocks' transactions to the mempool (they vanish otherwise).
    #[arg(long)]
    pub keep_txs: bool,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `sandbox issue`.
#[derive(Debug, Args)]
pub struct SandboxIssueArgs {
    /// Amount to issue: a decimal in --precision, so base units without it.
    #[arg(long, value_name = "A")]
    pub amount: String,
    /// Decimal places of the asset (0 to 8), written in its contract; also labels the asset
    /// with it in this data folder, so that wallets type and show it the same way
    /// [default: 0, amounts in base units].
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub precision: Option<u8>,
    /// A ticker, written in its contract and used as your label of it in this data folder.
    #[arg(long, value_name = "TICKER")]
    pub ticker: Option<String>,
    /// The name in its contract [default: "sandbox test asset"].
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    #[command(flatten)]
    pub sandbox: SandboxUrlArgs,
}

/// Arguments of `completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to generate completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Long help of `asset`.
const ASSET_LONG_HELP: &str = "Issue, reissue and burn assets; list and inspect the wallet's \
assets.\n\nIssued and reissued amounts are explicit in the transaction (the supply is public) \
unless `--confidential` blinds them. The outputs receiving them, at fresh change addresses of \
this wallet, are always blinded. Amounts are decimals in \
the asset's precision: 0 unless `asset issue --precision P` (0 to 8, stored with the issuance) \
or a `precision` in the contract says otherwise, and the issuing wallet uses it in every \
command; reissuance tokens are whole numbers. Other wallets type and show an asset in base \
units until you label it with a precision (`asset label ASSET --ticker T --precision P`). \
Tickers come only from the built-in list of well-known assets and your labels.\n\nA wallet holding a reissuance token \
it did not issue reads the entropy from the asset's issuance transaction: the one Esplora names, \
or over Electrum the one given with `--issuance-tx TXID`; the asset id is recomputed from it and \
must match.\n\nExit status 2 for a malformed or unknown asset id (`asset info`, and `asset \
reissue` of an asset whose issuance is unknown or named by a transaction that does not issue \
it); 5 when burning more than the wallet holds or reissuing without the reissuance token.";

/// `asset` subcommands: the wallet's own ([`AssetCommand`]) and the user's labels, which need
/// no wallet.
#[derive(Debug, Subcommand)]
pub enum AssetGroup {
    /// The commands on the wallet's assets.
    #[command(flatten)]
    Wallet(AssetCommand),
    /// Label an asset with your own ticker and/or precision (in the data folder's
    /// config.json; needs no wallet).
    #[command(long_about = ASSET_LABEL_LONG_HELP)]
    Label(AssetLabelArgs),
    /// Remove your label of an asset (nothing to do when there is none).
    Unlabel(AssetUnlabelArgs),
    /// List your asset labels of the network.
    Labels,
}

/// Long help of `asset label`.
const ASSET_LABEL_LONG_HELP: &str = "Label an asset with your own ticker and/or precision.\n\n\
A label is yours: it is written to the data folder's config.json (atomically, mode 0600) under \
the network's asset_labels, and every command of that data folder and network then shows the \
ticker and reads and prints amounts in that precision (`send --to ADDRESS:7:ASSET` with \
precision 2 pays 700 base units). Without a precision, amounts of an asset stay in base units. \
Tickers are trusted only from the built-in list and your labels, never from a contract, an offer \
or a server. The built-in assets' precision cannot be changed, and a wallet's own issuance keeps \
the precision it was issued with. Labelling again replaces the label.\n\nExit status 2 for a \
malformed asset id, ticker or precision.";

/// Arguments of `asset label`.
#[derive(Debug, Args)]
pub struct AssetLabelArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ASSET")]
    pub asset: String,
    /// Your ticker for it: 1 to 16 printable ASCII characters.
    #[arg(long, value_name = "TICKER", required_unless_present = "precision")]
    pub ticker: Option<String>,
    /// Its decimal places (0 to 8): amounts are typed and shown with that many.
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub precision: Option<u8>,
}

/// Arguments of `asset unlabel`.
#[derive(Debug, Args)]
pub struct AssetUnlabelArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ASSET")]
    pub asset: String,
}

/// `asset` subcommands on the wallet's assets.
#[derive(Debug, Subcommand)]
pub enum AssetCommand {
    /// Issue a new asset (and optionally reissuance tokens) to this wallet.
    Issue(AssetIssueArgs),
    /// Issue more of an asset this wallet issued, spending (and keeping) its reissuance token.
    Reissue(AssetReissueArgs),
    /// Destroy an amount of an asset: an explicit output to an OP_RETURN script.
    Burn(AssetBurnArgs),
    /// The assets this wallet holds or issued (from the last sync; no network).
    List,
    /// What the wallet knows of one asset: ids, precision, contract, supply it made (no network).
    Info(AssetInfoArgs),
}

/// Options shared by the asset commands that sign and broadcast.
#[derive(Debug, Args)]
pub struct AssetTxArgs {
    /// Fee rate in sat per discounted vbyte [default: the server's estimate, at least 0.1].
    #[arg(long, value_name = "SAT_PER_VB")]
    pub fee_rate: Option<String>,
    /// Build, blind and show the transaction, then stop before signing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub scan: ScanArgs,
    #[command(flatten)]
    pub passphrase: PassphraseArgs,
}

/// Arguments of `asset issue`.
#[derive(Debug, Args)]
pub struct AssetIssueArgs {
    /// Amount to issue, a decimal in the asset's precision (see --precision).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: String,
    /// Reissuance tokens to create (a whole number; 0: the asset can never be reissued).
    #[arg(long, value_name = "N", default_value = "0")]
    pub token: String,
    /// A JSON contract (an object) whose hash the asset id commits to.
    #[arg(long, value_name = "FILE")]
    pub contract: Option<PathBuf>,
    /// Decimal places of the asset [default: the contract's `precision`, else 0].
    #[arg(long, value_name = "P", value_parser = clap::value_parser!(u8).range(0..=8))]
    pub precision: Option<u8>,
    /// Blind the issued amounts: the chain shows commitments instead of the supply (only this
    /// wallet knows the amounts). Without it they are explicit: anyone can audit the supply.
    #[arg(long)]
    pub confidential: bool,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// Arguments of `asset reissue`.
#[derive(Debug, Args)]
pub struct AssetReissueArgs {
    /// The asset id (64 hex characters); this wallet must hold its reissuance token.
    #[arg(value_name = "ASSET")]
    pub asset: String,
    /// Amount to issue, a decimal in the asset's precision (base units when it is unknown).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: String,
    /// The asset's issuance transaction, when another wallet issued it and the server cannot
    /// say which one it is (Electrum): the entropy a reissuance needs is read from there
    /// (and checked against the asset id).
    #[arg(long, value_name = "TXID")]
    pub issuance_tx: Option<String>,
    /// Blind the reissued amount: the chain shows a commitment instead of the amount.
    #[arg(long)]
    pub confidential: bool,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// Arguments of `asset burn`.
#[derive(Debug, Args)]
pub struct AssetBurnArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ASSET")]
    pub asset: String,
    /// Amount to destroy, a decimal in the asset's precision (base units when it is unknown).
    #[arg(long, value_name = "AMOUNT")]
    pub amount: String,
    #[command(flatten)]
    pub tx: AssetTxArgs,
}

/// Arguments of `asset info`.
#[derive(Debug, Args)]
pub struct AssetInfoArgs {
    /// The asset id (64 hex characters) or L-BTC.
    #[arg(value_name = "ID")]
    pub id: String,
}
