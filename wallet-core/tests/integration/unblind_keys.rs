//! The blinding private key of every kind of CT descriptor matches the blinding public key in
//! the addresses the same descriptor gives; a public-only blinding key cannot unblind.

use elements::secp256k1_zkp::{PublicKey, Secp256k1};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::SeedSecret;
use wallet_core::unblind::blinding_private_key;
use wallet_core::Error;

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const TPUB: &str = "[73c5da0a/84'/1'/0']tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*";

fn assert_keys_match_addresses(desc: &WalletDescriptor, network: Network) {
    let secp = Secp256k1::new();
    for k in Keychain::ALL {
        for i in 0..3 {
            let spk = desc.script_pubkey(k, i).unwrap();
            let sk = blinding_private_key(desc, &spk).unwrap();
            let addr = desc.address(k, i, network).unwrap();
            assert_eq!(
                Some(PublicKey::from_secret_key(&secp, &sk)),
                addr.blinding_pubkey,
                "{} {k}/{i}",
                desc.kind_name()
            );
        }
    }
}

#[test]
fn every_scheme_gives_the_addresses_key() {
    let seed = SeedSecret::from_phrase(ABANDON, String::new())
        .unwrap()
        .seed();
    for network in [Network::Regtest, Network::LiquidTestnet] {
        for kind in ScriptKind::ALL {
            for scheme in BlindingScheme::ALL {
                let desc = WalletDescriptor::from_seed(&seed, network, kind, scheme).unwrap();
                assert_keys_match_addresses(&desc, network);
            }
        }
    }
    // A view key given directly (ELIP-150 hex private key).
    let view = "c25deb86fa11e49d651d7eae27c220ef930fbd86ea023eebfa73e54875647963";
    let desc =
        WalletDescriptor::parse(&format!("ct({view},elwpkh({TPUB}))"), Network::Regtest).unwrap();
    assert_keys_match_addresses(&desc, Network::Regtest);
}

#[test]
fn a_public_blinding_key_cannot_unblind() {
    let pk = "02dce16018bbbb8e36de7b394df5b5166e9adb7498be7d881a85a09aeecf76b623";
    let desc =
        WalletDescriptor::parse(&format!("ct({pk},elwpkh({TPUB}))"), Network::Regtest).unwrap();
    let spk = desc.script_pubkey(Keychain::External, 0).unwrap();
    let e = blinding_private_key(&desc, &spk).unwrap_err();
    assert!(matches!(e, Error::Unblind(_)), "{e:?}");
    assert!(e.to_string().contains("view key"), "{e}");
}
