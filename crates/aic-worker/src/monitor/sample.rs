//! What the monitor records: per-device samples, the task holding each device, and the JSON
//! status (`GET /api/v1/worker/status`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::device::DeviceDescriptor;

/// The version of the [`Snapshot`] JSON.
pub const STATUS_SCHEMA_VERSION: u32 = 1;

/// What a device is doing, as set by its owner (the switcher) through
/// [`MonitorHandle::set_task`](super::MonitorHandle::set_task).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// Nothing.
    #[default]
    Idle,
    /// Crypto mining.
    Mining,
    /// An AI job.
    AiJob,
    /// Paused by the owner.
    Paused,
}

impl Task {
    /// Every task, in a fixed order.
    pub const ALL: [Task; 4] = [Task::Idle, Task::Mining, Task::AiJob, Task::Paused];

    /// The wire and label name (`idle`, `mining`, `ai_job`, `paused`).
    pub fn as_str(self) -> &'static str {
        match self {
            Task::Idle => "idle",
            Task::Mining => "mining",
            Task::AiJob => "ai_job",
            Task::Paused => "paused",
        }
    }
}

/// One device at one instant. Fields the device does not report are `None`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSample {
    /// The device's descriptor id.
    pub device: String,
    /// The task holding it when sampled.
    pub task: Task,
    /// Busy fraction over the last interval, 0 to 1 (CPU: all cores; GPU: kernel time).
    pub utilization: Option<f64>,
    /// CPU only: busy fraction of each logical CPU, in `/proc/stat` order.
    pub core_utilization: Vec<f64>,
    /// Memory in use, bytes (CPU: MemTotal − MemAvailable).
    pub memory_used_bytes: Option<u64>,
    /// Memory in all, bytes.
    pub memory_total_bytes: Option<u64>,
    /// Temperature, °C.
    pub temperature_celsius: Option<f64>,
    /// Power draw averaged over the last interval, watts.
    pub power_watts: Option<f64>,
}

/// Every device at one instant.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix time, milliseconds.
    pub at_ms: u64,
    /// One entry per monitored device, in descriptor order.
    pub devices: Vec<DeviceSample>,
}

/// The worker's status: its devices, what holds each, the latest sample and recent history.
/// Served as JSON at `GET /api/v1/worker/status` and rendered for Prometheus at `/metrics`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// [`STATUS_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Sampling interval, milliseconds.
    pub interval_ms: u64,
    /// Samples taken since the monitor started.
    pub samples_taken: u64,
    /// The monitored devices.
    pub devices: Vec<DeviceDescriptor>,
    /// The task holding each device now, by device id.
    pub tasks: BTreeMap<String, Task>,
    /// The latest sample, if one has been taken.
    pub latest: Option<Sample>,
    /// Recent samples, oldest first (as many as asked for and kept).
    pub history: Vec<Sample>,
}
