//! A digitized data set on disk and the shard-set writer that cuts its shards:
//!
//! ```text
//! DIR/manifest.json          the DatasetManifest (its BLAKE3 is the data set's address)
//! DIR/shards/<blake3 hex>    each shard file, named by the BLAKE3 of its (compressed) bytes
//! DIR/blobs/<blake3 hex>     other content-addressed files (a tokenizer's vocabulary)
//! ```
//!
//! Every file is written to a temporary name in its folder, synced and renamed, so a reader
//! never sees half a file; the manifest is written last.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::manifest::{Column, DatasetManifest, ManifestError};
use crate::shard::{FinishedShard, ShardError, ShardWriter};

/// Default target size of a shard before compression: 1 MiB, chosen by measurement
/// (`docs/benchmarks.md`, "Shard size"): compressed bytes within 0.5 % (FSDD) and 2 % (WikiQA)
/// of 64 MiB shards, while a random sample costs 3.6 ms instead of 13-19 ms and the first
/// batch arrives 2-4 times sooner than with 4-64 MiB.
pub const DEFAULT_SHARD_BYTES: usize = 1 << 20;

/// Cuts a stream of samples into shards of about `target` bytes before compression: a shard
/// is finished before the sample that would take it past `target` (a shard holds at least one
/// sample, so a sample larger than `target` gets a shard of its own).
#[derive(Debug)]
pub struct ShardSetWriter {
    columns: Vec<Column>,
    target: usize,
    level: i32,
    current: ShardWriter,
    sample_bytes: usize,
    finished: Vec<FinishedShard>,
}

impl ShardSetWriter {
    /// A writer of shards of `columns`, about `target` raw bytes each, compressed by zstd at
    /// `level`.
    pub fn new(columns: &[Column], target: usize, level: i32) -> Result<Self, ShardError> {
        let current = ShardWriter::new(columns)?;
        let sample_bytes = columns.iter().map(|c| c.byte_size().unwrap_or(0) + 8).sum();
        Ok(Self {
            columns: columns.to_vec(),
            target,
            level,
            current,
            sample_bytes,
            finished: Vec::new(),
        })
    }

    /// Appends a sample (see [`ShardWriter::push`]), first finishing the current shard if the
    /// sample would take it past the target.
    pub fn push(&mut self, fields: &[&[u8]]) -> Result<(), ShardError> {
        if self.current.samples() > 0 && self.current.raw_len() + self.sample_bytes > self.target {
            self.cut()?;
        }
        self.current.push(fields)
    }

    /// Finishes the current shard now, if it holds a sample.
    pub fn cut(&mut self) -> Result<(), ShardError> {
        if self.current.samples() == 0 {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.current, ShardWriter::new(&self.columns)?);
        self.finished.push(full.finish(self.level)?);
        Ok(())
    }

    /// Shards finished so far.
    pub fn finished(&self) -> usize {
        self.finished.len()
    }

    /// Finishes the last shard and returns them all, in order.
    pub fn finish(mut self) -> Result<Vec<FinishedShard>, ShardError> {
        self.cut()?;
        Ok(self.finished)
    }
}

/// Why a data set directory could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DatasetError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The manifest is invalid.
    #[error("{path}: {source}")]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// Why.
        source: ManifestError,
    },
    /// The manifest's BLAKE3 is not the one asked for (it was changed).
    #[error("{path}: manifest blake3 {found}, expected {expected}")]
    ManifestHash {
        /// The manifest file.
        path: PathBuf,
        /// The address asked for.
        expected: String,
        /// The address of the bytes found.
        found: String,
    },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DatasetError + '_ {
    move |source| DatasetError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder, synced, then
/// renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    if let Err(source) = result.and_then(|()| fs::rename(&tmp, path)) {
        let _ = fs::remove_file(&tmp);
        return Err(DatasetError::Io {
            path: path.to_owned(),
            source,
        });
    }
    Ok(())
}

/// The path of a shard file in a data set directory.
pub fn shard_path(dir: &Path, blake3_hex: &str) -> PathBuf {
    dir.join("shards").join(blake3_hex)
}

/// The path of a blob in a data set directory.
pub fn blob_path(dir: &Path, blake3_hex: &str) -> PathBuf {
    dir.join("blobs").join(blake3_hex)
}

/// Writes a data set directory: the shards (skipping those already present with the right
/// size: they are named by their hash), the blobs, then the manifest. Returns the bytes
/// written in all (manifest, shards and blobs).
pub fn write_dataset(
    dir: &Path,
    manifest: &DatasetManifest,
    shards: &[FinishedShard],
    blobs: &[Vec<u8>],
) -> Result<u64, DatasetError> {
    let mut total = 0u64;
    let mut put = |path: PathBuf, bytes: &[u8]| -> Result<(), DatasetError> {
        total += bytes.len() as u64;
        match fs::metadata(&path) {
            Ok(m) if m.len() == bytes.len() as u64 => Ok(()),
            _ => write_atomic(&path, bytes),
        }
    };
    for shard in shards {
        put(shard_path(dir, &shard.entry.blake3), &shard.bytes)?;
    }
    for blob in blobs {
        put(blob_path(dir, &blake3::hash(blob).to_hex()), blob)?;
    }
    let json = manifest.to_json();
    total += json.len() as u64;
    write_atomic(&dir.join("manifest.json"), &json)?;
    Ok(total)
}

/// Reads and validates `DIR/manifest.json`; with `expected`, refuses a manifest whose BLAKE3
/// is another (the address the data set was published under) before parsing it.
pub fn read_manifest(dir: &Path, expected: Option<&str>) -> Result<DatasetManifest, DatasetError> {
    let (path, bytes, found) = manifest_bytes(dir)?;
    if let Some(expected) = expected {
        if !found.eq_ignore_ascii_case(expected) {
            return Err(DatasetError::ManifestHash {
                path,
                expected: expected.to_owned(),
                found,
            });
        }
    }
    DatasetManifest::from_json(&bytes).map_err(|source| DatasetError::Manifest { path, source })
}

/// The manifest of the data set in `dir`, validated, and its id: the BLAKE3 of the very bytes
/// parsed (one read, so the two agree even if the file is replaced meanwhile).
pub fn open_dataset(dir: &Path) -> Result<(DatasetManifest, String), DatasetError> {
    let (path, bytes, id) = manifest_bytes(dir)?;
    let manifest = DatasetManifest::from_json(&bytes)
        .map_err(|source| DatasetError::Manifest { path, source })?;
    Ok((manifest, id))
}

fn manifest_bytes(dir: &Path) -> Result<(PathBuf, Vec<u8>, String), DatasetError> {
    let path = dir.join("manifest.json");
    let bytes = fs::read(&path).map_err(io_error(&path))?;
    let id = blake3::hash(&bytes).to_hex().to_string();
    Ok((path, bytes, id))
}

/// Reads a blob and checks its BLAKE3 against its name.
pub fn read_blob(dir: &Path, blake3_hex: &str) -> Result<Vec<u8>, DatasetError> {
    let path = blob_path(dir, blake3_hex);
    let bytes = fs::read(&path).map_err(io_error(&path))?;
    let found = blake3::hash(&bytes).to_hex().to_string();
    if !found.eq_ignore_ascii_case(blake3_hex) {
        return Err(DatasetError::ManifestHash {
            path,
            expected: blake3_hex.to_owned(),
            found,
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::DType;
    use crate::shard::{u32_bytes, Shard};

    #[test]
    fn shards_are_cut_at_the_target() {
        let columns = vec![Column::new("x", DType::Uint32, &[100])];
        // Header 24 + 8 + per sample 400 data + 8 offset: 3 samples fit in 1300 bytes.
        let mut w = ShardSetWriter::new(&columns, 1300, 3).unwrap();
        for i in 0..10u32 {
            w.push(&[&u32_bytes(&[i; 100])]).unwrap();
        }
        let shards = w.finish().unwrap();
        let counts: Vec<u64> = shards.iter().map(|s| s.entry.samples).collect();
        assert_eq!(counts, vec![3, 3, 3, 1]);
        assert!(shards.iter().all(|s| s.entry.raw_bytes <= 1300));
        let last = Shard::open(&shards[3].bytes, &shards[3].entry, &columns).unwrap();
        assert_eq!(last.field_u32(0, 0).unwrap(), vec![9; 100]);
        // A target smaller than one sample: one sample per shard.
        let mut w = ShardSetWriter::new(&columns, 1, 3).unwrap();
        for _ in 0..3 {
            w.push(&[&u32_bytes(&[0; 100])]).unwrap();
        }
        assert_eq!(w.finished(), 2);
        assert_eq!(w.finish().unwrap().len(), 3);
    }

    #[test]
    fn atomic_write_and_blob_check() {
        let dir = tempfile::tempdir().unwrap();
        let hash = blake3::hash(b"vocab").to_hex().to_string();
        write_atomic(&blob_path(dir.path(), &hash), b"vocab").unwrap();
        assert_eq!(read_blob(dir.path(), &hash).unwrap(), b"vocab");
        write_atomic(&blob_path(dir.path(), &hash), b"vocaB").unwrap();
        assert!(matches!(
            read_blob(dir.path(), &hash),
            Err(DatasetError::ManifestHash { .. })
        ));
        let leftovers = fs::read_dir(dir.path().join("blobs")).unwrap().count();
        assert_eq!(leftovers, 1);
    }
}
