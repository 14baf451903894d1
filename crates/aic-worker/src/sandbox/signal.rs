//! Signals to a job's processes, and finding them without a cgroup (the process tree).

use std::collections::HashMap;
use std::fs;
use std::io;

use rustix::process::{kill_process, Pid};

use super::SandboxError;

/// The two signals the worker sends a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGTERM: checkpoint and stop.
    Term,
    /// SIGKILL.
    Kill,
}

/// Sends `signal` to `pid`; a process already gone is not an error.
pub(crate) fn send(pid: i32, signal: Signal) -> Result<(), SandboxError> {
    let Some(target) = Pid::from_raw(pid) else {
        return Ok(());
    };
    let sig = match signal {
        Signal::Term => rustix::process::Signal::TERM,
        Signal::Kill => rustix::process::Signal::KILL,
    };
    match kill_process(target, sig) {
        Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
        Err(errno) => Err(SandboxError::Signal {
            pid,
            source: io::Error::from_raw_os_error(errno.raw_os_error()),
        }),
    }
}

/// The descendants of `root` (children, their children, ...), from `/proc`. Processes that
/// were reparented away (double forks) are not found: that is what cgroups are for.
pub(crate) fn descendants(root: i32) -> Vec<i32> {
    let mut children: HashMap<i32, Vec<i32>> = HashMap::new();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(ppid) = parent_of(pid) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut found = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        for &child in children.get(&pid).into_iter().flatten() {
            found.push(child);
            todo.push(child);
        }
    }
    found
}

/// The parent pid from `/proc/<pid>/stat` (the field after the parenthesized command name).
fn parent_of(pid: i32) -> Option<i32> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_own_children() {
        let mut child = std::process::Command::new("sleep")
            .arg("5")
            .spawn()
            .expect("spawn sleep");
        let me = i32::try_from(std::process::id()).expect("pid fits");
        let pid = i32::try_from(child.id()).expect("pid fits");
        assert!(descendants(me).contains(&pid));
        send(pid, Signal::Kill).expect("kill");
        child.wait().expect("reap");
        send(i32::MAX, Signal::Term).expect("no such process is not an error");
    }
}
