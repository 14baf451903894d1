//! The sync state machine: headers first, then blocks from several peers in parallel, then
//! blocks handed to the chain in chain order; orphans kept until their parent arrives.
//!
//! It does no IO: the service feeds it peer statuses, answers and failures with the time, it
//! calls the chain through [`NodeAccess`], and it returns the requests to send and the peers
//! to penalise as [`Action`]s.
//!
//! # Algorithm
//! 1. Peers exchange a [`Status`] on connecting and every `status_interval`. A peer whose
//!    tip has more work than ours is *ahead*.
//! 2. One header download runs at a time, from the ahead peer with the most work: a locator
//!    (our best chain, led by the last header queued) gets up to [`MAX_HEADERS`] headers. The
//!    headers must link, meet their own targets and attach to a block we have or have queued;
//!    otherwise the peer is charged [`Offence::InvalidHeaders`]. A full answer asks again at
//!    once.
//! 3. The hashes of headers we lack join a queue in chain order. Within a window at its front,
//!    pending blocks are asked for in batches of [`MAX_BLOCKS_PER_REQUEST`] from every ahead
//!    peer, up to `requests_per_peer` at a time each, fewest in flight first, so a slow peer
//!    holds back only its own batches.
//! 4. Blocks arrive in any order; the queue's front is handed to the chain while it is
//!    received. An invalid block charges the peer that sent it and clears the queue (its
//!    descendants cannot be valid). A block a peer did not send comes back to pending and is
//!    not asked of that peer again.
//! 5. A gossiped block whose parent is unknown is kept as an orphan and starts a header
//!    download from its sender; when a block is connected, its orphaned children follow.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use aic_primitives::{Block, BlockHeader, Hash256, Target, Work};
use libp2p::PeerId;

use crate::orphans::Orphans;
use crate::score::Offence;
use crate::traits::{BlockVerdict, NodeAccess};
use crate::wire::{check_headers, Status, SyncRequest, MAX_BLOCKS_PER_REQUEST, MAX_HEADERS};

/// Tuning of the sync state machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyncConfig {
    /// Block requests in flight per peer.
    pub requests_per_peer: usize,
    /// Blocks at the queue's front that may be asked for (bounds memory of blocks received out
    /// of order).
    pub window: usize,
    /// How often each peer is asked for its status.
    pub status_interval: Duration,
}

impl Default for SyncConfig {
    fn default() -> Self {
        SyncConfig {
            requests_per_peer: 4,
            window: 1_024,
            status_interval: Duration::from_secs(5),
        }
    }
}

/// What the service is to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send `request` to `peer`.
    Request {
        /// The peer.
        peer: PeerId,
        /// The request.
        request: SyncRequest,
    },
    /// Charge `peer` for `offence`.
    Penalize {
        /// The peer.
        peer: PeerId,
        /// What it did.
        offence: Offence,
    },
}

#[derive(Debug)]
enum Slot {
    Pending,
    InFlight(PeerId),
    Received(Block, PeerId),
}

#[derive(Debug)]
struct Entry {
    hash: Hash256,
    slot: Slot,
    /// Peers that were asked for it and did not send it.
    lacking: Vec<PeerId>,
}

#[derive(Debug, Default)]
struct PeerSync {
    status: Option<Status>,
    block_requests: usize,
    last_status: Option<Instant>,
    /// The peer's tip when a header download from it last completed: its headers are
    /// queued or known, so it is not asked again until its tip changes.
    headers_done_at: Option<Hash256>,
}

/// Counters for reports and benchmarks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncStats {
    /// Headers accepted into the queue.
    pub headers: u64,
    /// Blocks handed to the chain from sync answers.
    pub blocks: u64,
    /// Orphans connected once their parent arrived.
    pub orphans_connected: u64,
}

/// The sync state machine.
#[derive(Debug)]
pub struct Sync {
    config: SyncConfig,
    pow_limit: Target,
    peers: HashMap<PeerId, PeerSync>,
    queue: VecDeque<Entry>,
    queued: HashSet<Hash256>,
    headers_from: Option<PeerId>,
    orphans: Orphans,
    stats: SyncStats,
}

impl Sync {
    /// A state machine for a chain whose easiest target is `pow_limit`.
    pub fn new(config: SyncConfig, pow_limit: Target) -> Sync {
        Sync {
            config,
            pow_limit,
            peers: HashMap::new(),
            queue: VecDeque::new(),
            queued: HashSet::new(),
            headers_from: None,
            orphans: Orphans::default(),
            stats: SyncStats::default(),
        }
    }

    /// Counters so far.
    pub fn stats(&self) -> SyncStats {
        self.stats
    }

    /// Blocks queued for download (not yet handed to the chain).
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// The tip height `peer` last reported.
    pub fn peer_height(&self, peer: &PeerId) -> Option<u64> {
        self.peers.get(peer)?.status.map(|s| s.height.0)
    }

    /// Orphans held.
    pub fn orphans(&self) -> usize {
        self.orphans.len()
    }

    /// A peer connected: ask its status.
    pub fn on_connected(&mut self, peer: PeerId, now: Instant) -> Vec<Action> {
        self.peers.insert(
            peer,
            PeerSync {
                last_status: Some(now),
                ..PeerSync::default()
            },
        );
        vec![Action::Request {
            peer,
            request: SyncRequest::Status,
        }]
    }

    /// A peer left: what it was asked for goes back to pending.
    pub fn on_disconnected(&mut self, peer: &PeerId) {
        self.peers.remove(peer);
        if self.headers_from == Some(*peer) {
            self.headers_from = None;
        }
        for e in &mut self.queue {
            if matches!(e.slot, Slot::InFlight(p) if p == *peer) {
                e.slot = Slot::Pending;
            }
        }
    }

    /// A peer's status arrived (answer or update).
    pub fn on_status(
        &mut self,
        peer: PeerId,
        status: Status,
        node: &dyn NodeAccess,
        now: Instant,
    ) -> Vec<Action> {
        if status.genesis != node.genesis() {
            return vec![Action::Penalize {
                peer,
                offence: Offence::WrongChain,
            }];
        }
        if let Some(p) = self.peers.get_mut(&peer) {
            p.status = Some(status);
        }
        self.tick(node, now)
    }

    /// A peer is known to have block `hash` with at least `work` (it gossiped it).
    fn note_peer_has(&mut self, peer: PeerId, hash: Hash256, height_hint: Option<u64>) {
        if let Some(p) = self.peers.get_mut(&peer) {
            if let (Some(s), Some(h)) = (p.status.as_mut(), height_hint) {
                if h > s.height.0 {
                    s.height = aic_primitives::Height(h);
                    s.tip = hash;
                }
            }
        }
    }

    fn ahead(&self, ours: Work) -> Vec<(PeerId, Work)> {
        let mut v: Vec<(PeerId, Work)> = self
            .peers
            .iter()
            .filter_map(|(p, s)| s.status.filter(|s| s.work > ours).map(|s| (*p, s.work)))
            .collect();
        v.sort_by_key(|(_, work)| std::cmp::Reverse(*work));
        v
    }

    fn headers_request(&self, node: &dyn NodeAccess) -> SyncRequest {
        let mut locator = Vec::new();
        if let Some(last) = self.queue.back() {
            locator.push(last.hash);
        }
        locator.extend(node.locator());
        locator.truncate(crate::wire::MAX_LOCATOR);
        SyncRequest::Headers {
            locator,
            max: MAX_HEADERS as u16,
        }
    }

    /// Periodic work: status refreshes, a header download if a peer is ahead, block requests.
    pub fn tick(&mut self, node: &dyn NodeAccess, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        for (peer, s) in &mut self.peers {
            let due = s
                .last_status
                .is_none_or(|t| now.saturating_duration_since(t) >= self.config.status_interval);
            if due {
                s.last_status = Some(now);
                actions.push(Action::Request {
                    peer: *peer,
                    request: SyncRequest::Status,
                });
            }
        }
        let tip = node.tip();
        if self.headers_from.is_none() && self.queue.len() < self.config.window {
            let candidate = self.ahead(tip.work).into_iter().find(|(p, _)| {
                self.peers.get(p).is_some_and(|s| {
                    s.status.is_some_and(|st| {
                        s.headers_done_at != Some(st.tip)
                            && !self.queued.contains(&st.tip)
                            && !node.has_block(&st.tip)
                    })
                })
            });
            if let Some((peer, _)) = candidate {
                self.headers_from = Some(peer);
                actions.push(Action::Request {
                    peer,
                    request: self.headers_request(node),
                });
            }
        }
        self.schedule(tip.work, &mut actions);
        actions
    }

    fn schedule(&mut self, ours: Work, actions: &mut Vec<Action>) {
        let mut peers = self.ahead(ours);
        // Fewest requests in flight first, so the load spreads over every ahead peer.
        peers.sort_by_key(|(p, _)| self.peers.get(p).map_or(0, |s| s.block_requests));
        for (peer, _) in peers {
            loop {
                let in_flight = self
                    .peers
                    .get(&peer)
                    .map_or(usize::MAX, |s| s.block_requests);
                if in_flight >= self.config.requests_per_peer {
                    break;
                }
                let batch: Vec<Hash256> = self
                    .queue
                    .iter_mut()
                    .take(self.config.window)
                    .filter(|e| matches!(e.slot, Slot::Pending) && !e.lacking.contains(&peer))
                    .take(MAX_BLOCKS_PER_REQUEST)
                    .map(|e| {
                        e.slot = Slot::InFlight(peer);
                        e.hash
                    })
                    .collect();
                if batch.is_empty() {
                    break;
                }
                if let Some(s) = self.peers.get_mut(&peer) {
                    s.block_requests += 1;
                }
                actions.push(Action::Request {
                    peer,
                    request: SyncRequest::Blocks(batch),
                });
            }
        }
    }

    /// Headers arrived from `peer`.
    pub fn on_headers(
        &mut self,
        peer: PeerId,
        headers: Vec<BlockHeader>,
        node: &dyn NodeAccess,
        now: Instant,
    ) -> Vec<Action> {
        if self.headers_from == Some(peer) {
            self.headers_from = None;
        }
        let penalize = |offence| vec![Action::Penalize { peer, offence }];
        if let Err(e) = check_headers(&headers, &self.pow_limit) {
            tracing::debug!(target: "p2p::sync", %peer, error = %e, "invalid headers");
            return penalize(Offence::InvalidHeaders);
        }
        let full = headers.len() >= MAX_HEADERS;
        if !full {
            // The peer's chain (as of its status) is queued or known.
            if let Some(p) = self.peers.get_mut(&peer) {
                p.headers_done_at = p.status.map(|s| s.tip);
            }
        }
        let Some(first) = headers.first() else {
            return self.tick(node, now);
        };
        let parent = first.prev_hash;
        if !node.has_block(&parent) && !self.queued.contains(&parent) {
            tracing::debug!(target: "p2p::sync", %peer, "headers do not attach");
            return penalize(Offence::Unsolicited);
        }
        for h in &headers {
            let hash = h.hash();
            if node.has_block(&hash) || self.queued.contains(&hash) {
                continue;
            }
            self.queued.insert(hash);
            self.queue.push_back(Entry {
                hash,
                slot: Slot::Pending,
                lacking: Vec::new(),
            });
            self.stats.headers += 1;
        }
        let mut actions = Vec::new();
        if full && self.queue.len() < self.config.window * 4 {
            self.headers_from = Some(peer);
            actions.push(Action::Request {
                peer,
                request: self.headers_request(node),
            });
        }
        actions.extend(self.tick(node, now));
        actions
    }

    /// Blocks arrived from `peer` in answer to asking for `asked`.
    pub fn on_blocks(
        &mut self,
        peer: PeerId,
        asked: &[Hash256],
        blocks: Vec<Block>,
        node: &dyn NodeAccess,
        now: Instant,
    ) -> Vec<Action> {
        if let Some(s) = self.peers.get_mut(&peer) {
            s.block_requests = s.block_requests.saturating_sub(1);
        }
        let mut actions = Vec::new();
        let mut got = HashSet::new();
        for block in blocks {
            let hash = block.hash();
            if !asked.contains(&hash) || !got.insert(hash) {
                actions.push(Action::Penalize {
                    peer,
                    offence: Offence::Unsolicited,
                });
                continue;
            }
            if let Some(e) = self.queue.iter_mut().find(|e| e.hash == hash) {
                e.slot = Slot::Received(block, peer);
            }
        }
        for e in &mut self.queue {
            if asked.contains(&e.hash) && !got.contains(&e.hash) {
                if matches!(e.slot, Slot::InFlight(p) if p == peer) {
                    e.slot = Slot::Pending;
                }
                e.lacking.push(peer);
            }
        }
        self.drop_unobtainable();
        actions.extend(self.connect_front(node));
        actions.extend(self.tick(node, now));
        actions
    }

    /// A request to `peer` failed (timeout, closed connection, refused).
    pub fn on_request_failed(
        &mut self,
        peer: PeerId,
        request: &SyncRequest,
        timed_out: bool,
    ) -> Vec<Action> {
        match request {
            SyncRequest::Headers { .. } if self.headers_from == Some(peer) => {
                self.headers_from = None;
            }
            SyncRequest::Blocks(asked) => {
                if let Some(s) = self.peers.get_mut(&peer) {
                    s.block_requests = s.block_requests.saturating_sub(1);
                }
                for e in &mut self.queue {
                    if asked.contains(&e.hash) && matches!(e.slot, Slot::InFlight(p) if p == peer) {
                        e.slot = Slot::Pending;
                        e.lacking.push(peer);
                    }
                }
                self.drop_unobtainable();
            }
            _ => {}
        }
        if timed_out {
            vec![Action::Penalize {
                peer,
                offence: Offence::Timeout,
            }]
        } else {
            Vec::new()
        }
    }

    /// When every connected peer lacks the front block, the queue cannot progress: drop it;
    /// the next header download starts again from the chain.
    fn drop_unobtainable(&mut self) {
        let stuck = self.queue.front().is_some_and(|e| {
            matches!(e.slot, Slot::Pending) && self.peers.keys().all(|p| e.lacking.contains(p))
        });
        if stuck {
            tracing::debug!(target: "p2p::sync", queued = self.queue.len(), "no peer has the next block; dropping the queue");
            self.clear_queue();
        }
    }

    fn clear_queue(&mut self) {
        self.queue.clear();
        self.queued.clear();
    }

    /// Hands the received blocks at the queue's front to the chain, in order.
    fn connect_front(&mut self, node: &dyn NodeAccess) -> Vec<Action> {
        let mut actions = Vec::new();
        while let Some(front) = self.queue.front() {
            if !matches!(front.slot, Slot::Received(..)) {
                if node.has_block(&front.hash) {
                    // It came by gossip meanwhile.
                    let e = self.queue.pop_front();
                    if let Some(e) = e {
                        self.queued.remove(&e.hash);
                    }
                    continue;
                }
                break;
            }
            let Some(Entry {
                hash,
                slot: Slot::Received(block, from),
                ..
            }) = self.queue.pop_front()
            else {
                break;
            };
            self.queued.remove(&hash);
            self.stats.blocks += 1;
            match node.submit_block(block) {
                BlockVerdict::Accepted { .. } | BlockVerdict::Duplicate => {
                    actions.extend(self.connect_orphans(hash, node));
                }
                BlockVerdict::Invalid(reason) => {
                    tracing::debug!(target: "p2p::sync", peer = %from, %hash, %reason, "invalid block from sync");
                    actions.push(Action::Penalize {
                        peer: from,
                        offence: Offence::InvalidBlock,
                    });
                    self.clear_queue();
                }
                BlockVerdict::Orphan | BlockVerdict::Ignored(_) => {
                    tracing::debug!(target: "p2p::sync", %hash, "sync block not connected; dropping the queue");
                    self.clear_queue();
                }
            }
        }
        actions
    }

    /// Connects orphans waiting for `parent` (and theirs, in turn).
    fn connect_orphans(&mut self, parent: Hash256, node: &dyn NodeAccess) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut parents = vec![parent];
        while let Some(p) = parents.pop() {
            for (block, from) in self.orphans.take_children(&p) {
                let hash = block.hash();
                match node.submit_block(block) {
                    BlockVerdict::Accepted { .. } | BlockVerdict::Duplicate => {
                        self.stats.orphans_connected += 1;
                        parents.push(hash);
                    }
                    BlockVerdict::Invalid(_) => actions.push(Action::Penalize {
                        peer: from,
                        offence: Offence::InvalidBlock,
                    }),
                    BlockVerdict::Orphan | BlockVerdict::Ignored(_) => {}
                }
            }
        }
        actions
    }

    /// A block arrived by gossip from `peer`. Returns the chain's verdict (the service tells
    /// gossipsub whether to relay it) and what to do.
    pub fn on_gossip_block(
        &mut self,
        peer: PeerId,
        block: Block,
        node: &dyn NodeAccess,
        now: Instant,
    ) -> (BlockVerdict, Vec<Action>) {
        let hash = block.hash();
        if self.orphans.contains(&hash) {
            return (BlockVerdict::Orphan, Vec::new());
        }
        let verdict = node.submit_block(block.clone());
        let mut actions = Vec::new();
        match &verdict {
            BlockVerdict::Accepted { .. } => {
                let height = node.tip().height.0;
                self.note_peer_has(peer, hash, Some(height));
                actions.extend(self.connect_orphans(hash, node));
            }
            BlockVerdict::Duplicate | BlockVerdict::Ignored(_) => {}
            BlockVerdict::Invalid(_) => actions.push(Action::Penalize {
                peer,
                offence: Offence::InvalidBlock,
            }),
            BlockVerdict::Orphan => {
                self.orphans.insert(block, peer, now);
                // The sender has blocks we lack: fetch the headers before this one from it.
                if let Some(p) = self.peers.get_mut(&peer) {
                    let ours = node.tip();
                    let s = p.status.get_or_insert(Status {
                        genesis: node.genesis(),
                        tip: hash,
                        height: ours.height,
                        work: ours.work,
                    });
                    // At least one block more than we have.
                    if s.work <= ours.work {
                        s.work = ours.work.saturating_add(Work(1u8.into()));
                    }
                }
                if self.headers_from.is_none() {
                    self.headers_from = Some(peer);
                    actions.push(Action::Request {
                        peer,
                        request: self.headers_request(node),
                    });
                }
            }
        }
        (verdict, actions)
    }

    /// Drops expired orphans.
    pub fn expire(&mut self, now: Instant) {
        self.orphans.expire(now);
    }
}

#[cfg(test)]
#[path = "sync/tests.rs"]
mod tests;
