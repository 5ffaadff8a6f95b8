//! Payments: coin selection, fees on the discounted size, change, blinding as the last
//! blinder, verification of the result, signing and finalizing (PSET v2 throughout).
//!
//! The pipeline is `build_payment` (select, size, blind, verify: nothing signed) →
//! `sign_pset` (only this seed's inputs, SIGHASH_ALL) → `finalize_pset`. Issuance,
//! reissuance and burns (`issue`) go through the same builder with an issuance on input 0
//! and extra outputs.

mod asset_ids;
mod assets;
mod blind;
mod build;
mod extras;
mod fee;
mod issuance;
mod pegout;
mod select;
mod sign;

use std::collections::BTreeMap;

use elements::pset::PartiallySignedTransaction;
use elements::{Address, AssetId, OutPoint, Script, TxOut};

pub use asset_ids::{
    contract_hash_from_json, issuance_ids, new_issuances, FoundIssuance, IssuanceIds,
};
pub use assets::{
    build_burn, build_issuance, build_reissuance, burn_script, BurnRequest, IssueRequest,
    ReissueRequest,
};
pub(crate) use build::build_with;
pub use build::{build_payment, MIN_POLICY_OUTPUT};
pub(crate) use extras::Extras;
pub use fee::{vsize_of_weight, FeeRate};
pub use issuance::{issuance_proof_nonce, read_issued_amounts, Issuance};
pub use pegout::{build_pegouts, PegoutBatch, PegoutOutput};

/// A building, blinding or signing failure, in words.
pub(crate) fn tx_error(msg: impl Into<String>) -> crate::Error {
    crate::Error::Transaction(msg.into())
}

/// The most that one issuance may create of an asset or of its token (21 million coins of 8
/// decimals, as for L-BTC; ELIP-203).
pub const MAX_MONEY: u64 = 2_100_000_000_000_000;
pub use select::select_asset;
pub use sign::{finalize_pset, sign_pset};

use crate::descriptor::{Keychain, WalletDescriptor};
use crate::network::Network;
use crate::unblind::TxOutSecrets;

/// An output the wallet can spend, with what it takes to spend it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spendable {
    /// Where it is.
    pub outpoint: OutPoint,
    /// The output as on chain (commitments and all).
    pub txout: TxOut,
    /// Its unblinded value, asset and blinding factors.
    pub secrets: TxOutSecrets,
    /// The wallet branch of its script.
    pub keychain: Keychain,
    /// The derivation index of its script.
    pub index: u32,
}

impl From<&Spendable> for crate::store::OwnedCoin {
    fn from(coin: &Spendable) -> Self {
        crate::store::OwnedCoin {
            txout: coin.txout.clone(),
            secrets: coin.secrets,
            keychain: coin.keychain,
            index: coin.index,
        }
    }
}

/// One payee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    /// Where to pay (confidential addresses get blinded outputs).
    pub address: Address,
    /// Amount in base units.
    pub value: u64,
    /// Asset to pay.
    pub asset: AssetId,
}

/// What to pay.
#[derive(Clone, Debug)]
pub struct PaymentRequest {
    /// The payees, in output order.
    pub recipients: Vec<Recipient>,
    /// Fee rate on the discounted size.
    pub fee_rate: FeeRate,
    /// Sweep: the one recipient gets every coin of its asset (less the fee for L-BTC); its
    /// `value` is ignored.
    pub drain: bool,
}

/// The wallet a payment is built for.
#[derive(Clone, Copy, Debug)]
pub struct WalletContext<'a> {
    /// Its descriptor (scripts, key origins).
    pub descriptor: &'a WalletDescriptor,
    /// Its network.
    pub network: Network,
    /// The network's policy asset (fees are paid in it).
    pub policy_asset: AssetId,
}

/// Why an output is there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputRole {
    /// The n-th recipient of the request.
    Recipient(usize),
    /// Change back to the wallet, at this branch and index.
    Change(Keychain, u32),
    /// The explicit fee output.
    Fee,
    /// An issued amount (asset or reissuance token) to the wallet, at this branch and index.
    Issued(Keychain, u32),
    /// An amount destroyed: an explicit output to an `OP_RETURN` script.
    Burn,
    /// The n-th peg-out of a peg-out batch: an explicit policy-asset output to
    /// `OP_RETURN <parent genesis> <Bitcoin scriptPubKey>`.
    Pegout(usize),
}

/// One output as planned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedOutput {
    /// Its script.
    pub script: Script,
    /// Its amount.
    pub value: u64,
    /// Its asset.
    pub asset: AssetId,
    /// Whether it is blinded.
    pub blinded: bool,
    /// Why it is there.
    pub role: OutputRole,
}

/// A built, blinded and verified payment, not yet signed.
#[derive(Clone, Debug)]
pub struct Payment {
    /// The PSET (blinded, unsigned).
    pub pset: PartiallySignedTransaction,
    /// The fee in base units of the policy asset.
    pub fee: u64,
    /// The issuance or reissuance on input 0, if any.
    pub issuance: Option<Issuance>,
    /// The wallet's coins it spends.
    pub inputs: Vec<Spendable>,
    /// Its outputs, in order.
    pub outputs: Vec<PlannedOutput>,
    /// Per asset, what leaves the wallet (negative) including the fee, counting only change
    /// and issued outputs as the wallet's (a recipient that is the wallet itself is counted
    /// by the caller, who knows the wallet's scripts).
    pub net: BTreeMap<AssetId, i64>,
    /// The secrets of every output once blinded (explicit outputs: their explicit secrets),
    /// checked to open its commitments: what the wallet paid, which it keeps.
    pub output_secrets: Vec<TxOutSecrets>,
}
