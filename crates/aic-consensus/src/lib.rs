//! Pure consensus rules of AIC: proof of work, ASERT, block and transaction validity
