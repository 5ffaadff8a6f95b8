//! Every sequence that moves money, in two steps that any front end calls the same way.
//!
//! * **prepare** (`payment`, `assets`, `pset_sign`, and the offer and peg-out flows built on
//!   them): select coins, build, blind, compute the wallet's view of the result, check it
//!   against what was asked, and decide what may be signed ([`crate::pset::approve`]). The
//!   result, a [`Prepared`], carries the view for the front end to show; nothing is signed or
//!   written yet beyond the change addresses it reserved. An operation that will sign holds
//!   the wallet's spending lock ([`crate::spend_lock`]) from coin selection on.
//! * **commit** ([`Prepared::commit`]): sign exactly the inputs the view counted, finalize,
//!   record the transaction and every row it moves in ONE SQLite transaction, broadcast, then
//!   note the outcome (broadcast, or failed on the server's definite refusal, when it stops
//!   counting). Crash points for tests ([`fault`]) sit between these steps.

pub mod assets;
pub mod fault;
mod knowledge;
pub mod payment;
pub mod pegout;
pub mod pset_sign;
pub mod swap;

use std::collections::BTreeMap;

use elements::pset::PartiallySignedTransaction;
use elements::{Address, AssetId, Transaction, Txid};

use crate::chain::Backend;
use crate::pset::{Owner, PsetView, SigningPlan};
use crate::seed::SeedSecret;
use crate::store::{
    AssetEventKind, IssuanceRecord, LedgerChange, OutgoingTx, OwnedOutput, SentOutput, TxKind,
};
use crate::tx::{finalize_pset, sign_pset};
use crate::wallet::Wallet;
use crate::{Error, Result};

pub use knowledge::Knowledge;

/// Whether a prepared transaction is meant to be signed, or only shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Show it; sign nothing. Takes no lock, and change addresses are only previewed, so a
    /// dry run does not widen the gap a restore must scan.
    DryRun,
    /// It will be signed: takes the wallet's spending lock and stores each change address
    /// before it is used.
    ForSigning,
}

/// A built, blinded and verified transaction with the wallet's view of it, ready to be shown
/// and, once confirmed, committed.
pub struct Prepared {
    /// The PSET (blinded, unsigned until committed or signed).
    pub pset: PartiallySignedTransaction,
    /// The wallet's view: what leaves, what arrives, the fee, every output; outputs the
    /// wallet built for others carry the amounts it blinded them with.
    pub view: PsetView,
    /// The issuance it makes, when it makes one.
    pub issuance: Option<crate::tx::Issuance>,
    pub(crate) plan: SigningPlan,
    pub(crate) kind: TxKind,
    /// Outputs the wallet built for others, with their secrets (kept at commit).
    pub(crate) sent: Vec<(elements::TxOut, SentOutput)>,
    pub(crate) issuance_record: Option<IssuanceRecord>,
    pub(crate) asset_event: Option<(AssetId, AssetEventKind, u64)>,
    pub(crate) release_holder: Option<String>,
    pub(crate) ledger: Vec<Box<dyn LedgerChange>>,
    pub(crate) lock: Option<crate::spend_lock::SpendLock>,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("kind", &self.kind)
            .field("unsigned_txid", &self.view.unsigned_txid)
            .field("fee", &self.view.fee)
            .field("net", &self.view.net)
            .finish_non_exhaustive()
    }
}

/// What a commit did.
#[derive(Clone, Debug)]
pub struct Committed {
    /// The transaction's id.
    pub txid: Txid,
    /// The signed transaction, as recorded and broadcast.
    pub tx: Transaction,
}

impl Prepared {
    /// The fee, in the policy asset.
    pub fn fee(&self) -> u64 {
        self.view.fee
    }

    /// The wallet's net effect per asset (negative: leaves the wallet), the fee included when
    /// the wallet pays it.
    pub fn net(&self) -> &BTreeMap<AssetId, i64> {
        &self.view.net
    }

    /// What made it.
    pub fn kind(&self) -> TxKind {
        self.kind
    }

    /// The inputs that will be signed: exactly those the view counted as the wallet's.
    pub fn signing_plan(&self) -> &SigningPlan {
        &self.plan
    }

    /// A prepared transaction of `kind` the wallet will sign as `plan` says, with nothing
    /// else to record (the building blocks of the offer and peg-out flows).
    pub(crate) fn new(
        pset: PartiallySignedTransaction,
        view: PsetView,
        plan: SigningPlan,
        kind: TxKind,
    ) -> Prepared {
        Prepared {
            pset,
            view,
            issuance: None,
            plan,
            kind,
            sent: Vec::new(),
            issuance_record: None,
            asset_event: None,
            release_holder: None,
            ledger: Vec::new(),
            lock: None,
        }
    }

    /// Signs the inputs of the plan in place for a PSET handed back to a coordinator (someone
    /// else finalizes and broadcasts it); returns how many signatures were added.
    ///
    /// First, in one SQLite transaction, the wallet keeps the secrets of the confidential
    /// outputs its view counted as its own ([`Store::note_signed`](crate::store::Store::note_signed)):
    /// rangeproofs are witness data that no signature covers, so whoever broadcasts can swap
    /// one for another valid proof that the wallet's key does not rewind; sync then reads the
    /// output with the kept secrets (only when they reopen its commitments).
    pub fn sign(&mut self, wallet: &mut Wallet, seed: &SeedSecret) -> Result<usize> {
        check_can_sign(wallet)?;
        let kept = own_confidential_outputs(&self.view, &self.pset);
        wallet.store_mut().note_signed(&kept)?;
        self.sign_inputs(wallet, seed)
    }

    /// Signs the inputs of the plan in place and records nothing (the operation that calls
    /// it records the transaction or its ledger row itself).
    pub(crate) fn sign_inputs(&mut self, wallet: &Wallet, seed: &SeedSecret) -> Result<usize> {
        check_can_sign(wallet)?;
        sign_pset(
            &mut self.pset,
            &self.plan,
            wallet.descriptor(),
            &seed.seed(),
            wallet.network(),
        )
    }

    /// Signs, finalizes, records (one SQLite transaction) and broadcasts.
    ///
    /// On a definite refusal by the server the recorded transaction is marked failed (it stops
    /// counting) and the error is [`Error::NotBroadcast`] with `failed: true`; when the server
    /// cannot be reached it stays recorded as pending (`failed: false`): `tx rebroadcast`
    /// sends it again.
    pub fn commit(
        mut self,
        wallet: &mut Wallet,
        seed: &SeedSecret,
        backend: &dyn Backend,
    ) -> Result<Committed> {
        let _lock = match self.lock.take() {
            Some(held) => held,
            None => wallet.lock_spending()?,
        };
        self.sign_inputs(wallet, seed)?;
        let tx = finalize_pset(&mut self.pset, wallet.network())?;
        let owned = owned_outputs(&self.view);
        let ledger: Vec<&dyn LedgerChange> = self.ledger.iter().map(|c| c.as_ref()).collect();
        let record = OutgoingTx {
            tx: &tx,
            kind: self.kind,
            owned,
            sent: self.sent.clone(),
            issuance: self.issuance_record.clone().map(|mut r| {
                r.txid = tx.txid();
                r
            }),
            asset_event: self.asset_event,
            release_holder: self.release_holder.clone(),
            ledger,
        };
        fault::point("commit.before_record");
        wallet.store_mut().record_outgoing(&record)?;
        fault::point("commit.after_record");
        broadcast_recorded(wallet, &tx, backend)?;
        Ok(Committed {
            txid: tx.txid(),
            tx,
        })
    }
}

fn check_can_sign(wallet: &Wallet) -> Result<()> {
    if wallet.is_watch_only() {
        return Err(Error::WatchOnly(format!(
            "wallet '{}' has no seed, so it cannot sign; sign with the wallet that holds the keys",
            wallet.name()
        )));
    }
    Ok(())
}

/// Whether a server's refusal means the transaction is on the chain or in its mempool
/// already (a rebroadcast), rather than refused.
fn already_known(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("already in block chain")
        || r.contains("txn-already-known")
        || r.contains("txn-already-in-mempool")
        || r.contains("transaction already in the mempool")
}

/// Broadcasts a recorded transaction of `wallet` and notes the outcome: accepted (or already
/// known to the server) → broadcast; a definite refusal → failed (with every recorded
/// transaction spending its outputs); the server unreachable → left as recorded.
pub fn broadcast_recorded(
    wallet: &mut Wallet,
    tx: &Transaction,
    backend: &dyn Backend,
) -> Result<()> {
    let txid = tx.txid();
    match backend.broadcast(tx) {
        Ok(_) => {
            fault::point("commit.after_broadcast");
            wallet.store_mut().mark_broadcast(&txid)
        }
        Err(Error::BroadcastRejected { reason, .. }) if already_known(&reason) => {
            wallet.store_mut().mark_broadcast(&txid)
        }
        Err(err @ Error::BroadcastRejected { .. }) => {
            let reason = err.to_string();
            wallet.store_mut().mark_failed(&txid, &reason)?;
            Err(Error::NotBroadcast {
                txid,
                failed: true,
                source: Box::new(err),
            })
        }
        Err(err) => Err(Error::NotBroadcast {
            txid,
            failed: false,
            source: Box::new(err),
        }),
    }
}

/// The view's outputs to the wallet, as the store records them.
fn owned_outputs(view: &PsetView) -> Vec<OwnedOutput> {
    view.outputs
        .iter()
        .enumerate()
        .filter_map(|(vout, o)| match (o.owner, o.secrets) {
            (Owner::Wallet(keychain, index), Some(secrets)) => Some(OwnedOutput {
                vout: u32::try_from(vout).ok()?,
                keychain,
                index,
                secrets,
            }),
            _ => None,
        })
        .collect()
}

/// The confidential outputs `view` counted as the wallet's: output, script and secrets.
fn own_confidential_outputs(
    view: &PsetView,
    pset: &PartiallySignedTransaction,
) -> Vec<(
    elements::TxOut,
    elements::Script,
    crate::unblind::TxOutSecrets,
)> {
    view.outputs
        .iter()
        .zip(pset.outputs())
        .filter(|(o, _)| matches!(o.owner, Owner::Wallet(..)))
        .filter_map(|(o, output)| {
            let secrets = o.secrets.filter(|s| !s.explicit)?;
            Some((output.to_txout(), o.script_pubkey.clone(), secrets))
        })
        .collect()
}

/// The confidential outputs of `view` that pay others, with the secrets the wallet blinded
/// them with (it built them): what `tx show` later tells the user they paid.
pub(crate) fn sent_outputs(
    view: &PsetView,
    pset: &PartiallySignedTransaction,
    network: crate::network::Network,
) -> Vec<(elements::TxOut, SentOutput)> {
    view.outputs
        .iter()
        .enumerate()
        .filter_map(|(vout, o)| {
            let secrets = o.secrets.filter(|s| !s.explicit)?;
            if o.owner != Owner::Other {
                return None;
            }
            let output = pset.outputs().get(vout)?;
            let blinding = output.blinding_key.map(|k| k.inner);
            let address =
                Address::from_script(&o.script_pubkey, blinding, network.address_params())
                    .map(|a| a.to_string());
            Some((
                output.to_txout(),
                SentOutput {
                    address,
                    script: o.script_pubkey.clone(),
                    secrets,
                },
            ))
        })
        .collect()
}
