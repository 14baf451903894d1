//! Explorer bodies under `/api/v1`: block and transaction lists, an account's history, the
//! difficulty and hash-rate series, and search. What the dashboard (and any explorer) reads.

use serde::{Deserialize, Serialize};

use crate::rest::Tx;

/// A block without its transactions: one row of a block list, and the body of a `tip` event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockSummary {
    /// Block hash (display order).
    pub hash: String,
    /// Height.
    pub height: u64,
    /// Previous block hash (display order).
    pub prev_hash: String,
    /// Header time, Unix seconds.
    pub time: u32,
    /// Bits, 8 hex digits.
    pub bits: String,
    /// Difficulty relative to the network's easiest target.
    pub difficulty: f64,
    /// Transactions, the coinbase included.
    pub tx_count: usize,
    /// Encoded block size in bytes.
    pub size: usize,
    /// The coinbase's first payout address: who mined it (absent if it pays no one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub miner: Option<String>,
    /// Everything the coinbase pays (subsidy and fees), base units.
    pub reward_units: u64,
}

/// `GET /api/v1/blocks?before=HEIGHT&limit=N`: main-chain blocks, newest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockList {
    /// Tip height when the list was made.
    pub tip_height: u64,
    /// The blocks, highest first.
    pub blocks: Vec<BlockSummary>,
    /// `before` for the next (older) page; absent when genesis is on this page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// `GET /api/v1/txs?limit=N`: mempool transactions, then the latest confirmed ones.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxList {
    /// Transactions: pending first (no `block_height`), then confirmed, newest first.
    pub txs: Vec<Tx>,
}

/// A transaction in an account's history, with what it did to the account's balance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountTx {
    /// The transaction.
    #[serde(flatten)]
    pub tx: Tx,
    /// Change of the account's balance, base units: received minus sent minus fee.
    pub delta_units: i64,
}

/// `GET /api/v1/accounts/{address}/txs?before=HEIGHT&limit=N`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AccountHistory {
    /// The address.
    pub address: String,
    /// Mempool transactions from or to it (first page only).
    pub pending: Vec<AccountTx>,
    /// Confirmed transactions from or to it, newest first; a block's are never split
    /// between pages, so a page may hold a few more than `limit`.
    pub txs: Vec<AccountTx>,
    /// Highest height this page looked at.
    pub scanned_from: u64,
    /// Lowest height this page looked at.
    pub scanned_to: u64,
    /// `before` for the next (older) page; absent when the scan reached genesis.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<u64>,
}

/// One block of `GET /api/v1/chain/series`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// Height.
    pub height: u64,
    /// Header time, Unix seconds.
    pub time: u32,
    /// Bits, 8 hex digits.
    pub bits: String,
    /// Difficulty relative to the network's easiest target.
    pub difficulty: f64,
    /// Seconds since the parent's header time (may be negative: header times are not ordered).
    pub interval_secs: i64,
    /// Estimated network hash rate, hashes per second: the work of the last `window` blocks
    /// over the time they span.
    pub hash_rate: f64,
}

/// `GET /api/v1/chain/series?blocks=N`: difficulty and hash rate over the last blocks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainSeries {
    /// Blocks averaged per hash-rate estimate.
    pub window: u64,
    /// Oldest first, ending at the tip.
    pub points: Vec<SeriesPoint>,
}

/// `GET /api/v1/search?q=...`: what the query names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResult {
    /// `block`, `tx` or `account`.
    pub kind: String,
    /// Block hash, txid or address.
    pub id: String,
    /// The block's height (blocks), or the containing block's (confirmed transactions).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u64>,
}
