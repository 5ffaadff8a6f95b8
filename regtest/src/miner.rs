//! Block assembly: coinbase, merkle roots, witness commitment and the liquidregtest header.

use elements::confidential::{Asset, Nonce, Value};
use elements::hashes::sha256d;
use elements::{
    Block, BlockHash, BlockHeader, LockTime, OutPoint, Script, Sequence, Transaction, TxIn,
    TxInWitness, TxMerkleNode, TxOut, TxOutWitness,
};

use crate::genesis;
use crate::merkle::merkle_root;

fn hash_bytes_vec(b: &[u8]) -> [u8; 32] {
    // sha256d of a serialized byte vector (compact size + bytes).
    let mut v = Vec::with_capacity(b.len() + 9);
    elements::encode::Encodable::consensus_encode(&b.to_vec(), &mut v).unwrap_or_default();
    sha256d::Hash::hash(&v).to_byte_array()
}

fn hash_stack(stack: &[Vec<u8>]) -> [u8; 32] {
    let mut v = Vec::new();
    elements::encode::Encodable::consensus_encode(&stack.to_vec(), &mut v).unwrap_or_default();
    sha256d::Hash::hash(&v).to_byte_array()
}

fn fast_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    elements::fast_merkle_root(leaves).to_parts().0
}

/// Elements' witness-only hash of a transaction (the leaf of the block witness merkle tree):
/// a fast merkle root over the input witnesses and the output witnesses.
pub fn witness_only_hash(tx: &Transaction) -> [u8; 32] {
    let ins: Vec<[u8; 32]> = tx
        .input
        .iter()
        .map(|i| {
            let empty = i.previous_output.is_null();
            let w = &i.witness;
            let amount = if empty {
                Vec::new()
            } else {
                w.amount_rangeproof
                    .as_ref()
                    .map(|p| p.serialize())
                    .unwrap_or_default()
            };
            let keys = if empty {
                Vec::new()
            } else {
                w.inflation_keys_rangeproof
                    .as_ref()
                    .map(|p| p.serialize())
                    .unwrap_or_default()
            };
            let script = if empty {
                Vec::new()
            } else {
                w.script_witness.to_vec()
            };
            let pegin = if empty {
                vec![0u8]
            } else {
                elements::encode::serialize(&w.pegin_witness)
            };
            fast_root(&[
                hash_bytes_vec(&amount),
                hash_bytes_vec(&keys),
                hash_stack(&script),
                sha256d::Hash::hash(&pegin).to_byte_array(),
            ])
        })
        .collect();
    let outs: Vec<[u8; 32]> = tx
        .output
        .iter()
        .map(|o| {
            let sp = o
                .witness
                .surjection_proof
                .as_ref()
                .map(|p| p.serialize())
                .unwrap_or_default();
            let rp = o
                .witness
                .rangeproof
                .as_ref()
                .map(|p| p.serialize())
                .unwrap_or_default();
            fast_root(&[hash_bytes_vec(&sp), hash_bytes_vec(&rp)])
        })
        .collect();
    fast_root(&[fast_root(&ins), fast_root(&outs)])
}

fn script_num(n: u32) -> Vec<u8> {
    // Minimal CScriptNum push as BIP34 wants.
    if n == 0 {
        return vec![0x00];
    }
    if (1..=16).contains(&n) {
        // CScript << n emits OP_1..OP_16 for small numbers.
        return vec![0x50 + n as u8];
    }
    let mut v = Vec::new();
    let mut x = n;
    while x > 0 {
        v.push((x & 0xff) as u8);
        x >>= 8;
    }
    if v.last().is_some_and(|b| b & 0x80 != 0) {
        v.push(0);
    }
    let mut s = vec![v.len() as u8];
    s.extend(v);
    s
}

/// Builds the coinbase of a block at `height` paying `fees` (policy asset) to OP_TRUE, with the
/// segwit witness commitment over `txs` (the block's other transactions). `extra_nonce` (0
/// normally; the branch number after a reorganisation) goes in the script after the height,
/// so that a block mined again on the same parent with the same transactions in the same
/// second is still another block, as a real miner's would be.
pub fn coinbase(height: u32, fees: u64, txs: &[Transaction], extra_nonce: u32) -> Transaction {
    let policy = genesis::policy_asset();
    let mut sig = script_num(height);
    let nonce = extra_nonce.wrapping_add(1).to_le_bytes();
    let len = nonce.iter().rposition(|b| *b != 0).map_or(1, |i| i + 1);
    sig.push(len as u8);
    sig.extend_from_slice(&nonce[..len]);
    let reserved = [0u8; 32];
    let payout = if fees > 0 {
        TxOut {
            asset: Asset::Explicit(policy),
            value: Value::Explicit(fees),
            nonce: Nonce::Null,
            script_pubkey: genesis::op_true(),
            witness: TxOutWitness::default(),
        }
    } else {
        TxOut {
            asset: Asset::Explicit(policy),
            value: Value::Explicit(0),
            nonce: Nonce::Null,
            script_pubkey: Script::from(vec![0x6a]),
            witness: TxOutWitness::default(),
        }
    };
    let commit = TxOut {
        asset: Asset::Explicit(policy),
        value: Value::Explicit(0),
        nonce: Nonce::Null,
        script_pubkey: Script::new(),
        witness: TxOutWitness::default(),
    };
    let mut cb = Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::null(),
            is_pegin: false,
            script_sig: Script::from(sig),
            sequence: Sequence::MAX,
            asset_issuance: Default::default(),
            witness: TxInWitness {
                script_witness: elements::Witness::from_slice(&[reserved]),
                ..Default::default()
            },
        }],
        output: vec![payout, commit],
    };
    // Elements commits to the witness-only hashes (coinbase included: its input witness counts
    // as empty) in a fast merkle tree, then sha256d(root || reserved value).
    let mut leaves = vec![witness_only_hash(&cb)];
    leaves.extend(txs.iter().map(witness_only_hash));
    let mut pre = [0u8; 64];
    pre[..32].copy_from_slice(&fast_root(&leaves));
    pre[32..].copy_from_slice(&reserved);
    let commitment = sha256d::Hash::hash(&pre).to_byte_array();
    let mut commit_script = vec![0x6a, 0x24, 0xaa, 0x21, 0xa9, 0xed];
    commit_script.extend_from_slice(&commitment);
    cb.output[1].script_pubkey = Script::from(commit_script);
    cb
}

/// Assembles a block at `height` on top of `prev` with `txs` (fees summed by the caller);
/// `extra_nonce` as for [`coinbase`].
pub fn build_block(
    prev: BlockHash,
    height: u32,
    time: u32,
    fees: u64,
    txs: Vec<Transaction>,
    extra_nonce: u32,
) -> Block {
    let cb = coinbase(height, fees, &txs, extra_nonce);
    let mut txdata = vec![cb];
    txdata.extend(txs);
    let leaves: Vec<[u8; 32]> = txdata.iter().map(|t| t.txid().to_byte_array()).collect();
    let root = merkle_root(&leaves);
    Block {
        header: BlockHeader {
            version: 0x2000_0000,
            prev_blockhash: prev,
            merkle_root: TxMerkleNode::from_byte_array(root),
            time,
            height,
            ext: genesis::ext_data(height),
        },
        txdata,
    }
}
