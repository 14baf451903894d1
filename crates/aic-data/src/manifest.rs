//! The dataset manifest: what a digitized data set holds (columns), where it is (shards named
//! by BLAKE3), how it is split, and where it came from (source file hashes, featurizer).
//! Its JSON form is described in `docs/data-format.md`.

use std::collections::{BTreeMap, HashSet};

use aic_model::Featurizer;
use serde::{Deserialize, Serialize};

/// The `format` every manifest of this version carries.
pub const MANIFEST_FORMAT: &str = "aic-dataset/1";

/// Element type of a column, little-endian in shards.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DType {
    /// IEEE 754 binary32.
    Fp32,
    /// IEEE 754 binary16.
    Fp16,
    /// Unsigned byte; with [`Column::q8`] a quantized real number.
    Uint8,
    /// Unsigned 16-bit integer.
    Uint16,
    /// Unsigned 32-bit integer (token ids, labels).
    Uint32,
    /// Signed 64-bit integer.
    Int64,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            DType::Uint8 => 1,
            DType::Fp16 | DType::Uint16 => 2,
            DType::Fp32 | DType::Uint32 => 4,
            DType::Int64 => 8,
        }
    }
}

/// Affine 8-bit quantization: the stored byte `q` means `offset + scale * q`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Q8 {
    /// Step between consecutive codes.
    pub scale: f32,
    /// The value of code 0.
    pub offset: f32,
}

impl Q8 {
    /// The quantization spreading 256 codes evenly over `[min, max]` (the maximum error is
    /// half a step, `(max - min) / 510`).
    pub fn fit(min: f32, max: f32) -> Self {
        let scale = if max > min { (max - min) / 255.0 } else { 1.0 };
        Self { scale, offset: min }
    }

    /// The nearest code to `x` (values outside the range are clamped; NaN is code 0).
    pub fn quantize(&self, x: f32) -> u8 {
        let q = ((x - self.offset) / self.scale).round();
        if q.is_nan() {
            0
        } else {
            q.clamp(0.0, 255.0) as u8
        }
    }

    /// The value of a code.
    pub fn dequantize(&self, q: u8) -> f32 {
        self.offset + self.scale * f32::from(q)
    }
}

/// One named tensor of every sample.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Name, unique in the data set (`"logmel"`, `"label"`, `"question"`).
    pub name: String,
    /// Element type.
    pub dtype: DType,
    /// Dimensions of the tensor each sample holds (`[]` for a scalar), row-major.
    pub shape: Vec<u32>,
    /// Quantization of a `UINT8` column holding real numbers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q8: Option<Q8>,
}

impl Column {
    /// A column without quantization.
    pub fn new(name: &str, dtype: DType, shape: &[u32]) -> Self {
        Self {
            name: name.to_owned(),
            dtype,
            shape: shape.to_vec(),
            q8: None,
        }
    }

    /// Elements per sample, `None` if the product overflows.
    pub fn elements(&self) -> Option<usize> {
        self.shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d as usize))
    }

    /// Bytes per sample, `None` if it overflows.
    pub fn byte_size(&self) -> Option<usize> {
        self.elements()?.checked_mul(self.dtype.size())
    }
}

/// How a shard file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// One zstd frame holding the whole shard.
    Zstd,
}

/// One shard of a data set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardEntry {
    /// BLAKE3 (hex) of the shard file as stored and moved (compressed): its content address.
    pub blake3: String,
    /// Size of the shard file in bytes.
    pub bytes: u64,
    /// Size of the shard after decompression.
    pub raw_bytes: u64,
    /// BLAKE3 (hex) of the shard after decompression (independent of the compressor).
    pub raw_blake3: String,
    /// Samples in the shard.
    pub samples: u64,
    /// Compression of the file.
    pub compression: Compression,
}

/// A named subset of the samples (`"train"`, `"test"`): whole shards.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Split {
    /// Indices into [`DatasetManifest::shards`], in reading order.
    pub shards: Vec<u32>,
}

/// A raw file the data set was digitized from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Path relative to the source root (`recordings/0_george_0.wav`).
    pub path: String,
    /// BLAKE3 (hex) of its bytes.
    pub blake3: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The featurizer that produced the columns, and the code that ran it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeaturizerRecord {
    /// Implementation that ran it (`"aic-data"`).
    pub name: String,
    /// Its version (`"0.1.0"`).
    pub version: String,
    /// The featurizer and its parameters, as a model manifest declares them.
    pub params: Featurizer,
}

/// Where a data set came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Provenance {
    /// The raw files, each with its hash.
    pub sources: Vec<SourceFile>,
    /// How they were turned into columns.
    pub featurizer: FeaturizerRecord,
    /// Free text: the data set's origin and license (`"FSDD, CC BY-SA 4.0"`).
    #[serde(default)]
    pub license: String,
}

/// A digitized data set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetManifest {
    /// Always [`MANIFEST_FORMAT`].
    pub format: String,
    /// Human-readable name.
    pub name: String,
    /// The tensors of every sample, in shard order.
    pub columns: Vec<Column>,
    /// The shards.
    pub shards: Vec<ShardEntry>,
    /// Named subsets; a shard belongs to at most one.
    pub splits: BTreeMap<String, Split>,
    /// Sources and featurizer.
    pub provenance: Provenance,
}

/// Why a manifest was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not JSON of the manifest's shape.
    #[error("manifest json: {0}")]
    Json(#[from] serde_json::Error),
    /// `format` is not [`MANIFEST_FORMAT`].
    #[error("format {0:?} is not {MANIFEST_FORMAT:?}")]
    Format(String),
    /// No columns.
    #[error("no columns")]
    NoColumns,
    /// Two columns share a name, or a name is empty.
    #[error("column name {0:?} is empty or repeated")]
    ColumnName(String),
    /// A column's size is zero or overflows.
    #[error("column {0:?}: a dimension is zero or the size overflows")]
    ColumnShape(String),
    /// Quantization on a column that is not `UINT8`, or with a scale that is not positive and
    /// finite.
    #[error("column {0:?}: q8 needs a UINT8 column and a positive finite scale")]
    ColumnQ8(String),
    /// A hash is not 64 lower-case hex digits.
    #[error("{what} {value:?} is not a blake3 hex digest")]
    Hash {
        /// Which hash.
        what: &'static str,
        /// The value.
        value: String,
    },
    /// A split names a shard that does not exist.
    #[error("split {split:?} names shard {shard}, there are {count}")]
    SplitShard {
        /// The split.
        split: String,
        /// The index.
        shard: u32,
        /// Number of shards.
        count: usize,
    },
    /// A shard belongs to two splits, or twice to one.
    #[error("shard {0} is in more than one split")]
    SharedShard(u32),
}

fn is_hex_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl DatasetManifest {
    /// Parses and validates a manifest.
    pub fn from_json(bytes: &[u8]) -> Result<Self, ManifestError> {
        let manifest: Self = serde_json::from_slice(bytes)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// The JSON form (pretty, fields in declaration order, splits sorted by name).
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// BLAKE3 (hex) of [`to_json`](Self::to_json): the data set's content address.
    pub fn blake3_hex(&self) -> String {
        blake3::hash(&self.to_json()).to_hex().to_string()
    }

    /// Total samples in all shards.
    pub fn samples(&self) -> u64 {
        self.shards.iter().map(|s| s.samples).sum()
    }

    /// Checks what serde cannot: format, column names, sizes and quantization, hash syntax,
    /// split membership.
    pub fn validate(&self) -> Result<(), ManifestError> {
        if self.format != MANIFEST_FORMAT {
            return Err(ManifestError::Format(self.format.clone()));
        }
        if self.columns.is_empty() {
            return Err(ManifestError::NoColumns);
        }
        let mut names = HashSet::new();
        for c in &self.columns {
            if c.name.is_empty() || !names.insert(c.name.as_str()) {
                return Err(ManifestError::ColumnName(c.name.clone()));
            }
            if c.shape.contains(&0) || c.byte_size().is_none() {
                return Err(ManifestError::ColumnShape(c.name.clone()));
            }
            if let Some(q8) = c.q8 {
                if c.dtype != DType::Uint8 || !(q8.scale > 0.0 && q8.scale.is_finite()) {
                    return Err(ManifestError::ColumnQ8(c.name.clone()));
                }
            }
        }
        for s in &self.shards {
            for (what, value) in [
                ("shard blake3", &s.blake3),
                ("shard raw_blake3", &s.raw_blake3),
            ] {
                if !is_hex_digest(value) {
                    return Err(ManifestError::Hash {
                        what,
                        value: value.clone(),
                    });
                }
            }
        }
        for f in &self.provenance.sources {
            if !is_hex_digest(&f.blake3) {
                return Err(ManifestError::Hash {
                    what: "source blake3",
                    value: f.blake3.clone(),
                });
            }
        }
        let mut used = HashSet::new();
        for (name, split) in &self.splits {
            for &shard in &split.shards {
                if shard as usize >= self.shards.len() {
                    return Err(ManifestError::SplitShard {
                        split: name.clone(),
                        shard,
                        count: self.shards.len(),
                    });
                }
                if !used.insert(shard) {
                    return Err(ManifestError::SharedShard(shard));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_model::LogMelParams;

    fn example() -> DatasetManifest {
        let hash = blake3::hash(b"x").to_hex().to_string();
        DatasetManifest {
            format: MANIFEST_FORMAT.into(),
            name: "fsdd-logmel".into(),
            columns: vec![
                Column {
                    q8: Some(Q8::fit(-13.9, 5.0)),
                    ..Column::new("logmel", DType::Uint8, &[101, 40])
                },
                Column::new("label", DType::Uint32, &[]),
            ],
            shards: vec![ShardEntry {
                blake3: hash.clone(),
                bytes: 10,
                raw_bytes: 20,
                raw_blake3: hash.clone(),
                samples: 3,
                compression: Compression::Zstd,
            }],
            splits: BTreeMap::from([("train".into(), Split { shards: vec![0] })]),
            provenance: Provenance {
                sources: vec![SourceFile {
                    path: "recordings/0_george_0.wav".into(),
                    blake3: hash,
                    bytes: 4812,
                }],
                featurizer: FeaturizerRecord {
                    name: "aic-data".into(),
                    version: "0.1.0".into(),
                    params: Featurizer::LogMel(LogMelParams::speech_8khz()),
                },
                license: "FSDD, CC BY-SA 4.0".into(),
            },
        }
    }

    #[test]
    fn json_round_trip() {
        let m = example();
        let json = m.to_json();
        let text = std::str::from_utf8(&json).unwrap();
        assert!(text.contains("\"dtype\": \"UINT8\""), "{text}");
        assert!(text.contains("\"compression\": \"zstd\""), "{text}");
        assert!(text.contains("\"kind\": \"log-mel\""), "{text}");
        let back = DatasetManifest::from_json(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.blake3_hex(), m.blake3_hex());
        assert_eq!(m.samples(), 3);
        let unknown = text.replace("\"raw_bytes\"", "\"raw_size\"");
        assert!(matches!(
            DatasetManifest::from_json(unknown.as_bytes()),
            Err(ManifestError::Json(_))
        ));
    }

    #[test]
    fn invalid_manifests_are_refused() {
        let check = |f: fn(&mut DatasetManifest), ok: fn(&ManifestError) -> bool| {
            let mut m = example();
            f(&mut m);
            let err = DatasetManifest::from_json(&m.to_json()).unwrap_err();
            assert!(ok(&err), "{err}");
        };
        check(
            |m| m.format = "x".into(),
            |e| matches!(e, ManifestError::Format(_)),
        );
        check(
            |m| m.columns.clear(),
            |e| matches!(e, ManifestError::NoColumns),
        );
        check(
            |m| m.columns[1].name = "logmel".into(),
            |e| matches!(e, ManifestError::ColumnName(_)),
        );
        check(
            |m| m.columns[0].shape = vec![0],
            |e| matches!(e, ManifestError::ColumnShape(_)),
        );
        check(
            |m| m.columns[0].shape = vec![u32::MAX, u32::MAX, u32::MAX],
            |e| matches!(e, ManifestError::ColumnShape(_)),
        );
        check(
            |m| m.columns[1].q8 = Some(Q8::fit(0.0, 1.0)),
            |e| matches!(e, ManifestError::ColumnQ8(_)),
        );
        check(
            |m| m.shards[0].blake3 = "AB".into(),
            |e| matches!(e, ManifestError::Hash { .. }),
        );
        check(
            |m| m.provenance.sources[0].blake3.make_ascii_uppercase(),
            |e| matches!(e, ManifestError::Hash { .. }),
        );
        check(
            |m| {
                m.splits
                    .insert("test".into(), Split { shards: vec![1] })
                    .map_or((), drop)
            },
            |e| matches!(e, ManifestError::SplitShard { shard: 1, .. }),
        );
        check(
            |m| {
                m.splits
                    .insert("test".into(), Split { shards: vec![0] })
                    .map_or((), drop)
            },
            |e| matches!(e, ManifestError::SharedShard(0)),
        );
    }

    #[test]
    fn q8_round_trip_within_half_a_step() {
        let q = Q8::fit(-13.9, 5.0);
        for i in 0..=1000 {
            let x = -13.9 + 18.9 * i as f32 / 1000.0;
            let back = q.dequantize(q.quantize(x));
            assert!((back - x).abs() <= q.scale / 2.0 + 1e-5, "{x} {back}");
        }
        assert_eq!(q.quantize(-100.0), 0);
        assert_eq!(q.quantize(100.0), 255);
        assert_eq!(q.quantize(f32::NAN), 0);
    }
}
