//! Stratum v1 wire types: one JSON object per line, requests with `id`, `method`, `params`.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Longest line the server reads; a longer one closes the connection.
pub const MAX_LINE_BYTES: usize = 16 * 1024;

/// A message from the miner.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Echoed in the answer.
    #[serde(default)]
    pub id: Value,
    /// `mining.subscribe`, `mining.authorize`, `mining.submit`, ...
    pub method: String,
    /// Positional parameters.
    #[serde(default)]
    pub params: Value,
}

/// An answer to a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The request's id.
    pub id: Value,
    /// The result, null on error.
    pub result: Value,
    /// `[code, message, null]` on error, as Stratum pools send it.
    pub error: Value,
}

/// A notification from the pool (`mining.notify`, `mining.set_difficulty`, ...).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notification {
    /// Always null.
    pub id: Value,
    /// The method.
    pub method: String,
    /// Parameters.
    pub params: Value,
}

/// The standard Stratum share rejection codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RejectCode {
    /// 20: anything else (bad parameters).
    Other,
    /// 21: the job is unknown or stale.
    JobNotFound,
    /// 22: the share was already submitted.
    Duplicate,
    /// 23: the hash does not meet the share target.
    LowDifficulty,
    /// 24: the worker is not authorized.
    Unauthorized,
    /// 25: the connection has not subscribed.
    NotSubscribed,
}

impl RejectCode {
    /// The numeric code.
    pub fn code(self) -> i64 {
        match self {
            RejectCode::Other => 20,
            RejectCode::JobNotFound => 21,
            RejectCode::Duplicate => 22,
            RejectCode::LowDifficulty => 23,
            RejectCode::Unauthorized => 24,
            RejectCode::NotSubscribed => 25,
        }
    }

    /// A short kebab-case name, used in statistics.
    pub fn name(self) -> &'static str {
        match self {
            RejectCode::Other => "other",
            RejectCode::JobNotFound => "job-not-found",
            RejectCode::Duplicate => "duplicate",
            RejectCode::LowDifficulty => "low-difficulty",
            RejectCode::Unauthorized => "unauthorized",
            RejectCode::NotSubscribed => "not-subscribed",
        }
    }

    /// The error value of an answer: `[code, message, null]`.
    pub fn error(self, message: &str) -> Value {
        Value::Array(vec![
            Value::from(self.code()),
            Value::from(message),
            Value::Null,
        ])
    }
}

/// One worker's share statistics, `GET /api/v1/mining/workers`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkerStats {
    /// `ADDRESS` or `ADDRESS.worker`.
    pub worker: String,
    /// Open connections using this name.
    pub connections: usize,
    /// Current share difficulty (of the last connection).
    pub difficulty: f64,
    /// Shares accepted.
    pub accepted: u64,
    /// Shares rejected, by reason.
    pub rejected: std::collections::BTreeMap<String, u64>,
    /// Blocks found.
    pub blocks: u64,
    /// Hash rate estimated from accepted shares over the last ten minutes, hashes per second.
    pub hash_rate: f64,
    /// Unix time of the last accepted share.
    pub last_share: Option<u64>,
}
