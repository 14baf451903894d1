//! Monitoring: per-device samples every second (utilization, memory, temperature, power where
//! reported, and which task holds the device), a short history, Prometheus and JSON views,
//! and the HTTP endpoints that serve them (`GET /metrics`, `GET /api/v1/worker/status`).
//!
//! [`Monitor::start`] spawns the sampling thread and returns the owner's [`Monitor`]; every
//! other part (the switcher, the HTTP server, the terminal view) holds a cloned
//! [`MonitorHandle`]. Dropping or [`Monitor::stop`]ping the monitor ends the thread at once.

mod history;
mod http;
mod owner;
mod procfs;
mod prometheus;
#[cfg(test)]
mod prometheus_parse;
mod sample;
mod sampler;
mod sensors;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::mpsc::{channel, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

pub use history::History;
pub use http::{serve_status, status_router, DEFAULT_STATUS_HISTORY};
pub use owner::OwnerLoad;
pub use prometheus::render_prometheus;
pub use sample::{DeviceSample, Sample, Snapshot, Task, STATUS_SCHEMA_VERSION};
pub use sampler::{DEFAULT_HISTORY, DEFAULT_INTERVAL};
pub use sensors::{cpu_temperature, Rapl};

use crate::device::{DeviceDescriptor, Discovery, Gpus, Scores};

/// How often to sample and how much to keep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MonitorConfig {
    /// Time between samples (default one second).
    pub interval: Duration,
    /// Samples kept in the history (default 300: five minutes at one a second).
    pub history: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            interval: DEFAULT_INTERVAL,
            history: DEFAULT_HISTORY,
        }
    }
}

struct State {
    devices: Vec<DeviceDescriptor>,
    tasks: BTreeMap<String, Task>,
    history: History,
    samples_taken: u64,
}

/// What the sampling thread and every handle share.
pub(crate) struct Shared {
    interval: Duration,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn devices_and_tasks(&self) -> (Vec<DeviceDescriptor>, BTreeMap<String, Task>) {
        let s = self.lock();
        (s.devices.clone(), s.tasks.clone())
    }

    fn record(&self, sample: Sample) {
        let mut s = self.lock();
        s.history.push(sample);
        s.samples_taken += 1;
    }
}

/// A cheap, cloneable view of a running monitor, for the switcher, HTTP server and UI.
#[derive(Clone)]
pub struct MonitorHandle {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MonitorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorHandle")
            .field("interval", &self.shared.interval)
            .finish_non_exhaustive()
    }
}

impl MonitorHandle {
    /// Records that `task` now holds device `device_id`; later samples carry it. Returns
    /// false (and records nothing) for an unknown device.
    pub fn set_task(&self, device_id: &str, task: Task) -> bool {
        let mut s = self.shared.lock();
        if !s.devices.iter().any(|d| d.id == device_id) {
            return false;
        }
        s.tasks.insert(device_id.to_owned(), task);
        true
    }

    /// The task holding `device_id` now (`None` for an unknown device).
    pub fn task(&self, device_id: &str) -> Option<Task> {
        self.shared.lock().tasks.get(device_id).copied()
    }

    /// Attaches measured scores to a device's descriptor (after `crate::bench`). Returns
    /// false for an unknown device.
    pub fn set_scores(&self, device_id: &str, scores: Scores) -> bool {
        let mut s = self.shared.lock();
        match s.devices.iter_mut().find(|d| d.id == device_id) {
            Some(d) => {
                d.scores = Some(scores);
                true
            }
            None => false,
        }
    }

    /// The newest sample, if any has been taken.
    pub fn latest(&self) -> Option<Sample> {
        self.shared.lock().history.latest().cloned()
    }

    /// The status with up to `history` recent samples (0 for none).
    pub fn snapshot(&self, history: usize) -> Snapshot {
        let s = self.shared.lock();
        Snapshot {
            schema_version: STATUS_SCHEMA_VERSION,
            interval_ms: self.shared.interval.as_millis() as u64,
            samples_taken: s.samples_taken,
            devices: s.devices.clone(),
            tasks: s.tasks.clone(),
            latest: s.history.latest().cloned(),
            history: s.history.last(history),
        }
    }
}

/// The running monitor: owns the sampling thread, which ends when this is stopped or dropped.
#[derive(Debug)]
pub struct Monitor {
    handle: MonitorHandle,
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Monitor {
    /// Starts sampling `devices` (reading GPU sensors through `gpus`) every
    /// `config.interval`. Every device starts [`Task::Idle`]. Fails only if the OS refuses a
    /// thread.
    pub fn start(
        devices: Vec<DeviceDescriptor>,
        gpus: Gpus,
        config: MonitorConfig,
    ) -> std::io::Result<Monitor> {
        let tasks = devices.iter().map(|d| (d.id.clone(), Task::Idle)).collect();
        let shared = Arc::new(Shared {
            interval: config.interval.max(Duration::from_millis(1)),
            state: Mutex::new(State {
                devices,
                tasks,
                history: History::new(config.history),
                samples_taken: 0,
            }),
        });
        let (tx, rx) = channel();
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("aic-worker-monitor".to_owned())
            .spawn(move || sampler::Sampler::new(gpus).run(&for_thread, &rx))?;
        Ok(Monitor {
            handle: MonitorHandle { shared },
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    /// [`Monitor::start`] over what [`crate::device::discover`] found.
    pub fn from_discovery(found: Discovery, config: MonitorConfig) -> std::io::Result<Monitor> {
        Monitor::start(found.devices, found.gpus, config)
    }

    /// A handle for other parts of the worker.
    pub fn handle(&self) -> MonitorHandle {
        self.handle.clone()
    }

    /// Stops the sampling thread and waits for it (at most one sample's time).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.shutdown();
    }
}
