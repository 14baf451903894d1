//! Peer hygiene: each offence costs a peer points, scores recover slowly, and a peer whose
//! score falls to the ban threshold is banned (disconnected and refused) for a while.
//!
//! The score here is the application's; it is also handed to gossipsub as its
//! application-specific score, so a misbehaving peer is pruned from the mesh before the ban.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use libp2p::PeerId;

/// Something a peer did wrong. Each has its own penalty ([`Offence::penalty`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Offence {
    /// Sent a block that breaks a consensus rule.
    InvalidBlock,
    /// Sent headers that do not link or do not meet their own target.
    InvalidHeaders,
    /// Sent a transaction that can never be valid.
    InvalidTx,
    /// Sent blob bytes that do not hash to the id asked for.
    InvalidBlob,
    /// Sent bytes that are not a canonical message, or a message over its size limit.
    Malformed,
    /// Is on another chain (another genesis).
    WrongChain,
    /// Sent requests or gossip faster than allowed.
    RateLimited,
    /// Answered with something not asked for (blocks with other hashes, a blob of another
    /// length).
    Unsolicited,
    /// Did not answer a request in time.
    Timeout,
}

impl Offence {
    /// Points the offence costs. The ban threshold is [`BAN_SCORE`].
    pub const fn penalty(self) -> f64 {
        match self {
            Offence::InvalidBlock | Offence::InvalidHeaders | Offence::WrongChain => 100.0,
            Offence::InvalidBlob | Offence::Malformed => 50.0,
            Offence::InvalidTx | Offence::Unsolicited => 20.0,
            Offence::RateLimited => 10.0,
            Offence::Timeout => 5.0,
        }
    }
}

/// A peer whose score falls to this is banned.
pub const BAN_SCORE: f64 = -100.0;
/// Points a score recovers per minute, towards zero.
pub const RECOVERY_PER_MINUTE: f64 = 6.0;

/// What a penalty led to.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Standing {
    /// The peer stays, with this score.
    Scored(f64),
    /// The peer's score reached the ban threshold.
    Ban,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    score: f64,
    updated: Instant,
}

/// The application scores of connected and recently seen peers.
#[derive(Debug, Default)]
pub struct PeerScores {
    scores: HashMap<PeerId, Entry>,
}

impl PeerScores {
    /// No scores yet.
    pub fn new() -> PeerScores {
        PeerScores::default()
    }

    fn recovered(e: &Entry, now: Instant) -> f64 {
        let minutes = now.saturating_duration_since(e.updated).as_secs_f64() / 60.0;
        (e.score + minutes * RECOVERY_PER_MINUTE).min(0.0)
    }

    /// The peer's score now (zero if it never offended).
    pub fn score(&self, peer: &PeerId, now: Instant) -> f64 {
        self.scores
            .get(peer)
            .map_or(0.0, |e| Self::recovered(e, now))
    }

    /// Charges `peer` for `offence`.
    pub fn penalize(&mut self, peer: PeerId, offence: Offence, now: Instant) -> Standing {
        let score = self.score(&peer, now) - offence.penalty();
        self.scores.insert(
            peer,
            Entry {
                score,
                updated: now,
            },
        );
        if score <= BAN_SCORE {
            Standing::Ban
        } else {
            Standing::Scored(score)
        }
    }

    /// Forgets peers whose score has recovered to zero (keeps the map small).
    pub fn prune(&mut self, now: Instant) {
        self.scores.retain(|_, e| Self::recovered(e, now) < 0.0);
    }

    /// Forgets a peer (after its ban was recorded).
    pub fn forget(&mut self, peer: &PeerId) {
        self.scores.remove(peer);
    }
}

/// The default length of a ban.
pub const DEFAULT_BAN: Duration = Duration::from_secs(24 * 60 * 60);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_invalid_block_bans_and_small_offences_add_up() {
        let now = Instant::now();
        let mut s = PeerScores::new();
        let (a, b) = (PeerId::random(), PeerId::random());
        assert_eq!(s.penalize(a, Offence::InvalidBlock, now), Standing::Ban);
        assert_eq!(
            s.penalize(b, Offence::Malformed, now),
            Standing::Scored(-50.0)
        );
        assert_eq!(
            s.penalize(b, Offence::Timeout, now),
            Standing::Scored(-55.0)
        );
        assert_eq!(s.penalize(b, Offence::Malformed, now), Standing::Ban);
    }

    #[test]
    fn scores_recover_towards_zero_and_are_pruned() {
        let now = Instant::now();
        let mut s = PeerScores::new();
        let a = PeerId::random();
        s.penalize(a, Offence::InvalidTx, now);
        let later = now + Duration::from_secs(60);
        assert!((s.score(&a, later) + 14.0).abs() < 1e-9);
        let much_later = now + Duration::from_secs(3600);
        assert_eq!(s.score(&a, much_later), 0.0);
        s.prune(much_later);
        assert!(s.scores.is_empty());
        // Recovered points do not bank: a new offence starts from zero.
        assert_eq!(
            s.penalize(a, Offence::Timeout, much_later),
            Standing::Scored(-5.0)
        );
    }
}
