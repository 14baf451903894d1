//! Runs the queue's jobs one at a time on the device: offers each to the switcher (the owner's
//! policy decides), runs an accepted one as `aic model train` in its own sandbox (its own
//! directory, limits, no network, the job socket bound in), preempts it on request or at
//! shutdown (SIGTERM, a grace period to checkpoint, SIGKILL) and queues it again to resume,
//! and records every outcome.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::{json, Value};

use super::queue::{JobQueue, QueuedJob, Stage};
use crate::sandbox::{Exit, ExitStatus, JobSpec, Limits, Output, Sandbox, TerminationReason};
use crate::switcher::{OfferDecision, SwitcherHandle};

/// The exit status of a preempted `aic model train --state-dir` (EX_TEMPFAIL).
pub const PREEMPTED_EXIT: i32 = 75;
/// Outcomes kept for the status endpoint.
const OUTCOMES_KEPT: usize = 100;
/// How often an idle runner looks at the queue.
const POLL: Duration = Duration::from_millis(250);

/// How the runner starts jobs.
#[derive(Clone, Debug)]
pub struct RunnerConfig {
    /// The `aic` binary (bound read-only into each sandbox).
    pub program: PathBuf,
    /// The worker's job socket (bound into each sandbox).
    pub job_socket: PathBuf,
    /// The worker's data service socket, if it runs one: jobs with `sources` stream through
    /// it (`unix:PATH`), their only way to the network.
    pub data_service: Option<PathBuf>,
    /// SIGTERM to SIGKILL when a job is preempted.
    pub grace: Duration,
    /// Default memory limit, MiB (0: none).
    pub memory_mib: u64,
}

/// How a job ended on this worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// Trained to the end; `result` holds weights hash, transcript root and scorecards.
    Succeeded,
    /// Failed; `reason` says why.
    Failed,
    /// Stopped with a checkpoint and queued again to resume.
    Preempted,
    /// The owner's policy refused it.
    Refused,
}

/// One job's outcome on this worker.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobOutcome {
    /// The job.
    pub id: String,
    /// How it ended.
    pub status: JobStatus,
    /// Why it failed or was refused.
    pub reason: Option<String>,
    /// The trainer's `done` line (succeeded) or `preempted` line.
    pub result: Value,
    /// Unix milliseconds.
    pub started_ms: u64,
    /// Unix milliseconds.
    pub ended_ms: u64,
    /// Its peak memory, where the cgroup reports it.
    pub peak_memory_bytes: Option<u64>,
}

#[derive(Default)]
struct State {
    current: Option<String>,
    preempt: Option<String>,
    outcomes: VecDeque<JobOutcome>,
    last_error: Option<String>,
}

/// What the runner shows: the job on the device, the queue, recent outcomes.
#[derive(Clone, Debug, Serialize)]
pub struct RunnerStatus {
    /// The job on the device now.
    pub current: Option<String>,
    /// Waiting jobs, in order.
    pub queued: Vec<String>,
    /// Recent outcomes, oldest first.
    pub outcomes: Vec<JobOutcome>,
    /// The last error of the runner itself (the queue unreadable, a spawn failing).
    pub last_error: Option<String>,
}

/// The runner's thread and what it shares.
pub struct JobRunner {
    queue: JobQueue,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for JobRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobRunner")
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// Called with every outcome (the provider agent reports them to the node).
pub type OnOutcome = Box<dyn Fn(&JobOutcome) + Send>;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl JobRunner {
    /// Starts taking jobs from `queue`.
    pub fn start(
        queue: JobQueue,
        sandbox: Sandbox,
        switcher: SwitcherHandle,
        config: RunnerConfig,
        on_outcome: OnOutcome,
    ) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let worker = Worker {
            queue: queue.clone(),
            sandbox,
            switcher,
            config,
            state: Arc::clone(&state),
            stop: Arc::clone(&stop),
            on_outcome,
        };
        let thread = std::thread::Builder::new()
            .name("aic-jobs".into())
            .spawn(move || worker.run())?;
        Ok(Self {
            queue,
            state,
            stop,
            thread: Some(thread),
        })
    }

    /// A handle for the control endpoints.
    pub fn control(&self) -> RunnerControl {
        RunnerControl {
            queue: self.queue.clone(),
            state: Arc::clone(&self.state),
        }
    }

    /// Stops taking jobs; a running job is preempted (it checkpoints and is queued again to
    /// resume at the next start). Waits for it.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for JobRunner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Status and preemption, from any thread.
#[derive(Clone)]
pub struct RunnerControl {
    queue: JobQueue,
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for RunnerControl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunnerControl").finish_non_exhaustive()
    }
}

impl RunnerControl {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Asks the running job `id` to stop with a checkpoint; it is queued again and resumes.
    /// False if `id` is not the job on the device.
    pub fn preempt(&self, id: &str) -> bool {
        let mut s = self.lock();
        if s.current.as_deref() == Some(id) {
            s.preempt = Some(id.to_owned());
            true
        } else {
            false
        }
    }

    /// The runner's status now.
    pub fn status(&self) -> RunnerStatus {
        let queued = self.queue.ids(Stage::Queue).unwrap_or_default();
        let s = self.lock();
        RunnerStatus {
            current: s.current.clone(),
            queued,
            outcomes: s.outcomes.iter().cloned().collect(),
            last_error: s.last_error.clone(),
        }
    }

    /// The queue.
    pub fn queue(&self) -> &JobQueue {
        &self.queue
    }
}

struct Worker {
    queue: JobQueue,
    sandbox: Sandbox,
    switcher: SwitcherHandle,
    config: RunnerConfig,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    on_outcome: OnOutcome,
}

/// Copies a package directory (files and subdirectories) to `to`.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The last line of `path` that is a JSON object with `"event": event`.
fn last_event(path: &Path, event: &str) -> Option<Value> {
    let file = std::fs::File::open(path).ok()?;
    BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
        .filter(|v| v["event"] == event)
        .last()
}

/// The last `n` lines of a text file.
fn tail(path: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

impl Worker {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn run(self) {
        while !self.stop.load(Ordering::SeqCst) {
            match self.queue.next() {
                Ok(Some(job)) => {
                    if let Err(e) = self.run_one(&job) {
                        self.lock().last_error = Some(format!("job {}: {e}", job.id));
                        // The job's file stays where it is; do not spin on it.
                        std::thread::sleep(POLL);
                    }
                }
                Ok(None) => std::thread::sleep(POLL),
                Err(e) => {
                    self.lock().last_error = Some(e.to_string());
                    std::thread::sleep(POLL);
                }
            }
        }
    }

    fn record(&self, outcome: JobOutcome) {
        (self.on_outcome)(&outcome);
        let mut s = self.lock();
        s.outcomes.push_back(outcome);
        while s.outcomes.len() > OUTCOMES_KEPT {
            s.outcomes.pop_front();
        }
    }

    fn spec(&self, job: &QueuedJob, job_dir: &Path) -> Result<JobSpec, String> {
        let model = job_dir.join("model");
        if !model.join("aicmodel.toml").is_file() {
            copy_dir(&job.model, &model)
                .map_err(|e| format!("copying the model package {}: {e}", job.model.display()))?;
        }
        let mut args: Vec<OsString> = vec![
            "model".into(),
            "train".into(),
            model.into(),
            "--data".into(),
            job.data.clone().into(),
            "--job-socket".into(),
            self.config.job_socket.clone().into(),
            "--job-id".into(),
            job.id.clone().into(),
            "--state-dir".into(),
            job_dir.join("state").into(),
            "--json".into(),
        ];
        if job.keep_checkpoints {
            args.push("--keep-checkpoints".into());
        }
        for (k, v) in &job.params {
            args.push("--set".into());
            args.push(format!("{k}={v}").into());
        }
        let memory_mib = job.memory_mib.unwrap_or(self.config.memory_mib);
        let mut spec = JobSpec::new(job.id.clone(), self.config.program.clone())
            .env("PATH", "/usr/bin:/bin")
            .env("HOME", job_dir.as_os_str())
            .env("RUST_LOG", "warn")
            .ro_bind(self.config.program.clone())
            .socket(self.config.job_socket.clone())
            .limits(Limits {
                memory_bytes: (memory_mib > 0).then_some(memory_mib << 20),
                term_grace: self.config.grace,
                ..Limits::default()
            })
            .output(
                Output::File(job_dir.join("out.jsonl")),
                Output::File(job_dir.join("err.log")),
            );
        if job.sources.is_empty() {
            spec = spec.ro_bind(PathBuf::from(&job.data));
        } else {
            match &self.config.data_service {
                Some(sock) => {
                    spec = spec.socket(sock.clone());
                    args.push("--source".into());
                    args.push(format!("unix:{}", sock.display()).into());
                    args.push("--cache".into());
                    args.push(job_dir.join("cache").into());
                }
                None if self.sandbox.isolation().is_isolated() => {
                    return Err("the job streams from nodes, but an isolated job reaches the network only through the worker's data service, which is not running".into());
                }
                None => {
                    for s in &job.sources {
                        args.push("--source".into());
                        args.push(s.into());
                    }
                }
            }
        }
        Ok(spec.args(args))
    }

    fn run_one(&self, job: &QueuedJob) -> Result<(), super::queue::QueueError> {
        let started_ms = now_ms();
        let decision = self
            .switcher
            .offer(&job.id, job.aic_per_hour)
            .unwrap_or(OfferDecision::AiOff);
        let outcome = |status, reason: Option<String>, result: Value, peak| JobOutcome {
            id: job.id.clone(),
            status,
            reason,
            result,
            started_ms,
            ended_ms: now_ms(),
            peak_memory_bytes: peak,
        };
        if decision != OfferDecision::Accept {
            let reason = format!("{decision:?}");
            self.queue.finish(
                &job.id,
                Stage::Queue,
                Stage::Refused,
                json!({"job": job, "reason": reason}),
            )?;
            self.record(outcome(JobStatus::Refused, Some(reason), Value::Null, None));
            return Ok(());
        }
        self.queue.move_to(&job.id, Stage::Queue, Stage::Running)?;
        self.lock().current = Some(job.id.clone());
        let job_dir = self.sandbox.job_dir(&job.id);
        let exit = self
            .spec(job, &job_dir)
            .and_then(|spec| self.watch(&spec).map_err(|e| e.to_string()));
        // A job that died before it said `end` (or never connected) leaves the device.
        let _ = self.switcher.end_job(&job.id);
        let preempt_asked = {
            let mut s = self.lock();
            s.current = None;
            s.preempt.take().is_some()
        };
        let out = job_dir.join("out.jsonl");
        let exit = match exit {
            Ok(exit) => exit,
            Err(reason) => {
                self.queue.finish(
                    &job.id,
                    Stage::Running,
                    Stage::Failed,
                    json!({"job": job, "reason": reason}),
                )?;
                self.record(outcome(JobStatus::Failed, Some(reason), Value::Null, None));
                return Ok(());
            }
        };
        let peak = exit.peak_memory_bytes;
        let by_us = exit
            .terminated
            .is_some_and(|t| t.reason == TerminationReason::Requested);
        if exit.status.success() {
            let done = last_event(&out, "done").unwrap_or(Value::Null);
            self.queue.finish(
                &job.id,
                Stage::Running,
                Stage::Done,
                json!({"job": job, "result": done}),
            )?;
            self.record(outcome(JobStatus::Succeeded, None, done, peak));
        } else if exit.status == ExitStatus::Code(PREEMPTED_EXIT) || by_us {
            // Checkpointed (or, killed after its grace, its last grid checkpoint stands):
            // queued again to resume here or elsewhere.
            self.queue.move_to(&job.id, Stage::Running, Stage::Queue)?;
            let line = last_event(&out, "preempted").unwrap_or(Value::Null);
            let reason = if preempt_asked {
                "preempted on request"
            } else {
                "preempted: the worker is stopping"
            };
            self.record(outcome(
                JobStatus::Preempted,
                Some(reason.into()),
                line,
                peak,
            ));
        } else {
            let reason = failure_reason(&exit, &job_dir.join("err.log"));
            self.queue.finish(
                &job.id,
                Stage::Running,
                Stage::Failed,
                json!({"job": job, "reason": reason}),
            )?;
            self.record(outcome(JobStatus::Failed, Some(reason), Value::Null, peak));
        }
        Ok(())
    }

    /// Runs the job to its end, preempting it when asked or when the worker stops.
    fn watch(&self, spec: &JobSpec) -> Result<Exit, crate::sandbox::SandboxError> {
        let mut handle = self.sandbox.spawn(spec)?;
        loop {
            if let Some(exit) = handle.wait_timeout(Duration::from_millis(100))? {
                return Ok(exit);
            }
            let asked = self.lock().preempt.as_deref() == Some(spec.id.as_str());
            if asked || self.stop.load(Ordering::SeqCst) {
                return handle.terminate(self.config.grace);
            }
        }
    }
}

fn failure_reason(exit: &Exit, err_log: &Path) -> String {
    if exit.oom_killed {
        let peak = exit
            .peak_memory_bytes
            .map_or_else(String::new, |p| format!(" (peak {} MiB)", p >> 20));
        return format!("killed for exceeding its memory limit{peak}");
    }
    if let Some(t) = exit.terminated {
        if t.reason == TerminationReason::WallTime {
            return "ran past its wall time".into();
        }
    }
    let status = match exit.status {
        ExitStatus::Code(c) => format!("exit status {c}"),
        ExitStatus::Signal(s) => format!("killed by signal {s}"),
    };
    let log = tail(err_log, 5);
    if log.is_empty() {
        status
    } else {
        format!("{status}: {log}")
    }
}
