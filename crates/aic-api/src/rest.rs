//! REST bodies under `/api/v1`.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/status`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Status {
    /// Network name.
    pub network: String,
    /// Tip height.
    pub height: u64,
    /// Tip hash (display order).
    pub tip_hash: String,
    /// Tip bits, 8 hex digits.
    pub bits: String,
    /// Tip difficulty relative to the network's easiest target.
    pub difficulty: f64,
    /// Bits the next block must carry.
    pub next_bits: String,
    /// Cumulative chain work, hex.
    pub chain_work: String,
    /// State root after the tip (internal byte order hex).
    pub state_root: String,
    /// Transactions in the mempool.
    pub mempool_size: usize,
    /// Encoded bytes in the mempool.
    pub mempool_bytes: usize,
}

/// A transaction as JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tx {
    /// Txid (display order).
    pub txid: String,
    /// Canonical bytes, hex.
    pub hex: String,
    /// `coinbase`, `transfer`, or a market action (`register-provider`, `top-up-stake`,
    /// `unstake`, `withdraw-stake`, `publish-model`, `publish-dataset`, `post-job`,
    /// `cancel-job`, `bid`, `submit-result`, `verdict`).
    pub kind: String,
    /// Sender address (transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Recipient address (transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Amount moved out of the sender's balance, base units (transfers, stakes, budgets).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_units: Option<u64>,
    /// Fee, base units (transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fee_units: Option<u64>,
    /// Sender nonce (transfers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<u64>,
    /// Coinbase payouts.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub payouts: Vec<Payout>,
    /// The job a market action is about, or a posting creates (hex in byte order, as
    /// `/api/v1/market/jobs/{id}` takes it).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub job: Option<String>,
    /// Containing block (display order), absent while in the mempool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_hash: Option<String>,
    /// Containing block height.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_height: Option<u64>,
}

/// A coinbase payout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payout {
    /// Receiving address.
    pub to: String,
    /// Amount, base units.
    pub amount_units: u64,
}

/// `GET /api/v1/blocks/{height-or-hash}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Block {
    /// Block hash (display order).
    pub hash: String,
    /// Height.
    pub height: u64,
    /// The 80 header bytes, hex.
    pub header_hex: String,
    /// Header version.
    pub version: i32,
    /// Previous block hash (display order).
    pub prev_hash: String,
    /// Merkle root (display order).
    pub merkle_root: String,
    /// Header time.
    pub time: u32,
    /// Bits, 8 hex digits.
    pub bits: String,
    /// Nonce.
    pub nonce: u32,
    /// Encoded block size in bytes.
    pub size: usize,
    /// True if on the main chain.
    pub main_chain: bool,
    /// Transactions, coinbase first.
    pub txs: Vec<Tx>,
}

/// `POST /api/v1/txs` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitTx {
    /// Hex of the signed transaction's canonical bytes.
    pub hex: String,
}

/// `POST /api/v1/txs` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submitted {
    /// Txid (display order).
    pub txid: String,
}

/// `POST /api/v1/blocks` request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubmitBlock {
    /// Hex of the block bytes (header, CompactSize count, transactions).
    pub hex: String,
}

/// `POST /api/v1/blocks` answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockAccepted {
    /// Block hash (display order).
    pub hash: String,
    /// Its height.
    pub height: u64,
    /// True if it is now the tip; false if it was stored on a side chain.
    pub is_tip: bool,
    /// Main-chain blocks undone to switch to it.
    pub reorg_depth: u64,
}

/// `GET /api/v1/accounts/{address}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The address.
    pub address: String,
    /// Confirmed balance, base units.
    pub balance_units: u64,
    /// Confirmed balance in AIC, decimal.
    pub balance: String,
    /// Confirmed nonce.
    pub nonce: u64,
    /// The nonce a new transaction should use, counting the mempool.
    pub next_nonce: u64,
}

/// Every 4xx and 5xx answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code, kebab-case (`bad-signature`, `not-found`, ...).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
}

/// `PUT /api/v1/blobs/{id}`: the blob is stored (201) or was already there (200).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobStored {
    /// The blob id: BLAKE3 of the bytes, 64 lowercase hex digits.
    pub id: String,
    /// Its size in bytes.
    pub bytes: u64,
}
