//! The regtest fixture wallet (electrs-liquidregtest/wallet/wallet.json) is reproduced.

use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;

#[test]
fn regtest_fixture_wallet_is_reproduced() {
    let Some(dir) = crate::common::shared_dir("fixtures/electrs-liquidregtest") else {
        return;
    };
    let text = std::fs::read_to_string(dir.join("wallet/wallet.json")).unwrap();
    let w: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(w["mnemonic"].as_str().unwrap(), crate::common::ABANDON);

    let seed = crate::common::abandon_seed();
    let d = WalletDescriptor::from_seed(
        &seed,
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    assert_eq!(d.to_string(), w["descriptor"].as_str().unwrap());
    assert_eq!(d.fingerprint().as_deref(), w["signer_fingerprint"].as_str());
    assert_eq!(d.kind_name(), "wpkh");
    assert!(d.has_wildcard());

    let parsed =
        WalletDescriptor::parse(w["descriptor"].as_str().unwrap(), Network::Regtest).unwrap();
    assert_eq!(parsed.to_string(), d.to_string());

    let addrs = w["addresses"].as_array().unwrap();
    assert!(!addrs.is_empty());
    let mut seen_internal = false;
    for a in addrs {
        let keychain = match a["chain"].as_str().unwrap() {
            "external" => Keychain::External,
            "internal" => {
                seen_internal = true;
                Keychain::Internal
            }
            other => panic!("unknown chain {other}"),
        };
        let index = a["index"].as_u64().unwrap() as u32;
        let addr = d.address(keychain, index, Network::Regtest).unwrap();
        assert_eq!(
            addr.to_string(),
            a["confidential"].as_str().unwrap(),
            "{keychain} {index}"
        );
        assert_eq!(
            addr.to_unconfidential().to_string(),
            a["unconfidential"].as_str().unwrap()
        );
        assert_eq!(
            addr.blinding_pubkey.unwrap().to_string(),
            a["blinding_pubkey"].as_str().unwrap()
        );
        let spk = d.script_pubkey(keychain, index).unwrap();
        assert_eq!(
            crate::common::hex(spk.as_bytes()),
            a["script_pubkey"].as_str().unwrap()
        );
    }
    assert!(seen_internal, "the fixture lists internal addresses too");

    // The policy asset and genesis hash of the fixture chain.
    assert_eq!(
        Network::Regtest.default_policy_asset().to_string(),
        w["network_params"]["policy_asset"].as_str().unwrap()
    );
    let genesis = std::fs::read_to_string(dir.join("elementsd/getblockhash_0.txt")).unwrap();
    assert_eq!(
        Network::Regtest.genesis_hash().unwrap().to_string(),
        genesis.trim()
    );
}
