//! An in-memory chain implementing the network's traits, for tests of sync and of whole
//! networks of swarms in one process. Its rules are few but real: the parent must be known,
//! the header must meet the network's fixed target and commit to the block's transactions,
//! and the tip is the block with the most cumulative work (first seen wins ties).

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use aic_blob::BlobId;
use aic_primitives::{Block, BlockHeader, CompactTarget, Hash256, Height, Transaction, Work};

use crate::locator::locator_heights;
use crate::traits::{
    BlobAccess, BlobSinkError, BlockVerdict, ChainSink, ChainTip, ChainView, TxVerdict,
};

/// The fixed target of test chains (every other hash meets it).
pub const TEST_BITS: CompactTarget = CompactTarget(0x207f_ffff);

#[derive(Debug)]
struct Inner {
    blocks: HashMap<Hash256, (Block, Height, Work)>,
    invalid: HashSet<Hash256>,
    main: Vec<Hash256>,
    mempool: HashSet<Hash256>,
    blobs: HashMap<BlobId, Vec<u8>>,
}

/// An in-memory chain.
#[derive(Debug)]
pub struct MemChain {
    genesis: Hash256,
    inner: Mutex<Inner>,
}

/// A block on `parent` at `time`, with a coinbase-like first transaction made unique by
/// `tag`, mined at [`TEST_BITS`].
pub fn mine_child(parent: &BlockHeader, tag: u64, txs: Vec<Transaction>) -> Block {
    let coinbase = Transaction::Coinbase(aic_primitives::Coinbase {
        height: Height(tag),
        extranonce: tag.to_le_bytes(),
        state_root: Hash256::ZERO,
        payouts: Vec::new(),
    });
    let mut all = vec![coinbase];
    all.extend(txs);
    let mut block = Block {
        header: BlockHeader {
            version: 1,
            prev_hash: parent.hash(),
            merkle_root: Hash256::ZERO,
            time: parent.time + 1,
            bits: TEST_BITS,
            nonce: 0,
        },
        txs: all,
    };
    block.header.merkle_root = block.compute_merkle_root().0;
    let target = TEST_BITS
        .to_target()
        .unwrap_or(aic_primitives::Target(1u8.into()));
    while !target.is_met_by(&block.header.hash()) {
        block.header.nonce += 1;
    }
    block
}

/// The genesis block of test chains.
pub fn genesis() -> Block {
    let root = BlockHeader {
        version: 1,
        prev_hash: Hash256::ZERO,
        merkle_root: Hash256::ZERO,
        time: 1_000,
        bits: TEST_BITS,
        nonce: 0,
    };
    let mut g = mine_child(&root, 0, Vec::new());
    g.header.prev_hash = Hash256::ZERO;
    let target = TEST_BITS
        .to_target()
        .unwrap_or(aic_primitives::Target(1u8.into()));
    g.header.nonce = 0;
    while !target.is_met_by(&g.header.hash()) {
        g.header.nonce += 1;
    }
    g
}

fn work_of(h: &BlockHeader) -> Work {
    h.bits.to_target().map(|t| t.work()).unwrap_or_default()
}

impl Default for MemChain {
    fn default() -> Self {
        MemChain::new()
    }
}

impl MemChain {
    /// A chain holding only the test genesis.
    pub fn new() -> MemChain {
        let g = genesis();
        let hash = g.hash();
        let work = work_of(&g.header);
        let mut blocks = HashMap::new();
        blocks.insert(hash, (g, Height(0), work));
        MemChain {
            genesis: hash,
            inner: Mutex::new(Inner {
                blocks,
                invalid: HashSet::new(),
                main: vec![hash],
                mempool: HashSet::new(),
                blobs: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The tip block's header.
    pub fn tip_header(&self) -> BlockHeader {
        let g = self.lock();
        let tip = g.main.last().copied().unwrap_or(self.genesis);
        g.blocks[&tip].0.header
    }

    /// Mines `n` blocks on the tip (tags from `tag`) and returns them.
    ///
    /// # Panics
    /// If the chain refuses a block it mined itself (a bug in the test kit).
    pub fn mine(&self, n: usize, tag: u64) -> Vec<Block> {
        (0..n as u64)
            .map(|i| {
                let b = mine_child(&self.tip_header(), tag + i, Vec::new());
                assert_eq!(
                    self.submit_block(b.clone()),
                    BlockVerdict::Accepted { is_tip: true }
                );
                b
            })
            .collect()
    }

    /// True if the transaction is in the mempool.
    pub fn in_mempool(&self, txid: &Hash256) -> bool {
        self.lock().mempool.contains(txid)
    }

    /// Stores a blob (as a local publisher would).
    pub fn add_blob(&self, bytes: &[u8]) -> BlobId {
        let id = BlobId::of(bytes);
        self.lock().blobs.insert(id, bytes.to_vec());
        id
    }

    /// Stores `bytes` under `id` whether or not they hash to it (a corrupt store, as a
    /// misbehaving peer would serve).
    pub fn add_corrupt_blob(&self, id: BlobId, bytes: &[u8]) {
        self.lock().blobs.insert(id, bytes.to_vec());
    }

    /// A stored blob.
    pub fn blob(&self, id: &BlobId) -> Option<Vec<u8>> {
        self.lock().blobs.get(id).cloned()
    }
}

impl ChainView for MemChain {
    fn genesis(&self) -> Hash256 {
        self.genesis
    }

    fn tip(&self) -> ChainTip {
        let g = self.lock();
        let hash = g.main.last().copied().unwrap_or(self.genesis);
        let (_, height, work) = g.blocks[&hash];
        ChainTip { hash, height, work }
    }

    fn locator(&self) -> Vec<Hash256> {
        let g = self.lock();
        let tip = g.main.len().saturating_sub(1) as u64;
        locator_heights(tip)
            .into_iter()
            .filter_map(|h| g.main.get(h as usize).copied())
            .collect()
    }

    fn headers_after(&self, locator: &[Hash256], max: usize) -> Vec<BlockHeader> {
        let g = self.lock();
        let start = locator
            .iter()
            .find_map(|h| {
                let (_, height, _) = g.blocks.get(h)?;
                (g.main.get(height.0 as usize) == Some(h)).then_some(height.0 as usize)
            })
            .unwrap_or(0);
        g.main
            .iter()
            .skip(start + 1)
            .take(max)
            .map(|h| g.blocks[h].0.header)
            .collect()
    }

    fn block(&self, hash: &Hash256) -> Option<Block> {
        self.lock().blocks.get(hash).map(|b| b.0.clone())
    }

    fn has_block(&self, hash: &Hash256) -> bool {
        let g = self.lock();
        g.blocks.contains_key(hash) || g.invalid.contains(hash)
    }
}

impl ChainSink for MemChain {
    fn submit_block(&self, block: Block) -> BlockVerdict {
        let mut g = self.lock();
        let hash = block.hash();
        if g.invalid.contains(&hash) {
            return BlockVerdict::Invalid("known invalid".to_owned());
        }
        if g.blocks.contains_key(&hash) {
            return BlockVerdict::Duplicate;
        }
        let Some(&(_, ph, pw)) = g.blocks.get(&block.header.prev_hash) else {
            return if g.invalid.contains(&block.header.prev_hash) {
                BlockVerdict::Invalid("invalid parent".to_owned())
            } else {
                BlockVerdict::Orphan
            };
        };
        let target_ok = block.header.bits == TEST_BITS
            && TEST_BITS
                .to_target()
                .is_ok_and(|t| t.is_met_by(&block.header.hash()));
        let (root, mutated) = block.compute_merkle_root();
        if !target_ok || mutated || root != block.header.merkle_root || block.txs.is_empty() {
            g.invalid.insert(hash);
            return BlockVerdict::Invalid("bad proof of work or merkle root".to_owned());
        }
        let work = pw.saturating_add(work_of(&block.header));
        let height = Height(ph.0 + 1);
        for tx in &block.txs {
            g.mempool.remove(&tx.txid());
        }
        g.blocks.insert(hash, (block, height, work));
        let tip = *g.main.last().unwrap_or(&self.genesis);
        if work <= g.blocks[&tip].2 {
            return BlockVerdict::Accepted { is_tip: false };
        }
        // Walk back to the main chain and switch.
        let mut branch = vec![hash];
        let mut cur = g.blocks[&hash].0.header.prev_hash;
        loop {
            let h = g.blocks[&cur].1;
            if g.main.get(h.0 as usize) == Some(&cur) {
                g.main.truncate(h.0 as usize + 1);
                break;
            }
            branch.push(cur);
            cur = g.blocks[&cur].0.header.prev_hash;
        }
        branch.reverse();
        g.main.extend(branch);
        BlockVerdict::Accepted { is_tip: true }
    }

    fn submit_tx(&self, tx: Transaction) -> TxVerdict {
        match tx {
            Transaction::Coinbase(_) => TxVerdict::Invalid("standalone coinbase".to_owned()),
            Transaction::Signed(s) => {
                let id = Transaction::Signed(s).txid();
                if self.lock().mempool.insert(id) {
                    TxVerdict::Accepted
                } else {
                    TxVerdict::Ignored("already known".to_owned())
                }
            }
        }
    }
}

impl BlobAccess for MemChain {
    fn blob_len(&self, id: &BlobId) -> Option<u64> {
        self.lock().blobs.get(id).map(|b| b.len() as u64)
    }

    fn read_blob(&self, id: &BlobId, offset: u64, len: u32) -> std::io::Result<Vec<u8>> {
        let g = self.lock();
        let b = g
            .blobs
            .get(id)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        let start = (offset as usize).min(b.len());
        let end = start.saturating_add(len as usize).min(b.len());
        Ok(b[start..end].to_vec())
    }

    fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<(), BlobSinkError> {
        let actual = BlobId::of(bytes);
        if actual != *id {
            return Err(BlobSinkError::Mismatch {
                expected: *id,
                actual,
            });
        }
        self.lock().blobs.insert(*id, bytes.to_vec());
        Ok(())
    }
}
