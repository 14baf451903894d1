//! The AIC model standard: what a model package declares about itself (`aicmodel.toml`), how it
//! is validated, packed and addressed. No ML execution happens here; `aic-ml` runs models and
//! `aic-data` implements the featurizers whose parameters are declared in [`featurizer`].

pub mod featurizer;

pub use featurizer::{Featurizer, LogMelParams, MelScale, TokenizerKind, TokenizerParams};
