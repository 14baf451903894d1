//! Training examples from a digitized data set (`aic data digitize`): the shards are read
//! through `aic-data`'s loader, which checks every shard's BLAKE3 against the manifest and
//! dequantizes `FP16` and `q8` columns into the batch buffers. A job refuses a data set whose
//! featurizer is not the one its model declares, so data digitized elsewhere is known to fit.

use std::path::Path;
use std::sync::Arc;

use aic_data::{DatasetManifest, DirSource, Loader, LoaderConfig, LoaderError, ShardSource};
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
    /// A column the task needs is absent or of another type.
    #[error("data set has no usable column {0:?}")]
    Column(&'static str),
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
    let bytes =
        std::fs::read(dir.join("manifest.json")).map_err(|e| aic_data::DatasetError::Io {
            path: dir.join("manifest.json"),
            source: e,
        })?;
    let id = blake3::hash(&bytes).to_hex().to_string();
    Ok((aic_data::read_manifest(dir, Some(&id))?, id))
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

/// Reads split `split` in stored order (no shuffle: the trainer orders examples itself).
fn split_examples(
    manifest: &DatasetManifest,
    split: &'static str,
    source: &Arc<dyn ShardSource>,
) -> Result<Examples, DigitizedError> {
    if !manifest.splits.contains_key(split) {
        return Err(DigitizedError::Split(split));
    }
    let features = manifest
        .columns
        .iter()
        .find(|c| c.name == "features")
        .ok_or(DigitizedError::Column("features"))?;
    let row = features
        .elements()
        .ok_or(DigitizedError::Column("features"))?;
    let config = LoaderConfig {
        batch_size: 256,
        shuffle: false,
        ..LoaderConfig::default()
    };
    let loader = Loader::new(manifest, split, Arc::clone(source), config)?;
    let mut out = Examples {
        row,
        ..Examples::default()
    };
    for batch in loader.epoch(0) {
        let batch = batch?;
        let values = batch
            .f32("features")
            .ok_or(DigitizedError::Column("features"))?;
        let labels = batch.u32("label").ok_or(DigitizedError::Column("label"))?;
        for (i, &label) in labels.iter().enumerate() {
            out.push(&values[i * row..(i + 1) * row], label as usize);
        }
    }
    Ok(out)
}

/// FSDD digitized by `aic data digitize`: the training split streamed from its shards, the
/// validation and test splits (small, read on every epoch) in memory.
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
    Ok(DigitizedFsdd {
        valid: split_examples(&manifest, "valid", &source)?,
        test: split_examples(&manifest, "test", &source)?,
        train: Stream::new(manifest, "train", source)?,
    })
}

/// One split of a digitized data set, read shard by shard through [`Loader`] while the next
/// shards are fetched and checked by its threads: training starts as soon as the first
/// window's shards are in. Batches are in the loader's order, a pure function of the seed, the
/// epoch and the shard sizes, so a resumed or replayed run reads the same batches.
pub struct Stream {
    manifest: DatasetManifest,
    split: &'static str,
    source: Arc<dyn ShardSource>,
    row: usize,
    len: usize,
}

impl Stream {
    /// Split `split` of `manifest` (columns `features` and `label`), shards from `source`.
    pub fn new(
        manifest: DatasetManifest,
        split: &'static str,
        source: Arc<dyn ShardSource>,
    ) -> Result<Self, DigitizedError> {
        let row = manifest
            .columns
            .iter()
            .find(|c| c.name == "features")
            .and_then(|c| c.elements())
            .ok_or(DigitizedError::Column("features"))?;
        if !manifest.columns.iter().any(|c| c.name == "label") {
            return Err(DigitizedError::Column("label"));
        }
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
        })
    }

    /// Samples in the split.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Batches of `batch_size` of epoch `epoch` from batch `first` on, shuffled by `seed`.
    pub fn batches(
        &self,
        seed: u64,
        epoch: u32,
        first: u64,
        batch_size: usize,
    ) -> Result<BatchIter<'_, Examples>, String> {
        let config = LoaderConfig {
            batch_size,
            seed,
            ..LoaderConfig::default()
        };
        let loader = Loader::new(&self.manifest, self.split, Arc::clone(&self.source), config)
            .map_err(|e| e.to_string())?;
        let batches = loader
            .resume(u64::from(epoch), first * batch_size as u64)
            .map_err(|e| e.to_string())?;
        let row = self.row;
        Ok(Box::new(batches.map(move |b| {
            let mut b = b.map_err(|e| e.to_string())?;
            let values = b.take_f32("features").ok_or("no column features")?;
            let labels = b
                .u32("label")
                .ok_or("no column label")?
                .iter()
                .map(|&l| l as usize)
                .collect();
            Ok(Examples {
                values,
                row,
                labels,
            })
        })))
    }
}
