//! The verifier's side: a result whose verification drew this provider is checked against
//! the chain, its drawn segments replayed, and the verdict posted with the SHA-256 of the
//! replay report as evidence.
//!
//! What the provider published decides a failure (a manifest or checkpoint missing from the
//! node, a manifest that does not match the chain, a segment that does not replay to its
//! committed checkpoint); what is this worker's own trouble (the node unreachable, the sandbox
//! refusing) is retried at the next pass, never judged.

use aic_api::market as wire;
use aic_primitives::{sha256, MarketAction};
use serde_json::{json, Value};

use super::agent::{hash, Market, MarketEvent};
use super::error::{io, MarketError};
use super::manifest::ResultManifest;
use super::replay::Replayed;
use super::state::{Judged, Sent};

/// The blob `id`, or why its absence is the provider's failure.
fn published(got: Result<Vec<u8>, MarketError>) -> Result<Result<Vec<u8>, String>, MarketError> {
    match got {
        Ok(bytes) => Ok(Ok(bytes)),
        Err(e @ (MarketError::BlobMissing(_) | MarketError::BlobMismatch { .. })) => {
            Ok(Err(e.to_string()))
        }
        Err(e) => Err(e),
    }
}

impl Market {
    /// Gives this provider's verdict on `job` if it is drawn in the current round and has
    /// not given it.
    pub(super) fn verify_job(&mut self, job: &wire::Job, me: &str) -> Result<(), MarketError> {
        let Some(v) = &job.verification else {
            return Ok(());
        };
        if !v.verifiers.iter().any(|a| a == me)
            || v.verdicts
                .iter()
                .any(|d| d.verifier == me && d.round == v.round)
        {
            return Ok(());
        }
        let key = format!("{}/{}", job.id, v.round);
        let judged = match self.state.state.verdicts.get(&key).cloned() {
            Some(j) => j,
            None => {
                let j = self.judge(job, v, me)?;
                self.state.state.verdicts.insert(key.clone(), j.clone());
                self.state.save()?;
                j
            }
        };
        if judged.sent.refused.is_some() {
            return Ok(());
        }
        if let Some(txid) = &judged.sent.txid {
            if self.setup.node.tx_known(txid)? {
                return Ok(());
            }
        }
        let action = MarketAction::Verdict {
            job: hash(&job.id, &job.id)?,
            pass: judged.pass,
            evidence: hash(&job.id, &judged.evidence)?,
        };
        let sent = match self
            .setup
            .node
            .send(&self.setup.identity, self.setup.fee, action)
        {
            Ok(txid) => {
                self.event(MarketEvent::Verdict {
                    job: job.id.clone(),
                    pass: judged.pass,
                    txid: txid.clone(),
                });
                Sent {
                    txid: Some(txid),
                    refused: None,
                }
            }
            Err(MarketError::Refused { code, message }) => {
                let reason = format!("{code}: {message}");
                self.event(MarketEvent::GaveUp {
                    job: job.id.clone(),
                    what: "verdict",
                    reason: reason.clone(),
                });
                Sent {
                    txid: None,
                    refused: Some(reason),
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(j) = self.state.state.verdicts.get_mut(&key) {
            j.sent = sent;
        }
        self.state.save()
    }

    /// Checks and replays; writes the report `reports/JOB-ROUND.json`.
    fn judge(
        &self,
        job: &wire::Job,
        v: &wire::Verification,
        me: &str,
    ) -> Result<Judged, MarketError> {
        let result = job.result.as_ref().ok_or_else(|| MarketError::Job {
            job: job.id.clone(),
            message: "verifying, but without a result".into(),
        })?;
        let mut segments = Vec::new();
        let failure = self.check(job, v, result, &mut segments)?.err();
        let report = json!({
            "version": 1,
            "job": job.id,
            "round": v.round,
            "verifier": me,
            "result": result.result,
            "transcript_root": result.transcript_root,
            "drawn": v.segments,
            "segments": segments,
            "pass": failure.is_none(),
            "failure": failure,
        });
        let bytes = serde_json::to_vec_pretty(&report).expect("JSON serializes");
        let dir = self.setup.dir.join("reports");
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let path = dir.join(format!("{}-{}.json", job.id, v.round));
        std::fs::write(&path, &bytes).map_err(io(&path))?;
        Ok(Judged {
            pass: failure.is_none(),
            evidence: sha256(&bytes).to_hex(),
            report: path,
            sent: Sent::default(),
        })
    }

    /// `Ok(Ok(()))`: every drawn segment replayed to its committed checkpoint; `Ok(Err(why))`:
    /// the result fails; `Err`: this worker could not judge now.
    fn check(
        &self,
        job: &wire::Job,
        v: &wire::Verification,
        result: &wire::JobResult,
        segments: &mut Vec<Value>,
    ) -> Result<Result<(), String>, MarketError> {
        let bytes = match published(self.setup.node.blob(&result.result))? {
            Ok(b) => b,
            Err(why) => return Ok(Err(format!("the result manifest: {why}"))),
        };
        let manifest = match ResultManifest::parse(&bytes) {
            Ok(m) => m,
            Err(why) => return Ok(Err(why)),
        };
        if let Err(why) =
            manifest.check_against(&job.id, result, self.setup.runtime.transcript_root)
        {
            return Ok(Err(why));
        }
        if let Err(why) = published(self.setup.node.blob(&manifest.weights))? {
            return Ok(Err(format!("the weights: {why}")));
        }
        let model = self.model_dir(&job.model)?;
        let mut failure = None;
        for &segment in &v.segments {
            let i = segment as usize;
            let (Some(from), Some(to)) =
                (manifest.transcript.get(i), manifest.transcript.get(i + 1))
            else {
                return Ok(Err(format!("segment {segment} is not in the transcript")));
            };
            let from_bytes = match published(self.setup.node.blob(&from.checkpoint))? {
                Ok(b) => b,
                Err(why) => return Ok(Err(format!("checkpoint of step {}: {why}", from.step))),
            };
            if let Err(why) = published(self.setup.node.blob(&to.checkpoint))? {
                return Ok(Err(format!("checkpoint of step {}: {why}", to.step)));
            }
            let (replayed, matches) = match self.replay(job, &model, segment, &from_bytes)? {
                Replayed::Id(id) => {
                    let matches = id == to.checkpoint;
                    (json!(id), matches)
                }
                Replayed::Failed(why) => (json!({"failed": why}), false),
            };
            segments.push(json!({
                "segment": segment,
                "from_step": from.step,
                "from": from.checkpoint,
                "to_step": to.step,
                "expected": to.checkpoint,
                "replayed": replayed,
                "matches": matches,
            }));
            if !matches && failure.is_none() {
                failure = Some(format!(
                    "segment {segment} (steps {}..{}) does not replay to its committed checkpoint",
                    from.step, to.step
                ));
            }
        }
        Ok(failure.map_or(Ok(()), Err))
    }
}
