//! The AVX-512 kernel: SHA-256d of sixteen nonces at once, one per 32-bit lane of a `__m512i`.
//!
//! A lane-for-lane widening of the AVX2 kernel (`avx2.rs`): the same per-search precomputation
//! ([`Pre`](crate::prepared::Pre): the midstate, rounds 0..=2 and the nonce-free part of round
//! 3 of the second block, the constant message words and constant parts of the schedule of
//! both hashes), the same round and schedule code, and the same early exit: H7 of the second
//! hash is `IV7 + e` after round 60, so rounds 61..=63 are skipped and rounds 57..=60 compute
//! only `e`; lanes whose top word (`H7.swap_bytes()`) is at most the target's top word are
//! hashed again in scalar code and checked fully with [`meets_target`].
//!
//! What differs from AVX2, instruction by instruction (AVX-512F only, no other extension):
//! - rotations are native (`vprord`) instead of two shifts and an OR;
//! - the three-input XORs of the Σ/σ functions, Ch and Maj are one `vpternlogd` each (the
//!   immediates are derived below and checked against a scalar model of the instruction in
//!   this module's tests), so the AVX2 kernel's `b ^ c` carry for Maj is not needed;
//! - byte swaps (nonce in, H7 out, once per batch) are two rotations and a bitwise select
//!   (`vpternlogd`) instead of `vpshufb`, which on 512-bit vectors would need AVX-512BW;
//! - the early-exit comparison is an unsigned `<=` into a mask register (`vpcmpud`) instead of
//!   max/compare-equal/movemask.
//!
//! Not run on hardware as of the commit that added it: the machine it was written on has no
//! AVX-512. `cargo test --release -p aic-miner --test avx512` verifies it on one that has.
#![allow(unsafe_code)]

#[cfg(target_arch = "x86_64")]
use crate::kernel::meets_target;
use crate::kernel::{Found, Job, Kernel};

// ---- `vpternlogd` immediates. ----
//
// `_mm512_ternarylogic_epi32::<IMM>(a, b, c)` computes, for every bit position i, bit number
// `(a[i] << 2) | (b[i] << 1) | c[i]` of IMM (Intel SDM, VPTERNLOGD; stdarch's own test has
// 0xF0 return `a`). Listing the index 7..0 as (a, b, c) = 111, 110, 101, 100, 011, 010, 001, 000:
//
//   Ch(e, f, g)  = (e & f) ^ (!e & g), i.e. "e ? f : g", operands (e, f, g):
//                  1    1    0    0    1    0    1    0   = 0b1100_1010 = 0xCA
//   Maj(a, b, c) = at least two of three set:
//                  1    1    1    0    1    0    0    0   = 0b1110_1000 = 0xE8
//   a ^ b ^ c    = an odd number set:
//                  1    0    0    1    0    1    1    0   = 0b1001_0110 = 0x96
//
// Ch's operand order matters (the other two are symmetric): `e` must be the first operand.
// The same 0xCA is the bitwise select `m ? x : y` of the byte swap, with the mask first.
// (Off x86-64 only the tests, which check these constants against a model, use them.)

/// `vpternlogd` immediate for Ch(e, f, g) = (e & f) ^ (!e & g), operands (e, f, g).
#[cfg(any(target_arch = "x86_64", test))]
const TERN_CH: i32 = 0xCA;
/// `vpternlogd` immediate for Maj(a, b, c) = (a & b) ^ (a & c) ^ (b & c).
#[cfg(any(target_arch = "x86_64", test))]
const TERN_MAJ: i32 = 0xE8;
/// `vpternlogd` immediate for a ^ b ^ c.
#[cfg(any(target_arch = "x86_64", test))]
const TERN_XOR3: i32 = 0x96;
/// The byte swap of a 32-bit word `[b3 b2 b1 b0]` (b3 most significant): `ror8` gives
/// `[b0 b3 b2 b1]`, `rol8` gives `[b2 b1 b0 b3]`; bytes 3 and 1 come from the first, bytes 2
/// and 0 from the second: `TERN_CH(BSWAP_MASK, ror8, rol8)` = `[b0 b1 b2 b3]`.
#[cfg(any(target_arch = "x86_64", test))]
const BSWAP_MASK: u32 = 0xff00_ff00;

/// 16-way AVX-512 SHA-256d kernel. Exists only on x86-64 CPUs with AVX-512F (see
/// [`Avx512x16::new`]).
#[derive(Clone, Copy, Debug)]
pub struct Avx512x16 {
    _private: (),
}

impl Avx512x16 {
    /// The kernel, or `None` unless this is an x86-64 CPU with AVX-512F.
    pub fn new() -> Option<Self> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::is_x86_feature_detected!("avx512f") {
                return Some(Self { _private: () });
            }
        }
        None
    }
}

impl Kernel for Avx512x16 {
    fn name(&self) -> &'static str {
        "avx512-16way"
    }

    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        debug_assert!(
            u64::from(start) + u64::from(count) <= 1 << 32,
            "range past 2^32"
        );
        #[cfg(target_arch = "x86_64")]
        // SAFETY: an `Avx512x16` is only constructed by `new`, after detecting AVX-512F, the
        // only feature `x86::search` is compiled for.
        unsafe {
            x86::search(job, start, count, found);
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (job, start, count, found);
            unreachable!("Avx512x16 cannot be constructed off x86-64");
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{meets_target, Found, Job, BSWAP_MASK, TERN_CH, TERN_MAJ, TERN_XOR3};
    use crate::prepared::{ssig0, ssig1, Pre, IV, K, LEN_HASH, LEN_HEADER, PAD};
    use core::arch::x86_64::*;

    // ---- AVX-512F. Every function below requires AVX-512F (the caller checks). ----
    //
    // As in the AVX2 kernel, the helpers are `unsafe fn`s (callable only from AVX-512 code)
    // marked `#[inline]`, to be inlined into `hash1` / `hash2_h7`.

    type V = __m512i;

    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn splat(x: u32) -> V {
        _mm512_set1_epi32(x as i32)
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn add(a: V, b: V) -> V {
        _mm512_add_epi32(a, b)
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn xor3(a: V, b: V, c: V) -> V {
        _mm512_ternarylogic_epi32::<TERN_XOR3>(a, b, c)
    }
    /// Rotate right by `R`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn rotr<const R: i32>(x: V) -> V {
        _mm512_ror_epi32::<R>(x)
    }
    /// Shift right by `N`.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn shr<const N: u32>(x: V) -> V {
        _mm512_srli_epi32::<N>(x)
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn vbsig0(x: V) -> V {
        xor3(rotr::<2>(x), rotr::<13>(x), rotr::<22>(x))
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn vbsig1(x: V) -> V {
        xor3(rotr::<6>(x), rotr::<11>(x), rotr::<25>(x))
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn vssig0(x: V) -> V {
        xor3(rotr::<7>(x), rotr::<18>(x), shr::<3>(x))
    }
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn vssig1(x: V) -> V {
        xor3(rotr::<17>(x), rotr::<19>(x), shr::<10>(x))
    }
    /// Byte swap of every 32-bit lane (see [`BSWAP_MASK`]).
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn bswap(x: V) -> V {
        _mm512_ternarylogic_epi32::<TERN_CH>(
            splat(BSWAP_MASK),
            _mm512_ror_epi32::<8>(x),
            _mm512_rol_epi32::<8>(x),
        )
    }

    /// Sixteen SHA-256 states.
    #[derive(Clone, Copy)]
    struct State {
        s: [V; 8],
    }

    impl State {
        /// Broadcasts a scalar state; `x` (one word per lane) is added to `a` and `e`.
        #[target_feature(enable = "avx512f")]
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
            }
        }

        /// T1 of a round with `kw = K[t] + W[t]`.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn t1(&self, kw: V) -> V {
            let [_, _, _, _, e, f, g, h] = self.s;
            // Ch(e, f, g): `e` first (the immediate is not symmetric).
            let ch = _mm512_ternarylogic_epi32::<TERN_CH>(e, f, g);
            add(add(h, kw), add(vbsig1(e), ch))
        }

        /// One full round with `kw = K[t] + W[t]`.
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn round(&mut self, kw: V) {
            let t1 = self.t1(kw);
            let [a, b, c, d, e, f, g, _] = self.s;
            let maj = _mm512_ternarylogic_epi32::<TERN_MAJ>(a, b, c);
            let t2 = add(vbsig0(a), maj);
            self.s = [add(t1, t2), a, b, c, add(d, t1), e, f, g];
        }

        /// A round computing only the new `e` (the new `a` is left wrong: used where no later
        /// `a` matters).
        #[target_feature(enable = "avx512f")]
        #[inline]
        unsafe fn round_e(&mut self, kw: V) {
            let t1 = self.t1(kw);
            let [a, b, c, d, e, f, g, _] = self.s;
            self.s = [a, a, b, c, add(d, t1), e, f, g];
        }
    }

    /// `K[t] + W[t]` as a vector, `W[t]` a vector.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn kw(t: usize, w: V) -> V {
        add(splat(K[t]), w)
    }

    /// `K[t] + w` broadcast, `w` a constant.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn kc(t: usize, w: u32) -> V {
        splat(K[t].wrapping_add(w))
    }

    /// The general schedule step.
    #[target_feature(enable = "avx512f")]
    #[inline]
    unsafe fn sched(w: &[V; 64], t: usize) -> V {
        add(
            add(vssig1(w[t - 2]), w[t - 7]),
            add(vssig0(w[t - 15]), w[t - 16]),
        )
    }

    /// First SHA-256 (second block) of sixteen headers, `n` = their nonces byte-swapped (W3).
    /// `w` is scratch for the message schedule (only words 16.. are written).
    // Indexed loops: `t` is the round number as well as the index (as in the AVX2 kernel).
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx512f")]
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

    /// H7 of the second SHA-256 of sixteen first hashes `h`; `w` is scratch for the schedule.
    // Indexed loops: `t` is the round number as well as the index (as in the AVX2 kernel).
    #[allow(clippy::needless_range_loop)]
    #[target_feature(enable = "avx512f")]
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
    /// The CPU must support AVX-512F.
    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn search(job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        let pre = Pre::new(&job.header);
        let t = &job.target;
        let top = splat(u32::from_le_bytes([t[28], t[29], t[30], t[31]]));
        // Lane i holds `base + i` (setr: the first argument is lane 0).
        let lanes = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        // Schedule scratch, reused by every batch (zeroing it per batch costs a memset).
        let mut w1 = [_mm512_setzero_si512(); 64];
        let mut w2 = [_mm512_setzero_si512(); 64];
        let mut base = start;
        let mut left = count;
        while left > 0 {
            let valid = left.min(16);
            // Lanes past the range (only in the last batch) wrap harmlessly and are masked.
            let nonces = add(splat(base), lanes);
            let h = hash1(&pre, bswap(nonces), &mut w1);
            let h7 = hash2_h7(&pre, h, &mut w2);
            // The hash's top 32 bits are H7 byte-swapped; pass if <= the target's (unsigned).
            // Bit i of the mask is lane i.
            let hi = bswap(h7);
            let mut bits = u32::from(_mm512_cmple_epu32_mask(hi, top));
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
            base = base.wrapping_add(16);
        }
    }
}

#[cfg(test)]
mod tests {
    //! The instruction-level facts the kernel relies on, checked with a scalar model of
    //! `vpternlogd` that runs on every CPU (the kernel itself is tested in
    //! `tests/avx512.rs`, on CPUs with AVX-512F).
    use super::*;

    /// `vpternlogd` on one 32-bit lane, as the Intel SDM defines it: result bit i is bit
    /// `(a[i] << 2) | (b[i] << 1) | c[i]` of `imm`.
    fn ternlog(imm: i32, a: u32, b: u32, c: u32) -> u32 {
        let imm = u8::try_from(imm).expect("an 8-bit immediate");
        let mut r = 0;
        for i in 0..32 {
            let index = (((a >> i) & 1) << 2) | (((b >> i) & 1) << 1) | ((c >> i) & 1);
            r |= u32::from((imm >> index) & 1) << i;
        }
        r
    }

    /// SplitMix64: random words without a dependency.
    fn words(seed: u64) -> impl Iterator<Item = u32> {
        let mut x = seed;
        std::iter::from_fn(move || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            Some((z ^ (z >> 31)) as u32)
        })
    }

    #[test]
    fn the_model_selects_operands_as_the_instruction_does() {
        // 0xF0 returns the first operand (stdarch's own test of the intrinsic), 0xCC the
        // second, 0xAA the third: the order the model gives the index bits.
        let mut r = words(1);
        for _ in 0..1000 {
            let (a, b, c) = (r.next().unwrap(), r.next().unwrap(), r.next().unwrap());
            assert_eq!(ternlog(0xF0, a, b, c), a);
            assert_eq!(ternlog(0xCC, a, b, c), b);
            assert_eq!(ternlog(0xAA, a, b, c), c);
        }
    }

    #[test]
    fn immediates_give_ch_maj_and_xor3() {
        let mut r = words(2);
        for _ in 0..10_000 {
            let (x, y, z) = (r.next().unwrap(), r.next().unwrap(), r.next().unwrap());
            assert_eq!(
                ternlog(TERN_CH, x, y, z),
                (x & y) ^ (!x & z),
                "Ch {x:#x} {y:#x} {z:#x}"
            );
            assert_eq!(
                ternlog(TERN_MAJ, x, y, z),
                (x & y) ^ (x & z) ^ (y & z),
                "Maj {x:#x} {y:#x} {z:#x}"
            );
            assert_eq!(ternlog(TERN_XOR3, x, y, z), x ^ y ^ z);
        }
        // Every one of the eight input combinations, on single bits.
        for i in 0..8u32 {
            let (x, y, z) = ((i >> 2) & 1, (i >> 1) & 1, i & 1);
            assert_eq!(ternlog(TERN_CH, x, y, z), if x == 1 { y } else { z });
            assert_eq!(ternlog(TERN_MAJ, x, y, z), u32::from(x + y + z >= 2));
            assert_eq!(ternlog(TERN_XOR3, x, y, z), (x + y + z) & 1);
        }
        // Ch is not symmetric: the wrong operand order gives another function.
        assert_ne!(ternlog(TERN_CH, 0xffff_0000, 0xff00_ff00, 0xf0f0_f0f0), {
            let (e, f, g) = (0xff00_ff00u32, 0xffff_0000u32, 0xf0f0_f0f0u32);
            (e & f) ^ (!e & g)
        });
    }

    #[test]
    fn rotations_and_select_swap_bytes() {
        let mut r = words(3);
        for x in [0, u32::MAX, 0x0102_0304, 0x8000_0001]
            .into_iter()
            .chain(r.by_ref().take(10_000))
        {
            let swapped = ternlog(TERN_CH, BSWAP_MASK, x.rotate_right(8), x.rotate_left(8));
            assert_eq!(swapped, x.swap_bytes(), "{x:#010x}");
        }
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn offered_exactly_where_the_cpu_has_avx512f() {
        assert_eq!(
            Avx512x16::new().is_some(),
            std::is_x86_feature_detected!("avx512f")
        );
    }
}
