//! DvP offers through the built binary: maker and taker in separate data folders, on the
//! embedded chain, the envelope passed through pipes and files.

use crate::common::desks::{deal_id, Desks};
use serde_json::Value;

#[test]
fn create_accept_settle_through_pipes() {
    let d = Desks::start(false);
    let created = d.create(&[]).ok();
    // Human mode: the envelope alone on stdout, one line.
    let envelope = created.stdout.trim().to_string();
    assert_eq!(envelope.lines().count(), 1);
    let offer: Value = serde_json::from_str(&envelope).unwrap();
    assert_eq!(offer["stage"], "proposed");
    assert_eq!(offer["terms"]["maker_gives"]["amount"], 150_000_000u64);
    assert_eq!(offer["terms"]["maker_receives"]["asset"], d.jpy);
    let deal_id = offer["deal_id"].as_str().unwrap().to_string();

    let accepted = d.accept(&envelope, &[]).ok();
    let accepted_envelope = accepted.stdout.trim().to_string();
    let doc: Value = serde_json::from_str(&accepted_envelope).unwrap();
    assert_eq!(doc["stage"], "accepted");
    assert_eq!(doc["deal_id"], deal_id.as_str());
    // The maker reads its own outputs' amounts, and the taker's receiving one (the terms),
    // but no field says what the taker's change holds.
    let pset: elements::pset::PartiallySignedTransaction =
        doc["pset"].as_str().unwrap().parse().unwrap();
    let outputs = pset.outputs();
    assert_eq!(outputs[2].amount, Some(150_000_000));
    let change: Vec<_> = outputs[3..outputs.len() - 1].iter().collect();
    assert!(!change.is_empty());
    assert!(change
        .iter()
        .all(|o| o.amount.is_none() && o.asset.is_none() && o.amount_comm.is_some()));

    let settled = d.settle(&accepted_envelope, &[]).ok();
    let txid = settled.stdout.trim().to_string();
    assert_eq!(txid.len(), 64);
    d.node.mine(1).unwrap();

    // Each side unblinds what it received.
    assert_eq!(d.balance(true, &d.jpy), 15_000_000);
    assert_eq!(d.balance(false, &d.jpy), 15_000_000);
    let taker_lbtc = d.balance(false, &d.policy);
    assert!(taker_lbtc > 150_000_000 + 1_000_000 - 1_000, "{taker_lbtc}");
    assert_eq!(d.balance(true, &d.policy), 100_000_000);

    // The taker blinded every output and kept the secrets of the one it paid the maker (the
    // JPY leg, not the maker's change): its `tx show` says what it paid.
    let shown = d
        .run(false, &["--json", "tx", "show", &txid], None)
        .ok()
        .json();
    let paid: Vec<&serde_json::Value> = shown["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["paid_by_wallet"] == true)
        .collect();
    assert_eq!(paid.len(), 1, "{shown}");
    assert_eq!(paid[0]["value"], 15_000_000);
    assert_eq!(paid[0]["asset"], d.jpy.as_str());
}

#[test]
fn asset_against_asset_maker_pays_over_electrum_through_files() {
    let d = Desks::start(true);
    // The maker gives 400,000 CAD for 2,000,000 JPY and pays the fee, fixed in the offer.
    let offer_file = d.maker.path("offer.json");
    let give = format!("400000:{}", d.cad);
    let want = format!("2000000:{}", d.jpy);
    let created = d
        .run(
            true,
            &[
                "--json",
                "offer",
                "create",
                "--give",
                &give,
                "--want",
                &want,
                "--fee-payer",
                "maker",
                "--fee-rate",
                "0.1",
                "--expires",
                "30m",
                "--counterparty",
                "Desk B",
                "--memo",
                "ref 42",
                "-o",
                offer_file.to_str().unwrap(),
            ],
            None,
        )
        .ok()
        .json();
    let id = created["deal_id"].as_str().unwrap().to_string();
    assert_eq!(created["stage"], "proposed");
    assert_eq!(created["terms"]["fee_payer"], "maker");
    let fee = created["terms"]["fee"].as_u64().unwrap();
    assert!(fee > 0, "{created}");
    assert_eq!(
        created["reserved"].as_array().unwrap().len(),
        2,
        "{created}"
    );
    assert_eq!(created["envelope_file"], offer_file.to_str().unwrap());
    let envelope = std::fs::read_to_string(&offer_file).unwrap();

    // The taker's view of it (as of its last sync), then the acceptance written to a file.
    d.run(false, &["sync"], None).ok();
    let inspected = d
        .run(
            false,
            &["--json", "offer", "inspect", offer_file.to_str().unwrap()],
            None,
        )
        .ok()
        .json();
    assert_eq!(inspected["passes"], true, "{inspected}");
    assert_eq!(inspected["wallet"]["role"], "taker");
    assert_eq!(inspected["wallet"]["terms_net"][&d.cad], 400_000);
    assert_eq!(inspected["wallet"]["terms_net"][&d.jpy], -2_000_000);
    let accepted_file = d.taker.path("accepted.json");
    let pass = d.taker.pass();
    let accepted = d
        .run(
            false,
            &[
                "--json",
                "--yes",
                "offer",
                "accept",
                offer_file.to_str().unwrap(),
                "-o",
                accepted_file.to_str().unwrap(),
                "--counterparty",
                "Exchange A",
                "--passphrase-file",
                &pass,
            ],
            Some(&envelope),
        )
        .ok()
        .json();
    assert_eq!(accepted["fee"], fee);
    assert_eq!(accepted["net"][&d.cad], 400_000);
    assert_eq!(accepted["net"][&d.jpy], -2_000_000);
    assert!(accepted["net"].get(&d.policy).is_none(), "{accepted}");
    let txid = accepted["txid"].as_str().unwrap().to_string();

    // The maker inspects the acceptance: every check of the settlement passes.
    let inspected = d
        .run(
            true,
            &[
                "--json",
                "offer",
                "inspect",
                accepted_file.to_str().unwrap(),
            ],
            None,
        )
        .ok()
        .json();
    assert_eq!(inspected["passes"], true, "{inspected}");
    assert_eq!(inspected["wallet"]["role"], "maker");
    assert_eq!(inspected["wallet"]["net"][&d.policy], -(fee as i64));
    let pass = d.maker.pass();
    let settled = d
        .run(
            true,
            &[
                "--json",
                "--yes",
                "offer",
                "settle",
                accepted_file.to_str().unwrap(),
                "--passphrase-file",
                &pass,
            ],
            None,
        )
        .ok()
        .json();
    assert_eq!(settled["txid"], txid.as_str());
    assert_eq!(settled["status"], "broadcast");
    assert_eq!(settled["already_settled"], false);
    d.node.mine(1).unwrap();
    assert_eq!(d.balance(true, &d.jpy), 2_000_000);
    assert_eq!(d.balance(true, &d.cad), 600_000);
    assert_eq!(d.balance(true, &d.policy), 250_000_000 - fee);
    assert_eq!(d.balance(false, &d.cad), 1_400_000);
    assert_eq!(d.balance(false, &d.jpy), 28_000_000);
    assert_eq!(d.balance(false, &d.policy), 1_000_000);

    // Both ledgers: confirmed, with the counterparty each side named.
    let maker = d.deal(true, &id);
    assert_eq!(maker["status"], "confirmed");
    assert_eq!(maker["counterparty"], "Desk B");
    assert_eq!(maker["memo"], "ref 42");
    assert_eq!(maker["confirmations"], 1);
    assert_eq!(maker["fee_paid"], fee);
    let taker = d.deal(false, &id);
    assert_eq!(taker["status"], "confirmed");
    assert_eq!(taker["counterparty"], "Exchange A");
    assert_eq!(taker["sent"]["asset"], d.jpy.as_str());
    assert_eq!(taker["received"]["amount"], 400_000);
    assert_eq!(taker["fee_paid"], 0);
    let events: Vec<&str> = maker["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["proposed", "accepted", "signed", "broadcast", "confirmed"]
    );
    assert!(d.reserved(true).is_empty());
    assert!(d.reserved(false).is_empty());
}

#[test]
fn ledgers_export_and_watch_after_settlement() {
    let d = Desks::start(false);
    let proposed = d.proposed(&["--counterparty", "Desk, \"B\"", "--memo", "=HYPERLINK(1)"]);
    let id = crate::common::desks::deal_id(&proposed);
    let accepted = d.accepted(&proposed);
    // Before it settles the taker is exposed, and its ledger says so.
    let shown = d.run(false, &["deal", "show", &id[..10]], None).ok();
    assert!(shown.stdout.contains("exposed"), "{}", shown.stdout);
    assert!(shown.stdout.contains("accepted"), "{}", shown.stdout);
    d.settle(&accepted, &[]).ok();
    d.node.mine(1).unwrap();
    // `deal watch` syncs and stops once the deal is confirmed (JSON Lines).
    let watched = d
        .run(
            false,
            &["--json", "deal", "watch", &id, "--interval", "1"],
            None,
        )
        .ok();
    let lines: Vec<Value> = watched
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last = lines.last().unwrap();
    assert_eq!(last["type"], "deal");
    assert_eq!(last["status"], "confirmed");
    assert_eq!(last["height"], 2);
    assert!(lines
        .iter()
        .all(|l| l["type"] == "progress" || l["type"] == "deal"));

    d.run(true, &["sync"], None).ok();
    let csv = d
        .run(true, &["deal", "export", "--format", "csv"], None)
        .ok()
        .stdout;
    let mut rows = csv.lines();
    assert_eq!(
        rows.next().unwrap(),
        "deal_id,role,status,created_at,expires_at,updated_at,counterparty,memo,sent_asset,\
         sent_amount,received_asset,received_amount,fee_payer,fee,fee_paid,txid,height,\
         confirmations,cancel_txid,exposed"
    );
    let row = rows.next().unwrap();
    assert!(row.starts_with(&format!("{id},maker,confirmed,")), "{row}");
    assert!(
        row.contains(",\"Desk, \"\"B\"\"\",'=HYPERLINK(1),"),
        "{row}"
    );
    assert!(
        row.contains(&format!(
            ",{},150000000,{},15000000,taker,",
            d.policy, d.jpy
        )),
        "{row}"
    );
    assert!(rows.next().is_none());
    let json = d
        .run(true, &["deal", "export", "--format", "json"], None)
        .ok()
        .json();
    assert_eq!(json[0]["deal_id"], id.as_str());
    assert_eq!(json[0]["sent_amount"], 150_000_000);
    assert_eq!(json[0]["height"], 2);
    assert_eq!(json[0]["exposed"], false);
    // JSON has the CSV's columns, with the same values.
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let mut keys: Vec<&str> = json[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut sorted = header.clone();
    keys.sort_unstable();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    assert_eq!(
        json[0]["created_at"].as_str().unwrap(),
        csv.lines().nth(1).unwrap().split(',').nth(3).unwrap()
    );
    // The man page and the README list exactly the printed columns, in order.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let man = std::fs::read_to_string(root.join("man/liquid-otc-deal-export.1")).unwrap();
    let listed: Vec<&str> = man
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(listed, header);
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let start = readme.find("`deal export` columns (stable").unwrap();
    let list = &readme[start..];
    let list = &list[list.find(": `").unwrap() + 3..];
    let list = &list[..list.find('`').unwrap()];
    let readme_columns: Vec<String> = list
        .split(',')
        .map(|c| c.split_whitespace().collect::<String>())
        .collect();
    assert_eq!(readme_columns, header);
    // --since after today: nothing; --status filters.
    let none = d
        .run(
            true,
            &["--json", "deal", "list", "--since", "2999-01-01"],
            None,
        )
        .ok()
        .json();
    assert!(none.as_array().unwrap().is_empty());
    let confirmed = d
        .run(
            true,
            &["--json", "deal", "list", "--status", "confirmed"],
            None,
        )
        .ok()
        .json();
    assert_eq!(confirmed.as_array().unwrap().len(), 1);
    d.run(true, &["deal", "list", "--status", "done"], None)
        .fails(
            2,
            "error: invalid value 'done' for '--status <STATUS>': 'done' is not a deal status",
        );
    d.run(true, &["deal", "list", "--since", "yesterday"], None)
        .fails(
            2,
            "invalid value 'yesterday' for '--since <DATE>': 'yesterday' is not a date",
        );
    let listed = d.run(false, &["deal", "list"], None).ok().stdout;
    assert!(
        listed.contains("confirmed") && listed.contains(&id[..12]),
        "{listed}"
    );
}

#[test]
fn a_crash_between_record_and_broadcast_is_sent_again_never_signed_twice() {
    let d = Desks::start(false);
    for by_show in [false, true] {
        let proposed = d.proposed(&[]);
        let id = crate::common::desks::deal_id(&proposed);
        let accepted = d.accepted(&proposed);
        let pass = d.maker.pass();
        let crashed = d.run_env(
            true,
            &["--yes", "offer", "settle", "-", "--passphrase-file", &pass],
            Some(&accepted),
            &[("LIQUID_OTC_FAULT", "commit.after_record")],
        );
        crashed.aborted("offer settle at commit.after_record");
        let txid = crate::common::desks::txid_of(&accepted);
        assert!(d.node.get_tx(&txid).is_none());
        // Recorded, signed, not sent.
        // The list is newest first, by the second: the first round's deal, made in the same
        // second, may come first. Look this deal up by its id.
        let listed = d.run(true, &["--json", "deal", "list"], None).ok().json();
        let this: Vec<&Value> = listed
            .as_array()
            .unwrap()
            .iter()
            .filter(|deal| deal["deal_id"] == id.as_str())
            .collect();
        assert_eq!(this.len(), 1, "{listed}");
        assert_eq!(this[0]["status"], "signed", "{listed}");
        assert_eq!(d.pending(true).len(), 1);
        if by_show {
            let shown = d
                .run(true, &["--json", "deal", "show", &id], None)
                .ok()
                .json();
            assert_eq!(shown["status"], "broadcast");
        } else {
            let again = d.settle(&accepted, &["--json"]).ok().json();
            assert_eq!(again["txid"], txid.to_string());
            assert_eq!(again["already_settled"], true);
        }
        assert!(d.node.get_tx(&txid).is_some());
        // Once more: nothing to do; no other transaction was ever recorded.
        let again = d.settle(&accepted, &["--json"]).ok().json();
        assert_eq!(again["txid"], txid.to_string());
        assert!(d
            .pending(true)
            .iter()
            .all(|p| p["txid"] == txid.to_string()));
        d.node.mine(1).unwrap();
        d.run(true, &["sync"], None).ok();
        assert_eq!(d.deal(true, &id)["status"], "confirmed");
        assert!(d.pending(true).is_empty());
        // The taker got its coins back for the next round.
        d.run(false, &["sync"], None).ok();
        // Fund the maker again for the second round.
        let to = d.address(true);
        d.node
            .faucet(&to.parse().unwrap(), 200_000_000, None)
            .unwrap();
        let to = d.address(false);
        d.node
            .faucet(
                &to.parse().unwrap(),
                20_000_000,
                Some(d.jpy.parse().unwrap()),
            )
            .unwrap();
        d.node.mine(1).unwrap();
    }
}

#[test]
fn the_taker_cancels_by_spending_a_coin_and_the_deal_can_never_settle() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let id = crate::common::desks::deal_id(&proposed);
    let accepted = d.accepted(&proposed);
    let cancelled = d.cancel(false, &id).ok().json();
    assert_eq!(cancelled["status"], "cancelling");
    assert_eq!(cancelled["onchain"], true);
    let cancel_txid = cancelled["cancel_txid"].as_str().unwrap().to_string();
    let shown = d.deal(false, &id);
    assert_eq!(shown["status"], "cancelling");
    assert_eq!(shown["exposed"], true);
    assert_eq!(shown["cancel_txid"], cancel_txid.as_str());
    // Cancelling again changes nothing.
    assert_eq!(
        d.cancel(false, &id).ok().json()["cancel_txid"],
        cancel_txid.as_str()
    );
    // The maker's settlement conflicts with the cancel: refused by the chain, recorded failed.
    d.settle(&accepted, &["--json"])
        .fails_json(1, "broadcast_rejected", "txn-mempool-conflict")
        .fails_json(
            1,
            "broadcast_rejected",
            "is recorded as failed and does not count",
        );
    assert_eq!(d.deal(true, &id)["status"], "failed");
    d.node.mine(1).unwrap();
    d.run(false, &["sync"], None).ok();
    let shown = d.deal(false, &id);
    assert_eq!(shown["status"], "cancelled");
    assert_eq!(shown["exposed"], false);
    assert!(d.reserved(false).is_empty());
    assert!(d.reserved(true).is_empty());
    // Nothing moved but the cancel's fee.
    assert_eq!(d.balance(false, &d.jpy), 30_000_000);
}

#[test]
fn the_maker_cancels_before_signing_and_settle_refuses_the_deal() {
    let d = Desks::start(false);
    let proposed = d.proposed(&[]);
    let id = crate::common::desks::deal_id(&proposed);
    let accepted = d.accepted(&proposed);
    assert_eq!(d.reserved(true).len(), 1);
    let cancelled = d.cancel(true, &id).ok().json();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["onchain"], false);
    assert!(cancelled["cancel_txid"].is_null());
    assert!(d.reserved(true).is_empty());
    d.settle(&accepted, &["--json"]).fails_json(
        3,
        "deal_closed",
        "is cancelled: it can no longer settle",
    );
    // The taker is still exposed (it cannot know the maker's ledger) and cancels on chain.
    assert_eq!(d.deal(false, &id)["exposed"], true);
    assert_eq!(d.cancel(false, &id).ok().json()["status"], "cancelling");
}

#[test]
fn deal_expire_closes_what_is_past_its_expiry() {
    let d = Desks::start(false);
    let proposed = d.proposed(&["--expires", "30m"]);
    let id = crate::common::desks::deal_id(&proposed);
    let accepted = d.accepted(&proposed);
    let later = [("LIQUID_OTC_CLOCK_OFFSET", "3600")];
    // Nothing is due yet.
    let none = d
        .run(false, &["--json", "deal", "expire", "--dry-run"], None)
        .ok()
        .json();
    assert!(none["deals"].as_array().unwrap().is_empty());
    let due = d.run_env(
        false,
        &["--json", "deal", "expire", "--dry-run"],
        None,
        &later,
    );
    let due = due.ok().json();
    assert_eq!(due["dry_run"], true);
    assert_eq!(due["deals"][0]["deal_id"], id.as_str());
    assert_eq!(due["deals"][0]["onchain"], true);
    assert_eq!(d.deal(false, &id)["status"], "accepted");
    let pass = d.taker.pass();
    let expired = d
        .run_env(
            false,
            &[
                "--json",
                "--yes",
                "deal",
                "expire",
                "--passphrase-file",
                &pass,
            ],
            None,
            &later,
        )
        .ok()
        .json();
    assert_eq!(expired["deals"][0]["status"], "cancelling");
    // The maker's offer: nothing of its own is signed, so the ledger alone closes it.
    let expired = d
        .run_env(true, &["--json", "--yes", "deal", "expire"], None, &later)
        .ok()
        .json();
    assert_eq!(expired["deals"][0]["status"], "expired");
    assert_eq!(expired["deals"][0]["onchain"], false);
    assert!(d.reserved(true).is_empty());
    d.settle(&accepted, &["--json"]).fails_json(
        3,
        "deal_closed",
        "is expired: it can no longer settle",
    );
    d.node.mine(1).unwrap();
    d.run(false, &["sync"], None).ok();
    assert_eq!(d.deal(false, &id)["status"], "expired");
    assert!(d.reserved(false).is_empty());
}

#[test]
fn offers_never_share_a_coin() {
    let d = Desks::start(false);
    // Two coins of L-BTC (2 and 0.5): the first offer takes the larger, the second the
    // other, a third finds nothing unreserved.
    let first = d.proposed(&[]);
    let want = format!("1000:{}", d.jpy);
    let second = d
        .run(
            true,
            &["offer", "create", "--give", "0.4:L-BTC", "--want", &want],
            None,
        )
        .ok()
        .stdout;
    let third = d.run(
        true,
        &[
            "--json",
            "offer",
            "create",
            "--give",
            "0.4:L-BTC",
            "--want",
            &want,
        ],
        None,
    );
    third.fails_json(
        5,
        "insufficient_funds",
        "insufficient funds: 0.4 L-BTC needed, 0.0 L-BTC available",
    );
    let reserved = d.reserved(true);
    assert_eq!(reserved.len(), 2);
    assert_ne!(reserved[0].1, reserved[1].1);
    let inputs = |env: &str| -> Vec<String> {
        let doc: Value = serde_json::from_str(env.trim()).unwrap();
        doc["maker_inputs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["outpoint"].as_str().unwrap().to_string())
            .collect()
    };
    let (a, b) = (inputs(&first), inputs(&second));
    assert!(a.iter().all(|o| !b.contains(o)));
    // A payment cannot take a reserved coin either: only 0.0 L-BTC is free.
    let to = d.address(false);
    let pass = d.maker.pass();
    let send = d.run(
        true,
        &[
            "--yes",
            "send",
            "--to",
            &format!("{to}:0.2"),
            "--passphrase-file",
            &pass,
        ],
        None,
    );
    send.fails(
        5,
        "insufficient funds: 0.2 L-BTC needed, 0.0 L-BTC available",
    );
    // Two offers made at the same moment never share a coin (one may find the wallet busy).
    d.cancel(true, &crate::common::desks::deal_id(&first)).ok();
    d.cancel(true, &crate::common::desks::deal_id(&second)).ok();
    let spawn = || {
        let (sb, wallet) = (&d.maker, "exchange");
        let mut args = vec!["--network", "regtest"];
        args.extend(d.server.iter().map(String::as_str));
        args.extend_from_slice(&[
            "--wallet",
            wallet,
            "offer",
            "create",
            "--give",
            "0.3:L-BTC",
            "--want",
            &want,
        ]);
        sb.command(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (spawn(), spawn());
    let outs = [
        one.wait_with_output().unwrap(),
        two.wait_with_output().unwrap(),
    ];
    let made: Vec<Vec<String>> = outs
        .iter()
        .filter(|o| o.status.success())
        .map(|o| inputs(&String::from_utf8_lossy(&o.stdout)))
        .collect();
    assert!(!made.is_empty());
    // Both may succeed (one after the other), or one finds the wallet busy: that is the
    // only failure allowed, with its exit code and words.
    for o in outs.iter().filter(|o| !o.status.success()) {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{err}");
        assert!(
            err.contains(
                "error: wallet 'exchange' is busy: another liquid-otc command is building, \
                 signing or broadcasting with it"
            ),
            "{err}"
        );
    }
    if made.len() == 2 {
        assert!(made[0].iter().all(|o| !made[1].contains(o)));
    }
}

#[test]
fn offer_inspect_with_and_without_a_wallet() {
    let d = Desks::start(false);
    let proposed = d.proposed(&["--memo", "for Desk B"]);
    // Anyone: a data folder with no wallet.
    let stranger = crate::common::Sandbox::new();
    let doc = stranger
        .run_with_stdin(
            &["--network", "regtest", "--json", "offer", "inspect", "-"],
            Some(&proposed),
        )
        .ok()
        .json();
    assert_eq!(doc["stage"], "proposed");
    assert_eq!(doc["wallet"], Value::Null);
    assert_eq!(doc["passes"], true, "{doc}");
    assert_eq!(doc["memo"], "for Desk B");
    assert_eq!(doc["maker"]["inputs"][0]["value"], 200_000_000);
    let checks: Vec<&str> = doc["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    assert_eq!(checks, ["terms", "expiry", "times", "final", "maker_part"]);
    let text = stranger
        .run_with_stdin(
            &["--network", "regtest", "offer", "inspect", "-"],
            Some(&proposed),
        )
        .ok();
    assert!(text.stdout.contains("maker gives"), "{}", text.stdout);
    assert!(text.stderr.contains("no wallet chosen"), "{}", text.stderr);
    // A changed envelope fails its checks (inspect reports; it does not refuse).
    let changed = crate::common::desks::edit(&proposed, |doc, _| {
        doc["terms"]["maker_gives"]["amount"] = serde_json::json!(160_000_000)
    });
    let doc = stranger
        .run_with_stdin(
            &["--network", "regtest", "--json", "offer", "inspect", "-"],
            Some(&changed),
        )
        .ok()
        .json();
    assert_eq!(doc["passes"], false);
    assert_eq!(doc["checks"][4]["code"], "terms_mismatch");
    // The taker's wallet: what it would give and get, and that it holds enough.
    d.run(false, &["sync"], None).ok();
    let doc = d
        .run(false, &["--json", "offer", "inspect", "-"], Some(&proposed))
        .ok()
        .json();
    assert_eq!(doc["wallet"]["name"], "desk");
    assert_eq!(doc["wallet"]["terms_net"][&d.policy], 150_000_000);
    assert_eq!(doc["passes"], true, "{doc}");
    // Its part built as a dry run: the net effect it would verify, the fee its own.
    let last = doc["checks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["check"], "acceptance");
    let net = doc["wallet"]["net"][&d.policy].as_i64().unwrap();
    assert!(net < 150_000_000 && net > 149_999_000, "{doc}");
    assert_eq!(doc["wallet"]["net"][&d.jpy], -15_000_000);
    // It reserved and recorded nothing.
    assert!(d.deals(false).is_empty());
    assert!(d.reserved(false).is_empty());
}

#[test]
fn demo_is_the_dvp_walk_through_in_one_json_document() {
    let sb = crate::common::Sandbox::new();
    let doc = sb.run(&["--json", "demo"]).ok().json();
    let steps = doc["steps"].as_array().unwrap();
    assert!(steps.len() >= 8, "{doc}");
    assert!(doc["wall_ms"].as_u64().unwrap() > 0);
    let find = |key: &str| {
        steps
            .iter()
            .find(|s| !s["data"][key].is_null())
            .unwrap_or_else(|| panic!("no step with {key}: {doc}"))["data"]
            .clone()
    };
    let offer = find("envelope_bytes");
    assert!(offer["deal_id"].as_str().unwrap().len() == 32);
    let accepted = find("fee");
    let fee = accepted["fee"].as_u64().unwrap();
    assert!(fee > 0 && fee < 1_000, "{fee}");
    let refused = find("code");
    assert_eq!(refused["code"], "envelope_terms");
    let after = steps
        .iter()
        .find(|s| s["data"]["exchange_a"]["outputs_it_reads"].is_array())
        .unwrap()["data"]
        .clone();
    assert_eq!(after["exchange_a"]["lbtc"], 50_000_000);
    assert_eq!(after["exchange_a"]["jpy"], 15_000_000);
    assert_eq!(after["desk_b"]["lbtc"], 100_000 + 150_000_000 - fee);
    assert_eq!(after["desk_b"]["jpy"], 5_000_000);
    let ledger = &steps.last().unwrap()["data"];
    assert_eq!(ledger["exchange_a"]["status"], "confirmed");
    assert_eq!(ledger["desk_b"]["status"], "confirmed");
    // The demo cleans up after itself and never touches the user's data folder.
    assert_eq!(std::fs::read_dir(sb.home()).unwrap().count(), 0);
}

#[test]
fn a_bad_output_file_changes_nothing_and_the_ledger_keeps_every_envelope() {
    let d = Desks::start(false);
    let want = format!("15000000:{}", d.jpy);
    let create_to = |target: &str| {
        d.run(
            true,
            &[
                "--json",
                "offer",
                "create",
                "--give",
                "1.5:L-BTC",
                "--want",
                &want,
                "-o",
                target,
            ],
            None,
        )
    };
    // A file that exists: refused before any coin is reserved or any deal recorded, and
    // left as it was.
    let existing = d.maker.path("existing.json");
    std::fs::write(&existing, "mine").unwrap();
    for _ in 0..3 {
        create_to(existing.to_str().unwrap()).fails_json(2, "file_exists", "already exists");
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "mine");
    assert!(d.deals(true).is_empty());
    assert!(d.reserved(true).is_empty());
    // A folder that does not exist: the same.
    create_to("/nonexistent-dir/x.json").fails_json(1, "io", "/nonexistent-dir/x.json");
    assert!(d.deals(true).is_empty());
    assert!(d.reserved(true).is_empty());

    // Every envelope a step produced stays in its ledger and is written again on demand.
    let proposed = d.proposed(&[]);
    let id = deal_id(&proposed);
    let again = d.run(true, &["deal", "envelope", &id], None).ok();
    let doc = |text: &str| serde_json::from_str::<Value>(text.trim()).unwrap();
    assert_eq!(doc(&again.stdout), doc(&proposed));
    let copy = d.maker.path("copy.json");
    d.run(
        true,
        &["deal", "envelope", &id[..8], "-o", copy.to_str().unwrap()],
        None,
    )
    .ok();
    assert_eq!(
        doc(&std::fs::read_to_string(&copy).unwrap()),
        doc(&proposed)
    );
    d.run(
        true,
        &[
            "--json",
            "deal",
            "envelope",
            &id,
            "-o",
            copy.to_str().unwrap(),
        ],
        None,
    )
    .fails_json(2, "file_exists", "already exists");

    // The taker: a file that exists is refused before anything is signed or recorded.
    let taken = d.taker.path("taken.json");
    std::fs::write(&taken, "mine").unwrap();
    d.accept(&proposed, &["--json", "-o", taken.to_str().unwrap()])
        .fails_json(2, "file_exists", "already exists");
    assert_eq!(std::fs::read_to_string(&taken).unwrap(), "mine");
    assert!(d.deals(false).is_empty());
    assert!(d.reserved(false).is_empty());
    // A refused offer leaves no file behind.
    let refused = d.taker.path("refused.json");
    let tampered = crate::common::desks::edit(&proposed, |doc, _| {
        doc["terms"]["maker_gives"]["amount"] = serde_json::json!(160_000_000)
    });
    d.accept(&tampered, &["--json", "-o", refused.to_str().unwrap()])
        .fails_json(3, "terms_mismatch", "refused");
    assert!(!refused.exists());
    // Accepted into a new file; the ledger keeps what was written.
    let file = d.taker.path("accepted.json");
    d.accept(&proposed, &["-o", file.to_str().unwrap()]).ok();
    let written = std::fs::read_to_string(&file).unwrap();
    let kept = d
        .run(false, &["--json", "deal", "envelope", &id], None)
        .ok()
        .json();
    assert_eq!(kept["stage"], "accepted");
    assert_eq!(kept["status"], "accepted");
    assert_eq!(kept["envelope"], doc(&written));
    // What the ledger gives back settles.
    let accepted = kept["envelope"].to_string();
    d.settle(&accepted, &[]).ok();
    let settled = d.run(true, &["deal", "envelope", &id], None).ok();
    assert_eq!(doc(&settled.stdout), doc(&written));
}

#[test]
fn offer_flags_and_deal_ids_are_said_with_their_names() {
    let d = Desks::start(false);
    let want = format!("15000000:{}", d.jpy);
    let create = |extra: &[&str]| {
        let mut args = vec![
            "--json",
            "offer",
            "create",
            "--give",
            "1.5:L-BTC",
            "--want",
            &want,
        ];
        args.extend_from_slice(extra);
        d.run(true, &args, None)
    };
    for expires in ["0s", "31d", "500ms"] {
        create(&["--expires", expires]).fails_json(2, "usage", "--expires");
    }
    create(&["--memo", "a\u{1b}[31mb"])
        .fails_json(2, "usage", "--memo")
        .fails_json(2, "usage", "the memo holds control characters");
    create(&["--counterparty", ""]).fails_json(2, "usage", "--counterparty");
    // The taker pays the fee by default, at its own rate: a maker's rate means nothing.
    create(&["--fee-rate", "5"]).fails_json(
        2,
        "usage",
        "--fee-rate: the taker chooses the fee rate when it pays the fee",
    );
    assert!(d.deals(true).is_empty());
    assert!(d.reserved(true).is_empty());
    // --fee-payer maker takes it.
    create(&["--fee-payer", "maker", "--fee-rate", "0.1"]).ok();
    // An unknown deal is the same error for every command that names one.
    let shown = d
        .run(true, &["--json", "deal", "show", "deadbeefdeadbeef"], None)
        .fails_json(1, "unknown_deal", "no deal deadbeefdeadbeef")
        .json_error();
    let pass = d.maker.pass();
    let cancelled = d
        .run(
            true,
            &[
                "--json",
                "--yes",
                "offer",
                "cancel",
                "deadbeefdeadbeef",
                "--passphrase-file",
                &pass,
            ],
            None,
        )
        .fails_json(1, "unknown_deal", "no deal deadbeefdeadbeef")
        .json_error();
    assert_eq!(cancelled, shown);
    d.run(
        true,
        &["--json", "deal", "envelope", "deadbeefdeadbeef"],
        None,
    )
    .fails_json(1, "unknown_deal", "no deal deadbeefdeadbeef");
    // Something that cannot be a deal id at all is a usage error naming the argument.
    for command in [
        &["deal", "show"][..],
        &["deal", "envelope"],
        &["offer", "cancel"],
    ] {
        let mut args = vec!["--json"];
        args.extend_from_slice(command);
        args.push("42aa");
        d.run(true, &args, None)
            .fails_json(2, "usage", "'42aa' is not a deal id");
    }
    // An envelope that is not text is malformed (exit 2), not an I/O failure.
    let binary = d.taker.path("binary.json");
    std::fs::write(&binary, b"{\"format\": \"\xff\xfe\"}").unwrap();
    for command in ["inspect", "accept"] {
        d.run(
            false,
            &[
                "--json",
                "--yes",
                "offer",
                command,
                binary.to_str().unwrap(),
            ],
            None,
        )
        .fails_json(2, "invalid_offer", "not UTF-8 text");
    }
    assert!(d.deals(false).is_empty());
}
