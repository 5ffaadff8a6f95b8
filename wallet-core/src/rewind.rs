//! Rewinding the rangeproof of one of the wallet's outputs without verifying it again.
//!
//! `secp256k1_rangeproof_rewind` verifies the whole Borromean ring signature before it rewinds
//! (about 104 elliptic-curve multiplications for Elements' 52-bit proofs, ~5 ms on the
//! development machine), which made a first sync of a big wallet CPU-bound. Rewinding needs
//! far less: the prover's random values come from a deterministic generator seeded with the
//! shared nonce; the value sits in the last ring, XORed with one of them; the value's blinding
//! factor needs the challenge at the real index of the last ring, and the 64-byte message
//! (asset id and asset blinding factor) the challenge at the real index of the first ring
//! when that index is 0 or 1. Those challenges are hashes (index 0), or one
//! multiplication away (index 1 of the first ring: its public key's y is tried both ways).
//!
//! Nothing found here is trusted by itself: [`rewind`] returns secrets only when they reopen
//! the output's value and asset commitments (Pedersen commitments are binding, so secrets that
//! reopen them are the output's), and `None` otherwise, in which case the caller rewinds with
//! the library as before. What is not checked is the rangeproof's own validity (that the value
//! is in range), which the chain checks before it accepts a transaction and which does not
//! protect a wallet from a server that lies: such a server can as well send a transaction with
//! valid proofs that spends nothing real.
//!
//! The layout and the generator follow libsecp256k1-zkp's `rangeproof_impl.h` (proof header,
//! `rangeproof_genrand`, `rangeproof_rewind_inner`) and `borromean_impl.h`; the tests compare
//! every result with the library's rewind.

use elements::confidential::{self, AssetBlindingFactor, ValueBlindingFactor};
use elements::hashes::{sha256, Hash, HashEngine, Hmac, HmacEngine};
use elements::secp256k1_zkp::{PublicKey, Scalar, SecretKey};
use elements::{AssetId, TxOut};

use crate::unblind::{secp, TxOutSecrets};

/// The group order minus 2, big-endian (the exponent of an inverse).
const ORDER_MINUS_2: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x3f,
];

/// The secrets of `txout` (a confidential output) rewound with the shared secret of
/// `blinding_key`, checked to reopen its commitments; `None` when this fast path cannot tell
/// (the caller then uses the library's rewind, which also says why).
pub(crate) fn rewind(txout: &TxOut, blinding_key: &SecretKey) -> Option<TxOutSecrets> {
    let (confidential::Value::Confidential(commit), confidential::Asset::Confidential(gen)) =
        (txout.value, txout.asset)
    else {
        return None;
    };
    let nonce = txout.nonce.shared_secret(blinding_key)?.secret_bytes();
    let proof = txout.witness.rangeproof.to_vec();
    let commit = commit.serialize();
    let gen = gen.serialize();
    // The proof's serialisation of a point: 0 when its y is a square, then x. Commitments
    // are serialised 8 + that bit, generators 10 + that bit.
    let point = |ser: &[u8; 33], base: u8| -> Option<[u8; 33]> {
        let mut out = *ser;
        out[0] = ser[0].checked_sub(base).filter(|b| *b <= 1)?;
        Some(out)
    };
    let commit_p = point(&commit, 8)?;
    let gen_p = point(&gen, 10)?;
    let r = Rewound::new(
        &proof,
        &nonce,
        &commit_p,
        &gen_p,
        txout.script_pubkey.as_bytes(),
    )?;
    let secrets = r.secrets(&txout.asset)?;
    secrets.opens(txout).then_some(secrets)
}

/// The header of a proof and the ring structure it implies.
struct Header {
    /// Bytes of the header (the generator's seed ends with them).
    len: usize,
    scale: u64,
    min_value: u64,
    /// Ring sizes (4, and 2 for an odd mantissa's last ring).
    rings: Vec<usize>,
}

fn header(proof: &[u8]) -> Option<Header> {
    let first = *proof.first()?;
    if proof.len() < 65 || first & 128 != 0 || first & 64 == 0 {
        // No range (a proof of an exact value): not the wallet's kind of proof.
        return None;
    }
    let exp = u32::from(first & 31);
    if exp > 18 {
        return None;
    }
    let mantissa = usize::from(*proof.get(1)?) + 1;
    if mantissa > 64 {
        return None;
    }
    let mut len = 2;
    let scale = 10u64.checked_pow(exp)?;
    let mut min_value = 0;
    if first & 32 != 0 {
        let bytes: [u8; 8] = proof.get(len..len + 8)?.try_into().ok()?;
        min_value = u64::from_be_bytes(bytes);
        len += 8;
    }
    let mut rings = vec![4; mantissa >> 1];
    if mantissa & 1 == 1 {
        rings.push(2);
    }
    // A single ring holds no value to rewind fast.
    (rings.len() >= 2).then_some(Header {
        len,
        scale,
        min_value,
        rings,
    })
}

/// HMAC-SHA256 keyed with `key` over `parts`.
fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut e = HmacEngine::<sha256::HashEngine>::new(key);
    for p in parts {
        e.input(p);
    }
    let mac: Hmac<sha256::Hash> = e.finalize();
    mac.to_byte_array()
}

/// libsecp256k1's RFC 6979 HMAC-SHA256 generator.
struct Rfc6979 {
    k: [u8; 32],
    v: [u8; 32],
    retry: bool,
}

impl Rfc6979 {
    fn new(seed: &[u8]) -> Self {
        let mut k = [0u8; 32];
        let mut v = [1u8; 32];
        k = hmac(&k, &[&v, &[0], seed]);
        v = hmac(&k, &[&v]);
        k = hmac(&k, &[&v, &[1], seed]);
        v = hmac(&k, &[&v]);
        Rfc6979 { k, v, retry: false }
    }

    fn next(&mut self) -> [u8; 32] {
        if self.retry {
            self.k = hmac(&self.k, &[&self.v, &[0]]);
            self.v = hmac(&self.k, &[&self.v]);
        }
        self.v = hmac(&self.k, &[&self.v]);
        self.retry = true;
        self.v
    }
}

/// A non-zero scalar below the group order, or `None`.
fn scalar(bytes: [u8; 32]) -> Option<SecretKey> {
    SecretKey::from_slice(&bytes).ok()
}

fn add(a: SecretKey, b: SecretKey) -> Option<SecretKey> {
    a.add_tweak(&Scalar::from(b)).ok()
}

fn mul(a: SecretKey, b: SecretKey) -> Option<SecretKey> {
    a.mul_tweak(&Scalar::from(b)).ok()
}

/// `a` to the power `n - 2`: its inverse.
fn invert(a: SecretKey) -> Option<SecretKey> {
    let mut acc: Option<SecretKey> = None;
    for byte in ORDER_MINUS_2 {
        for bit in (0..8).rev() {
            if let Some(x) = acc {
                acc = Some(mul(x, x)?);
            }
            if byte >> bit & 1 == 1 {
                acc = Some(match acc {
                    Some(x) => mul(x, a)?,
                    None => a,
                });
            }
        }
    }
    acc
}

/// `sha256(e || m || be32(ring) || be32(index))`: a Borromean challenge.
fn challenge(e: &[u8], m: &[u8; 32], ring: usize, index: usize) -> Option<SecretKey> {
    let mut h = sha256::HashEngine::default();
    h.input(e);
    h.input(m);
    h.input(&u32::try_from(ring).ok()?.to_be_bytes());
    h.input(&u32::try_from(index).ok()?.to_be_bytes());
    scalar(sha256::Hash::from_engine(h).to_byte_array())
}

/// What rewinding found before the message is read.
struct Rewound<'p> {
    proof: &'p [u8],
    /// The message hash every challenge commits to.
    m: [u8; 32],
    e0: [u8; 32],
    /// Offset of the first `s` value, one per public key.
    s_at: usize,
    /// Offset of the first ring's public key (x only).
    c0_at: usize,
    /// The generator's output for every public key: the prover's random `s` values.
    pads: Vec<[u8; 32]>,
    /// The first ring's share of the blinding factor.
    sec0: SecretKey,
    /// The value as the proof encodes it (before scale and minimum).
    raw: u64,
    value: u64,
    value_bf: [u8; 32],
}

impl<'p> Rewound<'p> {
    fn new(
        proof: &'p [u8],
        nonce: &[u8; 32],
        commit: &[u8; 33],
        gen: &[u8; 33],
        extra: &[u8],
    ) -> Option<Self> {
        let h = header(proof)?;
        let rings = h.rings.len();
        let npub: usize = h.rings.iter().sum();
        let signs_len = (rings + 6) >> 3;
        let c0_at = h.len + signs_len;
        let e0_at = c0_at + 32 * (rings - 1);
        let s_at = e0_at + 32;
        if proof.len() != s_at + 32 * npub {
            return None;
        }
        // Sign bits beyond the rings' must be zero (as the verifier requires).
        if (rings - 1) & 7 != 0 && proof[c0_at - 1] >> ((rings - 1) & 7) != 0 {
            return None;
        }
        let mut m = sha256::HashEngine::default();
        m.input(commit);
        m.input(gen);
        m.input(&proof[..h.len]);
        for i in 0..rings - 1 {
            let sign = (proof[h.len + (i >> 3)] >> (i & 7)) & 1;
            m.input(&[sign]);
            m.input(&proof[c0_at + 32 * i..c0_at + 32 * (i + 1)]);
        }
        m.input(extra);
        let m = sha256::Hash::from_engine(m).to_byte_array();
        let e0: [u8; 32] = proof[e0_at..s_at].try_into().ok()?;

        // The prover's generator (`rangeproof_genrand`): per ring a share of the blinding
        // factor (the last ring's is minus the sum of the others), then a pad per key.
        let mut seed = Vec::with_capacity(32 + 33 + 33 + h.len);
        seed.extend_from_slice(nonce);
        seed.extend_from_slice(commit);
        seed.extend_from_slice(gen);
        seed.extend_from_slice(&proof[..h.len]);
        let mut rng = Rfc6979::new(&seed);
        let mut pads = Vec::with_capacity(npub);
        let mut shares: Vec<SecretKey> = Vec::with_capacity(rings);
        for (i, size) in h.rings.iter().enumerate() {
            if i < rings - 1 {
                rng.next();
                let share = loop {
                    if let Some(s) = scalar(rng.next()) {
                        break s;
                    }
                };
                shares.push(share);
            }
            for _ in 0..*size {
                pads.push(rng.next());
            }
        }
        let sum = shares
            .iter()
            .copied()
            .try_fold(None::<SecretKey>, |acc, s| match acc {
                None => Some(Some(s)),
                Some(a) => add(a, s).map(Some),
            })??;
        let sec0 = *shares.first()?;
        let s = |k: usize| -> Option<[u8; 32]> {
            proof
                .get(s_at + 32 * k..s_at + 32 * (k + 1))?
                .try_into()
                .ok()
        };

        // The value: in one of the last ring's two last keys, whose `s` XOR its pad reads
        // 1xxxxxxx, then the same 8 bytes three times, the last 8 being the value.
        let last = rings - 1;
        let last_at = npub - h.rings[last];
        let mut found = None;
        for j in 0..2 {
            let k = last_at + h.rings[last] - 1 - j;
            let mut t = s(k)?;
            for (b, p) in t.iter_mut().zip(pads[k]) {
                *b ^= p;
            }
            if t[0] & 128 != 0 && t[16..24] == t[24..32] && t[8..16] == t[16..24] {
                found = Some((j, u64::from_be_bytes(t[24..32].try_into().ok()?)));
                break;
            }
        }
        let (j, raw) = found?;
        let skip1 = h.rings[last] - 1 - j;
        let skip2 = usize::try_from((raw >> (last << 1)) & 3).ok()?;
        if skip1 == skip2 || skip2 != 0 {
            // The real key of the last ring is not its first: its challenge takes a chain
            // of multiplications (values of 2^50 units and more); leave it to the library.
            return None;
        }
        // The blinding factor: x = (k - s) / e at the real key, plus the other rings' shares.
        let k_at = last_at;
        let e = challenge(&e0, &m, last, 0)?;
        let k = scalar(pads[k_at])?;
        let s_real = scalar(s(k_at)?)?;
        let x = mul(add(k, s_real.negate())?, invert(e)?)?;
        let value_bf = add(x, sum)?.secret_bytes();
        let value = raw.checked_mul(h.scale)?.checked_add(h.min_value)?;
        Some(Rewound {
            proof,
            m,
            e0,
            s_at,
            c0_at,
            pads,
            sec0,
            raw,
            value,
            value_bf,
        })
    }

    /// Message byte block `k` of the first ring: its `s` XOR its pad, where the real key's
    /// `s` is first turned back into the prover's nonce (`s + x * e`).
    fn block(&self, k: usize, real: Option<SecretKey>) -> Option<[u8; 32]> {
        let s: [u8; 32] = self
            .proof
            .get(self.s_at + 32 * k..self.s_at + 32 * (k + 1))?
            .try_into()
            .ok()?;
        let mut out = match real {
            None => s,
            Some(e) => add(scalar(s)?, mul(self.sec0, e)?)?.secret_bytes(),
        };
        for (b, p) in out.iter_mut().zip(self.pads[k]) {
            *b ^= p;
        }
        Some(out)
    }

    /// The output's secrets: the message (asset id and asset blinding factor) sits in the
    /// first ring's two first keys; the one that is the real key needs its challenge. For
    /// key 1 that is a hash of `s0 * G + e0 * P0`, with `P0` known by its x alone: both y are
    /// tried, and the one whose message reopens `asset` is kept.
    fn secrets(&self, asset: &confidential::Asset) -> Option<TxOutSecrets> {
        // The real key of ring 0 is the value's lowest base-4 digit.
        let real = self.raw & 3;
        let candidates: Vec<(Option<SecretKey>, Option<SecretKey>)> = match real {
            0 => vec![(Some(challenge(&self.e0, &self.m, 0, 0)?), None)],
            1 => {
                let e00 = challenge(&self.e0, &self.m, 0, 0)?;
                let s00 = scalar(self.proof.get(self.s_at..self.s_at + 32)?.try_into().ok()?)?;
                let x: [u8; 32] = self
                    .proof
                    .get(self.c0_at..self.c0_at + 32)?
                    .try_into()
                    .ok()?;
                let s_g = PublicKey::from_secret_key(secp(), &s00);
                let mut out = Vec::with_capacity(2);
                for parity in [2u8, 3] {
                    let mut ser = [0u8; 33];
                    ser[0] = parity;
                    ser[1..].copy_from_slice(&x);
                    let Ok(p) = PublicKey::from_slice(&ser) else {
                        continue;
                    };
                    let Ok(e_p) = p.mul_tweak(secp(), &Scalar::from(e00)) else {
                        continue;
                    };
                    let Ok(r) = s_g.combine(&e_p) else { continue };
                    if let Some(e01) = challenge(&r.serialize(), &self.m, 0, 1) {
                        out.push((None, Some(e01)));
                    }
                }
                out
            }
            _ => vec![(None, None)],
        };
        for (e_first, e_second) in candidates {
            let asset_id = self.block(0, e_first)?;
            let Some(abf) = self.block(1, e_second) else {
                continue;
            };
            let Ok(asset_bf) = AssetBlindingFactor::from_byte_array(abf) else {
                continue;
            };
            let asset_id = AssetId::from_byte_array(asset_id);
            if confidential::Asset::new_confidential(secp(), asset_id, asset_bf) != *asset {
                continue;
            }
            return Some(TxOutSecrets {
                value: self.value,
                asset: asset_id,
                value_bf: ValueBlindingFactor::from_slice(&self.value_bf).ok()?,
                asset_bf,
                explicit: false,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::unblind::unblind_output;
    use elements::{Address, AddressParams};
    use rand::{RngCore, SeedableRng};

    /// Outputs to a confidential address of `blinding`, as rust-elements blinds them (the
    /// library Elements Core and LWK share: 52-bit proofs, minimum value 1).
    fn output(
        rng: &mut rand::rngs::StdRng,
        blinding: &SecretKey,
        value: u64,
        asset: AssetId,
    ) -> TxOut {
        let blinder = PublicKey::from_secret_key(secp(), blinding);
        let spend = PublicKey::from_secret_key(secp(), &SecretKey::new(rng));
        let address = Address::p2wpkh(
            &elements::bitcoin::PublicKey::new(spend),
            Some(blinder),
            &AddressParams::ELEMENTS,
        );
        let input = elements::TxOutSecrets::new(
            asset,
            AssetBlindingFactor::new(rng),
            value.saturating_add(1000),
            ValueBlindingFactor::new(rng),
        );
        TxOut::new_not_last_confidential(rng, secp(), value, &address, asset, &[input])
            .unwrap()
            .0
    }

    #[test]
    fn agrees_with_the_library_and_leaves_it_the_rare_cases() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(77);
        let key = SecretKey::new(&mut rng);
        let mut values: Vec<u64> = vec![1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 10_000, 10_001];
        values.extend([1 << 20, (1 << 32) + 1, 100_000_000, (1 << 50) - 1, 1 << 50]);
        values.extend((0..40).map(|_| rng.next_u64() % (1 << 50)));
        values.extend((0..20).map(|_| rng.next_u64() % 1_000_000));
        let mut fast = 0;
        for (i, value) in values.iter().enumerate() {
            let mut bytes = [0u8; 32];
            rng.fill_bytes(&mut bytes);
            let asset = AssetId::from_byte_array(bytes);
            let out = output(&mut rng, &key, *value, asset);
            let library = unblind_output(&out, &key).unwrap();
            assert_eq!(library.value, *value);
            match rewind(&out, &key) {
                Some(s) => {
                    assert_eq!(s, library, "output {i}, value {value}");
                    fast += 1;
                }
                None => panic!("value {value} up to 2^50 must rewind fast"),
            }
        }
        assert_eq!(fast, values.len());
        // The last ring's real key is not its first (the proof encodes the value minus its
        // minimum of 1: from 2^50 + 1 units; 21 million L-BTC is 2.1 * 10^15): left to the
        // library.
        for value in [(1 << 50) + 1, 2_100_000_000_000_000] {
            let out = output(&mut rng, &key, value, AssetId::from_byte_array([9; 32]));
            assert_eq!(unblind_output(&out, &key).unwrap().value, value);
            assert_eq!(rewind(&out, &key), None);
        }
    }

    #[test]
    fn another_key_or_a_changed_output_gives_nothing() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(78);
        let key = SecretKey::new(&mut rng);
        let out = output(&mut rng, &key, 123_456, AssetId::from_byte_array([3; 32]));
        assert!(rewind(&out, &key).is_some());
        assert_eq!(rewind(&out, &SecretKey::new(&mut rng)), None);
        // Another output's commitments with this proof: the secrets would not reopen them.
        let other = output(&mut rng, &key, 123_456, AssetId::from_byte_array([3; 32]));
        let mut mixed = out.clone();
        mixed.value = other.value;
        assert_eq!(rewind(&mixed, &key), None);
        mixed = out.clone();
        mixed.asset = other.asset;
        assert_eq!(rewind(&mixed, &key), None);
        // Explicit outputs are not rewound at all.
        let mut explicit = out;
        explicit.value = confidential::Value::Explicit(1);
        assert_eq!(rewind(&explicit, &key), None);
    }

    #[test]
    fn the_generator_is_libsecp256k1s() {
        // RFC 6979 test vector of libsecp256k1 (`run_rfc6979_hmac_sha256_tests`, first key).
        let key: [u8; 64] = [
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e,
            0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c,
            0x1d, 0x1e, 0x1f, 0x00, 0x4b, 0xf5, 0x12, 0x2f, 0x34, 0x45, 0x54, 0xc5, 0x3b, 0xde,
            0x2e, 0xbb, 0x8c, 0xd2, 0xb7, 0xe3, 0xd1, 0x60, 0x0a, 0xd6, 0x31, 0xc3, 0x85, 0xa5,
            0xd7, 0xcc, 0xe2, 0x3c, 0x77, 0x85, 0x45, 0x9a,
        ];
        let expected: [[u8; 32]; 3] = [
            [
                0x4f, 0xe2, 0x95, 0x25, 0xb2, 0x08, 0x68, 0x09, 0x15, 0x9a, 0xcd, 0xf0, 0x50, 0x6e,
                0xfb, 0x86, 0xb0, 0xec, 0x93, 0x2c, 0x7b, 0xa4, 0x42, 0x56, 0xab, 0x32, 0x1e, 0x42,
                0x1e, 0x67, 0xe9, 0xfb,
            ],
            [
                0x2b, 0xf0, 0xff, 0xf1, 0xd3, 0xc3, 0x78, 0xa2, 0x2d, 0xc5, 0xde, 0x1d, 0x85, 0x65,
                0x22, 0x32, 0x5c, 0x65, 0xb5, 0x04, 0x49, 0x1a, 0x0c, 0xbd, 0x01, 0xcb, 0x8f, 0x3a,
                0xa6, 0x7f, 0xfd, 0x4a,
            ],
            [
                0xf5, 0x28, 0xb4, 0x10, 0xcb, 0x54, 0x1f, 0x77, 0x00, 0x0d, 0x7a, 0xfb, 0x6c, 0x5b,
                0x53, 0xc5, 0xc4, 0x71, 0xea, 0xb4, 0x3e, 0x46, 0x6d, 0x9a, 0xc5, 0x19, 0x0c, 0x39,
                0xc8, 0x2f, 0xd8, 0x2e,
            ],
        ];
        let mut rng = Rfc6979::new(&key);
        for e in expected {
            assert_eq!(rng.next(), e);
        }
        let inv = invert(SecretKey::from_slice(&[7; 32]).unwrap()).unwrap();
        let one = mul(inv, SecretKey::from_slice(&[7; 32]).unwrap()).unwrap();
        let mut expected_one = [0u8; 32];
        expected_one[31] = 1;
        assert_eq!(one.secret_bytes(), expected_one);
    }
}
