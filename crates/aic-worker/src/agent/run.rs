//! The agent at run time: the device's switcher driving one searcher that a Stratum client
//! feeds, a watcher that tells the monitor who holds the device and feeds the owner's load to
//! the switcher, and the pool's live status.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aic_miner::{
    impossible_work, run_pool_client_shared, ClientEvent, ClientStats, Kernel, PoolConfig,
    SearchConfig, SearchError, SharedSearch,
};
use serde::Serialize;

use super::config::WorkerConfig;
use super::mined::{MinedBlocks, MinedBookError};
use crate::monitor::{MonitorHandle, OwnerLoad, Task as MonitorTask};
use crate::switcher::{Policy, SwitchReport, Switcher, SwitcherHandle, Task};

/// How often the watcher syncs the monitor's task with the switcher's state.
const WATCH_TICK: Duration = Duration::from_millis(100);
/// How often the owner's load is sampled.
const LOAD_EVERY: Duration = Duration::from_secs(1);
/// How often the book of mined blocks is saved when it changed.
const BOOK_EVERY: Duration = Duration::from_secs(2);

/// What the agent's pool client last saw.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PoolStatus {
    /// The pool connected to now, if any.
    pub connected: Option<String>,
    /// The pool accepted the user.
    pub authorized: bool,
    /// Share difficulty.
    pub difficulty: Option<f64>,
    /// Jobs received.
    pub jobs: u64,
    /// Shares accepted.
    pub accepted: u64,
    /// Shares rejected.
    pub rejected: u64,
    /// The last disconnection's reason.
    pub last_error: Option<String>,
}

/// Why the agent could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AgentError {
    /// The miner's threads could not start.
    #[error("starting the miner: {0}")]
    Search(#[from] SearchError),
    /// The policy mines but no pool is configured.
    #[error("the policy mines but no pool is configured ([mining] pools, or --pool)")]
    NoPool,
    /// A thread could not be spawned.
    #[error("starting a thread: {0}")]
    Thread(#[from] std::io::Error),
    /// The book of mined blocks could not be read.
    #[error("the book of mined blocks: {0}")]
    MinedBook(#[from] MinedBookError),
}

/// The device-side agent: switcher, miner, pool client and watcher.
pub struct Agent {
    switcher: Option<Switcher>,
    handle: SwitcherHandle,
    policy: Policy,
    search: Arc<SharedSearch>,
    stop: Arc<AtomicBool>,
    pool: Option<JoinHandle<ClientStats>>,
    watch: Option<JoinHandle<()>>,
    book: Option<JoinHandle<()>>,
    pool_status: Arc<Mutex<PoolStatus>>,
    mined: Arc<Mutex<MinedBlocks>>,
    book_path: Option<PathBuf>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("policy", &self.policy)
            .field("search", &self.search)
            .finish_non_exhaustive()
    }
}

fn monitor_task(task: Task) -> MonitorTask {
    match task {
        Task::Idle => MonitorTask::Idle,
        Task::Mining => MonitorTask::Mining,
        Task::AiJob => MonitorTask::AiJob,
        Task::Paused => MonitorTask::Paused,
    }
}

impl Agent {
    /// Starts the agent for the CPU device `device_id` of `monitor`: the miner's threads
    /// (`config.mining.threads`, default all) on `kernel` in batches of `batch` nonces, driven
    /// by `config.switcher`, fed by the pools of `config.mining`. The blocks it finds are
    /// kept in the book at `book` (read at start, saved every [`BOOK_EVERY`] while it
    /// changes), where given.
    pub fn start(
        config: &WorkerConfig,
        kernel: Arc<dyn Kernel>,
        batch: u32,
        monitor: MonitorHandle,
        device_id: String,
        book: Option<PathBuf>,
    ) -> Result<Self, AgentError> {
        let policy = config.switcher;
        let mines = policy.mines();
        if mines && config.mining.pools.is_empty() {
            return Err(AgentError::NoPool);
        }
        let threads = config.mining.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        });
        let search_config = SearchConfig { threads, batch };
        // Until the pool's first job arrives the threads search work that cannot succeed.
        let search = Arc::new(SharedSearch::start(
            kernel,
            impossible_work(),
            search_config,
        )?);
        let switcher = Switcher::drive_shared(policy, Arc::clone(search.searcher()));
        let handle = switcher.handle();
        let stop = Arc::new(AtomicBool::new(false));
        let pool_status = Arc::new(Mutex::new(PoolStatus::default()));
        let mined = Arc::new(Mutex::new(match &book {
            Some(path) => MinedBlocks::load(path)?,
            None => MinedBlocks::default(),
        }));
        let pool = if config.mining.pools.is_empty() {
            None
        } else {
            let pool_config = PoolConfig {
                urls: config.mining.pools.clone(),
                user: config.mining.user.clone(),
                password: "x".into(),
                search: search_config,
            };
            let (search, stop, status, blocks) = (
                Arc::clone(&search),
                Arc::clone(&stop),
                Arc::clone(&pool_status),
                Arc::clone(&mined),
            );
            Some(
                std::thread::Builder::new()
                    .name("aic-pool".into())
                    .spawn(move || {
                        run_pool_client_shared(&pool_config, &search, stop, |e| {
                            record(&status, &blocks, e);
                        })
                    })?,
            )
        };
        let watch = {
            let (handle, stop) = (handle.clone(), Arc::clone(&stop));
            Some(
                std::thread::Builder::new()
                    .name("aic-watch".into())
                    .spawn(move || watch(&handle, &monitor, &device_id, &stop))?,
            )
        };
        let book_thread = match &book {
            Some(path) => {
                let (mined, stop, path) = (Arc::clone(&mined), Arc::clone(&stop), path.clone());
                Some(
                    std::thread::Builder::new()
                        .name("aic-book".into())
                        .spawn(move || keep_book(&mined, &path, &stop))?,
                )
            }
            None => None,
        };
        Ok(Self {
            switcher: Some(switcher),
            handle,
            policy,
            search,
            stop,
            pool,
            watch,
            pool_status,
            mined,
            book: book_thread,
            book_path: book,
        })
    }

    /// The switcher's handle (job listener, control endpoints, job runner).
    pub fn handle(&self) -> SwitcherHandle {
        self.handle.clone()
    }

    /// The policy in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// The pool client's status now.
    pub fn pool_status(&self) -> PoolStatus {
        self.pool_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// A shared view of the pool status, for HTTP handlers.
    pub fn pool_status_cell(&self) -> Arc<Mutex<PoolStatus>> {
        Arc::clone(&self.pool_status)
    }

    /// The blocks the device found through its pools.
    pub fn mined_blocks(&self) -> Arc<Mutex<MinedBlocks>> {
        Arc::clone(&self.mined)
    }

    /// Saves the book of mined blocks now, if it has a file and changed.
    pub fn save_mined_blocks(&self) -> Result<(), MinedBookError> {
        match &self.book_path {
            Some(path) => self
                .mined
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .save(path),
            None => Ok(()),
        }
    }

    /// Stops the pool client, the watcher and the miner; what the switcher did. The book of
    /// mined blocks is saved a last time (call [`Self::save_mined_blocks`] first to see an
    /// error).
    pub fn stop(mut self) -> SwitchReport {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.pool.take() {
            let _ = t.join();
        }
        if let Some(t) = self.watch.take() {
            let _ = t.join();
        }
        if let Some(t) = self.book.take() {
            let _ = t.join();
        }
        let _ = self.save_mined_blocks();
        self.switcher
            .take()
            .expect("stop consumes the agent once")
            .stop()
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

fn record(status: &Mutex<PoolStatus>, mined: &Mutex<MinedBlocks>, event: ClientEvent) {
    if let ClientEvent::Accepted { block: Some(hash) } = &event {
        mined
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .found(hash.clone());
    }
    let mut s = status.lock().unwrap_or_else(|p| p.into_inner());
    match event {
        ClientEvent::Connected(url) => {
            s.connected = Some(url);
            s.authorized = false;
        }
        ClientEvent::Authorized { .. } => s.authorized = true,
        ClientEvent::Difficulty(d) => s.difficulty = Some(d),
        ClientEvent::Job { .. } => s.jobs += 1,
        ClientEvent::Accepted { .. } => s.accepted += 1,
        ClientEvent::Rejected { .. } => s.rejected += 1,
        ClientEvent::Disconnected { reason, .. } => {
            s.connected = None;
            s.authorized = false;
            s.last_error = Some(reason);
        }
    }
}

/// Saves the book at `path` every [`BOOK_EVERY`] while it changes, until `stop`. A save that
/// fails is tried again at the next.
fn keep_book(mined: &Mutex<MinedBlocks>, path: &Path, stop: &AtomicBool) {
    let mut next = Instant::now() + BOOK_EVERY;
    while !stop.load(Ordering::SeqCst) {
        if Instant::now() >= next {
            next += BOOK_EVERY;
            let mut book = mined.lock().unwrap_or_else(|p| p.into_inner());
            if book.dirty() {
                let _ = book.save(path);
            }
        }
        std::thread::sleep(WATCH_TICK);
    }
}

/// Syncs the monitor's task with the switcher's state every tick and feeds the owner's load
/// to the switcher every second, until `stop`.
fn watch(handle: &SwitcherHandle, monitor: &MonitorHandle, device: &str, stop: &AtomicBool) {
    let mut load = OwnerLoad::new();
    let mut next_load = Instant::now();
    while !stop.load(Ordering::SeqCst) {
        let Ok(state) = handle.state() else { return };
        monitor.set_task(device, monitor_task(state.task));
        if Instant::now() >= next_load {
            next_load += LOAD_EVERY;
            if let Some(l) = load.sample() {
                if handle.owner_load(l).is_err() {
                    return;
                }
            }
        }
        std::thread::sleep(WATCH_TICK);
    }
}
