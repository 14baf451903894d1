//! The record of who held a device when: one [`Interval`] per state, with whether its holder
//! was doing useful work, so useful time is measured from what happened, not assumed.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::machine::Task;

/// One stretch of time during which `task` held the device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// Who held the device.
    pub task: Task,
    /// True when the holder was working: mining threads hashing, or the AI job computing
    /// (between its `go` and its `wait`/`end`). False for idle, paused, the hand-over gaps,
    /// and a job holding the device while it waits (whole-job policy).
    pub working: bool,
    /// Start, from the timeline's origin.
    pub start: Duration,
    /// End, from the timeline's origin.
    pub end: Duration,
}

impl Interval {
    /// `end - start`.
    pub fn len(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// True for an empty interval.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Totals over a timeline.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Whole span.
    pub total: Duration,
    /// Mining threads hashing.
    pub mining: Duration,
    /// AI job computing.
    pub ai: Duration,
    /// Everything else: idle, paused, hand-overs, a job holding the device while it waits.
    pub lost: Duration,
}

impl Usage {
    /// (mining + ai) / total, 0 for an empty span.
    pub fn useful_fraction(&self) -> f64 {
        let total = self.total.as_secs_f64();
        if total == 0.0 {
            0.0
        } else {
            (self.mining + self.ai).as_secs_f64() / total
        }
    }
}

/// A device's intervals, in order and without gaps: each starts where the previous ended.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Timeline {
    #[serde(skip, default = "Instant::now")]
    origin: Instant,
    intervals: Vec<Interval>,
    open: Option<(Task, bool, Duration)>,
}

impl Timeline {
    /// An empty timeline whose origin is `origin`, with `task` holding the device from then.
    pub fn new(origin: Instant, task: Task, working: bool) -> Self {
        Self {
            origin,
            intervals: Vec::new(),
            open: Some((task, working, Duration::ZERO)),
        }
    }

    /// The origin all times are measured from.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// Closes the open interval at `at` and opens one for `task`. A change to the same task
    /// and working flag is ignored; a time before the open interval's start is clamped to it.
    pub fn record(&mut self, at: Instant, task: Task, working: bool) {
        let at = at.saturating_duration_since(self.origin);
        if let Some((open_task, open_working, start)) = self.open {
            if open_task == task && open_working == working {
                return;
            }
            let end = at.max(start);
            self.intervals.push(Interval {
                task: open_task,
                working: open_working,
                start,
                end,
            });
            self.open = Some((task, working, end));
        } else {
            self.open = Some((task, working, at));
        }
    }

    /// Closes the open interval at `at`.
    pub fn close(&mut self, at: Instant) {
        let at = at.saturating_duration_since(self.origin);
        if let Some((task, working, start)) = self.open.take() {
            self.intervals.push(Interval {
                task,
                working,
                start,
                end: at.max(start),
            });
        }
    }

    /// The closed intervals, in order (empty ones included).
    pub fn intervals(&self) -> &[Interval] {
        &self.intervals
    }

    /// The task holding the device now.
    pub fn current(&self) -> Option<Task> {
        self.open.map(|(task, _, _)| task)
    }

    /// Totals over the closed intervals between `from` and `to` (from the origin).
    pub fn usage_between(&self, from: Duration, to: Duration) -> Usage {
        let mut usage = Usage {
            total: to.saturating_sub(from),
            ..Usage::default()
        };
        for i in &self.intervals {
            let len = i.end.min(to).saturating_sub(i.start.max(from));
            match (i.task, i.working) {
                (Task::Mining, true) => usage.mining += len,
                (Task::AiJob, true) => usage.ai += len,
                _ => usage.lost += len,
            }
        }
        usage
    }

    /// Totals over every closed interval.
    pub fn usage(&self) -> Usage {
        let end = self.intervals.last().map_or(Duration::ZERO, |i| i.end);
        self.usage_between(Duration::ZERO, end)
    }
}

/// Working intervals of `task` in `a` that overlap working intervals of another task in `b`,
/// as pairs: empty when mining and AI work never ran on the device at the same time.
pub fn overlaps(a: &[Interval], b: &[Interval]) -> Vec<(Interval, Interval)> {
    let mut found = Vec::new();
    for x in a.iter().filter(|i| i.working && !i.is_empty()) {
        for y in b.iter().filter(|i| i.working && !i.is_empty()) {
            if x.task != y.task && x.start < y.end && y.start < x.end {
                found.push((*x, *y));
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_contiguous_intervals_and_sums_useful_time() {
        let origin = Instant::now();
        let ms = |n| origin + Duration::from_millis(n);
        let mut t = Timeline::new(origin, Task::Mining, true);
        t.record(ms(100), Task::Idle, false);
        t.record(ms(101), Task::AiJob, true);
        t.record(ms(101), Task::AiJob, true);
        t.record(ms(300), Task::AiJob, false);
        t.record(ms(400), Task::Mining, true);
        t.close(ms(1000));
        let intervals = t.intervals();
        assert_eq!(intervals.len(), 5);
        for pair in intervals.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
        }
        let usage = t.usage();
        assert_eq!(usage.total, Duration::from_millis(1000));
        assert_eq!(usage.mining, Duration::from_millis(700));
        assert_eq!(usage.ai, Duration::from_millis(199));
        assert_eq!(usage.lost, Duration::from_millis(101));
        assert!((usage.useful_fraction() - 0.899).abs() < 1e-9);
        assert!(overlaps(intervals, intervals).is_empty());
    }
}
