//! Stratum jobs (made from block templates, or given in wire form), and the shares submitted
//! against them.

use std::sync::Arc;

use aic_chain::BlockTemplate;
use aic_primitives::{
    coinbase_merkle_branch, merkle_root_from_branch, sha256d, Block, BlockHeader, CompactTarget,
    Encode, Hash256, Target, COINBASE_EXTRANONCE_OFFSET,
};
use serde_json::{json, Value};

use super::given::GivenJobError;

/// Bytes of the pool's part of the extranonce (`extranonce1`).
pub(crate) const EXTRANONCE1_BYTES: usize = 4;
/// Bytes of the miner's part (`extranonce2`).
pub(crate) const EXTRANONCE2_BYTES: usize = 4;

/// Where a job came from, which decides what becomes of its stale shares and its blocks.
#[derive(Clone, Debug)]
pub(crate) enum Origin {
    /// A template of this node's chain: stale once the tip moves; a share that meets the
    /// network target is assembled into a block and submitted to the chain.
    Template(Arc<BlockTemplate>),
    /// Given in wire form ([`super::GivenJob`]): never stale, and its blocks are not this
    /// chain's, so a share that meets its network target is reported, not submitted.
    Given,
}

/// One `mining.notify` job.
#[derive(Clone, Debug)]
pub(crate) struct Job {
    pub(crate) id: String,
    pub(crate) origin: Origin,
    /// The previous block's hash in header byte order.
    prev_hash: Hash256,
    coinb1: Vec<u8>,
    coinb2: Vec<u8>,
    branch: Vec<Hash256>,
    /// Header version before any rolled bits.
    pub(crate) version: u32,
    bits: CompactTarget,
    /// Header time the job announces.
    time: u32,
    /// Earliest header time a share may carry.
    pub(crate) min_time: u32,
    /// The share target when the job was sent (the network target until
    /// [`Job::with_share_target`]).
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
    hex::encode(swap_words(prev.0))
}

/// Reverses each 4-byte word (its own inverse).
fn swap_words(mut b: [u8; 32]) -> [u8; 32] {
    for word in b.chunks_mut(4) {
        word.reverse();
    }
    b
}

impl Job {
    /// A job for `template`, its coinbase split around the 8-byte extranonce.
    pub(crate) fn from_template(id: String, template: Arc<BlockTemplate>) -> Option<Job> {
        let coinbase = template.coinbase_with([0; 8]).to_bytes();
        let split = COINBASE_EXTRANONCE_OFFSET;
        let coinb1 = coinbase.get(..split)?.to_vec();
        let coinb2 = coinbase.get(split + 8..)?.to_vec();
        let branch = coinbase_merkle_branch(&template.txids());
        let network_target = template.bits.to_target().ok()?;
        Some(Job {
            id,
            prev_hash: template.prev_hash,
            coinb1,
            coinb2,
            branch,
            version: template.version as u32,
            bits: template.bits,
            time: template.cur_time,
            min_time: template.min_time,
            share_target: network_target,
            network_target,
            origin: Origin::Template(template),
        })
    }

    /// A job from the parameters of a `mining.notify` as sent on the wire (the inverse of
    /// [`Job::notify_params`]). Its earliest share time is its own `ntime`: nothing else about
    /// the chain it extends is known.
    pub(crate) fn from_notify(params: &Value) -> Result<Job, GivenJobError> {
        let field =
            |i: usize, name: &'static str| params.get(i).ok_or(GivenJobError::MissingField(name));
        let text = |i: usize, name: &'static str| {
            field(i, name)?
                .as_str()
                .ok_or(GivenJobError::MissingField(name))
        };
        let bytes = |i: usize, name: &'static str| {
            hex::decode(text(i, name)?).map_err(|_| GivenJobError::BadHex(name))
        };
        let word = |i: usize, name: &'static str| {
            let s = text(i, name)?;
            if s.len() != 8 {
                return Err(GivenJobError::BadHex(name));
            }
            u32::from_str_radix(s, 16).map_err(|_| GivenJobError::BadHex(name))
        };
        let hash = |s: &str, name: &'static str| {
            Hash256::from_hex(s).map_err(|_| GivenJobError::BadHex(name))
        };
        let prev_hash = Hash256(swap_words(hash(text(1, "prevhash")?, "prevhash")?.0));
        let branch = field(4, "merkle_branch")?
            .as_array()
            .ok_or(GivenJobError::MissingField("merkle_branch"))?
            .iter()
            .map(|h| hash(h.as_str().unwrap_or_default(), "merkle_branch"))
            .collect::<Result<Vec<_>, _>>()?;
        let bits = CompactTarget(word(6, "nbits")?);
        let network_target = bits.to_target().map_err(GivenJobError::BadTarget)?;
        let time = word(7, "ntime")?;
        Ok(Job {
            id: text(0, "job_id")?.to_owned(),
            origin: Origin::Given,
            prev_hash,
            coinb1: bytes(2, "coinb1")?,
            coinb2: bytes(3, "coinb2")?,
            branch,
            version: word(5, "version")?,
            bits,
            time,
            min_time: time,
            share_target: network_target,
            network_target,
        })
    }

    /// The job with `target` as its share target.
    pub(crate) fn with_share_target(mut self, target: Target) -> Job {
        self.share_target = target;
        self
    }

    /// Whether shares for this job can no longer make a block on top of `tip`.
    pub(crate) fn is_stale(&self, tip: &Hash256) -> bool {
        match &self.origin {
            Origin::Template(t) => t.prev_hash != *tip,
            Origin::Given => false,
        }
    }

    /// The `mining.notify` parameters.
    pub(crate) fn notify_params(&self, clean: bool) -> Value {
        json!([
            self.id,
            stratum_prevhash(&self.prev_hash),
            hex::encode(&self.coinb1),
            hex::encode(&self.coinb2),
            self.branch.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
            format!("{:08x}", self.version),
            format!("{:08x}", self.bits.0),
            format!("{:08x}", self.time),
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
            prev_hash: self.prev_hash,
            merkle_root: root,
            time: s.ntime,
            bits: self.bits,
            nonce: s.nonce,
        };
        (header, extranonce)
    }

    /// The block for an accepted share that meets the network target; `None` for a given job,
    /// whose transactions this node does not have.
    pub(crate) fn block(&self, header: BlockHeader, extranonce: [u8; 8]) -> Option<Block> {
        match &self.origin {
            Origin::Template(t) => Some(t.assemble(extranonce, header)),
            Origin::Given => None,
        }
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

    /// The recorded pool's `mining.notify` parameters.
    fn recorded_notify() -> Value {
        json!([
            "4ca",
            "4128bf630f57387b00e25b419d1bb77e667e4036a7d8fee80000015600000000",
            "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff2503a77614048c8a145e08",
            "122f626974636f696e636c6f75642e6e65742f0000000002062c9c04000000001976a91423e020eacd64acfe093150331d44fdbcc0c7ce0688acc2eb0b00000000001976a91400bf6d61c2a34df5a9ea338fcad188c31bb4a52388ac00000000",
            [
                "59bb1fe0d2b2202f6780bfe19f9d845f8709c745f358f826b2ab02a510da070e",
                "064e57314e3f26e664ffcbc1526ac0622c044a3dd3228c964340490da8e75b8a"
            ],
            "20000000",
            "1a02b098",
            "5e148a8c",
            true
        ])
    }

    #[test]
    fn a_notify_read_from_the_wire_is_sent_back_unchanged() {
        let job = Job::from_notify(&recorded_notify()).unwrap();
        assert_eq!(job.notify_params(true), recorded_notify());
        assert_eq!(job.min_time, 0x5e14_8a8c);
        assert!(!job.is_stale(&Hash256([0; 32])));
        let share = Submission {
            extranonce2: [0; EXTRANONCE2_BYTES],
            ntime: 0x5e14_8a8c,
            nonce: 0xd083_2600,
            version: job.version,
        };
        let (header, extranonce) = job.header(&[0xf0, 0, 0, 0x0f], &share);
        assert_eq!(header.nonce, 0xd083_2600);
        assert!(job.block(header, extranonce).is_none());
    }

    #[test]
    fn each_bad_notify_field_is_named() {
        let with = |i: usize, v: Value| {
            let mut p = recorded_notify();
            p[i] = v;
            Job::from_notify(&p).unwrap_err()
        };
        assert_eq!(
            Job::from_notify(&json!(["4ca"])).unwrap_err(),
            GivenJobError::MissingField("prevhash")
        );
        assert_eq!(with(0, json!(7)), GivenJobError::MissingField("job_id"));
        assert_eq!(
            with(4, json!("59bb")),
            GivenJobError::MissingField("merkle_branch")
        );
        assert_eq!(
            with(1, json!("4128bf63")),
            GivenJobError::BadHex("prevhash")
        );
        assert_eq!(with(2, json!("0g")), GivenJobError::BadHex("coinb1"));
        assert_eq!(
            with(4, json!(["59bb"])),
            GivenJobError::BadHex("merkle_branch")
        );
        assert_eq!(with(5, json!("2000000")), GivenJobError::BadHex("version"));
        assert_eq!(with(7, json!("5e148a8x")), GivenJobError::BadHex("ntime"));
        assert!(matches!(
            with(6, json!("1a82b098")),
            GivenJobError::BadTarget(_)
        ));
    }
}
