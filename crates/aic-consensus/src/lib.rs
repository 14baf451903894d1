//! Pure consensus rules of AIC.
//!
//! Proof of work, the ASERT difficulty retarget, and the validity rules of headers, blocks and
//! transactions. "Enumerating all possible verification failures enumerates the consensus
//! rules": every rule is one variant of [`BlockError`] or [`TxError`], and each has a test that
//! breaks it.
//!
//! # Invariants
//! - No IO and no clock: the current time is a parameter.
//! - Functions take [`aic_primitives::ChainParams`] explicitly; there is no global state.

pub mod asert;
mod error;
mod market_error;
mod pow;
mod rules;
mod signatures;

pub use error::{BlockError, TxError};
pub use market_error::MarketError;
pub use pow::{check_pow, median_time_past, MEDIAN_TIME_SPAN};
pub use rules::{
    check_block_structure, check_block_structure_with, check_coinbase_value, check_header,
    check_state_root, check_tx_stateless, HeaderContext,
};
pub use signatures::{verify_signatures, SIGNATURE_BATCH};
