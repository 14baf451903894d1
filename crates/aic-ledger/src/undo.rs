//! Undo data: what a block changed, so that a reorg can take it back.

use aic_primitives::{Address, CompactSize, Decode, DecodeError, Encode, Reader};

use crate::account::Account;
use crate::market::{Record, RecordKey};

/// The state of every account and market record a block touched, as it was before the block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockUndo {
    /// Previous state per touched account (empty accounts stand for absent ones).
    pub previous: Vec<(Address, Account)>,
    /// Previous state per touched market record (`None`: absent).
    pub records: Vec<(RecordKey, Option<Record>)>,
}

impl Encode for BlockUndo {
    fn encode_to(&self, out: &mut Vec<u8>) {
        CompactSize(self.previous.len() as u64).encode_to(out);
        for (addr, acct) in &self.previous {
            addr.encode_to(out);
            acct.encode_to(out);
        }
        CompactSize(self.records.len() as u64).encode_to(out);
        for (key, record) in &self.records {
            key.encode_to(out);
            match record {
                None => out.push(0),
                Some(r) => {
                    out.push(1);
                    let bytes = r.to_bytes();
                    CompactSize(bytes.len() as u64).encode_to(out);
                    out.extend_from_slice(&bytes);
                }
            }
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
        let n = r.read_count("undo records", u64::MAX, 22)?;
        let mut records = Vec::with_capacity(n);
        for _ in 0..n {
            let key = RecordKey::decode_from(r)?;
            let record = match r.read_u8()? {
                0 => None,
                1 => {
                    let len = r.read_count("record bytes", u64::MAX, 1)?;
                    Some(Record::from_bytes(&key, r.read_slice(len)?)?)
                }
                tag => {
                    return Err(DecodeError::UnknownTag {
                        what: "undo record flag",
                        tag,
                    })
                }
            };
            records.push((key, record));
        }
        Ok(BlockUndo { previous, records })
    }
}
