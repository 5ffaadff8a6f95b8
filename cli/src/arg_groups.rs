//! Argument groups shared by several commands (flattened into their arguments).

use std::path::PathBuf;

use clap::Args;

/// Scan options shared by `sync` and `balance`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Unused addresses scanned past the last used one, on each keychain.
    #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub gap_limit: u32,
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

/// A transaction of the wallet, named by its txid.
#[derive(Debug, Args)]
pub struct TxArgs {
    /// The transaction id (64 hex characters).
    #[arg(value_parser = crate::values::txid)]
    pub txid: elements::Txid,
}
