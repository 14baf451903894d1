//! The network service: one tokio task that owns the swarm, feeds the sync state machine,
//! answers peers, applies penalties and bans, and carries out the handle's commands.
//!
//! Chain calls (a block submitted, blocks read for a peer) are synchronous; on a multi-thread
//! runtime they run under `block_in_place`, so other tasks move off this worker meanwhile.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aic_primitives::Encode;
use futures::StreamExt;
use libp2p::gossipsub::{self, MessageAcceptance};
use libp2p::identity::Keypair;
use libp2p::request_response::{self, OutboundRequestId};
use libp2p::swarm::dial_opts::DialOpts;
use libp2p::swarm::SwarmEvent;
use libp2p::{identify, kad, mdns, noise, tcp, yamux, Multiaddr, PeerId, Swarm};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::behaviour::{Behaviour, BehaviourEvent, Topics};
use crate::codec::{is_wire_error, Inbound};
use crate::config::P2pConfig;
use crate::error::P2pError;
use crate::handle::{Command, NetStats, P2pEvent, P2pHandle, PeerInfo};
use crate::peer_store::PeerStore;
use crate::rate::{PeerRates, Traffic, Verdict};
use crate::score::{Offence, PeerScores, Standing};
use crate::sync::{Action, Sync};
use crate::traits::{NodeAccess, TxVerdict};
use crate::wire::{
    decode_block, decode_tx, Announcement, BlobRequest, BlobResponse, Status, SyncRequest,
    SyncResponse, WireError, MAX_HEADERS,
};

/// Runs `f`, letting the runtime move other tasks off this thread if it can.
fn blocking<R>(f: impl FnOnce() -> R) -> R {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// How often the service does its periodic work.
const TICK: Duration = Duration::from_millis(100);
/// How often the peer store is saved and stale state dropped.
const HOUSEKEEPING: Duration = Duration::from_secs(30);
/// How often a node without peers dials its bootnodes and stored peers again.
const REDIAL: Duration = Duration::from_secs(5);
/// Stored peers dialled at start.
const DIAL_STORED: usize = 8;

struct Connection {
    addr: Multiaddr,
    outbound: bool,
}

struct Service {
    swarm: Swarm<Behaviour>,
    config: P2pConfig,
    topics: Topics,
    node: Arc<dyn NodeAccess>,
    sync: Sync,
    scores: PeerScores,
    rates: PeerRates,
    store: PeerStore,
    pending_sync: HashMap<OutboundRequestId, (PeerId, SyncRequest)>,
    pending_blob: HashMap<OutboundRequestId, oneshot::Sender<Result<BlobResponse, P2pError>>>,
    events: broadcast::Sender<P2pEvent>,
    connected: HashMap<PeerId, Connection>,
    operator_blocked: HashSet<PeerId>,
    bans: u64,
    last_housekeeping: Instant,
    last_redial: Instant,
}

/// Builds the swarm, binds the listen addresses and starts the service as a tokio task.
/// Returns once every listen address is bound.
pub async fn start(
    config: P2pConfig,
    key: Keypair,
    node: Arc<dyn NodeAccess>,
) -> Result<(P2pHandle, JoinHandle<()>), P2pError> {
    let topics = Topics::new(&config);
    let build = |e: String| P2pError::Build(e);
    let builder = libp2p::SwarmBuilder::with_existing_identity(key)
        .with_tokio()
        .with_tcp(
            tcp::Config::default().nodelay(true),
            noise::Config::new,
            yamux::Config::default,
        )
        .map_err(|e| build(e.to_string()))?;
    #[cfg(feature = "quic")]
    let builder = builder.with_quic();
    let mut swarm = builder
        .with_behaviour(|k| {
            Behaviour::new(k, &config, &topics)
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + std::marker::Sync>)
        })
        .map_err(|e| build(e.to_string()))?
        .with_swarm_config(|c| c.with_idle_connection_timeout(Duration::from_secs(120)))
        .build();
    let mut store = match &config.peer_store {
        Some(path) => PeerStore::open(path)?,
        None => PeerStore::in_memory(),
    };
    let now = unix_now();
    store.expire(now);
    for (peer, _) in store.bans(now) {
        swarm.behaviour_mut().blocked.block_peer(peer);
    }
    let mut listeners = 0usize;
    for addr in &config.listen {
        swarm
            .listen_on(addr.clone())
            .map_err(|e| P2pError::Listen {
                addr: addr.to_string(),
                reason: e.to_string(),
            })?;
        listeners += 1;
    }
    let mut listen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut reported = HashSet::new();
    while reported.len() < listeners {
        match tokio::time::timeout_at(deadline, swarm.select_next_some()).await {
            Ok(SwarmEvent::NewListenAddr {
                listener_id,
                address,
            }) => {
                reported.insert(listener_id);
                listen.push(address);
            }
            Ok(SwarmEvent::ListenerClosed { reason, .. }) => {
                return Err(P2pError::Listen {
                    addr: format!("{:?}", config.listen),
                    reason: format!("{reason:?}"),
                })
            }
            Ok(_) => {}
            Err(_) => {
                return Err(P2pError::Listen {
                    addr: format!("{:?}", config.listen),
                    reason: "no address reported within 10 s".to_owned(),
                })
            }
        }
    }
    let (commands, rx) = mpsc::channel(1_024);
    let (events, _) = broadcast::channel(1_024);
    let handle = P2pHandle {
        commands,
        events: events.clone(),
        peer_id: *swarm.local_peer_id(),
        listen,
        node: node.clone(),
        max_blob_bytes: config.max_blob_bytes,
    };
    let sync = Sync::new(config.sync, config.pow_limit);
    let rates = PeerRates::new(config.rate_limits);
    let mut service = Service {
        swarm,
        config,
        topics,
        node,
        sync,
        scores: PeerScores::new(),
        rates,
        store,
        pending_sync: HashMap::new(),
        pending_blob: HashMap::new(),
        events,
        connected: HashMap::new(),
        operator_blocked: HashSet::new(),
        bans: 0,
        last_housekeeping: Instant::now(),
        last_redial: Instant::now(),
    };
    service.dial_known();
    tracing::info!(target: "p2p", peer_id = %handle.peer_id, listen = ?handle.listen, "network started");
    let task = tokio::spawn(service.run(rx));
    Ok((handle, task))
}

impl Service {
    async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                ev = self.swarm.select_next_some() => self.on_swarm_event(ev),
                cmd = commands.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(done)) => {
                        self.save_store();
                        let _ = done.send(());
                        break;
                    }
                    Some(c) => self.on_command(c),
                },
                _ = tick.tick() => self.on_tick(),
            }
        }
        self.save_store();
        tracing::info!(target: "p2p", "network stopped");
    }

    fn save_store(&mut self) {
        if let Err(e) = self.store.save() {
            tracing::warn!(target: "p2p", error = %e, "saving the peer store");
        }
    }

    fn emit(&self, e: P2pEvent) {
        let _ = self.events.send(e);
    }

    /// Dials the bootnodes and a few stored peers.
    fn dial_known(&mut self) {
        for addr in self.config.bootnodes.clone() {
            if let Err(e) = self.swarm.dial(addr.clone()) {
                tracing::debug!(target: "p2p", %addr, error = %e, "dialling a bootnode");
            }
        }
        let now = unix_now();
        for (peer, rec) in self.store.peers().into_iter().take(DIAL_STORED) {
            if self.store.is_banned(&peer, now) || self.connected.contains_key(&peer) {
                continue;
            }
            let _ = self
                .swarm
                .dial(DialOpts::peer_id(peer).addresses(rec.addrs).build());
        }
    }

    fn apply(&mut self, actions: Vec<Action>) {
        for a in actions {
            match a {
                Action::Request { peer, request } => {
                    if !self.connected.contains_key(&peer) {
                        continue;
                    }
                    let id = self
                        .swarm
                        .behaviour_mut()
                        .sync
                        .send_request(&peer, Inbound::Valid(request.clone()));
                    self.pending_sync.insert(id, (peer, request));
                }
                Action::Penalize { peer, offence } => self.penalize(peer, offence),
            }
        }
    }

    fn penalize(&mut self, peer: PeerId, offence: Offence) {
        match self.scores.penalize(peer, offence, Instant::now()) {
            Standing::Scored(score) => {
                tracing::debug!(target: "p2p::peer", %peer, ?offence, score, "peer penalised");
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .set_application_score(&peer, score);
                self.emit(P2pEvent::PeerPenalized {
                    peer,
                    offence,
                    score,
                });
            }
            Standing::Ban => self.ban(peer, offence),
        }
    }

    fn ban(&mut self, peer: PeerId, offence: Offence) {
        tracing::info!(target: "p2p::peer", %peer, ?offence, "peer banned");
        let b = self.swarm.behaviour_mut();
        b.blocked.block_peer(peer);
        b.gossipsub.blacklist_peer(&peer);
        if let Some(k) = b.kad.as_mut() {
            k.remove_peer(&peer);
        }
        let until = unix_now().saturating_add(self.config.ban_duration.as_secs());
        self.store.ban(peer, until);
        self.scores.forget(&peer);
        self.bans += 1;
        self.emit(P2pEvent::PeerBanned { peer, offence });
    }

    fn on_tick(&mut self) {
        let now = Instant::now();
        let node = self.node.clone();
        let actions = blocking(|| self.sync.tick(&*node, now));
        self.apply(actions);
        if now.saturating_duration_since(self.last_housekeeping) >= HOUSEKEEPING {
            self.last_housekeeping = now;
            self.housekeeping(now);
        }
        if self.connected.is_empty() && now.saturating_duration_since(self.last_redial) >= REDIAL {
            self.last_redial = now;
            self.dial_known();
        }
    }

    fn housekeeping(&mut self, now: Instant) {
        self.scores.prune(now);
        self.sync.expire(now);
        let unix = unix_now();
        let expired: Vec<PeerId> = self
            .store
            .bans(0)
            .filter(|(_, until)| *until <= unix)
            .map(|(p, _)| p)
            .collect();
        for p in expired {
            if !self.operator_blocked.contains(&p) {
                self.swarm.behaviour_mut().blocked.unblock_peer(p);
                self.swarm
                    .behaviour_mut()
                    .gossipsub
                    .remove_blacklisted_peer(&p);
            }
        }
        self.store.expire(unix);
        self.save_store();
    }

    fn on_command(&mut self, c: Command) {
        match c {
            Command::PublishBlock(b) => self.publish(self.topics.blocks.clone(), b.to_bytes()),
            Command::PublishTx(t) => self.publish(self.topics.txs.clone(), t.to_bytes()),
            Command::Announce(a) => self.publish(self.topics.market.clone(), a.to_bytes()),
            Command::Dial(addr) => {
                if let Err(e) = self.swarm.dial(addr.clone()) {
                    tracing::debug!(target: "p2p", %addr, error = %e, "dial failed");
                }
            }
            Command::Block(peer) => {
                self.operator_blocked.insert(peer);
                self.swarm.behaviour_mut().blocked.block_peer(peer);
            }
            Command::Unblock(peer) => {
                self.operator_blocked.remove(&peer);
                self.store.unban(&peer);
                let b = self.swarm.behaviour_mut();
                b.blocked.unblock_peer(peer);
                b.gossipsub.remove_blacklisted_peer(&peer);
                let addrs: Vec<Multiaddr> = self
                    .store
                    .peers()
                    .into_iter()
                    .find(|(p, _)| *p == peer)
                    .map(|(_, r)| r.addrs)
                    .unwrap_or_default();
                if !addrs.is_empty() {
                    let _ = self
                        .swarm
                        .dial(DialOpts::peer_id(peer).addresses(addrs).build());
                }
            }
            Command::Penalize(peer, offence) => self.penalize(peer, offence),
            Command::Peers(reply) => {
                let now = Instant::now();
                let peers = self
                    .connected
                    .iter()
                    .map(|(p, c)| PeerInfo {
                        peer: *p,
                        addr: c.addr.clone(),
                        outbound: c.outbound,
                        score: self.scores.score(p, now),
                        height: self.sync.peer_height(p),
                    })
                    .collect();
                let _ = reply.send(peers);
            }
            Command::Stats(reply) => {
                let _ = reply.send(NetStats {
                    peers: self.connected.len(),
                    sync: self.sync.stats(),
                    queued: self.sync.queued(),
                    orphans: self.sync.orphans(),
                    bans: self.bans,
                });
            }
            Command::BlobRequest {
                peer,
                request,
                reply,
            } => {
                if !self.connected.contains_key(&peer) {
                    let _ = reply.send(Err(P2pError::Request {
                        peer: peer.to_string(),
                        reason: "not connected".to_owned(),
                    }));
                    return;
                }
                let id = self
                    .swarm
                    .behaviour_mut()
                    .blobs
                    .send_request(&peer, Inbound::Valid(request));
                self.pending_blob.insert(id, reply);
            }
            Command::Shutdown(_) => {}
        }
    }

    fn publish(&mut self, topic: gossipsub::IdentTopic, bytes: Vec<u8>) {
        if let Err(e) = self
            .swarm
            .behaviour_mut()
            .gossipsub
            .publish(topic.clone(), bytes)
        {
            tracing::debug!(target: "p2p::gossip", topic = %topic, error = %e, "not published");
        }
    }

    fn on_swarm_event(&mut self, ev: SwarmEvent<BehaviourEvent>) {
        match ev {
            SwarmEvent::ConnectionEstablished {
                peer_id,
                endpoint,
                num_established,
                ..
            } => {
                let outbound = endpoint.is_dialer();
                let addr = endpoint.get_remote_address().clone();
                if outbound {
                    self.store.add_address(peer_id, addr.clone(), unix_now());
                    if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                        k.add_address(&peer_id, addr.clone());
                    }
                }
                if num_established.get() == 1 {
                    tracing::debug!(target: "p2p::peer", peer = %peer_id, %addr, outbound, "peer connected");
                    self.connected
                        .insert(peer_id, Connection { addr, outbound });
                    let actions = self.sync.on_connected(peer_id, Instant::now());
                    self.apply(actions);
                    self.emit(P2pEvent::PeerConnected(peer_id));
                }
            }
            SwarmEvent::ConnectionClosed {
                peer_id,
                num_established: 0,
                ..
            } => {
                tracing::debug!(target: "p2p::peer", peer = %peer_id, "peer disconnected");
                self.connected.remove(&peer_id);
                self.sync.on_disconnected(&peer_id);
                self.rates.forget(&peer_id);
                self.emit(P2pEvent::PeerDisconnected(peer_id));
            }
            SwarmEvent::Behaviour(b) => self.on_behaviour_event(b),
            _ => {}
        }
    }

    fn on_behaviour_event(&mut self, ev: BehaviourEvent) {
        match ev {
            BehaviourEvent::Gossipsub(e) => self.on_gossip(e),
            BehaviourEvent::Sync(e) => self.on_sync_event(e),
            BehaviourEvent::Blobs(e) => self.on_blob_event(e),
            BehaviourEvent::Identify(identify::Event::Received { peer_id, info, .. }) => {
                if info.protocol_version != self.config.identify_version() {
                    tracing::debug!(target: "p2p::peer", peer = %peer_id, version = %info.protocol_version, "peer on another network");
                    self.penalize(peer_id, Offence::WrongChain);
                    return;
                }
                let now = unix_now();
                for addr in info.listen_addrs.into_iter().take(8) {
                    self.store.add_address(peer_id, addr.clone(), now);
                    if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                        k.add_address(&peer_id, addr);
                    }
                }
            }
            BehaviourEvent::Mdns(mdns::Event::Discovered(found)) => {
                for (peer, addr) in found {
                    if let Some(k) = self.swarm.behaviour_mut().kad.as_mut() {
                        k.add_address(&peer, addr.clone());
                    }
                    self.maybe_dial(peer, vec![addr]);
                }
            }
            BehaviourEvent::Kad(kad::Event::RoutingUpdated {
                peer, addresses, ..
            }) => {
                self.maybe_dial(peer, addresses.into_vec());
            }
            _ => {}
        }
    }

    /// Dials a discovered peer if the node wants more peers.
    fn maybe_dial(&mut self, peer: PeerId, addrs: Vec<Multiaddr>) {
        let want = (self.config.max_peers / 2).max(1) as usize;
        if peer == *self.swarm.local_peer_id()
            || self.connected.contains_key(&peer)
            || self.connected.len() >= want
            || self.operator_blocked.contains(&peer)
            || self.store.is_banned(&peer, unix_now())
        {
            return;
        }
        let _ = self
            .swarm
            .dial(DialOpts::peer_id(peer).addresses(addrs).build());
    }

    fn rate(&mut self, peer: PeerId, kind: Traffic) -> Verdict {
        let v = self.rates.check(peer, kind, Instant::now());
        if v == Verdict::Abusive {
            self.penalize(peer, Offence::RateLimited);
        }
        v
    }

    fn on_gossip(&mut self, e: gossipsub::Event) {
        let gossipsub::Event::Message {
            propagation_source: peer,
            message_id,
            message,
        } = e
        else {
            return;
        };
        let acceptance = if message.topic == self.topics.blocks.hash() {
            self.on_gossip_block(peer, &message.data)
        } else if message.topic == self.topics.txs.hash() {
            self.on_gossip_tx(peer, &message.data)
        } else if message.topic == self.topics.market.hash() {
            self.on_announcement(peer, &message.data)
        } else {
            MessageAcceptance::Ignore
        };
        self.swarm
            .behaviour_mut()
            .gossipsub
            .report_message_validation_result(&message_id, &peer, acceptance);
    }

    fn malformed(&mut self, peer: PeerId, e: &WireError) -> MessageAcceptance {
        tracing::debug!(target: "p2p::gossip", %peer, error = %e, "malformed gossip");
        self.penalize(peer, Offence::Malformed);
        MessageAcceptance::Reject
    }

    fn on_gossip_block(&mut self, peer: PeerId, data: &[u8]) -> MessageAcceptance {
        let block = match decode_block(data, self.config.max_block_bytes) {
            Ok(b) => b,
            Err(e) => return self.malformed(peer, &e),
        };
        let node = self.node.clone();
        let now = Instant::now();
        let (verdict, actions) = blocking(|| self.sync.on_gossip_block(peer, block, &*node, now));
        self.apply(actions);
        match verdict {
            crate::traits::BlockVerdict::Accepted { .. } => MessageAcceptance::Accept,
            crate::traits::BlockVerdict::Invalid(_) => MessageAcceptance::Reject,
            _ => MessageAcceptance::Ignore,
        }
    }

    fn on_gossip_tx(&mut self, peer: PeerId, data: &[u8]) -> MessageAcceptance {
        if self.rate(peer, Traffic::Gossip) != Verdict::Allowed {
            return MessageAcceptance::Ignore;
        }
        let tx = match decode_tx(data, self.config.max_tx_bytes) {
            Ok(t) => t,
            Err(e) => return self.malformed(peer, &e),
        };
        let node = self.node.clone();
        match blocking(|| node.submit_tx(tx)) {
            TxVerdict::Accepted => MessageAcceptance::Accept,
            TxVerdict::Ignored(_) => MessageAcceptance::Ignore,
            TxVerdict::Invalid(reason) => {
                tracing::debug!(target: "p2p::gossip", %peer, %reason, "invalid transaction");
                self.penalize(peer, Offence::InvalidTx);
                MessageAcceptance::Reject
            }
        }
    }

    fn on_announcement(&mut self, peer: PeerId, data: &[u8]) -> MessageAcceptance {
        if self.rate(peer, Traffic::Gossip) != Verdict::Allowed {
            return MessageAcceptance::Ignore;
        }
        match Announcement::decode(data) {
            Ok(announcement) => {
                self.emit(P2pEvent::Announcement {
                    from: peer,
                    announcement,
                });
                MessageAcceptance::Accept
            }
            Err(e) => self.malformed(peer, &e),
        }
    }

    fn serve_sync(&self, request: SyncRequest) -> SyncResponse {
        let node = &*self.node;
        blocking(|| match request {
            SyncRequest::Status => {
                let tip = node.tip();
                SyncResponse::Status(Status {
                    genesis: node.genesis(),
                    tip: tip.hash,
                    height: tip.height,
                    work: tip.work,
                })
            }
            SyncRequest::Headers { locator, max } => SyncResponse::Headers(
                node.headers_after(&locator, usize::from(max).min(MAX_HEADERS)),
            ),
            SyncRequest::Blocks(hashes) => {
                SyncResponse::Blocks(hashes.iter().filter_map(|h| node.block(h)).collect())
            }
        })
    }

    fn on_sync_event(&mut self, e: request_response::Event<Inbound<SyncRequest>, SyncResponse>) {
        use request_response::{Event, Message};
        match e {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let request = match request {
                    Inbound::Valid(r) => r,
                    Inbound::Malformed(e) => {
                        tracing::debug!(target: "p2p::sync", %peer, error = %e, "malformed request");
                        self.penalize(peer, Offence::Malformed);
                        return;
                    }
                };
                let response = match self.rate(peer, Traffic::SyncRequest) {
                    Verdict::Allowed => self.serve_sync(request),
                    _ => SyncResponse::Busy,
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .sync
                    .send_response(channel, response);
            }
            Event::Message {
                peer,
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                let Some((_, request)) = self.pending_sync.remove(&request_id) else {
                    return;
                };
                self.on_sync_response(peer, request, response);
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let Some((_, request)) = self.pending_sync.remove(&request_id) else {
                    return;
                };
                let timed_out = matches!(error, request_response::OutboundFailure::Timeout);
                tracing::debug!(target: "p2p::sync", %peer, %error, "sync request failed");
                if let request_response::OutboundFailure::Io(io) = &error {
                    if is_wire_error(io) {
                        self.penalize(peer, Offence::Malformed);
                    }
                }
                let actions = self.sync.on_request_failed(peer, &request, timed_out);
                self.apply(actions);
            }
            Event::InboundFailure { peer, error, .. } => {
                if let request_response::InboundFailure::Io(io) = &error {
                    if is_wire_error(io) {
                        self.penalize(peer, Offence::Malformed);
                    }
                }
            }
            Event::ResponseSent { .. } => {}
        }
    }

    fn on_sync_response(&mut self, peer: PeerId, request: SyncRequest, response: SyncResponse) {
        let node = self.node.clone();
        let now = Instant::now();
        let actions = match (request, response) {
            (SyncRequest::Status, SyncResponse::Status(s)) => {
                blocking(|| self.sync.on_status(peer, s, &*node, now))
            }
            (SyncRequest::Headers { .. }, SyncResponse::Headers(h)) => {
                blocking(|| self.sync.on_headers(peer, h, &*node, now))
            }
            (SyncRequest::Blocks(asked), SyncResponse::Blocks(blocks)) => {
                blocking(|| self.sync.on_blocks(peer, &asked, blocks, &*node, now))
            }
            (request, SyncResponse::Busy) => self.sync.on_request_failed(peer, &request, false),
            (request, _) => {
                let mut a = self.sync.on_request_failed(peer, &request, false);
                a.push(Action::Penalize {
                    peer,
                    offence: Offence::Unsolicited,
                });
                a
            }
        };
        self.apply(actions);
    }

    fn serve_blob(&self, request: BlobRequest) -> BlobResponse {
        let node = &*self.node;
        blocking(|| match request {
            BlobRequest::Have(id) => BlobResponse::Have(node.blob_len(&id)),
            BlobRequest::Get { id, offset, len } => match node.read_blob(&id, offset, len) {
                Ok(bytes) => BlobResponse::Chunk(bytes),
                Err(_) => BlobResponse::NotFound,
            },
        })
    }

    fn on_blob_event(&mut self, e: request_response::Event<Inbound<BlobRequest>, BlobResponse>) {
        use request_response::{Event, Message};
        match e {
            Event::Message {
                peer,
                message:
                    Message::Request {
                        request, channel, ..
                    },
                ..
            } => {
                let request = match request {
                    Inbound::Valid(r) => r,
                    Inbound::Malformed(e) => {
                        tracing::debug!(target: "p2p::blob", %peer, error = %e, "malformed request");
                        self.penalize(peer, Offence::Malformed);
                        return;
                    }
                };
                let response = match self.rate(peer, Traffic::BlobRequest) {
                    Verdict::Allowed => self.serve_blob(request),
                    _ => BlobResponse::Busy,
                };
                let _ = self
                    .swarm
                    .behaviour_mut()
                    .blobs
                    .send_response(channel, response);
            }
            Event::Message {
                message:
                    Message::Response {
                        request_id,
                        response,
                    },
                ..
            } => {
                if let Some(reply) = self.pending_blob.remove(&request_id) {
                    let _ = reply.send(Ok(response));
                }
            }
            Event::OutboundFailure {
                peer,
                request_id,
                error,
                ..
            } => {
                let wire = matches!(&error, request_response::OutboundFailure::Io(io) if is_wire_error(io));
                if wire {
                    self.penalize(peer, Offence::Malformed);
                }
                if let Some(reply) = self.pending_blob.remove(&request_id) {
                    let _ = reply.send(Err(P2pError::Request {
                        peer: peer.to_string(),
                        reason: error.to_string(),
                    }));
                }
            }
            Event::InboundFailure { peer, error, .. } => {
                if let request_response::InboundFailure::Io(io) = &error {
                    if is_wire_error(io) {
                        self.penalize(peer, Offence::Malformed);
                    }
                }
            }
            Event::ResponseSent { .. } => {}
        }
    }
}
