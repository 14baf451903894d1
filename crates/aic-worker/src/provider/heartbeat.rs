//! Announcing every interval on a thread of its own.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aic_api::provider::AnnounceAccepted;
use serde_json::Value;

use super::client::{devices_json, unix_ms, ClientError, ProviderClient};
use crate::device::DeviceDescriptor;

/// What the heartbeat has done so far.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeartbeatStats {
    /// Announcements attempted.
    pub attempts: u64,
    /// Announcements the node accepted.
    pub accepted: u64,
    /// Announcements that failed (node down or refusing).
    pub failures: u64,
    /// Failures since the last success.
    pub consecutive_failures: u64,
    /// The last failure, kept after later successes.
    pub last_error: Option<ClientError>,
    /// When the last failure happened, Unix ms.
    pub last_error_ms: Option<u64>,
    /// The node's answer to the last accepted announcement.
    pub last_accepted: Option<AnnounceAccepted>,
    /// When it was accepted, Unix ms.
    pub last_accepted_ms: Option<u64>,
}

#[derive(Debug)]
struct Shared {
    stop: Mutex<bool>,
    wake: Condvar,
    stats: Mutex<HeartbeatStats>,
    devices: Mutex<Vec<Value>>,
    endpoint: Mutex<Option<String>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Announces the worker to a node now and then every interval, on its own thread, until
/// stopped or dropped. A failed announcement (node down, refused) is counted and kept in
/// [`HeartbeatStats`], and the next tick tries again; nothing is printed.
///
/// Stopping wakes the thread at once; it returns after the request in flight, if any (at most
/// the client's request timeout).
#[derive(Debug)]
pub struct Heartbeat {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Heartbeat {
    /// Starts announcing `devices` and `endpoint` through `client` every `interval` (the
    /// node's `heartbeat_interval_ms`, 10 s by default), the first time at once.
    pub fn start(
        client: ProviderClient,
        devices: &[DeviceDescriptor],
        endpoint: Option<String>,
        interval: Duration,
    ) -> Heartbeat {
        Heartbeat::start_json(client, devices_json(devices), endpoint, interval)
    }

    /// As [`Heartbeat::start`], with the devices as JSON descriptors.
    pub fn start_json(
        client: ProviderClient,
        devices: Vec<Value>,
        endpoint: Option<String>,
        interval: Duration,
    ) -> Heartbeat {
        let shared = Arc::new(Shared {
            stop: Mutex::new(false),
            wake: Condvar::new(),
            stats: Mutex::new(HeartbeatStats::default()),
            devices: Mutex::new(devices),
            endpoint: Mutex::new(endpoint),
        });
        let s = shared.clone();
        let interval = interval.max(Duration::from_millis(1));
        let thread = std::thread::Builder::new()
            .name("aic-heartbeat".to_owned())
            .spawn(move || run(&s, &client, interval))
            .ok();
        Heartbeat { shared, thread }
    }

    /// The counters and the last answer or error.
    pub fn stats(&self) -> HeartbeatStats {
        lock(&self.shared.stats).clone()
    }

    /// Announces these devices from the next tick on (after a benchmark, a device change).
    pub fn set_devices(&self, devices: &[DeviceDescriptor]) {
        *lock(&self.shared.devices) = devices_json(devices);
    }

    /// Announces this endpoint from the next tick on.
    pub fn set_endpoint(&self, endpoint: Option<String>) {
        *lock(&self.shared.endpoint) = endpoint;
    }

    /// Whether the thread is running (false once stopped, or if it could not be spawned).
    pub fn is_running(&self) -> bool {
        self.thread.as_ref().is_some_and(|t| !t.is_finished())
    }

    /// Stops announcing and waits for the thread. The node shows the worker offline once its
    /// expiry passes.
    pub fn stop(mut self) -> HeartbeatStats {
        self.halt();
        self.stats()
    }

    fn halt(&mut self) {
        *lock(&self.shared.stop) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.halt();
    }
}

fn run(shared: &Shared, client: &ProviderClient, interval: Duration) {
    let mut next = Instant::now();
    loop {
        {
            let mut stopped = lock(&shared.stop);
            loop {
                if *stopped {
                    return;
                }
                let now = Instant::now();
                if now >= next {
                    break;
                }
                stopped = shared
                    .wake
                    .wait_timeout(stopped, next - now)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|p| p.into_inner().0);
            }
        }
        let devices = lock(&shared.devices).clone();
        let endpoint = lock(&shared.endpoint).clone();
        let result = client.announce_json(devices, endpoint);
        let mut st = lock(&shared.stats);
        st.attempts += 1;
        match result {
            Ok(a) => {
                st.accepted += 1;
                st.consecutive_failures = 0;
                st.last_accepted = Some(a);
                st.last_accepted_ms = Some(unix_ms());
            }
            Err(e) => {
                st.failures += 1;
                st.consecutive_failures += 1;
                st.last_error = Some(e);
                st.last_error_ms = Some(unix_ms());
            }
        }
        drop(st);
        // A fixed schedule; after a long stall (a slow request), skip rather than burst.
        next += interval;
        let now = Instant::now();
        if next < now {
            next = now + interval;
        }
    }
}
