//! The portable kernel: plain scalar SHA-256 (FIPS 180-4), the oracle for every other kernel.
//!
//! The header is 80 bytes, so its SHA-256 takes two 64-byte blocks. The first block (bytes
//! 0..64) does not depend on the nonce: its compression (the midstate) is computed once per
//! search. Each nonce then costs one compression for the second block (bytes 64..80 and the
//! padding) and one for the second SHA-256 over the 32-byte first hash.

use crate::kernel::{meets_target, Found, Job, Kernel};

/// SHA-256 round constants (FIPS 180-4, 4.2.2).
pub(crate) const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 initial hash value (FIPS 180-4, 5.3.3).
pub(crate) const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Σ0 (upper-case sigma 0), used on `a` in each round.
pub(crate) fn big_sigma0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}

/// Σ1, used on `e` in each round.
pub(crate) fn big_sigma1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}

/// σ0 (lower-case sigma 0), used in the message schedule.
pub(crate) fn small_sigma0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}

/// σ1, used in the message schedule.
pub(crate) fn small_sigma1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}

/// Ch(e, f, g): bits of `f` where `e` is set, of `g` elsewhere.
pub(crate) fn ch(e: u32, f: u32, g: u32) -> u32 {
    (e & f) ^ (!e & g)
}

/// Maj(a, b, c): the majority of each bit.
pub(crate) fn maj(a: u32, b: u32, c: u32) -> u32 {
    (a & b) ^ (a & c) ^ (b & c)
}

/// One SHA-256 round on the working variables `[a, b, c, d, e, f, g, h]` with `k + w`.
pub(crate) fn round(s: &mut [u32; 8], kw: u32) {
    let [a, b, c, d, e, f, g, h] = *s;
    let t1 = h
        .wrapping_add(big_sigma1(e))
        .wrapping_add(ch(e, f, g))
        .wrapping_add(kw);
    let t2 = big_sigma0(a).wrapping_add(maj(a, b, c));
    *s = [t1.wrapping_add(t2), a, b, c, d.wrapping_add(t1), e, f, g];
}

/// The SHA-256 compression function: updates `state` with one block given as 16 big-endian
/// words.
pub(crate) fn compress(state: &mut [u32; 8], block: &[u32; 16]) {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(block);
    for t in 16..64 {
        w[t] = small_sigma1(w[t - 2])
            .wrapping_add(w[t - 7])
            .wrapping_add(small_sigma0(w[t - 15]))
            .wrapping_add(w[t - 16]);
    }
    let mut s = *state;
    for t in 0..64 {
        round(&mut s, K[t].wrapping_add(w[t]));
    }
    for (h, x) in state.iter_mut().zip(s) {
        *h = h.wrapping_add(x);
    }
}

/// Big-endian word `i` of `bytes`.
pub(crate) fn be_word(bytes: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([
        bytes[4 * i],
        bytes[4 * i + 1],
        bytes[4 * i + 2],
        bytes[4 * i + 3],
    ])
}

/// The state after compressing the header's first 64 bytes.
pub(crate) fn midstate(header: &[u8; 80]) -> [u32; 8] {
    let mut block = [0u32; 16];
    for (i, w) in block.iter_mut().enumerate() {
        *w = be_word(header, i);
    }
    let mut state = H0;
    compress(&mut state, &block);
    state
}

/// Big-endian words 16..19 of the header (bytes 64..76: the end of the merkle root, the time
/// and the bits), the fixed part of the second block.
pub(crate) fn tail_words(header: &[u8; 80]) -> [u32; 3] {
    [
        be_word(header, 16),
        be_word(header, 17),
        be_word(header, 18),
    ]
}

/// The header's nonce as the big-endian message word SHA-256 reads: the header stores the
/// nonce little-endian.
pub(crate) fn nonce_word(nonce: u32) -> u32 {
    nonce.swap_bytes()
}

/// The serialised hash (internal byte order) of a final state.
pub(crate) fn state_bytes(state: &[u32; 8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, w) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// SHA-256d of the header whose first block compresses to `mid`, whose bytes 64..76 are
/// `tail` and whose nonce is `nonce`.
pub(crate) fn sha256d_from_midstate(mid: &[u32; 8], tail: &[u32; 3], nonce: u32) -> [u8; 32] {
    // Second block: 16 header bytes, the 0x80 pad byte, zeros, and the length (640 bits).
    let mut state = *mid;
    compress(
        &mut state,
        &[
            tail[0],
            tail[1],
            tail[2],
            nonce_word(nonce),
            0x8000_0000,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            640,
        ],
    );
    // Second hash: the 32-byte first hash, the pad byte, zeros, and the length (256 bits).
    let mut block = [0u32; 16];
    block[..8].copy_from_slice(&state);
    block[8] = 0x8000_0000;
    block[15] = 256;
    let mut out = H0;
    compress(&mut out, &block);
    state_bytes(&out)
}

/// SHA-256d of an 80-byte header (internal byte order), with the scalar code.
pub fn sha256d_header(header: &[u8; 80]) -> [u8; 32] {
    let nonce = u32::from_le_bytes([header[76], header[77], header[78], header[79]]);
    sha256d_from_midstate(&midstate(header), &tail_words(header), nonce)
}

/// The portable kernel: scalar SHA-256d, one nonce at a time, with the midstate reused.
#[derive(Clone, Copy, Debug, Default)]
pub struct Portable;

impl Portable {
    /// The portable kernel; it runs everywhere.
    pub fn new() -> Self {
        Portable
    }
}

impl Kernel for Portable {
    fn name(&self) -> &'static str {
        "portable"
    }

    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        debug_assert!(u64::from(start) + u64::from(count) <= 1 << 32);
        let mid = midstate(&job.header);
        let tail = tail_words(&job.header);
        for i in 0..count {
            let nonce = start + i;
            let hash = sha256d_from_midstate(&mid, &tail, nonce);
            if meets_target(&hash, &job.target) {
                found.push(Found { nonce, hash });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_vectors::{bits_to_target, real_headers};
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    fn sha2_sha256d(header: &[u8; 80]) -> [u8; 32] {
        Sha256::digest(Sha256::digest(header)).into()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn sha256d_matches_sha2(bytes in proptest::collection::vec(any::<u8>(), 80)) {
            let header: [u8; 80] = bytes.try_into().unwrap();
            prop_assert_eq!(sha256d_header(&header), sha2_sha256d(&header));
        }

        #[test]
        fn search_hashes_match_sha2(
            bytes in proptest::collection::vec(any::<u8>(), 80),
            start in any::<u32>(),
        ) {
            let header: [u8; 80] = bytes.try_into().unwrap();
            let start = start.min(u32::MAX - 4);
            let job = Job { header, target: [0xff; 32] };
            let mut found = Vec::new();
            Portable.search(&job, start, 4, &mut found);
            prop_assert_eq!(found.len(), 4);
            for f in found {
                let mut h = header;
                h[76..].copy_from_slice(&f.nonce.to_le_bytes());
                prop_assert_eq!(f.hash, sha2_sha256d(&h));
            }
        }
    }

    #[test]
    fn real_headers_hash_to_their_block_hashes() {
        for (name, header, hash) in real_headers() {
            assert_eq!(sha256d_header(&header), hash, "{name}");
            assert_eq!(sha2_sha256d(&header), hash, "{name}");
        }
    }

    #[test]
    fn finds_exactly_the_real_nonce() {
        for (name, header, hash) in real_headers() {
            let nonce = u32::from_le_bytes(header[76..].try_into().unwrap());
            let bits = u32::from_le_bytes(header[72..76].try_into().unwrap());
            let job = Job {
                header,
                target: bits_to_target(bits),
            };
            let start = nonce.saturating_sub(300);
            let mut found = Vec::new();
            Portable.search(&job, start, 600, &mut found);
            assert_eq!(found, vec![Found { nonce, hash }], "{name}");
        }
    }
}
