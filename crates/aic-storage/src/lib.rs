//! redb tables for AIC blocks, block index, state and undo data
