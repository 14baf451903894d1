//! Devices: discovery (CPUs, NVIDIA GPUs through NVML loaded at run time, mining-only devices
//! seen through a node's Stratum server) and the standard device descriptor
//! ([`DeviceDescriptor`], specified in `docs/worker.md`).

mod cpu;
mod descriptor;
mod gpu;
mod miners;
#[cfg(feature = "nvml")]
mod nvml;
#[cfg(test)]
mod tests;

pub use cpu::{cpu_descriptor, detected_features, parse_meminfo, CpuInfo};
pub(crate) use descriptor::unix_now;
pub use descriptor::{
    DescriptorError, DeviceDescriptor, DeviceKind, ScoreSource, Scores, SCHEMA_VERSION,
};
#[cfg(not(feature = "nvml"))]
pub use gpu::NOT_COMPILED;
pub use gpu::{GpuReading, Gpus};
pub use miners::{hint_from_worker_name, miners_from_json, miners_from_workers};

/// The local devices of this machine and what discovery has to say about them.
#[derive(Debug)]
pub struct Discovery {
    /// The CPU first, then each GPU.
    pub devices: Vec<DeviceDescriptor>,
    /// Why some kind of device was not found (NVML not compiled in, no driver, ...); shown to
    /// the owner, never an error.
    pub notes: Vec<String>,
    /// The GPUs, kept open for monitoring.
    pub gpus: Gpus,
}

/// Finds this machine's devices: the CPU and NVIDIA GPUs. Never fails; scores are not
/// measured here (see [`crate::bench`]).
pub fn discover() -> Discovery {
    let gpus = Gpus::open();
    let mut devices = vec![cpu_descriptor()];
    devices.extend(gpus.devices().iter().cloned());
    Discovery {
        devices,
        notes: gpus.note().map(str::to_owned).into_iter().collect(),
        gpus,
    }
}
