//! The node's shared chain, with notifications for miners and long polls.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use aic_chain::{BlockAccepted, Chain, ChainError};
use aic_primitives::{Address, Block, Hash256, Height, Transaction};
use tokio::sync::{broadcast, watch};

use crate::network::NetworkControl;
use crate::stratum::MiningStats;

/// What changed: the tip, or the mempool (which changes the best template).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TipEvent {
    /// Tip height.
    pub height: Height,
    /// Tip hash.
    pub hash: Hash256,
    /// Increases with every accepted transaction.
    pub mempool_seq: u64,
}

/// Something this node accepted from a local source (its miner, a Stratum share, the API)
/// that the network should hear of. What arrived from peers is not relayed here: the
/// network relays it itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Relay {
    /// A block that became the tip.
    Block(Box<Block>),
    /// A transaction added to the mempool.
    Tx(Box<Transaction>),
}

/// Items a slow relay subscriber may fall behind by before it misses some.
const RELAY_CAPACITY: usize = 1_024;

/// Notices kept for a slow reader of [`NodeHandle::notices`] before it starts missing some.
pub const NOTICE_BUFFER: usize = 1024;

/// One change the node made, in order: what event streams (`GET /api/v1/events`) are built
/// from. Unlike [`TipEvent`], which keeps only the latest state, every change is a notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// A block became the tip, after `reorg_depth` main-chain blocks were undone.
    Tip {
        /// Its height.
        height: Height,
        /// Its hash.
        hash: Hash256,
        /// Blocks undone to switch to it (0: it extends the old tip).
        reorg_depth: u64,
    },
    /// A transaction entered the mempool.
    Tx {
        /// Its txid.
        txid: Hash256,
    },
}

/// The chain shared by the API, the miner and the node's other services.
#[derive(Debug)]
pub struct NodeHandle {
    chain: Mutex<Chain>,
    events: watch::Sender<TipEvent>,
    notices: broadcast::Sender<Notice>,
    closing: watch::Sender<bool>,
    relay: broadcast::Sender<Relay>,
    payout: Option<Address>,
    mining: MiningStats,
    /// The network holds the node too (it submits to the chain), so the node clears this at
    /// shutdown to break the cycle.
    network: Mutex<Option<Arc<dyn NetworkControl>>>,
}

impl NodeHandle {
    /// Wraps `chain`; `payout` receives the coinbase of templates served over JSON-RPC.
    pub fn new(chain: Chain, payout: Option<Address>) -> NodeHandle {
        let tip = chain.tip();
        let (events, _) = watch::channel(TipEvent {
            height: tip.entry.height,
            hash: tip.hash,
            mempool_seq: 0,
        });
        NodeHandle {
            chain: Mutex::new(chain),
            events,
            notices: broadcast::channel(NOTICE_BUFFER).0,
            closing: watch::channel(false).0,
            relay: broadcast::channel(RELAY_CAPACITY).0,
            payout,
            mining: MiningStats::default(),
            network: Mutex::new(None),
        }
    }

    /// Locks the chain. Hold it briefly, and never across an await.
    pub fn chain(&self) -> MutexGuard<'_, Chain> {
        // A panic while holding the lock leaves the chain as consistent as the store (every
        // change is written before it is visible), so a poisoned lock is still usable.
        self.chain.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Share statistics of the Stratum server's workers.
    pub fn mining(&self) -> &MiningStats {
        &self.mining
    }

    /// Attaches the node's peer-to-peer network (or detaches it with `None`), so that the API
    /// can show and steer it. The network refers to this handle in turn: detach it when the
    /// node stops, or neither is ever dropped.
    pub fn set_network(&self, network: Option<Arc<dyn NetworkControl>>) {
        *self.network.lock().unwrap_or_else(|p| p.into_inner()) = network;
    }

    /// The node's network, if it runs one.
    pub fn network(&self) -> Option<Arc<dyn NetworkControl>> {
        self.network
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The address templates pay when none is asked for.
    pub fn payout(&self) -> Option<Address> {
        self.payout
    }

    /// Subscribes to tip and mempool changes.
    pub fn subscribe(&self) -> watch::Receiver<TipEvent> {
        self.events.subscribe()
    }

    /// Subscribes to every change, in order; a reader more than [`NOTICE_BUFFER`] notices
    /// behind is told how many it missed (`RecvError::Lagged`).
    pub fn notices(&self) -> broadcast::Receiver<Notice> {
        self.notices.subscribe()
    }

    /// Tells waiting requests (long polls) that the node is shutting down.
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once [`NodeHandle::close`] was called.
    pub async fn closed(&self) {
        let mut rx = self.closing.subscribe();
        let _ = rx.wait_for(|closing| *closing).await;
    }

    /// The node's clock, Unix seconds.
    pub fn now(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// Subscribes to what local sources submit (for the network to gossip).
    pub fn subscribe_relay(&self) -> broadcast::Receiver<Relay> {
        self.relay.subscribe()
    }

    /// Submits a block from a local source, tells subscribers if the tip moved and hands it
    /// to the network's relay.
    pub fn submit_block(&self, block: Block) -> Result<BlockAccepted, ChainError> {
        let copy = (self.relay.receiver_count() > 0).then(|| block.clone());
        let accepted = self.submit_block_from_peer(block)?;
        if let (true, Some(b)) = (accepted.is_tip, copy) {
            let _ = self.relay.send(Relay::Block(Box::new(b)));
        }
        Ok(accepted)
    }

    /// Submits a block that arrived from the network: like [`NodeHandle::submit_block`] but
    /// not handed back to the relay.
    pub fn submit_block_from_peer(&self, block: Block) -> Result<BlockAccepted, ChainError> {
        let now = self.now();
        let mut chain = self.chain();
        let accepted = chain.submit_block(block, now)?;
        if accepted.is_tip {
            let tip = chain.tip();
            self.events.send_modify(|e| {
                e.height = tip.entry.height;
                e.hash = tip.hash;
            });
            let _ = self.notices.send(Notice::Tip {
                height: accepted.height,
                hash: accepted.hash,
                reorg_depth: accepted.reorg_depth,
            });
        }
        Ok(accepted)
    }

    /// Submits a transaction from a local source to the mempool, tells subscribers and hands
    /// it to the network's relay.
    pub fn submit_tx(&self, tx: Transaction) -> Result<Hash256, ChainError> {
        let copy = (self.relay.receiver_count() > 0).then(|| tx.clone());
        let txid = self.submit_tx_from_peer(tx)?;
        if let Some(t) = copy {
            let _ = self.relay.send(Relay::Tx(Box::new(t)));
        }
        Ok(txid)
    }

    /// Submits a transaction that arrived from the network (not handed back to the relay).
    pub fn submit_tx_from_peer(&self, tx: Transaction) -> Result<Hash256, ChainError> {
        let txid = self.chain().submit_tx(tx)?;
        self.events.send_modify(|e| e.mempool_seq += 1);
        let _ = self.notices.send(Notice::Tx { txid });
        Ok(txid)
    }
}
