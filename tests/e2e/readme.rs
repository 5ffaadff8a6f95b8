//! The README's examples work as written (issue 12, item 11).

use std::process::{Command, Stdio};

/// The first ```sh block after the heading `heading` of the README.
fn sh_block(heading: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = &readme[readme
        .find(heading)
        .unwrap_or_else(|| panic!("no {heading}"))..];
    let start = section.find("```sh\n").unwrap() + "```sh\n".len();
    let end = start + section[start..].find("\n```").unwrap();
    section[start..end].to_string()
}

#[test]
fn the_short_tour_runs_as_written_in_a_fresh_data_folder() {
    let block = sh_block("## A short tour");
    let alias = "alias lotc='cargo run --release -q --'";
    assert!(block.starts_with(alias), "{block}");
    // The same commands, with `lotc` being the binary under test instead of `cargo run`.
    let script = format!(
        "set -euo pipefail\nlotc() {{ \"$LOTC\" \"$@\"; }}\n{}",
        &block[alias.len()..]
    );
    let sb = crate::common::Sandbox::new();
    let work = sb.path("work");
    std::fs::create_dir(&work).unwrap();
    let out = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(&work)
        .env("LOTC", env!("CARGO_BIN_EXE_liquid-otc"))
        .env_remove("LIQUID_OTC_NETWORK")
        .env_remove("LIQUID_OTC_WALLET")
        .env_remove("LIQUID_OTC_PASSPHRASE")
        .env_remove("LIQUID_OTC_ESPLORA")
        .env_remove("LIQUID_OTC_ELECTRUM")
        .env("LIQUID_OTC_HOME", sb.home())
        .env("LIQUID_OTC_KDF_MEMORY_KIB", "64")
        .env("LIQUID_OTC_KDF_ITERATIONS", "1")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "the tour failed:\n{stderr}");
    // What the tour promised is there: the restored twin, the watch-only copy, bob gone.
    let list = sb
        .run(&["--network", "regtest", "--json", "wallet", "list"])
        .ok()
        .json();
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["wallet"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["alice", "alice2", "watch"]);
    assert!(std::fs::read_to_string(work.join("liquid-otc.bash"))
        .unwrap()
        .contains("liquid-otc"));
}

#[test]
fn the_electrum_example_uses_the_port_the_sandbox_is_started_on() {
    let block = sh_block("## Sync, balances and history");
    let start = block
        .lines()
        .find(|l| l.starts_with("lotc sandbox start"))
        .unwrap();
    let example = block
        .lines()
        .find(|l| l.contains(" --electrum ") && !l.starts_with("lotc sandbox start"))
        .unwrap();
    let port_of = |line: &str| -> String {
        let after = &line[line.find("--electrum ").unwrap() + "--electrum ".len()..];
        after.split_whitespace().next().unwrap().to_string()
    };
    assert!(
        start.contains("--electrum "),
        "the sandbox listens on a free port unless told: {start}"
    );
    assert_eq!(port_of(start), port_of(example), "{start}\n{example}");
}
