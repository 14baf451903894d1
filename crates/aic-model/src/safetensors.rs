//! The safetensors layout, read and written without the reference crate: an 8-byte
//! little-endian header length `n`, `n` bytes of JSON mapping each tensor name to its `dtype`,
//! `shape` and `data_offsets` (`[begin, end)` into the data that follows), and an optional
//! `__metadata__` map of strings. Reading checks everything the reference implementation
//! checks: the header is bounded, offsets are in order, contiguous, cover the data exactly and
//! match each tensor's size.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::manifest::{TensorDtype, WeightTensor};

/// Largest header accepted (the reference implementation's limit).
pub const MAX_HEADER: u64 = 100 * 1024 * 1024;

/// Why bytes are not valid safetensors.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SafetensorsError {
    /// Shorter than the 8-byte length, or than the header it announces.
    #[error("the file ends inside the header")]
    Truncated,
    /// The announced header is larger than [`MAX_HEADER`].
    #[error("header of {0} bytes is larger than the limit")]
    HeaderTooLarge(u64),
    /// The header is not the JSON object expected.
    #[error("bad header: {0}")]
    BadHeader(String),
    /// A tensor's offsets are inconsistent with its shape, or leave holes or overlaps.
    #[error("tensor {0:?}: {1}")]
    BadTensor(String, String),
    /// The data section is longer than the tensors cover.
    #[error("{0} bytes after the last tensor")]
    TrailingBytes(u64),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    dtype: TensorDtype,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// Reads the tensors a safetensors file holds, sorted by name, checking the whole layout.
pub fn read_tensors(bytes: &[u8]) -> Result<Vec<WeightTensor>, SafetensorsError> {
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or(SafetensorsError::Truncated)?;
    let n = u64::from_le_bytes(len_bytes);
    if n > MAX_HEADER {
        return Err(SafetensorsError::HeaderTooLarge(n));
    }
    let end = 8 + n as usize;
    let header = bytes.get(8..end).ok_or(SafetensorsError::Truncated)?;
    let data_len = (bytes.len() - end) as u64;
    let raw: BTreeMap<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| SafetensorsError::BadHeader(e.to_string()))?;
    let mut entries = Vec::with_capacity(raw.len());
    for (name, v) in raw {
        if name == "__metadata__" {
            serde_json::from_value::<BTreeMap<String, String>>(v).map_err(|e| {
                SafetensorsError::BadHeader(format!("__metadata__ is not a map of strings: {e}"))
            })?;
            continue;
        }
        let e: Entry = serde_json::from_value(v)
            .map_err(|e| SafetensorsError::BadTensor(name.clone(), e.to_string()))?;
        entries.push((name, e));
    }
    entries.sort_by_key(|(_, e)| e.data_offsets);
    let mut at = 0u64;
    for (name, e) in &entries {
        let [begin, end] = e.data_offsets;
        let bad = |m: String| SafetensorsError::BadTensor(name.clone(), m);
        if begin != at {
            return Err(bad(format!("starts at {begin}, expected {at}")));
        }
        let size = e
            .shape
            .iter()
            .try_fold(e.dtype.size(), |acc, d| acc.checked_mul(*d))
            .ok_or_else(|| bad("its size overflows".into()))?;
        if end.checked_sub(begin) != Some(size) {
            return Err(bad(format!(
                "offsets [{begin}, {end}) do not hold {size} bytes"
            )));
        }
        if end > data_len {
            return Err(bad(format!(
                "ends at {end}, past the data ({data_len} bytes)"
            )));
        }
        at = end;
    }
    if at != data_len {
        return Err(SafetensorsError::TrailingBytes(data_len - at));
    }
    let mut tensors: Vec<WeightTensor> = entries
        .into_iter()
        .map(|(name, e)| WeightTensor {
            name,
            dtype: e.dtype,
            shape: e.shape,
        })
        .collect();
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(tensors)
}

/// Writes tensors as safetensors: header keys sorted by name, data in the same order, the
/// header padded with spaces to a multiple of 8 bytes. Each tensor's bytes must hold exactly
/// its shape's elements (little-endian); a mismatch is refused.
pub fn write_tensors(tensors: &[(WeightTensor, &[u8])]) -> Result<Vec<u8>, SafetensorsError> {
    let mut sorted: Vec<&(WeightTensor, &[u8])> = tensors.iter().collect();
    sorted.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let mut header = serde_json::Map::new();
    let mut at = 0u64;
    for (t, data) in &sorted {
        let size = t.shape.iter().product::<u64>() * t.dtype.size();
        if size != data.len() as u64 {
            return Err(SafetensorsError::BadTensor(
                t.name.clone(),
                format!("{} bytes given for {size}", data.len()),
            ));
        }
        header.insert(
            t.name.clone(),
            serde_json::json!({"dtype": t.dtype, "shape": t.shape, "data_offsets": [at, at + size]}),
        );
        at += size;
    }
    let mut json = serde_json::Value::Object(header).to_string().into_bytes();
    while json.len() % 8 != 0 {
        json.push(b' ');
    }
    let mut out = Vec::with_capacity(8 + json.len() + at as usize);
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&json);
    for (_, data) in sorted {
        out.extend_from_slice(data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, shape: &[u64]) -> WeightTensor {
        WeightTensor {
            name: name.into(),
            dtype: TensorDtype::F32,
            shape: shape.to_vec(),
        }
    }

    #[test]
    fn written_tensors_read_back() {
        let a = [0u8; 24];
        let b = [1u8; 8];
        let bytes = write_tensors(&[(t("w", &[2, 3]), &a), (t("b", &[2]), &b)]).unwrap();
        assert_eq!(
            read_tensors(&bytes).unwrap(),
            vec![t("b", &[2]), t("w", &[2, 3])]
        );
    }

    #[test]
    fn bad_layouts_are_refused() {
        let a = [0u8; 8];
        let good = write_tensors(&[(t("w", &[2]), &a)]).unwrap();
        assert_eq!(read_tensors(&good[..4]), Err(SafetensorsError::Truncated));
        let mut extra = good.clone();
        extra.push(0);
        assert_eq!(
            read_tensors(&extra),
            Err(SafetensorsError::TrailingBytes(1))
        );
        assert!(matches!(
            read_tensors(&good[..good.len() - 1]),
            Err(SafetensorsError::BadTensor(..))
        ));
        let mut huge = good.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            read_tensors(&huge),
            Err(SafetensorsError::HeaderTooLarge(_))
        ));
        let mut json = good.clone();
        json[8] = b'[';
        assert!(matches!(
            read_tensors(&json),
            Err(SafetensorsError::BadHeader(_))
        ));
        assert!(write_tensors(&[(t("w", &[3]), &a)]).is_err());
    }
}
