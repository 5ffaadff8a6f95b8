//! Payments (`send`, `pset create`) and the shared path of every transaction the wallet builds
//! from its own coins: select, build, blind, view, check the view against the plan, approve.

use elements::Address;

use super::{sent_outputs, Knowledge, Mode, Prepared};
use crate::descriptor::Keychain;
use crate::pset::{approve, view, Allowed, Owner};
use crate::store::TxKind;
use crate::tx::{build_payment, Payment, PaymentRequest, Spendable, WalletContext};
use crate::wallet::Wallet;
use crate::{Error, Result};

/// Builds, blinds and verifies the payment `request` from the wallet's stored coins (sync
/// first); nothing is signed.
pub fn prepare_payment(
    wallet: &mut Wallet,
    request: &PaymentRequest,
    mode: Mode,
) -> Result<Prepared> {
    prepare_built(wallet, mode, TxKind::Payment, 0, |ctx, coins, change| {
        build_payment(ctx, coins, request, change)
    })
}

/// The wallet's coins that coin selection may use: unspent, not reserved, not failed.
pub(crate) fn spendable(wallet: &Wallet) -> Result<Vec<Spendable>> {
    Ok(wallet
        .store()
        .spendable_utxos()?
        .into_iter()
        .map(|u| Spendable {
            outpoint: u.outpoint,
            txout: u.txout,
            secrets: u.secrets,
            keychain: u.keychain,
            index: u.index,
        })
        .collect())
}

/// Runs `build` (a payment, an issuance, ...) on the wallet's spendable coins with a change
/// address source, then computes the wallet's view of the result and checks that it has
/// exactly the net effect and fee that were built, counting outputs to the wallet's own
/// scripts (a payment to oneself), and approves what will be signed.
///
/// With [`Mode::ForSigning`] the wallet's spending lock is taken first and each change index
/// is stored before use (as for `address new`); with [`Mode::DryRun`] the next indexes are
/// only previewed, after the `previewed` ones the caller already previewed for itself.
pub(crate) fn prepare_built(
    wallet: &mut Wallet,
    mode: Mode,
    kind: TxKind,
    previewed: u32,
    build: impl FnOnce(
        &WalletContext,
        &[Spendable],
        &mut dyn FnMut() -> Result<(u32, Address)>,
    ) -> Result<Payment>,
) -> Result<Prepared> {
    let lock = match mode {
        Mode::ForSigning => Some(wallet.lock_spending()?),
        Mode::DryRun => None,
    };
    prepare_built_locked(wallet, lock, mode, kind, previewed, build)
}

/// [`prepare_built`] for an operation that took the wallet's spending lock itself, before
/// reading what it will pay (a peg-out run reads its queue under the lock): `lock` is kept
/// in the result until commit.
pub(crate) fn prepare_built_locked(
    wallet: &mut Wallet,
    lock: Option<crate::spend_lock::SpendLock>,
    mode: Mode,
    kind: TxKind,
    previewed: u32,
    build: impl FnOnce(
        &WalletContext,
        &[Spendable],
        &mut dyn FnMut() -> Result<(u32, Address)>,
    ) -> Result<Payment>,
) -> Result<Prepared> {
    let coins = spendable(wallet)?;
    let descriptor = wallet.descriptor().clone();
    let network = wallet.network();
    let policy_asset = wallet.policy_asset();
    let payment = {
        let mut preview = wallet
            .next_index(Keychain::Internal)?
            .saturating_add(previewed);
        let mut change = || -> Result<(u32, Address)> {
            let index = match mode {
                Mode::ForSigning => wallet.new_address(Keychain::Internal, None)?.index,
                Mode::DryRun => {
                    preview += 1;
                    preview - 1
                }
            };
            Ok((
                index,
                descriptor.address(Keychain::Internal, index, network)?,
            ))
        };
        let ctx = WalletContext {
            descriptor: &descriptor,
            network,
            policy_asset,
        };
        build(&ctx, &coins, &mut change)?
    };
    let mut prepared = verify_built(wallet, payment, kind)?;
    if mode == Mode::ForSigning {
        // Whoever signs and broadcasts it, the wallet can show what it paid.
        wallet.store_mut().record_sent(&prepared.sent)?;
    }
    prepared.lock = lock;
    Ok(prepared)
}

/// Checks a transaction the wallet built through its own view and approves it for signing.
fn verify_built(wallet: &Wallet, payment: Payment, kind: TxKind) -> Result<Prepared> {
    let knowledge = Knowledge::load(wallet)?;
    let know = knowledge.for_view(wallet);
    let mut view = view(&payment.pset, &know)?;
    // What was built, plus what the recipients that are the wallet itself get back.
    let mut expected = payment.net.clone();
    for (planned, output) in payment.outputs.iter().zip(&view.outputs) {
        if matches!(planned.role, crate::tx::OutputRole::Recipient(_))
            && matches!(output.owner, Owner::Wallet(..))
        {
            let entry = expected.entry(planned.asset).or_insert(0);
            *entry = i64::try_from(planned.value)
                .ok()
                .and_then(|v| entry.checked_add(v))
                .ok_or_else(|| Error::Refused("the net effect overflows".to_owned()))?;
        }
    }
    expected.retain(|_, v| *v != 0);
    if view.net != expected || view.fee != payment.fee {
        return Err(Error::Refused(
            "the built transaction does not have the net effect it was built for; nothing was \
             signed"
                .to_owned(),
        ));
    }
    // The wallet blinded the outputs it pays others: show (and keep) what they hold.
    for ((output, txout), secrets) in view
        .outputs
        .iter_mut()
        .zip(payment.pset.outputs())
        .zip(&payment.output_secrets)
    {
        if output.secrets.is_none() && secrets.opens(&txout.to_txout()) {
            output.secrets = Some(*secrets);
        }
    }
    let allowed = Allowed {
        issuance_on: payment.issuance.as_ref().map(|_| 0),
    };
    let plan = approve(&payment.pset, &view, &know, allowed)?;
    let sent = sent_outputs(&view, &payment.pset, wallet.network());
    let mut prepared = Prepared::new(payment.pset, view, plan, kind);
    prepared.issuance = payment.issuance;
    prepared.sent = sent;
    Ok(prepared)
}
