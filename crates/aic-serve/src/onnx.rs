//! ONNX models (`runtime.engine = "onnx"`) through tract, behind the `onnx` feature. Without
//! the feature, [`predictor`] refuses with [`OnnxError::NotCompiled`], so callers never write
//! `#[cfg]`.

use aic_ml::infer::Predictor;
use aic_ml::load::LoadedModel;

/// Why an ONNX model cannot be served.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OnnxError {
    /// This build has no ONNX engine.
    #[error("this build cannot run ONNX models (build aic-serve with the `onnx` feature)")]
    NotCompiled,
    /// tract could not read or prepare the graph.
    #[error("onnx: {0}")]
    Tract(String),
    /// The graph's inputs or outputs differ from the manifest's interface.
    #[error("the ONNX graph does not match the manifest's interface: {}", .0.join("; "))]
    Mismatch(Vec<String>),
}

/// The platform name of the ONNX engine.
pub const PLATFORM: &str = "onnx-tract";

#[cfg(feature = "onnx")]
mod tract;

/// A predictor for an ONNX model, refused unless the graph's inputs and outputs match the
/// manifest (names, datatypes, shapes).
pub fn predictor(model: &LoadedModel) -> Result<Predictor, OnnxError> {
    #[cfg(feature = "onnx")]
    {
        let backend = tract::TractBackend::load(model)?;
        Ok(Predictor::new(
            model.manifest.clone(),
            model.id(),
            Box::new(backend),
        ))
    }
    #[cfg(not(feature = "onnx"))]
    {
        let _ = model;
        Err(OnnxError::NotCompiled)
    }
}
