//! The owner's switching policy, read from the worker's config (`[switcher]`).

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What the device does when switching is off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OwnerChoice {
    /// Mine all the time; AI jobs are refused.
    #[default]
    Mining,
    /// Take AI jobs (above the price floor) and never mine.
    AiJobs,
    /// Do nothing.
    Idle,
}

/// How the device is shared between mining and an assigned AI job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sharing {
    /// Mining fills every gap in which the job does not compute (data waits, between epochs,
    /// an idle renter) and yields within one search batch when the job resumes.
    #[default]
    FillGaps,
    /// Switch only between whole jobs: an assigned job holds the device from its acceptance
    /// to its end, waits included (the baseline the switcher is measured against).
    WholeJob,
}

/// Pause when other processes load the device.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OwnerActivity {
    /// Watch the owner's load at all.
    pub enabled: bool,
    /// Fraction (0..=1) of the device used by processes other than the worker's own above
    /// which the owner counts as active.
    pub load_threshold: f64,
    /// The load must stay above the threshold this long before the device pauses.
    pub sustain_ms: u64,
}

impl Default for OwnerActivity {
    fn default() -> Self {
        Self {
            enabled: true,
            load_threshold: 0.3,
            sustain_ms: 2_000,
        }
    }
}

/// What keeps owner-activity pauses from flapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Hysteresis {
    /// A pause for owner activity lasts at least this long.
    pub min_dwell_ms: u64,
    /// After the pause, the load must stay below the threshold this long before work resumes.
    pub cooldown_ms: u64,
}

impl Default for Hysteresis {
    fn default() -> Self {
        Self {
            min_dwell_ms: 10_000,
            cooldown_ms: 5_000,
        }
    }
}

/// The `[switcher]` section of the worker's config.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Switching on (the owner opts in): mine when there is no AI work, take AI work above the
    /// price floor. Off: the device stays on [`Policy::owner_choice`].
    pub enabled: bool,
    /// What the device does when switching is off.
    pub owner_choice: OwnerChoice,
    /// Take AI work paying at least this many AIC an hour; otherwise mine.
    pub price_floor_aic_per_hour: f64,
    /// How mining and an assigned job share the device.
    pub sharing: Sharing,
    /// The owner-activity rule.
    pub owner_activity: OwnerActivity,
    /// Hysteresis for owner-activity pauses.
    pub hysteresis: Hysteresis,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            enabled: false,
            owner_choice: OwnerChoice::Mining,
            price_floor_aic_per_hour: 0.0,
            sharing: Sharing::FillGaps,
            owner_activity: OwnerActivity::default(),
            hysteresis: Hysteresis::default(),
        }
    }
}

/// What the policy says about an AI job offered at a price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfferDecision {
    /// Take the job.
    Accept,
    /// The job pays less than the price floor: keep mining.
    BelowFloor,
    /// The owner takes no AI work (switching off and the owner chose mining or idle).
    AiOff,
}

impl Policy {
    /// A policy with switching on, gaps filled, and the given price floor.
    pub fn switching(price_floor_aic_per_hour: f64) -> Self {
        Self {
            enabled: true,
            price_floor_aic_per_hour,
            ..Self::default()
        }
    }

    /// True where the device may mine at all.
    pub fn mines(&self) -> bool {
        self.enabled || self.owner_choice == OwnerChoice::Mining
    }

    /// True where the device may take AI jobs at all.
    pub fn takes_ai(&self) -> bool {
        self.enabled || self.owner_choice == OwnerChoice::AiJobs
    }

    /// True where mining fills the gaps of an assigned job.
    pub fn fills_gaps(&self) -> bool {
        self.enabled && self.sharing == Sharing::FillGaps
    }

    /// Whether to take an AI job paying `aic_per_hour` (NaN is refused as below the floor).
    pub fn decide_offer(&self, aic_per_hour: f64) -> OfferDecision {
        if !self.takes_ai() {
            OfferDecision::AiOff
        } else if aic_per_hour >= self.price_floor_aic_per_hour {
            OfferDecision::Accept
        } else {
            OfferDecision::BelowFloor
        }
    }

    /// [`OwnerActivity::sustain_ms`] as a duration.
    pub fn sustain(&self) -> Duration {
        Duration::from_millis(self.owner_activity.sustain_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_floor_takes_ai_work_above_it_and_mines_below() {
        let policy = Policy::switching(0.5);
        assert_eq!(policy.decide_offer(0.75), OfferDecision::Accept);
        assert_eq!(policy.decide_offer(0.5), OfferDecision::Accept);
        assert_eq!(policy.decide_offer(0.25), OfferDecision::BelowFloor);
        assert_eq!(policy.decide_offer(f64::NAN), OfferDecision::BelowFloor);
        assert!(policy.mines());
    }

    #[test]
    fn switching_off_follows_the_owner_choice() {
        let mining = Policy::default();
        assert_eq!(mining.decide_offer(100.0), OfferDecision::AiOff);
        assert!(mining.mines());
        let ai = Policy {
            owner_choice: OwnerChoice::AiJobs,
            price_floor_aic_per_hour: 1.0,
            ..Policy::default()
        };
        assert_eq!(ai.decide_offer(2.0), OfferDecision::Accept);
        assert_eq!(ai.decide_offer(0.5), OfferDecision::BelowFloor);
        assert!(!ai.mines());
        assert!(!ai.fills_gaps());
    }

    #[test]
    fn config_section_parses_with_defaults_and_refuses_unknown_fields() {
        let policy: Policy = serde_json::from_str(
            r#"{"enabled": true, "price_floor_aic_per_hour": 0.4,
                "owner_activity": {"load_threshold": 0.5},
                "hysteresis": {"min_dwell_ms": 3000}}"#,
        )
        .unwrap();
        assert!(policy.enabled);
        assert_eq!(policy.price_floor_aic_per_hour, 0.4);
        assert_eq!(policy.owner_activity.load_threshold, 0.5);
        assert_eq!(policy.owner_activity.sustain_ms, 2_000);
        assert_eq!(policy.hysteresis.min_dwell_ms, 3_000);
        assert_eq!(policy.hysteresis.cooldown_ms, 5_000);
        assert_eq!(policy.sharing, Sharing::FillGaps);
        assert!(serde_json::from_str::<Policy>(r#"{"enabled": true, "floor": 1}"#).is_err());
    }
}
