//! Shards of a data set read through the worker cache, fetched when the loader first asks for
//! them: a training job starts on the first shard while the loader's threads fetch the next.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use aic_data::{ShardEntry, ShardSource};

use crate::{BlobCache, BlobId, Pins, Want};

/// A [`ShardSource`] over a [`BlobCache`]: each shard is fetched from `sources` unless the
/// cache has it, pinned for as long as this source lives, and read back verified.
#[derive(Debug)]
pub struct CacheSource {
    cache: BlobCache,
    sources: Vec<String>,
    pins: Mutex<HashMap<BlobId, Pins>>,
    moved: AtomicU64,
}

impl CacheSource {
    /// Shards from `cache`, missing ones fetched from `sources` (base URLs of nodes).
    pub fn new(cache: BlobCache, sources: Vec<String>) -> Self {
        Self {
            cache,
            sources,
            pins: Mutex::new(HashMap::new()),
            moved: AtomicU64::new(0),
        }
    }

    /// Bytes received over the network so far.
    pub fn bytes_moved(&self) -> u64 {
        self.moved.load(Ordering::Relaxed)
    }

    /// Shards pinned so far (each fetched or found once).
    pub fn shards_pinned(&self) -> usize {
        self.pins.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl ShardSource for CacheSource {
    fn shard(&self, entry: &ShardEntry) -> io::Result<Vec<u8>> {
        let id: BlobId = entry
            .blake3
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e}")))?;
        let pinned = self
            .pins
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&id);
        if !pinned {
            let want = Want {
                id,
                bytes: entry.bytes,
            };
            let (pins, report) = self
                .cache
                .ensure(&[want], &self.sources, &|_| {})
                .map_err(io::Error::other)?;
            self.moved.fetch_add(report.bytes(), Ordering::Relaxed);
            self.pins
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id, pins);
        }
        self.cache.store().get(&id).map_err(io::Error::other)
    }
}
