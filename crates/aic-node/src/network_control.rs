//! The API's [`NetworkControl`] over the node's peer-to-peer service: what
//! `GET /api/v1/network` shows and the operator's JSON-RPC network methods do.

use aic_api::network::{NetworkInfo, PeerInfo};
use aic_p2p::{Multiaddr, P2pError, P2pHandle, PeerId};
use aic_rpc::{NetFuture, NetworkControl, NetworkError};

/// [`NetworkControl`] for a running [`P2pHandle`].
#[derive(Debug)]
pub struct P2pControl(pub P2pHandle);

fn stopped(_: P2pError) -> NetworkError {
    NetworkError::Stopped
}

fn peer_id(text: &str) -> Result<PeerId, NetworkError> {
    text.parse()
        .map_err(|e| NetworkError::BadArgument(format!("{text:?} is not a peer id: {e}")))
}

impl NetworkControl for P2pControl {
    fn info(&self) -> NetFuture<'_, NetworkInfo> {
        Box::pin(async move {
            let peers = self.0.peers().await.map_err(stopped)?;
            let stats = self.0.stats().await.map_err(stopped)?;
            Ok(NetworkInfo {
                peer_id: self.0.peer_id().to_string(),
                listen: self
                    .0
                    .listen_addrs()
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                peers: peers
                    .into_iter()
                    .map(|p| PeerInfo {
                        peer_id: p.peer.to_string(),
                        addr: p.addr.to_string(),
                        outbound: p.outbound,
                        score: p.score,
                        height: p.height,
                    })
                    .collect(),
                sync_headers: stats.sync.headers,
                sync_blocks: stats.sync.blocks,
                orphans_connected: stats.sync.orphans_connected,
                queued: stats.queued,
                orphans: stats.orphans,
                bans: stats.bans,
            })
        })
    }

    fn block_peer<'a>(&'a self, peer: &'a str) -> NetFuture<'a, ()> {
        Box::pin(async move { self.0.block(peer_id(peer)?).await.map_err(stopped) })
    }

    fn unblock_peer<'a>(&'a self, peer: &'a str) -> NetFuture<'a, ()> {
        Box::pin(async move { self.0.unblock(peer_id(peer)?).await.map_err(stopped) })
    }

    fn dial<'a>(&'a self, addr: &'a str) -> NetFuture<'a, ()> {
        Box::pin(async move {
            let addr: Multiaddr = addr.parse().map_err(|e| {
                NetworkError::BadArgument(format!("{addr:?} is not a multiaddr: {e}"))
            })?;
            self.0.dial(addr).await.map_err(stopped)
        })
    }

    fn fetch_blob(&self, id: aic_blob::BlobId) -> NetFuture<'_, u64> {
        Box::pin(async move {
            self.0.fetch_blob(id).await.map_err(|e| match e {
                P2pError::Stopped => NetworkError::Stopped,
                e => NetworkError::BlobUnavailable(e.to_string()),
            })
        })
    }
}
