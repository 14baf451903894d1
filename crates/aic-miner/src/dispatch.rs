//! Run-time kernel choice: every kernel this CPU can run, fastest first.

use crate::avx2::Avx2x8;
use crate::avx512::Avx512x16;
use crate::kernel::Kernel;
use crate::portable::Portable;
use crate::shani::ShaNi2Way;

/// Every kernel this CPU can run, fastest first; the portable kernel is always last.
pub fn kernels() -> Vec<Box<dyn Kernel>> {
    let mut list: Vec<Box<dyn Kernel>> = Vec::new();
    // Each kernel's `new` returns `None` where the CPU lacks its features. Keep the order
    // fastest first (measured on one thread with `cargo bench -p aic-miner --bench kernels`).
    push(&mut list, ShaNi2Way::new());
    push(&mut list, Avx2x8::new());
    // AVX-512 has not been run on hardware, let alone measured, as of the commit that added
    // it: it goes after the measured SIMD kernels, so `best()` picks it on no CPU (every
    // AVX-512 CPU has AVX2) until a measurement on an AVX-512 machine moves it. `aic miner
    // bench` and the autotuner still measure it where the CPU has AVX-512F.
    push(&mut list, Avx512x16::new());
    push(&mut list, Some(Portable::new()));
    list
}

/// The fastest kernel this CPU can run.
pub fn best() -> Box<dyn Kernel> {
    kernels().swap_remove(0)
}

/// The kernel called `name` (see [`Kernel::name`]), if this CPU can run it.
pub fn by_name(name: &str) -> Option<Box<dyn Kernel>> {
    kernels().into_iter().find(|k| k.name() == name)
}

fn push<K: Kernel + 'static>(list: &mut Vec<Box<dyn Kernel>>, kernel: Option<K>) {
    if let Some(k) = kernel {
        list.push(Box::new(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernel::{Found, Job};
    use crate::test_vectors::{bits_to_target, real_headers};

    #[test]
    fn portable_is_last_and_names_are_unique() {
        let ks = kernels();
        assert_eq!(ks.last().unwrap().name(), "portable");
        let mut names: Vec<_> = ks.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ks.len());
        assert_eq!(best().name(), ks[0].name());
        assert!(by_name("portable").is_some());
        assert!(by_name("no-such-kernel").is_none());
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn sha_ni_is_offered_where_the_cpu_has_it() {
        if is_x86_feature_detected!("sha") && is_x86_feature_detected!("sse4.1") {
            assert!(by_name("sha-ni-2way").is_some());
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn avx512_is_offered_only_where_the_cpu_has_it_and_never_chosen_unmeasured() {
        let has = is_x86_feature_detected!("avx512f");
        assert_eq!(by_name("avx512-16way").is_some(), has);
        if has && kernels().len() > 2 {
            // Another SIMD kernel exists (AVX2 does on every AVX-512 CPU): it is preferred.
            assert_ne!(best().name(), "avx512-16way");
        }
    }

    #[test]
    fn every_kernel_finds_exactly_the_real_nonces() {
        for k in kernels() {
            for (name, header, hash) in real_headers() {
                let nonce = u32::from_le_bytes(header[76..].try_into().unwrap());
                let bits = u32::from_le_bytes(header[72..76].try_into().unwrap());
                let job = Job {
                    header,
                    target: bits_to_target(bits),
                };
                // Odd length, the real nonce not at an even offset for every header.
                let start = nonce - 201;
                let mut found = Vec::new();
                k.search(&job, start, 401, &mut found);
                assert_eq!(found, vec![Found { nonce, hash }], "{} {name}", k.name());
            }
        }
    }
}
