//! The record a running `sandbox start` keeps in its data folder (`sandbox.json`), read by the
//! commands that look for it (`sandbox faucet|mine|issue`, and any command on regtest with no
//! server given).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde_json::Value;

/// File in the data folder where a running `sandbox start` records its URLs.
pub const SANDBOX_FILE: &str = "sandbox.json";

/// The record's path in `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join(SANDBOX_FILE)
}

/// The recorded sandbox's Esplora URL and genesis hash, when a record is there and readable.
pub fn read(data_dir: &Path) -> Option<(String, elements::BlockHash)> {
    let text = std::fs::read_to_string(path(data_dir)).ok()?;
    let info: Value = serde_json::from_str(&text).ok()?;
    let url = info["esplora"].as_str()?.to_string();
    let genesis = elements::BlockHash::from_str(info["genesis_hash"].as_str()?).ok()?;
    Some((url, genesis))
}

/// The Esplora URL recorded by a running `sandbox start` of `data_dir`, if any.
pub fn recorded_esplora(data_dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path(data_dir)).ok()?;
    let info: Value = serde_json::from_str(&text).ok()?;
    info["esplora"].as_str().map(str::to_string)
}
