//! Training checkpoints and weights files as safetensors, byte-for-byte reproducible.
//!
//! A checkpoint holds everything the next step depends on: the model's tensors (parameters
//! and running statistics), the optimizer's moments and step, and the loop's position (global
//! step, epoch, batch within the epoch, early-stopping state). Data order and dropout masks are
//! pure functions of the seed, epoch and step (see [`crate::rng`]), so no generator state is
//! stored. Tensors are written in safetensors' canonical order and the scalar state as one JSON
//! metadata entry with sorted keys, so the same state always gives the same bytes and the same
//! BLAKE3 id: that id is what a training transcript commits to.

use std::collections::HashMap;

use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};

use crate::state::{NamedTensor, TensorMap};

/// Metadata key holding the scalar state as JSON.
const STATE_KEY: &str = "aic.state";
/// Prefix of model tensors inside a checkpoint.
const MODEL_PREFIX: &str = "model.";
/// Prefix of optimizer tensors inside a checkpoint.
const OPTIM_PREFIX: &str = "optim.";

/// Where the training loop stands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Optimizer steps taken.
    pub step: u64,
    /// Epoch the next batch belongs to.
    pub epoch: u32,
    /// Index of the next batch within its epoch.
    pub batch: u32,
    /// Best validation metric so far (higher is better).
    pub best_metric: Option<f64>,
    /// Epoch of the best validation metric.
    pub best_epoch: Option<u32>,
    /// Epochs since the best one (early stopping).
    pub epochs_without_improvement: u32,
}

/// A full training state.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    /// Loop position.
    pub progress: Progress,
    /// The model's tensors by path.
    pub model: TensorMap,
    /// The optimizer's tensors by `{path}.m` / `{path}.v`.
    pub optimizer: TensorMap,
}

/// Why bytes are not a checkpoint or weights file.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Not valid safetensors.
    #[error("not a safetensors file: {0}")]
    Format(String),
    /// A tensor is not f32.
    #[error("tensor {0} is not F32")]
    Dtype(String),
    /// The scalar state is missing or malformed.
    #[error("missing or malformed {STATE_KEY} metadata: {0}")]
    State(String),
    /// A tensor name has neither prefix.
    #[error("tensor {0} belongs to neither the model nor the optimizer")]
    Name(String),
}

fn to_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn encode_map(
    entries: Vec<(String, &NamedTensor)>,
    metadata: Option<HashMap<String, String>>,
) -> Vec<u8> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = entries
        .into_iter()
        .map(|(name, t)| (name, t.shape.clone(), to_bytes(&t.values)))
        .collect();
    let views: Vec<(String, TensorView<'_>)> = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            let view = TensorView::new(Dtype::F32, shape.clone(), bytes)
                .expect("shape and byte length agree by construction");
            (name.clone(), view)
        })
        .collect();
    safetensors::serialize(views, metadata).expect("serializing in-memory tensors cannot fail")
}

fn decode_map(
    bytes: &[u8],
) -> Result<(TensorMap, Option<HashMap<String, String>>), CheckpointError> {
    let (_, meta) =
        SafeTensors::read_metadata(bytes).map_err(|e| CheckpointError::Format(e.to_string()))?;
    let st = SafeTensors::deserialize(bytes).map_err(|e| CheckpointError::Format(e.to_string()))?;
    let mut out = TensorMap::new();
    for (name, view) in st.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(CheckpointError::Dtype(name));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        out.insert(
            name,
            NamedTensor {
                shape: view.shape().to_vec(),
                values,
            },
        );
    }
    Ok((out, meta.metadata().clone()))
}

impl Checkpoint {
    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut entries: Vec<(String, &NamedTensor)> = Vec::new();
        for (k, v) in &self.model {
            entries.push((format!("{MODEL_PREFIX}{k}"), v));
        }
        for (k, v) in &self.optimizer {
            entries.push((format!("{OPTIM_PREFIX}{k}"), v));
        }
        let state = serde_json::to_string(&self.progress).expect("progress serializes");
        let metadata = HashMap::from([(STATE_KEY.to_string(), state)]);
        encode_map(entries, Some(metadata))
    }

    /// Parses canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, CheckpointError> {
        let (tensors, metadata) = decode_map(bytes)?;
        let state = metadata
            .as_ref()
            .and_then(|m| m.get(STATE_KEY))
            .ok_or_else(|| CheckpointError::State("absent".into()))?;
        let progress: Progress =
            serde_json::from_str(state).map_err(|e| CheckpointError::State(e.to_string()))?;
        let (mut model, mut optimizer) = (TensorMap::new(), TensorMap::new());
        for (name, t) in tensors {
            if let Some(k) = name.strip_prefix(MODEL_PREFIX) {
                model.insert(k.to_string(), t);
            } else if let Some(k) = name.strip_prefix(OPTIM_PREFIX) {
                optimizer.insert(k.to_string(), t);
            } else {
                return Err(CheckpointError::Name(name));
            }
        }
        Ok(Self {
            progress,
            model,
            optimizer,
        })
    }

    /// BLAKE3 of the canonical bytes.
    pub fn id(&self) -> blake3::Hash {
        blake3::hash(&self.encode())
    }
}

/// A weights file (the model's tensors only), as a model package carries it.
pub fn encode_weights(model: &TensorMap) -> Vec<u8> {
    encode_map(model.iter().map(|(k, v)| (k.clone(), v)).collect(), None)
}

/// Parses a weights file.
pub fn decode_weights(bytes: &[u8]) -> Result<TensorMap, CheckpointError> {
    decode_map(bytes).map(|(t, _)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Checkpoint {
        let mut model = TensorMap::new();
        model.insert(
            "b.weight".into(),
            NamedTensor {
                shape: vec![2, 2],
                values: vec![1.0, 2.0, 3.0, 4.0],
            },
        );
        model.insert(
            "a.bias".into(),
            NamedTensor {
                shape: vec![2],
                values: vec![0.5, -0.5],
            },
        );
        let mut optimizer = TensorMap::new();
        optimizer.insert(
            "a.bias.m".into(),
            NamedTensor {
                shape: vec![2],
                values: vec![0.0, 0.1],
            },
        );
        Checkpoint {
            progress: Progress {
                step: 7,
                epoch: 1,
                batch: 3,
                best_metric: Some(0.5),
                best_epoch: Some(0),
                epochs_without_improvement: 0,
            },
            model,
            optimizer,
        }
    }

    #[test]
    fn round_trip_and_stable_bytes() {
        let c = sample();
        let bytes = c.encode();
        assert_eq!(bytes, c.clone().encode());
        assert_eq!(Checkpoint::decode(&bytes).unwrap(), c);
    }

    #[test]
    fn any_changed_value_changes_the_id() {
        let c = sample();
        let mut d = c.clone();
        d.model.get_mut("b.weight").unwrap().values[3] = 4.000_001;
        assert_ne!(c.id(), d.id());
        let mut e = c.clone();
        e.progress.step += 1;
        assert_ne!(c.id(), e.id());
    }

    #[test]
    fn garbage_is_refused() {
        assert!(matches!(
            Checkpoint::decode(b"not safetensors"),
            Err(CheckpointError::Format(_))
        ));
        let weights = encode_weights(&sample().model);
        assert!(matches!(
            Checkpoint::decode(&weights),
            Err(CheckpointError::State(_))
        ));
        assert_eq!(decode_weights(&weights).unwrap(), sample().model);
    }
}
