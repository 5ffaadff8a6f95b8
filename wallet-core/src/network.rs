//! The three Liquid networks this wallet knows, with their address parameters, policy asset,
//! BIP44 coin type and genesis hash.

use std::fmt;
use std::str::FromStr;

use elements::{AddressParams, AssetId, BlockHash};

/// A Liquid network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Network {
    /// Liquid mainnet.
    Liquid,
    /// Liquid testnet.
    LiquidTestnet,
    /// Elements `liquidregtest` (the chain electrs indexes and LWK's default regtest).
    Regtest,
}

const LIQUID_POLICY_ASSET: &str =
    "6f0279e9ed041c3d710a9f57d0c02928416460c4b722ae3457a11eec381c526d";
const TESTNET_POLICY_ASSET: &str =
    "144c654344aa716d6f3abcc1ca90e5641e4e2a7f633bc09fe3baf64585819a49";
const REGTEST_POLICY_ASSET: &str =
    "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225";
const LIQUID_GENESIS: &str = "1466275836220db2944ca059a3a10ef6fd2ea684b0688d2c379296888a206003";
const TESTNET_GENESIS: &str = "a771da8e52ee6ad581ed1e9a99825e5b3b7992225534eaa2ae23244fe26ab1c1";
const REGTEST_GENESIS: &str = "00902a6b70c2ca83b5d9c815d96a0e2f4202179316970d14ea1847dae5b1ca21";

impl Network {
    /// All networks, mainnet first.
    pub const ALL: [Network; 3] = [Network::Liquid, Network::LiquidTestnet, Network::Regtest];

    /// The canonical lowercase name: "liquid", "liquidtestnet" or "regtest".
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Liquid => "liquid",
            Network::LiquidTestnet => "liquidtestnet",
            Network::Regtest => "regtest",
        }
    }

    /// The rust-elements address parameters of this network.
    pub fn address_params(self) -> &'static AddressParams {
        match self {
            Network::Liquid => &AddressParams::LIQUID,
            Network::LiquidTestnet => &AddressParams::LIQUID_TESTNET,
            Network::Regtest => &AddressParams::ELEMENTS,
        }
    }

    /// The policy asset (L-BTC) of this network.
    pub fn default_policy_asset(self) -> AssetId {
        let hex = match self {
            Network::Liquid => LIQUID_POLICY_ASSET,
            Network::LiquidTestnet => TESTNET_POLICY_ASSET,
            Network::Regtest => REGTEST_POLICY_ASSET,
        };
        AssetId::from_str(hex).expect("constant asset id is valid hex")
    }

    /// The BIP44 coin type: 1776 on Liquid mainnet, 1 on test networks.
    pub fn bip44_coin_type(self) -> u32 {
        match self {
            Network::Liquid => 1776,
            Network::LiquidTestnet | Network::Regtest => 1,
        }
    }

    /// The genesis block hash (for regtest, the one of Elements' `liquidregtest` chain).
    pub fn genesis_hash(self) -> Option<BlockHash> {
        let hex = match self {
            Network::Liquid => LIQUID_GENESIS,
            Network::LiquidTestnet => TESTNET_GENESIS,
            Network::Regtest => REGTEST_GENESIS,
        };
        BlockHash::from_str(hex).ok()
    }

    /// The network whose address parameters equal `p`, if any.
    pub fn from_address_params(p: &AddressParams) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.address_params() == p)
    }

    /// Whether extended keys of this network are mainnet (xpub) keys.
    pub fn is_mainnet(self) -> bool {
        self == Network::Liquid
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing an unknown network name.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown network '{0}': use liquid, liquidtestnet or regtest")]
pub struct ParseNetworkError(pub String);

impl FromStr for Network {
    type Err = ParseNetworkError;

    fn from_str(s: &str) -> std::result::Result<Network, ParseNetworkError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "liquid" => Ok(Network::Liquid),
            "liquidtestnet" => Ok(Network::LiquidTestnet),
            "regtest" | "liquidregtest" | "elementsregtest" => Ok(Network::Regtest),
            _ => Err(ParseNetworkError(s.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_roundtrip() {
        for n in Network::ALL {
            assert_eq!(n.as_str().parse::<Network>().unwrap(), n);
            assert_eq!(n.to_string(), n.as_str());
            assert_eq!(Network::from_address_params(n.address_params()), Some(n));
            assert!(n.genesis_hash().is_some());
        }
        assert_eq!(
            "elementsregtest".parse::<Network>().unwrap(),
            Network::Regtest
        );
        assert_eq!(
            "liquidregtest".parse::<Network>().unwrap(),
            Network::Regtest
        );
        let e = "bitcoin".parse::<Network>().unwrap_err();
        assert_eq!(e, ParseNetworkError("bitcoin".to_owned()));
        assert_eq!(
            e.to_string(),
            "unknown network 'bitcoin': use liquid, liquidtestnet or regtest"
        );
    }

    #[test]
    fn constants() {
        assert_eq!(
            Network::Liquid.default_policy_asset().to_string(),
            LIQUID_POLICY_ASSET
        );
        assert_eq!(
            Network::Regtest.default_policy_asset().to_string(),
            REGTEST_POLICY_ASSET
        );
        assert_eq!(
            Network::LiquidTestnet.genesis_hash().unwrap().to_string(),
            TESTNET_GENESIS
        );
        assert_eq!(Network::Liquid.bip44_coin_type(), 1776);
        assert_eq!(Network::Regtest.bip44_coin_type(), 1);
        let json = serde_json::to_string(&Network::LiquidTestnet).unwrap();
        assert_eq!(json, "\"liquidtestnet\"");
    }
}
