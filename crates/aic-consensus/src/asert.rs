//! ASERT difficulty adjustment (aserti3-2d, as Bitcoin Cash Node's `CalculateASERT`).
//!
//! The target of each block is the anchor block's target scaled by `2^x`, where
//! `x = (time_diff - ideal_block_time * (height_diff + 1)) / half_life`: every half-life the
//! chain runs ahead of schedule halves the target (doubles the difficulty), every half-life
//! it runs behind doubles it. `2^x` is computed in 16.16 fixed point with the specification's
//! cubic approximation of the fractional part, so every node computes the same bits.
//!
//! # Consensus
//! The arithmetic is exact integer arithmetic, bit for bit that of the specification and of
//! Bitcoin Cash Node, and reproduces the specification's reference vectors
//! (`tests/data/asert/`). It differs from Bitcoin Cash Node only where Bitcoin Cash Node cannot
//! go: the multiplication of the anchor target by the 2^x factor is carried out in 320 bits,
//! so it is exact for any anchor target up to `2^256 - 1` (this chain's devnet limit,
//! `0x207fffff`, is close to `2^255`; Bitcoin Cash's is below `2^224`), and inputs whose
//! intermediate values do not fit 64 bits are computed in 128 bits, saturating only where the
//! result is clamped to the pow limit or to 1 regardless. Heights are `u64`, as this chain's
//! [`Height`]; times `i64`.

use aic_primitives::{ChainParams, CompactTarget, Height, Target, U256};

/// Parameters of the ASERT algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsertParams {
    /// The ideal time between blocks, in seconds.
    pub ideal_block_time: i64,
    /// Seconds ahead of (behind) schedule that double (halve) the difficulty. Must be
    /// positive; a value below 1 is treated as 1.
    pub half_life: i64,
    /// The easiest target allowed; results are clamped to it. Must be non-zero.
    pub pow_limit: Target,
}

/// The block ASERT measures the schedule from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AsertAnchor {
    /// The anchor block's height.
    pub height: u64,
    /// The time of the anchor block's parent (the anchor block's own time is not used).
    pub parent_time: i64,
    /// The anchor block's target.
    pub target: Target,
}

/// Target required of the block after the block at (`prev_height`, `prev_time`).
///
/// Never panics. The result is at least 1 and at most `params.pow_limit` (provided the pow
/// limit is non-zero).
///
/// # Consensus
/// Bitcoin Cash Node's `CalculateASERT` with `pindexPrev` at `prev_height` and `prev_time`.
/// Heights are `u64` (the specification's run 10 crosses `i64::MAX`); height and time
/// differences are taken in 128 bits.
pub fn asert_target(
    params: &AsertParams,
    anchor: &AsertAnchor,
    prev_height: u64,
    prev_time: i64,
) -> Target {
    let ideal = i128::from(params.ideal_block_time);
    let half_life = i128::from(params.half_life.max(1));
    // Each difference is below 2^64 in magnitude; only the product can leave i128, and where
    // it saturates the exponent is beyond ±2^48 and the result clamped to 1 or the pow limit.
    let time_diff = i128::from(prev_time) - i128::from(anchor.parent_time);
    let height_diff = i128::from(prev_height) - i128::from(anchor.height);
    let behind = time_diff.saturating_sub(ideal.saturating_mul(height_diff + 1));
    // Division truncates toward zero, as C's does (not toward minus infinity).
    let exponent = behind.saturating_mul(65_536) / half_life;
    // Arithmetic shift: the integer part rounds toward minus infinity, the fraction is the
    // low 16 bits (two's complement), in [0, 1).
    let shifts = exponent >> 16;
    let frac = (exponent & 0xffff) as u128;
    // 2^frac in 16.16 fixed point, the specification's cubic approximation; the sum is just
    // below 2^64, computed in 128 bits for margin.
    let factor = 65_536
        + ((195_766_423_245_049 * frac
            + 971_821_376 * frac * frac
            + 5_127 * frac * frac * frac
            + (1 << 47))
            >> 48);
    // factor is in [2^16, 2^17).
    let product = mul_u64(anchor.target.0, factor as u64);
    let shift = shifts - 16;
    let next = if shift <= 0 {
        shr(product, shift.unsigned_abs())
    } else {
        shl(product, shift.unsigned_abs())
    };
    let next = match next {
        Some(v) if v.is_zero() => U256::one(),
        Some(v) => v,
        // Above 2^256, hence above any pow limit.
        None => return params.pow_limit,
    };
    Target(next.min(params.pow_limit.0))
}

/// This chain's rule for the block after (`prev_height`, `prev_time`).
///
/// The anchor (target = pow limit) is either genesis, with parent time `genesis_time -
/// block_interval_secs`, or, where `params.asert_anchor_first_block` is set (devnet), the
/// block at height 1, with parent time `first_block_time - block_interval_secs`, so that a
/// network started on demand is on schedule from its first block. `first_block_time` is the
/// time of the block at height 1 on the same branch; it is ignored otherwise, and when the
/// parent is genesis.
///
/// If `params.pow_limit` does not decode to a target (never the case for the networks'
/// parameters, whose limits are valid by construction), there is no valid answer and the
/// function returns `params.pow_limit` unchanged, which the proof-of-work check then rejects.
///
/// # Consensus
/// Genesis carries `pow_limit` (and block 1 too with a first-block anchor); every later block
/// carries `next_bits` of its parent.
pub fn next_bits(
    params: &ChainParams,
    prev_height: Height,
    prev_time: u32,
    first_block_time: u32,
) -> CompactTarget {
    let Ok(pow_limit) = params.pow_limit.to_target() else {
        return params.pow_limit;
    };
    let ideal_block_time = i64::try_from(params.block_interval_secs).unwrap_or(i64::MAX);
    let asert = AsertParams {
        ideal_block_time,
        half_life: i64::try_from(params.asert_half_life_secs).unwrap_or(i64::MAX),
        pow_limit,
    };
    let (height, anchor_time) = if params.asert_anchor_first_block {
        if prev_height == Height::GENESIS {
            return params.pow_limit;
        }
        (1, first_block_time)
    } else {
        (0, params.genesis_time)
    };
    let anchor = AsertAnchor {
        height,
        // Cannot overflow: a u32 minus a non-negative i64 that fits in i64.
        parent_time: i64::from(anchor_time).saturating_sub(ideal_block_time),
        target: pow_limit,
    };
    asert_target(&asert, &anchor, prev_height.0, i64::from(prev_time)).to_compact()
}

/// `a * m` as five little-endian 64-bit limbs (320 bits).
fn mul_u64(a: U256, m: u64) -> [u64; 5] {
    let mut out = [0u64; 5];
    let mut carry = 0u128;
    for (limb, o) in a.0.iter().zip(out.iter_mut()) {
        let t = u128::from(*limb) * u128::from(m) + carry;
        *o = t as u64;
        carry = t >> 64;
    }
    out[4] = carry as u64;
    out
}

/// `floor(v / 2^n)`, or `None` if it does not fit 256 bits.
fn shr(v: [u64; 5], n: u128) -> Option<U256> {
    if n >= 320 {
        return Some(U256::zero());
    }
    let words = (n / 64) as usize;
    let bits = (n % 64) as u32;
    let mut out = [0u64; 5];
    for (i, o) in out.iter_mut().enumerate() {
        let lo = v.get(i + words).copied().unwrap_or(0);
        let hi = v.get(i + words + 1).copied().unwrap_or(0);
        *o = if bits == 0 {
            lo
        } else {
            (lo >> bits) | (hi << (64 - bits))
        };
    }
    if out[4] != 0 {
        return None;
    }
    Some(U256([out[0], out[1], out[2], out[3]]))
}

/// `v * 2^n`, or `None` if it does not fit 256 bits.
fn shl(v: [u64; 5], n: u128) -> Option<U256> {
    if v[4] != 0 {
        return None;
    }
    let x = U256([v[0], v[1], v[2], v[3]]);
    if x.is_zero() {
        return Some(x);
    }
    if n > u128::from(x.leading_zeros()) {
        return None;
    }
    // n <= 255 here, since x is non-zero.
    Some(x << (n as usize))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec_params() -> AsertParams {
        AsertParams {
            ideal_block_time: 600,
            half_life: 172_800,
            pow_limit: Target(U256::from(0xffffu64) << 208),
        }
    }

    fn anchor(target: Target) -> AsertAnchor {
        AsertAnchor {
            height: 1,
            parent_time: 0,
            target,
        }
    }

    #[test]
    fn steady_blocks_keep_the_target() {
        let p = spec_params();
        let start = Target(U256::from(0x2b3c4du64) << 200);
        let a = anchor(start);
        for h in 1..1_000u64 {
            // The block at height h (anchor at 1) is on schedule at time 600 * h.
            let t = 600 * h as i64;
            assert_eq!(asert_target(&p, &a, h, t), start, "height {h}");
        }
    }

    #[test]
    fn each_half_life_ahead_doubles_difficulty() {
        let p = spec_params();
        let start = Target(U256::from(0x2b3c4du64) << 180);
        let a = anchor(start);
        for k in 0..40u32 {
            // Height 1 + 288 k blocks at the time of one block: k half-lives ahead.
            let h = 1 + 288 * u64::from(k);
            let t = asert_target(&p, &a, h, 600);
            assert_eq!(t.0, start.0 >> k as usize, "{k} half-lives");
        }
        // And behind schedule halves it, up to the limit.
        let t = asert_target(&p, &a, 1, 600 + 172_800);
        assert_eq!(t.0, start.0 << 1);
        let t = asert_target(&p, &a, 1, 600 + 172_800 * 1_000);
        assert_eq!(t, p.pow_limit);
    }

    #[test]
    fn result_is_never_zero_nor_above_the_limit() {
        let p = spec_params();
        let a = anchor(Target(U256::one()));
        assert_eq!(asert_target(&p, &a, 1_000_000, 0), Target(U256::one()));
        let a = anchor(p.pow_limit);
        assert_eq!(asert_target(&p, &a, 1, i64::MAX), p.pow_limit);
        assert_eq!(asert_target(&p, &a, u64::MAX, i64::MIN).0, U256::one());
        let a = anchor(Target(U256::MAX));
        assert_eq!(asert_target(&p, &a, 0, i64::MAX), p.pow_limit);
    }

    #[test]
    fn wide_targets_are_exact() {
        // Anchor near 2^256, a limit of 2^256 - 1: the product needs more than 256 bits.
        let p = AsertParams {
            pow_limit: Target(U256::MAX),
            ..spec_params()
        };
        let top = Target(U256::MAX >> 1);
        let a = anchor(top);
        // On schedule: the factor is exactly 2^16, the target unchanged.
        assert_eq!(asert_target(&p, &a, 1, 600), top);
        // One half-life behind: exactly twice, fits.
        assert_eq!(asert_target(&p, &a, 1, 600 + 172_800).0, top.0 << 1);
        // Two half-lives behind: overflows, clamps.
        assert_eq!(asert_target(&p, &a, 1, 600 + 2 * 172_800), p.pow_limit);
        // One half-life ahead: exactly half.
        assert_eq!(asert_target(&p, &a, 289, 600).0, top.0 >> 1);
    }

    #[test]
    fn devnet_never_panics_on_extreme_inputs() {
        let params = ChainParams::devnet();
        let limit = params.pow_limit.to_target().expect("devnet limit is valid");
        let heights = [
            0,
            1,
            2,
            1_000,
            u64::from(u32::MAX),
            i64::MAX as u64 - 1,
            i64::MAX as u64,
            u64::MAX - 1,
            u64::MAX,
        ];
        let times = [
            0,
            1,
            params.genesis_time - 1,
            params.genesis_time,
            params.genesis_time + 1,
            u32::MAX - 1,
            u32::MAX,
        ];
        for &h in &heights {
            for &t in &times {
                let bits = next_bits(&params, Height(h), t, params.genesis_time + 2);
                let target = bits.to_target().expect("valid bits");
                assert!(target <= limit && !target.0.is_zero(), "{h} {t}");
            }
        }
        // A pseudo-random sweep of the same ranges.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let h = x >> (x % 64);
            let t = (x >> 32) as u32;
            let target = next_bits(&params, Height(h), t, (x >> 8) as u32)
                .to_target()
                .expect("valid");
            assert!(target <= limit);
        }
        // Also the i64 API with the devnet limit and any anchor.
        let p = AsertParams {
            ideal_block_time: 2,
            half_life: 60,
            pow_limit: limit,
        };
        let times = [i64::MIN, i64::MIN + 1, -1, 0, 1, i64::MAX - 1, i64::MAX];
        let heights = [0, 1, i64::MAX as u64, u64::MAX - 1, u64::MAX];
        for &ah in &heights {
            for &at in &times {
                for &h in &heights {
                    for &t in &times {
                        let a = AsertAnchor {
                            height: ah,
                            parent_time: at,
                            target: limit,
                        };
                        let r = asert_target(&p, &a, h, t);
                        assert!(r <= limit && !r.0.is_zero());
                    }
                }
            }
        }
    }

    #[test]
    fn devnet_first_blocks_are_at_the_limit_and_asert_starts_at_block_one() {
        let params = ChainParams::devnet();
        let t1 = params.genesis_time + 1_000_000;
        assert_eq!(
            next_bits(&params, Height(0), params.genesis_time, 0),
            params.pow_limit
        );
        assert_eq!(next_bits(&params, Height(1), t1, t1), params.pow_limit);
        // However late block 1 comes after genesis, blocks on schedule from there keep the
        // limit; being one half-life (five blocks) ahead doubles the difficulty.
        assert_eq!(
            next_bits(&params, Height(10), t1 + 18, t1),
            params.pow_limit
        );
        let limit = params.pow_limit.to_target().expect("valid");
        let half = next_bits(&params, Height(6), t1, t1)
            .to_target()
            .expect("valid");
        assert_eq!(half.to_compact(), Target(limit.0 >> 1).to_compact());
    }

    #[test]
    fn mainnet_is_anchored_at_genesis() {
        let params = ChainParams::mainnet();
        let g = params.genesis_time;
        // On schedule from genesis: the limit; block 1's time plays no part.
        assert_eq!(next_bits(&params, Height(0), g, 0), params.pow_limit);
        assert_eq!(next_bits(&params, Height(10), g + 600, 0), params.pow_limit);
        assert_eq!(
            next_bits(&params, Height(10), g + 600, u32::MAX),
            params.pow_limit
        );
        // One half-life (60 blocks) ahead of genesis's schedule halves the target.
        let limit = params.pow_limit.to_target().expect("valid");
        let ahead = next_bits(&params, Height(60), g, 0)
            .to_target()
            .expect("valid");
        assert_eq!(ahead.to_compact(), Target(limit.0 >> 1).to_compact());
    }
}
