//! The loader's sample order: a pure function of `(seed, epoch, shard sample counts, window)`,
//! so every worker, whatever its thread count, replays the same order, and a run can resume at
//! any position. The generators are implemented here (SplitMix64 and xoshiro256**), so the
//! order never depends on another crate's algorithm choices. `docs/data-format.md` states the
//! function precisely enough to reimplement it.

/// SplitMix64 (Steele, Lea, Flood 2014), used to seed xoshiro256**.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator whose state is `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman, Vigna 2018).
#[derive(Clone, Debug)]
pub struct Xoshiro256 {
    s: [u64; 4],
}

impl Xoshiro256 {
    /// The generator of stream `stream` of epoch `epoch` under `seed`: with `a` the first
    /// output of `SplitMix64(seed)`, `b` the first output of `SplitMix64(a ^ epoch)`, the state
    /// is the first four outputs of `SplitMix64(b ^ stream)`.
    pub fn for_stream(seed: u64, epoch: u64, stream: u64) -> Self {
        let a = SplitMix64::new(seed).next_u64();
        let b = SplitMix64::new(a ^ epoch).next_u64();
        let mut sm = SplitMix64::new(b ^ stream);
        Self {
            s: [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()],
        }
    }

    /// The next output.
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform integer in `0..n` (`n > 0`) by Lemire's multiply-and-reject: with `x` the
    /// next output and `m = x * n` in 128 bits, reject while `(m mod 2^64) < (2^64 - n) mod n`,
    /// return `m >> 64`.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(n);
            if (m as u64) >= threshold {
                return (m >> 64) as u64;
            }
        }
    }

    /// Fisher-Yates from the end: for `i` from `len - 1` down to 1, swap `i` with
    /// `below(i + 1)`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Where one sample of an epoch comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SampleRef {
    /// Position of the shard in the split's shard list (not the manifest's shard index).
    pub shard: u32,
    /// Sample index inside that shard.
    pub sample: u64,
}

/// The order of one epoch over a split whose shards hold `counts` samples, computed window by
/// window: shards are permuted (stream 0), cut into windows of `window` consecutive permuted
/// shards, and each window's samples (its shards' samples in permuted shard order, each shard's
/// in index order) shuffled by stream `w + 1`. With `shuffle == false` the order is the
/// split's order: no permutation at all.
#[derive(Clone, Debug)]
pub struct EpochOrder {
    seed: u64,
    epoch: u64,
    window: usize,
    shuffle: bool,
    counts: Vec<u64>,
    /// Shards (positions in the split) in reading order.
    shard_order: Vec<u32>,
    /// First global position of each window, and one past the last.
    window_starts: Vec<u64>,
}

impl EpochOrder {
    /// The order of epoch `epoch`; `window` is clamped to at least 1.
    pub fn new(seed: u64, epoch: u64, counts: &[u64], window: usize, shuffle: bool) -> Self {
        let window = window.max(1);
        let mut shard_order: Vec<u32> = (0..counts.len() as u32).collect();
        if shuffle {
            Xoshiro256::for_stream(seed, epoch, 0).shuffle(&mut shard_order);
        }
        let mut window_starts = vec![0u64];
        for chunk in shard_order.chunks(window) {
            let n: u64 = chunk.iter().map(|&s| counts[s as usize]).sum();
            window_starts.push(window_starts.last().copied().unwrap_or(0) + n);
        }
        Self {
            seed,
            epoch,
            window,
            shuffle,
            counts: counts.to_vec(),
            shard_order,
            window_starts,
        }
    }

    /// Samples in the epoch.
    pub fn len(&self) -> u64 {
        self.window_starts.last().copied().unwrap_or(0)
    }

    /// Whether the epoch has no sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Shards (positions in the split) in the order they are read.
    pub fn shard_order(&self) -> &[u32] {
        &self.shard_order
    }

    /// Number of windows.
    pub fn windows(&self) -> usize {
        self.window_starts.len() - 1
    }

    /// Index in [`shard_order`](Self::shard_order) of window `w`'s first shard.
    pub fn first_shard_of_window(&self, w: usize) -> usize {
        w.saturating_mul(self.window).min(self.shard_order.len())
    }

    /// The shards of window `w`, in permuted order.
    pub fn window_shards(&self, w: usize) -> &[u32] {
        let start = self.first_shard_of_window(w);
        let end = self.first_shard_of_window(w + 1);
        &self.shard_order[start..end]
    }

    /// First global position of window `w` (the epoch length for `w == windows()`).
    pub fn window_start(&self, w: usize) -> u64 {
        self.window_starts[w.min(self.windows())]
    }

    /// The window holding global position `position` (`windows()` past the end).
    pub fn window_of(&self, position: u64) -> usize {
        self.window_starts[1..].partition_point(|&end| end <= position)
    }

    /// The samples of window `w` in reading order.
    pub fn window_samples(&self, w: usize) -> Vec<SampleRef> {
        let mut samples: Vec<SampleRef> = self
            .window_shards(w)
            .iter()
            .flat_map(|&shard| {
                (0..self.counts[shard as usize]).map(move |sample| SampleRef { shard, sample })
            })
            .collect();
        if self.shuffle {
            Xoshiro256::for_stream(self.seed, self.epoch, w as u64 + 1).shuffle(&mut samples);
        }
        samples
    }

    /// The whole epoch (for tests and other implementations to compare with).
    pub fn all(&self) -> Vec<SampleRef> {
        (0..self.windows())
            .flat_map(|w| self.window_samples(w))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_outputs() {
        // SplitMix64 from 0 and xoshiro256** from state [1, 2, 3, 4]: the published vectors.
        let mut sm = SplitMix64::new(0);
        assert_eq!(sm.next_u64(), 0xe220_a839_7b1d_cdaf);
        assert_eq!(sm.next_u64(), 0x6e78_9e6a_a1b9_65f4);
        let mut x = Xoshiro256 { s: [1, 2, 3, 4] };
        assert_eq!(x.next_u64(), 11_520);
        assert_eq!(x.next_u64(), 0);
        assert_eq!(x.next_u64(), 1_509_978_240);
    }

    #[test]
    fn order_is_a_permutation_and_depends_on_seed_and_epoch() {
        let counts = [5u64, 0, 7, 3, 9];
        let order = EpochOrder::new(7, 0, &counts, 2, true);
        assert_eq!(order.len(), 24);
        let mut all = order.all();
        assert_eq!(all, EpochOrder::new(7, 0, &counts, 2, true).all());
        assert_ne!(all, EpochOrder::new(7, 1, &counts, 2, true).all());
        assert_ne!(all, EpochOrder::new(8, 0, &counts, 2, true).all());
        all.sort_by_key(|r| (r.shard, r.sample));
        let expected: Vec<SampleRef> = counts
            .iter()
            .enumerate()
            .flat_map(|(s, &n)| {
                (0..n).map(move |i| SampleRef {
                    shard: s as u32,
                    sample: i,
                })
            })
            .collect();
        assert_eq!(all, expected);
        let plain = EpochOrder::new(7, 0, &counts, 2, false).all();
        assert_eq!(plain, expected);
        for p in 0..order.len() {
            let w = order.window_of(p);
            assert!(order.window_start(w) <= p && p < order.window_start(w + 1));
        }
        assert_eq!(order.window_of(order.len()), order.windows());
    }

    #[test]
    fn below_is_in_range_and_roughly_uniform() {
        let mut x = Xoshiro256::for_stream(1, 2, 3);
        let mut hist = [0u32; 7];
        for _ in 0..70_000 {
            hist[x.below(7) as usize] += 1;
        }
        assert!(
            hist.iter().all(|&h| (9_000..11_000).contains(&h)),
            "{hist:?}"
        );
    }
}
