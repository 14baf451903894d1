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
    use crate::prepared::{ssig0, ssig1, Pre, IV, K, LEN_HASH, LEN_HEADER, PAD};
    use core::arch::x86_64::*;

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
