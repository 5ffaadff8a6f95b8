//! Unblinding: a wallet's blinding key for a script, the secrets (value, asset and both
//! blinding factors) of an output, and a wallet's net effect per asset in a transaction or
//! PSET.
//!
//! Explicit outputs (explicit value and asset, e.g. a payment to an unconfidential address) are
//! recognised too: their secrets have zero blinding factors and `explicit: true`. Whether to
//! count them is the caller's choice; [`net_effect`] counts every output to the wallet's
//! scripts, explicit or not (LWK leaves explicit outputs out of its balance).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use elements::confidential::{self, AssetBlindingFactor, ValueBlindingFactor};
use elements::pset::PartiallySignedTransaction;
use elements::secp256k1_zkp::{self, Secp256k1, SecretKey};
use elements::{AssetId, OutPoint, Script, Transaction, TxOut};
use elements_miniscript::confidential::{bare, Key};
use elements_miniscript::descriptor::{DescriptorSecretKey, Wildcard};

use crate::descriptor::WalletDescriptor;
use crate::{Error, Result};

pub(crate) fn secp() -> &'static Secp256k1<secp256k1_zkp::All> {
    static SECP: OnceLock<Secp256k1<secp256k1_zkp::All>> = OnceLock::new();
    SECP.get_or_init(Secp256k1::new)
}

/// What it takes to spend or verify an output: its value and asset, and the blinding factors
/// that open its commitments (zero for explicit outputs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxOutSecrets {
    /// Amount in the asset's base units.
    pub value: u64,
    /// The asset.
    pub asset: AssetId,
    /// Value blinding factor (zero when explicit).
    pub value_bf: ValueBlindingFactor,
    /// Asset blinding factor (zero when explicit).
    pub asset_bf: AssetBlindingFactor,
    /// The output has an explicit value and asset (it was not blinded).
    pub explicit: bool,
}

impl TxOutSecrets {
    /// Secrets of an explicit output, with zero blinding factors.
    pub fn explicit(value: u64, asset: AssetId) -> Self {
        TxOutSecrets {
            value,
            asset,
            value_bf: ValueBlindingFactor::zero(),
            asset_bf: AssetBlindingFactor::zero(),
            explicit: true,
        }
    }

    /// The rust-elements form, as blinding (`blind_last`) wants it.
    pub fn to_elements(&self) -> elements::TxOutSecrets {
        elements::TxOutSecrets::new(self.asset, self.asset_bf, self.value, self.value_bf)
    }

    /// Whether these secrets open `txout`'s commitments (or equal its explicit value and
    /// asset). Use it to check unblinding data received from someone else.
    pub fn opens(&self, txout: &TxOut) -> bool {
        match (txout.value, txout.asset) {
            (confidential::Value::Explicit(v), confidential::Asset::Explicit(a)) => {
                v == self.value && a == self.asset
            }
            (confidential::Value::Confidential(_), confidential::Asset::Confidential(_)) => {
                let asset =
                    confidential::Asset::new_confidential(secp(), self.asset, self.asset_bf);
                let Some(generator) = asset.commitment() else {
                    return false;
                };
                let value = confidential::Value::new_confidential(
                    secp(),
                    self.value,
                    generator,
                    self.value_bf,
                );
                asset == txout.asset && value == txout.value
            }
            _ => false,
        }
    }
}

impl From<elements::TxOutSecrets> for TxOutSecrets {
    fn from(s: elements::TxOutSecrets) -> Self {
        TxOutSecrets {
            value: s.value,
            asset: s.asset,
            value_bf: s.value_bf,
            asset_bf: s.asset_bf,
            explicit: false,
        }
    }
}

/// The secrets of an explicit output (explicit value and explicit asset), `None` otherwise.
pub fn explicit_secrets(txout: &TxOut) -> Option<TxOutSecrets> {
    match (txout.value, txout.asset) {
        (confidential::Value::Explicit(v), confidential::Asset::Explicit(a)) => {
            Some(TxOutSecrets::explicit(v, a))
        }
        _ => None,
    }
}

/// Unblinds `txout` with `blinding_key` (the private key of the output's blinding public
/// key). Explicit outputs need no key: they give their explicit secrets. The recovered
/// secrets are checked to reopen the output's commitments.
pub fn unblind_output(txout: &TxOut, blinding_key: &SecretKey) -> Result<TxOutSecrets> {
    if let Some(s) = explicit_secrets(txout) {
        return Ok(s);
    }
    match (txout.value, txout.asset) {
        (confidential::Value::Confidential(_), confidential::Asset::Confidential(_)) => {}
        (v, a) => {
            return Err(Error::Unblind(format!(
                "the output mixes explicit and confidential fields or has null ones (value {}, asset {})",
                field_kind(v.is_explicit(), v.is_null()),
                field_kind(a.is_explicit(), a.is_null()),
            )))
        }
    }
    let secrets = txout.unblind(secp(), *blinding_key).map_err(|e| {
        Error::Unblind(format!(
            "the output to script {} does not open with this wallet's blinding key ({e})",
            crate::chain::hex_lower(txout.script_pubkey.as_bytes())
        ))
    })?;
    let secrets = TxOutSecrets::from(secrets);
    if !secrets.opens(txout) {
        return Err(Error::Unblind(format!(
            "the rangeproof of the output to script {} rewinds to values that do not match its commitments",
            crate::chain::hex_lower(txout.script_pubkey.as_bytes())
        )));
    }
    Ok(secrets)
}

/// The secrets of `txout`, one of the wallet's outputs, as sync reads them: explicit, or
/// rewound without verifying the rangeproof again ([`rewind_unverified`], several times faster
/// than the library's rewind, which verifies the whole proof first), or, when that cannot tell,
/// by [`unblind_output`]. Whichever path, the secrets reopen the output's commitments.
pub fn unblind_received(txout: &TxOut, blinding_key: &SecretKey) -> Result<TxOutSecrets> {
    if let Some(s) = explicit_secrets(txout) {
        return Ok(s);
    }
    match rewind_unverified(txout, blinding_key) {
        Some(s) => Ok(s),
        None => unblind_output(txout, blinding_key),
    }
}

/// The secrets of a confidential `txout` from its rangeproof and the shared secret of
/// `blinding_key`, without verifying the proof's range (which the chain checked): `Some` only
/// when they reopen the output's value and asset commitments, `None` when this path cannot
/// tell (another key, a proof of a kind it does not read, a value of 2^50 units and more) and
/// [`unblind_output`] must decide. See the `rewind` module.
pub fn rewind_unverified(txout: &TxOut, blinding_key: &SecretKey) -> Option<TxOutSecrets> {
    crate::rewind::rewind(txout, blinding_key)
}

fn field_kind(explicit: bool, null: bool) -> &'static str {
    if null {
        "null"
    } else if explicit {
        "explicit"
    } else {
        "confidential"
    }
}

/// The wallet's blinding private key for `script`, from its CT descriptor: SLIP-77
/// (HMAC of the master blinding key and the script), or a view key (an ELIP-151 key, a
/// single private key or a non-wildcard xprv) tweaked with the script as ELIP-150 says.
/// A descriptor with only a public blinding key can make addresses but cannot unblind.
pub fn blinding_private_key(descriptor: &WalletDescriptor, script: &Script) -> Result<SecretKey> {
    match &descriptor.as_confidential().key {
        Key::Slip77(mbk) => Ok(mbk.blinding_private_key(script)),
        Key::View(view) => {
            let base = match view {
                DescriptorSecretKey::Single(s) => s.key.inner,
                DescriptorSecretKey::XPrv(x) => {
                    if x.wildcard != Wildcard::None {
                        return Err(Error::Unblind(
                            "the view key of the descriptor has a wildcard".to_owned(),
                        ));
                    }
                    x.xkey
                        .derive_priv(secp(), &x.derivation_path)
                        .map_err(|e| Error::Crypto(format!("view key derivation failed: {e}")))?
                        .private_key
                }
                DescriptorSecretKey::MultiXPrv(_) => {
                    return Err(Error::Unblind(
                        "the view key of the descriptor is multi-path".to_owned(),
                    ))
                }
            };
            Ok(bare::tweak_private_key(secp(), script, &base))
        }
        Key::Bare(_) => Err(Error::Unblind(
            "the descriptor has only a public blinding key: it can make addresses but cannot \
             unblind outputs; import it with its view key (a private blinding key) instead"
                .to_owned(),
        )),
    }
}

/// What net-effect computation needs of a transaction or PSET: the outpoints it spends and
/// the outputs it creates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxView {
    /// The outpoints spent, in input order.
    pub inputs: Vec<OutPoint>,
    /// The outputs, in order (for a PSET, as its `to_txout` gives them).
    pub outputs: Vec<TxOut>,
}

impl TxView {
    /// The view of a transaction.
    pub fn from_tx(tx: &Transaction) -> Self {
        TxView {
            inputs: tx.input.iter().map(|i| i.previous_output).collect(),
            outputs: tx.output.clone(),
        }
    }

    /// The view of a PSET (v2): the inputs' previous outpoints (the issuance and peg-in flags
    /// of the index masked off, as in the transaction the PSET becomes) and the outputs as
    /// they stand.
    pub fn from_pset(pset: &PartiallySignedTransaction) -> Self {
        TxView {
            inputs: pset
                .inputs()
                .iter()
                .map(|i| i.previous_outpoint())
                .collect(),
            outputs: pset.outputs().iter().map(|o| o.to_txout()).collect(),
        }
    }
}

/// A wallet's part in one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetEffect {
    /// Per asset: what the wallet receives minus what it spends, in base units. Assets whose
    /// net is zero are left out (a redeposit has no entry). The fee is part of what leaves
    /// the wallet when it pays it.
    pub balance: BTreeMap<AssetId, i64>,
    /// The wallet's inputs: input index and the secrets of the output it spends.
    pub inputs: Vec<(usize, TxOutSecrets)>,
    /// The wallet's outputs: output index and their unblinded secrets.
    pub outputs: Vec<(usize, TxOutSecrets)>,
}

fn to_i64(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Unblind(format!("amount {value} is out of range")))
}

/// Computes a wallet's net effect in `view`.
///
/// * `owned_input(outpoint)`: the secrets of the spent output when the wallet owns it (from
///   its store), `None` otherwise. Every input is asked, not only the expected ones.
/// * `blinding_key(script)`: the wallet's blinding private key when `script` is the wallet's,
///   `None` otherwise (see [`blinding_private_key`]).
///
/// An output to one of the wallet's scripts that does not unblind is an error, never skipped:
/// a net effect is only given when every output of the wallet is accounted for.
pub fn net_effect(
    view: &TxView,
    owned_input: impl Fn(&OutPoint) -> Option<TxOutSecrets>,
    blinding_key: impl Fn(&Script) -> Option<SecretKey>,
) -> Result<NetEffect> {
    let mut sums: BTreeMap<AssetId, i64> = BTreeMap::new();
    let overflow = || Error::Unblind("the net effect overflows a signed 64-bit amount".to_owned());
    let mut inputs = Vec::new();
    for (i, outpoint) in view.inputs.iter().enumerate() {
        if let Some(s) = owned_input(outpoint) {
            let entry = sums.entry(s.asset).or_insert(0);
            *entry = entry.checked_sub(to_i64(s.value)?).ok_or_else(overflow)?;
            inputs.push((i, s));
        }
    }
    let mut outputs = Vec::new();
    for (i, txout) in view.outputs.iter().enumerate() {
        if txout.script_pubkey.is_empty() {
            continue; // the fee output
        }
        let Some(key) = blinding_key(&txout.script_pubkey) else {
            continue;
        };
        let s = unblind_output(txout, &key)
            .map_err(|e| Error::Unblind(format!("output {i} is the wallet's but {e}")))?;
        let entry = sums.entry(s.asset).or_insert(0);
        *entry = entry.checked_add(to_i64(s.value)?).ok_or_else(overflow)?;
        outputs.push((i, s));
    }
    sums.retain(|_, v| *v != 0);
    Ok(NetEffect {
        balance: sums,
        inputs,
        outputs,
    })
}
