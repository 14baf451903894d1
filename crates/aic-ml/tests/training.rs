//! The training loop's guarantees: exact resume, replay of a segment, tamper detection, NaN
//! handling, and the same bits for any number of threads.

use aic_ml::checkpoint::Checkpoint;
use aic_ml::models::mlp::{Mlp, MlpConfig};
use aic_ml::rng::Rng;
use aic_ml::tasks::classify::ClassifyTask;
use aic_ml::tasks::Examples;
use aic_ml::train::{Control, Event, TrainConfig, TrainError, Trainer};
use aic_ml::transcript::{self, Entry};
use burn::tensor::Device;

/// Four Gaussian blobs in 8 dimensions.
fn blobs(n: usize, seed: u64) -> Examples {
    let mut rng = Rng::new(seed);
    let mut ex = Examples {
        row: 8,
        ..Examples::default()
    };
    for i in 0..n {
        let class = i % 4;
        let v: Vec<f32> = (0..8)
            .map(|d| if d % 4 == class { 2.0 } else { 0.0 } + rng.uniform(-1.0, 1.0))
            .collect();
        ex.push(&v, class);
    }
    ex
}

fn task() -> ClassifyTask {
    ClassifyTask {
        config: MlpConfig {
            inputs: 8,
            hidden: vec![16],
            classes: 4,
        },
        train: blobs(256, 1).into(),
        valid: blobs(64, 2),
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 4,
        batch_size: 16,
        learning_rate: 1e-2,
        warmup_steps: 4,
        weight_decay: 1e-4,
        clip_norm: 5.0,
        seed: 7,
        patience: 0,
        checkpoint_every: 10,
        constant_lr: false,
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn fresh(task: &ClassifyTask, seed: u64) -> Mlp {
    Mlp::new(&task.config, &mut Rng::stream(seed, "init"), &device())
}

/// Runs to the end, keeping every checkpoint.
fn full_run(task: &ClassifyTask) -> (Vec<Checkpoint>, aic_ml::train::Outcome) {
    let trainer = Trainer::new(task, config(), device());
    let mut checkpoints = Vec::new();
    let outcome = trainer
        .run(fresh(task, 1), None, &mut |_, c| {
            if let Some(c) = c {
                checkpoints.push(c.clone());
            }
            Control::Continue
        })
        .unwrap();
    (checkpoints, outcome)
}

#[test]
fn same_job_gives_the_same_bits_and_learns() {
    let t = task();
    let (a, out_a) = full_run(&t);
    let (b, out_b) = full_run(&t);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.id(), y.id(), "checkpoint at step {}", x.progress.step);
    }
    assert_eq!(out_a.last.id(), out_b.last.id());
    // 64 steps, checkpoints at 0, 10, ..., 60 and at the end (64).
    let steps: Vec<u64> = out_a.transcript.iter().map(|(s, _)| *s).collect();
    assert_eq!(steps, vec![0, 10, 20, 30, 40, 50, 60, 64]);
    assert!(
        out_a.last.progress.best_metric.unwrap() > 0.9,
        "{:?}",
        out_a.last.progress
    );
}

#[test]
fn interrupted_and_resumed_ends_bit_identical() {
    let t = task();
    let (_, uninterrupted) = full_run(&t);
    let trainer = Trainer::new(&t, config(), device());
    let mut saved: Option<Vec<u8>> = None;
    trainer
        .run(fresh(&t, 1), None, &mut |e, c| match (e, c) {
            (Event::Checkpoint { step: 30, .. }, Some(c)) => {
                saved = Some(c.encode());
                Control::Stop
            }
            _ => Control::Continue,
        })
        .unwrap();
    let resume = Checkpoint::decode(&saved.expect("stopped at step 30")).unwrap();
    assert_eq!(resume.progress.step, 30);
    // A differently initialized model: everything must come from the checkpoint.
    let resumed = trainer
        .run(fresh(&t, 99), Some(&resume), &mut |_, _| Control::Continue)
        .unwrap();
    assert_eq!(resumed.last.id(), uninterrupted.last.id());
    assert_eq!(resumed.best_model, uninterrupted.best_model);
}

#[test]
fn stopped_off_the_grid_and_resumed_commits_to_the_same_transcript() {
    let t = task();
    let (_, uninterrupted) = full_run(&t);
    let trainer = Trainer::new(&t, config(), device());
    // Stopped after step 23 (a preemption between two grid checkpoints at 20 and 30).
    let mut stopped_at: Option<Checkpoint> = None;
    let first = trainer
        .run(fresh(&t, 1), None, &mut |e, c| match (e, c) {
            (Event::Step { step: 23, .. }, _) => Control::Stop,
            (Event::Checkpoint { step: 23, .. }, Some(c)) => {
                stopped_at = Some(c.clone());
                Control::Continue
            }
            _ => Control::Continue,
        })
        .unwrap();
    let stopped_at = stopped_at.expect("the stop is checkpointed");
    assert_eq!(stopped_at.progress.step, 23);
    let steps: Vec<u64> = first.transcript.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        steps,
        vec![0, 10, 20],
        "the stop checkpoint is not committed"
    );
    let second = trainer
        .run(fresh(&t, 99), Some(&stopped_at), &mut |_, _| {
            Control::Continue
        })
        .unwrap();
    let mut joined = first.transcript.clone();
    joined.extend(second.transcript.iter().copied());
    assert_eq!(joined, uninterrupted.transcript);
    assert_eq!(second.best_model, uninterrupted.best_model);
}

#[test]
fn replay_reproduces_the_next_checkpoint_and_catches_tampering() {
    let t = task();
    let (checkpoints, outcome) = full_run(&t);
    let entries: Vec<Entry> = outcome
        .transcript
        .iter()
        .map(|&(step, id)| Entry { step, id })
        .collect();
    let root = transcript::root(&entries).unwrap();
    let trainer = Trainer::new(&t, config(), device());
    for i in [0usize, 3, 6] {
        let from = &checkpoints[i];
        let next = trainer.replay(fresh(&t, 5), from).unwrap();
        assert_eq!(next.id(), entries[i + 1].id, "segment {i}");
        let proof = transcript::prove(&entries, i + 1).unwrap();
        assert!(transcript::verify(
            &root,
            &Entry {
                step: next.progress.step,
                id: next.id()
            },
            &proof
        ));
    }
    // A provider that skipped work and published a checkpoint it did not compute is caught.
    let mut forged = checkpoints[2].clone();
    let w = forged
        .model
        .get_mut("layers.0.weight")
        .expect("first layer weights");
    w.values[0] += 1e-3;
    let replayed = trainer.replay(fresh(&t, 5), &checkpoints[1]).unwrap();
    assert_ne!(replayed.id(), forged.id());
    // And a tampered starting point does not reproduce the committed next checkpoint.
    let mut bad_start = checkpoints[1].clone();
    bad_start.model.get_mut("head.bias").unwrap().values[0] += 1e-3;
    let from_bad = trainer.replay(fresh(&t, 5), &bad_start).unwrap();
    assert_ne!(from_bad.id(), entries[2].id);
}

#[test]
fn nan_loss_ends_the_run_with_a_reason() {
    let mut t = task();
    let aic_ml::tasks::TrainSet::Memory(train) = &mut t.train else {
        unreachable!("in memory")
    };
    train.values[3 * 8] = f32::NAN;
    let trainer = Trainer::new(&t, config(), device());
    let err = trainer
        .run(fresh(&t, 1), None, &mut |_, _| Control::Continue)
        .unwrap_err();
    match err {
        TrainError::NonFinite { step, .. } => assert!(step < 16, "first epoch"),
        other => panic!("expected NonFinite, got {other:?}"),
    }
}

#[test]
fn a_checkpoint_for_another_architecture_is_refused() {
    let t = task();
    let (checkpoints, _) = full_run(&t);
    let other = ClassifyTask {
        config: MlpConfig {
            inputs: 8,
            hidden: vec![8],
            classes: 4,
        },
        ..task()
    };
    let trainer = Trainer::new(&other, config(), device());
    let err = trainer
        .run(fresh(&other, 1), Some(&checkpoints[1]), &mut |_, _| {
            Control::Continue
        })
        .unwrap_err();
    assert!(matches!(err, TrainError::Checkpoint(_)), "{err:?}");
}

#[test]
fn thread_count_does_not_change_the_bits() {
    let t = task();
    let run_in = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| full_run(&t).1.last.id())
    };
    assert_eq!(run_in(1), run_in(2));
}
