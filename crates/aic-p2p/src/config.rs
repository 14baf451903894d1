//! The network's configuration and the protocol names it derives from the chain.

use std::path::PathBuf;
use std::time::Duration;

use aic_primitives::{ChainParams, Target};
use libp2p::{Multiaddr, StreamProtocol};

use crate::rate::RateLimits;
use crate::sync::SyncConfig;

/// Everything the network service needs to start.
#[derive(Clone, Debug)]
pub struct P2pConfig {
    /// The network's name (`mainnet`, `testnet`, `devnet`): it is part of every protocol id
    /// and topic, so networks never mix.
    pub network: String,
    /// Largest block in bytes (the chain's `max_block_bytes`): bounds gossip and sync answers.
    pub max_block_bytes: usize,
    /// Largest transaction gossiped, in bytes.
    pub max_tx_bytes: usize,
    /// The easiest target headers may claim.
    pub pow_limit: Target,
    /// Addresses to listen on (`/ip4/0.0.0.0/tcp/7451`; port 0 picks one).
    pub listen: Vec<Multiaddr>,
    /// Peers dialled at start and whenever the node has no peer, with their `/p2p/<id>`.
    pub bootnodes: Vec<Multiaddr>,
    /// Find peers on the local network by mDNS.
    pub mdns: bool,
    /// Find peers through the Kademlia DHT.
    pub kademlia: bool,
    /// Most established connections, in and out together.
    pub max_peers: u32,
    /// Most connections being set up at once, each way.
    pub max_pending: u32,
    /// The peer store file; in memory only when `None`.
    pub peer_store: Option<PathBuf>,
    /// How long a ban lasts.
    pub ban_duration: Duration,
    /// Inbound rate limits per peer.
    pub rate_limits: RateLimits,
    /// Sync tuning.
    pub sync: SyncConfig,
    /// How long an answer to a sync request may take.
    pub request_timeout: Duration,
    /// Largest blob fetched over the network, in bytes (fetched blobs are held in memory
    /// until verified).
    pub max_blob_bytes: u64,
    /// The gossipsub heartbeat (mesh maintenance) interval.
    pub heartbeat: Duration,
}

impl P2pConfig {
    /// The defaults for a chain: listen on all interfaces on an OS-chosen TCP port, mDNS and
    /// Kademlia on, 50 peers.
    pub fn new(params: &ChainParams) -> P2pConfig {
        P2pConfig {
            network: params.network.to_string(),
            max_block_bytes: params.max_block_bytes,
            max_tx_bytes: 100_000,
            pow_limit: params
                .pow_limit
                .to_target()
                .unwrap_or(Target(aic_primitives::U256::MAX)),
            listen: vec!["/ip4/0.0.0.0/tcp/0".parse().expect("a valid multiaddr")],
            bootnodes: Vec::new(),
            mdns: true,
            kademlia: true,
            max_peers: 50,
            max_pending: 32,
            peer_store: None,
            ban_duration: crate::score::DEFAULT_BAN,
            rate_limits: RateLimits::default(),
            sync: SyncConfig::default(),
            request_timeout: Duration::from_secs(10),
            max_blob_bytes: 256 * 1024 * 1024,
            heartbeat: Duration::from_millis(500),
        }
    }

    fn protocol(&self, name: &str) -> StreamProtocol {
        StreamProtocol::try_from_owned(format!("/aic/{}/{name}", self.network))
            .unwrap_or(StreamProtocol::new("/aic/invalid/1"))
    }

    /// The sync protocol: `/aic/<network>/sync/1`.
    pub fn sync_protocol(&self) -> StreamProtocol {
        self.protocol("sync/1")
    }

    /// The blob protocol: `/aic/<network>/blob/1`.
    pub fn blob_protocol(&self) -> StreamProtocol {
        self.protocol("blob/1")
    }

    /// The Kademlia protocol: `/aic/<network>/kad/1`.
    pub fn kad_protocol(&self) -> StreamProtocol {
        self.protocol("kad/1")
    }

    /// The identify protocol version peers must share: `aic/<network>/1`.
    pub fn identify_version(&self) -> String {
        format!("aic/{}/1", self.network)
    }

    /// A gossip topic: `aic/<network>/<name>/1`.
    pub fn topic(&self, name: &str) -> String {
        format!("aic/{}/{name}/1", self.network)
    }
}
