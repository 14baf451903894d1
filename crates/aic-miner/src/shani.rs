//! The SHA-NI kernel: two nonces interleaved, with everything that does not depend on the
//! nonce computed once per search.
//!
//! Rounds are numbered 0..63. SHA-NI keeps the state as two vectors, `ABEF` (dwords 3..0:
//! a, b, e, f) and `CDGH` (c, d, g, h); `sha256rnds2(cdgh, abef, wk)` runs two rounds and
//! returns the new `ABEF`, while the old `ABEF` becomes the new `CDGH`. Its latency is about
//! twice its issue interval, hence two independent nonces per iteration.
//!
//! Per search: the midstate; rounds 0..2 of the header's second block, which read only fixed
//! words; round 3 but for the nonce word, which only adds to the new `a` and `e`; and the
//! message words and partial sums that the fixed words and the padding determine.
//!
//! Per nonce: rounds 4..63 of the second block (30 `sha256rnds2`), then rounds 0..61 of the
//! second hash (31), with its padding words' `k + w` constant. After round 61, `f` holds `e`
//! after round 60, which rounds 61..63 only move to `h`: the hash's last word less `H0[7]`,
//! whose bytes are the most significant 32 bits of the little-endian hash. Rounds 62 and 63
//! are never run: only when that word could meet the target is the nonce hashed again in
//! full by the portable code and compared with [`meets_target`](crate::meets_target).
//!
//! Measured on the EPYC (Zen 3) this was written on: starting the second hash's rounds one
//! late (round 0 also needs only an addition) saves one more `sha256rnds2` per nonce but
//! costs a shuffle per two rounds, and was about 10% slower; three lanes were slower than
//! two.
#![allow(unsafe_code)]

use crate::kernel::{Found, Job, Kernel};

/// SHA-256d with the x86 SHA extensions, two nonces per iteration.
#[derive(Clone, Copy, Debug)]
pub struct ShaNi2Way {
    _features_checked: (),
}

impl ShaNi2Way {
    /// The kernel, if this CPU has the SHA extensions with SSSE3 and SSE4.1.
    #[cfg(target_arch = "x86_64")]
    pub fn new() -> Option<Self> {
        let ok = is_x86_feature_detected!("sha")
            && is_x86_feature_detected!("sse2")
            && is_x86_feature_detected!("ssse3")
            && is_x86_feature_detected!("sse4.1");
        ok.then_some(ShaNi2Way {
            _features_checked: (),
        })
    }

    /// Always `None`: SHA-NI exists only on x86_64.
    #[cfg(not(target_arch = "x86_64"))]
    pub fn new() -> Option<Self> {
        None
    }
}

impl Kernel for ShaNi2Way {
    fn name(&self) -> &'static str {
        "sha-ni-2way"
    }

    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        debug_assert!(u64::from(start) + u64::from(count) <= 1 << 32);
        #[cfg(target_arch = "x86_64")]
        // SAFETY: a `ShaNi2Way` exists only when `new` found sha, sse2, ssse3 and sse4.1,
        // the features `x86::search` is compiled for.
        unsafe {
            x86::search::<2>(job, start, count, found)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (job, start, count, found);
            unreachable!("ShaNi2Way::new returns None off x86_64");
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use core::arch::x86_64::*;

    use crate::kernel::{meets_target, Found, Job};
    use crate::portable::{
        big_sigma0, big_sigma1, ch, maj, midstate, nonce_word, round, sha256d_from_midstate,
        small_sigma0, small_sigma1, tail_words, H0, K,
    };

    /// `[expr; N]` with `expr` evaluated for each lane `l` (a loop, not a closure, so that
    /// the intrinsics stay in the enclosing `#[target_feature]` function).
    macro_rules! each {
        ($l:ident => $e:expr) => {{
            let mut out = [_mm_setzero_si128(); N];
            for $l in 0..N {
                out[$l] = $e;
            }
            out
        }};
    }

    /// Everything about a job that does not depend on the nonce.
    struct Pre {
        /// `ABEF` after round 3 of the second block, without the nonce word (which adds to
        /// `a` and `e`).
        abef4: __m128i,
        /// `CDGH` after round 3 of the second block.
        cdgh4: __m128i,
        /// Message words 0..3 of the second block with the nonce word (3) zero.
        msg0: __m128i,
        /// The midstate as `ABEF` and `CDGH`, added back after the second block.
        mid_abef: __m128i,
        mid_cdgh: __m128i,
        /// The fixed first operand of `sha256msg2` for words 20..23 of the second block.
        c20: __m128i,
        /// What `sha256msg2` would add for words 16..19 of the second block: σ1 of words
        /// 14..17, all fixed.
        c16: __m128i,
        /// The fixed `sha256msg1` result for words 28..31 of the second block.
        c28: __m128i,
    }

    /// The vector with dwords `w[0]` (lowest) .. `w[3]`.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn v(w: [u32; 4]) -> __m128i {
        _mm_set_epi32(w[3] as i32, w[2] as i32, w[1] as i32, w[0] as i32)
    }

    /// Round constants `t..t + 4` as a vector.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn kv(t: usize) -> __m128i {
        v([K[t], K[t + 1], K[t + 2], K[t + 3]])
    }

    /// Every lane of `m` plus the round constants `t..t + 4`.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn add_k<const N: usize>(m: [__m128i; N], t: usize) -> [__m128i; N] {
        each!(l => _mm_add_epi32(m[l], kv(t)))
    }

    /// Two rounds on every lane with `k + w` for each in the low two dwords of `wk` (only
    /// the last two rounds; four at a time use [`rounds4`]).
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn rounds2<const N: usize>(
        abef: &mut [__m128i; N],
        cdgh: &mut [__m128i; N],
        wk: [__m128i; N],
    ) {
        for l in 0..N {
            let next = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk[l]);
            // The old `ABEF` is the new `CDGH`.
            cdgh[l] = abef[l];
            abef[l] = next;
        }
    }

    /// Rounds `4i..4i + 4` on every lane, with `k + w` of those rounds in `wk`.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn rounds4<const N: usize>(
        abef: &mut [__m128i; N],
        cdgh: &mut [__m128i; N],
        wk: [__m128i; N],
    ) {
        // Two rounds make the old `ABEF` the new `CDGH`, so four rounds need no moves.
        for l in 0..N {
            cdgh[l] = _mm_sha256rnds2_epu32(cdgh[l], abef[l], wk[l]);
        }
        for l in 0..N {
            abef[l] = _mm_sha256rnds2_epu32(abef[l], cdgh[l], _mm_shuffle_epi32(wk[l], 0x0E));
        }
    }

    /// Message words `t..t + 4` from words `t - 16..t`, in four vectors of four.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn schedule(m0: __m128i, m1: __m128i, m2: __m128i, m3: __m128i) -> __m128i {
        let t = _mm_add_epi32(_mm_sha256msg1_epu32(m0, m1), _mm_alignr_epi8(m3, m2, 4));
        _mm_sha256msg2_epu32(t, m3)
    }

    /// Replaces `m0` of every lane with the next four message words.
    macro_rules! next_words {
        ($m0:ident, $m1:ident, $m2:ident, $m3:ident) => {
            for l in 0..N {
                $m0[l] = schedule($m0[l], $m1[l], $m2[l], $m3[l]);
            }
        };
    }

    /// A state in `ABEF`/`CDGH` form as the eight words `a..h`, lowest dword first: the
    /// first vector is `[a, b, c, d]`, the second `[e, f, g, h]`.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn to_words(abef: __m128i, cdgh: __m128i) -> (__m128i, __m128i) {
        let abef_r = _mm_shuffle_epi32(abef, 0x1B); // [a, b, e, f]
        let ghcd = _mm_shuffle_epi32(cdgh, 0xB1); // [g, h, c, d]
        (
            _mm_blend_epi16(abef_r, ghcd, 0xF0),
            _mm_alignr_epi8(ghcd, abef_r, 8),
        )
    }

    /// Round `t` from state `s` without its message word, which adds to both the new `a`
    /// and the new `e`: the new state as `ABEF` and `CDGH` with that word zero.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn round_without_word(s: [u32; 8], t: usize) -> (__m128i, __m128i) {
        let [a, b, c, d, e, f, g, h] = s;
        let t1 = h
            .wrapping_add(big_sigma1(e))
            .wrapping_add(ch(e, f, g))
            .wrapping_add(K[t]);
        let t2 = big_sigma0(a).wrapping_add(maj(a, b, c));
        (
            v([e, d.wrapping_add(t1), a, t1.wrapping_add(t2)]),
            v([g, f, c, b]),
        )
    }

    impl Pre {
        #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
        unsafe fn new(mid: &[u32; 8], tail: &[u32; 3]) -> Pre {
            let [w0, w1, w2] = *tail;
            // Rounds 0..2 read only fixed words; round 3 reads the nonce word.
            let mut s = *mid;
            for (t, &w) in tail.iter().enumerate() {
                round(&mut s, K[t].wrapping_add(w));
            }
            let (abef4, cdgh4) = round_without_word(s, 3);
            // W16 = σ1(W14) + W9 + σ0(W1) + W0, with W14 = W9 = 0.
            let w16 = small_sigma0(w1).wrapping_add(w0);
            // W17 = σ1(W15) + W10 + σ0(W2) + W1, with W15 = 640 and W10 = 0.
            let w17 = small_sigma1(640)
                .wrapping_add(small_sigma0(w2))
                .wrapping_add(w1);
            Pre {
                abef4,
                cdgh4,
                msg0: v([w0, w1, w2, 0]),
                mid_abef: v([mid[5], mid[4], mid[1], mid[0]]),
                mid_cdgh: v([mid[7], mid[6], mid[3], mid[2]]),
                // W4 + σ0(W5) + W13, W5 + σ0(W6) + W14, W6 + σ0(W7) + W15, W7 + σ0(W8) + W16.
                c20: v([0x8000_0000, 0, 640, w16]),
                c16: v([0, small_sigma1(640), small_sigma1(w16), small_sigma1(w17)]),
                // W12 + σ0(W13), W13 + σ0(W14), W14 + σ0(W15), W15 + σ0(W16).
                c28: v([
                    0,
                    0,
                    small_sigma0(640),
                    640u32.wrapping_add(small_sigma0(w16)),
                ]),
            }
        }
    }

    /// For `N` nonce words (the header's nonce bytes as SHA-256 reads them), `e` after
    /// round 60 of the second hash: the hash's last word, less `H0[7]`.
    #[inline]
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    unsafe fn e60<const N: usize>(p: &Pre, w3: [u32; N]) -> [u32; N] {
        // --- Second block of the header. Rounds 0..3 are in `p`, but for the nonce word,
        // which adds to `a` and `e` (dwords 3 and 1).
        let n = |l: usize| w3[l] as i32;
        let mut abef = each!(l => _mm_add_epi32(p.abef4, _mm_set_epi32(n(l), 0, n(l), 0)));
        let mut cdgh = [p.cdgh4; N];
        let m0 = each!(l => _mm_insert_epi32(p.msg0, n(l), 3));
        // Words 4..15 are the padding and the length, 640 bits.
        let pad = v([0x8000_0000, 0, 0, 0]);
        let len = v([0, 0, 0, 640]);
        rounds4(&mut abef, &mut cdgh, [_mm_add_epi32(pad, kv(4)); N]);
        rounds4(&mut abef, &mut cdgh, [kv(8); N]);
        rounds4(&mut abef, &mut cdgh, [_mm_add_epi32(len, kv(12)); N]);
        // Words 16..31, with the fixed parts precomputed. Words 8..11 are zero, and the
        // words whose σ1 sha256msg2 would add for words 16..19 are fixed.
        let mut a = each!(l => _mm_add_epi32(_mm_sha256msg1_epu32(m0[l], pad), p.c16));
        rounds4(&mut abef, &mut cdgh, add_k(a, 16));
        let mut b = each!(l => _mm_sha256msg2_epu32(p.c20, a[l]));
        rounds4(&mut abef, &mut cdgh, add_k(b, 20));
        let mut c = each!(l => _mm_sha256msg2_epu32(_mm_alignr_epi8(b[l], a[l], 4), b[l]));
        rounds4(&mut abef, &mut cdgh, add_k(c, 24));
        let mut d = each!(l => _mm_sha256msg2_epu32(
            _mm_add_epi32(p.c28, _mm_alignr_epi8(c[l], b[l], 4)),
            c[l]
        ));
        rounds4(&mut abef, &mut cdgh, add_k(d, 28));
        next_words!(a, b, c, d);
        rounds4(&mut abef, &mut cdgh, add_k(a, 32));
        next_words!(b, c, d, a);
        rounds4(&mut abef, &mut cdgh, add_k(b, 36));
        next_words!(c, d, a, b);
        rounds4(&mut abef, &mut cdgh, add_k(c, 40));
        next_words!(d, a, b, c);
        rounds4(&mut abef, &mut cdgh, add_k(d, 44));
        next_words!(a, b, c, d);
        rounds4(&mut abef, &mut cdgh, add_k(a, 48));
        next_words!(b, c, d, a);
        rounds4(&mut abef, &mut cdgh, add_k(b, 52));
        next_words!(c, d, a, b);
        rounds4(&mut abef, &mut cdgh, add_k(c, 56));
        next_words!(d, a, b, c);
        rounds4(&mut abef, &mut cdgh, add_k(d, 60));

        // --- Second hash: the first hash, padding, and the length, 256 bits.
        for l in 0..N {
            let (lo, hi) = to_words(
                _mm_add_epi32(abef[l], p.mid_abef),
                _mm_add_epi32(cdgh[l], p.mid_cdgh),
            );
            a[l] = lo;
            b[l] = hi;
        }
        abef = [v([H0[5], H0[4], H0[1], H0[0]]); N];
        cdgh = [v([H0[7], H0[6], H0[3], H0[2]]); N];
        let pad = v([0x8000_0000, 0, 0, 0]);
        let len = v([0, 0, 0, 256]);
        rounds4(&mut abef, &mut cdgh, add_k(a, 0));
        rounds4(&mut abef, &mut cdgh, add_k(b, 4));
        rounds4(&mut abef, &mut cdgh, [_mm_add_epi32(pad, kv(8)); N]);
        rounds4(&mut abef, &mut cdgh, [_mm_add_epi32(len, kv(12)); N]);
        // Words 16..27, with the fixed parts precomputed (words 9..14 are zero).
        c = each!(l => _mm_sha256msg2_epu32(_mm_sha256msg1_epu32(a[l], b[l]), len));
        rounds4(&mut abef, &mut cdgh, add_k(c, 16));
        d = each!(l => _mm_sha256msg2_epu32(
            _mm_add_epi32(_mm_sha256msg1_epu32(b[l], pad), _mm_alignr_epi8(c[l], len, 4)),
            c[l]
        ));
        rounds4(&mut abef, &mut cdgh, add_k(d, 20));
        // σ0 of words 9..12 is zero, so sha256msg1(words 8..11, 12..15) is words 8..11.
        a = each!(l => _mm_sha256msg2_epu32(
            _mm_add_epi32(pad, _mm_alignr_epi8(d[l], c[l], 4)),
            d[l]
        ));
        rounds4(&mut abef, &mut cdgh, add_k(a, 24));
        let mut e = [len; N];
        next_words!(e, c, d, a);
        rounds4(&mut abef, &mut cdgh, add_k(e, 28));
        next_words!(c, d, a, e);
        rounds4(&mut abef, &mut cdgh, add_k(c, 32));
        next_words!(d, a, e, c);
        rounds4(&mut abef, &mut cdgh, add_k(d, 36));
        next_words!(a, e, c, d);
        rounds4(&mut abef, &mut cdgh, add_k(a, 40));
        next_words!(e, c, d, a);
        rounds4(&mut abef, &mut cdgh, add_k(e, 44));
        next_words!(c, d, a, e);
        rounds4(&mut abef, &mut cdgh, add_k(c, 48));
        next_words!(d, a, e, c);
        rounds4(&mut abef, &mut cdgh, add_k(d, 52));
        next_words!(a, e, c, d);
        rounds4(&mut abef, &mut cdgh, add_k(a, 56));
        next_words!(e, c, d, a);
        // Rounds 60 and 61 only: now dword 0 of `ABEF`, `f`, is `e` after round 60.
        rounds2(&mut abef, &mut cdgh, add_k(e, 60));
        let mut out = [0u32; N];
        for l in 0..N {
            out[l] = _mm_cvtsi128_si32(abef[l]) as u32;
        }
        out
    }

    /// The full SHA-256d of one nonce, by the scalar code; out of line, as it is rarely
    /// needed.
    #[cold]
    #[inline(never)]
    fn full_hash(mid: &[u32; 8], tail: &[u32; 3], nonce: u32) -> [u8; 32] {
        sha256d_from_midstate(mid, tail, nonce)
    }

    /// Searches `start..start + count` of `job`, `N` nonces at a time.
    ///
    /// # Safety
    /// The CPU must have sha, sse2, ssse3 and sse4.1.
    #[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
    pub(super) unsafe fn search<const N: usize>(
        job: &Job,
        start: u32,
        count: u32,
        found: &mut Vec<Found>,
    ) {
        let mid = midstate(&job.header);
        let tail = tail_words(&job.header);
        let pre = Pre::new(&mid, &tail);
        let t = &job.target;
        let target_top = u32::from_le_bytes([t[28], t[29], t[30], t[31]]);
        let end = u64::from(start) + u64::from(count);
        let mut next = u64::from(start);
        while next < end {
            // Short of N nonces left, the last one fills the spare lanes, which are ignored.
            let lanes = (end - next).min(N as u64) as usize;
            let mut nonces = [0u32; N];
            for (l, n) in nonces.iter_mut().enumerate() {
                *n = (next + l.min(lanes - 1) as u64) as u32;
            }
            let mut words = [0u32; N];
            for l in 0..N {
                words[l] = nonce_word(nonces[l]);
            }
            let e = e60(&pre, words);
            for l in 0..lanes {
                // The hash's most significant 32 bits (little-endian) are its last word,
                // byte-swapped. Only if they could meet the target is the whole hash
                // computed: with any real target that is rare.
                if e[l].wrapping_add(H0[7]).swap_bytes() <= target_top {
                    let hash = full_hash(&mid, &tail, nonces[l]);
                    if meets_target(&hash, &job.target) {
                        found.push(Found {
                            nonce: nonces[l],
                            hash,
                        });
                    }
                }
            }
            next += lanes as u64;
        }
    }
}
