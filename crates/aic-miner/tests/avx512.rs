//! The AVX-512 kernel against two oracles: a reference search written here with the `sha2`
//! crate, and the portable kernel.
//!
//! The kernel exists only on x86-64 CPUs with AVX-512F. Elsewhere every test prints
//! "skipped: no AVX-512F on this CPU" and passes without testing anything: run
//! `cargo test --release -p aic-miner --test avx512 -- --nocapture` on an AVX-512 machine and
//! check that no test says it was skipped.
#![allow(clippy::print_stderr)]

use aic_miner::{meets_target, Avx512x16, Found, Job, Kernel, Portable};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

/// The kernel, or `None` (with the skip message) where the CPU lacks AVX-512F.
fn kernel(test: &str) -> Option<Avx512x16> {
    #[cfg(target_arch = "x86_64")]
    let has = std::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    let has = false;
    let k = Avx512x16::new();
    assert_eq!(
        k.is_some(),
        has,
        "the kernel exists exactly where AVX-512F does"
    );
    if k.is_none() {
        eprintln!("{test}: skipped: no AVX-512F on this CPU");
    }
    k
}

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

fn search(k: &dyn Kernel, job: &Job, start: u32, count: u32) -> Vec<Found> {
    let mut found = Vec::new();
    k.search(job, start, count, &mut found);
    found
}

/// The kernel finds exactly what the `sha2` reference and the portable kernel find.
fn check(k: &Avx512x16, job: &Job, start: u32, count: u32) {
    let got = search(k, job, start, count);
    let want = reference(job, start, count);
    assert_eq!(got, want, "start {start} count {count}");
    assert_eq!(got, search(&Portable, job, start, count), "portable");
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

#[test]
fn matches_reference_easy_target() {
    let Some(k) = kernel("matches_reference_easy_target") else {
        return;
    };
    proptest!(ProptestConfig::with_cases(64), |(
        header in prop::collection::vec(any::<u8>(), 80),
        top in 0u8..0x40,
        start in any::<u32>(),
        count in 0u32..300,
    )| {
        let job = Job { header: header_from(&header), target: easy_target(top) };
        let start = start.min(u32::MAX - count);
        let got = search(&k, &job, start, count);
        prop_assert_eq!(&got, &reference(&job, start, count));
        prop_assert_eq!(&got, &search(&Portable, &job, start, count));
    });
}

/// Targets whose top 32 bits equal some hash's: the early exit passes such lanes on, and the
/// full comparison (lower bytes random) decides. The range, 37 nonces, spans three batches of
/// 16 and the picked nonce may sit in any lane of any of them.
#[test]
fn matches_reference_top_word_ties() {
    let Some(k) = kernel("matches_reference_top_word_ties") else {
        return;
    };
    proptest!(ProptestConfig::with_cases(64), |(
        header in prop::collection::vec(any::<u8>(), 80),
        low in prop::collection::vec(any::<u8>(), 28),
        start in 0u32..u32::MAX - 37,
        pick in 0u32..37,
    )| {
        let mut header = header_from(&header);
        header[76..80].copy_from_slice(&(start + pick).to_le_bytes());
        let hash = sha256d(&header);
        let mut target = [0u8; 32];
        target[..28].copy_from_slice(&low);
        target[28..].copy_from_slice(&hash[28..]);
        let job = Job { header, target };
        let got = search(&k, &job, start, 37);
        prop_assert_eq!(&got, &reference(&job, start, 37));
        let expect = meets_target(&hash, &target);
        prop_assert_eq!(got.iter().any(|f| f.nonce == start + pick), expect);
    });
}

/// For a hash in every lane position: the hash itself as the target is met, the hash less one
/// is not; the two differ only below the top word (unless the hash's low 28 bytes are zero).
#[test]
fn target_equal_to_a_hash_and_one_below_in_every_lane() {
    let Some(k) = kernel("target_equal_to_a_hash_and_one_below_in_every_lane") else {
        return;
    };
    let mut header = [0u8; 80];
    for (i, b) in header.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(13).wrapping_add(5);
    }
    for start in [0u32, 1, 3_000_000_017] {
        let all = reference(
            &Job {
                header,
                target: [0xff; 32],
            },
            start,
            16,
        );
        for (lane, hit) in all.iter().enumerate() {
            let at = Job {
                header,
                target: hit.hash,
            };
            let found = search(&k, &at, start, 16);
            assert!(found.contains(hit), "start {start} lane {lane}");
            assert_eq!(
                found,
                reference(&at, start, 16),
                "start {start} lane {lane}"
            );
            let mut below = hit.hash;
            for byte in below.iter_mut() {
                let (b, borrow) = byte.overflowing_sub(1);
                *byte = b;
                if !borrow {
                    break;
                }
            }
            let under = Job {
                header,
                target: below,
            };
            let found = search(&k, &under, start, 16);
            assert!(!found.contains(hit), "start {start} lane {lane}");
            assert_eq!(
                found,
                reference(&under, start, 16),
                "start {start} lane {lane}"
            );
        }
    }
}

/// Range lengths around multiples of 16 (the final partial batch), from starts at odd offsets
/// and at offsets that are and are not multiples of 16.
#[test]
fn ranges_across_lane_boundaries() {
    let Some(k) = kernel("ranges_across_lane_boundaries") else {
        return;
    };
    let job = Job {
        header: [0x5a; 80],
        target: easy_target(0x20),
    };
    for start in [0u32, 1, 3, 7, 8, 15, 16, 17, 12_345, 2_147_483_643] {
        for count in [
            0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 63, 64, 65, 100, 1001,
        ] {
            check(&k, &job, start, count);
        }
    }
}

/// Every nonce meets the all-ones target: each lane must report its own nonce and hash.
#[test]
fn max_target_finds_everything() {
    let Some(k) = kernel("max_target_finds_everything") else {
        return;
    };
    let job = Job {
        header: [0xa7; 80],
        target: [0xff; 32],
    };
    for (start, count) in [(1_000, 77), (0, 16), (5, 16), (17, 33), (999, 1)] {
        let found = search(&k, &job, start, count);
        assert_eq!(found.len(), count as usize);
        let nonces: Vec<u32> = found.iter().map(|f| f.nonce).collect();
        assert_eq!(nonces, (start..start + count).collect::<Vec<_>>());
        assert_eq!(found, reference(&job, start, count));
    }
}

#[test]
fn zero_target_finds_nothing() {
    let Some(k) = kernel("zero_target_finds_nothing") else {
        return;
    };
    let job = Job {
        header: [0x3c; 80],
        target: [0; 32],
    };
    assert_eq!(search(&k, &job, 0, 4_099), Vec::new());
}

#[test]
fn range_ending_at_u32_max() {
    let Some(k) = kernel("range_ending_at_u32_max") else {
        return;
    };
    let job = Job {
        header: [0x11; 80],
        target: easy_target(0x30),
    };
    for count in [1, 5, 8, 13, 15, 16, 17, 31, 32, 300] {
        check(&k, &job, u32::MAX - (count - 1), count);
    }
    let all = Job {
        header: [0x11; 80],
        target: [0xff; 32],
    };
    let found = search(&k, &all, u32::MAX - 20, 21);
    assert_eq!(found.len(), 21);
    assert_eq!(found.last().map(|f| f.nonce), Some(u32::MAX));
    assert_eq!(found, reference(&all, u32::MAX - 20, 21));
}

// ---- Real Bitcoin block headers (as in the crate's own test vectors). ----

/// A hash as block explorers print it (reversed) to internal byte order.
fn from_display(hex_str: &str) -> [u8; 32] {
    let mut bytes: [u8; 32] = hex::decode(hex_str).unwrap().try_into().unwrap();
    bytes.reverse();
    bytes
}

/// Serialises a header from its fields, hashes given as block explorers print them.
fn header(version: u32, prev: &str, merkle: &str, time: u32, bits: u32, nonce: u32) -> [u8; 80] {
    let mut h = [0u8; 80];
    h[0..4].copy_from_slice(&version.to_le_bytes());
    h[4..36].copy_from_slice(&from_display(prev));
    h[36..68].copy_from_slice(&from_display(merkle));
    h[68..72].copy_from_slice(&time.to_le_bytes());
    h[72..76].copy_from_slice(&bits.to_le_bytes());
    h[76..80].copy_from_slice(&nonce.to_le_bytes());
    h
}

/// Expands compact `bits` to a 32-byte little-endian target.
fn bits_to_target(bits: u32) -> [u8; 32] {
    let exponent = (bits >> 24) as usize;
    let mantissa = (bits & 0x007f_ffff).to_le_bytes();
    let mut target = [0u8; 32];
    for (i, &b) in mantissa[..3].iter().enumerate() {
        if let Some(slot) = (exponent + i)
            .checked_sub(3)
            .and_then(|j| target.get_mut(j))
        {
            *slot = b;
        }
    }
    target
}

/// (name, header, block hash as explorers print it) for Bitcoin blocks 0, 1 and 100000.
fn real_headers() -> Vec<(&'static str, [u8; 80], &'static str)> {
    vec![
        (
            "genesis",
            header(
                1,
                "0000000000000000000000000000000000000000000000000000000000000000",
                "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b",
                1231006505,
                0x1d00ffff,
                2083236893,
            ),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
        ),
        (
            "block 1",
            header(
                1,
                "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
                "0e3e2357e806b6cdb1f70b54c3a3a17b6714ee1f0e68bebb44a74b1efd512098",
                1231469665,
                0x1d00ffff,
                2573394689,
            ),
            "00000000839a8e6886ab5951d76f411475428afc90947ee320161bbf18eb6048",
        ),
        (
            "block 100000",
            header(
                1,
                "000000000002d01c1fccc21636b607dfd930d31d01c3a62104612a1719011250",
                "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766",
                1293623863,
                0x1b04864c,
                274148111,
            ),
            "000000000003ba27aa200b1cecaad478d2b00432346c3f1f3986da1afd33e506",
        ),
    ]
}

/// The real nonce, and only it, is found with the block's own target: in ranges of odd length
/// from odd offsets, and with the nonce in each of the 16 lanes of a batch.
#[test]
fn real_bitcoin_blocks() {
    let Some(k) = kernel("real_bitcoin_blocks") else {
        return;
    };
    for (name, header, display) in real_headers() {
        let nonce = u32::from_le_bytes(header[76..].try_into().unwrap());
        let bits = u32::from_le_bytes(header[72..76].try_into().unwrap());
        let job = Job {
            header,
            target: bits_to_target(bits),
        };
        let hash = from_display(display);
        assert_eq!(sha256d(&header), hash, "{name}: the vector itself");
        let want = vec![Found { nonce, hash }];
        for (start, count) in [(nonce - 201, 401), (nonce - 1_003, 2_011), (nonce, 1)] {
            assert_eq!(
                search(&k, &job, start, count),
                want,
                "{name} {start} {count}"
            );
        }
        for lane in 0..16 {
            // The nonce in lane `lane` of the first batch; ranges ending in a partial batch.
            let count = lane + 1 + (lane * 7) % 16;
            assert_eq!(
                search(&k, &job, nonce - lane, count),
                want,
                "{name} lane {lane} count {count}"
            );
        }
        // Shown as explorers show it.
        let mut shown = search(&k, &job, nonce - 5, 11)[0].hash;
        shown.reverse();
        assert_eq!(hex::encode(shown), display, "{name}");
    }
}

#[test]
fn name() {
    let Some(k) = kernel("name") else {
        return;
    };
    assert_eq!(k.name(), "avx512-16way");
}
