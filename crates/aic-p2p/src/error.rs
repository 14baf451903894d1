//! Errors of the network service.

use crate::wire::WireError;

/// Why the network could not start or a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum P2pError {
    /// The transport or a behaviour could not be built.
    #[error("building the swarm: {0}")]
    Build(String),
    /// A listen address could not be bound.
    #[error("listening on {addr}: {reason}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        reason: String,
    },
    /// The peer store could not be read.
    #[error(transparent)]
    PeerStore(#[from] crate::peer_store::PeerStoreError),
    /// The service has stopped.
    #[error("the network service has stopped")]
    Stopped,
    /// A request to a peer failed (timeout, closed connection, refused).
    #[error("request to {peer} failed: {reason}")]
    Request {
        /// The peer.
        peer: String,
        /// Why.
        reason: String,
    },
    /// A peer answered with a malformed message.
    #[error(transparent)]
    Wire(#[from] WireError),
    /// No connected peer has the blob (or every one that claimed it failed).
    #[error("no peer could deliver blob {0}")]
    BlobUnavailable(aic_blob::BlobId),
    /// The blob is larger than `max_blob_bytes`.
    #[error("blob {id} of {len} bytes exceeds the limit of {max}")]
    BlobTooLarge {
        /// The blob.
        id: aic_blob::BlobId,
        /// Its length.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// The local blob store failed.
    #[error("storing blob: {0}")]
    BlobStore(String),
}
