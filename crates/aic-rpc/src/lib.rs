//! The AIC node's external interfaces: REST under `/api/v1` (with explorer routes and a
//! server-sent event stream, [`events`]), Bitcoin-style JSON-RPC at `/rpc`, the dashboard's
//! embedded pages at `/`, the OpenAPI document, the provider registry ([`providers`]: worker
//! agents' presence and job reports), the Stratum v1 server for mining hardware, and (feature
//! `data-service`) the worker's blob service on a Unix socket for sandboxed jobs.
//!
//! # Invariants
//! - Bad input gets a 4xx answer with a machine-readable code and changes nothing.
//! - Handlers never hold the chain lock across an await; chain work runs on blocking threads.
//! - JSON exists only here and in `aic-api`; domain types are converted at this boundary.

mod auth;
mod blobs;
mod codes;
mod convert;
mod dashboard;
#[cfg(feature = "data-service")]
mod data_service;
pub mod events;
mod explorer;
mod handle;
mod jsonrpc;
mod market;
mod market_json;
mod network;
mod openapi;
pub mod providers;
mod rest;
mod server;
mod stratum;

pub use auth::{RpcAuth, COOKIE_FILE};
pub use blobs::{blob_router, node_blob_router, MAX_BLOB_BYTES};
pub use codes::{bip22_reason, error_code};
#[cfg(feature = "data-service")]
pub use data_service::{
    bind_data_socket, data_service_router, serve_data_service, DATA_SOCKET_MODE,
};
pub use handle::{NodeHandle, Notice, Relay, TipEvent, NOTICE_BUFFER};
pub use network::{NetFuture, NetworkControl, NetworkError, CLIENT_P2P_DISABLED};
pub use providers::{provider_router, ProviderConfig, ProviderError, ProviderRegistry};
pub use server::{router, serve};
pub use stratum::{
    params_list, parse_request, serve_given_job, serve_stratum, GivenJob, GivenJobError,
    MiningStats, StratumConfig, SubmitFields,
};
