//! BIP39 seeds and the encrypted seed file.
//!
//! # Seed file format (version 1)
//!
//! All integers are little-endian.
//!
//! | bytes | field |
//! | --- | --- |
//! | 8  | magic `LOTCSEED` |
//! | 1  | format version (1) |
//! | 1  | KDF id (1 = Argon2id v0x13) |
//! | 4  | Argon2 memory in KiB |
//! | 4  | Argon2 iterations |
//! | 4  | Argon2 parallelism |
//! | 16 | salt |
//! | 24 | XChaCha20-Poly1305 nonce |
//! | 32 | key-check value |
//! | 4  | ciphertext length |
//! | n  | ciphertext (plaintext + 16-byte tag) |
//! | 32 | SHA-256 of every byte before it |
//!
//! The plaintext is `u16 length || mnemonic (UTF-8) || u16 length || BIP39 passphrase`.
//!
//! # Why it is built this way
//!
//! - **Argon2id** is memory-hard, so guessing passphrases on GPUs or ASICs is expensive. Its
//!   parameters are stored in the file so they can be raised later without a format change.
//! - The KDF produces 64 bytes: the first 32 are the AEAD key, the last 32 are hashed into
//!   the **key-check value**. A wrong passphrase then gives a different check value and decrypt
//!   can say [`Error::WrongPassphrase`] with confidence; when the check value matches but the
//!   AEAD tag does not, the passphrase was right and the file was changed:
//!   [`Error::SeedFileTampered`]. The check value reveals nothing useful: it is a hash of
//!   key material that is independent of the encryption key.
//! - **XChaCha20-Poly1305** has a 192-bit nonce, so random nonces never collide in practice.
//!   The header (everything before the ciphertext) is the AEAD's associated data: changing the
//!   KDF parameters, salt, nonce or check value makes decryption fail.
//! - The trailing **SHA-256 checksum** catches accidental corruption and truncation before any
//!   expensive KDF work, and tells it apart from a wrong passphrase.
//! - On decrypt the **KDF parameters are bounded** (floors and ceilings below) so that a
//!   modified file cannot make the KDF allocate absurd memory or run for hours.
//! - Secrets live in [`Zeroizing`] buffers and are wiped when dropped.

use std::fmt;

use argon2::{Algorithm, Argon2, Params, Version};
use bip39::{Language, Mnemonic};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use elements::hashes::sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, Result};

/// How many words a new mnemonic has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WordCount {
    /// 12 words (128 bits of entropy).
    Twelve,
    /// 24 words (256 bits of entropy).
    TwentyFour,
}

impl WordCount {
    /// The number of words.
    pub fn words(self) -> usize {
        match self {
            WordCount::Twelve => 12,
            WordCount::TwentyFour => 24,
        }
    }

    fn entropy_len(self) -> usize {
        match self {
            WordCount::Twelve => 16,
            WordCount::TwentyFour => 32,
        }
    }
}

/// A BIP39 mnemonic with its optional BIP39 passphrase. Never printed; wiped on drop (the
/// mnemonic by bip39's `zeroize` feature, the passphrase by [`Zeroizing`]).
pub struct SeedSecret {
    mnemonic: Mnemonic,
    passphrase: Zeroizing<String>,
}

impl fmt::Debug for SeedSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl SeedSecret {
    /// Generates a new mnemonic from operating-system randomness.
    pub fn generate(words: WordCount, bip39_passphrase: String) -> Result<Self> {
        let mut entropy = Zeroizing::new([0u8; 32]);
        let len = words.entropy_len();
        getrandom::getrandom(&mut entropy[..len]).map_err(|e| {
            Error::Crypto(format!(
                "the operating system's random generator failed: {e}"
            ))
        })?;
        let mnemonic = Mnemonic::from_entropy_in(Language::English, &entropy[..len])
            .map_err(|e| Error::Crypto(format!("cannot build a mnemonic: {e}")))?;
        Ok(SeedSecret {
            mnemonic,
            passphrase: Zeroizing::new(bip39_passphrase),
        })
    }

    /// Parses an English BIP39 phrase of 12 or 24 words. Case, extra whitespace and Unicode
    /// normalisation (NFKD) do not matter. Errors give a word's position, never the word.
    pub fn from_phrase(phrase: &str, bip39_passphrase: String) -> Result<Self> {
        let passphrase = Zeroizing::new(bip39_passphrase);
        let mut lower = Zeroizing::new(phrase.to_lowercase());
        let normalized = {
            let mut cow = std::borrow::Cow::Borrowed(lower.as_str());
            Mnemonic::normalize_utf8_cow(&mut cow);
            let joined = Zeroizing::new(cow.split_whitespace().collect::<Vec<_>>().join(" "));
            if let std::borrow::Cow::Owned(mut owned) = cow {
                owned.zeroize();
            }
            joined
        };
        lower.zeroize();
        let count = if normalized.is_empty() {
            0
        } else {
            normalized.split(' ').count()
        };
        if count != 12 && count != 24 {
            return Err(Error::InvalidMnemonic(format!(
                "12 or 24 words expected, got {count}"
            )));
        }
        let mnemonic =
            Mnemonic::parse_in_normalized(Language::English, &normalized).map_err(|e| match e {
                bip39::Error::UnknownWord(i) => Error::InvalidMnemonic(format!(
                    "word {} is not in the BIP39 English list",
                    i.saturating_add(1)
                )),
                bip39::Error::InvalidChecksum => Error::InvalidMnemonic(
                    "checksum does not match: check the words and their order".to_owned(),
                ),
                bip39::Error::BadWordCount(n) => {
                    Error::InvalidMnemonic(format!("12 or 24 words expected, got {n}"))
                }
                _ => Error::InvalidMnemonic("not a valid BIP39 English mnemonic".to_owned()),
            })?;
        Ok(SeedSecret {
            mnemonic,
            passphrase,
        })
    }

    /// The mnemonic words, separated by single spaces.
    pub fn phrase(&self) -> Zeroizing<String> {
        Zeroizing::new(self.mnemonic.to_string())
    }

    /// The number of words of the mnemonic.
    pub fn word_count(&self) -> usize {
        self.mnemonic.word_count()
    }

    /// Whether a (non-empty) BIP39 passphrase is part of this secret.
    pub fn has_bip39_passphrase(&self) -> bool {
        !self.passphrase.is_empty()
    }

    /// The 64-byte BIP39 seed (mnemonic + BIP39 passphrase).
    pub fn seed(&self) -> Zeroizing<[u8; 64]> {
        Zeroizing::new(self.mnemonic.to_seed(self.passphrase.as_str()))
    }
}

/// Argon2id cost parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Number of passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

/// Lowest memory accepted (KiB).
pub const MIN_MEMORY_KIB: u32 = 64;
/// Highest memory accepted (KiB): 4 GiB.
pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
/// Highest number of iterations accepted.
pub const MAX_ITERATIONS: u32 = 64;
/// Highest parallelism accepted.
pub const MAX_PARALLELISM: u32 = 16;

impl KdfParams {
    /// The default for real wallets: 128 MiB, 3 iterations, 1 lane (well under a second in
    /// a release build, while a guess costs an attacker 128 MiB of memory).
    pub fn strong() -> Self {
        KdfParams {
            memory_kib: 128 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }

    /// Very cheap parameters, for tests only: 64 KiB, 1 iteration.
    pub fn fast_for_tests() -> Self {
        KdfParams {
            memory_kib: MIN_MEMORY_KIB,
            iterations: 1,
            parallelism: 1,
        }
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.parallelism == 0 || self.parallelism > MAX_PARALLELISM {
            return Err(format!(
                "KDF parallelism {} is outside 1..={MAX_PARALLELISM}",
                self.parallelism
            ));
        }
        if self.iterations == 0 || self.iterations > MAX_ITERATIONS {
            return Err(format!(
                "KDF iterations {} is outside 1..={MAX_ITERATIONS}",
                self.iterations
            ));
        }
        let floor = MIN_MEMORY_KIB.max(self.parallelism.saturating_mul(8));
        if self.memory_kib < floor || self.memory_kib > MAX_MEMORY_KIB {
            return Err(format!(
                "KDF memory {} KiB is outside {floor}..={MAX_MEMORY_KIB} KiB",
                self.memory_kib
            ));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::strong()
    }
}

const MAGIC: &[u8; 8] = b"LOTCSEED";
const VERSION: u8 = 1;
const KDF_ARGON2ID: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const CHECK_LEN: usize = 32;
const TAG_LEN: usize = 16;
const SUM_LEN: usize = 32;
/// Length of the header (the AEAD associated data).
const HEADER_LEN: usize = 8 + 1 + 1 + 4 + 4 + 4 + SALT_LEN + NONCE_LEN + CHECK_LEN + 4;
/// Largest accepted ciphertext (a mnemonic and a passphrase are far smaller).
const MAX_CIPHERTEXT: usize = 64 * 1024;

/// Argon2id output: (AEAD key, check value).
fn derive_keys(
    passphrase: &[u8],
    salt: &[u8],
    params: &KdfParams,
) -> Result<(Zeroizing<[u8; 32]>, [u8; 32])> {
    let p = Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(64),
    )
    .map_err(|e| Error::Crypto(format!("bad KDF parameters: {e}")))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 64]);
    argon
        .hash_password_into(passphrase, salt, &mut out[..])
        .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&out[..32]);
    let check = sha256::Hash::hash(&out[32..]).to_byte_array();
    Ok((key, check))
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn push_field(buf: &mut Zeroizing<Vec<u8>>, data: &[u8], what: &str) -> Result<()> {
    let len = u16::try_from(data.len())
        .map_err(|_| Error::Crypto(format!("the {what} is too long to store")))?;
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(data);
    Ok(())
}

/// Encrypts `secret` with `passphrase` into the seed file format described in the module
/// documentation.
pub fn encrypt_seed(secret: &SeedSecret, passphrase: &[u8], params: &KdfParams) -> Result<Vec<u8>> {
    params
        .check()
        .map_err(|e| Error::Crypto(format!("refusing to encrypt: {e}")))?;
    let mut random = [0u8; SALT_LEN + NONCE_LEN];
    getrandom::getrandom(&mut random).map_err(|e| {
        Error::Crypto(format!(
            "the operating system's random generator failed: {e}"
        ))
    })?;
    let (salt, nonce) = random.split_at(SALT_LEN);
    let (key, check) = derive_keys(passphrase, salt, params)?;

    let phrase = secret.phrase();
    // Reserve the full size up front so the buffer never reallocates (and leaves copies).
    let plain_len = phrase
        .len()
        .checked_add(secret.passphrase.len())
        .and_then(|n| n.checked_add(4))
        .ok_or_else(|| Error::Crypto("secret too long".to_owned()))?;
    let mut plain = Zeroizing::new(Vec::with_capacity(plain_len));
    push_field(&mut plain, phrase.as_bytes(), "mnemonic")?;
    push_field(&mut plain, secret.passphrase.as_bytes(), "BIP39 passphrase")?;

    let ct_len = plain
        .len()
        .checked_add(TAG_LEN)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| Error::Crypto("secret too long".to_owned()))?;
    let mut out = Vec::with_capacity(HEADER_LEN + ct_len as usize + SUM_LEN);
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.push(KDF_ARGON2ID);
    out.extend_from_slice(&params.memory_kib.to_le_bytes());
    out.extend_from_slice(&params.iterations.to_le_bytes());
    out.extend_from_slice(&params.parallelism.to_le_bytes());
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    out.extend_from_slice(&check);
    out.extend_from_slice(&ct_len.to_le_bytes());
    debug_assert_eq!(out.len(), HEADER_LEN);

    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]));
    let ciphertext = cipher
        .encrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: &plain,
                aad: &out,
            },
        )
        .map_err(|_| Error::Crypto("encryption failed".to_owned()))?;
    if ciphertext.len() != ct_len as usize {
        return Err(Error::Crypto("unexpected ciphertext length".to_owned()));
    }
    out.extend_from_slice(&ciphertext);
    let sum = sha256::Hash::hash(&out).to_byte_array();
    out.extend_from_slice(&sum);
    Ok(out)
}

fn tampered(msg: &str) -> Error {
    Error::SeedFileTampered(msg.to_owned())
}

fn read_u32(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn read_field<'a>(plain: &'a [u8], pos: &mut usize) -> Result<&'a [u8]> {
    let bad = || tampered("the decrypted content is malformed");
    let end_len = pos.checked_add(2).ok_or_else(bad)?;
    let len_bytes = plain.get(*pos..end_len).ok_or_else(bad)?;
    let len = u16::from_le_bytes([len_bytes[0], len_bytes[1]]) as usize;
    let end = end_len.checked_add(len).ok_or_else(bad)?;
    let data = plain.get(end_len..end).ok_or_else(bad)?;
    *pos = end;
    Ok(data)
}

/// Decrypts a seed file made by [`encrypt_seed`].
///
/// Errors: [`Error::WrongPassphrase`], [`Error::SeedFileTampered`] (corrupt, modified or
/// truncated), [`Error::UnsupportedSeedFile`] (not a seed file, or a newer format).
pub fn decrypt_seed(file: &[u8], passphrase: &[u8]) -> Result<SeedSecret> {
    let min_len = HEADER_LEN + TAG_LEN + SUM_LEN;
    if file.len() < min_len {
        let n = file.len().min(MAGIC.len());
        return if file[..n] == MAGIC[..n] {
            Err(tampered("the file is truncated"))
        } else {
            Err(Error::UnsupportedSeedFile(
                "this is not a liquid-otc seed file".to_owned(),
            ))
        };
    }
    let (body, sum) = file.split_at(file.len() - SUM_LEN);
    if sha256::Hash::hash(body).to_byte_array()[..] != sum[..] {
        let magic_diff = file[..MAGIC.len()]
            .iter()
            .zip(MAGIC)
            .filter(|(a, b)| a != b)
            .count();
        if magic_diff > 2 {
            return Err(Error::UnsupportedSeedFile(
                "this is not a liquid-otc seed file".to_owned(),
            ));
        }
        return Err(tampered(
            "its checksum does not match (the file is corrupt, truncated or was modified)",
        ));
    }
    if body[..MAGIC.len()] != MAGIC[..] {
        return Err(Error::UnsupportedSeedFile(
            "this is not a liquid-otc seed file".to_owned(),
        ));
    }
    if body[8] != VERSION {
        return Err(Error::UnsupportedSeedFile(format!(
            "format version {} (this build reads version {VERSION}): use a newer liquid-otc",
            body[8]
        )));
    }
    if body[9] != KDF_ARGON2ID {
        return Err(Error::UnsupportedSeedFile(format!(
            "unknown key-derivation function id {}",
            body[9]
        )));
    }
    let params = KdfParams {
        memory_kib: read_u32(body, 10),
        iterations: read_u32(body, 14),
        parallelism: read_u32(body, 18),
    };
    params.check().map_err(|e| tampered(&e))?;
    let salt = &body[22..22 + SALT_LEN];
    let nonce = &body[22 + SALT_LEN..22 + SALT_LEN + NONCE_LEN];
    let check_at = 22 + SALT_LEN + NONCE_LEN;
    let check = &body[check_at..check_at + CHECK_LEN];
    let ct_len = read_u32(body, check_at + CHECK_LEN) as usize;
    let header = &body[..HEADER_LEN];
    let ciphertext = &body[HEADER_LEN..];
    if ct_len != ciphertext.len() || !(TAG_LEN..=MAX_CIPHERTEXT).contains(&ct_len) {
        return Err(tampered("its length fields are inconsistent"));
    }

    let (key, expected_check) = derive_keys(passphrase, salt, &params)?;
    if !ct_eq(check, &expected_check) {
        return Err(Error::WrongPassphrase);
    }
    let cipher = XChaCha20Poly1305::new(chacha20poly1305::Key::from_slice(&key[..]));
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: header,
                },
            )
            .map_err(|_| {
                tampered("the passphrase is right but the encrypted data fails authentication")
            })?,
    );
    let mut pos = 0usize;
    let phrase = read_field(&plain, &mut pos)?;
    let bip39_pass = read_field(&plain, &mut pos)?;
    if pos != plain.len() {
        return Err(tampered("the decrypted content is malformed"));
    }
    let phrase = std::str::from_utf8(phrase).map_err(|_| tampered("the mnemonic is not UTF-8"))?;
    let bip39_pass = String::from_utf8(bip39_pass.to_vec())
        .map_err(|_| tampered("the BIP39 passphrase is not UTF-8"))?;
    SeedSecret::from_phrase(phrase, bip39_pass)
        .map_err(|_| tampered("the decrypted mnemonic is not valid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ABANDON: &str = "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

    #[test]
    fn seed_of_known_mnemonic() {
        let s = SeedSecret::from_phrase(ABANDON, String::new()).unwrap();
        assert!(format!("{:?}", s) == "<redacted>");
        assert_eq!(
            elements::hex::DisplayHex::to_lower_hex_string(&s.seed()[..]),
            "5eb00bbddcf069084889a8ab9155568165f5c453ccb85e70811aaed6f6da5fc19a5ac40b389cd370d086206dec8aa6c43daea6690f20ad3d8d48b2d2ce9e38e4"
        );
    }

    #[test]
    fn normalisation() {
        let messy = format!("  {}  ", ABANDON.to_uppercase().replace(' ', " \t\n "));
        let s = SeedSecret::from_phrase(&messy, String::new()).unwrap();
        assert_eq!(s.phrase().as_str(), ABANDON);
    }

    #[test]
    fn generate_lengths() {
        let a = SeedSecret::generate(WordCount::Twelve, String::new()).unwrap();
        assert_eq!(a.word_count(), 12);
        let b = SeedSecret::generate(WordCount::TwentyFour, "x".into()).unwrap();
        assert_eq!(b.word_count(), 24);
        assert!(b.has_bip39_passphrase());
        assert_ne!(a.phrase().as_str(), b.phrase().as_str());
    }

    #[test]
    fn params_bounds() {
        assert!(KdfParams::strong().check().is_ok());
        assert!(KdfParams::fast_for_tests().check().is_ok());
        assert_eq!(KdfParams::default(), KdfParams::strong());
        assert!(KdfParams::strong().memory_kib >= 64 * 1024);
        let refused = |memory_kib: u32, iterations: u32, parallelism: u32| {
            KdfParams {
                memory_kib,
                iterations,
                parallelism,
            }
            .check()
            .unwrap_err()
        };
        assert_eq!(
            refused(u32::MAX, 1, 1),
            format!(
                "KDF memory {} KiB is outside 64..={MAX_MEMORY_KIB} KiB",
                u32::MAX
            )
        );
        assert_eq!(
            refused(64, 0, 1),
            format!("KDF iterations 0 is outside 1..={MAX_ITERATIONS}")
        );
        assert_eq!(
            refused(64, 1, 0),
            format!("KDF parallelism 0 is outside 1..={MAX_PARALLELISM}")
        );
    }
}
