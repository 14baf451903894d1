//! Serving AIC model packages over the Open Inference Protocol v2 (KServe v2 REST).
//!
//! - [`oip`]: the wire types and their conversion to [`aic_ml::tensor::NamedTensor`];
//! - [`load_predictor`]: a package or directory to a [`aic_ml::infer::Predictor`] on the
//!   engine its manifest names (`burn` built in; `onnx` through tract with the `onnx` feature);
//! - [`router`] and [`serve`]: the HTTP routes, inference on the blocking pool.
//!
//! # Architecture invariant
//!
//! Only this crate knows HTTP and the JSON form of tensors; `aic-ml` knows neither.

mod models;
pub mod oip;
pub mod onnx;
mod server;

pub use models::{load_predictor, predictor};
pub use server::{router, serve, ServeError, BODY_LIMIT};
