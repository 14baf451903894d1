//! The autotuner: measures kernel, thread count and batch size on this machine and keeps the
//! best profile per CPU and build, so `aic miner` starts with the fastest settings.
//!
//! Two searches: the full grid (every kernel × thread count × batch size), and a guided one
//! that needs far fewer trials: kernels compared on one thread, then thread counts for the
//! winner, then batch sizes. Both report how many trials they ran.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::bench::measure_with_batch;
use crate::kernel::Kernel;
use crate::search::SearchError;

/// Batch sizes tried (nonces between stop checks).
pub const BATCHES: [u32; 3] = [2_048, 8_192, 32_768];

/// File name of the saved profile in the data directory.
pub const PROFILE_FILE: &str = "miner-profile.json";

/// The best settings found, and what they were measured on.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    /// CPU model, features and build the profile is valid for.
    pub machine: String,
    /// Kernel name.
    pub kernel: String,
    /// Search threads.
    pub threads: usize,
    /// Nonces per batch.
    pub batch: u32,
    /// Measured SHA-256d per second with these settings.
    pub hashes_per_sec: f64,
    /// Trials the search ran.
    pub trials: usize,
    /// Trials the full grid has.
    pub grid_size: usize,
}

/// One trial.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Kernel name.
    pub kernel: &'static str,
    /// Threads.
    pub threads: usize,
    /// Batch size.
    pub batch: u32,
    /// SHA-256d per second.
    pub hashes_per_sec: f64,
}

/// What identifies a machine for tuning: CPU model, the features the kernels use, the core
/// count and this build's version. A profile for another machine is re-tuned.
pub fn machine_key() -> String {
    let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown cpu", str::trim)
        .to_owned();
    let flags: Vec<&str> = info
        .lines()
        .find(|l| l.starts_with("flags"))
        .map(|l| {
            l.split_whitespace()
                .filter(|f| matches!(*f, "sha_ni" | "avx2" | "avx512f" | "ssse3" | "sse4_1"))
                .collect()
        })
        .unwrap_or_default();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!(
        "{model} | {} | {cores} cores | aic-miner {}",
        flags.join(","),
        env!("CARGO_PKG_VERSION")
    )
}

/// Runs the search: the full grid with `grid`, else the guided search. `kernels` fastest
/// first or in any order; `max_threads` at least 1; each trial runs `per_trial`.
pub fn tune(
    kernels: &[Arc<dyn Kernel>],
    max_threads: usize,
    per_trial: Duration,
    grid: bool,
    mut on_trial: impl FnMut(&Trial),
) -> Result<Profile, SearchError> {
    let max_threads = max_threads.max(1);
    let grid_size = kernels.len() * max_threads * BATCHES.len();
    let mut trials = Vec::new();
    let mut run = |k: &Arc<dyn Kernel>, threads: usize, batch: u32| -> Result<Trial, SearchError> {
        let row = measure_with_batch(k.clone(), threads, batch, per_trial)?;
        let t = Trial {
            kernel: k.name(),
            threads,
            batch,
            hashes_per_sec: row.hashes_per_sec,
        };
        on_trial(&t);
        trials.push(t.clone());
        Ok(t)
    };
    let best = if grid {
        let mut best: Option<Trial> = None;
        for k in kernels {
            for threads in 1..=max_threads {
                for batch in BATCHES {
                    let t = run(k, threads, batch)?;
                    if best
                        .as_ref()
                        .is_none_or(|b| t.hashes_per_sec > b.hashes_per_sec)
                    {
                        best = Some(t);
                    }
                }
            }
        }
        best
    } else {
        // 1. Kernels on one thread with the middle batch.
        let mut best: Option<(Arc<dyn Kernel>, Trial)> = None;
        for k in kernels {
            let t = run(k, 1, BATCHES[1])?;
            if best
                .as_ref()
                .is_none_or(|(_, b)| t.hashes_per_sec > b.hashes_per_sec)
            {
                best = Some((k.clone(), t));
            }
        }
        let Some((kernel, mut top)) = best else {
            return Err(SearchError::NoThreads);
        };
        // 2. Thread counts, stopping once adding a thread no longer helps.
        for threads in 2..=max_threads {
            let t = run(&kernel, threads, BATCHES[1])?;
            if t.hashes_per_sec > top.hashes_per_sec {
                top = t;
            } else {
                break;
            }
        }
        // 3. Batch sizes at that thread count.
        for batch in [BATCHES[0], BATCHES[2]] {
            let t = run(&kernel, top.threads, batch)?;
            if t.hashes_per_sec > top.hashes_per_sec {
                top = t;
            }
        }
        Some(top)
    };
    let best = best.ok_or(SearchError::NoThreads)?;
    Ok(Profile {
        machine: machine_key(),
        kernel: best.kernel.to_owned(),
        threads: best.threads,
        batch: best.batch,
        hashes_per_sec: best.hashes_per_sec,
        trials: trials.len(),
        grid_size,
    })
}

impl Profile {
    /// The profile as JSON.
    pub fn to_json(&self) -> Value {
        json!({
            "machine": self.machine, "kernel": self.kernel, "threads": self.threads,
            "batch": self.batch, "hashes_per_sec": self.hashes_per_sec,
            "trials": self.trials, "grid_size": self.grid_size,
        })
    }

    fn from_json(v: &Value) -> Option<Profile> {
        Some(Profile {
            machine: v["machine"].as_str()?.to_owned(),
            kernel: v["kernel"].as_str()?.to_owned(),
            threads: usize::try_from(v["threads"].as_u64()?).ok()?,
            batch: u32::try_from(v["batch"].as_u64()?).ok()?,
            hashes_per_sec: v["hashes_per_sec"].as_f64()?,
            trials: usize::try_from(v["trials"].as_u64()?).ok()?,
            grid_size: usize::try_from(v["grid_size"].as_u64()?).ok()?,
        })
    }

    /// Saves the profile as `dir/miner-profile.json`.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let tmp = dir.join(format!("{PROFILE_FILE}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec_pretty(&self.to_json())?)?;
        std::fs::rename(tmp, dir.join(PROFILE_FILE))
    }

    /// The saved profile in `dir`, if there is one for this machine and build.
    pub fn load(dir: &Path) -> Option<Profile> {
        let bytes = std::fs::read(dir.join(PROFILE_FILE)).ok()?;
        let p = Profile::from_json(&serde_json::from_slice(&bytes).ok()?)?;
        (p.machine == machine_key()).then_some(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portable::Portable;

    #[test]
    fn guided_search_takes_fewer_trials_than_the_grid_and_profiles_round_trip() {
        let kernels: Vec<Arc<dyn Kernel>> = vec![Arc::new(Portable::new())];
        let per = Duration::from_millis(30);
        let guided = tune(&kernels, 2, per, false, |_| {}).unwrap();
        let grid = tune(&kernels, 2, per, true, |_| {}).unwrap();
        assert_eq!(grid.trials, grid.grid_size);
        assert!(guided.trials < grid.trials);
        assert!(guided.hashes_per_sec > 0.0);
        let dir = tempfile::tempdir().unwrap();
        guided.save(dir.path()).unwrap();
        // serde_json (without its float_roundtrip feature, which would rebuild burn) may read
        // a float back one ulp off: the rate is compared within that, the rest exactly.
        let loaded = Profile::load(dir.path()).expect("the profile of this machine");
        let rel = (loaded.hashes_per_sec - guided.hashes_per_sec).abs() / guided.hashes_per_sec;
        assert!(
            rel < 1e-12,
            "{} against {}",
            loaded.hashes_per_sec,
            guided.hashes_per_sec
        );
        assert_eq!(
            Profile {
                hashes_per_sec: guided.hashes_per_sec,
                ..loaded
            },
            guided
        );
        // A profile from another machine or build is not used.
        let mut other = guided;
        other.machine = "another cpu".to_owned();
        other.save(dir.path()).unwrap();
        assert_eq!(Profile::load(dir.path()), None);
    }
}
