//! Mnemonic parsing and the encrypted seed file.

use wallet_core::seed::{decrypt_seed, encrypt_seed, KdfParams, SeedSecret, WordCount};
use wallet_core::Error;

const PASS: &[u8] = b"correct horse battery staple";

fn sample() -> (SeedSecret, Vec<u8>) {
    let secret = SeedSecret::from_phrase(crate::common::ABANDON, "TREZOR".to_owned()).unwrap();
    let file = encrypt_seed(&secret, PASS, &KdfParams::fast_for_tests()).unwrap();
    (secret, file)
}

#[test]
fn roundtrip() {
    let (secret, file) = sample();
    let back = decrypt_seed(&file, PASS).unwrap();
    assert_eq!(back.phrase().as_str(), crate::common::ABANDON);
    assert_eq!(*back.seed(), *secret.seed());
    // The BIP39 passphrase is part of the secret.
    assert_ne!(*back.seed(), crate::common::abandon_seed());

    let generated = SeedSecret::generate(WordCount::TwentyFour, String::new()).unwrap();
    let file = encrypt_seed(&generated, b"x", &KdfParams::fast_for_tests()).unwrap();
    assert_eq!(
        decrypt_seed(&file, b"x").unwrap().phrase().as_str(),
        generated.phrase().as_str()
    );
}

#[test]
fn two_encryptions_differ() {
    let (secret, a) = sample();
    let b = encrypt_seed(&secret, PASS, &KdfParams::fast_for_tests()).unwrap();
    assert_ne!(a, b, "salt and nonce must be random");
}

#[test]
fn wrong_passphrase() {
    let (_, file) = sample();
    assert!(matches!(
        decrypt_seed(&file, b"wrong"),
        Err(Error::WrongPassphrase)
    ));
    assert!(matches!(
        decrypt_seed(&file, b""),
        Err(Error::WrongPassphrase)
    ));
}

#[test]
fn every_flipped_byte_is_detected() {
    let (_, file) = sample();
    for i in 0..file.len() {
        for mask in [0x01u8, 0x80] {
            let mut bad = file.clone();
            bad[i] ^= mask;
            match decrypt_seed(&bad, PASS) {
                Err(Error::SeedFileTampered(_)) | Err(Error::WrongPassphrase) => {}
                other => panic!("byte {i} mask {mask:#x}: {other:?}"),
            }
        }
    }
}

/// Recomputes the trailing checksum, as an attacker who edits the file would.
fn fix_checksum(file: &mut [u8]) {
    use elements::hashes::sha256;
    let n = file.len() - 32;
    let sum = sha256::Hash::hash(&file[..n]).to_byte_array();
    file[n..].copy_from_slice(&sum);
}

#[test]
fn edits_with_a_valid_checksum_are_detected() {
    let (_, file) = sample();
    let ciphertext_start = file.len() - 32 - 16 - 10; // inside the ciphertext
    let mut bad = file.clone();
    bad[ciphertext_start] ^= 1;
    fix_checksum(&mut bad);
    assert!(matches!(
        decrypt_seed(&bad, PASS),
        Err(Error::SeedFileTampered(m))
            if m == "the passphrase is right but the encrypted data fails authentication"
    ));

    // Absurd KDF memory is refused before any work.
    let mut bad = file.clone();
    bad[10..14].copy_from_slice(&u32::MAX.to_le_bytes());
    fix_checksum(&mut bad);
    match decrypt_seed(&bad, PASS) {
        Err(Error::SeedFileTampered(msg)) => assert!(msg.contains("memory"), "{msg}"),
        other => panic!("{other:?}"),
    }

    // A future version is "unsupported", not "tampered".
    let mut bad = file.clone();
    bad[8] = 2;
    fix_checksum(&mut bad);
    assert!(matches!(
        decrypt_seed(&bad, PASS),
        Err(Error::UnsupportedSeedFile(m))
            if m == "format version 2 (this build reads version 1): use a newer liquid-otc"
    ));
}

#[test]
fn truncated_and_foreign_files() {
    let (_, file) = sample();
    // Shorter than a header, an authentication tag and a checksum: "truncated"; longer,
    // the checksum (over what is there) no longer matches.
    const MIN_LEN: usize = 146;
    const CHECKSUM: &str =
        "its checksum does not match (the file is corrupt, truncated or was modified)";
    for len in 0..file.len() {
        let why = if len < MIN_LEN {
            "the file is truncated"
        } else {
            CHECKSUM
        };
        match decrypt_seed(&file[..len], PASS) {
            Err(Error::SeedFileTampered(m)) => assert_eq!(m, why, "truncated to {len}"),
            other => panic!("truncated to {len}: {other:?}"),
        }
    }
    let mut longer = file.clone();
    longer.push(0);
    assert!(matches!(
        decrypt_seed(&longer, PASS),
        Err(Error::SeedFileTampered(m)) if m == CHECKSUM
    ));
    assert!(matches!(
        decrypt_seed(b"this is certainly not a seed file, just some text", PASS),
        Err(Error::UnsupportedSeedFile(m)) if m == "this is not a liquid-otc seed file"
    ));
}

#[test]
fn mnemonic_errors() {
    // Bad checksum: the last word changed.
    let bad_checksum = crate::common::ABANDON.replace("about", "abandon");
    match SeedSecret::from_phrase(&bad_checksum, String::new()) {
        Err(Error::InvalidMnemonic(m)) => assert!(m.contains("checksum"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Unknown word: the message gives its position and never the word.
    let unknown = crate::common::ABANDON
        .replacen("abandon", "zzzqqq", 5)
        .replacen("zzzqqq", "abandon", 4);
    assert_eq!(unknown.split(' ').position(|w| w == "zzzqqq"), Some(4));
    match SeedSecret::from_phrase(&unknown, String::new()) {
        Err(e @ Error::InvalidMnemonic(_)) => {
            let text = e.to_string();
            assert!(text.contains("word 5"), "{text}");
            assert!(!text.contains("zzzqqq"), "{text}");
            assert!(!format!("{e:?}").contains("zzzqqq"));
        }
        other => panic!("{other:?}"),
    }
    // 11 words.
    let eleven: Vec<&str> = crate::common::ABANDON.split(' ').take(11).collect();
    match SeedSecret::from_phrase(&eleven.join(" "), String::new()) {
        Err(Error::InvalidMnemonic(m)) => assert!(m.contains("got 11"), "{m}"),
        other => panic!("{other:?}"),
    }
    // 15 words are valid BIP39 but not accepted here.
    let fifteen = "abandon ".repeat(14) + "address";
    assert!(matches!(
        SeedSecret::from_phrase(&fifteen, String::new()),
        Err(Error::InvalidMnemonic(m)) if m == "12 or 24 words expected, got 15"
    ));
    assert!(matches!(
        SeedSecret::from_phrase("", String::new()),
        Err(Error::InvalidMnemonic(m)) if m == "12 or 24 words expected, got 0"
    ));
}

#[test]
fn secrets_are_redacted() {
    let (secret, _) = sample();
    let dbg = format!("{secret:?}");
    assert_eq!(dbg, "<redacted>");
    assert!(!dbg.contains("abandon"));
}
