//! The traits through which the network reaches the chain and the blob store. The network
//! owns them; the node implements them over its chain (`aic-chain`) and blob store, tests over
//! an in-memory chain. Nothing here knows how blocks are validated or stored.
//!
//! Calls are synchronous and may block briefly (a database read or write); the service runs
//! them off its network loop's fast path (see `service.rs`).

use aic_blob::BlobId;
use aic_primitives::{Block, BlockHeader, Hash256, Height, Transaction, Work};

/// The tip of the best chain as the network sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainTip {
    /// Tip hash.
    pub hash: Hash256,
    /// Tip height.
    pub height: Height,
    /// Cumulative work of the chain ending at the tip.
    pub work: Work,
}

/// What the chain made of a block from the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockVerdict {
    /// Stored; `is_tip` when it is now the best chain's tip.
    Accepted {
        /// True when the block is the new tip.
        is_tip: bool,
    },
    /// Already known (valid): nothing to do, nobody to blame.
    Duplicate,
    /// Its parent is unknown: keep it as an orphan and fetch the headers before it.
    Orphan,
    /// It breaks a consensus rule (or descends from a block that does): the sender is to blame.
    Invalid(String),
    /// Refused for a reason that is nobody's fault (too deep a reorg, a storage failure).
    Ignored(String),
}

/// What the chain made of a transaction from the network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxVerdict {
    /// Added to the mempool: relay it.
    Accepted,
    /// Refused by policy or because the chain moved (known, nonce used, mempool full): do not
    /// relay, but nobody is to blame.
    Ignored(String),
    /// It can never be valid (bad signature, wrong chain id, malformed): the sender is to blame.
    Invalid(String),
}

/// Read access to the chain, for answering peers and deciding what to sync.
pub trait ChainView: Send + Sync + 'static {
    /// The genesis block's hash (peers on another chain are refused).
    fn genesis(&self) -> Hash256;
    /// The best chain's tip.
    fn tip(&self) -> ChainTip;
    /// A block locator of the best chain: hashes from the tip back to genesis, the first ten
    /// one apart, then doubling the step, genesis last (at most `wire::MAX_LOCATOR`).
    fn locator(&self) -> Vec<Hash256>;
    /// Up to `max` headers of the best chain after the first `locator` hash on it (after
    /// genesis if none is).
    fn headers_after(&self, locator: &[Hash256], max: usize) -> Vec<BlockHeader>;
    /// A stored block (any branch).
    fn block(&self, hash: &Hash256) -> Option<Block>;
    /// True if the block is stored (valid or not): it need not be downloaded.
    fn has_block(&self, hash: &Hash256) -> bool;
}

/// Write access to the chain: blocks and transactions from the network.
pub trait ChainSink: Send + Sync + 'static {
    /// Validates and stores a block from a peer.
    fn submit_block(&self, block: Block) -> BlockVerdict;
    /// Validates a transaction from a peer and adds it to the mempool.
    fn submit_tx(&self, tx: Transaction) -> TxVerdict;
}

/// Why a blob could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobSinkError {
    /// The bytes do not hash (BLAKE3) to the blob id: the sender is to blame.
    #[error("blob {expected} does not verify: the bytes hash to {actual}")]
    Mismatch {
        /// The id asked for.
        expected: BlobId,
        /// What the bytes hash to.
        actual: BlobId,
    },
    /// The local store failed.
    #[error("blob store: {0}")]
    Store(String),
}

/// The local blob store (content-addressed by BLAKE3) as the network sees it.
pub trait BlobAccess: Send + Sync + 'static {
    /// The blob's length if it is stored.
    fn blob_len(&self, id: &BlobId) -> Option<u64>;
    /// Up to `len` bytes of a stored blob from `offset` (fewer at its end).
    fn read_blob(&self, id: &BlobId, offset: u64, len: u32) -> std::io::Result<Vec<u8>>;
    /// Stores `bytes` as blob `id` if, and only if, they hash to it.
    fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<(), BlobSinkError>;
}

/// Everything the network needs from its node.
pub trait NodeAccess: ChainView + ChainSink + BlobAccess {}

impl<T: ChainView + ChainSink + BlobAccess> NodeAccess for T {}
