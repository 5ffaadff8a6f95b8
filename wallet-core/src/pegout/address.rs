//! Bitcoin addresses that peg-outs pay: parsed with the `bitcoin` types that rust-elements
//! re-exports (one version in the tree), checked for the parent chain and the script kind.

use std::str::FromStr;

use elements::bitcoin;
use elements::bitcoin::address::{AddressType, NetworkUnchecked};

use super::{bitcoin_network_name, parent_chain};
use crate::network::Network;
use crate::{Error, Result};

/// The longest address text accepted (a bech32 address has at most 90 characters).
const MAX_ADDRESS_LEN: usize = 100;

/// A Bitcoin address a peg-out may pay, checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BtcDestination {
    /// The address, in its canonical form (bech32 lowercase).
    pub address: String,
    /// Its scriptPubKey on the Bitcoin chain.
    pub script: bitcoin::ScriptBuf,
    /// Its kind: p2pkh, p2sh, p2wpkh, p2wsh or p2tr.
    pub kind: &'static str,
}

/// Parses `text` as a Bitcoin address of `network`'s parent chain (Bitcoin mainnet for
/// `liquid`, testnet for `liquidtestnet`, regtest for `regtest`) whose output the federation
/// can pay: p2pkh, p2sh, p2wpkh, p2wsh or p2tr. Errors say what is wrong: a malformed address
/// or checksum ([`Error::InvalidAddress`]), a Liquid address, another Bitcoin network
/// ([`Error::WrongBitcoinNetwork`]), an unsupported kind (witness versions 2 to 16, pay to
/// anchor).
pub fn parse_btc_address(text: &str, network: Network) -> Result<BtcDestination> {
    let text = text.trim();
    let invalid = |why: String| Error::InvalidAddress(why);
    if text.is_empty() {
        return Err(invalid("the Bitcoin address is empty".to_owned()));
    }
    if text.len() > MAX_ADDRESS_LEN || !text.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(invalid(format!(
            "'{}' is not a Bitcoin address (letters and digits only, at most {MAX_ADDRESS_LEN})",
            shorten(text)
        )));
    }
    let unchecked = match bitcoin::Address::<NetworkUnchecked>::from_str(text) {
        Ok(a) => a,
        Err(e) => {
            if elements::Address::from_str(text).is_ok() {
                return Err(invalid(format!(
                    "{text} is a Liquid address: a peg-out pays a Bitcoin address on the parent \
                     chain"
                )));
            }
            return Err(invalid(format!(
                "{text} is not a valid Bitcoin address: {}",
                why_invalid(text, &e)
            )));
        }
    };
    let parent = parent_chain(network);
    if !unchecked.is_valid_for_network(parent.network) {
        let found = [
            bitcoin::Network::Bitcoin,
            bitcoin::Network::Regtest,
            bitcoin::Network::Testnet,
            bitcoin::Network::Signet,
        ]
        .into_iter()
        .find(|n| unchecked.is_valid_for_network(*n))
        .map_or("another Bitcoin network", bitcoin_network_name);
        return Err(Error::WrongBitcoinNetwork {
            address: text.to_owned(),
            network,
            expected: parent.name().to_owned(),
            found: found.to_owned(),
        });
    }
    let address = unchecked.assume_checked();
    let kind = match address.address_type() {
        Some(AddressType::P2pkh) => "p2pkh",
        Some(AddressType::P2sh) => "p2sh",
        Some(AddressType::P2wpkh) => "p2wpkh",
        Some(AddressType::P2wsh) => "p2wsh",
        Some(AddressType::P2tr) => "p2tr",
        Some(other) => {
            return Err(invalid(format!(
                "{text} is a {other} address, which peg-outs do not pay: use a p2pkh, p2sh, \
                 p2wpkh, p2wsh or p2tr address"
            )))
        }
        None => {
            let version = address
                .witness_program()
                .map(|p| p.version().to_num().to_string())
                .unwrap_or_else(|| "unknown".to_owned());
            return Err(invalid(format!(
                "{text} is a segwit version {version} address, a script kind peg-outs do not \
                 pay: use a p2pkh, p2sh, p2wpkh, p2wsh or p2tr address"
            )));
        }
    };
    Ok(BtcDestination {
        address: address.to_string(),
        script: address.script_pubkey(),
        kind,
    })
}

/// The precise reason a text is not an address: the bech32 decoder's (a bad checksum) for
/// a text with a Bitcoin bech32 prefix, the base58 decoder's otherwise.
fn why_invalid(text: &str, parse_error: &bitcoin::address::ParseError) -> String {
    let lower = text.to_ascii_lowercase();
    if ["bc1", "tb1", "bcrt1"].iter().any(|p| lower.starts_with(p)) {
        if let Err(e) = bitcoin::bech32::segwit::decode(text) {
            return format!("bech32: {}", with_causes(&e));
        }
    } else if let Err(e) = bitcoin::base58::decode_check(text) {
        return format!("base58: {}", with_causes(&e));
    }
    parse_error.to_string()
}

/// An error with its causes: "a: b: c".
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

fn shorten(text: &str) -> String {
    let clipped: String = text
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().count() > 40 {
        format!("{clipped}…")
    } else {
        clipped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGTEST_WPKH: &str = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk";

    /// A regtest address of witness `version` with a program of `len` bytes.
    fn witness_address(version: u8, len: usize) -> String {
        let version = bitcoin::WitnessVersion::try_from(version).unwrap();
        let program = bitcoin::WitnessProgram::new(version, &vec![7u8; len]).unwrap();
        bitcoin::Address::from_witness_program(program, bitcoin::KnownHrp::Regtest).to_string()
    }

    #[test]
    fn each_kind_of_the_parent_network() {
        let d = parse_btc_address(REGTEST_WPKH, Network::Regtest).unwrap();
        assert_eq!(d.kind, "p2wpkh");
        assert_eq!(
            d.script.to_hex_string(),
            "0014d0c4a3ef09e997b6e99e397e518fe3e41a118ca1"
        );
        // Upper case bech32 is the same address, shown in lower case.
        let upper = parse_btc_address(&REGTEST_WPKH.to_uppercase(), Network::Regtest).unwrap();
        assert_eq!(upper.address, REGTEST_WPKH);
        // Base58 test addresses are regtest addresses too (same prefixes).
        let p2pkh =
            parse_btc_address("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Network::Regtest).unwrap();
        assert_eq!(p2pkh.kind, "p2pkh");
        let p2sh =
            parse_btc_address("2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", Network::Regtest).unwrap();
        assert_eq!(p2sh.kind, "p2sh");
        let tr = parse_btc_address(&witness_address(1, 32), Network::Regtest).unwrap();
        assert_eq!(tr.kind, "p2tr");
        let mainnet = parse_btc_address(
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            Network::Liquid,
        )
        .unwrap();
        assert_eq!(mainnet.kind, "p2wpkh");
        let wsh = parse_btc_address(
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            Network::Liquid,
        )
        .unwrap();
        assert_eq!(wsh.kind, "p2wsh");
        assert!(parse_btc_address(
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
            Network::LiquidTestnet
        )
        .is_ok());
    }

    #[test]
    fn wrong_network_is_named() {
        match parse_btc_address(
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            Network::Regtest,
        ) {
            Err(Error::WrongBitcoinNetwork {
                expected, found, ..
            }) => {
                assert_eq!(expected, "Bitcoin regtest");
                assert_eq!(found, "Bitcoin mainnet");
            }
            other => panic!("{other:?}"),
        }
        match parse_btc_address(REGTEST_WPKH, Network::Liquid) {
            Err(Error::WrongBitcoinNetwork { found, .. }) => assert_eq!(found, "Bitcoin regtest"),
            other => panic!("{other:?}"),
        }
        match parse_btc_address(
            "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
            Network::Regtest,
        ) {
            Err(Error::WrongBitcoinNetwork { found, .. }) => assert_eq!(found, "Bitcoin testnet"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn malformed_and_unsupported() {
        // One character changed: the checksum fails.
        let bad = "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppl";
        let e = parse_btc_address(bad, Network::Regtest).unwrap_err();
        assert!(
            matches!(&e, Error::InvalidAddress(m) if m.starts_with(&format!("{bad} is not a valid Bitcoin address: "))
                && m.contains("checksum")),
            "{e:?}"
        );
        // Witness version 2: valid bech32m, a kind no one pays yet.
        let v2 = witness_address(2, 16);
        assert!(v2.starts_with("bcrt1z"), "{v2}");
        let e = parse_btc_address(&v2, Network::Regtest);
        assert!(
            matches!(&e, Err(Error::InvalidAddress(m)) if m.contains("segwit version 2")),
            "{e:?}"
        );
        // A Liquid address.
        let e = parse_btc_address(
            "ert1q6rz28mcfaxtmd6v789l9rrlrusdprr9p69dllk",
            Network::Regtest,
        )
        .unwrap_err();
        assert!(
            matches!(&e, Error::InvalidAddress(m) if m.contains("is a Liquid address")),
            "{e:?}"
        );
        const NOT_AN_ADDRESS: &str = "is not a Bitcoin address (letters and digits only";
        for (junk, why) in [
            ("", "the Bitcoin address is empty"),
            ("   ", "the Bitcoin address is empty"),
            ("not an address", NOT_AN_ADDRESS),
            ("bcrt1q\u{7}x", NOT_AN_ADDRESS),
            (&"1".repeat(200), NOT_AN_ADDRESS),
        ] {
            let e = parse_btc_address(junk, Network::Regtest);
            assert!(
                matches!(&e, Err(Error::InvalidAddress(m)) if m.contains(why)),
                "{junk:?}: {e:?}"
            );
        }
    }
}
