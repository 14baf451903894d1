//! Shards of a data set read through the worker cache, fetched when the loader first asks for
//! them: a training job starts on the first shards while the loader's threads fetch the next.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};

use aic_data::{ShardEntry, ShardSource};

use crate::{BlobCache, BlobId, Want};

/// A [`ShardSource`] over a [`BlobCache`]: a shard is pinned, fetched from `sources` unless
/// the cache has it, read back verified, and unpinned. Nothing stays pinned between reads, so
/// a data set larger than the cache's budget streams through it (shards evicted since their
/// last read are fetched again) and a job holds no file descriptors per shard. A shard whose
/// cached copy fails its check (and is quarantined) is fetched once more before the read
/// fails. Two loader threads asking for the same missing shard at once fetch it once (the
/// second waits on the first's partial file) but may each make room for it.
#[derive(Debug)]
pub struct CacheSource {
    cache: BlobCache,
    sources: Vec<String>,
    moved: AtomicU64,
    fetched: AtomicU64,
}

impl CacheSource {
    /// Shards from `cache`, missing ones fetched from `sources` (base URLs of nodes).
    pub fn new(cache: BlobCache, sources: Vec<String>) -> Self {
        Self {
            cache,
            sources,
            moved: AtomicU64::new(0),
            fetched: AtomicU64::new(0),
        }
    }

    /// Bytes received over the network so far.
    pub fn bytes_moved(&self) -> u64 {
        self.moved.load(Ordering::Relaxed)
    }

    /// Shard reads that received bytes over the network (the others were cache hits).
    pub fn shards_fetched(&self) -> u64 {
        self.fetched.load(Ordering::Relaxed)
    }

    fn read(&self, want: Want) -> Result<Vec<u8>, crate::BlobError> {
        let (_pins, report) = self.cache.ensure(&[want], &self.sources, &|_| {})?;
        let moved = report.bytes();
        if moved > 0 {
            self.moved.fetch_add(moved, Ordering::Relaxed);
            self.fetched.fetch_add(1, Ordering::Relaxed);
        }
        self.cache.store().get(&want.id)
    }
}

impl ShardSource for CacheSource {
    fn shard(&self, entry: &ShardEntry) -> io::Result<Vec<u8>> {
        let id: BlobId = entry
            .blake3
            .parse()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, format!("{e}")))?;
        let want = Want {
            id,
            bytes: entry.bytes,
        };
        // A corrupt cached copy is quarantined by the failed read; the second `ensure` then
        // finds it missing and fetches it.
        self.read(want)
            .or_else(|_| self.read(want))
            .map_err(io::Error::other)
    }
}
