//! Several devnet nodes on one machine, joined over loopback: the library side of
//! `aic devnet --nodes N`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use aic_primitives::{Height, Network};

use super::{load_or_create, WALLET_FILE};
use crate::config::{NodeConfig, P2pSection};
use crate::node::{NodeError, RunningNode};

/// How to run a local network of devnet nodes.
#[derive(Clone, Debug)]
pub struct ClusterOptions {
    /// Parent directory; node `i` lives in `node-<i>` under it (continued if it exists).
    pub data_dir: PathBuf,
    /// Number of nodes (at least one).
    pub nodes: usize,
    /// The first `miners` nodes run the built-in miner, each paying its own wallet
    /// (`node-<i>/wallet.key`).
    pub miners: usize,
    /// Threads per miner (0: one per core).
    pub miner_threads: usize,
    /// Mining stops at this height, if set.
    pub max_height: Option<u64>,
    /// Node 0's API address (the others take free loopback ports).
    pub api_addr: SocketAddr,
}

/// A running local network.
#[derive(Debug)]
pub struct Cluster {
    /// The nodes, in start order; each has its API on a loopback port and its network on
    /// another (`node.p2p`).
    pub nodes: Vec<RunningNode>,
}

impl Cluster {
    /// Starts the nodes, each dialling the ones started before it, and waits (at most 10 s)
    /// until every node has a peer.
    pub async fn start(options: &ClusterOptions) -> Result<Cluster, NodeError> {
        let mut nodes: Vec<RunningNode> = Vec::new();
        for i in 0..options.nodes.max(1) {
            let dir = options.data_dir.join(format!("node-{i}"));
            std::fs::create_dir_all(&dir).map_err(|source| NodeError::Io {
                what: format!("creating {}", dir.display()),
                source,
            })?;
            let wallet = load_or_create(dir.join(WALLET_FILE))?;
            let bootnodes = nodes
                .iter()
                .filter_map(|n| n.p2p.as_ref())
                .flat_map(|p| p.listen_addrs())
                .map(|a| a.to_string())
                .collect();
            let config = NodeConfig {
                network: Network::Devnet.to_string(),
                data_dir: dir,
                api_addr: if i == 0 {
                    options.api_addr
                } else {
                    SocketAddr::from(([127, 0, 0, 1], 0))
                },
                miner_threads: options.miner_threads,
                payout_address: Some(wallet.address().to_bech32(Network::Devnet)),
                p2p: P2pSection {
                    enabled: true,
                    listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
                    bootnodes,
                    mdns: false,
                    ..P2pSection::default()
                },
                ..NodeConfig::default()
            };
            let mut node = RunningNode::start(&config).await?;
            if i < options.miners {
                node.start_miner(wallet.address(), options.max_height.map(Height));
            }
            nodes.push(node);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        if nodes.len() > 1 {
            for n in &nodes {
                let Some(p2p) = n.p2p.as_ref() else { continue };
                while p2p.peers().await.map_or(0, |p| p.len()) == 0 && Instant::now() < deadline {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Ok(Cluster { nodes })
    }

    /// Stops every node.
    pub async fn shutdown(self) {
        for n in self.nodes {
            n.shutdown().await;
        }
    }
}
