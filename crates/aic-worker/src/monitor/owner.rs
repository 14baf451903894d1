//! The owner's load on the CPU: the busy time of every process that is not this worker or one
//! of its descendants (its miner threads, its jobs and their sandboxes), as a fraction of all
//! CPU time between two readings. It feeds the switcher's owner-activity rule.

use std::collections::HashMap;

use super::procfs::read_stat;

/// `utime + stime` (fields 14 and 15) and the parent pid (field 4) of a `/proc/PID/stat` line,
/// in clock ticks (the unit of `/proc/stat`).
fn parse_pid_stat(text: &str) -> Option<(u32, u64)> {
    // The command name (field 2) is in parentheses and may hold spaces: split after it.
    let rest = &text[text.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state): ppid is field 4, utime 14, stime 15.
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((ppid, utime + stime))
}

/// CPU ticks used so far by process `root` and all its descendants that are alive now.
pub(crate) fn tree_ticks(root: u32) -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let mut procs: HashMap<u32, (u32, u64)> = HashMap::new();
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        if let Some(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|t| parse_pid_stat(&t))
        {
            procs.insert(pid, stat);
        }
    }
    procs
        .iter()
        .filter(|(&pid, _)| descends_from(pid, root, &procs))
        .map(|(_, &(_, ticks))| ticks)
        .sum()
}

fn descends_from(mut pid: u32, root: u32, procs: &HashMap<u32, (u32, u64)>) -> bool {
    // Bounded: a pid table is a tree, but a racy read could show a cycle.
    for _ in 0..64 {
        if pid == root {
            return true;
        }
        match procs.get(&pid) {
            Some(&(ppid, _)) if ppid != 0 && ppid != pid => pid = ppid,
            _ => return false,
        }
    }
    false
}

/// Samples the owner's load: each call returns the fraction of all CPU time since the last
/// call that other processes kept busy.
#[derive(Debug)]
pub struct OwnerLoad {
    root: u32,
    last: Option<(u64, u64, u64)>,
}

impl Default for OwnerLoad {
    fn default() -> Self {
        Self::new()
    }
}

impl OwnerLoad {
    /// Counts this process and its descendants as the worker's own.
    pub fn new() -> Self {
        Self::for_root(std::process::id())
    }

    /// Counts `root` and its descendants as the worker's own.
    pub fn for_root(root: u32) -> Self {
        Self { root, last: None }
    }

    /// The owner's load since the previous call (0 to 1); `None` on the first call or where
    /// `/proc` cannot be read. Processes that ended in between are missed by both counters'
    /// differences only for their last interval.
    pub fn sample(&mut self) -> Option<f64> {
        let cpu = read_stat().into_iter().next()?;
        let own = tree_ticks(self.root);
        let now = (cpu.busy, cpu.total, own);
        let before = self.last.replace(now)?;
        owner_fraction(before, now)
    }
}

/// The owner's share of CPU time between two readings of (busy ticks, total ticks, the
/// worker's own ticks).
fn owner_fraction(before: (u64, u64, u64), now: (u64, u64, u64)) -> Option<f64> {
    let total = now.1.checked_sub(before.1).filter(|&t| t > 0)?;
    let busy = now.0.saturating_sub(before.0);
    let own = now.2.saturating_sub(before.2);
    Some((busy.saturating_sub(own) as f64 / total as f64).clamp(0.0, 1.0))
}

/// The aggregate busy/total ticks of a `/proc/stat` text (for tests).
#[cfg(test)]
fn aggregate(text: &str) -> Option<(u64, u64)> {
    super::procfs::parse_stat(text)
        .first()
        .map(|l| (l.busy, l.total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_pid_stat_line_with_spaces_in_the_name() {
        let line =
            "1234 (my (odd) name) S 99 1234 1234 0 -1 4194560 100 0 0 0 70 30 5 6 20 0 4 0 1 2 3";
        assert_eq!(parse_pid_stat(line), Some((99, 100)));
        assert_eq!(parse_pid_stat("garbage"), None);
        assert_eq!(aggregate("cpu 1 0 1 8 0 0 0 0\n"), Some((2, 10)));
    }

    fn spin(for_: Duration) {
        let until = Instant::now() + for_;
        let mut x = 0u64;
        while Instant::now() < until {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        std::hint::black_box(x);
    }

    #[test]
    fn the_workers_own_time_is_taken_out_of_the_busy_time() {
        // busy 300 of 1000 ticks, 200 of them the worker's: the owner's load is 0.1.
        let f = owner_fraction((1000, 5000, 50), (1300, 6000, 250)).unwrap();
        assert!((f - 0.1).abs() < 1e-12, "{f}");
        // The worker's time can only lower the load to zero, never below.
        assert_eq!(owner_fraction((0, 0, 0), (100, 1000, 500)), Some(0.0));
        assert_eq!(
            owner_fraction((0, 10, 0), (0, 10, 0)),
            None,
            "no time passed"
        );
    }

    #[test]
    fn this_process_busy_shows_in_its_tree_ticks() {
        let before = tree_ticks(std::process::id());
        spin(Duration::from_millis(400));
        let after = tree_ticks(std::process::id());
        // 400 ms of spinning is 40 ticks at 100 Hz; a busy machine may give it less of a core.
        assert!(after >= before + 8, "{before} -> {after}");
    }

    #[test]
    fn a_process_outside_the_tree_is_the_owners_load() {
        // Count only a process that does not exist as the worker, so everything busy is the
        // owner's: this test's own spinning must show up.
        let mut load = OwnerLoad::for_root(u32::MAX);
        load.sample();
        spin(Duration::from_millis(400));
        let owner = load.sample().expect("a second reading");
        let cpus = read_stat().len().saturating_sub(1).max(1) as f64;
        assert!(
            owner > 0.5 / cpus,
            "a busy core of {cpus} not seen as owner load: {owner}"
        );
    }
}
