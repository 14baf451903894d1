//! Wire types of AIC's external protocols: REST, JSON-RPC, BIP 22
