//! The search loop: a [`Kernel`] on N threads over a [`WorkTemplate`], until stopped.
//!
//! Thread `t` of `N` owns extranonce2 values `t, t + N, t + 2N, ...` (little-endian in
//! `extranonce2_size` bytes), so no two threads ever build the same header. For each
//! extranonce2 it rolls the version through every value the BIP 310 mask allows, and for each
//! header scans the whole nonce space in batches. When its extranonce2 slice is exhausted it
//! adds one second to ntime, up to `ntime_max_roll`, and starts the slice again; when that is
//! exhausted too it waits for new work or a stop.
//!
//! Stop requests, pause requests and new work are checked between batches, so each takes
//! effect within one batch per thread: at the default [`DEFAULT_BATCH`] of 8,192 nonces that is
//! about 0.4 ms at 20 MH/s per thread.
//!
//! A pause ([`Searcher::pause`]) parks every thread on a condition variable where it stands, so
//! [`Searcher::resume`] continues the search without spawning threads and without hashing any
//! nonce twice: the worker's switcher gives the cores to an AI job and back this way.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::{Found, Job, Kernel, WorkTemplate};

/// Default nonces per kernel call: about 0.4 ms at 20 MH/s, which bounds stop latency.
pub const DEFAULT_BATCH: u32 = 8_192;

const NONCE_SPACE: u64 = 1 << 32;

/// How a [`Searcher`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchConfig {
    /// Worker threads; must not exceed the template's extranonce2 space.
    pub threads: usize,
    /// Nonces per kernel call; stop requests and new work are seen between calls.
    pub batch: u32,
}

impl Default for SearchConfig {
    fn default() -> Self {
        Self {
            threads: 1,
            batch: DEFAULT_BATCH,
        }
    }
}

/// A nonce that met the share target, with everything needed to rebuild its header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Share {
    /// Generation of the template it was found on: 0 for the first, then as returned by
    /// [`Searcher::replace_work`].
    pub generation: u64,
    /// The extranonce2 bytes.
    pub extranonce2: Vec<u8>,
    /// The header time.
    pub ntime: u32,
    /// The (possibly rolled) header version.
    pub version: u32,
    /// The nonce.
    pub nonce: u32,
    /// SHA-256d of the header, internal byte order.
    pub hash: [u8; 32],
}

/// What a search did, returned when it stops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SearchStats {
    /// Nonces hashed, all threads.
    pub hashes: u64,
    /// Shares reported.
    pub shares: u64,
    /// From start until every thread had stopped.
    pub elapsed: Duration,
    /// From the stop request until every thread had stopped.
    pub stop_latency: Duration,
}

/// Why a search could not start or take new work.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// Zero threads requested.
    #[error("a search needs at least one thread")]
    NoThreads,
    /// Zero batch size.
    #[error("the batch size must be at least one nonce")]
    EmptyBatch,
    /// More threads than extranonce2 values, so threads cannot have disjoint slices.
    #[error("{threads} threads exceed the extranonce2 space of {space} values")]
    TooManyThreads {
        /// Threads requested.
        threads: usize,
        /// Extranonce2 values available.
        space: u128,
    },
    /// The OS refused to start a thread.
    #[error("spawning a search thread: {0}")]
    Spawn(#[from] std::io::Error),
}

/// The current template and its generation, replaced together.
struct Current {
    work: Arc<WorkTemplate>,
    generation: u64,
    /// Threads parked by a pause.
    parked: usize,
    /// Threads waiting for new work (their work is exhausted).
    waiting: usize,
    /// Threads that have returned (stop or panic).
    exited: usize,
}

struct Shared {
    stop: AtomicBool,
    /// Set by [`Searcher::pause`]: threads park between batches until it is cleared.
    paused: AtomicBool,
    /// Mirror of `current.generation`, read between batches without the lock.
    generation: AtomicU64,
    current: Mutex<Current>,
    /// Signalled on new work and on stop, for threads that have exhausted their work.
    changed: Condvar,
    /// Signalled when a thread parks, unparks, waits for work or exits, for `pause`/`resume`.
    idle_changed: Condvar,
    hashes: Vec<AtomicU64>,
    /// Per thread: the generation whose work it has exhausted, or `u64::MAX`.
    exhausted: Vec<AtomicU64>,
    shares: AtomicU64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Current> {
        // The guarded data is replaced whole, so a panic elsewhere cannot leave it torn.
        self.current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn request_stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        // Taking the lock orders the store before any waiter's check-then-wait.
        drop(self.lock());
        self.changed.notify_all();
        self.idle_changed.notify_all();
    }

    fn wait_idle<'a>(&self, current: MutexGuard<'a, Current>) -> MutexGuard<'a, Current> {
        self.idle_changed
            .wait(current)
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Parks the calling search thread while a pause is requested.
    fn park(&self) {
        let mut current = self.lock();
        if !self.paused.load(Ordering::SeqCst) || self.stop.load(Ordering::SeqCst) {
            return;
        }
        current.parked += 1;
        self.idle_changed.notify_all();
        while self.paused.load(Ordering::SeqCst) && !self.stop.load(Ordering::SeqCst) {
            current = self
                .changed
                .wait(current)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        current.parked -= 1;
        if current.parked == 0 {
            self.idle_changed.notify_all();
        }
    }
}

/// Counts a search thread as exited when it returns or unwinds.
struct ExitGuard(Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.lock().exited += 1;
        self.0.idle_changed.notify_all();
    }
}

/// Requests a stop from anywhere; cloneable and cheap.
#[derive(Clone)]
pub struct StopHandle(Arc<Shared>);

impl StopHandle {
    /// Asks every thread to stop after its current batch; does not wait.
    pub fn stop(&self) {
        self.0.request_stop();
    }

    /// True once a stop has been requested.
    pub fn is_stopped(&self) -> bool {
        self.0.stop.load(Ordering::SeqCst)
    }
}

impl std::fmt::Debug for StopHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StopHandle")
            .field("stopped", &self.is_stopped())
            .finish()
    }
}

type OnShare = dyn Fn(Share) + Send + Sync;

/// A running search. Dropping it stops and joins its threads.
pub struct Searcher {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
    started: Instant,
}

impl std::fmt::Debug for Searcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Searcher")
            .field("threads", &self.threads.len())
            .field("hashes", &self.hashes())
            .field("shares", &self.shares())
            .finish()
    }
}

impl Searcher {
    /// Starts `config.threads` threads searching `work` with `kernel`, calling `on_share`
    /// (from the finding thread) for every nonce that meets `work.target`.
    pub fn start<F>(
        kernel: Arc<dyn Kernel>,
        work: WorkTemplate,
        config: SearchConfig,
        on_share: F,
    ) -> Result<Self, SearchError>
    where
        F: Fn(Share) + Send + Sync + 'static,
    {
        if config.batch == 0 {
            return Err(SearchError::EmptyBatch);
        }
        check_threads(config.threads, &work)?;
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            paused: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            current: Mutex::new(Current {
                work: Arc::new(work),
                generation: 0,
                parked: 0,
                waiting: 0,
                exited: 0,
            }),
            changed: Condvar::new(),
            idle_changed: Condvar::new(),
            hashes: (0..config.threads).map(|_| AtomicU64::new(0)).collect(),
            exhausted: (0..config.threads)
                .map(|_| AtomicU64::new(u64::MAX))
                .collect(),
            shares: AtomicU64::new(0),
        });
        let on_share: Arc<OnShare> = Arc::new(on_share);
        let mut searcher = Self {
            shared,
            threads: Vec::new(),
            started: Instant::now(),
        };
        for index in 0..config.threads {
            let worker = Worker {
                index,
                threads: config.threads,
                batch: u64::from(config.batch),
                kernel: Arc::clone(&kernel),
                shared: Arc::clone(&searcher.shared),
                on_share: Arc::clone(&on_share),
            };
            let handle = std::thread::Builder::new()
                .name(format!("aic-search-{index}"))
                .spawn(move || worker.run())?;
            // On an early return the Drop impl stops and joins those already started.
            searcher.threads.push(handle);
        }
        Ok(searcher)
    }

    /// Replaces the template; every thread switches at its next batch (Stratum clean_jobs).
    /// Returns the new generation, which shares found on this template carry. Fails, keeping
    /// the old template, if the new one's extranonce2 space is smaller than the thread count.
    pub fn replace_work(&self, work: WorkTemplate) -> Result<u64, SearchError> {
        check_threads(self.threads.len(), &work)?;
        let generation = {
            let mut current = self.shared.lock();
            current.generation += 1;
            current.work = Arc::new(work);
            self.shared
                .generation
                .store(current.generation, Ordering::SeqCst);
            current.generation
        };
        self.shared.changed.notify_all();
        Ok(generation)
    }

    /// Asks every thread to park after its current batch and waits until none is hashing
    /// (each is parked, waiting for new work, or has exited). Returns the time from the
    /// request until the last thread stopped hashing. The threads keep their place in the
    /// search; [`Searcher::resume`] continues it. Call `pause` and `resume` from one thread.
    pub fn pause(&self) -> Duration {
        let requested = Instant::now();
        self.shared.paused.store(true, Ordering::SeqCst);
        let n = self.threads.len();
        let mut current = self.shared.lock();
        while current.parked + current.waiting + current.exited < n
            && !self.shared.stop.load(Ordering::SeqCst)
        {
            current = self.shared.wait_idle(current);
        }
        requested.elapsed()
    }

    /// Lifts a pause and waits until every parked thread has woken and is back in its search
    /// loop (about to hash its next batch). Returns the time from the call until then.
    pub fn resume(&self) -> Duration {
        let requested = Instant::now();
        self.shared.paused.store(false, Ordering::SeqCst);
        let mut current = self.shared.lock();
        self.shared.changed.notify_all();
        while current.parked > 0 && !self.shared.stop.load(Ordering::SeqCst) {
            current = self.shared.wait_idle(current);
        }
        requested.elapsed()
    }

    /// True while a pause is requested.
    pub fn is_paused(&self) -> bool {
        self.shared.paused.load(Ordering::SeqCst)
    }

    /// Threads parked by a pause right now.
    pub fn parked(&self) -> usize {
        self.shared.lock().parked
    }

    /// A handle that can request a stop from another thread.
    pub fn stop_handle(&self) -> StopHandle {
        StopHandle(Arc::clone(&self.shared))
    }

    /// Nonces hashed so far, all threads.
    pub fn hashes(&self) -> u64 {
        self.hashes_per_thread().iter().sum()
    }

    /// Nonces hashed so far by each thread.
    pub fn hashes_per_thread(&self) -> Vec<u64> {
        self.shared
            .hashes
            .iter()
            .map(|h| h.load(Ordering::Relaxed))
            .collect()
    }

    /// Shares reported so far.
    pub fn shares(&self) -> u64 {
        self.shared.shares.load(Ordering::Relaxed)
    }

    /// Time since the search started.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// True when every thread has searched all of the current template (every extranonce2,
    /// version and ntime) and is idle, waiting for new work.
    pub fn exhausted(&self) -> bool {
        let generation = self.shared.generation.load(Ordering::SeqCst);
        self.shared
            .exhausted
            .iter()
            .all(|g| g.load(Ordering::SeqCst) == generation)
    }

    /// Stops every thread after its current batch, joins them and reports. A panic in a
    /// thread (from the share callback or the kernel) is resumed here.
    pub fn stop(mut self) -> SearchStats {
        let requested = Instant::now();
        self.shared.request_stop();
        let mut panic = None;
        for handle in self.threads.drain(..) {
            if let Err(payload) = handle.join() {
                panic.get_or_insert(payload);
            }
        }
        let stop_latency = requested.elapsed();
        if let Some(payload) = panic {
            std::panic::resume_unwind(payload);
        }
        SearchStats {
            hashes: self.hashes(),
            shares: self.shares(),
            elapsed: self.started.elapsed(),
            stop_latency,
        }
    }
}

impl Drop for Searcher {
    fn drop(&mut self) {
        self.shared.request_stop();
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

/// Runs a search for `warmup`, then stops it and returns the time from the stop request until
/// every thread had joined. Shares are discarded. For benchmarks.
pub fn measure_stop_latency(
    kernel: Arc<dyn Kernel>,
    work: WorkTemplate,
    config: SearchConfig,
    warmup: Duration,
) -> Result<Duration, SearchError> {
    let searcher = Searcher::start(kernel, work, config, |_| {})?;
    std::thread::sleep(warmup);
    Ok(searcher.stop().stop_latency)
}

fn check_threads(threads: usize, work: &WorkTemplate) -> Result<(), SearchError> {
    if threads == 0 {
        return Err(SearchError::NoThreads);
    }
    let space = work.extranonce2_space();
    if threads as u128 > space {
        return Err(SearchError::TooManyThreads { threads, space });
    }
    Ok(())
}

/// Why a worker left a template.
enum Leave {
    Stop,
    NewWork,
    Exhausted,
}

struct Worker {
    index: usize,
    threads: usize,
    batch: u64,
    kernel: Arc<dyn Kernel>,
    shared: Arc<Shared>,
    on_share: Arc<OnShare>,
}

impl Worker {
    fn run(self) {
        let _exit = ExitGuard(Arc::clone(&self.shared));
        let mut found = Vec::new();
        loop {
            let (work, generation) = {
                let current = self.shared.lock();
                (Arc::clone(&current.work), current.generation)
            };
            match self.search(&work, generation, &mut found) {
                Leave::Stop => return,
                Leave::NewWork => continue,
                Leave::Exhausted => {
                    self.shared.exhausted[self.index].store(generation, Ordering::SeqCst);
                    let mut current = self.shared.lock();
                    current.waiting += 1;
                    self.shared.idle_changed.notify_all();
                    while current.generation == generation
                        && !self.shared.stop.load(Ordering::SeqCst)
                    {
                        current = self
                            .shared
                            .changed
                            .wait(current)
                            .unwrap_or_else(|poisoned| poisoned.into_inner());
                    }
                    current.waiting -= 1;
                    drop(current);
                    self.shared.exhausted[self.index].store(u64::MAX, Ordering::SeqCst);
                    if self.shared.stop.load(Ordering::SeqCst) {
                        return;
                    }
                }
            }
        }
    }

    /// Searches this thread's share of `work` until a stop, new work, or the end of it.
    fn search(&self, work: &WorkTemplate, generation: u64, found: &mut Vec<Found>) -> Leave {
        let space = work.extranonce2_space();
        let size = work.extranonce2_size;
        for roll in 0..=work.ntime_max_roll {
            let ntime = work.ntime.wrapping_add(roll);
            let mut slot = Some(self.index as u64);
            while let Some(extranonce2_index) = slot {
                let mut extranonce2 = vec![0u8; size];
                let le = extranonce2_index.to_le_bytes();
                let n = size.min(8);
                extranonce2[..n].copy_from_slice(&le[..n]);
                let root = work.merkle_root(&extranonce2);
                for version_index in 0..work.version_count() {
                    let version = work.rolled_version(version_index);
                    let job = Job {
                        header: work.header_with_root(&root, ntime, version),
                        target: work.target,
                    };
                    let mut start = 0u64;
                    while start < NONCE_SPACE {
                        if self.shared.paused.load(Ordering::Relaxed) {
                            self.shared.park();
                        }
                        if self.shared.stop.load(Ordering::Relaxed) {
                            return Leave::Stop;
                        }
                        if self.shared.generation.load(Ordering::Relaxed) != generation {
                            return Leave::NewWork;
                        }
                        let count = self.batch.min(NONCE_SPACE - start);
                        // Both fit: start < 2^32 and start + count <= 2^32.
                        self.kernel.search(&job, start as u32, count as u32, found);
                        self.shared.hashes[self.index].fetch_add(count, Ordering::Relaxed);
                        for hit in found.drain(..) {
                            self.shared.shares.fetch_add(1, Ordering::Relaxed);
                            (self.on_share)(Share {
                                generation,
                                extranonce2: extranonce2.clone(),
                                ntime,
                                version,
                                nonce: hit.nonce,
                                hash: hit.hash,
                            });
                        }
                        start += count;
                    }
                }
                slot = extranonce2_index
                    .checked_add(self.threads as u64)
                    .filter(|&next| u128::from(next) < space);
            }
        }
        Leave::Exhausted
    }
}
