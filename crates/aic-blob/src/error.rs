//! Everything that can go wrong with a blob: one variant per rule.

use crate::BlobId;

/// Why a blob operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BlobError {
    /// The text is not a blob id (64 lowercase hex digits).
    #[error("bad blob id {0:?}: expected 64 lowercase hex digits")]
    BadId(String),
    /// The bytes do not hash to the id they were stored or fetched under.
    #[error("hash mismatch: expected {expected}, the bytes hash to {actual}")]
    HashMismatch {
        /// The id asked for.
        expected: BlobId,
        /// What the bytes hash to.
        actual: BlobId,
    },
    /// The store has no such blob.
    #[error("blob {0} not found")]
    NotFound(BlobId),
    /// A byte range outside the blob.
    #[error("range {start}..{end} is outside blob {id} of {len} bytes")]
    RangeNotSatisfiable {
        /// The blob.
        id: BlobId,
        /// First byte asked for.
        start: u64,
        /// One past the last byte asked for.
        end: u64,
        /// The blob's length.
        len: u64,
    },
    /// A write would exceed the size limit it was given.
    #[error("blob larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// A filesystem operation failed.
    #[error("{what}: {source}")]
    Io {
        /// What was being done, with the path.
        what: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// A source answered with an HTTP error status.
    #[error("{url}: HTTP {status}")]
    Http {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// A source could not be reached, or the connection broke or stalled.
    #[error("{url}: {message}")]
    Connection {
        /// The URL.
        url: String,
        /// What happened.
        message: String,
    },
    /// A source answered with something that is not a valid answer to the request.
    #[error("{url}: bad response: {message}")]
    BadResponse {
        /// The URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// A source sent slower than the configured floor.
    #[error("{url}: {bytes_per_sec} B/s is below the floor of {floor} B/s")]
    TooSlow {
        /// The URL.
        url: String,
        /// Measured rate.
        bytes_per_sec: u64,
        /// The configured floor.
        floor: u64,
    },
    /// No source is configured.
    #[error("no source to fetch from")]
    NoSources,
    /// Every attempt at a blob failed; the errors are in attempt order.
    #[error("blob {id}: every source failed: {}", errors.join("; "))]
    AllSourcesFailed {
        /// The blob.
        id: BlobId,
        /// One line per attempt.
        errors: Vec<String>,
    },
    /// The pinned blobs alone need more room than the cache's budget.
    #[error("cache budget of {budget} bytes is too small: pinned blobs need {pinned} bytes")]
    BudgetExceeded {
        /// The budget.
        budget: u64,
        /// Bytes of the blobs that must stay (pinned ones plus the ones asked for).
        pinned: u64,
    },
    /// A data set directory cannot be published.
    #[error("data set {path}: {message}")]
    Dataset {
        /// The directory or file.
        path: String,
        /// What is wrong.
        message: String,
    },
}

impl BlobError {
    /// An [`BlobError::Io`] naming what was being done.
    pub(crate) fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> BlobError {
        let what = what.into();
        move |source| BlobError::Io { what, source }
    }
}
