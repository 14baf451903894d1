//! The local job queue: one JSON file per job, moved between directories as it runs, so a
//! worker that crashes loses nothing (a job found in `running/` at start goes back to
//! `queue/` and resumes from its checkpoint).
//!
//! ```text
//! <dir>/queue/<id>.json     waiting, taken in name order
//! <dir>/running/<id>.json   the job on the device now
//! <dir>/done/<id>.json      finished: the job and its result
//! <dir>/failed/<id>.json    failed: the job and why
//! <dir>/refused/<id>.json   refused by the owner's policy (below the price floor, AI off)
//! ```
//!
//! Jobs come from `aic worker submit` and, with `[market]`, from the market agent: each job
//! awarded on chain to this worker's provider address is queued here under the job's id.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::sandbox::valid_id;

/// A training job as queued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedJob {
    /// Its id: 1-64 of `[A-Za-z0-9._-]`, not starting with `.`.
    pub id: String,
    /// What it pays, AIC an hour (checked against the owner's price floor).
    pub aic_per_hour: f64,
    /// The model package directory to train (copied into the job's directory).
    pub model: PathBuf,
    /// The data: a digitized data set directory, or with `sources` a data set id.
    pub data: String,
    /// Nodes to stream the data set from (through the worker's data service).
    #[serde(default)]
    pub sources: Vec<String>,
    /// Job parameters, `NAME = VALUE` as `aic model train --set` takes them.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Memory limit, MiB (default: the worker's `[jobs] memory_mib`).
    #[serde(default)]
    pub memory_mib: Option<u64>,
    /// Keep every transcript checkpoint in the job's state directory
    /// (`state/checkpoints/STEP.safetensors`): a market job publishes them with its result.
    #[serde(default)]
    pub keep_checkpoints: bool,
}

/// Why a job file was refused or could not be moved.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// Not a job file.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A job with this id is already queued, running or finished.
    #[error("job {0:?} already exists in the queue")]
    Duplicate(String),
    /// The file system refused.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl QueuedJob {
    /// The rules serde does not check.
    pub fn check(&self) -> Result<(), String> {
        if !valid_id(&self.id) {
            return Err(format!(
                "id {:?}: want 1-64 of [A-Za-z0-9._-], not starting with '.'",
                self.id
            ));
        }
        if !(self.aic_per_hour.is_finite() && self.aic_per_hour >= 0.0) {
            return Err("aic_per_hour must be a number >= 0".into());
        }
        if !self.model.is_absolute() {
            return Err("model must be an absolute path to a package directory".into());
        }
        if self.sources.is_empty() && !Path::new(&self.data).is_absolute() {
            return Err("data must be an absolute path (or a data set id with sources)".into());
        }
        if self.memory_mib == Some(0) {
            return Err("memory_mib must be at least 1".into());
        }
        if let Some(k) = self.params.keys().find(|k| k.contains('=') || k.is_empty()) {
            return Err(format!("parameter name {k:?} is not a name"));
        }
        Ok(())
    }
}

/// Where a job's file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Waiting.
    Queue,
    /// On the device.
    Running,
    /// Finished.
    Done,
    /// Failed.
    Failed,
    /// Refused by the policy.
    Refused,
}

impl Stage {
    const ALL: [Stage; 5] = [
        Stage::Queue,
        Stage::Running,
        Stage::Done,
        Stage::Failed,
        Stage::Refused,
    ];

    fn dir(self) -> &'static str {
        match self {
            Stage::Queue => "queue",
            Stage::Running => "running",
            Stage::Done => "done",
            Stage::Failed => "failed",
            Stage::Refused => "refused",
        }
    }
}

/// The queue's directory.
#[derive(Clone, Debug)]
pub struct JobQueue {
    dir: PathBuf,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> QueueError + '_ {
    move |source| QueueError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes `bytes` so that a crash leaves the old file or the new one.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), QueueError> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

impl JobQueue {
    /// Opens (creating) the queue in `dir`; jobs left in `running/` by a worker that stopped
    /// go back to `queue/` (they resume from their checkpoints).
    pub fn open(dir: &Path) -> Result<Self, QueueError> {
        for stage in Stage::ALL {
            let d = dir.join(stage.dir());
            std::fs::create_dir_all(&d).map_err(io(&d))?;
        }
        let queue = Self {
            dir: dir.to_path_buf(),
        };
        for id in queue.ids(Stage::Running)? {
            queue.move_to(&id, Stage::Running, Stage::Queue)?;
        }
        Ok(queue)
    }

    /// The queue's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, stage: Stage, id: &str) -> PathBuf {
        self.dir.join(stage.dir()).join(format!("{id}.json"))
    }

    /// Where job `id` is, if anywhere.
    pub fn stage_of(&self, id: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| self.path(*s, id).is_file())
    }

    /// Adds `job` to the queue (checked; refused if its id exists in any stage).
    pub fn submit(&self, job: &QueuedJob) -> Result<(), QueueError> {
        job.check().map_err(|message| QueueError::Invalid {
            path: self.path(Stage::Queue, &job.id),
            message,
        })?;
        if self.stage_of(&job.id).is_some() {
            return Err(QueueError::Duplicate(job.id.clone()));
        }
        let bytes = serde_json::to_vec_pretty(job).expect("a job serializes");
        write_atomic(&self.path(Stage::Queue, &job.id), &bytes)
    }

    /// The ids in `stage`, in name order.
    pub fn ids(&self, stage: Stage) -> Result<Vec<String>, QueueError> {
        let d = self.dir.join(stage.dir());
        let mut ids: Vec<String> = std::fs::read_dir(&d)
            .map_err(io(&d))?
            .flatten()
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_owned)
            })
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Reads job `id` in `stage` (a finished job's file holds the job under `"job"`).
    pub fn read(&self, stage: Stage, id: &str) -> Result<Value, QueueError> {
        let path = self.path(stage, id);
        let bytes = std::fs::read(&path).map_err(io(&path))?;
        serde_json::from_slice(&bytes).map_err(|e| QueueError::Invalid {
            path,
            message: e.to_string(),
        })
    }

    /// The first waiting job. A malformed file is moved to `failed/` with the reason and the
    /// next is tried.
    pub fn next(&self) -> Result<Option<QueuedJob>, QueueError> {
        for id in self.ids(Stage::Queue)? {
            let path = self.path(Stage::Queue, &id);
            let parsed = std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<QueuedJob>(&b).map_err(|e| e.to_string()))
                .and_then(|job| {
                    job.check()?;
                    if job.id == id {
                        Ok(job)
                    } else {
                        Err(format!("the file {id}.json holds job {:?}", job.id))
                    }
                });
            match parsed {
                Ok(job) => return Ok(Some(job)),
                Err(reason) => {
                    let text = std::fs::read_to_string(&path).unwrap_or_default();
                    self.finish(
                        &id,
                        Stage::Queue,
                        Stage::Failed,
                        serde_json::json!({"file": text, "error": reason}),
                    )?;
                }
            }
        }
        Ok(None)
    }

    /// Moves job `id` from one stage to another as it is.
    pub fn move_to(&self, id: &str, from: Stage, to: Stage) -> Result<(), QueueError> {
        let (a, b) = (self.path(from, id), self.path(to, id));
        std::fs::rename(&a, &b).map_err(io(&a))
    }

    /// Ends job `id`: its file in `to` holds `outcome` (the job, result or reason), and the
    /// file in `from` is removed.
    pub fn finish(
        &self,
        id: &str,
        from: Stage,
        to: Stage,
        outcome: Value,
    ) -> Result<(), QueueError> {
        let bytes = serde_json::to_vec_pretty(&outcome).expect("JSON serializes");
        write_atomic(&self.path(to, id), &bytes)?;
        let old = self.path(from, id);
        std::fs::remove_file(&old).map_err(io(&old))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str) -> QueuedJob {
        QueuedJob {
            id: id.into(),
            aic_per_hour: 1.0,
            model: "/m/kws".into(),
            data: "/d/ds".into(),
            sources: vec![],
            params: BTreeMap::from([("epochs".into(), "2".into())]),
            memory_mib: None,
            keep_checkpoints: false,
        }
    }

    #[test]
    fn jobs_move_through_the_stages_and_survive_a_crash() {
        let tmp = tempfile::tempdir().unwrap();
        let q = JobQueue::open(tmp.path()).unwrap();
        q.submit(&job("b")).unwrap();
        q.submit(&job("a")).unwrap();
        assert!(matches!(q.submit(&job("a")), Err(QueueError::Duplicate(_))));
        let first = q.next().unwrap().unwrap();
        assert_eq!(first.id, "a", "name order");
        q.move_to("a", Stage::Queue, Stage::Running).unwrap();
        assert_eq!(q.stage_of("a"), Some(Stage::Running));
        // A worker that stops with a job running finds it queued again.
        let q = JobQueue::open(tmp.path()).unwrap();
        assert_eq!(q.stage_of("a"), Some(Stage::Queue));
        q.finish("a", Stage::Queue, Stage::Done, serde_json::json!({"ok": 1}))
            .unwrap();
        assert_eq!(q.read(Stage::Done, "a").unwrap()["ok"], 1);
        assert_eq!(q.ids(Stage::Queue).unwrap(), ["b"]);
    }

    #[test]
    fn bad_jobs_are_refused_or_set_aside_with_the_reason() {
        let tmp = tempfile::tempdir().unwrap();
        let q = JobQueue::open(tmp.path()).unwrap();
        for (bad, needle) in [
            (
                QueuedJob {
                    id: "../x".into(),
                    ..job("x")
                },
                "id",
            ),
            (
                QueuedJob {
                    aic_per_hour: f64::NAN,
                    ..job("x")
                },
                "aic_per_hour",
            ),
            (
                QueuedJob {
                    model: "rel".into(),
                    ..job("x")
                },
                "model",
            ),
            (
                QueuedJob {
                    data: "rel".into(),
                    ..job("x")
                },
                "data",
            ),
            (
                QueuedJob {
                    memory_mib: Some(0),
                    ..job("x")
                },
                "memory_mib",
            ),
        ] {
            let err = q.submit(&bad).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
        assert!(q.ids(Stage::Queue).unwrap().is_empty(), "nothing queued");
        // A file dropped in by hand that is not a job goes to failed/ with the reason.
        std::fs::write(tmp.path().join("queue/zz.json"), b"{\"id\": 3}").unwrap();
        assert_eq!(q.next().unwrap(), None);
        let failed = q.read(Stage::Failed, "zz").unwrap();
        assert!(failed["error"].as_str().unwrap().contains("invalid type"));
    }
}
