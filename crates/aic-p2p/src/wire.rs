//! The wire messages of the AIC network: what gossip topics carry and what the request-response
//! protocols ask and answer.
//!
//! # Consensus of the wire
//! Every message has exactly one encoding (the canonical encoding of `aic-primitives`: fixed
//! little-endian integers, minimal CompactSize counts, one tag byte per enum variant, no
//! trailing bytes). Decoders take untrusted bytes and return a [`WireError`]; they never
//! panic and never allocate more than the input could hold (counts are checked against
//! both their limit and the bytes left before anything is reserved).

use aic_blob::BlobId;
use aic_primitives::{
    Block, BlockHeader, Decode, DecodeError, Encode, Hash256, Height, Reader, Transaction, Work,
    U256,
};

/// Most headers in one [`SyncResponse::Headers`].
pub const MAX_HEADERS: usize = 2_000;
/// Most hashes in one block locator.
pub const MAX_LOCATOR: usize = 64;
/// Most blocks asked for in one [`SyncRequest::Blocks`].
pub const MAX_BLOCKS_PER_REQUEST: usize = 16;
/// Most bytes of one blob chunk ([`BlobResponse::Chunk`]).
pub const MAX_BLOB_CHUNK: u32 = 1 << 20;
/// Most bytes of a market announcement's body.
pub const MAX_ANNOUNCEMENT_BYTES: usize = 64 * 1024;
/// Most bytes of one request on any request-response protocol.
pub const MAX_REQUEST_BYTES: usize = 4 + 9 + MAX_LOCATOR * 32 + 16;

/// Why bytes are not a valid wire message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The bytes are not the canonical encoding of the message.
    #[error("malformed {what}: {source}")]
    Malformed {
        /// The message being decoded.
        what: &'static str,
        /// Why.
        source: DecodeError,
    },
    /// The message is larger than its protocol allows.
    #[error("{what} of {len} bytes exceeds the limit of {max}")]
    TooLarge {
        /// The message.
        what: &'static str,
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A headers answer whose headers do not each name the previous one as parent.
    #[error("headers are not a chain: header {index} does not follow its predecessor")]
    Unlinked {
        /// The first header that does not link.
        index: usize,
    },
    /// A header whose hash does not meet the target its bits claim.
    #[error("header {hash} does not meet its own target")]
    InsufficientWork {
        /// The header's hash.
        hash: Hash256,
    },
    /// A header whose bits encode no valid target, or one easier than the network allows.
    #[error("header {hash} has invalid bits {bits:#010x}")]
    BadBits {
        /// The header's hash.
        hash: Hash256,
        /// The bits.
        bits: u32,
    },
}

fn malformed(what: &'static str) -> impl Fn(DecodeError) -> WireError {
    move |source| WireError::Malformed { what, source }
}

/// Decodes `bytes` as a whole `T`, after checking they are at most `max` long.
pub(crate) fn decode_limited<T>(
    what: &'static str,
    bytes: &[u8],
    max: usize,
    f: impl FnOnce(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<T, WireError> {
    if bytes.len() > max {
        return Err(WireError::TooLarge {
            what,
            len: bytes.len(),
            max,
        });
    }
    let mut r = Reader::new(bytes);
    let v = f(&mut r).map_err(malformed(what))?;
    r.finish().map_err(malformed(what))?;
    Ok(v)
}

fn read_hash(r: &mut Reader<'_>) -> Result<Hash256, DecodeError> {
    Ok(Hash256(r.read_array()?))
}

fn read_blob_id(r: &mut Reader<'_>) -> Result<BlobId, DecodeError> {
    Ok(BlobId::from_hash(blake3::Hash::from_bytes(r.read_array()?)))
}

fn write_count(out: &mut Vec<u8>, n: usize) {
    aic_primitives::CompactSize(n as u64).encode_to(out);
}

fn write_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    write_count(out, bytes.len());
    out.extend_from_slice(bytes);
}

fn read_bytes<'a>(
    r: &mut Reader<'a>,
    what: &'static str,
    max: usize,
) -> Result<&'a [u8], DecodeError> {
    let n = r.read_count(what, max as u64, 1)?;
    r.read_slice(n)
}

/// A peer's view of its best chain, exchanged when peers meet and on request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// The genesis hash: peers on another chain are refused.
    pub genesis: Hash256,
    /// The tip's hash.
    pub tip: Hash256,
    /// The tip's height.
    pub height: Height,
    /// The tip's cumulative work.
    pub work: Work,
}

impl Encode for Status {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.genesis.0);
        out.extend_from_slice(&self.tip.0);
        out.extend_from_slice(&self.height.0.to_le_bytes());
        out.extend_from_slice(&self.work.0.to_little_endian());
    }
}

impl Decode for Status {
    fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Status {
            genesis: read_hash(r)?,
            tip: read_hash(r)?,
            height: Height(r.read_u64()?),
            work: Work(U256::from_little_endian(&r.read_array::<32>()?)),
        })
    }
}

/// A request on the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// Tag 0: "what is your best chain?"
    Status,
    /// Tag 1: headers of the asker's best chain after the first locator hash the server
    /// knows on its main chain, at most `max` (and at most [`MAX_HEADERS`]).
    Headers {
        /// Block hashes from the asker's tip back to genesis, densest near the tip.
        locator: Vec<Hash256>,
        /// Most headers wanted.
        max: u16,
    },
    /// Tag 2: the blocks with these hashes (at most [`MAX_BLOCKS_PER_REQUEST`]).
    Blocks(Vec<Hash256>),
}

impl Encode for SyncRequest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            SyncRequest::Status => out.push(0),
            SyncRequest::Headers { locator, max } => {
                out.push(1);
                write_count(out, locator.len());
                for h in locator {
                    out.extend_from_slice(&h.0);
                }
                out.extend_from_slice(&max.to_le_bytes());
            }
            SyncRequest::Blocks(hashes) => {
                out.push(2);
                write_count(out, hashes.len());
                for h in hashes {
                    out.extend_from_slice(&h.0);
                }
            }
        }
    }
}

impl SyncRequest {
    /// Decodes a request from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<SyncRequest, WireError> {
        decode_limited("sync request", bytes, MAX_REQUEST_BYTES, |r| {
            match r.read_u8()? {
                0 => Ok(SyncRequest::Status),
                1 => {
                    let n = r.read_count("locator hashes", MAX_LOCATOR as u64, 32)?;
                    let locator = (0..n).map(|_| read_hash(r)).collect::<Result<_, _>>()?;
                    Ok(SyncRequest::Headers {
                        locator,
                        max: r.read_u16()?,
                    })
                }
                2 => {
                    let n = r.read_count("block hashes", MAX_BLOCKS_PER_REQUEST as u64, 32)?;
                    let hashes = (0..n).map(|_| read_hash(r)).collect::<Result<_, _>>()?;
                    Ok(SyncRequest::Blocks(hashes))
                }
                tag => Err(DecodeError::UnknownTag {
                    what: "sync request",
                    tag,
                }),
            }
        })
    }
}

/// An answer on the sync protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncResponse {
    /// Tag 0: the server's best chain.
    Status(Status),
    /// Tag 1: consecutive headers, each the parent of the next.
    Headers(Vec<BlockHeader>),
    /// Tag 2: the blocks asked for that the server has, in the order asked.
    Blocks(Vec<Block>),
    /// Tag 3: the server refuses to answer now (rate limited or busy); ask later or elsewhere.
    Busy,
}

impl Encode for SyncResponse {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            SyncResponse::Status(s) => {
                out.push(0);
                s.encode_to(out);
            }
            SyncResponse::Headers(headers) => {
                out.push(1);
                write_count(out, headers.len());
                for h in headers {
                    h.encode_to(out);
                }
            }
            SyncResponse::Blocks(blocks) => {
                out.push(2);
                write_count(out, blocks.len());
                for b in blocks {
                    b.encode_to(out);
                }
            }
            SyncResponse::Busy => out.push(3),
        }
    }
}

impl SyncResponse {
    /// Decodes an answer from untrusted bytes, at most `max` long.
    pub fn decode(bytes: &[u8], max: usize) -> Result<SyncResponse, WireError> {
        decode_limited("sync response", bytes, max, |r| match r.read_u8()? {
            0 => Ok(SyncResponse::Status(Status::decode_from(r)?)),
            1 => {
                let n = r.read_count("headers", MAX_HEADERS as u64, BlockHeader::SIZE)?;
                let headers = (0..n)
                    .map(|_| BlockHeader::decode_from(r))
                    .collect::<Result<_, _>>()?;
                Ok(SyncResponse::Headers(headers))
            }
            2 => {
                let n = r.read_count("blocks", MAX_BLOCKS_PER_REQUEST as u64, BlockHeader::SIZE)?;
                let blocks = (0..n)
                    .map(|_| Block::decode_from(r))
                    .collect::<Result<_, _>>()?;
                Ok(SyncResponse::Blocks(blocks))
            }
            3 => Ok(SyncResponse::Busy),
            tag => Err(DecodeError::UnknownTag {
                what: "sync response",
                tag,
            }),
        })
    }
}

/// A request on the blob protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlobRequest {
    /// Tag 0: "do you have this blob, and how long is it?"
    Have(BlobId),
    /// Tag 1: `len` bytes (at most [`MAX_BLOB_CHUNK`]) of the blob from `offset`.
    Get {
        /// The blob.
        id: BlobId,
        /// First byte.
        offset: u64,
        /// Bytes wanted.
        len: u32,
    },
}

impl Encode for BlobRequest {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            BlobRequest::Have(id) => {
                out.push(0);
                out.extend_from_slice(id.as_bytes());
            }
            BlobRequest::Get { id, offset, len } => {
                out.push(1);
                out.extend_from_slice(id.as_bytes());
                out.extend_from_slice(&offset.to_le_bytes());
                out.extend_from_slice(&len.to_le_bytes());
            }
        }
    }
}

impl BlobRequest {
    /// Decodes a request from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<BlobRequest, WireError> {
        decode_limited("blob request", bytes, MAX_REQUEST_BYTES, |r| {
            match r.read_u8()? {
                0 => Ok(BlobRequest::Have(read_blob_id(r)?)),
                1 => {
                    let id = read_blob_id(r)?;
                    let offset = r.read_u64()?;
                    let len = r.read_u32()?;
                    if len > MAX_BLOB_CHUNK {
                        return Err(DecodeError::CountTooLarge {
                            what: "blob chunk bytes",
                            count: u64::from(len),
                            max: u64::from(MAX_BLOB_CHUNK),
                        });
                    }
                    Ok(BlobRequest::Get { id, offset, len })
                }
                tag => Err(DecodeError::UnknownTag {
                    what: "blob request",
                    tag,
                }),
            }
        })
    }
}

/// An answer on the blob protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlobResponse {
    /// Tag 0: the blob's length if the server has it.
    Have(Option<u64>),
    /// Tag 1: the bytes asked for (fewer at the blob's end).
    Chunk(Vec<u8>),
    /// Tag 2: the server does not have the blob.
    NotFound,
    /// Tag 3: the server refuses to answer now.
    Busy,
}

impl Encode for BlobResponse {
    fn encode_to(&self, out: &mut Vec<u8>) {
        match self {
            BlobResponse::Have(None) => out.extend_from_slice(&[0, 0]),
            BlobResponse::Have(Some(len)) => {
                out.extend_from_slice(&[0, 1]);
                out.extend_from_slice(&len.to_le_bytes());
            }
            BlobResponse::Chunk(bytes) => {
                out.push(1);
                write_bytes(out, bytes);
            }
            BlobResponse::NotFound => out.push(2),
            BlobResponse::Busy => out.push(3),
        }
    }
}

/// The largest encoded [`BlobResponse`].
pub const MAX_BLOB_RESPONSE_BYTES: usize = 1 + 9 + MAX_BLOB_CHUNK as usize;

impl BlobResponse {
    /// Decodes an answer from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<BlobResponse, WireError> {
        decode_limited(
            "blob response",
            bytes,
            MAX_BLOB_RESPONSE_BYTES,
            |r| match r.read_u8()? {
                0 => match r.read_u8()? {
                    0 => Ok(BlobResponse::Have(None)),
                    1 => Ok(BlobResponse::Have(Some(r.read_u64()?))),
                    tag => Err(DecodeError::UnknownTag {
                        what: "blob length option",
                        tag,
                    }),
                },
                1 => Ok(BlobResponse::Chunk(
                    read_bytes(r, "blob chunk bytes", MAX_BLOB_CHUNK as usize)?.to_vec(),
                )),
                2 => Ok(BlobResponse::NotFound),
                3 => Ok(BlobResponse::Busy),
                tag => Err(DecodeError::UnknownTag {
                    what: "blob response",
                    tag,
                }),
            },
        )
    }
}

/// A market announcement gossiped on the market topic: a kind and an opaque body that the
/// market layer above interprets (jobs posted, provider offers, model releases).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announcement {
    /// What the body is (assigned by the market layer).
    pub kind: u8,
    /// The body, at most [`MAX_ANNOUNCEMENT_BYTES`].
    pub body: Vec<u8>,
}

impl Encode for Announcement {
    fn encode_to(&self, out: &mut Vec<u8>) {
        out.push(self.kind);
        write_bytes(out, &self.body);
    }
}

impl Announcement {
    /// Decodes an announcement from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Announcement, WireError> {
        decode_limited("announcement", bytes, MAX_ANNOUNCEMENT_BYTES + 10, |r| {
            Ok(Announcement {
                kind: r.read_u8()?,
                body: read_bytes(r, "announcement bytes", MAX_ANNOUNCEMENT_BYTES)?.to_vec(),
            })
        })
    }
}

/// Decodes a gossiped block (at most `max` bytes).
pub fn decode_block(bytes: &[u8], max: usize) -> Result<Block, WireError> {
    decode_limited("block", bytes, max, Block::decode_from)
}

/// Decodes a gossiped transaction (at most `max` bytes).
pub fn decode_tx(bytes: &[u8], max: usize) -> Result<Transaction, WireError> {
    decode_limited("transaction", bytes, max, Transaction::decode_from)
}

/// Checks what can be checked of headers without the chain: each names the previous one as
/// its parent, its bits are a valid target no easier than `pow_limit`, and its hash meets
/// that target. Returns the work the headers add.
pub fn check_headers(
    headers: &[BlockHeader],
    pow_limit: &aic_primitives::Target,
) -> Result<Work, WireError> {
    let mut work = Work::default();
    let mut prev: Option<Hash256> = None;
    for (index, h) in headers.iter().enumerate() {
        let hash = h.hash();
        if prev.is_some_and(|p| p != h.prev_hash) {
            return Err(WireError::Unlinked { index });
        }
        let target = h.bits.to_target().map_err(|_| WireError::BadBits {
            hash,
            bits: h.bits.0,
        })?;
        if target.0 > pow_limit.0 {
            return Err(WireError::BadBits {
                hash,
                bits: h.bits.0,
            });
        }
        if !target.is_met_by(&hash) {
            return Err(WireError::InsufficientWork { hash });
        }
        work = work.saturating_add(target.work());
        prev = Some(hash);
    }
    Ok(work)
}

#[cfg(test)]
#[path = "wire/tests.rs"]
mod tests;
