//! The command line's error: a stable code, a message, hints, and the exit status it maps to.

use std::fmt;

use wallet_core::Error as CoreError;

/// Exit statuses, stable and documented in the man pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 1: an error not covered by a more specific status.
    Error = 1,
    /// 2: bad arguments or malformed input.
    Usage = 2,
    /// 3: refused because a verification failed.
    Refused = 3,
    /// 4: backend unreachable or misbehaving.
    Backend = 4,
    /// 5: insufficient funds.
    InsufficientFunds = 5,
    /// 130: cancelled by the user.
    Cancelled = 130,
}

/// An error as the user sees it.
#[derive(Debug)]
pub struct CliError {
    /// Machine-readable code, e.g. `wrong_passphrase`.
    pub code: &'static str,
    /// What went wrong, in one sentence.
    pub message: String,
    /// What to do next.
    pub hints: Vec<String>,
    /// The exit status.
    pub exit: Exit,
    /// Lower-level causes, shown with `-v`.
    pub causes: Vec<String>,
    /// For insufficient funds from wallet-core: what was short, in base units, so that the
    /// message can be said in the asset's precision ([`CliError::in_asset_units`]).
    pub shortfall: Option<Box<Shortfall>>,
}

/// Not enough of an asset: amounts in base units.
#[derive(Debug, Clone, Copy)]
pub struct Shortfall {
    /// The asset short.
    pub asset: elements::AssetId,
    /// How much was needed.
    pub needed: u64,
    /// How much the wallet has.
    pub available: u64,
}

impl CliError {
    /// A new error with no hints.
    pub fn new(exit: Exit, code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
            hints: Vec::new(),
            exit,
            causes: Vec::new(),
            shortfall: None,
        }
    }

    /// Says a shortfall in the asset's precision with its trusted name when `names` knows
    /// them ("2.5 L-BTC needed, 1.00000000 L-BTC available"), else in base units.
    pub fn in_asset_units(mut self, names: &crate::asset_names::AssetNames) -> Self {
        if let Some(s) = self.shortfall.as_deref().copied() {
            let mut available = names.format(&s.asset, s.available);
            if let (Some(t), Some(_)) = (names.ticker(&s.asset), names.precision(&s.asset)) {
                available = format!("{available} {t}");
            }
            self.message = format!(
                "insufficient funds: {} needed, {available} available",
                names.describe(&s.asset, s.needed)
            );
        }
        self
    }

    /// A usage error (exit 2).
    pub fn usage(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(Exit::Usage, code, message)
    }

    /// Adds a hint saying what to do next.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    /// The confirmation that cannot be asked because there is no terminal.
    pub fn needs_yes(action: &str) -> Self {
        Self::usage(
            "confirmation_required",
            format!("{action} needs a confirmation, and there is no terminal to ask on"),
        )
        .hint("pass --yes to confirm from a script")
    }

    /// The user declined a prompt or pressed Ctrl-C.
    pub fn cancelled() -> Self {
        Self::new(Exit::Cancelled, "cancelled", "cancelled by the user")
    }

    /// An I/O failure on a named path.
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        Self::new(
            Exit::Error,
            "io",
            format!("cannot access {}: {err}", path.display()),
        )
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<CoreError> for CliError {
    fn from(err: CoreError) -> Self {
        // The chain of lower-level causes, for `-v`.
        let mut causes = Vec::new();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            causes.push(cause.to_string());
            source = cause.source();
        }
        let mut cli = CliError::from_core(err);
        if cli.causes.is_empty() {
            cli.causes = causes;
        }
        cli
    }
}

impl CliError {
    /// The code, exit status and hints of a wallet-core error.
    fn from_core(err: CoreError) -> Self {
        let message = err.to_string();
        match err {
            CoreError::InvalidMnemonic(_) => CliError::usage("invalid_mnemonic", message)
                .hint("check the words against what you wrote down, in order"),
            CoreError::WrongPassphrase => CliError::new(Exit::Refused, "wrong_passphrase", message)
                .hint("retry with the passphrase chosen when the wallet was created"),
            CoreError::SeedFileTampered(_) => CliError::new(
                Exit::Refused,
                "seed_file_tampered",
                message,
            )
            .hint("restore the wallet from its mnemonic with `wallet restore` into a new name"),
            CoreError::UnsupportedSeedFile(_) => {
                CliError::new(Exit::Error, "unsupported_seed_file", message)
                    .hint("this seed file was written by another program or a newer version")
            }
            CoreError::InvalidDescriptor(_) => CliError::usage("invalid_descriptor", message)
                .hint("a CT descriptor looks like ct(slip77(<key>),elwpkh(<xpub>/<0;1>/*))"),
            CoreError::InvalidAddress(_) => CliError::usage("invalid_address", message)
                .hint("check that the address was copied whole; `address inspect` decodes any Liquid address"),
            CoreError::WrongNetwork { ref expected, .. } => {
                let hint = format!(
                    "this command works on {expected}; pass --network to choose another network"
                );
                CliError::new(Exit::Refused, "wrong_network", message).hint(hint)
            }
            CoreError::WrongBitcoinNetwork { .. } => {
                CliError::new(Exit::Refused, "wrong_network", message)
                    .hint("ask the customer for an address of the Bitcoin network named above")
            }
            CoreError::InvalidRequest(_) => CliError::usage("invalid_request", message),
            CoreError::DuplicateRequest { .. } => {
                CliError::new(Exit::Refused, "duplicate_ref", message).hint(
                    "use a new reference for a new request; `pegout request show REF` shows the \
                     queued one",
                )
            }
            CoreError::UnknownRequest(_) => CliError::new(Exit::Error, "unknown_request", message)
                .hint("`liquid-otc pegout request list` lists the queue"),
            CoreError::UnknownPegoutTx(_) => CliError::new(Exit::Error, "unknown_pegout_tx", message)
                .hint("`liquid-otc pegout status` lists the desk's transactions"),
            CoreError::ImportRejected {
                ref rows, refused, ..
            } => {
                // The status `request add` gives the same cause: 3 when every bad row is a
                // refusal (a reference already used, another network), else 2.
                let mut err = if refused {
                    CliError::new(Exit::Refused, "import_rejected", message)
                } else {
                    CliError::usage("import_rejected", message)
                };
                for (line, reason) in rows {
                    err = err.hint(format!("line {line}: {reason}"));
                }
                err.hint("fix these rows and import the whole file again")
            }
            CoreError::InvalidWalletName(_) => CliError::usage("invalid_wallet_name", message)
                .hint("use letters, digits, '-' and '_' (at most 64)"),
            CoreError::WalletExists { .. } => CliError::new(Exit::Error, "wallet_exists", message)
                .hint("choose another name with --name, or remove the wallet first"),
            CoreError::WalletNotFound { ref available, .. } => {
                let hint = if available.is_empty() {
                    "create one with `wallet create` or `wallet restore`".to_string()
                } else {
                    "pass --wallet with one of the names above, or --network for another network"
                        .to_string()
                };
                CliError::new(Exit::Error, "wallet_not_found", message).hint(hint)
            }
            CoreError::WatchOnly(_) => CliError::new(Exit::Error, "watch_only", message),
            CoreError::Io { .. } => CliError::new(Exit::Error, "io", message)
                .hint("check that the folder exists and is writable, or pick another with --data-dir"),
            CoreError::Storage(_) => CliError::new(Exit::Error, "storage", message),
            CoreError::StoreDamaged(_) => CliError::new(Exit::Refused, "wallet_file_damaged", message)
                .hint("restore the wallet from its mnemonic (or import its descriptor) into a new name; keep the damaged folder for inspection"),
            CoreError::InvalidPegoutRequest(_) => CliError::usage("invalid_request", message),
            CoreError::Crypto(_) => CliError::new(Exit::Error, "crypto", message),
            CoreError::InsufficientFunds {
                asset,
                needed,
                available,
            } => {
                let mut err = CliError::new(Exit::InsufficientFunds, "insufficient_funds", message)
                    .hint("`balance` shows what the wallet has; sync first if funds just arrived");
                err.shortfall = Some(Box::new(Shortfall {
                    asset,
                    needed,
                    available,
                }));
                err
            }
            CoreError::Transaction(_) => CliError::new(Exit::Refused, "transaction", message),
            CoreError::InvalidAmount(_) => CliError::usage("invalid_amount", message)
                .hint("type amounts as decimals in the asset's precision, e.g. 0.5 or 1000"),
            CoreError::BackendConfig(_) => CliError::usage("backend_config", message).hint(
                "pass --esplora http(s)://HOST[:PORT][/PATH] or --electrum [tcp://|tls://]HOST:PORT",
            ),
            CoreError::Backend { .. } => CliError::new(Exit::Backend, "backend", message)
                .hint("check the server URL and the network connection, then retry"),
            CoreError::BroadcastRejected { .. } => {
                CliError::new(Exit::Error, "broadcast_rejected", message)
            }
            CoreError::Unblind(_) => CliError::new(Exit::Refused, "unblind", message),
            CoreError::Refused(_) => CliError::new(Exit::Refused, "refused", message),
            CoreError::Offer(refusal) => {
                let mut err = CliError::new(
                    Exit::Refused,
                    refusal.code,
                    format!("refused: {refusal}"),
                );
                if let Some(hint) = refusal.hint {
                    err = err.hint(hint);
                }
                err
            }
            CoreError::UnknownDeal(_) => CliError::new(Exit::Error, "unknown_deal", message)
                .hint("`liquid-otc deal list` shows the wallet's deals"),
            CoreError::InvalidOffer(_) => CliError::usage("invalid_offer", message).hint(
                "pass the envelope `offer create` or `offer accept` wrote (a file, or - for stdin)",
            ),
            CoreError::NothingToSign(_) => CliError::new(Exit::Refused, "nothing_to_sign", message)
                .hint("sync the wallet if its coins are recent, or sign with the wallet that owns them"),
            CoreError::NotBroadcast { txid, failed, source } => {
                let inner = CliError::from(*source);
                let hint = if failed {
                    format!(
                        "nothing was spent; `liquid-otc tx pending` lists it, `liquid-otc tx forget {txid}` removes it"
                    )
                } else {
                    format!(
                        "`liquid-otc tx rebroadcast {txid}` sends it again; `liquid-otc tx forget {txid}` drops it if it must never be sent"
                    )
                };
                CliError::new(inner.exit, inner.code, message).hint(hint)
            }
            CoreError::UnknownIssuance { .. } => CliError::new(Exit::Error, "unknown_issuance", message)
                .hint("holding its reissuance token is enough: pass --issuance-tx TXID, the asset's issuance transaction (the issuer's `asset info` shows it)"),
            CoreError::NotPending(_) => CliError::new(Exit::Error, "not_pending", message)
                .hint("`liquid-otc tx pending` lists them"),
            CoreError::WalletBusy(_) => CliError::new(Exit::Error, "wallet_busy", message)
                .hint("wait for the other command to finish (or answer its prompt), then retry"),
            CoreError::WrongChain { ref expected, .. } => {
                let hint = format!(
                    "point --esplora or --electrum at a {expected} server, or pass --network \
                     with the server's network"
                );
                CliError::new(Exit::Refused, "wrong_chain", message).hint(hint)
            }
        }
    }
}

/// Result of a command.
pub type CliResult<T> = Result<T, CliError>;

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::network::Network;

    /// `Error::is_refusal` (what an import uses to give a file the status of its rows) and
    /// this file's table agree on the errors a peg-out request can meet.
    #[test]
    fn refusals_in_wallet_core_are_exit_3_here() {
        let errors = vec![
            CoreError::WrongBitcoinNetwork {
                address: "bc1q".into(),
                network: Network::Regtest,
                expected: "Bitcoin regtest".into(),
                found: "Bitcoin mainnet".into(),
            },
            CoreError::DuplicateRequest {
                reference: "T-1".into(),
                status: "requested".into(),
            },
            CoreError::Refused("no".into()),
            CoreError::WrongNetwork {
                expected: Network::Regtest,
                found: "liquid".into(),
            },
            CoreError::InvalidAddress("bad checksum".into()),
            CoreError::InvalidAmount("9 decimals".into()),
            CoreError::InvalidPegoutRequest("bad reference".into()),
        ];
        for e in errors {
            let refusal = e.is_refusal();
            let text = e.to_string();
            let exit = CliError::from(e).exit;
            assert_eq!(refusal, exit == Exit::Refused, "{text}: {exit:?}");
            assert!(
                matches!(exit, Exit::Refused | Exit::Usage),
                "{text}: {exit:?}"
            );
        }
    }
}
