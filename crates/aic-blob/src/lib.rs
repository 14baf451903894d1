//! The data plane's transport: a content-addressed [`BlobStore`] on disk, the HTTP transfer
//! client ([`Fetcher`]) that moves blobs between nodes and workers with resume, verification
//! and failover, the [`publish`] helper, and the [`BlobCache`] that all jobs on a worker share.
//!
//! # Invariants
//! - A file at a blob's final path always hashes (BLAKE3) to its name: writes go to a temp or
//!   `.part` file, are fsynced and verified, and only then renamed into place.
//! - Bytes that fail verification never become visible under a blob id.
//! - Libraries never print: progress is reported through callbacks.
//!
//! Network IO is blocking: ureq for `http://` sources, a small HTTP/1.1 client over a Unix
//! socket for `unix:/abs/path.sock` sources (how a sandboxed job reaches the worker's data
//! service); fetches run on a bounded set of scoped threads.

mod error;
mod id;
mod lock;
mod store;

#[cfg(feature = "client")]
mod cache;
#[cfg(feature = "client")]
mod fetch;
#[cfg(feature = "client")]
mod publish;
#[cfg(feature = "client")]
mod source;
#[cfg(feature = "client")]
mod transport;
#[cfg(feature = "client")]
mod unix_http;

pub use error::BlobError;
pub use id::BlobId;
pub use store::{BlobReader, BlobStore, BlobWriter, RangeReader};

#[cfg(feature = "client")]
pub use cache::{BlobCache, CacheConfig, Pins, Want};
#[cfg(feature = "client")]
pub use fetch::{blob_url, BlobReport, FetchConfig, FetchReport, Fetcher, Progress};
#[cfg(feature = "client")]
pub use publish::{publish, PublishReport};
#[cfg(feature = "client")]
pub use source::CacheSource;
