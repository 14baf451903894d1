//! The AIC chain: block index, fork choice by cumulative work, reorganisations, the mempool
//! and block templates, over a redb [`aic_storage::Store`].
//!
//! # Invariants
//! - The tip is the valid block with the most cumulative work (first seen wins ties).
//! - A block is acknowledged only after everything it changed is durably stored.
//! - This crate knows nothing of networking or RPC.

mod chain;
mod error;
pub mod mempool;
mod template;

pub use chain::{BlockAccepted, Chain, ChainConfig, Tip, TxLookup};
pub use error::ChainError;
pub use template::BlockTemplate;
