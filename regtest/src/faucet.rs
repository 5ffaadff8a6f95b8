//! The faucet: spends the anyone-can-spend (OP_TRUE) coins of the chain — the genesis free
//! coins, its own change and the test assets it issued — to any address, blinding the output
//! when the address is confidential. Its transactions go through the same validation as
//! everyone else's.

use elements::confidential::{Asset, AssetBlindingFactor, Nonce, Value, ValueBlindingFactor};
use elements::hashes::sha256;
use elements::{
    Address, AssetId, AssetIssuance, ContractHash, LockTime, OutPoint, Sequence, Transaction, TxIn,
    TxOut, TxOutSecrets, TxOutWitness,
};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::chain::{Chain, COINBASE_MATURITY};
use crate::genesis::op_true;
use crate::validate::min_fee;
use crate::Error;

/// Fee margin over the minimum, in sat, so that a faucet tx never sits at the exact limit.
const FEE_MARGIN: u64 = 10;

fn explicit_out(asset: AssetId, value: u64, script: elements::Script) -> TxOut {
    TxOut {
        asset: Asset::Explicit(asset),
        value: Value::Explicit(value),
        nonce: Nonce::Null,
        script_pubkey: script,
        witness: TxOutWitness::default(),
    }
}

fn input(op: OutPoint) -> TxIn {
    TxIn {
        previous_output: op,
        is_pegin: false,
        script_sig: elements::Script::new(),
        sequence: Sequence::MAX,
        asset_issuance: AssetIssuance::default(),
        witness: Default::default(),
    }
}

/// Picks faucet coins of `asset` worth at least `amount`: (outpoints with values, total).
fn select(
    chain: &Chain,
    asset: AssetId,
    amount: u64,
) -> Result<(Vec<(OutPoint, u64)>, u64), Error> {
    let next = chain.tip_height().saturating_add(1);
    let mut coins: Vec<(OutPoint, u64)> = chain
        .faucet_coins
        .iter()
        .filter(|(_, (a, _, h, cb))| {
            *a == asset && (!*cb || h.is_some_and(|h| next.saturating_sub(h) >= COINBASE_MATURITY))
        })
        .map(|(op, (_, v, _, _))| (*op, *v))
        .collect();
    coins.sort_by_key(|c| std::cmp::Reverse(c.1));
    let mut picked = Vec::new();
    let mut total: u64 = 0;
    for c in coins {
        if total >= amount {
            break;
        }
        total = total.saturating_add(c.1);
        picked.push(c);
    }
    if total < amount || picked.is_empty() {
        return Err(Error::Faucet(format!(
            "the faucet holds less than {amount} sat of asset {asset}"
        )));
    }
    Ok((picked, total))
}

/// Builds a faucet payment of `amount` of `asset` (policy asset when `None`) to `address`.
pub fn build_payment(
    chain: &Chain,
    secp: &elements::secp256k1_zkp::Secp256k1<elements::secp256k1_zkp::All>,
    seed: u64,
    address: &Address,
    amount: u64,
    asset: Option<AssetId>,
) -> Result<Transaction, Error> {
    if amount == 0 {
        return Err(Error::Faucet("amount must be positive".into()));
    }
    let policy = chain.policy_asset;
    let asset = asset.unwrap_or(policy);
    // Fee budget: generous upper bound, refined below.
    let fee_budget = 5_000u64;
    let mut ins: Vec<(OutPoint, AssetId, u64)> = Vec::new();
    let mut change: Vec<(AssetId, u64)> = Vec::new();
    if asset == policy {
        let need = amount
            .checked_add(fee_budget)
            .ok_or_else(|| Error::Faucet("amount too large".into()))?;
        let (coins, total) = select(chain, policy, need)?;
        ins.extend(coins.iter().map(|(op, v)| (*op, policy, *v)));
        change.push((policy, total - amount));
    } else {
        let (coins, total) = select(chain, asset, amount)?;
        ins.extend(coins.iter().map(|(op, v)| (*op, asset, *v)));
        if total > amount {
            change.push((asset, total - amount));
        }
        let (fcoins, ftotal) = select(chain, policy, fee_budget)?;
        ins.extend(fcoins.iter().map(|(op, v)| (*op, policy, *v)));
        change.push((policy, ftotal));
    }
    let mut tx = Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: ins.iter().map(|(op, _, _)| input(*op)).collect(),
        output: Vec::new(),
    };
    let dest = match address.blinding_pubkey {
        Some(blinder) => {
            let secrets: Vec<TxOutSecrets> = ins
                .iter()
                .map(|(_, a, v)| {
                    TxOutSecrets::new(
                        *a,
                        AssetBlindingFactor::zero(),
                        *v,
                        ValueBlindingFactor::zero(),
                    )
                })
                .collect();
            let mut rng = StdRng::seed_from_u64(seed);
            let (out, _, _, _) = TxOut::new_last_confidential(
                &mut rng,
                secp,
                amount,
                asset,
                address.script_pubkey(),
                blinder,
                &secrets,
                &[],
            )
            .map_err(|e| Error::Faucet(format!("blinding failed: {e}")))?;
            out
        }
        None => explicit_out(asset, amount, address.script_pubkey()),
    };
    tx.output.push(dest);
    // Change back to the faucet (explicit), policy change last so the fee comes out of it.
    for (a, v) in &change {
        if *a != policy && *v > 0 {
            tx.output.push(explicit_out(*a, *v, op_true()));
        }
    }
    let policy_change = change
        .iter()
        .find(|(a, _)| *a == policy)
        .map(|c| c.1)
        .unwrap_or(0);
    tx.output
        .push(explicit_out(policy, policy_change, op_true()));
    tx.output.push(TxOut::new_fee(1, policy));
    set_fee(&mut tx, policy_change)?;
    Ok(tx)
}

/// Sets the fee output (last) and the policy change (second to last) for the final size.
fn set_fee(tx: &mut Transaction, policy_change_plus_fee: u64) -> Result<(), Error> {
    let fee = min_fee(tx).saturating_add(FEE_MARGIN);
    let change = policy_change_plus_fee
        .checked_sub(fee)
        .filter(|c| *c > 0)
        .ok_or_else(|| Error::Faucet("not enough L-BTC for the fee".into()))?;
    let n = tx.output.len();
    tx.output[n - 1].value = Value::Explicit(fee);
    tx.output[n - 2].value = Value::Explicit(change);
    Ok(())
}

/// The contract hash of a test asset issued by name only ([`crate::Sandbox::issue`]):
/// sha256 of `name`, zero without one.
pub fn name_contract_hash(name: Option<&str>) -> ContractHash {
    match name {
        Some(n) => ContractHash::from_byte_array(sha256::Hash::hash(n.as_bytes()).to_byte_array()),
        None => ContractHash::from_byte_array([0; 32]),
    }
}

/// The contract hash of a JSON contract, as Elements and the asset registry compute it (the
/// object's keys sorted, compact). The contract must be a JSON object.
pub fn json_contract_hash(contract: &str) -> Result<ContractHash, Error> {
    let value: serde_json::Value = serde_json::from_str(contract)
        .map_err(|e| Error::InvalidArgument(format!("the contract is not JSON: {e}")))?;
    if !value.is_object() {
        return Err(Error::InvalidArgument(
            "the contract must be a JSON object".into(),
        ));
    }
    ContractHash::from_json_contract(contract)
        .map_err(|e| Error::InvalidArgument(format!("the contract is not a JSON object: {e}")))
}

/// Builds an issuance of `amount` of a new asset plus one reissuance token, both kept by the
/// faucet (explicit OP_TRUE outputs), committing to `contract` (the asset id depends on it).
pub fn build_issuance(
    chain: &Chain,
    amount: u64,
    contract: ContractHash,
) -> Result<(Transaction, AssetId, AssetId), Error> {
    if amount == 0 || amount > crate::validate::MAX_MONEY {
        return Err(Error::Faucet(
            "issuance amount must be between 1 and 21e14".into(),
        ));
    }
    let policy = chain.policy_asset;
    let (coins, total) = select(chain, policy, 5_000)?;
    let mut inputs: Vec<TxIn> = coins.iter().map(|(op, _)| input(*op)).collect();
    inputs[0].asset_issuance = AssetIssuance {
        asset_blinding_nonce: elements::AssetBlindingNonce::NEW_ISSUANCE,
        asset_entropy: elements::AssetEntropy::from_byte_array(contract.to_byte_array()),
        amount: Value::Explicit(amount),
        inflation_keys: Value::Explicit(1),
    };
    let (asset, token) = inputs[0].issuance_ids();
    let mut tx = Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: inputs,
        output: vec![
            explicit_out(asset, amount, op_true()),
            explicit_out(token, 1, op_true()),
            explicit_out(policy, total, op_true()),
            TxOut::new_fee(1, policy),
        ],
    };
    set_fee(&mut tx, total)?;
    Ok((tx, asset, token))
}
