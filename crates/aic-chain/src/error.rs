//! Chain errors.

use aic_consensus::{BlockError, TxError};
use aic_primitives::{DecodeError, Hash256};
use aic_storage::StorageError;

use crate::mempool::MempoolError;

/// Why the chain refused a block or a transaction, or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// The bytes are not a canonical block or transaction.
    #[error("malformed: {0}")]
    Decode(#[from] DecodeError),
    /// The block breaks a consensus rule.
    #[error("invalid block: {0}")]
    Block(#[from] BlockError),
    /// The transaction breaks a consensus rule.
    #[error("invalid transaction: {0}")]
    Tx(#[from] TxError),
    /// The mempool's policy refuses the transaction.
    #[error("mempool: {0}")]
    Mempool(#[from] MempoolError),
    /// The block is already stored.
    #[error("block {0} is already known")]
    Duplicate(Hash256),
    /// The block was found invalid before.
    #[error("block {0} is known to be invalid")]
    KnownInvalid(Hash256),
    /// The parent block is unknown.
    #[error("parent block {0} is unknown")]
    UnknownParent(Hash256),
    /// The parent block is invalid.
    #[error("parent block {0} is invalid")]
    InvalidParent(Hash256),
    /// Switching to the block's chain would undo more blocks than allowed.
    #[error("reorganisation of {depth} blocks exceeds the limit of {max}")]
    ReorgTooDeep {
        /// Blocks that would be undone.
        depth: u64,
        /// The configured limit.
        max: u64,
    },
    /// The database failed.
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// An earlier storage failure left memory out of line with the disk; restart the node.
    #[error("the chain could not recover from a storage failure; restart the node")]
    Failed,
    /// Stored data contradicts itself.
    #[error("inconsistent chain data: {0}")]
    Inconsistent(String),
}
