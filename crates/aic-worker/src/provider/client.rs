//! Building, signing and sending announcements and reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aic_api::provider::{
    AnnounceAccepted, JobReport, JobStatus, ProviderAnnouncement, ProviderList, ProviderStatus,
    ReportAccepted, ReportList, ANNOUNCE_VERSION, REPORT_VERSION,
};
use aic_api::rest::ApiError;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::Identity;
use crate::device::DeviceDescriptor;

/// Time to connect to a node before giving up.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time for a whole request before giving up.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A request to a node that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The node answered with an error (its status and machine-readable code).
    #[error("node refused ({status} {code}): {message}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The code (`stale-seq`, `bad-signature`, ...; `http-<status>` if the body had none).
        code: String,
        /// The node's message.
        message: String,
    },
    /// The node could not be reached (down, wrong URL, timeout).
    #[error("node unreachable: {0}")]
    Transport(String),
    /// The node's answer is not what the API promises.
    #[error("unexpected answer from the node: {0}")]
    BadAnswer(String),
}

/// How a finished job went, as the worker reports it; [`ProviderClient::report`] adds the
/// address, key, sequence number and signature.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOutcome {
    /// The job's id.
    pub job_id: String,
    /// How it ended.
    pub status: JobStatus,
    /// BLAKE3 of the result blob, hex, if any.
    pub result: Option<String>,
    /// Merkle root over the training checkpoints, hex, if any.
    pub transcript_root: Option<String>,
    /// Named metrics.
    pub metrics: Map<String, Value>,
    /// Start, Unix ms.
    pub started_ms: u64,
    /// End, Unix ms.
    pub ended_ms: u64,
}

/// Strictly increasing sequence numbers: Unix milliseconds, or one more than the last if the
/// clock has not moved (or went back).
#[derive(Debug, Default)]
struct SeqCounter(AtomicU64);

/// One counter for the whole process, so that clients made one after another (the free
/// functions [`announce`] and [`report`] make one per call) never reuse a number within a
/// millisecond. Two processes signing with one key can still collide; run one worker per key.
static SEQ: SeqCounter = SeqCounter(AtomicU64::new(0));

impl SeqCounter {
    fn next(&self, now_ms: u64) -> u64 {
        let mut last = self.0.load(Ordering::Relaxed);
        loop {
            let seq = now_ms.max(last.saturating_add(1));
            match self
                .0
                .compare_exchange(last, seq, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return seq,
                Err(actual) => last = actual,
            }
        }
    }
}

/// Unix milliseconds.
pub(crate) fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The device descriptors as the JSON objects an announcement carries.
pub fn devices_json(devices: &[DeviceDescriptor]) -> Vec<Value> {
    devices
        .iter()
        .filter_map(|d| serde_json::to_value(d).ok())
        .collect()
}

/// A signed announcement of `devices` by `identity` (module documentation of
/// [`aic_api::provider`] for the signing rule).
pub fn sign_announcement(
    identity: &Identity,
    devices: Vec<Value>,
    endpoint: Option<String>,
    seq: u64,
    sent_at_ms: u64,
) -> ProviderAnnouncement {
    let mut a = ProviderAnnouncement {
        version: ANNOUNCE_VERSION,
        address: identity.address_text(),
        public_key: identity.public_key_hex(),
        devices,
        endpoint,
        seq,
        sent_at_ms,
        signature: String::new(),
    };
    a.signature = identity.sign_hex(&a.signing_bytes());
    a
}

/// A signed report of `outcome` by `identity`.
pub fn sign_report(identity: &Identity, outcome: &JobOutcome, seq: u64) -> JobReport {
    let mut r = JobReport {
        version: REPORT_VERSION,
        address: identity.address_text(),
        public_key: identity.public_key_hex(),
        job_id: outcome.job_id.clone(),
        status: outcome.status,
        result: outcome.result.clone(),
        transcript_root: outcome.transcript_root.clone(),
        metrics: outcome.metrics.clone(),
        started_ms: outcome.started_ms,
        ended_ms: outcome.ended_ms,
        seq,
        signature: String::new(),
    };
    r.signature = identity.sign_hex(&r.signing_bytes());
    r
}

/// A worker's connection to one node: its identity and the node's URL. Messages are numbered
/// from the clock by one counter for the whole process, strictly increasing.
#[derive(Debug, Clone)]
pub struct ProviderClient {
    node_url: String,
    identity: Arc<Identity>,
    agent: ureq::Agent,
}

fn answer<T: DeserializeOwned>(r: Result<ureq::Response, ureq::Error>) -> Result<T, ClientError> {
    match r {
        Ok(resp) => resp
            .into_json::<T>()
            .map_err(|e| ClientError::BadAnswer(e.to_string())),
        Err(ureq::Error::Status(status, resp)) => {
            let text = resp.into_string().unwrap_or_default();
            Err(match serde_json::from_str::<ApiError>(&text) {
                Ok(e) => ClientError::Refused {
                    status,
                    code: e.code,
                    message: e.message,
                },
                Err(_) => ClientError::Refused {
                    status,
                    code: format!("http-{status}"),
                    message: text,
                },
            })
        }
        Err(e) => Err(ClientError::Transport(e.to_string())),
    }
}

impl ProviderClient {
    /// A client of the node at `node_url` (`http://host:port`) signing as `identity`, with the
    /// default timeouts ([`CONNECT_TIMEOUT`], [`REQUEST_TIMEOUT`]).
    pub fn new(node_url: &str, identity: Identity) -> ProviderClient {
        ProviderClient::with_timeouts(node_url, identity, CONNECT_TIMEOUT, REQUEST_TIMEOUT)
    }

    /// As [`ProviderClient::new`], with other timeouts.
    pub fn with_timeouts(
        node_url: &str,
        identity: Identity,
        connect: Duration,
        request: Duration,
    ) -> ProviderClient {
        ProviderClient {
            node_url: node_url.trim_end_matches('/').to_owned(),
            identity: Arc::new(identity),
            agent: ureq::AgentBuilder::new()
                .timeout_connect(connect)
                .timeout(request)
                .build(),
        }
    }

    /// The worker's identity.
    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The node's URL.
    pub fn node_url(&self) -> &str {
        &self.node_url
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.node_url)
    }

    fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        answer(self.agent.post(&self.url(path)).send_json(body))
    }

    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        answer(self.agent.get(&self.url(path)).call())
    }

    /// Announces `devices` (JSON descriptors) and the status `endpoint`, with a fresh sequence
    /// number.
    pub fn announce_json(
        &self,
        devices: Vec<Value>,
        endpoint: Option<String>,
    ) -> Result<AnnounceAccepted, ClientError> {
        let now = unix_ms();
        let a = sign_announcement(&self.identity, devices, endpoint, SEQ.next(now), now);
        self.post("/api/v1/providers/announce", &a)
    }

    /// Announces `devices` and the status `endpoint`, with a fresh sequence number.
    pub fn announce(
        &self,
        devices: &[DeviceDescriptor],
        endpoint: Option<&str>,
    ) -> Result<AnnounceAccepted, ClientError> {
        self.announce_json(devices_json(devices), endpoint.map(str::to_owned))
    }

    /// Reports a finished job (the node must have accepted an announcement from this worker).
    pub fn report(&self, outcome: &JobOutcome) -> Result<ReportAccepted, ClientError> {
        let r = sign_report(&self.identity, outcome, SEQ.next(unix_ms()));
        let path = format!("/api/v1/providers/{}/reports", r.address);
        self.post(&path, &r)
    }

    /// The providers the node knows (only those online if `online_only`).
    pub fn providers(&self, online_only: bool) -> Result<ProviderList, ClientError> {
        let q = if online_only { "?online=true" } else { "" };
        self.get(&format!("/api/v1/providers{q}"))
    }

    /// One provider as the node sees it (this worker's address if `address` is `None`).
    pub fn provider(&self, address: Option<&str>) -> Result<ProviderStatus, ClientError> {
        let a = address.map_or_else(|| self.identity.address_text(), str::to_owned);
        self.get(&format!("/api/v1/providers/{a}"))
    }

    /// The reports the node holds for this worker.
    pub fn reports(&self) -> Result<ReportList, ClientError> {
        let a = self.identity.address_text();
        self.get(&format!("/api/v1/providers/{a}/reports"))
    }
}

/// Announces `devices` to the node at `node_url` once (a [`super::Heartbeat`] repeats it).
pub fn announce(
    node_url: &str,
    identity: &Identity,
    devices: &[DeviceDescriptor],
    endpoint: Option<&str>,
) -> Result<AnnounceAccepted, ClientError> {
    ProviderClient::new(node_url, identity.clone()).announce(devices, endpoint)
}

/// Reports a finished job to the node at `node_url` once.
pub fn report(
    node_url: &str,
    identity: &Identity,
    outcome: &JobOutcome,
) -> Result<ReportAccepted, ClientError> {
    ProviderClient::new(node_url, identity.clone()).report(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_strictly_increases_even_if_the_clock_stalls_or_goes_back() {
        let c = SeqCounter::default();
        assert_eq!(c.next(100), 100);
        assert_eq!(c.next(100), 101);
        assert_eq!(c.next(50), 102);
        assert_eq!(c.next(200), 200);
    }

    #[test]
    fn signatures_verify_over_the_signing_bytes() {
        let id = Identity::new(
            aic_primitives::Network::Devnet,
            aic_primitives::SecretKey::from_seed([5; 32]),
        );
        let a = sign_announcement(&id, vec![serde_json::json!({"id": "cpu"})], None, 1, 2);
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&a.signature, &mut sig).unwrap();
        let key = id.key().public_key();
        assert!(key
            .verify(&a.signing_bytes(), &aic_primitives::Signature(sig))
            .is_ok());
        let mut changed = a.clone();
        changed.seq = 3;
        assert!(key
            .verify(&changed.signing_bytes(), &aic_primitives::Signature(sig))
            .is_err());
    }
}
