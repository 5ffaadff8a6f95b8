//! A wallet's view of any PSET: which inputs and outputs are its own, what each holds, the fee,
//! and the wallet's net effect per asset, computed from the PSET and the wallet's own data.
//!
//! This is what signing relies on, so nothing in the PSET is taken on trust: the wallet's inputs
//! are recognised by outpoint from its own store (and their commitments must open with the
//! stored secrets), its outputs are unblinded with its own keys (the explicit amount fields a
//! PSET may also carry are ignored once commitments exist), and an input that pays one of the
//! wallet's scripts but that the wallet cannot account for is a refusal, not a guess.

use std::collections::{BTreeMap, HashMap};

use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, OutPoint, Script};

use crate::descriptor::{Keychain, WalletDescriptor};
use crate::network::Network;
use crate::unblind::{blinding_private_key, explicit_secrets, unblind_output, TxOutSecrets};
use crate::{Error, Result};

/// What the wallet knows that a PSET view needs.
pub struct WalletKnowledge<'a> {
    /// The wallet's descriptor (blinding keys).
    pub descriptor: &'a WalletDescriptor,
    /// Its network.
    pub network: Network,
    /// The network's policy asset.
    pub policy_asset: AssetId,
    /// The wallet's coins: outpoint → (secrets, keychain, index).
    pub owned: &'a HashMap<OutPoint, (TxOutSecrets, Keychain, u32)>,
    /// The wallet's scripts: script → (keychain, index).
    pub scripts: &'a HashMap<Script, (Keychain, u32)>,
}

/// Who an input or output belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    /// This wallet, at this branch and index.
    Wallet(Keychain, u32),
    /// Someone else.
    Other,
    /// The fee (outputs only).
    Fee,
}

/// One input as the wallet sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputView {
    /// The coin spent.
    pub outpoint: OutPoint,
    /// Whose it is.
    pub owner: Owner,
    /// Its value and asset, when the wallet knows them (its own) or they are explicit.
    pub secrets: Option<TxOutSecrets>,
}

/// One output as the wallet sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputView {
    /// Its script (empty for the fee).
    pub script_pubkey: Script,
    /// Whose it is.
    pub owner: Owner,
    /// Value and asset when explicit or unblinded by this wallet.
    pub secrets: Option<TxOutSecrets>,
    /// Whether it is (or will be) blinded.
    pub blinded: bool,
}

/// The wallet's view of a PSET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PsetView {
    /// Inputs in order.
    pub inputs: Vec<InputView>,
    /// Outputs in order.
    pub outputs: Vec<OutputView>,
    /// The explicit fee, in the policy asset.
    pub fee: u64,
    /// Per asset, what the wallet receives less what it spends (zero entries left out).
    pub net: BTreeMap<AssetId, i64>,
}

impl PsetView {
    /// Indexes of the inputs that are the wallet's.
    pub fn own_inputs(&self) -> Vec<usize> {
        self.inputs
            .iter()
            .enumerate()
            .filter(|(_, i)| matches!(i.owner, Owner::Wallet(..)))
            .map(|(n, _)| n)
            .collect()
    }

    /// Whether the wallet pays the fee: it spends coins and nobody else does.
    pub fn wallet_pays_fee(&self) -> bool {
        !self.inputs.is_empty()
            && self
                .inputs
                .iter()
                .all(|i| matches!(i.owner, Owner::Wallet(..)))
    }
}

fn refuse(msg: impl Into<String>) -> Error {
    Error::Transaction(msg.into())
}

fn add(net: &mut BTreeMap<AssetId, i64>, asset: AssetId, value: u64, sign: i64) -> Result<()> {
    let overflow = || refuse("the net effect overflows");
    let v = i64::try_from(value).map_err(|_| overflow())?;
    let e = net.entry(asset).or_insert(0);
    *e = e
        .checked_add(v.checked_mul(sign).ok_or_else(overflow)?)
        .ok_or_else(overflow)?;
    Ok(())
}

/// Computes the wallet's view of `pset`.
///
/// Refuses a PSET whose fee is not explicit or not in this network's policy asset (a PSET of
/// another network), an input of the wallet without its spent output, an input whose spent
/// output does not open with the wallet's stored secrets, an input paying the wallet's script
/// that the wallet does not know, and an output to the wallet that does not unblind.
pub fn view(pset: &PartiallySignedTransaction, know: &WalletKnowledge) -> Result<PsetView> {
    // The network first: a PSET of another network is named as such, whatever else is wrong.
    for output in pset.outputs() {
        let txout = output.to_txout();
        if let Some(secrets) = explicit_secrets(&txout).filter(|_| txout.is_fee()) {
            if secrets.asset != know.policy_asset {
                return Err(Error::WrongNetwork {
                    expected: know.network,
                    found: format!(
                        "a PSET whose fee is paid in {} rather than this network's policy asset",
                        secrets.asset
                    ),
                });
            }
        }
    }
    let mut net = BTreeMap::new();
    let mut inputs = Vec::new();
    for (i, input) in pset.inputs().iter().enumerate() {
        let outpoint = OutPoint::new(input.previous_txid, input.previous_output_index);
        if let Some((secrets, keychain, index)) = know.owned.get(&outpoint) {
            let spent = input.witness_utxo.as_ref().ok_or_else(|| {
                refuse(format!(
                    "input {i} spends this wallet's coin {} but carries no witness_utxo",
                    outpoint_text(&outpoint)
                ))
            })?;
            if !secrets.opens(spent) {
                return Err(refuse(format!(
                    "input {i} claims this wallet's coin {} with other amounts or \
                     commitments than the wallet holds",
                    outpoint_text(&outpoint)
                )));
            }
            add(&mut net, secrets.asset, secrets.value, -1)?;
            inputs.push(InputView {
                outpoint,
                owner: Owner::Wallet(*keychain, *index),
                secrets: Some(*secrets),
            });
            continue;
        }
        let spent = input.witness_utxo.as_ref();
        if let Some(script) = spent.map(|s| &s.script_pubkey) {
            if know.scripts.contains_key(script) {
                return Err(refuse(format!(
                    "input {i} ({}) pays this wallet's script, but the wallet does not know \
                     that coin: sync first, and never sign what the wallet cannot account for",
                    outpoint_text(&outpoint)
                )));
            }
        }
        inputs.push(InputView {
            outpoint,
            owner: Owner::Other,
            secrets: spent.and_then(explicit_secrets),
        });
    }

    let mut outputs = Vec::new();
    let mut fee = 0u64;
    for (i, output) in pset.outputs().iter().enumerate() {
        let txout = output.to_txout();
        let blinded = output.blinding_key.is_some() || txout.value.is_confidential();
        if txout.script_pubkey.is_empty() {
            let secrets = explicit_secrets(&txout).ok_or_else(|| {
                refuse(format!("output {i} is a fee output that is not explicit"))
            })?;
            // Its asset was checked against the network above.
            fee = fee
                .checked_add(secrets.value)
                .ok_or_else(|| refuse("the fee overflows"))?;
            outputs.push(OutputView {
                script_pubkey: txout.script_pubkey,
                owner: Owner::Fee,
                secrets: Some(secrets),
                blinded: false,
            });
            continue;
        }
        match know.scripts.get(&txout.script_pubkey) {
            Some((keychain, index)) => {
                let secrets = if txout.value.is_confidential() {
                    let key = blinding_private_key(know.descriptor, &txout.script_pubkey)?;
                    unblind_output(&txout, &key).map_err(|e| {
                        refuse(format!(
                            "output {i} pays this wallet but does not unblind: {e}"
                        ))
                    })?
                } else {
                    // Not blinded yet (or explicit): the explicit fields are all there is.
                    explicit_secrets(&txout).ok_or_else(|| {
                        refuse(format!(
                            "output {i} pays this wallet with no readable amount"
                        ))
                    })?
                };
                add(&mut net, secrets.asset, secrets.value, 1)?;
                outputs.push(OutputView {
                    script_pubkey: txout.script_pubkey,
                    owner: Owner::Wallet(*keychain, *index),
                    secrets: Some(secrets),
                    blinded,
                });
            }
            None => outputs.push(OutputView {
                secrets: explicit_secrets(&txout),
                script_pubkey: txout.script_pubkey,
                owner: Owner::Other,
                blinded,
            }),
        }
    }
    net.retain(|_, v| *v != 0);
    Ok(PsetView {
        inputs,
        outputs,
        fee,
        net,
    })
}

/// `txid:vout`, without rust-elements' `[elements]` prefix.
pub fn outpoint_text(outpoint: &OutPoint) -> String {
    format!("{}:{}", outpoint.txid, outpoint.vout)
}

/// The wallet's scripts for indexes `0..=last` of both branches, for [`WalletKnowledge`].
pub fn script_map(
    descriptor: &WalletDescriptor,
    last_external: u32,
    last_internal: u32,
) -> Result<HashMap<Script, (Keychain, u32)>> {
    let mut map = HashMap::new();
    for (keychain, last) in [
        (Keychain::External, last_external),
        (Keychain::Internal, last_internal),
    ] {
        for index in 0..=last {
            map.insert(
                descriptor.script_pubkey(keychain, index)?,
                (keychain, index),
            );
        }
    }
    Ok(map)
}
