//! The AIC model standard: what a model package declares about itself (`aicmodel.toml`), how it
//! is validated, packed and addressed. No ML execution happens here; `aic-ml` runs models and
//! `aic-data` implements the featurizers whose parameters are declared in [`featurizer`].
//!
//! The standard is written up in `docs/model-standard.md`, with a JSON Schema
//! ([`json_schema`]) in `docs/model-standard.schema.json`.
//!
//! - [`Manifest::from_toml_str`] parses, [`validate`] checks every rule (one [`Rule`] each);
//! - [`validate_params`] and [`resolve_params`] check a job's parameters before escrow;
//! - [`pack`] makes the reproducible archive and its [`PackageId`]; [`unpack`] and [`verify`]
//!   refuse anything else;
//! - [`template`] gives a valid manifest for each [`Task`]; [`ModelInfo`] summarizes one.

pub mod featurizer;
mod info;
mod interface;
mod manifest;
mod package;
mod params;
pub mod safetensors;
mod schema;
mod task;
mod templates;
mod validate;

pub use featurizer::{Featurizer, LogMelParams, MelScale, TokenizerKind, TokenizerParams};
pub use info::{describe_featurizer, MetricInfo, ModelInfo, ParamInfo, TensorInfo};
pub use interface::{shape_string, Datatype, Dim, TensorSpec};
pub use manifest::{
    Column, ColumnRole, DataFormat, DatasetRef, Determinism, Interface, Manifest, MetricSpec,
    ModelCard, Runtime, TensorDtype, Tolerance, WeightTensor, Weights, WeightsFormat, FORMAT,
};
pub use package::{
    check_files, fill_weights, pack, parse_manifest, unpack, verify, weights_file, BadPackageId,
    PackError, Package, PackageFiles, PackageId, Unpacked, CARD_FILE, MANIFEST_FILE,
    ONNX_WEIGHTS_FILE, PACKAGE_EXTENSION, VOCAB_FILE, WEIGHTS_FILE,
};
pub use params::{
    resolve_params, validate_params, ParamError, ParamRule, ParamSpec, ParamType, ParamValue,
    Parameters,
};
pub use schema::json_schema;
pub use task::{
    metric_goal, Goal, Task, UnknownTaskError, ARCHITECTURES, DEVICES, ENGINES, METRICS,
    ONNX_ARCHITECTURE, TASKS,
};
pub use templates::{model_card, template, template_toml, BURN_VERSION, TEXT_MAX_LEN};
pub use validate::{is_hash, validate, ManifestError, Rule};
