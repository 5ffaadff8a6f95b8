//! Pending transactions: signed transactions recorded before they are broadcast, so that a
//! crash never loses change or forgets a spend. Until the chain shows one (sync then keeps it
//! as a chain transaction) or it is forgotten, its inputs count as spent and its outputs to the
//! wallet's scripts as the wallet's, unconfirmed.

use std::collections::HashMap;
use std::str::FromStr;

use elements::{Script, Transaction, Txid};
use rusqlite::TransactionBehavior;

use super::chain_data::{insert_tx, NewTx, OwnedOutput};
use super::{storage_err, Store};
use crate::descriptor::{Keychain, WalletDescriptor};
use crate::unblind::{blinding_private_key, unblind_output};
use crate::{Error, Result};

impl Store {
    /// The wallet's scripts the store knows: those sync derived and those of every address
    /// handed out.
    fn known_scripts(&self) -> Result<HashMap<Script, (Keychain, u32)>> {
        let mut map = HashMap::new();
        for s in self.chain_state()?.scripts {
            map.insert(s.script, (s.keychain, s.index));
        }
        for a in self.addresses(None)? {
            if let Ok(addr) = elements::Address::from_str(&a.address) {
                map.entry(addr.script_pubkey())
                    .or_insert((a.keychain, a.index));
            }
        }
        Ok(map)
    }

    /// Records a signed transaction before it is broadcast. Its outputs to the wallet's known
    /// scripts are unblinded with the descriptor's keys (an output to the wallet that does not
    /// unblind is an error: the transaction is not what the wallet made). Recording a
    /// transaction already stored does nothing.
    pub fn record_pending(&mut self, tx: &Transaction) -> Result<()> {
        let meta = self.meta()?;
        let descriptor = WalletDescriptor::parse(&meta.descriptor, meta.network)?;
        let scripts = self.known_scripts()?;
        let mut outputs = Vec::new();
        for (vout, txout) in tx.output.iter().enumerate() {
            let Some((keychain, index)) = scripts.get(&txout.script_pubkey) else {
                continue;
            };
            let secrets = match crate::unblind::explicit_secrets(txout) {
                Some(s) => s,
                None => {
                    let key = blinding_private_key(&descriptor, &txout.script_pubkey)?;
                    unblind_output(txout, &key).map_err(|e| {
                        Error::Unblind(format!("pending transaction output {vout}: {e}"))
                    })?
                }
            };
            outputs.push(OwnedOutput {
                vout: u32::try_from(vout)
                    .map_err(|_| Error::Storage("too many outputs".to_owned()))?,
                keychain: *keychain,
                index: *index,
                secrets,
            });
        }
        let new = NewTx {
            tx: tx.clone(),
            outputs,
        };
        let path = self.path.clone();
        let dbtx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| storage_err(&path, "cannot lock the wallet database", e))?;
        insert_tx(&dbtx, &new, true)
            .map_err(|e| storage_err(&path, "cannot record the pending transaction", e))?;
        dbtx.commit()
            .map_err(|e| storage_err(&path, "cannot commit the pending transaction", e))
    }

    /// The pending transactions: recorded, not yet seen on the chain, not forgotten.
    pub fn pending(&self) -> Result<Vec<Transaction>> {
        let q = |e| self.err("cannot list pending transactions", e);
        let mut stmt = self
            .conn
            .prepare("SELECT raw FROM txs WHERE pending = 1 ORDER BY first_seen, txid")
            .map_err(q)?;
        let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).map_err(q)?;
        let mut out = Vec::new();
        for raw in rows {
            let raw = raw.map_err(q)?;
            out.push(elements::encode::deserialize(&raw).map_err(|e| {
                Error::Storage(format!("bad pending transaction in the store: {e}"))
            })?);
        }
        Ok(out)
    }

    /// Forgets a pending transaction (its inputs become unspent again). A transaction the
    /// chain has shown is not pending any more and is left alone; an unknown txid does
    /// nothing.
    pub fn forget_pending(&mut self, txid: &Txid) -> Result<()> {
        self.conn
            .execute(
                "DELETE FROM txs WHERE txid = ?1 AND pending = 1",
                [txid.to_string()],
            )
            .map(drop)
            .map_err(|e| self.err("cannot forget the pending transaction", e))
    }
}
