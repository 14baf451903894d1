//! Every kernel finds exactly what the portable kernel finds.

use aic_miner::{kernels, Found, Job, Kernel, Portable};
use proptest::prelude::*;

fn search(k: &dyn Kernel, job: &Job, start: u32, count: u32) -> Vec<Found> {
    let mut found = Vec::new();
    k.search(job, start, count, &mut found);
    found
}

/// A random header and an easy target: the top byte 0x00..=0x0f, the rest random, so that
/// up to one nonce in 16 passes.
fn easy_job() -> impl Strategy<Value = Job> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<[u8; 16]>(),
        any::<[u8; 32]>(),
        0u8..=0x0f,
    )
        .prop_map(|(a, b, c, mut target, top)| {
            let mut header = [0u8; 80];
            header[..32].copy_from_slice(&a);
            header[32..64].copy_from_slice(&b);
            header[64..].copy_from_slice(&c);
            target[31] = top;
            Job { header, target }
        })
}

/// A range of up to 300 nonces (odd and even lengths), sometimes ending at `u32::MAX`.
fn range() -> impl Strategy<Value = (u32, u32)> {
    (any::<u32>(), 0u32..300, any::<bool>()).prop_map(|(start, count, at_end)| {
        if at_end {
            // The range's end, `start + count`, is 2^32.
            (0u32.wrapping_sub(count), count)
        } else {
            (start.min(u32::MAX - count), count)
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn kernels_agree_with_portable(job in easy_job(), (start, count) in range()) {
        let want = search(&Portable, &job, start, count);
        for k in kernels() {
            prop_assert_eq!(&search(k.as_ref(), &job, start, count), &want, "{}", k.name());
        }
    }

    /// Targets equal to a hash, and one below it, differ only below the top word: the full
    /// compare after the top-word check decides.
    #[test]
    fn kernels_compare_below_the_top_word(job in easy_job(), nonce in any::<u32>()) {
        let start = nonce.min(u32::MAX - 2);
        let all = search(&Portable, &Job { target: [0xff; 32], ..job }, start, 3);
        let hash = all[1].hash;
        let mut below = hash;
        // The hash less one (little-endian).
        for byte in below.iter_mut() {
            let (b, borrow) = byte.overflowing_sub(1);
            *byte = b;
            if !borrow {
                break;
            }
        }
        for k in kernels() {
            let at = search(k.as_ref(), &Job { target: hash, ..job }, start, 3);
            prop_assert!(at.contains(&all[1]), "{}", k.name());
            prop_assert_eq!(&at, &search(&Portable, &Job { target: hash, ..job }, start, 3));
            if hash != [0; 32] {
                let under = search(k.as_ref(), &Job { target: below, ..job }, start, 3);
                prop_assert!(!under.iter().any(|f| f.nonce == all[1].nonce), "{}", k.name());
                prop_assert_eq!(&under, &search(&Portable, &Job { target: below, ..job }, start, 3));
            }
        }
    }
}

#[test]
fn all_ones_target_finds_every_nonce_and_zero_finds_none() {
    let mut header = [0u8; 80];
    for (i, b) in header.iter_mut().enumerate() {
        *b = (i * 7) as u8;
    }
    for k in kernels() {
        for (start, count) in [(0, 37), (u32::MAX - 36, 37), (1000, 0), (u32::MAX, 1)] {
            let all = search(
                k.as_ref(),
                &Job {
                    header,
                    target: [0xff; 32],
                },
                start,
                count,
            );
            let nonces: Vec<u32> = all.iter().map(|f| f.nonce).collect();
            let want: Vec<u32> = (0..count).map(|i| start + i).collect();
            assert_eq!(nonces, want, "{}", k.name());
            assert_eq!(
                all,
                search(
                    &Portable,
                    &Job {
                        header,
                        target: [0xff; 32]
                    },
                    start,
                    count
                )
            );
            assert!(search(
                k.as_ref(),
                &Job {
                    header,
                    target: [0; 32]
                },
                start,
                count
            )
            .is_empty());
        }
    }
}
