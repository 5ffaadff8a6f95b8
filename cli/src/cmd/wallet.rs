//! `wallet create | restore | import | list | info | descriptor | remove`.

use std::io::{Read, Write};

use serde_json::{json, Value};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::seed::{encrypt_seed, SeedSecret, WordCount};
use wallet_core::wallet::{validate_wallet_name, Wallet};

use crate::arg_groups::Bip39PassphraseArgs;
use crate::arg_groups::PassphraseArgs;
use crate::context::Context;
use crate::error::{CliError, CliResult, Exit};
use crate::input;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

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

/// Name used when `--name` is left out.
const DEFAULT_NAME: &str = "default";

/// Runs a `wallet` subcommand.
pub fn run(ctx: &Context, command: &WalletCommand) -> CliResult<()> {
    match command {
        WalletCommand::Create(args) => create(ctx, args),
        WalletCommand::Restore(args) => restore(ctx, args),
        WalletCommand::Import(args) => import(ctx, args),
        WalletCommand::List => list(ctx),
        WalletCommand::Info => info(ctx),
        WalletCommand::Descriptor => descriptor(ctx),
        WalletCommand::ChangePassphrase(args) => change_passphrase(ctx, args),
        WalletCommand::Remove => remove(ctx),
    }
}

/// Checks the name is valid and free before any secret is asked for.
fn free_name(ctx: &Context, name: &Option<String>) -> CliResult<String> {
    let name = name.clone().unwrap_or_else(|| DEFAULT_NAME.to_string());
    validate_wallet_name(&name)?;
    if ctx.wallets().list(ctx.network)?.contains(&name) {
        return Err(wallet_core::Error::WalletExists {
            name,
            network: ctx.network,
        }
        .into());
    }
    Ok(name)
}

fn key_choice(keys: &KeyChoiceArgs) -> (ScriptKind, BlindingScheme) {
    let kind = match keys.kind {
        KindArg::Wpkh => ScriptKind::Wpkh,
        KindArg::ShWpkh => ScriptKind::ShWpkh,
    };
    let blinding = match keys.blinding {
        BlindingArg::Slip77 => BlindingScheme::Slip77,
        BlindingArg::Elip151 => BlindingScheme::Elip151,
    };
    (kind, blinding)
}

/// The JSON shape shared by create, restore and import.
fn created_json(wallet: &Wallet) -> CliResult<Value> {
    let meta = wallet.meta()?;
    Ok(json!({
        "wallet": meta.name,
        "network": meta.network,
        "descriptor": meta.descriptor,
        "fingerprint": meta.fingerprint,
        "watch_only": meta.watch_only,
    }))
}

fn print_created(ctx: &Context, wallet: &Wallet, verb: &str) -> CliResult<()> {
    let doc = created_json(wallet)?;
    if ctx.out.json {
        ctx.out.json(&doc);
        return Ok(());
    }
    ctx.out.note(&format!(
        "{verb} wallet '{}' on {}.",
        wallet.name(),
        wallet.network()
    ));
    ctx.out.fields(&[
        ("wallet", wallet.name().to_string()),
        ("network", wallet.network().to_string()),
        ("watch-only", wallet.is_watch_only().to_string()),
        (
            "fingerprint",
            doc["fingerprint"].as_str().unwrap_or("-").to_string(),
        ),
        ("descriptor", wallet.descriptor().to_string()),
    ]);
    ctx.out.note(&format!(
        "Next: `{}` hands out a receive address.",
        ctx.suggest(Some(wallet.name()), "address new")
    ));
    Ok(())
}

/// Encrypts the seed and stores the wallet.
fn store_signing_wallet(
    ctx: &Context,
    name: &str,
    secret: &SeedSecret,
    descriptor: &WalletDescriptor,
    passphrase: &[u8],
) -> CliResult<Wallet> {
    let encrypted = encrypt_seed(secret, passphrase, &ctx.kdf_params()?)?;
    // The seed's own fingerprint: for a cosigner of a multisig, the descriptor's first key
    // is another party's.
    let fingerprint = WalletDescriptor::seed_fingerprint(&secret.seed())?;
    Ok(ctx.wallets().create_with_fingerprint(
        ctx.network,
        name,
        descriptor,
        Some(&encrypted),
        Some(fingerprint),
    )?)
}

/// The standard descriptor of `secret` for the chosen script kind and blinding scheme.
fn standard_descriptor(
    ctx: &Context,
    secret: &SeedSecret,
    keys: &KeyChoiceArgs,
) -> CliResult<WalletDescriptor> {
    let (kind, blinding) = key_choice(keys);
    Ok(WalletDescriptor::from_seed(
        &secret.seed(),
        ctx.network,
        kind,
        blinding,
    )?)
}

fn create(ctx: &Context, args: &CreateArgs) -> CliResult<()> {
    let name = free_name(ctx, &args.name)?;
    let on_terminal = input::interactive();
    if args.mnemonic_out.is_none() && !on_terminal {
        return Err(CliError::usage(
            "mnemonic_out_required",
            "without a terminal the new mnemonic cannot be shown",
        )
        .hint("pass --mnemonic-out FILE (written with mode 0600) and --passphrase-file FILE"));
    }
    let words = match args.words {
        WordsArg::Twelve => WordCount::Twelve,
        WordsArg::TwentyFour => WordCount::TwentyFour,
    };
    let bip39 = input::bip39_passphrase(&args.bip39)?;
    let secret = SeedSecret::generate(words, bip39.to_string())?;

    match &args.mnemonic_out {
        Some(path) => {
            let mut text = secret.phrase();
            text.push('\n');
            input::write_new_secret_file(path, &text)?;
        }
        None => {
            show_mnemonic_once(&secret)?;
        }
    }
    let passphrase = input::encryption_passphrase(&args.passphrase, true);
    let wallet = passphrase.and_then(|passphrase| {
        let descriptor = standard_descriptor(ctx, &secret, &args.keys)?;
        store_signing_wallet(ctx, &name, &secret, &descriptor, passphrase.as_bytes())
    });
    let wallet = match wallet {
        Ok(wallet) => wallet,
        Err(err) => {
            // Do not leave a mnemonic file behind for a wallet that does not exist.
            if let Some(path) = &args.mnemonic_out {
                let _ = std::fs::remove_file(path);
            }
            return Err(err);
        }
    };
    print_created(ctx, &wallet, "Created")
}

/// Shows the mnemonic on the terminal (stderr, never stdout) and waits for the user.
fn show_mnemonic_once(secret: &SeedSecret) -> CliResult<()> {
    let phrase = secret.phrase();
    let mut numbered = zeroize::Zeroizing::new(String::new());
    for (i, word) in phrase.split_whitespace().enumerate() {
        numbered.push_str(&format!("{:>4}. {word:<10}", i + 1));
        if (i + 1) % 4 == 0 {
            numbered.push('\n');
        }
    }
    // Straight to stderr (no intermediate String to leave the words behind); a closed
    // stderr is no reason to panic.
    let _ = writeln!(
        std::io::stderr().lock(),
        "\nWrite these words down, in order, and keep them offline. They are shown only once,\n\
         and they are the only way to restore this wallet.\n\n{}",
        numbered.as_str()
    );
    let answer = input::confirm(
        false,
        "showing the mnemonic",
        "Have you written the words down?",
    );
    // Take the words off the screen once answered: the blank line, two lines of text, a
    // blank line, the rows of words, a blank line and the question (best effort: lines a
    // narrow terminal wrapped are not counted).
    let rows = phrase.split_whitespace().count().div_ceil(4);
    let term = dialoguer::console::Term::stderr();
    if term.is_term() {
        let _ = term.clear_last_lines(rows + 6);
    }
    answer
}

fn restore(ctx: &Context, args: &RestoreArgs) -> CliResult<()> {
    let name = free_name(ctx, &args.name)?;
    let phrase = input::mnemonic(args.mnemonic_file.as_deref())?;
    let bip39 = input::bip39_passphrase(&args.bip39)?;
    let secret = SeedSecret::from_phrase(&phrase, bip39.to_string())?;
    let custom = match (&args.descriptor, &args.descriptor_file) {
        (Some(text), _) => {
            warn_descriptor_in_argv(ctx);
            Some(text.clone())
        }
        (None, Some(path)) => {
            Some(std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?)
        }
        (None, None) => None,
    };
    let passphrase = input::encryption_passphrase(&args.passphrase, true)?;
    let descriptor = match custom {
        None => standard_descriptor(ctx, &secret, &args.keys)?,
        Some(text) => {
            let descriptor = WalletDescriptor::parse(text.trim(), ctx.network)?;
            if !descriptor.has_key_of_seed(&secret.seed(), ctx.network)? {
                return Err(CliError::new(
                    Exit::Refused,
                    "seed_not_in_descriptor",
                    "this mnemonic holds none of the descriptor's keys",
                )
                .hint(
                    "check the mnemonic, or the key origins ([fingerprint/path]) in the descriptor",
                ));
            }
            descriptor
        }
    };
    let wallet = store_signing_wallet(ctx, &name, &secret, &descriptor, passphrase.as_bytes())?;
    print_created(ctx, &wallet, "Restored")
}

fn import(ctx: &Context, args: &ImportArgs) -> CliResult<()> {
    let name = free_name(ctx, &args.name)?;
    let text = match (&args.descriptor, &args.descriptor_file) {
        (_, Some(path)) => std::fs::read_to_string(path).map_err(|e| CliError::io(path, e))?,
        (Some(d), None) if d == "-" => {
            let mut text = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .map_err(|e| CliError::new(Exit::Error, "io", format!("cannot read stdin: {e}")))?;
            text
        }
        (Some(d), None) => {
            warn_descriptor_in_argv(ctx);
            d.clone()
        }
        (None, None) => {
            return Err(
                CliError::usage("descriptor_required", "no descriptor given")
                    .hint("pass --descriptor D or --descriptor-file FILE"),
            )
        }
    };
    let descriptor = WalletDescriptor::parse(text.trim(), ctx.network)?;
    let wallet = ctx
        .wallets()
        .create(ctx.network, &name, &descriptor, None)?;
    print_created(ctx, &wallet, "Imported watch-only")
}

fn list(ctx: &Context) -> CliResult<()> {
    let wallets = ctx.wallets();
    let mut entries = Vec::new();
    for name in wallets.list(ctx.network)? {
        let wallet = wallets.open(ctx.network, &name)?;
        let meta = wallet.meta()?;
        entries.push((meta, wallet.descriptor().kind_name()));
    }
    if ctx.out.json {
        let docs: Vec<Value> = entries
            .iter()
            .map(|(meta, kind)| {
                json!({
                    "wallet": meta.name,
                    "network": meta.network,
                    "kind": kind,
                    "fingerprint": meta.fingerprint,
                    "watch_only": meta.watch_only,
                })
            })
            .collect();
        ctx.out.json(&Value::Array(docs));
        return Ok(());
    }
    if entries.is_empty() {
        ctx.out.note(&format!(
            "No wallets on {}. Create one with `{}`.",
            ctx.network,
            ctx.suggest(None, "wallet create --name NAME")
        ));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|(meta, kind)| {
            vec![
                meta.name.clone(),
                kind.clone(),
                meta.fingerprint.clone().unwrap_or_else(|| "-".into()),
                if meta.watch_only {
                    "watch-only"
                } else {
                    "signing"
                }
                .to_string(),
            ]
        })
        .collect();
    ctx.out
        .table(&["WALLET", "KIND", "FINGERPRINT", "KEYS"], &rows);
    Ok(())
}

fn info(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let meta = wallet.meta()?;
    let next_receive = wallet.next_index(Keychain::External)?;
    let next_change = wallet.next_index(Keychain::Internal)?;
    let policy_asset = ctx.policy_asset()?.to_string();
    if ctx.out.json {
        ctx.out.json(&json!({
            "wallet": meta.name,
            "network": meta.network,
            "descriptor": meta.descriptor,
            "fingerprint": meta.fingerprint,
            "watch_only": meta.watch_only,
            "kind": wallet.descriptor().kind_name(),
            "next_receive_index": next_receive,
            "next_change_index": next_change,
            "policy_asset": policy_asset,
            "path": wallet.dir(),
        }));
        return Ok(());
    }
    ctx.out.fields(&[
        ("wallet", meta.name.clone()),
        ("network", meta.network.to_string()),
        ("kind", wallet.descriptor().kind_name()),
        (
            "keys",
            if meta.watch_only {
                "watch-only"
            } else {
                "signing (encrypted seed)"
            }
            .to_string(),
        ),
        (
            "fingerprint",
            meta.fingerprint.unwrap_or_else(|| "-".into()),
        ),
        ("next receive index", next_receive.to_string()),
        ("next change index", next_change.to_string()),
        ("policy asset", policy_asset),
        ("folder", wallet.dir().display().to_string()),
        ("descriptor", meta.descriptor),
    ]);
    Ok(())
}

fn descriptor(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let descriptor = wallet.descriptor().to_string();
    if ctx.out.json {
        ctx.out.json(&json!({ "descriptor": descriptor }));
    } else {
        ctx.out.line(&descriptor);
        ctx.out
            .note("This descriptor holds the wallet's view key: whoever has it sees every amount.");
    }
    Ok(())
}

/// A descriptor typed in argv carries its view key into the process list.
fn warn_descriptor_in_argv(ctx: &Context) {
    ctx.out.warn(
        "a descriptor in argv (with its view key) is visible to other local users; \
         --descriptor-file avoids that",
    );
}

fn change_passphrase(ctx: &Context, args: &ChangePassphraseArgs) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    if wallet.is_watch_only() {
        return Err(wallet_core::Error::WatchOnly(format!(
            "wallet '{}' is watch-only: it has no seed to protect",
            wallet.name()
        ))
        .into());
    }
    let secret = input::unlock_seed(&wallet, &args.passphrase)?;
    let new = input::new_passphrase(args.new_passphrase_file.as_deref())?;
    let encrypted = encrypt_seed(&secret, new.as_bytes(), &ctx.kdf_params()?)?;
    wallet_core::wallet::write_private_atomic(&wallet.seed_path(), &encrypted)?;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "wallet": wallet.name(), "passphrase_changed": true }));
    } else {
        ctx.out.note(&format!(
            "The seed of wallet '{}' is now encrypted under the new passphrase.",
            wallet.name()
        ));
    }
    Ok(())
}

fn remove(ctx: &Context) -> CliResult<()> {
    let wallet = ctx.open_wallet()?;
    let name = wallet.name().to_string();
    let watch_only = wallet.is_watch_only();
    drop(wallet);
    let question = if watch_only {
        format!("Remove watch-only wallet '{name}' on {}?", ctx.network)
    } else {
        format!(
            "Remove wallet '{name}' on {} and its encrypted seed? Only the mnemonic can bring it back.",
            ctx.network
        )
    };
    input::confirm(ctx.yes, "removing a wallet", &question)?;
    ctx.wallets().remove(ctx.network, &name)?;
    if ctx.out.json {
        ctx.out
            .json(&json!({ "removed": name, "network": ctx.network }));
    } else {
        ctx.out
            .note(&format!("Removed wallet '{name}' on {}.", ctx.network));
    }
    Ok(())
}
