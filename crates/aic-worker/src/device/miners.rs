//! Mining-only devices (ASICs, FPGAs, any SHA-256d miner) that attach to a node's Stratum
//! server: described from the node's share statistics, `GET /api/v1/mining/workers`.
//!
//! Such a device says nothing about itself over Stratum v1, so its kind comes only from a
//! hint in its worker name (`ADDRESS.antminer-s19`, `ADDRESS.fpga1`, ...) and is
//! `unknown-miner` otherwise. Its hash rate is the node's estimate from accepted shares
//! (difficulty × 2^32 hashes per share over the last ten minutes), marked
//! [`ScoreSource::StratumShares`]: an estimate with the variance of counting shares, not a
//! measurement on the device.

use aic_api::stratum::WorkerStats;

use super::descriptor::{
    normalize, unix_now, DeviceDescriptor, DeviceKind, ScoreSource, Scores, SCHEMA_VERSION,
};

/// Name fragments (lower case) that tell a device's kind and maker.
const HINTS: &[(&str, DeviceKind, &str)] = &[
    ("antminer", DeviceKind::Asic, "Bitmain"),
    ("bitmain", DeviceKind::Asic, "Bitmain"),
    ("whatsminer", DeviceKind::Asic, "MicroBT"),
    ("avalon", DeviceKind::Asic, "Canaan"),
    ("bitaxe", DeviceKind::Asic, "Bitaxe"),
    ("asic", DeviceKind::Asic, "unknown"),
    ("fpga", DeviceKind::Fpga, "unknown"),
    ("gpu", DeviceKind::Gpu, "unknown"),
    ("cpu", DeviceKind::Cpu, "unknown"),
];

/// The kind and vendor a worker name hints at (the part after the first `.`), if any.
pub fn hint_from_worker_name(worker: &str) -> Option<(DeviceKind, &'static str)> {
    let name = worker.split_once('.')?.1.to_ascii_lowercase();
    HINTS
        .iter()
        .find(|(fragment, _, _)| name.contains(fragment))
        .map(|&(_, kind, vendor)| (kind, vendor))
}

/// One descriptor per Stratum worker, in the given order, with id `miner:<worker name>`.
///
/// A worker with accepted shares in the node's window gets a hash-rate score (source
/// `stratum-shares`, `measured_at` its last share); one without gets none. Workers with no open
/// connection are included: filter on `connections` first to describe only live devices.
pub fn miners_from_workers(workers: &[WorkerStats]) -> Vec<DeviceDescriptor> {
    workers.iter().map(miner_descriptor).collect()
}

/// [`miners_from_workers`] over the JSON body of `GET /api/v1/mining/workers`.
pub fn miners_from_json(body: &str) -> Result<Vec<DeviceDescriptor>, serde_json::Error> {
    let workers: Vec<WorkerStats> = serde_json::from_str(body)?;
    Ok(miners_from_workers(&workers))
}

fn miner_descriptor(w: &WorkerStats) -> DeviceDescriptor {
    let (kind, vendor) =
        hint_from_worker_name(&w.worker).unwrap_or((DeviceKind::UnknownMiner, "unknown"));
    let model = w
        .worker
        .split_once('.')
        .map_or("unknown", |(_, name)| name)
        .to_owned();
    let rate = (w.hash_rate.is_finite() && w.hash_rate > 0.0).then_some(w.hash_rate);
    DeviceDescriptor {
        schema_version: SCHEMA_VERSION,
        id: format!("miner:{}", w.worker),
        kind,
        vendor: vendor.to_owned(),
        model,
        memory_bytes: None,
        cores: None,
        threads: None,
        capabilities: normalize(vec!["sha256d".to_owned(), "stratum-v1".to_owned()]),
        scores: rate.map(|r| Scores {
            sha256d_hashes_per_sec: Some(r),
            matmul_gflops: None,
            memory_gbytes_per_sec: None,
            measured_at: w.last_share.unwrap_or_else(unix_now),
            source: ScoreSource::StratumShares,
        }),
    }
}
