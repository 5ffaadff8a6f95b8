//! Reorganisations: the last blocks are replaced by a longer branch, their transactions
//! vanish or return to the mempool, and every view (Esplora included) follows.

use regtest::{control, Error, Sandbox, SandboxConfig};

fn sandbox() -> Sandbox {
    Sandbox::start(SandboxConfig {
        fixed_clock: Some(1_700_000_000),
        ..SandboxConfig::default()
    })
    .unwrap()
}

#[test]
fn a_reorg_drops_the_orphaned_transactions() {
    let sb = sandbox();
    sb.mine(2).unwrap();
    let addr = crate::common::p2wpkh(7, true);
    let txid = sb.faucet(&addr, 1_000_000, None).unwrap();
    let orphaned = sb.mine(1).unwrap();
    assert_eq!(sb.tip_height(), 3);
    let sh = crate::common::esplora_sh(&addr);
    let (_, body) = control::request(
        &sb.esplora_url(),
        "GET",
        &format!("/scripthash/{sh}/txs"),
        None,
    )
    .unwrap();
    assert!(body.contains(&txid.to_string()));

    let fresh = sb.reorg(1, false).unwrap();
    assert_eq!(fresh.len(), 2);
    assert_ne!(fresh[0], orphaned[0], "the block at height 3 was replaced");
    assert_eq!(sb.tip_height(), 4);
    assert!(sb.get_tx(&txid).is_none(), "the orphaned payment is gone");
    let (_, body) = control::request(
        &sb.esplora_url(),
        "GET",
        &format!("/scripthash/{sh}/txs"),
        None,
    )
    .unwrap();
    assert_eq!(body, "[]");
    let (_, status) = control::request(
        &sb.esplora_url(),
        "GET",
        &format!("/block/{}/status", orphaned[0]),
        None,
    )
    .unwrap();
    assert!(status.contains("\"in_best_chain\":false"), "{status}");
}

#[test]
fn a_reorg_can_return_transactions_to_the_mempool() {
    let sb = sandbox();
    sb.mine(2).unwrap();
    let addr = crate::common::p2wpkh(8, false);
    let txid = sb.faucet(&addr, 2_000_000, None).unwrap();
    sb.mine(1).unwrap();
    control::reorg(&sb.esplora_url(), 1, true).unwrap();
    // Back in the mempool, then mined again in the first block of the new branch.
    let (_, body) = control::request(
        &sb.esplora_url(),
        "GET",
        &format!("/tx/{txid}/status"),
        None,
    )
    .unwrap();
    assert!(body.contains("\"confirmed\":true"), "{body}");
    assert_eq!(sb.tip_height(), 4);
}

#[test]
fn reorg_depth_is_checked() {
    let sb = sandbox();
    sb.mine(1).unwrap();
    assert_eq!(sb.tip_height(), 1);
    // Block 1 alone cannot be replaced: the genesis block is never replaced.
    let too_short =
        "the chain is too short to reorganise (the tip is at 1): mine a block or more first";
    let r = sb.reorg(1, false);
    assert!(
        matches!(&r, Err(Error::InvalidArgument(m)) if m == too_short),
        "{r:?}"
    );
    sb.mine(2).unwrap();
    let tip = sb.tip_height();
    assert_eq!(tip, 3);
    let out_of_range = "a reorganisation depth must be 1 to 2 (the tip is at 3)";
    for depth in [0, 3, 5] {
        let r = sb.reorg(depth, false);
        assert!(
            matches!(&r, Err(Error::InvalidArgument(m)) if m == out_of_range),
            "depth {depth}: {r:?}"
        );
    }
    // Over HTTP the sandbox's refusal comes back as the same error, with the same words.
    let err = control::reorg(&sb.esplora_url(), 5, false).unwrap_err();
    assert!(
        matches!(&err, Error::InvalidArgument(m) if m == out_of_range),
        "{err:?}"
    );
    assert_eq!(
        sb.tip_height(),
        3,
        "a refused reorganisation changes nothing"
    );
}
