//! What a job is: program, arguments, environment, what of the host it sees, its limits.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::SandboxError;

/// One AI job to run in its own sandbox.
///
/// # Invariants
/// Checked by [`JobSpec::validate`] (called by [`Sandbox::spawn`](super::Sandbox::spawn)):
/// the id is 1-64 of `[A-Za-z0-9._-]` not starting with `.` (it names the job's directory and
/// cgroup); every path is absolute; limits are positive.
#[derive(Clone, Debug)]
pub struct JobSpec {
    /// The job's id: names its directory under the jobs root and its cgroup.
    pub id: String,
    /// The program, by absolute path (inside the sandbox: it must be under a bound path).
    pub program: PathBuf,
    /// Its arguments.
    pub args: Vec<OsString>,
    /// The whole environment: the worker's own is never passed on. Give `PATH` if the job
    /// needs one.
    pub env: Vec<(OsString, OsString)>,
    /// Host paths the job may read (the model package, the `aic` binary, ...).
    pub ro_binds: Vec<Bind>,
    /// Host paths the job may read and write besides its own directory.
    pub rw_binds: Vec<Bind>,
    /// Unix sockets the job may connect to (the worker's job socket, the data service): with
    /// isolation, its only way out.
    pub sockets: Vec<Bind>,
    /// Device nodes the job may use (a GPU's `/dev/nvidia0`, `/dev/nvidiactl`, ...), at the
    /// same path; the sandbox's own `/dev` has only null, zero, full, random, urandom, tty.
    pub devices: Vec<PathBuf>,
    /// Resource limits.
    pub limits: Limits,
    /// Where the job's standard output goes.
    pub stdout: Output,
    /// Where the job's standard error goes.
    pub stderr: Output,
}

/// A host path made visible in the sandbox at `dest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bind {
    /// The path on the host.
    pub source: PathBuf,
    /// Where the job sees it.
    pub dest: PathBuf,
}

impl Bind {
    /// A host path seen by the job at the same path.
    pub fn same(path: impl Into<PathBuf>) -> Self {
        let path = path.into();
        Self {
            source: path.clone(),
            dest: path,
        }
    }
}

/// A job's resource limits; `None` is unlimited.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Memory (resident, including tmpfs pages it writes) in bytes. On the rlimit backend this
    /// becomes an address-space limit (`RLIMIT_AS`), which is stricter and cruder.
    pub memory_bytes: Option<u64>,
    /// CPU time as cores (1.5 = one and a half CPUs' worth of time per period). cgroups only.
    pub cpu_cores: Option<f64>,
    /// Cores to pin to, in the kernel's list syntax (`"0-3,8"`). cgroups only.
    pub cpuset: Option<String>,
    /// Processes and threads, all counted. On the rlimit backend `RLIMIT_NPROC`, which the
    /// kernel does not apply to root.
    pub pids_max: Option<u32>,
    /// Wall time: past it, the handle's waits terminate the job (SIGTERM, then SIGKILL after
    /// `term_grace`).
    pub wall_time: Option<Duration>,
    /// The grace between SIGTERM and SIGKILL when the wall time runs out.
    pub term_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: None,
            cpu_cores: None,
            cpuset: None,
            pids_max: None,
            wall_time: None,
            term_grace: Duration::from_secs(10),
        }
    }
}

/// Where one of the job's output streams goes (its standard input is always `/dev/null`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Output {
    /// Discarded.
    #[default]
    Null,
    /// A pipe the caller reads from the handle.
    Piped,
    /// Appended to a host file (opened by the worker, so it need not be visible to the job).
    File(PathBuf),
    /// The worker's own stream.
    Inherit,
}

impl JobSpec {
    /// A job running `program` with no arguments, an empty environment, nothing bound, no
    /// limits and discarded output.
    pub fn new(id: impl Into<String>, program: impl Into<PathBuf>) -> Self {
        Self {
            id: id.into(),
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            ro_binds: Vec::new(),
            rw_binds: Vec::new(),
            sockets: Vec::new(),
            devices: Vec::new(),
            limits: Limits::default(),
            stdout: Output::Null,
            stderr: Output::Null,
        }
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets one environment variable.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Shows a host path read-only at the same path.
    pub fn ro_bind(mut self, path: impl Into<PathBuf>) -> Self {
        self.ro_binds.push(Bind::same(path));
        self
    }

    /// Shows a host path read-write at the same path.
    pub fn rw_bind(mut self, path: impl Into<PathBuf>) -> Self {
        self.rw_binds.push(Bind::same(path));
        self
    }

    /// Exposes a Unix socket at the same path.
    pub fn socket(mut self, path: impl Into<PathBuf>) -> Self {
        self.sockets.push(Bind::same(path));
        self
    }

    /// Exposes a device node at the same path.
    pub fn device(mut self, path: impl Into<PathBuf>) -> Self {
        self.devices.push(path.into());
        self
    }

    /// Sets the limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets where standard output and standard error go.
    pub fn output(mut self, stdout: Output, stderr: Output) -> Self {
        self.stdout = stdout;
        self.stderr = stderr;
        self
    }

    /// Checks the spec's invariants (see the type's docs).
    pub fn validate(&self) -> Result<(), SandboxError> {
        let bad = |why: String| Err(SandboxError::InvalidSpec(why));
        if !valid_id(&self.id) {
            return bad(format!(
                "job id {:?}: want 1-64 of [A-Za-z0-9._-], not starting with '.'",
                self.id
            ));
        }
        let binds = self
            .ro_binds
            .iter()
            .chain(&self.rw_binds)
            .chain(&self.sockets);
        let paths = binds
            .flat_map(|b| [&b.source, &b.dest])
            .chain(&self.devices)
            .chain([&self.program]);
        for path in paths {
            if !path.is_absolute() {
                return bad(format!("path {path:?} is not absolute"));
            }
        }
        for (key, _) in &self.env {
            let key = key.as_encoded_bytes();
            if key.is_empty() || key.contains(&b'=') || key.contains(&0) {
                return bad(format!("environment variable name {key:?}"));
            }
        }
        let limits = &self.limits;
        if limits.memory_bytes == Some(0) || limits.pids_max == Some(0) {
            return bad("memory and pids limits must be positive".to_owned());
        }
        if let Some(cores) = limits.cpu_cores {
            if !(cores.is_finite() && cores > 0.0) {
                return bad(format!("cpu cores {cores}: want a positive number"));
            }
        }
        if let Some(set) = &limits.cpuset {
            let ok = !set.is_empty()
                && set
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b == b',' || b == b'-');
            if !ok {
                return bad(format!("cpuset {set:?}: want a list like \"0-3,8\""));
            }
        }
        Ok(())
    }
}

/// Whether `id` may name a job (and so a directory and a cgroup).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// The directory of job `id` under `jobs_root`.
pub(crate) fn job_dir(jobs_root: &Path, id: &str) -> PathBuf {
    jobs_root.join(id)
}
