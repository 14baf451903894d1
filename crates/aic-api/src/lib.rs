//! Wire types of AIC's external protocols.
//!
//! The REST API under `/api/v1`, Bitcoin-style JSON-RPC (with BIP 22 `getblocktemplate` and
//! `submitblock`), Stratum v1, the provider agent's presence protocol ([`provider`]), and their
//! error bodies. Only this crate and the servers know JSON; the
//! domain types stay free of serde.
//!
//! # Conventions
//! - Block and transaction ids are hex in Bitcoin's display order (byte-reversed), as miners
//!   and explorers expect; `header_hex` and transaction `hex` are the raw bytes in order.
//! - Amounts are given twice: `*_units` (integer base units, 10^8 per AIC) for programs, and a
//!   decimal AIC string for people.

pub mod events;
pub mod explorer;
pub mod jsonrpc;
pub mod market;
pub mod network;
pub mod provider;
pub mod rest;
pub mod stratum;

/// Default port of the HTTP API (REST and JSON-RPC).
pub const DEFAULT_API_PORT: u16 = 7450;
/// Port reserved for the Stratum v1 server.
pub const DEFAULT_STRATUM_PORT: u16 = 3333;
/// Port reserved for the peer-to-peer network.
pub const DEFAULT_P2P_PORT: u16 = 7451;
