//! The sampling thread: one [`Sample`] per interval, on a fixed schedule, until stopped.

use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::procfs::{busy_fractions, read_stat, CpuLine};
use super::sample::{DeviceSample, Sample};
use super::sensors::{cpu_temperature, Rapl};
use super::Shared;
use crate::device::{parse_meminfo, DeviceKind, Gpus};

/// What the sampler carries from one sample to the next.
pub(crate) struct Sampler {
    gpus: Gpus,
    cpu_before: Vec<CpuLine>,
    rapl: Rapl,
}

impl Sampler {
    pub(crate) fn new(gpus: Gpus) -> Sampler {
        let mut rapl = Rapl::open(Path::new("/sys"));
        // Prime the counters so the first sample has a difference to report.
        let _ = rapl.watts();
        Sampler {
            gpus,
            cpu_before: read_stat(),
            rapl,
        }
    }

    /// Samples every interval until `stop` receives or is dropped.
    pub(crate) fn run(mut self, shared: &Shared, stop: &Receiver<()>) {
        let interval = shared.interval;
        let mut next = Instant::now() + interval;
        loop {
            match stop.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Err(RecvTimeoutError::Timeout) => {}
                Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
            }
            let sample = self.take(shared);
            shared.record(sample);
            next += interval;
            let now = Instant::now();
            if next < now {
                // Fell behind (a suspended machine, a slow sensor): skip, never burst.
                next = now + interval;
            }
        }
    }

    fn take(&mut self, shared: &Shared) -> Sample {
        let (devices, tasks) = shared.devices_and_tasks();
        let now_stat = read_stat();
        let fractions = busy_fractions(&self.cpu_before, &now_stat);
        self.cpu_before = now_stat;
        let memory = std::fs::read_to_string("/proc/meminfo")
            .map(|t| parse_meminfo(&t))
            .unwrap_or((None, None));
        let power = self.rapl.watts();
        let temperature = cpu_temperature(Path::new("/sys"));
        let at_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let samples = devices
            .iter()
            .map(|d| {
                let mut s = DeviceSample {
                    device: d.id.clone(),
                    task: tasks.get(&d.id).copied().unwrap_or_default(),
                    utilization: None,
                    core_utilization: Vec::new(),
                    memory_used_bytes: None,
                    memory_total_bytes: None,
                    temperature_celsius: None,
                    power_watts: None,
                };
                match d.kind {
                    DeviceKind::Cpu => {
                        s.utilization = fractions.first().copied().flatten();
                        s.core_utilization =
                            fractions.iter().skip(1).map(|f| f.unwrap_or(0.0)).collect();
                        s.memory_total_bytes = memory.0;
                        s.memory_used_bytes =
                            memory.0.zip(memory.1).map(|(t, a)| t.saturating_sub(a));
                        s.temperature_celsius = temperature;
                        s.power_watts = power;
                    }
                    DeviceKind::Gpu => {
                        if let Some(r) = self.gpus.reading(&d.id) {
                            s.utilization = r.utilization;
                            s.memory_used_bytes = r.memory_used_bytes;
                            s.memory_total_bytes = r.memory_total_bytes;
                            s.temperature_celsius = r.temperature_celsius;
                            s.power_watts = r.power_watts;
                        }
                    }
                    // Remote miners report nothing here; their task is all we know.
                    DeviceKind::Asic | DeviceKind::Fpga | DeviceKind::UnknownMiner => {}
                }
                s
            })
            .collect();
        Sample {
            at_ms,
            devices: samples,
        }
    }
}

/// The default sampling interval.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// The default number of samples kept.
pub const DEFAULT_HISTORY: usize = 300;
