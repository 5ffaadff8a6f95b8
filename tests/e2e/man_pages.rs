//! The committed man pages in `man/` must match the clap tree.
//! Regenerate them with `UPDATE_MAN=1 cargo test --test e2e man_pages`.

use std::path::Path;

#[test]
fn man_pages_are_up_to_date() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("man");
    let pages = liquid_otc_cli::man::pages();
    if std::env::var_os("UPDATE_MAN").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "1") {
                std::fs::remove_file(path).unwrap();
            }
        }
        for (name, bytes) in &pages {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
    let mut stale = Vec::new();
    for (name, bytes) in &pages {
        match std::fs::read(dir.join(name)) {
            Ok(on_disk) if &on_disk == bytes => {}
            _ => stale.push(name.clone()),
        }
    }
    let expected: std::collections::BTreeSet<&String> = pages.iter().map(|(n, _)| n).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".1") && !expected.contains(&name) {
            stale.push(format!("{name} (no such command any more)"));
        }
    }
    assert!(
        stale.is_empty(),
        "man pages are stale: {stale:?}; run `UPDATE_MAN=1 cargo test --test e2e man_pages`"
    );
    let root = std::fs::read_to_string(dir.join("liquid-otc.1")).unwrap();
    assert!(root.contains("EXIT STATUS"));
}
