//! Can a learned model pick nonces that hash better than chance? (issue 3, point 7)
//!
//! Random 80-byte headers, a few hundred random nonces each. Label: SHA-256d of the header,
//! read as Bitcoin reads it (a little-endian number, most significant byte `hash[31]`), has at
//! least `k` leading zero bits. Features: the 640 header bits (nonce included) as ±1. Models:
//! logistic regression and a one-hidden-layer network (64 tanh units), both trained with SGD on
//! binary cross-entropy, in f32. Evaluated on held-out headers: accuracy against the majority
//! class, AUC, and the hit rate among the nonces each model ranks in its top 1/16 per header,
//! with a 95% Wilson interval, against a random ranking as control.
//!
//! `cargo run --release -p aic-miner --example ai_hashing [-- SEED]`
#![allow(missing_docs, clippy::print_stdout)]

use aic_miner::sha256d_header;

const TRAIN_HEADERS: usize = 2_000;
const TEST_HEADERS: usize = 4_000;
const NONCES: usize = 256;
const TOP: usize = NONCES / 16;
const FEATURES: usize = 640;
const HIDDEN: usize = 64;
const SEED: u64 = 0x00A1_C0DE_2026_0003;

/// xorshift64*: small, fixed seed, reproducible.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }
    /// Uniform in [-1, 1).
    fn symmetric(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
}

/// One (header with nonce, hash's top byte) sample; the label is derived per `k`.
struct Sample {
    header: [u8; 80],
    top_byte: u8,
}

fn label(s: &Sample, k: u32) -> bool {
    s.top_byte >> (8 - k) == 0
}

fn features(header: &[u8; 80], out: &mut [f32; FEATURES]) {
    for (i, byte) in header.iter().enumerate() {
        for b in 0..8 {
            out[i * 8 + b] = if byte >> b & 1 == 1 { 1.0 } else { -1.0 };
        }
    }
}

/// `headers` random headers, `NONCES` random nonces each, grouped per header.
fn make_data(rng: &mut Rng, headers: usize) -> Vec<Sample> {
    let mut data = Vec::with_capacity(headers * NONCES);
    for _ in 0..headers {
        let mut header = [0u8; 80];
        for chunk in header.chunks_mut(8) {
            chunk.copy_from_slice(&rng.next_u64().to_le_bytes());
        }
        for _ in 0..NONCES {
            header[76..80].copy_from_slice(&rng.next_u32().to_le_bytes());
            let hash = sha256d_header(&header);
            data.push(Sample {
                header,
                top_byte: hash[31],
            });
        }
    }
    data
}

fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(alpha: f32, x: &[f32], y: &mut [f32]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

trait Model {
    fn score(&self, x: &[f32; FEATURES]) -> f32;
    /// One SGD step on binary cross-entropy.
    fn step(&mut self, x: &[f32; FEATURES], y: f32, lr: f32);
}

struct Logistic {
    w: Vec<f32>,
    b: f32,
}

impl Model for Logistic {
    fn score(&self, x: &[f32; FEATURES]) -> f32 {
        sigmoid(dot(&self.w, x) + self.b)
    }
    fn step(&mut self, x: &[f32; FEATURES], y: f32, lr: f32) {
        let g = self.score(x) - y;
        axpy(-lr * g, x, &mut self.w);
        self.b -= lr * g;
    }
}

struct Mlp {
    w1: Vec<f32>, // HIDDEN rows of FEATURES
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: f32,
}

impl Mlp {
    fn new(rng: &mut Rng) -> Self {
        let s1 = 1.0 / (FEATURES as f32).sqrt();
        let s2 = 1.0 / (HIDDEN as f32).sqrt();
        Mlp {
            w1: (0..HIDDEN * FEATURES)
                .map(|_| rng.symmetric() * s1)
                .collect(),
            b1: vec![0.0; HIDDEN],
            w2: (0..HIDDEN).map(|_| rng.symmetric() * s2).collect(),
            b2: 0.0,
        }
    }
    fn hidden(&self, x: &[f32; FEATURES], h: &mut [f32; HIDDEN]) {
        for (j, row) in self.w1.chunks_exact(FEATURES).enumerate() {
            h[j] = (dot(row, x) + self.b1[j]).tanh();
        }
    }
}

impl Model for Mlp {
    fn score(&self, x: &[f32; FEATURES]) -> f32 {
        let mut h = [0.0; HIDDEN];
        self.hidden(x, &mut h);
        sigmoid(dot(&self.w2, &h) + self.b2)
    }
    fn step(&mut self, x: &[f32; FEATURES], y: f32, lr: f32) {
        let mut h = [0.0; HIDDEN];
        self.hidden(x, &mut h);
        let g = sigmoid(dot(&self.w2, &h) + self.b2) - y;
        for (j, row) in self.w1.chunks_exact_mut(FEATURES).enumerate() {
            let gh = g * self.w2[j] * (1.0 - h[j] * h[j]);
            axpy(-lr * gh, x, row);
            self.b1[j] -= lr * gh;
        }
        axpy(-lr * g, &h, &mut self.w2);
        self.b2 -= lr * g;
    }
}

fn train(model: &mut dyn Model, data: &[Sample], k: u32, epochs: usize, lr: f32, rng: &mut Rng) {
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut x = [0.0; FEATURES];
    for _ in 0..epochs {
        for i in (1..order.len()).rev() {
            let j = (rng.next_u64() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        for &i in &order {
            features(&data[i].header, &mut x);
            let y = if label(&data[i], k) { 1.0 } else { 0.0 };
            model.step(&x, y, lr);
        }
    }
}

/// 95% Wilson score interval for `hits` successes in `n` trials.
fn wilson(hits: usize, n: usize) -> (f64, f64) {
    let (n, p, z) = (n as f64, hits as f64 / n as f64, 1.96f64);
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (centre - half, centre + half)
}

/// AUC by the rank-sum (Mann–Whitney) statistic, ties averaged.
fn auc(scores: &[f32], labels: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let (mut rank_sum, mut pos) = (0.0f64, 0usize);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && scores[idx[j + 1]] == scores[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &t in &idx[i..=j] {
            if labels[t] {
                rank_sum += avg_rank;
                pos += 1;
            }
        }
        i = j + 1;
    }
    let neg = labels.len() - pos;
    (rank_sum - (pos * (pos + 1)) as f64 / 2.0) / (pos as f64 * neg as f64)
}

fn report(name: &str, k: u32, scores: &[f32], labels: &[bool]) {
    let base = 1.0 / f64::from(1u32 << k);
    let positives = labels.iter().filter(|&&l| l).count();
    let majority = positives.max(labels.len() - positives) as f64 / labels.len() as f64;
    let correct = scores
        .iter()
        .zip(labels)
        .filter(|&(&s, &l)| (s > 0.5) == l)
        .count();
    let accuracy = correct as f64 / labels.len() as f64;
    // Per header: hash only the TOP nonces the model ranks highest.
    let (mut hits, mut picked) = (0usize, 0usize);
    for (s, l) in scores.chunks(NONCES).zip(labels.chunks(NONCES)) {
        let mut idx: Vec<usize> = (0..s.len()).collect();
        idx.sort_by(|&a, &b| s[b].total_cmp(&s[a]));
        hits += idx[..TOP].iter().filter(|&&i| l[i]).count();
        picked += TOP;
    }
    let rate = hits as f64 / picked as f64;
    let (lo, hi) = wilson(hits, picked);
    println!(
        "| {k} | {name} | {:.4} | {:.4} | {:.4} | {hits}/{picked} | {:.4} | [{:.4}, {:.4}] | {:.3} [{:.2}, {:.2}] |",
        accuracy,
        majority,
        auc(scores, labels),
        rate,
        lo,
        hi,
        rate / base,
        lo / base,
        hi / base,
    );
}

fn scores(model: &dyn Model, data: &[Sample]) -> Vec<f32> {
    let mut x = [0.0; FEATURES];
    data.iter()
        .map(|s| {
            features(&s.header, &mut x);
            model.score(&x)
        })
        .collect()
}

fn main() {
    let start = std::time::Instant::now();
    let seed = match std::env::args().nth(1) {
        Some(arg) => arg.parse().expect("seed: a decimal u64"),
        None => SEED,
    };
    let mut rng = Rng(seed.max(1));
    let train_data = make_data(&mut rng, TRAIN_HEADERS);
    let test_data = make_data(&mut rng, TEST_HEADERS);
    println!(
        "train: {TRAIN_HEADERS} headers x {NONCES} nonces = {}; held out: {TEST_HEADERS} x {NONCES} = {}; \
         top 1/16 = {TOP} nonces per header; seed {seed:#x}",
        train_data.len(),
        test_data.len()
    );
    println!();
    println!("| k | model | accuracy | majority | AUC | top-1/16 hits | hit rate | 95% CI | speedup [95% CI] |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for k in [4u32, 1] {
        let labels: Vec<bool> = test_data.iter().map(|s| label(s, k)).collect();

        let mut logistic = Logistic {
            w: vec![0.0; FEATURES],
            b: 0.0,
        };
        train(&mut logistic, &train_data, k, 3, 0.005, &mut rng);
        report("logistic", k, &scores(&logistic, &test_data), &labels);

        let mut mlp = Mlp::new(&mut rng);
        train(&mut mlp, &train_data, k, 2, 0.005, &mut rng);
        report("MLP 640-64-1 tanh", k, &scores(&mlp, &test_data), &labels);

        let random: Vec<f32> = test_data.iter().map(|_| rng.symmetric()).collect();
        report("random ranking", k, &random, &labels);
    }
    println!();
    println!("{:.1} s", start.elapsed().as_secs_f64());
}
