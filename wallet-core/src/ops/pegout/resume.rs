//! Recorded peg-out transactions sent again after a crash or a lost broadcast (parents
//! first), and abandoning one the server does not know.

use super::*;

/// What [`resume`] did with one live transaction of the desk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ResumeAction {
    /// It was recorded but not (known to be) accepted: sent again and accepted.
    Rebroadcast,
    /// A server had accepted it already; its requests are now marked `broadcast`.
    Marked,
    /// The server refused it: the reason. Its requests stay `signed`.
    Refused(String),
    /// The server could not be reached: the next run tries again.
    Unreachable(String),
    /// The wallet no longer recorded it (`tx forget`, or a reorganisation that dropped it
    /// from every block and mempool): recorded again and sent again, accepted. Only `pegout
    /// abandon` releases a transaction's requests.
    Rerecorded,
}

/// One live transaction [`resume`] acted on.
#[derive(Clone, Debug)]
pub struct Resumed {
    /// The transaction.
    pub txid: elements::Txid,
    /// The references it pays.
    pub requests: Vec<String>,
    /// What was done.
    pub action: ResumeAction,
}

/// Finishes what a crash or an unreachable server left undone, before a run pays anything
/// new (under the spending lock): every live peg-out transaction whose requests are still
/// `signed`, or that the wallet counts as failed without a conflict, is broadcast again (or
/// only marked, when a server had accepted it). It never builds a transaction: a request that
/// has one keeps it.
pub fn resume(
    wallet: &mut Wallet,
    backend: &dyn crate::chain::Backend,
    actor: &str,
) -> Result<Vec<Resumed>> {
    check_supported(wallet.network())?;
    let actor = &crate::store::check_actor(actor)?;
    let _lock = wallet.lock_spending()?;
    let pending: std::collections::HashMap<elements::Txid, crate::store::OutgoingState> = wallet
        .store()
        .pending()?
        .into_iter()
        .map(|p| (p.tx.txid(), p.state))
        .collect();
    let mut out = Vec::new();
    let live_txs = parents_first(wallet.store().pegout_live_txs()?, |l| &l.tx);
    for live in live_txs {
        let txid = live.tx.txid();
        let signed = live
            .requests
            .iter()
            .any(|(_, s)| *s == crate::store::RequestStatus::Signed);
        let requests: Vec<String> = live.requests.iter().map(|(r, _)| r.clone()).collect();
        let state = pending.get(&txid);
        let state = match state {
            Some(state) => Some(state.clone()),
            None => match wallet.store().recorded_state(&txid)? {
                // Seen on the chain: sync moves its requests.
                Some(_) => continue,
                // The wallet dropped it (`tx forget`, or a reorganisation that took it out
                // of every block and mempool): the desk's record is what counts; record it
                // again and send it (the same transaction can never pay twice).
                None => {
                    crate::ops::pset_sign::record_signed(wallet, &live.tx)?;
                    None
                }
            },
        };
        let action = match state.as_ref() {
            None => match crate::ops::broadcast_recorded(wallet, &live.tx, backend) {
                Ok(()) => {
                    wallet.store_mut().pegout_mark_broadcast(&txid, actor)?;
                    ResumeAction::Rerecorded
                }
                Err(Error::NotBroadcast {
                    failed: true,
                    source,
                    ..
                }) => ResumeAction::Refused(source.to_string()),
                Err(Error::NotBroadcast { source, .. }) => {
                    ResumeAction::Unreachable(source.to_string())
                }
                Err(e) => return Err(e),
            },
            Some(crate::store::OutgoingState::Broadcast(_)) if signed => {
                wallet.store_mut().pegout_mark_broadcast(&txid, actor)?;
                ResumeAction::Marked
            }
            Some(crate::store::OutgoingState::Broadcast(_)) => continue,
            Some(
                crate::store::OutgoingState::Recorded | crate::store::OutgoingState::Failed(_),
            ) => match crate::ops::broadcast_recorded(wallet, &live.tx, backend) {
                Ok(()) => {
                    crate::ops::fault::point("pegout.before_mark_broadcast");
                    wallet.store_mut().pegout_mark_broadcast(&txid, actor)?;
                    ResumeAction::Rebroadcast
                }
                Err(Error::NotBroadcast {
                    failed: true,
                    source,
                    ..
                }) => {
                    let reason = source.to_string();
                    wallet.store_mut().pegout_note_broadcast_failure(
                        &txid,
                        &format!("sent again, refused: {reason}"),
                        actor,
                    )?;
                    ResumeAction::Refused(reason)
                }
                Err(Error::NotBroadcast { source, .. }) => {
                    ResumeAction::Unreachable(source.to_string())
                }
                Err(e) => return Err(e),
            },
        };
        out.push(Resumed {
            txid,
            requests,
            action,
        });
    }
    Ok(out)
}

/// Abandons live peg-out transaction `txid`: only when the server does not know it (neither
/// in its mempool nor in a block, asked through the histories of the scripts it spends) and
/// the last sync did not see it, since otherwise it could still confirm. The wallet stops
/// counting it and its requests go back to `approved` (with those of any peg-out
/// transaction spending its outputs); the next run pays them with one of its inputs, so that
/// the old and the new transaction can never both confirm. Returns the references requeued.
pub fn abandon(
    wallet: &mut Wallet,
    backend: &dyn crate::chain::Backend,
    txid: &elements::Txid,
    actor: &str,
) -> Result<Vec<String>> {
    let actor = &crate::store::check_actor(actor)?;
    let _lock = wallet.lock_spending()?;
    let tx = wallet
        .store()
        .pegout_tx(txid)?
        .ok_or(Error::UnknownPegoutTx(*txid))?;
    let coins = wallet.store().coins()?;
    let scripts: Vec<elements::Script> = tx
        .input
        .iter()
        .filter_map(|i| {
            coins
                .get(&i.previous_output)
                .map(|c| c.txout.script_pubkey.clone())
        })
        .collect();
    if scripts.is_empty() {
        return Err(Error::Refused(format!(
            "the wallet does not know the coins {txid} spends, so it cannot ask the server \
             whether the transaction is known; sync and try again"
        )));
    }
    let histories = backend.histories(&scripts)?;
    if histories.iter().flatten().any(|h| h.txid == *txid) {
        return Err(Error::Refused(format!(
            "{} knows transaction {txid} (in its mempool or in a block): it can still \
             confirm, so its requests stay with it; wait for it, or for a conflicting \
             transaction",
            backend.server()
        )));
    }
    wallet.store_mut().pegout_abandon(txid, actor)
}

/// `items` reordered so that each transaction comes after every one of them whose outputs it
/// spends (parents first, as a server accepts them), otherwise in the given order.
fn parents_first<T>(items: Vec<T>, tx: impl Fn(&T) -> &elements::Transaction) -> Vec<T> {
    let mut left: Vec<(elements::Txid, T)> =
        items.into_iter().map(|t| (tx(&t).txid(), t)).collect();
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let ready = left
            .iter()
            .position(|(_, t)| {
                !tx(t)
                    .input
                    .iter()
                    .any(|i| left.iter().any(|(p, _)| *p == i.previous_output.txid))
            })
            // A cycle cannot happen (a txid commits to its inputs); keep the order if it did.
            .unwrap_or(0);
        out.push(left.remove(ready).1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parents_first;
    use elements::{OutPoint, Transaction, TxIn, Txid};

    fn tx(spends: &[(Txid, u32)], lock: u32) -> Transaction {
        Transaction {
            version: 2,
            lock_time: elements::LockTime::from_consensus(lock),
            input: spends
                .iter()
                .map(|(t, v)| TxIn {
                    previous_output: OutPoint::new(*t, *v),
                    ..TxIn::default()
                })
                .collect(),
            output: Vec::new(),
        }
    }

    #[test]
    fn parents_come_before_their_children() {
        let coin = Txid::from_byte_array([7; 32]);
        let a = tx(&[(coin, 0)], 1);
        let b = tx(&[(a.txid(), 1)], 2);
        let c = tx(&[(b.txid(), 1), (coin, 1)], 3);
        let other = tx(&[(coin, 2)], 4);
        let given = vec![c.clone(), other.clone(), b.clone(), a.clone()];
        let ordered: Vec<Txid> = parents_first(given, |t| t)
            .iter()
            .map(|t| t.txid())
            .collect();
        assert_eq!(ordered, vec![other.txid(), a.txid(), b.txid(), c.txid()]);
        // Already in order: unchanged.
        let given = vec![a.clone(), b.clone(), c.clone()];
        let ordered: Vec<Txid> = parents_first(given, |t| t)
            .iter()
            .map(|t| t.txid())
            .collect();
        assert_eq!(ordered, vec![a.txid(), b.txid(), c.txid()]);
    }
}
