//! The peg-out queue in the wallet's store: the schema's own guards (frozen requests, allowed
//! transitions, one live payment, an append-only log) hold against direct SQL, and a run
//! whose requests changed after it was prepared records and broadcasts nothing.

use regtest::{Sandbox, SandboxConfig};
use wallet_core::chain::{Backend, BackendConfig};
use wallet_core::descriptor::{BlindingScheme, Keychain, ScriptKind, WalletDescriptor};
use wallet_core::network::Network;
use wallet_core::ops::pegout::{prepare_run, RunOptions, WaitReason};
use wallet_core::ops::Mode;
use wallet_core::pegout::queue;
use wallet_core::pegout::PegoutLimits;
use wallet_core::pegout::RequestInput;
use wallet_core::seed::{encrypt_seed, KdfParams, SeedSecret};
use wallet_core::store::{Queued, RequestStatus};
use wallet_core::sync::{sync, SyncOptions};
use wallet_core::tx::FeeRate;
use wallet_core::wallet::{Wallet, Wallets};
use wallet_core::Error;

const PASS: &[u8] = b"pegout queue test";
const BTC: [&str; 2] = [
    "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
    "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
];

fn wallet(dir: &std::path::Path) -> Wallet {
    let secret = SeedSecret::from_phrase(crate::common::ABANDON, String::new()).unwrap();
    let descriptor = WalletDescriptor::from_seed(
        &secret.seed(),
        Network::Regtest,
        ScriptKind::Wpkh,
        BlindingScheme::Slip77,
    )
    .unwrap();
    let seed = encrypt_seed(&secret, PASS, &KdfParams::fast_for_tests()).unwrap();
    Wallets::new(dir)
        .create(Network::Regtest, "desk", &descriptor, Some(&seed))
        .unwrap()
}

fn input(reference: &str, i: usize, amount: &str) -> RequestInput {
    RequestInput {
        reference: reference.to_owned(),
        btc_address: BTC[i].to_owned(),
        amount: amount.to_owned(),
        customer: None,
        note: None,
    }
}

fn db(w: &Wallet) -> rusqlite::Connection {
    rusqlite::Connection::open(w.store().path()).unwrap()
}

#[test]
fn the_schema_refuses_what_the_desk_never_does() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wallet(dir.path());
    let queued = queue::add(&mut w, &input("T-1", 0, "0.5"), "carol").unwrap();
    assert!(matches!(queued, Queued::Added(_)));
    queue::reject(&mut w, "T-1", "wrong customer", "erin").unwrap();
    let conn = db(&w);
    // Each refusal is the schema's own trigger (RAISE(ABORT, ...)), with its words.
    let refused_by_trigger = |sql: &str, err: rusqlite::Error, words: &str| match err {
        rusqlite::Error::SqliteFailure(e, Some(m)) => {
            assert_eq!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER,
                "{sql}: {e:?}"
            );
            assert_eq!(m, words, "{sql}");
        }
        other => panic!("{sql}: {other:?}"),
    };
    const FROZEN: &str = "a peg-out request never changes once queued";
    const NOT_ALLOWED: &str = "this peg-out status change is not allowed";
    const APPEND_ONLY: &str = "the peg-out audit log is append-only";
    for (sql, words) in [
        ("UPDATE pegout_requests SET amount = 1", FROZEN),
        ("UPDATE pegout_requests SET btc_address = 'x'", FROZEN),
        ("UPDATE pegout_requests SET ref = 'T-2'", FROZEN),
        (
            "DELETE FROM pegout_requests",
            "peg-out requests are never deleted",
        ),
        // rejected is final.
        (
            "UPDATE pegout_requests SET status = 'approved'",
            NOT_ALLOWED,
        ),
        ("UPDATE pegout_requests SET status = 'signed'", NOT_ALLOWED),
        (
            "UPDATE pegout_events SET detail = 'nothing happened'",
            APPEND_ONLY,
        ),
        ("DELETE FROM pegout_events", APPEND_ONLY),
    ] {
        refused_by_trigger(sql, conn.execute(sql, []).unwrap_err(), words);
    }
    // requested -> signed skips the approval: refused.
    queue::add(&mut w, &input("T-2", 1, "0.5"), "carol").unwrap();
    let sql = "UPDATE pegout_requests SET status = 'signed' WHERE ref = 'T-2'";
    refused_by_trigger(sql, conn.execute(sql, []).unwrap_err(), NOT_ALLOWED);
    let events = w.store().pegout_events(None).unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["requested", "rejected", "requested"]);
    assert_eq!(events[1].actor, "erin");
    assert!(events[1].detail.contains("wrong customer"));
}

fn funded(dir: &std::path::Path, sandbox: &Sandbox) -> (Wallet, Box<dyn Backend>) {
    let mut w = wallet(dir);
    let address = w.new_address(Keychain::External, None).unwrap();
    let address: elements::Address = address.address.parse().unwrap();
    sandbox.faucet(&address, 100_000_000, None).unwrap();
    sandbox.mine(1).unwrap();
    let backend = BackendConfig::parse_esplora(&sandbox.esplora_url())
        .unwrap()
        .connect()
        .unwrap();
    sync(
        &mut w,
        backend.as_ref(),
        &SyncOptions::default(),
        &mut |_| {},
    )
    .unwrap();
    (w, backend)
}

fn options() -> RunOptions {
    RunOptions {
        max: None,
        fee_rate: FeeRate::MIN,
        limits: PegoutLimits::for_network(Network::Regtest, true),
        actor: "dave".to_owned(),
    }
}

#[test]
fn a_run_whose_requests_changed_records_and_sends_nothing() {
    let sandbox = Sandbox::start(SandboxConfig {
        multi_data_permitted: true,
        ..SandboxConfig::default()
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (mut w, backend) = funded(dir.path(), &sandbox);
    queue::add(&mut w, &input("T-1", 0, "0.2"), "carol").unwrap();
    queue::add(&mut w, &input("T-2", 1, "0.1"), "carol").unwrap();
    queue::approve(&mut w, &["T-1".into(), "T-2".into()], "erin").unwrap();
    let seed = w.unlock_seed(PASS).unwrap();

    // Another command rejects T-2 between the run's preparation and its commit (it does not
    // need the spending lock the run holds).
    let run = prepare_run(&mut w, &options(), Mode::ForSigning).unwrap();
    assert_eq!(run.paid.len(), 2);
    let mut other = Wallets::new(dir.path())
        .open(Network::Regtest, "desk")
        .unwrap();
    queue::reject(&mut other, "T-2", "changed its mind", "erin").unwrap();
    match run.commit(&mut w, &seed, backend.as_ref()) {
        Err(Error::Refused(m)) => assert!(m.contains("'T-2' is no longer approved"), "{m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(w.store().pending().unwrap().is_empty(), "nothing recorded");
    assert!(sandbox.pegouts().is_empty(), "nothing broadcast");
    let t1 = w.store().pegout_request("T-1").unwrap().unwrap();
    assert_eq!(t1.status, RequestStatus::Approved);
    assert!(w.store().pegout_live_txs().unwrap().is_empty());

    // The desk now wants two approvers: a run prepared before that change cannot sign T-1.
    let run = prepare_run(&mut w, &options(), Mode::ForSigning).unwrap();
    assert_eq!(run.paid.len(), 1);
    queue::set_settings(&mut other, Some(2), None, "boss").unwrap();
    assert!(matches!(
        run.commit(&mut w, &seed, backend.as_ref()),
        Err(Error::Refused(m)) if m == "request 'T-1' is no longer approved, or is below the \
            desk's minimum (another command changed it or the settings); nothing was recorded \
            or broadcast"
    ));
    assert!(sandbox.pegouts().is_empty());
    assert_eq!(
        w.store().pegout_request("T-1").unwrap().unwrap().status,
        RequestStatus::Requested
    );

    // With its second approver it is paid, once.
    queue::approve(&mut w, &["T-1".into()], "frank").unwrap();
    let run = prepare_run(&mut w, &options(), Mode::ForSigning).unwrap();
    let done = run.commit(&mut w, &seed, backend.as_ref()).unwrap();
    assert_eq!(done.paid.len(), 1);
    let t1 = w.store().pegout_request("T-1").unwrap().unwrap();
    assert_eq!(t1.status, RequestStatus::Broadcast);
    assert_eq!(t1.txid, Some(done.txid));
    sandbox.mine(1).unwrap();
    assert_eq!(sandbox.pegouts().len(), 1);
    // A second prepared run finds nothing.
    let run = prepare_run(&mut w, &options(), Mode::ForSigning).unwrap();
    assert!(run.prepared.is_none() && run.paid.is_empty());
    drop(run);

    // The desk raises its minimum between a run's preparation and its commit: nothing is
    // recorded, and the next run holds the request back with the reason.
    queue::add(&mut w, &input("T-3", 1, "0.002"), "carol").unwrap();
    queue::approve(&mut w, &["T-3".into()], "erin").unwrap();
    queue::approve(&mut w, &["T-3".into()], "frank").unwrap();
    let run = prepare_run(&mut w, &options(), Mode::ForSigning).unwrap();
    assert_eq!(run.paid.len(), 1);
    queue::set_settings(&mut other, None, Some(1_000_000), "boss").unwrap();
    assert!(matches!(
        run.commit(&mut w, &seed, backend.as_ref()),
        Err(Error::Refused(m)) if m.contains("'T-3' is no longer approved, or is below the desk's minimum")
    ));
    let run = prepare_run(&mut w, &options(), Mode::ForSigning).unwrap();
    assert!(run.prepared.is_none());
    assert_eq!(run.waiting.len(), 1);
    assert_eq!(run.waiting[0].kind, WaitReason::BelowMinimum);
    assert_eq!(
        run.waiting[0].why,
        "0.002 BTC is below the desk's current minimum of 0.01 BTC: lower the minimum with \
         `pegout settings --min-amount`, or reject it"
    );
    assert_eq!(sandbox.pegouts().len(), 1);
}

#[test]
fn approvers_are_one_person_whatever_the_case_and_odd_names_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = wallet(dir.path());
    queue::set_settings(&mut w, Some(2), None, "boss").unwrap();
    queue::add(&mut w, &input("T-1", 0, "0.5"), "carol").unwrap();
    let first = queue::approve(&mut w, &["T-1".into()], "erin").unwrap();
    assert!(!first[0].already);
    for same in ["ERIN", " Erin ", "eRiN"] {
        let again = queue::approve(&mut w, &["T-1".into()], same).unwrap();
        assert!(again[0].already, "{same}");
        assert_eq!(again[0].request.status, RequestStatus::Requested, "{same}");
        assert_eq!(again[0].request.approvals.len(), 1, "{same}");
    }
    let long = "x".repeat(65);
    for odd in [
        "er\u{456}n", // a Cyrillic i
        "erin\u{200b}",
        "a\tb",
        "",
        "   ",
        long.as_str(),
        "erin;boss",
    ] {
        match queue::approve(&mut w, &["T-1".into()], odd) {
            Err(Error::InvalidPegoutRequest(m)) => assert!(
                m.contains("1 to 64 ASCII letters, digits, spaces and . - _ @"),
                "{m}"
            ),
            other => panic!("{odd:?}: {other:?}"),
        }
    }
    // Names keep their spelling, with runs of spaces made one.
    queue::approve(&mut w, &["T-1".into()], "  Frank   Smith ").unwrap();
    let t1 = w.store().pegout_request("T-1").unwrap().unwrap();
    assert_eq!(t1.status, RequestStatus::Approved);
    let names: Vec<&str> = t1.approvals.iter().map(|a| a.by.as_str()).collect();
    assert!(
        names.contains(&"erin") && names.contains(&"Frank Smith"),
        "{names:?}"
    );

    // A store written before this rule may hold two spellings of one name: they count once,
    // for the run and for the record.
    queue::add(&mut w, &input("T-2", 1, "0.5"), "carol").unwrap();
    queue::approve(&mut w, &["T-2".into()], "gina").unwrap();
    db(&w)
        .execute(
            "INSERT INTO pegout_approvals (request_id, approver, at)
             SELECT id, 'GINA', 1 FROM pegout_requests WHERE ref = 'T-2'",
            [],
        )
        .unwrap();
    queue::set_settings(&mut w, Some(1), None, "boss").unwrap();
    queue::set_settings(&mut w, Some(2), None, "boss").unwrap();
    let runnable: Vec<String> = w
        .store()
        .pegout_runnable()
        .unwrap()
        .into_iter()
        .map(|r| r.reference)
        .collect();
    assert_eq!(runnable, ["T-1"]);
    assert_eq!(
        w.store().pegout_request("T-2").unwrap().unwrap().status,
        RequestStatus::Requested
    );
}
