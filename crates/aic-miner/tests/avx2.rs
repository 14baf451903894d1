//! The AVX2 kernel against a reference search written here with the `sha2` crate.
//!
//! Every test passes trivially on a CPU without AVX2 (the kernel does not exist there).

use aic_miner::{meets_target, Avx2x8, Found, Job, Kernel};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

fn sha256d(header: &[u8; 80]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(header)).into()
}

/// Straightforward search: hash every nonce, keep those meeting the target.
fn reference(job: &Job, start: u32, count: u32) -> Vec<Found> {
    let mut header = job.header;
    let mut out = Vec::new();
    for i in 0..count {
        let nonce = start + i;
        header[76..80].copy_from_slice(&nonce.to_le_bytes());
        let hash = sha256d(&header);
        if meets_target(&hash, &job.target) {
            out.push(Found { nonce, hash });
        }
    }
    out
}

fn avx2(job: &Job, start: u32, count: u32) -> Option<Vec<Found>> {
    let k = Avx2x8::new()?;
    let mut found = Vec::new();
    k.search(job, start, count, &mut found);
    Some(found)
}

fn check(job: &Job, start: u32, count: u32) {
    if let Some(found) = avx2(job, start, count) {
        assert_eq!(
            found,
            reference(job, start, count),
            "start {start} count {count}"
        );
    }
}

fn header_from(bytes: &[u8]) -> [u8; 80] {
    bytes.try_into().expect("80 bytes")
}

/// A target whose top byte is `top` and whose other bytes are all 0xff: about
/// (top + 1) / 256 of the hashes meet it.
fn easy_target(top: u8) -> [u8; 32] {
    let mut t = [0xff; 32];
    t[31] = top;
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn matches_reference_easy_target(
        header in prop::collection::vec(any::<u8>(), 80),
        top in 0u8..0x40,
        start in any::<u32>(),
        count in 0u32..200,
    ) {
        let job = Job { header: header_from(&header), target: easy_target(top) };
        let start = start.min(u32::MAX - count);
        check(&job, start, count);
    }

    /// Targets whose top 32 bits equal some hash's: the early exit passes such lanes on, and
    /// the full comparison (lower bytes random) decides.
    #[test]
    fn matches_reference_top_word_ties(
        header in prop::collection::vec(any::<u8>(), 80),
        low in prop::collection::vec(any::<u8>(), 28),
        start in 0u32..1_000_000,
        pick in 0u32..13,
    ) {
        let mut header = header_from(&header);
        header[76..80].copy_from_slice(&(start + pick).to_le_bytes());
        let hash = sha256d(&header);
        let mut target = [0u8; 32];
        target[..28].copy_from_slice(&low);
        target[28..].copy_from_slice(&hash[28..]);
        let job = Job { header, target };
        check(&job, start, 13);
        if let Some(found) = avx2(&job, start, 13) {
            let expect = meets_target(&hash, &target);
            prop_assert_eq!(found.iter().any(|f| f.nonce == start + pick), expect);
        }
    }
}

#[test]
fn odd_range_lengths() {
    let job = Job {
        header: [0x5a; 80],
        target: easy_target(0x20),
    };
    for count in [0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 100, 1001] {
        check(&job, 12_345, count);
    }
}

#[test]
fn range_ending_at_u32_max() {
    let job = Job {
        header: [0x11; 80],
        target: easy_target(0x30),
    };
    for count in [1, 5, 8, 13, 300] {
        check(&job, u32::MAX - (count - 1), count);
    }
    let all = Job {
        header: [0x11; 80],
        target: [0xff; 32],
    };
    if let Some(found) = avx2(&all, u32::MAX - 10, 11) {
        assert_eq!(found.len(), 11);
        assert_eq!(found.last().map(|f| f.nonce), Some(u32::MAX));
        assert_eq!(found, reference(&all, u32::MAX - 10, 11));
    }
}

#[test]
fn max_target_finds_everything() {
    let job = Job {
        header: [0xa7; 80],
        target: [0xff; 32],
    };
    let Some(found) = avx2(&job, 1_000, 77) else {
        return;
    };
    assert_eq!(found.len(), 77);
    assert_eq!(found, reference(&job, 1_000, 77));
}

#[test]
fn zero_target_finds_nothing() {
    let job = Job {
        header: [0x3c; 80],
        target: [0; 32],
    };
    assert_eq!(avx2(&job, 0, 4_099).unwrap_or_default(), Vec::new());
}

#[test]
fn bitcoin_genesis() {
    let mut header = [0u8; 80];
    header[0..4].copy_from_slice(&1u32.to_le_bytes());
    let mut merkle =
        hex::decode("4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b").unwrap();
    merkle.reverse();
    header[36..68].copy_from_slice(&merkle);
    header[68..72].copy_from_slice(&1_231_006_505u32.to_le_bytes());
    header[72..76].copy_from_slice(&0x1d00_ffffu32.to_le_bytes());
    // bits 0x1d00ffff: 0x00ffff * 256^(0x1d - 3), little-endian bytes 26, 27 = 0xff.
    let mut target = [0u8; 32];
    target[26] = 0xff;
    target[27] = 0xff;
    let job = Job { header, target };
    let nonce = 2_083_236_893u32;
    let Some(found) = avx2(&job, nonce - 1_003, 2_011) else {
        return;
    };
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].nonce, nonce);
    let mut shown = found[0].hash;
    shown.reverse();
    assert_eq!(
        hex::encode(shown),
        "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
    );
}

#[test]
fn name() {
    if let Some(k) = Avx2x8::new() {
        assert_eq!(k.name(), "avx2-8way");
    }
}
