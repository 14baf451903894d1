//! A summary of a manifest (and of its package, when packed), for people and scripts.

use serde::Serialize;

use crate::featurizer::Featurizer;
use crate::interface::{shape_string, TensorSpec};
use crate::manifest::{Determinism, Manifest};
use crate::package::PackageId;
use crate::params::{ParamType, ParamValue};
use crate::task::{metric_goal, Goal};

/// What `aic model info` shows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInfo {
    /// `model.name`.
    pub name: String,
    /// `model.version`.
    pub version: String,
    /// `model.task`.
    pub task: String,
    /// `model.description`.
    pub description: String,
    /// `model.license`.
    pub license: String,
    /// `runtime.architecture`.
    pub architecture: String,
    /// `runtime.engine` and `runtime.engine_version`, as `burn 0.22.1`.
    pub engine: String,
    /// `runtime.determinism`.
    pub determinism: Determinism,
    /// `runtime.devices`.
    pub devices: Vec<String>,
    /// `runtime.min_memory_mib`.
    pub min_memory_mib: u64,
    /// `runtime.max_batch`.
    pub max_batch: u32,
    /// The inputs.
    pub inputs: Vec<TensorInfo>,
    /// The outputs.
    pub outputs: Vec<TensorInfo>,
    /// Every parameter.
    pub parameters: Vec<ParamInfo>,
    /// The featurizer, in words (`log-mel 8000 Hz, 101 frames x 40 mels`).
    pub featurizer: String,
    /// Data set names.
    pub datasets: Vec<String>,
    /// Metrics.
    pub metrics: Vec<MetricInfo>,
    /// `weights.blake3` (empty before training).
    pub weights_blake3: String,
    /// `weights.size`.
    pub weights_size: u64,
    /// Number of weight tensors.
    pub weight_tensors: usize,
    /// Scalar parameters held by the weights.
    pub parameter_count: u64,
    /// The package id, when read from a package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_id: Option<PackageId>,
    /// The package size in bytes, when read from a package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_size: Option<u64>,
}

/// An input or output.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TensorInfo {
    /// Name.
    pub name: String,
    /// OIP datatype.
    pub datatype: String,
    /// Shape as `[-1, 101, 40]`.
    pub shape: String,
    /// Number of labels (0 when none).
    pub labels: usize,
}

/// A parameter.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParamInfo {
    /// Name.
    pub name: String,
    /// `architecture` or `training`.
    pub table: &'static str,
    /// Type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Default.
    pub default: ParamValue,
    /// Least value.
    pub min: Option<f64>,
    /// Greatest value.
    pub max: Option<f64>,
    /// Allowed values.
    pub choices: Option<Vec<ParamValue>>,
}

/// A metric.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MetricInfo {
    /// Name.
    pub name: String,
    /// Whether larger is better (absent for an unknown metric).
    pub goal: Option<Goal>,
    /// Data set.
    pub dataset: Option<String>,
    /// Split.
    pub split: Option<String>,
    /// Value, when measured.
    pub value: Option<f64>,
}

fn tensors(ts: &[TensorSpec]) -> Vec<TensorInfo> {
    ts.iter()
        .map(|t| TensorInfo {
            name: t.name.clone(),
            datatype: t.datatype.name().into(),
            shape: shape_string(&t.shape),
            labels: t.labels.len(),
        })
        .collect()
}

/// Describes a featurizer in words.
pub fn describe_featurizer(f: &Featurizer) -> String {
    match f {
        Featurizer::LogMel(p) => format!(
            "log-mel {} Hz, n_fft {}, window {}, hop {}, {} frames x {} mels",
            p.sample_rate,
            p.n_fft,
            p.win_length,
            p.hop_length,
            p.frames(),
            p.n_mels
        ),
        Featurizer::Tokenizer(p) => format!(
            "tokenizer {}{}, vocabulary {} ({}), max_len {}",
            match p.tokenizer {
                crate::featurizer::TokenizerKind::Whitespace => "whitespace",
            },
            if p.lowercase { " lower-cased" } else { "" },
            p.vocab_size,
            if p.vocab_blake3.is_empty() {
                "not built"
            } else {
                &p.vocab_blake3
            },
            p.max_len
        ),
        Featurizer::Identity => "identity".into(),
    }
}

impl ModelInfo {
    /// Summarizes a manifest; `package` is the id and size of its package when there is one.
    pub fn new(m: &Manifest, package: Option<(PackageId, u64)>) -> Self {
        Self {
            name: m.model.name.clone(),
            version: m.model.version.clone(),
            task: m.model.task.clone(),
            description: m.model.description.clone(),
            license: m.model.license.clone(),
            architecture: m.runtime.architecture.clone(),
            engine: format!("{} {}", m.runtime.engine, m.runtime.engine_version),
            determinism: m.runtime.determinism,
            devices: m.runtime.devices.clone(),
            min_memory_mib: m.runtime.min_memory_mib,
            max_batch: m.runtime.max_batch,
            inputs: tensors(&m.interface.inputs),
            outputs: tensors(&m.interface.outputs),
            parameters: m
                .parameters
                .iter()
                .map(|(table, name, p)| ParamInfo {
                    name: name.clone(),
                    table,
                    kind: p.kind,
                    default: p.default.clone(),
                    min: p.min,
                    max: p.max,
                    choices: p.choices.clone(),
                })
                .collect(),
            featurizer: describe_featurizer(&m.data.featurizer),
            datasets: m.model.datasets.iter().map(|d| d.name.clone()).collect(),
            metrics: m
                .model
                .metrics
                .iter()
                .map(|x| MetricInfo {
                    name: x.name.clone(),
                    goal: metric_goal(&x.name),
                    dataset: x.dataset.clone(),
                    split: x.split.clone(),
                    value: x.value,
                })
                .collect(),
            weights_blake3: m.weights.blake3.clone(),
            weights_size: m.weights.size,
            weight_tensors: m.weights.tensors.len(),
            parameter_count: m.weights.parameter_count(),
            package_id: package.map(|p| p.0),
            package_size: package.map(|p| p.1),
        }
    }
}
