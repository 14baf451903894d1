//! AIC HTTP API: REST, Bitcoin-style JSON-RPC
