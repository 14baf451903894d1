//! Training speed of the built-in models on random batches, for the comparison with PyTorch
//! (`scripts/torch_ref/kws_dscnn.py`, `scripts/torch_ref/text_match_cnn.py`, same shapes and
//! optimizer). Prints the median step time and samples a second; `--json` for scripts.
//!
//! ```text
//! cargo run --release -p aic-ml --example train_speed -- kws --channels 64 --stride 2
//! cargo run --release -p aic-ml --example train_speed -- text --batch 64 --json
//! RAYON_NUM_THREADS=1 cargo run --release -p aic-ml --example train_speed -- kws
//! ```
#![allow(missing_docs, clippy::print_stdout)]

use std::time::Instant;

// The allocator the `aic` binary uses: burn allocates a fresh buffer for every activation and
// gradient, and glibc serves large ones with mmap, paying page faults on every step.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use aic_ml::models::kws::{KwsConfig, KwsDsCnn};
use aic_ml::models::textmatch::{TextMatchCnn, TextMatchConfig};
use aic_ml::optim::{AdamW, AdamWConfig};
use aic_ml::rng::Rng;
use aic_ml::tasks::cross_entropy;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};

struct Args {
    model: String,
    batch: usize,
    steps: usize,
    channels: usize,
    stride: usize,
    json: bool,
}

fn parse() -> Args {
    let mut a = Args {
        model: "kws".into(),
        batch: 64,
        steps: 20,
        channels: 64,
        stride: 2,
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut num = |name: &str| -> usize {
            it.next()
                .and_then(|v| v.parse().ok())
                .unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--batch" => a.batch = num("--batch"),
            "--steps" => a.steps = num("--steps"),
            "--channels" => a.channels = num("--channels"),
            "--stride" => a.stride = num("--stride"),
            "--json" => a.json = true,
            "kws" | "text" => a.model = arg,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// Runs `steps + 3` steps (three warm-up) and returns the sorted step times in seconds.
fn time_steps<M: Module + Clone>(
    mut model: M,
    steps: usize,
    loss: impl Fn(&M) -> Tensor<1>,
) -> Vec<f64> {
    let mut optim = AdamW::new(AdamWConfig::default());
    let mut times = Vec::with_capacity(steps);
    for i in 0..steps + 3 {
        let t = Instant::now();
        let l = loss(&model);
        let grads = GradientsParams::from_grads(l.backward(), &model);
        let (next, _) = optim.step(1e-3, model.clone(), grads);
        model = next;
        if i >= 3 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    times.sort_by(f64::total_cmp);
    times
}

fn main() {
    let a = parse();
    let device = Device::flex().autodiff();
    let mut rng = Rng::stream(0, "train_speed");
    let times = match a.model.as_str() {
        "kws" => {
            let config = KwsConfig {
                channels: a.channels,
                stem_stride: [a.stride, a.stride],
                ..KwsConfig::default()
            };
            let model = KwsDsCnn::new(&config, &mut rng, &device);
            let x = rng.uniform_vec(a.batch * config.frames * config.mels, 2.0);
            let x = Tensor::<3>::from_data(
                TensorData::new(x, [a.batch, config.frames, config.mels]),
                &device,
            );
            let labels: Vec<usize> = (0..a.batch).map(|i| i % config.classes).collect();
            time_steps(model, a.steps, |m| {
                cross_entropy(m.forward(x.clone()), &labels)
            })
        }
        _ => {
            let config = TextMatchConfig::default();
            let idf = vec![1.0; config.vocab];
            let model = TextMatchCnn::new(&config, idf, &mut rng, &device);
            let ids = |rng: &mut Rng, len: usize| {
                let v: Vec<i64> = (0..a.batch * len)
                    .map(|_| 2 + rng.below(config.vocab as u64 - 2) as i64)
                    .collect();
                Tensor::<2, Int>::from_data(TensorData::new(v, [a.batch, len]), &device)
            };
            let q = ids(&mut rng, config.question_len);
            let ans = ids(&mut rng, config.answer_len);
            let y: Vec<f32> = (0..a.batch).map(|i| (i % 2) as f32).collect();
            let y = Tensor::<1>::from_data(TensorData::new(y, [a.batch]), &device);
            time_steps(model, a.steps, |m| {
                let logits = m.forward(q.clone(), ans.clone());
                (logits.clone().clamp_min(0.0) - logits.clone() * y.clone()
                    + logits.abs().neg().exp().add_scalar(1.0).log())
                .mean()
            })
        }
    };
    let median = times[times.len() / 2];
    let threads = rayon::current_num_threads();
    if a.json {
        println!(
            "{{\"model\":\"{}\",\"batch\":{},\"channels\":{},\"stride\":{},\"threads\":{},\"median_step_s\":{:.6},\"samples_per_s\":{:.2}}}",
            a.model,
            a.batch,
            a.channels,
            a.stride,
            threads,
            median,
            a.batch as f64 / median
        );
    } else {
        println!(
            "{} batch {} ({} rayon threads): median step {:.1} ms, {:.1} samples/s (min {:.1} ms, max {:.1} ms)",
            a.model,
            a.batch,
            threads,
            median * 1e3,
            a.batch as f64 / median,
            times[0] * 1e3,
            times[times.len() - 1] * 1e3
        );
    }
}
