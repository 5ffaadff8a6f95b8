//! Two desks trading DvP offers through the built binary: "exchange" (maker) and "desk"
//! (taker), each in its own data folder, on one embedded chain; and the tools a hostile
//! counterparty would use to change an envelope.

use std::process::Stdio;
use std::str::FromStr;

use elements::pset::PartiallySignedTransaction;
use regtest::SandboxConfig;
use serde_json::Value;

use super::{Run, Sandbox, ABANDON};

/// The taker's mnemonic.
pub const OTHER: &str =
    "legal winner thank year wave sausage worth useful legal winner thank yellow";
/// A third party's mnemonic (the thief of the attack tests).
pub const THIEF: &str =
    "letter advice cage absurd amount doctor acoustic avoid letter advice cage above";

/// The chain and the two desks.
pub struct Desks {
    /// The chain.
    pub node: regtest::Sandbox,
    /// `--esplora URL` or `--electrum tcp://...`.
    pub server: Vec<String>,
    /// The maker's data folder (wallet "exchange").
    pub maker: Sandbox,
    /// The taker's data folder (wallet "desk"; also "thief").
    pub taker: Sandbox,
    /// A JPY-like token the taker holds (precision 0 for both desks).
    pub jpy: String,
    /// A CAD-like token both desks hold.
    pub cad: String,
    /// L-BTC.
    pub policy: String,
}

impl Desks {
    /// The chain and the desks: the maker holds 2 L-BTC and 0.5 L-BTC and 1,000,000 CAD;
    /// the taker 30,000,000 JPY, 1,000,000 CAD and 0.01 L-BTC; all confirmed.
    pub fn start(electrum: bool) -> Desks {
        let node = regtest::Sandbox::start(SandboxConfig::default()).unwrap();
        let server = if electrum {
            vec![
                "--electrum".to_string(),
                format!("tcp://{}", node.electrum_addr()),
            ]
        } else {
            vec!["--esplora".to_string(), node.esplora_url()]
        };
        let maker = Sandbox::new();
        let taker = Sandbox::new();
        maker.restore("exchange", ABANDON);
        taker.restore("desk", OTHER);
        let jpy = node.issue(1_000_000_000, Some("JPY")).unwrap().asset;
        let cad = node.issue(1_000_000_000, Some("CAD")).unwrap().asset;
        let policy = node.policy_asset().to_string();
        let desks = Desks {
            node,
            server,
            maker,
            taker,
            jpy: jpy.to_string(),
            cad: cad.to_string(),
            policy,
        };
        for (maker, sat, asset) in [
            (true, 200_000_000, None),
            (true, 50_000_000, None),
            (true, 1_000_000, Some(cad)),
            (false, 30_000_000, Some(jpy)),
            (false, 1_000_000, Some(cad)),
            (false, 1_000_000, None),
        ] {
            let to = desks.address(maker);
            desks.fund(&to, sat, asset);
        }
        desks.node.mine(1).unwrap();
        desks
    }

    fn fund(&self, address: &str, sat: u64, asset: Option<elements::AssetId>) {
        let address: elements::Address = address.parse().unwrap();
        self.node.faucet(&address, sat, asset).unwrap();
    }

    /// A fresh receive address of the maker (`true`) or the taker.
    pub fn address(&self, maker: bool) -> String {
        self.run(maker, &["--json", "address", "new"], None)
            .ok()
            .json()["address"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// An address of a third party (a wallet "thief" in the taker's folder).
    pub fn thief_address(&self) -> elements::Address {
        if !self.taker.home().join("regtest/thief").exists() {
            self.taker.restore("thief", THIEF);
        }
        let server: Vec<&str> = self.server.iter().map(String::as_str).collect();
        let doc = self
            .taker
            .on_server(&server, "thief", &["--json", "address", "new"], None)
            .ok()
            .json();
        doc["address"].as_str().unwrap().parse().unwrap()
    }

    fn args<'a>(&'a self, maker: bool, args: &[&'a str]) -> (&'a Sandbox, Vec<&'a str>) {
        let (sb, wallet) = if maker {
            (&self.maker, "exchange")
        } else {
            (&self.taker, "desk")
        };
        let mut full = vec!["--network", "regtest"];
        full.extend(self.server.iter().map(String::as_str));
        full.extend_from_slice(&["--wallet", wallet]);
        full.extend_from_slice(args);
        (sb, full)
    }

    /// Runs the binary as the maker (`true`) or the taker.
    pub fn run(&self, maker: bool, args: &[&str], stdin: Option<&str>) -> Run {
        let (sb, full) = self.args(maker, args);
        sb.run_with_stdin(&full, stdin)
    }

    /// Runs the binary with extra environment variables (a crash point, a clock offset).
    pub fn run_env(
        &self,
        maker: bool,
        args: &[&str],
        stdin: Option<&str>,
        env: &[(&str, &str)],
    ) -> Run {
        let (sb, full) = self.args(maker, args);
        let mut cmd = sb.command(&full);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        if let Some(text) = stdin {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        Run::of(child.wait_with_output().unwrap())
    }

    /// (confirmed + unconfirmed) of `asset` after a sync.
    pub fn balance(&self, maker: bool, asset: &str) -> u64 {
        let doc = self.run(maker, &["--json", "balance"], None).ok().json();
        let (c, u) = super::balance_of(&doc, asset);
        c + u
    }

    /// `offer create` as the maker: 1.5 L-BTC for 15,000,000 base units of JPY.
    pub fn create(&self, extra: &[&str]) -> Run {
        let want = format!("15000000:{}", self.jpy);
        let mut args = vec!["offer", "create", "--give", "1.5:L-BTC", "--want", &want];
        args.extend_from_slice(extra);
        self.run(true, &args, None)
    }

    /// The proposed envelope of [`Desks::create`] with `extra` flags.
    pub fn proposed(&self, extra: &[&str]) -> String {
        self.create(extra).ok().stdout.trim().to_string()
    }

    /// `offer accept -` as the taker, the envelope on stdin.
    pub fn accept(&self, envelope: &str, extra: &[&str]) -> Run {
        let pass = self.taker.pass();
        let mut args = vec!["--yes", "offer", "accept", "-", "--passphrase-file", &pass];
        args.extend_from_slice(extra);
        self.run(false, &args, Some(envelope))
    }

    /// The accepted envelope of `proposed`.
    pub fn accepted(&self, proposed: &str) -> String {
        self.accept(proposed, &[]).ok().stdout.trim().to_string()
    }

    /// `offer settle -` as the maker, the envelope on stdin.
    pub fn settle(&self, envelope: &str, extra: &[&str]) -> Run {
        let pass = self.maker.pass();
        let mut args = vec!["--yes", "offer", "settle", "-", "--passphrase-file", &pass];
        args.extend_from_slice(extra);
        self.run(true, &args, Some(envelope))
    }

    /// `offer cancel ID` as the maker (`true`) or the taker, answered yes.
    pub fn cancel(&self, maker: bool, id: &str) -> Run {
        let pass = if maker {
            self.maker.pass()
        } else {
            self.taker.pass()
        };
        self.run(
            maker,
            &[
                "--json",
                "--yes",
                "offer",
                "cancel",
                id,
                "--passphrase-file",
                &pass,
            ],
            None,
        )
    }

    /// The deals of a desk, as `deal list --json` gives them.
    pub fn deals(&self, maker: bool) -> Vec<Value> {
        self.run(maker, &["--json", "deal", "list"], None)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    /// One deal of a desk, as `deal show --json` gives it.
    pub fn deal(&self, maker: bool, id: &str) -> Value {
        self.run(maker, &["--json", "deal", "show", id], None)
            .ok()
            .json()
    }

    /// The desk's reserved coins (outpoint → holder), from `utxos --json` after a sync.
    pub fn reserved(&self, maker: bool) -> Vec<(String, String)> {
        self.run(maker, &["--json", "sync"], None).ok();
        self.run(maker, &["--json", "utxos"], None)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["reserved_by"].is_string())
            .map(|u| {
                (
                    u["outpoint"].as_str().unwrap().to_string(),
                    u["reserved_by"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The desk's recorded transactions not seen on the chain.
    pub fn pending(&self, maker: bool) -> Vec<Value> {
        self.run(maker, &["--json", "tx", "pending"], None)
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }
}

/// An envelope changed by `f`, which gets the JSON document and its PSET.
pub fn edit(envelope: &str, f: impl FnOnce(&mut Value, &mut PartiallySignedTransaction)) -> String {
    let mut doc: Value = serde_json::from_str(envelope).unwrap();
    let mut pset = PartiallySignedTransaction::from_str(doc["pset"].as_str().unwrap()).unwrap();
    f(&mut doc, &mut pset);
    doc["pset"] = Value::String(pset.to_string());
    doc.to_string()
}

/// The txid of an envelope's transaction as it stands.
pub fn txid_of(envelope: &str) -> elements::Txid {
    let doc: Value = serde_json::from_str(envelope).unwrap();
    PartiallySignedTransaction::from_str(doc["pset"].as_str().unwrap())
        .unwrap()
        .extract_tx()
        .unwrap()
        .txid()
}

/// The deal id of an envelope.
pub fn deal_id(envelope: &str) -> String {
    let doc: Value = serde_json::from_str(envelope).unwrap();
    doc["deal_id"].as_str().unwrap().to_string()
}
