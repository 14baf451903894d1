//! Preemption of a training job: SIGTERM (or Ctrl-C) asks it to stop at the next step, it
//! checkpoints into its state directory and exits with [`PREEMPTED_EXIT`]; started again with
//! the same state directory it resumes from that checkpoint and ends with the same weights and
//! transcript as a run that was never interrupted (`docs/worker.md`, "Preemption").
//!
//! The state directory holds:
//! - `job.json`: what the job is (architecture, resolved parameters, data): a checkpoint of
//!   another job is refused, never resumed into this one;
//! - `checkpoint.safetensors`: the latest full training state (a grid checkpoint, or the one
//!   taken when the job was stopped), replaced atomically;
//! - `transcript.json`: the grid checkpoints committed so far (step and BLAKE3 id);
//! - `checkpoints/STEP.safetensors` (with `--keep-checkpoints`): every checkpoint of the
//!   transcript, the grid's and the final one, as a market provider publishes them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use aic_ml::checkpoint::Checkpoint;
use aic_worker::market::{kept_checkpoint_file, KEPT_CHECKPOINTS_DIR};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

/// The exit status of a job that stopped because it was asked to (EX_TEMPFAIL: run it again
/// to resume).
pub(crate) const PREEMPTED_EXIT: u8 = 75;

const JOB_FILE: &str = "job.json";
const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
const TRANSCRIPT_FILE: &str = "transcript.json";

/// The error a preempted training run ends with; `main` turns it into [`PREEMPTED_EXIT`].
#[derive(Debug)]
pub(crate) struct Preempted {
    /// The step the checkpoint holds.
    pub(crate) step: u64,
    /// The state directory.
    pub(crate) dir: PathBuf,
}

impl std::fmt::Display for Preempted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "preempted at step {}: checkpoint in {}; run the same command again to resume",
            self.step,
            self.dir.display()
        )
    }
}

impl std::error::Error for Preempted {}

/// Set once SIGTERM or SIGINT arrives; the handler thread lives as long as the process.
pub(crate) fn stop_flag() -> Result<Arc<AtomicBool>> {
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("aic-signals".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready_tx.send(Err(e));
                    return;
                }
            };
            runtime.block_on(async move {
                use tokio::signal::unix::{signal, SignalKind};
                let (term, int) = match (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::interrupt()),
                ) {
                    (Ok(t), Ok(i)) => (t, i),
                    (Err(e), _) | (_, Err(e)) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let (mut term, mut int) = (term, int);
                // Registered: from here a signal is caught, not fatal.
                let _ = ready_tx.send(Ok(()));
                loop {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                    set.store(true, Ordering::SeqCst);
                }
            });
        })
        .context("starting the signal thread")?;
    ready_rx
        .recv()
        .context("the signal thread ended")?
        .context("registering SIGTERM/SIGINT")?;
    Ok(flag)
}

/// What a state directory belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct JobKey {
    /// The model's architecture.
    pub(crate) architecture: String,
    /// Resolved parameters, as text.
    pub(crate) params: BTreeMap<String, String>,
    /// The data argument (a path or a data set id).
    pub(crate) data: String,
}

/// A training job's state directory.
pub(crate) struct StateDir {
    dir: PathBuf,
    transcript: BTreeMap<u64, String>,
    keep: bool,
}

/// Writes `bytes` to `path` so that a crash leaves the old file or the new one, never a part.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("part");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

impl StateDir {
    /// Opens (creating) `dir` for the job `key`; returns the checkpoint to resume from, if any.
    /// Refuses a directory that holds another job's state. With `keep`, every transcript
    /// checkpoint is kept under [`KEPT_CHECKPOINTS_DIR`].
    pub(crate) fn open(dir: &Path, key: &JobKey, keep: bool) -> Result<(Self, Option<Checkpoint>)> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        if keep {
            let kept = dir.join(KEPT_CHECKPOINTS_DIR);
            std::fs::create_dir_all(&kept)
                .with_context(|| format!("creating {}", kept.display()))?;
        }
        let job_path = dir.join(JOB_FILE);
        match std::fs::read(&job_path) {
            Ok(bytes) => {
                let found: JobKey = serde_json::from_slice(&bytes)
                    .with_context(|| format!("reading {}", job_path.display()))?;
                if &found != key {
                    bail!(
                        "{} holds the state of another job ({} on {}); use a fresh --state-dir",
                        dir.display(),
                        found.architecture,
                        found.data
                    );
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_atomic(&job_path, &serde_json::to_vec_pretty(key)?)?;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", job_path.display())),
        }
        let checkpoint = match std::fs::read(dir.join(CHECKPOINT_FILE)) {
            Ok(bytes) => Some(
                Checkpoint::decode(&bytes)
                    .map_err(|e| anyhow::anyhow!("{e}"))
                    .with_context(|| format!("reading {}", dir.join(CHECKPOINT_FILE).display()))?,
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let mut transcript: BTreeMap<u64, String> = match std::fs::read(dir.join(TRANSCRIPT_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).context("reading transcript.json")?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e.into()),
        };
        // Entries past the checkpoint (a crash between writing the two files) come again.
        let upto = checkpoint.as_ref().map_or(0, |c| c.progress.step);
        transcript.retain(|&step, _| checkpoint.is_some() && step <= upto);
        Ok((
            Self {
                dir: dir.to_path_buf(),
                transcript,
                keep,
            },
            checkpoint,
        ))
    }

    /// Saves `checkpoint` as the state to resume from; `committed` when it is one of the
    /// transcript's grid checkpoints.
    pub(crate) fn save(&mut self, checkpoint: &Checkpoint, committed: bool) -> Result<()> {
        let bytes = checkpoint.encode();
        if committed && self.keep {
            self.keep_bytes(checkpoint.progress.step, &bytes)?;
        }
        if committed {
            self.transcript.insert(
                checkpoint.progress.step,
                blake3::hash(&bytes).to_hex().to_string(),
            );
            write_atomic(
                &self.dir.join(TRANSCRIPT_FILE),
                &serde_json::to_vec_pretty(&self.transcript)?,
            )?;
        }
        write_atomic(&self.dir.join(CHECKPOINT_FILE), &bytes)
    }

    /// Keeps `checkpoint` (the final one of a run) with the grid's, when keeping.
    pub(crate) fn keep_final(&self, checkpoint: &Checkpoint) -> Result<()> {
        if self.keep {
            self.keep_bytes(checkpoint.progress.step, &checkpoint.encode())?;
        }
        Ok(())
    }

    fn keep_bytes(&self, step: u64, bytes: &[u8]) -> Result<()> {
        let path = self
            .dir
            .join(KEPT_CHECKPOINTS_DIR)
            .join(kept_checkpoint_file(step));
        write_atomic(&path, bytes)
    }

    /// The grid checkpoints committed up to `step` (inclusive): the part of the transcript
    /// that a run resumed from the checkpoint at `step` does not compute again.
    pub(crate) fn committed_upto(&self, step: u64) -> Vec<(u64, blake3::Hash)> {
        self.transcript
            .range(..=step)
            .filter_map(|(&s, id)| blake3::Hash::from_hex(id).ok().map(|h| (s, h)))
            .collect()
    }

    /// The directory.
    pub(crate) fn path(&self) -> &Path {
        &self.dir
    }
}
