//! A wallet's view of any PSET: which inputs and outputs are its own, what each holds, the fee,
//! the wallet's net effect per asset, and every reason not to sign it, computed from the PSET
//! and the wallet's own data.
//!
//! This is what signing relies on (see [`approve`]), so nothing in the PSET is taken on trust:
//! the wallet's inputs are recognised by outpoint (issuance and peg-in flags masked off, as in
//! the transaction the PSET becomes) in its own store, and the spent output each carries must
//! be the stored coin; its outputs are unblinded with its own keys (explicit amount fields are
//! ignored once commitments exist); and an input that is not counted as the wallet's but
//! carries one of its keys or pays one of its scripts, in any field, is a problem, never a
//! guess. A view with problems can be shown (`pset inspect`); it cannot be signed.

mod approve;
mod claims;

use std::collections::{BTreeMap, HashMap};

use elements::pset::PartiallySignedTransaction;
use elements::{AssetId, OutPoint, Script, TxOut, Txid};

use crate::descriptor::{Keychain, WalletDescriptor};
use crate::network::Network;
use crate::store::OwnedCoin;
use crate::unblind::{blinding_private_key, explicit_secrets, unblind_output, TxOutSecrets};
use crate::{Error, Result};

pub use approve::{approve, Allowed, SignInput, SigningPlan};

/// What the wallet knows that a PSET view needs.
pub struct WalletKnowledge<'a> {
    /// The wallet's descriptor (blinding keys, key origins).
    pub descriptor: &'a WalletDescriptor,
    /// Its network.
    pub network: Network,
    /// The network's policy asset.
    pub policy_asset: AssetId,
    /// The wallet's coins, spent or not, by outpoint.
    pub coins: &'a HashMap<OutPoint, OwnedCoin>,
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

/// An issuance or reissuance carried by an input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IssuanceView {
    /// The asset issued.
    pub asset: AssetId,
    /// Its reissuance token.
    pub token: AssetId,
    /// The amount issued, when explicit (`None`: blinded or none).
    pub amount: Option<u64>,
    /// The reissuance tokens issued, when explicit.
    pub token_amount: Option<u64>,
    /// A reissuance of an existing asset (rather than a new asset).
    pub reissuance: bool,
    /// Amounts are blinded.
    pub confidential: bool,
}

/// One input as the wallet sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputView {
    /// The coin spent (flags masked off).
    pub outpoint: OutPoint,
    /// Whose it is.
    pub owner: Owner,
    /// Its value and asset: the wallet's own record for its coins; for others' coins, what
    /// an explicit spent output in the PSET claims (unverified, for display only).
    pub secrets: Option<TxOutSecrets>,
    /// The issuance or reissuance it carries.
    pub issuance: Option<IssuanceView>,
    /// For an input not counted as the wallet's: the wallet's script (keychain, index) that
    /// the spent output, as the PSET describes it, pays. The coin is then the wallet's as far
    /// as anyone can tell, but not in its store (not synced yet, or made up): its value is
    /// unknown to the wallet, so the net effect leaves it out ([`PsetView::net_complete`]).
    pub unsynced: Option<(Keychain, u32)>,
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

/// Where a problem is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// Input n.
    Input(usize),
    /// Output n.
    Output(usize),
}

/// A reason not to sign, found while reading the PSET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where.
    pub at: Location,
    /// What is wrong, in words a person understands.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.at {
            Location::Input(i) => write!(f, "input {i} {}", self.reason),
            Location::Output(i) => write!(f, "output {i} {}", self.reason),
        }
    }
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
    /// Every reason not to sign it (empty: nothing found).
    pub problems: Vec<Problem>,
    /// The txid of the transaction as it stands (what signatures commit to, less the spent
    /// outputs, which are the wallet's own records for its inputs).
    pub unsigned_txid: Txid,
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

    /// Indexes of the inputs that pay from one of the wallet's scripts with a coin the wallet
    /// has not stored (see [`InputView::unsynced`]).
    pub fn unsynced_inputs(&self) -> Vec<usize> {
        self.inputs
            .iter()
            .enumerate()
            .filter(|(_, i)| i.unsynced.is_some())
            .map(|(n, _)| n)
            .collect()
    }

    /// Whether [`PsetView::net`] is the whole net effect: false when an input spends what
    /// looks like the wallet's coin but the wallet has not synced it (its value is unknown,
    /// so the net effect leaves it out).
    pub fn net_complete(&self) -> bool {
        self.inputs.iter().all(|i| i.unsynced.is_none())
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
    Error::Refused(msg.into())
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

/// Whether two outputs are the same on the chain: asset, value, nonce and script (their
/// proofs are not part of what a signature commits to).
pub(crate) fn same_output(a: &TxOut, b: &TxOut) -> bool {
    a.asset == b.asset
        && a.value == b.value
        && a.nonce == b.nonce
        && a.script_pubkey == b.script_pubkey
}

/// Checks the fee outputs: a fee in another asset than this network's policy asset is a PSET
/// of another network, named as such whatever else is wrong.
fn check_network(
    pset: &PartiallySignedTransaction,
    network: Network,
    policy_asset: AssetId,
) -> Result<()> {
    for output in pset.outputs() {
        let txout = output.to_txout();
        if let Some(secrets) = explicit_secrets(&txout).filter(|_| txout.is_fee()) {
            if secrets.asset != policy_asset {
                return Err(Error::WrongNetwork {
                    expected: network,
                    found: format!(
                        "a PSET whose fee is paid in {} rather than this network's policy asset",
                        secrets.asset
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Computes the wallet's view of `pset`.
///
/// Fails only when the PSET cannot be read as a transaction of this network (no transaction
/// can be formed, or the fee is in another network's policy asset); everything else that
/// forbids signing is listed in [`PsetView::problems`].
pub fn view(pset: &PartiallySignedTransaction, know: &WalletKnowledge) -> Result<PsetView> {
    check_network(pset, know.network, know.policy_asset)?;
    let unsigned_txid = pset
        .extract_tx()
        .map_err(|e| Error::Transaction(format!("the PSET does not form a transaction: {e}")))?
        .txid();
    let mut net = BTreeMap::new();
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    let mut seen: HashMap<OutPoint, usize> = HashMap::new();
    for (i, input) in pset.inputs().iter().enumerate() {
        let outpoint = input.previous_outpoint();
        if let Some(first) = seen.insert(outpoint, i) {
            problems.push(Problem {
                at: Location::Input(i),
                reason: format!("spends the same coin as input {first}"),
            });
        }
        let issuance = input.has_issuance().then(|| issuance_view(input));
        match know.coins.get(&outpoint) {
            Some(coin) => {
                for reason in claims::own_input_problems(input, &outpoint, coin) {
                    problems.push(Problem {
                        at: Location::Input(i),
                        reason,
                    });
                }
                add(&mut net, coin.secrets.asset, coin.secrets.value, -1)?;
                inputs.push(InputView {
                    outpoint,
                    owner: Owner::Wallet(coin.keychain, coin.index),
                    secrets: Some(coin.secrets),
                    issuance,
                    unsynced: None,
                });
            }
            None => {
                if let Some(reason) = claims::foreign_input_claim(input, &outpoint, know) {
                    problems.push(Problem {
                        at: Location::Input(i),
                        reason,
                    });
                }
                let unsynced = spent_script(input, &outpoint)
                    .and_then(|script| know.scripts.get(script).copied());
                inputs.push(InputView {
                    outpoint,
                    owner: Owner::Other,
                    secrets: input.witness_utxo.as_ref().and_then(explicit_secrets),
                    issuance,
                    unsynced,
                });
            }
        }
    }

    let mut outputs = Vec::new();
    let mut fee = 0u64;
    for (i, output) in pset.outputs().iter().enumerate() {
        let txout = output.to_txout();
        let blinded = output.blinding_key.is_some() || txout.value.is_confidential();
        if txout.script_pubkey.is_empty() {
            let Some(secrets) = explicit_secrets(&txout) else {
                problems.push(Problem {
                    at: Location::Output(i),
                    reason: "is a fee output that is not explicit".to_owned(),
                });
                outputs.push(OutputView {
                    script_pubkey: txout.script_pubkey,
                    owner: Owner::Fee,
                    secrets: None,
                    blinded,
                });
                continue;
            };
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
        let Some((keychain, index)) = know.scripts.get(&txout.script_pubkey) else {
            outputs.push(OutputView {
                secrets: explicit_secrets(&txout),
                script_pubkey: txout.script_pubkey,
                owner: Owner::Other,
                blinded,
            });
            continue;
        };
        let secrets = if txout.value.is_confidential() || txout.asset.is_confidential() {
            blinding_private_key(know.descriptor, &txout.script_pubkey)
                .and_then(|key| unblind_output(&txout, &key))
                .map_err(|e| format!("pays this wallet but does not unblind with its keys: {e}"))
        } else {
            // Not blinded yet (or explicit): the explicit fields are all there is.
            explicit_secrets(&txout)
                .ok_or_else(|| "pays this wallet with no readable amount".to_owned())
        };
        match secrets {
            Ok(secrets) => {
                add(&mut net, secrets.asset, secrets.value, 1)?;
                outputs.push(OutputView {
                    script_pubkey: txout.script_pubkey,
                    owner: Owner::Wallet(*keychain, *index),
                    secrets: Some(secrets),
                    blinded,
                });
            }
            Err(reason) => {
                problems.push(Problem {
                    at: Location::Output(i),
                    reason,
                });
                outputs.push(OutputView {
                    script_pubkey: txout.script_pubkey,
                    owner: Owner::Wallet(*keychain, *index),
                    secrets: None,
                    blinded,
                });
            }
        }
    }
    net.retain(|_, v| *v != 0);
    Ok(PsetView {
        inputs,
        outputs,
        fee,
        net,
        problems,
        unsigned_txid,
    })
}

/// Adds to `view`'s problems each of the wallet's inputs whose coin another transaction of the
/// wallet that counts already spends (on the chain, or recorded and not failed; a failed one
/// spends nothing): signing it would make a double spend, which the network refuses (a
/// `txn-mempool-conflict` for a recorded one) or, worse, a race. The transaction the PSET
/// itself becomes (signed again, or by a cosigner) is no conflict.
pub fn note_spent_coins(view: &mut PsetView, store: &crate::store::Store) -> Result<()> {
    let mut found = Vec::new();
    for (i, input) in view.inputs.iter().enumerate() {
        if !matches!(input.owner, Owner::Wallet(..)) {
            continue;
        }
        for (txid, on_chain) in store.spenders(&input.outpoint)? {
            if txid == view.unsigned_txid {
                continue;
            }
            let coin = outpoint_text(&input.outpoint);
            let reason = if on_chain {
                format!(
                    "spends this wallet's coin {coin}, which its transaction {txid}, seen on \
                     the network, already spends"
                )
            } else {
                format!(
                    "spends this wallet's coin {coin}, which its own transaction {txid} \
                     (recorded, not confirmed) already spends: the network would refuse this \
                     one as a double spend; `tx pending` shows it, and `tx forget {txid}` frees \
                     the coin if it must never be sent"
                )
            };
            found.push(Problem {
                at: Location::Input(i),
                reason,
            });
        }
    }
    view.problems.extend(found);
    Ok(())
}

/// What anyone can read in `pset` without a wallet: every input and output with its explicit
/// amounts, issuances and the fee (its asset checked against `policy_asset` of `network`).
/// Nobody owns anything in it and it has no net effect.
pub fn public_view(
    pset: &PartiallySignedTransaction,
    network: Network,
    policy_asset: AssetId,
) -> Result<PsetView> {
    check_network(pset, network, policy_asset)?;
    let unsigned_txid = pset
        .extract_tx()
        .map_err(|e| Error::Transaction(format!("the PSET does not form a transaction: {e}")))?
        .txid();
    let inputs = pset
        .inputs()
        .iter()
        .map(|input| InputView {
            outpoint: input.previous_outpoint(),
            owner: Owner::Other,
            secrets: input.witness_utxo.as_ref().and_then(explicit_secrets),
            issuance: input.has_issuance().then(|| issuance_view(input)),
            unsynced: None,
        })
        .collect();
    let mut fee = 0u64;
    let mut outputs = Vec::new();
    for output in pset.outputs() {
        let txout = output.to_txout();
        let secrets = explicit_secrets(&txout);
        let is_fee = txout.is_fee();
        if is_fee {
            fee = fee
                .checked_add(secrets.map_or(0, |s| s.value))
                .ok_or_else(|| refuse("the fee overflows"))?;
        }
        outputs.push(OutputView {
            blinded: output.blinding_key.is_some() || txout.value.is_confidential(),
            script_pubkey: txout.script_pubkey,
            owner: if is_fee { Owner::Fee } else { Owner::Other },
            secrets,
        });
    }
    Ok(PsetView {
        inputs,
        outputs,
        fee,
        net: BTreeMap::new(),
        problems: Vec::new(),
        unsigned_txid,
    })
}

/// The script of the output `input` spends, as the PSET describes it (its `witness_utxo`,
/// else its `non_witness_utxo`).
fn spent_script<'a>(input: &'a elements::pset::Input, outpoint: &OutPoint) -> Option<&'a Script> {
    input
        .witness_utxo
        .as_ref()
        .map(|u| &u.script_pubkey)
        .or_else(|| {
            input
                .non_witness_utxo
                .as_ref()
                .and_then(|tx| tx.output.get(outpoint.vout as usize))
                .map(|o| &o.script_pubkey)
        })
}

fn issuance_view(input: &elements::pset::Input) -> IssuanceView {
    let (asset, token) = input.issuance_ids();
    let issuance = input.asset_issuance();
    IssuanceView {
        asset,
        token,
        amount: issuance.amount.explicit(),
        token_amount: issuance.inflation_keys.explicit(),
        reissuance: !issuance.asset_blinding_nonce.is_null(),
        confidential: issuance.amount.is_confidential()
            || issuance.inflation_keys.is_confidential(),
    }
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
