//! `aic devnet`: a fresh local network in one call: a node, the built-in miner paying a
//! wallet, and demo transfers so that blocks carry transactions.

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
    /// Data directory (created if missing; an existing devnet there is continued).
    pub data_dir: PathBuf,
    /// Mine this many blocks, then stop mining.
    pub blocks: Option<u64>,
    /// Return once `blocks` are mined instead of serving on.
    pub exit_when_done: bool,
    /// HTTP API address.
    pub api_addr: SocketAddr,
    /// Miner threads (0: one per core).
    pub miner_threads: usize,
    /// Send demo transfers from the funded wallet.
    pub demo_transfers: bool,
}

/// What the devnet reports as it runs.
#[derive(Clone, Debug, PartialEq)]
pub enum DevnetEvent {
    /// The node is up.
    Started {
        /// Data directory.
        data_dir: PathBuf,
        /// API address.
        api_addr: SocketAddr,
        /// The funded wallet's key file.
        wallet_file: PathBuf,
        /// Its address.
        wallet_address: String,
        /// Height the devnet starts from.
        height: u64,
    },
    /// A block joined the main chain.
    Block {
        /// Height.
        height: u64,
        /// Hash (display order).
        hash: Hash256,
        /// Transactions, coinbase included.
        txs: usize,
        /// Built-in miner's hash rate since the start, hashes per second.
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
    /// The requested blocks are mined; mining stopped.
    Done {
        /// Final height.
        height: u64,
    },
}

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

/// Runs a devnet until `shutdown` completes or, with `exit_when_done`, until the requested
/// blocks are mined. Reports progress through `on_event`.
pub async fn run(
    options: DevnetOptions,
    mut on_event: impl FnMut(DevnetEvent),
    shutdown: impl Future<Output = ()>,
) -> Result<(), NodeError> {
    std::fs::create_dir_all(&options.data_dir).map_err(|source| NodeError::Io {
        what: format!("creating {}", options.data_dir.display()),
        source,
    })?;
    let wallet_file = options.data_dir.join(WALLET_FILE);
    let wallet = load_or_create(wallet_file.clone())?;
    let recipient = load_or_create(options.data_dir.join(RECIPIENT_FILE))?.address();
    let config = NodeConfig {
        network: Network::Devnet.to_string(),
        data_dir: options.data_dir.clone(),
        api_addr: options.api_addr,
        miner_threads: options.miner_threads,
        payout_address: Some(wallet.address().to_bech32(Network::Devnet)),
        ..NodeConfig::default()
    };
    let mut node = RunningNode::start(&config).await?;
    let start_height = node.handle.chain().height().0;
    let max_height = options.blocks.map(|n| Height(start_height + n));
    on_event(DevnetEvent::Started {
        data_dir: options.data_dir.clone(),
        api_addr: node.api_addr,
        wallet_file,
        wallet_address: wallet.address().to_bech32(Network::Devnet),
        height: start_height,
    });
    let mut events = node.handle.subscribe();
    let done_already = max_height.is_some_and(|m| m.0 <= start_height);
    if !done_already {
        node.start_miner(wallet.address(), max_height);
    }
    let stats = node.miner_stats();
    let started = Instant::now();
    let mut reported = start_height;
    let mut done = done_already;
    if done {
        on_event(DevnetEvent::Done {
            height: start_height,
        });
    }
    tokio::pin!(shutdown);
    while !(done && options.exit_when_done) {
        tokio::select! {
            _ = &mut shutdown => break,
            changed = events.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
        let tip = events.borrow_and_update().height.0;
        let hash_rate = stats.as_ref().map_or(0.0, |s| {
            s.hashes.load(std::sync::atomic::Ordering::Relaxed) as f64
                / started.elapsed().as_secs_f64().max(1e-3)
        });
        while reported < tip {
            reported += 1;
            let (hash, txs, balance) = {
                let chain = node.handle.chain();
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
                if let Some(txid) = send_demo_transfer(&node, &wallet, recipient) {
                    on_event(DevnetEvent::Transfer {
                        txid,
                        amount: TRANSFER_AMOUNT,
                    });
                }
            }
        }
        if !done && max_height.is_some_and(|m| tip >= m.0) {
            node.stop_miner();
            done = true;
            on_event(DevnetEvent::Done { height: tip });
        }
    }
    node.shutdown().await;
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
