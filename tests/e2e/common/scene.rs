//! A data folder whose wallets live on an in-process sandbox chain (over Esplora): what most
//! end-to-end scenarios start from.

use std::io::Write;
use std::process::Stdio;

use serde_json::Value;

use super::{Run, Sandbox};

/// One bitcoin, in satoshi.
pub const COIN: u64 = 100_000_000;

/// A data folder and the chain its wallets sync with.
pub struct Scene {
    /// The data folder and the binary.
    pub sb: Sandbox,
    /// The chain.
    pub chain: regtest::Sandbox,
    /// The chain's Esplora URL.
    pub url: String,
}

impl Scene {
    /// A started chain and a data folder with `wallets` (name, mnemonic) restored on regtest.
    pub fn new(wallets: &[(&str, &str)]) -> Scene {
        let chain = regtest::Sandbox::start(regtest::SandboxConfig::default()).unwrap();
        let url = chain.esplora_url();
        let sb = Sandbox::new();
        for (name, phrase) in wallets {
            sb.restore(name, phrase);
        }
        Scene { sb, chain, url }
    }

    /// Runs the binary on regtest against the chain as `wallet`.
    pub fn run(&self, wallet: &str, args: &[&str], stdin: Option<&str>) -> Run {
        self.sb.on_chain(&self.url, wallet, args, stdin)
    }

    /// A fresh receive address of `wallet`.
    pub fn address(&self, wallet: &str) -> String {
        self.run(wallet, &["--json", "address", "new"], None)
            .ok()
            .json()["address"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Pays `sat` L-BTC from the faucet to `address` and mines it.
    pub fn fund(&self, address: &str, sat: u64) -> elements::Txid {
        let address: elements::Address = address.parse().unwrap();
        let txid = self.chain.faucet(&address, sat, None).unwrap();
        self.chain.mine(1).unwrap();
        txid
    }

    /// `wallet`'s (confirmed, unconfirmed) L-BTC after a sync.
    pub fn lbtc(&self, wallet: &str) -> (u64, u64) {
        let doc = self.run(wallet, &["--json", "balance"], None).ok().json();
        super::balance_of(&doc, &self.chain.policy_asset().to_string())
    }

    /// `wallet`'s `tx pending --json` rows.
    pub fn pending(&self, wallet: &str) -> Vec<Value> {
        self.run(wallet, &["--json", "tx", "pending"], None)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Runs `args` as `wallet` with the process aborted at crash point `point`
    /// (`LIQUID_OTC_FAULT`), and asserts that it was (killed by SIGABRT, not an exit).
    pub fn crash(&self, wallet: &str, point: &str, args: &[&str], stdin: Option<&str>) {
        let mut full = vec![
            "--network",
            "regtest",
            "--esplora",
            &self.url,
            "--wallet",
            wallet,
        ];
        full.extend_from_slice(args);
        let mut child = self
            .sb
            .command(&full)
            .env("LIQUID_OTC_FAULT", point)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        super::assert_aborted(
            &out.status,
            &format!("{point}: {args:?}"),
            &String::from_utf8_lossy(&out.stderr),
        );
    }
}
