//! The one place that decides what the wallet signs: exactly the inputs its view counted as
//! its own, each committing to the coin the wallet recorded, and only when nothing in the
//! PSET is left unexplained.

use elements::pset::PartiallySignedTransaction;
use elements::{TxOut, Txid};

use super::{Owner, PsetView, WalletKnowledge};
use crate::descriptor::Keychain;
use crate::{Error, Result};

/// What the operation that built (or was given) the PSET allows beyond plain spending.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Allowed {
    /// The input that may carry an issuance or reissuance: the one the wallet's own issue,
    /// reissue or offer command planned. Any other issuance on the wallet's inputs is refused.
    pub issuance_on: Option<usize>,
}

/// One input the wallet will sign, with the coin it recorded for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInput {
    /// The input's position.
    pub index: usize,
    /// The keychain of the coin's script.
    pub keychain: Keychain,
    /// The derivation index of the coin's script.
    pub key_index: u32,
    /// The coin as the wallet recorded it: its value commitment and script are what the
    /// signature commits to, whatever the PSET says.
    pub spent: TxOut,
}

/// The inputs to sign and the transaction they are signed for. Made only by [`approve`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningPlan {
    /// Exactly the inputs the view counted as the wallet's.
    pub inputs: Vec<SignInput>,
    /// The transaction the view was computed on: signing refuses a PSET that became another
    /// transaction since.
    pub unsigned_txid: Txid,
}

/// Decides whether the wallet may sign `pset` as `view` shows it, and what exactly.
///
/// Refuses ([`Error::Refused`], every reason listed) a view with problems, a PSET none of
/// whose inputs is the wallet's, an issuance on one of the wallet's inputs that `allowed`
/// does not name, an output meant to be blinded that is not blinded yet (a signature commits
/// to the blinded outputs), and an own coin whose recorded script is not the one the
/// descriptor derives for it.
pub fn approve(
    pset: &PartiallySignedTransaction,
    view: &PsetView,
    know: &WalletKnowledge,
    allowed: Allowed,
) -> Result<SigningPlan> {
    let mut reasons: Vec<String> = view.problems.iter().map(ToString::to_string).collect();
    let mut inputs = Vec::new();
    for (i, input) in view.inputs.iter().enumerate() {
        let Owner::Wallet(keychain, key_index) = input.owner else {
            continue;
        };
        if input.issuance.is_some() && allowed.issuance_on != Some(i) {
            let issuance = input.issuance.as_ref().map_or(String::new(), |is| {
                format!(
                    " ({} of asset {}{})",
                    if is.reissuance {
                        "reissuance"
                    } else {
                        "issuance"
                    },
                    is.asset,
                    is.amount
                        .map_or(String::new(), |a| format!(", {a} base units"))
                )
            });
            reasons.push(format!(
                "input {i} spends this wallet's coin and carries an issuance{issuance} that \
                 this command did not ask for"
            ));
        }
        let Some(coin) = know.coins.get(&input.outpoint) else {
            reasons.push(format!(
                "input {i}: the wallet's coin vanished from its records"
            ));
            continue;
        };
        let derived = know.descriptor.script_pubkey(keychain, key_index)?;
        if derived != coin.txout.script_pubkey {
            reasons.push(format!(
                "input {i}: the wallet's record of coin {} pays another script than its \
                 descriptor derives at {}/{key_index}",
                super::outpoint_text(&input.outpoint),
                keychain.as_str()
            ));
        }
        inputs.push(SignInput {
            index: i,
            keychain,
            key_index,
            spent: coin.txout.clone(),
        });
    }
    for (i, output) in pset.outputs().iter().enumerate() {
        if output.blinding_key.is_some() && !output.is_fully_blinded() {
            reasons.push(format!(
                "output {i} is meant to be blinded and is not yet: a signature commits to the \
                 blinded outputs, so blind the PSET before signing"
            ));
        }
    }
    if inputs.is_empty() && reasons.is_empty() {
        return Err(Error::NothingToSign(
            "no input of this PSET is this wallet's".to_owned(),
        ));
    }
    if !reasons.is_empty() {
        return Err(Error::Refused(format!(
            "nothing was signed: {}",
            reasons.join("; ")
        )));
    }
    Ok(SigningPlan {
        inputs,
        unsigned_txid: view.unsigned_txid,
    })
}
