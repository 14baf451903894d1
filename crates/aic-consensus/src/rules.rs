//! Header, block and transaction validity rules that need no account state.

use aic_primitives::{
    merkle_root, Amount, Block, BlockHeader, ChainParams, Coinbase, CompactTarget, Hash256, Height,
    SignedTx, Transaction,
};

use crate::error::{BlockError, TxError};
use crate::pow::check_pow;
use crate::signatures::verify_signatures;

/// What a header is checked against: facts about its parent chain and the node's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderContext {
    /// The bits ASERT requires at this height.
    pub expected_bits: CompactTarget,
    /// Median time of the previous eleven blocks.
    pub median_time_past: u32,
    /// The validating node's clock, in Unix seconds.
    pub now: u64,
}

/// Checks a header's version, difficulty, proof of work and time.
///
/// # Consensus
/// - `version` is at least 1 ([`BlockError::BadVersion`]);
/// - `bits` equals the ASERT target for its height ([`BlockError::BadBits`]);
/// - the hash meets it ([`BlockError::HighHash`]);
/// - `time` is above the median time past ([`BlockError::TimeTooOld`]) and at most
///   `max_future_block_secs` ahead of `now` ([`BlockError::TimeTooNew`]).
pub fn check_header(
    params: &ChainParams,
    header: &BlockHeader,
    ctx: &HeaderContext,
) -> Result<(), BlockError> {
    if header.version < 1 {
        return Err(BlockError::BadVersion(header.version));
    }
    if header.bits != ctx.expected_bits {
        return Err(BlockError::BadBits {
            expected: ctx.expected_bits,
            got: header.bits,
        });
    }
    check_pow(header, params.pow_limit)?;
    if header.time <= ctx.median_time_past {
        return Err(BlockError::TimeTooOld {
            time: header.time,
            median_time_past: ctx.median_time_past,
        });
    }
    let max = ctx.now.saturating_add(params.max_future_block_secs);
    if u64::from(header.time) > max {
        return Err(BlockError::TimeTooNew {
            time: header.time,
            max,
        });
    }
    Ok(())
}

/// Checks everything about a block's body that needs no account state: size and count limits,
/// the coinbase (first, only one, right height), the merkle root, and every transaction's
/// stateless rules including its signature.
///
/// `encoded_len` is the size of the block's canonical encoding.
pub fn check_block_structure(
    params: &ChainParams,
    block: &Block,
    height: Height,
    encoded_len: usize,
) -> Result<(), BlockError> {
    check_block_structure_with(params, block, height, encoded_len, &|_| false)
}

/// [`check_block_structure`], skipping the signature check of every transaction whose txid
/// `verified` says was already checked (a signature cache: the txid commits to the signature,
/// so the same txid means the same signed bytes).
pub fn check_block_structure_with(
    params: &ChainParams,
    block: &Block,
    height: Height,
    encoded_len: usize,
    verified: &dyn Fn(&Hash256) -> bool,
) -> Result<(), BlockError> {
    if encoded_len > params.max_block_bytes {
        return Err(BlockError::TooLarge {
            bytes: encoded_len,
            max: params.max_block_bytes,
        });
    }
    if block.txs.len() > params.max_block_txs {
        return Err(BlockError::TooManyTxs {
            count: block.txs.len(),
            max: params.max_block_txs,
        });
    }
    let coinbase = block
        .txs
        .first()
        .and_then(Transaction::as_coinbase)
        .ok_or(BlockError::NoCoinbase)?;
    if let Some(index) = block
        .txs
        .iter()
        .skip(1)
        .position(|t| t.as_coinbase().is_some())
    {
        return Err(BlockError::MultipleCoinbases { index: index + 1 });
    }
    if coinbase.height != height {
        return Err(BlockError::CoinbaseHeight {
            expected: height,
            got: coinbase.height,
        });
    }
    let ids: Vec<Hash256> = block.txs.iter().map(Transaction::txid).collect();
    let (computed, mutated) = merkle_root(&ids);
    if mutated {
        return Err(BlockError::DuplicateTx);
    }
    if computed != block.header.merkle_root {
        return Err(BlockError::BadMerkleRoot {
            header: block.header.merkle_root,
            computed,
        });
    }
    let mut unverified: Vec<(usize, &SignedTx)> = Vec::with_capacity(block.txs.len());
    for (index, tx) in block.txs.iter().enumerate().skip(1) {
        let Some(tx) = tx.as_signed() else { continue };
        check_tx_stateless(params, tx).map_err(|error| BlockError::Tx { index, error })?;
        if !ids.get(index).is_some_and(verified) {
            unverified.push((index, tx));
        }
    }
    let refs: Vec<&SignedTx> = unverified.iter().map(|(_, t)| *t).collect();
    verify_signatures(&refs).map_err(|(i, error)| BlockError::Tx {
        index: unverified.get(i).map_or(0, |(index, _)| *index),
        error,
    })
}

/// Checks a transaction's rules that need no state and no signature check: its chain id and
/// that amount plus fee does not overflow.
pub fn check_tx_stateless(params: &ChainParams, tx: &SignedTx) -> Result<(), TxError> {
    if tx.body.chain_id != params.chain_id {
        return Err(TxError::WrongChainId {
            expected: params.chain_id,
            got: tx.body.chain_id,
        });
    }
    tx.body
        .action
        .spend()
        .checked_add(tx.body.fee)
        .ok_or(TxError::ValueOverflow)?;
    Ok(())
}

/// Checks that the coinbase pays at most the subsidy at `height` plus `fees`.
pub fn check_coinbase_value(
    params: &ChainParams,
    coinbase: &Coinbase,
    height: Height,
    fees: Amount,
) -> Result<(), BlockError> {
    let max = params
        .subsidy(height)
        .checked_add(fees)
        .unwrap_or(Amount::from_units(u64::MAX));
    match coinbase.total_paid() {
        Some(paid) if paid <= max => Ok(()),
        paid => Err(BlockError::CoinbaseValueTooHigh { paid, max }),
    }
}

/// Checks that the coinbase commits to `computed`, the state root after the block.
pub fn check_state_root(coinbase: &Coinbase, computed: Hash256) -> Result<(), BlockError> {
    if coinbase.state_root != computed {
        return Err(BlockError::StateRootMismatch {
            committed: coinbase.state_root,
            computed,
        });
    }
    Ok(())
}
