//! The tract engine: an ONNX graph checked against its manifest, optimized once, run per
//! request.

use std::sync::Arc;

use aic_ml::infer::{Backend, InferError};
use aic_ml::load::LoadedModel;
use aic_ml::tensor::{NamedTensor, Values};
use aic_model::{shape_string, Datatype, Dim, TensorSpec};
use tract_onnx::prelude::*;
use tract_onnx::tract_core::internal::{bail, format_err};

use super::{OnnxError, PLATFORM};

type Plan = Arc<TypedRunnableModel>;

/// An optimized ONNX graph.
pub(super) struct TractBackend {
    plan: Plan,
    outputs: Vec<TensorSpec>,
}

fn datum(d: Datatype) -> Option<DatumType> {
    Some(match d {
        Datatype::Bool => DatumType::Bool,
        Datatype::Uint8 => DatumType::U8,
        Datatype::Uint16 => DatumType::U16,
        Datatype::Uint32 => DatumType::U32,
        Datatype::Uint64 => DatumType::U64,
        Datatype::Int8 => DatumType::I8,
        Datatype::Int16 => DatumType::I16,
        Datatype::Int32 => DatumType::I32,
        Datatype::Int64 => DatumType::I64,
        Datatype::Fp16 => DatumType::F16,
        Datatype::Fp32 => DatumType::F32,
        Datatype::Fp64 => DatumType::F64,
        Datatype::Bytes => return None,
    })
}

/// The differences between one side of the graph and the manifest's tensors.
fn compare(
    kind: &str,
    specs: &[TensorSpec],
    graph: &[(String, DatumType, Vec<TDim>)],
    out: &mut Vec<String>,
) {
    if specs.len() != graph.len() {
        let names: Vec<&str> = graph.iter().map(|g| g.0.as_str()).collect();
        out.push(format!(
            "the graph has {} {kind}s ({}), the manifest {}",
            graph.len(),
            names.join(", "),
            specs.len()
        ));
    }
    for (spec, (name, dt, shape)) in specs.iter().zip(graph) {
        if &spec.name != name {
            out.push(format!(
                "{kind} {:?} is named {name:?} in the graph",
                spec.name
            ));
        }
        if datum(spec.datatype) != Some(*dt) {
            out.push(format!(
                "{kind} {:?}: datatype {} in the manifest, {dt:?} in the graph",
                spec.name, spec.datatype
            ));
        }
        let agrees = spec.shape.len() == shape.len()
            && spec
                .shape
                .iter()
                .zip(shape)
                .all(|(d, g)| match (d, g.to_i64()) {
                    (Dim::Fixed(n), Ok(g)) if *n >= 1 => *n == g,
                    // A variable dimension must be symbolic in the graph too.
                    (_, Ok(_)) => false,
                    (Dim::Fixed(n), Err(_)) => *n == -1,
                    (Dim::Named(_), Err(_)) => true,
                });
        if !agrees {
            let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
            out.push(format!(
                "{kind} {:?}: shape {} in the manifest, [{}] in the graph",
                spec.name,
                shape_string(&spec.shape),
                dims.join(", ")
            ));
        }
    }
}

fn tract_err(e: impl std::fmt::Display) -> OnnxError {
    OnnxError::Tract(format!("{e:#}"))
}

impl TractBackend {
    /// Reads the graph from the package's weights, refuses it unless its inputs and outputs
    /// match the manifest, and optimizes it.
    pub(super) fn load(model: &LoadedModel) -> Result<Self, OnnxError> {
        let graph = tract_onnx::onnx()
            .model_for_read(&mut model.files.weights.as_slice())
            .map_err(tract_err)?;
        let input_names: Vec<String> = graph
            .input_outlets()
            .map_err(tract_err)?
            .iter()
            .map(|o| graph.node(o.node).name.clone())
            .collect();
        let output_names: Vec<String> = graph
            .output_outlets()
            .map_err(tract_err)?
            .iter()
            .map(|o| {
                graph
                    .outlet_label(*o)
                    .map_or_else(|| graph.node(o.node).name.clone(), str::to_string)
            })
            .collect();
        let typed = graph.into_typed().map_err(tract_err)?;
        let facts = |n: usize, fact: &dyn Fn(usize) -> TractResult<TypedFact>| {
            (0..n)
                .map(|i| fact(i).map(|f| (f.datum_type, f.shape.iter().cloned().collect())))
                .collect::<TractResult<Vec<(DatumType, Vec<TDim>)>>>()
        };
        let ins = facts(input_names.len(), &|i| typed.input_fact(i).cloned()).map_err(tract_err)?;
        let outs =
            facts(output_names.len(), &|i| typed.output_fact(i).cloned()).map_err(tract_err)?;
        let zip = |names: Vec<String>, f: Vec<(DatumType, Vec<TDim>)>| {
            names
                .into_iter()
                .zip(f)
                .map(|(n, (d, s))| (n, d, s))
                .collect::<Vec<_>>()
        };
        let iface = &model.manifest.interface;
        let mut mismatch = Vec::new();
        compare(
            "input",
            &iface.inputs,
            &zip(input_names, ins),
            &mut mismatch,
        );
        compare(
            "output",
            &iface.outputs,
            &zip(output_names, outs),
            &mut mismatch,
        );
        if !mismatch.is_empty() {
            return Err(OnnxError::Mismatch(mismatch));
        }
        let plan = typed
            .into_optimized()
            .map_err(tract_err)?
            .into_runnable()
            .map_err(tract_err)?;
        Ok(Self {
            plan,
            outputs: iface.outputs.clone(),
        })
    }
}

fn to_tract(t: &NamedTensor) -> TractResult<Tensor> {
    let s = t.shape();
    Ok(match (t.datatype(), t.data()) {
        (Datatype::Fp32, Values::F32(v)) => Tensor::from_shape(s, v.as_slice())?,
        (Datatype::Fp64, Values::F64(v)) => Tensor::from_shape(s, v.as_slice())?,
        (Datatype::Uint64, Values::U64(v)) => Tensor::from_shape(s, v.as_slice())?,
        (Datatype::Bool, Values::Bool(v)) => Tensor::from_shape(s, v.as_slice())?,
        (Datatype::Int64, Values::I64(v)) => Tensor::from_shape(s, v.as_slice())?,
        (dt, Values::I64(v)) => {
            let t = Tensor::from_shape(s, v.as_slice())?;
            let target = datum(dt).ok_or_else(|| format_err!("{dt} is not supported"))?;
            t.cast_to_dt(target)?.into_owned()
        }
        (dt, _) => bail!("inputs of datatype {dt} are not supported by the ONNX engine"),
    })
}

fn from_tract(spec: &TensorSpec, t: &Tensor) -> TractResult<NamedTensor> {
    let shape = t.shape().to_vec();
    let values = match spec.datatype {
        Datatype::Fp32 | Datatype::Fp16 => Values::F32(
            t.cast_to::<f32>()?
                .to_plain_array_view::<f32>()?
                .iter()
                .copied()
                .collect(),
        ),
        Datatype::Fp64 => Values::F64(
            t.cast_to::<f64>()?
                .to_plain_array_view::<f64>()?
                .iter()
                .copied()
                .collect(),
        ),
        Datatype::Uint64 => Values::U64(
            t.cast_to::<u64>()?
                .to_plain_array_view::<u64>()?
                .iter()
                .copied()
                .collect(),
        ),
        Datatype::Bool => Values::Bool(
            t.cast_to::<bool>()?
                .to_plain_array_view::<bool>()?
                .iter()
                .copied()
                .collect(),
        ),
        Datatype::Bytes => bail!("BYTES outputs are not supported by the ONNX engine"),
        _ => Values::I64(
            t.cast_to::<i64>()?
                .to_plain_array_view::<i64>()?
                .iter()
                .copied()
                .collect(),
        ),
    };
    NamedTensor::new(spec.name.clone(), spec.datatype, shape, values)
        .map_err(|e| format_err!("{e}"))
}

impl Backend for TractBackend {
    fn run(&self, inputs: &[&NamedTensor], _batch: usize) -> Result<Vec<NamedTensor>, InferError> {
        let engine = |e: TractError| InferError::Engine(format!("{e:#}"));
        let values = inputs
            .iter()
            .map(|t| to_tract(t).map(TValue::from))
            .collect::<TractResult<TVec<TValue>>>()
            .map_err(engine)?;
        let out = self.plan.run(values).map_err(engine)?;
        self.outputs
            .iter()
            .zip(out.iter())
            .map(|(spec, v)| from_tract(spec, v).map_err(engine))
            .collect()
    }

    fn platform(&self) -> &'static str {
        PLATFORM
    }
}
