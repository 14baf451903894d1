//! The shard: a fixed-layout file of samples with an offset table for random access, stored
//! as one zstd frame and named by its BLAKE3. The layout is in `docs/data-format.md`:
//!
//! ```text
//! offset  size        field
//! 0       8           magic "AICSHARD"
//! 8       4           version, u32 LE (1)
//! 12      4           column count C, u32 LE
//! 16      8           sample count N, u64 LE
//! 24      8 (N*C+1)   offsets, u64 LE, from the start of the data region: field j of
//!                     sample i is data[off[i*C + j] .. off[i*C + j + 1]]
//! ...     off[N*C]    data: the fields, sample after sample, column after column
//! ```
//!
//! Everything is checked when a shard is opened (hashes, header, the whole offset table, every
//! field's size against its column), so reading sample `i` afterwards only fails for an index
//! out of range, and never decodes another sample.

use crate::manifest::{Column, Compression, DType, ShardEntry};

/// First eight bytes of every (decompressed) shard.
pub const SHARD_MAGIC: [u8; 8] = *b"AICSHARD";
/// The layout version this code writes and reads.
pub const SHARD_VERSION: u32 = 1;
/// Largest decompressed shard this code opens (1 GiB): a manifest cannot make a reader
/// allocate more.
pub const MAX_RAW_BYTES: u64 = 1 << 30;
/// Header bytes before the offset table.
const HEADER_LEN: usize = 24;

/// Why a shard could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ShardError {
    /// The file's size is not the manifest's.
    #[error("shard is {found} bytes, the manifest says {expected}")]
    SizeMismatch {
        /// Size in the manifest.
        expected: u64,
        /// Size of the bytes given.
        found: u64,
    },
    /// The file's (or, after decompression, the shard's) BLAKE3 is not the manifest's.
    #[error("{what} blake3 {found}, the manifest says {expected}")]
    HashMismatch {
        /// `"shard"` (compressed) or `"raw shard"`.
        what: &'static str,
        /// Hash in the manifest.
        expected: String,
        /// Hash of the bytes.
        found: String,
    },
    /// The manifest's decompressed size is over [`MAX_RAW_BYTES`].
    #[error("decompressed size {0} is over the limit of {MAX_RAW_BYTES} bytes")]
    TooLarge(u64),
    /// zstd refused the bytes, or they decompress to another size than the manifest's.
    #[error("zstd: {0}")]
    Decompress(String),
    /// zstd failed to compress.
    #[error("zstd compression: {0}")]
    Compress(String),
    /// The shard does not start with [`SHARD_MAGIC`].
    #[error("bad magic: not a shard")]
    BadMagic,
    /// A layout version this code does not read.
    #[error("shard version {0}, this code reads {SHARD_VERSION}")]
    UnsupportedVersion(u32),
    /// The shard ends before its header, offset table or data does.
    #[error("truncated: {what} needs {needed} bytes, {available} available")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes it needs.
        needed: u64,
        /// Bytes there are.
        available: u64,
    },
    /// Bytes after the data region.
    #[error("{0} bytes after the data region")]
    TrailingBytes(u64),
    /// An offset decreases or points past the data region, or the first is not 0.
    #[error(
        "offset {index} is {offset}, out of range (previous {previous}, data {data_len} bytes)"
    )]
    OffsetOutOfRange {
        /// Index in the offset table.
        index: u64,
        /// Its value.
        offset: u64,
        /// The previous offset.
        previous: u64,
        /// Length of the data region.
        data_len: u64,
    },
    /// The header's column or sample count is not the manifest's.
    #[error("shard holds {found} {what}, the manifest says {expected}")]
    CountMismatch {
        /// `"columns"` or `"samples"`.
        what: &'static str,
        /// Count in the manifest.
        expected: u64,
        /// Count in the shard.
        found: u64,
    },
    /// A field's size is not its column's.
    #[error("sample {sample} column {column:?}: {found} bytes, the column needs {expected}")]
    FieldSize {
        /// Sample index.
        sample: u64,
        /// Column name.
        column: String,
        /// Bytes the column needs.
        expected: u64,
        /// Bytes given or stored.
        found: u64,
    },
    /// A column whose size overflows.
    #[error("column {0:?}: size overflows")]
    ColumnShape(String),
    /// A sample index past the end.
    #[error("sample {index} out of range ({count} samples)")]
    SampleOutOfRange {
        /// The index asked for.
        index: u64,
        /// Samples in the shard.
        count: u64,
    },
    /// A column index or name that is not in the shard.
    #[error("no column {0}")]
    NoColumn(String),
    /// A field read as another type than its column's.
    #[error("column {column:?} is {dtype:?}, read as {asked}")]
    WrongType {
        /// Column name.
        column: String,
        /// Its type.
        dtype: DType,
        /// What was asked for.
        asked: &'static str,
    },
}

fn field_sizes(columns: &[Column]) -> Result<Vec<usize>, ShardError> {
    columns
        .iter()
        .map(|c| {
            c.byte_size()
                .ok_or_else(|| ShardError::ColumnShape(c.name.clone()))
        })
        .collect()
}

/// Builds one shard in memory.
#[derive(Debug)]
pub struct ShardWriter {
    columns: Vec<Column>,
    sizes: Vec<usize>,
    offsets: Vec<u64>,
    data: Vec<u8>,
    samples: u64,
}

/// A finished shard: the file's bytes and its manifest entry.
#[derive(Clone, Debug)]
pub struct FinishedShard {
    /// The shard file (zstd-compressed).
    pub bytes: Vec<u8>,
    /// Its entry for [`DatasetManifest::shards`](crate::DatasetManifest::shards).
    pub entry: ShardEntry,
}

impl ShardWriter {
    /// A writer for samples of these columns.
    pub fn new(columns: &[Column]) -> Result<Self, ShardError> {
        Ok(Self {
            sizes: field_sizes(columns)?,
            columns: columns.to_vec(),
            offsets: vec![0],
            data: Vec::new(),
            samples: 0,
        })
    }

    /// Appends a sample: one little-endian field per column, in column order, each exactly
    /// its column's size. A refused sample changes nothing.
    pub fn push(&mut self, fields: &[&[u8]]) -> Result<(), ShardError> {
        if fields.len() != self.columns.len() {
            return Err(ShardError::CountMismatch {
                what: "columns",
                expected: self.columns.len() as u64,
                found: fields.len() as u64,
            });
        }
        for ((field, &size), column) in fields.iter().zip(&self.sizes).zip(&self.columns) {
            if field.len() != size {
                return Err(ShardError::FieldSize {
                    sample: self.samples,
                    column: column.name.clone(),
                    expected: size as u64,
                    found: field.len() as u64,
                });
            }
        }
        for field in fields {
            self.data.extend_from_slice(field);
            self.offsets.push(self.data.len() as u64);
        }
        self.samples += 1;
        Ok(())
    }

    /// Samples pushed so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Size of the shard before compression if it were finished now.
    pub fn raw_len(&self) -> usize {
        HEADER_LEN + 8 * self.offsets.len() + self.data.len()
    }

    /// The uncompressed shard.
    fn raw(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(self.raw_len());
        raw.extend_from_slice(&SHARD_MAGIC);
        raw.extend_from_slice(&SHARD_VERSION.to_le_bytes());
        raw.extend_from_slice(&(self.columns.len() as u32).to_le_bytes());
        raw.extend_from_slice(&self.samples.to_le_bytes());
        for offset in &self.offsets {
            raw.extend_from_slice(&offset.to_le_bytes());
        }
        raw.extend_from_slice(&self.data);
        raw
    }

    /// Compresses the shard with zstd at `level` (3 is zstd's default) and hashes it.
    pub fn finish(self, level: i32) -> Result<FinishedShard, ShardError> {
        let raw = self.raw();
        if raw.len() as u64 > MAX_RAW_BYTES {
            return Err(ShardError::TooLarge(raw.len() as u64));
        }
        let bytes =
            zstd::bulk::compress(&raw, level).map_err(|e| ShardError::Compress(e.to_string()))?;
        let entry = ShardEntry {
            blake3: blake3::hash(&bytes).to_hex().to_string(),
            bytes: bytes.len() as u64,
            raw_bytes: raw.len() as u64,
            raw_blake3: blake3::hash(&raw).to_hex().to_string(),
            samples: self.samples,
            compression: Compression::Zstd,
        };
        Ok(FinishedShard { bytes, entry })
    }
}

/// An opened, fully checked shard held decompressed in memory.
#[derive(Debug)]
pub struct Shard {
    columns: Vec<Column>,
    raw: Vec<u8>,
    samples: u64,
    /// Start of the data region in `raw`.
    data_start: usize,
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    let mut b = [0; 4];
    b.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(b)
}

fn check_hash(what: &'static str, bytes: &[u8], expected: &str) -> Result<(), ShardError> {
    let found = blake3::hash(bytes).to_hex().to_string();
    if !found.eq_ignore_ascii_case(expected) {
        return Err(ShardError::HashMismatch {
            what,
            expected: expected.to_owned(),
            found,
        });
    }
    Ok(())
}

impl Shard {
    /// Opens a shard file: checks its size and BLAKE3 against `entry`, decompresses it
    /// (never to more than `entry.raw_bytes`), checks the raw BLAKE3, the header against
    /// `entry` and `columns`, the whole offset table and every field's size.
    pub fn open(bytes: &[u8], entry: &ShardEntry, columns: &[Column]) -> Result<Self, ShardError> {
        if bytes.len() as u64 != entry.bytes {
            return Err(ShardError::SizeMismatch {
                expected: entry.bytes,
                found: bytes.len() as u64,
            });
        }
        check_hash("shard", bytes, &entry.blake3)?;
        if entry.raw_bytes > MAX_RAW_BYTES {
            return Err(ShardError::TooLarge(entry.raw_bytes));
        }
        let raw = match entry.compression {
            Compression::Zstd => zstd::bulk::decompress(bytes, entry.raw_bytes as usize)
                .map_err(|e| ShardError::Decompress(e.to_string()))?,
        };
        if raw.len() as u64 != entry.raw_bytes {
            return Err(ShardError::Decompress(format!(
                "{} bytes, the manifest says {}",
                raw.len(),
                entry.raw_bytes
            )));
        }
        check_hash("raw shard", &raw, &entry.raw_blake3)?;
        let shard = Self::from_raw(raw, columns)?;
        if shard.samples != entry.samples {
            return Err(ShardError::CountMismatch {
                what: "samples",
                expected: entry.samples,
                found: shard.samples,
            });
        }
        Ok(shard)
    }

    /// Checks an uncompressed shard (no hashes: [`open`](Self::open) checks those first).
    pub fn from_raw(raw: Vec<u8>, columns: &[Column]) -> Result<Self, ShardError> {
        let sizes = field_sizes(columns)?;
        let available = raw.len() as u64;
        if raw.len() < SHARD_MAGIC.len() || raw[..8] != SHARD_MAGIC {
            return Err(ShardError::BadMagic);
        }
        if raw.len() < HEADER_LEN {
            return Err(ShardError::Truncated {
                what: "header",
                needed: HEADER_LEN as u64,
                available,
            });
        }
        let version = u32_at(&raw, 8);
        if version != SHARD_VERSION {
            return Err(ShardError::UnsupportedVersion(version));
        }
        let column_count = u64::from(u32_at(&raw, 12));
        if column_count != columns.len() as u64 {
            return Err(ShardError::CountMismatch {
                what: "columns",
                expected: columns.len() as u64,
                found: column_count,
            });
        }
        let samples = u64_at(&raw, 16);
        // Entries in the offset table, in u128 so no header can overflow the arithmetic.
        let entries = u128::from(samples) * u128::from(column_count) + 1;
        let table_end = HEADER_LEN as u128 + 8 * entries;
        if table_end > u128::from(available) {
            return Err(ShardError::Truncated {
                what: "offset table",
                needed: u64::try_from(table_end).unwrap_or(u64::MAX),
                available,
            });
        }
        let data_start = table_end as usize;
        let data_len = (raw.len() - data_start) as u64;
        let last = u64_at(&raw, data_start - 8);
        if last > data_len {
            return Err(ShardError::Truncated {
                what: "data",
                needed: last,
                available: data_len,
            });
        }
        let mut previous = 0u64;
        for index in 0..entries as usize {
            let offset = u64_at(&raw, HEADER_LEN + 8 * index);
            let bad = if index == 0 {
                offset != 0
            } else {
                offset < previous || offset > data_len
            };
            if bad {
                return Err(ShardError::OffsetOutOfRange {
                    index: index as u64,
                    offset,
                    previous,
                    data_len,
                });
            }
            if index > 0 {
                let column = (index - 1) % sizes.len();
                let found = offset - previous;
                if found != sizes[column] as u64 {
                    return Err(ShardError::FieldSize {
                        sample: ((index - 1) / sizes.len()) as u64,
                        column: columns[column].name.clone(),
                        expected: sizes[column] as u64,
                        found,
                    });
                }
            }
            previous = offset;
        }
        if previous < data_len {
            return Err(ShardError::TrailingBytes(data_len - previous));
        }
        Ok(Self {
            columns: columns.to_vec(),
            raw,
            samples,
            data_start,
        })
    }

    /// Samples in the shard.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// The columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The index of a column by name.
    pub fn column_index(&self, name: &str) -> Result<usize, ShardError> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| ShardError::NoColumn(name.to_owned()))
    }

    /// The little-endian bytes of column `column` of sample `sample`.
    pub fn field(&self, sample: u64, column: usize) -> Result<&[u8], ShardError> {
        if sample >= self.samples {
            return Err(ShardError::SampleOutOfRange {
                index: sample,
                count: self.samples,
            });
        }
        if column >= self.columns.len() {
            return Err(ShardError::NoColumn(column.to_string()));
        }
        // In range: the table was checked at open.
        let index = sample as usize * self.columns.len() + column;
        let start = u64_at(&self.raw, HEADER_LEN + 8 * index) as usize;
        let end = u64_at(&self.raw, HEADER_LEN + 8 * (index + 1)) as usize;
        Ok(&self.raw[self.data_start + start..self.data_start + end])
    }

    /// All fields of sample `sample`, in column order.
    pub fn sample(&self, sample: u64) -> Result<Vec<&[u8]>, ShardError> {
        (0..self.columns.len())
            .map(|c| self.field(sample, c))
            .collect()
    }

    /// A field as real numbers: `FP32` as stored, `FP16` widened, quantized `UINT8`
    /// dequantized. Other types are refused.
    pub fn field_f32(&self, sample: u64, column: usize) -> Result<Vec<f32>, ShardError> {
        let bytes = self.field(sample, column)?;
        let c = &self.columns[column];
        match (c.dtype, c.q8) {
            (DType::Fp32, _) => Ok(bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect()),
            (DType::Fp16, _) => Ok(bytes
                .chunks_exact(2)
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect()),
            (DType::Uint8, Some(q8)) => Ok(bytes.iter().map(|&q| q8.dequantize(q)).collect()),
            (dtype, _) => Err(ShardError::WrongType {
                column: c.name.clone(),
                dtype,
                asked: "f32",
            }),
        }
    }

    /// A `UINT32` field (token ids, labels).
    pub fn field_u32(&self, sample: u64, column: usize) -> Result<Vec<u32>, ShardError> {
        let bytes = self.field(sample, column)?;
        let c = &self.columns[column];
        if c.dtype != DType::Uint32 {
            return Err(ShardError::WrongType {
                column: c.name.clone(),
                dtype: c.dtype,
                asked: "u32",
            });
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    }
}

/// Little-endian bytes of `f32` values, for an `FP32` field.
pub fn fp32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian bytes of `f32` values rounded to binary16 (nearest, ties to even), for an
/// `FP16` field.
pub fn fp16_bytes(values: &[f32]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect()
}

/// Little-endian bytes of `u32` values, for a `UINT32` field.
pub fn u32_bytes(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests;
