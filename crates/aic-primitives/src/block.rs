//! Blocks and Bitcoin's merkle tree.

use crate::encode::{CompactSize, Decode, DecodeError, Encode, Reader};
use crate::hash::{sha256d, Hash256};
use crate::header::BlockHeader;
use crate::tx::Transaction;

/// Smallest possible encoded transaction, used to bound a decoded transaction count.
const MIN_TX_BYTES: usize = 50;
/// Upper bound on the transactions a decoded block may claim; consensus sets a lower one.
const MAX_DECODE_TXS: u64 = 1_000_000;

/// A block: the header, then the transactions, the coinbase first.
///
/// On the wire: the 80 header bytes, the transaction count as CompactSize, then each
/// transaction's canonical (self-delimiting) bytes, so a block assembled from a
/// `getblocktemplate` by a standard miner is byte for byte a block of this chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The transactions.
    pub txs: Vec<Transaction>,
}

impl Block {
    /// The block hash.
    pub fn hash(&self) -> Hash256 {
        self.header.hash()
    }

    /// The merkle root of the transaction ids, and whether the tree was mutated by repeating
    /// transactions (CVE-2012-2459).
    pub fn compute_merkle_root(&self) -> (Hash256, bool) {
        let ids: Vec<Hash256> = self.txs.iter().map(Transaction::txid).collect();
        merkle_root(&ids)
    }
}

impl Encode for Block {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        CompactSize(self.txs.len() as u64).encode_to(out);
        for tx in &self.txs {
            tx.encode_to(out);
        }
    }
}

impl Decode for Block {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode_from(r)?;
        let n = r.read_count("transactions", MAX_DECODE_TXS, MIN_TX_BYTES)?;
        let mut txs = Vec::with_capacity(n);
        for _ in 0..n {
            txs.push(Transaction::decode_from(r)?);
        }
        Ok(Block { header, txs })
    }
}

/// Bitcoin's merkle root over `ids` (the last node of an odd level is paired with itself).
///
/// The flag is true when some level paired two equal nodes, the mutation by which two
/// different transaction lists share one root; consensus rejects such blocks.
pub fn merkle_root(ids: &[Hash256]) -> (Hash256, bool) {
    if ids.is_empty() {
        return (Hash256::ZERO, false);
    }
    let mut level: Vec<Hash256> = ids.to_vec();
    let mut mutated = false;
    let mut buf = [0u8; 64];
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        for pair in level.chunks(2) {
            let left = pair[0];
            let right = *pair.get(1).unwrap_or(&left);
            if pair.len() == 2 && left == right {
                mutated = true;
            }
            buf[..32].copy_from_slice(left.as_bytes());
            buf[32..].copy_from_slice(right.as_bytes());
            next.push(sha256d(&buf));
        }
        level = next;
    }
    (level[0], mutated)
}

/// The merkle branch of the first transaction (the coinbase), as Stratum's `mining.notify`
/// sends it: the sibling at each level, bottom up, given the ids of the other transactions.
pub fn coinbase_merkle_branch(other_ids: &[Hash256]) -> Vec<Hash256> {
    let mut level: Vec<Option<Hash256>> = std::iter::once(None)
        .chain(other_ids.iter().copied().map(Some))
        .collect();
    let mut branch = Vec::new();
    let mut buf = [0u8; 64];
    while level.len() > 1 {
        if level.len() % 2 == 1 {
            let last = level[level.len() - 1];
            level.push(last);
        }
        branch.extend(level[1]);
        level = level
            .chunks(2)
            .map(|pair| match (pair[0], pair[1]) {
                (Some(l), Some(r)) => {
                    buf[..32].copy_from_slice(l.as_bytes());
                    buf[32..].copy_from_slice(r.as_bytes());
                    Some(sha256d(&buf))
                }
                // The pair holding the coinbase stays unknown.
                _ => None,
            })
            .collect();
    }
    branch
}

/// The merkle root from the first transaction's id and its branch.
pub fn merkle_root_from_branch(first: Hash256, branch: &[Hash256]) -> Hash256 {
    let mut buf = [0u8; 64];
    branch.iter().fold(first, |acc, sibling| {
        buf[..32].copy_from_slice(acc.as_bytes());
        buf[32..].copy_from_slice(sibling.as_bytes());
        sha256d(&buf)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Amount, Coinbase, CompactTarget, Height, Payout};
    use proptest::prelude::*;

    prop_compose! {
        fn arb_block()(
            version in any::<i32>(), prev in any::<[u8; 32]>(), root in any::<[u8; 32]>(),
            time in any::<u32>(), bits in any::<u32>(), nonce in any::<u32>(),
            heights in prop::collection::vec(any::<u64>(), 0..4),
            payout in any::<([u8; 20], u64)>(),
        ) -> Block {
            let header = BlockHeader {
                version,
                prev_hash: Hash256(prev),
                merkle_root: Hash256(root),
                time,
                bits: CompactTarget(bits),
                nonce,
            };
            let txs = heights
                .into_iter()
                .map(|h| {
                    Transaction::Coinbase(Coinbase {
                        height: Height(h),
                        extranonce: [7; 8],
                        state_root: Hash256(prev),
                        payouts: vec![Payout {
                            to: crate::Address(payout.0),
                            amount: Amount::from_units(payout.1),
                        }],
                    })
                })
                .collect();
            Block { header, txs }
        }
    }

    proptest! {
        #[test]
        fn blocks_round_trip(block in arb_block()) {
            let bytes = block.to_bytes();
            prop_assert_eq!(&bytes[..80], &block.header.to_array()[..]);
            prop_assert_eq!(Block::from_bytes(&bytes), Ok(block));
        }

        #[test]
        fn truncated_or_extended_blocks_are_rejected(block in arb_block(), cut in 1usize..100) {
            let bytes = block.to_bytes();
            let cut = cut.min(bytes.len());
            prop_assert!(Block::from_bytes(&bytes[..bytes.len() - cut]).is_err());
            let mut longer = bytes.clone();
            longer.push(0);
            prop_assert!(Block::from_bytes(&longer).is_err());
        }
    }

    #[test]
    fn a_block_claiming_more_transactions_than_bytes_allocates_nothing() {
        let mut bytes = vec![0u8; 80];
        CompactSize(u64::MAX).encode_to(&mut bytes);
        assert!(matches!(
            Block::from_bytes(&bytes),
            Err(DecodeError::CountTooLarge { .. })
        ));
    }

    #[test]
    fn merkle_root_of_bitcoin_block_100000() {
        // Block 100000 of Bitcoin: four transactions.
        let ids: Vec<Hash256> = [
            "8c14f0db3df150123e6f3dbbf30f8b955a8249b62ac1d1ff16284aefa3d06d87",
            "fff2525b8931402dd09222c50775608f75787bd2b87e56995a7bdd30f79702c4",
            "6359f0868171b1d194cbee1af2f16ea598ae8fad666d9b012c8ed2b79a236ec4",
            "e9a66845e05d5abc0ad04ec80f774a7e585c6e8db975962d069a522137b80c1d",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let (root, mutated) = merkle_root(&ids);
        assert_eq!(
            root.to_string(),
            "f3e94742aca4b5ef85488dc37c06c3282295ffec960994b2c0d5ac2a25a95766"
        );
        assert!(!mutated);
    }

    #[test]
    fn coinbase_branch_gives_the_merkle_root() {
        for n in 0..12u8 {
            let ids: Vec<Hash256> = (0..=n).map(|i| sha256d(&[i])).collect();
            let branch = coinbase_merkle_branch(&ids[1..]);
            assert_eq!(
                merkle_root_from_branch(ids[0], &branch),
                merkle_root(&ids).0,
                "{} transactions",
                n + 1
            );
        }
    }

    #[test]
    fn repeated_last_pair_is_flagged() {
        let a = Hash256([1; 32]);
        let b = Hash256([2; 32]);
        let c = Hash256([3; 32]);
        let (r1, m1) = merkle_root(&[a, b, c]);
        let (r2, m2) = merkle_root(&[a, b, c, c]);
        assert_eq!(r1, r2);
        assert!(!m1);
        assert!(m2);
    }
}
