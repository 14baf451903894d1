//! Block locators: which heights of the best chain to name so a peer can find where our
//! chains part, in few hashes (Bitcoin's scheme).

/// Heights a locator names for a chain whose tip is at `tip`: the ten highest one apart, then
/// the step doubling, genesis (0) last; at most [`crate::wire::MAX_LOCATOR`].
pub fn locator_heights(tip: u64) -> Vec<u64> {
    let mut heights = Vec::new();
    let mut h = tip;
    let mut step = 1u64;
    loop {
        heights.push(h);
        if h == 0 || heights.len() + 1 >= crate::wire::MAX_LOCATOR {
            break;
        }
        if heights.len() >= 10 {
            step = step.saturating_mul(2);
        }
        h = h.saturating_sub(step);
    }
    if heights.last() != Some(&0) {
        heights.push(0);
    }
    heights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locators_are_dense_near_the_tip_and_end_at_genesis() {
        assert_eq!(locator_heights(0), vec![0]);
        assert_eq!(locator_heights(3), vec![3, 2, 1, 0]);
        let l = locator_heights(1_000_000);
        assert_eq!(
            &l[..10],
            &(999_991..=1_000_000).rev().collect::<Vec<_>>()[..]
        );
        assert_eq!(*l.last().unwrap(), 0);
        assert!(l.len() <= crate::wire::MAX_LOCATOR);
        assert!(l.windows(2).all(|w| w[0] > w[1]));
    }
}
