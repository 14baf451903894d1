//! The built-in model families.

pub mod kws;
pub mod textmatch;
