//! Share difficulty: Bitcoin's "difficulty 1" target scaled, and per-connection vardiff.

use std::time::{Duration, Instant};

use aic_primitives::{Hash256, Target, U256};

/// Bitcoin's difficulty-1 target, `0xffff * 2^208`, the unit of Stratum difficulty.
pub(crate) fn diff1() -> U256 {
    U256::from(0xffffu64) << 208
}

/// The share target for `difficulty`, never harder than needed to see every block: it is at
/// least `network` (so a hash that solves a block is always a share).
pub(crate) fn share_target(difficulty: f64, network: &Target) -> Target {
    let target = if difficulty.is_finite() && difficulty > 0.0 {
        f64_to_u256(u256_f64(diff1()) / difficulty)
    } else {
        U256::MAX
    };
    Target(target.max(network.0).max(U256::one()))
}

/// The nearest 256-bit integer below `x` (saturating), keeping f64's 53 bits of precision.
fn f64_to_u256(x: f64) -> U256 {
    if x.is_nan() || x < 1.0 {
        return U256::zero();
    }
    if x >= 2f64.powi(256) {
        return U256::MAX;
    }
    let exp = x.log2().floor() as i32;
    if exp < 64 {
        return U256::from(x as u64);
    }
    // x = m * 2^(exp - 63) with m < 2^64.
    let m = (x / 2f64.powi(exp - 63)) as u64;
    U256::from(m) << (exp - 63) as usize
}

/// The difficulty a hash reaches: `diff1 / hash`.
pub(crate) fn hash_difficulty(hash: &Hash256) -> f64 {
    let h = U256::from_little_endian(hash.as_bytes());
    if h.is_zero() {
        return f64::MAX;
    }
    u256_f64(diff1()) / u256_f64(h)
}

fn u256_f64(v: U256) -> f64 {
    v.0.iter().rev().fold(0.0, |acc, limb| {
        acc * 18_446_744_073_709_551_616.0 + *limb as f64
    })
}

/// Per-connection variable difficulty: aims at one share per `target_secs`.
#[derive(Debug)]
pub(crate) struct Vardiff {
    pub(crate) difficulty: f64,
    min: f64,
    max: f64,
    target_secs: f64,
    retarget: Duration,
    since: Instant,
    shares: u32,
}

impl Vardiff {
    pub(crate) fn new(
        initial: f64,
        min: f64,
        max: f64,
        target_secs: f64,
        retarget: Duration,
    ) -> Self {
        Vardiff {
            difficulty: initial.clamp(min, max),
            min,
            max,
            target_secs,
            retarget,
            since: Instant::now(),
            shares: 0,
        }
    }

    /// Records an accepted share (the next [`Vardiff::maybe_retarget`] counts it).
    pub(crate) fn on_share(&mut self) {
        self.shares += 1;
    }

    /// Checks the share rate; returns a new difficulty when it should change (also called on
    /// a timer, so a connection that stopped finding shares gets an easier target).
    pub(crate) fn maybe_retarget(&mut self) -> Option<f64> {
        let elapsed = self.since.elapsed();
        if elapsed < self.retarget {
            return None;
        }
        let observed = f64::from(self.shares) / elapsed.as_secs_f64();
        let wanted = 1.0 / self.target_secs;
        // At most a factor of four per step; with no shares, quarter the difficulty.
        let factor = if self.shares == 0 {
            0.25
        } else {
            (observed / wanted).clamp(0.25, 4.0)
        };
        self.since = Instant::now();
        self.shares = 0;
        let next = (self.difficulty * factor).clamp(self.min, self.max);
        // Ignore changes under 20 %: they are noise and each costs the miner a new job.
        if (next / self.difficulty - 1.0).abs() < 0.2 {
            return None;
        }
        self.difficulty = next;
        Some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difficulty_one_is_the_diff1_target_and_scales() {
        let easy = Target(U256::one());
        assert_eq!(share_target(1.0, &easy).0, diff1());
        assert_eq!(share_target(2.0, &easy).0, diff1() / 2);
        assert_eq!(share_target(0.5, &easy).0, diff1() * 2);
        // Tiny difficulties (a devnet's) keep their precision.
        let tiny = share_target(2f64.powi(-30), &easy).0;
        assert_eq!(tiny, diff1() << 30);
        // Never harder than the network target.
        let network = Target(diff1() * 4);
        assert_eq!(share_target(1.0, &network), network);
        let mut h = [0u8; 32];
        h[27] = 0xff;
        h[26] = 0xff;
        let d = hash_difficulty(&Hash256(h));
        assert!((d - 1.0).abs() < 1e-3, "{d}");
    }

    #[test]
    fn vardiff_moves_toward_the_target_rate() {
        let mut v = Vardiff::new(1.0, 0.001, 1e6, 10.0, Duration::ZERO);
        // Many shares at once: harder, by at most four.
        for _ in 0..100 {
            v.shares += 1;
        }
        assert_eq!(v.maybe_retarget(), Some(4.0));
        // None at all: easier.
        std::thread::sleep(Duration::from_millis(5));
        assert_eq!(v.maybe_retarget(), Some(1.0));
    }
}
