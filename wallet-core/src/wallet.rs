//! Wallets on disk: `<data_dir>/<network>/<name>/wallet.sqlite`, plus `seed.enc` for signing
//! wallets. Folders are 0700 and files 0600; the seed is written atomically (temporary file,
//! fsync, rename, fsync of the folder).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::descriptor::{Keychain, WalletDescriptor};
use crate::network::Network;
use crate::seed::{decrypt_seed, SeedSecret};
use crate::store::{now_secs, AddressRecord, Store, WalletMeta};
use crate::{Error, Result};

/// File name of the wallet database.
pub const DB_FILE: &str = "wallet.sqlite";
/// File name of the encrypted seed.
pub const SEED_FILE: &str = "seed.enc";

/// Checks a wallet name: 1 to 64 characters from `A-Z a-z 0-9 _ -`.
pub fn validate_wallet_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::InvalidWalletName("the name is empty".to_owned()));
    }
    if name.chars().count() > 64 {
        return Err(Error::InvalidWalletName(format!(
            "the name has {} characters; at most 64 are allowed",
            name.chars().count()
        )));
    }
    if let Some((i, c)) = name
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(Error::InvalidWalletName(format!(
            "character {} ({c:?}) is not allowed: use letters, digits, '_' and '-'",
            i + 1
        )));
    }
    Ok(())
}

fn create_dir_private(path: &Path, recursive: bool) -> std::io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(recursive);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path)
}

/// Creates `path` and its missing parents with mode 0700 (an existing folder is fine).
pub fn create_private_dir_all(path: &Path) -> Result<()> {
    create_dir_private(path, true).map_err(|e| Error::io(path, e))
}

fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        let f = fs::File::open(dir).map_err(|e| Error::io(dir, e))?;
        f.sync_all().map_err(|e| Error::io(dir, e))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes `data` to `path` atomically with mode 0600: temporary file, fsync, rename, fsync of
/// the folder.
pub fn write_private_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::io(path, std::io::Error::other("path has no parent folder")))?;
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::io(path, std::io::Error::other("path has no file name")))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(".tmp");
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts.open(&tmp).map_err(|e| Error::io(&tmp, e))?;
        crate::store::restrict_file(&tmp)?;
        f.write_all(data).map_err(|e| Error::io(&tmp, e))?;
        f.sync_all().map_err(|e| Error::io(&tmp, e))?;
        drop(f);
        fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Runs `fill` and removes the freshly created folder `dir` when it fails, so that a
/// half-created wallet never stays behind.
fn remove_on_error<T>(dir: &Path, fill: impl FnOnce() -> Result<T>) -> Result<T> {
    let result = fill();
    if result.is_err() {
        let _ = fs::remove_dir_all(dir);
    }
    result
}

/// The wallets of one data folder.
#[derive(Clone, Debug)]
pub struct Wallets {
    data_dir: PathBuf,
}

impl Wallets {
    /// Wallets under `data_dir` (nothing is created until a wallet is).
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Wallets {
            data_dir: data_dir.into(),
        }
    }

    /// The data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The folder of the wallets of `network`.
    pub fn network_dir(&self, network: Network) -> PathBuf {
        self.data_dir.join(network.as_str())
    }

    /// The folder of wallet `name` (whether it exists or not).
    pub fn wallet_dir(&self, network: Network, name: &str) -> PathBuf {
        self.network_dir(network).join(name)
    }

    /// The names of the wallets of `network`, sorted. A missing folder means no wallets.
    pub fn list(&self, network: Network) -> Result<Vec<String>> {
        let dir = self.network_dir(network);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&dir, e)),
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if validate_wallet_name(&name).is_ok() && entry.path().join(DB_FILE).is_file() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    fn not_found(&self, network: Network, name: &str) -> Error {
        Error::WalletNotFound {
            name: name.to_owned(),
            network,
            available: self.list(network).unwrap_or_default(),
        }
    }

    /// Creates wallet `name` with `descriptor` and, for a signing wallet, the encrypted seed.
    /// Fails with [`Error::WalletExists`] if the name is taken.
    ///
    /// The wallet is built in a private temporary folder beside its final place (seed, then
    /// database, each synced) and renamed into place in one step: a folder named `name`
    /// exists only once it holds a whole wallet. Of two processes creating the same name at
    /// once, exactly one rename wins and the other gets [`Error::WalletExists`]; neither ever
    /// touches the other's files. An empty folder `name` (left by a crash of an older
    /// version right after `mkdir`) is replaced by the rename; a temporary folder left by a
    /// crash starts with a dot and is never listed.
    pub fn create(
        &self,
        network: Network,
        name: &str,
        descriptor: &WalletDescriptor,
        encrypted_seed: Option<&[u8]>,
    ) -> Result<Wallet> {
        self.create_with_fingerprint(
            network,
            name,
            descriptor,
            encrypted_seed,
            descriptor.fingerprint(),
        )
    }

    /// As [`Wallets::create`], recording `fingerprint` as the wallet's key fingerprint: the
    /// seed's own ([`WalletDescriptor::seed_fingerprint`]) for a cosigner of a multisig,
    /// whose descriptor's first key is someone else's.
    pub fn create_with_fingerprint(
        &self,
        network: Network,
        name: &str,
        descriptor: &WalletDescriptor,
        encrypted_seed: Option<&[u8]>,
        fingerprint: Option<String>,
    ) -> Result<Wallet> {
        validate_wallet_name(name)?;
        let net_dir = self.network_dir(network);
        create_dir_private(&net_dir, true).map_err(|e| Error::io(&net_dir, e))?;
        let dir = net_dir.join(name);
        let exists = || Error::WalletExists {
            name: name.to_owned(),
            network,
        };
        if dir.join(DB_FILE).exists() {
            return Err(exists());
        }
        let mut suffix = [0u8; 8];
        getrandom::getrandom(&mut suffix).map_err(|e| Error::Crypto(e.to_string()))?;
        let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let tmp = net_dir.join(format!(".{name}.new-{suffix}"));
        create_dir_private(&tmp, false).map_err(|e| Error::io(&tmp, e))?;
        let meta = WalletMeta {
            name: name.to_owned(),
            network,
            descriptor: descriptor.to_string(),
            fingerprint,
            watch_only: encrypted_seed.is_none(),
            created_at: now_secs(),
        };
        remove_on_error(&tmp, || {
            if let Some(seed) = encrypted_seed {
                write_private_atomic(&tmp.join(SEED_FILE), seed)?;
            }
            // Closed before the rename, so that SQLite's side files follow the folder.
            drop(Store::create(&tmp.join(DB_FILE), &meta)?);
            sync_dir(&tmp)?;
            match fs::rename(&tmp, &dir) {
                Ok(()) => Ok(()),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::DirectoryNotEmpty | std::io::ErrorKind::AlreadyExists
                    ) =>
                {
                    Err(exists())
                }
                Err(e) => Err(Error::io(&dir, e)),
            }
        })?;
        sync_dir(&net_dir)?;
        let store = Store::open(&dir.join(DB_FILE))?;
        Ok(Wallet {
            name: name.to_owned(),
            network,
            dir,
            descriptor: descriptor.clone(),
            watch_only: meta.watch_only,
            policy_asset: network.default_policy_asset(),
            store,
        })
    }

    /// Opens wallet `name`; [`Error::WalletNotFound`] lists the wallets that do exist.
    pub fn open(&self, network: Network, name: &str) -> Result<Wallet> {
        if validate_wallet_name(name).is_err() {
            return Err(self.not_found(network, name));
        }
        let dir = self.wallet_dir(network, name);
        let db = dir.join(DB_FILE);
        if !db.is_file() {
            return Err(self.not_found(network, name));
        }
        let store = Store::open(&db)?;
        let meta = store.meta()?;
        if meta.network != network {
            return Err(Error::WrongNetwork {
                expected: network,
                found: meta.network.to_string(),
            });
        }
        let descriptor = WalletDescriptor::parse(&meta.descriptor, network)?;
        Ok(Wallet {
            name: name.to_owned(),
            network,
            dir,
            descriptor,
            watch_only: meta.watch_only,
            policy_asset: network.default_policy_asset(),
            store,
        })
    }

    /// Deletes wallet `name` with its database and seed. There is no undo.
    pub fn remove(&self, network: Network, name: &str) -> Result<()> {
        if validate_wallet_name(name).is_err() {
            return Err(self.not_found(network, name));
        }
        let dir = self.wallet_dir(network, name);
        if !dir.join(DB_FILE).is_file() {
            return Err(self.not_found(network, name));
        }
        fs::remove_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        sync_dir(&self.network_dir(network))
    }
}

/// An open wallet.
#[derive(Debug)]
pub struct Wallet {
    name: String,
    network: Network,
    dir: PathBuf,
    descriptor: WalletDescriptor,
    watch_only: bool,
    policy_asset: elements::AssetId,
    store: Store,
}

impl Wallet {
    /// The wallet's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The wallet's network.
    pub fn network(&self) -> Network {
        self.network
    }

    /// The wallet's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The wallet's descriptor.
    pub fn descriptor(&self) -> &WalletDescriptor {
        &self.descriptor
    }

    /// The asset fees are paid in: the network's policy asset, unless a custom Elements
    /// chain set another with [`Wallet::set_policy_asset`].
    pub fn policy_asset(&self) -> elements::AssetId {
        self.policy_asset
    }

    /// Uses `asset` as the policy asset (a custom Elements chain's, from configuration).
    pub fn set_policy_asset(&mut self, asset: elements::AssetId) {
        self.policy_asset = asset;
    }

    /// Takes the wallet's spending lock (see [`crate::spend_lock`]): refused at once with
    /// [`Error::WalletBusy`] while another process holds it.
    pub fn lock_spending(&self) -> Result<crate::spend_lock::SpendLock> {
        crate::spend_lock::SpendLock::acquire(&self.dir, &self.name)
    }

    /// The stored metadata.
    pub fn meta(&self) -> Result<WalletMeta> {
        self.store.meta()
    }

    /// True when the wallet has no seed (it can watch but not sign).
    pub fn is_watch_only(&self) -> bool {
        self.watch_only
    }

    /// Reserves and records the next address of `keychain` (committed before it returns).
    pub fn new_address(
        &mut self,
        keychain: Keychain,
        label: Option<&str>,
    ) -> Result<AddressRecord> {
        let descriptor = &self.descriptor;
        let network = self.network;
        self.store.reserve_address(
            keychain,
            |i| {
                descriptor
                    .address(keychain, i, network)
                    .map(|a| a.to_string())
            },
            label,
        )
    }

    /// The address at `keychain`/`index`, without reserving it.
    pub fn address_at(&self, keychain: Keychain, index: u32) -> Result<elements::Address> {
        self.descriptor.address(keychain, index, self.network)
    }

    /// Every address handed out, both keychains.
    pub fn addresses(&self) -> Result<Vec<AddressRecord>> {
        self.store.addresses(None)
    }

    /// The index the next address of `keychain` will get.
    pub fn next_index(&self, keychain: Keychain) -> Result<u32> {
        self.store.next_index(keychain)
    }

    /// The path of the encrypted seed file.
    pub fn seed_path(&self) -> PathBuf {
        self.dir.join(SEED_FILE)
    }

    /// Decrypts the seed with `passphrase` and checks that it holds one of this wallet's
    /// spending keys (the single key of a standard wallet, or one cosigner's key of a
    /// multisig). [`Error::WatchOnly`] for watch-only wallets.
    pub fn unlock_seed(&self, passphrase: &[u8]) -> Result<SeedSecret> {
        if self.watch_only {
            return Err(Error::WatchOnly(format!(
                "wallet '{}' has no seed, so it cannot sign; restore it from its mnemonic to sign",
                self.name
            )));
        }
        let path = self.seed_path();
        let file = zeroize::Zeroizing::new(fs::read(&path).map_err(|e| Error::io(&path, e))?);
        let secret = decrypt_seed(&file, passphrase)?;
        if self
            .descriptor
            .has_key_of_seed(&secret.seed(), self.network)?
        {
            return Ok(secret);
        }
        Err(Error::SeedFileTampered(format!(
            "the seed in {} does not match wallet '{}' (its descriptor differs): the seed file \
             was replaced",
            path.display(),
            self.name
        )))
    }

    /// The wallet's database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The wallet's database, mutable: only this crate's operations write it.
    pub(crate) fn store_mut(&mut self) -> &mut Store {
        &mut self.store
    }

    /// The issuances of this wallet's keys found in its stored transactions
    /// ([`Store::discovered_issuances`]), with the amounts of confidential ones read back
    /// with the wallet's blinding key where it made them ([`crate::tx::read_issued_amounts`];
    /// 0 when it cannot).
    pub fn discovered_issuances(&self) -> Result<Vec<crate::store::IssuanceRecord>> {
        let mut found = self.store.discovered_issuances()?;
        for record in &mut found {
            let Some(tx) = self.store.transaction(&record.txid)? else {
                continue;
            };
            let Some(txin) = tx.input.get(record.vin as usize) else {
                continue;
            };
            if !txin.asset_issuance.amount.is_confidential()
                && !txin.asset_issuance.inflation_keys.is_confidential()
            {
                continue;
            }
            let prevout = txin.previous_output;
            let Some(spent) = self.store.transaction(&prevout.txid)? else {
                continue;
            };
            let Some(script) = spent
                .output
                .get(prevout.vout as usize)
                .map(|o| &o.script_pubkey)
            else {
                continue;
            };
            let Ok(key) = crate::unblind::blinding_private_key(&self.descriptor, script) else {
                continue;
            };
            let (amount, token_amount) = crate::tx::read_issued_amounts(txin, &key);
            record.amount = amount.unwrap_or(0);
            record.token_amount = token_amount.unwrap_or(0);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_created_folder_is_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("w");
        create_dir_private(&dir, false).unwrap();
        write_private_atomic(&dir.join(SEED_FILE), b"seed").unwrap();
        let r: Result<()> = remove_on_error(&dir, || Err(Error::Storage("boom".into())));
        // The filler's own error comes back unchanged.
        assert!(matches!(&r, Err(Error::Storage(m)) if m == "boom"), "{r:?}");
        assert!(!dir.exists());

        create_dir_private(&dir, false).unwrap();
        remove_on_error(&dir, || Ok(())).unwrap();
        assert!(dir.exists());
    }

    #[test]
    fn atomic_write_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("f");
        write_private_atomic(&p, b"one").unwrap();
        write_private_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
