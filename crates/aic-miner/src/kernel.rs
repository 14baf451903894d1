//! The kernel interface.

/// One search job: an 80-byte header (its nonce bytes are ignored) and the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The header; bytes 76..80 (the nonce) are replaced by each candidate.
    pub header: [u8; 80],
    /// The target as 32 little-endian bytes: a hash meets it when, read as a little-endian
    /// number, it is at most the target.
    pub target: [u8; 32],
}

/// A nonce whose header hash meets the job's target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// The nonce.
    pub nonce: u32,
    /// SHA-256d of the header with that nonce (internal byte order).
    pub hash: [u8; 32],
}

/// A SHA-256d nonce search.
pub trait Kernel: Send + Sync {
    /// Short name, e.g. `portable`, `sha-ni-2way`, `avx2-8way`, `avx512-16way`.
    fn name(&self) -> &'static str;

    /// Searches nonces `start, start + 1, ..., start + count - 1` (`start + count` must not
    /// exceed 2^32) and appends every one that meets the target to `found`, in nonce order.
    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>);
}

/// True if `hash` (internal byte order), read as a little-endian number, is at most `target`.
pub fn meets_target(hash: &[u8; 32], target: &[u8; 32]) -> bool {
    for i in (0..32).rev() {
        if hash[i] != target[i] {
            return hash[i] < target[i];
        }
    }
    true
}
