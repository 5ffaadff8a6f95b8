//! PSETs from elsewhere (a multisig coordinator, another program): the wallet's view with the
//! coins it had not synced looked up, signing exactly what the view counted, and recording
//! and broadcasting a finished PSET in every wallet whose coins it spends.

use std::collections::BTreeSet;

use elements::pset::PartiallySignedTransaction;
use elements::{Transaction, Txid};

use super::{broadcast_recorded, Knowledge, Prepared};
use crate::chain::Backend;
use crate::pset::{approve, note_spent_coins, view, Allowed, PsetView};
use crate::store::{OutgoingTx, OwnedCoin, OwnedOutput, TxKind};
use crate::tx::finalize_pset;
use crate::unblind::{blinding_private_key, unblind_output};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// The wallet's knowledge, plus the coins `pset` spends that the store does not know but that
/// turn out to be the wallet's: their transactions are fetched from `backend` (each checked
/// against its txid), and an output paying one of the wallet's scripts that unblinds with its
/// keys is counted as the wallet's. Without a backend, only the store is read.
pub fn knowledge_for(
    wallet: &Wallet,
    pset: &PartiallySignedTransaction,
    backend: Option<&dyn Backend>,
) -> Result<Knowledge> {
    let mut knowledge = Knowledge::load(wallet)?.watched_only(wallet)?;
    let Some(backend) = backend else {
        return Ok(knowledge);
    };
    let unknown: BTreeSet<Txid> = pset
        .inputs()
        .iter()
        .map(|i| i.previous_outpoint())
        .filter(|op| !knowledge.coins.contains_key(op))
        .map(|op| op.txid)
        .collect();
    if unknown.is_empty() {
        return Ok(knowledge);
    }
    let txids: Vec<Txid> = unknown.into_iter().collect();
    // A transaction the server cannot give (made up, or not its chain) holds no coin the
    // wallet can count: such an input stays someone else's, and whatever in it claims to be
    // the wallet's is then a refusal.
    let txs: Vec<Transaction> = match backend.transactions(&txids) {
        Ok(txs) => txs,
        Err(_) => txids
            .iter()
            .filter_map(|t| backend.transactions(&[*t]).ok())
            .flatten()
            .collect(),
    };
    for input in pset.inputs() {
        let outpoint = input.previous_outpoint();
        if knowledge.coins.contains_key(&outpoint) {
            continue;
        }
        let Some(txout) = txs
            .iter()
            .find(|t| t.txid() == outpoint.txid)
            .and_then(|t| t.output.get(outpoint.vout as usize))
        else {
            continue;
        };
        let Some((keychain, index)) = knowledge.scripts.get(&txout.script_pubkey).copied() else {
            continue;
        };
        let Ok(key) = blinding_private_key(wallet.descriptor(), &txout.script_pubkey) else {
            continue;
        };
        if let Ok(secrets) = unblind_output(txout, &key) {
            knowledge.coins.insert(
                outpoint,
                OwnedCoin {
                    txout: txout.clone(),
                    secrets,
                    keychain,
                    index,
                },
            );
        }
    }
    Ok(knowledge)
}

/// The wallet's view of `pset` (see [`knowledge_for`] for `backend`), problems included: what
/// `pset inspect` shows. Signs nothing.
pub fn inspect_pset(
    wallet: &Wallet,
    pset: &PartiallySignedTransaction,
    backend: Option<&dyn Backend>,
) -> Result<PsetView> {
    let knowledge = knowledge_for(wallet, pset, backend)?;
    let mut view = view(pset, &knowledge.for_view(wallet))?;
    note_spent_coins(&mut view, wallet.store())?;
    Ok(view)
}

/// Prepares signing `pset`: the view (with unknown coins looked up through `backend`) and the
/// plan that signs exactly the inputs it counted. Refused when anything in the PSET is left
/// unexplained (see [`crate::pset::approve`]).
pub fn prepare_pset_sign(
    wallet: &Wallet,
    pset: PartiallySignedTransaction,
    backend: Option<&dyn Backend>,
) -> Result<Prepared> {
    let knowledge = knowledge_for(wallet, &pset, backend)?;
    let know = knowledge.for_view(wallet);
    let mut view = view(&pset, &know)?;
    note_spent_coins(&mut view, wallet.store())?;
    let plan = approve(&pset, &view, &know, Allowed::default())?;
    Ok(Prepared::new(pset, view, plan, TxKind::Pset))
}

/// Whether `tx` spends one of `wallet`'s coins.
pub fn spends_wallet(wallet: &Wallet, tx: &Transaction) -> Result<bool> {
    let coins = wallet.store().coins()?;
    Ok(tx
        .input
        .iter()
        .any(|i| coins.contains_key(&i.previous_output)))
}

/// Records `tx` (signed elsewhere) in `wallet` before it is broadcast, its outputs to the
/// wallet unblinded with the wallet's keys (an output to the wallet that does not unblind is
/// an error: the transaction is not what the wallet agreed to).
pub fn record_signed(wallet: &mut Wallet, tx: &Transaction) -> Result<()> {
    let knowledge = Knowledge::load(wallet)?;
    let mut owned = Vec::new();
    for (vout, txout) in tx.output.iter().enumerate() {
        let Some((keychain, index)) = knowledge.scripts.get(&txout.script_pubkey) else {
            continue;
        };
        let secrets = match crate::unblind::explicit_secrets(txout) {
            Some(s) => s,
            None => {
                let key = blinding_private_key(wallet.descriptor(), &txout.script_pubkey)?;
                unblind_output(txout, &key)
                    .map_err(|e| Error::Unblind(format!("output {vout} of {}: {e}", tx.txid())))?
            }
        };
        owned.push(OwnedOutput {
            vout: u32::try_from(vout).map_err(|_| Error::Storage("too many outputs".to_owned()))?,
            keychain: *keychain,
            index: *index,
            secrets,
        });
    }
    wallet.store_mut().record_outgoing(&OutgoingTx {
        tx,
        kind: TxKind::Pset,
        owned,
        sent: Vec::new(),
        issuance: None,
        asset_event: None,
        release_holder: None,
        ledger: Vec::new(),
    })
}

/// Finalizes `pset` (if needed), records the transaction in each of `wallets` whose coins it
/// spends (before anything is broadcast), broadcasts it, and notes the outcome in each. A
/// transaction spending none of them is only broadcast.
pub fn broadcast_pset(
    wallets: &mut [Wallet],
    pset: &mut PartiallySignedTransaction,
    network: crate::network::Network,
    backend: &dyn Backend,
) -> Result<Txid> {
    let tx = finalize_pset(pset, network)?;
    let mut spenders = Vec::new();
    for (i, wallet) in wallets.iter().enumerate() {
        if spends_wallet(wallet, &tx)? {
            spenders.push(i);
        }
    }
    let _locks = spenders
        .iter()
        .map(|i| wallets[*i].lock_spending())
        .collect::<Result<Vec<_>>>()?;
    super::fault::point("commit.before_record");
    for i in &spenders {
        record_signed(&mut wallets[*i], &tx)?;
    }
    super::fault::point("commit.after_record");
    let Some((first, rest)) = spenders.split_first() else {
        return backend.broadcast(&tx);
    };
    let result = broadcast_recorded(&mut wallets[*first], &tx, backend);
    for i in rest {
        match &result {
            Ok(()) => wallets[*i].store_mut().mark_broadcast(&tx.txid())?,
            Err(Error::NotBroadcast {
                failed: true,
                source,
                ..
            }) => {
                wallets[*i]
                    .store_mut()
                    .mark_failed(&tx.txid(), &source.to_string())?;
            }
            Err(_) => {}
        }
    }
    result.map(|()| tx.txid())
}

/// Records `tx` (already recorded as pending, or signed elsewhere) and broadcasts it again;
/// see [`broadcast_recorded`].
pub fn rebroadcast(wallet: &mut Wallet, txid: &Txid, backend: &dyn Backend) -> Result<Txid> {
    let pending = wallet
        .store()
        .pending()?
        .into_iter()
        .find(|p| p.tx.txid() == *txid)
        .ok_or(Error::NotPending(*txid))?;
    broadcast_recorded(wallet, &pending.tx, backend)?;
    Ok(*txid)
}

/// Forgets a recorded transaction the chain has not shown (pending or failed): its coins
/// become spendable again. Refused for a transaction that is not recorded as such.
pub fn forget(wallet: &mut Wallet, txid: &Txid) -> Result<()> {
    let _lock = wallet.lock_spending()?;
    if wallet.store_mut().forget_pending(txid)? {
        Ok(())
    } else {
        Err(Error::NotPending(*txid))
    }
}
