//! What `WalletDescriptor::parse` accepts and refuses beyond the public vectors.

use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::Error;

const TPUB: &str = "tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M";
const XPUB: &str = "xpub661MyMwAqRbcFkPHucMnrGNzDwb6teAX1RbKQmqtEF8kK3Z7LZ59qafCjB9eCRLiTVG3uxBxgKvRgbubRhqSKXnGGb1aoaqLrpMBDrVxga8";
const TPRV: &str = "tprv8ZgxMBicQKsPd7Uf69XL1XwhmjHopUGep8GuEiJDZmbQz6o58LninorQAfcKZWARbtRtfnLcJ5MQ2AtHcQJCCRUcMRvmDUjyEmNUWwx8UbK";

fn invalid(s: &str, network: Network) -> String {
    match WalletDescriptor::parse(s, network) {
        Err(e @ Error::InvalidDescriptor(_)) => e.to_string(),
        other => panic!("{s}: expected InvalidDescriptor, got {other:?}"),
    }
}

#[test]
fn refuses_non_ct() {
    let m = invalid(&format!("elwpkh({TPUB}/<0;1>/*)"), Network::Regtest);
    assert!(m.contains("ct("), "{m}");
}

#[test]
fn refuses_private_spending_keys_without_echoing_them() {
    let s = format!("ct(elip151,elwpkh({TPRV}/<0;1>/*))");
    let m = invalid(&s, Network::Regtest);
    assert!(m.contains("wallet restore"), "{m}");
    assert!(!m.contains(TPRV), "{m}");
}

#[test]
fn refuses_keys_of_the_wrong_network() {
    let s = format!("ct(elip151,elwpkh({TPUB}/<0;1>/*))");
    assert!(WalletDescriptor::parse(&s, Network::Regtest).is_ok());
    assert!(WalletDescriptor::parse(&s, Network::LiquidTestnet).is_ok());
    match WalletDescriptor::parse(&s, Network::Liquid) {
        Err(Error::WrongNetwork { expected, .. }) => assert_eq!(expected, Network::Liquid),
        other => panic!("{other:?}"),
    }
    let s = format!("ct(elip151,elwpkh({XPUB}/<0;1>/*))");
    assert!(matches!(
        WalletDescriptor::parse(&s, Network::Regtest),
        Err(Error::WrongNetwork { expected: Network::Regtest, found })
            if found == "liquid (an xpub, a mainnet key)"
    ));
}

#[test]
fn refuses_other_than_two_branches() {
    let s = format!("ct(elip151,elwpkh({TPUB}/<0;1;2>/*))");
    let m = invalid(&s, Network::Regtest);
    assert!(m.contains("two"), "{m}");
}

#[test]
fn checksum_is_verified() {
    let good = format!("ct(elip151,elwpkh({TPUB}/<0;1>/*))");
    let d = WalletDescriptor::parse(&good, Network::Regtest).unwrap();
    let with_sum = d.to_string();
    assert!(with_sum.contains('#'));
    WalletDescriptor::parse(&with_sum, Network::Regtest).unwrap();
    let (body, _) = with_sum.rsplit_once('#').unwrap();
    let m = invalid(&format!("{body}#aaaaaaaa"), Network::Regtest);
    assert!(m.contains("checksum"), "{m}");
}

#[test]
fn multisig_and_keychains() {
    let s =
        format!("ct(elip151,elwsh(multi(2,{TPUB}/<0;1>/*,[73c5da0a/48'/1'/0'/2']{TPUB}/<0;1>/*)))");
    let d = WalletDescriptor::parse(&s, Network::Regtest).unwrap();
    assert_eq!(d.kind_name(), "wsh-multi 2-of-2");
    assert_eq!(d.fingerprint().as_deref(), Some("73c5da0a"));
    let ext = d.address(Keychain::External, 3, Network::Regtest).unwrap();
    let int = d.address(Keychain::Internal, 3, Network::Regtest).unwrap();
    assert_ne!(ext, int);
    assert_ne!(
        ext,
        d.address(Keychain::External, 4, Network::Regtest).unwrap()
    );
    assert_eq!(
        wallet_core::address::inspect(&ext.to_string())
            .unwrap()
            .script_type,
        "p2wsh"
    );
    let s = format!("ct(elip151,elwsh(sortedmulti(1,{TPUB}/<0;1>/*,{TPUB}/0/<0;1>/*)))");
    let d = WalletDescriptor::parse(&s, Network::Regtest).unwrap();
    assert_eq!(d.kind_name(), "wsh-sortedmulti 1-of-2");
}

#[test]
fn single_path_descriptor_uses_one_chain() {
    let s = format!("ct(elip151,elwpkh({TPUB}/0/*))");
    let d = WalletDescriptor::parse(&s, Network::Regtest).unwrap();
    assert!(!d.is_multipath());
    assert_eq!(
        d.address(Keychain::External, 2, Network::Regtest).unwrap(),
        d.address(Keychain::Internal, 2, Network::Regtest).unwrap()
    );
    let r = d.address(Keychain::External, 1 << 31, Network::Regtest);
    assert!(
        matches!(&r, Err(Error::InvalidDescriptor(m))
            if m == "address index 2147483648 is too large (the limit is 2147483647)"),
        "{r:?}"
    );
}

#[test]
fn from_seed_variants() {
    let seed = crate::common::abandon_seed();
    for network in Network::ALL {
        for kind in ScriptKind::ALL {
            for blinding in BlindingScheme::ALL {
                let d = WalletDescriptor::from_seed(&seed, network, kind, blinding).unwrap();
                let text = d.to_string();
                let purpose = kind.purpose();
                let coin = network.bip44_coin_type();
                assert!(
                    text.contains(&format!("[73c5da0a/{purpose}'/{coin}'/0']")),
                    "{text}"
                );
                assert!(text.contains("/<0;1>/*"), "{text}");
                assert_eq!(
                    text.starts_with("ct(elip151,"),
                    blinding == BlindingScheme::Elip151
                );
                assert_eq!(text.contains("tpub"), network != Network::Liquid);
                let again = WalletDescriptor::parse(&text, network).unwrap();
                assert_eq!(again.to_string(), text);
                assert_eq!(d.kind_name(), kind.as_str());
                assert!(d.has_wildcard());
                assert!(
                    !format!("{d:?}").contains("slip77("),
                    "Debug hides the view key"
                );
            }
        }
    }
    assert_eq!("sh-wpkh".parse::<ScriptKind>().unwrap(), ScriptKind::ShWpkh);
    assert_eq!(
        "elip151".parse::<BlindingScheme>().unwrap(),
        BlindingScheme::Elip151
    );
    assert_eq!(ScriptKind::ShWpkh.to_string(), "sh-wpkh");
}

#[test]
fn refuses_wif_spending_keys() {
    let wif = "cVt4o7BGAig1UXywgGSmARhxMdzP5qvQsxKkSsc1XEkw3tDTQFpy";
    let m = invalid(&format!("ct(elip151,elwpkh({wif}))"), Network::Regtest);
    assert!(m.contains("wallet restore"), "{m}");
    assert!(!m.contains(wif));
    let m = invalid(
        &format!("ct(elip151,elwsh(multi(1,{TPUB}/0/*,{TPRV}/1/*)))"),
        Network::Regtest,
    );
    assert!(m.contains("wallet restore"), "{m}");
}

#[test]
fn lwk_testnet_wallet_descriptor() {
    let Some(dir) = crate::common::shared_dir("vectors/lwk-testnet-psets") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("descriptor")).unwrap();
    let d = WalletDescriptor::parse(&text, Network::LiquidTestnet).unwrap();
    assert_eq!(d.to_string(), text.trim());
    assert_eq!(d.fingerprint().as_deref(), Some("93970d14"));
    assert_eq!(d.kind_name(), "wpkh");
    let a = d
        .address(Keychain::External, 0, Network::LiquidTestnet)
        .unwrap();
    assert!(a.to_string().starts_with("tlq1q"));
    assert!(matches!(
        WalletDescriptor::parse(&text, Network::Liquid),
        Err(Error::WrongNetwork { expected: Network::Liquid, found })
            if found == "a test network (a tpub)"
    ));
}
