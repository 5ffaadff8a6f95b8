//! SLIP-77 vectors: master key from seed or mnemonic, blinding key per script, addresses.

use crate::common::{hex, s, unhex};
use wallet_core::descriptor::{
    slip77_blinding_keypair, slip77_master_blinding_key, Keychain, WalletDescriptor,
};
use wallet_core::seed::SeedSecret;

#[test]
fn slip77_vectors() {
    let Some(v) = crate::common::vectors("slip77.json") else {
        return;
    };
    let vectors = v["vectors"].as_array().unwrap();
    assert_eq!(vectors.len(), 6);
    for e in vectors {
        let name = s(e, "name");
        let mut checks = 0;

        let seed: Option<Vec<u8>> = if let Some(h) = e["seed_hex"].as_str() {
            Some(unhex(h))
        } else if let Some(m) = e["mnemonic"].as_str() {
            let pass = e["bip39_passphrase"].as_str().unwrap_or("").to_owned();
            let secret = SeedSecret::from_phrase(m, pass).unwrap();
            let seed = secret.seed().to_vec();
            if let Some(h) = e["bip39_seed_hex"].as_str() {
                assert_eq!(hex(&seed), h, "{name}");
                checks += 1;
            }
            Some(seed)
        } else {
            None
        };

        let master: Option<[u8; 32]> = e["master_blinding_key_hex"].as_str().map(|h| {
            let mut m = [0u8; 32];
            m.copy_from_slice(&unhex(h));
            m
        });
        if let (Some(seed), Some(master)) = (&seed, &master) {
            assert_eq!(&*slip77_master_blinding_key(seed), master, "{name}");
            checks += 1;
        }

        if let (Some(master), Some(spk)) = (&master, e["script_pubkey_hex"].as_str()) {
            let script = elements::Script::from(unhex(spk));
            let (sk, pk) = slip77_blinding_keypair(master, &script);
            if let Some(h) = e["blinding_private_key_hex"].as_str() {
                assert_eq!(hex(&sk[..]), h, "{name}");
                checks += 1;
            }
            if let Some(h) = e["blinding_public_key_hex"].as_str() {
                assert_eq!(pk.to_string(), h, "{name}");
                checks += 1;
            }
            if e["descriptor"].is_null() {
                if let Some(addr) = e["confidential_address"].as_str() {
                    let network = crate::common::network(s(e, "network"));
                    let a =
                        elements::Address::from_script(&script, Some(pk), network.address_params())
                            .unwrap();
                    assert_eq!(a.to_string(), addr, "{name}");
                    assert_eq!(
                        a.to_unconfidential().to_string(),
                        s(e, "unconfidential_address"),
                        "{name}"
                    );
                    checks += 1;
                }
            }
        }

        if let Some(desc) = e["descriptor"].as_str() {
            let network = crate::common::network(s(e, "network"));
            let d = WalletDescriptor::parse(desc, network)
                .unwrap_or_else(|err| panic!("{name}: {err}"));
            let index = e["derivation_index"].as_u64().unwrap_or(0) as u32;
            let a = d.address(Keychain::External, index, network).unwrap();
            assert_eq!(a.to_string(), s(e, "confidential_address"), "{name}");
            if let Some(spk) = e["script_pubkey_hex"].as_str() {
                assert_eq!(hex(a.script_pubkey().as_bytes()), spk, "{name}");
                assert_eq!(
                    hex(d
                        .script_pubkey(Keychain::External, index)
                        .unwrap()
                        .as_bytes()),
                    spk
                );
            }
            if let Some(pk) = e["blinding_public_key_hex"].as_str() {
                assert_eq!(a.blinding_pubkey.unwrap().to_string(), pk, "{name}");
            }
            if !d.has_wildcard() {
                // Without a wildcard every index gives the same address.
                assert_eq!(
                    d.address(Keychain::External, 5, network).unwrap(),
                    a,
                    "{name}"
                );
            }
            checks += 1;
        }
        assert!(checks > 0, "{name}: nothing was checked");
    }
}
