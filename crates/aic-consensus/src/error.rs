//! One error variant per consensus rule.

use crate::market_error::MarketError;
use aic_primitives::{Amount, CompactTarget, CompactTargetError, Hash256, Height};

/// A block that breaks a consensus rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BlockError {
    /// The header version is below 1 (versions from 1 up leave room for signalling).
    #[error("block version {0} is below 1")]
    BadVersion(i32),
    /// `bits` is not the ASERT target for this height.
    #[error("bits {got:?} differ from the required {expected:?}")]
    BadBits {
        /// What ASERT requires.
        expected: CompactTarget,
        /// What the header carries.
        got: CompactTarget,
    },
    /// `bits` encodes a target easier than the network's limit.
    #[error("bits {got:?} are easier than the limit {limit:?}")]
    BitsAboveLimit {
        /// The network's easiest bits.
        limit: CompactTarget,
        /// What the header carries.
        got: CompactTarget,
    },
    /// `bits` encodes no valid target.
    #[error("invalid bits: {0}")]
    InvalidBits(CompactTargetError),
    /// The header hash is above the target.
    #[error("header hash {hash} is above the target")]
    HighHash {
        /// The header hash.
        hash: Hash256,
    },
    /// The time is not above the median of the previous eleven blocks.
    #[error("time {time} is not above the median time past {median_time_past}")]
    TimeTooOld {
        /// The header time.
        time: u32,
        /// Median of the last eleven block times.
        median_time_past: u32,
    },
    /// The time is too far ahead of the validating node's clock.
    #[error("time {time} is more than the allowed drift ahead of now (limit {max})")]
    TimeTooNew {
        /// The header time.
        time: u32,
        /// The latest time accepted.
        max: u64,
    },
    /// The encoded block is larger than the limit.
    #[error("block is {bytes} bytes, the limit is {max}")]
    TooLarge {
        /// Encoded size.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// More transactions than the limit.
    #[error("block has {count} transactions, the limit is {max}")]
    TooManyTxs {
        /// Transactions in the block.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The first transaction is not a coinbase (or there are none).
    #[error("the first transaction is not a coinbase")]
    NoCoinbase,
    /// A coinbase after the first transaction.
    #[error("transaction {index} is a second coinbase")]
    MultipleCoinbases {
        /// Position of the extra coinbase.
        index: usize,
    },
    /// The coinbase commits to another height.
    #[error("coinbase height {got} differs from the block height {expected}")]
    CoinbaseHeight {
        /// The block's height.
        expected: Height,
        /// The height in the coinbase.
        got: Height,
    },
    /// The coinbase pays more than subsidy plus fees.
    #[error("coinbase pays {paid:?} (None: overflow), at most {max} is allowed")]
    CoinbaseValueTooHigh {
        /// Sum of payouts (`None` when it overflows).
        paid: Option<Amount>,
        /// Subsidy plus fees.
        max: Amount,
    },
    /// The header's merkle root is not the root of the transactions.
    #[error("merkle root {header} differs from the computed {computed}")]
    BadMerkleRoot {
        /// Root in the header.
        header: Hash256,
        /// Root of the transactions.
        computed: Hash256,
    },
    /// The transaction list repeats a transaction (merkle mutation, CVE-2012-2459).
    #[error("the transaction list repeats a transaction")]
    DuplicateTx,
    /// The coinbase's state root is not the state after the block.
    #[error("coinbase state root {committed} differs from the computed {computed}")]
    StateRootMismatch {
        /// Root committed in the coinbase.
        committed: Hash256,
        /// Root of the state after applying the block.
        computed: Hash256,
    },
    /// A transaction breaks a rule.
    #[error("transaction {index}: {error}")]
    Tx {
        /// Position in the block.
        index: usize,
        /// The broken rule.
        error: TxError,
    },
}

/// A transaction that breaks a consensus rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// Signed for another network.
    #[error("chain id {got:#x} is not this network's {expected:#x}")]
    WrongChainId {
        /// This network's chain id.
        expected: u32,
        /// The transaction's chain id.
        got: u32,
    },
    /// The signature does not verify against the sender key.
    #[error("bad signature")]
    BadSignature,
    /// `amount + fee` overflows.
    #[error("amount plus fee overflows")]
    ValueOverflow,
    /// The nonce is not the sender account's next nonce.
    #[error("nonce {got} is not the account's next nonce {expected}")]
    BadNonce {
        /// The account's next nonce.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The sender cannot pay amount plus fee.
    #[error("insufficient balance: needs {needed}, has {available}")]
    InsufficientBalance {
        /// Amount plus fee.
        needed: Amount,
        /// The sender's balance.
        available: Amount,
    },
    /// The recipient's balance would overflow.
    #[error("recipient balance would overflow")]
    BalanceOverflow,
    /// A coinbase sent as a standalone transaction.
    #[error("a coinbase is only valid as a block's first transaction")]
    StandaloneCoinbase,
    /// A market transaction breaks a market rule.
    #[error(transparent)]
    Market(#[from] MarketError),
}
