//! The content-addressed store: one file per blob, named by its BLAKE3.
//!
//! Layout under the root: `ab/abcd…` (fan-out by the first two hex digits), `tmp/` (writes in
//! progress), `partial/<id>.part` (resumable downloads, see `fetch`), `quarantine/<id>` (blobs
//! that failed verification on read, kept for inspection, one per id).
//!
//! What is verified where:
//! - Every write ([`BlobWriter`], `put_*`, a finished download) is hashed while written,
//!   fsynced and compared with its id before the rename that makes it visible.
//! - A full read ([`BlobStore::open_blob`], [`BlobStore::get`]) hashes as it goes; at the end a
//!   mismatch (bit rot, a file changed behind the store's back) is an error and the file is
//!   moved to `quarantine/`.
//! - A ranged read ([`BlobStore::open_range`]) is not verified: a range cannot be checked
//!   against a whole-file hash. It is for serving; the receiver verifies the whole blob.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::lock::try_lock_exclusive;
use crate::{BlobError, BlobId};

const TMP_DIR: &str = "tmp";
const PARTIAL_DIR: &str = "partial";
const QUARANTINE_DIR: &str = "quarantine";
/// Copy buffer for puts and full reads.
pub(crate) const CHUNK: usize = 256 * 1024;

static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A directory of blobs. Cheap to clone; clones share the directory.
///
/// # Invariants
/// A file at [`BlobStore::path`]`(id)` hashes to `id` (unless it rotted on disk, which a full
/// read detects). Any number of stores, in any number of processes, may share a root.
#[derive(Clone, Debug)]
pub struct BlobStore {
    root: Arc<PathBuf>,
}

fn fsync_dir(dir: &Path) -> Result<(), BlobError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(BlobError::io(format!("syncing {}", dir.display())))
}

impl BlobStore {
    /// Opens (creating) a store at `root` and removes temp files no live writer holds.
    pub fn open(root: impl Into<PathBuf>) -> Result<BlobStore, BlobError> {
        let root: PathBuf = root.into();
        for sub in [TMP_DIR, PARTIAL_DIR, QUARANTINE_DIR] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir)
                .map_err(BlobError::io(format!("creating {}", dir.display())))?;
        }
        let store = BlobStore {
            root: Arc::new(root),
        };
        store.clean_temps()?;
        Ok(store)
    }

    /// Every writer holds an exclusive lock on its temp file, so one we can lock is stale.
    fn clean_temps(&self) -> Result<(), BlobError> {
        let dir = self.root.join(TMP_DIR);
        let entries =
            fs::read_dir(&dir).map_err(BlobError::io(format!("listing {}", dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(file) = File::open(&path) else {
                continue;
            };
            if try_lock_exclusive(&file).unwrap_or(false) {
                let _ = fs::remove_file(&path);
            }
        }
        Ok(())
    }

    /// The store's directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where blob `id` lives (whether or not it is there).
    pub fn path(&self, id: &BlobId) -> PathBuf {
        let hex = id.to_hex();
        self.root.join(&hex[..2]).join(hex)
    }

    #[cfg(feature = "client")]
    pub(crate) fn partial_path(&self, id: &BlobId) -> PathBuf {
        self.root.join(PARTIAL_DIR).join(format!("{id}.part"))
    }

    /// True if the store holds `id`.
    pub fn has(&self, id: &BlobId) -> bool {
        self.path(id).is_file()
    }

    /// Size of blob `id` in bytes.
    pub fn len(&self, id: &BlobId) -> Result<u64, BlobError> {
        match fs::metadata(self.path(id)) {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(BlobError::NotFound(*id)),
            Err(e) => Err(BlobError::io(format!("reading the size of {id}"))(e)),
        }
    }

    /// A writer for a new blob. With `expected`, [`BlobWriter::finish`] refuses bytes that hash
    /// to anything else; without, the id is whatever they hash to.
    pub fn writer(&self, expected: Option<BlobId>) -> Result<BlobWriter, BlobError> {
        let name = format!(
            "{}-{}-{}.tmp",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        let tmp = self.root.join(TMP_DIR).join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(BlobError::io(format!("creating {}", tmp.display())))?;
        // Held until the writer ends: `open` of another store leaves a locked temp alone.
        file.lock()
            .map_err(BlobError::io(format!("locking {}", tmp.display())))?;
        Ok(BlobWriter {
            store: self.clone(),
            file: Some(BufWriter::with_capacity(CHUNK, file)),
            tmp,
            hasher: blake3::Hasher::new(),
            len: 0,
            expected,
            limit: u64::MAX,
        })
    }

    /// Stores everything `reader` yields; returns the id and the size.
    pub fn put_reader(
        &self,
        expected: Option<BlobId>,
        mut reader: impl Read,
    ) -> Result<(BlobId, u64), BlobError> {
        let mut w = self.writer(expected)?;
        let mut buf = vec![0u8; CHUNK];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(BlobError::io("reading the blob's source")(e)),
            };
            w.write_all(&buf[..n]).map_err(|e| w.take_error(e))?;
        }
        let len = w.len();
        Ok((w.finish()?, len))
    }

    /// Stores a copy of the file at `path`.
    pub fn put_file(
        &self,
        path: &Path,
        expected: Option<BlobId>,
    ) -> Result<(BlobId, u64), BlobError> {
        let f = File::open(path).map_err(BlobError::io(format!("opening {}", path.display())))?;
        self.put_reader(expected, f)
    }

    /// Stores `bytes`.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<BlobId, BlobError> {
        self.put_reader(None, bytes).map(|(id, _)| id)
    }

    /// Makes a finished, fsynced file the blob `id`: rename, then fsync the directory. The
    /// caller has verified the bytes.
    pub(crate) fn adopt(&self, from: &Path, id: &BlobId) -> Result<(), BlobError> {
        let to = self.path(id);
        let dir = to.parent().map(Path::to_owned).unwrap_or_default();
        let created = !dir.is_dir();
        if created {
            fs::create_dir_all(&dir)
                .map_err(BlobError::io(format!("creating {}", dir.display())))?;
        }
        fs::rename(from, &to).map_err(BlobError::io(format!("renaming into {}", to.display())))?;
        fsync_dir(&dir)?;
        if created {
            fsync_dir(&self.root)?;
        }
        Ok(())
    }

    /// Opens blob `id` for a full, verified read (see [`BlobReader`]).
    pub fn open_blob(&self, id: &BlobId) -> Result<BlobReader, BlobError> {
        let path = self.path(id);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::NotFound(*id)),
            Err(e) => return Err(BlobError::io(format!("opening {}", path.display()))(e)),
        };
        let len = file
            .metadata()
            .map_err(BlobError::io(format!("reading {}", path.display())))?
            .len();
        Ok(BlobReader {
            store: self.clone(),
            id: *id,
            file,
            hasher: blake3::Hasher::new(),
            len,
            read: 0,
            verified: false,
        })
    }

    /// The whole blob, verified.
    pub fn get(&self, id: &BlobId) -> Result<Vec<u8>, BlobError> {
        let mut r = self.open_blob(id)?;
        let mut out = Vec::with_capacity(usize::try_from(r.len()).unwrap_or(0));
        r.read_to_end(&mut out)
            .map_err(|e| BlobReader::error(*id, e))?;
        Ok(out)
    }

    /// Reads the whole blob and checks its hash; a corrupt blob is quarantined.
    pub fn verify(&self, id: &BlobId) -> Result<(), BlobError> {
        let mut r = self.open_blob(id)?;
        io::copy(&mut r, &mut io::sink()).map_err(|e| BlobReader::error(*id, e))?;
        Ok(())
    }

    /// Bytes `start..end` of blob `id`, unverified (for serving ranges; the receiver verifies
    /// the whole blob). `end` must not pass the blob's length.
    pub fn open_range(&self, id: &BlobId, start: u64, end: u64) -> Result<RangeReader, BlobError> {
        let path = self.path(id);
        let mut file = match File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(BlobError::NotFound(*id)),
            Err(e) => return Err(BlobError::io(format!("opening {}", path.display()))(e)),
        };
        let len = file
            .metadata()
            .map_err(BlobError::io(format!("reading {}", path.display())))?
            .len();
        if start > end || end > len {
            return Err(BlobError::RangeNotSatisfiable {
                id: *id,
                start,
                end,
                len,
            });
        }
        file.seek(SeekFrom::Start(start))
            .map_err(BlobError::io(format!("seeking {}", path.display())))?;
        Ok(RangeReader {
            inner: file.take(end - start),
            blob_len: len,
        })
    }

    /// Removes blob `id`; false if it was not there.
    pub fn remove(&self, id: &BlobId) -> Result<bool, BlobError> {
        match fs::remove_file(self.path(id)) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BlobError::io(format!("removing {id}"))(e)),
        }
    }

    /// Every blob in the store, sorted.
    pub fn list(&self) -> Result<Vec<BlobId>, BlobError> {
        let mut out = Vec::new();
        let entries = fs::read_dir(self.root.as_path())
            .map_err(BlobError::io(format!("listing {}", self.root.display())))?;
        for dir in entries.flatten() {
            let name = dir.file_name();
            let Some(prefix) = name.to_str() else {
                continue;
            };
            let is_fanout = prefix.len() == 2
                && prefix
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !is_fanout {
                continue;
            }
            let files = fs::read_dir(dir.path())
                .map_err(BlobError::io(format!("listing {}", dir.path().display())))?;
            for f in files.flatten() {
                if let Some(id) = f
                    .file_name()
                    .to_str()
                    .and_then(|n| n.parse::<BlobId>().ok())
                {
                    if id.to_hex().starts_with(prefix) {
                        out.push(id);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Moves a blob that failed verification out of the way.
    fn quarantine(&self, id: &BlobId) {
        let to = self.root.join(QUARANTINE_DIR).join(id.to_hex());
        if fs::rename(self.path(id), &to).is_err() {
            let _ = fs::remove_file(self.path(id));
        }
    }

    /// Opens the resumable download file of `id`, locked exclusively (waiting for another
    /// downloader of the same blob, in this process or another).
    #[cfg(feature = "client")]
    pub(crate) fn lock_partial(&self, id: &BlobId) -> Result<File, BlobError> {
        use crate::lock::{lock_path, Mode};
        let path = self.partial_path(id);
        lock_path(&path, Mode::Exclusive, true)
            .map_err(BlobError::io(format!("locking {}", path.display())))?
            .ok_or_else(|| {
                BlobError::io(format!("locking {}", path.display()))(
                    io::ErrorKind::WouldBlock.into(),
                )
            })
    }
}

/// A blob being written. Dropping it before [`BlobWriter::finish`] removes the temp file:
/// nothing appears at the final path.
#[derive(Debug)]
pub struct BlobWriter {
    store: BlobStore,
    file: Option<BufWriter<File>>,
    tmp: PathBuf,
    hasher: blake3::Hasher,
    len: u64,
    expected: Option<BlobId>,
    limit: u64,
}

impl BlobWriter {
    /// Refuses (with [`BlobError::TooLarge`]) more than `limit` bytes.
    pub fn with_limit(mut self, limit: u64) -> BlobWriter {
        self.limit = limit;
        self
    }

    /// Bytes written so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The [`BlobError`] inside an error from [`Write::write`], or an IO error.
    pub fn take_error(&self, e: io::Error) -> BlobError {
        if e.get_ref().is_some_and(|i| i.is::<BlobError>()) {
            if let Some(inner) = e.into_inner() {
                if let Ok(b) = inner.downcast::<BlobError>() {
                    return *b;
                }
            }
            return BlobError::TooLarge { limit: self.limit };
        }
        BlobError::io(format!("writing {}", self.tmp.display()))(e)
    }

    /// Syncs, verifies and renames the blob into place. On a hash mismatch the temp file is
    /// removed and nothing is stored. A blob already present is kept (the new copy dropped).
    pub fn finish(mut self) -> Result<BlobId, BlobError> {
        let file = self.file.take().ok_or_else(|| {
            BlobError::io("finishing a blob")(io::Error::other("writer already finished"))
        })?;
        let what = format!("syncing {}", self.tmp.display());
        let file = file
            .into_inner()
            .map_err(|e| BlobError::io(what.clone())(e.into_error()))?;
        file.sync_all().map_err(BlobError::io(what))?;
        let actual = BlobId::from_hash(self.hasher.finalize());
        let result = match self.expected {
            Some(expected) if expected != actual => {
                Err(BlobError::HashMismatch { expected, actual })
            }
            _ if self.store.has(&actual) => Ok(actual),
            _ => self.store.adopt(&self.tmp, &actual).map(|()| actual),
        };
        let _ = fs::remove_file(&self.tmp);
        drop(file);
        result
    }
}

impl Write for BlobWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.len.saturating_add(buf.len() as u64) > self.limit {
            return Err(io::Error::other(BlobError::TooLarge { limit: self.limit }));
        }
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| io::Error::other("writer already finished"))?;
        let n = file.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.as_mut().map_or(Ok(()), |f| f.flush())
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A full read of a blob that checks its hash: after the last byte, a read that finds the
/// bytes do not hash to the id fails with an [`io::ErrorKind::InvalidData`] error carrying
/// [`BlobError::HashMismatch`] (see [`BlobReader::error`]) and quarantines the file.
/// Consumers must read to the end (a read returning 0) before trusting the bytes.
#[derive(Debug)]
pub struct BlobReader {
    store: BlobStore,
    id: BlobId,
    file: File,
    hasher: blake3::Hasher,
    len: u64,
    read: u64,
    verified: bool,
}

impl BlobReader {
    /// The blob's size when opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for the empty blob.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The [`BlobError`] behind an error from [`Read::read`].
    pub fn error(id: BlobId, e: io::Error) -> BlobError {
        if e.get_ref().is_some_and(|i| i.is::<BlobError>()) {
            if let Some(Ok(b)) = e.into_inner().map(|i| i.downcast::<BlobError>()) {
                return *b;
            }
            return BlobError::io(format!("reading {id}"))(io::ErrorKind::InvalidData.into());
        }
        BlobError::io(format!("reading {id}"))(e)
    }
}

impl Read for BlobReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        if n == 0 && !buf.is_empty() && !self.verified {
            let actual = BlobId::from_hash(self.hasher.finalize());
            if actual != self.id {
                self.store.quarantine(&self.id);
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    BlobError::HashMismatch {
                        expected: self.id,
                        actual,
                    },
                ));
            }
            self.verified = true;
        }
        Ok(n)
    }
}

/// A byte range of a blob, unverified.
#[derive(Debug)]
pub struct RangeReader {
    inner: io::Take<File>,
    /// The whole blob's length.
    pub blob_len: u64,
}

impl RangeReader {
    /// Bytes left in the range.
    pub fn remaining(&self) -> u64 {
        self.inner.limit()
    }
}

impl Read for RangeReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf)
    }
}
