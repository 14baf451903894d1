//! Work templates: the parts of a block header a miner may vary, Stratum v1 style.
//!
//! The coinbase is `coinbase1 || extranonce1 || extranonce2 || coinbase2`; the merkle root is
//! SHA-256d of the coinbase folded with each branch as `SHA256d(root || branch)`; the header is
//! `version || prev_hash || root || ntime || nbits || nonce`, integers little-endian. A solo
//! template (getblocktemplate) maps onto the same shape: the coinbase split at its extranonce
//! and [`merkle_branches_for`] the other transactions.

use sha2::{Digest, Sha256};

/// Everything a search needs to build headers: one Stratum job plus the share target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkTemplate {
    /// Block version before rolling.
    pub version: u32,
    /// BIP 310 rollable version bits; 0 means no version rolling.
    pub version_mask: u32,
    /// Previous block hash in header byte order (not Stratum's word-swapped wire order).
    pub prev_hash: [u8; 32],
    /// Coinbase bytes before the extranonces.
    pub coinbase1: Vec<u8>,
    /// The pool's part of the extranonce (may be empty).
    pub extranonce1: Vec<u8>,
    /// Length in bytes of the miner's part of the extranonce.
    pub extranonce2_size: usize,
    /// Coinbase bytes after the extranonces.
    pub coinbase2: Vec<u8>,
    /// Merkle branch of the coinbase (position 0), internal byte order, leaf level first.
    pub merkle_branches: Vec<[u8; 32]>,
    /// Header time before rolling.
    pub ntime: u32,
    /// Seconds the miner may add to `ntime`; 0 means no ntime rolling.
    pub ntime_max_roll: u32,
    /// Compact network target, copied into the header.
    pub nbits: u32,
    /// Share target, 32 little-endian bytes (see [`crate::meets_target`]).
    pub target: [u8; 32],
}

/// Expands compact `bits` to a 32-byte little-endian target, as Bitcoin does. A negative
/// (sign bit set) or zero mantissa gives the zero target, which no hash but zero meets; bytes
/// beyond 256 bits are dropped, which only makes the target smaller.
pub fn bits_to_target(bits: u32) -> [u8; 32] {
    let exponent = (bits >> 24) as usize;
    let mut target = [0u8; 32];
    if bits & 0x0080_0000 != 0 {
        return target;
    }
    let mantissa = (bits & 0x007f_ffff).to_le_bytes();
    for (i, &b) in mantissa[..3].iter().enumerate() {
        // Byte i of the mantissa is worth 256^(exponent - 3 + i).
        if let Some(slot) = (exponent + i)
            .checked_sub(3)
            .and_then(|j| target.get_mut(j))
        {
            *slot = b;
        }
    }
    target
}

impl WorkTemplate {
    /// The network target of [`Self::nbits`]: a share whose hash meets it is a block.
    pub fn network_target(&self) -> [u8; 32] {
        bits_to_target(self.nbits)
    }

    /// The coinbase transaction for `extranonce2` (which should be `extranonce2_size` bytes).
    pub fn coinbase(&self, extranonce2: &[u8]) -> Vec<u8> {
        debug_assert_eq!(extranonce2.len(), self.extranonce2_size);
        let mut tx = Vec::with_capacity(
            self.coinbase1.len()
                + self.extranonce1.len()
                + extranonce2.len()
                + self.coinbase2.len(),
        );
        tx.extend_from_slice(&self.coinbase1);
        tx.extend_from_slice(&self.extranonce1);
        tx.extend_from_slice(extranonce2);
        tx.extend_from_slice(&self.coinbase2);
        tx
    }

    /// The merkle root (internal byte order) for `extranonce2`.
    pub fn merkle_root(&self, extranonce2: &[u8]) -> [u8; 32] {
        let coinbase_id = sha256d(&self.coinbase(extranonce2));
        merkle_root_from_branches(coinbase_id, &self.merkle_branches)
    }

    /// The 80-byte header for `extranonce2`, `ntime` and `version`, with the nonce bytes zero.
    pub fn header(&self, extranonce2: &[u8], ntime: u32, version: u32) -> [u8; 80] {
        self.header_with_root(&self.merkle_root(extranonce2), ntime, version)
    }

    /// The header for an already computed merkle root, nonce bytes zero.
    pub(crate) fn header_with_root(&self, root: &[u8; 32], ntime: u32, version: u32) -> [u8; 80] {
        let mut header = [0u8; 80];
        header[0..4].copy_from_slice(&version.to_le_bytes());
        header[4..36].copy_from_slice(&self.prev_hash);
        header[36..68].copy_from_slice(root);
        header[68..72].copy_from_slice(&ntime.to_le_bytes());
        header[72..76].copy_from_slice(&self.nbits.to_le_bytes());
        header
    }

    /// Number of distinct extranonce2 values: 256^`extranonce2_size`, saturated at 2^64
    /// because a search counts extranonce2 in a `u64`.
    pub fn extranonce2_space(&self) -> u128 {
        1u128 << (8 * self.extranonce2_size.min(8))
    }

    /// Number of versions reachable by rolling: 2^(set bits of `version_mask`).
    pub fn version_count(&self) -> u64 {
        1u64 << self.version_mask.count_ones()
    }

    /// The `index`-th rolled version (BIP 310): `(version & !mask) | (rolled & mask)`, where the
    /// bits of `index` are spread, lowest first, over the set bits of the mask.
    pub fn rolled_version(&self, index: u64) -> u32 {
        let mut rolled = 0u32;
        let mut mask = self.version_mask;
        let mut bits = index;
        while mask != 0 {
            let lowest = mask & mask.wrapping_neg();
            if bits & 1 == 1 {
                rolled |= lowest;
            }
            bits >>= 1;
            mask &= mask - 1;
        }
        (self.version & !self.version_mask) | rolled
    }
}

/// SHA-256 applied twice.
pub fn sha256d(data: &[u8]) -> [u8; 32] {
    Sha256::digest(Sha256::digest(data)).into()
}

/// Folds a leaf up a Stratum-style branch: `root = SHA256d(root || branch)` for each entry.
pub fn merkle_root_from_branches(leaf: [u8; 32], branches: &[[u8; 32]]) -> [u8; 32] {
    branches
        .iter()
        .fold(leaf, |root, branch| hash_pair(&root, branch))
}

/// The Stratum-style merkle branch of position 0 (the coinbase) in a block whose other
/// transactions have ids `txids` (internal byte order, block order). Folding the coinbase id
/// up this branch with [`merkle_root_from_branches`] gives Bitcoin's merkle root over
/// `[coinbase_id, txids...]`, where a level with an odd count pairs its last node with itself.
pub fn merkle_branches_for(txids: &[[u8; 32]]) -> Vec<[u8; 32]> {
    // `level` is one level of the tree without its position 0, which depends on the coinbase.
    let mut level: Vec<[u8; 32]> = txids.to_vec();
    let mut branches = Vec::new();
    while let Some(&sibling) = level.first() {
        branches.push(sibling);
        // Full level is [x, level...]; its length is level.len() + 1.
        if level.len().is_multiple_of(2) {
            let last = level[level.len() - 1];
            level.push(last);
        }
        // Pairs (x, level[0]) collapse into the next position 0; hash the remaining pairs.
        level = level[1..]
            .chunks_exact(2)
            .map(|pair| hash_pair(&pair[0], &pair[1]))
            .collect();
    }
    branches
}

fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    buf[..32].copy_from_slice(left);
    buf[32..].copy_from_slice(right);
    sha256d(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitcoin's merkle root computed level by level, odd levels duplicating their last node.
    fn merkle_root_direct(leaves: &[[u8; 32]]) -> [u8; 32] {
        let mut level = leaves.to_vec();
        while level.len() > 1 {
            if level.len() % 2 == 1 {
                level.push(level[level.len() - 1]);
            }
            level = level
                .chunks_exact(2)
                .map(|p| hash_pair(&p[0], &p[1]))
                .collect();
        }
        level[0]
    }

    #[test]
    fn branches_fold_to_the_direct_merkle_root() {
        let coinbase_id = sha256d(b"coinbase");
        for n in 0..=17u32 {
            let txids: Vec<[u8; 32]> = (0..n).map(|i| sha256d(&i.to_le_bytes())).collect();
            let mut leaves = vec![coinbase_id];
            leaves.extend_from_slice(&txids);
            let branches = merkle_branches_for(&txids);
            assert_eq!(
                merkle_root_from_branches(coinbase_id, &branches),
                merkle_root_direct(&leaves),
                "{n} other transactions"
            );
            // Depth: ceil(log2(n + 1)).
            let depth = (usize::BITS - (n as usize).leading_zeros()) as usize;
            assert_eq!(branches.len(), depth, "{n} other transactions");
        }
    }

    #[test]
    fn rolled_versions_spread_the_counter_over_the_mask() {
        let template = WorkTemplate {
            version: 0x2000_0000 | 0x0000_6000 | 1,
            version_mask: 0x1fff_e000,
            prev_hash: [0; 32],
            coinbase1: vec![],
            extranonce1: vec![],
            extranonce2_size: 0,
            coinbase2: vec![],
            merkle_branches: vec![],
            ntime: 0,
            ntime_max_roll: 0,
            nbits: 0,
            target: [0; 32],
        };
        assert_eq!(template.version_count(), 1 << 16);
        assert_eq!(template.rolled_version(0), 0x2000_0001);
        assert_eq!(template.rolled_version(1), 0x2000_2001);
        assert_eq!(template.rolled_version(3), 0x2000_6001);
        assert_eq!(template.rolled_version(0xffff), 0x3fff_e001);
        let none = WorkTemplate {
            version_mask: 0,
            ..template
        };
        assert_eq!(none.version_count(), 1);
        assert_eq!(none.rolled_version(0), none.version);
    }
}
