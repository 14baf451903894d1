//! Proof of work and median time past.

use aic_primitives::{BlockHeader, CompactTarget, Target};

use crate::error::BlockError;

/// Number of previous blocks whose median time a new block must exceed.
pub const MEDIAN_TIME_SPAN: usize = 11;

/// Checks that `header` meets the target its bits encode, and that the bits are valid and no
/// easier than `pow_limit`.
///
/// # Consensus
/// The header hash, read as a little-endian 256-bit number, must be at most the target.
pub fn check_pow(header: &BlockHeader, pow_limit: CompactTarget) -> Result<Target, BlockError> {
    let target = header.bits.to_target().map_err(BlockError::InvalidBits)?;
    if let Ok(limit) = pow_limit.to_target() {
        if target > limit {
            return Err(BlockError::BitsAboveLimit {
                limit: pow_limit,
                got: header.bits,
            });
        }
    }
    let hash = header.hash();
    if !target.is_met_by(&hash) {
        return Err(BlockError::HighHash { hash });
    }
    Ok(target)
}

/// The median of the given block times (the last [`MEDIAN_TIME_SPAN`] blocks, or fewer near
/// genesis). Zero when there are none.
pub fn median_time_past(times: &[u32]) -> u32 {
    let mut sorted = times.to_vec();
    sorted.sort_unstable();
    sorted.get(sorted.len() / 2).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_primitives::ChainParams;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median_time_past(&[5, 1, 3]), 3);
        assert_eq!(median_time_past(&[1, 2, 3, 4]), 3);
        assert_eq!(median_time_past(&[]), 0);
    }

    #[test]
    fn genesis_meets_pow_and_a_changed_nonce_usually_does_not() {
        let p = ChainParams::mainnet();
        let mut g = p.genesis_block().header;
        assert!(check_pow(&g, p.pow_limit).is_ok());
        g.nonce = g.nonce.wrapping_add(1);
        assert!(matches!(
            check_pow(&g, p.pow_limit),
            Err(BlockError::HighHash { .. })
        ));
    }

    #[test]
    fn bits_easier_than_the_limit_are_refused() {
        let p = ChainParams::mainnet();
        let mut g = p.genesis_block().header;
        g.bits = CompactTarget(0x207f_ffff);
        assert!(matches!(
            check_pow(&g, p.pow_limit),
            Err(BlockError::BitsAboveLimit { .. })
        ));
        g.bits = CompactTarget(0x0480_0001);
        assert!(matches!(
            check_pow(&g, p.pow_limit),
            Err(BlockError::InvalidBits(_))
        ));
    }
}
