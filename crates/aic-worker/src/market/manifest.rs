//! The result manifest: what a provider publishes for a trained job. Its BLAKE3 (its blob id)
//! is the `result` of the job's `SubmitResult` on chain; the weights and every transcript
//! checkpoint are blobs of their own, named by their BLAKE3.
//!
//! ```json
//! {
//!   "version": 1,
//!   "job": "5d0e...",
//!   "weights": "77ab...",
//!   "transcript_root": "01cd...",
//!   "transcript": [{"step": 0, "checkpoint": "9f1e..."}, {"step": 4, "checkpoint": "c3a0..."}],
//!   "metrics": {"test_accuracy": 910000, "valid_accuracy": 930000},
//!   "scorecards": [ ... ]
//! }
//! ```
//!
//! `transcript` lists the checkpoints in step order; a checkpoint's id (the transcript's leaf)
//! is the BLAKE3 of its bytes, so it is also its blob id. `metrics` are fixed point (10^6 =
//! 1.0), exactly as on chain. `scorecards` are the trainer's, for people.

use std::collections::BTreeMap;

use aic_api::market as wire;
use serde::{Deserialize, Serialize};

/// The manifest format's version.
pub const MANIFEST_VERSION: u32 = 1;

/// One checkpoint of the transcript.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TranscriptEntry {
    /// Training step of the checkpoint.
    pub step: u64,
    /// BLAKE3 of the checkpoint's bytes: its id and its blob id.
    pub checkpoint: String,
}

/// A trained job's result, as published.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultManifest {
    /// [`MANIFEST_VERSION`].
    pub version: u32,
    /// The job (hex).
    pub job: String,
    /// BLAKE3 (blob id) of the trained weights (safetensors).
    pub weights: String,
    /// Merkle root of the transcript (`aic_ml::transcript`).
    pub transcript_root: String,
    /// The checkpoints, in step order.
    pub transcript: Vec<TranscriptEntry>,
    /// The scorecard, fixed point, as on chain.
    pub metrics: BTreeMap<String, i64>,
    /// The trainer's scorecards.
    #[serde(default)]
    pub scorecards: serde_json::Value,
}

/// The Merkle root of a transcript of `(step, checkpoint id)` (`aic_ml::transcript::root`);
/// `None` when empty.
pub type TranscriptRoot = fn(&[(u64, [u8; 32])]) -> Option<[u8; 32]>;

fn hash_of(hex_text: &str, what: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_text).map_err(|_| format!("{what} {hex_text:?} is not hex"))?;
    bytes
        .try_into()
        .map_err(|_| format!("{what} {hex_text:?} is not 32 bytes"))
}

impl ResultManifest {
    /// The canonical bytes (pretty JSON, fields in order, metrics sorted).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a manifest serializes")
    }

    /// Parses a manifest's bytes.
    pub fn parse(bytes: &[u8]) -> Result<ResultManifest, String> {
        let m: ResultManifest =
            serde_json::from_slice(bytes).map_err(|e| format!("not a result manifest: {e}"))?;
        if m.version != MANIFEST_VERSION {
            return Err(format!(
                "manifest version {} is not {MANIFEST_VERSION}",
                m.version
            ));
        }
        Ok(m)
    }

    /// Segments the transcript covers: one between each two checkpoints.
    pub fn segments(&self) -> u32 {
        u32::try_from(self.transcript.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// The transcript's Merkle root computed from its entries.
    pub fn computed_root(&self, root: TranscriptRoot) -> Result<String, String> {
        let mut entries = Vec::with_capacity(self.transcript.len());
        for e in &self.transcript {
            entries.push((e.step, hash_of(&e.checkpoint, "checkpoint")?));
        }
        if entries.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err("the transcript's steps are not increasing".into());
        }
        root(&entries)
            .map(hex::encode)
            .ok_or_else(|| "the transcript is empty".into())
    }

    /// Checks the manifest against the job's result on chain: the same job, the transcript's
    /// root computed from its entries is the one committed, the segments and the metrics are
    /// those committed.
    pub fn check_against(
        &self,
        job: &str,
        result: &wire::JobResult,
        root: TranscriptRoot,
    ) -> Result<(), String> {
        if self.job != job {
            return Err(format!("the manifest is for job {}", self.job));
        }
        hash_of(&self.weights, "weights")?;
        let computed = self.computed_root(root)?;
        if computed != self.transcript_root {
            return Err(format!(
                "the transcript's entries have root {computed}, the manifest says {}",
                self.transcript_root
            ));
        }
        if self.transcript_root != result.transcript_root {
            return Err(format!(
                "the manifest's transcript root {} is not the chain's {}",
                self.transcript_root, result.transcript_root
            ));
        }
        if self.segments() != result.segments {
            return Err(format!(
                "the transcript has {} segments, the chain says {}",
                self.segments(),
                result.segments
            ));
        }
        let on_chain: BTreeMap<String, i64> = result
            .metrics
            .iter()
            .map(|m| (m.name.clone(), m.value))
            .collect();
        if on_chain != self.metrics {
            return Err("the manifest's metrics are not the chain's".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stand-in root for the checks' logic (the real one is `aic_ml::transcript::root`).
    fn xor_root(entries: &[(u64, [u8; 32])]) -> Option<[u8; 32]> {
        let mut out = [0u8; 32];
        for (step, id) in entries {
            for (o, b) in out.iter_mut().zip(id) {
                *o ^= b;
            }
            out[0] ^= *step as u8;
        }
        (!entries.is_empty()).then_some(out)
    }

    fn manifest() -> ResultManifest {
        let transcript: Vec<TranscriptEntry> = (0..3)
            .map(|i| TranscriptEntry {
                step: i * 4,
                checkpoint: hex::encode([i as u8 + 1; 32]),
            })
            .collect();
        let mut m = ResultManifest {
            version: MANIFEST_VERSION,
            job: "aa".repeat(32),
            weights: "bb".repeat(32),
            transcript_root: String::new(),
            transcript,
            metrics: BTreeMap::from([("valid_accuracy".into(), 900_000)]),
            scorecards: serde_json::Value::Null,
        };
        m.transcript_root = m.computed_root(xor_root).unwrap();
        m
    }

    fn on_chain(m: &ResultManifest) -> wire::JobResult {
        wire::JobResult {
            result: blake3::hash(&m.to_bytes()).to_hex().to_string(),
            transcript_root: m.transcript_root.clone(),
            segments: 2,
            metrics: vec![wire::NamedValue {
                name: "valid_accuracy".into(),
                value: 900_000,
            }],
        }
    }

    #[test]
    fn a_manifest_round_trips_and_matches_its_commitment() {
        let m = manifest();
        assert_eq!(ResultManifest::parse(&m.to_bytes()).unwrap(), m);
        assert_eq!(m.segments(), 2);
        m.check_against(&"aa".repeat(32), &on_chain(&m), xor_root)
            .unwrap();
    }

    #[test]
    fn each_mismatch_is_refused_with_its_reason() {
        let m = manifest();
        let chain = on_chain(&m);
        let job = "aa".repeat(32);
        let mut tampered = m.clone();
        tampered.transcript[1].checkpoint = hex::encode([9u8; 32]);
        let err = tampered.check_against(&job, &chain, xor_root).unwrap_err();
        assert!(err.contains("have root"), "{err}");
        let mut fewer = on_chain(&m);
        fewer.segments = 3;
        assert!(m
            .check_against(&job, &fewer, xor_root)
            .unwrap_err()
            .contains("segments"));
        let mut other_root = on_chain(&m);
        other_root.transcript_root = "cc".repeat(32);
        assert!(m
            .check_against(&job, &other_root, xor_root)
            .unwrap_err()
            .contains("not the chain's"));
        let mut metrics = on_chain(&m);
        metrics.metrics[0].value = 1;
        assert!(m
            .check_against(&job, &metrics, xor_root)
            .unwrap_err()
            .contains("metrics"));
        assert!(m
            .check_against(&"dd".repeat(32), &chain, xor_root)
            .unwrap_err()
            .contains("for job"));
        let mut bad = m.clone();
        bad.version = 2;
        assert!(ResultManifest::parse(&bad.to_bytes()).is_err());
    }
}
