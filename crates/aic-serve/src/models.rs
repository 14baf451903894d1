//! Loading a model for serving: the engine the manifest names.

use std::path::Path;

use aic_ml::infer::Predictor;
use aic_ml::load::{load_model, LoadedModel};

use crate::server::ServeError;

/// Reads and checks the model at `path` (a package file or directory; see
/// [`aic_ml::load::load_model`]) and makes its predictor (see [`predictor`]).
pub fn load_predictor(path: &Path) -> Result<Predictor, ServeError> {
    let model = load_model(path, None).map_err(|e| ServeError::Load(e.to_string()))?;
    predictor(&model)
}

/// The predictor of a loaded model on the engine its manifest names: `burn` (built in) or
/// `onnx` (tract, with the `onnx` feature).
pub fn predictor(model: &LoadedModel) -> Result<Predictor, ServeError> {
    let fail = |e: String| ServeError::Load(format!("{}: {e}", model.path.display()));
    match model.manifest.runtime.engine.as_str() {
        "burn" => Predictor::burn(model).map_err(|e| fail(e.to_string())),
        "onnx" => crate::onnx::predictor(model).map_err(|e| fail(e.to_string())),
        other => Err(fail(format!("engine {other:?} cannot be served"))),
    }
}
