//! Framing of the request-response protocols: one message per stream, a 4-byte little-endian
//! length then the canonical bytes. The length is checked against the protocol's limit before
//! anything is allocated or read, so a peer cannot make this side buffer more than the limit.

use std::io;
use std::marker::PhantomData;

use aic_primitives::Encode;
use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

use crate::wire::{
    BlobRequest, BlobResponse, SyncRequest, SyncResponse, WireError, MAX_BLOB_RESPONSE_BYTES,
    MAX_REQUEST_BYTES,
};

/// A message one of the protocols carries: its size limit and its decoder.
pub trait Framed: Sized + Send + Sync + Encode {
    /// What the message is, for errors.
    const WHAT: &'static str;
    /// Decodes the message from bytes no longer than `max`.
    fn decode_framed(bytes: &[u8], max: usize) -> Result<Self, WireError>;
}

impl Framed for SyncRequest {
    const WHAT: &'static str = "sync request";
    fn decode_framed(bytes: &[u8], _max: usize) -> Result<Self, WireError> {
        SyncRequest::decode(bytes)
    }
}

impl Framed for SyncResponse {
    const WHAT: &'static str = "sync response";
    fn decode_framed(bytes: &[u8], max: usize) -> Result<Self, WireError> {
        SyncResponse::decode(bytes, max)
    }
}

impl Framed for BlobRequest {
    const WHAT: &'static str = "blob request";
    fn decode_framed(bytes: &[u8], _max: usize) -> Result<Self, WireError> {
        BlobRequest::decode(bytes)
    }
}

impl Framed for BlobResponse {
    const WHAT: &'static str = "blob response";
    fn decode_framed(bytes: &[u8], _max: usize) -> Result<Self, WireError> {
        BlobResponse::decode(bytes)
    }
}

/// The largest encoded sync response for blocks of at most `max_block_bytes`.
pub fn max_sync_response(max_block_bytes: usize) -> usize {
    let blocks = crate::wire::MAX_BLOCKS_PER_REQUEST * max_block_bytes + 16;
    let headers = crate::wire::MAX_HEADERS * 80 + 16;
    blocks.max(headers)
}

/// A request as read off the wire: valid, or why not. libp2p reports a failed request read
/// to no one, so the codec hands malformed requests on as values and the service blames the
/// sender. Only [`Inbound::Valid`] is ever written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inbound<M> {
    /// A well-formed request.
    Valid(M),
    /// Bytes that are not a request, or a frame over the size limit.
    Malformed(WireError),
}

/// A length-prefixed codec for one request and one response type.
#[derive(Debug)]
pub struct Codec<Req, Resp> {
    max_response: usize,
    _types: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Clone for Codec<Req, Resp> {
    fn clone(&self) -> Self {
        Codec {
            max_response: self.max_response,
            _types: PhantomData,
        }
    }
}

impl<Req, Resp> Codec<Req, Resp> {
    /// A codec whose responses are at most `max_response` bytes.
    pub fn new(max_response: usize) -> Self {
        Codec {
            max_response,
            _types: PhantomData,
        }
    }
}

/// The codec of the sync protocol.
pub type SyncCodec = Codec<SyncRequest, SyncResponse>;
/// The codec of the blob protocol.
pub type BlobCodec = Codec<BlobRequest, BlobResponse>;

/// A [`WireError`] as the IO error the request-response behaviour expects; the service
/// recognises it (`is_wire_error`) to blame the peer.
fn invalid(e: WireError) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, e)
}

/// True if a request-response IO error was a malformed or oversized message.
pub fn is_wire_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::InvalidData
        && e.get_ref().is_some_and(|inner| inner.is::<WireError>())
}

async fn read_frame<T, M>(io: &mut T, max: usize) -> io::Result<M>
where
    T: AsyncRead + Unpin + Send,
    M: Framed,
{
    let mut len = [0u8; 4];
    io.read_exact(&mut len).await?;
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(invalid(WireError::TooLarge {
            what: M::WHAT,
            len,
            max,
        }));
    }
    let mut buf = vec![0u8; len];
    io.read_exact(&mut buf).await?;
    M::decode_framed(&buf, max).map_err(invalid)
}

async fn write_frame<T, M>(io: &mut T, msg: &M, max: usize) -> io::Result<()>
where
    T: AsyncWrite + Unpin + Send,
    M: Framed,
{
    let bytes = msg.to_bytes();
    if bytes.len() > max {
        return Err(invalid(WireError::TooLarge {
            what: M::WHAT,
            len: bytes.len(),
            max,
        }));
    }
    io.write_all(&(bytes.len() as u32).to_le_bytes()).await?;
    io.write_all(&bytes).await?;
    io.close().await
}

impl<Req, Resp> libp2p::request_response::Codec for Codec<Req, Resp>
where
    Req: Framed + 'static,
    Resp: Framed + 'static,
{
    type Protocol = StreamProtocol;
    type Request = Inbound<Req>;
    type Response = Resp;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Inbound<Req>>
    where
        T: AsyncRead + Unpin + Send,
    {
        match read_frame(io, MAX_REQUEST_BYTES).await {
            Ok(r) => Ok(Inbound::Valid(r)),
            Err(e) if is_wire_error(&e) => {
                let wire = e
                    .into_inner()
                    .and_then(|inner| inner.downcast::<WireError>().ok())
                    .map(|b| *b);
                match wire {
                    Some(w) => Ok(Inbound::Malformed(w)),
                    None => Err(io::Error::from(io::ErrorKind::InvalidData)),
                }
            }
            Err(e) => Err(e),
        }
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        read_frame(io, self.max_response).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Inbound<Req>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        match req {
            Inbound::Valid(r) => write_frame(io, &r, MAX_REQUEST_BYTES).await,
            Inbound::Malformed(e) => Err(invalid(e)),
        }
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        res: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &res, self.max_response).await
    }
}

/// The blob protocol's response limit.
pub const BLOB_RESPONSE_LIMIT: usize = MAX_BLOB_RESPONSE_BYTES;
