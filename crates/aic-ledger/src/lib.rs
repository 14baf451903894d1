//! The AIC state transition function: accounts, transfers, fees and the sparse Merkle state root
