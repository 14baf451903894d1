//! Stratum jobs made from block templates, and the shares submitted against them.

use std::sync::Arc;

use aic_chain::BlockTemplate;
use aic_primitives::{
    coinbase_merkle_branch, merkle_root_from_branch, sha256d, Block, BlockHeader, Encode, Hash256,
    Target, COINBASE_EXTRANONCE_OFFSET,
};
use serde_json::{json, Value};

/// Bytes of the pool's part of the extranonce (`extranonce1`).
pub(crate) const EXTRANONCE1_BYTES: usize = 4;
/// Bytes of the miner's part (`extranonce2`).
pub(crate) const EXTRANONCE2_BYTES: usize = 4;

/// One `mining.notify` job.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) template: Arc<BlockTemplate>,
    coinb1: Vec<u8>,
    coinb2: Vec<u8>,
    branch: Vec<Hash256>,
    /// The share target when the job was sent.
    pub(crate) share_target: Target,
    pub(crate) network_target: Target,
}

/// A share's fields as submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Submission {
    pub(crate) extranonce2: [u8; EXTRANONCE2_BYTES],
    pub(crate) ntime: u32,
    pub(crate) nonce: u32,
    pub(crate) version: u32,
}

/// Stratum's previous-hash field: the header bytes with each 4-byte word reversed.
pub(crate) fn stratum_prevhash(prev: &Hash256) -> String {
    let mut b = prev.0;
    for word in b.chunks_mut(4) {
        word.reverse();
    }
    hex::encode(b)
}

impl Job {
    pub(crate) fn new(
        id: String,
        template: Arc<BlockTemplate>,
        share_target: Target,
    ) -> Option<Job> {
        let coinbase = template.coinbase_with([0; 8]).to_bytes();
        let split = COINBASE_EXTRANONCE_OFFSET;
        let coinb1 = coinbase.get(..split)?.to_vec();
        let coinb2 = coinbase.get(split + 8..)?.to_vec();
        let branch = coinbase_merkle_branch(&template.txids());
        let network_target = template.bits.to_target().ok()?;
        Some(Job {
            id,
            template,
            coinb1,
            coinb2,
            branch,
            share_target,
            network_target,
        })
    }

    /// The `mining.notify` parameters.
    pub(crate) fn notify_params(&self, clean: bool) -> Value {
        let t = &self.template;
        json!([
            self.id,
            stratum_prevhash(&t.prev_hash),
            hex::encode(&self.coinb1),
            hex::encode(&self.coinb2),
            self.branch.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
            format!("{:08x}", t.version as u32),
            format!("{:08x}", t.bits.0),
            format!("{:08x}", t.cur_time),
            clean,
        ])
    }

    /// The header and the coinbase's full extranonce for a submission.
    pub(crate) fn header(
        &self,
        extranonce1: &[u8; EXTRANONCE1_BYTES],
        s: &Submission,
    ) -> (BlockHeader, [u8; 8]) {
        let mut extranonce = [0u8; 8];
        extranonce[..4].copy_from_slice(extranonce1);
        extranonce[4..].copy_from_slice(&s.extranonce2);
        let mut coinbase = Vec::with_capacity(self.coinb1.len() + 8 + self.coinb2.len());
        coinbase.extend_from_slice(&self.coinb1);
        coinbase.extend_from_slice(&extranonce);
        coinbase.extend_from_slice(&self.coinb2);
        let root = merkle_root_from_branch(sha256d(&coinbase), &self.branch);
        let header = BlockHeader {
            version: s.version as i32,
            prev_hash: self.template.prev_hash,
            merkle_root: root,
            time: s.ntime,
            bits: self.template.bits,
            nonce: s.nonce,
        };
        (header, extranonce)
    }

    /// The block for an accepted share that meets the network target.
    pub(crate) fn block(&self, header: BlockHeader, extranonce: [u8; 8]) -> Block {
        self.template.assemble(extranonce, header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prevhash_words_are_reversed_as_the_recorded_miner_expects() {
        // From the recorded session: notify prevhash vs the header bytes the miner built.
        let header_prev =
            Hash256::from_hex("63bf28417b38570f415be2007eb71b9d36407e66e8fed8a75601000000000000")
                .unwrap();
        assert_eq!(
            stratum_prevhash(&header_prev),
            "4128bf630f57387b00e25b419d1bb77e667e4036a7d8fee80000015600000000"
        );
    }
}
