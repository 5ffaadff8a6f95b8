//! DvP offers through the built binary: maker and taker in separate data folders, on the
//! embedded chain, the envelope passed through pipes and files.

mod common;

use common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const OTHER: &str = "legal winner thank year wave sausage worth useful legal winner thank yellow";

/// The chain and the two desks: "exchange" (maker) and "desk" (taker), each in its own data
/// folder, talking to the chain over Esplora or Electrum.
pub struct Desks {
    pub node: regtest::Sandbox,
    pub server: Vec<String>,
    pub maker: Sandbox,
    pub taker: Sandbox,
    pub jpy: String,
    pub policy: String,
}

impl Desks {
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
        let policy = node.policy_asset().to_string();
        let desks = Desks {
            node,
            server,
            maker,
            taker,
            jpy: jpy.to_string(),
            policy,
        };
        let to_maker = desks.address(true);
        desks.fund(&to_maker, 200_000_000, None);
        let to_taker = desks.address(false);
        desks.fund(&to_taker, 30_000_000, Some(jpy));
        let to_taker = desks.address(false);
        desks.fund(&to_taker, 1_000_000, None);
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

    /// Runs the binary as the maker (`true`) or the taker.
    pub fn run(&self, maker: bool, args: &[&str], stdin: Option<&str>) -> Run {
        let (sb, wallet) = if maker {
            (&self.maker, "exchange")
        } else {
            (&self.taker, "desk")
        };
        let server: Vec<&str> = self.server.iter().map(String::as_str).collect();
        sb.on_server(&server, wallet, args, stdin)
    }

    pub fn maker_pass(&self) -> String {
        self.maker.pass()
    }

    pub fn taker_pass(&self) -> String {
        self.taker.pass()
    }

    /// (confirmed + unconfirmed) of `asset` after a sync.
    pub fn balance(&self, maker: bool, asset: &str) -> u64 {
        let doc = self.run(maker, &["--json", "balance"], None).ok().json();
        let (c, u) = common::balance_of(&doc, asset);
        c + u
    }

    /// `offer create` as the maker: 1.5 L-BTC for 15,000,000 base units of JPY.
    pub fn create(&self, extra: &[&str]) -> Run {
        let want = format!("15000000:{}", self.jpy);
        let mut args = vec!["offer", "create", "--give", "1.5:L-BTC", "--want", &want];
        args.extend_from_slice(extra);
        self.run(true, &args, None)
    }

    /// `offer accept -` as the taker, the envelope on stdin.
    pub fn accept(&self, envelope: &str, extra: &[&str]) -> Run {
        let pass = self.taker_pass();
        let mut args = vec!["--yes", "offer", "accept", "-", "--passphrase-file", &pass];
        args.extend_from_slice(extra);
        self.run(false, &args, Some(envelope))
    }

    /// `offer settle -` as the maker, the envelope on stdin.
    pub fn settle(&self, envelope: &str, extra: &[&str]) -> Run {
        let pass = self.maker_pass();
        let mut args = vec!["--yes", "offer", "settle", "-", "--passphrase-file", &pass];
        args.extend_from_slice(extra);
        self.run(true, &args, Some(envelope))
    }
}

#[test]
fn create_accept_settle_through_pipes() {
    let d = Desks::start(false);
    let created = d.create(&[]).ok();
    // Human mode: the envelope alone on stdout, one line.
    let envelope = created.stdout.trim().to_string();
    assert_eq!(envelope.lines().count(), 1);
    let offer: Value = serde_json::from_str(&envelope).unwrap();
    assert_eq!(offer["stage"], "proposed");
    assert_eq!(offer["terms"]["maker_gives"]["amount"], 150_000_000u64);
    assert_eq!(offer["terms"]["maker_receives"]["asset"], d.jpy);
    let deal_id = offer["deal_id"].as_str().unwrap().to_string();

    let accepted = d.accept(&envelope, &[]).ok();
    let accepted_envelope = accepted.stdout.trim().to_string();
    let doc: Value = serde_json::from_str(&accepted_envelope).unwrap();
    assert_eq!(doc["stage"], "accepted");
    assert_eq!(doc["deal_id"], deal_id.as_str());

    let settled = d.settle(&accepted_envelope, &[]).ok();
    let txid = settled.stdout.trim().to_string();
    assert_eq!(txid.len(), 64);
    d.node.mine(1).unwrap();

    // Each side unblinds what it received.
    assert_eq!(d.balance(true, &d.jpy), 15_000_000);
    assert_eq!(d.balance(false, &d.jpy), 15_000_000);
    let taker_lbtc = d.balance(false, &d.policy);
    assert!(taker_lbtc > 150_000_000 + 1_000_000 - 1_000, "{taker_lbtc}");
    assert_eq!(d.balance(true, &d.policy), 50_000_000);
}
