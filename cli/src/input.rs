//! Reading secrets and confirmations: hidden prompts on a terminal, files and descriptors
//! otherwise. Secrets are never taken from argv and are zeroized when dropped.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use wallet_core::seed::SeedSecret;
use wallet_core::wallet::Wallet;
use zeroize::Zeroizing;

use crate::arg_groups::{Bip39PassphraseArgs, PassphraseArgs};
use crate::error::{CliError, CliResult, Exit};

/// Attempts at the seed-encryption passphrase a person at the terminal gets before the
/// command gives up (exit 3). A passphrase from a file, a descriptor or the environment gets
/// one: retrying it could only fail the same way.
pub const PASSPHRASE_ATTEMPTS: u32 = 3;

/// Environment variable holding the encryption passphrase: a documented last resort for
/// automation that can use neither a file nor a file descriptor.
pub const PASSPHRASE_ENV: &str = "LIQUID_OTC_PASSPHRASE";

/// Whether prompts can be shown and answered: stdin and stderr are both terminals.
pub fn interactive() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

fn prompt_error(err: dialoguer::Error) -> CliError {
    let dialoguer::Error::IO(io) = err;
    if io.kind() == std::io::ErrorKind::Interrupted {
        CliError::cancelled()
    } else {
        CliError::new(
            Exit::Error,
            "prompt",
            format!("cannot read from the terminal: {io}"),
        )
    }
}

/// Reads a whole secret file, refusing files larger than `limit` bytes.
fn read_secret_file(path: &Path, limit: u64) -> CliResult<Zeroizing<String>> {
    let file = File::open(path).map_err(|e| CliError::io(path, e))?;
    let mut text = Zeroizing::new(String::new());
    file.take(limit + 1)
        .read_to_string(&mut text)
        .map_err(|e| CliError::io(path, e))?;
    if text.len() as u64 > limit {
        return Err(CliError::usage(
            "secret_file_too_large",
            format!("{} is larger than {limit} bytes", path.display()),
        ));
    }
    Ok(text)
}

/// The first line of a secret text, without its line ending.
fn first_line(text: &str) -> Zeroizing<String> {
    let line = text.split('\n').next().unwrap_or("");
    Zeroizing::new(line.strip_suffix('\r').unwrap_or(line).to_string())
}

/// Reads the seed-encryption passphrase.
///
/// Order: `--passphrase-file`, `--passphrase-fd`, a hidden prompt on a terminal (twice when
/// `confirm`), then the `LIQUID_OTC_PASSPHRASE` environment variable.
pub fn encryption_passphrase(args: &PassphraseArgs, confirm: bool) -> CliResult<Zeroizing<String>> {
    let passphrase = if let Some(path) = &args.passphrase_file {
        first_line(&read_secret_file(path, 4096)?)
    } else if let Some(fd) = args.passphrase_fd {
        let path = format!("/dev/fd/{fd}");
        first_line(&read_secret_file(Path::new(&path), 4096)?)
    } else if interactive() {
        let mut prompt = dialoguer::Password::new().with_prompt("Encryption passphrase");
        if confirm {
            prompt = prompt.with_confirmation(
                "Repeat the passphrase",
                "The passphrases do not match, try again",
            );
        }
        Zeroizing::new(prompt.interact().map_err(prompt_error)?)
    } else if let Ok(value) = std::env::var(PASSPHRASE_ENV) {
        Zeroizing::new(value)
    } else {
        return Err(CliError::usage(
            "passphrase_required",
            "the seed-encryption passphrase is needed, and there is no terminal to ask on",
        )
        .hint("pass --passphrase-file FILE or --passphrase-fd N"));
    };
    non_empty(passphrase)
}

/// Reads the passphrase and decrypts `wallet`'s seed with it ([`Wallet::unlock_seed`]).
///
/// When the passphrase is typed at the terminal prompt, a wrong one may be typed again, up
/// to [`PASSPHRASE_ATTEMPTS`] in all, each failure saying how many are left; otherwise (file,
/// descriptor, environment, no terminal) there is one attempt. A watch-only wallet fails
/// before anything is asked.
pub fn unlock_seed(wallet: &Wallet, args: &PassphraseArgs) -> CliResult<SeedSecret> {
    if wallet.is_watch_only() {
        // The error says why it cannot sign; no passphrase is asked for nothing.
        return Ok(wallet.unlock_seed(b"")?);
    }
    let prompted = args.passphrase_file.is_none() && args.passphrase_fd.is_none() && interactive();
    let attempts = if prompted { PASSPHRASE_ATTEMPTS } else { 1 };
    let mut attempt = 1;
    loop {
        let passphrase = encryption_passphrase(args, false)?;
        match wallet.unlock_seed(passphrase.as_bytes()) {
            Err(wallet_core::Error::WrongPassphrase) if attempt < attempts => {
                let left = attempts - attempt;
                crate::output::write_stderr(&format!(
                    "Wrong passphrase; try again ({left} attempt{} left).",
                    if left == 1 { "" } else { "s" }
                ));
                attempt += 1;
            }
            result => return Ok(result?),
        }
    }
}

fn non_empty(passphrase: Zeroizing<String>) -> CliResult<Zeroizing<String>> {
    if passphrase.is_empty() {
        return Err(
            CliError::usage("empty_passphrase", "the passphrase is empty")
                .hint("choose a non-empty passphrase; it protects the seed on disk"),
        );
    }
    Ok(passphrase)
}

/// Reads a replacement passphrase: from `file`, or asked twice on a terminal.
pub fn new_passphrase(file: Option<&Path>) -> CliResult<Zeroizing<String>> {
    if let Some(path) = file {
        return non_empty(first_line(&read_secret_file(path, 4096)?));
    }
    if !interactive() {
        return Err(CliError::usage(
            "passphrase_required",
            "the new passphrase is needed, and there is no terminal to ask on",
        )
        .hint("pass --new-passphrase-file FILE"));
    }
    let value = dialoguer::Password::new()
        .with_prompt("New encryption passphrase")
        .with_confirmation("Repeat the new passphrase", "They do not match, try again")
        .interact()
        .map_err(prompt_error)?;
    non_empty(Zeroizing::new(value))
}

/// Reads the optional BIP39 passphrase (empty when none was asked for).
pub fn bip39_passphrase(args: &Bip39PassphraseArgs) -> CliResult<Zeroizing<String>> {
    if let Some(path) = &args.bip39_passphrase_file {
        return Ok(first_line(&read_secret_file(path, 4096)?));
    }
    if args.ask_bip39_passphrase {
        if !interactive() {
            return Err(
                CliError::usage("no_terminal", "--ask-bip39-passphrase needs a terminal")
                    .hint("pass --bip39-passphrase-file FILE instead"),
            );
        }
        let value = dialoguer::Password::new()
            .with_prompt("BIP39 passphrase (25th word)")
            .with_confirmation("Repeat it", "They do not match, try again")
            .allow_empty_password(true)
            .interact()
            .map_err(prompt_error)?;
        return Ok(Zeroizing::new(value));
    }
    Ok(Zeroizing::new(String::new()))
}

/// Reads a mnemonic from `--mnemonic-file`, a hidden prompt on a terminal, or stdin.
pub fn mnemonic(file: Option<&Path>) -> CliResult<Zeroizing<String>> {
    if let Some(path) = file {
        return read_secret_file(path, 4096);
    }
    if interactive() {
        let value = dialoguer::Password::new()
            .with_prompt("Mnemonic (12 or 24 words, hidden)")
            .interact()
            .map_err(prompt_error)?;
        return Ok(Zeroizing::new(value));
    }
    let mut text = Zeroizing::new(String::new());
    std::io::stdin()
        .take(4097)
        .read_to_string(&mut text)
        .map_err(|e| CliError::new(Exit::Error, "io", format!("cannot read stdin: {e}")))?;
    if text.trim().is_empty() {
        return Err(
            CliError::usage("mnemonic_required", "no mnemonic was given on stdin")
                .hint("pipe the words on stdin or pass --mnemonic-file FILE"),
        );
    }
    Ok(text)
}

/// Writes a secret to a new file with mode 0600; refuses to overwrite an existing file.
pub fn write_new_secret_file(path: &Path, contents: &str) -> CliResult<()> {
    NewSecretFile::create(path)?.finish(contents)
}

/// A new file (mode 0600) opened before the work whose result it will hold, so that a name
/// that exists or a folder that does not is said before anything changes. Dropped without
/// [`NewSecretFile::finish`] (the work failed), the empty file is removed again.
#[derive(Debug)]
pub struct NewSecretFile {
    path: std::path::PathBuf,
    file: Option<std::fs::File>,
}

impl NewSecretFile {
    /// Creates the file; refuses one that exists (usage error `file_exists`).
    pub fn create(path: &Path) -> CliResult<NewSecretFile> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    CliError::usage(
                        "file_exists",
                        format!(
                            "{} already exists; it will not be overwritten",
                            path.display()
                        ),
                    )
                    .hint("choose a new file name")
                } else {
                    CliError::io(path, e)
                }
            })?;
        Ok(NewSecretFile {
            path: path.to_path_buf(),
            file: Some(file),
        })
    }

    /// Writes `contents` and syncs them to disk. On failure the partial file is removed.
    pub fn finish(mut self, contents: &str) -> CliResult<()> {
        let Some(mut file) = self.file.take() else {
            return Ok(());
        };
        match file
            .write_all(contents.as_bytes())
            .and_then(|_| file.sync_all())
        {
            Ok(()) => Ok(()),
            Err(e) => {
                drop(file);
                let _ = std::fs::remove_file(&self.path);
                Err(CliError::io(&self.path, e))
            }
        }
    }
}

impl Drop for NewSecretFile {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Asks a yes/no question unless `--yes` was given; without a terminal, an error naming `--yes`.
pub fn confirm(yes: bool, action: &str, question: &str) -> CliResult<()> {
    if yes {
        return Ok(());
    }
    if !interactive() {
        return Err(CliError::needs_yes(action));
    }
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()
        .map_err(prompt_error)?;
    if answer {
        Ok(())
    } else {
        Err(CliError::cancelled())
    }
}
