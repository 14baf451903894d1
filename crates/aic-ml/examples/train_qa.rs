//! Trains the text-matching model on WikiQA train, early-stopped on dev MAP, and prints the
//! scorecard beside the two baselines (development driver; `aic model train` is the CLI path).
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]
use std::path::PathBuf;

use aic_ml::models::textmatch::{TextMatchCnn, TextMatchConfig};
use aic_ml::rng::Rng;
use aic_ml::tasks::answer::{baselines, evaluate, idf_table, AnswerTask};
use aic_ml::train::{Control, Event, TrainConfig, Trainer};
use burn::module::Module;
use burn::tensor::Device;

fn env<T: std::str::FromStr>(k: &str, d: T) -> T {
    std::env::var(k)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(d)
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or("../shared/datasets/wikiqa".into()),
    );
    let data = aic_ml::data::wikiqa(&dir, 40, 4096).unwrap();
    let vocab = data.params.id_space() as usize;
    eprintln!(
        "train {} dev {} vocab {} (+buckets) skipped {}",
        data.train.len(),
        data.dev.len(),
        vocab,
        data.skipped.len()
    );
    let (dev_raw, _) = aic_data::corpora::wikiqa_split(&dir.join("dev")).unwrap();
    let (pos, cnt) = baselines(&dev_raw, 1);
    println!(
        "baseline position: MAP {:.4} MRR {:.4}; word count: MAP {:.4} MRR {:.4}",
        pos.map, pos.mrr, cnt.map, cnt.mrr
    );
    let config = TextMatchConfig {
        vocab,
        embed: env("EMBED", 64),
        filters: env("FILTERS", 64),
        question_len: 40,
        answer_len: 40,
        hidden: 64,
    };
    let device = Device::flex().autodiff();
    let idf = idf_table(&data.train, vocab);
    let model = TextMatchCnn::new(&config, idf.clone(), &mut Rng::stream(1, "init"), &device);
    let task = AnswerTask {
        config: config.clone(),
        train: data.train,
        valid: data.dev.clone(),
    };
    let cfg = TrainConfig {
        epochs: env("EPOCHS", 10),
        batch_size: 64,
        learning_rate: env("LR", 2e-3),
        warmup_steps: 50,
        weight_decay: 1e-4,
        clip_norm: 5.0,
        seed: 1,
        patience: 4,
        checkpoint_every: 200,
        constant_lr: false,
    };
    let trainer = Trainer::new(&task, cfg, device);
    let out = trainer
        .run(model, None, &mut |e, _| {
            match e {
                Event::Step {
                    step,
                    loss,
                    samples_per_sec,
                    ..
                } if step % 50 == 0 => {
                    eprintln!("step {step} loss {loss:.4} {samples_per_sec:.1} pairs/s")
                }
                Event::Step { .. } | Event::Checkpoint { .. } => {}
                other => eprintln!("{other:?}"),
            }
            Control::Continue
        })
        .unwrap();
    let inner = Device::flex();
    let best = aic_ml::state::apply(
        TextMatchCnn::new(&config, idf, &mut Rng::new(0), &inner),
        &out.best_model,
    )
    .unwrap();
    let report = evaluate(&best.valid(), &data.dev, &inner);
    println!(
        "text-match-cnn dev: MAP {:.4} MRR {:.4} ({} questions)",
        report.map, report.mrr, report.questions
    );
}
