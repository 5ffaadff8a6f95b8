//! ELIP-150 and ELIP-151 test vectors, and LWK's fixed addresses.

use crate::common::s;
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;

fn first_address(d: &WalletDescriptor, network: Network) -> elements::Address {
    d.address(Keychain::External, 0, network).unwrap()
}

#[test]
fn elip150_valid() {
    let Some(v) = crate::common::vectors("elip150.json") else {
        return;
    };
    let valid = v["valid"].as_array().unwrap();
    assert_eq!(valid.len(), 14);
    for e in valid {
        let name = s(e, "name");
        let d = WalletDescriptor::parse(s(e, "descriptor"), Network::Liquid)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let a = first_address(&d, Network::Liquid);
        assert_eq!(a.to_string(), s(e, "confidential_address"), "{name}");
        assert_eq!(
            a.to_unconfidential().to_string(),
            s(e, "unconfidential_address"),
            "{name}"
        );
        // No wildcard: the index and the keychain do not matter.
        assert_eq!(
            d.address(Keychain::Internal, 7, Network::Liquid).unwrap(),
            a,
            "{name}"
        );
        assert!(!d.has_wildcard());
        // The canonical form parses back to the same descriptor.
        let again = WalletDescriptor::parse(&d.to_string(), Network::Liquid).unwrap();
        assert_eq!(first_address(&again, Network::Liquid), a, "{name}");
    }
    // View / non-view pairs give the same addresses.
    for pair in valid.windows(2) {
        if pair[0]["kind"] == "view" && pair[1]["kind"] == "non-view" {
            let a = WalletDescriptor::parse(s(&pair[0], "descriptor"), Network::Liquid).unwrap();
            let b = WalletDescriptor::parse(s(&pair[1], "descriptor"), Network::Liquid).unwrap();
            assert_eq!(
                first_address(&a, Network::Liquid),
                first_address(&b, Network::Liquid)
            );
        }
    }
    assert_eq!(valid.iter().filter(|e| e["kind"] == "view").count(), 2);
}

#[test]
fn elip150_invalid() {
    let Some(v) = crate::common::vectors("elip150.json") else {
        return;
    };
    let invalid = v["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 7);
    for e in invalid {
        let r = WalletDescriptor::parse(s(e, "descriptor"), Network::Liquid);
        refused_as_invalid(e, r, ELIP150_REFUSALS);
    }
}

#[test]
fn elip151_valid() {
    let Some(v) = crate::common::vectors("elip151.json") else {
        return;
    };
    let valid = v["valid"].as_array().unwrap();
    assert_eq!(valid.len(), 4);
    for e in valid {
        let name = s(e, "name");
        // The key derived from the ordinary descriptor.
        let ordinary = s(e, "descriptor").split('#').next().unwrap();
        let derived =
            WalletDescriptor::parse(&format!("ct(elip151,{ordinary})"), Network::Liquid).unwrap();
        assert_eq!(
            derived.as_confidential().key.to_string(),
            s(e, "blinding_key"),
            "{name}"
        );

        let elip = WalletDescriptor::parse(s(e, "ct_descriptor_elip151"), Network::Liquid)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        let explicit = WalletDescriptor::parse(s(e, "ct_descriptor"), Network::Liquid)
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(elip.is_elip151());
        assert!(!explicit.is_elip151());
        assert_eq!(
            elip.as_confidential().key,
            explicit.as_confidential().key,
            "{name}"
        );
        assert_eq!(elip.to_string(), s(e, "ct_descriptor_elip151"), "{name}");
        assert_eq!(explicit.to_string(), s(e, "ct_descriptor"), "{name}");
        for d in [&elip, &explicit] {
            let a = first_address(d, Network::Liquid);
            assert_eq!(a.to_string(), s(e, "confidential_address"), "{name}");
            assert_eq!(
                a.to_unconfidential().to_string(),
                s(e, "unconfidential_address"),
                "{name}"
            );
        }
    }
}

#[test]
fn elip151_invalid() {
    let Some(v) = crate::common::vectors("elip151.json") else {
        return;
    };
    let invalid = v["invalid"].as_array().unwrap();
    assert_eq!(invalid.len(), 3);
    for e in invalid {
        let r = WalletDescriptor::parse(s(e, "ct_descriptor_elip151"), Network::Liquid);
        refused_as_invalid(e, r, ELIP151_REFUSALS);
    }
}

/// What the parser says of each invalid vector, by the vector's name: the refusal must be an
/// `InvalidDescriptor` for the vector's own reason, not for something else wrong with it.
const ELIP150_REFUSALS: &[(&str, &str)] = &[
    (
        "Invalid Descriptor 1",
        "checksum 'xxxxxxxx' does not match, expected 'qgjmm4as'",
    ),
    (
        "Invalid Descriptor 2",
        "slip77() must have exactly one argument",
    ),
    (
        "Invalid Descriptor 3",
        "slip77() must have exactly one argument",
    ),
    (
        "Invalid Descriptor 4",
        "ct() needs exactly 2 arguments (blinding key, descriptor), got 1",
    ),
    (
        "Invalid Descriptor 5",
        "ct() needs exactly 2 arguments (blinding key, descriptor), got 3",
    ),
    ("Invalid Descriptor 6", "unexpected «pk»"),
    (
        "Invalid Descriptor 7",
        "Key too short (<66 char), doesn't match any format",
    ),
];

const ELIP151_REFUSALS: &[(&str, &str)] = &[
    (
        "Invalid Test vector 1",
        "Descriptors without wildcards are not supported in elip151",
    ),
    (
        "Invalid Test vector 2",
        "Descriptors without wildcards are not supported in elip151",
    ),
    (
        "Invalid Test vector 3",
        "tuples of derivation indexes of different lengths",
    ),
];

fn refused_as_invalid(
    vector: &serde_json::Value,
    r: wallet_core::Result<WalletDescriptor>,
    refusals: &[(&str, &str)],
) {
    let name = s(vector, "name");
    let (_, why) = refusals
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no expected refusal for the vector {name:?}"));
    match r {
        Err(wallet_core::Error::InvalidDescriptor(m)) => assert!(
            m.contains(why),
            "{name} ({}): {m:?} does not say {why:?}",
            s(vector, "reason")
        ),
        Err(e) => panic!("{name} ({}): refused as {e:?}", s(vector, "reason")),
        Ok(_) => panic!("{name} was accepted ({})", s(vector, "reason")),
    }
}

fn check_lwk_fixed(file: &str, scheme: BlindingScheme) {
    let Some(v) = crate::common::vectors(file) else {
        return;
    };
    assert_eq!(
        s(&v, "lwk_fixed_addresses_mnemonic"),
        crate::common::ABANDON
    );
    let seed = crate::common::abandon_seed();
    let entries = v["lwk_fixed_addresses"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    for e in entries {
        let network = crate::common::network(s(e, "address_params"));
        let kind = if s(e, "bip").starts_with("BIP84") {
            ScriptKind::Wpkh
        } else {
            assert!(s(e, "bip").starts_with("BIP49"));
            ScriptKind::ShWpkh
        };
        assert_eq!(s(e, "blinding_variant").to_lowercase(), scheme.as_str());
        let ours = WalletDescriptor::from_seed(&seed, network, kind, scheme).unwrap();
        assert_eq!(
            first_address(&ours, network).to_string(),
            s(e, "first_address"),
            "{network} {kind} {scheme}"
        );
        assert_eq!(ours.is_elip151(), scheme == BlindingScheme::Elip151);
        assert_eq!(ours.kind_name(), kind.as_str());
        assert_eq!(ours.fingerprint().as_deref(), Some("73c5da0a"));
        // LWK writes hardened steps as `h`; the same descriptor parses to our canonical form.
        let theirs = WalletDescriptor::parse(s(e, "descriptor"), network).unwrap();
        assert_eq!(theirs.to_string(), ours.to_string());
        assert_eq!(
            ours.to_string().replace('\'', "h").split('#').next(),
            s(e, "descriptor").split('#').next()
        );
    }
}

#[test]
fn elip151_lwk_fixed_addresses() {
    check_lwk_fixed("elip151.json", BlindingScheme::Elip151);
}

#[test]
fn slip77_lwk_fixed_addresses() {
    check_lwk_fixed("slip77.json", BlindingScheme::Slip77);
}
