//! Relay policy on outputs, as elementsd 23.3.3 applies it before a transaction enters the
//! mempool (`IsStandardTx` in `policy/policy.cpp`; liquidregtest requires standard
//! transactions): a data output (`OP_RETURN` followed by pushes only, which is what a
//! peg-out is) is standard up to [`MAX_OP_RETURN_RELAY`] bytes of script, and a transaction
//! may carry more than one only when the chain runs with `-multi_data_permitted=1` (the
//! default is `-enforce_pak`'s, off on liquidregtest; Liquid mainnet and testnet allow
//! several). Refusals are elementsd's: `-26: scriptpubkey`, `-26: multi-op-return`.
//!
//! Peg-out outputs get no other check from elementsd without PAK (`-enforce_pak=0`, the
//! liquidregtest default): their value is an ordinary explicit amount (at most `MAX_MONEY`,
//! checked with every output), and an `OP_RETURN` naming another genesis hash is just a
//! burn. The wallet, not the chain, checks that a peg-out names the parent chain.

use elements::Transaction;

use crate::validate::Reject;

/// The largest standard data (`OP_RETURN`) script, in bytes (`MAX_OP_RETURN_RELAY`).
pub const MAX_OP_RETURN_RELAY: usize = 83;

/// Relay policy options of the chain (elementsd's command-line options of the same names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayPolicy {
    /// `-multi_data_permitted`: relay transactions with more than one data output.
    pub multi_data_permitted: bool,
}

/// Checks `tx`'s outputs against the relay policy.
pub fn check_outputs(tx: &Transaction, policy: RelayPolicy) -> Result<(), Reject> {
    let mut data_outputs = 0usize;
    for out in &tx.output {
        let script = out.script_pubkey.as_bytes();
        let is_op_return = script.first() == Some(&elements::opcodes::all::OP_RETURN.into_u8());
        if !is_op_return {
            continue;
        }
        // `OP_RETURN` followed by anything but pushes is a nonstandard script.
        if !out.is_null_data() || script.len() > MAX_OP_RETURN_RELAY {
            return Err(Reject::rejected("scriptpubkey"));
        }
        data_outputs += 1;
    }
    if data_outputs > 1 && !policy.multi_data_permitted {
        return Err(Reject::rejected("multi-op-return"));
    }
    Ok(())
}
