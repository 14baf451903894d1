//! The provider agent's off-chain presence protocol: signed announcements and job reports
//! (`POST /api/v1/providers/announce`, `POST /api/v1/providers/{address}/reports`) and what a
//! node answers about providers (`docs/worker.md`, "Provider agent"; ADR 0016).
//!
//! # Signing rule
//! A signed message (an [`ProviderAnnouncement`] or a [`JobReport`]) is signed with ed25519 over
//!
//! ```text
//! DOMAIN || canonical_json(message without its "signature" field)
//! ```
//!
//! where `DOMAIN` is [`ANNOUNCE_DOMAIN`] (`b"aic-provider-announce-v1\0"`) or [`REPORT_DOMAIN`]
//! (`b"aic-job-report-v1\0"`), and [`canonical_json`] writes JSON with no whitespace, object
//! keys sorted by their UTF-8 bytes at every depth, every field of the message present (an absent
//! optional field is `null`), strings escaped as `serde_json` escapes them (`"`, `\`, and control
//! characters; everything else as UTF-8), integers in decimal, and other numbers in
//! `serde_json`'s shortest round-trip form. The signer and the node both build the canonical
//! bytes from the parsed message, so neither depends on the other's key order or spacing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Version of [`ProviderAnnouncement`] this code writes and reads.
pub const ANNOUNCE_VERSION: u32 = 1;
/// Version of [`JobReport`] this code writes and reads.
pub const REPORT_VERSION: u32 = 1;
/// Domain tag signed before an announcement's canonical JSON.
pub const ANNOUNCE_DOMAIN: &[u8] = b"aic-provider-announce-v1\0";
/// Domain tag signed before a job report's canonical JSON.
pub const REPORT_DOMAIN: &[u8] = b"aic-job-report-v1\0";

/// `POST /api/v1/providers/announce`: a worker agent says it is online with these devices.
/// Sent again every heartbeat; the node forgets a provider it has not heard from for three
/// heartbeat intervals.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderAnnouncement {
    /// Always [`ANNOUNCE_VERSION`].
    pub version: u32,
    /// The worker's bech32m address (of `public_key`) on the node's network.
    pub address: String,
    /// The worker's ed25519 public key, 64 hex digits.
    pub public_key: String,
    /// The worker's device descriptors (`docs/worker.md`, section 1), as JSON objects with at
    /// least a string `id`, unique within the announcement.
    pub devices: Vec<Value>,
    /// The worker's status URL (`http://host:port`), if it serves one.
    pub endpoint: Option<String>,
    /// Strictly increasing per address (the worker uses Unix milliseconds); a node refuses a
    /// sequence number not above the last it accepted, so a captured message cannot be replayed.
    pub seq: u64,
    /// When the worker signed it, Unix milliseconds; a node refuses it outside its clock ±5 min.
    pub sent_at_ms: u64,
    /// ed25519 signature, 128 hex digits, over [`ANNOUNCE_DOMAIN`] and the canonical JSON of
    /// the other fields (module documentation).
    pub signature: String,
}

impl ProviderAnnouncement {
    /// The bytes the signature covers.
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes(ANNOUNCE_DOMAIN, self)
    }
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobStatus {
    /// The job ran to its end.
    Succeeded,
    /// The job failed.
    Failed,
    /// The owner's policy or a higher-priority use took the device back.
    Preempted,
}

/// `POST /api/v1/providers/{address}/reports`: a worker reports a finished job.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobReport {
    /// Always [`REPORT_VERSION`].
    pub version: u32,
    /// The worker's bech32m address; the same as in the URL.
    pub address: String,
    /// The worker's ed25519 public key, 64 hex digits, so a report verifies on its own.
    pub public_key: String,
    /// The job's id (1 to 128 bytes).
    pub job_id: String,
    /// How it ended.
    pub status: JobStatus,
    /// BLAKE3 of the result blob, 64 lowercase hex digits, if there is one.
    pub result: Option<String>,
    /// Merkle root over the training checkpoints, 64 lowercase hex digits, if any.
    pub transcript_root: Option<String>,
    /// Named metrics (`{"accuracy": 0.98, "steps": 600}`).
    pub metrics: Map<String, Value>,
    /// Start, Unix milliseconds.
    pub started_ms: u64,
    /// End, Unix milliseconds; not before `started_ms`.
    pub ended_ms: u64,
    /// Strictly increasing per address among this worker's reports.
    pub seq: u64,
    /// ed25519 signature, 128 hex digits, over [`REPORT_DOMAIN`] and the canonical JSON of the
    /// other fields.
    pub signature: String,
}

impl JobReport {
    /// The bytes the signature covers.
    pub fn signing_bytes(&self) -> Vec<u8> {
        signing_bytes(REPORT_DOMAIN, self)
    }
}

/// `POST /api/v1/providers/announce` answer (200).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnnounceAccepted {
    /// The provider's address.
    pub address: String,
    /// The sequence number accepted.
    pub seq: u64,
    /// The node's heartbeat interval: announce again within it.
    pub heartbeat_interval_ms: u64,
    /// When the node will show the provider offline without another announcement, Unix ms.
    pub expires_at_ms: u64,
}

/// `POST /api/v1/providers/{address}/reports` answer (201).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportAccepted {
    /// The provider's address.
    pub address: String,
    /// The job.
    pub job_id: String,
    /// The sequence number accepted.
    pub seq: u64,
}

/// One provider as a node sees it (`GET /api/v1/providers/{address}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderStatus {
    /// bech32m address.
    pub address: String,
    /// ed25519 public key, hex.
    pub public_key: String,
    /// Device descriptors of the last announcement.
    pub devices: Vec<Value>,
    /// Status URL of the last announcement.
    pub endpoint: Option<String>,
    /// First announcement this node accepted, Unix ms (node time).
    pub first_seen_ms: u64,
    /// Last announcement accepted, Unix ms (node time).
    pub last_seen_ms: u64,
    /// Heard from within the expiry (three heartbeat intervals).
    pub online: bool,
    /// Announcements accepted since `first_seen_ms`.
    pub heartbeats: u64,
    /// Sequence number of the last announcement accepted.
    pub seq: u64,
    /// Job reports held (at most the node's limit, the latest).
    pub reports: usize,
}

/// `GET /api/v1/providers[?online=true]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderList {
    /// The node's clock when answering, Unix ms.
    pub now_ms: u64,
    /// The node's heartbeat interval.
    pub heartbeat_interval_ms: u64,
    /// Silence after which a provider shows offline.
    pub expiry_ms: u64,
    /// Providers, by address.
    pub providers: Vec<ProviderStatus>,
}

/// `GET /api/v1/providers/{address}/reports`: the latest reports, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportList {
    /// The provider's address.
    pub address: String,
    /// Reports as signed by the worker, oldest first.
    pub reports: Vec<JobReport>,
}

/// `domain || canonical_json(message without "signature")`.
pub fn signing_bytes<T: Serialize>(domain: &[u8], message: &T) -> Vec<u8> {
    let mut value = serde_json::to_value(message).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.remove("signature");
    }
    let mut out = domain.to_vec();
    out.extend_from_slice(canonical_json(&value).as_bytes());
    out
}

/// `value` as canonical JSON: no whitespace, object keys sorted by their UTF-8 bytes at every
/// depth (whatever order the map keeps them in), strings and numbers as `serde_json` writes them.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    write_canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        // Scalars: serde_json's own compact form.
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth_without_spaces() {
        let v = json!({"b": 1, "a": {"z": [true, null, "x\"y"], "c": 1.5}, "A": -3});
        assert_eq!(
            canonical_json(&v),
            r#"{"A":-3,"a":{"c":1.5,"z":[true,null,"x\"y"]},"b":1}"#
        );
    }

    #[test]
    fn announcement_signing_bytes_are_fixed() {
        let a = ProviderAnnouncement {
            version: 1,
            address: "daic1x".to_owned(),
            public_key: "ab".to_owned(),
            devices: vec![json!({"kind": "cpu", "id": "cpu"})],
            endpoint: None,
            seq: 7,
            sent_at_ms: 9,
            signature: "ignored".to_owned(),
        };
        let mut expected = b"aic-provider-announce-v1\0".to_vec();
        expected.extend_from_slice(
            br#"{"address":"daic1x","devices":[{"id":"cpu","kind":"cpu"}],"endpoint":null,"public_key":"ab","sent_at_ms":9,"seq":7,"version":1}"#,
        );
        assert_eq!(a.signing_bytes(), expected);
        // The signature is not covered; the same message parsed from other JSON signs the same.
        let text = r#"{"signature":"other","sent_at_ms":9,"seq":7,"version":1,"endpoint":null,
            "devices":[{"kind":"cpu","id":"cpu"}],"public_key":"ab","address":"daic1x"}"#;
        let parsed: ProviderAnnouncement = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.signing_bytes(), expected);
    }

    #[test]
    fn report_round_trips_and_status_is_kebab_case() {
        let r = JobReport {
            version: 1,
            address: "daic1x".to_owned(),
            public_key: "ab".to_owned(),
            job_id: "job-1".to_owned(),
            status: JobStatus::Preempted,
            result: None,
            transcript_root: None,
            metrics: Map::new(),
            started_ms: 1,
            ended_ms: 2,
            seq: 3,
            signature: String::new(),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "preempted");
        assert_eq!(serde_json::from_value::<JobReport>(v).unwrap(), r);
        assert!(r.signing_bytes().starts_with(REPORT_DOMAIN));
        assert!(serde_json::from_value::<JobReport>(json!({"unknown": 1})).is_err());
    }
}
