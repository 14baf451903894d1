//! Each AI job in its own isolated, limited process.
//!
//! A [`Sandbox`] is made once per worker: it detects how limits can be enforced
//! ([`LimitBackend`]: a per-job cgroup on v2 where its controllers exist, else v1, else
//! rlimits through `prlimit`) and whether jobs can be isolated ([`Isolation`]: bubblewrap when
//! installed and working, else none, with the reason). Both are reported, never assumed.
//!
//! [`Sandbox::spawn`] runs a [`JobSpec`] in its own directory under the jobs root, with a
//! cleared environment, and returns a [`JobHandle`]: wait with a timeout, [`terminate`]
//! (SIGTERM, a grace period for the job to checkpoint, then SIGKILL), and an [`Exit`] report
//! (code or signal, OOM kill, peak memory, wall time, whether the worker ended it).
//!
//! # Joining the cgroup without a race
//! The job's cgroup is made and its limits written before anything starts. The process the
//! worker spawns is a tiny `/bin/sh` wrapper that writes its own pid into the cgroup's
//! `cgroup.procs` file(s) and then `exec`s bubblewrap (or the job): by the time any process of
//! the job exists, and before anything can fork, the wrapper is inside the cgroup, so every
//! descendant is born there. Writing the child's pid from the worker after `spawn` would
//! leave a window in which bubblewrap or the job may already have forked outside it. The
//! wrapper exits with code 125 if it cannot join.
//!
//! [`terminate`]: JobHandle::terminate

mod backend;
mod bwrap;
mod cgroup;
mod error;
mod handle;
mod signal;
mod spec;

use std::ffi::OsString;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::Read;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::Instant;

pub use backend::{Isolation, IsolationChoice, LimitBackend, LimitChoice};
pub use error::SandboxError;
pub use handle::{Exit, ExitStatus, JobHandle, Termination, TerminationReason};
pub use spec::{valid_id, Bind, JobSpec, Limits, Output};

use backend::CgroupMounts;
use cgroup::Layout;

/// The shell wrapper: joins every cgroup named before `--`, then becomes the rest.
const JOIN_SCRIPT: &str =
    r#"while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@""#;

/// How to make a [`Sandbox`].
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Where job directories are made (`<jobs_root>/<job id>`).
    pub jobs_root: PathBuf,
    /// The parent cgroup's name under each hierarchy's root.
    pub cgroup_parent: String,
    /// Which limit backend to use.
    pub limits: LimitChoice,
    /// Whether to isolate.
    pub isolation: IsolationChoice,
}

impl SandboxConfig {
    /// Jobs under `jobs_root`, cgroups under `aic-worker/`, the best backend and isolation
    /// available.
    pub fn new(jobs_root: impl Into<PathBuf>) -> Self {
        Self {
            jobs_root: jobs_root.into(),
            cgroup_parent: "aic-worker".to_owned(),
            limits: LimitChoice::Auto,
            isolation: IsolationChoice::Auto,
        }
    }
}

/// Runs jobs isolated and limited by what this machine offers (see the module docs).
#[derive(Clone, Debug)]
pub struct Sandbox {
    jobs_root: PathBuf,
    layout: Option<Layout>,
    backend: LimitBackend,
    backend_notes: Vec<String>,
    prlimit: Option<PathBuf>,
    isolation: Isolation,
}

/// A job run to its end by [`Sandbox::run`].
#[derive(Clone, Debug)]
pub struct Finished {
    /// The exit report.
    pub exit: Exit,
    /// Everything it wrote to standard output.
    pub stdout: Vec<u8>,
    /// Everything it wrote to standard error.
    pub stderr: Vec<u8>,
}

impl Sandbox {
    /// Detects the backends, sets up the parent cgroup and the jobs root.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        if !valid_id(&config.cgroup_parent) {
            return Err(SandboxError::InvalidSpec(format!(
                "cgroup parent {:?}: want 1-64 of [A-Za-z0-9._-]",
                config.cgroup_parent
            )));
        }
        make_private_dir(&config.jobs_root)?;
        let mounts = CgroupMounts::read();
        let prlimit = backend::find_program("prlimit");
        let mut notes = Vec::new();
        let mut layout = None;
        let try_v2 = matches!(
            config.limits,
            LimitChoice::Auto | LimitChoice::Force(LimitBackend::CgroupV2)
        );
        let try_v1 = matches!(
            config.limits,
            LimitChoice::Auto | LimitChoice::Force(LimitBackend::CgroupV1)
        );
        if try_v2 {
            match Layout::v2(&mounts, &config.cgroup_parent) {
                Ok(l) => layout = Some(l),
                Err(why) => notes.push(why),
            }
        }
        if layout.is_none() && try_v1 {
            match Layout::v1(&mounts, &config.cgroup_parent) {
                Ok(l) => layout = Some(l),
                Err(why) => notes.push(why),
            }
        }
        let backend = match (&layout, config.limits) {
            (Some(l), _) => l.backend(),
            (None, LimitChoice::Auto | LimitChoice::Force(LimitBackend::Rlimit)) => {
                if prlimit.is_some() {
                    LimitBackend::Rlimit
                } else {
                    notes.push("prlimit not found".to_owned());
                    LimitBackend::None
                }
            }
            (None, LimitChoice::Force(_)) => LimitBackend::None,
        };
        if let LimitChoice::Force(wanted) = config.limits {
            if wanted != backend {
                return Err(SandboxError::BackendUnavailable {
                    backend: wanted,
                    reason: notes.join("; "),
                });
            }
        }
        let isolation = detect_isolation(config.isolation, &config.jobs_root)?;
        Ok(Self {
            jobs_root: config.jobs_root,
            layout,
            backend,
            backend_notes: notes,
            prlimit,
            isolation,
        })
    }

    /// How limits are enforced.
    pub fn backend(&self) -> LimitBackend {
        self.backend
    }

    /// Why better backends were not used (empty when cgroup v2 is).
    pub fn backend_notes(&self) -> &[String] {
        &self.backend_notes
    }

    /// How jobs are isolated.
    pub fn isolation(&self) -> &Isolation {
        &self.isolation
    }

    /// The directory job `id` gets (made by [`Self::spawn`], kept after the job for its
    /// outputs and checkpoints).
    pub fn job_dir(&self, id: &str) -> PathBuf {
        spec::job_dir(&self.jobs_root, id)
    }

    /// Starts `spec`'s job.
    pub fn spawn(&self, spec: &JobSpec) -> Result<JobHandle, SandboxError> {
        spec.validate()?;
        if self.isolation.is_isolated() {
            let binds = spec
                .ro_binds
                .iter()
                .chain(&spec.rw_binds)
                .chain(&spec.sockets);
            let mut sources = binds.map(|b| &b.source).chain(&spec.devices);
            if let Some(missing) = sources.find(|p| !p.exists()) {
                return Err(SandboxError::MissingBindSource(missing.clone()));
            }
        }
        let job_dir = self.job_dir(&spec.id);
        make_private_dir(&job_dir)?;
        let cgroup = match &self.layout {
            Some(layout) => Some(layout.create_job(&spec.id, &spec.limits)?),
            None => None,
        };
        let mut command = self.command(spec, &job_dir, cgroup.as_ref());
        let stdio = |output: &Output| -> Result<Stdio, SandboxError> {
            Ok(match output {
                Output::Null => Stdio::null(),
                Output::Piped => Stdio::piped(),
                Output::Inherit => Stdio::inherit(),
                Output::File(path) => OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|source| SandboxError::Output {
                        path: path.clone(),
                        source,
                    })?
                    .into(),
            })
        };
        let spawned = stdio(&spec.stdout).and_then(|out| {
            let err = stdio(&spec.stderr)?;
            command
                .stdin(Stdio::null())
                .stdout(out)
                .stderr(err)
                .spawn()
                .map_err(|source| SandboxError::Spawn {
                    program: PathBuf::from(command.get_program()),
                    source,
                })
        });
        let child = match spawned {
            Ok(child) => child,
            Err(e) => {
                if let Some(cgroup) = &cgroup {
                    let _ = cgroup.remove(std::time::Duration::from_secs(1));
                }
                return Err(e);
            }
        };
        Ok(JobHandle {
            child,
            started: Instant::now(),
            cgroup,
            backend: self.backend,
            isolation: self.isolation.clone(),
            job_dir,
            wall_time: spec.limits.wall_time,
            term_grace: spec.limits.term_grace,
            terminated: None,
            exit: None,
        })
    }

    /// Runs `spec`'s job to its end (or its wall time), collecting its output.
    pub fn run(&self, spec: &JobSpec) -> Result<Finished, SandboxError> {
        let spec = spec.clone().output(Output::Piped, Output::Piped);
        let mut handle = self.spawn(&spec)?;
        let reader = |stream: Option<Box<dyn Read + Send>>| {
            thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut stream) = stream {
                    let _ = stream.read_to_end(&mut bytes);
                }
                bytes
            })
        };
        let stdout = reader(
            handle
                .take_stdout()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let stderr = reader(
            handle
                .take_stderr()
                .map(|s| Box::new(s) as Box<dyn Read + Send>),
        );
        let exit = handle.wait()?;
        Ok(Finished {
            exit,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }

    /// The host command: [join wrapper] [prlimit] [bwrap ...] program args.
    fn command(
        &self,
        spec: &JobSpec,
        job_dir: &Path,
        cgroup: Option<&cgroup::JobCgroup>,
    ) -> Command {
        let mut argv: Vec<OsString> = Vec::new();
        if let Some(cgroup) = cgroup {
            argv.extend([
                "/bin/sh".into(),
                "-c".into(),
                JOIN_SCRIPT.into(),
                "aic-job".into(),
            ]);
            argv.extend(cgroup.procs_files().into_iter().map(OsString::from));
            argv.push("--".into());
        }
        if let (LimitBackend::Rlimit, Some(prlimit)) = (self.backend, &self.prlimit) {
            argv.push(prlimit.into());
            if let Some(bytes) = spec.limits.memory_bytes {
                argv.push(format!("--as={bytes}").into());
            }
            if let Some(max) = spec.limits.pids_max {
                argv.push(format!("--nproc={max}").into());
            }
            argv.push("--".into());
        }
        match &self.isolation {
            Isolation::Bubblewrap { program } => {
                argv.push(program.into());
                argv.extend(bwrap::args(spec, job_dir));
            }
            Isolation::None { .. } => {
                argv.push(spec.program.clone().into());
                argv.extend(spec.args.iter().cloned());
            }
        }
        let mut command = Command::new(&argv[0]);
        command.args(&argv[1..]).env_clear().current_dir(job_dir);
        if !self.isolation.is_isolated() {
            command.envs(spec.env.iter().map(|(k, v)| (k, v)));
        }
        command
    }
}

fn detect_isolation(choice: IsolationChoice, scratch: &Path) -> Result<Isolation, SandboxError> {
    if choice == IsolationChoice::Off {
        return Ok(Isolation::None {
            reason: "isolation turned off in the configuration".to_owned(),
        });
    }
    let found = match bwrap::find() {
        None => Err("bubblewrap (bwrap) is not installed".to_owned()),
        Some(program) => bwrap::probe(&program, scratch).map(|()| program),
    };
    match (found, choice) {
        (Ok(program), _) => Ok(Isolation::Bubblewrap { program }),
        (Err(reason), IsolationChoice::Required) => Err(SandboxError::IsolationUnavailable(reason)),
        (Err(reason), _) => Ok(Isolation::None { reason }),
    }
}

/// Makes `dir` (and its parents) with mode 0700 if missing.
fn make_private_dir(dir: &Path) -> Result<(), SandboxError> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .and_then(|()| fs::metadata(dir).map(|_| ()))
        .map_err(|source| SandboxError::JobDir {
            path: dir.to_owned(),
            source,
        })
}
