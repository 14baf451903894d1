//! The AVX2 kernel: SHA-256d of eight nonces at once, one per 32-bit lane of a `__m256i`.
//!
//! Per search call the header's first 64 bytes are compressed once (the midstate), and
//! everything in the second block that does not depend on the nonce is computed once: rounds
//! 0..=2, the nonce-free part of round 3, and the constant message words and constant parts of
//! the message schedule of both hashes.
//!
//! Early exit: the top 32 bits of the hash, read as a little-endian number, are bytes 28..32,
//! the big-endian bytes of the final state word H7 read little-endian, i.e. `H7.swap_bytes()`.
//! H7 of the second hash is `IV7 + e` after round 60, so rounds 61..=63 are skipped and rounds
//! 57..=60 compute only `e`. Lanes whose top word is at most the target's top word are hashed
//! again in scalar code and checked fully with [`meets_target`]; for real targets that is
//! about one nonce in 2^32.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use crate::kernel::meets_target;
use crate::kernel::{Found, Job, Kernel};

/// 8-way AVX2 SHA-256d kernel. Exists only on x86-64 CPUs with AVX2 (see [`Avx2x8::new`]).
#[derive(Clone, Copy, Debug)]
pub struct Avx2x8 {
    _private: (),
}

impl Avx2x8 {
    /// The kernel, or `None` unless this is an x86-64 CPU with AVX2.
    pub fn new() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx2") {
                return Some(Self { _private: () });
            }
        }
        None
    }
}

impl Kernel for Avx2x8 {
    fn name(&self) -> &'static str {
        "avx2-8way"
    }

    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        debug_assert!(
            u64::from(start) + u64::from(count) <= 1 << 32,
            "range past 2^32"
        );
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Avx2x8` is only constructed by `new`, after detecting AVX2.
        unsafe {
            x86::search(job, start, count, found);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (job, start, count, found);
            unreachable!("Avx2x8 cannot be constructed off x86-64");
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{meets_target, Found, Job};
    use core::arch::x86_64::*;

    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];

    const IV: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];

    /// Padding word after the message, and the bit lengths of the two messages.
    const PAD: u32 = 0x8000_0000;
    const LEN_HEADER: u32 = 640;
    const LEN_HASH: u32 = 256;

    // ---- Scalar SHA-256: midstate, precomputation and the full check of candidates. ----

    fn bsig0(x: u32) -> u32 {
        x.rotate_right(2) ^ x.rotate_right(13) ^ x.rotate_right(22)
    }
    fn bsig1(x: u32) -> u32 {
        x.rotate_right(6) ^ x.rotate_right(11) ^ x.rotate_right(25)
    }
    fn ssig0(x: u32) -> u32 {
        x.rotate_right(7) ^ x.rotate_right(18) ^ (x >> 3)
    }
    fn ssig1(x: u32) -> u32 {
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
    struct Pre {
        /// State after the header's first 64 bytes.
        mid: [u32; 8],
        /// Header words 16..=18 (bytes 64..76, big-endian): W0..=W2 of the second block.
        tail: [u32; 3],
        /// State after round 3 of the second block, without the nonce word: the nonce
        /// (byte-swapped, i.e. W3) is still to be added to `a` and `e`.
        st3: [u32; 8],
        /// W16 and W17 of the second block (nonce-free).
        w16: u32,
        w17: u32,
        /// Nonce-free parts of W18 (`+ ssig0(W3)`) and W19 (`+ W3`).
        c18: u32,
        c19: u32,
        /// Second hash: state after round 0 without W0 (W0 is still to be added to `a`, `e`).
        st0: [u32; 8],
    }

    impl Pre {
        fn new(header: &[u8; 80]) -> Self {
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
        fn hash(&self, nonce: u32) -> [u8; 32] {
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

    // ---- AVX2. Every function below requires AVX2 (the caller checks). ----
    //
    // The helpers are `unsafe fn`s (callable only from AVX2 code) marked `#[inline]`; in
    // release builds they all inline into `hash1` / `hash2_h7`.

    type V = __m256i;

    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn splat(x: u32) -> V {
        _mm256_set1_epi32(x as i32)
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn add(a: V, b: V) -> V {
        _mm256_add_epi32(a, b)
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn xor(a: V, b: V) -> V {
        _mm256_xor_si256(a, b)
    }
    /// Rotate right by `R`; `L` must be `32 - R`.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn rotr<const R: i32, const L: i32>(x: V) -> V {
        _mm256_or_si256(_mm256_srli_epi32::<R>(x), _mm256_slli_epi32::<L>(x))
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn vbsig0(x: V) -> V {
        xor(xor(rotr::<2, 30>(x), rotr::<13, 19>(x)), rotr::<22, 10>(x))
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn vbsig1(x: V) -> V {
        xor(xor(rotr::<6, 26>(x), rotr::<11, 21>(x)), rotr::<25, 7>(x))
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn vssig0(x: V) -> V {
        xor(
            xor(rotr::<7, 25>(x), rotr::<18, 14>(x)),
            _mm256_srli_epi32::<3>(x),
        )
    }
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn vssig1(x: V) -> V {
        xor(
            xor(rotr::<17, 15>(x), rotr::<19, 13>(x)),
            _mm256_srli_epi32::<10>(x),
        )
    }

    /// Eight SHA-256 states, plus `b ^ c` carried over from the previous round's `a ^ b`
    /// for the cheaper Maj(a, b, c) = b ^ ((a ^ b) & (b ^ c)).
    #[derive(Clone, Copy)]
    struct State {
        s: [V; 8],
        bc: V,
    }

    impl State {
        /// Broadcasts a scalar state; `x` (one word per lane) is added to `a` and `e`.
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn with_word(s: &[u32; 8], x: V) -> Self {
            State {
                s: [
                    add(splat(s[0]), x),
                    splat(s[1]),
                    splat(s[2]),
                    splat(s[3]),
                    add(splat(s[4]), x),
                    splat(s[5]),
                    splat(s[6]),
                    splat(s[7]),
                ],
                bc: splat(s[1] ^ s[2]),
            }
        }

        /// T1 of a round with `kw = K[t] + W[t]`.
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn t1(&self, kw: V) -> V {
            let [_, _, _, _, e, f, g, h] = self.s;
            let ch = xor(_mm256_and_si256(xor(f, g), e), g);
            add(add(h, kw), add(vbsig1(e), ch))
        }

        /// One full round with `kw = K[t] + W[t]`.
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn round(&mut self, kw: V) {
            let t1 = self.t1(kw);
            let [a, b, c, d, e, f, g, _] = self.s;
            let ab = xor(a, b);
            let maj = xor(b, _mm256_and_si256(ab, self.bc));
            let t2 = add(vbsig0(a), maj);
            self.s = [add(t1, t2), a, b, c, add(d, t1), e, f, g];
            self.bc = ab;
        }

        /// A round computing only the new `e` (the new `a` is left wrong: used where no later
        /// `a` matters).
        #[target_feature(enable = "avx2")]
        #[inline]
        unsafe fn round_e(&mut self, kw: V) {
            let t1 = self.t1(kw);
            let [a, b, c, d, e, f, g, _] = self.s;
            self.s = [a, a, b, c, add(d, t1), e, f, g];
        }
    }

    /// `K[t] + W[t]` as a vector, `W[t]` a vector.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn kw(t: usize, w: V) -> V {
        add(splat(K[t]), w)
    }

    /// `K[t] + w` broadcast, `w` a constant.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn kc(t: usize, w: u32) -> V {
        splat(K[t].wrapping_add(w))
    }

    /// The general schedule step.
    #[target_feature(enable = "avx2")]
    #[inline]
    unsafe fn sched(w: &[V; 64], t: usize) -> V {
        add(
            add(vssig1(w[t - 2]), w[t - 7]),
            add(vssig0(w[t - 15]), w[t - 16]),
        )
    }

    /// First SHA-256 (second block) of eight headers, `n` = their nonces byte-swapped (W3).
    /// `w` is scratch for the message schedule (only words 16.. are written).
    // Indexed loops: `t` is the round number as well as the index, and the iterator forms
    // clippy suggests were not inlined here.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2")]
    unsafe fn hash1(p: &Pre, n: V, w: &mut [V; 64]) -> [V; 8] {
        let mut s = State::with_word(&p.st3, n);
        s.round(kc(4, PAD));
        for t in 5..15 {
            s.round(kc(t, 0));
        }
        s.round(kc(15, LEN_HEADER));
        s.round(kc(16, p.w16));
        s.round(kc(17, p.w17));

        w[16] = splat(p.w16);
        w[17] = splat(p.w17);
        w[18] = add(vssig0(n), splat(p.c18));
        w[19] = add(n, splat(p.c19));
        w[20] = add(vssig1(w[18]), splat(PAD));
        w[21] = vssig1(w[19]);
        w[22] = add(vssig1(w[20]), splat(LEN_HEADER));
        w[23] = add(vssig1(w[21]), w[16]);
        w[24] = add(vssig1(w[22]), w[17]);
        for t in 18..25 {
            s.round(kw(t, w[t]));
        }
        for t in 25..30 {
            w[t] = add(vssig1(w[t - 2]), w[t - 7]);
            s.round(kw(t, w[t]));
        }
        w[30] = add(add(vssig1(w[28]), w[23]), splat(ssig0(LEN_HEADER)));
        s.round(kw(30, w[30]));
        w[31] = add(
            add(vssig1(w[29]), w[24]),
            splat(ssig0(p.w16).wrapping_add(LEN_HEADER)),
        );
        s.round(kw(31, w[31]));
        w[32] = add(
            add(vssig1(w[30]), w[25]),
            splat(ssig0(p.w17).wrapping_add(p.w16)),
        );
        s.round(kw(32, w[32]));
        for t in 33..64 {
            w[t] = sched(w, t);
            s.round(kw(t, w[t]));
        }
        let mut h = s.s;
        for (h, m) in h.iter_mut().zip(p.mid) {
            *h = add(*h, splat(m));
        }
        h
    }

    /// H7 of the second SHA-256 of eight first hashes `h`; `w` is scratch for the schedule.
    // Indexed loops: `t` is the round number as well as the index, and the iterator forms
    // clippy suggests were not inlined here.
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx2")]
    unsafe fn hash2_h7(p: &Pre, h: [V; 8], w: &mut [V; 64]) -> V {
        w[..8].copy_from_slice(&h);
        let mut s = State::with_word(&p.st0, w[0]);
        for t in 1..8 {
            s.round(kw(t, h[t]));
        }
        s.round(kc(8, PAD));
        for t in 9..15 {
            s.round(kc(t, 0));
        }
        s.round(kc(15, LEN_HASH));

        // W8 = PAD, W9..=W14 = 0, W15 = LEN_HASH.
        w[16] = add(vssig0(w[1]), w[0]);
        s.round(kw(16, w[16]));
        w[17] = add(add(vssig0(w[2]), w[1]), splat(ssig1(LEN_HASH)));
        s.round(kw(17, w[17]));
        for t in 18..22 {
            w[t] = add(add(vssig1(w[t - 2]), vssig0(w[t - 15])), w[t - 16]);
            s.round(kw(t, w[t]));
        }
        w[22] = add(add(vssig1(w[20]), add(vssig0(w[7]), w[6])), splat(LEN_HASH));
        s.round(kw(22, w[22]));
        w[23] = add(add(vssig1(w[21]), add(w[16], w[7])), splat(ssig0(PAD)));
        s.round(kw(23, w[23]));
        w[24] = add(add(vssig1(w[22]), w[17]), splat(PAD));
        s.round(kw(24, w[24]));
        for t in 25..30 {
            w[t] = add(vssig1(w[t - 2]), w[t - 7]);
            s.round(kw(t, w[t]));
        }
        w[30] = add(add(vssig1(w[28]), w[23]), splat(ssig0(LEN_HASH)));
        s.round(kw(30, w[30]));
        w[31] = add(
            add(vssig1(w[29]), w[24]),
            add(vssig0(w[16]), splat(LEN_HASH)),
        );
        s.round(kw(31, w[31]));
        for t in 32..57 {
            w[t] = sched(w, t);
            s.round(kw(t, w[t]));
        }
        // H7 = IV7 + h after round 63 = IV7 + e after round 60: rounds 57..=60 need only `e`.
        for t in 57..61 {
            w[t] = sched(w, t);
            s.round_e(kw(t, w[t]));
        }
        add(s.s[4], splat(IV[7]))
    }

    /// Searches `start..start + count` and appends the hits to `found`, in nonce order.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn search(job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        let pre = Pre::new(&job.header);
        let t = &job.target;
        let top = splat(u32::from_le_bytes([t[28], t[29], t[30], t[31]]));
        let lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        let bswap = _mm256_setr_epi8(
            3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10,
            9, 8, 15, 14, 13, 12,
        );
        // Schedule scratch, reused by every batch (zeroing it per batch costs a memset).
        let mut w1 = [_mm256_setzero_si256(); 64];
        let mut w2 = [_mm256_setzero_si256(); 64];
        let mut base = start;
        let mut left = count;
        while left > 0 {
            let valid = left.min(8);
            // Lanes past the range (only in the last batch) wrap harmlessly and are masked.
            let nonces = add(splat(base), lanes);
            let h = hash1(&pre, _mm256_shuffle_epi8(nonces, bswap), &mut w1);
            let h7 = hash2_h7(&pre, h, &mut w2);
            // The hash's top 32 bits are H7 byte-swapped; pass if <= the target's (unsigned).
            let hi = _mm256_shuffle_epi8(h7, bswap);
            let pass = _mm256_cmpeq_epi32(_mm256_max_epu32(hi, top), top);
            let mut bits = _mm256_movemask_ps(_mm256_castsi256_ps(pass)) as u32;
            bits &= (1u32 << valid) - 1;
            while bits != 0 {
                let nonce = base.wrapping_add(bits.trailing_zeros());
                bits &= bits - 1;
                let hash = pre.hash(nonce);
                if meets_target(&hash, &job.target) {
                    found.push(Found { nonce, hash });
                }
            }
            left -= valid;
            base = base.wrapping_add(8);
        }
    }
}
