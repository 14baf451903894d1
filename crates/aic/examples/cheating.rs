//! Cheating measured: dishonest providers against the market's verification policy.
//!
//! Trains the keyword-spotting model on FSDD (the committed sample by default) with checkpoints
//! on a fixed grid, then plays five providers (honest; skipping a fraction of the segments;
//! random weights; weights copied from another run; a forged transcript interpolated between
//! the first and the last checkpoint). For every segment of every provider's transcript a
//! verifier really replays it (`Trainer::replay`) and compares the checkpoint id. From those
//! outcomes it reports the detection rate against the number of sampled segments (exact, and
//! by drawing segments the way the ledger does), the verification cost as a fraction of the
//! training cost (measured), and where cheating stops paying.
//!
//! `cargo run --release -p aic --example cheating [-- FSDD_DIR]` (docs/economics.md).
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use aic_ledger::market::draw_indices;
use aic_ml::checkpoint::Checkpoint;
use aic_ml::models::kws::{KwsConfig, KwsDsCnn};
use aic_ml::rng::Rng;
use aic_ml::tasks::keyword::KeywordTask;
use aic_ml::train::{Control, TrainConfig, Trainer};
use aic_model::LogMelParams;
use aic_primitives::sha256;
use burn::tensor::Device;

const SEGMENT: u64 = 4;
const TRIALS: u32 = 20_000;

/// Epochs: 40 by default (`EPOCHS` overrides), so the committed sample gives about thirty
/// segments.
fn epochs() -> u32 {
    std::env::var("EPOCHS")
        .ok()
        .and_then(|e| e.parse().ok())
        .unwrap_or(40)
}

fn config(seed: u64) -> TrainConfig {
    TrainConfig {
        epochs: epochs(),
        batch_size: 8,
        learning_rate: 1e-2,
        warmup_steps: 5,
        weight_decay: 1e-4,
        clip_norm: 5.0,
        seed,
        patience: 0,
        checkpoint_every: SEGMENT,
        constant_lr: false,
    }
}

fn model(cfg: &KwsConfig, seed: u64) -> KwsDsCnn {
    KwsDsCnn::new(
        cfg,
        &mut Rng::stream(seed, "init"),
        &Device::flex().autodiff(),
    )
}

/// Every grid checkpoint of a run, and how long it took.
fn run(task: &KeywordTask, seed: u64) -> (Vec<Checkpoint>, Duration) {
    let trainer = Trainer::new(task, config(seed), Device::flex().autodiff());
    let mut out = Vec::new();
    let t = Instant::now();
    let last = trainer
        .run(model(&task.config, seed), None, &mut |_, c| {
            if let Some(c) = c {
                out.push(c.clone());
            }
            Control::Continue
        })
        .expect("training")
        .last;
    let took = t.elapsed();
    if out.last().map(Checkpoint::id) != Some(last.id()) {
        out.push(last);
    }
    (out, took)
}

/// C(n, k) as f64.
fn choose(n: usize, k: usize) -> f64 {
    if k > n {
        return 0.0;
    }
    (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (k - i) as f64)
}

/// Probability that `k` segments drawn without replacement out of `n` hit one of `bad`.
fn detection(n: usize, bad: usize, k: usize) -> f64 {
    1.0 - choose(n - bad, k) / choose(n, k)
}

struct Provider {
    name: &'static str,
    /// Fraction of the training work it skipped.
    skipped_work: f64,
    chain: Vec<Checkpoint>,
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd"));
    let data = aic_ml::data::fsdd(&dir, &LogMelParams::speech_8khz()).expect("FSDD");
    let kws = KwsConfig {
        channels: 8,
        blocks: 1,
        ..KwsConfig::default()
    };
    let task = KeywordTask {
        config: kws.clone(),
        train: data.train.into(),
        valid: data.valid,
    };
    eprintln!("training the honest run ...");
    let (honest, train_time) = run(&task, 1);
    let n = honest.len() - 1;
    eprintln!("{n} segments of {SEGMENT} steps in {train_time:.2?}");
    let trainer = Trainer::new(&task, config(1), Device::flex().autodiff());
    let next = |from: &Checkpoint| trainer.replay(model(&kws, 9), from).expect("replay");

    let mut providers = vec![Provider {
        name: "honest",
        skipped_work: 0.0,
        chain: honest.clone(),
    }];
    // Skipping: on the skipped segments the provider publishes its previous weights under the
    // next step's position, then goes on honestly from there.
    for f in [0.1, 0.25, 0.5] {
        let skip = (f * n as f64).round() as usize;
        let skipped = draw_indices(&sha256(b"skipped segments"), n, skip);
        let mut chain = vec![honest[0].clone()];
        for i in 0..n {
            let real = next(&chain[i]);
            let published = if skipped.contains(&i) {
                let mut fake = chain[i].clone();
                fake.progress = real.progress.clone();
                fake
            } else {
                real
            };
            chain.push(published);
        }
        providers.push(Provider {
            name: match skip * 100 / n {
                0..=15 => "skips 10% of segments",
                16..=30 => "skips 25% of segments",
                _ => "skips 50% of segments",
            },
            skipped_work: skip as f64 / n as f64,
            chain,
        });
    }
    // Random weights under the honest positions.
    let mut rng = Rng::new(42);
    let random: Vec<Checkpoint> = honest
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let mut r = c.clone();
            if i > 0 {
                for t in r.model.values_mut() {
                    for v in &mut t.values {
                        *v = rng.uniform(-0.5, 0.5);
                    }
                }
            }
            r
        })
        .collect();
    providers.push(Provider {
        name: "random weights",
        skipped_work: 1.0,
        chain: random,
    });
    // Copied: the checkpoints of another job's run (other seed), presented as this job's.
    eprintln!("training the run to copy ...");
    let (other, _) = run(&task, 2);
    let mut copied = other;
    copied.truncate(n + 1);
    providers.push(Provider {
        name: "copied from another run",
        skipped_work: 1.0,
        chain: copied,
    });
    // Forged transcript: honest final weights, the checkpoints between made up by linear
    // interpolation from the first (what a forger who has good weights from elsewhere can do).
    let first = &honest[0];
    let last = &honest[n];
    let forged: Vec<Checkpoint> = honest
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i == 0 || i == n {
                return c.clone();
            }
            let a = i as f32 / n as f32;
            let mut f = c.clone();
            for (path, t) in f.model.iter_mut() {
                let (Some(x), Some(y)) = (first.model.get(path), last.model.get(path)) else {
                    continue;
                };
                for (j, v) in t.values.iter_mut().enumerate() {
                    *v = x.values[j] + a * (y.values[j] - x.values[j]);
                }
            }
            f.optimizer = first.optimizer.clone();
            f
        })
        .collect();
    providers.push(Provider {
        name: "forged transcript",
        skipped_work: 1.0,
        chain: forged,
    });

    // The verifier replays every segment of every transcript, once, and times it.
    let ks = [1usize, 2, 4, 8];
    let mut rows = Vec::new();
    let mut replay_time = Duration::ZERO;
    let mut replays = 0u32;
    for p in &providers {
        let mut bad = Vec::new();
        for i in 0..n.min(p.chain.len() - 1) {
            let t = Instant::now();
            let r = next(&p.chain[i]);
            replay_time += t.elapsed();
            replays += 1;
            if r.id() != p.chain[i + 1].id() {
                bad.push(i);
            }
        }
        let exact: Vec<f64> = ks.iter().map(|&k| detection(n, bad.len(), k)).collect();
        let drawn: Vec<f64> = ks
            .iter()
            .map(|&k| {
                let hits = (0..TRIALS)
                    .filter(|t| {
                        let seed = sha256(&[&t.to_le_bytes()[..], b"draw"].concat());
                        draw_indices(&seed, n, k).iter().any(|i| bad.contains(i))
                    })
                    .count();
                hits as f64 / f64::from(TRIALS)
            })
            .collect();
        eprintln!("{}: {} of {n} segments fail replay", p.name, bad.len());
        rows.push((p.name, p.skipped_work, bad.len(), exact, drawn));
    }
    let per_segment = replay_time / replays.max(1);

    println!("# Cheating measured ({n} segments of {SEGMENT} steps, training {train_time:.2?}, one segment replayed in {per_segment:.2?} on average over {replays} replays)");
    println!();
    println!(
        "| provider | work skipped | segments failing replay | detection k=1 | k=2 | k=4 | k=8 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, skipped, bad, exact, drawn) in &rows {
        let cells: Vec<String> = exact
            .iter()
            .zip(drawn)
            .map(|(e, d)| format!("{e:.3} ({d:.3})"))
            .collect();
        println!(
            "| {name} | {:.0}% | {bad} / {n} | {} |",
            skipped * 100.0,
            cells.join(" | ")
        );
    }
    println!();
    println!("Detection: exact hypergeometric, and in brackets the share of {TRIALS} draws made with the ledger's `draw_indices` that hit a failing segment.");
    println!();
    println!(
        "| sampled segments k | verification cost per verifier (measured) | per verifier (k / N) |"
    );
    println!("|---|---|---|");
    for &k in &ks {
        let measured = per_segment.as_secs_f64() * k as f64 / train_time.as_secs_f64();
        println!(
            "| {k} | {:.1}% | {:.1}% |",
            measured * 100.0,
            k as f64 / n as f64 * 100.0
        );
    }
    // Where cheating stops paying. A provider whose honest work costs C bids price P; skipping
    // a fraction f of the segments saves f*C and, with probability p(k), loses the price and
    // half its stake S. Cheating pays less than honest work when p(k) * (P + S/2) > f * C, so
    // the least stake that makes it a loss is S* = 2 * (f*C / p(k) - P). Since p(k) >= f for
    // k >= 1, S* <= 2 * (C - P): stake only has to cover a provider that underbids its cost.
    let cost = 6.0;
    println!();
    println!("Least stake S* (AIC) that makes cheating pay less than honest work, for an honest compute cost C = {cost} AIC, by price bid P, work skipped f and sampled segments k (\"-\": never pays, whatever the stake):");
    println!();
    println!("| price P | f | k=1 | k=2 | k=4 | k=8 |");
    println!("|---|---|---|---|---|---|");
    for price in [0.6, 3.0, 6.0, 10.0] {
        for (_, skipped, _, exact, _) in rows.iter().filter(|r| r.2 > 0 && r.1 < 1.0) {
            let cells: Vec<String> = exact
                .iter()
                .map(|p| {
                    let s = 2.0 * (skipped * cost / p - price);
                    if s <= 1e-9 {
                        "-".to_owned()
                    } else {
                        format!("{s:.1}")
                    }
                })
                .collect();
            println!(
                "| {price} | {:.0}% | {} |",
                skipped * 100.0,
                cells.join(" | ")
            );
        }
    }
}
