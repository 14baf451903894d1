//! The AIC peer-to-peer network, on libp2p.
//!
//! - **Transport**: TCP with Noise (authenticated encryption, ed25519 identities) and Yamux
//!   (stream multiplexing).
//! - **Protocols**: identify, ping, gossipsub (topics `aic/<network>/{blocks,txs,market}/1`),
//!   request-response `/aic/<network>/sync/1` (status, headers, blocks) and
//!   `/aic/<network>/blob/1` (blob presence and chunks), Kademlia `/aic/<network>/kad/1`,
//!   mDNS, and configured bootnodes.
//! - **Sync**: headers first, blocks from several peers in parallel, handed to the chain in
//!   order; orphans kept until their parent arrives ([`sync`]).
//! - **Hygiene**: size limits on every message, rate limits per peer, gossipsub peer scoring
//!   fed by application penalties, bans ([`score`]), connection limits, and a persistent
//!   peer store ([`peer_store`]).
//! - **Blobs**: fetched from any peer that has them and verified by BLAKE3 before they are
//!   stored ([`P2pHandle::fetch_blob`]).
//!
//! # Architecture invariants
//! - The network talks to the chain only through the traits it owns ([`ChainView`],
//!   [`ChainSink`], [`BlobAccess`]); it does not depend on `aic-chain`.
//! - Every decoder of network bytes returns an error and never panics ([`wire`]).
//! - The library never prints: it reports through `tracing` (targets `p2p`, `p2p::sync`,
//!   `p2p::peer`, `p2p::gossip`, `p2p::blob`) and [`P2pEvent`]s.

mod behaviour;
pub mod codec;
mod config;
mod error;
mod handle;
mod key;
pub mod locator;
pub mod orphans;
pub mod peer_store;
pub mod rate;
pub mod score;
mod service;
pub mod sync;
pub mod testkit;
mod traits;
pub mod wire;

pub use config::P2pConfig;
pub use error::P2pError;
pub use handle::{NetStats, P2pEvent, P2pHandle, PeerInfo};
pub use key::load_or_create_key;
pub use libp2p::identity::Keypair;
pub use libp2p::{Multiaddr, PeerId};
pub use service::start;
pub use traits::{
    BlobAccess, BlobSinkError, BlockVerdict, ChainSink, ChainTip, ChainView, NodeAccess, TxVerdict,
};
