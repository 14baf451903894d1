//! SHA-256d hash rate: `aic-miner`'s fastest kernel for this CPU through its real search loop
//! (`aic_miner::measure`), on a job whose target nothing meets.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::BenchError;

/// One hash-rate measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HashRateResult {
    /// The `aic-miner` kernel used (the fastest this CPU runs).
    pub kernel: String,
    /// Search threads.
    pub threads: usize,
    /// SHA-256d per wall-clock second, all threads.
    pub hashes_per_sec: f64,
    /// SHA-256d per CPU-second of this process, where the OS says.
    pub hashes_per_cpu_sec: Option<f64>,
    /// Wall-clock seconds measured.
    pub seconds: f64,
}

/// Searches with the fastest kernel on `threads` threads for `duration` (plus the time the
/// threads take to stop, milliseconds) and returns the hash rate.
pub fn sha256d(threads: usize, duration: Duration) -> Result<HashRateResult, BenchError> {
    if threads == 0 {
        return Err(BenchError::Parameter("threads must be at least 1"));
    }
    let kernel: Arc<dyn aic_miner::Kernel> = Arc::from(aic_miner::best());
    let row = aic_miner::measure(kernel, threads, duration)?;
    Ok(HashRateResult {
        kernel: row.kernel.to_owned(),
        threads: row.threads,
        hashes_per_sec: row.hashes_per_sec,
        hashes_per_cpu_sec: row.hashes_per_cpu_sec,
        seconds: row.seconds,
    })
}
