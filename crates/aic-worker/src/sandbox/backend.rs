//! Which mechanisms this machine offers: how limits are enforced ([`LimitBackend`]) and whether
//! jobs are isolated ([`Isolation`]). Detected at run time, reported to the caller.

use std::fs;
use std::path::{Path, PathBuf};

/// How a job's limits are enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LimitBackend {
    /// A per-job cgroup on the unified (v2) hierarchy: memory, cpu, pids (and cpuset).
    CgroupV2,
    /// A per-job cgroup in each legacy (v1) hierarchy: memory, cpu, pids (and cpuset).
    CgroupV1,
    /// `prlimit`: `RLIMIT_AS` for memory and `RLIMIT_NPROC` for processes; no CPU limit, no
    /// OOM report, no cleanup of stray processes. The last resort.
    Rlimit,
    /// Nothing: limits are not enforced.
    None,
}

impl LimitBackend {
    /// A short name for logs and the CLI (`cgroup-v2`, `cgroup-v1`, `rlimit`, `none`).
    pub fn name(self) -> &'static str {
        match self {
            Self::CgroupV2 => "cgroup-v2",
            Self::CgroupV1 => "cgroup-v1",
            Self::Rlimit => "rlimit",
            Self::None => "none",
        }
    }
}

/// Whether and how a job is isolated from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Isolation {
    /// Bubblewrap: own mount, pid, network, ipc, uts, user and cgroup namespaces, no
    /// capabilities, no new user namespaces, only the spec's binds of the host visible.
    Bubblewrap {
        /// The `bwrap` binary used.
        program: PathBuf,
    },
    /// None: the job sees the host as the worker does (only its environment, working
    /// directory and limits are its own).
    None {
        /// Why there is no isolation.
        reason: String,
    },
}

impl Isolation {
    /// Whether the job is isolated.
    pub fn is_isolated(&self) -> bool {
        matches!(self, Self::Bubblewrap { .. })
    }
}

/// The limit backend asked for in [`SandboxConfig`](super::SandboxConfig).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LimitChoice {
    /// The best available: cgroup v2 with its controllers, else v1, else rlimits, else none.
    #[default]
    Auto,
    /// Exactly this backend, or [`SandboxError::BackendUnavailable`](super::SandboxError).
    Force(LimitBackend),
}

/// The isolation asked for in [`SandboxConfig`](super::SandboxConfig).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IsolationChoice {
    /// Bubblewrap when it is installed and works here, else none (reported with the reason).
    #[default]
    Auto,
    /// Bubblewrap or [`SandboxError::IsolationUnavailable`](super::SandboxError).
    Required,
    /// No isolation.
    Off,
}

/// The cgroup mounts of this machine, from `/proc/self/mounts`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct CgroupMounts {
    /// The cgroup2 mount point, if any.
    pub(crate) v2: Option<PathBuf>,
    /// v1 controllers and where each hierarchy is mounted.
    pub(crate) v1: Vec<(String, PathBuf)>,
}

impl CgroupMounts {
    /// Reads this process's mount table.
    pub(crate) fn read() -> Self {
        fs::read_to_string("/proc/self/mounts")
            .map(|text| Self::parse(&text))
            .unwrap_or_default()
    }

    /// Parses a mount table (`/proc/mounts` format).
    pub(crate) fn parse(text: &str) -> Self {
        let mut mounts = Self::default();
        for line in text.lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [_, point, fstype, options, ..] = fields[..] else {
                continue;
            };
            let point = PathBuf::from(unescape(point));
            match fstype {
                "cgroup2" if mounts.v2.is_none() => mounts.v2 = Some(point),
                "cgroup" => {
                    for option in options.split(',') {
                        if matches!(option, "memory" | "cpu" | "cpuset" | "pids") {
                            mounts.v1.push((option.to_owned(), point.clone()));
                        }
                    }
                }
                _ => {}
            }
        }
        mounts
    }

    /// Where v1 controller `name` is mounted.
    pub(crate) fn v1_controller(&self, name: &str) -> Option<&Path> {
        self.v1
            .iter()
            .find(|(controller, _)| controller == name)
            .map(|(_, point)| point.as_path())
    }
}

/// Undoes the octal escapes of `/proc/mounts` (`\040` for a space).
fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes
            .get(i + 1..i + 4)
            .filter(|digits| bytes[i] == b'\\' && digits.iter().all(|d| (b'0'..=b'7').contains(d)));
        if let Some(digits) = octal {
            let value = digits
                .iter()
                .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
            out.push(u8::try_from(value).unwrap_or(b'?'));
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The first executable `name` in the usual system directories.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    ["/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin"]
        .iter()
        .map(|dir| Path::new(dir).join(name))
        .find(|path| path.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_v1_and_v2_mounts() {
        let text = "cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,relatime,cpu,cpuacct 0 0\n\
                    cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0\n\
                    cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0\n\
                    cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0\n\
                    tmpfs /tmp/a\\040b tmpfs rw 0 0\n";
        let mounts = CgroupMounts::parse(text);
        assert_eq!(mounts.v2, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(
            mounts.v1_controller("cpu"),
            Some(Path::new("/sys/fs/cgroup/cpu,cpuacct"))
        );
        assert_eq!(
            mounts.v1_controller("memory"),
            Some(Path::new("/sys/fs/cgroup/memory"))
        );
        assert_eq!(mounts.v1_controller("cpuset"), None);
        assert_eq!(unescape("/tmp/a\\040b"), "/tmp/a b");
        assert_eq!(unescape("trailing\\"), "trailing\\");
    }
}
