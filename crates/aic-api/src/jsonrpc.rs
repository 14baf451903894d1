//! Bitcoin-style JSON-RPC envelopes and BIP 22 template bodies.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON-RPC request (1.0 or 2.0; `params` may be absent).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Protocol version, if given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jsonrpc: Option<String>,
    /// Echoed back.
    #[serde(default)]
    pub id: Value,
    /// Method name.
    pub method: String,
    /// Positional parameters.
    #[serde(default)]
    pub params: Value,
}

/// A JSON-RPC answer, Bitcoin Core style: `result` and `error`, one of them null.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// The result, null on error.
    pub result: Value,
    /// The error, null on success.
    pub error: Option<RpcError>,
    /// The request's id.
    pub id: Value,
}

/// A JSON-RPC error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    /// Bitcoin Core's error code.
    pub code: i64,
    /// Message.
    pub message: String,
}

/// Bitcoin Core's `RPC_METHOD_NOT_FOUND`.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Bitcoin Core's `RPC_INVALID_PARAMS`.
pub const INVALID_PARAMS: i64 = -32602;
/// Bitcoin Core's `RPC_PARSE_ERROR`.
pub const PARSE_ERROR: i64 = -32700;
/// Bitcoin Core's `RPC_INVALID_PARAMETER`.
pub const INVALID_PARAMETER: i64 = -8;
/// Bitcoin Core's `RPC_DESERIALIZATION_ERROR`.
pub const DESERIALIZATION_ERROR: i64 = -22;
/// Bitcoin Core's `RPC_MISC_ERROR`.
pub const MISC_ERROR: i64 = -1;

/// A transaction in a template (BIP 22).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TemplateTx {
    /// Canonical bytes, hex.
    pub data: String,
    /// Txid (display order).
    pub txid: String,
    /// Same as `txid` (this chain has no witness data).
    pub hash: String,
    /// Fee in base units.
    pub fee: u64,
    /// Indexes (1-based) of template transactions this one depends on.
    pub depends: Vec<usize>,
}

/// `getblocktemplate` result (BIP 22 and 23).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BlockTemplate {
    /// Capabilities: `["proposal"]` is not offered; this lists none.
    pub capabilities: Vec<String>,
    /// Header version.
    pub version: i32,
    /// Previous block hash (display order).
    pub previousblockhash: String,
    /// Transactions after the coinbase.
    pub transactions: Vec<TemplateTx>,
    /// The coinbase, ready to hash: its extranonce (8 bytes at a fixed offset) may be changed.
    pub coinbasetxn: TemplateTx,
    /// Byte offset of the 8-byte extranonce in `coinbasetxn.data`.
    pub coinbase_extranonce_offset: usize,
    /// Total paid by the coinbase, base units.
    pub coinbasevalue: u64,
    /// Target, 64 hex digits big-endian.
    pub target: String,
    /// Earliest valid time.
    pub mintime: u32,
    /// What a miner may change.
    pub mutable: Vec<String>,
    /// Nonce range.
    pub noncerange: String,
    /// Largest block.
    pub sizelimit: usize,
    /// Suggested time.
    pub curtime: u32,
    /// Bits, 8 hex digits.
    pub bits: String,
    /// Height of the block.
    pub height: u64,
    /// Changes when the template would: the tip hash and the mempool size.
    pub longpollid: String,
}

/// `getmininginfo` result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MiningInfo {
    /// Tip height.
    pub blocks: u64,
    /// Tip difficulty.
    pub difficulty: f64,
    /// Estimated network hash rate over the last blocks, hashes per second.
    pub networkhashps: f64,
    /// Mempool transactions.
    pub pooledtx: usize,
    /// Network name.
    pub chain: String,
}
