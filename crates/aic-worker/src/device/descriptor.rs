//! The standard device descriptor, version 1 (`docs/worker.md` is its specification).

use serde::{Deserialize, Serialize};

/// The descriptor schema this code writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

/// What a device is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeviceKind {
    /// A general-purpose processor (all sockets of one machine together).
    Cpu,
    /// A graphics processor usable for AI jobs and mining.
    Gpu,
    /// A SHA-256d ASIC: mining only.
    Asic,
    /// An FPGA running a SHA-256d bitstream: mining only.
    Fpga,
    /// A device seen only through its Stratum shares, whose kind its name does not tell.
    UnknownMiner,
}

impl DeviceKind {
    /// The name used in JSON and metric labels (`cpu`, `gpu`, `asic`, `fpga`, `unknown-miner`).
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Gpu => "gpu",
            DeviceKind::Asic => "asic",
            DeviceKind::Fpga => "fpga",
            DeviceKind::UnknownMiner => "unknown-miner",
        }
    }

    /// Whether the device can run AI jobs (CPUs and GPUs) rather than only mine.
    pub fn runs_ai_jobs(self) -> bool {
        matches!(self, DeviceKind::Cpu | DeviceKind::Gpu)
    }
}

/// Where a device's scores come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScoreSource {
    /// Measured on the device by this worker's benchmarks (`crate::bench`).
    Benchmark,
    /// Estimated by a node from the device's accepted Stratum shares (difficulty × 2^32 hashes
    /// per share over the last ten minutes): an estimate with the variance of share counting.
    StratumShares,
}

/// Measured performance of one device. Every field is a measurement; `None` means not
/// measured (never zero as a stand-in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// SHA-256d hashes per second through the real mining search loop.
    pub sha256d_hashes_per_sec: Option<f64>,
    /// Dense f32 matrix multiply, 10^9 floating-point operations per second (2n³ per multiply).
    pub matmul_gflops: Option<f64>,
    /// Memory bandwidth, 10^9 bytes per second (STREAM triad).
    pub memory_gbytes_per_sec: Option<f64>,
    /// Unix time, seconds, of the measurement.
    pub measured_at: u64,
    /// How the scores were obtained.
    pub source: ScoreSource,
}

/// One device in the standard, versioned form every part of AIC reads.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceDescriptor {
    /// Always [`SCHEMA_VERSION`] when written by this code.
    pub schema_version: u32,
    /// Stable identifier: `cpu`, `gpu:<NVML UUID>`, `miner:<Stratum worker name>`.
    pub id: String,
    /// What the device is.
    pub kind: DeviceKind,
    /// Maker (`AuthenticAMD`, `GenuineIntel`, `NVIDIA`, ...; `unknown` where unknown).
    pub vendor: String,
    /// Model name as the device reports it.
    pub model: String,
    /// Memory the device computes from, bytes (system RAM for a CPU, device memory for a GPU).
    pub memory_bytes: Option<u64>,
    /// Physical cores (CPU) or streaming multiprocessors (GPU), where known.
    pub cores: Option<u32>,
    /// Hardware threads (CPU), where known.
    pub threads: Option<u32>,
    /// Capability names, sorted, lower case (`avx2`, `sha-ni`, `cuda-9.0`, `sha256d`, ...).
    pub capabilities: Vec<String>,
    /// Measured scores, once measured.
    pub scores: Option<Scores>,
}

/// A descriptor could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DescriptorError {
    /// Not JSON of the descriptor's shape.
    #[error("malformed device descriptor: {0}")]
    Json(#[from] serde_json::Error),
    /// A schema version this code does not know.
    #[error("device descriptor schema version {found} is not supported (this worker reads {SCHEMA_VERSION})")]
    Version {
        /// The version found.
        found: u32,
    },
}

impl DeviceDescriptor {
    /// Whether the descriptor lists `capability`.
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability)
    }

    /// The descriptor as pretty JSON.
    pub fn to_json(&self) -> String {
        // A struct of strings, numbers and options always serializes.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a descriptor, refusing schema versions other than [`SCHEMA_VERSION`].
    pub fn from_json(text: &str) -> Result<Self, DescriptorError> {
        let d: DeviceDescriptor = serde_json::from_str(text)?;
        if d.schema_version != SCHEMA_VERSION {
            return Err(DescriptorError::Version {
                found: d.schema_version,
            });
        }
        Ok(d)
    }
}

/// Capabilities sorted and without duplicates.
pub(crate) fn normalize(mut caps: Vec<String>) -> Vec<String> {
    caps.sort();
    caps.dedup();
    caps
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
