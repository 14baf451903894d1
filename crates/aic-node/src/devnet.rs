//! `aic devnet`: a fresh local network in one call: a node (or several joined over loopback),
//! the built-in miner paying a wallet, and demo transfers so that blocks carry transactions.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use aic_primitives::{
    Action, Address, Amount, ChainParams, Hash256, Height, Network, Transaction, TxBody,
};

use crate::config::NodeConfig;

mod cluster;
use crate::keyfile::{KeyFile, KeyFileError};
use crate::node::{NodeError, RunningNode};
pub use cluster::{Cluster, ClusterOptions};

/// File name of the funded wallet in a devnet data directory.
pub const WALLET_FILE: &str = "wallet.key";
/// File name of the demo transfers' recipient.
pub const RECIPIENT_FILE: &str = "recipient.key";
/// A demo transfer is sent every this many blocks.
const TRANSFER_EVERY: u64 = 3;
/// Amount of each demo transfer.
const TRANSFER_AMOUNT: Amount = Amount::ONE_AIC;
/// Fee of each demo transfer, base units.
const TRANSFER_FEE: Amount = Amount::from_units(1_000);

/// How to run the devnet.
#[derive(Clone, Debug)]
pub struct DevnetOptions {
    /// Data directory (created if missing; an existing devnet there is continued). With
    /// several nodes, node `i` lives in `node-<i>` under it.
    pub data_dir: PathBuf,
    /// Mine this many blocks, then stop mining.
    pub blocks: Option<u64>,
    /// Return once `blocks` are mined instead of serving on.
    pub exit_when_done: bool,
    /// HTTP API address (of node 0, with several nodes).
    pub api_addr: SocketAddr,
    /// Miner threads (0: one per core), per mining node.
    pub miner_threads: usize,
    /// Send demo transfers from the funded wallet.
    pub demo_transfers: bool,
    /// Nodes: 1 is a node alone (no network); more join over loopback (see [`Cluster`]).
    pub nodes: usize,
    /// How many of the nodes mine (the first ones; at least one, at most `nodes`).
    pub miners: usize,
    /// A Stratum v1 pool on node 0 (a node alone only), for external miners and workers.
    pub stratum_addr: Option<SocketAddr>,
}

/// One node of a multi-node devnet, as [`DevnetEvent::Started`] lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct DevnetNode {
    /// Its data directory.
    pub data_dir: PathBuf,
    /// Its API address.
    pub api_addr: SocketAddr,
    /// Its network addresses (with `/p2p/<id>`).
    pub p2p: Vec<String>,
    /// Whether it mines.
    pub mining: bool,
}

/// What the devnet reports as it runs.
#[derive(Clone, Debug, PartialEq)]
pub enum DevnetEvent {
    /// The node (or every node) is up.
    Started {
        /// Data directory.
        data_dir: PathBuf,
        /// API address (node 0's).
        api_addr: SocketAddr,
        /// The funded wallet's key file (node 0's miner pays it).
        wallet_file: PathBuf,
        /// Its address.
        wallet_address: String,
        /// Height the devnet starts from.
        height: u64,
        /// The nodes of a multi-node devnet (empty for a node alone).
        nodes: Vec<DevnetNode>,
        /// The Stratum pool's bound address, when one was asked for.
        stratum_addr: Option<SocketAddr>,
    },
    /// A block joined node 0's main chain.
    Block {
        /// Height.
        height: u64,
        /// Hash (display order).
        hash: Hash256,
        /// Transactions, coinbase included.
        txs: usize,
        /// The built-in miners' hash rate since the start, hashes per second.
        hash_rate: f64,
        /// Funded wallet's balance.
        wallet_balance: Amount,
    },
    /// A demo transfer entered the mempool.
    Transfer {
        /// Txid.
        txid: Hash256,
        /// Amount sent.
        amount: Amount,
    },
    /// Every node's view, every few seconds in a multi-node devnet.
    Network {
        /// Each node's tip height, in node order.
        heights: Vec<u64>,
        /// Each node's connected peers.
        peers: Vec<usize>,
        /// How many nodes have node 0's tip.
        in_step: usize,
    },
    /// The requested blocks are mined; mining stopped.
    Done {
        /// Final height.
        height: u64,
    },
}

/// How often a multi-node devnet reports [`DevnetEvent::Network`].
const NETWORK_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

fn load_or_create(path: PathBuf) -> Result<KeyFile, NodeError> {
    if path.exists() {
        return KeyFile::load(&path).map_err(key_error);
    }
    let k = KeyFile::generate(Network::Devnet);
    k.create(&path).map_err(key_error)?;
    Ok(k)
}

fn key_error(e: KeyFileError) -> NodeError {
    NodeError::Io {
        what: "wallet".to_owned(),
        source: std::io::Error::other(e.to_string()),
    }
}

/// Starts the devnet's nodes: node 0's directory and the nodes.
async fn start_nodes(options: &DevnetOptions) -> Result<(PathBuf, Vec<RunningNode>), NodeError> {
    if options.nodes <= 1 {
        let wallet = load_or_create(options.data_dir.join(WALLET_FILE))?;
        let config = NodeConfig {
            network: Network::Devnet.to_string(),
            data_dir: options.data_dir.clone(),
            api_addr: options.api_addr,
            miner_threads: options.miner_threads,
            payout_address: Some(wallet.address().to_bech32(Network::Devnet)),
            stratum_addr: options.stratum_addr,
            ..NodeConfig::default()
        };
        return Ok((
            options.data_dir.clone(),
            vec![RunningNode::start(&config).await?],
        ));
    }
    let cluster = Cluster::start(&ClusterOptions {
        data_dir: options.data_dir.clone(),
        nodes: options.nodes,
        miners: 0,
        miner_threads: options.miner_threads,
        max_height: None,
        api_addr: options.api_addr,
    })
    .await?;
    Ok((options.data_dir.join("node-0"), cluster.nodes))
}

/// Each node's tip height and peer count.
async fn network_view(nodes: &[RunningNode]) -> (Vec<u64>, Vec<usize>, usize) {
    let tip0 = nodes[0].handle.chain().tip().hash;
    let mut heights = Vec::with_capacity(nodes.len());
    let mut peers = Vec::with_capacity(nodes.len());
    let mut in_step = 0;
    for n in nodes {
        let tip = n.handle.chain().tip();
        heights.push(tip.entry.height.0);
        in_step += usize::from(tip.hash == tip0);
        let count = match &n.p2p {
            Some(p) => p.peers().await.map_or(0, |p| p.len()),
            None => 0,
        };
        peers.push(count);
    }
    (heights, peers, in_step)
}

/// Runs a devnet until `shutdown` completes or, with `exit_when_done`, until the requested
/// blocks are mined (and, with several nodes, every node has the last one or 30 s passed).
/// Reports progress through `on_event`.
pub async fn run(
    options: DevnetOptions,
    mut on_event: impl FnMut(DevnetEvent),
    shutdown: impl Future<Output = ()>,
) -> Result<(), NodeError> {
    std::fs::create_dir_all(&options.data_dir).map_err(|source| NodeError::Io {
        what: format!("creating {}", options.data_dir.display()),
        source,
    })?;
    let (dir0, mut nodes) = start_nodes(&options).await?;
    let wallet_file = dir0.join(WALLET_FILE);
    let wallet = load_or_create(wallet_file.clone())?;
    let recipient = load_or_create(options.data_dir.join(RECIPIENT_FILE))?.address();
    let start_height = nodes[0].handle.chain().height().0;
    let max_height = options.blocks.map(|n| Height(start_height + n));
    let miners = if nodes.len() > 1 {
        options.miners.clamp(1, nodes.len())
    } else {
        1
    };
    let listed = if nodes.len() > 1 {
        nodes
            .iter()
            .enumerate()
            .map(|(i, n)| DevnetNode {
                data_dir: options.data_dir.join(format!("node-{i}")),
                api_addr: n.api_addr,
                p2p: n.p2p.as_ref().map_or_else(Vec::new, |p| {
                    p.listen_addrs().iter().map(ToString::to_string).collect()
                }),
                mining: i < miners,
            })
            .collect()
    } else {
        Vec::new()
    };
    on_event(DevnetEvent::Started {
        data_dir: options.data_dir.clone(),
        api_addr: nodes[0].api_addr,
        wallet_file,
        wallet_address: wallet.address().to_bech32(Network::Devnet),
        height: start_height,
        nodes: listed,
        stratum_addr: nodes[0].stratum_addr,
    });
    let mut events = nodes[0].handle.subscribe();
    let done_already = max_height.is_some_and(|m| m.0 <= start_height);
    if !done_already {
        for (i, node) in nodes.iter_mut().enumerate().take(miners) {
            let payout = if i == 0 {
                wallet.address()
            } else {
                let dir = options.data_dir.join(format!("node-{i}"));
                load_or_create(dir.join(WALLET_FILE))?.address()
            };
            // Node 0 alone mines the last block: two miners stopping at the same height
            // could leave a tie that no later block resolves.
            let limit = if i == 0 {
                max_height
            } else {
                max_height.map(|h| Height(h.0.saturating_sub(1)))
            };
            node.start_miner(payout, limit);
        }
    }
    let stats: Vec<_> = nodes.iter().filter_map(RunningNode::miner_stats).collect();
    let started = Instant::now();
    let mut reported = start_height;
    let mut done = done_already;
    if done {
        on_event(DevnetEvent::Done {
            height: start_height,
        });
    }
    let mut network_tick = tokio::time::interval(NETWORK_EVERY);
    network_tick.tick().await;
    tokio::pin!(shutdown);
    while !(done && options.exit_when_done) {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = network_tick.tick(), if nodes.len() > 1 => {
                let (heights, peers, in_step) = network_view(&nodes).await;
                on_event(DevnetEvent::Network { heights, peers, in_step });
                continue;
            }
            changed = events.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
        let tip = events.borrow_and_update().height.0;
        let hashes: u64 = stats
            .iter()
            .map(|s| s.hashes.load(std::sync::atomic::Ordering::Relaxed))
            .sum();
        let hash_rate = hashes as f64 / started.elapsed().as_secs_f64().max(1e-3);
        while reported < tip {
            reported += 1;
            let (hash, txs, balance) = {
                let chain = nodes[0].handle.chain();
                let hash = chain.hash_at(Height(reported)).unwrap_or_default();
                let txs = chain.block(&hash).ok().flatten().map_or(0, |b| b.txs.len());
                (hash, txs, chain.account(&wallet.address()).balance)
            };
            on_event(DevnetEvent::Block {
                height: reported,
                hash,
                txs,
                hash_rate,
                wallet_balance: balance,
            });
            if options.demo_transfers && reported % TRANSFER_EVERY == 0 {
                if let Some(txid) = send_demo_transfer(&nodes[0], &wallet, recipient) {
                    on_event(DevnetEvent::Transfer {
                        txid,
                        amount: TRANSFER_AMOUNT,
                    });
                }
            }
        }
        if !done && max_height.is_some_and(|m| tip >= m.0) {
            for n in nodes.iter_mut() {
                n.stop_miner();
            }
            done = true;
            if nodes.len() > 1 {
                let deadline = Instant::now() + std::time::Duration::from_secs(30);
                loop {
                    let (heights, peers, in_step) = network_view(&nodes).await;
                    if in_step == nodes.len() || Instant::now() >= deadline {
                        on_event(DevnetEvent::Network {
                            heights,
                            peers,
                            in_step,
                        });
                        break;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
            on_event(DevnetEvent::Done { height: tip });
        }
    }
    for n in nodes {
        n.shutdown().await;
    }
    Ok(())
}

/// Sends one demo transfer if the wallet can pay it.
fn send_demo_transfer(node: &RunningNode, wallet: &KeyFile, to: Address) -> Option<Hash256> {
    let params = ChainParams::devnet();
    let (nonce, balance) = {
        let chain = node.handle.chain();
        let a = wallet.address();
        (chain.next_nonce(&a), chain.account(&a).balance)
    };
    let needed = TRANSFER_AMOUNT.checked_add(TRANSFER_FEE)?;
    if balance < needed.checked_mul(2)? {
        return None;
    }
    let tx = TxBody {
        chain_id: params.chain_id,
        sender: wallet.key.public_key(),
        nonce,
        fee: TRANSFER_FEE,
        action: Action::Transfer {
            to,
            amount: TRANSFER_AMOUNT,
        },
    }
    .sign(&wallet.key);
    node.handle.submit_tx(Transaction::Signed(tx)).ok()
}
