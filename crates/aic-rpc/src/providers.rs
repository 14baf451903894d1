//! Provider presence: worker agents announce their devices every heartbeat and report finished
//! jobs; the node keeps both in memory, bounded, and forgets silent providers
//! (ADR 0016, `docs/worker.md` "Provider agent").
//!
//! # Invariants
//! - Soft state: nothing here is written to disk or to the chain. A restarted node is complete
//!   again one heartbeat interval later, when every live worker has re-announced.
//! - Every refused message changes nothing: checks run first, the registry changes last, under
//!   one lock, all or nothing.
//! - Memory is bounded by [`ProviderConfig`]: providers, devices per provider, body bytes,
//!   reports per provider, metric bytes per report and total bytes held.

mod registry;
mod routes;
#[cfg(test)]
pub(crate) mod tests;
mod verify;

use serde::{Deserialize, Serialize};

pub use registry::ProviderRegistry;
pub use routes::provider_router;

/// Limits and timing of the provider registry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProviderConfig {
    /// How often workers are expected to announce, milliseconds.
    pub heartbeat_interval_ms: u64,
    /// Heartbeats missed before a provider shows offline.
    pub missed_heartbeats: u32,
    /// Offline providers are forgotten after this long, milliseconds (at least twice
    /// `max_clock_skew_ms`, so a forgotten sequence number cannot be replayed).
    pub retention_ms: u64,
    /// Most providers held (online or not).
    pub max_providers: usize,
    /// Most devices in one announcement.
    pub max_devices: usize,
    /// Largest request body of the provider endpoints, bytes.
    pub max_body_bytes: usize,
    /// Largest difference between a message's time and the node's clock, milliseconds.
    pub max_clock_skew_ms: u64,
    /// Reports kept per provider (the latest).
    pub max_reports: usize,
    /// Largest `metrics` object of a report, bytes of canonical JSON.
    pub max_metrics_bytes: usize,
    /// Most bytes of announcements and reports held in all (canonical JSON).
    pub max_total_bytes: usize,
}

impl Default for ProviderConfig {
    fn default() -> Self {
        ProviderConfig {
            heartbeat_interval_ms: 10_000,
            missed_heartbeats: 3,
            retention_ms: 60 * 60 * 1000,
            max_providers: 10_000,
            max_devices: 64,
            max_body_bytes: 256 * 1024,
            max_clock_skew_ms: 5 * 60 * 1000,
            max_reports: 100,
            max_metrics_bytes: 16 * 1024,
            max_total_bytes: 256 * 1024 * 1024,
        }
    }
}

impl ProviderConfig {
    /// Silence after which a provider shows offline: `missed_heartbeats` intervals.
    pub fn expiry_ms(&self) -> u64 {
        self.heartbeat_interval_ms
            .saturating_mul(u64::from(self.missed_heartbeats.max(1)))
    }
}

/// Why an announcement, a report or a query was refused. One variant per rule; each has its own
/// HTTP status and machine-readable code ([`ProviderError::status`], [`ProviderError::code`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProviderError {
    /// Not JSON of the message's shape.
    #[error("malformed: {0}")]
    Malformed(String),
    /// The body is over the limit.
    #[error("body over {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// A message version this node does not read.
    #[error("version {found} is not supported (this node reads 1)")]
    UnsupportedVersion {
        /// The version sent.
        found: u32,
    },
    /// The address is not a bech32m address of this network.
    #[error("{0}")]
    BadAddress(String),
    /// The public key is not 64 hex digits of a valid ed25519 key.
    #[error("bad public key {0:?}")]
    BadPublicKey(String),
    /// The address is not the public key's.
    #[error("address {address} is not the address of the public key ({key_address})")]
    AddressMismatch {
        /// The address sent.
        address: String,
        /// The public key's address.
        key_address: String,
    },
    /// The address in the URL is not the message's.
    #[error("the URL names {path} but the message is from {body}")]
    PathMismatch {
        /// The URL's address.
        path: String,
        /// The message's address.
        body: String,
    },
    /// The signature is not 128 hex digits or does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// The sequence number is not above the last one accepted from this address (a replay or
    /// an out-of-order message).
    #[error("seq {seq} is not above {last}, the last accepted from this address")]
    StaleSeq {
        /// The sequence number sent.
        seq: u64,
        /// The last accepted.
        last: u64,
    },
    /// The message's time is too far from the node's clock.
    #[error("message time {at_ms} ms is more than {max_ms} ms from the node's clock {now_ms} ms")]
    ClockSkew {
        /// The message's time.
        at_ms: u64,
        /// The node's clock.
        now_ms: u64,
        /// The allowed difference.
        max_ms: u64,
    },
    /// More devices than allowed.
    #[error("{count} devices, at most {max}")]
    TooManyDevices {
        /// Devices sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A device is not an object with a unique string `id` of 1 to 128 bytes.
    #[error("device {index}: {reason}")]
    BadDevice {
        /// Its position.
        index: usize,
        /// Why.
        reason: String,
    },
    /// The endpoint is not an `http://` or `https://` URL of at most 256 bytes.
    #[error("bad endpoint {0:?}: expected an http:// or https:// URL of at most 256 bytes")]
    BadEndpoint(String),
    /// The job id is empty, over 128 bytes, or has control characters.
    #[error("bad job id {0:?}: expected 1 to 128 bytes without control characters")]
    BadJobId(String),
    /// A hash field is not 64 lowercase hex digits.
    #[error("{field} {value:?} is not 64 lowercase hex digits")]
    BadHash {
        /// The field.
        field: &'static str,
        /// Its value.
        value: String,
    },
    /// The job ended before it started.
    #[error("ended_ms {ended_ms} is before started_ms {started_ms}")]
    BadTimeRange {
        /// Start.
        started_ms: u64,
        /// End.
        ended_ms: u64,
    },
    /// The metrics object is over the limit.
    #[error("metrics take {bytes} bytes, at most {max}")]
    MetricsTooLarge {
        /// Their size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// The registry is full of online providers (or of bytes); try again later.
    #[error("the provider registry is full ({0})")]
    RegistryFull(String),
    /// No provider with this address is known (it never announced, or was forgotten).
    #[error("no provider {0} is known; announce first")]
    UnknownProvider(String),
}

impl ProviderError {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            ProviderError::TooLarge { .. } => 413,
            ProviderError::BadSignature => 403,
            ProviderError::StaleSeq { .. } => 409,
            ProviderError::RegistryFull(_) => 503,
            ProviderError::UnknownProvider(_) => 404,
            _ => 400,
        }
    }

    /// The machine-readable code, kebab-case.
    pub fn code(&self) -> &'static str {
        match self {
            ProviderError::Malformed(_) => "malformed",
            ProviderError::TooLarge { .. } => "too-large",
            ProviderError::UnsupportedVersion { .. } => "unsupported-version",
            ProviderError::BadAddress(_) => "bad-address",
            ProviderError::BadPublicKey(_) => "bad-public-key",
            ProviderError::AddressMismatch { .. } => "address-mismatch",
            ProviderError::PathMismatch { .. } => "path-mismatch",
            ProviderError::BadSignature => "bad-signature",
            ProviderError::StaleSeq { .. } => "stale-seq",
            ProviderError::ClockSkew { .. } => "clock-skew",
            ProviderError::TooManyDevices { .. } => "too-many-devices",
            ProviderError::BadDevice { .. } => "bad-device",
            ProviderError::BadEndpoint(_) => "bad-endpoint",
            ProviderError::BadJobId(_) => "bad-job-id",
            ProviderError::BadHash { .. } => "bad-hash",
            ProviderError::BadTimeRange { .. } => "bad-time-range",
            ProviderError::MetricsTooLarge { .. } => "metrics-too-large",
            ProviderError::RegistryFull(_) => "registry-full",
            ProviderError::UnknownProvider(_) => "unknown-provider",
        }
    }
}

/// The wall clock, Unix milliseconds (0 before 1970).
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
