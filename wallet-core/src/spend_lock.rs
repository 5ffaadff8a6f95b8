//! One money-moving command at a time per wallet.
//!
//! An operation that will sign holds an exclusive lock on `<wallet dir>/spend.lock` from coin
//! selection until its transaction is recorded (and broadcast): a second command that would
//! pick coins meanwhile is refused at once with [`crate::Error::WalletBusy`], instead of
//! selecting the same coins. The operating system releases the lock when the holder exits,
//! crash included, so a stale lock never needs cleaning up.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::{Error, Result};

/// File name of the lock, in the wallet's folder.
pub const LOCK_FILE: &str = "spend.lock";

/// An exclusive hold on a wallet's coins; released on drop.
#[derive(Debug)]
pub struct SpendLock {
    _file: File,
}

impl SpendLock {
    /// Takes the lock of the wallet in `dir` (named `name` in messages), or refuses at once
    /// when another process holds it.
    pub(crate) fn acquire(dir: &Path, name: &str) -> Result<SpendLock> {
        let path = dir.join(LOCK_FILE);
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(|e| Error::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(SpendLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(Error::WalletBusy(name.to_owned())),
            Err(TryLockError::Error(e)) => Err(Error::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = SpendLock::acquire(dir.path(), "w").unwrap();
        match SpendLock::acquire(dir.path(), "w") {
            Err(Error::WalletBusy(name)) => assert_eq!(name, "w"),
            other => panic!("expected WalletBusy, got {other:?}"),
        }
        drop(first);
        SpendLock::acquire(dir.path(), "w").unwrap();
    }
}
