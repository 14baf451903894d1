//! The 80-byte block header, laid out exactly as Bitcoin's.

use crate::encode::{Decode, DecodeError, Encode, Reader};
use crate::hash::{sha256d, Hash256};
use crate::target::CompactTarget;

/// A block header: Bitcoin's 80-byte layout, so any SHA-256d miner can work on it.
///
/// # Consensus
/// Fields are little-endian in the order version, previous hash, merkle root, time, bits,
/// nonce; the block hash is SHA-256d of those 80 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockHeader {
    /// Block version; miners may roll the bits that BIP 310 allows.
    pub version: i32,
    /// Hash of the previous block.
    pub prev_hash: Hash256,
    /// Merkle root of the block's transaction ids.
    pub merkle_root: Hash256,
    /// Seconds since the Unix epoch.
    pub time: u32,
    /// The proof-of-work target in compact form.
    pub bits: CompactTarget,
    /// The nonce miners search over.
    pub nonce: u32,
}

impl BlockHeader {
    /// Size of an encoded header.
    pub const SIZE: usize = 80;

    /// The 80 header bytes.
    pub fn to_array(&self) -> [u8; 80] {
        let mut out = [0u8; 80];
        out[0..4].copy_from_slice(&self.version.to_le_bytes());
        out[4..36].copy_from_slice(self.prev_hash.as_bytes());
        out[36..68].copy_from_slice(self.merkle_root.as_bytes());
        out[68..72].copy_from_slice(&self.time.to_le_bytes());
        out[72..76].copy_from_slice(&self.bits.0.to_le_bytes());
        out[76..80].copy_from_slice(&self.nonce.to_le_bytes());
        out
    }

    /// The block hash: SHA-256d of the 80 header bytes.
    pub fn hash(&self) -> Hash256 {
        sha256d(&self.to_array())
    }
}

impl Encode for BlockHeader {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_array());
    }
}

impl Decode for BlockHeader {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(BlockHeader {
            version: r.read_u32()? as i32,
            prev_hash: Hash256(r.read_array()?),
            merkle_root: Hash256(r.read_array()?),
            time: r.read_u32()?,
            bits: CompactTarget(r.read_u32()?),
            nonce: r.read_u32()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bitcoin's genesis header hashes to its well-known id, so the layout is Bitcoin's.
    #[test]
    fn bitcoin_genesis_header_hash() {
        let header = BlockHeader {
            version: 1,
            prev_hash: Hash256::ZERO,
            merkle_root: "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
                .parse()
                .unwrap(),
            time: 1231006505,
            bits: CompactTarget(0x1d00ffff),
            nonce: 2083236893,
        };
        assert_eq!(
            header.hash().to_string(),
            "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f"
        );
        assert_eq!(BlockHeader::from_bytes(&header.to_bytes()), Ok(header));
    }
}
