//! A database written by schema v1 (metadata and addresses only) opens in this build: it is
//! migrated forward, keeps its addresses, and has an empty sync state.

use wallet_core::descriptor::Keychain;
use wallet_core::store::{Store, SCHEMA_VERSION};

const V1: &str = "
    CREATE TABLE meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        name TEXT NOT NULL,
        network TEXT NOT NULL,
        descriptor TEXT NOT NULL,
        fingerprint TEXT,
        watch_only INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE addresses (
        keychain INTEGER NOT NULL CHECK (keychain IN (0, 1)),
        idx INTEGER NOT NULL CHECK (idx >= 0),
        address TEXT NOT NULL,
        label TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (keychain, idx)
    );
    INSERT INTO meta VALUES (1, 'old', 'regtest', 'ct(elip151,elwpkh(xpub/<0;1>/*))', NULL, 1, 1);
    INSERT INTO addresses VALUES (0, 0, 'external-0', 'rent', 1), (0, 1, 'external-1', NULL, 1);
    PRAGMA user_version = 1;";

#[test]
fn v1_database_migrates_with_its_addresses() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wallet.sqlite");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(V1)
        .unwrap();
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(store.next_index(Keychain::External).unwrap(), 2);
    assert_eq!(
        store.addresses(None).unwrap()[0].label.as_deref(),
        Some("rent")
    );
    assert!(store.balances().unwrap().is_empty());
    assert!(store.utxos().unwrap().is_empty());
    assert!(store.transactions(None).unwrap().is_empty());
    assert!(store.pending().unwrap().is_empty());
    assert_eq!(store.tip().unwrap(), None);
    let state = store.chain_state().unwrap();
    assert!(state.scripts.is_empty() && state.txids.is_empty());
    drop(store);
    // Opening again changes nothing.
    let store = Store::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
}
