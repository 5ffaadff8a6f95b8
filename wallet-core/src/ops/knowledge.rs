//! What a PSET view needs of the wallet, read once from its store and descriptor.

use std::collections::HashMap;

use elements::{OutPoint, Script};

use crate::descriptor::Keychain;
use crate::pset::WalletKnowledge;
use crate::store::OwnedCoin;
use crate::wallet::Wallet;
use crate::Result;

/// How far past the next unused index of each keychain the wallet's scripts are recognised
/// (addresses handed out elsewhere by a restored copy of the wallet).
pub const SCRIPT_LOOKAHEAD: u32 = 20;

/// The wallet's coins (spent or not) and scripts: every script sync derived, every address
/// handed out, and [`SCRIPT_LOOKAHEAD`] more per keychain.
#[derive(Clone, Debug, Default)]
pub struct Knowledge {
    /// The wallet's coins by outpoint.
    pub coins: HashMap<OutPoint, OwnedCoin>,
    /// The wallet's scripts.
    pub scripts: HashMap<Script, (Keychain, u32)>,
}

impl Knowledge {
    /// Reads the wallet's coins and scripts.
    pub fn load(wallet: &Wallet) -> Result<Knowledge> {
        let store = wallet.store();
        let mut scripts = store.script_index()?;
        let derived: std::collections::HashSet<(Keychain, u32)> =
            scripts.values().copied().collect();
        for keychain in [Keychain::External, Keychain::Internal] {
            let next = wallet.next_index(keychain)?;
            for index in 0..next.saturating_add(SCRIPT_LOOKAHEAD) {
                if index >= 1 << 31 {
                    break;
                }
                // Stored scripts cover most of the range; derive only what is missing.
                if derived.contains(&(keychain, index)) {
                    continue;
                }
                scripts.insert(
                    wallet.descriptor().script_pubkey(keychain, index)?,
                    (keychain, index),
                );
            }
        }
        Ok(Knowledge {
            coins: store.coins()?,
            scripts,
        })
    }

    /// Keeps only the scripts that sync watches with the default gap limit: per keychain,
    /// below the larger of [`DEFAULT_GAP_LIMIT`](crate::sync::DEFAULT_GAP_LIMIT), the next
    /// index, and that gap past the last address with history. For a PSET from elsewhere: an
    /// output to an address past that window would be counted as coming back although sync
    /// would not find it, so it counts as leaving instead (and the view says so).
    pub fn watched_only(mut self, wallet: &Wallet) -> Result<Knowledge> {
        let gap = crate::sync::DEFAULT_GAP_LIMIT;
        let mut end = [0u32; 2];
        for keychain in [Keychain::External, Keychain::Internal] {
            let next = wallet.next_index(keychain)?;
            let past_used = wallet
                .store()
                .last_used_index(keychain)?
                .map_or(0, |i| i.saturating_add(1).saturating_add(gap));
            end[keychain.index() as usize] = gap.max(next).max(past_used);
        }
        self.scripts
            .retain(|_, (keychain, index)| *index < end[keychain.index() as usize]);
        Ok(self)
    }

    /// The view's borrowed form.
    pub fn for_view<'a>(&'a self, wallet: &'a Wallet) -> WalletKnowledge<'a> {
        WalletKnowledge {
            descriptor: wallet.descriptor(),
            network: wallet.network(),
            policy_asset: wallet.policy_asset(),
            coins: &self.coins,
            scripts: &self.scripts,
        }
    }
}
