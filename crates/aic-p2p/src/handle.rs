//! The service's handle: what a node (or a test) asks of the running network, and the events
//! it reports.

use std::sync::Arc;

use aic_blob::BlobId;
use aic_primitives::{Block, Transaction};
use libp2p::{Multiaddr, PeerId};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::error::P2pError;
use crate::score::Offence;
use crate::sync::SyncStats;
use crate::traits::{BlobSinkError, NodeAccess};
use crate::wire::{Announcement, BlobRequest, BlobResponse, MAX_BLOB_CHUNK};

/// A connected peer.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerInfo {
    /// Its id.
    pub peer: PeerId,
    /// The address of the connection.
    pub addr: Multiaddr,
    /// True if this node dialled it.
    pub outbound: bool,
    /// The application score (0 is clean, the ban threshold is -100).
    pub score: f64,
    /// The tip height it last reported.
    pub height: Option<u64>,
}

/// What the network reports.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum P2pEvent {
    /// A peer connected (first connection).
    PeerConnected(PeerId),
    /// A peer's last connection closed.
    PeerDisconnected(PeerId),
    /// A peer was charged for an offence.
    PeerPenalized {
        /// The peer.
        peer: PeerId,
        /// What it did.
        offence: Offence,
        /// Its score after.
        score: f64,
    },
    /// A peer was banned.
    PeerBanned {
        /// The peer.
        peer: PeerId,
        /// The offence that crossed the threshold.
        offence: Offence,
    },
    /// A market announcement arrived.
    Announcement {
        /// The peer that forwarded it.
        from: PeerId,
        /// The announcement.
        announcement: Announcement,
    },
}

/// Counters of the running service.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NetStats {
    /// Connected peers.
    pub peers: usize,
    /// Sync counters.
    pub sync: SyncStats,
    /// Blocks queued for download.
    pub queued: usize,
    /// Orphans held.
    pub orphans: usize,
    /// Peers banned since start.
    pub bans: u64,
}

pub(crate) enum Command {
    PublishBlock(Box<Block>),
    PublishTx(Box<Transaction>),
    Announce(Announcement),
    Dial(Multiaddr),
    Block(PeerId),
    Unblock(PeerId),
    Penalize(PeerId, Offence),
    Peers(oneshot::Sender<Vec<PeerInfo>>),
    Stats(oneshot::Sender<NetStats>),
    BlobRequest {
        peer: PeerId,
        request: BlobRequest,
        reply: oneshot::Sender<Result<BlobResponse, P2pError>>,
    },
    Shutdown(oneshot::Sender<()>),
}

/// A handle on the running network service; cheap to clone.
#[derive(Clone)]
pub struct P2pHandle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) events: broadcast::Sender<P2pEvent>,
    pub(crate) peer_id: PeerId,
    pub(crate) listen: Vec<Multiaddr>,
    pub(crate) node: Arc<dyn NodeAccess>,
    pub(crate) max_blob_bytes: u64,
}

impl std::fmt::Debug for P2pHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("P2pHandle")
            .field("peer_id", &self.peer_id)
            .field("listen", &self.listen)
            .finish_non_exhaustive()
    }
}

impl P2pHandle {
    async fn send(&self, c: Command) -> Result<(), P2pError> {
        self.commands.send(c).await.map_err(|_| P2pError::Stopped)
    }

    async fn ask<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
    ) -> Result<T, P2pError> {
        let (tx, rx) = oneshot::channel();
        self.send(make(tx)).await?;
        rx.await.map_err(|_| P2pError::Stopped)
    }

    /// This node's peer id.
    pub fn peer_id(&self) -> PeerId {
        self.peer_id
    }

    /// The addresses the node listens on, with `/p2p/<id>` appended (what others put in
    /// their bootnodes).
    pub fn listen_addrs(&self) -> Vec<Multiaddr> {
        self.listen
            .iter()
            .map(|a| {
                a.clone()
                    .with(libp2p::multiaddr::Protocol::P2p(self.peer_id))
            })
            .collect()
    }

    /// Subscribes to the service's events.
    pub fn events(&self) -> broadcast::Receiver<P2pEvent> {
        self.events.subscribe()
    }

    /// Gossips a block this node made or accepted.
    pub async fn publish_block(&self, block: Block) -> Result<(), P2pError> {
        self.send(Command::PublishBlock(Box::new(block))).await
    }

    /// Gossips a transaction this node accepted.
    pub async fn publish_tx(&self, tx: Transaction) -> Result<(), P2pError> {
        self.send(Command::PublishTx(Box::new(tx))).await
    }

    /// Gossips a market announcement.
    pub async fn announce(&self, announcement: Announcement) -> Result<(), P2pError> {
        self.send(Command::Announce(announcement)).await
    }

    /// Dials an address (with or without `/p2p/<id>`).
    pub async fn dial(&self, addr: Multiaddr) -> Result<(), P2pError> {
        self.send(Command::Dial(addr)).await
    }

    /// Closes every connection to `peer` and refuses new ones until [`P2pHandle::unblock`]
    /// (an operator's block: not a ban, not persisted).
    pub async fn block(&self, peer: PeerId) -> Result<(), P2pError> {
        self.send(Command::Block(peer)).await
    }

    /// Lifts a block or a ban and dials the peer's known addresses.
    pub async fn unblock(&self, peer: PeerId) -> Result<(), P2pError> {
        self.send(Command::Unblock(peer)).await
    }

    /// Charges a peer for an offence found outside the service (a bad blob).
    pub async fn penalize(&self, peer: PeerId, offence: Offence) -> Result<(), P2pError> {
        self.send(Command::Penalize(peer, offence)).await
    }

    /// The connected peers.
    pub async fn peers(&self) -> Result<Vec<PeerInfo>, P2pError> {
        self.ask(Command::Peers).await
    }

    /// The service's counters.
    pub async fn stats(&self) -> Result<NetStats, P2pError> {
        self.ask(Command::Stats).await
    }

    /// Sends one blob request to `peer`.
    pub async fn blob_request(
        &self,
        peer: PeerId,
        request: BlobRequest,
    ) -> Result<BlobResponse, P2pError> {
        self.ask(|reply| Command::BlobRequest {
            peer,
            request,
            reply,
        })
        .await?
    }

    /// Fetches a blob from any connected peer that has it, verifies it (BLAKE3) and stores it
    /// locally; returns its length. A peer that sends bytes that do not verify is charged
    /// [`Offence::InvalidBlob`] and the next peer is tried.
    pub async fn fetch_blob(&self, id: BlobId) -> Result<u64, P2pError> {
        if let Some(len) = self.node.blob_len(&id) {
            return Ok(len);
        }
        let peers = self.peers().await?;
        let asks = peers.iter().map(|p| async move {
            (
                p.peer,
                self.blob_request(p.peer, BlobRequest::Have(id)).await,
            )
        });
        let mut holders: Vec<(PeerId, u64)> = futures::future::join_all(asks)
            .await
            .into_iter()
            .filter_map(|(p, r)| match r {
                Ok(BlobResponse::Have(Some(len))) => Some((p, len)),
                _ => None,
            })
            .collect();
        holders.sort_by_key(|(_, len)| *len);
        for (peer, len) in holders {
            if len > self.max_blob_bytes {
                return Err(P2pError::BlobTooLarge {
                    id,
                    len,
                    max: self.max_blob_bytes,
                });
            }
            match self.fetch_from(peer, id, len).await {
                Ok(bytes) => {
                    let node = self.node.clone();
                    let put = tokio::task::spawn_blocking(move || node.put_blob(&id, &bytes))
                        .await
                        .map_err(|e| P2pError::BlobStore(e.to_string()))?;
                    match put {
                        Ok(()) => return Ok(len),
                        Err(BlobSinkError::Mismatch { actual, .. }) => {
                            tracing::debug!(target: "p2p::blob", %peer, %id, %actual, "blob does not verify");
                            let _ = self.penalize(peer, Offence::InvalidBlob).await;
                        }
                        Err(e) => return Err(P2pError::BlobStore(e.to_string())),
                    }
                }
                Err(Some(offence)) => {
                    let _ = self.penalize(peer, offence).await;
                }
                Err(None) => {}
            }
        }
        Err(P2pError::BlobUnavailable(id))
    }

    /// Reads `len` bytes of blob `id` from `peer`, chunk by chunk. On failure, the offence to
    /// charge if the peer is to blame.
    async fn fetch_from(
        &self,
        peer: PeerId,
        id: BlobId,
        len: u64,
    ) -> Result<Vec<u8>, Option<Offence>> {
        let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0).min(64 << 20));
        while (bytes.len() as u64) < len {
            let offset = bytes.len() as u64;
            let want = (len - offset).min(u64::from(MAX_BLOB_CHUNK)) as u32;
            match self
                .blob_request(
                    peer,
                    BlobRequest::Get {
                        id,
                        offset,
                        len: want,
                    },
                )
                .await
            {
                Ok(BlobResponse::Chunk(chunk)) if chunk.len() == want as usize => {
                    bytes.extend_from_slice(&chunk);
                }
                Ok(BlobResponse::Chunk(_)) | Ok(BlobResponse::Have(_)) => {
                    return Err(Some(Offence::Unsolicited))
                }
                Ok(BlobResponse::NotFound) | Ok(BlobResponse::Busy) => return Err(None),
                Err(P2pError::Wire(_)) => return Err(Some(Offence::Malformed)),
                Err(_) => return Err(None),
            }
        }
        Ok(bytes)
    }

    /// Stops the service and waits for it (the peer store is saved).
    pub async fn shutdown(&self) {
        let _ = self.ask(Command::Shutdown).await;
    }
}
