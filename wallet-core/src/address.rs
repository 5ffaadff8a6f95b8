//! Decoding and checking Liquid addresses.

use std::str::FromStr;

use elements::address::Payload;
use elements::Address;

use crate::network::Network;
use crate::{Error, Result};

/// What an address string says about itself.
#[derive(serde::Serialize, Clone, Debug, PartialEq, Eq)]
pub struct AddressInfo {
    /// The address as given (canonical form).
    pub address: String,
    /// The network whose parameters it uses.
    pub network: Network,
    /// Whether it carries a blinding public key.
    pub confidential: bool,
    /// The blinding public key (hex), when confidential.
    pub blinding_pubkey: Option<String>,
    /// The same address without the blinding key.
    pub unconfidential: String,
    /// p2pkh, p2sh, p2wpkh, p2wsh, p2tr or "witness-vN" for other witness programs. A
    /// p2sh-wrapped segwit address reads as "p2sh": the address alone cannot tell.
    pub script_type: String,
    /// The scriptPubKey (hex).
    pub script_pubkey: String,
}

/// The script type of a decoded address.
pub fn script_type(addr: &Address) -> String {
    match &addr.payload {
        Payload::PubkeyHash(_) => "p2pkh".to_owned(),
        Payload::ScriptHash(_) => "p2sh".to_owned(),
        Payload::WitnessProgram { version, program } => match (version.to_u8(), program.len()) {
            (0, 20) => "p2wpkh".to_owned(),
            (0, 32) => "p2wsh".to_owned(),
            (1, 32) => "p2tr".to_owned(),
            (v, _) => format!("witness-v{v}"),
        },
    }
}

fn looks_like_bitcoin(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    if ["bc1", "tb1", "bcrt1"].iter().any(|p| lower.starts_with(p)) {
        return true;
    }
    elements::bitcoin::Address::from_str(s).is_ok()
}

/// Parses a Liquid, Liquid testnet or Elements regtest address of any network; a Bitcoin
/// address is named as such.
pub fn parse_any(s: &str) -> Result<Address> {
    let s = s.trim();
    match Address::from_str(s) {
        Ok(a) => Ok(a),
        Err(e) => {
            if looks_like_bitcoin(s) {
                Err(Error::InvalidAddress(
                    "this is a Bitcoin address, not a Liquid one (to send to Bitcoin use a peg-out)"
                        .to_owned(),
                ))
            } else {
                Err(Error::InvalidAddress(e.to_string()))
            }
        }
    }
}

fn network_of(a: &Address) -> Result<Network> {
    Network::from_address_params(a.params)
        .ok_or_else(|| Error::InvalidAddress("the address uses unknown network parameters".into()))
}

/// Decodes any Liquid, Liquid testnet or Elements regtest address.
pub fn inspect(s: &str) -> Result<AddressInfo> {
    let a = parse_any(s)?;
    let network = network_of(&a)?;
    Ok(AddressInfo {
        address: a.to_string(),
        network,
        confidential: a.is_blinded(),
        blinding_pubkey: a.blinding_pubkey.map(|k| k.to_string()),
        unconfidential: a.to_unconfidential().to_string(),
        script_type: script_type(&a),
        script_pubkey: elements::hex::DisplayHex::to_lower_hex_string(a.script_pubkey().as_bytes()),
    })
}

/// Parses an address and checks that it belongs to `network`.
pub fn parse_for_network(s: &str, network: Network) -> Result<Address> {
    let a = parse_any(s)?;
    let found = network_of(&a)?;
    if found != network {
        return Err(Error::WrongNetwork {
            expected: network,
            found: found.to_string(),
        });
    }
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitcoin_addresses_are_named() {
        for a in [
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy",
        ] {
            let e = inspect(a).unwrap_err();
            assert!(
                matches!(&e, Error::InvalidAddress(m) if m.contains("this is a Bitcoin address")),
                "{a}: {e:?}"
            );
        }
    }

    #[test]
    fn wrong_network() {
        let a = "ert1q6rz28mcfaxtmd6v789l9rrlrusdprr9p69dllk";
        assert!(parse_for_network(a, Network::Regtest).is_ok());
        match parse_for_network(a, Network::Liquid) {
            Err(Error::WrongNetwork { expected, found }) => {
                assert_eq!(expected, Network::Liquid);
                assert_eq!(found, "regtest");
            }
            other => panic!("{other:?}"),
        }
    }
}
