//! Learning-rate schedule: linear warm-up, then cosine decay to a floor. A pure function of
//! the step, so a resumed or replayed run uses exactly the same rates.

use serde::{Deserialize, Serialize};

/// Warm-up plus cosine decay.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Schedule {
    /// Peak learning rate.
    pub peak: f64,
    /// Steps of linear warm-up from `peak / warmup` to `peak`.
    pub warmup: u64,
    /// Total steps of the run; the rate reaches `peak * floor` there.
    pub total: u64,
    /// Final rate as a fraction of the peak.
    pub floor: f64,
}

impl Schedule {
    /// The learning rate of step `step` (0-based).
    pub fn rate(&self, step: u64) -> f64 {
        if step < self.warmup {
            return self.peak * (step + 1) as f64 / self.warmup as f64;
        }
        let span = self.total.saturating_sub(self.warmup).max(1);
        let t = ((step - self.warmup) as f64 / span as f64).min(1.0);
        let cos = 0.5 * (1.0 + (std::f64::consts::PI * t).cos());
        self.peak * (self.floor + (1.0 - self.floor) * cos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warmup_then_decay_to_floor() {
        let s = Schedule {
            peak: 1.0,
            warmup: 10,
            total: 110,
            floor: 0.1,
        };
        assert!((s.rate(0) - 0.1).abs() < 1e-12);
        assert!((s.rate(9) - 1.0).abs() < 1e-12);
        assert!((s.rate(10) - 1.0).abs() < 1e-12);
        assert!((s.rate(60) - 0.55).abs() < 1e-12);
        assert!((s.rate(110) - 0.1).abs() < 1e-12);
        assert!((s.rate(1_000) - 0.1).abs() < 1e-12);
    }
}
