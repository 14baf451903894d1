//! One drawn segment replayed in the sandbox: `aic model replay` with the job's model, data
//! (streamed through the worker's data service) and parameters, from the segment's first
//! checkpoint; the id of the checkpoint it ends at.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use aic_api::market as wire;
use serde_json::Value;

use super::agent::Market;
use super::error::{io, MarketError};
use super::publish::params_of;
use crate::sandbox::{JobSpec, Limits};

/// How replays run.
#[derive(Clone, Debug)]
pub struct ReplayConfig {
    /// The `aic` binary (bound read-only into the sandbox).
    pub program: PathBuf,
    /// The worker's data service socket: the replay's only way to the node when isolated.
    pub data_service: Option<PathBuf>,
    /// Memory limit of a replay, MiB (0: none).
    pub memory_mib: u64,
}

/// What a replay gave.
pub(super) enum Replayed {
    /// The id of the checkpoint it ended at.
    Id(String),
    /// It failed: the exit and the end of its error output.
    Failed(String),
}

impl Market {
    /// Replays segment `segment` of `job` from the checkpoint `from` (its bytes).
    pub(super) fn replay(
        &self,
        job: &wire::Job,
        model: &Path,
        segment: u32,
        from: &[u8],
    ) -> Result<Replayed, MarketError> {
        let id = format!("replay-{}-{segment}", &job.id[..job.id.len().min(32)]);
        let job_dir = self.setup.sandbox.job_dir(&id);
        std::fs::create_dir_all(&job_dir).map_err(io(&job_dir))?;
        let from_path = job_dir.join("from.safetensors");
        std::fs::write(&from_path, from).map_err(io(&from_path))?;
        let config = &self.setup.replay;
        let mut args: Vec<OsString> = vec![
            "model".into(),
            "replay".into(),
            model.into(),
            "--data".into(),
            job.dataset.clone().into(),
            "--from".into(),
            from_path.into(),
            "--json".into(),
        ];
        for (k, v) in params_of(job) {
            args.push("--set".into());
            args.push(format!("{k}={v}").into());
        }
        let mut spec = JobSpec::new(id, config.program.clone())
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", job_dir.as_os_str())
            .env("RUST_LOG", "warn")
            .ro_bind(config.program.clone())
            .ro_bind(model.to_path_buf())
            .limits(Limits {
                memory_bytes: (config.memory_mib > 0).then_some(config.memory_mib << 20),
                ..Limits::default()
            });
        match &config.data_service {
            Some(sock) => {
                spec = spec.socket(sock.clone());
                args.push("--source".into());
                args.push(format!("unix:{}", sock.display()).into());
                args.push("--cache".into());
                args.push(job_dir.join("cache").into());
            }
            None if self.setup.sandbox.isolation().is_isolated() => {
                return Err(MarketError::Job {
                    job: job.id.clone(),
                    message: "a replay streams the job's data, but an isolated replay reaches the node only through the worker's data service, which is not running".into(),
                });
            }
            None => {
                args.push("--source".into());
                args.push(self.setup.node.base().into());
            }
        }
        let finished = self.setup.sandbox.run(&spec.args(args))?;
        let stdout = String::from_utf8_lossy(&finished.stdout);
        let replayed = stdout
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "replayed")
            .and_then(|v| v["id"].as_str().map(str::to_owned));
        Ok(match (finished.exit.status.success(), replayed) {
            (true, Some(id)) => Replayed::Id(id),
            _ => {
                let stderr = String::from_utf8_lossy(&finished.stderr);
                let lines: Vec<&str> = stderr.lines().collect();
                let tail = lines[lines.len().saturating_sub(5)..].join("\n");
                Replayed::Failed(format!("{:?}: {tail}", finished.exit.status))
            }
        })
    }
}
