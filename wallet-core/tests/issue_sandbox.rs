//! Issuance, reissuance and burns built by wallet-core and judged by the embedded regtest
//! chain, whose asset index (electrs' `/asset/:id`) computes ids and supply on its own.

use elements::{Address, AssetId, ContractHash, OutPoint, Transaction, Txid};
use regtest::{Sandbox, SandboxConfig};
use serde_json::Value;
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::seed::SeedSecret;
use wallet_core::tx::{
    build_burn, build_issuance, build_reissuance, contract_hash_from_json, finalize_pset,
    issuance_ids, read_issued_amounts, sign_pset, BurnRequest, FeeRate, IssueRequest, OutputRole,
    Payment, ReissueRequest, Spendable, WalletContext,
};
use wallet_core::unblind::{blinding_private_key, unblind_output};
use wallet_core::Error;

const ABANDON: &str =
    "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about";
const COIN: u64 = 100_000_000;

struct W {
    seed: [u8; 64],
    descriptor: WalletDescriptor,
    next_change: u32,
}

impl W {
    fn new() -> W {
        let secret = SeedSecret::from_phrase(ABANDON, String::new()).unwrap();
        let seed = *secret.seed();
        let descriptor = WalletDescriptor::from_seed(
            &seed,
            Network::Regtest,
            ScriptKind::Wpkh,
            BlindingScheme::Slip77,
        )
        .unwrap();
        W {
            seed,
            descriptor,
            next_change: 0,
        }
    }

    fn addr(&self, keychain: Keychain, index: u32) -> (Keychain, u32, Address) {
        let a = self
            .descriptor
            .address(keychain, index, Network::Regtest)
            .unwrap();
        (keychain, index, a)
    }

    /// Every output of `tx` paying this wallet's first scripts, unblinded.
    fn coins_of(&self, tx: &Transaction) -> Vec<Spendable> {
        let mut out = Vec::new();
        for (vout, txout) in tx.output.iter().enumerate() {
            for keychain in [Keychain::External, Keychain::Internal] {
                for index in 0..10 {
                    if self.descriptor.script_pubkey(keychain, index).unwrap()
                        != txout.script_pubkey
                    {
                        continue;
                    }
                    let key = blinding_private_key(&self.descriptor, &txout.script_pubkey).unwrap();
                    out.push(Spendable {
                        outpoint: OutPoint::new(tx.txid(), vout as u32),
                        secrets: unblind_output(txout, &key).unwrap(),
                        txout: txout.clone(),
                        keychain,
                        index,
                    });
                }
            }
        }
        out
    }

    fn finish(
        &mut self,
        sandbox: &Sandbox,
        build: impl FnOnce(
            &WalletContext,
            &mut dyn FnMut() -> Result<(u32, Address), Error>,
        ) -> Result<Payment, Error>,
    ) -> (Payment, Transaction) {
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
        let mut payment = build(&ctx, &mut change).unwrap();
        self.next_change = next;
        let signed = sign_pset(&mut payment.pset, &self.seed, Network::Regtest).unwrap();
        assert_eq!(signed, payment.inputs.len());
        let tx = finalize_pset(&mut payment.pset.clone(), Network::Regtest).unwrap();
        (payment, tx)
    }
}

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        ..SandboxConfig::default()
    })
    .unwrap()
}

fn asset_view(sandbox: &Sandbox, asset: &AssetId) -> Value {
    let url = format!("{}/asset/{asset}", sandbox.esplora_url());
    let text = ureq::get(&url)
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn unspent(all: &[Spendable], tx: &Transaction) -> Vec<Spendable> {
    all.iter()
        .filter(|c| !tx.input.iter().any(|i| i.previous_output == c.outpoint))
        .cloned()
        .collect()
}

#[test]
fn ids_match_the_sandbox_issuance() {
    let sandbox = sandbox();
    for name in [None, Some("test asset")] {
        let issued = sandbox.issue(5_000, name).unwrap();
        let tx = sandbox.get_tx(&issued.txid).unwrap();
        let input = tx.input.iter().find(|i| i.has_issuance()).unwrap();
        let contract = ContractHash::from_byte_array(match name {
            None => [0; 32],
            Some(n) => {
                use elements::hashes::sha256;
                sha256::Hash::hash(n.as_bytes()).to_byte_array()
            }
        });
        let ids = issuance_ids(input.previous_output, contract);
        assert_eq!(ids.asset, issued.asset);
        assert_eq!(ids.token, issued.token);
    }
}

#[test]
fn issue_reissue_burn_are_accepted_with_the_supply_the_chain_computes() {
    let sandbox = sandbox();
    let mut w = W::new();
    let policy = sandbox.policy_asset();
    let (_, _, funding) = w.addr(Keychain::External, 0);
    let txid: Txid = sandbox.faucet(&funding, COIN, None).unwrap();
    sandbox.mine(1).unwrap();
    let mut coins = w.coins_of(&sandbox.get_tx(&txid).unwrap());
    assert_eq!(coins.len(), 1);

    // Issue 1000 with 2 tokens and a contract.
    let contract = r#"{"name":"Test","ticker":"TST","precision":0,"version":0}"#;
    let hash = contract_hash_from_json(contract).unwrap();
    let request = IssueRequest {
        amount: 1_000,
        token_amount: 2,
        contract_hash: Some(hash),
        asset_address: w.addr(Keychain::External, 1),
        token_address: w.addr(Keychain::External, 2),
        confidential: false,
        fee_rate: FeeRate::MIN,
    };
    let utxos = coins.clone();
    let (payment, tx) = w.finish(&sandbox, |ctx, change| {
        build_issuance(ctx, &utxos, &request, change)
    });
    let issuance = payment.issuance.clone().unwrap();
    let ids = issuance_ids(coins[0].outpoint, hash);
    assert_eq!(issuance.asset, ids.asset);
    assert_eq!(issuance.token, ids.token);
    assert_eq!(payment.net[&ids.asset], 1_000);
    assert_eq!(payment.net[&ids.token], 2);
    assert_eq!(payment.net[&policy], -(payment.fee as i64));
    sandbox.broadcast(tx.clone()).unwrap();
    sandbox.mine(1).unwrap();
    let view = asset_view(&sandbox, &ids.asset);
    assert_eq!(view["reissuance_token"], ids.token.to_string());
    assert_eq!(view["contract_hash"], hash.to_string());
    assert_eq!(view["issuance_txin"]["txid"], tx.txid().to_string());
    assert_eq!(view["chain_stats"]["issued_amount"], 1_000);
    assert_eq!(view["chain_stats"]["reissuance_tokens"], 2);
    coins = unspent(&coins, &tx);
    coins.extend(w.coins_of(&tx));

    // Reissue 500: spends a token (blinded) at input 0, which comes back.
    let request = ReissueRequest {
        entropy: issuance.entropy,
        amount: 500,
        asset_address: w.addr(Keychain::External, 3),
        confidential: false,
        fee_rate: FeeRate::MIN,
    };
    let utxos = coins.clone();
    let (payment, tx) = w.finish(&sandbox, |ctx, change| {
        build_reissuance(ctx, &utxos, &request, change)
    });
    assert!(payment.issuance.as_ref().unwrap().is_reissuance());
    assert_eq!(payment.net[&ids.asset], 500);
    assert!(!payment.net.contains_key(&ids.token));
    sandbox.broadcast(tx.clone()).unwrap();
    sandbox.mine(1).unwrap();
    let view = asset_view(&sandbox, &ids.asset);
    assert_eq!(view["chain_stats"]["issued_amount"], 1_500);
    assert_eq!(view["chain_stats"]["issuance_count"], 2);
    coins = unspent(&coins, &tx);
    coins.extend(w.coins_of(&tx));

    // Burn 300 of the asset.
    let request = BurnRequest {
        asset: ids.asset,
        amount: 300,
        fee_rate: FeeRate::MIN,
    };
    let utxos = coins.clone();
    let (payment, tx) = w.finish(&sandbox, |ctx, change| {
        build_burn(ctx, &utxos, &request, change)
    });
    assert!(payment.outputs.iter().any(|o| o.role == OutputRole::Burn));
    assert_eq!(payment.net[&ids.asset], -300);
    sandbox.broadcast(tx.clone()).unwrap();
    sandbox.mine(1).unwrap();
    let view = asset_view(&sandbox, &ids.asset);
    assert_eq!(view["chain_stats"]["burned_amount"], 300);
    coins = unspent(&coins, &tx);
    coins.extend(w.coins_of(&tx));
    let held: u64 = coins
        .iter()
        .filter(|c| c.secrets.asset == ids.asset)
        .map(|c| c.secrets.value)
        .sum();
    assert_eq!(held, 1_200);

    // Refusals: more than held, and a reissuance without the token.
    let descriptor = w.descriptor.clone();
    let ctx = WalletContext {
        descriptor: &descriptor,
        network: Network::Regtest,
        policy_asset: policy,
    };
    let mut change = || -> Result<(u32, Address), Error> {
        Ok((
            99,
            descriptor.address(Keychain::Internal, 99, Network::Regtest)?,
        ))
    };
    let too_much = BurnRequest {
        asset: ids.asset,
        amount: 1_201,
        fee_rate: FeeRate::MIN,
    };
    assert!(matches!(
        build_burn(&ctx, &coins, &too_much, &mut change),
        Err(Error::InsufficientFunds {
            needed: 1_201,
            available: 1_200,
            ..
        })
    ));
    let no_tokens: Vec<Spendable> = coins
        .iter()
        .filter(|c| c.secrets.asset != ids.token)
        .cloned()
        .collect();
    let reissue = ReissueRequest {
        entropy: issuance.entropy,
        amount: 1,
        asset_address: w.addr(Keychain::External, 4),
        confidential: false,
        fee_rate: FeeRate::MIN,
    };
    assert!(matches!(
        build_reissuance(&ctx, &no_tokens, &reissue, &mut change),
        Err(Error::InsufficientFunds { asset, .. }) if asset == ids.token
    ));
    let over = IssueRequest {
        amount: wallet_core::tx::MAX_MONEY + 1,
        token_amount: 0,
        contract_hash: None,
        asset_address: w.addr(Keychain::External, 4),
        token_address: w.addr(Keychain::External, 5),
        confidential: false,
        fee_rate: FeeRate::MIN,
    };
    assert!(matches!(
        build_issuance(&ctx, &coins, &over, &mut change),
        Err(Error::InvalidAmount(_))
    ));
}

/// A confidential issuance: amounts blinded with rangeproofs the strict sandbox verifies, the
/// balance holding with the issued amounts as inputs, the fee covering the larger size, the
/// confidential-issuance token id, and a reissuance spending that token.
#[test]
fn a_confidential_issuance_is_accepted_and_can_be_reissued() {
    let sandbox = sandbox();
    let mut w = W::new();
    let policy = sandbox.policy_asset();
    let (_, _, funding) = w.addr(Keychain::External, 0);
    let txid: Txid = sandbox.faucet(&funding, COIN, None).unwrap();
    sandbox.mine(1).unwrap();
    let mut coins = w.coins_of(&sandbox.get_tx(&txid).unwrap());

    let request = IssueRequest {
        amount: 7_000,
        token_amount: 3,
        contract_hash: None,
        asset_address: w.addr(Keychain::External, 1),
        token_address: w.addr(Keychain::External, 2),
        confidential: true,
        fee_rate: FeeRate::MIN,
    };
    let utxos = coins.clone();
    let (payment, tx) = w.finish(&sandbox, |ctx, change| {
        build_issuance(ctx, &utxos, &request, change)
    });
    let issuance = payment.issuance.clone().unwrap();
    assert!(issuance.confidential);
    // The chain sees commitments with rangeproofs, never the amounts.
    let field = &tx.input[0].asset_issuance;
    assert!(field.amount.is_confidential() && field.inflation_keys.is_confidential());
    assert!(!tx.input[0].witness.amount_rangeproof.is_empty());
    assert!(!tx.input[0].witness.inflation_keys_rangeproof.is_empty());
    let (asset, token) = tx.input[0].issuance_ids();
    assert_eq!(asset, issuance.asset);
    assert_eq!(token, issuance.token);
    assert_eq!(
        token,
        AssetId::reissuance_token_from_entropy(issuance.entropy, true),
        "the confidential-issuance token id"
    );
    assert_eq!(payment.net[&asset], 7_000);
    assert_eq!(payment.net[&token], 3);
    assert_eq!(payment.net[&policy], -(payment.fee as i64));
    let required = FeeRate::MIN
        .fee_for_vsize(tx.discount_vsize() as u64)
        .unwrap();
    assert!(
        payment.fee >= required,
        "fee {} below {required} for discount vsize {}",
        payment.fee,
        tx.discount_vsize()
    );
    // An upper bound, but a tight one.
    assert!(
        payment.fee <= required + 2,
        "fee {} for {required}",
        payment.fee
    );
    // The wallet's blinding key of the spent coin's script reads the amounts back; another
    // key does not.
    let key = blinding_private_key(&w.descriptor, &coins[0].txout.script_pubkey).unwrap();
    assert_eq!(
        read_issued_amounts(&tx.input[0], &key),
        (Some(7_000), Some(3))
    );
    let stranger = elements::secp256k1_zkp::SecretKey::from_slice(&[9; 32]).unwrap();
    assert_eq!(read_issued_amounts(&tx.input[0], &stranger), (None, None));
    sandbox.broadcast(tx.clone()).unwrap();
    sandbox.mine(1).unwrap();
    let view = asset_view(&sandbox, &asset);
    assert_eq!(view["chain_stats"]["has_blinded_issuances"], true);
    coins = unspent(&coins, &tx);
    coins.extend(w.coins_of(&tx));
    let held = |coins: &[Spendable], id: AssetId| -> u64 {
        coins
            .iter()
            .filter(|c| c.secrets.asset == id)
            .map(|c| c.secrets.value)
            .sum()
    };
    assert_eq!((held(&coins, asset), held(&coins, token)), (7_000, 3));

    // Reissue 500, blinded too, with the confidential-issuance token.
    let request = ReissueRequest {
        entropy: issuance.entropy,
        amount: 500,
        asset_address: w.addr(Keychain::External, 3),
        confidential: true,
        fee_rate: FeeRate::MIN,
    };
    let utxos = coins.clone();
    let (payment, tx) = w.finish(&sandbox, |ctx, change| {
        build_reissuance(ctx, &utxos, &request, change)
    });
    assert_eq!(payment.net[&asset], 500);
    assert!(tx.input[0].asset_issuance.amount.is_confidential());
    let token_coin = coins
        .iter()
        .find(|c| c.outpoint == tx.input[0].previous_output)
        .unwrap();
    let key = blinding_private_key(&w.descriptor, &token_coin.txout.script_pubkey).unwrap();
    assert_eq!(
        read_issued_amounts(&tx.input[0], &key),
        (Some(500), Some(0))
    );
    let required = FeeRate::MIN
        .fee_for_vsize(tx.discount_vsize() as u64)
        .unwrap();
    assert!(
        payment.fee >= required && payment.fee <= required + 2,
        "fee {} for {required}",
        payment.fee
    );
    sandbox.broadcast(tx.clone()).unwrap();
    sandbox.mine(1).unwrap();
    coins = unspent(&coins, &tx);
    coins.extend(w.coins_of(&tx));
    assert_eq!((held(&coins, asset), held(&coins, token)), (7_500, 3));
}
