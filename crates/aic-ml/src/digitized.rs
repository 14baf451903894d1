//! Training examples from a digitized data set (`aic data digitize`): the shards are read
//! through `aic-data`'s loader, which checks every shard's BLAKE3 against the manifest and
//! dequantizes `FP16` and `q8` columns into the batch buffers. A job refuses a data set whose
//! featurizer is not the one its model declares, so data digitized elsewhere is known to fit.
//! The training split streams ([`Stream`]); the small validation and test splits are read
//! into memory once.

use std::path::Path;
use std::sync::Arc;

use aic_data::{
    Batch, DType, DatasetManifest, DirSource, Loader, LoaderConfig, LoaderError, ShardSource,
    WaitHook,
};
use aic_model::{Featurizer, LogMelParams};

use crate::tasks::Examples;
use crate::train::BatchIter;

/// Why a digitized data set could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DigitizedError {
    /// The directory, its manifest or a blob could not be read or failed its hash.
    #[error("{0}")]
    Dataset(#[from] aic_data::DatasetError),
    /// A shard could not be fetched, failed its hash or could not be decoded.
    #[error("{0}")]
    Loader(#[from] LoaderError),
    /// The data set was made by another featurizer than the model's.
    #[error("data set featurizer {found} differs from the model's {expected}")]
    Featurizer {
        /// The model's featurizer (JSON).
        expected: String,
        /// The data set's (JSON).
        found: String,
    },
    /// A column the task needs is absent or of another type or shape.
    #[error("data set has no usable column {0:?} (features: real values, FP32, FP16 or q8 UINT8; label: one unsigned integer)")]
    Column(&'static str),
    /// A batch the loader produced does not have the sizes its columns declare.
    #[error("data set batch malformed: {0}")]
    Malformed(String),
    /// A split the task needs is absent.
    #[error("data set has no split {0:?}")]
    Split(&'static str),
}

/// Whether `dir` holds a digitized data set (a `manifest.json`).
pub fn is_dataset(dir: &Path) -> bool {
    dir.join("manifest.json").is_file()
}

/// The manifest of the data set in `dir` and its BLAKE3 (the data set's id).
pub fn manifest(dir: &Path) -> Result<(DatasetManifest, String), DigitizedError> {
    Ok(aic_data::open_dataset(dir)?)
}

fn check_featurizer(
    manifest: &DatasetManifest,
    expected: &Featurizer,
) -> Result<(), DigitizedError> {
    let found = &manifest.provenance.featurizer.params;
    if found != expected {
        let json = |f: &Featurizer| serde_json::to_string(f).unwrap_or_default();
        return Err(DigitizedError::Featurizer {
            expected: json(expected),
            found: json(found),
        });
    }
    Ok(())
}

/// Shards fetched and decoded at once while training streams (the loader's window).
const WINDOW_SHARDS: usize = 4;
/// Shards fetched ahead of the current window.
const PREFETCH_SHARDS: usize = 4;
/// Loader threads that fetch, check and decompress shards.
const LOADER_WORKERS: usize = 2;
/// Batch size when a split is read whole.
const READ_BATCH: usize = 256;

/// FSDD digitized by `aic data digitize`: the training split streamed from its shards, the
/// validation and test splits (small, evaluated every epoch) in memory.
pub struct DigitizedFsdd {
    /// Split `train`, streamed.
    pub train: Stream,
    /// Split `valid`.
    pub valid: Examples,
    /// Split `test`.
    pub test: Examples,
}

/// FSDD digitized by `aic data digitize` (splits `train`, `valid`, `test`) in `dir`, checked
/// against the model's log-mel parameters; returns the splits and the data set's id.
pub fn fsdd(dir: &Path, params: &LogMelParams) -> Result<(DigitizedFsdd, String), DigitizedError> {
    let (manifest, id) = manifest(dir)?;
    Ok((
        fsdd_from(manifest, Arc::new(DirSource::new(dir)), params)?,
        id,
    ))
}

/// FSDD digitized by `aic data digitize` whose shards come from `source` (a directory, a
/// worker cache that fetches them from nodes on first use), checked against the model's
/// log-mel parameters. The small `valid` and `test` splits are read now; `train` streams.
pub fn fsdd_from(
    manifest: DatasetManifest,
    source: Arc<dyn ShardSource>,
    params: &LogMelParams,
) -> Result<DigitizedFsdd, DigitizedError> {
    check_featurizer(&manifest, &Featurizer::LogMel(params.clone()))?;
    let split = |name| Stream::new(manifest.clone(), name, Arc::clone(&source));
    Ok(DigitizedFsdd {
        valid: split("valid")?.read_all()?,
        test: split("test")?.read_all()?,
        train: split("train")?,
    })
}

/// Values per sample of the `features` column, which must decode to real values, after
/// checking that `label` is one unsigned integer per sample.
fn feature_row(manifest: &DatasetManifest) -> Result<usize, DigitizedError> {
    let column = |name| manifest.columns.iter().find(|c| c.name == name);
    let features = column("features").ok_or(DigitizedError::Column("features"))?;
    let real = matches!(features.dtype, DType::Fp32 | DType::Fp16)
        || (features.dtype == DType::Uint8 && features.q8.is_some());
    let row = features
        .elements()
        .filter(|&n| real && n > 0)
        .ok_or(DigitizedError::Column("features"))?;
    let label = column("label").ok_or(DigitizedError::Column("label"))?;
    let integer =
        matches!(label.dtype, DType::Uint8 | DType::Uint16 | DType::Uint32) && label.q8.is_none();
    if !integer || label.elements() != Some(1) {
        return Err(DigitizedError::Column("label"));
    }
    Ok(row)
}

/// One split of a digitized data set, read shard by shard through [`Loader`] while the next
/// shards are fetched and checked by its threads: training starts as soon as the first
/// window's shards are in. Batches are in the loader's order, a pure function of the seed, the
/// epoch and the shard sizes (the window and the shuffle are this module's constants, not
/// the loader's defaults, so the order cannot change under a job), and a resumed or replayed
/// run reads the same batches.
pub struct Stream {
    manifest: DatasetManifest,
    split: &'static str,
    source: Arc<dyn ShardSource>,
    row: usize,
    len: usize,
    wait_hook: Option<WaitHook>,
}

impl Stream {
    /// Split `split` of `manifest` (columns `features` and `label`), shards from `source`.
    pub fn new(
        manifest: DatasetManifest,
        split: &'static str,
        source: Arc<dyn ShardSource>,
    ) -> Result<Self, DigitizedError> {
        let row = feature_row(&manifest)?;
        let len = manifest
            .splits
            .get(split)
            .ok_or(DigitizedError::Split(split))?
            .shards
            .iter()
            .filter_map(|&i| manifest.shards.get(i as usize))
            .map(|e| e.samples as usize)
            .sum();
        Ok(Self {
            manifest,
            split,
            source,
            row,
            len,
            wait_hook: None,
        })
    }

    /// Reports the training loop's long waits for shards to `hook` (see [`WaitHook`]).
    pub fn set_wait_hook(&mut self, hook: WaitHook) {
        self.wait_hook = Some(hook);
    }

    /// Samples in the split.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn loader(&self, seed: u64, batch_size: usize, shuffle: bool) -> Result<Loader, LoaderError> {
        let config = LoaderConfig {
            batch_size,
            seed,
            shuffle,
            window_shards: WINDOW_SHARDS,
            prefetch_shards: PREFETCH_SHARDS,
            workers: LOADER_WORKERS,
        };
        Loader::new(&self.manifest, self.split, Arc::clone(&self.source), config)
    }

    /// Batches of `batch_size` of epoch `epoch` from batch `first` on, shuffled by `seed`.
    pub fn batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
    ) -> Result<BatchIter<'_, Examples>, String> {
        let loader = self
            .loader(seed, batch_size, true)
            .map_err(|e| e.to_string())?;
        let mut batches = loader
            .resume(u64::from(epoch), first * batch_size as u64)
            .map_err(|e| e.to_string())?;
        if let Some(hook) = &self.wait_hook {
            batches = batches.with_wait_hook(hook.clone());
        }
        let row = self.row;
        Ok(Box::new(batches.map(move |b| {
            to_examples(b.map_err(|e| e.to_string())?, row)
        })))
    }

    /// The whole split in stored order.
    pub fn read_all(&self) -> Result<Examples, DigitizedError> {
        let mut out = Examples {
            row: self.row,
            ..Examples::default()
        };
        for batch in self.loader(0, READ_BATCH, false)?.epoch(0) {
            let b = to_examples(batch?, self.row).map_err(DigitizedError::Malformed)?;
            out.values.extend_from_slice(&b.values);
            out.labels.extend_from_slice(&b.labels);
        }
        Ok(out)
    }
}

/// A loader batch as examples: the feature buffer moves (no copy); sizes are checked.
fn to_examples(mut batch: Batch, row: usize) -> Result<Examples, String> {
    let values = batch
        .take_f32("features")
        .ok_or("no real column features")?;
    let labels: Vec<usize> = batch
        .u32("label")
        .ok_or("no integer column label")?
        .iter()
        .map(|&l| l as usize)
        .collect();
    if values.len() != labels.len() * row || labels.len() != batch.len {
        return Err(format!(
            "{} feature values and {} labels for {} samples of {row} values",
            values.len(),
            labels.len(),
            batch.len
        ));
    }
    Ok(Examples {
        values,
        row,
        labels,
    })
}
