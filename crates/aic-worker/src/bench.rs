//! Benchmarks behind `aic worker bench`: SHA-256d hash rate through the real mining search,
//! f32 matrix-multiply GFLOP/s and STREAM-style memory bandwidth, each bounded in time by a
//! parameter. Every figure is a measurement on this machine, never a constant; see
//! `docs/worker.md` for what each one means.

mod hashing;
mod matmul;
mod memory;

use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use hashing::{sha256d, HashRateResult};
pub use matmul::{matmul, MatmulResult};
pub use memory::{default_array_bytes, largest_cache_bytes, memory_bandwidth, MemoryResult};

use crate::device::{ScoreSource, Scores};

/// A benchmark could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// The mining search would not start.
    #[error("sha256d benchmark: {0}")]
    Search(#[from] aic_miner::SearchError),
    /// A parameter out of range.
    #[error("bad benchmark parameter: {0}")]
    Parameter(&'static str),
}

/// What to run and for how long.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// Threads for every benchmark (default: the threads this process may use).
    pub threads: usize,
    /// How long the hash-rate benchmark searches.
    pub hash_duration: Duration,
    /// Matrix size n of the n×n×n multiply.
    pub matmul_n: usize,
    /// Time budget of the matrix-multiply runs.
    pub matmul_budget: Duration,
    /// Bytes of each of the three memory-benchmark arrays.
    pub memory_array_bytes: usize,
    /// Time budget of the memory passes.
    pub memory_budget: Duration,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            hash_duration: Duration::from_secs(3),
            matmul_n: 1024,
            matmul_budget: Duration::from_secs(3),
            memory_array_bytes: default_array_bytes(),
            memory_budget: Duration::from_secs(3),
        }
    }
}

/// The three measurements together.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// SHA-256d search.
    pub hashing: HashRateResult,
    /// f32 matrix multiply.
    pub matmul: MatmulResult,
    /// Memory bandwidth.
    pub memory: MemoryResult,
    /// Unix time, seconds, when the report was finished.
    pub measured_at: u64,
}

impl BenchReport {
    /// The report as descriptor scores (hash rate, median GFLOP/s, best triad GB/s).
    pub fn scores(&self) -> Scores {
        Scores {
            sha256d_hashes_per_sec: Some(self.hashing.hashes_per_sec),
            matmul_gflops: Some(self.matmul.median_gflops),
            memory_gbytes_per_sec: Some(self.memory.triad_gbytes_per_sec),
            measured_at: self.measured_at,
            source: ScoreSource::Benchmark,
        }
    }
}

/// Runs the three CPU benchmarks one after the other (about the sum of the three durations).
pub fn run_cpu(config: &BenchConfig) -> Result<BenchReport, BenchError> {
    let hashing = sha256d(config.threads, config.hash_duration)?;
    let matmul = matmul(config.matmul_n, config.threads, config.matmul_budget)?;
    let memory = memory_bandwidth(
        config.memory_array_bytes,
        config.threads,
        config.memory_budget,
    )?;
    Ok(BenchReport {
        hashing,
        matmul,
        memory,
        measured_at: crate::device::unix_now(),
    })
}

/// The median of `xs` (the mean of the middle two for an even count); NaN when empty.
fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests;
