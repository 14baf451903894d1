//! Inference: named input tensors in, named output tensors out, checked against the manifest's
//! interface on both sides. A [`Predictor`] wraps an engine ([`Backend`]): the built-in burn
//! architectures here, ONNX in `aic-serve`. Every request is checked by [`check_inputs`] before
//! it reaches an engine, and every engine's answer by [`check_outputs`] before it leaves.

use std::collections::BTreeMap;

use aic_model::{shape_string, Datatype, Dim, Interface, Manifest, TensorSpec};

use crate::tensor::{NamedTensor, Values};

/// Why a request was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InferError {
    /// An input the model does not have.
    #[error("unknown input {name:?} (the model's inputs: {expected})")]
    UnknownInput {
        /// The name given.
        name: String,
        /// The model's input names, comma-separated.
        expected: String,
    },
    /// An input given twice.
    #[error("input {0:?} is given twice")]
    DuplicateInput(String),
    /// An input the model needs is missing.
    #[error("input {0:?} is missing")]
    MissingInput(String),
    /// An input of the wrong element type.
    #[error("input {name:?}: expected datatype {expected}, got {got}")]
    Datatype {
        /// Input name.
        name: String,
        /// The manifest's datatype.
        expected: Datatype,
        /// The request's.
        got: Datatype,
    },
    /// An input of the wrong shape.
    #[error("input {name:?}: expected shape {expected}, got {got:?}")]
    Shape {
        /// Input name.
        name: String,
        /// The manifest's shape (`[-1, 101, 40]`).
        expected: String,
        /// The request's.
        got: Vec<usize>,
    },
    /// Inputs disagree on a shared variable dimension (the batch, or a named one).
    #[error("input {name:?}: dimension {dim} is {got} here but {expected} in {other:?}")]
    DimMismatch {
        /// Input name.
        name: String,
        /// The dimension (`0 (batch)`, `seq`).
        dim: String,
        /// Its size in `other`.
        expected: usize,
        /// Its size here.
        got: usize,
        /// The first input that set it.
        other: String,
    },
    /// A batch of no examples.
    #[error("the batch is empty (dimension 0 of every input must be at least 1)")]
    EmptyBatch,
    /// A batch larger than the manifest's `runtime.max_batch`.
    #[error("batch of {batch} exceeds the model's max_batch {max} (runtime.max_batch); split the request")]
    BatchTooLarge {
        /// Batch requested.
        batch: usize,
        /// The manifest's limit.
        max: usize,
    },
    /// An element the model cannot take (a token id outside the vocabulary, a NaN).
    #[error("input {name:?}: {reason}")]
    Value {
        /// Input name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// An output the model does not have was asked for.
    #[error("unknown output {name:?} (the model's outputs: {expected})")]
    UnknownOutput {
        /// The name asked for.
        name: String,
        /// The model's output names, comma-separated.
        expected: String,
    },
    /// Raw input (audio, text) could not be featurized.
    #[error("featurizing {what}: {reason}")]
    Featurize {
        /// What was featurized.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// The engine failed or answered something its manifest does not declare: a server
    /// fault, not the request's.
    #[error("model failure: {0}")]
    Engine(String),
}

impl InferError {
    /// Whether the request is at fault (HTTP 400) rather than the model (500).
    pub fn is_request_error(&self) -> bool {
        !matches!(self, InferError::Engine(_))
    }
}

fn names(specs: &[TensorSpec]) -> String {
    let v: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    v.join(", ")
}

/// Whether `shape` fits `spec` (rank and fixed dimensions).
fn fits(spec: &[Dim], shape: &[usize]) -> bool {
    spec.len() == shape.len()
        && spec
            .iter()
            .zip(shape)
            .all(|(d, &n)| d.fixed().is_none_or(|f| f == n as u64))
}

/// Checks a request against the interface and returns the batch size and the inputs in the
/// interface's order. Refuses unknown, duplicate and missing inputs, wrong datatypes, wrong
/// ranks or fixed dimensions, inputs that disagree on the batch (dimension 0) or on a named
/// dimension, an empty batch, and a batch over `max_batch`.
pub fn check_inputs<'a>(
    interface: &Interface,
    max_batch: usize,
    inputs: &'a [NamedTensor],
) -> Result<(usize, Vec<&'a NamedTensor>), InferError> {
    let mut by_name: BTreeMap<&str, &NamedTensor> = BTreeMap::new();
    for t in inputs {
        if !interface.inputs.iter().any(|s| s.name == t.name()) {
            return Err(InferError::UnknownInput {
                name: t.name().into(),
                expected: names(&interface.inputs),
            });
        }
        if by_name.insert(t.name(), t).is_some() {
            return Err(InferError::DuplicateInput(t.name().into()));
        }
    }
    let mut ordered = Vec::with_capacity(interface.inputs.len());
    // Variable dimensions shared between inputs: the batch, and each named one.
    let mut shared: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    for spec in &interface.inputs {
        let t = by_name
            .get(spec.name.as_str())
            .ok_or_else(|| InferError::MissingInput(spec.name.clone()))?;
        if t.datatype() != spec.datatype {
            return Err(InferError::Datatype {
                name: spec.name.clone(),
                expected: spec.datatype,
                got: t.datatype(),
            });
        }
        if !fits(&spec.shape, t.shape()) {
            return Err(InferError::Shape {
                name: spec.name.clone(),
                expected: shape_string(&spec.shape),
                got: t.shape().to_vec(),
            });
        }
        for (i, (d, &n)) in spec.shape.iter().zip(t.shape()).enumerate() {
            let key = match d {
                _ if i == 0 => "0 (batch)".to_string(),
                Dim::Named(s) => s.clone(),
                Dim::Fixed(_) => continue,
            };
            match shared.get(&key) {
                Some(&(size, other)) if size != n => {
                    return Err(InferError::DimMismatch {
                        name: spec.name.clone(),
                        dim: key,
                        expected: size,
                        got: n,
                        other: other.into(),
                    })
                }
                Some(_) => {}
                None => {
                    shared.insert(key, (n, t.name()));
                }
            }
        }
        ordered.push(*t);
    }
    let batch = ordered
        .first()
        .and_then(|t| t.shape().first())
        .copied()
        .unwrap_or(0);
    if batch == 0 {
        return Err(InferError::EmptyBatch);
    }
    if batch > max_batch {
        return Err(InferError::BatchTooLarge {
            batch,
            max: max_batch,
        });
    }
    Ok((batch, ordered))
}

/// Checks an engine's answer: every output of the interface, in order, with its datatype and
/// a shape that fits, batch `batch`. Anything else is an [`InferError::Engine`].
pub fn check_outputs(
    interface: &Interface,
    batch: usize,
    outputs: &[NamedTensor],
) -> Result<(), InferError> {
    if outputs.len() != interface.outputs.len() {
        return Err(InferError::Engine(format!(
            "{} outputs, the manifest declares {}",
            outputs.len(),
            interface.outputs.len()
        )));
    }
    for (spec, t) in interface.outputs.iter().zip(outputs) {
        let ok = spec.name == t.name()
            && spec.datatype == t.datatype()
            && fits(&spec.shape, t.shape())
            && t.shape().first() == Some(&batch);
        if !ok {
            return Err(InferError::Engine(format!(
                "output {:?} {} {:?} does not match the manifest's {:?} {} {}",
                t.name(),
                t.datatype(),
                t.shape(),
                spec.name,
                spec.datatype,
                shape_string(&spec.shape)
            )));
        }
    }
    Ok(())
}

/// An engine that runs a model on checked inputs.
pub trait Backend: Send + Sync {
    /// Runs a batch: `inputs` are in the interface's order and passed [`check_inputs`]; the
    /// answer holds every output of the interface, in order.
    fn run(&self, inputs: &[&NamedTensor], batch: usize) -> Result<Vec<NamedTensor>, InferError>;

    /// The platform name the server reports (`aic-burn`, `onnx-tract`).
    fn platform(&self) -> &'static str;
}

/// A model ready to answer requests: its manifest, its id and its engine.
pub struct Predictor {
    manifest: Manifest,
    id: String,
    backend: Box<dyn Backend>,
}

impl std::fmt::Debug for Predictor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Predictor")
            .field("name", &self.manifest.model.name)
            .field("id", &self.id)
            .field("platform", &self.backend.platform())
            .finish()
    }
}

impl Predictor {
    /// A predictor over an engine. `id` names the model (package id or weights BLAKE3).
    pub fn new(manifest: Manifest, id: String, backend: Box<dyn Backend>) -> Self {
        Self {
            manifest,
            id,
            backend,
        }
    }

    /// The manifest.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The model's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The engine's platform name.
    pub fn platform(&self) -> &'static str {
        self.backend.platform()
    }

    /// Largest batch accepted.
    pub fn max_batch(&self) -> usize {
        self.manifest.runtime.max_batch as usize
    }

    /// Runs the model: checks the inputs, runs the engine, checks its outputs, and returns
    /// every output in the interface's order.
    pub fn predict(&self, inputs: &[NamedTensor]) -> Result<Vec<NamedTensor>, InferError> {
        let interface = &self.manifest.interface;
        let (batch, ordered) = check_inputs(interface, self.max_batch(), inputs)?;
        for t in &ordered {
            if let Values::F32(v) = t.data() {
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(InferError::Value {
                        name: t.name().into(),
                        reason: format!("element {i} is {} (must be finite)", v[i]),
                    });
                }
            }
        }
        let outputs = self.backend.run(&ordered, batch)?;
        check_outputs(interface, batch, &outputs)?;
        Ok(outputs)
    }

    /// [`Predictor::predict`], keeping only the outputs named in `select` (all when empty), in
    /// the order asked.
    pub fn predict_selected(
        &self,
        inputs: &[NamedTensor],
        select: &[String],
    ) -> Result<Vec<NamedTensor>, InferError> {
        let outputs = &self.manifest.interface.outputs;
        for name in select {
            if !outputs.iter().any(|o| &o.name == name) {
                return Err(InferError::UnknownOutput {
                    name: name.clone(),
                    expected: names(outputs),
                });
            }
        }
        let all = self.predict(inputs)?;
        if select.is_empty() {
            return Ok(all);
        }
        Ok(select
            .iter()
            .filter_map(|n| all.iter().find(|t| t.name() == n).cloned())
            .collect())
    }
}

/// Probabilities from logits (softmax, computed in f64).
pub fn softmax(logits: &[f32]) -> Vec<f32> {
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f64> = logits.iter().map(|&x| f64::from(x - max).exp()).collect();
    let sum: f64 = exp.iter().sum();
    exp.iter().map(|e| (e / sum) as f32).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kws() -> Interface {
        aic_model::template(aic_model::Task::KeywordSpotting).interface
    }

    #[test]
    fn requests_are_checked_against_the_interface() {
        let i = kws();
        let ok = NamedTensor::f32("mel", vec![2, 101, 40], vec![0.0; 2 * 101 * 40]).unwrap();
        assert_eq!(check_inputs(&i, 4, std::slice::from_ref(&ok)).unwrap().0, 2);
        let e = check_inputs(&i, 1, std::slice::from_ref(&ok)).unwrap_err();
        assert!(
            e.to_string().contains("exceeds the model's max_batch 1"),
            "{e}"
        );
        let bad = NamedTensor::f32("mel", vec![1, 100, 40], vec![0.0; 4000]).unwrap();
        let e = check_inputs(&i, 4, &[bad]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "input \"mel\": expected shape [-1, 101, 40], got [1, 100, 40]"
        );
        let bad = NamedTensor::i64("mel", vec![1, 101, 40], vec![0; 4040]).unwrap();
        let e = check_inputs(&i, 4, &[bad]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "input \"mel\": expected datatype FP32, got INT64"
        );
        let e = check_inputs(&i, 4, &[]).unwrap_err();
        assert!(matches!(e, InferError::MissingInput(_)));
        let other = NamedTensor::f32("x", vec![1], vec![0.0]).unwrap();
        let e = check_inputs(&i, 4, &[ok, other]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown input \"x\" (the model's inputs: mel)"
        );
    }

    #[test]
    fn inputs_share_the_batch() {
        let i = aic_model::template(aic_model::Task::TextMatching).interface;
        let q = NamedTensor::i64("question", vec![2, 40], vec![0; 80]).unwrap();
        let a = NamedTensor::i64("answer", vec![3, 40], vec![0; 120]).unwrap();
        let e = check_inputs(&i, 8, &[q, a]).unwrap_err();
        assert!(matches!(e, InferError::DimMismatch { .. }), "{e}");
    }

    #[test]
    fn softmax_sums_to_one() {
        let p = softmax(&[1.0, 2.0, 3.0]);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(p[2] > p[1] && p[1] > p[0]);
    }
}
