//! Training streamed from a digitized data set's shards (`aic data digitize`): the loop reads
//! batches through the loader while its threads fetch and check the next shards. The order is
//! the loader's (a pure function of seed, epoch and shard sizes), so runs repeat bit for bit,
//! a run resumed from a checkpoint ends where an uninterrupted one does, a segment replays,
//! and a shard tampered with after digitizing stops the run with the shard named.
#![allow(missing_docs)]

use std::path::Path;

use aic_data::{digitize_fsdd, DigitizeOptions, FeatureEncoding};
use aic_ml::checkpoint::Checkpoint;
use aic_ml::digitized::{self, DigitizedFsdd};
use aic_ml::models::kws::{KwsConfig, KwsDsCnn};
use aic_ml::rng::Rng;
use aic_ml::tasks::keyword::KeywordTask;
use aic_ml::tasks::TrainSet;
use aic_ml::train::{Control, Event, TrainConfig, TrainError, Trainer};
use aic_model::LogMelParams;
use burn::tensor::Device;

/// The 50-clip FSDD sample the devnet demo embeds (30 training clips).
fn sample() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../aic/demo/fsdd"))
}

/// The sample digitized as q8 in small shards (about four clips each), so an epoch spans
/// several shards and loader windows.
fn digitized(out: &Path) -> DigitizedFsdd {
    let params = LogMelParams::speech_8khz();
    let options = DigitizeOptions {
        encoding: FeatureEncoding::Q8,
        shard_bytes: 16 * 1024,
        threads: 2,
        ..DigitizeOptions::default()
    };
    digitize_fsdd(sample(), out, &params, &options, &mut |_| {}).unwrap();
    digitized::fsdd(out, &params).unwrap().0
}

fn kws() -> KwsConfig {
    KwsConfig {
        channels: 8,
        blocks: 1,
        stem_stride: [4, 2],
        ..KwsConfig::default()
    }
}

fn task(data: DigitizedFsdd) -> KeywordTask {
    KeywordTask {
        config: kws(),
        train: TrainSet::Stream(Box::new(data.train)),
        valid: data.valid,
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 3,
        batch_size: 4,
        learning_rate: 1e-2,
        warmup_steps: 2,
        weight_decay: 1e-4,
        clip_norm: 5.0,
        seed: 11,
        patience: 0,
        checkpoint_every: 5,
        constant_lr: false,
    }
}

fn device() -> Device {
    Device::flex().autodiff()
}

fn fresh() -> KwsDsCnn {
    KwsDsCnn::new(&kws(), &mut Rng::stream(11, "init"), &device())
}

#[test]
fn streamed_training_repeats_resumes_and_replays_bit_for_bit() {
    let dir = tempfile::tempdir().unwrap();
    let t = task(digitized(dir.path()));
    assert_eq!(t.train.len(), 30);
    let trainer = Trainer::new(&t, config(), device());
    assert_eq!(trainer.batches_per_epoch(), 7);

    let mut checkpoints: Vec<Checkpoint> = Vec::new();
    let full = trainer
        .run(fresh(), None, &mut |_, c| {
            if let Some(c) = c {
                checkpoints.push(c.clone());
            }
            Control::Continue
        })
        .unwrap();
    assert_eq!(full.last.progress.step, 21);
    // Waits are measured inside the steps: some (the first window), and less than the steps.
    assert!(
        full.data_wait_secs > 0.0 && full.data_wait_secs < full.step_secs,
        "waited {} s of {} s",
        full.data_wait_secs,
        full.step_secs
    );

    let again = trainer
        .run(fresh(), None, &mut |_, _| Control::Continue)
        .unwrap();
    assert_eq!(again.last.id(), full.last.id(), "a second run differs");

    // Resume from step 10 (epoch 1, batch 3: inside a loader window) and end where the
    // uninterrupted run ended.
    let mid = checkpoints
        .iter()
        .find(|c| c.progress.step == 10)
        .expect("checkpoint at step 10");
    assert_eq!((mid.progress.epoch, mid.progress.batch), (1, 3));
    let resumed = trainer
        .run(fresh(), Some(mid), &mut |_, _| Control::Continue)
        .unwrap();
    assert_eq!(resumed.last.id(), full.last.id(), "resumed run differs");

    // Replaying the segment after step 10 gives the checkpoint at step 15.
    let next = checkpoints.iter().find(|c| c.progress.step == 15).unwrap();
    assert_eq!(trainer.replay(fresh(), mid).unwrap().id(), next.id());
}

#[test]
fn every_epoch_streams_each_training_clip_once_in_its_own_order() {
    let dir = tempfile::tempdir().unwrap();
    let data = digitized(dir.path());
    let streamed = TrainSet::Stream(Box::new(data.train));
    let mut seen: Vec<(usize, Vec<u32>)> = streamed
        .batches(3, 0, 0, 5, 10)
        .unwrap()
        .flat_map(|b| {
            let b = b.unwrap();
            (0..b.len())
                .map(|i| {
                    let row = &b.values[i * b.row..(i + 1) * b.row];
                    (b.labels[i], row.iter().map(|v| v.to_bits()).collect())
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seen.len(), 30, "every training clip once per epoch");
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 30, "no clip twice");
    // Another epoch is another order of the same clips.
    let order = |epoch| -> Vec<usize> {
        streamed
            .batches(3, epoch, 0, 5, 10)
            .unwrap()
            .flat_map(|b| b.unwrap().labels)
            .collect()
    };
    assert_eq!(order(1), order(1));
    let (mut a, mut b) = (order(0), order(1));
    assert_ne!(a, b, "epochs 0 and 1 in the same order");
    a.sort_unstable();
    b.sort_unstable();
    assert_eq!(a, b);
}

#[test]
fn a_shard_tampered_with_after_digitizing_stops_the_run_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let t = task(digitized(dir.path()));
    // Flip one byte in every shard file, so the first batch's shard is among them.
    for entry in std::fs::read_dir(dir.path().join("shards")).unwrap() {
        let path = entry.unwrap().path();
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&path, bytes).unwrap();
    }
    let mut steps = 0;
    let err = Trainer::new(&t, config(), device())
        .run(fresh(), None, &mut |e, _| {
            if matches!(e, Event::Step { .. }) {
                steps += 1;
            }
            Control::Continue
        })
        .unwrap_err();
    match &err {
        TrainError::Data {
            epoch: 0,
            batch: 0,
            reason,
        } => assert!(reason.contains("shard"), "{reason}"),
        other => panic!("expected a data error at the first batch, got {other:?}"),
    }
    assert_eq!(steps, 0, "no step ran on tampered data");
}

/// The same check in memory: batch-norm running statistics are part of a checkpoint taken
/// between two steps (burn leaves the last update pending until the next forward pass; a
/// checkpoint that missed it made resumed runs differ).
#[test]
fn a_keyword_model_resumed_mid_epoch_in_memory_ends_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let data = digitized(dir.path());
    let t = KeywordTask {
        config: kws(),
        train: TrainSet::Memory(data.test.clone()),
        valid: data.valid,
    };
    let cfg = TrainConfig {
        batch_size: 3,
        checkpoint_every: 4,
        ..config()
    };
    let trainer = Trainer::new(&t, cfg, device());
    let mut mid = None;
    let full = trainer
        .run(fresh(), None, &mut |_, c| {
            if let Some(c) = c.filter(|c| c.progress.step == 4) {
                mid = Some(c.clone());
            }
            Control::Continue
        })
        .unwrap();
    let mid = mid.unwrap();
    assert_eq!((mid.progress.epoch, mid.progress.batch), (1, 1));
    let resumed = trainer
        .run(fresh(), Some(&mid), &mut |_, _| Control::Continue)
        .unwrap();
    assert_eq!(resumed.last.id(), full.last.id());
}

#[test]
fn a_label_outside_the_models_classes_stops_the_run_before_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let data = digitized(dir.path());
    let config = KwsConfig {
        classes: 5,
        ..kws()
    };
    let t = KeywordTask {
        config: config.clone(),
        train: TrainSet::Stream(Box::new(data.train)),
        valid: data.valid,
    };
    let model = KwsDsCnn::new(&config, &mut Rng::stream(11, "init"), &device());
    let err = Trainer::new(&t, config_for_labels(), device())
        .run(model, None, &mut |_, _| Control::Continue)
        .unwrap_err();
    match err {
        TrainError::Data { reason, .. } => {
            assert!(reason.contains("outside the model's 5 classes"), "{reason}")
        }
        other => panic!("expected a data error, got {other:?}"),
    }
}

/// Batches of all 30 clips, so the first holds a digit above 4.
fn config_for_labels() -> TrainConfig {
    TrainConfig {
        batch_size: 30,
        ..config()
    }
}

/// Clips are stored in the order of BLAKE3 of their names, so a shard (and a loader window of
/// a few shards) holds many digits; stored by digit, a window gave batches of few digits.
#[test]
fn every_training_shard_mixes_digits() {
    let dir = tempfile::tempdir().unwrap();
    let params = LogMelParams::speech_8khz();
    let options = DigitizeOptions {
        encoding: FeatureEncoding::Q8,
        shard_bytes: 16 * 1024,
        threads: 2,
        ..DigitizeOptions::default()
    };
    let report = digitize_fsdd(sample(), dir.path(), &params, &options, &mut |_| {}).unwrap();
    let split = &report.manifest.splits["train"];
    assert!(split.shards.len() >= 4, "{} shards", split.shards.len());
    let config = aic_data::LoaderConfig {
        batch_size: 64,
        shuffle: false,
        ..aic_data::LoaderConfig::default()
    };
    let source = std::sync::Arc::new(aic_data::DirSource::new(dir.path()));
    let loader = aic_data::Loader::new(&report.manifest, "train", source, config).unwrap();
    let mut digits: std::collections::BTreeMap<u32, (usize, std::collections::BTreeSet<u32>)> =
        Default::default();
    for b in loader.epoch(0) {
        let b = b.unwrap();
        for ((shard, _), label) in b.sources.iter().zip(b.u32("label").unwrap()) {
            let (clips, d) = digits.entry(*shard).or_default();
            *clips += 1;
            d.insert(*label);
        }
    }
    // Stored by digit, a shard of four clips (three per digit here) held one or two digits.
    for (shard, (clips, d)) in &digits {
        assert!(
            d.len() >= (*clips).min(3),
            "shard {shard} of {clips} clips holds digits {d:?}"
        );
    }
}

/// Shards read after a delay: a slow network between the worker and the node.
struct Slow(aic_data::DirSource);

impl aic_data::ShardSource for Slow {
    fn shard(&self, entry: &aic_data::ShardEntry) -> std::io::Result<Vec<u8>> {
        std::thread::sleep(std::time::Duration::from_millis(25));
        self.0.shard(entry)
    }
}

#[test]
fn long_waits_for_shards_reach_the_hook_and_change_no_bit() {
    use std::sync::{Arc, Mutex};
    let dir = tempfile::tempdir().unwrap();
    let fast = task(digitized(dir.path()));
    let (manifest, _) = digitized::manifest(dir.path()).unwrap();
    let mut slow = digitized::fsdd_from(
        manifest,
        Arc::new(Slow(aic_data::DirSource::new(dir.path()))),
        &LogMelParams::speech_8khz(),
    )
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&events);
    slow.train.set_wait_hook(aic_data::WaitHook {
        after: std::time::Duration::from_millis(5),
        notify: Arc::new(move |waiting| sink.lock().unwrap().push(waiting)),
    });
    let slow = task(slow);
    let a = Trainer::new(&fast, config(), device())
        .run(fresh(), None, &mut |_, _| Control::Continue)
        .unwrap();
    let b = Trainer::new(&slow, config(), device())
        .run(fresh(), None, &mut |_, _| Control::Continue)
        .unwrap();
    assert_eq!(a.last.id(), b.last.id(), "a slow source changed the bits");
    let e = events.lock().unwrap();
    // Every epoch starts with a window of shards 25 ms each: reported, start then end.
    assert!(e.len() >= 2 * 3, "{e:?}");
    for (i, &v) in e.iter().enumerate() {
        assert_eq!(v, i % 2 == 0, "{e:?}");
    }
}
