//! Difficulty: compact bits, expanded targets and chain work.

use std::fmt;

pub use primitive_types::U256;

use crate::hash::Hash256;

/// A proof-of-work target: a header hash, read as a little-endian 256-bit number, must be at
/// most the target.
///
/// # Consensus
/// Targets are compared as unsigned 256-bit integers, as Bitcoin's `arith_uint256`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target(pub U256);

/// The 32-bit "nBits" encoding of a [`Target`], as it appears in the header.
///
/// # Consensus
/// The exponent is the top byte, the mantissa the low 23 bits; bit 23 is a sign bit and must be
/// clear, and the value must fit in 256 bits (Bitcoin's `SetCompact`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CompactTarget(pub u32);

/// Expected number of hashes to find a block at some target; summed along a chain it is the
/// chain's cumulative work, which fork choice maximises.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Work(pub U256);

/// Compact bits that encode no valid target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompactTargetError {
    /// The sign bit is set on a non-zero mantissa.
    #[error("compact target {0:#010x} is negative")]
    Negative(u32),
    /// The value does not fit in 256 bits.
    #[error("compact target {0:#010x} overflows 256 bits")]
    Overflow(u32),
    /// The target is zero, which no hash can meet.
    #[error("compact target {0:#010x} is zero")]
    Zero(u32),
}

impl CompactTarget {
    /// Expands the compact form, rejecting negative, overflowing and zero targets.
    pub fn to_target(self) -> Result<Target, CompactTargetError> {
        let bits = self.0;
        let size = bits >> 24;
        let word = bits & 0x007f_ffff;
        if word != 0 && bits & 0x0080_0000 != 0 {
            return Err(CompactTargetError::Negative(bits));
        }
        if word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32)) {
            return Err(CompactTargetError::Overflow(bits));
        }
        let value = if size <= 3 {
            U256::from(word >> (8 * (3 - size)))
        } else {
            U256::from(word) << (8 * (size - 3) as usize)
        };
        if value.is_zero() {
            return Err(CompactTargetError::Zero(bits));
        }
        Ok(Target(value))
    }
}

impl fmt::Debug for CompactTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CompactTarget({:#010x})", self.0)
    }
}

impl fmt::Display for CompactTarget {
    /// Eight hex digits, as Bitcoin's `bits` field in JSON.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

impl Target {
    /// The compact encoding of this target (Bitcoin's `GetCompact`), which rounds the
    /// mantissa down to 23 bits.
    pub fn to_compact(self) -> CompactTarget {
        let v = self.0;
        let mut size = v.bits().div_ceil(8) as u32;
        let mut compact: u32 = if size <= 3 {
            (v.low_u64() << (8 * (3 - size))) as u32
        } else {
            (v >> (8 * (size - 3) as usize)).low_u64() as u32
        };
        if compact & 0x0080_0000 != 0 {
            compact >>= 8;
            size += 1;
        }
        CompactTarget(compact | (size << 24))
    }

    /// True if `hash`, read as a little-endian number, is at most this target.
    pub fn is_met_by(&self, hash: &Hash256) -> bool {
        U256::from_little_endian(hash.as_bytes()) <= self.0
    }

    /// The work a block at this target represents: `2^256 / (target + 1)`.
    pub fn work(&self) -> Work {
        // (~target / (target + 1)) + 1 == 2^256 / (target + 1), without 257-bit numbers.
        match self.0.checked_add(U256::one()) {
            Some(denominator) => Work((!self.0 / denominator) + U256::one()),
            None => Work(U256::one()),
        }
    }

    /// Difficulty relative to `limit` (the network's easiest target), as a float.
    pub fn difficulty(&self, limit: &Target) -> f64 {
        u256_to_f64(limit.0) / u256_to_f64(self.0)
    }
}

impl Work {
    /// `self + rhs`, saturating (2^256 hashes cannot be done).
    #[must_use]
    pub fn saturating_add(self, rhs: Work) -> Work {
        Work(self.0.saturating_add(rhs.0))
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}", self.0)
    }
}

fn u256_to_f64(v: U256) -> f64 {
    v.0.iter().rev().fold(0.0, |acc, limb| {
        acc * 18_446_744_073_709_551_616.0 + *limb as f64
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bitcoin_genesis_bits_expand() {
        let t = CompactTarget(0x1d00ffff).to_target().unwrap();
        assert_eq!(t.0, U256::from(0xffffu64) << 208);
        assert_eq!(t.to_compact(), CompactTarget(0x1d00ffff));
        // Bitcoin's genesis block work: 0x100010001.
        assert_eq!(t.work().0, U256::from(0x1_0001_0001u64));
    }

    #[test]
    fn bad_compact_forms_are_rejected() {
        assert_eq!(
            CompactTarget(0x04923456).to_target(),
            Err(CompactTargetError::Negative(0x04923456))
        );
        assert_eq!(
            CompactTarget(0xff123456).to_target(),
            Err(CompactTargetError::Overflow(0xff123456))
        );
        assert_eq!(
            CompactTarget(0x01003456).to_target(),
            Err(CompactTargetError::Zero(0x01003456))
        );
    }

    #[test]
    fn compact_vectors_from_bitcoin_core() {
        // arith_uint256_tests.cpp: SetCompact/GetCompact pairs.
        for (bits, normalized) in [
            (0x01123456u32, 0x01120000u32),
            (0x02123456, 0x02123400),
            (0x03123456, 0x03123456),
            (0x04123456, 0x04123456),
            (0x05009234, 0x05009234),
            (0x20123456, 0x20123456),
        ] {
            let t = CompactTarget(bits).to_target().unwrap();
            assert_eq!(t.to_compact(), CompactTarget(normalized), "{bits:#x}");
        }
        assert_eq!(
            CompactTarget(0x04923456).to_target(),
            Err(CompactTargetError::Negative(0x04923456))
        );
    }

    proptest! {
        #[test]
        fn compact_round_trips_canonical_forms(size in 1u32..=32, word in 0x8000u32..0x7f_ffff) {
            let bits = (size << 24) | word;
            if let Ok(t) = CompactTarget(bits).to_target() {
                let again = t.to_compact().to_target().unwrap();
                prop_assert_eq!(again, t.to_compact().to_target().unwrap());
                prop_assert!(again <= t);
            }
        }
    }
}
