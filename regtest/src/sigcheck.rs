//! Signature checks of inputs against the scripts they spend.
//!
//! Supported: the anyone-can-spend OP_TRUE script, P2WPKH, P2SH-P2WPKH, P2WSH and P2SH-P2WSH
//! whose witness script is `OP_TRUE`, `<pk> OP_CHECKSIG` or a (sorted)multi
//! `m <pk>.. n OP_CHECKMULTISIG`.
//! Signatures are ECDSA over the Elements segwit v0 sighash. Anything else is refused.

use elements::hashes::{hash160, sha256};
use elements::secp256k1_zkp::{ecdsa::Signature, Message, PublicKey, Secp256k1, Verification};
use elements::sighash::SighashCache;
use elements::{EcdsaSighashType, Script, Transaction, TxOut};

/// Why an input's script check failed.
pub type ScriptError = String;

fn push_only_single(script: &Script) -> Option<Vec<u8>> {
    // A scriptSig that is exactly one data push.
    let b = script.as_bytes();
    let (len, start) = match *b.first()? {
        n @ 1..=75 => (n as usize, 1),
        0x4c => (*b.get(1)? as usize, 2),
        0x4d => (u16::from_le_bytes([*b.get(1)?, *b.get(2)?]) as usize, 3),
        _ => return None,
    };
    if b.len() != start + len {
        return None;
    }
    Some(b[start..].to_vec())
}

/// Checks input `index` of `tx`, spending `spent` (all spent outputs given, in input order).
pub fn check_input<C: Verification>(
    secp: &Secp256k1<C>,
    cache: &mut SighashCache<&Transaction>,
    tx: &Transaction,
    index: usize,
    spent: &TxOut,
) -> Result<(), ScriptError> {
    let inp = &tx.input[index];
    let spk = &spent.script_pubkey;
    let witness_vec = inp.witness.script_witness.to_vec();
    let witness = &witness_vec;
    if spk.as_bytes() == [0x51] {
        // Anyone can spend: nothing to check but an empty scriptSig (clean stack).
        if !inp.script_sig.is_empty() || !witness.is_empty() {
            return Err(
                "mempool-script-verify-flag-failed (Stack size must be exactly one after execution)"
                    .into(),
            );
        }
        return Ok(());
    }
    if spk.is_v0_p2wpkh() {
        if !inp.script_sig.is_empty() {
            return Err(
                "mempool-script-verify-flag-failed (Witness requires empty scriptSig)".into(),
            );
        }
        return check_p2wpkh(secp, cache, index, &spk.as_bytes()[2..22], witness, spent);
    }
    if spk.is_v0_p2wsh() {
        if !inp.script_sig.is_empty() {
            return Err(
                "mempool-script-verify-flag-failed (Witness requires empty scriptSig)".into(),
            );
        }
        return check_p2wsh(secp, cache, index, &spk.as_bytes()[2..34], witness, spent);
    }
    if spk.is_p2sh() {
        let redeem = push_only_single(&inp.script_sig).ok_or_else(|| {
            "mempool-script-verify-flag-failed (Only push operators allowed in signatures)"
                .to_string()
        })?;
        let h = hash160::Hash::hash(&redeem);
        if h.as_byte_array()[..] != spk.as_bytes()[2..22] {
            return Err("mempool-script-verify-flag-failed (Script evaluated without error but finished with a false/empty top stack element)".into());
        }
        let redeem = Script::from(redeem);
        if redeem.is_v0_p2wpkh() {
            return check_p2wpkh(
                secp,
                cache,
                index,
                &redeem.as_bytes()[2..22],
                witness,
                spent,
            );
        }
        if redeem.is_v0_p2wsh() {
            return check_p2wsh(
                secp,
                cache,
                index,
                &redeem.as_bytes()[2..34],
                witness,
                spent,
            );
        }
        return Err(format!(
            "sandbox-unsupported-script (input {index}: P2SH redeem script {} is not supported)",
            crate::hexutil::encode(redeem.as_bytes())
        ));
    }
    Err(format!(
        "sandbox-unsupported-script (input {index} spends {}: only P2WPKH, P2SH-P2WPKH, P2WSH and OP_TRUE are supported)",
        crate::hexutil::encode(spk.as_bytes())
    ))
}

fn check_p2wpkh<C: Verification>(
    secp: &Secp256k1<C>,
    cache: &mut SighashCache<&Transaction>,
    index: usize,
    program: &[u8],
    witness: &[Vec<u8>],
    spent: &TxOut,
) -> Result<(), ScriptError> {
    if witness.len() != 2 {
        return Err("mempool-script-verify-flag-failed (Witness program hash mismatch)".into());
    }
    let pk = &witness[1];
    if hash160::Hash::hash(pk).as_byte_array()[..] != program[..] {
        return Err("mempool-script-verify-flag-failed (Witness program hash mismatch)".into());
    }
    let pubkey = parse_pubkey(pk)?;
    let mut code = vec![0x76, 0xa9, 0x14];
    code.extend_from_slice(program);
    code.extend_from_slice(&[0x88, 0xac]);
    let script_code = Script::from(code);
    if !verify_sig(
        secp,
        cache,
        index,
        &script_code,
        spent,
        &witness[0],
        &pubkey,
    )? {
        return Err(NULLFAIL.into());
    }
    Ok(())
}

const NULLFAIL: &str =
    "mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)";

fn parse_pubkey(pk: &[u8]) -> Result<PublicKey, ScriptError> {
    if pk.len() != 33 {
        return Err(
            "mempool-script-verify-flag-failed (Using non-compressed keys in segwit)".into(),
        );
    }
    PublicKey::from_slice(pk).map_err(|_| {
        "mempool-script-verify-flag-failed (Public key is neither compressed or uncompressed)"
            .into()
    })
}

/// Verifies one DER signature with its sighash byte. `Ok(false)` for a well-formed but wrong one.
fn verify_sig<C: Verification>(
    secp: &Secp256k1<C>,
    cache: &mut SighashCache<&Transaction>,
    index: usize,
    script_code: &Script,
    spent: &TxOut,
    sig: &[u8],
    pubkey: &PublicKey,
) -> Result<bool, ScriptError> {
    let Some((&hash_byte, der)) = sig.split_last() else {
        return Ok(false);
    };
    let ty = EcdsaSighashType::from_standard(u32::from(hash_byte)).map_err(|_| {
        "mempool-script-verify-flag-failed (Signature hash type missing or not understood)"
            .to_string()
    })?;
    let signature = Signature::from_der(der).map_err(|_| {
        "mempool-script-verify-flag-failed (Non-canonical DER signature)".to_string()
    })?;
    let mut normalized = signature;
    normalized.normalize_s();
    if normalized != signature {
        return Err("mempool-script-verify-flag-failed (Non-canonical signature: S value is unnecessarily high)".into());
    }
    let sighash = cache.segwitv0_sighash(index, script_code, spent.value, ty);
    let msg = Message::from_digest(sighash.to_byte_array());
    Ok(secp.verify_ecdsa(&msg, &signature, pubkey).is_ok())
}

/// A parsed witness script we know how to check.
enum WitnessScript {
    /// `OP_TRUE`: anyone can spend (liquidregtest's block-signing script is its P2WSH).
    True,
    Single(PublicKey),
    Multi {
        m: usize,
        keys: Vec<PublicKey>,
    },
}

fn parse_witness_script(s: &[u8]) -> Option<WitnessScript> {
    if s == [0x51] {
        return Some(WitnessScript::True);
    }
    if s.len() == 35 && s[0] == 33 && s[34] == 0xac {
        return PublicKey::from_slice(&s[1..34])
            .ok()
            .map(WitnessScript::Single);
    }
    let (&first, rest) = s.split_first()?;
    let (&last, rest) = rest.split_last()?;
    let (&nop, body) = rest.split_last()?;
    if last != 0xae || !(0x51..=0x60).contains(&first) || !(0x51..=0x60).contains(&nop) {
        return None;
    }
    let m = (first - 0x50) as usize;
    let n = (nop - 0x50) as usize;
    if body.len() != n * 34 || m > n {
        return None;
    }
    let mut keys = Vec::with_capacity(n);
    for chunk in body.chunks(34) {
        if chunk[0] != 33 {
            return None;
        }
        keys.push(PublicKey::from_slice(&chunk[1..]).ok()?);
    }
    Some(WitnessScript::Multi { m, keys })
}

fn check_p2wsh<C: Verification>(
    secp: &Secp256k1<C>,
    cache: &mut SighashCache<&Transaction>,
    index: usize,
    program: &[u8],
    witness: &[Vec<u8>],
    spent: &TxOut,
) -> Result<(), ScriptError> {
    let Some((ws, stack)) = witness.split_last() else {
        return Err(
            "mempool-script-verify-flag-failed (Witness program was passed an empty witness)"
                .into(),
        );
    };
    if sha256::Hash::hash(ws).as_byte_array()[..] != program[..] {
        return Err("mempool-script-verify-flag-failed (Witness program hash mismatch)".into());
    }
    let script_code = Script::from(ws.clone());
    match parse_witness_script(ws) {
        Some(WitnessScript::True) => {
            // OP_TRUE leaves one element; anything given besides the script stays too.
            if !stack.is_empty() {
                return Err("mempool-script-verify-flag-failed (Stack size must be exactly one after execution)".into());
            }
            Ok(())
        }
        Some(WitnessScript::Single(pk)) => {
            if stack.len() != 1 {
                return Err("mempool-script-verify-flag-failed (Stack size must be exactly one after execution)".into());
            }
            if !verify_sig(secp, cache, index, &script_code, spent, &stack[0], &pk)? {
                return Err(NULLFAIL.into());
            }
            Ok(())
        }
        Some(WitnessScript::Multi { m, keys }) => {
            // CHECKMULTISIG: dummy element, then m signatures in key order.
            if stack.len() != m + 1 {
                return Err("mempool-script-verify-flag-failed (Operation not valid with the current stack size)".into());
            }
            if !stack[0].is_empty() {
                return Err(
                    "mempool-script-verify-flag-failed (Dummy CHECKMULTISIG argument must be zero)"
                        .into(),
                );
            }
            let sigs = &stack[1..];
            let mut k = 0;
            for sig in sigs {
                let mut matched = false;
                while k < keys.len() {
                    let ok = verify_sig(secp, cache, index, &script_code, spent, sig, &keys[k])?;
                    k += 1;
                    if ok {
                        matched = true;
                        break;
                    }
                }
                if !matched {
                    return Err(NULLFAIL.into());
                }
            }
            Ok(())
        }
        None => Err(format!(
            "sandbox-unsupported-script (input {index}: witness script {} is not supported)",
            crate::hexutil::encode(ws)
        )),
    }
}
