//! AIC block index, fork choice, reorgs, mempool and block templates

pub mod mempool;
