//! Block templates: what a miner needs to build the next block.

use aic_primitives::{
    merkle_root, Amount, Block, BlockHeader, Coinbase, CompactTarget, Hash256, Height, SignedTx,
    Transaction,
};

/// The next block, less its proof of work: a miner fills in the extranonce, time and nonce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockTemplate {
    /// Header version.
    pub version: i32,
    /// Height of the block.
    pub height: Height,
    /// The tip it builds on.
    pub prev_hash: Hash256,
    /// Required bits.
    pub bits: CompactTarget,
    /// Earliest valid time (median time past + 1).
    pub min_time: u32,
    /// Suggested time: the node's clock, or `min_time` if later.
    pub cur_time: u32,
    /// The coinbase, with a zero extranonce.
    pub coinbase: Coinbase,
    /// Transactions after the coinbase.
    pub txs: Vec<SignedTx>,
    /// Sum of their fees.
    pub fees: Amount,
}

impl BlockTemplate {
    /// The coinbase with `extranonce` filled in.
    pub fn coinbase_with(&self, extranonce: [u8; 8]) -> Transaction {
        Transaction::Coinbase(Coinbase {
            extranonce,
            ..self.coinbase.clone()
        })
    }

    /// Txids of the non-coinbase transactions, in block order.
    pub fn txids(&self) -> Vec<Hash256> {
        self.txs.iter().map(SignedTx::txid).collect()
    }

    /// The header for `extranonce`, `time` and `nonce`, with the merkle root computed.
    pub fn header(&self, extranonce: [u8; 8], time: u32, nonce: u32) -> BlockHeader {
        let mut ids = vec![self.coinbase_with(extranonce).txid()];
        ids.extend(self.txids());
        BlockHeader {
            version: self.version,
            prev_hash: self.prev_hash,
            merkle_root: merkle_root(&ids).0,
            time,
            bits: self.bits,
            nonce,
        }
    }

    /// The full block for a header made by [`BlockTemplate::header`] with `extranonce`.
    pub fn assemble(&self, extranonce: [u8; 8], header: BlockHeader) -> Block {
        let mut txs = Vec::with_capacity(self.txs.len() + 1);
        txs.push(self.coinbase_with(extranonce));
        txs.extend(self.txs.iter().cloned().map(Transaction::Signed));
        Block { header, txs }
    }
}
