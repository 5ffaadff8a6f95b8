//! A single-key test wallet that builds, signs and finalizes with wallet-core against the
//! embedded sandbox, and the checks its transactions share.

use elements::{Address, OutPoint, Transaction, Txid};
use regtest::{Sandbox, SandboxConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::pset::{approve, script_map, view, Allowed, WalletKnowledge};
use wallet_core::seed::SeedSecret;
use wallet_core::store::OwnedCoin;
use wallet_core::tx::{finalize_pset, sign_pset, FeeRate, Payment, Spendable, WalletContext};
use wallet_core::unblind::{blinding_private_key, unblind_output, TxOutSecrets};
use wallet_core::Error;

/// One bitcoin in satoshi.
pub const COIN: u64 = 100_000_000;

/// A sandbox whose block times are fixed (repeatable transactions).
pub fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        ..SandboxConfig::default()
    })
    .unwrap()
}

/// A regtest wallet of `phrase` with SLIP-77 blinding; change indices handed out in order.
pub struct TestWallet {
    seed: [u8; 64],
    /// Its CT descriptor.
    pub descriptor: WalletDescriptor,
    next_change: u32,
}

impl TestWallet {
    /// The wallet of `phrase` (no BIP39 passphrase) with `kind` scripts.
    pub fn new(phrase: &str, kind: ScriptKind) -> TestWallet {
        let secret = SeedSecret::from_phrase(phrase, String::new()).unwrap();
        let seed = *secret.seed();
        let descriptor =
            WalletDescriptor::from_seed(&seed, Network::Regtest, kind, BlindingScheme::Slip77)
                .unwrap();
        TestWallet {
            seed,
            descriptor,
            next_change: 0,
        }
    }

    /// Its BIP39 seed (tests sign with it directly).
    pub fn seed(&self) -> &[u8; 64] {
        &self.seed
    }

    /// Its address at `keychain`/`index`.
    pub fn address(&self, keychain: Keychain, index: u32) -> Address {
        self.descriptor
            .address(keychain, index, Network::Regtest)
            .unwrap()
    }

    /// Its address at `keychain`/`index`, with the branch and index (as requests take it).
    pub fn addr(&self, keychain: Keychain, index: u32) -> (Keychain, u32, Address) {
        (keychain, index, self.address(keychain, index))
    }

    /// `txout` (the wallet's) unblinded.
    pub fn unblind(&self, txout: &elements::TxOut) -> TxOutSecrets {
        let key = blinding_private_key(&self.descriptor, &txout.script_pubkey).unwrap();
        unblind_output(txout, &key).unwrap()
    }

    /// The output of `txid` paying this wallet's `keychain`/`index`, unblinded.
    pub fn coin(
        &self,
        sandbox: &Sandbox,
        txid: &Txid,
        keychain: Keychain,
        index: u32,
    ) -> Spendable {
        let script = self.descriptor.script_pubkey(keychain, index).unwrap();
        let tx = sandbox.get_tx(txid).expect("known transaction");
        let vout = tx
            .output
            .iter()
            .position(|o| o.script_pubkey == script)
            .expect("an output to the wallet");
        let txout = tx.output[vout].clone();
        Spendable {
            outpoint: OutPoint::new(*txid, vout as u32),
            secrets: self.unblind(&txout),
            txout,
            keychain,
            index,
        }
    }

    /// Every output of `tx` paying this wallet's first scripts (indices 0 to 9), unblinded.
    pub fn coins_of(&self, tx: &Transaction) -> Vec<Spendable> {
        let mut out = Vec::new();
        for (vout, txout) in tx.output.iter().enumerate() {
            for keychain in [Keychain::External, Keychain::Internal] {
                for index in 0..10 {
                    if self.descriptor.script_pubkey(keychain, index).unwrap()
                        != txout.script_pubkey
                    {
                        continue;
                    }
                    out.push(Spendable {
                        outpoint: OutPoint::new(tx.txid(), vout as u32),
                        secrets: self.unblind(txout),
                        txout: txout.clone(),
                        keychain,
                        index,
                    });
                }
            }
        }
        out
    }

    /// Runs `build` with this wallet's context and change addresses, then signs (one
    /// signature per input) and finalizes: the payment's plan and the transaction.
    pub fn build_signed(
        &mut self,
        sandbox: &Sandbox,
        build: impl FnOnce(
            &WalletContext,
            &mut dyn FnMut() -> Result<(u32, Address), Error>,
        ) -> Result<Payment, Error>,
    ) -> Result<(Payment, Transaction), Error> {
        let descriptor = self.descriptor.clone();
        let mut next = self.next_change;
        let mut change = || -> Result<(u32, Address), Error> {
            let index = next;
            next += 1;
            Ok((
                index,
                descriptor.address(Keychain::Internal, index, Network::Regtest)?,
            ))
        };
        let ctx = WalletContext {
            descriptor: &self.descriptor,
            network: Network::Regtest,
            policy_asset: sandbox.policy_asset(),
        };
        let mut payment = build(&ctx, &mut change)?;
        self.next_change = next;
        // Signing goes through the wallet's view and approval, as every operation does.
        let coins = payment
            .inputs
            .iter()
            .map(|u| {
                (
                    u.outpoint,
                    OwnedCoin {
                        txout: u.txout.clone(),
                        secrets: u.secrets,
                        keychain: u.keychain,
                        index: u.index,
                    },
                )
            })
            .collect();
        let scripts = script_map(&self.descriptor, 40, next + 40)?;
        let know = WalletKnowledge {
            descriptor: &self.descriptor,
            network: Network::Regtest,
            policy_asset: sandbox.policy_asset(),
            coins: &coins,
            scripts: &scripts,
        };
        let view = view(&payment.pset, &know)?;
        let allowed = Allowed {
            issuance_on: payment.issuance.as_ref().map(|_| 0),
        };
        let plan = approve(&payment.pset, &view, &know, allowed)?;
        let signed = sign_pset(
            &mut payment.pset,
            &plan,
            &self.descriptor,
            &self.seed,
            Network::Regtest,
        )?;
        assert_eq!(signed, payment.inputs.len(), "one signature per input");
        let tx = finalize_pset(&mut payment.pset.clone(), Network::Regtest)?;
        Ok((payment, tx))
    }
}

/// The fee covers the minimum rate on `tx`'s discount vsize, by at most 2 sat more (an upper
/// bound, not a wasteful one), and is the explicit last output.
pub fn assert_fee_covers(payment: &Payment, tx: &Transaction) {
    let required = FeeRate::MIN
        .fee_for_vsize(tx.discount_vsize() as u64)
        .unwrap();
    assert!(
        payment.fee >= required,
        "fee {} below {required} for discount vsize {}",
        payment.fee,
        tx.discount_vsize()
    );
    assert!(
        payment.fee <= required + 2,
        "fee {} vs {required}",
        payment.fee
    );
    let fee_out = tx.output.last().unwrap();
    assert!(fee_out.is_fee());
    assert_eq!(fee_out.value.explicit(), Some(payment.fee));
}
