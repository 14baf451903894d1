//! Exact fee-rate comparison.

use std::cmp::Ordering;

/// A fee per encoded byte, kept as the fraction `fee / size` and compared exactly
/// (`fee_a * size_b` against `fee_b * size_a` in `u128`), so that no rounding makes two
/// different rates tie or an equal pair differ.
#[derive(Clone, Copy, Debug)]
pub(super) struct FeeRate {
    fee: u64,
    size: u64,
}

impl FeeRate {
    /// The rate of `fee` base units over `size` encoded bytes (a zero size counts as one byte).
    pub(super) fn new(fee: u64, size: usize) -> FeeRate {
        FeeRate {
            fee,
            size: u64::try_from(size).unwrap_or(u64::MAX).max(1),
        }
    }

    /// Whole base units per byte, rounded down.
    pub(super) fn floor(self) -> u64 {
        self.fee / self.size
    }

    /// Whether the rate is at least `per_byte` base units per byte.
    pub(super) fn at_least(self, per_byte: u64) -> bool {
        u128::from(self.fee) >= u128::from(per_byte) * u128::from(self.size)
    }

    /// The least whole rate strictly above this one.
    pub(super) fn next_whole(self) -> u64 {
        self.floor().saturating_add(1)
    }
}

impl Ord for FeeRate {
    fn cmp(&self, other: &FeeRate) -> Ordering {
        (u128::from(self.fee) * u128::from(other.size))
            .cmp(&(u128::from(other.fee) * u128::from(self.size)))
    }
}

impl PartialOrd for FeeRate {
    fn partial_cmp(&self, other: &FeeRate) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for FeeRate {
    fn eq(&self, other: &FeeRate) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for FeeRate {}

#[cfg(test)]
mod tests {
    use super::FeeRate;

    #[test]
    fn compares_exactly() {
        // 3/2 and 4/3 both floor to 1 but differ.
        assert!(FeeRate::new(3, 2) > FeeRate::new(4, 3));
        assert_eq!(FeeRate::new(2, 4), FeeRate::new(1, 2));
        assert!(FeeRate::new(u64::MAX, 1) > FeeRate::new(u64::MAX - 1, 1));
        assert!(FeeRate::new(149, 150).at_least(0));
        assert!(!FeeRate::new(149, 150).at_least(1));
        assert!(FeeRate::new(150, 150).at_least(1));
        assert_eq!(FeeRate::new(299, 150).next_whole(), 2);
        assert!(FeeRate::new(300, 150) > FeeRate::new(299, 150));
    }
}
