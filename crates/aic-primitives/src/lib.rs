//! Primitive types of the AIC chain.
//!
//! Everything here is pure data: newtypes for money, heights, hashes and difficulty targets,
//! ed25519 keys, bech32m addresses, the Bitcoin-compatible 80-byte block header, transactions,
//! blocks, the one canonical binary encoding they share, and the [`ChainParams`] of each network.
//!
//! # Invariants
//! - No IO, no clock, no global state: chain parameters are values passed explicitly.
//! - Every wire type round-trips through [`Encode`]/[`Decode`], and decoding never allocates
//!   more than the input could possibly hold.

mod address;
mod amount;
mod block;
mod encode;
mod hash;
mod header;
mod height;
mod keys;
mod market;
mod params;
mod target;
mod tx;

pub use address::{Address, AddressError};
pub use amount::{Amount, AmountParseError};
pub use block::{coinbase_merkle_branch, merkle_root, merkle_root_from_branch, Block};
pub use encode::{CompactSize, Decode, DecodeError, Encode, Reader};
pub use hash::{sha256, sha256d, Hash256, HashParseError};
pub use header::BlockHeader;
pub use height::Height;
pub use keys::{verify_batch, KeyError, PublicKey, SecretKey, Signature};
pub use market::{
    decode_named_values, decode_str, encode_named_values, encode_str, ContentId,
    DatasetPublication, DeviceClass, DeviceSummary, JobId, JobKind, JobSpec, MarketAction,
    ModelPublication, ParamSpec, ProviderRegistration, ResultCommit, VerificationPolicy,
    FIXED_POINT_SCALE, MAX_ENDPOINT_BYTES, MAX_LABEL_BYTES, MAX_METRICS, MAX_PARAMS,
};
pub use params::{ChainParams, MarketParams, Network, NetworkParseError, ServiceTier};
pub use target::{CompactTarget, CompactTargetError, Target, Work, U256};
pub use tx::{
    Action, Coinbase, Payout, SignedTx, Transaction, TxBody, COINBASE_EXTRANONCE_OFFSET,
    MAX_COINBASE_PAYOUTS,
};
