//! The orphan pool: blocks whose parent is not known yet (announced before the blocks under
//! them arrived), kept until the parent is connected or they expire. Bounded in count.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aic_primitives::{Block, Hash256};
use libp2p::PeerId;

/// Most orphans kept.
pub const MAX_ORPHANS: usize = 128;
/// How long an orphan is kept.
pub const ORPHAN_TTL: Duration = Duration::from_secs(600);

#[derive(Debug)]
struct Orphan {
    block: Block,
    from: PeerId,
    added: Instant,
}

/// Blocks waiting for their parent.
#[derive(Debug, Default)]
pub struct Orphans {
    by_hash: HashMap<Hash256, Orphan>,
}

impl Orphans {
    /// Keeps `block` (from `from`) until its parent arrives; drops the oldest orphan if full.
    pub fn insert(&mut self, block: Block, from: PeerId, now: Instant) {
        self.expire(now);
        if self.by_hash.len() >= MAX_ORPHANS {
            if let Some(oldest) = self
                .by_hash
                .iter()
                .min_by_key(|(_, o)| o.added)
                .map(|(h, _)| *h)
            {
                self.by_hash.remove(&oldest);
            }
        }
        self.by_hash.insert(
            block.hash(),
            Orphan {
                block,
                from,
                added: now,
            },
        );
    }

    /// Removes and returns the orphans whose parent is `parent`.
    pub fn take_children(&mut self, parent: &Hash256) -> Vec<(Block, PeerId)> {
        let hashes: Vec<Hash256> = self
            .by_hash
            .iter()
            .filter(|(_, o)| o.block.header.prev_hash == *parent)
            .map(|(h, _)| *h)
            .collect();
        hashes
            .into_iter()
            .filter_map(|h| self.by_hash.remove(&h))
            .map(|o| (o.block, o.from))
            .collect()
    }

    /// True if the block is held as an orphan.
    pub fn contains(&self, hash: &Hash256) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Orphans held.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// True if none are held.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Drops orphans older than [`ORPHAN_TTL`].
    pub fn expire(&mut self, now: Instant) {
        self.by_hash
            .retain(|_, o| now.saturating_duration_since(o.added) < ORPHAN_TTL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_primitives::{BlockHeader, CompactTarget};

    fn block(prev: Hash256, nonce: u32) -> Block {
        Block {
            header: BlockHeader {
                version: 1,
                prev_hash: prev,
                merkle_root: Hash256::ZERO,
                time: 0,
                bits: CompactTarget(0x207f_ffff),
                nonce,
            },
            txs: Vec::new(),
        }
    }

    #[test]
    fn children_are_found_by_parent_and_the_pool_is_bounded() {
        let now = Instant::now();
        let mut o = Orphans::default();
        let p = PeerId::random();
        let parent = Hash256([7; 32]);
        o.insert(block(parent, 1), p, now);
        o.insert(block(parent, 2), p, now);
        o.insert(block(Hash256([8; 32]), 3), p, now);
        assert_eq!(o.take_children(&parent).len(), 2);
        assert_eq!(o.len(), 1);
        for i in 0..(MAX_ORPHANS as u32 + 5) {
            o.insert(
                block(Hash256::ZERO, 100 + i),
                p,
                now + Duration::from_millis(i.into()),
            );
        }
        assert_eq!(o.len(), MAX_ORPHANS);
        o.expire(now + ORPHAN_TTL + Duration::from_secs(1));
        assert!(o.is_empty());
    }
}
