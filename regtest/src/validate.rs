//! Strict, all-or-nothing validation of a transaction against the chain and mempool.
//!
//! Refusals carry elementsd's RPC error code and reason, and render like electrs
//! (`sendrawtransaction RPC error <code>: <reason>`).

use elements::confidential::Value;
use elements::secp256k1_zkp::{Generator, Secp256k1, Tweak};
use elements::sighash::SighashCache;
use elements::{AssetId, Transaction, TxOut};

use crate::chain::{Chain, COINBASE_MATURITY};
use crate::sigcheck;

/// Largest explicit amount (21M BTC in sat).
pub const MAX_MONEY: u64 = 2_100_000_000_000_000;
/// Largest transaction weight accepted.
pub const MAX_TX_WEIGHT: usize = 400_000;
/// Minimum relay fee rate in sat per 1000 discounted vbytes (0.1 sat/vB, ELIP-200).
pub const MIN_RELAY_FEE_PER_KVB: u64 = 100;

/// A refused transaction: elementsd's RPC error code and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// RPC error code (-22 decode, -25 missing inputs, -26 policy/consensus, -27 already known).
    pub code: i32,
    /// Reason text.
    pub reason: String,
}

impl Reject {
    fn new(code: i32, reason: impl Into<String>) -> Reject {
        Reject {
            code,
            reason: reason.into(),
        }
    }
    /// A -26 (verify rejected) refusal.
    pub fn rejected(reason: impl Into<String>) -> Reject {
        Reject::new(-26, reason)
    }
    /// The decode failure refusal.
    pub fn decode() -> Reject {
        Reject::new(
            -22,
            "TX decode failed. Make sure the tx has at least one input.",
        )
    }
    /// The text Blockstream's electrs returns for this refusal.
    pub fn message(&self) -> String {
        format!(
            "sendrawtransaction RPC error {}: {}",
            self.code, self.reason
        )
    }

    /// The text the electrs of `flavour` returns for this refusal (mempool.space's quotes
    /// elementsd's JSON-RPC error object).
    pub fn message_for(&self, flavour: crate::EsploraFlavour) -> String {
        match flavour {
            crate::EsploraFlavour::Blockstream => self.message(),
            crate::EsploraFlavour::Mempool => format!(
                "sendrawtransaction RPC error: {}",
                serde_json::json!({"code": self.code, "message": self.reason})
            ),
        }
    }
}

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

/// What validation learned about an accepted transaction.
#[derive(Clone, Debug)]
pub struct Accepted {
    /// Fee in the policy asset.
    pub fee: u64,
    /// Mempool transactions this one replaces (BIP125), with their descendants.
    pub replaces: Vec<elements::Txid>,
}

/// Formats sat per vbyte as elementsd's BTC/kvB with 8 decimals.
fn btc_per_kvb(fee: u64, vsize: usize) -> String {
    let sat_per_kvb = (fee as u128 * 1000) / (vsize.max(1) as u128);
    format!(
        "{}.{:08}",
        sat_per_kvb / 100_000_000,
        sat_per_kvb % 100_000_000
    )
}

/// Incremental relay fee for replacements, sat per 1000 vbytes (elementsd's default).
pub const INCREMENTAL_RELAY_FEE_PER_KVB: u64 = 1000;

/// Which mempool transactions `tx` would replace; refuses non-signalling or underpaying
/// replacements the way elementsd does.
pub fn replacement_set(
    chain: &Chain,
    tx: &Transaction,
    fee: u64,
) -> Result<Vec<elements::Txid>, Reject> {
    let mut direct: Vec<elements::Txid> = tx
        .input
        .iter()
        .filter_map(|i| chain.mempool_spender(&i.previous_output).map(|(t, _)| t))
        .collect();
    direct.sort_unstable();
    direct.dedup();
    if direct.is_empty() {
        return Ok(Vec::new());
    }
    let txid = tx.txid();
    let vsize = tx.vsize();
    for c in &direct {
        let Some(e) = chain.mempool_entry(c) else {
            continue;
        };
        if !e.tx.input.iter().any(|i| i.sequence.0 < 0xffff_fffe) {
            return Err(Reject::rejected("txn-mempool-conflict"));
        }
        // New fee rate must beat each directly conflicting tx's.
        if (fee as u128) * (e.vsize as u128) <= (e.fee as u128) * (vsize as u128) {
            return Err(Reject::rejected(format!(
                "insufficient fee, rejecting replacement {txid}; new feerate {} BTC/kvB <= old feerate {} BTC/kvB",
                btc_per_kvb(fee, vsize),
                btc_per_kvb(e.fee, e.vsize)
            )));
        }
    }
    let all = chain.mempool_descendants(&direct);
    if all.len() > 100 {
        return Err(Reject::rejected(format!(
            "too many potential replacements, rejecting replacement {txid}; too many potential replacements ({} > 100)",
            all.len()
        )));
    }
    for i in &tx.input {
        if all.contains(&i.previous_output.txid) {
            return Err(Reject::rejected(format!(
                "bad-txns-spends-conflicting-tx, {txid} spends conflicting transaction {}",
                i.previous_output.txid
            )));
        }
    }
    let old: u64 = all
        .iter()
        .filter_map(|t| chain.mempool_entry(t))
        .map(|e| e.fee)
        .fold(0u64, u64::saturating_add);
    if fee < old {
        return Err(Reject::rejected(format!(
            "insufficient fee, rejecting replacement {txid}, less fees than conflicting txs; {} < {}",
            btc_amount(fee),
            btc_amount(old)
        )));
    }
    let extra = (vsize as u64 * INCREMENTAL_RELAY_FEE_PER_KVB).div_ceil(1000);
    if fee - old < extra {
        return Err(Reject::rejected(format!(
            "insufficient fee, rejecting replacement {txid}, not enough additional fees to relay; {} < {}",
            btc_amount(fee - old),
            btc_amount(extra)
        )));
    }
    Ok(all)
}

fn btc_amount(sat: u64) -> String {
    format!("{}.{:08}", sat / 100_000_000, sat % 100_000_000)
}

/// Parses a hex transaction as elementsd would (any parse error is the decode refusal).
pub fn parse_hex(hex: &str) -> Result<Transaction, Reject> {
    let bytes = crate::hexutil::decode(hex.trim()).ok_or_else(Reject::decode)?;
    let tx: Transaction = elements::encode::deserialize(&bytes).map_err(|_| Reject::decode())?;
    if tx.input.is_empty() {
        return Err(Reject::decode());
    }
    Ok(tx)
}

/// Context-free checks (CheckTransaction).
fn check_context_free(tx: &Transaction, policy: AssetId) -> Result<(), Reject> {
    if tx.input.is_empty() {
        return Err(Reject::rejected("bad-txns-vin-empty"));
    }
    if tx.output.is_empty() {
        return Err(Reject::rejected("bad-txns-vout-empty"));
    }
    if tx.weight() > MAX_TX_WEIGHT {
        return Err(Reject::rejected("tx-size"));
    }
    if tx.is_coinbase() {
        return Err(Reject::rejected("coinbase"));
    }
    if tx.input.len() > 256 {
        return Err(Reject::rejected("sandbox-too-many-inputs (at most 256)"));
    }
    let mut seen = std::collections::HashSet::new();
    for inp in &tx.input {
        if !seen.insert(inp.previous_output) {
            return Err(Reject::rejected("bad-txns-inputs-duplicate"));
        }
        if inp.previous_output.is_null() {
            return Err(Reject::rejected("bad-txns-prevout-null"));
        }
        if inp.is_pegin {
            return Err(Reject::rejected(
                "sandbox-unsupported (peg-in inputs are not supported)",
            ));
        }
        if !inp.witness.pegin_witness.is_empty() {
            return Err(Reject::rejected("bad-txns-superfluous-pegin-witness"));
        }
        let iss = &inp.asset_issuance;
        if !iss.amount.is_confidential() && inp.witness.amount_rangeproof.as_ref().is_some() {
            return Err(Reject::rejected("bad-txns-superfluous-issuance-rangeproof"));
        }
        if !iss.inflation_keys.is_confidential()
            && inp.witness.inflation_keys_rangeproof.as_ref().is_some()
        {
            return Err(Reject::rejected("bad-txns-superfluous-issuance-rangeproof"));
        }
    }
    for out in &tx.output {
        match out.value {
            Value::Explicit(v) if v > MAX_MONEY => {
                return Err(Reject::rejected("bad-txns-vout-toolarge"))
            }
            Value::Null => return Err(Reject::rejected("bad-txns-vout-null")),
            _ => {}
        }
        if out.asset.is_null() {
            return Err(Reject::rejected("bad-txns-asset-null"));
        }
        // Proofs only where something is blinded.
        if out.value.is_explicit() && out.witness.rangeproof.as_ref().is_some() {
            return Err(Reject::rejected("bad-txns-superfluous-rangeproof"));
        }
        if out.asset.is_explicit() && out.witness.surjection_proof.as_ref().is_some() {
            return Err(Reject::rejected("bad-txns-superfluous-surjectionproof"));
        }
        if out.script_pubkey.is_empty() {
            // A fee output is explicit; an explicit one must be in the policy asset. A
            // blinded output with an empty script is no fee (elementsd then finds the fee too
            // low, not the output wrong).
            if let (Some(a), Some(_)) = (out.asset.explicit(), out.value.explicit()) {
                if a != policy {
                    return Err(Reject::rejected(
                        "sandbox-fee-asset (fee outputs must be in the policy asset)",
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Most bytes of a data (`OP_RETURN`) output's script (elementsd's `-datacarriersize` 80 plus
/// the opcode and push prefixes).
pub const MAX_DATA_SCRIPT: usize = 83;
/// elementsd's dust relay fee, sat per 1000 bytes (Elements' default, a thirtieth of
/// Bitcoin's; measured against elementsd 23.3.3 by `tests/e2e/differential.rs`).
pub const DUST_RELAY_FEE_PER_KB: u64 = 100;

/// The smallest explicit value an output may carry (elementsd's `GetDustThreshold`): the fee,
/// at the dust relay rate and rounded up as `CFeeRate::GetFee` does, of the output and of an
/// input spending it (14 sat for an explicit P2WPKH output, 15 for P2WSH). 0 for
/// unspendable outputs.
pub fn dust_threshold(out: &TxOut) -> u64 {
    if out.script_pubkey.is_provably_unspendable() {
        return 0;
    }
    let size = elements::encode::serialize(&TxOut {
        witness: Default::default(),
        ..out.clone()
    })
    .len() as u64;
    let spend = if out.script_pubkey.is_witness_program() {
        32 + 4 + 1 + 107 / 4 + 4
    } else {
        32 + 4 + 1 + 107 + 4
    };
    ((size + spend) * DUST_RELAY_FEE_PER_KB).div_ceil(1000)
}

/// Standardness (elementsd's `IsStandardTx`, the rules the corpus of `tests/e2e/differential.rs`
/// compares): version 1 or 2, data outputs of at most 83 bytes, no dust among explicit
/// outputs of the policy asset (fee outputs aside; elementsd applies no dust rule to other
/// assets: a 1-unit explicit reissuance token output is standard).
pub fn check_standard(tx: &Transaction, policy: AssetId) -> Result<(), Reject> {
    if !(1..=2).contains(&tx.version) {
        return Err(Reject::rejected("version"));
    }
    for out in &tx.output {
        if out.script_pubkey.is_op_return() && out.script_pubkey.len() > MAX_DATA_SCRIPT {
            return Err(Reject::rejected("scriptpubkey"));
        }
    }
    for out in &tx.output {
        if out.script_pubkey.is_empty() || out.asset.explicit() != Some(policy) {
            continue;
        }
        if let Some(v) = out.value.explicit() {
            if v < dust_threshold(out) {
                return Err(Reject::rejected("dust"));
            }
        }
    }
    Ok(())
}

fn tweak_of(nonce: &elements::AssetBlindingNonce) -> Option<Tweak> {
    Tweak::from_slice(&nonce.to_byte_array()).ok()
}

/// Issuance and reissuance rules; returns nothing but refuses bad ones.
fn check_issuances(
    secp: &Secp256k1<elements::secp256k1_zkp::All>,
    tx: &Transaction,
    spent: &[TxOut],
) -> Result<(), Reject> {
    for (i, inp) in tx.input.iter().enumerate() {
        if !inp.has_issuance() {
            continue;
        }
        let iss = &inp.asset_issuance;
        let (asset, _) = inp.issuance_ids();
        if !iss.asset_blinding_nonce.is_null() {
            // Reissuance: only with the token, never minting more tokens.
            if !iss.inflation_keys.is_null() && iss.inflation_keys != Value::Explicit(0) {
                return Err(Reject::rejected("bad-txns-reissuance-inflation-keys"));
            }
            if iss.amount.is_null() || iss.amount == Value::Explicit(0) {
                return Err(Reject::rejected("bad-txns-reissuance-amount-zero"));
            }
            // As Elements' VerifyAmounts: the token is derived from the entropy and from
            // whether the reissued amount is blinded (`CalculateReissuanceToken(..,
            // nAmount.IsCommitment())`), so the token of an explicit issuance reissues only
            // explicit amounts and that of a confidential issuance only blinded ones; the
            // spent coin's asset tag must be that token blinded with the nonce. Elements
            // answers any failure here as an unbalanced transaction.
            let token = AssetId::reissuance_token_from_entropy(
                iss.asset_entropy,
                iss.amount.is_confidential(),
            );
            let tweak = tweak_of(&iss.asset_blinding_nonce).ok_or_else(|| {
                Reject::rejected(
                    "bad-txns-in-ne-out (value in != value out: the reissuance nonce is not a \
                     valid blinding factor)",
                )
            })?;
            let holds_token = match spent[i].asset {
                elements::confidential::Asset::Confidential(gen) => {
                    Generator::new_blinded(secp, token.into_tag(), tweak) == gen
                }
                _ => false,
            };
            if !holds_token {
                return Err(Reject::rejected(format!(
                    "bad-txns-in-ne-out (value in != value out: input {i} does not spend the \
                     blinded reissuance token {token} that a reissuance with {} amount needs)",
                    if iss.amount.is_confidential() {
                        "a blinded"
                    } else {
                        "an explicit"
                    }
                )));
            }
        } else if matches!(iss.amount, Value::Null | Value::Explicit(0))
            && matches!(iss.inflation_keys, Value::Null | Value::Explicit(0))
        {
            return Err(Reject::rejected("bad-txns-issuance-empty"));
        }
        // Issuance amount rangeproofs (verify_tx_amt_proofs does not check them).
        let (_, token) = inp.issuance_ids();
        for (amount, proof, id, what) in [
            (iss.amount, &inp.witness.amount_rangeproof, asset, "amount"),
            (
                iss.inflation_keys,
                &inp.witness.inflation_keys_rangeproof,
                token,
                "token amount",
            ),
        ] {
            match amount {
                Value::Confidential(comm) => {
                    let proof = proof.as_ref().ok_or_else(|| {
                        Reject::rejected(format!(
                            "bad-txns-issuance-rangeproof (input {i}: {what} rangeproof missing)"
                        ))
                    })?;
                    let gen = Generator::new_unblinded(secp, id.into_tag());
                    proof.verify(secp, comm, &[], gen).map_err(|_| {
                        Reject::rejected(format!(
                            "bad-txns-issuance-rangeproof (input {i}: {what} rangeproof invalid)"
                        ))
                    })?;
                }
                Value::Explicit(v) if v > MAX_MONEY => {
                    return Err(Reject::rejected("bad-txns-issuance-amount-toolarge"))
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Amount and proof checks with `verify_tx_amt_proofs`, on a copy where explicit zero amounts
/// (issuance fields and zero-value unspendable outputs) are dropped, since they carry no value
/// and cannot be committed to.
fn check_amounts(
    secp: &Secp256k1<elements::secp256k1_zkp::All>,
    tx: &Transaction,
    spent: &[TxOut],
) -> Result<(), Reject> {
    let mut t = tx.clone();
    for inp in &mut t.input {
        if inp.asset_issuance.amount == Value::Explicit(0) {
            inp.asset_issuance.amount = Value::Null;
        }
        if inp.asset_issuance.inflation_keys == Value::Explicit(0) {
            inp.asset_issuance.inflation_keys = Value::Null;
        }
    }
    t.output.retain(|o| o.value != Value::Explicit(0));
    for (i, s) in spent.iter().enumerate() {
        if s.value == Value::Explicit(0) || s.value.is_null() || s.asset.is_null() {
            return Err(Reject::rejected(format!(
                "bad-txns-inputs-invalid (input {i} spends a null or zero output)"
            )));
        }
    }
    // Output indexes below refer to the copy; map them back for the message.
    let index_map: Vec<usize> = tx
        .output
        .iter()
        .enumerate()
        .filter(|(_, o)| o.value != Value::Explicit(0))
        .map(|(i, _)| i)
        .collect();
    let orig = |i: usize| index_map.get(i).copied().unwrap_or(i);
    use elements::VerificationError as E;
    // elementsd's VerifyAmounts answers every failure (balance, rangeproof, surjection proof,
    // commitment) as `bad-txns-in-ne-out`; the detail says which.
    t.verify_tx_amt_proofs(secp, spent).map_err(|e| {
        let detail = match e {
            E::BalanceCheckFailed => "value in != value out".to_owned(),
            E::RangeProofError(i, _) | E::RangeProofMissing(i) => {
                format!("rangeproof of output {} missing or invalid", orig(i))
            }
            E::SurjectionProofVerificationError(i) | E::SurjectionProofMissing(i) => {
                format!("surjection proof of output {} missing or invalid", orig(i))
            }
            E::SpentTxOutError(i, e) => format!("commitment of spent output {i}: {e}"),
            E::TxOutError(i, e) => format!("commitment of output {}: {e}", orig(i)),
            other => other.to_string(),
        };
        Reject::rejected(format!("bad-txns-in-ne-out ({detail})"))
    })
}

/// Issuance rules plus amounts and proofs (rangeproofs, surjection proofs, balance), given the
/// spent outputs in input order.
pub fn check_proofs(
    secp: &Secp256k1<elements::secp256k1_zkp::All>,
    tx: &Transaction,
    spent: &[TxOut],
) -> Result<(), Reject> {
    if spent.len() != tx.input.len() {
        return Err(Reject::new(-25, "bad-txns-inputs-missingorspent"));
    }
    check_issuances(secp, tx, spent)?;
    check_amounts(secp, tx, spent)
}

/// The minimum fee for a transaction (0.1 sat per discounted vbyte, at least 1 sat).
pub fn min_fee(tx: &Transaction) -> u64 {
    let vsize = tx.discount_vsize() as u64;
    (vsize * MIN_RELAY_FEE_PER_KVB / 1000).max(1)
}

/// Validates `tx` for the mempool on top of `chain` (tip height `chain.tip_height()`, next block
/// time `next_time`). Does not modify anything.
pub fn check_tx(
    secp: &Secp256k1<elements::secp256k1_zkp::All>,
    chain: &Chain,
    tx: &Transaction,
    next_time: u32,
) -> Result<Accepted, Reject> {
    let spent = check_context(chain, tx, next_time)?;
    let acc = check_with_spent(secp, tx, &spent, chain.policy_asset)?;
    let replaces = replacement_set(chain, tx, acc.fee)?;
    Ok(Accepted {
        fee: acc.fee,
        replaces,
    })
}

/// The checks against the chain and mempool (cheap): already confirmed, conflicts (only
/// BIP125-signalling txs may be replaced), inputs present and unspent, coinbase maturity,
/// finality. Returns the spent outputs in input order.
pub fn check_context(
    chain: &Chain,
    tx: &Transaction,
    next_time: u32,
) -> Result<Vec<TxOut>, Reject> {
    check_context_as(chain, tx, next_time, true)
}

/// [`check_context`], with the standardness rules ([`check_standard`]) only when `standard`:
/// the node's own transactions (faucet, test issuances) skip them, as a miner includes its
/// own transactions whatever the relay policy.
pub fn check_context_as(
    chain: &Chain,
    tx: &Transaction,
    next_time: u32,
    standard: bool,
) -> Result<Vec<TxOut>, Reject> {
    let policy = chain.policy_asset;
    check_context_free(tx, policy)?;
    if standard {
        check_standard(tx, policy)?;
    }
    let txid = tx.txid();
    if chain.is_confirmed(&txid) {
        return Err(Reject::new(-27, "Transaction already in block chain"));
    }
    // Conflicts with the mempool come first, as in elementsd: only BIP125-signalling
    // transactions can be replaced.
    let conflicts: Vec<elements::Txid> = tx
        .input
        .iter()
        .filter_map(|i| chain.mempool_spender(&i.previous_output).map(|(t, _)| t))
        .collect();
    for c in &conflicts {
        let signals = chain
            .mempool_entry(c)
            .is_some_and(|e| e.tx.input.iter().any(|i| i.sequence.0 < 0xffff_fffe));
        if !signals {
            return Err(Reject::rejected("txn-mempool-conflict"));
        }
    }
    let next_height = chain.tip_height().saturating_add(1);
    let mut spent = Vec::with_capacity(tx.input.len());
    let mut heights = Vec::with_capacity(tx.input.len());
    for inp in &tx.input {
        let coin = chain
            .coin_replacing(&inp.previous_output, &conflicts)
            .ok_or_else(|| Reject::new(-25, "bad-txns-inputs-missingorspent"))?;
        heights.push(coin.height.unwrap_or(next_height));
        if coin.coinbase {
            let h = coin.height.unwrap_or(next_height);
            if next_height.saturating_sub(h) < COINBASE_MATURITY {
                return Err(Reject::rejected(format!(
                    "bad-txns-premature-spend-of-coinbase, tried to spend coinbase at depth {}",
                    next_height.saturating_sub(h)
                )));
            }
        }
        spent.push(coin.txout);
    }
    // Finality (absolute lock time).
    let lt = tx.lock_time.to_consensus_u32();
    if lt != 0 && tx.input.iter().any(|i| i.sequence.0 != u32::MAX) {
        let final_ = if lt < 500_000_000 {
            lt < next_height
        } else {
            lt < next_time
        };
        if !final_ {
            return Err(Reject::rejected("non-final"));
        }
    }
    check_sequence_locks(chain, tx, &heights, next_height)?;
    Ok(spent)
}

/// Relative lock times (BIP68), as elementsd's mempool judges them for the next block: in a
/// transaction of version 2 or later, each input whose sequence does not set the disable flag
/// must have waited its number of blocks, or of 512-second units of median time past, since
/// the coin it spends confirmed (`heights`, the next block's height for a coin in the mempool).
fn check_sequence_locks(
    chain: &Chain,
    tx: &Transaction,
    heights: &[u32],
    next_height: u32,
) -> Result<(), Reject> {
    const DISABLE: u32 = 1 << 31;
    const BY_TIME: u32 = 1 << 22;
    const MASK: u32 = 0xffff;
    if tx.version < 2 {
        return Ok(());
    }
    let tip_time = u64::from(chain.median_time(chain.tip_height()));
    for (input, &height) in tx.input.iter().zip(heights) {
        let sequence = input.sequence.0;
        if sequence & DISABLE != 0 {
            continue;
        }
        let wait = u64::from(sequence & MASK);
        // Final in the next block when (coin height + wait - 1) < next height, or
        // (median time before the coin's block + wait * 512 - 1) < the tip's median time.
        let reached = if sequence & BY_TIME != 0 {
            let coin_time = u64::from(chain.median_time(height.saturating_sub(1)));
            coin_time + (wait << 9) <= tip_time
        } else {
            u64::from(height) + wait <= u64::from(next_height)
        };
        if !reached {
            return Err(Reject::rejected("non-BIP68-final"));
        }
    }
    Ok(())
}

/// The checks that need only the transaction and the outputs it spends: context-free rules,
/// fee, issuances, amounts and proofs, scripts and signatures.
pub fn check_with_spent(
    secp: &Secp256k1<elements::secp256k1_zkp::All>,
    tx: &Transaction,
    spent: &[TxOut],
    policy: AssetId,
) -> Result<Accepted, Reject> {
    check_context_free(tx, policy)?;
    if spent.len() != tx.input.len() {
        return Err(Reject::new(-25, "bad-txns-inputs-missingorspent"));
    }
    // Fee: explicit policy asset only (checked context-free), and enough of it.
    let fee = tx
        .output
        .iter()
        .filter(|o| o.script_pubkey.is_empty())
        .filter_map(|o| o.value.explicit())
        .try_fold(0u64, |a, v| a.checked_add(v))
        .ok_or_else(|| Reject::rejected("bad-txns-fee-outofrange"))?;
    let needed = min_fee(tx);
    if fee < needed {
        return Err(Reject::rejected(format!(
            "min relay fee not met, {fee} < {needed}"
        )));
    }
    check_issuances(secp, tx, spent)?;
    check_amounts(secp, tx, spent)?;
    // Scripts and signatures.
    let mut cache = SighashCache::new(tx);
    for (i, s) in spent.iter().enumerate() {
        sigcheck::check_input(secp, &mut cache, tx, i, s).map_err(Reject::rejected)?;
    }
    Ok(Accepted {
        fee,
        replaces: Vec::new(),
    })
}
