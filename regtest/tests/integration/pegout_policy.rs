//! Peg-out outputs on the sandbox, as elementsd and electrs treat them on liquidregtest: the
//! relay policy on data outputs (one per transaction unless `-multi_data_permitted`, at most
//! 83 bytes, pushes only), and the Esplora and Electrum shapes of the recorded peg-out.

use crate::common::*;

use regtest::elements::{
    self, confidential::Value, encode::deserialize, script::Builder, OutPoint, Script, TxOut,
};
use regtest::json::TxOutJson;
use regtest::{Error, Sandbox, SandboxConfig};

fn start(multi_data_permitted: bool) -> Sandbox {
    let sb = Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        multi_data_permitted,
        ..Default::default()
    })
    .unwrap();
    sb.mine(1).unwrap();
    sb
}

fn fund(sb: &Sandbox, seed: u8, amount: u64) -> OutPoint {
    let addr = p2wpkh(seed, false);
    let txid = sb.faucet(&addr, amount, None).unwrap();
    sb.mine(1).unwrap();
    let tx = sb.get_tx(&txid).unwrap();
    let vout = tx
        .output
        .iter()
        .position(|o| o.script_pubkey == addr.script_pubkey())
        .unwrap();
    OutPoint::new(txid, vout as u32)
}

fn pegout_script(parent_spk: &[u8]) -> Script {
    let genesis = regtest::genesis::parent_genesis_hash();
    Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .push_slice(AsRef::<[u8; 32]>::as_ref(&genesis))
        .push_slice(parent_spk)
        .into_script()
}

/// A signed spend of `op` (1 L-BTC of seed 1) to `outputs`, change back and a 1000 sat fee.
fn spend_to(sb: &Sandbox, op: OutPoint, outputs: Vec<TxOut>) -> elements::Transaction {
    let policy = sb.policy_asset();
    let paid: u64 = outputs.iter().filter_map(|o| o.value.explicit()).sum();
    let mut all = outputs;
    all.push(explicit_out(
        policy,
        100_000_000 - paid - 1000,
        p2wpkh(1, false).script_pubkey(),
    ));
    all.push(TxOut::new_fee(1000, policy));
    let mut tx = new_tx(vec![op], all);
    sign_p2wpkh(&mut tx, 0, 1, Value::Explicit(100_000_000));
    tx
}

fn rejected(r: Result<elements::Txid, Error>) -> String {
    match r {
        Err(Error::Rejected(m)) => m,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

const WPKH: &str = "0014d0c4a3ef09e997b6e99e397e518fe3e41a118ca1";

#[test]
fn one_data_output_per_transaction_unless_multi_data_permitted() {
    for multi in [false, true] {
        let sb = start(multi);
        let policy = sb.policy_asset();
        let op = fund(&sb, 1, 100_000_000);
        let spk = regtest::hexutil::decode(WPKH).unwrap();
        let two = spend_to(
            &sb,
            op,
            vec![
                explicit_out(policy, 200_000, pegout_script(&spk)),
                explicit_out(policy, 300_000, pegout_script(&spk)),
            ],
        );
        let result = sb.broadcast(two.clone());
        if multi {
            let txid = result.unwrap();
            sb.mine(1).unwrap();
            let mut recorded = sb.pegouts();
            recorded.sort();
            assert_eq!(
                recorded,
                vec![
                    (txid, 0, 200_000, spk.clone()),
                    (txid, 1, 300_000, spk.clone())
                ]
            );
        } else {
            assert_eq!(
                rejected(result),
                "sendrawtransaction RPC error -26: multi-op-return"
            );
            // One peg-out and no other data output passes.
            let one = spend_to(
                &sb,
                op,
                vec![explicit_out(policy, 200_000, pegout_script(&spk))],
            );
            sb.broadcast(one).unwrap();
        }
    }
}

#[test]
fn data_outputs_must_be_small_pushes() {
    let sb = start(true);
    let policy = sb.policy_asset();
    let op = fund(&sb, 1, 100_000_000);
    // 84 bytes of script: one past the standard size.
    let big = Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .push_slice(&[7u8; 81])
        .into_script();
    assert_eq!(big.len(), 84);
    let m = rejected(sb.broadcast(spend_to(&sb, op, vec![explicit_out(policy, 1, big)])));
    assert_eq!(m, "sendrawtransaction RPC error -26: scriptpubkey");
    // An opcode after OP_RETURN that is not a push.
    let code = Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .push_opcode(elements::opcodes::all::OP_CHECKSIG)
        .into_script();
    let m = rejected(sb.broadcast(spend_to(&sb, op, vec![explicit_out(policy, 1, code)])));
    assert_eq!(m, "sendrawtransaction RPC error -26: scriptpubkey");
    // 83 bytes is standard; a peg-out to a P2WSH (69 bytes) too.
    let edge = Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .push_slice(&[7u8; 80])
        .into_script();
    assert_eq!(edge.len(), 83);
    let wsh = [vec![0x00, 0x20], vec![9u8; 32]].concat();
    assert_eq!(pegout_script(&wsh).len(), 69);
    sb.broadcast(spend_to(
        &sb,
        op,
        vec![
            explicit_out(policy, 1, edge),
            explicit_out(policy, 150_000, pegout_script(&wsh)),
        ],
    ))
    .unwrap();
}

#[test]
fn recorded_pegout_is_served_as_electrs_serves_it() {
    let Some(dir) = fixtures() else { return };
    let hex = fixture_json(&dir, "esplora/tx_pegout_hex.json")["body"]
        .as_str()
        .unwrap()
        .to_owned();
    let tx: elements::Transaction = deserialize(&regtest::hexutil::decode(&hex).unwrap()).unwrap();
    let want = fixture_json(&dir, "esplora/tx_pegout.json")["body"].clone();
    // Every output, field by field and in electrs's key order: the peg-out is an ordinary
    // `op_return` output with its explicit value and asset (no `pegout` object on
    // liquidregtest).
    for (i, out) in tx.output.iter().enumerate() {
        let ours = serde_json::to_value(TxOutJson::new(out)).unwrap();
        assert_eq!(ours, want["vout"][i], "output {i}");
    }
    assert_eq!(want["vout"][1]["scriptpubkey_type"], "op_return");
    assert!(tx.output[1].is_pegout());

    // The same shape from a peg-out made on the sandbox, over Esplora and Electrum.
    let sb = start(false);
    let policy = sb.policy_asset();
    let op = fund(&sb, 1, 100_000_000);
    let spk = regtest::hexutil::decode(WPKH).unwrap();
    let tx = spend_to(
        &sb,
        op,
        vec![explicit_out(policy, 30_000_000, pegout_script(&spk))],
    );
    let txid = sb.broadcast(tx.clone()).unwrap();
    sb.mine(1).unwrap();
    let got = get_json(&sb.esplora_url(), &format!("/tx/{txid}"));
    assert_eq!(got["vout"][0], want["vout"][1]);
    let supply = get_json(&sb.esplora_url(), &format!("/asset/{policy}"));
    assert_eq!(supply["chain_stats"]["burned_amount"], 30_000_000);
    let mut electrum = Electrum::connect(sb.electrum_addr());
    let raw = electrum.call(
        "blockchain.transaction.get",
        serde_json::json!([txid.to_string()]),
    );
    assert_eq!(raw["result"].as_str().unwrap(), tx_hex(&tx));
}
