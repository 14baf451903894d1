//! The AIC node: builds every service from one [`NodeConfig`], runs them, and shuts them down.
//!
//! Services today: the chain (redb), the HTTP API (REST and JSON-RPC), the provider registry
//! (worker agents' presence, in memory), the peer-to-peer network (`[p2p]`, [`network`]) and,
//! when asked for, the built-in CPU miner. [`devnet`]
//! runs a whole local network in one call.
//!
//! # Invariants
//! - No domain logic here: rules live in the crates below; this crate composes them.
//! - Libraries never print: progress is reported through events the caller renders.

mod config;
pub mod devnet;
mod keyfile;
mod miner;
pub mod network;
pub mod network_control;
mod node;

pub use config::{ConfigError, NodeConfig, P2pSection};
pub use keyfile::{KeyFile, KeyFileError};
pub use miner::{search_nonce, Miner, MinerStats, BATCH};
pub use node::{NodeError, RunningNode, BLOBS_DIR, CHAIN_DB};
