//! The sandbox's one error type.

use std::io;
use std::path::PathBuf;

use super::LimitBackend;

/// Why a job could not be set up, started, waited for or signalled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The job spec is malformed (bad id, relative path, non-positive limit, ...).
    #[error("invalid job spec: {0}")]
    InvalidSpec(String),
    /// A bind's source does not exist on the host.
    #[error("bind source {0:?} does not exist")]
    MissingBindSource(PathBuf),
    /// The jobs root or the job's own directory could not be created.
    #[error("job directory {path:?}: {source}")]
    JobDir {
        /// The directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The configuration forces a limit backend this machine does not offer.
    #[error("limit backend {backend:?} unavailable: {reason}")]
    BackendUnavailable {
        /// The backend asked for.
        backend: LimitBackend,
        /// Why it cannot be used.
        reason: String,
    },
    /// Isolation is required but bubblewrap is missing or does not work here.
    #[error("isolation required but unavailable: {0}")]
    IsolationUnavailable(String),
    /// A cgroup file or directory could not be created, written or removed.
    #[error("cgroup {path:?}: {source}")]
    Cgroup {
        /// The cgroup file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A job with this id still has live processes in its cgroup.
    #[error("job {0:?} is already running (its cgroup has live processes)")]
    AlreadyRunning(String),
    /// The process could not be started.
    #[error("starting {program:?}: {source}")]
    Spawn {
        /// The program run on the host (the wrapper shell, prlimit, bwrap or the job).
        program: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// An output file for the job could not be opened.
    #[error("job output {path:?}: {source}")]
    Output {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Waiting for the job's process failed.
    #[error("waiting for the job: {0}")]
    Wait(#[source] io::Error),
    /// A signal could not be delivered.
    #[error("signalling pid {pid}: {source}")]
    Signal {
        /// The process.
        pid: i32,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}
