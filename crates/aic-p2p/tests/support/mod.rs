//! A raw libp2p peer that speaks the sync protocol's framing but sends random bytes.

use std::io;
use std::time::Duration;

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, StreamExt};
use libp2p::request_response::{self, ProtocolSupport};
use libp2p::swarm::SwarmEvent;
use libp2p::{noise, tcp, yamux, Multiaddr, PeerId, StreamProtocol};

#[derive(Clone, Default)]
struct RawCodec;

impl request_response::Codec for RawCodec {
    type Protocol = StreamProtocol;
    type Request = Vec<u8>;
    type Response = Vec<u8>;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        let mut v = Vec::new();
        io.take(1 << 20).read_to_end(&mut v).await?;
        Ok(v)
    }

    async fn read_response<T>(&mut self, p: &StreamProtocol, io: &mut T) -> io::Result<Vec<u8>>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read_request(p, io).await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        req: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        io.write_all(&(req.len() as u32).to_le_bytes()).await?;
        io.write_all(&req).await?;
        io.close().await
    }

    async fn write_response<T>(
        &mut self,
        p: &StreamProtocol,
        io: &mut T,
        res: Vec<u8>,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        self.write_request(p, io, res).await
    }
}

/// Connects to `addr` and sends `count` garbage sync requests to `target`, then keeps the
/// swarm running in the background (until the remote closes). Returns its peer id.
pub(crate) async fn send_garbage(addr: Multiaddr, target: PeerId, count: usize) -> PeerId {
    let mut swarm = libp2p::SwarmBuilder::with_new_identity()
        .with_tokio()
        .with_tcp(
            tcp::Config::default(),
            noise::Config::new,
            yamux::Config::default,
        )
        .unwrap()
        .with_behaviour(|_| {
            request_response::Behaviour::with_codec(
                RawCodec,
                [(
                    StreamProtocol::new("/aic/devnet/sync/1"),
                    ProtocolSupport::Outbound,
                )],
                request_response::Config::default().with_request_timeout(Duration::from_secs(5)),
            )
        })
        .unwrap()
        .build();
    let me = *swarm.local_peer_id();
    swarm.dial(addr).unwrap();
    tokio::spawn(async move {
        let mut sent = 0;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let ev = match tokio::time::timeout_at(deadline, swarm.select_next_some()).await {
                Ok(ev) => ev,
                Err(_) => return,
            };
            match ev {
                SwarmEvent::ConnectionEstablished { .. } => {
                    while sent < count {
                        let junk: Vec<u8> =
                            (0..64).map(|i| (i * 37 + sent * 11) as u8 | 0x80).collect();
                        swarm.behaviour_mut().send_request(&target, junk);
                        sent += 1;
                    }
                }
                SwarmEvent::ConnectionClosed {
                    num_established: 0, ..
                } if sent >= count => return,
                _ => {}
            }
        }
    });
    me
}
