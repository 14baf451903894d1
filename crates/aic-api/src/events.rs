//! Bodies of the server-sent events at `GET /api/v1/events`.
//!
//! Every event has an SSE `event:` name and a JSON `data:` line: `hello` (first, once), `tip`
//! ([`TipEvent`]), `tx` ([`crate::rest::Tx`], in the mempool), `mining` ([`MiningEvent`]),
//! `providers` ([`ProvidersEvent`]) and `lagged` ([`LaggedEvent`]). Event names added later
//! follow the same form; clients ignore names they do not know.

use serde::{Deserialize, Serialize};

use crate::explorer::BlockSummary;
use crate::provider::ProviderList;
use crate::stratum::WorkerStats;

/// Event names a stream can be asked for with `?types=`.
pub const EVENT_TYPES: &[&str] = &["tip", "tx", "mining", "providers"];

/// `hello`: sent first on every connection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HelloEvent {
    /// Network name.
    pub network: String,
    /// Tip height now.
    pub height: u64,
    /// Tip hash now (display order).
    pub tip_hash: String,
    /// The event names this stream carries.
    pub types: Vec<String>,
    /// Seconds between keep-alive comments.
    pub keep_alive_secs: u64,
}

/// `tip`: a block became the tip.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TipEvent {
    /// The block.
    #[serde(flatten)]
    pub block: BlockSummary,
    /// Main-chain blocks undone to switch to it (0: it extends the previous tip).
    pub reorg_depth: u64,
}

/// `mining`: the Stratum workers' statistics changed (at most one a second).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MiningEvent {
    /// Workers, sorted by name (the first [`MiningEvent::MAX_WORKERS`]).
    pub workers: Vec<WorkerStats>,
    /// Workers in all.
    pub total: usize,
}

impl MiningEvent {
    /// Most workers carried in one event; `GET /api/v1/mining/workers` has them all.
    pub const MAX_WORKERS: usize = 200;
}

/// `providers`: a worker announced itself or reported a job to this node, or one went offline
/// (at most one a second): what `GET /api/v1/providers` answers then.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvidersEvent {
    /// The providers held, by address (the first [`ProvidersEvent::MAX_PROVIDERS`]).
    #[serde(flatten)]
    pub list: ProviderList,
    /// Providers held in all.
    pub total: usize,
}

impl ProvidersEvent {
    /// Most providers carried in one event; `GET /api/v1/providers` has them all.
    pub const MAX_PROVIDERS: usize = 200;
}

/// `lagged`: this client fell behind and missed events; it should reload what it shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LaggedEvent {
    /// Events missed.
    pub missed: u64,
}
