//! Deterministic draws from a block hash: verifiers and the segments they replay.

use aic_primitives::{sha256, Hash256};

/// Draws `k` distinct indices out of `0..n` (all of them when `k >= n`), in draw order.
///
/// A partial Fisher-Yates shuffle whose i-th swap takes `u64(SHA-256(seed || i)) mod (n - i)`.
/// The modulo bias is below `n / 2^64`, nothing next to the seed's own bias: whoever mines the
/// parent block can try other blocks, at the cost of their proof of work (ADR 0017).
pub fn draw_indices(seed: &Hash256, n: usize, k: usize) -> Vec<usize> {
    let k = k.min(n);
    let mut pool: Vec<usize> = (0..n).collect();
    for i in 0..k {
        let mut bytes = seed.0.to_vec();
        bytes.extend_from_slice(&(i as u64).to_le_bytes());
        let h = sha256(&bytes);
        let mut word = [0u8; 8];
        word.copy_from_slice(&h.0[..8]);
        let j = i + (u64::from_le_bytes(word) % (n - i) as u64) as usize;
        pool.swap(i, j);
    }
    pool.truncate(k);
    pool
}

/// The seed of a job's draw in a round: SHA-256 of a tag, the parent block's hash, the job
/// and the round, so two jobs in one block draw independently.
pub(crate) fn job_seed(block_seed: &Hash256, job: &Hash256, round: u8, what: &[u8]) -> Hash256 {
    let mut bytes = b"AIC/market/draw/".to_vec();
    bytes.extend_from_slice(what);
    bytes.extend_from_slice(&block_seed.0);
    bytes.extend_from_slice(&job.0);
    bytes.push(round);
    sha256(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_distinct_in_range_and_repeatable() {
        let seed = sha256(b"seed");
        for n in 0..20 {
            for k in 0..25 {
                let d = draw_indices(&seed, n, k);
                assert_eq!(d.len(), k.min(n));
                let mut s = d.clone();
                s.sort();
                s.dedup();
                assert_eq!(s.len(), d.len());
                assert!(d.iter().all(|i| *i < n));
                assert_eq!(d, draw_indices(&seed, n, k));
            }
        }
    }

    #[test]
    fn draws_are_roughly_uniform() {
        let mut counts = [0u32; 10];
        for s in 0..5_000u32 {
            let seed = sha256(&s.to_le_bytes());
            counts[draw_indices(&seed, 10, 1)[0]] += 1;
        }
        // 500 expected each; 5 sigma is about 106.
        assert!(counts.iter().all(|c| (394..=606).contains(c)), "{counts:?}");
    }
}
