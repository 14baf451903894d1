//! Node configuration: one struct, loadable from TOML, with the same keys as the flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aic_primitives::Network;
use aic_rpc::ProviderConfig;
use serde::{Deserialize, Serialize};

/// Everything a node needs to start.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NodeConfig {
    /// `mainnet`, `testnet` or `devnet`.
    pub network: String,
    /// Where the chain database, the blob store (`blobs/`) and the RPC cookie live.
    pub data_dir: PathBuf,
    /// HTTP API address (REST and JSON-RPC); loopback by default.
    pub api_addr: SocketAddr,
    /// Stratum v1 server address for mining hardware (`127.0.0.1:3333` is the usual choice);
    /// off when unset.
    pub stratum_addr: Option<SocketAddr>,
    /// JSON-RPC user; without it a random cookie is written to `data_dir/.cookie`.
    pub rpc_user: Option<String>,
    /// JSON-RPC password (with `rpc_user`).
    pub rpc_password: Option<String>,
    /// Run the built-in CPU miner, paying this address.
    pub mine: Option<String>,
    /// Miner threads (0: one per core).
    pub miner_threads: usize,
    /// Address paid by templates served over `getblocktemplate` (defaults to `mine`).
    pub payout_address: Option<String>,
    /// Most transactions in the mempool.
    pub mempool_max_txs: usize,
    /// Most encoded bytes in the mempool.
    pub mempool_max_bytes: usize,
    /// The provider registry: heartbeat interval, expiry and limits (TOML table `[providers]`).
    pub providers: ProviderConfig,
    /// The peer-to-peer network (TOML table `[p2p]`).
    pub p2p: P2pSection,
}

/// The `[p2p]` section: the node's peer-to-peer network.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct P2pSection {
    /// Join the network. Off by default so that a node (or a test) never reaches out
    /// unasked; `aic node` turns it on.
    pub enabled: bool,
    /// Multiaddrs to listen on.
    pub listen: Vec<String>,
    /// Multiaddrs of peers to dial at start and whenever no peer is left, with `/p2p/<id>`.
    pub bootnodes: Vec<String>,
    /// Find peers on the local network by mDNS.
    pub mdns: bool,
    /// Find peers through the Kademlia DHT.
    pub kademlia: bool,
    /// Most established connections.
    pub max_peers: u32,
    /// The peer store file (default `data_dir/peers.txt`).
    pub peer_store: Option<PathBuf>,
    /// The network key file (default `data_dir/p2p.key`, created if missing).
    pub key_file: Option<PathBuf>,
    /// How long a misbehaving peer stays banned, seconds.
    pub ban_secs: u64,
}

impl Default for P2pSection {
    fn default() -> Self {
        P2pSection {
            enabled: false,
            listen: vec![format!("/ip4/0.0.0.0/tcp/{}", aic_api::DEFAULT_P2P_PORT)],
            bootnodes: Vec::new(),
            mdns: true,
            kademlia: true,
            max_peers: 50,
            peer_store: None,
            key_file: None,
            ban_secs: 24 * 60 * 60,
        }
    }
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            network: "mainnet".to_owned(),
            data_dir: PathBuf::from(".aic"),
            api_addr: SocketAddr::from(([127, 0, 0, 1], aic_api::DEFAULT_API_PORT)),
            stratum_addr: None,
            rpc_user: None,
            rpc_password: None,
            mine: None,
            miner_threads: 0,
            payout_address: None,
            mempool_max_txs: 50_000,
            mempool_max_bytes: 64 * 1024 * 1024,
            providers: ProviderConfig::default(),
            p2p: P2pSection::default(),
        }
    }
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid configuration.
    #[error("parsing {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The TOML error (it names the line and the key).
        source: toml::de::Error,
    },
    /// A value is invalid.
    #[error("invalid {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// Why.
        reason: String,
    },
}

impl NodeConfig {
    /// Reads a TOML file with the same keys as the struct's fields.
    pub fn from_file(path: &Path) -> Result<NodeConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The configured network.
    pub fn network(&self) -> Result<Network, ConfigError> {
        self.network.parse().map_err(
            |e: aic_primitives::NetworkParseError| ConfigError::Invalid {
                key: "network",
                reason: e.to_string(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_keys_match_fields_and_unknown_keys_are_refused() {
        let c: NodeConfig = toml::from_str(
            "network = \"devnet\"\napi_addr = \"127.0.0.1:9000\"\nminer_threads = 2\n",
        )
        .unwrap();
        assert_eq!(c.network().unwrap(), Network::Devnet);
        assert_eq!(c.api_addr.port(), 9000);
        assert_eq!(c.miner_threads, 2);
        assert!(toml::from_str::<NodeConfig>("netwrk = \"devnet\"").is_err());
        let c: NodeConfig = toml::from_str("[providers]\nheartbeat_interval_ms = 2000\n").unwrap();
        assert_eq!(c.providers.heartbeat_interval_ms, 2000);
        assert_eq!(c.providers.max_devices, 64);
        assert!(toml::from_str::<NodeConfig>("[providers]\nheartbeat = 1\n").is_err());
        let c: NodeConfig = toml::from_str(
            "[p2p]\nenabled = true\nbootnodes = [\"/ip4/127.0.0.1/tcp/7451\"]\nmdns = false\n",
        )
        .unwrap();
        assert!(c.p2p.enabled && !c.p2p.mdns);
        assert_eq!(c.p2p.bootnodes.len(), 1);
        assert_eq!(c.p2p.max_peers, 50);
        assert!(toml::from_str::<NodeConfig>("[p2p]\nbootnode = []\n").is_err());
    }
}
