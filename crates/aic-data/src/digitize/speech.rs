//! FSDD: a folder of `{digit}_{speaker}_{index}.wav` to log-mel frames with label, split by
//! [`FsddSplit`]. Each clip is featurized exactly as the training path does
//! (`LogMel::compute_wav`: refused unless at the parameters' rate, cut or zero-padded at the
//! end to `clip_samples`).

use std::collections::BTreeMap;
use std::path::Path;

use aic_model::{Featurizer, LogMelParams};

use super::{
    par_map, source_file, DigitizeError, DigitizeOptions, DigitizeReport, FeatureEncoding, Progress,
};
use crate::corpora::{self, FsddClip, FsddSplit, Skipped};
use crate::dataset::{write_dataset, ShardSetWriter};
use crate::manifest::{
    Column, DType, DatasetManifest, FeaturizerRecord, Provenance, SourceFile, Split,
    MANIFEST_FORMAT, Q8,
};
use crate::shard::{fp16_bytes, fp32_bytes, u32_bytes};
use crate::LogMel;

/// The featurized clips of an FSDD folder, in `fsdd_clips` order.
#[derive(Debug, Default)]
pub struct FsddFeatures {
    /// Each usable clip, its `frames * n_mels` log-mel values and its source record.
    pub clips: Vec<(FsddClip, Vec<f32>, SourceFile)>,
    /// Files skipped, with reasons.
    pub skipped: Vec<Skipped>,
}

/// Reads and featurizes every clip of `dir` (the training path's featurization, in memory).
pub fn featurize_fsdd(
    dir: &Path,
    params: &LogMelParams,
    threads: usize,
    progress: &mut dyn FnMut(Progress),
) -> Result<FsddFeatures, DigitizeError> {
    let logmel = LogMel::new(params).map_err(|e| DigitizeError::Featurizer(e.to_string()))?;
    let (clips, mut skipped) = corpora::fsdd_clips(dir).map_err(|source| DigitizeError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let total = clips.len() as u64;
    let results = par_map(
        &clips,
        threads,
        |clip| {
            let bytes = std::fs::read(&clip.path).map_err(|e| e.to_string())?;
            let features = logmel.compute_wav(&bytes).map_err(|e| e.to_string())?;
            Ok::<_, String>((features, source_file(dir, &clip.path, &bytes)))
        },
        |done| {
            progress(Progress {
                stage: "featurize",
                done: done as u64,
                total,
            })
        },
    );
    let mut out = FsddFeatures::default();
    for (clip, result) in clips.into_iter().zip(results) {
        match result {
            Ok((features, source)) => out.clips.push((clip, features, source)),
            Err(reason) => skipped.push(Skipped {
                path: clip.path,
                reason,
            }),
        }
    }
    out.skipped = skipped;
    Ok(out)
}

/// Where a clip goes in its split: BLAKE3 of its file name, so every shard is a mix of all
/// digits and speakers, the same on every machine.
fn storage_key(clip: &FsddClip) -> [u8; 32] {
    let name = clip
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    *blake3::hash(name.as_bytes()).as_bytes()
}

fn split_name(split: FsddSplit) -> &'static str {
    match split {
        FsddSplit::Train => "train",
        FsddSplit::Valid => "valid",
        FsddSplit::Test => "test",
    }
}

/// Digitizes the FSDD folder `src` into the data set directory `out`: column `features`
/// (`[frames, n_mels]`, stored as `options.encoding` says) and `label` (`UINT32`, the digit),
/// splits `train`, `valid`, `test` (each its own shards, clips in the order of
/// BLAKE3 of their file names, so every shard mixes all digits), the clip hashes and the featurizer in the provenance.
pub fn digitize_fsdd(
    src: &Path,
    out: &Path,
    params: &LogMelParams,
    options: &DigitizeOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<DigitizeReport, DigitizeError> {
    let features = featurize_fsdd(src, params, options.threads, progress)?;
    if features.clips.is_empty() {
        return Err(DigitizeError::Empty(src.to_owned()));
    }
    let shape = [params.frames(), params.n_mels];
    // The quantization is fitted on the training split (on everything if it is empty).
    let fit_on: Vec<&Vec<f32>> = {
        let train: Vec<_> = features
            .clips
            .iter()
            .filter(|(c, _, _)| c.split() == FsddSplit::Train)
            .map(|(_, f, _)| f)
            .collect();
        if train.is_empty() {
            features.clips.iter().map(|(_, f, _)| f).collect()
        } else {
            train
        }
    };
    let (min, max) = fit_on
        .iter()
        .flat_map(|f| f.iter())
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let q8 = Q8::fit(min, max);
    let feature_column = match options.encoding {
        FeatureEncoding::F32 => Column::new("features", DType::Fp32, &shape),
        FeatureEncoding::F16 => Column::new("features", DType::Fp16, &shape),
        FeatureEncoding::Q8 => Column {
            q8: Some(q8),
            ..Column::new("features", DType::Uint8, &shape)
        },
    };
    let columns = vec![feature_column, Column::new("label", DType::Uint32, &[])];

    let mut report = DigitizeReport {
        manifest: DatasetManifest {
            format: MANIFEST_FORMAT.into(),
            name: "fsdd-logmel".into(),
            columns: columns.clone(),
            shards: Vec::new(),
            splits: BTreeMap::new(),
            provenance: Provenance {
                sources: Vec::new(),
                featurizer: FeaturizerRecord {
                    name: "aic-data".into(),
                    version: env!("CARGO_PKG_VERSION").into(),
                    params: Featurizer::LogMel(params.clone()),
                },
                license: "Free Spoken Digit Dataset, Zohar Jackson et al., CC BY-SA 4.0".into(),
            },
        },
        manifest_blake3: String::new(),
        skipped: features.skipped,
        samples: BTreeMap::new(),
        source_bytes: 0,
        dataset_bytes: 0,
        max_abs_error: 0.0,
        clamped: 0,
    };
    let mut shards = Vec::new();
    let mut encoded = Vec::new();
    for split in [FsddSplit::Train, FsddSplit::Valid, FsddSplit::Test] {
        let mut writer = ShardSetWriter::new(&columns, options.shard_bytes, options.zstd_level)?;
        let mut n = 0u64;
        // Stored in the order of BLAKE3 of the file names, a fixed pseudo-random mix: in
        // (digit, speaker, index) order each shard would hold one or two digits, and a loader
        // window of a few shards would give batches of a few digits.
        let mut clips: Vec<_> = features
            .clips
            .iter()
            .filter(|(c, _, _)| c.split() == split)
            .collect();
        clips.sort_by_cached_key(|(c, _, _)| storage_key(c));
        for (clip, values, _) in clips {
            encoded.clear();
            match options.encoding {
                FeatureEncoding::F32 => encoded.extend(fp32_bytes(values)),
                FeatureEncoding::F16 => {
                    encoded.extend(fp16_bytes(values));
                    for (b, &v) in encoded.chunks_exact(2).zip(values) {
                        let back = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
                        report.max_abs_error = report.max_abs_error.max((back - v).abs());
                    }
                }
                FeatureEncoding::Q8 => {
                    for &v in values {
                        let q = q8.quantize(v);
                        if v < min || v > max {
                            report.clamped += 1;
                        }
                        report.max_abs_error =
                            report.max_abs_error.max((q8.dequantize(q) - v).abs());
                        encoded.push(q);
                    }
                }
            }
            writer.push(&[&encoded, &u32_bytes(&[u32::from(clip.digit)])])?;
            n += 1;
        }
        if n == 0 {
            continue;
        }
        let first = shards.len() as u32;
        shards.extend(writer.finish()?);
        report.manifest.splits.insert(
            split_name(split).into(),
            Split {
                shards: (first..shards.len() as u32).collect(),
            },
        );
        report.samples.insert(split_name(split).into(), n);
    }
    report.manifest.shards = shards.iter().map(|s| s.entry.clone()).collect();
    report.manifest.provenance.sources = features
        .clips
        .into_iter()
        .map(|(_, _, source)| source)
        .collect();
    report.source_bytes = report
        .manifest
        .provenance
        .sources
        .iter()
        .map(|s| s.bytes)
        .sum();
    progress(Progress {
        stage: "write",
        done: 0,
        total: shards.len() as u64,
    });
    report.dataset_bytes = write_dataset(out, &report.manifest, &shards, &[])?;
    report.manifest_blake3 = report.manifest.blake3_hex();
    progress(Progress {
        stage: "write",
        done: shards.len() as u64,
        total: shards.len() as u64,
    });
    Ok(report)
}
