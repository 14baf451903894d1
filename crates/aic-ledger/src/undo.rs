//! Undo data: what a block changed, so that a reorg can take it back.

use aic_primitives::{Address, CompactSize, Decode, DecodeError, Encode, Reader};

use crate::account::Account;

/// The state of every account a block touched, as it was before the block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockUndo {
    /// Previous state per touched account (empty accounts stand for absent ones).
    pub previous: Vec<(Address, Account)>,
}

impl Encode for BlockUndo {
    fn encode_to(&self, out: &mut Vec<u8>) {
        CompactSize(self.previous.len() as u64).encode_to(out);
        for (addr, acct) in &self.previous {
            addr.encode_to(out);
            acct.encode_to(out);
        }
    }
}

impl Decode for BlockUndo {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let n = r.read_count("undo entries", u64::MAX, 36)?;
        let mut previous = Vec::with_capacity(n);
        for _ in 0..n {
            previous.push((Address::decode_from(r)?, Account::decode_from(r)?));
        }
        Ok(BlockUndo { previous })
    }
}
