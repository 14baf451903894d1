//! The transfer client: fetches blobs by id over HTTP from one or more sources, with resume,
//! verification before visibility, and failover. A source is a node's base URL
//! (`http://host:port`) or a Unix socket serving the same API (`unix:/abs/path.sock`); both
//! transports ([`crate::transport`]) hand this file one body reader, so what is written,
//! hashed and verified does not depend on the transport.
//!
//! A download appends to `partial/<id>.part` in the store, locked exclusively for its whole
//! life (so two jobs, in one process or two, never write the same part; the second waits and
//! then finds the blob present). A later attempt (after a broken connection, or a restart)
//! hashes the bytes already there and asks for the rest with `Range: bytes=<offset>-`. The
//! part becomes the blob only after its BLAKE3 equals the id; on a mismatch it is truncated
//! (which source sent the bad bytes cannot be told) and the blob is fetched again, from the
//! next source.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::store::CHUNK;
use crate::transport::{Method, Transport};
use crate::{BlobError, BlobId, BlobStore};

/// How the client fetches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FetchConfig {
    /// Blobs in flight at once.
    pub concurrency: usize,
    /// Attempts per blob, per source (so `attempts_per_source * sources` in all).
    pub attempts_per_source: u32,
    /// Connecting to a source.
    pub connect_timeout: Duration,
    /// Longest wait for any read (headers or body) before the source counts as failed.
    pub read_timeout: Duration,
    /// A source delivering fewer bytes per second than this, once `grace` has passed in an
    /// attempt, counts as failed. 0 turns the floor off.
    pub min_bytes_per_sec: u64,
    /// Time before the floor applies (covers connection setup and slow starts).
    pub grace: Duration,
}

impl Default for FetchConfig {
    fn default() -> Self {
        FetchConfig {
            concurrency: 4,
            attempts_per_source: 2,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(15),
            min_bytes_per_sec: 256 * 1024,
            grace: Duration::from_secs(3),
        }
    }
}

/// What happened to one blob.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobReport {
    /// The blob.
    pub id: BlobId,
    /// The source that delivered the final bytes; `None` if the blob was already present.
    pub source: Option<String>,
    /// Bytes received over the network for this blob, over all attempts.
    pub bytes: u64,
    /// Length of the part file found at the start (bytes not fetched again).
    pub resumed_from: u64,
    /// Attempts made (0 if already present).
    pub attempts: u32,
}

/// What a fetch did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FetchReport {
    /// One entry per distinct id asked for, in the order asked.
    pub blobs: Vec<BlobReport>,
}

impl FetchReport {
    /// Bytes received over the network in all.
    pub fn bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.bytes).sum()
    }
}

/// Events for a progress display or a log; called from the fetching threads.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Progress {
    /// An attempt at `id` from `source` starts at byte `offset`.
    Started {
        /// The blob.
        id: BlobId,
        /// The source's base URL.
        source: String,
        /// First byte asked for.
        offset: u64,
    },
    /// An attempt failed; the next one goes to another source if there is one.
    Failed {
        /// The blob.
        id: BlobId,
        /// The source's base URL.
        source: String,
        /// Why.
        error: String,
    },
    /// The blob is verified and in the store.
    Finished(BlobReport),
}

/// The URL of blob `id` on a node whose API is at `base` (e.g. `http://127.0.0.1:8332`).
///
/// A base may also be `unix:/abs/path.sock`, a Unix socket serving the same API (the worker's
/// data service). Its blob URL, `unix:/abs/path.sock/api/v1/blobs/<id>`, names the request in
/// errors and logs; requests never parse it back (the socket path is the base).
pub fn blob_url(base: &str, id: &BlobId) -> String {
    format!("{}/api/v1/blobs/{id}", base.trim_end_matches('/'))
}

/// Fetches blobs into a store.
#[derive(Clone, Debug)]
pub struct Fetcher {
    store: BlobStore,
    transport: Transport,
    config: FetchConfig,
}

/// Bytes already in the part file: their hash state and count.
struct Part<'a> {
    file: &'a File,
    hasher: blake3::Hasher,
    len: u64,
}

impl Part<'_> {
    fn truncate(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.hasher = blake3::Hasher::new();
        self.len = 0;
        Ok(())
    }
}

impl Fetcher {
    /// A client writing into `store`.
    pub fn new(store: BlobStore, config: FetchConfig) -> Fetcher {
        Fetcher {
            store,
            transport: Transport::new(config.connect_timeout, config.read_timeout),
            config,
        }
    }

    /// The store blobs land in.
    pub fn store(&self) -> &BlobStore {
        &self.store
    }

    /// The size of blob `id` at the first source that has it (`HEAD`, one attempt per source,
    /// in order). [`BlobError::NotFound`] when every source answers 404 (no source knows the
    /// blob); [`BlobError::AllSourcesFailed`] when no source answers 200 with a length and at
    /// least one failed otherwise.
    pub fn remote_len(&self, id: &BlobId, sources: &[String]) -> Result<u64, BlobError> {
        if sources.is_empty() {
            return Err(BlobError::NoSources);
        }
        let mut errors = Vec::new();
        let mut all_404 = true;
        for source in sources {
            let url = blob_url(source, id);
            let error = match self.transport.request(Method::Head, source, id, 0) {
                Ok(r) if r.status == 200 => {
                    match r
                        .header("Content-Length")
                        .and_then(|v| v.parse::<u64>().ok())
                    {
                        Some(len) => return Ok(len),
                        None => bad(&url, "200 without a valid Content-Length".to_owned()),
                    }
                }
                Ok(r) if r.status >= 400 => BlobError::Http {
                    url,
                    status: r.status,
                },
                Ok(r) => bad(&url, format!("unexpected status {}", r.status)),
                Err(e) => e,
            };
            all_404 &= matches!(error, BlobError::Http { status: 404, .. });
            errors.push(error.to_string());
        }
        if all_404 {
            return Err(BlobError::NotFound(*id));
        }
        Err(BlobError::AllSourcesFailed { id: *id, errors })
    }

    /// Fetches every id not already in the store, `config.concurrency` at a time. Each blob
    /// starts at a different source (spreading load) and moves to the source with the fewest
    /// failures so far after a failed attempt. Returns the first blob's error if any blob
    /// could not be fetched (the others are still fetched).
    pub fn fetch(
        &self,
        ids: &[BlobId],
        sources: &[String],
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<FetchReport, BlobError> {
        if sources.is_empty() {
            return Err(BlobError::NoSources);
        }
        let mut unique = Vec::with_capacity(ids.len());
        for id in ids {
            if !unique.contains(id) {
                unique.push(*id);
            }
        }
        let failures: Vec<AtomicU32> = sources.iter().map(|_| AtomicU32::new(0)).collect();
        let results: Mutex<Vec<Option<Result<BlobReport, BlobError>>>> =
            Mutex::new(unique.iter().map(|_| None).collect());
        let next = AtomicUsize::new(0);
        let workers = self.config.concurrency.clamp(1, unique.len().max(1));
        std::thread::scope(|s| {
            for _ in 0..workers {
                s.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(id) = unique.get(i) else { break };
                    let r = self.fetch_one(id, sources, &failures, i, progress);
                    if let Some(slot) = results.lock().unwrap_or_else(|p| p.into_inner()).get_mut(i)
                    {
                        *slot = Some(r);
                    }
                });
            }
        });
        let mut report = FetchReport::default();
        let mut first_error = None;
        for r in results
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .into_iter()
            .flatten()
        {
            match r {
                Ok(b) => report.blobs.push(b),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    fn fetch_one(
        &self,
        id: &BlobId,
        sources: &[String],
        failures: &[AtomicU32],
        first: usize,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> Result<BlobReport, BlobError> {
        let present = BlobReport {
            id: *id,
            source: None,
            bytes: 0,
            resumed_from: 0,
            attempts: 0,
        };
        if self.store.has(id) {
            return Ok(present);
        }
        let file = self.store.lock_partial(id)?;
        let part_path = self.store.partial_path(id);
        if self.store.has(id) {
            // Another downloader finished while we waited for the lock.
            let _ = std::fs::remove_file(&part_path);
            return Ok(present);
        }
        let mut part = hash_existing(&file)
            .map_err(BlobError::io(format!("reading {}", part_path.display())))?;
        let mut report = BlobReport {
            resumed_from: part.len,
            ..present
        };
        let attempts = self.config.attempts_per_source.max(1) as usize * sources.len();
        let mut errors = Vec::new();
        for k in 0..attempts {
            let s = pick_source(failures, first + k);
            let source = sources.get(s).map(String::as_str).unwrap_or_default();
            report.attempts += 1;
            progress(Progress::Started {
                id: *id,
                source: source.to_owned(),
                offset: part.len,
            });
            match self.attempt(&mut part, id, source, &mut report.bytes) {
                Ok(()) => {
                    file.sync_all()
                        .map_err(BlobError::io(format!("syncing {}", part_path.display())))?;
                    self.store.adopt(&part_path, id)?;
                    report.source = Some(source.to_owned());
                    progress(Progress::Finished(report.clone()));
                    return Ok(report);
                }
                Err(e) => {
                    if let Some(f) = failures.get(s) {
                        f.fetch_add(1, Ordering::Relaxed);
                    }
                    if matches!(e, BlobError::HashMismatch { .. }) {
                        part.truncate().map_err(BlobError::io(format!(
                            "truncating {}",
                            part_path.display()
                        )))?;
                    }
                    progress(Progress::Failed {
                        id: *id,
                        source: source.to_owned(),
                        error: e.to_string(),
                    });
                    errors.push(e.to_string());
                }
            }
        }
        Err(BlobError::AllSourcesFailed { id: *id, errors })
    }

    /// One request: appends to the part and checks the hash when the blob is complete.
    fn attempt(
        &self,
        part: &mut Part<'_>,
        id: &BlobId,
        source: &str,
        moved: &mut u64,
    ) -> Result<(), BlobError> {
        let url = blob_url(source, id);
        let resp = self.transport.request(Method::Get, source, id, part.len)?;
        let total = match resp.status {
            416 => {
                // The part may already be complete (a crash between the last byte and the
                // rename); otherwise it is longer than the blob and worthless.
                let total = resp.header("Content-Range").and_then(unsatisfied_total);
                if part.len > 0 && total == Some(part.len) {
                    return check(part, id);
                }
                part.truncate()
                    .map_err(BlobError::io("truncating a part file"))?;
                return Err(bad(&url, format!("416 for a part of {} bytes", part.len)));
            }
            206 => {
                let (start, total) = resp
                    .header("Content-Range")
                    .and_then(content_range)
                    .ok_or_else(|| bad(&url, "206 without a valid Content-Range".to_owned()))?;
                if start != part.len {
                    return Err(bad(
                        &url,
                        format!("range starts at {start}, asked {}", part.len),
                    ));
                }
                Some(total)
            }
            200 => {
                if part.len > 0 {
                    part.truncate()
                        .map_err(BlobError::io("truncating a part file"))?;
                }
                resp.header("Content-Length")
                    .and_then(|v| v.parse::<u64>().ok())
            }
            status @ 400.. => return Err(BlobError::Http { url, status }),
            other => return Err(bad(&url, format!("unexpected status {other}"))),
        };
        let mut reader = resp.body;
        let mut out: &File = part.file;
        out.seek(SeekFrom::End(0))
            .map_err(BlobError::io("seeking a part file"))?;
        let mut buf = vec![0u8; CHUNK];
        let started = Instant::now();
        let mut got = 0u64;
        // Bytes are written and hashed a whole buffer at a time: large writes, and BLAKE3
        // hashes many 1 KiB chunks at once (socket reads come in odd sizes, whose partial
        // chunks it hashes one block at a time). What was read before an error is kept.
        let mut filled = 0usize;
        loop {
            let (n, error) = match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
                Ok(n) => (n, None),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => (0, Some(e)),
            };
            filled += n;
            let end = n == 0;
            if end || filled == buf.len() {
                let chunk = buf.get(..filled).unwrap_or_default();
                if total.is_some_and(|t| part.len + filled as u64 > t) {
                    part.truncate()
                        .map_err(BlobError::io("truncating a part file"))?;
                    return Err(bad(&url, "more bytes than announced".to_owned()));
                }
                out.write_all(chunk)
                    .map_err(BlobError::io("writing a part file"))?;
                part.hasher.update(chunk);
                part.len += filled as u64;
                filled = 0;
            }
            if let Some(e) = error {
                return Err(BlobError::Connection {
                    url,
                    message: format!("after {} bytes: {e}", part.len),
                });
            }
            if end {
                break;
            }
            got += n as u64;
            *moved += n as u64;
            let elapsed = started.elapsed();
            if self.config.min_bytes_per_sec > 0 && elapsed > self.config.grace {
                let rate = (got as f64 / elapsed.as_secs_f64()) as u64;
                if rate < self.config.min_bytes_per_sec {
                    // Keep what arrived: the next source resumes after it.
                    let chunk = buf.get(..filled).unwrap_or_default();
                    if total.is_none_or(|t| part.len + filled as u64 <= t) {
                        out.write_all(chunk)
                            .map_err(BlobError::io("writing a part file"))?;
                        part.hasher.update(chunk);
                        part.len += filled as u64;
                    }
                    return Err(BlobError::TooSlow {
                        url,
                        bytes_per_sec: rate,
                        floor: self.config.min_bytes_per_sec,
                    });
                }
            }
        }
        if let Some(t) = total {
            if part.len != t {
                return Err(BlobError::Connection {
                    url,
                    message: format!("connection closed after {} of {t} bytes", part.len),
                });
            }
        }
        check(part, id)
    }
}

/// Reads until `buf` is full or the stream ends.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|r| !r.is_empty()) {
        match reader.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn bad(url: &str, message: String) -> BlobError {
    BlobError::BadResponse {
        url: url.to_owned(),
        message,
    }
}

fn check(part: &Part<'_>, id: &BlobId) -> Result<(), BlobError> {
    let actual = BlobId::from_hash(part.hasher.finalize());
    if actual != *id {
        return Err(BlobError::HashMismatch {
            expected: *id,
            actual,
        });
    }
    Ok(())
}

fn hash_existing(file: &File) -> io::Result<Part<'_>> {
    let mut hasher = blake3::Hasher::new();
    let mut f = file;
    f.seek(SeekFrom::Start(0))?;
    let mut buf = vec![0u8; CHUNK];
    let mut len = 0u64;
    loop {
        let n = read_full(&mut f, &mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(buf.get(..n).unwrap_or_default());
        len += n as u64;
    }
    Ok(Part { file, hasher, len })
}

/// The source with the fewest failures, starting the search at `start` (round robin on ties).
fn pick_source(failures: &[AtomicU32], start: usize) -> usize {
    let n = failures.len().max(1);
    (0..n)
        .map(|k| (start + k) % n)
        .min_by_key(|&i| {
            failures
                .get(i)
                .map_or(u32::MAX, |f| f.load(Ordering::Relaxed))
        })
        .unwrap_or(0)
}

/// `bytes a-b/total` → `(a, total)`.
fn content_range(v: &str) -> Option<(u64, u64)> {
    let rest = v.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (a, _) = range.split_once('-')?;
    Some((a.trim().parse().ok()?, total.trim().parse().ok()?))
}

/// `bytes */total` → `total`.
fn unsatisfied_total(v: &str) -> Option<u64> {
    v.trim().strip_prefix("bytes */")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_headers() {
        assert_eq!(content_range("bytes 10-19/20"), Some((10, 20)));
        assert_eq!(content_range("bytes */20"), None);
        assert_eq!(unsatisfied_total("bytes */20"), Some(20));
    }

    #[test]
    fn failing_sources_are_avoided() {
        let f = [AtomicU32::new(3), AtomicU32::new(0), AtomicU32::new(0)];
        assert_eq!(pick_source(&f, 0), 1);
        assert_eq!(pick_source(&f, 2), 2);
    }
}
