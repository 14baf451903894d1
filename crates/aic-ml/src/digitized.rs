//! Training examples from a digitized data set (`aic data digitize`): the shards are read
//! through `aic-data`'s loader, which checks every shard's BLAKE3 against the manifest and
//! dequantizes `FP16` and `q8` columns into the batch buffers. A job refuses a data set whose
//! featurizer is not the one its model declares, so data digitized elsewhere is known to fit.

use std::path::Path;
use std::sync::Arc;

use aic_data::{DatasetManifest, DirSource, Loader, LoaderConfig, LoaderError};
use aic_model::{Featurizer, LogMelParams};

use crate::data::Fsdd;
use crate::tasks::Examples;

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
    dir: &Path,
    manifest: &DatasetManifest,
    split: &'static str,
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
    let loader = Loader::new(manifest, split, Arc::new(DirSource::new(dir)), config)?;
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

/// FSDD digitized by `aic data digitize` (splits `train`, `valid`, `test`), checked against
/// the model's log-mel parameters; returns the examples and the data set's id.
pub fn fsdd(dir: &Path, params: &LogMelParams) -> Result<(Fsdd, String), DigitizedError> {
    let (manifest, id) = manifest(dir)?;
    check_featurizer(&manifest, &Featurizer::LogMel(params.clone()))?;
    let data = Fsdd {
        train: split_examples(dir, &manifest, "train")?,
        valid: split_examples(dir, &manifest, "valid")?,
        test: split_examples(dir, &manifest, "test")?,
        skipped: Vec::new(),
    };
    Ok((data, id))
}
