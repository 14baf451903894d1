//! The manifest, `aicmodel.toml`: what a model package declares about itself. The types mirror
//! the TOML tables one to one and refuse unknown fields; [`crate::validate`] checks the rules
//! that types alone cannot express.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::featurizer::Featurizer;
use crate::interface::{Datatype, Dim, TensorSpec};
use crate::params::Parameters;
use crate::validate::{ManifestError, Rule};

/// The value of [`Manifest::format`] this version of the standard reads.
pub const FORMAT: &str = "aicmodel/1";

/// A model package's manifest (`aicmodel.toml`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Version of the standard the manifest is written to; always `"aicmodel/1"` here.
    pub format: String,
    /// Identity and model card.
    pub model: ModelCard,
    /// Named inputs and outputs.
    pub interface: Interface,
    /// Architecture hyperparameters and training parameters a job may set.
    #[serde(default)]
    pub parameters: Parameters,
    /// What runs the model and what it needs.
    pub runtime: Runtime,
    /// The digitized data the model trains and evaluates on.
    pub data: DataFormat,
    /// The weights file of the package.
    pub weights: Weights,
}

impl Manifest {
    /// Parses a manifest. Syntax errors, unknown fields and values of the wrong type are one
    /// [`Rule::Parse`] error whose path names the field (`interface.inputs[0].datatype`). The
    /// manifest is not validated: call [`crate::validate`] next.
    pub fn from_toml_str(text: &str) -> Result<Self, ManifestError> {
        let de = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            ManifestError {
                path: if path == "." { String::new() } else { path },
                rule: Rule::Parse,
                message: inner.message().trim().to_string(),
            }
        })
    }

    /// The manifest as TOML (fields in declaration order).
    pub fn to_toml_string(&self) -> String {
        // Every field is a string, number, bool, array or table: serialization cannot fail.
        toml::to_string(self).unwrap_or_default()
    }
}

/// Identity and card (after Hugging Face model cards and MLflow's model metadata).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelCard {
    /// Package name: lower-case letters, digits, `_`, `-` and `.`, at most 64 characters.
    pub name: String,
    /// Semantic version (`1.2.0`, `0.1.0-rc.1`).
    pub version: String,
    /// One of [`crate::TASKS`]: `keyword-spotting`, `text-matching`, `classification`.
    pub task: String,
    /// What the model does, in a sentence or two.
    pub description: String,
    /// SPDX license expression of the weights and manifest (`MIT`, `Apache-2.0`, `CC-BY-4.0`).
    pub license: String,
    /// Who made it.
    pub authors: Vec<String>,
    /// Free-form search tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Data sets the model was trained or evaluated on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub datasets: Vec<DatasetRef>,
    /// Metrics the model reports; each name is one of [`crate::METRICS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metrics: Vec<MetricSpec>,
}

/// A data set the card refers to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DatasetRef {
    /// Short name (`fsdd`, `wikiqa`).
    pub name: String,
    /// BLAKE3 (64 lower-case hex digits) of the digitized data set, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// Where the raw data comes from, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
}

/// A metric the model reports, with its value once measured.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    /// Metric name, one of [`crate::METRICS`].
    pub name: String,
    /// The data set it is measured on (one of `model.datasets`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// The split it is measured on (`test`, `dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// The measured value (finite); absent until measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
}

/// Named inputs and outputs (after ONNX `ValueInfo` and the Open Inference Protocol's model
/// metadata). Input and output names share one namespace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interface {
    /// The model's inputs, in order.
    pub inputs: Vec<TensorSpec>,
    /// The model's outputs, in order.
    pub outputs: Vec<TensorSpec>,
}

/// How a verifier may compare two runs of the same work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Determinism {
    /// Bit-identical results on any x86_64 or aarch64 CPU running burn's `flex` backend,
    /// whatever the thread count: a verifier compares checkpoint hashes.
    BitwiseCpuFlex,
    /// Results agree within `runtime.tolerance` (GPU kernels reorder floating-point sums): a
    /// verifier compares tensors element by element.
    Tolerance,
}

/// Element-wise agreement a verifier accepts: `|a - b| <= abs + rel * |b|`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tolerance {
    /// Relative tolerance (finite, at least 0).
    pub rel: f64,
    /// Absolute tolerance (finite, at least 0).
    pub abs: f64,
}

/// What runs the model (after Triton's model configuration and MLflow's flavors).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// Execution engine: `burn` (a built-in architecture, safetensors weights) or `onnx` (the
    /// graph of an ONNX weights file, `architecture = "onnx"`).
    pub engine: String,
    /// Engine version the weights were written with (semantic version).
    pub engine_version: String,
    /// Built-in architecture, one of [`crate::ARCHITECTURES`]; `onnx` with the `onnx` engine.
    pub architecture: String,
    /// The strongest reproducibility the model offers.
    pub determinism: Determinism,
    /// Required with `determinism = "tolerance"`; with `bitwise-cpu-flex` it is the agreement
    /// accepted when a run is replayed on a device other than a CPU.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Tolerance>,
    /// Device kinds it runs on: `cpu`, `cuda`, `rocm`, `wgpu`.
    pub devices: Vec<String>,
    /// Least device memory a run needs, in MiB.
    pub min_memory_mib: u64,
    /// CPU threads a run uses (0: one per core). Results of `bitwise-cpu-flex` do not depend on
    /// it.
    #[serde(default)]
    pub threads: u32,
    /// Largest batch the model accepts (at least 1); the first dimension of every input and
    /// output is the batch.
    pub max_batch: u32,
}

/// What a digitized column is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ColumnRole {
    /// Feeds the interface input of the same name.
    #[default]
    Input,
    /// The training target (class index, relevance label).
    Target,
    /// Groups examples for ranking metrics (the question id of an answer).
    Group,
}

/// One digitized column: a fixed-shape tensor per example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Column name; an input column is named after the input it feeds.
    pub name: String,
    /// Element type.
    pub dtype: Datatype,
    /// Shape of one example (no batch dimension; all dimensions fixed; `[]` for a scalar).
    pub shape: Vec<Dim>,
    /// What the column is for.
    #[serde(default)]
    pub role: ColumnRole,
    /// What it holds, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// The training data format: the columns the model consumes and the featurizer that made the
/// input columns from raw data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DataFormat {
    /// The digitized columns.
    pub columns: Vec<Column>,
    /// The featurizer of every input column, with its exact parameters.
    pub featurizer: Featurizer,
}

/// File format of the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum WeightsFormat {
    /// Hugging Face safetensors: an 8-byte little-endian header length, a JSON header, data.
    Safetensors,
    /// An ONNX model (protobuf `ModelProto`): graph and weights in one file, `weights.onnx`;
    /// `weights.tensors` stays empty.
    Onnx,
}

/// Element type of a stored tensor, as safetensors names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[allow(missing_docs)]
pub enum TensorDtype {
    BOOL,
    U8,
    I8,
    U16,
    I16,
    F16,
    BF16,
    U32,
    I32,
    F32,
    U64,
    I64,
    F64,
}

impl TensorDtype {
    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Self::BOOL | Self::U8 | Self::I8 => 1,
            Self::U16 | Self::I16 | Self::F16 | Self::BF16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
        }
    }
}

/// A tensor stored in the weights file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WeightTensor {
    /// Name in the safetensors header (`conv1.weight`).
    pub name: String,
    /// Element type.
    pub dtype: TensorDtype,
    /// Shape.
    pub shape: Vec<u64>,
}

/// The package's weights (`weights.safetensors`, or `weights.onnx` for an ONNX model).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Weights {
    /// File format.
    pub format: WeightsFormat,
    /// BLAKE3 of the weights file (64 lower-case hex digits); empty before training.
    #[serde(default)]
    pub blake3: String,
    /// Size of the weights file in bytes; 0 before training.
    #[serde(default)]
    pub size: u64,
    /// Every tensor in the file, sorted by name; empty before training.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tensors: Vec<WeightTensor>,
}

impl Weights {
    /// Number of scalar parameters the listed tensors hold.
    pub fn parameter_count(&self) -> u64 {
        self.tensors
            .iter()
            .map(|t| t.shape.iter().product::<u64>())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parse_error_names_the_field() {
        let m = crate::template(crate::Task::KeywordSpotting);
        let text = m.to_toml_string().replace("\"FP32\"", "\"FP33\"");
        let e = Manifest::from_toml_str(&text).unwrap_err();
        assert_eq!(e.rule, Rule::Parse);
        assert_eq!(e.path, "interface.inputs[0].datatype", "{e}");
        let text = m.to_toml_string().replace("max_batch", "max_batch_size");
        let e = Manifest::from_toml_str(&text).unwrap_err();
        assert_eq!(e.path, "runtime.max_batch_size", "{e}");
    }
}
