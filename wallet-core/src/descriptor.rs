//! Confidential (CT) descriptors: building the wallet's descriptor from a seed, parsing
//! user-supplied ones with the checks elements-miniscript leaves out, and deriving addresses.
//!
//! Descriptors built here write hardened steps as `84'` (elements-miniscript's canonical form,
//! and the form of the regtest fixture); `84h` is accepted on input and means the same.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use elements::secp256k1_zkp::{self, Secp256k1};
use elements_miniscript::bitcoin::bip32::{self, ChildNumber, DerivationPath, Xpriv, Xpub};
use elements_miniscript::bitcoin::NetworkKind;
use elements_miniscript::confidential::{slip77::MasterBlindingKey, Key};
use elements_miniscript::descriptor::checksum::desc_checksum;
use elements_miniscript::descriptor::{DescriptorType, ShInner, WshInner};
use elements_miniscript::extensions::CovExtArgs;
use elements_miniscript::{
    ConfidentialDescriptor, CovenantExt, DefiniteDescriptorKey, Descriptor, DescriptorPublicKey,
    ForEachKey, Terminal,
};
use zeroize::Zeroizing;

use crate::network::Network;
use crate::{Error, Result};

fn secp() -> &'static Secp256k1<secp256k1_zkp::All> {
    static SECP: OnceLock<Secp256k1<secp256k1_zkp::All>> = OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

/// The script type of a single-signature wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ScriptKind {
    /// Native segwit v0 (`elwpkh`), BIP84 account path.
    Wpkh,
    /// Segwit v0 nested in P2SH (`elsh(wpkh)`), BIP49 account path.
    ShWpkh,
}

impl ScriptKind {
    /// All kinds.
    pub const ALL: [ScriptKind; 2] = [ScriptKind::Wpkh, ScriptKind::ShWpkh];

    /// "wpkh" or "sh-wpkh".
    pub fn as_str(self) -> &'static str {
        match self {
            ScriptKind::Wpkh => "wpkh",
            ScriptKind::ShWpkh => "sh-wpkh",
        }
    }

    /// The BIP43 purpose of the account path: 84 or 49.
    pub fn purpose(self) -> u32 {
        match self {
            ScriptKind::Wpkh => 84,
            ScriptKind::ShWpkh => 49,
        }
    }
}

impl fmt::Display for ScriptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ScriptKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "wpkh" => Ok(ScriptKind::Wpkh),
            "sh-wpkh" => Ok(ScriptKind::ShWpkh),
            other => Err(Error::InvalidDescriptor(format!(
                "unknown script kind '{other}': use wpkh or sh-wpkh"
            ))),
        }
    }
}

/// How the blinding keys of a wallet are derived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BlindingScheme {
    /// SLIP-77 master blinding key from the seed (LWK's default).
    Slip77,
    /// ELIP-151 deterministic view key from the descriptor itself.
    Elip151,
}

impl BlindingScheme {
    /// All schemes.
    pub const ALL: [BlindingScheme; 2] = [BlindingScheme::Slip77, BlindingScheme::Elip151];

    /// "slip77" or "elip151".
    pub fn as_str(self) -> &'static str {
        match self {
            BlindingScheme::Slip77 => "slip77",
            BlindingScheme::Elip151 => "elip151",
        }
    }
}

impl fmt::Display for BlindingScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BlindingScheme {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "slip77" => Ok(BlindingScheme::Slip77),
            "elip151" => Ok(BlindingScheme::Elip151),
            other => Err(Error::InvalidDescriptor(format!(
                "unknown blinding scheme '{other}': use slip77 or elip151"
            ))),
        }
    }
}

/// The receive (external) or change (internal) chain of a wallet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Keychain {
    /// Receive addresses (`/0/*`, the first branch of `<0;1>`).
    External,
    /// Change addresses (`/1/*`, the second branch of `<0;1>`).
    Internal,
}

impl Keychain {
    /// Both keychains, external first.
    pub const ALL: [Keychain; 2] = [Keychain::External, Keychain::Internal];

    /// "external" or "internal".
    pub fn as_str(self) -> &'static str {
        match self {
            Keychain::External => "external",
            Keychain::Internal => "internal",
        }
    }

    /// 0 for external, 1 for internal.
    pub fn index(self) -> u32 {
        match self {
            Keychain::External => 0,
            Keychain::Internal => 1,
        }
    }

    /// The keychain of index 0 or 1.
    pub fn from_index(i: u32) -> Option<Keychain> {
        match i {
            0 => Some(Keychain::External),
            1 => Some(Keychain::Internal),
            _ => None,
        }
    }
}

impl fmt::Display for Keychain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Keychain {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "external" | "receive" => Ok(Keychain::External),
            "internal" | "change" => Ok(Keychain::Internal),
            other => Err(Error::InvalidDescriptor(format!(
                "unknown keychain '{other}': use external or internal"
            ))),
        }
    }
}

/// The SLIP-77 master blinding key of a BIP39 seed (a view key: whoever has it can unblind
/// every output of the wallet).
pub fn slip77_master_blinding_key(seed: &[u8]) -> Zeroizing<[u8; 32]> {
    let mbk = MasterBlindingKey::from_seed(seed);
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(mbk.as_bytes());
    out
}

/// The SLIP-77 blinding key pair of `script_pubkey`: HMAC-SHA256(master key, script bytes)
/// and its public key. The private half is a view key for that one script.
pub fn slip77_blinding_keypair(
    master_blinding_key: &[u8; 32],
    script_pubkey: &elements::Script,
) -> (Zeroizing<[u8; 32]>, secp256k1_zkp::PublicKey) {
    let mbk = MasterBlindingKey::from(*master_blinding_key);
    let sk = mbk.blinding_private_key(script_pubkey);
    let pk = secp256k1_zkp::PublicKey::from_secret_key(secp(), &sk);
    (Zeroizing::new(sk.secret_bytes()), pk)
}

/// A confidential wallet descriptor, validated for one network.
#[derive(Clone, PartialEq, Eq)]
pub struct WalletDescriptor {
    inner: ConfidentialDescriptor<DescriptorPublicKey>,
    elip151: bool,
}

impl fmt::Debug for WalletDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The blinding key may be a private view key: do not dump it in debug output.
        write!(f, "WalletDescriptor({})", self.kind_name())
    }
}

fn bad(msg: impl Into<String>) -> Error {
    Error::InvalidDescriptor(msg.into())
}

/// Splits `s` at commas that are not inside parentheses, brackets or braces.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0i64;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' | '<' => depth += 1,
            ')' | ']' | '}' | '>' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// Whether any key-like token of `script` is an extended private key or a WIF key.
fn holds_private_key(script: &str) -> bool {
    script
        .split(|c: char| "()[]{}<>;,/#'".contains(c))
        .map(str::trim)
        .any(|t| {
            let extended = t.len() > 100 && (t.starts_with("xprv") || t.starts_with("tprv"));
            let wif = (51..=52).contains(&t.len())
                && elements_miniscript::bitcoin::PrivateKey::from_wif(t).is_ok();
            extended || wif
        })
}

fn key_network(is_main: bool) -> &'static str {
    if is_main {
        "liquid (an xpub, a mainnet key)"
    } else {
        "a test network (a tpub)"
    }
}

fn check_xkey_network(kind: NetworkKind, network: Network) -> Result<()> {
    let is_main = kind == NetworkKind::Main;
    if is_main != network.is_mainnet() {
        return Err(Error::WrongNetwork {
            expected: network,
            found: key_network(is_main).to_owned(),
        });
    }
    Ok(())
}

fn check_public_key(pk: &DescriptorPublicKey, network: Network) -> Result<()> {
    match pk {
        DescriptorPublicKey::Single(_) => Ok(()),
        DescriptorPublicKey::XPub(x) => check_xkey_network(x.xkey.network, network),
        DescriptorPublicKey::MultiXPub(x) => {
            let n = x.derivation_paths.paths().len();
            if n != 2 {
                return Err(bad(format!(
                    "a multi-path key has {n} branches; exactly two (<0;1>, receive and change) are supported"
                )));
            }
            check_xkey_network(x.xkey.network, network)
        }
    }
}

impl WalletDescriptor {
    /// Builds the standard single-signature descriptor of a BIP39 seed: account 0 of BIP84
    /// (`wpkh`) or BIP49 (`sh-wpkh`), `<0;1>/*`, with a SLIP-77 or ELIP-151 blinding key.
    pub fn from_seed(
        seed: &[u8; 64],
        network: Network,
        kind: ScriptKind,
        blinding: BlindingScheme,
    ) -> Result<Self> {
        let secp = secp();
        let nk = if network.is_mainnet() {
            NetworkKind::Main
        } else {
            NetworkKind::Test
        };
        let crypto = |e: bip32::Error| Error::Crypto(format!("key derivation failed: {e}"));
        let mut master = Xpriv::new_master(nk, seed).map_err(crypto)?;
        let fingerprint = master.fingerprint(secp);
        let purpose = kind.purpose();
        let coin = network.bip44_coin_type();
        let path: DerivationPath = vec![
            ChildNumber::from_hardened_idx(purpose).map_err(crypto)?,
            ChildNumber::from_hardened_idx(coin).map_err(crypto)?,
            ChildNumber::from_hardened_idx(0).map_err(crypto)?,
        ]
        .into();
        let derived = master.derive_priv(secp, &path);
        master.private_key.non_secure_erase();
        let mut account = derived.map_err(crypto)?;
        let xpub = Xpub::from_priv(secp, &account);
        account.private_key.non_secure_erase();

        let key_expr = format!("[{fingerprint}/{purpose}'/{coin}'/0']{xpub}/<0;1>/*");
        let script = match kind {
            ScriptKind::Wpkh => format!("elwpkh({key_expr})"),
            ScriptKind::ShWpkh => format!("elsh(wpkh({key_expr}))"),
        };
        let blinding_key = match blinding {
            BlindingScheme::Slip77 => {
                let mbk = slip77_master_blinding_key(seed);
                format!("slip77({})", MasterBlindingKey::from(*mbk))
            }
            BlindingScheme::Elip151 => "elip151".to_owned(),
        };
        Self::parse(&format!("ct({blinding_key},{script})"), network)
    }

    /// Parses a CT descriptor for `network`; the checksum is verified when present.
    ///
    /// Accepted: `ct(<blinding key>,<descriptor>)` with `elwpkh`, `elsh(wpkh)`, `elpkh`,
    /// `elwsh(multi|sortedmulti|miniscript)`, `eltr`, with or without a wildcard, and with
    /// `<a;b>` multi-path keys (receive; change). Blinding keys: `slip77(<hex>)`, `elip151`,
    /// an xpub/xprv view key, a hex public or private key.
    ///
    /// Refused: descriptors without `ct(...)`; private spending keys (xprv, tprv, WIF: use
    /// `wallet restore` for a seed); extended spending keys of the other kind of network
    /// ([`Error::WrongNetwork`]: xpub for liquid, tpub for liquidtestnet and regtest);
    /// multi-path lists of different lengths (which elements-miniscript 0.5 wrongly accepts
    /// inside `ct(elip151,...)`) and multi-path lists of other than two branches.
    pub fn parse(s: &str, network: Network) -> Result<Self> {
        let s = s.trim();
        let (body, checksum) = match s.rsplit_once('#') {
            Some((b, c)) => (b, Some(c)),
            None => (s, None),
        };
        if let Some(c) = checksum {
            let expected = desc_checksum(body).map_err(|e| bad(e.to_string()))?;
            if c != expected {
                return Err(bad(format!(
                    "checksum '{c}' does not match, expected '{expected}': check the descriptor for typos"
                )));
            }
        }
        if !body.starts_with("ct(") || !body.ends_with(')') {
            return Err(bad(
                "not a confidential descriptor: it must look like ct(<blinding key>,<descriptor>), \
                 e.g. ct(slip77(<master blinding key>),elwpkh(...)) or ct(elip151,elwpkh(...))",
            ));
        }
        let args = split_top_level(&body[3..body.len() - 1]);
        if args.len() != 2 {
            return Err(bad(format!(
                "ct() needs exactly 2 arguments (blinding key, descriptor), got {}",
                args.len()
            )));
        }
        let (key_str, script_str) = (args[0].trim(), args[1].trim());

        // Parse the script part on its own: this catches private spending keys (with a clear
        // message) and multi-path lists of different lengths, which the ct() parser misses.
        if holds_private_key(script_str) {
            return Err(bad(
                "the descriptor holds private spending keys (xprv/tprv/WIF); a watch-only \
                 wallet needs public keys only. To import a seed use `wallet restore`",
            ));
        }
        let script = Descriptor::<DescriptorPublicKey>::from_str(script_str).map_err(|e| {
            bad(format!(
                "its spending part (after the blinding key) does not parse: {e}; check that \
                 it was copied whole"
            ))
        })?;
        if script.multipath_length_mismatch() {
            return Err(bad("multi-path expressions have different lengths"));
        }

        let inner = ConfidentialDescriptor::<DescriptorPublicKey>::from_str(body).map_err(|e| {
            bad(format!(
                "its blinding key does not parse: {e}; it must be slip77(<64 hex>), elip151, \
                 or a public or private view key"
            ))
        })?;
        inner.sanity_check().map_err(|e| bad(e.to_string()))?;

        // Network and multi-path checks of every spending key.
        let mut key_err = None;
        inner
            .descriptor
            .for_each_key(|pk| match check_public_key(pk, network) {
                Ok(()) => true,
                Err(e) => {
                    key_err = Some(e);
                    false
                }
            });
        if let Some(e) = key_err {
            return Err(e);
        }
        // The network tag of an extended blinding key plays no part in address derivation,
        // so only its shape is checked; the spending keys above decide the network.
        let multipath_blinding = match &inner.key {
            Key::Slip77(_) => false,
            Key::Bare(pk) => pk.is_multipath(),
            Key::View(sk) => sk.is_multipath(),
        };
        if multipath_blinding {
            return Err(bad("the blinding key must not be multi-path"));
        }
        let elip151 = key_str == "elip151";
        let desc = WalletDescriptor { inner, elip151 };
        // Every descriptor must be able to give its first address.
        desc.address(Keychain::External, 0, network)?;
        Ok(desc)
    }

    fn single(&self, keychain: Keychain) -> Result<ConfidentialDescriptor<DescriptorPublicKey>> {
        if !self.inner.descriptor.is_multipath() {
            return Ok(self.inner.clone());
        }
        let singles = self
            .inner
            .descriptor
            .clone()
            .into_single_descriptors()
            .map_err(|e| bad(e.to_string()))?;
        let descriptor = singles
            .into_iter()
            .nth(keychain.index() as usize)
            .ok_or_else(|| bad("the descriptor has no branch for this keychain"))?;
        Ok(ConfidentialDescriptor {
            key: self.inner.key.clone(),
            descriptor,
        })
    }

    fn definite(
        &self,
        keychain: Keychain,
        index: u32,
    ) -> Result<ConfidentialDescriptor<DefiniteDescriptorKey>> {
        if index >= 1 << 31 {
            return Err(bad(format!(
                "address index {index} is too large (the limit is 2147483647)"
            )));
        }
        self.single(keychain)?
            .at_derivation_index(index)
            .map_err(|e| bad(format!("cannot derive index {index}: {e}")))
    }

    /// The spending descriptor of `keychain`/`index` (no blinding key), in the form the PSET
    /// updater and finalizer want: what signs and satisfies the wallet's coin there.
    pub fn spending_descriptor(
        &self,
        keychain: Keychain,
        index: u32,
    ) -> Result<Descriptor<DefiniteDescriptorKey, CovenantExt<CovExtArgs>>> {
        let single = self.single(keychain)?.descriptor;
        Descriptor::<DescriptorPublicKey, CovenantExt<CovExtArgs>>::from_str(&single.to_string())
            .map_err(|e| bad(format!("descriptor: {e}")))?
            .at_derivation_index(index)
            .map_err(|e| bad(format!("cannot derive index {index}: {e}")))
    }

    /// The confidential address of `keychain`/`index`. Descriptors without multi-path use
    /// the same path for both keychains; descriptors without a wildcard ignore `index`.
    pub fn address(
        &self,
        keychain: Keychain,
        index: u32,
        network: Network,
    ) -> Result<elements::Address> {
        self.definite(keychain, index)?
            .address(secp(), network.address_params())
            .map_err(|e| bad(format!("cannot derive an address: {e}")))
    }

    /// The scriptPubKey of `keychain`/`index`.
    pub fn script_pubkey(&self, keychain: Keychain, index: u32) -> Result<elements::Script> {
        Ok(self.definite(keychain, index)?.descriptor.script_pubkey())
    }

    /// The hex master fingerprint of the first key with a known origin.
    pub fn fingerprint(&self) -> Option<String> {
        let mut found = None;
        self.inner.descriptor.for_each_key(|pk| {
            let fp = match pk {
                DescriptorPublicKey::Single(s) => s.origin.as_ref().map(|o| o.0),
                DescriptorPublicKey::XPub(x) => match &x.origin {
                    Some(o) => Some(o.0),
                    None if x.xkey.depth == 0 => Some(x.xkey.fingerprint()),
                    None => None,
                },
                DescriptorPublicKey::MultiXPub(x) => match &x.origin {
                    Some(o) => Some(o.0),
                    None if x.xkey.depth == 0 => Some(x.xkey.fingerprint()),
                    None => None,
                },
            };
            match fp {
                Some(fp) => {
                    found = Some(fp.to_string());
                    false
                }
                None => true,
            }
        });
        found
    }

    /// The master key fingerprint of `seed` (hex), the one its keys carry in their origins:
    /// what identifies a wallet's own key among a multisig's cosigners.
    pub fn seed_fingerprint(seed: &[u8; 64]) -> Result<String> {
        let mut master = Xpriv::new_master(NetworkKind::Test, seed)
            .map_err(|e| Error::Crypto(format!("key derivation failed: {e}")))?;
        let fingerprint = master.fingerprint(secp());
        master.private_key.non_secure_erase();
        Ok(fingerprint.to_string())
    }

    /// Whether `seed` holds one of the descriptor's spending keys: a key whose origin
    /// fingerprint is the seed's and whose extended public key is what the seed derives at the
    /// origin path (or the seed's master key itself). This is what makes a seed able to sign
    /// for the descriptor, single-signature or one cosigner of a multisig.
    pub fn has_key_of_seed(&self, seed: &[u8; 64], network: Network) -> Result<bool> {
        let secp = secp();
        let nk = if network.is_mainnet() {
            NetworkKind::Main
        } else {
            NetworkKind::Test
        };
        let crypto = |e: bip32::Error| Error::Crypto(format!("key derivation failed: {e}"));
        let mut master = Xpriv::new_master(nk, seed).map_err(crypto)?;
        let fingerprint = master.fingerprint(secp);
        let mut found = false;
        let mut failure = None;
        self.inner.descriptor.for_each_key(|pk| {
            let (origin, xkey) = match pk {
                DescriptorPublicKey::XPub(x) => (&x.origin, &x.xkey),
                DescriptorPublicKey::MultiXPub(x) => (&x.origin, &x.xkey),
                DescriptorPublicKey::Single(_) => return true,
            };
            let derived = match origin {
                Some((fp, path)) if *fp == fingerprint => master.derive_priv(secp, path),
                None if xkey.depth == 0 => Ok(master),
                _ => return true,
            };
            match derived {
                Ok(mut xpriv) => {
                    found = Xpub::from_priv(secp, &xpriv).public_key == xkey.public_key;
                    xpriv.private_key.non_secure_erase();
                    !found
                }
                Err(e) => {
                    failure = Some(crypto(e));
                    false
                }
            }
        });
        master.private_key.non_secure_erase();
        match failure {
            Some(e) => Err(e),
            None => Ok(found),
        }
    }

    /// Whether addresses depend on an index (`/*`).
    pub fn has_wildcard(&self) -> bool {
        self.inner.descriptor.has_wildcard()
    }

    /// Whether the descriptor has separate receive and change branches (`<0;1>`).
    pub fn is_multipath(&self) -> bool {
        self.inner.descriptor.is_multipath()
    }

    /// Whether the blinding key is ELIP-151 derived (written `ct(elip151,...)`).
    pub fn is_elip151(&self) -> bool {
        self.elip151
    }

    /// The underlying elements-miniscript descriptor.
    pub fn as_confidential(&self) -> &ConfidentialDescriptor<DescriptorPublicKey> {
        &self.inner
    }

    /// A short name of the script type, e.g. "wpkh", "sh-wpkh", "wsh-multi 2-of-3".
    pub fn kind_name(&self) -> String {
        let d = &self.inner.descriptor;
        let multi = |name: &str, k: usize, n: usize| format!("{name} {k}-of-{n}");
        match d {
            Descriptor::Wsh(w) => match w.as_inner() {
                WshInner::SortedMulti(s) => multi("wsh-sortedmulti", s.k, s.pks.len()),
                WshInner::Ms(ms) => match &ms.node {
                    Terminal::Multi(k, pks) => multi("wsh-multi", *k, pks.len()),
                    _ => "wsh".to_owned(),
                },
            },
            Descriptor::Sh(sh) => match sh.as_inner() {
                ShInner::Wpkh(_) => "sh-wpkh".to_owned(),
                ShInner::SortedMulti(s) => multi("sh-sortedmulti", s.k, s.pks.len()),
                ShInner::Wsh(w) => match w.as_inner() {
                    WshInner::SortedMulti(s) => multi("sh-wsh-sortedmulti", s.k, s.pks.len()),
                    WshInner::Ms(ms) => match &ms.node {
                        Terminal::Multi(k, pks) => multi("sh-wsh-multi", *k, pks.len()),
                        _ => "sh-wsh".to_owned(),
                    },
                },
                ShInner::Ms(_) => "sh".to_owned(),
            },
            _ => match d.desc_type() {
                DescriptorType::Wpkh => "wpkh".to_owned(),
                DescriptorType::Pkh => "pkh".to_owned(),
                DescriptorType::Bare => "bare".to_owned(),
                DescriptorType::Tr => "tr".to_owned(),
                other => format!("{other:?}").to_lowercase(),
            },
        }
    }
}

impl fmt::Display for WalletDescriptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.elip151 {
            let body = format!("ct(elip151,{:#})", self.inner.descriptor);
            match desc_checksum(&body) {
                Ok(c) => write!(f, "{body}#{c}"),
                Err(_) => f.write_str(&body),
            }
        } else {
            fmt::Display::fmt(&self.inner, f)
        }
    }
}
