//! `aic miner bench`: hashes per second of each kernel at each thread count, measured through
//! the real search loop, with hashes per CPU-second so a busy machine still gives a fair figure.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::kernel::Kernel;
use crate::search::{SearchConfig, SearchError, Searcher, DEFAULT_BATCH};
use crate::work::WorkTemplate;

/// One measurement.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    /// Kernel name.
    pub kernel: &'static str,
    /// Search threads.
    pub threads: usize,
    /// SHA-256d per wall-clock second, all threads.
    pub hashes_per_sec: f64,
    /// SHA-256d per second of CPU time the process used (`None` where the OS does not say).
    pub hashes_per_cpu_sec: Option<f64>,
    /// Wall-clock seconds measured.
    pub seconds: f64,
    /// Time from a stop request until every thread had stopped.
    pub stop_latency: Duration,
}

/// A work template whose target nothing meets, so the search never stops for a share.
pub fn impossible_work() -> WorkTemplate {
    WorkTemplate {
        version: 0x2000_0000,
        version_mask: 0,
        prev_hash: [7; 32],
        coinbase1: vec![1; 41],
        extranonce1: vec![0, 0, 0, 1],
        extranonce2_size: 4,
        coinbase2: vec![2; 60],
        merkle_branches: vec![[3; 32], [4; 32]],
        ntime: 1_800_000_000,
        ntime_max_roll: 0,
        nbits: 0x1d00_ffff,
        target: [0; 32],
    }
}

/// CPU seconds (user + system, all threads) this process has used, from `/proc/self/stat`.
pub fn process_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    // Linux reports clock ticks of 1/100 s (USER_HZ) on every mainstream platform.
    Some((utime + stime) / 100.0)
}

/// Measures `kernel` with `threads` threads for `duration`, in batches of the default size.
pub fn measure(
    kernel: Arc<dyn Kernel>,
    threads: usize,
    duration: Duration,
) -> Result<BenchRow, SearchError> {
    measure_with_batch(kernel, threads, DEFAULT_BATCH, duration)
}

/// Measures `kernel` with `threads` threads and batches of `batch` nonces for `duration`.
pub fn measure_with_batch(
    kernel: Arc<dyn Kernel>,
    threads: usize,
    batch: u32,
    duration: Duration,
) -> Result<BenchRow, SearchError> {
    let name = kernel.name();
    let config = SearchConfig { threads, batch };
    let cpu_before = process_cpu_seconds();
    let started = Instant::now();
    let searcher = Searcher::start(kernel, impossible_work(), config, |_| {})?;
    std::thread::sleep(duration);
    let stats = searcher.stop();
    let wall = started.elapsed().as_secs_f64();
    let cpu = match (cpu_before, process_cpu_seconds()) {
        (Some(a), Some(b)) if b > a => Some(b - a),
        _ => None,
    };
    Ok(BenchRow {
        kernel: name,
        threads,
        hashes_per_sec: stats.hashes as f64 / wall,
        hashes_per_cpu_sec: cpu.map(|c| stats.hashes as f64 / c),
        seconds: wall,
        stop_latency: stats.stop_latency,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_is_read_and_grows() {
        let a = process_cpu_seconds().unwrap();
        let mut x = 0u64;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(100) {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
        }
        assert!(x != 1);
        let b = process_cpu_seconds().unwrap();
        assert!(b >= a);
    }
}
