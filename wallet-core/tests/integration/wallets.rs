//! Wallets on disk: create, open, list, remove, watch-only, names.

use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::{encrypt_seed, KdfParams, SeedSecret};
use wallet_core::wallet::{validate_wallet_name, Wallets};
use wallet_core::Error;

const PASS: &[u8] = b"pass";

fn signing_parts(network: Network) -> (WalletDescriptor, Vec<u8>) {
    let secret = SeedSecret::from_phrase(crate::common::ABANDON, String::new()).unwrap();
    let d = WalletDescriptor::from_seed(
        &secret.seed(),
        network,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let enc = encrypt_seed(&secret, PASS, &KdfParams::fast_for_tests()).unwrap();
    (d, enc)
}

#[test]
fn create_open_list_remove() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(tmp.path().join("data"));
    assert!(wallets.list(Network::Regtest).unwrap().is_empty());

    let (d, enc) = signing_parts(Network::Regtest);
    let mut w = wallets
        .create(Network::Regtest, "bob", &d, Some(&enc))
        .unwrap();
    assert_eq!(w.name(), "bob");
    assert_eq!(w.network(), Network::Regtest);
    assert!(!w.is_watch_only());
    assert!(w.dir().ends_with("regtest/bob"));
    let r0 = w.new_address(Keychain::External, Some("first")).unwrap();
    let r1 = w.new_address(Keychain::External, None).unwrap();
    assert_eq!((r0.index, r1.index), (0, 1));
    assert_eq!(
        r0.address,
        w.address_at(Keychain::External, 0).unwrap().to_string()
    );
    assert_eq!(
        r0.address,
        "el1qq2xvpcvfup5j8zscjq05u2wxxjcyewk7979f3mmz5l7uw5pqmx6xf5xy50hsn6vhkm5euwt72x878eq6zxx2z0z676mna6kdq"
    );
    let meta = w.meta().unwrap();
    assert_eq!(meta.descriptor, d.to_string());
    assert_eq!(meta.fingerprint.as_deref(), Some("73c5da0a"));
    assert!(!meta.watch_only);
    drop(w);

    match wallets.create(Network::Regtest, "bob", &d, Some(&enc)) {
        Err(Error::WalletExists { name, network }) => {
            assert_eq!((name.as_str(), network), ("bob", Network::Regtest))
        }
        other => panic!("{other:?}"),
    }
    // The same name on another network is another wallet.
    let (dl, _) = signing_parts(Network::Liquid);
    wallets.create(Network::Liquid, "bob", &dl, None).unwrap();

    wallets.create(Network::Regtest, "alice", &d, None).unwrap();
    assert_eq!(wallets.list(Network::Regtest).unwrap(), ["alice", "bob"]);
    assert_eq!(wallets.list(Network::Liquid).unwrap(), ["bob"]);
    assert!(wallets.list(Network::LiquidTestnet).unwrap().is_empty());

    let w = wallets.open(Network::Regtest, "bob").unwrap();
    assert_eq!(w.next_index(Keychain::External).unwrap(), 2);
    assert_eq!(w.addresses().unwrap().len(), 2);
    assert_eq!(w.descriptor().to_string(), d.to_string());
    let secret = w.unlock_seed(PASS).unwrap();
    assert_eq!(secret.phrase().as_str(), crate::common::ABANDON);
    assert!(matches!(
        w.unlock_seed(b"nope"),
        Err(Error::WrongPassphrase)
    ));
    drop(w);

    match wallets.open(Network::Regtest, "carol") {
        Err(Error::WalletNotFound {
            name,
            network,
            available,
        }) => {
            assert_eq!(name, "carol");
            assert_eq!(network, Network::Regtest);
            assert_eq!(available, ["alice", "bob"]);
        }
        other => panic!("{other:?}"),
    }
    // Opening looks the name up among the wallets: a path is just a name no wallet has.
    assert!(matches!(
        wallets.open(Network::Regtest, "../bob"),
        Err(Error::WalletNotFound { name, network: Network::Regtest, available })
            if name == "../bob" && available == ["alice", "bob"]
    ));

    wallets.remove(Network::Regtest, "bob").unwrap();
    assert_eq!(wallets.list(Network::Regtest).unwrap(), ["alice"]);
    assert!(matches!(
        wallets.remove(Network::Regtest, "bob"),
        Err(Error::WalletNotFound { name, network: Network::Regtest, available })
            if name == "bob" && available == ["alice"]
    ));
    // Removing frees the name.
    wallets.create(Network::Regtest, "bob", &d, None).unwrap();
}

#[test]
fn watch_only_cannot_unlock() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(tmp.path());
    let (d, _) = signing_parts(Network::LiquidTestnet);
    let w = wallets
        .create(Network::LiquidTestnet, "watch", &d, None)
        .unwrap();
    assert!(w.is_watch_only());
    assert!(!w.dir().join("seed.enc").exists());
    let r = w.unlock_seed(PASS).map(|_| ());
    assert!(
        matches!(&r, Err(Error::WatchOnly(m))
            if m == "wallet 'watch' has no seed, so it cannot sign; restore it from its mnemonic to sign"),
        "{r:?}"
    );
    let w = wallets.open(Network::LiquidTestnet, "watch").unwrap();
    assert!(w.is_watch_only());
    assert!(w.meta().unwrap().watch_only);
}

#[test]
fn seed_of_another_wallet_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(tmp.path());
    let (d, _) = signing_parts(Network::Regtest);
    let other = SeedSecret::generate(wallet_core::seed::WordCount::Twelve, String::new()).unwrap();
    let enc = encrypt_seed(&other, PASS, &KdfParams::fast_for_tests()).unwrap();
    let w = wallets
        .create(Network::Regtest, "mixed", &d, Some(&enc))
        .unwrap();
    let r = w.unlock_seed(PASS).map(|_| ());
    assert!(
        matches!(&r, Err(Error::SeedFileTampered(m))
            if m.contains("does not match wallet 'mixed' (its descriptor differs): the seed file was replaced")),
        "{r:?}"
    );
}

#[cfg(unix)]
#[test]
fn permissions() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(tmp.path().join("d"));
    let (d, enc) = signing_parts(Network::Regtest);
    let w = wallets
        .create(Network::Regtest, "perm", &d, Some(&enc))
        .unwrap();
    assert_eq!(mode(w.dir()), 0o700);
    assert_eq!(mode(&tmp.path().join("d/regtest")), 0o700);
    assert_eq!(mode(&w.dir().join("seed.enc")), 0o600);
    assert_eq!(mode(&w.dir().join("wallet.sqlite")), 0o600);
    assert_eq!(std::fs::read(w.dir().join("seed.enc")).unwrap(), enc);
}

#[test]
fn wallet_names() {
    for ok in ["a", "My_wallet-2", &"x".repeat(64)] {
        validate_wallet_name(ok).unwrap();
    }
    // The refusal names the first character that is not allowed, and where it is.
    let not_allowed = |at: usize, c: char| {
        format!("character {at} ({c:?}) is not allowed: use letters, digits, '_' and '-'")
    };
    for (bad, why) in [
        ("", "the name is empty".to_owned()),
        (" ", not_allowed(1, ' ')),
        ("a b", not_allowed(2, ' ')),
        ("../x", not_allowed(1, '.')),
        ("x/y", not_allowed(2, '/')),
        (".", not_allowed(1, '.')),
        ("..", not_allowed(1, '.')),
        ("é", not_allowed(1, 'é')),
        ("a.b", not_allowed(2, '.')),
        (
            &"x".repeat(65),
            "the name has 65 characters; at most 64 are allowed".to_owned(),
        ),
    ] {
        let r = validate_wallet_name(bad);
        assert!(
            matches!(&r, Err(Error::InvalidWalletName(m)) if *m == why),
            "{bad:?}: {r:?}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(tmp.path());
    let (d, _) = signing_parts(Network::Regtest);
    assert!(matches!(
        wallets.create(Network::Regtest, "../evil", &d, None),
        Err(Error::InvalidWalletName(m)) if m == not_allowed(1, '.')
    ));
}

#[test]
fn empty_leftover_folder_does_not_block_create() {
    let tmp = tempfile::tempdir().unwrap();
    let wallets = Wallets::new(tmp.path());
    let (d, _) = signing_parts(Network::Regtest);
    std::fs::create_dir_all(wallets.wallet_dir(Network::Regtest, "left")).unwrap();
    assert!(wallets.list(Network::Regtest).unwrap().is_empty());
    wallets.create(Network::Regtest, "left", &d, None).unwrap();
    assert_eq!(wallets.list(Network::Regtest).unwrap(), ["left"]);
}
