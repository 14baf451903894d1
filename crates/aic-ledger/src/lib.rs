//! The AIC state transition function: accounts, transfers, fees and the sparse Merkle state root

mod smt;

pub use smt::{root_of, SmtProof, SparseMerkleTree};
