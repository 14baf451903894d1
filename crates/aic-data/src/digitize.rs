//! Digitize a raw corpus into a data set directory (see [`crate::dataset`]): FSDD audio to
//! log-mel frames ([`digitize_fsdd`]), WikiQA text pairs to token ids ([`digitize_wikiqa`]).
//! The same input and options give the same bytes and the same manifest BLAKE3. Bad records
//! are skipped and listed in the [`DigitizeReport`]; progress goes to a callback.

mod speech;
mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use speech::{digitize_fsdd, featurize_fsdd, FsddFeatures};
pub use text::digitize_wikiqa;

use crate::corpora::Skipped;
use crate::dataset::{DatasetError, DEFAULT_SHARD_BYTES};
use crate::manifest::{DatasetManifest, SourceFile};
use crate::shard::ShardError;

/// How real-valued features are stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FeatureEncoding {
    /// `FP32`, exactly as computed.
    F32,
    /// `FP16`, rounded to nearest (error at most half a binary16 ulp).
    F16,
    /// `UINT8` with one affine quantization per column ([`Q8`](crate::Q8)) fitted on the
    /// training split's minimum and maximum: error at most `scale / 2` inside that range.
    Q8,
}

/// Options of a digitization.
#[derive(Clone, Debug)]
pub struct DigitizeOptions {
    /// Storage of real-valued features.
    pub encoding: FeatureEncoding,
    /// Target shard size before compression ([`ShardSetWriter`](crate::ShardSetWriter)).
    pub shard_bytes: usize,
    /// zstd level of the shards.
    pub zstd_level: i32,
    /// Threads that featurize (the output does not depend on it).
    pub threads: usize,
}

impl Default for DigitizeOptions {
    fn default() -> Self {
        Self {
            encoding: FeatureEncoding::Q8,
            shard_bytes: DEFAULT_SHARD_BYTES,
            zstd_level: 19,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

/// Where a digitization is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// `"featurize"` or `"write"`.
    pub stage: &'static str,
    /// Records (or shards) done.
    pub done: u64,
    /// Records (or shards) in all.
    pub total: u64,
}

/// What a digitization did.
#[derive(Clone, Debug)]
pub struct DigitizeReport {
    /// The manifest written to `DIR/manifest.json`.
    pub manifest: DatasetManifest,
    /// Its BLAKE3: the data set's address.
    pub manifest_blake3: String,
    /// Records skipped, with the file (or file and line) and the reason.
    pub skipped: Vec<Skipped>,
    /// Samples written per split.
    pub samples: BTreeMap<String, u64>,
    /// Bytes of the source files read.
    pub source_bytes: u64,
    /// Bytes of the data set: manifest, shards and blobs.
    pub dataset_bytes: u64,
    /// Largest absolute difference between a stored feature and its `f32` value (0 for
    /// integer data and [`FeatureEncoding::F32`]).
    pub max_abs_error: f32,
    /// Values outside the quantization range, clamped (only [`FeatureEncoding::Q8`]).
    pub clamped: u64,
}

/// Why a digitization failed (bad records do not fail it: they are skipped and reported).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DigitizeError {
    /// The source folder or a file of it could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The featurizer parameters are invalid.
    #[error("featurizer: {0}")]
    Featurizer(String),
    /// No record could be digitized.
    #[error("{0}: no usable record")]
    Empty(PathBuf),
    /// A shard could not be built.
    #[error("shard: {0}")]
    Shard(#[from] ShardError),
    /// The output could not be written.
    #[error("{0}")]
    Write(#[from] DatasetError),
}

/// The source file record of `path` (named relative to `root`).
fn source_file(root: &Path, path: &Path, bytes: &[u8]) -> SourceFile {
    let rel = path.strip_prefix(root).unwrap_or(path);
    SourceFile {
        path: rel.to_string_lossy().replace('\\', "/"),
        blake3: blake3::hash(bytes).to_hex().to_string(),
        bytes: bytes.len() as u64,
    }
}

/// Applies `f` to every item on `threads` threads, results in input order; calls `progress`
/// after each chunk.
fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
    mut progress: impl FnMut(usize),
) -> Vec<R> {
    let threads = threads.max(1);
    let chunk = (threads * 32).max(1);
    let mut out = Vec::with_capacity(items.len());
    for block in items.chunks(chunk) {
        let per = block.len().div_ceil(threads);
        let parts: Vec<Vec<R>> = std::thread::scope(|s| {
            let handles: Vec<_> = block
                .chunks(per.max(1))
                .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect()
        });
        out.extend(parts.into_iter().flatten());
        progress(out.len());
    }
    out
}
