//! Why the mempool refuses a transaction.

use aic_primitives::{Address, Amount, Hash256};

/// Why [`Mempool::insert`](super::Mempool::insert) refused a transaction.
///
/// Every variant is a pool policy; signatures and chain ids are the caller's to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MempoolError {
    /// The transaction is already in the pool.
    #[error("transaction {0} is already in the mempool")]
    AlreadyKnown(Hash256),
    /// The fee per encoded byte is below the pool's minimum.
    #[error("fee rate {got} units/byte is below the minimum of {min} units/byte")]
    FeeRateTooLow {
        /// The minimum fee rate, in base units per encoded byte.
        min: u64,
        /// The transaction's fee rate, rounded down.
        got: u64,
    },
    /// The transaction alone is larger than the whole pool may hold.
    #[error("transaction of {size} bytes exceeds the mempool's {max} bytes")]
    TooLarge {
        /// Encoded size of the transaction.
        size: usize,
        /// The pool's byte limit.
        max: usize,
    },
    /// The nonce was already used by the account.
    #[error("nonce {got} is below the account nonce {expected_at_least}")]
    NonceTooLow {
        /// The account's next nonce.
        expected_at_least: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The nonce would leave a gap after the sender's pending transactions.
    #[error("nonce {got} leaves a gap: the sender's next nonce is {expected}")]
    NonceGap {
        /// The only nonce that would extend the sender's pending chain.
        expected: u64,
        /// The transaction's nonce.
        got: u64,
    },
    /// The sender already has the maximum number of pending transactions.
    #[error("sender {sender:?} already has {max} pending transactions, the limit")]
    SenderLimit {
        /// The sender's address.
        sender: Address,
        /// Pending transactions allowed per sender.
        max: usize,
    },
    /// The sender's balance does not cover all of its pending spends.
    #[error(
        "balance {available} does not cover the {needed} the sender's pending transactions spend"
    )]
    InsufficientBalance {
        /// Sum of amount plus fee over the sender's pending transactions, this one included.
        needed: Amount,
        /// The sender's balance.
        available: Amount,
    },
    /// Amount plus fee, summed over the sender's pending transactions, overflows an [`Amount`].
    #[error("the sender's pending spends overflow the amount range")]
    SpendOverflow,
    /// A replacement does not raise the fee enough over the transaction it replaces.
    #[error("replacement fee {got} is below the required {min_fee} (replaced fee {old_fee})")]
    ReplacementUnderpriced {
        /// Fee of the pending transaction with the same sender and nonce.
        old_fee: Amount,
        /// The least fee a replacement must pay.
        min_fee: Amount,
        /// The replacement's fee.
        got: Amount,
    },
    /// The pool is full and the transaction's fee rate is too low to evict enough others.
    #[error("mempool full: a fee rate of at least {min_fee_rate_to_enter} units/byte is needed to enter")]
    PoolFull {
        /// The least fee rate (base units per byte) that would have made room; `u64::MAX`
        /// when no fee rate can, because only the sender's own transactions could make room.
        min_fee_rate_to_enter: u64,
    },
}
