//! Issuance, reissuance and burns built by wallet-core and judged by the embedded regtest
//! chain, whose asset index (electrs' `/asset/:id`) computes ids and supply on its own.

use crate::common::test_wallet::{assert_fee_covers, sandbox, TestWallet, COIN};

use elements::{Address, AssetId, ContractHash, Transaction, Txid};
use regtest::Sandbox;
use serde_json::Value;
use wallet_core::descriptor::{Keychain, ScriptKind};
use wallet_core::network::Network;
use wallet_core::tx::{
    build_burn, build_issuance, build_reissuance, contract_hash_from_json, issuance_ids,
    read_issued_amounts, BurnRequest, FeeRate, IssueRequest, OutputRole, ReissueRequest, Spendable,
    WalletContext,
};
use wallet_core::unblind::blinding_private_key;
use wallet_core::Error;

/// A sandbox and the "abandon" wallet holding one confirmed coin of 1 L-BTC at external/0.
fn funded() -> (Sandbox, TestWallet, Vec<Spendable>) {
    let sandbox = sandbox();
    let w = TestWallet::new(crate::common::ABANDON, ScriptKind::Wpkh);
    let funding = w.address(Keychain::External, 0);
    let txid: Txid = sandbox.faucet(&funding, COIN, None).unwrap();
    sandbox.mine(1).unwrap();
    let coins = w.coins_of(&sandbox.get_tx(&txid).unwrap());
    (sandbox, w, coins)
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
    let (sandbox, mut w, mut coins) = funded();
    let policy = sandbox.policy_asset();
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
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_issuance(ctx, &utxos, &request, change)
        })
        .unwrap();
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
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_reissuance(ctx, &utxos, &request, change)
        })
        .unwrap();
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
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_burn(ctx, &utxos, &request, change)
        })
        .unwrap();
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
    let r = build_issuance(&ctx, &coins, &over, &mut change).map(|_| ());
    assert!(
        matches!(&r, Err(Error::InvalidAmount(m)) if *m == format!(
            "{}: the amount is above the most one issuance may create ({} base units, ELIP-203)",
            wallet_core::tx::MAX_MONEY + 1,
            wallet_core::tx::MAX_MONEY
        )),
        "{r:?}"
    );
}

/// A confidential issuance: amounts blinded with rangeproofs the strict sandbox verifies, the
/// balance holding with the issued amounts as inputs, the fee covering the larger size, the
/// confidential-issuance token id, and a reissuance spending that token.
#[test]
fn a_confidential_issuance_is_accepted_and_can_be_reissued() {
    let (sandbox, mut w, mut coins) = funded();
    let policy = sandbox.policy_asset();

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
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_issuance(ctx, &utxos, &request, change)
        })
        .unwrap();
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
    assert_fee_covers(&payment, &tx);
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
    let (payment, tx) = w
        .build_signed(&sandbox, |ctx, change| {
            build_reissuance(ctx, &utxos, &request, change)
        })
        .unwrap();
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
    assert_fee_covers(&payment, &tx);
    sandbox.broadcast(tx.clone()).unwrap();
    sandbox.mine(1).unwrap();
    coins = unspent(&coins, &tx);
    coins.extend(w.coins_of(&tx));
    assert_eq!((held(&coins, asset), held(&coins, token)), (7_500, 3));
}

/// Elements derives the token a reissuance spends from the entropy and from whether the
/// reissued amount is blinded, so the token of an explicit issuance reissues explicit amounts
/// only and the token of a confidential issuance blinded ones only; elementsd refuses the
/// other two (`bad-txns-in-ne-out`), and so does the sandbox. The wallet refuses to build them,
/// saying why, and builds the two that work. An issuance of tokens only leaves its (zero)
/// amount null, unblinded, even when confidential: its token is the explicit kind.
#[test]
fn a_reissuance_is_blinded_exactly_when_its_issuance_was() {
    for (amount, confidential) in [(1_000, false), (1_000, true), (0, true)] {
        let issued_confidential = confidential && amount > 0;
        let (sandbox, mut w, mut coins) = funded();
        let request = IssueRequest {
            amount,
            token_amount: 1,
            contract_hash: None,
            asset_address: w.addr(Keychain::External, 1),
            token_address: w.addr(Keychain::External, 2),
            confidential,
            fee_rate: FeeRate::MIN,
        };
        let utxos = coins.clone();
        let (payment, tx) = w
            .build_signed(&sandbox, |ctx, change| {
                build_issuance(ctx, &utxos, &request, change)
            })
            .unwrap();
        let issuance = payment.issuance.clone().unwrap();
        assert_eq!(
            issuance.token,
            AssetId::reissuance_token_from_entropy(issuance.entropy, issued_confidential)
        );
        sandbox.broadcast(tx.clone()).unwrap();
        sandbox.mine(1).unwrap();
        coins = unspent(&coins, &tx);
        coins.extend(w.coins_of(&tx));

        let reissue = |w: &mut TestWallet, confidential: bool| {
            let request = ReissueRequest {
                entropy: issuance.entropy,
                amount: 5,
                asset_address: w.addr(Keychain::External, 3),
                confidential,
                fee_rate: FeeRate::MIN,
            };
            let utxos = coins.clone();
            w.build_signed(&sandbox, |ctx, change| {
                build_reissuance(ctx, &utxos, &request, change)
            })
        };
        let e = reissue(&mut w, !issued_confidential).unwrap_err();
        let must = if issued_confidential {
            "only blinded (confidential) reissuances"
        } else {
            "only explicit (not confidential) reissuances"
        };
        assert!(
            matches!(&e, Error::Transaction(m) if m.contains(must) && m.contains(&issuance.asset.to_string())),
            "{e}"
        );
        let (payment, tx) = reissue(&mut w, issued_confidential).unwrap();
        assert_eq!(payment.net[&issuance.asset], 5);
        assert_eq!(
            tx.input[0].asset_issuance.amount.is_confidential(),
            issued_confidential
        );
        sandbox.broadcast(tx).unwrap();
    }
}
