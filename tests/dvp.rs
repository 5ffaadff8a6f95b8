//! DvP offers through the built binary: maker and taker in separate data folders, on the
//! embedded chain, the envelope passed through pipes and files.

mod common;

use common::desks::Desks;
use serde_json::Value;

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
