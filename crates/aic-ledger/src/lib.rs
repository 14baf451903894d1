//! The AIC state transition function.
//!
//! [`Ledger`] holds every account (balance and nonce), the market's records ([`market`]) and a
//! sparse Merkle tree over them whose
//! root every block's coinbase commits to. Applying a block checks the stateful transaction
//! rules (nonce order, balances), the coinbase value and the state root; it either changes
//! nothing and names the broken rule, or applies the whole block and returns the undo data that
//! restores the exact previous state.
//!
//! # Invariants
//! - No IO and no clock; parameters are passed in.
//! - Only the coinbase creates coins: transfers, stakes, escrows and settlements move value,
//!   fees go to the coinbase ([`Ledger::total_supply`] counts every coin).
//! - `apply_block` then `undo_block` restores the previous state root exactly.

mod account;
mod ledger;
pub mod market;
mod overlay;
mod smt;
mod undo;

pub use account::Account;
pub use ledger::{account_key, BlockOutcome, Ledger, TemplateState};
pub use overlay::BlockContext;
pub use smt::{root_of, SmtProof, SparseMerkleTree};
pub use undo::BlockUndo;
