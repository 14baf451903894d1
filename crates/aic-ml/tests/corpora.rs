//! The built-in models on the real corpora in `../shared/datasets` (skipped with a message
//! when absent): they learn, and the keyword model's training bits do not depend on the
//! thread count.
#![allow(clippy::print_stderr)]

use std::path::PathBuf;

use aic_ml::models::kws::{KwsConfig, KwsDsCnn};
use aic_ml::models::textmatch::{TextMatchCnn, TextMatchConfig};
use aic_ml::rng::Rng;
use aic_ml::tasks::answer::{self, AnswerTask};
use aic_ml::tasks::keyword::{self, KeywordTask};
use aic_ml::tasks::Examples;
use aic_ml::train::{Control, TrainConfig, Trainer};
use aic_model::LogMelParams;
use burn::module::Module;
use burn::tensor::Device;

fn datasets() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: {} is absent (the shared data sets are not on this machine)",
            dir.display()
        );
        None
    }
}

fn config(epochs: u32, learning_rate: f64, weight_decay: f32) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 64,
        learning_rate,
        warmup_steps: 20,
        weight_decay,
        clip_norm: 5.0,
        seed: 3,
        patience: 0,
        checkpoint_every: 50,
        constant_lr: false,
    }
}

fn subset(ex: &Examples, n: usize) -> Examples {
    let mut out = Examples {
        row: ex.row,
        ..Examples::default()
    };
    for i in 0..n.min(ex.len()) {
        // Every 4th example keeps all ten digits and all speakers.
        let j = (i * 4) % ex.len();
        out.push(&ex.values[j * ex.row..(j + 1) * ex.row], ex.labels[j]);
    }
    out
}

#[test]
fn keyword_model_learns_fsdd_and_its_bits_do_not_depend_on_threads() {
    let Some(dir) = datasets() else { return };
    let data =
        aic_ml::data::fsdd(&dir.join("fsdd/recordings"), &LogMelParams::speech_8khz()).unwrap();
    assert!(data.skipped.is_empty(), "{:?}", data.skipped);
    assert_eq!(
        (data.train.len(), data.valid.len(), data.test.len()),
        (2000, 250, 250)
    );
    let kws = KwsConfig {
        channels: 32,
        stem_stride: [4, 4],
        ..KwsConfig::default()
    };
    let device = Device::flex().autodiff();

    // Determinism: one epoch on 512 clips, in a 1-thread and a 2-thread pool.
    let small = KeywordTask {
        config: kws.clone(),
        train: subset(&data.train, 512).into(),
        valid: subset(&data.valid, 64),
    };
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let model = KwsDsCnn::new(&kws, &mut Rng::stream(3, "init"), &device);
            Trainer::new(&small, config(1, 1e-2, 1e-4), device.clone())
                .run(model, None, &mut |_, _| Control::Continue)
                .unwrap()
                .last
                .id()
        })
    };
    assert_eq!(
        run(1),
        run(2),
        "the DS-CNN's training bits depend on the thread count"
    );

    // Learning: four epochs on all of it is far above chance (10 %).
    let task = KeywordTask {
        config: kws.clone(),
        train: data.train.into(),
        valid: data.valid,
    };
    let model = KwsDsCnn::new(&kws, &mut Rng::stream(3, "init"), &device);
    let out = Trainer::new(&task, config(4, 1e-2, 1e-4), device)
        .run(model, None, &mut |_, _| Control::Continue)
        .unwrap();
    let inner = Device::flex();
    let best = aic_ml::state::apply(
        KwsDsCnn::new(&kws, &mut Rng::new(0), &inner),
        &out.best_model,
    )
    .unwrap();
    let report = keyword::evaluate(&kws, &best.valid(), &data.test, &inner);
    eprintln!("fsdd test after 4 epochs: accuracy {:.3}", report.accuracy);
    assert!(report.accuracy > 0.6, "{report:?}");
}

#[test]
fn text_match_model_beats_the_word_count_baseline_on_wikiqa_dev() {
    let Some(dir) = datasets() else { return };
    let dir = dir.join("wikiqa");
    let data = aic_ml::data::wikiqa(&dir, 40, 4096).unwrap();
    let vocab = data.params.id_space() as usize;
    let config_tm = TextMatchConfig {
        vocab,
        question_len: 40,
        answer_len: 40,
        ..TextMatchConfig::default()
    };
    let device = Device::flex().autodiff();
    let idf = answer::idf_table(&data.train, vocab);
    let model = TextMatchCnn::new(
        &config_tm,
        idf.clone(),
        &mut Rng::stream(3, "init"),
        &device,
    );
    let task = AnswerTask {
        config: config_tm.clone(),
        train: data.train,
        valid: data.dev.clone(),
    };
    let out = Trainer::new(
        &task,
        TrainConfig {
            warmup_steps: 50,
            seed: 42,
            ..config(6, 3e-4, 1e-4)
        },
        device,
    )
    .run(model, None, &mut |_, _| Control::Continue)
    .unwrap();
    let inner = Device::flex();
    let best = aic_ml::state::apply(
        TextMatchCnn::new(&config_tm, idf, &mut Rng::new(0), &inner),
        &out.best_model,
    )
    .unwrap();
    let report = answer::evaluate(&best.valid(), &data.dev, &inner);
    let (dev_raw, _) = aic_data::corpora::wikiqa_split(&dir.join("dev")).unwrap();
    let (_, count) = answer::baselines(&dev_raw, 1);
    eprintln!(
        "wikiqa dev after 6 epochs: MAP {:.3} (word-count baseline {:.3})",
        report.map, count.map
    );
    assert!(report.map > count.map, "{report:?} vs {count:?}");
}
