//! The peg-out desk through the built binary against the embedded chain: the request queue
//! (add, import, approve, reject, settings), runs that batch approved requests into one
//! transaction, sync to confirmed with height and output index, status and export, bad
//! input, funds, the one-data-output chain, and the audit log.

use crate::common::{Run, Sandbox, ABANDON};
use regtest::SandboxConfig;
use serde_json::Value;

const COIN: u64 = 100_000_000;

/// Bitcoin regtest destinations, with their scriptPubKeys.
const DEST: [(&str, &str); 3] = [
    (
        "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk",
        "0014d0c4a3ef09e997b6e99e397e518fe3e41a118ca1",
    ),
    (
        "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn",
        "76a914243f1394f44554f4ce3fd68649c19adc483ce92488ac",
    ),
    (
        "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc",
        "a9144e9f39ca4688ff102128ea4ccda34105324305b087",
    ),
];

struct Desk {
    sb: Sandbox,
    node: regtest::Sandbox,
    server: Vec<String>,
}

impl Desk {
    /// A data folder with wallet alice (the "abandon" mnemonic) funded with `coins` of 1
    /// L-BTC, against a sandbox that relays several data outputs per transaction when
    /// `multi` (and config.json says so).
    fn new(multi: bool, coins: usize) -> Desk {
        let sb = Sandbox::new();
        let node = regtest::Sandbox::start(SandboxConfig {
            multi_data_permitted: multi,
            ..SandboxConfig::default()
        })
        .unwrap();
        if multi {
            std::fs::write(
                sb.home().join("config.json"),
                "{\"regtest\":{\"multi_data_permitted\":true}}\n",
            )
            .unwrap();
        }
        sb.restore("alice", ABANDON);
        let desk = Desk {
            sb,
            server: vec!["--esplora".into(), node.esplora_url()],
            node,
        };
        for _ in 0..coins {
            desk.fund(COIN);
        }
        desk
    }

    fn fund(&self, sat: u64) {
        let doc = self.lotc(&["--json", "address", "new"]).ok().json();
        let address: elements::Address = doc["address"].as_str().unwrap().parse().unwrap();
        self.node.faucet(&address, sat, None).unwrap();
        self.node.mine(1).unwrap();
    }

    fn lotc(&self, args: &[&str]) -> Run {
        self.lotc_as("alice", args, None)
    }

    fn lotc_as(&self, wallet: &str, args: &[&str], stdin: Option<&str>) -> Run {
        let server: Vec<&str> = self.server.iter().map(String::as_str).collect();
        self.sb.on_server(&server, wallet, args, stdin)
    }

    fn add(&self, reference: &str, dest: usize, amount: &str) -> Run {
        self.lotc(&[
            "--json",
            "pegout",
            "request",
            "add",
            "--ref",
            reference,
            "--btc-address",
            DEST[dest].0,
            "--amount",
            amount,
            "--customer",
            "ACME Ltd",
            "--by",
            "carol",
        ])
    }

    fn approve(&self, refs: &[&str], by: &str) -> Run {
        let mut args = vec!["--json", "pegout", "request", "approve"];
        args.extend_from_slice(refs);
        args.extend_from_slice(&["--by", by]);
        self.lotc(&args)
    }

    fn run(&self, extra: &[&str]) -> Run {
        let pass = self.sb.pass();
        let mut args = vec![
            "--json",
            "--yes",
            "pegout",
            "run",
            "--by",
            "dave",
            "--passphrase-file",
            &pass,
        ];
        args.extend_from_slice(extra);
        self.lotc(&args)
    }

    fn request(&self, reference: &str) -> Value {
        self.lotc(&["--json", "pegout", "request", "show", reference])
            .ok()
            .json()
    }

    fn list(&self) -> Vec<Value> {
        self.lotc(&["--json", "pegout", "request", "list"])
            .ok()
            .json()
            .as_array()
            .unwrap()
            .clone()
    }

    fn sync(&self) {
        self.lotc(&["--json", "sync"]).ok();
    }

    /// Every peg-out the chain recorded: (txid, vout, amount, script hex), sorted.
    fn chain_pegouts(&self) -> Vec<(String, u32, u64, String)> {
        let mut out: Vec<_> = self
            .node
            .pegouts()
            .into_iter()
            .map(|(t, v, a, s)| (t.to_string(), v, a, regtest::hexutil::encode(&s)))
            .collect();
        out.sort();
        out
    }
}

fn events(doc: &Value) -> Vec<String> {
    doc["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_batch_is_paid_in_one_transaction_and_followed_to_confirmed() {
    let desk = Desk::new(true, 1);
    desk.add("T-1", 0, "0.3").ok();
    desk.add("T-2", 1, "0.001").ok();
    desk.add("T-3", 2, "0.12345678").ok();
    assert!(desk
        .list()
        .iter()
        .all(|r| r["status"] == "requested" && r["approvals_required"] == 1));
    let approved = desk.approve(&["T-1", "T-2", "T-3"], "erin").ok().json();
    assert!(approved
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["status"] == "approved"));

    let doc = desk.run(&[]).ok().json();
    let txid = doc["txid"].as_str().unwrap().to_owned();
    let paid = doc["paid"].as_array().unwrap();
    assert_eq!(paid.len(), 3);
    assert_eq!(doc["total"], 30_000_000 + 100_000 + 12_345_678);
    assert!(doc["waiting"].as_array().unwrap().is_empty());
    for (i, p) in paid.iter().enumerate() {
        assert_eq!(p["ref"], format!("T-{}", i + 1));
        assert_eq!(p["btc_address"], DEST[i].0);
    }
    let vouts: Vec<u32> = paid
        .iter()
        .map(|p| p["vout"].as_u64().unwrap() as u32)
        .collect();
    for r in ["T-1", "T-2", "T-3"] {
        assert_eq!(desk.request(r)["status"], "broadcast");
    }
    // One transaction; the chain records exactly these peg-outs.
    desk.node.mine(1).unwrap();
    let mut want: Vec<_> = [(0usize, 30_000_000u64), (1, 100_000), (2, 12_345_678)]
        .iter()
        .map(|(i, a)| (txid.clone(), vouts[*i], *a, DEST[*i].1.to_owned()))
        .collect();
    want.sort();
    assert_eq!(desk.chain_pegouts(), want);

    // Sync moves them to confirmed with the Liquid height and the output index.
    desk.sync();
    let height = desk.node.tip_height();
    for (i, r) in ["T-1", "T-2", "T-3"].iter().enumerate() {
        let doc = desk.request(r);
        assert_eq!(doc["status"], "confirmed", "{doc}");
        assert_eq!(doc["txid"], txid);
        assert_eq!(doc["vout"], vouts[i]);
        assert_eq!(doc["height"], height);
        assert_eq!(
            events(&doc),
            ["requested", "approved", "signed", "broadcast", "confirmed"]
        );
        let actors: Vec<&str> = doc["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["actor"].as_str().unwrap())
            .collect();
        assert_eq!(actors, ["carol", "erin", "dave", "dave", "sync"]);
    }
    let status = desk
        .lotc(&["--json", "pegout", "status", "T-2"])
        .ok()
        .json();
    assert_eq!(status["confirmations"], 1);
    // The text shows what the JSON has: customer and approvers.
    let text = desk.lotc(&["pegout", "status", "T-2"]).ok().stdout;
    assert!(
        text.lines()
            .any(|l| l.starts_with("customer") && l.ends_with("ACME Ltd")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("approvals") && l.contains("1/1 (erin at 20")),
        "{text}"
    );
    let summary = desk.lotc(&["--json", "pegout", "status"]).ok().json();
    let confirmed = summary["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "confirmed")
        .unwrap()
        .clone();
    assert_eq!(confirmed["requests"], 3);
    assert!(summary["transactions"].as_array().unwrap().is_empty());

    // The export: documented columns, one row per request.
    let csv = desk
        .lotc(&["pegout", "export", "--format", "csv"])
        .ok()
        .stdout;
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "ref,customer,btc_address,amount_sat,status,txid,vout,height,approved_by,approved_at,\
         created_at,created_by,updated_at,reason"
    );
    let first: Vec<&str> = lines.next().unwrap().split(',').collect();
    assert_eq!(
        &first[..5],
        ["T-1", "ACME Ltd", DEST[0].0, "30000000", "confirmed"]
    );
    assert_eq!(first[5], txid);
    assert_eq!(first[6], vouts[0].to_string());
    assert_eq!(first[7], height.to_string());
    assert_eq!(first[8], "erin");
    assert_eq!(lines.count(), 2);
    let json = desk
        .lotc(&["pegout", "export", "--format", "json"])
        .ok()
        .json();
    let rows = json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[2]["amount_sat"], 12_345_678);
    assert_eq!(rows[2]["height"], height);
    assert_eq!(rows[2]["reason"], Value::Null);
    // --since in the future keeps nothing; a date long ago keeps all.
    let later = desk
        .lotc(&[
            "pegout",
            "export",
            "--format",
            "json",
            "--since",
            "2999-01-01",
        ])
        .ok()
        .json();
    assert!(later.as_array().unwrap().is_empty());
    let all = desk
        .lotc(&[
            "pegout",
            "export",
            "--format",
            "json",
            "--since",
            "2020-01-01T00:00:00Z",
        ])
        .ok()
        .json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    // RFC 3339 with an offset, as --help says (the audit's exit 2).
    for (since, rows) in [
        ("2999-01-01T01:00:00+02:00", 0),
        ("2020-01-01T02:00:00+02:00", 3),
        ("2019-12-31T19:00:00-05:00", 3),
    ] {
        let kept = desk
            .lotc(&["pegout", "export", "--format", "json", "--since", since])
            .ok()
            .json();
        assert_eq!(kept.as_array().unwrap().len(), rows, "{since}");
    }
    // `deal list` and `deal export` share the parser.
    for command in [&["list"][..], &["export", "--format", "json"]] {
        let mut args = vec!["--json", "deal"];
        args.extend_from_slice(command);
        args.extend_from_slice(&["--since", "2026-12-05T23:00:30+02:00"]);
        desk.lotc(&args).ok();
    }
    desk.lotc(&[
        "pegout",
        "export",
        "--format",
        "json",
        "--since",
        "yesterday",
    ])
    .fails(
        2,
        "invalid value 'yesterday' for '--since <DATE>': 'yesterday' is not a date",
    );

    // A second run has nothing to pay.
    let again = desk.run(&[]).ok().json();
    assert_eq!(again["txid"], Value::Null);
    assert!(again["paid"].as_array().unwrap().is_empty());
}

#[test]
fn adding_is_idempotent_and_a_reused_reference_is_refused() {
    let desk = Desk::new(false, 0);
    let first = desk.add("T-1", 0, "0.5").ok().json();
    assert_eq!(first["queued"], true);
    let again = desk.add("T-1", 0, "0.5").ok().json();
    assert_eq!(again["queued"], false);
    assert_eq!(again["request"]["status"], "requested");
    let text = desk
        .lotc(&[
            "pegout",
            "request",
            "add",
            "--ref",
            "T-1",
            "--btc-address",
            DEST[0].0,
            "--amount",
            "0.5",
            "--customer",
            "ACME Ltd",
            "--by",
            "carol",
        ])
        .ok();
    assert!(
        text.stdout.contains("already queued with the same content"),
        "{}",
        text.stdout
    );
    let other = desk.add("T-1", 0, "0.6");
    other.fails_json(
        3,
        "duplicate_ref",
        "a peg-out request with reference 'T-1' is already queued (requested) with other content",
    );
    assert_eq!(desk.list().len(), 1);
    assert_eq!(desk.request("T-1")["amount"], 50_000_000);
    assert_eq!(events(&desk.request("T-1")), ["requested"]);
}

#[test]
fn bad_input_queues_nothing() {
    let desk = Desk::new(false, 0);
    let add = |address: &str, amount: &str, reference: &str| {
        desk.lotc(&[
            "--json",
            "pegout",
            "request",
            "add",
            "--ref",
            reference,
            "--btc-address",
            address,
            "--amount",
            amount,
            "--by",
            "carol",
        ])
    };
    let cases: [(&str, &str, &str, i32, &str, &str); 7] = [
        // Bitcoin mainnet address on regtest.
        (
            "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
            "0.5",
            "A",
            3,
            "wrong_network",
            "is a Bitcoin mainnet address, and peg-outs from regtest pay Bitcoin regtest addresses",
        ),
        // Bad checksum (last character changed).
        (
            "bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppl",
            "0.5",
            "B",
            2,
            "invalid_address",
            "is not a valid Bitcoin address: bech32: decoding segwit address failed: invalid checksum",
        ),
        // Segwit version 2: a script kind peg-outs do not pay.
        (
            "bcrt1zqurswpc8qurswpc8qurswpc8qufpzj6p",
            "0.5",
            "C",
            2,
            "invalid_address",
            "is a segwit version 2 address, a script kind peg-outs do not pay",
        ),
        // Below the minimum.
        (
            DEST[0].0,
            "0.00099999",
            "D",
            2,
            "invalid_amount",
            "invalid amount 0.00099999: below the minimum peg-out of 0.001 BTC (100000 sat)",
        ),
        // Nine decimals.
        (
            DEST[0].0,
            "0.123456789",
            "E",
            2,
            "invalid_amount",
            "more than 8 decimals for an asset of precision 8 (amounts are in BTC)",
        ),
        // A reference with a space.
        (
            DEST[0].0,
            "0.5",
            "F 1",
            2,
            "invalid_request",
            "invalid peg-out request: reference 'F 1' must be 1 to 64 printable ASCII characters \
             without spaces",
        ),
        // A Liquid address.
        (
            "ert1q6rz28mcfaxtmd6v789l9rrlrusdprr9p69dllk",
            "0.5",
            "G",
            2,
            "invalid_address",
            "is a Liquid address: a peg-out pays a Bitcoin address on the parent chain",
        ),
    ];
    for (address, amount, reference, exit, code, words) in cases {
        add(address, amount, reference).fails_json(exit, code, words);
    }
    // A malformed amount is a usage error of the command line.
    add(DEST[0].0, "1e-3", "H").fails_json(
        2,
        "usage",
        "invalid value '1e-3' for '--amount <BTC>': '1e-3' is not an amount",
    );
    assert!(desk.list().is_empty());
    let log = desk
        .lotc(&["--json", "pegout", "export", "--format", "json"])
        .ok()
        .json();
    assert!(log.as_array().unwrap().is_empty());
    // On Liquid mainnet the desk refuses before anything (PAK).
    let sb = Sandbox::new();
    let run = sb.run(&[
        "--json",
        "pegout",
        "request",
        "add",
        "--ref",
        "X",
        "--btc-address",
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        "--amount",
        "1",
        "--by",
        "carol",
    ]);
    run.fails_json(
        3,
        "refused",
        "Liquid mainnet enforces peg-out authorization (PAK)",
    );
}

#[test]
fn an_import_is_all_or_nothing_with_each_bad_row_named() {
    let desk = Desk::new(false, 0);
    let bad = format!(
        "ref,btc_address,amount,customer,note\n\
         I-1,{},0.5,ACME,\"first, with a comma\"\n\
         I-2,bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq,0.5,,\n\
         I-3,{},0.0001,,\n\
         I-1,{},0.5,,\n\
         I-5,{},0.2,,\n",
        DEST[0].0, DEST[1].0, DEST[2].0, DEST[2].0
    );
    std::fs::write(desk.sb.path("bad.csv"), &bad).unwrap();
    let path = desk.sb.path("bad.csv").display().to_string();
    let run = desk.lotc(&[
        "--json", "pegout", "request", "import", &path, "--by", "carol",
    ]);
    let err = run
        .fails_json(
            2,
            "import_rejected",
            "3 of 5 rows cannot be queued; nothing was imported (line 3: wrong network",
        )
        .json_error();
    let hints: Vec<String> = err["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect();
    assert!(
        hints[0].starts_with("line 3: ") && hints[0].contains("Bitcoin mainnet"),
        "{hints:?}"
    );
    assert!(
        hints[1].starts_with("line 4: ") && hints[1].contains("minimum"),
        "{hints:?}"
    );
    assert!(
        hints[2].starts_with("line 5: ") && hints[2].contains("first on line 2"),
        "{hints:?}"
    );
    assert!(desk.list().is_empty(), "nothing imported");

    // The good rows alone import, from stdin as JSON Lines too.
    let good = format!(
        "ref,btc_address,amount,customer,note\nI-1,{},0.5,ACME,\"first, with a comma\"\nI-5,{},0.2,,\n",
        DEST[0].0, DEST[2].0
    );
    let doc = desk
        .lotc_as(
            "alice",
            &[
                "--json", "pegout", "request", "import", "-", "--by", "carol",
            ],
            Some(&good),
        )
        .ok()
        .json();
    assert_eq!(doc["imported"], 2);
    assert_eq!(doc["total"], 70_000_000);
    assert_eq!(desk.request("I-1")["note"], "first, with a comma");
    let lines = format!(
        "{{\"ref\":\"J-1\",\"btc_address\":\"{}\",\"amount\":\"0.001\"}}\n\
         {{\"ref\":\"J-2\",\"btc_address\":\"{}\",\"amount_sat\":250000,\"customer\":\"Z\"}}\n",
        DEST[1].0, DEST[2].0
    );
    let doc = desk
        .lotc_as(
            "alice",
            &[
                "--json", "pegout", "request", "import", "-", "--by", "carol",
            ],
            Some(&lines),
        )
        .ok()
        .json();
    assert_eq!(doc["imported"], 2);
    assert_eq!(desk.request("J-2")["amount"], 250_000);
    // Importing a reference that is queued already is refused, whole file, with the exit
    // status of `request add` for a reused reference (3).
    let dup = format!(
        "ref,btc_address,amount\nK-1,{},0.3\nJ-1,{},0.001\n",
        DEST[0].0, DEST[1].0
    );
    let run = desk.lotc_as(
        "alice",
        &[
            "--json", "pegout", "request", "import", "-", "--by", "carol",
        ],
        Some(&dup),
    );
    assert!(run
        .fails_json(
            3,
            "import_rejected",
            "1 of 2 rows cannot be queued; nothing was imported",
        )
        .json_error()["hints"][0]
        .as_str()
        .unwrap()
        .contains(
            "line 3: reference 'J-1' is already in the queue (requested) with the same content"
        ));
    // Nothing of the file was queued, not even its good rows.
    desk.lotc(&["--json", "pegout", "request", "show", "K-1"])
        .fails_json(
            1,
            "unknown_request",
            "no peg-out request has reference 'K-1'",
        );
    assert_eq!(desk.list().len(), 4);
}

fn hints(err: &Value) -> Vec<String> {
    err["hints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap().to_owned())
        .collect()
}

/// Audit: a row reusing a queued reference was not listed among the other bad rows (the
/// queue was asked only once every other row passed); the same cause was exit 2 on import
/// and 3 on `request add`; a JSON key given twice was taken silently; header errors said
/// "1 of 0 rows are invalid".
#[test]
fn an_import_names_every_bad_row_in_one_pass() {
    let desk = Desk::new(false, 0);
    desk.add("Q-1", 0, "0.5").ok();
    let import = |text: &str| {
        desk.lotc_as(
            "alice",
            &[
                "--json", "pegout", "request", "import", "-", "--by", "carol",
            ],
            Some(text),
        )
    };
    // A syntax error, a bad amount, a row repeated in the file, and a queued reference
    // with other content: all four, in line order; malformed rows make it exit 2.
    let text = format!(
        "ref,btc_address,amount\n\
         N-1,{b},0.5\n\
         N-2,{b},0.5,extra\n\
         N-3,{b},0.123456789\n\
         N-1,{b},0.5\n\
         Q-1,{b},0.7\n",
        b = DEST[1].0
    );
    let err = import(&text)
        .fails_json(2, "import_rejected", "4 of 5 rows cannot be queued")
        .json_error();
    let h = hints(&err);
    assert!(
        h[0].starts_with("line 3: 4 fields where the header has 3"),
        "{h:?}"
    );
    assert!(
        h[1].starts_with("line 4: ") && h[1].contains("more than 8 decimals"),
        "{h:?}"
    );
    assert!(
        h[2].starts_with("line 5: reference 'N-1' appears again (first on line 2)"),
        "{h:?}"
    );
    assert_eq!(
        h[3],
        "line 6: a peg-out request with reference 'Q-1' is already queued (requested) with \
         other content: a reference names one request"
    );
    // Only refusals (a queued reference, another Bitcoin network): exit 3, as `request add`.
    let text = format!(
        "ref,btc_address,amount\nQ-1,{b},0.7\nN-9,bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq,0.5\n",
        b = DEST[1].0
    );
    let err = import(&text)
        .fails_json(3, "import_rejected", "2 of 2 rows cannot be queued")
        .json_error();
    assert!(hints(&err)[1].contains("Bitcoin mainnet"), "{err}");
    desk.lotc(&[
        "--json",
        "pegout",
        "request",
        "add",
        "--ref",
        "Q-1",
        "--btc-address",
        DEST[1].0,
        "--amount",
        "0.7",
        "--by",
        "carol",
    ])
    .fails_json(
        3,
        "duplicate_ref",
        "already queued (requested) with other content",
    );
    // A JSON key given twice is refused with its line, not read as its last value.
    let text = format!(
        "{{\"ref\":\"K-10\",\"btc_address\":\"{b}\",\"amount\":\"0.5\"}}\n\
         {{\"ref\":\"K-11\",\"ref\":\"K-12\",\"btc_address\":\"{b}\",\"amount\":\"0.5\"}}\n",
        b = DEST[1].0
    );
    let err = import(&text)
        .fails_json(2, "import_rejected", "1 of 2 rows cannot be queued")
        .json_error();
    assert!(
        hints(&err)[0].starts_with("line 2: key 'ref' appears twice"),
        "{err}"
    );
    // A bad header says what is wrong with the header.
    import("ref,address,amount\nX,y,1\n").fails_json(
        2,
        "import_rejected",
        "the file cannot be imported: unknown column 'address' in the header (columns: ref, \
         btc_address, amount, customer, note) (line 1); nothing was imported",
    );
    let refs: Vec<String> = desk
        .list()
        .iter()
        .map(|r| r["ref"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(refs, ["Q-1"], "nothing imported");
}

#[test]
fn four_eyes_rejections_and_settings() {
    let desk = Desk::new(true, 1);
    let settings = desk
        .lotc(&[
            "--json",
            "pegout",
            "settings",
            "--approvals",
            "2",
            "--by",
            "boss",
        ])
        .ok()
        .json();
    assert_eq!(settings["approvals"], 2);
    assert_eq!(settings["min_amount"], 100_000);
    desk.add("T-1", 0, "0.2").ok();
    desk.add("T-2", 1, "0.2").ok();
    desk.add("T-3", 2, "0.2").ok();
    desk.approve(&["T-1", "T-2", "T-3"], "erin").ok();
    // The same name twice is one approval, whatever its case or spacing (the audit found
    // `--by ERIN` after `--by erin` made "2/2 approvals: approved" and paid it).
    let again = desk.approve(&["T-1"], "erin").ok().json();
    assert_eq!(again[0]["already_approved_by_you"], true);
    for same in ["ERIN", " Erin "] {
        let again = desk.approve(&["T-1"], same).ok().json();
        assert_eq!(again[0]["already_approved_by_you"], true, "{same}");
        assert_eq!(again[0]["approvals"].as_array().unwrap().len(), 1, "{same}");
    }
    let text = desk
        .lotc(&["pegout", "request", "approve", "T-1", "--by", "ERIN"])
        .ok();
    assert_eq!(
        text.stdout.trim(),
        "T-1: ERIN had approved it already as 'erin' (names are compared ignoring case); \
         nothing changed (1/2 approvals, requested)."
    );
    // Look-alikes and control characters are not names.
    for odd in ["er\u{456}n", "erin\u{7}"] {
        desk.approve(&["T-1"], odd).fails_json(
            2,
            "invalid_request",
            "is not a usable name: 1 to 64 ASCII letters, digits, spaces and . - _ @",
        );
    }
    assert_eq!(desk.request("T-1")["status"], "requested");
    // Nothing runs on one approval.
    let nothing = desk.run(&[]).ok().json();
    assert!(nothing["paid"].as_array().unwrap().is_empty());
    desk.approve(&["T-1", "T-2"], "frank").ok();
    assert_eq!(desk.request("T-1")["status"], "approved");
    // A rejected request is never paid, nor approved again.
    let rejected = desk
        .lotc(&[
            "--json",
            "pegout",
            "request",
            "reject",
            "T-2",
            "--reason",
            "KYC failed",
            "--by",
            "erin",
        ])
        .ok()
        .json();
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["reason"], "KYC failed");
    desk.approve(&["T-2", "T-3"], "gina").fails_json(
        3,
        "refused",
        "request 'T-2' is rejected: only requested or approved requests can be approved; \
         nothing was approved",
    );
    // All or none: T-3 did not get gina's approval.
    assert_eq!(
        desk.request("T-3")["approvals"].as_array().unwrap().len(),
        1
    );
    desk.lotc(&[
        "pegout", "request", "reject", "T-2", "--reason", "again", "--by", "x",
    ])
    .fails(3, "error: refused: request 'T-2' is rejected: only requested or approved requests can be rejected");
    desk.lotc(&["pegout", "request", "approve", "NOPE", "--by", "x"])
        .fails(1, "no peg-out request has reference 'NOPE'");

    let doc = desk.run(&[]).ok().json();
    let paid: Vec<&str> = doc["paid"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["ref"].as_str().unwrap())
        .collect();
    assert_eq!(paid, ["T-1"]);
    // Lowering the requirement approves T-3 at once, with an event saying why.
    desk.lotc(&["pegout", "settings", "--approvals", "1", "--by", "boss"])
        .ok();
    let t3 = desk.request("T-3");
    assert_eq!(t3["status"], "approved");
    assert_eq!(events(&t3), ["requested", "approval", "approved"]);
    assert!(t3["events"][2]["detail"]
        .as_str()
        .unwrap()
        .contains("now requires 1 approver"));
    let signed = desk.request("T-1");
    desk.lotc(&[
        "pegout", "request", "reject", "T-1", "--reason", "late", "--by", "x",
    ])
    .fails(3, "error: refused: request 'T-1' is broadcast: only requested or approved requests can be rejected");
    assert_eq!(signed["status"], "broadcast");
}

fn refs(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|p| p["ref"].as_str().unwrap())
        .collect()
}

#[test]
fn a_run_pays_what_the_wallet_can_in_order_and_says_who_waits() {
    let desk = Desk::new(true, 1);
    desk.add("T-1", 0, "0.6").ok();
    desk.add("T-2", 1, "0.3").ok();
    desk.add("T-3", 2, "0.5").ok();
    desk.add("T-4", 2, "0.001").ok();
    desk.approve(&["T-1", "T-2", "T-3", "T-4"], "erin").ok();
    // T-3 does not fit after T-1 and T-2; T-4, after it, still does.
    let doc = desk.run(&[]).ok().json();
    assert_eq!(refs(&doc["paid"]), ["T-1", "T-2", "T-4"]);
    assert_eq!(refs(&doc["waiting"]), ["T-3"]);
    assert_eq!(doc["waiting"][0]["reason"], "funds");
    assert_eq!(
        doc["waiting"][0]["why"],
        "needs 0.5 BTC and the fee; 0.1 L-BTC is spendable after the 2 request(s) this run \
         pays before it (0.9 of 1.0 L-BTC): fund the wallet and run again, or reject it"
    );
    desk.node.mine(1).unwrap();
    // The wallet now holds less than T-3: nothing can be paid, exit 5, nothing recorded.
    desk.run(&[]).fails_json(
        5,
        "insufficient_funds",
        "1 approved request(s) wait and the wallet can pay none of them",
    );
    assert_eq!(desk.request("T-3")["status"], "approved");
    // --max and the human text.
    desk.fund(COIN);
    desk.add("T-5", 0, "0.001").ok();
    desk.approve(&["T-5"], "erin").ok();
    let pass = desk.sb.pass();
    let run = desk
        .lotc(&[
            "--yes",
            "pegout",
            "run",
            "--max",
            "1",
            "--by",
            "dave",
            "--passphrase-file",
            &pass,
        ])
        .ok();
    assert!(
        run.stderr.contains("T-5 (0.001 BTC) waits: beyond --max"),
        "{}",
        run.stderr
    );
    assert_eq!(desk.request("T-3")["status"], "broadcast");
    assert_eq!(desk.request("T-5")["status"], "approved");
}

/// Audit: an approved 21,000,000 BTC request ahead of small ones made every run pay
/// nothing, with a false reason, and exit 5 until someone rejected it.
#[test]
fn one_unpayable_request_does_not_hold_back_the_queue() {
    let desk = Desk::new(true, 1);
    desk.add("B-17", 0, "21000000").ok();
    for (i, r) in ["C-1", "C-2", "C-3", "C-4"].iter().enumerate() {
        desk.add(r, i % 3, "0.025").ok();
    }
    desk.approve(&["B-17", "C-1", "C-2", "C-3", "C-4"], "erin")
        .ok();
    let pass = desk.sb.pass();
    let run = desk
        .lotc(&[
            "--yes",
            "pegout",
            "run",
            "--by",
            "dave",
            "--passphrase-file",
            &pass,
        ])
        .ok();
    assert!(
        run.stderr.contains(
            "B-17 (21000000.0 BTC) waits: needs 21000000.0 BTC and the fee; 1.0 L-BTC is \
             spendable: fund the wallet and run again, or reject it"
        ),
        "{}",
        run.stderr
    );
    for r in ["C-1", "C-2", "C-3", "C-4"] {
        assert_eq!(desk.request(r)["status"], "broadcast", "{r}");
    }
    desk.node.mine(1).unwrap();
    assert_eq!(desk.chain_pegouts().len(), 4);
    // Only B-17 is left: it waits with the true numbers, and the run says it paid nothing.
    let run = desk.run(&[]);
    let err = run
        .fails_json(
            5,
            "insufficient_funds",
            "1 approved request(s) wait and the wallet can pay none of them",
        )
        .json_error();
    assert!(
        err["hints"][0].as_str().unwrap().contains("reject"),
        "{err}"
    );
    assert_eq!(desk.request("B-17")["status"], "approved");
}

/// Audit: a request approved under a lower minimum was paid after the minimum was raised;
/// a minimum below what elementsd pegs out was accepted with a warning.
#[test]
fn the_minimum_in_force_when_the_run_runs_holds_back_smaller_requests() {
    let desk = Desk::new(true, 1);
    desk.add("MIN-1", 0, "0.002").ok();
    desk.approve(&["MIN-1"], "erin").ok();
    desk.lotc(&["pegout", "settings", "--min-amount", "0.01", "--by", "boss"])
        .ok();
    desk.run(&[]).fails_json(
        3,
        "below_minimum",
        "1 approved request(s) wait, all below the desk's current minimum",
    );
    assert_eq!(desk.request("MIN-1")["status"], "approved");
    desk.add("MIN-2", 1, "0.02").ok();
    desk.approve(&["MIN-2"], "erin").ok();
    let doc = desk.run(&[]).ok().json();
    assert_eq!(refs(&doc["paid"]), ["MIN-2"]);
    assert_eq!(doc["waiting"][0]["ref"], "MIN-1");
    assert_eq!(doc["waiting"][0]["reason"], "below_minimum");
    assert_eq!(
        doc["waiting"][0]["why"],
        "0.002 BTC is below the desk's current minimum of 0.01 BTC: lower the minimum with \
         `pegout settings --min-amount`, or reject it"
    );
    // Below elementsd's floor is refused, and nothing changes.
    desk.lotc(&[
        "--json",
        "pegout",
        "settings",
        "--min-amount",
        "0.0001",
        "--by",
        "boss",
    ])
    .fails_json(
        2,
        "invalid_amount",
        "a minimum of 0.0001 BTC is below 0.001 BTC (100000 sat), the least elementsd pegs out",
    );
    let settings = desk.lotc(&["--json", "pegout", "settings"]).ok().json();
    assert_eq!(settings["min_amount"], 1_000_000);
    // Lowering it again lets MIN-1 go.
    desk.lotc(&[
        "pegout",
        "settings",
        "--min-amount",
        "0.001",
        "--by",
        "boss",
    ])
    .ok();
    let doc = desk.run(&[]).ok().json();
    assert_eq!(refs(&doc["paid"]), ["MIN-1"]);
}

#[test]
fn a_chain_with_one_data_output_per_transaction_gets_one_per_run() {
    let desk = Desk::new(false, 1);
    desk.add("T-1", 0, "0.1").ok();
    desk.add("T-2", 1, "0.1").ok();
    desk.approve(&["T-1", "T-2"], "erin").ok();
    let doc = desk.run(&[]).ok().json();
    assert_eq!(doc["paid"].as_array().unwrap().len(), 1);
    assert!(doc["waiting"][0]["why"]
        .as_str()
        .unwrap()
        .contains("one peg-out per transaction"));
    let doc = desk.run(&[]).ok().json();
    assert_eq!(doc["paid"][0]["ref"], "T-2");
    desk.node.mine(1).unwrap();
    assert_eq!(desk.chain_pegouts().len(), 2);
}

#[test]
fn dry_run_records_nothing() {
    let desk = Desk::new(true, 1);
    desk.add("T-1", 0, "0.1").ok();
    desk.approve(&["T-1"], "erin").ok();
    let doc = desk.run(&["--dry-run"]).ok().json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["paid"][0]["ref"], "T-1");
    assert_eq!(desk.request("T-1")["status"], "approved");
    assert_eq!(events(&desk.request("T-1")), ["requested", "approved"]);
    assert!(desk.chain_pegouts().is_empty());
}

/// The login name of this process's user id, from /etc/passwd (what `--by` falls back to).
fn passwd_name() -> Option<String> {
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    std::fs::read_to_string("/etc/passwd")
        .ok()?
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() > 2 && f[2] == uid.to_string())
        .map(|f| f[0].to_owned())
}

/// Audit: README says `--by` falls back to the login name, but with USER and LOGNAME unset
/// there was no default.
#[test]
fn by_falls_back_to_the_login_name_of_the_user_id() {
    let desk = Desk::new(false, 0);
    let mut args = vec!["--network", "regtest"];
    args.extend(desk.server.iter().map(String::as_str));
    args.extend_from_slice(&[
        "--wallet",
        "alice",
        "--json",
        "pegout",
        "request",
        "add",
        "--ref",
        "U-1",
        "--btc-address",
        DEST[0].0,
        "--amount",
        "0.5",
    ]);
    let out = desk
        .sb
        .command(&args)
        .env_remove("USER")
        .env_remove("LOGNAME")
        .env_remove("LIQUID_OTC_ACTOR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let run = Run::of(out);
    match passwd_name() {
        Some(name) => {
            let doc = run.ok().json();
            assert_eq!(doc["request"]["created_by"], name.as_str());
        }
        None => {
            run.fails_json(2, "no_actor", "none is known");
        }
    }
}
