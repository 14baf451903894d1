//! The node's peer-to-peer network as the API shows it: `GET /api/v1/network` and the
//! JSON-RPC methods `getnetworkinfo` and `getpeerinfo`.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/network`, JSON-RPC `getnetworkinfo`: this node on the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkInfo {
    /// This node's peer id.
    pub peer_id: String,
    /// The multiaddrs it listens on, each ending in `/p2p/<peer_id>` (what others dial).
    pub listen: Vec<String>,
    /// Connected peers.
    pub peers: Vec<PeerInfo>,
    /// Headers accepted by sync since start.
    pub sync_headers: u64,
    /// Blocks handed to the chain by sync since start.
    pub sync_blocks: u64,
    /// Orphans connected once their parent arrived.
    pub orphans_connected: u64,
    /// Blocks queued for download.
    pub queued: usize,
    /// Orphan blocks held.
    pub orphans: usize,
    /// Peers banned since start.
    pub bans: u64,
}

/// One connected peer (`getpeerinfo` answers a list of these).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PeerInfo {
    /// Its peer id.
    pub peer_id: String,
    /// The connection's remote address.
    pub addr: String,
    /// True if this node dialled it.
    pub outbound: bool,
    /// Its application score (0 is clean; at -100 it is banned).
    pub score: f64,
    /// The tip height it last reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
}
