//! The node on the peer-to-peer network: `aic-p2p`'s traits implemented over the node's
//! chain ([`NodeHandle`]) and blob store, the `[p2p]` section turned into the network's
//! configuration, and the relay of locally accepted blocks and transactions to gossip.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

use aic_blob::{BlobError, BlobId, BlobStore};
use aic_chain::ChainError;
use aic_consensus::{BlockError, TxError};
use aic_p2p::locator::locator_heights;
use aic_p2p::{
    BlobAccess, BlobSinkError, BlockVerdict, ChainSink, ChainTip, ChainView, Multiaddr, P2pConfig,
    P2pHandle, TxVerdict,
};
use aic_primitives::{Block, BlockHeader, ChainParams, Hash256, Height, Transaction};
use aic_rpc::{NodeHandle, Relay};
use tokio::task::JoinHandle;

use crate::config::{ConfigError, NodeConfig};

/// File name of the peer store inside the data directory.
pub const PEER_STORE: &str = "peers.txt";
/// File name of the network key inside the data directory.
pub const P2P_KEY: &str = "p2p.key";

/// The node's chain and blob store as the network sees them.
#[derive(Debug)]
pub struct NodeAdapter {
    handle: Arc<NodeHandle>,
    blobs: BlobStore,
    genesis: Hash256,
}

impl NodeAdapter {
    /// Wraps the node's chain and blob store.
    pub fn new(handle: Arc<NodeHandle>, blobs: BlobStore) -> NodeAdapter {
        let genesis = handle.chain().params().genesis_hash();
        NodeAdapter {
            handle,
            blobs,
            genesis,
        }
    }
}

impl ChainView for NodeAdapter {
    fn genesis(&self) -> Hash256 {
        self.genesis
    }

    fn tip(&self) -> ChainTip {
        let tip = self.handle.chain().tip();
        ChainTip {
            hash: tip.hash,
            height: tip.entry.height,
            work: tip.entry.chain_work,
        }
    }

    fn locator(&self) -> Vec<Hash256> {
        let chain = self.handle.chain();
        locator_heights(chain.height().0)
            .into_iter()
            .filter_map(|h| chain.hash_at(Height(h)))
            .collect()
    }

    fn headers_after(&self, locator: &[Hash256], max: usize) -> Vec<BlockHeader> {
        let chain = self.handle.chain();
        let start = locator
            .iter()
            .find(|h| chain.is_main(h))
            .and_then(|h| chain.entry(h))
            .map_or(0, |e| e.height.0);
        let end = chain.height().0.min(start.saturating_add(max as u64));
        ((start + 1)..=end)
            .filter_map(|h| chain.hash_at(Height(h)))
            .filter_map(|hash| chain.entry(&hash).map(|e| e.header))
            .collect()
    }

    fn block(&self, hash: &Hash256) -> Option<Block> {
        self.handle.chain().block(hash).ok().flatten()
    }

    fn has_block(&self, hash: &Hash256) -> bool {
        self.handle.chain().entry(hash).is_some()
    }
}

/// Whether a block error is the sender's fault. A block from the future may become valid
/// and a stateful failure may follow from our own view, but everything else a peer could
/// have checked before relaying.
fn block_error_is_peer_fault(e: &BlockError) -> bool {
    !matches!(e, BlockError::TimeTooNew { .. })
}

/// Whether a transaction error proves the transaction can never be valid.
fn tx_error_is_peer_fault(e: &TxError) -> bool {
    matches!(
        e,
        TxError::WrongChainId { .. }
            | TxError::BadSignature
            | TxError::ValueOverflow
            | TxError::StandaloneCoinbase
    )
}

impl ChainSink for NodeAdapter {
    fn submit_block(&self, block: Block) -> BlockVerdict {
        match self.handle.submit_block_from_peer(block) {
            Ok(a) => BlockVerdict::Accepted { is_tip: a.is_tip },
            Err(ChainError::Duplicate(_)) => BlockVerdict::Duplicate,
            Err(ChainError::UnknownParent(_)) => BlockVerdict::Orphan,
            Err(e @ (ChainError::KnownInvalid(_) | ChainError::InvalidParent(_))) => {
                BlockVerdict::Invalid(e.to_string())
            }
            Err(ChainError::Block(e)) if block_error_is_peer_fault(&e) => {
                BlockVerdict::Invalid(e.to_string())
            }
            Err(e @ (ChainError::Decode(_) | ChainError::Tx(_))) => {
                BlockVerdict::Invalid(e.to_string())
            }
            Err(e) => BlockVerdict::Ignored(e.to_string()),
        }
    }

    fn submit_tx(&self, tx: Transaction) -> TxVerdict {
        match self.handle.submit_tx_from_peer(tx) {
            Ok(_) => TxVerdict::Accepted,
            Err(ChainError::Tx(e)) if tx_error_is_peer_fault(&e) => {
                TxVerdict::Invalid(e.to_string())
            }
            Err(e @ ChainError::Decode(_)) => TxVerdict::Invalid(e.to_string()),
            Err(e) => TxVerdict::Ignored(e.to_string()),
        }
    }
}

impl BlobAccess for NodeAdapter {
    fn blob_len(&self, id: &BlobId) -> Option<u64> {
        self.blobs.len(id).ok()
    }

    fn read_blob(&self, id: &BlobId, offset: u64, len: u32) -> std::io::Result<Vec<u8>> {
        let total = self.blobs.len(id).map_err(std::io::Error::other)?;
        let start = offset.min(total);
        let end = start.saturating_add(u64::from(len)).min(total);
        let mut r = self
            .blobs
            .open_range(id, start, end)
            .map_err(std::io::Error::other)?;
        let mut out = Vec::with_capacity((end - start) as usize);
        r.read_to_end(&mut out)?;
        Ok(out)
    }

    fn put_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<(), BlobSinkError> {
        let store = |e: BlobError| BlobSinkError::Store(e.to_string());
        let mut w = self.blobs.writer(Some(*id)).map_err(store)?;
        w.write_all(bytes)
            .map_err(|e| BlobSinkError::Store(e.to_string()))?;
        match w.finish() {
            Ok(_) => Ok(()),
            Err(BlobError::HashMismatch { expected, actual }) => {
                Err(BlobSinkError::Mismatch { expected, actual })
            }
            Err(e) => Err(store(e)),
        }
    }
}

fn parse_addrs(key: &'static str, list: &[String]) -> Result<Vec<Multiaddr>, ConfigError> {
    list.iter()
        .map(|a| {
            a.parse().map_err(|e| ConfigError::Invalid {
                key,
                reason: format!("{a:?}: {e}"),
            })
        })
        .collect()
}

/// The network's configuration from the node's.
pub fn p2p_config(config: &NodeConfig, params: &ChainParams) -> Result<P2pConfig, ConfigError> {
    let s = &config.p2p;
    let mut c = P2pConfig::new(params);
    c.listen = parse_addrs("p2p.listen", &s.listen)?;
    c.bootnodes = parse_addrs("p2p.bootnodes", &s.bootnodes)?;
    c.mdns = s.mdns;
    c.kademlia = s.kademlia;
    c.max_peers = s.max_peers;
    c.ban_duration = Duration::from_secs(s.ban_secs);
    c.peer_store = Some(
        s.peer_store
            .clone()
            .unwrap_or_else(|| config.data_dir.join(PEER_STORE)),
    );
    Ok(c)
}

/// Gossips what local sources submit to the node until the node closes.
pub fn spawn_relay(handle: Arc<NodeHandle>, p2p: P2pHandle) -> JoinHandle<()> {
    let mut rx = handle.subscribe_relay();
    tokio::spawn(async move {
        loop {
            let item = tokio::select! {
                item = rx.recv() => item,
                () = handle.closed() => return,
            };
            let sent = match item {
                Ok(Relay::Block(b)) => p2p.publish_block(*b).await,
                Ok(Relay::Tx(t)) => p2p.publish_tx(*t).await,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::debug!(target: "node::p2p", missed = n, "relay fell behind");
                    Ok(())
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if sent.is_err() {
                return;
            }
        }
    })
}
