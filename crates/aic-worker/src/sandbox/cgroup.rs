//! Per-job cgroups on v2 or v1: the parent `aic-worker/` made once, a child per job with its
//! limits written before the job joins, the job's memory and pids events read after it ends,
//! and the child removed (stragglers killed first).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use super::backend::CgroupMounts;
use super::signal::{self, Signal};
use super::{LimitBackend, Limits, SandboxError};

/// The CFS period used for CPU quotas (100 ms, the kernel's default).
const CPU_PERIOD_US: u64 = 100_000;

/// The parent cgroup(s) jobs are created under, ready to take children.
#[derive(Clone, Debug)]
pub(crate) enum Layout {
    /// One directory on the unified hierarchy, its controllers enabled for children.
    V2 {
        /// `<mount>/<parent>`.
        parent: PathBuf,
        /// Whether the cpuset controller is enabled.
        cpuset: bool,
    },
    /// One directory per v1 hierarchy.
    V1 {
        /// `<memory mount>/<parent>`.
        memory: PathBuf,
        /// `<cpu mount>/<parent>`.
        cpu: PathBuf,
        /// `<pids mount>/<parent>`.
        pids: PathBuf,
        /// `<cpuset mount>/<parent>`, with its cpus and mems filled, if usable.
        cpuset: Option<PathBuf>,
    },
}

impl Layout {
    /// Sets up `<cgroup2 mount>/<parent>` if the unified hierarchy has the memory, cpu and pids
    /// controllers and they can be enabled for it; else says why not.
    pub(crate) fn v2(mounts: &CgroupMounts, parent: &str) -> Result<Self, String> {
        let mount = mounts.v2.as_deref().ok_or("no cgroup2 mount")?;
        let available = fs::read_to_string(mount.join("cgroup.controllers")).unwrap_or_default();
        let available: Vec<&str> = available.split_whitespace().collect();
        let missing: Vec<&str> = ["memory", "cpu", "pids"]
            .into_iter()
            .filter(|c| !available.contains(c))
            .collect();
        if !missing.is_empty() {
            return Err(format!(
                "cgroup2 at {} lacks the {} controller(s)",
                mount.display(),
                missing.join(", ")
            ));
        }
        let cpuset = available.contains(&"cpuset");
        let mut wanted = vec!["memory", "cpu", "pids"];
        if cpuset {
            wanted.push("cpuset");
        }
        let dir = mount.join(parent);
        let why = |what: &str, e: io::Error| format!("cgroup2 {what}: {e}");
        make_dir(&dir).map_err(|e| why(&format!("mkdir {}", dir.display()), e))?;
        for level in [mount, dir.as_path()] {
            enable_controllers(level, &wanted)
                .map_err(|e| why(&format!("enabling controllers in {}", level.display()), e))?;
        }
        Ok(Self::V2 {
            parent: dir,
            cpuset,
        })
    }

    /// Sets up `<controller mount>/<parent>` for the v1 memory, cpu and pids hierarchies (and
    /// cpuset where mounted); else says why not.
    pub(crate) fn v1(mounts: &CgroupMounts, parent: &str) -> Result<Self, String> {
        let mut dirs = Vec::new();
        for controller in ["memory", "cpu", "pids"] {
            let mount = mounts
                .v1_controller(controller)
                .ok_or_else(|| format!("no cgroup v1 {controller} hierarchy mounted"))?;
            let dir = mount.join(parent);
            make_dir(&dir).map_err(|e| format!("cgroup v1 mkdir {}: {e}", dir.display()))?;
            dirs.push(dir);
        }
        let cpuset = mounts
            .v1_controller("cpuset")
            .and_then(|mount| v1_cpuset_parent(mount, parent).ok());
        let [memory, cpu, pids] = <[PathBuf; 3]>::try_from(dirs).map_err(|_| "unreachable")?;
        Ok(Self::V1 {
            memory,
            cpu,
            pids,
            cpuset,
        })
    }

    /// The backend this layout is.
    pub(crate) fn backend(&self) -> LimitBackend {
        match self {
            Self::V2 { .. } => LimitBackend::CgroupV2,
            Self::V1 { .. } => LimitBackend::CgroupV1,
        }
    }

    /// Creates job `id`'s cgroup with `limits` written; no process is in it yet.
    pub(crate) fn create_job(&self, id: &str, limits: &Limits) -> Result<JobCgroup, SandboxError> {
        let job = match self {
            Self::V2 { parent, cpuset } => {
                if limits.cpuset.is_some() && !cpuset {
                    return Err(SandboxError::InvalidSpec(
                        "a cpuset was asked for but cgroup2 has no cpuset controller".to_owned(),
                    ));
                }
                let dir = parent.join(id);
                JobCgroup {
                    v2: true,
                    memory: dir.clone(),
                    cpu: dir.clone(),
                    pids: dir.clone(),
                    cpuset: limits.cpuset.as_ref().map(|_| dir.clone()),
                }
            }
            Self::V1 {
                memory,
                cpu,
                pids,
                cpuset,
            } => {
                let cpuset = match (&limits.cpuset, cpuset) {
                    (None, _) => None,
                    (Some(_), Some(parent)) => Some(parent.join(id)),
                    (Some(_), None) => {
                        return Err(SandboxError::InvalidSpec(
                            "a cpuset was asked for but no usable cgroup v1 cpuset hierarchy"
                                .to_owned(),
                        ))
                    }
                };
                JobCgroup {
                    v2: false,
                    memory: memory.join(id),
                    cpu: cpu.join(id),
                    pids: pids.join(id),
                    cpuset,
                }
            }
        };
        for dir in job.dirs() {
            if dir.exists() {
                if !read_pids(&dir).is_empty() {
                    return Err(SandboxError::AlreadyRunning(id.to_owned()));
                }
                // Left by a worker that died: empty, so safe to remove and make afresh.
                fs::remove_dir(&dir).map_err(|source| cgroup_error(&dir, source))?;
            }
            if let Err(source) = fs::create_dir(&dir) {
                job.remove_dirs();
                return Err(cgroup_error(&dir, source));
            }
        }
        if let Err(e) = job.write_limits(limits) {
            job.remove_dirs();
            return Err(e);
        }
        Ok(job)
    }
}

/// One job's cgroup: a directory per hierarchy on v1, one directory (named four times) on v2.
#[derive(Clone, Debug)]
pub(crate) struct JobCgroup {
    v2: bool,
    memory: PathBuf,
    cpu: PathBuf,
    pids: PathBuf,
    cpuset: Option<PathBuf>,
}

/// What a job's cgroup recorded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CgroupStats {
    /// Kills by the OOM killer in the cgroup (`oom_kill`), where the kernel reports it.
    pub(crate) oom_kills: Option<u64>,
    /// Times the memory limit was hit (v1 `memory.failcnt`, v2 `memory.events` `max`).
    pub(crate) memory_limit_hits: Option<u64>,
    /// The peak memory use in bytes (v1 `memory.max_usage_in_bytes`, v2 `memory.peak`).
    pub(crate) peak_memory: Option<u64>,
    /// Forks refused by the pids limit (`pids.events` `max`).
    pub(crate) pids_limit_hits: Option<u64>,
}

impl JobCgroup {
    /// Its distinct directories.
    pub(crate) fn dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.memory.clone()];
        for dir in [Some(&self.cpu), Some(&self.pids), self.cpuset.as_ref()]
            .into_iter()
            .flatten()
        {
            if !dirs.contains(dir) {
                dirs.push(dir.clone());
            }
        }
        dirs
    }

    /// The `cgroup.procs` files a process writes its pid to, to join.
    pub(crate) fn procs_files(&self) -> Vec<PathBuf> {
        self.dirs().iter().map(|d| d.join("cgroup.procs")).collect()
    }

    /// The processes in it now.
    pub(crate) fn pids(&self) -> Vec<i32> {
        read_pids(&self.pids)
    }

    fn write_limits(&self, limits: &Limits) -> Result<(), SandboxError> {
        let quota = limits
            .cpu_cores
            .map(|cores| ((cores * CPU_PERIOD_US as f64).round() as u64).max(1_000));
        if self.v2 {
            let dir = &self.memory;
            if let Some(bytes) = limits.memory_bytes {
                write(&dir.join("memory.max"), &bytes.to_string())?;
                // No swapping around the limit: over it, the job is killed.
                write_if_present(&dir.join("memory.swap.max"), "0")?;
            }
            if let Some(quota) = quota {
                write(&dir.join("cpu.max"), &format!("{quota} {CPU_PERIOD_US}"))?;
            }
            if let Some(max) = limits.pids_max {
                write(&dir.join("pids.max"), &max.to_string())?;
            }
            if let Some(set) = &limits.cpuset {
                write(&dir.join("cpuset.cpus"), set)?;
            }
        } else {
            if let Some(bytes) = limits.memory_bytes {
                write(
                    &self.memory.join("memory.limit_in_bytes"),
                    &bytes.to_string(),
                )?;
                // memory+swap no higher than memory: over the limit, the job is killed.
                write_if_present(
                    &self.memory.join("memory.memsw.limit_in_bytes"),
                    &bytes.to_string(),
                )?;
            }
            if let Some(quota) = quota {
                write(
                    &self.cpu.join("cpu.cfs_period_us"),
                    &CPU_PERIOD_US.to_string(),
                )?;
                write(&self.cpu.join("cpu.cfs_quota_us"), &quota.to_string())?;
            }
            if let Some(max) = limits.pids_max {
                write(&self.pids.join("pids.max"), &max.to_string())?;
            }
            if let (Some(set), Some(dir)) = (&limits.cpuset, &self.cpuset) {
                write(&dir.join("cpuset.cpus"), set)?;
                let parent_mems = dir.parent().map(|p| p.join("cpuset.mems"));
                let mems = parent_mems
                    .and_then(|p| fs::read_to_string(p).ok())
                    .unwrap_or_default();
                write(&dir.join("cpuset.mems"), mems.trim())?;
            }
        }
        Ok(())
    }

    /// Reads what the cgroup recorded (call after the job ended, before [`Self::remove`]).
    pub(crate) fn stats(&self) -> CgroupStats {
        let read = |dir: &Path, file: &str| fs::read_to_string(dir.join(file)).ok();
        let number = |text: Option<String>| text.and_then(|t| t.trim().parse::<u64>().ok());
        if self.v2 {
            let events = read(&self.memory, "memory.events");
            CgroupStats {
                oom_kills: events.as_deref().and_then(|e| keyed(e, "oom_kill")),
                memory_limit_hits: events.as_deref().and_then(|e| keyed(e, "max")),
                peak_memory: number(read(&self.memory, "memory.peak")),
                pids_limit_hits: read(&self.pids, "pids.events").and_then(|e| keyed(&e, "max")),
            }
        } else {
            CgroupStats {
                oom_kills: read(&self.memory, "memory.oom_control")
                    .and_then(|c| keyed(&c, "oom_kill")),
                memory_limit_hits: number(read(&self.memory, "memory.failcnt")),
                peak_memory: number(read(&self.memory, "memory.max_usage_in_bytes")),
                pids_limit_hits: read(&self.pids, "pids.events").and_then(|e| keyed(&e, "max")),
            }
        }
    }

    /// Sends SIGKILL to every process in it (v2: through `cgroup.kill` where the kernel has
    /// it, which also catches processes forking meanwhile).
    pub(crate) fn kill_all(&self) {
        if self.v2 {
            let _ = fs::write(self.memory.join("cgroup.kill"), "1");
        }
        for pid in self.pids() {
            let _ = signal::send(pid, Signal::Kill);
        }
    }

    /// Kills what is left in it and removes its directories, retrying until `timeout`.
    pub(crate) fn remove(&self, timeout: Duration) -> Result<(), SandboxError> {
        let deadline = Instant::now() + timeout;
        loop {
            self.kill_all();
            let mut last_error = None;
            for dir in self.dirs() {
                match fs::remove_dir(&dir) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => last_error = Some((dir, e)),
                }
            }
            match last_error {
                None => return Ok(()),
                Some((dir, source)) if Instant::now() >= deadline => {
                    return Err(cgroup_error(&dir, source))
                }
                Some(_) => thread::sleep(Duration::from_millis(10)),
            }
        }
    }

    /// Best-effort removal of its directories (nothing has joined them yet).
    fn remove_dirs(&self) {
        for dir in self.dirs() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// The value of `key` in a flat-keyed cgroup file (`key value` lines).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let (k, v) = line.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

fn read_pids(dir: &Path) -> Vec<i32> {
    fs::read_to_string(dir.join("cgroup.procs"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

fn cgroup_error(path: &Path, source: io::Error) -> SandboxError {
    SandboxError::Cgroup {
        path: path.to_owned(),
        source,
    }
}

fn write(path: &Path, value: &str) -> Result<(), SandboxError> {
    fs::write(path, value).map_err(|source| cgroup_error(path, source))
}

fn write_if_present(path: &Path, value: &str) -> Result<(), SandboxError> {
    if path.exists() {
        write(path, value)
    } else {
        Ok(())
    }
}

fn make_dir(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

/// Enables `controllers` for the children of `dir` (one write each, so one the kernel
/// already has enabled or refuses is named in the error).
fn enable_controllers(dir: &Path, controllers: &[&str]) -> io::Result<()> {
    let file = dir.join("cgroup.subtree_control");
    let enabled = fs::read_to_string(&file)?;
    for controller in controllers {
        if !enabled.split_whitespace().any(|c| c == *controller) {
            fs::write(&file, format!("+{controller}"))
                .map_err(|e| io::Error::new(e.kind(), format!("+{controller}: {e}")))?;
        }
    }
    Ok(())
}

/// A v1 cpuset child takes no task until its cpus and mems are set: fill the parent's from the
/// hierarchy's root.
fn v1_cpuset_parent(mount: &Path, parent: &str) -> io::Result<PathBuf> {
    let dir = mount.join(parent);
    make_dir(&dir)?;
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let current = fs::read_to_string(dir.join(file))?;
        if current.trim().is_empty() {
            let root = fs::read_to_string(mount.join(file))?;
            fs::write(dir.join(file), root.trim())?;
        }
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_keyed_files() {
        let events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(keyed(events, "oom_kill"), Some(1));
        assert_eq!(keyed(events, "max"), Some(12));
        assert_eq!(keyed(events, "absent"), None);
        let control = "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n";
        assert_eq!(keyed(control, "oom_kill"), Some(3));
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    fn limits() -> Limits {
        Limits {
            memory_bytes: Some(64 << 20),
            cpu_cores: Some(1.5),
            cpuset: Some("0-1".to_owned()),
            pids_max: Some(16),
            ..Limits::default()
        }
    }

    /// The v2 file protocol against a fake hierarchy of plain files (this machine's real
    /// cgroup2 mount has no controllers, so the real v2 path is only run where it has).
    #[test]
    fn v2_writes_the_unified_files() {
        let root = tempfile::tempdir().expect("temp dir");
        let mount = root.path();
        fs::write(
            mount.join("cgroup.controllers"),
            "cpuset cpu io memory pids\n",
        )
        .expect("w");
        fs::write(mount.join("cgroup.subtree_control"), "").expect("w");
        let mounts = CgroupMounts {
            v2: Some(mount.to_owned()),
            v1: Vec::new(),
        };
        fs::create_dir(mount.join("aic-worker")).expect("mkdir");
        fs::write(mount.join("aic-worker/cgroup.subtree_control"), "").expect("w");
        let layout = Layout::v2(&mounts, "aic-worker").expect("v2 layout");
        assert_eq!(layout.backend(), LimitBackend::CgroupV2);
        // One write per controller; the fake file keeps the last.
        assert_eq!(read(&mount.join("cgroup.subtree_control")), "+cpuset");
        let job = layout.create_job("job-1", &limits()).expect("job cgroup");
        let dir = mount.join("aic-worker/job-1");
        assert_eq!(job.dirs(), std::slice::from_ref(&dir));
        assert_eq!(job.procs_files(), [dir.join("cgroup.procs")]);
        assert_eq!(read(&dir.join("memory.max")), (64u64 << 20).to_string());
        assert_eq!(read(&dir.join("cpu.max")), "150000 100000");
        assert_eq!(read(&dir.join("pids.max")), "16");
        assert_eq!(read(&dir.join("cpuset.cpus")), "0-1");
        fs::write(
            dir.join("memory.events"),
            "low 0\nhigh 0\nmax 40\noom 1\noom_kill 1\n",
        )
        .expect("w");
        fs::write(dir.join("memory.peak"), "67100000\n").expect("w");
        fs::write(dir.join("pids.events"), "max 0\n").expect("w");
        let stats = job.stats();
        assert_eq!(stats.oom_kills, Some(1));
        assert_eq!(stats.memory_limit_hits, Some(40));
        assert_eq!(stats.peak_memory, Some(67_100_000));
        assert_eq!(stats.pids_limit_hits, Some(0));
    }

    #[test]
    fn v2_without_controllers_is_refused_with_the_reason() {
        let root = tempfile::tempdir().expect("temp dir");
        fs::write(root.path().join("cgroup.controllers"), "").expect("w");
        let mounts = CgroupMounts {
            v2: Some(root.path().to_owned()),
            v1: Vec::new(),
        };
        let why = Layout::v2(&mounts, "aic-worker").expect_err("no controllers");
        assert!(why.contains("memory, cpu, pids"), "{why}");
    }

    #[test]
    fn v1_writes_each_hierarchy() {
        let root = tempfile::tempdir().expect("temp dir");
        let mut v1 = Vec::new();
        for controller in ["memory", "cpu", "pids", "cpuset"] {
            let mount = root.path().join(controller);
            fs::create_dir(&mount).expect("mkdir");
            v1.push((controller.to_owned(), mount));
        }
        let cpuset = root.path().join("cpuset");
        fs::write(cpuset.join("cpuset.cpus"), "0-3\n").expect("w");
        fs::write(cpuset.join("cpuset.mems"), "0\n").expect("w");
        fs::create_dir(cpuset.join("aic-worker")).expect("mkdir");
        fs::write(cpuset.join("aic-worker/cpuset.cpus"), "").expect("w");
        fs::write(cpuset.join("aic-worker/cpuset.mems"), "").expect("w");
        let mounts = CgroupMounts { v2: None, v1 };
        let layout = Layout::v1(&mounts, "aic-worker").expect("v1 layout");
        assert_eq!(layout.backend(), LimitBackend::CgroupV1);
        assert_eq!(read(&cpuset.join("aic-worker/cpuset.cpus")), "0-3");
        let job = layout.create_job("job-1", &limits()).expect("job cgroup");
        let at = |controller: &str, file: &str| {
            read(
                &root
                    .path()
                    .join(controller)
                    .join("aic-worker/job-1")
                    .join(file),
            )
        };
        assert_eq!(job.dirs().len(), 4);
        assert_eq!(
            at("memory", "memory.limit_in_bytes"),
            (64u64 << 20).to_string()
        );
        assert_eq!(at("cpu", "cpu.cfs_quota_us"), "150000");
        assert_eq!(at("cpu", "cpu.cfs_period_us"), "100000");
        assert_eq!(at("pids", "pids.max"), "16");
        assert_eq!(at("cpuset", "cpuset.cpus"), "0-1");
        assert_eq!(at("cpuset", "cpuset.mems"), "0");
        // Without a cpuset the job stays out of that hierarchy.
        let plain = Limits {
            cpuset: None,
            ..limits()
        };
        let job = layout.create_job("job-2", &plain).expect("job cgroup");
        assert_eq!(job.dirs().len(), 3);
    }
}
