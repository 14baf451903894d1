//! Rate limits: a token bucket per peer and kind of traffic. A peer over its rate is answered
//! [`crate::wire::SyncResponse::Busy`] (requests) or ignored (gossip), and charged
//! [`crate::score::Offence::RateLimited`].

use std::collections::HashMap;
use std::time::Instant;

use libp2p::PeerId;

/// A token bucket: `burst` tokens, refilled at `per_sec`.
#[derive(Clone, Copy, Debug)]
pub struct Bucket {
    tokens: f64,
    burst: f64,
    per_sec: f64,
    last: Instant,
}

impl Bucket {
    /// A full bucket.
    pub fn new(burst: u32, per_sec: u32, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(burst),
            burst: f64::from(burst),
            per_sec: f64::from(per_sec),
            last: now,
        }
    }

    /// Takes one token. The bucket may go into debt down to minus its burst: while in debt
    /// the answer is [`Verdict::Busy`]; a peer that keeps sending past that is
    /// [`Verdict::Abusive`].
    pub fn take(&mut self, now: Instant) -> Verdict {
        let secs = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + secs * self.per_sec).min(self.burst);
        self.last = now;
        let verdict = if self.tokens >= 1.0 {
            Verdict::Allowed
        } else if self.tokens > -self.burst {
            Verdict::Busy
        } else {
            return Verdict::Abusive;
        };
        self.tokens -= 1.0;
        verdict
    }
}

/// What a rate limit makes of one more message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Within the rate: serve it.
    Allowed,
    /// Over the rate: answer busy (or ignore), no blame.
    Busy,
    /// Far over the rate (the bucket's debt is spent): charge the peer.
    Abusive,
}

/// The kinds of inbound traffic limited separately.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Traffic {
    /// Sync protocol requests.
    SyncRequest,
    /// Blob protocol requests.
    BlobRequest,
    /// Gossiped transactions and announcements.
    Gossip,
}

/// Limits per kind: (burst, per second).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimits {
    /// Sync requests.
    pub sync: (u32, u32),
    /// Blob requests.
    pub blob: (u32, u32),
    /// Gossip messages (blocks are not limited: their proof of work limits them).
    pub gossip: (u32, u32),
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            sync: (500, 250),
            blob: (500, 250),
            gossip: (1_000, 500),
        }
    }
}

/// Buckets of every peer.
#[derive(Debug, Default)]
pub struct PeerRates {
    limits: RateLimits,
    buckets: HashMap<(PeerId, Traffic), Bucket>,
}

impl PeerRates {
    /// Buckets with these limits.
    pub fn new(limits: RateLimits) -> PeerRates {
        PeerRates {
            limits,
            buckets: HashMap::new(),
        }
    }

    /// Whether `peer` may send one more message of `kind` now.
    pub fn check(&mut self, peer: PeerId, kind: Traffic, now: Instant) -> Verdict {
        let (burst, per_sec) = match kind {
            Traffic::SyncRequest => self.limits.sync,
            Traffic::BlobRequest => self.limits.blob,
            Traffic::Gossip => self.limits.gossip,
        };
        self.buckets
            .entry((peer, kind))
            .or_insert_with(|| Bucket::new(burst, per_sec, now))
            .take(now)
    }

    /// Forgets a disconnected peer.
    pub fn forget(&mut self, peer: &PeerId) {
        self.buckets.retain(|(p, _), _| p != peer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_then_the_rate() {
        let now = Instant::now();
        let mut r = PeerRates::new(RateLimits {
            sync: (3, 2),
            ..RateLimits::default()
        });
        let p = PeerId::random();
        let mut check = |p, k, t| r.check(p, k, t);
        assert!((0..3).all(|_| check(p, Traffic::SyncRequest, now) == Verdict::Allowed));
        // Three more are answered busy (the debt), then the peer is abusive.
        assert!((0..3).all(|_| check(p, Traffic::SyncRequest, now) == Verdict::Busy));
        assert_eq!(check(p, Traffic::SyncRequest, now), Verdict::Abusive);
        // Other kinds and other peers have their own buckets.
        assert_eq!(check(p, Traffic::BlobRequest, now), Verdict::Allowed);
        assert_eq!(
            check(PeerId::random(), Traffic::SyncRequest, now),
            Verdict::Allowed
        );
        // Four seconds at two per second pay the debt and refill one token... and more.
        let later = now + Duration::from_secs(4);
        assert_eq!(check(p, Traffic::SyncRequest, later), Verdict::Allowed);
        r.forget(&p);
        assert_eq!(r.check(p, Traffic::SyncRequest, later), Verdict::Allowed);
    }
}
