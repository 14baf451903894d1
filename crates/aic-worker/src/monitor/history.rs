//! A bounded ring buffer of samples: the short history the monitor keeps.

use std::collections::VecDeque;

use super::sample::Sample;

/// The last `capacity` samples, oldest first.
#[derive(Clone, Debug)]
pub struct History {
    samples: VecDeque<Sample>,
    capacity: usize,
}

impl History {
    /// An empty history that keeps at most `capacity` samples (at least one).
    pub fn new(capacity: usize) -> History {
        let capacity = capacity.max(1);
        History {
            samples: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Adds a sample, dropping the oldest when full.
    pub fn push(&mut self, sample: Sample) {
        if self.samples.len() == self.capacity {
            self.samples.pop_front();
        }
        self.samples.push_back(sample);
    }

    /// Samples kept.
    pub fn len(&self) -> usize {
        self.samples.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Most samples kept.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The newest sample.
    pub fn latest(&self) -> Option<&Sample> {
        self.samples.back()
    }

    /// The newest `n` samples, oldest first.
    pub fn last(&self, n: usize) -> Vec<Sample> {
        let skip = self.samples.len().saturating_sub(n);
        self.samples.iter().skip(skip).cloned().collect()
    }

    /// Every sample, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Sample> {
        self.samples.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Sample {
        Sample {
            at_ms: ms,
            devices: Vec::new(),
        }
    }

    #[test]
    fn keeps_the_newest_up_to_capacity() {
        let mut h = History::new(3);
        assert!(h.is_empty() && h.latest().is_none());
        for ms in 0..10 {
            h.push(at(ms));
            assert!(h.len() <= 3);
        }
        assert_eq!(h.len(), h.capacity());
        let kept: Vec<u64> = h.iter().map(|s| s.at_ms).collect();
        assert_eq!(kept, [7, 8, 9]);
        assert_eq!(h.latest().unwrap().at_ms, 9);
        assert_eq!(
            h.last(2).iter().map(|s| s.at_ms).collect::<Vec<_>>(),
            [8, 9]
        );
        assert_eq!(h.last(99).len(), 3);
        assert_eq!(History::new(0).capacity(), 1);
    }
}
