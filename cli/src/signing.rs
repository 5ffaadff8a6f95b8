//! The last steps of every command that signs: refuse a watch-only wallet, ask, unlock the
//! seed, and hand the prepared operation to wallet-core to commit or sign.

use wallet_core::ops::{Committed, Prepared};
use wallet_core::seed::SeedSecret;
use wallet_core::wallet::Wallet;

use crate::arg_groups::PassphraseArgs;
use crate::context::Context;
use crate::error::CliResult;
use crate::input;

/// Refuses a watch-only wallet with a hint on what to do instead.
pub fn check_can_sign(wallet: &Wallet, instead: &str) -> CliResult<()> {
    if wallet.is_watch_only() {
        return Err(wallet_core::Error::WatchOnly(format!(
            "wallet '{}' has no seed, so it cannot sign; {instead}",
            wallet.name()
        ))
        .into());
    }
    Ok(())
}

/// Decrypts the wallet's seed with the passphrase from a prompt (a few attempts), a file or
/// a descriptor.
pub fn unlock(wallet: &Wallet, passphrase: &PassphraseArgs) -> CliResult<SeedSecret> {
    input::unlock_seed(wallet, passphrase)
}

/// Asks `question` (or takes `--yes`), unlocks the seed and commits `prepared`: sign, record,
/// broadcast.
pub fn confirm_and_commit(
    ctx: &Context,
    wallet: &mut Wallet,
    prepared: Prepared,
    passphrase: &PassphraseArgs,
    action: &str,
    question: &str,
) -> CliResult<Committed> {
    check_can_sign(
        wallet,
        "build with --pset-out and sign with the wallet that holds the keys",
    )?;
    input::confirm(ctx.yes, action, question)?;
    let secret = unlock(wallet, passphrase)?;
    let backend = ctx.backend()?;
    Ok(prepared.commit(wallet, &secret, backend)?)
}
