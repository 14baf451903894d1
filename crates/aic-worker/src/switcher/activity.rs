//! The owner-activity rule with hysteresis: load samples in, at most one pause or resume out.
//!
//! The device pauses when the owner's load (other processes) stays above the threshold for
//! `sustain_ms`; it resumes only after at least `min_dwell_ms` paused *and* `cooldown_ms` of
//! load continuously at or below the threshold. A load oscillating around the threshold
//! therefore never flaps the device: short peaks never pause it, short troughs never resume it.

use std::time::Duration;

use super::machine::{Event, PauseCause};
use super::policy::Policy;

/// Turns load samples into owner-activity pause and resume events. Pure: time is passed in.
#[derive(Clone, Debug)]
pub struct ActivityGate {
    threshold: f64,
    sustain: Duration,
    min_dwell: Duration,
    cooldown: Duration,
    enabled: bool,
    above_since: Option<Duration>,
    below_since: Option<Duration>,
    paused_at: Option<Duration>,
}

impl ActivityGate {
    /// A gate for `policy`'s owner-activity rule and hysteresis.
    pub fn new(policy: &Policy) -> Self {
        Self {
            threshold: policy.owner_activity.load_threshold,
            sustain: policy.sustain(),
            min_dwell: Duration::from_millis(policy.hysteresis.min_dwell_ms),
            cooldown: Duration::from_millis(policy.hysteresis.cooldown_ms),
            enabled: policy.owner_activity.enabled,
            above_since: None,
            below_since: None,
            paused_at: None,
        }
    }

    /// True while the gate holds an activity pause.
    pub fn paused(&self) -> bool {
        self.paused_at.is_some()
    }

    /// Feeds the owner's load (`0..=1`, the part of the device other processes use) sampled at
    /// `now` (time since any fixed origin, non-decreasing). Returns the event to apply, if any.
    pub fn sample(&mut self, now: Duration, load: f64) -> Option<Event> {
        if !self.enabled {
            return None;
        }
        let above = load > self.threshold;
        match self.paused_at {
            None => {
                if !above {
                    self.above_since = None;
                    return None;
                }
                let since = *self.above_since.get_or_insert(now);
                if now.saturating_sub(since) < self.sustain {
                    return None;
                }
                self.paused_at = Some(now);
                self.above_since = None;
                self.below_since = None;
                Some(Event::OwnerPause(PauseCause::Activity))
            }
            Some(paused_at) => {
                if above {
                    self.below_since = None;
                    return None;
                }
                let since = *self.below_since.get_or_insert(now);
                if now.saturating_sub(paused_at) < self.min_dwell
                    || now.saturating_sub(since) < self.cooldown
                {
                    return None;
                }
                self.paused_at = None;
                self.below_since = None;
                Some(Event::OwnerResume(PauseCause::Activity))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::switcher::policy::{Hysteresis, OwnerActivity};

    fn policy(sustain_ms: u64, min_dwell_ms: u64, cooldown_ms: u64) -> Policy {
        Policy {
            owner_activity: OwnerActivity {
                enabled: true,
                load_threshold: 0.5,
                sustain_ms,
            },
            hysteresis: Hysteresis {
                min_dwell_ms,
                cooldown_ms,
            },
            ..Policy::switching(0.0)
        }
    }

    /// Samples every 100 ms: `high_s` seconds at 0.9, `osc_s` seconds alternating 0.3/0.7
    /// every 500 ms, then `low_s` seconds at 0.1. Returns the events with their times.
    fn feed(gate: &mut ActivityGate, high_s: u64, osc_s: u64, low_s: u64) -> Vec<(u64, Event)> {
        let mut events = Vec::new();
        let total = (high_s + osc_s + low_s) * 10;
        for i in 0..total {
            let ms = i * 100;
            let load = if ms < high_s * 1000 {
                0.9
            } else if ms < (high_s + osc_s) * 1000 {
                if (ms / 500) % 2 == 0 {
                    0.3
                } else {
                    0.7
                }
            } else {
                0.1
            };
            if let Some(e) = gate.sample(Duration::from_millis(ms), load) {
                events.push((ms, e));
            }
        }
        events
    }

    #[test]
    fn hysteresis_keeps_an_oscillating_load_from_flapping() {
        // Oscillation alone never pauses.
        let mut gate = ActivityGate::new(&policy(2_000, 10_000, 5_000));
        assert!(feed(&mut gate, 0, 60, 0).is_empty());
        // Sustained load pauses once; oscillation keeps it paused; calm resumes once.
        let mut gate = ActivityGate::new(&policy(2_000, 10_000, 5_000));
        let events = feed(&mut gate, 3, 60, 10);
        assert_eq!(
            events,
            vec![
                (2_000, Event::OwnerPause(PauseCause::Activity)),
                (68_000, Event::OwnerResume(PauseCause::Activity)),
            ]
        );
        // Without hysteresis the same signal flaps on every swing.
        let mut gate = ActivityGate::new(&policy(0, 0, 0));
        assert!(feed(&mut gate, 3, 60, 10).len() > 100);
    }

    #[test]
    fn the_minimum_dwell_holds_a_short_pause() {
        let mut gate = ActivityGate::new(&policy(1_000, 10_000, 1_000));
        let events = feed(&mut gate, 2, 0, 20);
        assert_eq!(events.len(), 2);
        // Paused at 1 s; load calm from 2 s; resume no earlier than 1 s + 10 s dwell.
        assert_eq!(events[1].0, 11_000);
    }

    #[test]
    fn a_disabled_rule_never_pauses() {
        let mut p = policy(0, 0, 0);
        p.owner_activity.enabled = false;
        let mut gate = ActivityGate::new(&p);
        assert!(feed(&mut gate, 10, 0, 0).is_empty());
    }
}
