//! The streaming loader: batches of one split of a digitized data set, in the order
//! [`EpochOrder`] defines (a pure function of seed, epoch and shard sample counts), with shards
//! fetched from a [`ShardSource`], checked against the manifest and decompressed by background
//! threads ahead of use. Training starts when the first window's shards are in; a run resumes
//! at any `(epoch, position)`. The order and the batches do not depend on the number of
//! threads.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::dataset::shard_path;
use crate::manifest::{Column, DType, DatasetManifest, ShardEntry};
use crate::order::{EpochOrder, SampleRef};
use crate::shard::{Shard, ShardError};

/// Where shard files come from: a local directory, a network cache. Blocking; called from
/// several threads at once.
pub trait ShardSource: Send + Sync {
    /// The bytes of the shard file `entry` names (`entry.blake3`), as stored (compressed).
    /// The loader checks them; the source need not.
    fn shard(&self, entry: &ShardEntry) -> std::io::Result<Vec<u8>>;
}

/// Shards in a data set directory: `DIR/shards/<blake3>`.
#[derive(Clone, Debug)]
pub struct DirSource {
    dir: PathBuf,
}

impl DirSource {
    /// The shards of the data set directory `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }
}

impl ShardSource for DirSource {
    fn shard(&self, entry: &ShardEntry) -> std::io::Result<Vec<u8>> {
        std::fs::read(shard_path(&self.dir, &entry.blake3))
    }
}

/// Why the loader failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoaderError {
    /// The manifest has no split of that name.
    #[error("no split {0:?}")]
    NoSplit(String),
    /// The batch size is zero.
    #[error("batch size is zero")]
    ZeroBatch,
    /// A position past the end of the epoch.
    #[error("position {position} is past the epoch's {len} samples")]
    PositionOutOfRange {
        /// The position asked for.
        position: u64,
        /// Samples in the epoch.
        len: u64,
    },
    /// The source could not deliver a shard.
    #[error("shard {index} ({blake3}): {source}")]
    Fetch {
        /// Index in the manifest's shards.
        index: u32,
        /// Its address.
        blake3: String,
        /// The source's error.
        source: std::io::Error,
    },
    /// A shard's bytes are not the manifest's (tampered, truncated) or malformed.
    #[error("shard {index} ({blake3}): {source}")]
    Shard {
        /// Index in the manifest's shards.
        index: u32,
        /// Its address.
        blake3: String,
        /// What is wrong.
        source: ShardError,
    },
}

/// Loader settings. The batches depend on `seed`, `shuffle`, `window_shards` and
/// `batch_size`; never on `workers` or `prefetch_shards`.
#[derive(Clone, Debug)]
pub struct LoaderConfig {
    /// Samples per batch (the last batch of an epoch may be shorter).
    pub batch_size: usize,
    /// Seed of the order.
    pub seed: u64,
    /// Shuffle (else the split's order).
    pub shuffle: bool,
    /// Shards whose samples are shuffled together.
    pub window_shards: usize,
    /// Shards fetched ahead of the current window.
    pub prefetch_shards: usize,
    /// Background threads that fetch, check and decompress shards (0: the caller's thread
    /// does it when it needs a shard).
    pub workers: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        Self {
            batch_size: 32,
            seed: 0,
            shuffle: true,
            window_shards: 4,
            prefetch_shards: 4,
            workers: 2,
        }
    }
}

/// One column of a batch: `len * elements` values, sample after sample.
#[derive(Clone, Debug, PartialEq)]
pub enum BatchData {
    /// Real values (`FP32`, `FP16` widened, `UINT8` with `q8` dequantized).
    F32(Vec<f32>),
    /// Unsigned integers (`UINT8` without `q8`, `UINT16`, `UINT32`).
    U32(Vec<u32>),
    /// `INT64`.
    I64(Vec<i64>),
}

/// A batch: contiguous buffers, one per column.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// The epoch.
    pub epoch: u64,
    /// Position in the epoch of the first sample.
    pub start: u64,
    /// Samples in the batch.
    pub len: usize,
    /// Where each sample came from: (manifest shard index, sample in shard).
    pub sources: Vec<(u32, u64)>,
    /// The columns, in the manifest's order.
    pub columns: Vec<(Column, BatchData)>,
}

impl Batch {
    /// The real values of column `name`.
    pub fn f32(&self, name: &str) -> Option<&[f32]> {
        self.columns.iter().find_map(|(c, d)| match d {
            BatchData::F32(v) if c.name == name => Some(v.as_slice()),
            _ => None,
        })
    }

    /// Takes the real values of column `name` out of the batch (the buffer moves, no copy);
    /// the column is left empty.
    pub fn take_f32(&mut self, name: &str) -> Option<Vec<f32>> {
        self.columns.iter_mut().find_map(|(c, d)| match d {
            BatchData::F32(v) if c.name == name => Some(std::mem::take(v)),
            _ => None,
        })
    }

    /// The integers of column `name`.
    pub fn u32(&self, name: &str) -> Option<&[u32]> {
        self.columns.iter().find_map(|(c, d)| match d {
            BatchData::U32(v) if c.name == name => Some(v.as_slice()),
            _ => None,
        })
    }
}

/// Appends the values of `bytes` (one field of column `c`) to `out`: the one copy out of the
/// decompressed shard.
fn decode_into(c: &Column, bytes: &[u8], out: &mut BatchData) {
    match (out, c.dtype) {
        (BatchData::F32(v), DType::Fp32) => v.extend(
            bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        (BatchData::F32(v), DType::Fp16) => v.extend(
            bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()),
        ),
        (BatchData::F32(v), DType::Uint8) => {
            let q = c.q8.unwrap_or(crate::Q8 {
                scale: 1.0,
                offset: 0.0,
            });
            v.extend(bytes.iter().map(|&b| q.offset + q.scale * f32::from(b)));
        }
        (BatchData::U32(v), DType::Uint8) => v.extend(bytes.iter().map(|&b| u32::from(b))),
        (BatchData::U32(v), DType::Uint16) => v.extend(
            bytes
                .chunks_exact(2)
                .map(|b| u32::from(u16::from_le_bytes([b[0], b[1]]))),
        ),
        (BatchData::U32(v), DType::Uint32) => v.extend(
            bytes
                .chunks_exact(4)
                .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])),
        ),
        (BatchData::I64(v), _) => v.extend(bytes.chunks_exact(8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            i64::from_le_bytes(a)
        })),
        // Buffers are made for their column by `empty_data`.
        _ => {}
    }
}

fn empty_data(c: &Column, capacity: usize) -> BatchData {
    let n = capacity * c.elements().unwrap_or(0);
    match (c.dtype, c.q8) {
        (DType::Fp32 | DType::Fp16, _) | (DType::Uint8, Some(_)) => {
            BatchData::F32(Vec::with_capacity(n))
        }
        (DType::Int64, _) => BatchData::I64(Vec::with_capacity(n)),
        _ => BatchData::U32(Vec::with_capacity(n)),
    }
}

/// Batches of one split.
pub struct Loader {
    columns: Vec<Column>,
    /// The split's shards: (manifest index, entry).
    shards: Arc<Vec<(u32, ShardEntry)>>,
    counts: Vec<u64>,
    source: Arc<dyn ShardSource>,
    config: LoaderConfig,
}

impl std::fmt::Debug for Loader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loader")
            .field("shards", &self.shards.len())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Loader {
    /// A loader of split `split` of `manifest`, its shards from `source`.
    pub fn new(
        manifest: &DatasetManifest,
        split: &str,
        source: Arc<dyn ShardSource>,
        config: LoaderConfig,
    ) -> Result<Self, LoaderError> {
        if config.batch_size == 0 {
            return Err(LoaderError::ZeroBatch);
        }
        let s = manifest
            .splits
            .get(split)
            .ok_or_else(|| LoaderError::NoSplit(split.to_owned()))?;
        // In range: a validated manifest's splits name existing shards.
        let shards: Vec<(u32, ShardEntry)> = s
            .shards
            .iter()
            .filter_map(|&i| manifest.shards.get(i as usize).map(|e| (i, e.clone())))
            .collect();
        Ok(Self {
            columns: manifest.columns.clone(),
            counts: shards.iter().map(|(_, e)| e.samples).collect(),
            shards: Arc::new(shards),
            source,
            config,
        })
    }

    /// Samples per epoch.
    pub fn samples(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The order of epoch `epoch`.
    pub fn order(&self, epoch: u64) -> EpochOrder {
        EpochOrder::new(
            self.config.seed,
            epoch,
            &self.counts,
            self.config.window_shards,
            self.config.shuffle,
        )
    }

    /// The batches of epoch `epoch` from its start.
    pub fn epoch(&self, epoch: u64) -> Batches {
        Batches::new(self, epoch, self.order(epoch), 0)
    }

    /// The batches of epoch `epoch` from position `position` on (the same samples, in the
    /// same order, as the tail of [`epoch`](Self::epoch); batches are cut from `position`).
    pub fn resume(&self, epoch: u64, position: u64) -> Result<Batches, LoaderError> {
        let order = self.order(epoch);
        if position > order.len() {
            return Err(LoaderError::PositionOutOfRange {
                position,
                len: order.len(),
            });
        }
        Ok(Batches::new(self, epoch, order, position))
    }
}

type Fetched = Result<Arc<Shard>, LoaderError>;

/// A loaded window: its index, its samples in reading order, its shards by split position.
type Window = (usize, Vec<SampleRef>, HashMap<u32, Arc<Shard>>);

struct PrefetchState {
    /// Next sequence number (index in the epoch's shard order) a worker takes.
    next: usize,
    /// Sequence numbers below this are no longer needed; workers stay within `ahead` of it.
    released: usize,
    done: BTreeMap<usize, Fetched>,
    stop: bool,
}

struct Prefetch {
    state: Mutex<PrefetchState>,
    ready: Condvar,
}

struct Fetcher {
    columns: Vec<Column>,
    shards: Arc<Vec<(u32, ShardEntry)>>,
    source: Arc<dyn ShardSource>,
    /// Shard order of the epoch (positions in the split).
    order: Vec<u32>,
}

impl Fetcher {
    fn fetch(&self, seq: usize) -> Fetched {
        let position = self.order[seq] as usize;
        let (index, entry) = &self.shards[position];
        let bytes = self
            .source
            .shard(entry)
            .map_err(|source| LoaderError::Fetch {
                index: *index,
                blake3: entry.blake3.clone(),
                source,
            })?;
        Shard::open(&bytes, entry, &self.columns)
            .map(Arc::new)
            .map_err(|source| LoaderError::Shard {
                index: *index,
                blake3: entry.blake3.clone(),
                source,
            })
    }
}

fn lock(m: &Mutex<PrefetchState>) -> MutexGuard<'_, PrefetchState> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Tells the consumer's side when it waits for data: `notify(true)` once it has waited `after`
/// for the next shard, `notify(false)` when the shard arrives (only after a `true`). A worker
/// lends its device to other work for such a wait (the switcher's `wait data`); waits shorter
/// than `after` are not worth a hand-over and are not reported. Called on the consumer's
/// thread, with no lock held.
#[derive(Clone)]
pub struct WaitHook {
    /// How long a wait must last before it is reported.
    pub after: Duration,
    /// Told `true` when a long wait starts, `false` when it ends.
    pub notify: Arc<dyn Fn(bool) + Send + Sync>,
}

impl std::fmt::Debug for WaitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WaitHook")
            .field("after", &self.after)
            .finish_non_exhaustive()
    }
}

/// The batches of one epoch, an iterator; dropping it stops its threads.
pub struct Batches {
    hook: Option<WaitHook>,
    epoch: u64,
    batch_size: usize,
    order: EpochOrder,
    position: u64,
    fetcher: Arc<Fetcher>,
    prefetch: Arc<Prefetch>,
    threads: Vec<JoinHandle<()>>,
    /// The current window: its index, its samples, and its shards by split position.
    window: Option<Window>,
    failed: bool,
}

impl std::fmt::Debug for Batches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batches")
            .field("epoch", &self.epoch)
            .field("position", &self.position)
            .finish_non_exhaustive()
    }
}

impl Batches {
    fn new(loader: &Loader, epoch: u64, order: EpochOrder, position: u64) -> Self {
        let window_shards = loader.config.window_shards.max(1);
        let first_seq = order.first_shard_of_window(order.window_of(position));
        let fetcher = Arc::new(Fetcher {
            columns: loader.columns.clone(),
            shards: Arc::clone(&loader.shards),
            source: Arc::clone(&loader.source),
            order: order.shard_order().to_vec(),
        });
        let prefetch = Arc::new(Prefetch {
            state: Mutex::new(PrefetchState {
                next: first_seq,
                released: first_seq,
                done: BTreeMap::new(),
                stop: false,
            }),
            ready: Condvar::new(),
        });
        let ahead = window_shards + loader.config.prefetch_shards;
        let total = order.shard_order().len();
        let threads = (0..loader.config.workers)
            .map(|_| {
                let fetcher = Arc::clone(&fetcher);
                let prefetch = Arc::clone(&prefetch);
                std::thread::spawn(move || worker(&fetcher, &prefetch, ahead, total))
            })
            .collect();
        Self {
            hook: None,
            epoch,
            batch_size: loader.config.batch_size,
            order,
            position,
            fetcher,
            prefetch,
            threads,
            window: None,
            failed: false,
        }
    }

    /// Position in the epoch of the next sample.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Reports this iterator's long waits for data to `hook` from now on.
    pub fn with_wait_hook(mut self, hook: WaitHook) -> Self {
        self.hook = Some(hook);
        self
    }

    /// The shard of sequence number `seq`, from a worker or fetched here.
    fn take_shard(&self, seq: usize) -> Fetched {
        let mut state = lock(&self.prefetch.state);
        let mut since: Option<Instant> = None;
        let mut told = false;
        loop {
            if let Some(done) = state.done.remove(&seq) {
                drop(state);
                if let (true, Some(h)) = (told, &self.hook) {
                    (h.notify)(false);
                }
                return done;
            }
            if self.threads.is_empty() {
                drop(state);
                return self.fetcher.fetch(seq);
            }
            state = match &self.hook {
                Some(h) if !told => {
                    let left = h
                        .after
                        .saturating_sub(since.get_or_insert_with(Instant::now).elapsed());
                    if left.is_zero() {
                        drop(state);
                        (h.notify)(true);
                        told = true;
                        lock(&self.prefetch.state)
                    } else {
                        self.prefetch
                            .ready
                            .wait_timeout(state, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                }
                _ => self
                    .prefetch
                    .ready
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// Loads window `w` (and lets the workers move past the previous one).
    fn load_window(&mut self, w: usize) -> Result<(), LoaderError> {
        let window_shards = self.order.window_shards(w).to_vec();
        let first = self.order.first_shard_of_window(w);
        {
            let mut state = lock(&self.prefetch.state);
            state.released = first;
            state.done.retain(|&k, _| k >= first);
        }
        self.prefetch.ready.notify_all();
        let mut shards = HashMap::new();
        for (k, &position) in window_shards.iter().enumerate() {
            shards.insert(position, self.take_shard(first + k)?);
        }
        self.window = Some((w, self.order.window_samples(w), shards));
        Ok(())
    }

    fn next_batch(&mut self) -> Result<Option<Batch>, LoaderError> {
        let len = self.order.len();
        if self.position >= len {
            return Ok(None);
        }
        let n = (self.batch_size as u64).min(len - self.position) as usize;
        let fetcher = Arc::clone(&self.fetcher);
        let columns = &fetcher.columns;
        let mut data: Vec<BatchData> = columns.iter().map(|c| empty_data(c, n)).collect();
        let mut sources = Vec::with_capacity(n);
        let start = self.position;
        for p in start..start + n as u64 {
            let w = self.order.window_of(p);
            if self.window.as_ref().map(|(cur, _, _)| *cur) != Some(w) {
                self.load_window(w)?;
            }
            let Some((_, samples, shards)) = &self.window else {
                break;
            };
            let r = samples[(p - self.order.window_start(w)) as usize];
            let Some(shard) = shards.get(&r.shard) else {
                break;
            };
            for ((c, column), out) in columns.iter().enumerate().zip(&mut data) {
                // In range: the order only names samples the manifest (and the checked shard)
                // holds.
                if let Ok(bytes) = shard.field(r.sample, c) {
                    decode_into(column, bytes, out);
                }
            }
            sources.push((self.fetcher.shards[r.shard as usize].0, r.sample));
        }
        self.position += n as u64;
        Ok(Some(Batch {
            epoch: self.epoch,
            start,
            len: sources.len(),
            sources,
            columns: columns.iter().cloned().zip(data).collect(),
        }))
    }
}

fn worker(fetcher: &Fetcher, prefetch: &Prefetch, ahead: usize, total: usize) {
    loop {
        let seq = {
            let mut state = lock(&prefetch.state);
            loop {
                state.next = state.next.max(state.released);
                if state.stop || state.next >= total {
                    return;
                }
                if state.next < state.released + ahead {
                    break;
                }
                state = prefetch
                    .ready
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            state.next += 1;
            state.next - 1
        };
        let fetched = fetcher.fetch(seq);
        let mut state = lock(&prefetch.state);
        if seq >= state.released {
            state.done.insert(seq, fetched);
        }
        drop(state);
        prefetch.ready.notify_all();
    }
}

impl Iterator for Batches {
    type Item = Result<Batch, LoaderError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        match self.next_batch() {
            Ok(batch) => batch.map(Ok),
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        lock(&self.prefetch.state).stop = true;
        self.prefetch.ready.notify_all();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
