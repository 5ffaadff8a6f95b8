//! rust-elements address vectors: decode, compare, re-encode; reject the invalid ones.

use crate::common::s;
use wallet_core::address::{inspect, parse_for_network};
use wallet_core::network::Network;
use wallet_core::Error;

#[test]
fn valid_addresses() {
    let Some(v) = crate::common::vectors("addresses.json") else {
        return;
    };
    let valid = v["valid"].as_array().unwrap();
    assert_eq!(valid.len(), 52);
    for e in valid {
        let addr = s(e, "address");
        let info = inspect(addr).unwrap_or_else(|err| panic!("{addr}: {err}"));
        let network = crate::common::network(s(e, "network"));
        assert_eq!(info.network, network, "{addr}");
        assert_eq!(
            info.confidential,
            e["confidential"].as_bool().unwrap(),
            "{addr}"
        );
        // An address alone cannot tell p2sh-p2wpkh from p2sh.
        let expected_type = match s(e, "type") {
            "p2sh-p2wpkh" => "p2sh",
            t => t,
        };
        assert_eq!(info.script_type, expected_type, "{addr}");
        assert_eq!(info.script_pubkey, s(e, "script_pubkey_hex"), "{addr}");
        assert_eq!(
            info.blinding_pubkey.as_deref(),
            e["blinding_pubkey"].as_str(),
            "{addr}"
        );
        // Re-encoding gives the same string.
        assert_eq!(info.address, addr);
        let parsed = parse_for_network(addr, network).unwrap();
        assert_eq!(parsed.to_string(), addr);
        if info.confidential {
            assert_ne!(info.unconfidential, addr);
            assert_eq!(
                inspect(&info.unconfidential).unwrap().script_pubkey,
                info.script_pubkey
            );
        } else {
            assert_eq!(info.unconfidential, addr);
        }
        for other in Network::ALL.into_iter().filter(|n| *n != network) {
            match parse_for_network(addr, other) {
                Err(Error::WrongNetwork { expected, found }) => {
                    assert_eq!(expected, other);
                    assert_eq!(found, network.as_str());
                }
                r => panic!("{addr} on {other}: {r:?}"),
            }
        }
    }
}

#[test]
fn invalid_addresses() {
    let Some(v) = crate::common::vectors("addresses.json") else {
        return;
    };
    let invalid = v["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 5);
    for e in invalid {
        let addr = s(e, "address");
        match inspect(addr) {
            Err(Error::InvalidAddress(msg)) => {
                assert!(
                    msg.contains(s(e, "expected_error_rust_elements")),
                    "{addr}: {msg}"
                )
            }
            r => panic!("{addr} ({}) gave {r:?}", s(e, "reason")),
        }
    }
}

/// Rebuilds the `test_fixed_addresses` entries from their inputs (pubkey, empty script,
/// x-only key and merkle root); this also tells p2sh-p2wpkh from plain p2sh.
#[test]
fn rebuild_from_inputs() {
    use elements::bitcoin::PublicKey;
    use elements::secp256k1_zkp::{Secp256k1, XOnlyPublicKey};
    use std::str::FromStr;

    let Some(v) = crate::common::vectors("addresses.json") else {
        return;
    };
    let secp = Secp256k1::verification_only();
    let mut rebuilt = 0;
    for e in v["valid"].as_array().unwrap() {
        let addr = s(e, "address");
        let network = crate::common::network(s(e, "network"));
        let params = network.address_params();
        let blinder = e["blinding_pubkey"]
            .as_str()
            .map(|k| elements::secp256k1_zkp::PublicKey::from_str(k).unwrap());
        let pk = e["input_pubkey"]
            .as_str()
            .map(|k| PublicKey::from_str(k).unwrap());
        let script = e["input_script_hex"]
            .as_str()
            .map(|h| elements::Script::from(crate::common::unhex(h)));
        let built = match (s(e, "type"), pk, script) {
            ("p2pkh", Some(pk), _) => elements::Address::p2pkh(&pk, blinder, params),
            ("p2wpkh", Some(pk), _) => elements::Address::p2wpkh(&pk, blinder, params),
            ("p2sh-p2wpkh", Some(pk), _) => elements::Address::p2shwpkh(&pk, blinder, params),
            ("p2sh", _, Some(script)) => elements::Address::p2sh(&script, blinder, params),
            ("p2wsh", _, Some(script)) => elements::Address::p2wsh(&script, blinder, params),
            ("p2tr", _, _) if e["input_internal_key_xonly"].is_string() => {
                let key = XOnlyPublicKey::from_str(s(e, "input_internal_key_xonly")).unwrap();
                let root = e["input_merkle_root"]
                    .as_str()
                    .map(|h| elements::taproot::TapNodeHash::from_str(h).unwrap());
                elements::Address::p2tr(&secp, key, root, blinder, params)
            }
            _ => continue,
        };
        assert_eq!(built.to_string(), addr, "rebuilt {}", s(e, "type"));
        rebuilt += 1;
    }
    assert!(rebuilt >= 20, "only {rebuilt} entries had inputs");
}
