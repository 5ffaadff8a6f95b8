//! Peg-outs: L-BTC burnt on Liquid with an output naming a Bitcoin scriptPubKey, which the
//! federation pays on the parent (Bitcoin) chain.
//!
//! A peg-out output is an **explicit** output of the policy asset whose script is
//! `OP_RETURN <parent chain genesis hash> <Bitcoin scriptPubKey>`, the genesis hash pushed in
//! its internal byte order, exactly as elementsd's `sendtomainchain` writes it (checked byte
//! for byte against the recorded liquidregtest peg-out in `../shared/fixtures/`).
//!
//! Where peg-outs can be made (Elements Core 23.3.3's chain parameters):
//! - `liquid`: Liquid mainnet enforces PAK (peg-out authorization keys): every peg-out output
//!   must also carry a whitelisted key and a proof. This wallet cannot make them yet, and the
//!   network would refuse the transaction, so peg-outs are refused there (nothing is built).
//! - `liquidtestnet`: Elements' `liquidtestnet` chain has no parent chain
//!   (`con_has_parent_chain=0`, parent genesis hash zero): no federation pays peg-outs, an
//!   output would only burn L-BTC. Refused too. Its addresses would be Bitcoin testnet ones.
//! - `regtest` (`liquidregtest`): no PAK unless elementsd runs with `-enforce_pak=1`; the parent
//!   is Bitcoin regtest (genesis `0f9188f1…`).
//!
//! Relay policy that shapes the transactions: an `OP_RETURN` output is standard up to 83
//! bytes (every peg-out script to a standard Bitcoin output fits: at most 69), and a
//! transaction may carry more than one `OP_RETURN` output only where `multi_data_permitted` is
//! on: Liquid mainnet and testnet, not liquidregtest by default (`-multi_data_permitted=1`
//! turns it on). [`PegoutLimits`] carries how many peg-outs one transaction may hold.

mod address;
pub mod import;
pub mod queue;

pub use address::{parse_btc_address, BtcDestination};

use elements::bitcoin;
use elements::script::Builder;
use elements::{AssetId, Script, TxOut};

use crate::network::Network;
use crate::{Error, Result};

/// The smallest peg-out elementsd makes (`sendtomainchain` refuses less than 0.001 BTC), in
/// sat: the default minimum of the request queue and of `pegout send`.
pub const DEFAULT_MIN_PEGOUT: u64 = 100_000;

/// The most peg-out outputs one transaction carries: far below the 400,000-weight standard
/// limit (a peg-out output weighs at most about 440), so that change, inputs and the fee fit.
pub const MAX_PEGOUTS_PER_TX: usize = 500;

/// How many peg-outs a transaction may carry, and the smallest one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PegoutLimits {
    /// The smallest peg-out amount, in sat.
    pub min_amount: u64,
    /// The most peg-out outputs in one transaction (1 where nodes relay one `OP_RETURN`
    /// output per transaction only).
    pub max_per_tx: usize,
}

impl PegoutLimits {
    /// The limits on `network`: Liquid and Liquid testnet relay several `OP_RETURN`
    /// outputs per transaction; liquidregtest only when its nodes run with
    /// `-multi_data_permitted=1`, which `multi_data_permitted` says.
    pub fn for_network(network: Network, multi_data_permitted: bool) -> PegoutLimits {
        let several = match network {
            Network::Liquid | Network::LiquidTestnet => true,
            Network::Regtest => multi_data_permitted,
        };
        PegoutLimits {
            min_amount: DEFAULT_MIN_PEGOUT,
            max_per_tx: if several { MAX_PEGOUTS_PER_TX } else { 1 },
        }
    }
}

/// The parent (Bitcoin) chain of a Liquid network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParentChain {
    /// The Bitcoin network whose addresses peg-outs pay.
    pub network: bitcoin::Network,
    /// Its genesis block hash, which a peg-out output names.
    pub genesis: bitcoin::BlockHash,
}

impl ParentChain {
    /// A name for people: "Bitcoin mainnet", "Bitcoin testnet", "Bitcoin regtest".
    pub fn name(&self) -> &'static str {
        bitcoin_network_name(self.network)
    }
}

/// "Bitcoin mainnet", "Bitcoin testnet", ... for messages.
pub(crate) fn bitcoin_network_name(network: bitcoin::Network) -> &'static str {
    match network {
        bitcoin::Network::Bitcoin => "Bitcoin mainnet",
        bitcoin::Network::Testnet => "Bitcoin testnet",
        bitcoin::Network::Testnet4 => "Bitcoin testnet4",
        bitcoin::Network::Signet => "Bitcoin signet",
        bitcoin::Network::Regtest => "Bitcoin regtest",
    }
}

/// The parent chain whose addresses `network`'s peg-outs pay: Bitcoin mainnet for `liquid`,
/// testnet for `liquidtestnet`, regtest for `regtest`.
pub fn parent_chain(network: Network) -> ParentChain {
    let parent = match network {
        Network::Liquid => bitcoin::Network::Bitcoin,
        Network::LiquidTestnet => bitcoin::Network::Testnet,
        Network::Regtest => bitcoin::Network::Regtest,
    };
    ParentChain {
        network: parent,
        genesis: bitcoin::constants::genesis_block(parent).block_hash(),
    }
}

/// Whether this wallet can make peg-outs on `network`; the refusal says why (exit 3 in the
/// CLI), before anything is built or queued.
pub fn check_supported(network: Network) -> Result<()> {
    match network {
        Network::Regtest => Ok(()),
        Network::Liquid => Err(Error::Refused(
            "Liquid mainnet enforces peg-out authorization (PAK): every peg-out must carry a \
             whitelisted key and a proof, which liquid-otc cannot make yet, and the network \
             would reject the transaction; nothing was built or queued (peg out through a PAK \
             holder, or use regtest to rehearse)"
                .to_owned(),
        )),
        Network::LiquidTestnet => Err(Error::Refused(
            "Liquid testnet has no parent chain (Elements' liquidtestnet: \
             con_has_parent_chain=0): no federation pays peg-outs there, an output would only \
             burn L-BTC; nothing was built or queued (use regtest to rehearse peg-outs)"
                .to_owned(),
        )),
    }
}

/// The script of a peg-out to `parent_script` on `network`'s parent chain:
/// `OP_RETURN <genesis hash, internal byte order> <parent_script>`.
pub fn pegout_script(network: Network, parent_script: &bitcoin::Script) -> Script {
    let genesis = parent_chain(network).genesis;
    let genesis: &[u8; 32] = bitcoin::hashes::Hash::as_byte_array(&genesis);
    Builder::new()
        .push_opcode(elements::opcodes::all::OP_RETURN)
        .push_slice(genesis)
        .push_slice(parent_script.as_bytes())
        .into_script()
}

/// A peg-out output: explicit `value` of `policy_asset` to [`pegout_script`].
pub fn pegout_txout(
    network: Network,
    policy_asset: AssetId,
    parent_script: &bitcoin::Script,
    value: u64,
) -> TxOut {
    TxOut {
        asset: elements::confidential::Asset::Explicit(policy_asset),
        value: elements::confidential::Value::Explicit(value),
        nonce: elements::confidential::Nonce::Null,
        script_pubkey: pegout_script(network, parent_script),
        witness: Default::default(),
    }
}

/// What a peg-out output of `network` pays, read back from the output itself: the amount
/// and the parent-chain script. `None` unless it is a peg-out of exactly this shape: explicit
/// value and asset, the policy asset, `network`'s parent genesis hash, a non-empty parent
/// script and nothing after it (a PAK proof, another fork's data), so that what is checked is
/// what the federation reads.
pub fn read_pegout(
    txout: &TxOut,
    network: Network,
    policy_asset: AssetId,
) -> Option<(u64, bitcoin::ScriptBuf)> {
    let data = txout.pegout_data()?;
    let value = txout.value.explicit()?;
    if data.asset != elements::confidential::Asset::Explicit(policy_asset)
        || data.genesis_hash != parent_chain(network).genesis
        || !data.extra_data.is_empty()
        || data.script_pubkey.is_empty()
        || txout.nonce != elements::confidential::Nonce::Null
    {
        return None;
    }
    // The script must be the canonical one (minimal pushes), as this wallet writes it.
    if txout.script_pubkey != pegout_script(network, &data.script_pubkey) {
        return None;
    }
    Some((value, data.script_pubkey))
}

/// Checks a peg-out amount: at least `min_amount` sat and at most 21 million BTC.
pub fn check_amount(amount: u64, min_amount: u64) -> Result<()> {
    if amount < min_amount {
        return Err(Error::InvalidAmount(format!(
            "{}: below the minimum peg-out of {} BTC ({min_amount} sat)",
            crate::amount::format_amount(amount, 8),
            crate::amount::format_amount(min_amount, 8)
        )));
    }
    if amount > crate::tx::MAX_MONEY {
        return Err(Error::InvalidAmount(format!(
            "{} sat: above 21 million BTC",
            amount
        )));
    }
    Ok(())
}

/// A request as typed or imported, before it is checked.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestInput {
    /// The desk's external reference (a ticket): 1 to 64 printable ASCII characters, no
    /// spaces.
    pub reference: String,
    /// The Bitcoin address.
    pub btc_address: String,
    /// The amount in BTC, a decimal with at most 8 decimals.
    pub amount: String,
    /// The customer.
    pub customer: Option<String>,
    /// A note.
    pub note: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn parents_follow_the_network() {
        assert_eq!(
            parent_chain(Network::Regtest).genesis.to_string(),
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        );
        assert_eq!(
            parent_chain(Network::Liquid).genesis.to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(
            parent_chain(Network::LiquidTestnet).network,
            bitcoin::Network::Testnet
        );
        assert!(check_supported(Network::Regtest).is_ok());
        for (n, why) in [
            (
                Network::Liquid,
                "Liquid mainnet enforces peg-out authorization (PAK)",
            ),
            (Network::LiquidTestnet, "Liquid testnet has no parent chain"),
        ] {
            let r = check_supported(n);
            assert!(
                matches!(&r, Err(Error::Refused(m)) if m.contains(why) && m.contains("nothing was built or queued")),
                "{n}: {r:?}"
            );
        }
    }

    #[test]
    fn limits() {
        assert_eq!(
            PegoutLimits::for_network(Network::Regtest, false).max_per_tx,
            1
        );
        assert_eq!(
            PegoutLimits::for_network(Network::Regtest, true).max_per_tx,
            MAX_PEGOUTS_PER_TX
        );
        assert_eq!(
            PegoutLimits::for_network(Network::Liquid, false).max_per_tx,
            MAX_PEGOUTS_PER_TX
        );
        let invalid_amount = |amount: u64, min: u64| match check_amount(amount, min) {
            Err(Error::InvalidAmount(m)) => m,
            other => panic!("{amount} (minimum {min}): {other:?}"),
        };
        assert_eq!(
            invalid_amount(99_999, DEFAULT_MIN_PEGOUT),
            "0.00099999: below the minimum peg-out of 0.001 BTC (100000 sat)"
        );
        check_amount(100_000, DEFAULT_MIN_PEGOUT).unwrap();
        assert_eq!(
            invalid_amount(crate::tx::MAX_MONEY + 1, 1),
            format!("{} sat: above 21 million BTC", crate::tx::MAX_MONEY + 1)
        );
        assert_eq!(
            invalid_amount(5, DEFAULT_MIN_PEGOUT),
            "0.00000005: below the minimum peg-out of 0.001 BTC (100000 sat)"
        );
    }

    #[test]
    fn read_back_refuses_every_other_shape() {
        let policy = Network::Regtest.default_policy_asset();
        let dest = parse_btc_address(
            "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
            Network::Regtest,
        )
        .unwrap();
        let good = pegout_txout(Network::Regtest, policy, &dest.script, 300_000);
        assert_eq!(
            read_pegout(&good, Network::Regtest, policy),
            Some((300_000, dest.script.clone()))
        );
        // Another parent chain's genesis hash.
        let mainnet = pegout_txout(Network::Liquid, policy, &dest.script, 300_000);
        assert_eq!(read_pegout(&mainnet, Network::Regtest, policy), None);
        // Another asset.
        let other =
            AssetId::from_str("2dcf5a8834645654911964ec3602426fd3b9b4017554d3f9c19403e7fc1411d3")
                .unwrap();
        let wrong_asset = pegout_txout(Network::Regtest, other, &dest.script, 300_000);
        assert_eq!(read_pegout(&wrong_asset, Network::Regtest, policy), None);
        // Extra data after the script (a PAK proof).
        let mut extra = good.clone();
        extra.script_pubkey = Builder::from(good.script_pubkey.to_bytes())
            .push_slice(&[1u8; 33])
            .into_script();
        assert_eq!(read_pegout(&extra, Network::Regtest, policy), None);
        // A confidential value.
        let mut blinded = good.clone();
        blinded.value = elements::confidential::Value::from_commitment(&[
            8, 0x0a, 0x3b, 0x5d, 0x0c, 0x4b, 0x5e, 0x0b, 0x6a, 0x5f, 0x5b, 0x3a, 0x6c, 0x35, 0x8d,
            0xba, 0xc6, 0x1b, 0x13, 0x2a, 0x3a, 0x1a, 0x0e, 0x3d, 0x39, 0x3c, 0x3f, 0x6e, 0x72,
            0x32, 0x2a, 0x78, 0x73,
        ])
        .unwrap_or(elements::confidential::Value::Null);
        assert_eq!(read_pegout(&blinded, Network::Regtest, policy), None);
        // A bare OP_RETURN (a burn).
        let mut burn = good.clone();
        burn.script_pubkey = crate::tx::burn_script();
        assert_eq!(read_pegout(&burn, Network::Regtest, policy), None);
    }
}
