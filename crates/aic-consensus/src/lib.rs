//! Pure consensus rules of AIC: proof of work, ASERT, block and transaction validity

/// ASERT difficulty adjustment: the target each block must meet.
pub mod asert;
