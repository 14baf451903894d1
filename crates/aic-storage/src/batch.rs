//! Index records and the unit of atomic writes.

use aic_primitives::{
    Address, BlockHeader, Decode, DecodeError, Encode, Hash256, Height, Reader, Work, U256,
};

/// What is known of a stored block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockStatus {
    /// Header and structure valid; state not yet checked (a side-chain block).
    Valid,
    /// Breaks a stateful rule; never to be connected.
    Invalid,
}

/// A block index record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    /// The header.
    pub header: BlockHeader,
    /// Height of the block.
    pub height: Height,
    /// Cumulative work of the chain ending at this block.
    pub chain_work: Work,
    /// Validity.
    pub status: BlockStatus,
}

impl Encode for IndexEntry {
    fn encode_to(&self, out: &mut Vec<u8>) {
        self.header.encode_to(out);
        out.extend_from_slice(&self.height.0.to_le_bytes());
        out.extend_from_slice(&self.chain_work.0.to_little_endian());
        out.push(match self.status {
            BlockStatus::Valid => 0,
            BlockStatus::Invalid => 1,
        });
    }
}

impl Decode for IndexEntry {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let header = BlockHeader::decode_from(r)?;
        let height = Height(r.read_u64()?);
        let chain_work = Work(U256::from_little_endian(&r.read_array::<32>()?));
        let status = match r.read_u8()? {
            0 => BlockStatus::Valid,
            1 => BlockStatus::Invalid,
            tag => {
                return Err(DecodeError::UnknownTag {
                    what: "block status",
                    tag,
                })
            }
        };
        Ok(IndexEntry {
            header,
            height,
            chain_work,
            status,
        })
    }
}

/// Everything one chain update writes, committed in one transaction.
#[derive(Debug, Default)]
pub struct WriteBatch {
    /// New blocks: hash, canonical bytes, index record.
    pub new_blocks: Vec<(Hash256, Vec<u8>, IndexEntry)>,
    /// Index records to overwrite (status changes).
    pub index_updates: Vec<(Hash256, IndexEntry)>,
    /// Main-chain blocks taken off, tip first: hash, height, txids.
    pub disconnected: Vec<(Hash256, Height, Vec<Hash256>)>,
    /// Blocks put on the main chain, lowest first: hash, height, txids, encoded undo data.
    pub connected: Vec<(Hash256, Height, Vec<Hash256>, Vec<u8>)>,
    /// Final encoded state of every account touched; empty bytes delete the account.
    pub accounts: Vec<(Address, Vec<u8>)>,
    /// Final encoded state of every market record touched (encoded key, encoded record);
    /// empty bytes delete the record.
    pub records: Vec<(Vec<u8>, Vec<u8>)>,
    /// The new tip, if it changed.
    pub tip: Option<Hash256>,
}

impl WriteBatch {
    /// True when the batch writes nothing.
    pub fn is_empty(&self) -> bool {
        self.new_blocks.is_empty()
            && self.index_updates.is_empty()
            && self.disconnected.is_empty()
            && self.connected.is_empty()
            && self.accounts.is_empty()
            && self.records.is_empty()
            && self.tip.is_none()
    }
}
