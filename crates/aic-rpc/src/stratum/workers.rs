//! Share statistics per worker: the live evidence of what each device does.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aic_api::stratum::{RejectCode, WorkerStats};

/// Most worker entries kept; beyond it, entries without a connection are dropped.
const MAX_WORKERS: usize = 100_000;

/// The window over which hash rate is estimated.
const RATE_WINDOW: Duration = Duration::from_secs(600);

#[derive(Debug, Default)]
struct Entry {
    connections: usize,
    difficulty: f64,
    accepted: u64,
    rejected: BTreeMap<String, u64>,
    blocks: u64,
    last_share: Option<u64>,
    /// Accepted shares in the window: when, and at what difficulty.
    recent: VecDeque<(Instant, f64)>,
}

/// Every worker's statistics, shared by all Stratum connections and the API.
#[derive(Debug, Default)]
pub struct MiningStats {
    workers: Mutex<HashMap<String, Entry>>,
    /// Counts changes, so that event streams wake on them.
    changes: tokio::sync::watch::Sender<u64>,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl MiningStats {
    fn with<R>(&self, worker: &str, f: impl FnOnce(&mut Entry) -> R) -> R {
        let mut map = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        // Anyone may authorize under any name: keep the table bounded.
        if map.len() >= MAX_WORKERS && !map.contains_key(worker) {
            map.retain(|_, e| e.connections > 0);
        }
        let out = f(map.entry(worker.to_owned()).or_default());
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        out
    }

    /// Subscribes to changes: the value counts them.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.changes.subscribe()
    }

    pub(crate) fn connected(&self, worker: &str, difficulty: f64) {
        self.with(worker, |e| {
            e.connections += 1;
            e.difficulty = difficulty;
        });
    }

    pub(crate) fn disconnected(&self, worker: &str) {
        self.with(worker, |e| e.connections = e.connections.saturating_sub(1));
    }

    pub(crate) fn difficulty(&self, worker: &str, difficulty: f64) {
        self.with(worker, |e| e.difficulty = difficulty);
    }

    pub(crate) fn accepted(&self, worker: &str, difficulty: f64, block: bool) {
        let now = Instant::now();
        self.with(worker, |e| {
            e.accepted += 1;
            e.blocks += u64::from(block);
            e.last_share = Some(unix_now());
            e.recent.push_back((now, difficulty));
            while e
                .recent
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > RATE_WINDOW)
            {
                e.recent.pop_front();
            }
        });
    }

    pub(crate) fn rejected(&self, worker: &str, code: RejectCode) {
        self.with(worker, |e| {
            *e.rejected.entry(code.name().to_owned()).or_default() += 1;
        });
    }

    /// A snapshot, sorted by worker name. The hash rate is the work of the accepted shares in
    /// the last ten minutes (difficulty × 2^32 hashes each) over the time they span.
    pub fn snapshot(&self) -> Vec<WorkerStats> {
        let map = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut out: Vec<WorkerStats> = map
            .iter()
            .map(|(name, e)| {
                let work: f64 = e.recent.iter().map(|(_, d)| d * 4_294_967_296.0).sum();
                let span = e
                    .recent
                    .front()
                    .map_or(0.0, |(t, _)| now.duration_since(*t).as_secs_f64())
                    .max(1.0);
                WorkerStats {
                    worker: name.clone(),
                    connections: e.connections,
                    difficulty: e.difficulty,
                    accepted: e.accepted,
                    rejected: e.rejected.clone(),
                    blocks: e.blocks,
                    hash_rate: work / span,
                    last_share: e.last_share,
                }
            })
            .collect();
        out.sort_by(|a, b| a.worker.cmp(&b.worker));
        out
    }
}
