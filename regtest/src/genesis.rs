//! Elements `liquidregtest` chain parameters: genesis block, policy asset, dynafed parameters.

use elements::bitcoin;
use elements::confidential::{Asset, Nonce, Value};
use elements::dynafed::{FullParams, Params};
use elements::genesis::NetworkParams;
use elements::hashes::{hash160, sha256};
use elements::script;
use elements::{
    AssetBlindingNonce, AssetEntropy, AssetId, AssetIssuance, Block, BlockExtData, BlockHash,
    BlockHeader, ContractHash, LockTime, OutPoint, Script, Sequence, Transaction, TxIn,
    TxInWitness, TxMerkleNode, TxOut, TxOutWitness, Txid,
};

/// Initial free coins of the sandbox genesis (`initialfreecoins=2100000000000000`), in sat.
pub const INITIAL_FREE_COINS: u64 = 2_100_000_000_000_000;
/// Dynafed epoch length of liquidregtest: blocks at heights that are multiples of it carry full
/// parameters (and so does the first dynafed block).
pub const DYNAFED_EPOCH_LENGTH: u32 = 10;
/// Maximum size of the block signing witness on liquidregtest.
pub const SIGNBLOCK_WITNESS_LIMIT: u32 = 74;
/// Default PAK extension space entry of liquidregtest (one 66-byte entry, two compressed keys).
const EXTENSION_SPACE_ENTRY: &str = "02fcba7ecf41bc7e1be4ee122d9d22e3333671eb0a3a87b5cdf099d59874e1940f02fcba7ecf41bc7e1be4ee122d9d22e3333671eb0a3a87b5cdf099d59874e1940f";

/// The OP_TRUE script (`51`), used for the free coins, the block challenge and fedpeg script.
pub fn op_true() -> Script {
    Script::from(vec![0x51])
}

/// Network parameters that `liquidregtest` commits to in its genesis block.
pub fn network_params() -> NetworkParams {
    NetworkParams::custom_network(
        "liquidregtest".to_string(),
        Some(op_true()),
        Some(op_true()),
        Some(INITIAL_FREE_COINS),
    )
}

/// The commitment to the chain parameters pushed by the genesis coinbase, also the txid of the
/// virtual outpoint the pegged asset is issued from.
fn params_commitment() -> [u8; 32] {
    elements::genesis::commit_to_custom_network_parameters(&network_params()).to_byte_array()
}

/// The virtual outpoint the policy asset is issued from.
fn policy_issuance_outpoint() -> OutPoint {
    OutPoint::new(Txid::from_byte_array(params_commitment()), 0)
}

/// Contract hash of the policy asset issuance: the parent chain's genesis hash (internal order).
fn policy_contract_hash() -> ContractHash {
    ContractHash::from_byte_array(*AsRef::<[u8; 32]>::as_ref(&parent_genesis_hash()))
}

/// The genesis block of `liquidregtest`: the parameter-committing coinbase and the issuance of
/// the pegged asset's `initialfreecoins` to an OP_TRUE output.
pub fn genesis_block() -> Block {
    let coinbase = Transaction {
        version: 1,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: OutPoint::default(),
            is_pegin: false,
            script_sig: script::Builder::new()
                .push_slice(&params_commitment())
                .into_script(),
            sequence: Sequence::MAX,
            asset_issuance: AssetIssuance::default(),
            witness: TxInWitness::default(),
        }],
        output: vec![TxOut {
            asset: Asset::Explicit(AssetId::default()),
            value: Value::Explicit(0),
            nonce: Nonce::Null,
            script_pubkey: Script::from(vec![0x6a]),
            witness: TxOutWitness::default(),
        }],
    };
    let issuance = Transaction {
        version: 1,
        lock_time: LockTime::ZERO,
        input: vec![TxIn {
            previous_output: policy_issuance_outpoint(),
            is_pegin: false,
            script_sig: Script::new(),
            sequence: Sequence::MAX,
            asset_issuance: AssetIssuance {
                asset_blinding_nonce: AssetBlindingNonce::NEW_ISSUANCE,
                asset_entropy: AssetEntropy::from_byte_array(
                    policy_contract_hash().to_byte_array(),
                ),
                amount: Value::Explicit(INITIAL_FREE_COINS),
                inflation_keys: Value::Explicit(0),
            },
            witness: TxInWitness::default(),
        }],
        output: vec![TxOut {
            asset: Asset::Explicit(policy_asset()),
            value: Value::Explicit(INITIAL_FREE_COINS),
            nonce: Nonce::Null,
            script_pubkey: op_true(),
            witness: TxOutWitness::default(),
        }],
    };
    let root = crate::merkle::merkle_root(&[
        coinbase.txid().to_byte_array(),
        issuance.txid().to_byte_array(),
    ]);
    Block {
        header: BlockHeader {
            version: 1,
            prev_blockhash: BlockHash::from_byte_array([0; 32]),
            merkle_root: TxMerkleNode::from_byte_array(root),
            time: 1_296_688_602,
            height: 0,
            ext: BlockExtData::Proof {
                challenge: op_true(),
                solution: Script::new(),
            },
        },
        txdata: vec![coinbase, issuance],
    }
}

/// The policy asset (L-BTC) of `liquidregtest`.
pub fn policy_asset() -> AssetId {
    AssetId::new_issuance(policy_issuance_outpoint(), policy_contract_hash())
}

/// Genesis block hash of the parent chain (Bitcoin regtest), used by peg-outs.
pub fn parent_genesis_hash() -> bitcoin::BlockHash {
    bitcoin::constants::genesis_block(bitcoin::Network::Regtest).block_hash()
}

/// The P2WSH of OP_TRUE: liquidregtest's dynafed `signblockscript`.
pub fn signblockscript() -> Script {
    let h = sha256::Hash::hash(&[0x51]);
    let mut v = vec![0x00, 0x20];
    v.extend_from_slice(h.as_byte_array());
    Script::from(v)
}

/// Full dynafed parameters of liquidregtest.
pub fn full_params() -> FullParams {
    let p2wsh = signblockscript();
    let h = hash160::Hash::hash(p2wsh.as_bytes());
    let mut prog = vec![0xa9, 0x14];
    prog.extend_from_slice(h.as_byte_array());
    prog.push(0x87);
    let ext = crate::hexutil::decode(EXTENSION_SPACE_ENTRY).unwrap_or_default();
    FullParams::new(
        signblockscript(),
        SIGNBLOCK_WITNESS_LIMIT,
        bitcoin::ScriptBuf::from(prog),
        vec![0x51],
        vec![ext],
    )
}

/// The block extension data of a block at `height` (>= 1): full parameters at epoch starts and
/// at height 1, compact otherwise; the signblock witness satisfies P2WSH(OP_TRUE).
pub fn ext_data(height: u32) -> BlockExtData {
    let full = full_params();
    let current = if height == 1 || height.is_multiple_of(DYNAFED_EPOCH_LENGTH) {
        Params::Full(full)
    } else {
        full.into_compact()
    };
    BlockExtData::Dynafed {
        current,
        proposed: Params::Null,
        signblock_witness: vec![vec![0x51]],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_asset_matches_liquidregtest() {
        assert_eq!(
            policy_asset().to_string(),
            "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225"
        );
        assert_eq!(
            genesis_block().block_hash().to_string(),
            "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21"
        );
        assert_eq!(
            parent_genesis_hash().to_string(),
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        );
    }
}
