//! The worker cache: one directory shared by every job (and every process) on a machine.
//!
//! - **Budget**: the blobs under `blobs/` may take at most `budget_bytes`. Before fetching,
//!   [`BlobCache::ensure`] evicts least recently used, unpinned blobs until the missing ones
//!   fit; if the pinned blobs and the ones asked for cannot fit, it fails with
//!   [`BlobError::BudgetExceeded`] and evicts nothing.
//! - **LRU order is the blobs' mtimes**: every use sets the file's mtime to now. The order thus
//!   survives restarts and is the same for every process sharing the directory, with no index
//!   file to keep consistent or to lose in a crash; the cost is one `futimens` per use. Ties
//!   (coarse-timestamp filesystems) break by id.
//! - **Pins** are shared `flock`s on `pins/<id>`, held by a [`Pins`] value and released when it
//!   drops (or when its process dies: the kernel drops the locks, so a crashed job never
//!   leaks a pin). The evictor takes an exclusive lock without waiting; if it cannot, the blob
//!   is pinned by someone, in this process or another. A job pins the blobs it asks for before
//!   they are fetched, so a blob is never evicted between arriving and being used.
//! - Evictions are serialized by an exclusive lock on `evict.lock`. Two processes fetching at
//!   the same time may each make room only for their own downloads, so the budget can be
//!   exceeded by in-flight downloads until the next eviction; part files are not counted.

use std::collections::HashSet;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::lock::{lock_path, Mode};
use crate::{BlobError, BlobId, BlobStore, FetchConfig, FetchReport, Fetcher, Progress};

/// How big the cache may grow and how it fetches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CacheConfig {
    /// Most bytes of blobs kept.
    pub budget_bytes: u64,
    /// How missing blobs are fetched.
    pub fetch: FetchConfig,
}

/// A blob a job needs, with its size (from the data set manifest) so room can be made first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Want {
    /// The blob.
    pub id: BlobId,
    /// Its size in bytes.
    pub bytes: u64,
}

/// Blobs a job holds; they are not evicted until this drops.
#[derive(Debug)]
pub struct Pins {
    ids: Vec<BlobId>,
    _locks: Vec<File>,
}

impl Pins {
    /// The pinned blobs.
    pub fn ids(&self) -> &[BlobId] {
        &self.ids
    }
}

/// The shared on-disk cache. Cheap to clone.
#[derive(Clone, Debug)]
pub struct BlobCache {
    dir: PathBuf,
    fetcher: Fetcher,
    budget: u64,
}

impl BlobCache {
    /// Opens (creating) the cache at `dir`.
    pub fn open(dir: &Path, config: CacheConfig) -> Result<BlobCache, BlobError> {
        let store = BlobStore::open(dir.join("blobs"))?;
        let pins = dir.join("pins");
        fs::create_dir_all(&pins).map_err(BlobError::io(format!("creating {}", pins.display())))?;
        Ok(BlobCache {
            dir: dir.to_owned(),
            fetcher: Fetcher::new(store, config.fetch),
            budget: config.budget_bytes,
        })
    }

    /// The store underneath (read blobs with [`BlobStore::open_blob`] while pinned).
    pub fn store(&self) -> &BlobStore {
        self.fetcher.store()
    }

    /// The client that fetches missing blobs into the cache.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// The byte budget.
    pub fn budget(&self) -> u64 {
        self.budget
    }

    fn pin_path(&self, id: &BlobId) -> PathBuf {
        self.dir.join("pins").join(id.to_hex())
    }

    /// Pins `ids` (present or not) until the returned value drops.
    pub fn pin(&self, ids: &[BlobId]) -> Result<Pins, BlobError> {
        let mut locks = Vec::with_capacity(ids.len());
        for id in ids {
            let path = self.pin_path(id);
            let f = lock_path(&path, Mode::Shared, true)
                .map_err(BlobError::io(format!("pinning {}", path.display())))?;
            locks.extend(f);
        }
        Ok(Pins {
            ids: ids.to_vec(),
            _locks: locks,
        })
    }

    /// Marks `id` as just used (moves it to the young end of the LRU order).
    pub fn touch(&self, id: &BlobId) -> Result<(), BlobError> {
        let path = self.store().path(id);
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(SystemTime::now()))
            .map_err(BlobError::io(format!("touching {}", path.display())))
    }

    /// The cached blobs, least recently used first, with their sizes.
    pub fn lru(&self) -> Result<Vec<(BlobId, u64)>, BlobError> {
        let mut all = Vec::new();
        for id in self.store().list()? {
            let Ok(meta) = fs::metadata(self.store().path(&id)) else {
                continue; // evicted meanwhile
            };
            let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            all.push((mtime, id, meta.len()));
        }
        all.sort();
        Ok(all.into_iter().map(|(_, id, len)| (id, len)).collect())
    }

    /// Bytes of cached blobs.
    pub fn used_bytes(&self) -> Result<u64, BlobError> {
        Ok(self.lru()?.iter().map(|(_, len)| len).sum())
    }

    /// Evicts unpinned blobs, oldest first, until `needed` more bytes fit in the budget.
    /// Returns the evicted ids.
    pub fn make_room(&self, needed: u64) -> Result<Vec<BlobId>, BlobError> {
        let lock_file = self.dir.join("evict.lock");
        let _guard = lock_path(&lock_file, Mode::Exclusive, true)
            .map_err(BlobError::io(format!("locking {}", lock_file.display())))?;
        let lru = self.lru()?;
        let used: u64 = lru.iter().map(|(_, len)| len).sum();
        if used.saturating_add(needed) <= self.budget {
            return Ok(Vec::new());
        }
        // First find what may go, then evict only if that is enough: a request that cannot
        // fit evicts nothing.
        let mut victims = Vec::new();
        let mut freeable = 0u64;
        for (id, len) in lru {
            if used.saturating_sub(freeable).saturating_add(needed) <= self.budget {
                break;
            }
            let path = self.pin_path(&id);
            let lock = lock_path(&path, Mode::Exclusive, false)
                .map_err(BlobError::io(format!("locking {}", path.display())))?;
            if let Some(lock) = lock {
                freeable += len;
                victims.push((id, len, lock));
            }
        }
        if used.saturating_sub(freeable).saturating_add(needed) > self.budget {
            return Err(BlobError::BudgetExceeded {
                budget: self.budget,
                pinned: used.saturating_sub(freeable).saturating_add(needed),
            });
        }
        let mut evicted = Vec::with_capacity(victims.len());
        for (id, _, lock) in victims {
            self.store().remove(&id)?;
            // Unlinked while locked: a pinner that opened the old file sees it is gone and
            // retries on a fresh one.
            let _ = fs::remove_file(self.pin_path(&id));
            drop(lock);
            evicted.push(id);
        }
        Ok(evicted)
    }

    /// Makes `wants` present and pinned: pins them, marks the present ones used, makes room
    /// for the missing ones and fetches only those. A second job asking for the same blobs
    /// moves no bytes.
    pub fn ensure(
        &self,
        wants: &[Want],
        sources: &[String],
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<(Pins, FetchReport), BlobError> {
        let ids: Vec<BlobId> = {
            let mut seen = HashSet::new();
            wants
                .iter()
                .map(|w| w.id)
                .filter(|id| seen.insert(*id))
                .collect()
        };
        let pins = self.pin(&ids)?;
        let mut missing = Vec::new();
        let mut needed = 0u64;
        let mut counted = HashSet::new();
        for w in wants {
            if self.store().has(&w.id) {
                self.touch(&w.id)?;
            } else if counted.insert(w.id) {
                missing.push(w.id);
                needed = needed.saturating_add(w.bytes);
            }
        }
        if missing.is_empty() {
            let report = FetchReport { blobs: Vec::new() };
            return Ok((pins, report));
        }
        self.make_room(needed)?;
        let report = self.fetcher.fetch(&missing, sources, progress)?;
        for id in &missing {
            self.touch(id)?;
        }
        Ok((pins, report))
    }
}
