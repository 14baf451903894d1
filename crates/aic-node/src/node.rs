//! Starting and stopping a node.

use std::net::SocketAddr;
use std::sync::Arc;

use aic_blob::BlobStore;
use aic_chain::{mempool::MempoolConfig, Chain, ChainConfig, ChainError};
use aic_primitives::{Address, AddressError, ChainParams, Height};
use aic_rpc::{NodeHandle, ProviderRegistry, RpcAuth};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use aic_p2p::P2pHandle;

use crate::config::{ConfigError, NodeConfig};
use crate::miner::{Miner, MinerStats};

/// File name of the chain database inside the data directory.
pub const CHAIN_DB: &str = "chain.redb";
/// The blob store's directory inside the data directory.
pub const BLOBS_DIR: &str = "blobs";

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// Bad configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The chain could not be opened.
    #[error("opening the chain: {0}")]
    Chain(#[from] ChainError),
    /// A configured address is not valid on this network.
    #[error("{key}: {source}")]
    Address {
        /// The configuration key.
        key: &'static str,
        /// Why.
        source: AddressError,
    },
    /// The blob store could not be opened.
    #[error("opening the blob store: {0}")]
    Blobs(#[from] aic_blob::BlobError),
    /// The peer-to-peer network could not start.
    #[error("starting the network: {0}")]
    P2p(#[from] aic_p2p::P2pError),
    /// IO failed (data directory, cookie, listening socket).
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The IO error.
        source: std::io::Error,
    },
}

/// A running node: the chain, the API server and, optionally, the miner.
#[derive(Debug)]
pub struct RunningNode {
    /// The shared chain.
    pub handle: Arc<NodeHandle>,
    /// The address the API listens on (the real port when 0 was asked for).
    pub api_addr: SocketAddr,
    /// Credentials JSON-RPC and blob uploads accept.
    pub rpc_auth: RpcAuth,
    /// The blob store served at `/api/v1/blobs/{id}` (`data_dir/blobs`).
    pub blobs: BlobStore,
    /// The address the Stratum server listens on, if it runs.
    pub stratum_addr: Option<SocketAddr>,
    /// Worker agents announced to this node (`/api/v1/providers`), in memory only.
    pub providers: Arc<ProviderRegistry>,
    /// The peer-to-peer network, if `[p2p] enabled`.
    pub p2p: Option<P2pHandle>,
    p2p_tasks: Vec<JoinHandle<()>>,
    miner: Option<Miner>,
    miner_threads: usize,
    /// The cookie file this node wrote, removed at shutdown as Bitcoin Core does.
    cookie: Option<std::path::PathBuf>,
    stop_server: Option<oneshot::Sender<()>>,
    server: JoinHandle<std::io::Result<()>>,
}

fn parse_address(
    key: &'static str,
    text: &Option<String>,
    params: &ChainParams,
) -> Result<Option<Address>, NodeError> {
    text.as_deref()
        .map(|t| Address::parse(t, params.network))
        .transpose()
        .map_err(|source| NodeError::Address { key, source })
}

impl RunningNode {
    /// Opens the chain, binds the API and starts the miner if `config.mine` is set.
    pub async fn start(config: &NodeConfig) -> Result<RunningNode, NodeError> {
        let params = ChainParams::for_network(config.network()?);
        let network = params.network;
        let io = |what: String| move |source| NodeError::Io { what, source };
        std::fs::create_dir_all(&config.data_dir)
            .map_err(io(format!("creating {}", config.data_dir.display())))?;
        let mine = parse_address("mine", &config.mine, &params)?;
        let payout = parse_address("payout_address", &config.payout_address, &params)?.or(mine);
        let chain_config = ChainConfig {
            mempool: MempoolConfig {
                max_count: config.mempool_max_txs,
                max_bytes: config.mempool_max_bytes,
                ..MempoolConfig::default()
            },
        };
        let db = config.data_dir.join(CHAIN_DB);
        let chain = tokio::task::spawn_blocking(move || Chain::open(params, &db, chain_config))
            .await
            .map_err(|e| NodeError::Io {
                what: "opening the chain".to_owned(),
                source: std::io::Error::other(e),
            })??;
        let handle = Arc::new(NodeHandle::new(chain, payout));
        let blobs = BlobStore::open(config.data_dir.join(BLOBS_DIR))?;
        let mut cookie = None;
        let rpc_auth = match (&config.rpc_user, &config.rpc_password) {
            (Some(u), Some(p)) => RpcAuth::new(u, p),
            (None, None) => {
                cookie = Some(config.data_dir.join(aic_rpc::COOKIE_FILE));
                RpcAuth::create_cookie(&config.data_dir)
                    .map_err(io("writing the RPC cookie".to_owned()))?
            }
            _ => {
                return Err(ConfigError::Invalid {
                    key: "rpc_user",
                    reason: "rpc_user and rpc_password go together".to_owned(),
                }
                .into())
            }
        };
        let listener = tokio::net::TcpListener::bind(config.api_addr)
            .await
            .map_err(io(format!("binding the API to {}", config.api_addr)))?;
        let api_addr = listener
            .local_addr()
            .map_err(io("reading the API address".to_owned()))?;
        let providers = Arc::new(ProviderRegistry::new(network, config.providers.clone()));
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(aic_rpc::serve(
            listener,
            handle.clone(),
            rpc_auth.clone(),
            Some(blobs.clone()),
            providers.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        let stratum_addr = match config.stratum_addr {
            Some(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(io(format!("binding Stratum to {addr}")))?;
                let bound = listener
                    .local_addr()
                    .map_err(io("reading the Stratum address".to_owned()))?;
                let h = handle.clone();
                tokio::spawn(aic_rpc::serve_stratum(
                    listener,
                    handle.clone(),
                    aic_rpc::StratumConfig::default(),
                    async move { h.closed().await },
                ));
                Some(bound)
            }
            None => None,
        };
        let mut p2p_tasks = Vec::new();
        let p2p = if config.p2p.enabled {
            let params = handle.chain().params().clone();
            let p2p_config = crate::network::p2p_config(config, &params)?;
            let key_path = config
                .p2p
                .key_file
                .clone()
                .unwrap_or_else(|| config.data_dir.join(crate::network::P2P_KEY));
            let key = aic_p2p::load_or_create_key(&key_path).map_err(io(format!(
                "reading the network key {}",
                key_path.display()
            )))?;
            let adapter = Arc::new(crate::network::NodeAdapter::new(
                handle.clone(),
                blobs.clone(),
            ));
            let (p2p, task) = aic_p2p::start(p2p_config, key, adapter).await?;
            p2p_tasks.push(task);
            p2p_tasks.push(crate::network::spawn_relay(handle.clone(), p2p.clone()));
            handle.set_network(Some(Arc::new(crate::network_control::P2pControl(
                p2p.clone(),
            ))));
            Some(p2p)
        } else {
            None
        };
        tracing::info!(target: "node", network = %params_name(&handle), %api_addr, ?stratum_addr, p2p = ?p2p.as_ref().map(|p| p.listen_addrs()), "node started");
        let mut node = RunningNode {
            handle,
            api_addr,
            rpc_auth,
            blobs,
            stratum_addr,
            providers,
            p2p,
            p2p_tasks,
            miner: None,
            miner_threads: config.miner_threads,
            cookie,
            stop_server: Some(stop_server),
            server,
        };
        if let Some(address) = mine {
            node.start_miner(address, None);
        }
        Ok(node)
    }

    /// Starts the built-in miner paying `payout`, mining no block above `max_height`.
    pub fn start_miner(&mut self, payout: Address, max_height: Option<Height>) {
        self.stop_miner();
        let threads = match self.miner_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        self.miner = Some(Miner::start(
            self.handle.clone(),
            payout,
            threads,
            max_height,
        ));
    }

    /// The miner's counters, if it runs.
    pub fn miner_stats(&self) -> Option<Arc<MinerStats>> {
        self.miner.as_ref().map(Miner::stats)
    }

    /// Stops the miner, if it runs.
    pub fn stop_miner(&mut self) {
        if let Some(m) = self.miner.take() {
            m.stop();
        }
    }

    /// Stops the miner and the API server; the chain is closed when the last handle drops.
    pub async fn shutdown(mut self) {
        self.handle.close();
        self.handle.set_network(None);
        if let Some(m) = self.miner.take() {
            let _ = tokio::task::spawn_blocking(move || m.stop()).await;
        }
        if let Some(p2p) = self.p2p.take() {
            p2p.shutdown().await;
        }
        for t in self.p2p_tasks.drain(..) {
            t.abort();
            let _ = t.await;
        }
        if let Some(tx) = self.stop_server.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.server).await;
        if let Some(path) = self.cookie.take() {
            let _ = std::fs::remove_file(path);
        }
        tracing::info!(target: "node", "node stopped");
    }
}

impl Drop for RunningNode {
    /// A node dropped without [`RunningNode::shutdown`] still lets go of its network, which
    /// refers back to the node: otherwise the chain (and its database lock) would outlive it.
    fn drop(&mut self) {
        self.handle.set_network(None);
    }
}

fn params_name(handle: &NodeHandle) -> String {
    handle.chain().params().network.to_string()
}
