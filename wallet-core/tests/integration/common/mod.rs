//! Shared helpers of the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

pub mod test_wallet;

/// The "abandon ... about" test mnemonic.
pub const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";

/// `/work/shared` beside the repository: `<repo>/../shared`. Returns `None` (test skipped with
/// a message) when it is missing, unless `CI=true`, where a missing folder is a failure.
pub fn shared_dir(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "{} is missing; CI must have shared/ beside the repository",
            dir.display()
        );
    }
    eprintln!(
        "skipping: {} not found (the public vectors live in shared/ beside the repository)",
        dir.display()
    );
    None
}

/// Reads `<shared>/vectors/<file>` as JSON, or `None` to skip.
pub fn vectors(file: &str) -> Option<serde_json::Value> {
    let dir = shared_dir("vectors")?;
    let path = dir.join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The seed of the "abandon ... about" mnemonic (empty passphrase).
pub fn abandon_seed() -> [u8; 64] {
    let s = wallet_core::seed::SeedSecret::from_phrase(ABANDON, String::new()).unwrap();
    *s.seed()
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string.
pub fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len().is_multiple_of(2), "odd hex length: {s}");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// The network of a vector's `network`/`address_params` field.
pub fn network(name: &str) -> wallet_core::network::Network {
    name.parse().unwrap_or_else(|e| panic!("{e}"))
}

/// A string field of a JSON object.
pub fn s<'a>(v: &'a serde_json::Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("field {key} missing in {v}"))
}
