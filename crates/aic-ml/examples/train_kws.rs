//! Trains the keyword-spotting DS-CNN on FSDD and prints events (development driver; the CLI's
//! `aic model train` is the user-facing path).
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]
use std::path::PathBuf;

use aic_ml::models::kws::{KwsConfig, KwsDsCnn};
use aic_ml::rng::Rng;
use aic_ml::tasks::keyword::{evaluate, KeywordTask};
use aic_ml::train::{Control, Event, TrainConfig, Trainer};
use aic_model::LogMelParams;
use burn::module::Module;
use burn::tensor::Device;

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("../shared/datasets/fsdd/recordings".into()),
    );
    let channels: usize = std::env::var("CH")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(64);
    let epochs: u32 = std::env::var("EPOCHS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let stride: usize = std::env::var("STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let t = std::time::Instant::now();
    let data = aic_ml::data::fsdd(&dir, &LogMelParams::speech_8khz()).unwrap();
    eprintln!(
        "featurized {} / {} / {} in {:?}, skipped {}",
        data.train.len(),
        data.valid.len(),
        data.test.len(),
        t.elapsed(),
        data.skipped.len()
    );
    let config = KwsConfig {
        channels,
        stem_stride: [stride, stride],
        ..KwsConfig::default()
    };
    let device = Device::flex().autodiff();
    let model = KwsDsCnn::new(&config, &mut Rng::stream(1, "init"), &device);
    let task = KeywordTask {
        config: config.clone(),
        train: data.train.into(),
        valid: data.valid,
    };
    let cfg = TrainConfig {
        epochs,
        batch_size: 64,
        learning_rate: std::env::var("LR")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1e-2),
        warmup_steps: 30,
        weight_decay: 1e-4,
        clip_norm: 5.0,
        seed: 1,
        patience: 8,
        checkpoint_every: 100,
        constant_lr: false,
    };
    let trainer = Trainer::new(&task, cfg, device.clone());
    let out = trainer
        .run(model, None, &mut |e, _| {
            match e {
                Event::Step {
                    step,
                    loss,
                    samples_per_sec,
                    ..
                } if step % 10 == 0 => {
                    eprintln!("step {step} loss {loss:.4} {samples_per_sec:.1} samples/s")
                }
                Event::Step { .. } => {}
                other => eprintln!("{other:?}"),
            }
            Control::Continue
        })
        .unwrap();
    let inner = Device::flex();
    let best = aic_ml::state::apply(
        KwsDsCnn::new(&config, &mut Rng::new(0), &inner),
        &out.best_model,
    )
    .unwrap();
    let report = evaluate(&config, &best.valid(), &data.test, &inner);
    println!(
        "test accuracy {:.4} macro-F1 {:.4}",
        report.accuracy, report.macro_f1
    );
}
