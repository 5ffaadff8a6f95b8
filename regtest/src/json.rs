//! Esplora JSON shapes (field names and order as Blockstream's electrs, Liquid flavour).

use elements::confidential::{Asset, Nonce, Value};
use elements::{AddressParams, Script, Transaction, TxIn, TxOut};
use serde::Serialize;

use crate::chain::Chain;
use crate::hexutil;

/// `status` object of a transaction or output.
#[derive(Serialize, Clone, Debug)]
pub struct TxStatus {
    /// Whether confirmed.
    pub confirmed: bool,
    /// Block height (confirmed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_height: Option<u32>,
    /// Block hash (confirmed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<String>,
    /// Block time (confirmed only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_time: Option<u32>,
}

impl TxStatus {
    /// Status for a confirmation height (or unconfirmed).
    pub fn new(chain: &Chain, height: Option<u32>) -> TxStatus {
        match height.and_then(|h| chain.block_at(h).map(|b| (h, b))) {
            Some((h, b)) => TxStatus {
                confirmed: true,
                block_height: Some(h),
                block_hash: Some(b.hash.to_string()),
                block_time: Some(b.block.header.time),
            },
            None => TxStatus {
                confirmed: false,
                block_height: None,
                block_hash: None,
                block_time: None,
            },
        }
    }
}

/// An output as electrs shows it.
#[derive(Serialize, Clone, Debug)]
pub struct TxOutJson {
    scriptpubkey: String,
    scriptpubkey_asm: String,
    scriptpubkey_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scriptpubkey_address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valuecommitment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assetcommitment: Option<String>,
}

/// electrs' script type names.
pub fn script_type(out: &TxOut) -> &'static str {
    let s = &out.script_pubkey;
    if out.is_fee() {
        "fee"
    } else if s.is_empty() {
        "empty"
    } else if s.is_op_return() {
        "op_return"
    } else if s.is_p2pk() {
        "p2pk"
    } else if s.is_p2pkh() {
        "p2pkh"
    } else if s.is_p2sh() {
        "p2sh"
    } else if s.is_v0_p2wpkh() {
        "v0_p2wpkh"
    } else if s.is_v0_p2wsh() {
        "v0_p2wsh"
    } else if s.is_v1_p2tr() {
        "v1_p2tr"
    } else if s.is_provably_unspendable() {
        "provably_unspendable"
    } else {
        "unknown"
    }
}

/// The unconfidential address of a script on liquidregtest, if it has one.
pub fn script_address(s: &Script) -> Option<String> {
    elements::Address::from_script(s, None, &AddressParams::ELEMENTS).map(|a| a.to_string())
}

fn value_fields(v: &Value) -> (Option<u64>, Option<String>) {
    match v {
        Value::Explicit(x) => (Some(*x), None),
        Value::Confidential(c) => (None, Some(hexutil::encode(&c.serialize()))),
        Value::Null => (None, None),
    }
}

fn asset_fields(a: &Asset) -> (Option<String>, Option<String>) {
    match a {
        Asset::Explicit(id) => (Some(id.to_string()), None),
        Asset::Confidential(g) => (None, Some(hexutil::encode(&g.serialize()))),
        Asset::Null => (None, None),
    }
}

impl TxOutJson {
    /// Converts an output.
    pub fn new(out: &TxOut) -> TxOutJson {
        let (value, valuecommitment) = value_fields(&out.value);
        let (asset, assetcommitment) = asset_fields(&out.asset);
        TxOutJson {
            scriptpubkey: hexutil::encode(out.script_pubkey.as_bytes()),
            scriptpubkey_asm: out.script_pubkey.asm(),
            scriptpubkey_type: script_type(out),
            scriptpubkey_address: script_address(&out.script_pubkey),
            value,
            valuecommitment,
            asset,
            assetcommitment,
        }
    }
}

#[derive(Serialize, Clone, Debug)]
struct IssuanceJson {
    asset_id: String,
    is_reissuance: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset_blinding_nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    contract_hash: Option<String>,
    asset_entropy: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    assetamount: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assetamountcommitment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokenamount: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokenamountcommitment: Option<String>,
}

fn rev_hex(b: [u8; 32]) -> String {
    let mut b = b;
    b.reverse();
    hexutil::encode(&b)
}

impl IssuanceJson {
    fn new(inp: &TxIn) -> IssuanceJson {
        let iss = &inp.asset_issuance;
        let (asset, _) = inp.issuance_ids();
        let reissuance = !iss.asset_blinding_nonce.is_null();
        let entropy = if reissuance {
            iss.asset_entropy
        } else {
            elements::AssetId::generate_asset_entropy(
                inp.previous_output,
                iss.asset_entropy.into_contract_hash(),
            )
        };
        let (assetamount, assetamountcommitment) = value_fields(&iss.amount);
        let (tokenamount, tokenamountcommitment) = match iss.inflation_keys {
            Value::Null => (Some(0), None),
            v => value_fields(&v),
        };
        IssuanceJson {
            asset_id: asset.to_string(),
            is_reissuance: reissuance,
            asset_blinding_nonce: reissuance
                .then(|| rev_hex(iss.asset_blinding_nonce.to_byte_array())),
            contract_hash: (!reissuance)
                .then(|| iss.asset_entropy.into_contract_hash().to_string()),
            asset_entropy: rev_hex(entropy.to_byte_array()),
            assetamount: if assetamountcommitment.is_none() {
                assetamount.or(Some(0))
            } else {
                None
            },
            assetamountcommitment,
            tokenamount,
            tokenamountcommitment,
        }
    }
}

#[derive(Serialize, Clone, Debug)]
struct TxInJson {
    txid: String,
    vout: u32,
    prevout: Option<TxOutJson>,
    scriptsig: String,
    scriptsig_asm: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    witness: Option<Vec<String>>,
    is_coinbase: bool,
    sequence: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    inner_redeemscript_asm: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inner_witnessscript_asm: Option<String>,
    is_pegin: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    issuance: Option<IssuanceJson>,
}

/// A transaction as electrs shows it.
#[derive(Serialize, Clone, Debug)]
pub struct TxJson {
    txid: String,
    version: u32,
    locktime: u32,
    vin: Vec<TxInJson>,
    vout: Vec<TxOutJson>,
    size: usize,
    weight: usize,
    fee: u64,
    status: TxStatus,
    discount_vsize: usize,
    discount_weight: usize,
}

impl TxJson {
    /// Converts a transaction, looking its prevouts up in `chain`.
    pub fn new(chain: &Chain, tx: &Transaction, height: Option<u32>) -> TxJson {
        let coinbase = tx.is_coinbase();
        let vin = tx
            .input
            .iter()
            .map(|inp| {
                let prevout = if coinbase {
                    None
                } else {
                    chain.get_output(&inp.previous_output).map(TxOutJson::new)
                };
                let witness = &inp.witness.script_witness;
                let prev_spk = chain
                    .get_output(&inp.previous_output)
                    .map(|o| o.script_pubkey.clone());
                let redeem = prev_spk
                    .as_ref()
                    .filter(|s| s.is_p2sh())
                    .and_then(|_| last_push(&inp.script_sig));
                let inner_redeemscript_asm = redeem.as_ref().map(|r| Script::from(r.clone()).asm());
                let is_wsh = prev_spk.as_ref().is_some_and(|s| s.is_v0_p2wsh())
                    || redeem
                        .as_ref()
                        .is_some_and(|r| Script::from(r.clone()).is_v0_p2wsh());
                let inner_witnessscript_asm = if is_wsh {
                    witness.last().map(|w| Script::from(w.to_vec()).asm())
                } else {
                    None
                };
                TxInJson {
                    txid: inp.previous_output.txid.to_string(),
                    vout: inp.previous_output.vout,
                    prevout,
                    scriptsig: hexutil::encode(inp.script_sig.as_bytes()),
                    scriptsig_asm: inp.script_sig.asm(),
                    witness: (!witness.is_empty())
                        .then(|| witness.iter().map(hexutil::encode).collect()),
                    is_coinbase: coinbase,
                    sequence: inp.sequence.0,
                    inner_redeemscript_asm,
                    inner_witnessscript_asm,
                    is_pegin: inp.is_pegin,
                    issuance: inp.has_issuance().then(|| IssuanceJson::new(inp)),
                }
            })
            .collect();
        TxJson {
            txid: tx.txid().to_string(),
            version: tx.version,
            locktime: tx.lock_time.to_consensus_u32(),
            vin,
            vout: tx.output.iter().map(TxOutJson::new).collect(),
            size: tx.size(),
            weight: tx.weight(),
            fee: tx.fee_in(chain.policy_asset),
            status: TxStatus::new(chain, height),
            discount_vsize: tx.discount_vsize(),
            discount_weight: tx.discount_weight(),
        }
    }
}

fn last_push(script: &Script) -> Option<Vec<u8>> {
    let mut last = None;
    for ins in script.instructions() {
        match ins {
            Ok(elements::script::Instruction::PushBytes(b)) => last = Some(b.to_vec()),
            Ok(_) => last = None,
            Err(_) => return None,
        }
    }
    last
}

/// A UTXO entry of `/scripthash/:h/utxo`.
#[derive(Serialize, Clone, Debug)]
pub struct UtxoJson {
    txid: String,
    vout: u32,
    status: TxStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    valuecommitment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    asset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    assetcommitment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    noncecommitment: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    surjection_proof: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    range_proof: Option<String>,
}

impl UtxoJson {
    /// Converts an unspent output.
    pub fn new(
        chain: &Chain,
        op: &elements::OutPoint,
        out: &TxOut,
        height: Option<u32>,
    ) -> UtxoJson {
        let (value, valuecommitment) = value_fields(&out.value);
        let (asset, assetcommitment) = asset_fields(&out.asset);
        let (nonce, noncecommitment) = match out.nonce {
            Nonce::Null => (None, None),
            Nonce::Explicit(b) => (Some(hexutil::encode(&b)), None),
            Nonce::Confidential(pk) => (None, Some(hexutil::encode(&pk.serialize()))),
        };
        let mempool = height.is_none();
        UtxoJson {
            txid: op.txid.to_string(),
            vout: op.vout,
            status: TxStatus::new(chain, height),
            value,
            valuecommitment,
            asset,
            assetcommitment,
            nonce,
            noncecommitment,
            surjection_proof: if mempool {
                out.witness
                    .surjection_proof
                    .as_ref()
                    .map(|p| hexutil::encode(&p.serialize()))
            } else {
                None
            },
            range_proof: if mempool {
                out.witness
                    .rangeproof
                    .as_ref()
                    .map(|p| hexutil::encode(&p.serialize()))
            } else {
                None
            },
        }
    }
}

/// Block JSON (`/block/:hash`); `ext` only when asked for.
#[derive(Serialize, Clone, Debug)]
pub struct BlockJson {
    id: String,
    height: u32,
    version: u32,
    timestamp: u32,
    tx_count: usize,
    size: usize,
    weight: usize,
    merkle_root: String,
    previousblockhash: Option<String>,
    mediantime: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    ext: Option<elements::BlockExtData>,
}

impl BlockJson {
    /// Converts the block at `height`.
    pub fn new(chain: &Chain, height: u32, with_ext: bool) -> Option<BlockJson> {
        let b = chain.block_at(height)?;
        let h = &b.block.header;
        Some(BlockJson {
            id: b.hash.to_string(),
            height,
            version: h.version & 0x7fff_ffff,
            timestamp: h.time,
            tx_count: b.block.txdata.len(),
            size: b.size,
            weight: b.weight,
            merkle_root: h.merkle_root.to_string(),
            previousblockhash: (height > 0).then(|| h.prev_blockhash.to_string()),
            mediantime: chain.median_time(height),
            ext: with_ext.then(|| h.ext.clone()),
        })
    }
}
