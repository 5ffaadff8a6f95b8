//! Bitcoin-style merkle trees of transaction ids: the root a block header commits to, and
//! the branch that proves a transaction is in a block (Electrum's `get_merkle`, Esplora's
//! `merkle-proof`).

use elements::bitcoin;
use elements::bitcoin::hashes::Hash as _;
use elements::hashes::sha256d;

/// Bitcoin-style merkle root of 32-byte leaves (duplicating the last of an odd level).
pub fn merkle_root(leaves: &[[u8; 32]]) -> [u8; 32] {
    let hashes = leaves.iter().map(|l| sha256d::Hash::from_byte_array(*l));
    let hashes = hashes.map(|h| bitcoin::hashes::sha256d::Hash::from_byte_array(h.to_byte_array()));
    bitcoin::merkle_tree::calculate_root(hashes)
        .map(|h| h.to_byte_array())
        .unwrap_or([0u8; 32])
}

/// Merkle branch (sibling hashes, bottom-up) for leaf `pos`.
pub fn merkle_branch(leaves: &[[u8; 32]], mut pos: usize) -> Vec<[u8; 32]> {
    let mut level: Vec<[u8; 32]> = leaves.to_vec();
    let mut branch = Vec::new();
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            let last = level[level.len() - 1];
            level.push(last);
        }
        branch.push(level[pos ^ 1]);
        level = level
            .chunks(2)
            .map(|p| {
                let mut b = [0u8; 64];
                b[..32].copy_from_slice(&p[0]);
                b[32..].copy_from_slice(&p[1]);
                sha256d::Hash::hash(&b).to_byte_array()
            })
            .collect();
        pos /= 2;
    }
    branch
}
