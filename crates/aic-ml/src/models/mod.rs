//! The built-in model families.

pub mod kws;
pub mod mlp;
pub mod textmatch;
