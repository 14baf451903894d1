//! Durable storage of the AIC chain in redb.
//!
//! One [`Store`] holds the blocks, the block index, the main chain by height, the accounts,
//! the undo data of main-chain blocks and a transaction index. Every change the chain makes for
//! one imported block is a single [`WriteBatch`] written in one redb transaction, committed
//! durably before the block is acknowledged: a node killed at any moment restarts with every
//! acknowledged block and the tip they made.
//!
//! # Invariants
//! - This crate stores and loads bytes; it knows no consensus rule and no state type above
//!   the primitives (accounts and undo data arrive encoded).
//! - The on-disk schema has a version; a database of another version is refused, not guessed at.

mod batch;
mod error;
mod store;
mod tables;

pub use batch::{BlockStatus, IndexEntry, WriteBatch};
pub use error::StorageError;
pub use store::{EncodedRecord, Store, SCHEMA_VERSION};
