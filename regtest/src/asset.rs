//! `/asset/:id` views: issuance data and issued/burned amounts, as electrs' Liquid asset index.

use elements::confidential::Value;
use elements::{AssetId, Transaction};
use serde::Serialize;

use crate::chain::Chain;
use crate::json::TxStatus;

/// Issuance and burn totals of an asset.
#[derive(Serialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct AssetStats {
    /// Transactions issuing or burning the asset.
    pub tx_count: usize,
    /// Issuances and reissuances.
    pub issuance_count: usize,
    /// Explicitly issued amount.
    pub issued_amount: u64,
    /// Explicitly burned amount (provably unspendable outputs, peg-outs included).
    pub burned_amount: u64,
    /// Whether an issuance amount was blinded.
    pub has_blinded_issuances: bool,
    /// Explicitly issued reissuance tokens; `None` when blinded or none were issued.
    pub reissuance_tokens: Option<u64>,
    /// Burned reissuance tokens.
    pub burned_reissuance_tokens: u64,
}

impl AssetStats {
    fn add_tx(&mut self, tx: &Transaction, asset: AssetId, token: AssetId) {
        let mut touched = false;
        for inp in &tx.input {
            if !inp.has_issuance() || inp.issuance_ids().0 != asset {
                continue;
            }
            touched = true;
            self.issuance_count += 1;
            match inp.asset_issuance.amount {
                Value::Explicit(v) => self.issued_amount = self.issued_amount.saturating_add(v),
                Value::Confidential(_) => self.has_blinded_issuances = true,
                Value::Null => {}
            }
            if inp.asset_issuance.asset_blinding_nonce.is_null() {
                match inp.asset_issuance.inflation_keys {
                    Value::Explicit(v) => {
                        self.reissuance_tokens =
                            Some(self.reissuance_tokens.unwrap_or(0).saturating_add(v))
                    }
                    Value::Null => {
                        self.reissuance_tokens = Some(self.reissuance_tokens.unwrap_or(0))
                    }
                    Value::Confidential(_) => {}
                }
            }
        }
        for out in &tx.output {
            if out.script_pubkey.is_empty() || !out.script_pubkey.is_provably_unspendable() {
                continue;
            }
            let (Some(a), Some(v)) = (out.asset.explicit(), out.value.explicit()) else {
                continue;
            };
            if a == asset {
                touched = true;
                self.burned_amount = self.burned_amount.saturating_add(v);
            } else if a == token {
                touched = true;
                self.burned_reissuance_tokens = self.burned_reissuance_tokens.saturating_add(v);
            }
        }
        if touched {
            self.tx_count += 1;
        }
    }
}

#[derive(Serialize)]
struct TxIn {
    txid: String,
    vin: u32,
}

#[derive(Serialize)]
struct Prevout {
    txid: String,
    vout: u32,
}

/// `/asset/:id` JSON.
#[derive(Serialize)]
pub struct AssetJson {
    asset_id: String,
    issuance_txin: TxIn,
    issuance_prevout: Prevout,
    reissuance_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract_hash: Option<String>,
    status: TxStatus,
    chain_stats: AssetStats,
    mempool_stats: AssetStats,
}

/// Confirmed and mempool stats of an asset issued on this chain.
pub fn stats(chain: &Chain, asset: &AssetId) -> Option<(AssetStats, AssetStats)> {
    let info = chain.assets.get(asset)?;
    let mut confirmed = AssetStats::default();
    let mut mempool = AssetStats::default();
    for txid in chain
        .asset_txs
        .get(asset)
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        match chain.get_tx(txid) {
            Some((tx, Some(_))) => confirmed.add_tx(tx, *asset, info.token),
            Some((tx, None)) => mempool.add_tx(tx, *asset, info.token),
            None => {}
        }
    }
    Some((confirmed, mempool))
}

/// The asset view, `None` for assets not issued here (reissuance tokens included).
pub fn asset_json(chain: &Chain, asset: &AssetId) -> Option<AssetJson> {
    let info = chain.assets.get(asset)?;
    let (chain_stats, mempool_stats) = stats(chain, asset)?;
    let height = chain
        .get_tx(&info.issuance_txid)
        .and_then(|(_, loc)| loc.map(|l| l.0));
    let contract = info.contract_hash;
    Some(AssetJson {
        asset_id: asset.to_string(),
        issuance_txin: TxIn {
            txid: info.issuance_txid.to_string(),
            vin: info.issuance_vin,
        },
        issuance_prevout: Prevout {
            txid: info.issuance_prevout.txid.to_string(),
            vout: info.issuance_prevout.vout,
        },
        reissuance_token: info.token.to_string(),
        contract_hash: (contract.to_byte_array() != [0u8; 32]).then(|| contract.to_string()),
        status: TxStatus::new(chain, height),
        chain_stats,
        mempool_stats,
    })
}
