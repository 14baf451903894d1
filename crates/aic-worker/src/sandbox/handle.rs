//! A running job: its pid, waits with a timeout, terminate (SIGTERM, grace, SIGKILL), and the
//! [`Exit`] report once it has ended and its cgroup is gone.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, ChildStdout};
use std::thread;
use std::time::{Duration, Instant};

use super::cgroup::JobCgroup;
use super::signal::{self, Signal};
use super::{Isolation, LimitBackend, SandboxError};

/// How long cleanup may take to kill stragglers and remove the job's cgroup.
const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);

/// How a job's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this code. Under bubblewrap a job killed by signal N inside the
    /// sandbox is reported as code 128 + N (bubblewrap's own exit, like a shell's).
    Code(i32),
    /// The process the worker started was killed by this signal.
    Signal(i32),
}

impl ExitStatus {
    /// Whether it exited with code 0.
    pub fn success(self) -> bool {
        self == Self::Code(0)
    }
}

/// Why the worker ended a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TerminationReason {
    /// [`JobHandle::terminate`] or [`JobHandle::kill`] was called.
    Requested,
    /// The spec's wall time ran out.
    WallTime,
}

/// The worker ended the job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Termination {
    /// Why.
    pub reason: TerminationReason,
    /// Whether it had to be killed (SIGKILL) rather than stopping within its grace period.
    pub killed: bool,
}

/// The report on an ended job.
#[derive(Clone, Debug, PartialEq)]
pub struct Exit {
    /// How its process ended.
    pub status: ExitStatus,
    /// Whether the OOM killer killed a process of the job (cgroup memory events; on v1
    /// kernels without an `oom_kill` count, inferred from a hit limit and a SIGKILL). Always
    /// false on the rlimit backend, where an allocation over the limit fails instead.
    pub oom_killed: bool,
    /// Whether the pids limit refused a fork (cgroups only).
    pub pids_limit_hit: bool,
    /// Its peak memory use in bytes, where the cgroup reports it.
    pub peak_memory_bytes: Option<u64>,
    /// From spawn to the exit being seen.
    pub wall_time: Duration,
    /// Set when the worker ended the job.
    pub terminated: Option<Termination>,
    /// How its limits were enforced.
    pub backend: LimitBackend,
    /// How it was isolated.
    pub isolation: Isolation,
    /// Set when its cgroup could not be removed after the exit (it is left behind).
    pub cleanup_error: Option<String>,
}

/// A running job. Dropping it kills the job and cleans up.
#[derive(Debug)]
pub struct JobHandle {
    pub(crate) child: Child,
    pub(crate) started: Instant,
    pub(crate) cgroup: Option<JobCgroup>,
    pub(crate) backend: LimitBackend,
    pub(crate) isolation: Isolation,
    pub(crate) job_dir: PathBuf,
    pub(crate) wall_time: Option<Duration>,
    pub(crate) term_grace: Duration,
    pub(crate) terminated: Option<Termination>,
    pub(crate) exit: Option<Exit>,
}

impl JobHandle {
    /// The pid of the process the worker started (bubblewrap's, when isolated).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The job's own directory on the host.
    pub fn job_dir(&self) -> &Path {
        &self.job_dir
    }

    /// How its limits are enforced.
    pub fn backend(&self) -> LimitBackend {
        self.backend
    }

    /// How it is isolated.
    pub fn isolation(&self) -> &Isolation {
        &self.isolation
    }

    /// Its standard output, when the spec asked for [`Output::Piped`](super::Output::Piped)
    /// (once).
    pub fn take_stdout(&mut self) -> Option<ChildStdout> {
        self.child.stdout.take()
    }

    /// Its standard error, when the spec asked for [`Output::Piped`](super::Output::Piped)
    /// (once).
    pub fn take_stderr(&mut self) -> Option<ChildStderr> {
        self.child.stderr.take()
    }

    /// The exit report if the job has ended, without blocking. Enforces the wall time: past
    /// it, this terminates the job (blocking for up to the grace period).
    pub fn try_wait(&mut self) -> Result<Option<Exit>, SandboxError> {
        self.wait_timeout(Duration::ZERO)
    }

    /// Waits up to `timeout` for the job to end; `None` if it is still running. Enforces the
    /// wall time as [`Self::try_wait`] does.
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<Exit>, SandboxError> {
        if let Some(exit) = &self.exit {
            return Ok(Some(exit.clone()));
        }
        let now = Instant::now();
        let wall_deadline = self.wall_time.map(|limit| self.started + limit);
        let deadline = match wall_deadline {
            Some(wall) => wall.min(now + timeout),
            None => now + timeout,
        };
        if let Some(status) = self.poll_until(deadline)? {
            return self.finish(status).map(Some);
        }
        if wall_deadline.is_some_and(|wall| Instant::now() >= wall) {
            return self
                .stop(self.term_grace, TerminationReason::WallTime)
                .map(Some);
        }
        Ok(None)
    }

    /// Waits for the job to end (or its wall time to run out).
    pub fn wait(&mut self) -> Result<Exit, SandboxError> {
        loop {
            if let Some(exit) = self.wait_timeout(Duration::from_secs(3600))? {
                return Ok(exit);
            }
        }
    }

    /// Asks the job to stop: SIGTERM to its processes (the job checkpoints), then SIGKILL to
    /// all of them if it has not ended after `grace`. Under bubblewrap, bubblewrap itself and
    /// the sandbox's init are spared the SIGTERM so the job, not its sandbox, decides when to
    /// stop.
    pub fn terminate(&mut self, grace: Duration) -> Result<Exit, SandboxError> {
        self.stop(grace, TerminationReason::Requested)
    }

    /// Kills the job now (SIGKILL to all its processes).
    pub fn kill(&mut self) -> Result<Exit, SandboxError> {
        self.stop(Duration::ZERO, TerminationReason::Requested)
    }

    fn stop(&mut self, grace: Duration, reason: TerminationReason) -> Result<Exit, SandboxError> {
        if let Some(exit) = &self.exit {
            return Ok(exit.clone());
        }
        let mut termination = Termination {
            reason,
            killed: false,
        };
        self.terminated = Some(termination);
        if !grace.is_zero() {
            for pid in self.job_pids(false) {
                signal::send(pid, Signal::Term)?;
            }
            if let Some(status) = self.poll_until(Instant::now() + grace)? {
                return self.finish(status);
            }
        }
        termination.killed = true;
        self.terminated = Some(termination);
        self.kill_everything();
        let status = self.child.wait().map_err(SandboxError::Wait)?;
        self.finish(status)
    }

    /// The job's processes: the cgroup's, or the process tree's without one. With
    /// `everything` false, bubblewrap's own process is left out.
    fn job_pids(&self, everything: bool) -> Vec<i32> {
        let top = i32::try_from(self.child.id()).unwrap_or(i32::MAX);
        let mut pids = match &self.cgroup {
            Some(cgroup) => cgroup.pids(),
            None => {
                let mut pids = signal::descendants(top);
                pids.push(top);
                pids
            }
        };
        if !everything && self.isolation.is_isolated() {
            pids.retain(|&pid| pid != top);
        }
        pids
    }

    /// SIGKILL to the process the worker started first, so that it, not bubblewrap reporting
    /// its child's death (code 137), is what the exit shows; then to the rest, listed before
    /// the first kill (its orphans leave the process tree).
    fn kill_everything(&self) {
        let top = i32::try_from(self.child.id()).unwrap_or(i32::MAX);
        let rest = self.job_pids(true);
        let _ = signal::send(top, Signal::Kill);
        if let Some(cgroup) = &self.cgroup {
            cgroup.kill_all();
        }
        for pid in rest {
            let _ = signal::send(pid, Signal::Kill);
        }
    }

    /// Polls the child until it exits or `deadline` passes.
    fn poll_until(
        &mut self,
        deadline: Instant,
    ) -> Result<Option<std::process::ExitStatus>, SandboxError> {
        let mut pause = Duration::from_millis(1);
        loop {
            if let Some(status) = self.child.try_wait().map_err(SandboxError::Wait)? {
                return Ok(Some(status));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Builds the report and removes the cgroup (killing stragglers first).
    fn finish(&mut self, status: std::process::ExitStatus) -> Result<Exit, SandboxError> {
        let wall_time = self.started.elapsed();
        let status = match (status.code(), status.signal()) {
            (Some(code), _) => ExitStatus::Code(code),
            (None, Some(sig)) => ExitStatus::Signal(sig),
            (None, None) => ExitStatus::Code(-1),
        };
        let mut exit = Exit {
            status,
            oom_killed: false,
            pids_limit_hit: false,
            peak_memory_bytes: None,
            wall_time,
            terminated: self.terminated,
            backend: self.backend,
            isolation: self.isolation.clone(),
            cleanup_error: None,
        };
        if let Some(cgroup) = self.cgroup.take() {
            let stats = cgroup.stats();
            let sigkilled = matches!(status, ExitStatus::Signal(9) | ExitStatus::Code(137));
            exit.oom_killed = match stats.oom_kills {
                Some(kills) => kills > 0,
                None => {
                    stats.memory_limit_hits.unwrap_or(0) > 0
                        && sigkilled
                        && self.terminated.is_none()
                }
            };
            exit.pids_limit_hit = stats.pids_limit_hits.unwrap_or(0) > 0;
            exit.peak_memory_bytes = stats.peak_memory;
            if let Err(e) = cgroup.remove(CLEANUP_TIMEOUT) {
                exit.cleanup_error = Some(e.to_string());
            }
        }
        self.exit = Some(exit.clone());
        Ok(exit)
    }
}

impl Drop for JobHandle {
    fn drop(&mut self) {
        if self.exit.is_none() {
            let _ = self.kill();
        }
    }
}
