//! Tensors at the model's boundary: Open Inference Protocol v2 datatypes and shapes with
//! variable (`-1`) or named dimensions, as ONNX's `ValueInfo` has them.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Element type of an input, output or column, named as the Open Inference Protocol v2 names
/// it (Triton uses the same names with a `TYPE_` prefix).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum Datatype {
    Bool,
    Uint8,
    Uint16,
    Uint32,
    Uint64,
    Int8,
    Int16,
    Int32,
    Int64,
    Fp16,
    Fp32,
    Fp64,
    /// Variable-length byte strings.
    Bytes,
}

impl Datatype {
    /// The protocol's name (`FP32`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "BOOL",
            Self::Uint8 => "UINT8",
            Self::Uint16 => "UINT16",
            Self::Uint32 => "UINT32",
            Self::Uint64 => "UINT64",
            Self::Int8 => "INT8",
            Self::Int16 => "INT16",
            Self::Int32 => "INT32",
            Self::Int64 => "INT64",
            Self::Fp16 => "FP16",
            Self::Fp32 => "FP32",
            Self::Fp64 => "FP64",
            Self::Bytes => "BYTES",
        }
    }
}

impl fmt::Display for Datatype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One dimension of a shape: a fixed size (at least 1), `-1` for a size that varies, or a
/// name for a size that varies and is shared between tensors (`"batch"`, `"seq"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Dim {
    /// A size: `-1` (variable) or at least 1.
    Fixed(i64),
    /// A named variable size.
    Named(String),
}

impl Dim {
    /// Whether the size varies (`-1` or named).
    pub fn is_variable(&self) -> bool {
        matches!(self, Dim::Fixed(-1) | Dim::Named(_))
    }

    /// The size, when fixed.
    pub fn fixed(&self) -> Option<u64> {
        match self {
            Dim::Fixed(n) if *n >= 1 => Some(*n as u64),
            _ => None,
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Named(s) => f.write_str(s),
        }
    }
}

/// Formats a shape as `[-1, 101, 40]`.
pub fn shape_string(shape: &[Dim]) -> String {
    let dims: Vec<String> = shape.iter().map(Dim::to_string).collect();
    format!("[{}]", dims.join(", "))
}

/// A named input or output tensor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TensorSpec {
    /// Name (unique across inputs and outputs).
    pub name: String,
    /// Element type.
    pub datatype: Datatype,
    /// Shape; the first dimension is the batch and varies (`-1` or named).
    pub shape: Vec<Dim>,
    /// What it holds, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Outputs only: the label of each index of the last dimension (the class dimension), in
    /// order; its size must be fixed and equal the number of labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}
