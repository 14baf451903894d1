//! The provider's side of an awarded job: queued to train, then its weights, checkpoints and
//! result manifest published, then the `SubmitResult` sent.

use std::collections::BTreeMap;
use std::path::PathBuf;

use aic_api::market as wire;
use aic_primitives::{Amount, MarketAction, ResultCommit, FIXED_POINT_SCALE};
use serde_json::Value;

use super::agent::{hash, Market, MarketEvent};
use super::error::{io, MarketError};
use super::manifest::{ResultManifest, TranscriptEntry, MANIFEST_VERSION};
use super::state::Sent;
use super::{kept_checkpoint_file, KEPT_CHECKPOINTS_DIR};
use crate::agent::{QueuedJob, Stage};

/// A fixed-point value as `aic model train --set` reads it: an integer when whole.
fn fixed_text(v: i64) -> String {
    let scale = FIXED_POINT_SCALE.unsigned_abs();
    let (sign, a) = (if v < 0 { "-" } else { "" }, v.unsigned_abs());
    let frac = format!("{:06}", a % scale);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{sign}{}", a / scale)
    } else {
        format!("{sign}{}.{frac}", a / scale)
    }
}

/// The job's parameters as `NAME=VALUE` texts.
pub(super) fn params_of(job: &wire::Job) -> BTreeMap<String, String> {
    job.params
        .iter()
        .map(|p| (p.name.clone(), fixed_text(p.value)))
        .collect()
}

/// The scorecards' metrics in fixed point: `SPLIT_accuracy` (classification), `SPLIT_map`
/// (ranking).
fn metrics_of(scorecards: &Value) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    let fixed = |x: f64| (x * FIXED_POINT_SCALE as f64).round() as i64;
    for card in scorecards.as_array().into_iter().flatten() {
        let Some(split) = card["split"].as_str() else {
            continue;
        };
        if let Some(acc) = card["classification"]["accuracy"].as_f64() {
            out.insert(format!("{split}_accuracy"), fixed(acc));
        }
        if let Some(map) = card["ranking"]["map"].as_f64() {
            out.insert(format!("{split}_map"), fixed(map));
        }
    }
    out
}

impl Market {
    fn results_dir(&self) -> PathBuf {
        self.setup.dir.join("results")
    }

    /// Moves an awarded job on by one step: queue it, or publish and submit it once trained.
    pub(super) fn run_awarded(&mut self, job: &wire::Job) -> Result<(), MarketError> {
        let run = self
            .state
            .state
            .runs
            .get(&job.id)
            .cloned()
            .unwrap_or_default();
        if run.failed.is_some() || run.submitted.refused.is_some() {
            return Ok(());
        }
        match self.setup.queue.stage_of(&job.id) {
            None if run.queued => Err(MarketError::Outputs {
                job: job.id.clone(),
                message: "queued here, but gone from the job queue".into(),
            }),
            None => self.queue_job(job),
            Some(Stage::Queue | Stage::Running) => Ok(()),
            Some(Stage::Done) => self.publish_and_submit(job),
            Some(stage @ (Stage::Failed | Stage::Refused)) => {
                let outcome = self.setup.queue.read(stage, &job.id)?;
                let reason = outcome["reason"]
                    .as_str()
                    .unwrap_or("the job failed")
                    .to_owned();
                self.state
                    .state
                    .runs
                    .entry(job.id.clone())
                    .or_default()
                    .failed = Some(reason.clone());
                self.state.save()?;
                self.event(MarketEvent::GaveUp {
                    job: job.id.clone(),
                    what: "training",
                    reason,
                });
                Ok(())
            }
        }
    }

    fn queue_job(&mut self, job: &wire::Job) -> Result<(), MarketError> {
        let award = job.award.as_ref().ok_or_else(|| MarketError::Job {
            job: job.id.clone(),
            message: "awarded without an award".into(),
        })?;
        let model = self.model_dir(&job.model)?;
        let queued = QueuedJob {
            id: job.id.clone(),
            // The switcher's price floor is per hour; a market job pays its price once.
            aic_per_hour: award.price_units as f64 / Amount::UNITS_PER_AIC as f64,
            model,
            data: job.dataset.clone(),
            sources: vec![self.setup.node.base().to_owned()],
            params: params_of(job),
            memory_mib: None,
            keep_checkpoints: true,
        };
        self.setup.queue.submit(&queued)?;
        self.state
            .state
            .runs
            .entry(job.id.clone())
            .or_default()
            .queued = true;
        self.state.save()?;
        self.event(MarketEvent::Queued {
            job: job.id.clone(),
        });
        Ok(())
    }

    /// Publishes the trained job's weights, checkpoints and manifest (once), then sends the
    /// `SubmitResult` unless one the node still knows was sent.
    fn publish_and_submit(&mut self, job: &wire::Job) -> Result<(), MarketError> {
        let local = self.results_dir().join(format!("{}.json", job.id));
        let recorded = self
            .state
            .state
            .runs
            .get(&job.id)
            .and_then(|r| r.manifest.clone());
        let manifest = match recorded {
            Some(_) => {
                let bytes = std::fs::read(&local).map_err(io(&local))?;
                ResultManifest::parse(&bytes).map_err(|message| MarketError::Outputs {
                    job: job.id.clone(),
                    message,
                })?
            }
            None => self.publish(job, &local)?,
        };
        let manifest_id = super::node::blob_id(&manifest.to_bytes());
        if let Some(txid) = self
            .state
            .state
            .runs
            .get(&job.id)
            .and_then(|r| r.submitted.txid.clone())
        {
            if self.setup.node.tx_known(&txid)? {
                return Ok(());
            }
        }
        let action = MarketAction::SubmitResult(ResultCommit {
            job: hash(&job.id, &job.id)?,
            result: hash(&job.id, &manifest_id)?,
            transcript_root: hash(&job.id, &manifest.transcript_root)?,
            segments: manifest.segments(),
            metrics: manifest
                .metrics
                .iter()
                .map(|(k, v)| (k.clone(), *v))
                .collect(),
        });
        let sent = match self
            .setup
            .node
            .send(&self.setup.identity, self.setup.fee, action)
        {
            Ok(txid) => {
                self.event(MarketEvent::Submitted {
                    job: job.id.clone(),
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
                    what: "result",
                    reason: reason.clone(),
                });
                Sent {
                    txid: None,
                    refused: Some(reason),
                }
            }
            Err(e) => return Err(e),
        };
        self.state
            .state
            .runs
            .entry(job.id.clone())
            .or_default()
            .submitted = sent;
        self.state.save()
    }

    /// Uploads the weights and every transcript checkpoint of the trained job, then its
    /// manifest (kept at `local` too); records the manifest's id.
    fn publish(
        &mut self,
        job: &wire::Job,
        local: &std::path::Path,
    ) -> Result<ResultManifest, MarketError> {
        let outputs = |message: String| MarketError::Outputs {
            job: job.id.clone(),
            message,
        };
        let job_dir = self.setup.sandbox.job_dir(&job.id);
        let done = self.setup.queue.read(Stage::Done, &job.id)?;
        let result = &done["result"];
        let weights_path = job_dir.join("model").join("weights.safetensors");
        let weights = std::fs::read(&weights_path).map_err(io(&weights_path))?;
        let weights_id = super::node::blob_id(&weights);
        if result["weights_blake3"].as_str() != Some(weights_id.as_str()) {
            return Err(outputs(format!(
                "weights.safetensors has BLAKE3 {weights_id}, the trainer said {}",
                result["weights_blake3"]
            )));
        }
        let transcript_path = job_dir.join("model").join("transcript.json");
        let transcript: Value = std::fs::read(&transcript_path)
            .map_err(io(&transcript_path))
            .and_then(|b| {
                serde_json::from_slice(&b).map_err(|e| outputs(format!("transcript.json: {e}")))
            })?;
        let root = transcript["root"]
            .as_str()
            .ok_or_else(|| outputs("transcript.json has no root".into()))?
            .to_owned();
        let mut entries = Vec::new();
        for c in transcript["checkpoints"].as_array().into_iter().flatten() {
            let (Some(step), Some(id)) = (c["step"].as_u64(), c["id"].as_str()) else {
                return Err(outputs(format!("transcript.json: bad entry {c}")));
            };
            let path = job_dir
                .join("state")
                .join(KEPT_CHECKPOINTS_DIR)
                .join(kept_checkpoint_file(step));
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            let uploaded = self.setup.node.put_blob(&bytes)?;
            if uploaded != id {
                return Err(outputs(format!(
                    "the checkpoint of step {step} has BLAKE3 {uploaded}, the transcript says {id}"
                )));
            }
            entries.push(TranscriptEntry {
                step,
                checkpoint: uploaded,
            });
        }
        self.setup.node.put_blob(&weights)?;
        let manifest = ResultManifest {
            version: MANIFEST_VERSION,
            job: job.id.clone(),
            weights: weights_id,
            transcript_root: root,
            transcript: entries,
            metrics: metrics_of(&result["scorecards"]),
            scorecards: result["scorecards"].clone(),
        };
        let computed = manifest
            .computed_root(self.setup.runtime.transcript_root)
            .map_err(outputs)?;
        if computed != manifest.transcript_root {
            return Err(outputs(format!(
                "the transcript's entries have root {computed}, transcript.json says {}",
                manifest.transcript_root
            )));
        }
        let bytes = manifest.to_bytes();
        let dir = self.results_dir();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        std::fs::write(local, &bytes).map_err(io(local))?;
        let id = self.setup.node.put_blob(&bytes)?;
        self.state
            .state
            .runs
            .entry(job.id.clone())
            .or_default()
            .manifest = Some(id.clone());
        self.state.save()?;
        self.event(MarketEvent::Published {
            job: job.id.clone(),
            manifest: id,
        });
        Ok(manifest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_point_parameters_read_back_as_the_trainer_takes_them() {
        assert_eq!(fixed_text(8_000_000), "8");
        assert_eq!(fixed_text(10_000), "0.01");
        assert_eq!(fixed_text(-1_500_000), "-1.5");
        let cards = serde_json::json!([
            {"split": "valid", "classification": {"accuracy": 0.9}},
            {"split": "test", "classification": {"accuracy": 0.125}}
        ]);
        assert_eq!(
            metrics_of(&cards),
            BTreeMap::from([
                ("test_accuracy".to_owned(), 125_000),
                ("valid_accuracy".to_owned(), 900_000)
            ])
        );
    }
}
