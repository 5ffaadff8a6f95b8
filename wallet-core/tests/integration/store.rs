//! The SQLite wallet store.

use std::path::Path;

use wallet_core::descriptor::Keychain;
use wallet_core::network::Network;
use wallet_core::store::{Store, WalletMeta, SCHEMA_VERSION};
use wallet_core::Error;

fn meta() -> WalletMeta {
    WalletMeta {
        name: "alice".to_owned(),
        network: Network::Regtest,
        descriptor: "ct(elip151,elwpkh(xpub/<0;1>/*))".to_owned(),
        fingerprint: Some("73c5da0a".to_owned()),
        watch_only: true,
        created_at: 1_795_358_000,
    }
}

fn addr(k: Keychain, i: u32) -> wallet_core::Result<String> {
    Ok(format!("{}-{i}", k.as_str()))
}

#[test]
fn indexes_continue_after_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.sqlite");
    {
        let mut s = Store::create(&path, &meta()).unwrap();
        assert_eq!(s.meta().unwrap(), meta());
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        assert_eq!(s.next_index(Keychain::External).unwrap(), 0);
        let a = s
            .reserve_address(
                Keychain::External,
                |i| addr(Keychain::External, i),
                Some("first"),
            )
            .unwrap();
        assert_eq!((a.index, a.label.as_deref()), (0, Some("first")));
        let b = s
            .reserve_address(Keychain::External, |i| addr(Keychain::External, i), None)
            .unwrap();
        assert_eq!(b.index, 1);
        let c = s
            .reserve_address(Keychain::Internal, |i| addr(Keychain::Internal, i), None)
            .unwrap();
        assert_eq!(c.index, 0);
    }
    let mut s = Store::open(&path).unwrap();
    assert_eq!(s.next_index(Keychain::External).unwrap(), 2);
    assert_eq!(s.next_index(Keychain::Internal).unwrap(), 1);
    let d = s
        .reserve_address(Keychain::External, |i| addr(Keychain::External, i), None)
        .unwrap();
    assert_eq!(d.index, 2);
    assert_eq!(d.address, "external-2");

    s.set_label(Keychain::External, 1, Some("rent")).unwrap();
    s.set_label(Keychain::External, 0, None).unwrap();
    let r = s.set_label(Keychain::Internal, 9, Some("x"));
    assert!(
        matches!(&r, Err(Error::Storage(m)) if m
            == "no internal address with index 9 has been handed out yet: create it first"),
        "{r:?}"
    );
    let all = s.addresses(None).unwrap();
    assert_eq!(all.len(), 4);
    let ext = s.addresses(Some(Keychain::External)).unwrap();
    assert_eq!(ext.iter().map(|a| a.index).collect::<Vec<_>>(), [0, 1, 2]);
    assert_eq!(ext[0].label, None);
    assert_eq!(ext[1].label.as_deref(), Some("rent"));
    assert_eq!(s.addresses(Some(Keychain::Internal)).unwrap().len(), 1);
}

#[test]
fn failed_derivation_reserves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.sqlite");
    let mut s = Store::create(&path, &meta()).unwrap();
    let r = s.reserve_address(
        Keychain::External,
        |_| Err(Error::Crypto("no".into())),
        None,
    );
    // The derivation's own error comes back unchanged.
    assert!(matches!(&r, Err(Error::Crypto(m)) if m == "no"), "{r:?}");
    assert_eq!(s.next_index(Keychain::External).unwrap(), 0);
}

#[test]
fn concurrent_handles_never_share_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.sqlite");
    drop(Store::create(&path, &meta()).unwrap());
    const PER_THREAD: u32 = 25;
    let handles: Vec<_> = (0..3)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                let mut s = Store::open(&path).unwrap();
                (0..PER_THREAD)
                    .map(|_| {
                        s.reserve_address(Keychain::External, |i| Ok(format!("t{t}-{i}")), None)
                            .unwrap()
                            .index
                    })
                    .collect::<Vec<u32>>()
            })
        })
        .collect();
    let mut all: Vec<u32> = handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort_unstable();
    let expected: Vec<u32> = (0..3 * PER_THREAD).collect();
    assert_eq!(all, expected, "every index handed out exactly once");
    let s = Store::open(&path).unwrap();
    assert_eq!(s.next_index(Keychain::External).unwrap(), 3 * PER_THREAD);
}

#[test]
fn create_refuses_existing_file_and_open_refuses_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.sqlite");
    drop(Store::create(&path, &meta()).unwrap());
    assert!(matches!(
        Store::create(&path, &meta()),
        Err(Error::Io { path: p, source })
            if p == path && source.kind() == std::io::ErrorKind::AlreadyExists
    ));
    let missing = dir.path().join("nope.sqlite");
    match Store::open(&missing) {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("nope.sqlite")),
        other => panic!("{other:?}"),
    }
    assert!(!missing.exists(), "open must not create a database");
}

#[test]
fn newer_schema_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.sqlite");
    drop(Store::create(&path, &meta()).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("PRAGMA user_version = 99")
        .unwrap();
    match Store::open(&path) {
        Err(Error::Storage(m)) => assert!(m.contains("upgrade"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
#[test]
fn files_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.sqlite");
    let mut s = Store::create(&path, &meta()).unwrap();
    s.reserve_address(Keychain::External, |i| addr(Keychain::External, i), None)
        .unwrap();
    assert_eq!(mode(&path), 0o600);
    for suffix in ["-wal", "-shm"] {
        let p = dir.path().join(format!("wallet.sqlite{suffix}"));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
}
