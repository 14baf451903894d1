//! The AIC state transition function.
//!
//! [`Ledger`] holds every account (balance and nonce) and a sparse Merkle tree over them whose
//! root every block's coinbase commits to. Applying a block checks the stateful transaction
//! rules (nonce order, balances), the coinbase value and the state root; it either changes
//! nothing and names the broken rule, or applies the whole block and returns the undo data that
//! restores the exact previous state.
//!
//! # Invariants
//! - No IO and no clock; parameters are passed in.
//! - Only the coinbase creates coins: every transfer moves value, fees go to the coinbase.
//! - `apply_block` then `undo_block` restores the previous state root exactly.

mod account;
mod ledger;
mod smt;
mod undo;

pub use account::Account;
pub use ledger::{account_key, BlockOutcome, Ledger, TemplateState};
pub use smt::{root_of, SmtProof, SparseMerkleTree};
pub use undo::BlockUndo;
