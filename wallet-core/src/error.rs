//! The crate-wide error type. Every message says what went wrong and, where it helps, what to
//! do about it. No message ever contains secret material (mnemonic words, passphrases, keys).

use std::path::PathBuf;

use crate::network::Network;

/// Everything that can go wrong in wallet-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The mnemonic is not a valid BIP39 English phrase (the text says why, never which word).
    #[error("invalid mnemonic: {0}")]
    InvalidMnemonic(String),
    /// The passphrase does not decrypt the seed file.
    #[error(
        "wrong passphrase: it does not decrypt this seed file (check the passphrase and try again)"
    )]
    WrongPassphrase,
    /// The seed file is corrupt, modified or truncated.
    #[error("the seed file is damaged: {0}; restore the wallet from its mnemonic or a backup")]
    SeedFileTampered(String),
    /// The seed file has an unknown magic or format version.
    #[error("unsupported seed file: {0}")]
    UnsupportedSeedFile(String),
    /// A descriptor failed to parse or is not acceptable.
    #[error("invalid descriptor: {0}")]
    InvalidDescriptor(String),
    /// An address failed to parse.
    #[error("invalid address: {0}")]
    InvalidAddress(String),
    /// A key or address belongs to another network.
    #[error("wrong network: expected {expected}, found {found}")]
    WrongNetwork {
        /// The network in use.
        expected: Network,
        /// The network of the key or address ("bitcoin" or "unknown" when not Liquid).
        found: String,
    },
    /// A Bitcoin address (a peg-out's destination) of another Bitcoin network than the
    /// parent chain of the wallet's network.
    #[error(
        "wrong network: {address} is a {found} address, and peg-outs from {network} pay \
         {expected} addresses"
    )]
    WrongBitcoinNetwork {
        /// The address as given.
        address: String,
        /// The wallet's Liquid network.
        network: Network,
        /// The parent chain's name ("Bitcoin regtest").
        expected: String,
        /// The address's Bitcoin network ("Bitcoin mainnet").
        found: String,
    },
    /// A peg-out request (or a desk member's name, a reference, a note) is malformed.
    #[error("invalid peg-out request: {0}")]
    InvalidPegoutRequest(String),
    /// A peg-out request with this reference is already queued with other content.
    #[error(
        "a peg-out request with reference '{reference}' is already queued ({status}) with \
         other content: a reference names one request"
    )]
    DuplicateRequest {
        /// The reference.
        reference: String,
        /// The queued request's status.
        status: String,
    },
    /// No peg-out request has this reference.
    #[error("no peg-out request has reference '{0}'")]
    UnknownRequest(String),
    /// A txid that is not a peg-out transaction of the desk.
    #[error("{0} is not a peg-out transaction of this wallet's desk")]
    UnknownPegoutTx(elements::Txid),
    /// An import with bad rows, or a file that cannot be read as an import (`total` 0: too
    /// large, or its header): nothing was imported.
    #[error("{}", import_rejected(rows, *total))]
    ImportRejected {
        /// Each bad row: its line number and what is wrong.
        rows: Vec<(usize, String)>,
        /// How many rows the file holds (0 when the file itself cannot be read).
        total: usize,
        /// Whether every problem is a refusal of a well-formed row (another Bitcoin network,
        /// a reference already queued or repeated in the file: what `request add` refuses,
        /// [`Error::is_refusal`]) rather than malformed input.
        refused: bool,
    },
    /// The wallet name is not acceptable.
    #[error("invalid wallet name: {0}")]
    InvalidWalletName(String),
    /// A wallet with this name already exists.
    #[error(
        "a wallet named '{name}' already exists on {network}: pick another name or remove it first"
    )]
    WalletExists {
        /// The wallet name.
        name: String,
        /// Its network.
        network: Network,
    },
    /// No wallet with this name exists.
    #[error("no wallet named '{name}' on {network}; {}", available_text(.available))]
    WalletNotFound {
        /// The name asked for.
        name: String,
        /// The network searched.
        network: Network,
        /// The wallets that do exist on that network.
        available: Vec<String>,
    },
    /// The operation needs the seed but the wallet is watch-only.
    #[error("watch-only wallet: {0}")]
    WatchOnly(String),
    /// A file-system operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The SQLite store failed (the text names the database).
    #[error("storage error: {0}")]
    Storage(String),
    /// The wallet's database file is not a database or is corrupt: modified or damaged.
    #[error("the wallet's database is damaged or was modified: {0}")]
    StoreDamaged(String),
    /// A request that cannot be built as asked (not a failed check of something received).
    #[error("{0}")]
    InvalidRequest(String),
    /// A cryptographic operation failed.
    #[error("crypto error: {0}")]
    Crypto(String),
    /// An amount typed by a person is not an exact amount of the asset.
    #[error("invalid amount {0}")]
    InvalidAmount(String),
    /// A chain backend URL or setting is unusable, or the network has no default server.
    #[error("backend configuration: {0}")]
    BackendConfig(String),
    /// A chain backend (Esplora or Electrum server) is unreachable, failed or misbehaved.
    #[error("chain backend {server}: {reason}")]
    Backend {
        /// The server's URL.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// The server refused to broadcast a transaction (double spend, missing inputs, ...).
    #[error("{server} rejected transaction {txid}: {reason}")]
    BroadcastRejected {
        /// The server's URL.
        server: String,
        /// The transaction.
        txid: String,
        /// The node's reason, as the server gave it.
        reason: String,
    },
    /// An output cannot be unblinded, or an amount cannot be computed from unblinded data.
    #[error("cannot unblind: {0}")]
    Unblind(String),
    /// Not enough of an asset to pay.
    #[error(
        "insufficient funds: {needed} base units of asset {asset} needed, {available} base units available"
    )]
    InsufficientFunds {
        /// The asset short.
        asset: elements::AssetId,
        /// How much was needed, in base units.
        needed: u64,
        /// How much the wallet has, in base units.
        available: u64,
    },
    /// Building, blinding, signing or finalizing a transaction failed or did not verify.
    #[error("transaction: {0}")]
    Transaction(String),
    /// What the wallet was asked to sign or accept does not pass its checks: the text says
    /// which and why, and nothing was signed.
    #[error("refused: {0}")]
    Refused(String),
    /// A DvP offer (or the transaction in it) does not pass this wallet's checks: nothing was
    /// signed, broadcast or reserved. The refusal says which check and why, in a trader's
    /// words.
    #[error("refused: {0}")]
    Offer(crate::swap::Refusal),
    /// No deal of this wallet's ledger has this id (or unique prefix).
    #[error("no deal {0} in this wallet's ledger")]
    UnknownDeal(String),
    /// A text that should be a DvP offer envelope is not one (not JSON, missing fields, a
    /// malformed PSET or amount).
    #[error("not a DvP offer: {0}")]
    InvalidOffer(String),
    /// A PSET has no input this wallet can sign.
    #[error("nothing to sign: {0}")]
    NothingToSign(String),
    /// A committed transaction was signed and recorded but is not on the network: the server
    /// refused it (`failed`: it no longer counts) or could not be reached (it stays pending).
    #[error("{source}; transaction {txid} {}", if *.failed {
        "is recorded as failed and does not count"
    } else {
        "is signed and recorded as pending, but was not broadcast"
    })]
    NotBroadcast {
        /// The transaction.
        txid: elements::Txid,
        /// Whether the server refused it for good.
        failed: bool,
        /// The server's answer or the connection error.
        source: Box<Error>,
    },
    /// The issuance of an asset to reissue cannot be found or does not issue it.
    #[error("cannot reissue asset {asset}: {reason}")]
    UnknownIssuance {
        /// The asset.
        asset: elements::AssetId,
        /// Why its issuance is unknown.
        reason: String,
    },
    /// A txid that is not a recorded transaction waiting for the chain.
    #[error("{0} is not a pending transaction of this wallet")]
    NotPending(elements::Txid),
    /// Another command is moving money with this wallet right now.
    #[error("wallet '{0}' is busy: another liquid-otc command is building, signing or broadcasting with it")]
    WalletBusy(String),
    /// The chain server serves another chain than the wallet's network (its genesis block
    /// is not the network's).
    #[error(
        "chain backend {server} is not a {expected} server: its genesis block is {found}, \
         {expected}'s is {genesis}"
    )]
    WrongChain {
        /// The server's URL.
        server: String,
        /// The network in use.
        expected: Network,
        /// That network's genesis block hash.
        genesis: String,
        /// The genesis block hash the server answered.
        found: String,
    },
}

fn available_text(available: &[String]) -> String {
    if available.is_empty() {
        "there are no wallets on this network yet: create one with `wallet create`".to_owned()
    } else {
        format!("available: {}", available.join(", "))
    }
}

fn import_rejected(rows: &[(usize, String)], total: usize) -> String {
    let (line, reason) = rows.first().map_or((0, ""), |r| (r.0, r.1.as_str()));
    if total == 0 {
        return format!(
            "the file cannot be imported: {reason} (line {line}); nothing was imported"
        );
    }
    let more = match rows.len() {
        0 | 1 => String::new(),
        n => format!("; {} more below", n - 1),
    };
    format!(
        "{} of {total} rows cannot be queued; nothing was imported (line {line}: {reason}{more})",
        rows.len()
    )
}

impl Error {
    /// Whether this error refuses a well-formed request rather than malformed input: the
    /// Bitcoin address is of another network, the reference is already queued with other
    /// content, or a check refused ([`Error::Refused`]). Front ends report these as
    /// refusals (exit 3 in the CLI) and the rest of a request's errors as malformed input
    /// (exit 2); an import uses it to give its rows the status `request add` would.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Error::WrongBitcoinNetwork { .. }
                | Error::WrongNetwork { .. }
                | Error::DuplicateRequest { .. }
                | Error::Refused(_)
        )
    }

    /// Builds an [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_matters() {
        let e = Error::WalletNotFound {
            name: "carol".into(),
            network: Network::Regtest,
            available: vec!["alice".into(), "bob".into()],
        };
        assert_eq!(
            e.to_string(),
            "no wallet named 'carol' on regtest; available: alice, bob"
        );
        let e = Error::WalletNotFound {
            name: "x".into(),
            network: Network::Liquid,
            available: vec![],
        };
        assert!(e.to_string().contains("wallet create"));
        let e = Error::io("/tmp/some/file", std::io::Error::other("disk full"));
        assert_eq!(e.to_string(), "/tmp/some/file: disk full");
        let e = Error::WrongNetwork {
            expected: Network::Liquid,
            found: "bitcoin".into(),
        };
        assert_eq!(
            e.to_string(),
            "wrong network: expected liquid, found bitcoin"
        );
    }

    #[test]
    fn an_import_says_whether_the_file_or_its_rows_are_wrong() {
        let header = Error::ImportRejected {
            rows: vec![(1, "the header has no 'amount' column".into())],
            total: 0,
            refused: false,
        };
        assert_eq!(
            header.to_string(),
            "the file cannot be imported: the header has no 'amount' column (line 1); nothing \
             was imported"
        );
        let rows = Error::ImportRejected {
            rows: vec![(3, "bad".into()), (5, "worse".into()), (6, "x".into())],
            total: 5,
            refused: false,
        };
        assert_eq!(
            rows.to_string(),
            "3 of 5 rows cannot be queued; nothing was imported (line 3: bad; 2 more below)"
        );
    }
}
