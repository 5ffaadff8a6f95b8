//! Differential checks of the sandbox's validator against elementsd: a corpus of transactions
//! built the same way on each chain (valid ones and broken variants), each judged by the
//! chain's mempool without being broadcast (elementsd's `testmempoolaccept`, the sandbox's
//! `test_accept`). On the embedded chain alone each verdict must be the one the case declares;
//! with `ELEMENTSD_EXEC` and `ELECTRS_LIQUID_EXEC` the two chains must agree on every case
//! (accepted or refused, and the rule that refused it), and a disagreement fails with both
//! answers.
//!
//! The coins spent are explicit outputs to P2WSH(OP_TRUE) (spent by a witness holding the
//! script, no signature) and to a P2WPKH of a fixed test key (for the signature cases), so
//! that any transaction can be written by hand; blinding uses seeded generators.

use crate::common::handmade::*;
use crate::common::real_stack::{with_real_stack, TestChain, Verdict};
use elements::script::Builder;
use elements::{
    confidential, opcodes, Address, LockTime, OutPoint, Script, Sequence, Transaction, TxOut, Txid,
};

/// One transaction of the corpus.
struct Case {
    class: &'static str,
    name: &'static str,
    /// What elementsd does with it (and so the sandbox must): accept it (`None`), or refuse
    /// it by the rule its reason starts with.
    expect: Option<&'static str>,
    tx: Transaction,
}

/// The case is accepted.
const ACCEPTED: Option<&str> = None;

/// The case is refused by `rule` (the start of the reason: the rule's name, and for script
/// failures the script error).
fn refused(rule: &'static str) -> Option<&'static str> {
    Some(rule)
}

/// The corpus on `chain`: funds its coins, then builds every case (nothing is broadcast but
/// the transactions that make a coin spent or a mempool conflict).
fn corpus(chain: &dyn TestChain) -> Vec<Case> {
    let policy = chain.policy_asset();
    let op_true_spk = op_true_address().script_pubkey();
    let signer_spk = p2wpkh(7, false).script_pubkey();
    let fund = |address: &Address| -> OutPoint {
        let txid = chain.faucet(address, COIN_VALUE, None).unwrap();
        outpoint_to(chain, &txid, &address.script_pubkey())
    };
    // Two blocks first, so that the coins' block follows blocks of today's time: a relative
    // time lock counts from the median time before the coin's block, which right after the
    // genesis block (2011) is long past any lock.
    chain.mine(2).unwrap();
    let coin = fund(&op_true_address());
    let spent_coin = fund(&op_true_address());
    let conflict_coin = fund(&op_true_address());
    let signed_coin = fund(&p2wpkh(7, false));
    chain.mine(1).unwrap();
    // A coin spent in a block, and one spent by a mempool transaction that does not signal
    // replacement.
    let pay_back = |coin: OutPoint| {
        spend_op_true(
            &[coin],
            vec![
                explicit(policy, COIN_VALUE - FEE, op_true_spk.clone()),
                TxOut::new_fee(FEE, policy),
            ],
        )
    };
    broadcast(chain, &pay_back(spent_coin));
    chain.mine(1).unwrap();
    broadcast(chain, &pay_back(conflict_coin));

    let simple = |value: u64, fee: u64| {
        spend_op_true(
            &[coin],
            vec![
                explicit(policy, value, op_true_spk.clone()),
                TxOut::new_fee(fee, policy),
            ],
        )
    };
    let valid = simple(COIN_VALUE - FEE, FEE);
    let conf = confidential_spend(policy, coin, 1);
    let mut signed = Transaction {
        version: 2,
        lock_time: LockTime::ZERO,
        input: vec![input(signed_coin)],
        output: vec![
            explicit(policy, COIN_VALUE - FEE, signer_spk.clone()),
            TxOut::new_fee(FEE, policy),
        ],
    };
    sign_p2wpkh(&mut signed, 0, 7, COIN_VALUE);
    let with_output = |extra: TxOut, change: u64| {
        spend_op_true(
            &[coin],
            vec![
                extra,
                explicit(policy, change, op_true_spk.clone()),
                TxOut::new_fee(FEE, policy),
            ],
        )
    };
    let parent_genesis =
        elements::bitcoin::constants::genesis_block(elements::bitcoin::Network::Regtest)
            .block_hash();
    let other_genesis =
        elements::bitcoin::constants::genesis_block(elements::bitcoin::Network::Bitcoin)
            .block_hash();
    let data_output = |bytes: usize, value: u64| {
        let script = Builder::new()
            .push_opcode(opcodes::all::OP_RETURN)
            .push_slice(&vec![0x42; bytes][..])
            .into_script();
        explicit(policy, value, script)
    };

    let mut cases = Vec::new();
    let mut case = |class, name, expect, tx| {
        cases.push(Case {
            class,
            name,
            expect,
            tx,
        })
    };
    case("valid", "explicit payment", ACCEPTED, valid.clone());
    case("valid", "confidential payment", ACCEPTED, conf.clone());
    case("valid", "signed P2WPKH payment", ACCEPTED, signed.clone());
    case(
        "valid",
        "peg-out to the parent chain",
        ACCEPTED,
        with_output(
            pegout(policy, 300_000, parent_genesis),
            COIN_VALUE - 300_000 - FEE,
        ),
    );
    case(
        "valid",
        "explicit burn (bare OP_RETURN)",
        ACCEPTED,
        with_output(
            explicit(
                policy,
                1_000,
                Builder::new()
                    .push_opcode(opcodes::all::OP_RETURN)
                    .into_script(),
            ),
            COIN_VALUE - 1_000 - FEE,
        ),
    );
    case(
        "valid",
        "zero-value data output",
        ACCEPTED,
        with_output(data_output(20, 0), COIN_VALUE - FEE),
    );

    let mut t = conf.clone();
    let (a, b) = (
        t.output[0].witness.surjection_proof.clone(),
        t.output[1].witness.surjection_proof.clone(),
    );
    t.output[0].witness.surjection_proof = b;
    t.output[1].witness.surjection_proof = a;
    case(
        "proofs",
        "surjection proofs swapped",
        refused("bad-txns-in-ne-out"),
        t,
    );
    let mut t = conf.clone();
    let (a, b) = (
        t.output[0].witness.rangeproof.clone(),
        t.output[1].witness.rangeproof.clone(),
    );
    t.output[0].witness.rangeproof = b;
    t.output[1].witness.rangeproof = a;
    case(
        "proofs",
        "rangeproofs swapped",
        refused("bad-txns-in-ne-out"),
        t,
    );
    let mut t = conf.clone();
    t.output[0].witness.surjection_proof = elements::SurjectionProof::EMPTY;
    case(
        "proofs",
        "surjection proof missing",
        refused("bad-txns-in-ne-out"),
        t,
    );
    let mut t = conf.clone();
    t.output[1].witness.rangeproof = elements::RangeProof::EMPTY;
    case(
        "proofs",
        "rangeproof missing",
        refused("bad-txns-in-ne-out"),
        t,
    );

    let mut t = signed.clone();
    let mut items: Vec<Vec<u8>> = t.input[0].witness.script_witness.to_vec();
    items[0][10] ^= 0x01;
    t.input[0].witness.script_witness = items.into();
    case("signature", "signature altered", refused("mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)"), t);
    let mut t = signed.clone();
    t.input[0].witness.script_witness.clear();
    case(
        "signature",
        "signature missing",
        refused("mempool-script-verify-flag-failed (Witness program hash mismatch)"),
        t,
    );
    let mut t = signed.clone();
    t.output[0].value = confidential::Value::Explicit(COIN_VALUE - FEE - 1);
    t.output[1].value = confidential::Value::Explicit(FEE + 1);
    case("signature", "outputs changed after signing", refused("mempool-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)"), t);

    case(
        "balance",
        "fee one more than the inputs allow",
        refused("bad-txns-in-ne-out"),
        simple(COIN_VALUE - FEE, FEE + 1),
    );
    let mut t = conf.clone();
    t.output[0].value = t.output[1].value;
    case(
        "balance",
        "value commitment of another output",
        refused("bad-txns-in-ne-out"),
        t,
    );
    case(
        "balance",
        "outputs above the inputs",
        refused("bad-txns-in-ne-out"),
        simple(COIN_VALUE, FEE),
    );

    case(
        "fee",
        "fee output missing",
        refused("min relay fee not met"),
        spend_op_true(
            &[coin],
            vec![explicit(policy, COIN_VALUE, op_true_spk.clone())],
        ),
    );
    let mut t = conf.clone();
    // The fee output confidential: the second output's commitments on an empty script.
    t.output[2] = TxOut {
        script_pubkey: Script::new(),
        ..t.output[1].clone()
    };
    t.output[1] = explicit(policy, FEE, op_true_spk.clone());
    case(
        "fee",
        "fee output blinded",
        refused("min relay fee not met"),
        t,
    );
    case(
        "fee",
        "fee below the relay minimum",
        refused("min relay fee not met"),
        simple(COIN_VALUE - 1, 1),
    );

    case(
        "inputs",
        "a transaction already in a block",
        refused("txn-already-known"),
        pay_back(spent_coin),
    );
    case(
        "inputs",
        "input spent in a block by another transaction",
        refused("missing-inputs"),
        simple(COIN_VALUE - 2 * FEE, 2 * FEE).tap_input(spent_coin),
    );
    case(
        "inputs",
        "input that does not exist",
        refused("missing-inputs"),
        pay_back(OutPoint::new(Txid::from_byte_array([0x5a; 32]), 0)),
    );
    let mut t = valid.clone();
    t.input.push(t.input[0].clone());
    case(
        "inputs",
        "the same input twice",
        refused("bad-txns-inputs-duplicate"),
        t,
    );
    case(
        "inputs",
        "input spent by a mempool transaction",
        refused("txn-mempool-conflict"),
        simple(COIN_VALUE - 2 * FEE, 2 * FEE).tap_input(conflict_coin),
    );

    // Issuances with explicit amounts (to P2WSH(OP_TRUE)); the dust rule is the policy
    // asset's only.
    let issuance = |amount: u64, tokens: u64| {
        let mut t = spend_op_true(&[coin], Vec::new());
        t.input[0].asset_issuance = elements::AssetIssuance {
            asset_blinding_nonce: elements::AssetBlindingNonce::NEW_ISSUANCE,
            asset_entropy: elements::AssetEntropy::from_byte_array([0; 32]),
            amount: confidential::Value::Explicit(amount),
            inflation_keys: confidential::Value::Explicit(tokens),
        };
        let (asset, token) = t.input[0].issuance_ids();
        t.output = vec![
            explicit(asset, amount, op_true_spk.clone()),
            explicit(token, tokens, op_true_spk.clone()),
            explicit(policy, COIN_VALUE - FEE, op_true_spk.clone()),
            TxOut::new_fee(FEE, policy),
        ];
        t
    };
    case(
        "issuance",
        "explicit issuance",
        ACCEPTED,
        issuance(5_000, 100),
    );
    case(
        "issuance",
        "explicit issuance with a 1-unit token output",
        ACCEPTED,
        issuance(5_000, 1),
    );
    let mut t = issuance(5_000, 100);
    t.output[0].value = confidential::Value::Explicit(5_001);
    case(
        "issuance",
        "more issued than declared",
        refused("bad-txns-in-ne-out"),
        t,
    );

    case(
        "peg-out",
        "peg-out output with another chain's genesis",
        ACCEPTED,
        with_output(
            pegout(policy, 300_000, other_genesis),
            COIN_VALUE - 300_000 - FEE,
        ),
    );

    case(
        "standardness",
        "above the standard weight",
        refused("tx-size"),
        with_output(data_output(400_001, 0), COIN_VALUE - FEE),
    );
    case(
        "standardness",
        "bare OP_TRUE output",
        ACCEPTED,
        with_output(
            explicit(policy, 10_000, op_true()),
            COIN_VALUE - 10_000 - FEE,
        ),
    );
    case(
        "standardness",
        "data output above 83 bytes",
        refused("scriptpubkey"),
        with_output(data_output(100, 0), COIN_VALUE - FEE),
    );
    // Dust: elementsd's threshold is 0.1 sat per byte of the output and of an input spending
    // it, rounded up: 15 sat for an explicit P2WSH output, 14 for a P2WPKH one.
    for (name, value, script, expect) in [
        (
            "dust: 1 sat to P2WSH",
            1,
            op_true_spk.clone(),
            refused("dust"),
        ),
        (
            "dust: 14 sat to P2WSH",
            14,
            op_true_spk.clone(),
            refused("dust"),
        ),
        (
            "not dust: 15 sat to P2WSH",
            15,
            op_true_spk.clone(),
            ACCEPTED,
        ),
        (
            "dust: 13 sat to P2WPKH",
            13,
            signer_spk.clone(),
            refused("dust"),
        ),
        (
            "not dust: 14 sat to P2WPKH",
            14,
            signer_spk.clone(),
            ACCEPTED,
        ),
    ] {
        case(
            "standardness",
            name,
            expect,
            with_output(explicit(policy, value, script), COIN_VALUE - value - FEE),
        );
    }
    let mut t = valid.clone();
    t.version = 3;
    case(
        "standardness",
        "transaction version 3",
        refused("version"),
        t,
    );
    let mut t = valid.clone();
    t.lock_time = LockTime::from_height(50_000).unwrap();
    t.input[0].sequence = Sequence::ZERO;
    case(
        "standardness",
        "lock time in the future",
        refused("non-final"),
        t,
    );
    // Relative lock times (BIP68): the coin is confirmed a few blocks deep.
    let relative = |version: u32, sequence: u32| {
        let mut t = valid.clone();
        t.version = version;
        t.input[0].sequence = Sequence(sequence);
        t
    };
    const DISABLE: u32 = 1 << 31;
    const BY_TIME: u32 = 1 << 22;
    for (name, expect, tx) in [
        (
            "relative lock of 1,000 blocks not reached",
            refused("non-BIP68-final"),
            relative(2, 1_000),
        ),
        (
            "relative lock of 65,535 time units not reached",
            refused("non-BIP68-final"),
            relative(2, BY_TIME | 0xffff),
        ),
        ("relative lock of 1 block reached", ACCEPTED, relative(2, 1)),
        (
            "relative lock disabled by its flag",
            ACCEPTED,
            relative(2, DISABLE | 1_000),
        ),
        (
            "relative lock ignored in version 1",
            ACCEPTED,
            relative(1, 1_000),
        ),
    ] {
        case("relative lock", name, expect, tx);
    }
    cases
}

/// Replaces the input of a one-input transaction.
trait TapInput {
    fn tap_input(self, coin: OutPoint) -> Self;
}

impl TapInput for Transaction {
    fn tap_input(mut self, coin: OutPoint) -> Self {
        self.input[0].previous_output = coin;
        self
    }
}

/// Every case's verdict on `chain`.
fn judge(
    chain: &dyn TestChain,
) -> Vec<(&'static str, &'static str, Option<&'static str>, Verdict)> {
    corpus(chain)
        .into_iter()
        .map(|c| {
            let verdict = chain.test_accept(&c.tx).unwrap();
            (c.class, c.name, c.expect, verdict)
        })
        .collect()
}

/// Whether `verdict` is the one `expect` declares: accepted, or refused by that rule.
fn as_declared(expect: Option<&str>, verdict: &Verdict) -> bool {
    match expect {
        None => verdict.allowed,
        Some(rule) => !verdict.allowed && verdict.reason.starts_with(rule),
    }
}

fn embedded() -> regtest::Sandbox {
    regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap()
}

#[test]
fn the_sandbox_judges_the_corpus_as_declared() {
    let chain = embedded();
    let verdicts = judge(&chain);
    let wrong: Vec<String> = verdicts
        .iter()
        .filter(|(_, _, expect, v)| !as_declared(*expect, v))
        .map(|(class, name, expect, v)| {
            let expected = expect.map_or("accepted".to_owned(), |r| format!("refused by {r:?}"));
            format!("{class}/{name}: expected {expected}, got {v:?}")
        })
        .collect();
    let classes: std::collections::BTreeSet<&str> = verdicts.iter().map(|v| v.0).collect();
    eprintln!(
        "differential corpus: {} cases in {} classes",
        verdicts.len(),
        classes.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_sandbox_and_elementsd_agree_on_every_case() {
    with_real_stack("the_sandbox_and_elementsd_agree_on_every_case", |stack| {
        let sandbox = embedded();
        let ours = judge(&sandbox);
        let theirs = judge(stack);
        assert_eq!(ours.len(), theirs.len());
        let mut report = Vec::new();
        let mut disagreements = 0;
        for ((class, name, expect, s), (_, _, _, e)) in ours.iter().zip(&theirs) {
            // The two chains agree with each other, and elementsd with the declaration.
            let agree = s.allowed == e.allowed && s.code() == e.code() && as_declared(*expect, e);
            if !agree {
                disagreements += 1;
            }
            report.push(format!(
                "{} {class}/{name}\n    elementsd: {}\n    sandbox:   {}",
                if agree { "ok  " } else { "DIFF" },
                describe(e),
                describe(s)
            ));
        }
        eprintln!("{}", report.join("\n"));
        assert_eq!(disagreements, 0, "\n{}", report.join("\n"));
    });
}

fn describe(v: &Verdict) -> String {
    if v.allowed {
        "accepted".to_owned()
    } else {
        format!("refused: {}", v.reason)
    }
}
