//! A 2-of-3 confidential multisig through files: a watch-only coordinator builds the PSET,
//! two cosigners sign their copies, the coordinator combines, finalizes and broadcasts.

use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;

const SECOND: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";
const THIRD: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";
const STRANGER: &str = "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong";
const COIN: u64 = 100_000_000;

fn run(sb: &Sandbox, url: &str, wallet: &str, args: &[&str], stdin: Option<&str>) -> Run {
    sb.on_chain(url, wallet, args, stdin)
}

/// The `[fingerprint/84'/1'/0']tpub...` account key of a mnemonic, via a throw-away wallet.
fn account_key(sb: &Sandbox, name: &str, phrase: &str) -> String {
    let doc = sb
        .run_with_stdin(
            &[
                "--network",
                "regtest",
                "--json",
                "wallet",
                "restore",
                "--name",
                name,
                "--passphrase-file",
                &sb.pass(),
            ],
            Some(phrase),
        )
        .ok()
        .json();
    let descriptor = doc["descriptor"].as_str().unwrap();
    let start = descriptor.find("elwpkh(").unwrap() + "elwpkh(".len();
    let end = descriptor.find("/<0;1>/*").unwrap();
    descriptor[start..end].to_string()
}

#[test]
fn two_of_three_multisig_payment_through_files() {
    let chain = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
    let url = chain.esplora_url();
    let sb = Sandbox::new();
    let keys: Vec<String> = [("k1", ABANDON), ("k2", SECOND), ("k3", THIRD)]
        .iter()
        .map(|(n, p)| account_key(&sb, n, p))
        .collect();
    let descriptor = format!(
        "ct(slip77({}),elwsh(multi(2,{}/<0;1>/*,{}/<0;1>/*,{}/<0;1>/*)))",
        "42".repeat(32),
        keys[0],
        keys[1],
        keys[2]
    );
    let desc_file = sb.path("multisig.descriptor");
    std::fs::write(&desc_file, &descriptor).unwrap();
    let desc_arg = desc_file.to_str().unwrap();

    // The coordinator watches; two cosigners hold their own mnemonic with the same descriptor.
    sb.run(&[
        "--network",
        "regtest",
        "wallet",
        "import",
        "--name",
        "coord",
        "--descriptor-file",
        desc_arg,
    ])
    .ok();
    for (name, phrase) in [("m1", ABANDON), ("m3", THIRD)] {
        sb.run_with_stdin(
            &[
                "--network",
                "regtest",
                "wallet",
                "restore",
                "--name",
                name,
                "--descriptor-file",
                desc_arg,
                "--passphrase-file",
                &sb.pass(),
            ],
            Some(phrase),
        )
        .ok();
    }
    // A mnemonic that holds none of the keys cannot become a cosigner.
    sb.run_with_stdin(
        &[
            "--network",
            "regtest",
            "wallet",
            "restore",
            "--name",
            "x",
            "--descriptor-file",
            desc_arg,
            "--passphrase-file",
            &sb.pass(),
        ],
        Some(STRANGER),
    )
    .fails(3, "none of the descriptor's keys");

    let funding = run(&sb, &url, "coord", &["--json", "address", "new"], None)
        .ok()
        .json();
    let funding: elements::Address = funding["address"].as_str().unwrap().parse().unwrap();
    chain.faucet(&funding, COIN, None).unwrap();
    chain.mine(1).unwrap();
    let payee = run(&sb, &url, "k2", &["--json", "address", "new"], None)
        .ok()
        .json();
    let payee = payee["address"].as_str().unwrap().to_string();

    // 1. The watch-only coordinator builds the unsigned PSET.
    let unsigned = run(
        &sb,
        &url,
        "coord",
        &["pset", "create", "--to", &format!("{payee}:0.2")],
        None,
    )
    .ok();
    std::fs::write(sb.path("unsigned.pset"), &unsigned.stdout).unwrap();
    // The coordinator cannot sign.
    run(
        &sb,
        &url,
        "coord",
        &[
            "--yes",
            "pset",
            "sign",
            sb.path("unsigned.pset").to_str().unwrap(),
        ],
        None,
    )
    .fails(
        1,
        "error: watch-only wallet: wallet 'coord' has no seed, so it cannot sign",
    );

    // 2. Each cosigner signs its own copy. `pset sign` syncs first, so m1 signs straight away,
    // as the README shows; m3 syncs and looks at it first (inspect reads the store).
    for name in ["m1", "m3"] {
        if name == "m1" {
            let signed = run(
                &sb,
                &url,
                name,
                &[
                    "--yes",
                    "pset",
                    "sign",
                    sb.path("unsigned.pset").to_str().unwrap(),
                    "--passphrase-file",
                    &sb.pass(),
                ],
                None,
            )
            .ok();
            std::fs::write(sb.path("m1.pset"), &signed.stdout).unwrap();
            continue;
        }
        run(&sb, &url, name, &["sync"], None).ok();
        let view = run(
            &sb,
            &url,
            name,
            &[
                "--json",
                "pset",
                "inspect",
                sb.path("unsigned.pset").to_str().unwrap(),
            ],
            None,
        )
        .ok()
        .json();
        let fee = view["fee"].as_i64().unwrap();
        assert_eq!(
            view["net"][chain.policy_asset().to_string()],
            -(20_000_000 + fee)
        );
        let signed = run(
            &sb,
            &url,
            name,
            &[
                "--yes",
                "pset",
                "sign",
                sb.path("unsigned.pset").to_str().unwrap(),
                "--passphrase-file",
                &sb.pass(),
            ],
            None,
        )
        .ok();
        std::fs::write(sb.path(&format!("{name}.pset")), &signed.stdout).unwrap();
    }

    // One signature is not enough.
    let m1 = sb.path("m1.pset");
    sb.run(&[
        "--network",
        "regtest",
        "pset",
        "finalize",
        m1.to_str().unwrap(),
    ])
    .fails(
        3,
        "input 0 has 1 of 2 signature(s); it needs 1 more from key(s)",
    );

    // 3. The coordinator combines, finalizes and broadcasts.
    let m3 = sb.path("m3.pset");
    let combined = sb
        .run(&[
            "--network",
            "regtest",
            "pset",
            "combine",
            m1.to_str().unwrap(),
            m3.to_str().unwrap(),
        ])
        .ok();
    std::fs::write(sb.path("combined.pset"), &combined.stdout).unwrap();
    let finalized = sb
        .run(&[
            "--network",
            "regtest",
            "pset",
            "finalize",
            sb.path("combined.pset").to_str().unwrap(),
        ])
        .ok();
    std::fs::write(sb.path("final.pset"), &finalized.stdout).unwrap();
    // Without --wallet: every synced wallet of the data folder whose coins it spends (the
    // coordinator, and the cosigners that synced to sign) records it as pending before it is
    // broadcast; the single-key wallets do not.
    let final_pset = sb.path("final.pset");
    let sent = sb
        .run(&[
            "--network",
            "regtest",
            "--esplora",
            &url,
            "--json",
            "pset",
            "broadcast",
            final_pset.to_str().unwrap(),
        ])
        .ok()
        .json();
    let txid = sent["txid"].as_str().unwrap();
    let pending = run(&sb, &url, "coord", &["--json", "tx", "pending"], None)
        .ok()
        .json();
    assert_eq!(pending[0]["txid"], txid, "{pending}");
    let k2_pending = sb
        .run(&[
            "--network",
            "regtest",
            "--wallet",
            "k2",
            "--json",
            "tx",
            "pending",
        ])
        .ok()
        .json();
    assert_eq!(k2_pending, serde_json::json!([]));
    chain.mine(1).unwrap();

    let bal = run(&sb, &url, "k2", &["--json", "balance"], None)
        .ok()
        .json();
    let received = bal["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["asset"] == chain.policy_asset().to_string().as_str())
        .map(|b| b["confirmed"].as_u64().unwrap());
    assert_eq!(received, Some(20_000_000));
}
