//! The AIC machine-learning runtime on burn: the built-in model families, training with a
//! deterministic mode, checkpoints and verification replay, evaluation metrics and scorecards
//! ([`eval`]), inference on named tensors checked against the manifest ([`infer`]).

pub mod builtin;
pub mod checkpoint;
pub mod data;
pub mod digitized;
pub mod eval;
pub mod family;
pub mod infer;
pub mod jobs;
pub mod layers;
pub mod load;
pub mod metrics;
pub mod models;
pub mod optim;
pub mod rng;
pub mod schedule;
pub mod state;
pub mod tasks;
pub mod tensor;
pub mod train;
pub mod transcript;
