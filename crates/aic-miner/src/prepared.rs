//! Scalar SHA-256 shared by the SIMD kernels ([`Avx2x8`](crate::Avx2x8) and
//! [`Avx512x16`](crate::Avx512x16)): the midstate, everything in the header's second block and
//! in the second hash that does not depend on the nonce (computed once per search call), and
//! the full scalar SHA-256d that re-checks candidates. Moved out of `avx2.rs`, unchanged but for
//! `pub(crate)`, so the AVX2 tests exercise it on every x86-64 CPU with AVX2.

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

pub(crate) const IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// Padding word after the message, and the bit lengths of the two messages.
pub(crate) const PAD: u32 = 0x8000_0000;
pub(crate) const LEN_HEADER: u32 = 640;
pub(crate) const LEN_HASH: u32 = 256;

// ---- Scalar SHA-256: midstate, precomputation and the full check of candidates. ----

fn bsig0(x: u32) -> u32 {
    x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
}
fn bsig1(x: u32) -> u32 {
    x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
}
pub(crate) fn ssig0(x: u32) -> u32 {
    x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
}
pub(crate) fn ssig1(x: u32) -> u32 {
    x.rotate_right(17) ^ x.rotate_right(19) ^ (x >> 10)
}

/// The nonce-free part of round `t`'s T1 (everything but `W[t]`), and its T2.
fn t1_t2(s: &[u32; 8], t: usize) -> (u32, u32) {
    let [a, b, c, _, e, f, g, h] = *s;
    let t1 = h
        .wrapping_add(bsig1(e))
        .wrapping_add((e & f) ^ (!e & g))
        .wrapping_add(K[t]);
    let t2 = bsig0(a).wrapping_add((a & b) ^ (a & c) ^ (b & c));
    (t1, t2)
}

/// One scalar round with message word `w`.
fn round(s: &mut [u32; 8], t: usize, w: u32) {
    let (t1, t2) = t1_t2(s, t);
    let t1 = t1.wrapping_add(w);
    *s = [
        t1.wrapping_add(t2),
        s[0],
        s[1],
        s[2],
        s[3].wrapping_add(t1),
        s[4],
        s[5],
        s[6],
    ];
}

fn compress(state: &mut [u32; 8], block: &[u32; 16]) {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(block);
    for t in 16..64 {
        w[t] = ssig1(w[t - 2])
            .wrapping_add(w[t - 7])
            .wrapping_add(ssig0(w[t - 15]))
            .wrapping_add(w[t - 16]);
    }
    let mut s = *state;
    for (t, &wt) in w.iter().enumerate() {
        round(&mut s, t, wt);
    }
    for (h, x) in state.iter_mut().zip(s) {
        *h = h.wrapping_add(x);
    }
}

/// What one search call computes once.
pub(crate) struct Pre {
    /// State after the header's first 64 bytes.
    pub(crate) mid: [u32; 8],
    /// Header words 16..=18 (bytes 64..76, big-endian): W0..=W2 of the second block.
    tail: [u32; 3],
    /// State after round 3 of the second block, without the nonce word: the nonce
    /// (byte-swapped, i.e. W3) is still to be added to `a` and `e`.
    pub(crate) st3: [u32; 8],
    /// W16 and W17 of the second block (nonce-free).
    pub(crate) w16: u32,
    pub(crate) w17: u32,
    /// Nonce-free parts of W18 (`+ ssig0(W3)`) and W19 (`+ W3`).
    pub(crate) c18: u32,
    pub(crate) c19: u32,
    /// Second hash: state after round 0 without W0 (W0 is still to be added to `a`, `e`).
    pub(crate) st0: [u32; 8],
}

impl Pre {
    pub(crate) fn new(header: &[u8; 80]) -> Self {
        let word = |i: usize| {
            u32::from_be_bytes([
                header[4 * i],
                header[4 * i + 1],
                header[4 * i + 2],
                header[4 * i + 3],
            ])
        };
        let block: [u32; 16] = core::array::from_fn(word);
        let mut mid = IV;
        compress(&mut mid, &block);
        let tail = [word(16), word(17), word(18)];

        let mut s = mid;
        for (t, &w) in tail.iter().enumerate() {
            round(&mut s, t, w);
        }
        let (t1, t2) = t1_t2(&s, 3);
        let st3 = [
            t1.wrapping_add(t2),
            s[0],
            s[1],
            s[2],
            s[3].wrapping_add(t1),
            s[4],
            s[5],
            s[6],
        ];
        // W16 = ssig1(W14) + W9 + ssig0(W1) + W0, with W9 = W14 = 0; and so on.
        let w16 = ssig0(tail[1]).wrapping_add(tail[0]);
        let w17 = ssig1(LEN_HEADER)
            .wrapping_add(ssig0(tail[2]))
            .wrapping_add(tail[1]);
        let c18 = ssig1(w16).wrapping_add(tail[2]);
        let c19 = ssig1(w17).wrapping_add(ssig0(PAD));

        let (t1, t2) = t1_t2(&IV, 0);
        let st0 = [
            t1.wrapping_add(t2),
            IV[0],
            IV[1],
            IV[2],
            IV[3].wrapping_add(t1),
            IV[4],
            IV[5],
            IV[6],
        ];
        Self {
            mid,
            tail,
            st3,
            w16,
            w17,
            c18,
            c19,
            st0,
        }
    }

    /// Full scalar SHA-256d of the header with `nonce` (internal byte order).
    pub(crate) fn hash(&self, nonce: u32) -> [u8; 32] {
        let mut b = [0u32; 16];
        b[..3].copy_from_slice(&self.tail);
        b[3] = nonce.swap_bytes();
        b[4] = PAD;
        b[15] = LEN_HEADER;
        let mut h1 = self.mid;
        compress(&mut h1, &b);
        let mut b = [0u32; 16];
        b[..8].copy_from_slice(&h1);
        b[8] = PAD;
        b[15] = LEN_HASH;
        let mut h2 = IV;
        compress(&mut h2, &b);
        let mut out = [0u8; 32];
        for (o, h) in out.chunks_exact_mut(4).zip(h2) {
            o.copy_from_slice(&h.to_be_bytes());
        }
        out
    }
}
