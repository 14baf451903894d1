//! The Open Inference Protocol v2 (KServe v2) REST wire types, and their conversion to and from
//! [`NamedTensor`]s. Only this module knows the JSON form of a tensor.
//!
//! Tensor data is accepted flattened row-major (`[1, 2, 3, 4]`) or nested by the shape
//! (`[[1, 2], [3, 4]]`), and always answered flattened.

use aic_ml::tensor::{int_range, NamedTensor, Values};
use aic_model::{Datatype, Dim, Manifest, TensorSpec};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `GET /v2`: the server's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerMetadata {
    /// Server name.
    pub name: String,
    /// Server version.
    pub version: String,
    /// Protocol extensions supported (none).
    pub extensions: Vec<String>,
}

/// A tensor in model metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetadataTensor {
    /// Name.
    pub name: String,
    /// Datatype (`FP32`).
    pub datatype: String,
    /// Shape; `-1` for a variable dimension.
    pub shape: Vec<i64>,
}

/// `GET /v2/models/{name}`: a model's metadata.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelMetadata {
    /// Model name.
    pub name: String,
    /// Versions served (the manifest's one).
    pub versions: Vec<String>,
    /// The engine (`aic-burn`, `onnx-tract`).
    pub platform: String,
    /// Inputs, in order.
    pub inputs: Vec<MetadataTensor>,
    /// Outputs, in order.
    pub outputs: Vec<MetadataTensor>,
}

fn metadata_tensor(t: &TensorSpec) -> MetadataTensor {
    MetadataTensor {
        name: t.name.clone(),
        datatype: t.datatype.name().into(),
        shape: t
            .shape
            .iter()
            .map(|d| match d {
                Dim::Fixed(n) => *n,
                Dim::Named(_) => -1,
            })
            .collect(),
    }
}

impl ModelMetadata {
    /// The metadata a manifest declares.
    pub fn from_manifest(m: &Manifest, platform: &str) -> Self {
        Self {
            name: m.model.name.clone(),
            versions: vec![m.model.version.clone()],
            platform: platform.into(),
            inputs: m.interface.inputs.iter().map(metadata_tensor).collect(),
            outputs: m.interface.outputs.iter().map(metadata_tensor).collect(),
        }
    }
}

/// `POST /v2/models/{name}/infer`: the request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferRequest {
    /// Echoed in the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Request parameters (accepted, unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Input tensors.
    pub inputs: Vec<RequestInput>,
    /// Outputs to return (all when absent).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<RequestOutput>,
}

/// An input tensor of a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestInput {
    /// Input name.
    pub name: String,
    /// Shape.
    pub shape: Vec<i64>,
    /// Datatype (`FP32`).
    pub datatype: String,
    /// Tensor parameters (accepted, unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
    /// Elements, row-major, flat or nested.
    pub data: Value,
}

/// An output asked for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestOutput {
    /// Output name.
    pub name: String,
    /// Output parameters (accepted, unused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters: Option<Value>,
}

/// The response to an inference request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InferResponse {
    /// Model name.
    pub model_name: String,
    /// Model version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_version: Option<String>,
    /// The request's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Output tensors.
    pub outputs: Vec<ResponseOutput>,
}

/// An output tensor of a response.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseOutput {
    /// Output name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Datatype.
    pub datatype: String,
    /// Elements, flattened row-major.
    pub data: Value,
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: String,
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten(i, out)),
        other => out.push(other),
    }
}

/// Parses a datatype name (`FP32`).
pub fn parse_datatype(name: &str) -> Option<Datatype> {
    serde_json::from_value(Value::String(name.into())).ok()
}

impl RequestInput {
    /// The input as a checked tensor. Errors name the input and say what was expected.
    pub fn to_tensor(&self) -> Result<NamedTensor, String> {
        let name = &self.name;
        let datatype = parse_datatype(&self.datatype)
            .ok_or_else(|| format!("input {name:?}: unknown datatype {:?}", self.datatype))?;
        let shape = self
            .shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| {
                format!(
                    "input {name:?}: shape {:?} has a negative dimension",
                    self.shape
                )
            })?;
        let mut leaves = Vec::new();
        flatten(&self.data, &mut leaves);
        let bad = |i: usize, v: &Value| {
            format!("input {name:?}: element {i} ({v}) is not a {datatype} value")
        };
        let values = match datatype {
            Datatype::Fp16 | Datatype::Fp32 => Values::F32(
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.as_f64().map(|x| x as f32).ok_or_else(|| bad(i, v)))
                    .collect::<Result<_, _>>()?,
            ),
            Datatype::Fp64 => Values::F64(
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.as_f64().ok_or_else(|| bad(i, v)))
                    .collect::<Result<_, _>>()?,
            ),
            Datatype::Uint64 => Values::U64(
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.as_u64().ok_or_else(|| bad(i, v)))
                    .collect::<Result<_, _>>()?,
            ),
            Datatype::Bool => Values::Bool(
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, v)| v.as_bool().ok_or_else(|| bad(i, v)))
                    .collect::<Result<_, _>>()?,
            ),
            Datatype::Bytes => Values::Bytes(
                leaves
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.as_str()
                            .map(|s| s.as_bytes().to_vec())
                            .ok_or_else(|| bad(i, v))
                    })
                    .collect::<Result<_, _>>()?,
            ),
            int => {
                let (lo, hi) = int_range(int).unwrap_or((i64::MIN, i64::MAX));
                Values::I64(
                    leaves
                        .iter()
                        .enumerate()
                        .map(|(i, v)| {
                            v.as_i64()
                                .filter(|x| (lo..=hi).contains(x))
                                .ok_or_else(|| bad(i, v))
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
        };
        NamedTensor::new(name.clone(), datatype, shape, values).map_err(|e| e.to_string())
    }
}

impl ResponseOutput {
    /// A tensor on the wire.
    pub fn from_tensor(t: &NamedTensor) -> Self {
        let data = match t.data() {
            Values::F32(v) => serde_json::to_value(v),
            Values::F64(v) => serde_json::to_value(v),
            Values::I64(v) => serde_json::to_value(v),
            Values::U64(v) => serde_json::to_value(v),
            Values::Bool(v) => serde_json::to_value(v),
            Values::Bytes(v) => serde_json::to_value(
                v.iter()
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect::<Vec<_>>(),
            ),
        }
        .unwrap_or(Value::Null);
        Self {
            name: t.name().into(),
            shape: t.shape().to_vec(),
            datatype: t.datatype().name().into(),
            data,
        }
    }
}

impl InferRequest {
    /// A request carrying `inputs`.
    pub fn from_tensors(id: Option<String>, inputs: &[NamedTensor]) -> Self {
        Self {
            id,
            parameters: None,
            inputs: inputs
                .iter()
                .map(|t| {
                    let o = ResponseOutput::from_tensor(t);
                    RequestInput {
                        name: o.name,
                        shape: o.shape.iter().map(|&d| d as i64).collect(),
                        datatype: o.datatype,
                        parameters: None,
                        data: o.data,
                    }
                })
                .collect(),
            outputs: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(v: Value) -> RequestInput {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn flat_and_nested_data_agree() {
        let flat = input(
            json!({"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [1, 2.5, 3, 4]}),
        );
        let nested = input(
            json!({"name": "x", "shape": [2, 2], "datatype": "FP32", "data": [[1, 2.5], [3, 4]]}),
        );
        assert_eq!(flat.to_tensor().unwrap(), nested.to_tensor().unwrap());
        assert_eq!(
            flat.to_tensor().unwrap().as_f32().unwrap(),
            &[1.0, 2.5, 3.0, 4.0]
        );
    }

    #[test]
    fn bad_inputs_name_the_problem() {
        let e = input(json!({"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2]}))
            .to_tensor()
            .unwrap_err();
        assert_eq!(
            e,
            "tensor \"x\": shape [3] needs 3 elements, the data has 2"
        );
        let e = input(json!({"name": "x", "shape": [1], "datatype": "INT8", "data": [300]}))
            .to_tensor()
            .unwrap_err();
        assert_eq!(e, "input \"x\": element 0 (300) is not a INT8 value");
        let e = input(json!({"name": "x", "shape": [1], "datatype": "FP33", "data": [1]}))
            .to_tensor()
            .unwrap_err();
        assert_eq!(e, "input \"x\": unknown datatype \"FP33\"");
    }

    #[test]
    fn metadata_follows_the_manifest() {
        let m = aic_model::template(aic_model::Task::KeywordSpotting);
        let md = ModelMetadata::from_manifest(&m, "aic-burn");
        assert_eq!(md.inputs[0].shape, vec![-1, 101, 40]);
        assert_eq!(md.inputs[0].datatype, "FP32");
        assert_eq!(md.outputs[0].name, "logits");
        assert_eq!(md.versions, vec!["0.1.0".to_string()]);
    }
}
