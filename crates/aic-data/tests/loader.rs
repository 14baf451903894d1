//! The streaming loader on a synthetic data set of many small shards: the order is the same
//! across runs and worker counts, resuming gives the same remainder, tampered shards are named.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use aic_data::{
    fp16_bytes, read_manifest, shard_path, u32_bytes, write_dataset, Column, DType,
    DatasetManifest, DirSource, EpochOrder, FeaturizerRecord, Loader, LoaderConfig, LoaderError,
    Provenance, ShardSetWriter, Split, MANIFEST_FORMAT,
};
use aic_model::Featurizer;

/// 203 samples in shards of about 10 samples: `id` (UINT32) = i, `x` (FP16 [3]) = i/4,
/// split `train` = all shards but the last two, `test` = those.
fn synthetic(dir: &Path) -> DatasetManifest {
    let columns = vec![
        Column::new("id", DType::Uint32, &[]),
        Column::new("x", DType::Fp16, &[3]),
    ];
    let per = 32 + 10 * (4 + 6 + 16);
    let mut w = ShardSetWriter::new(&columns, per, 3).unwrap();
    for i in 0..203u32 {
        let v = i as f32 / 4.0;
        w.push(&[&u32_bytes(&[i]), &fp16_bytes(&[v, -v, 1.0])])
            .unwrap();
    }
    let shards = w.finish().unwrap();
    assert!(shards.len() > 10, "{} shards", shards.len());
    let n = shards.len() as u32;
    let manifest = DatasetManifest {
        format: MANIFEST_FORMAT.into(),
        name: "synthetic".into(),
        columns,
        shards: shards.iter().map(|s| s.entry.clone()).collect(),
        splits: BTreeMap::from([
            (
                "train".into(),
                Split {
                    shards: (0..n - 2).collect(),
                },
            ),
            (
                "test".into(),
                Split {
                    shards: vec![n - 2, n - 1],
                },
            ),
        ]),
        provenance: Provenance {
            sources: vec![],
            featurizer: FeaturizerRecord {
                name: "test".into(),
                version: "0".into(),
                params: Featurizer::Identity,
            },
            license: String::new(),
        },
    };
    write_dataset(dir, &manifest, &shards, &[]).unwrap();
    manifest
}

fn config(workers: usize, batch_size: usize) -> LoaderConfig {
    LoaderConfig {
        batch_size,
        seed: 42,
        shuffle: true,
        window_shards: 3,
        prefetch_shards: 2,
        workers,
    }
}

/// The ids of every batch from `(epoch, position)`.
fn ids(loader: &Loader, epoch: u64, position: u64) -> Vec<u32> {
    let mut out = Vec::new();
    for batch in loader.resume(epoch, position).unwrap() {
        let batch = batch.unwrap();
        let id = batch.u32("id").unwrap();
        let x = batch.f32("x").unwrap();
        assert_eq!(id.len(), batch.len);
        assert_eq!(x.len(), 3 * batch.len);
        for (k, &i) in id.iter().enumerate() {
            assert_eq!(x[3 * k], i as f32 / 4.0);
            assert_eq!(x[3 * k + 2], 1.0);
        }
        out.extend_from_slice(id);
    }
    out
}

#[test]
fn order_is_deterministic_across_runs_and_workers() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = synthetic(dir.path());
    let source = Arc::new(DirSource::new(dir.path()));
    let load = |workers, batch| {
        Loader::new(&manifest, "train", source.clone(), config(workers, batch)).unwrap()
    };
    let reference = ids(&load(0, 7), 0, 0);
    let n = load(0, 7).samples() as usize;
    assert_eq!(reference.len(), n);
    let mut sorted = reference.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), n, "an epoch is a permutation");
    assert_ne!(reference, sorted, "shuffled");
    for workers in [0, 1, 2, 5] {
        for batch in [1, 7, 64, 1000] {
            assert_eq!(
                ids(&load(workers, batch), 0, 0),
                reference,
                "{workers} workers, batch {batch}"
            );
        }
    }
    // The loader reads exactly EpochOrder's sequence.
    let loader = load(2, 7);
    let order: Vec<(u32, u64)> = loader
        .order(0)
        .all()
        .iter()
        .map(|r| (manifest.splits["train"].shards[r.shard as usize], r.sample))
        .collect();
    let read: Vec<(u32, u64)> = loader.epoch(0).flat_map(|b| b.unwrap().sources).collect();
    assert_eq!(read, order);
    // Another epoch, another order, same samples.
    let next = ids(&loader, 1, 0);
    assert_ne!(next, reference);
    let mut s = next.clone();
    s.sort_unstable();
    assert_eq!(s, sorted);
    // The test split is the last two shards, in order when not shuffled.
    let plain = Loader::new(
        &manifest,
        "test",
        source.clone(),
        LoaderConfig {
            shuffle: false,
            ..config(1, 5)
        },
    )
    .unwrap();
    let test = ids(&plain, 0, 0);
    assert_eq!(test, (203 - test.len() as u32..203).collect::<Vec<_>>());
    assert!(matches!(
        Loader::new(&manifest, "valid", source, config(1, 5)),
        Err(LoaderError::NoSplit(_))
    ));
}

#[test]
fn resume_gives_the_same_remainder() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = synthetic(dir.path());
    let source = Arc::new(DirSource::new(dir.path()));
    let loader = Loader::new(&manifest, "train", source, config(2, 16)).unwrap();
    let full = ids(&loader, 3, 0);
    let n = full.len() as u64;
    for position in [0, 1, 9, 10, 31, 100, n - 1, n] {
        assert_eq!(
            ids(&loader, 3, position),
            full[position as usize..],
            "at {position}"
        );
    }
    assert!(matches!(
        loader.resume(3, n + 1),
        Err(LoaderError::PositionOutOfRange { .. })
    ));
    // Batches are cut from the resume position; their `start` is the epoch position.
    let mut batches = loader.resume(3, 5).unwrap();
    let first = batches.next().unwrap().unwrap();
    assert_eq!((first.start, first.len), (5, 16));
    assert_eq!(batches.position(), 21);
}

#[test]
fn tampered_shard_and_manifest_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = synthetic(dir.path());
    let published = manifest.blake3_hex();
    assert_eq!(
        read_manifest(dir.path(), Some(&published)).unwrap(),
        manifest
    );
    // A changed manifest no longer has the published address.
    let path = dir.path().join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("\"synthetic\"", "\"synthetiq\"")).unwrap();
    let err = read_manifest(dir.path(), Some(&published)).unwrap_err();
    assert!(err.to_string().contains(&published), "{err}");
    // A flipped byte in a shard: the loader names the shard.
    let victim = manifest.splits["train"].shards[4];
    let entry = &manifest.shards[victim as usize];
    let file = shard_path(dir.path(), &entry.blake3);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&file, bytes).unwrap();
    for workers in [0, 3] {
        let loader = Loader::new(
            &manifest,
            "train",
            Arc::new(DirSource::new(dir.path())),
            config(workers, 8),
        )
        .unwrap();
        let err = loader
            .epoch(0)
            .find_map(Result::err)
            .expect("the tampered shard is refused");
        match &err {
            LoaderError::Shard { index, blake3, .. } => {
                assert_eq!((*index, blake3), (victim, &entry.blake3));
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains(&entry.blake3));
    }
    // A missing shard is named too.
    std::fs::remove_file(&file).unwrap();
    let loader = Loader::new(
        &manifest,
        "train",
        Arc::new(DirSource::new(dir.path())),
        config(1, 8),
    )
    .unwrap();
    assert!(matches!(
        loader.epoch(0).find_map(Result::err),
        Some(LoaderError::Fetch { index, .. }) if index == victim
    ));
}

#[test]
fn order_function_is_pinned() {
    // Pins the order function: another implementation of docs/data-format.md must print this.
    let order = EpochOrder::new(42, 0, &[3, 2, 4], 2, true);
    let got: Vec<(u32, u64)> = order.all().iter().map(|r| (r.shard, r.sample)).collect();
    assert_eq!(order.shard_order(), [0, 1, 2]);
    assert_eq!(
        got,
        [
            (1, 0),
            (1, 1),
            (0, 1),
            (0, 0),
            (0, 2),
            (2, 0),
            (2, 3),
            (2, 1),
            (2, 2)
        ]
    );
    let other: Vec<u32> = EpochOrder::new(42, 1, &[3, 2, 4, 1, 1], 2, true)
        .shard_order()
        .to_vec();
    assert_eq!(other, [2, 1, 4, 0, 3], "{other:?}");
}

/// Shards from a directory, each read after a delay: a slow network.
struct Slow {
    inner: DirSource,
    delay: std::time::Duration,
}

impl aic_data::ShardSource for Slow {
    fn shard(&self, entry: &aic_data::ShardEntry) -> std::io::Result<Vec<u8>> {
        std::thread::sleep(self.delay);
        self.inner.shard(entry)
    }
}

/// The waits a hook was told of, as (started, ended) counts.
fn told(events: &std::sync::Mutex<Vec<bool>>) -> (usize, usize) {
    let e = events.lock().unwrap();
    // Strictly alternating true, false: a wait ends only after it started.
    for (i, &v) in e.iter().enumerate() {
        assert_eq!(v, i % 2 == 0, "events out of order: {e:?}");
    }
    (
        e.iter().filter(|&&v| v).count(),
        e.iter().filter(|&&v| !v).count(),
    )
}

#[test]
fn long_waits_for_shards_are_reported_and_short_ones_are_not() {
    use std::sync::Mutex;
    use std::time::Duration;
    let tmp = tempfile::tempdir().unwrap();
    let manifest = synthetic(tmp.path());
    let run = |delay_ms: u64, after_ms: u64| {
        let source = Arc::new(Slow {
            inner: DirSource::new(tmp.path()),
            delay: Duration::from_millis(delay_ms),
        });
        let loader = Loader::new(&manifest, "train", source, config(1, 8)).unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&events);
        let hook = aic_data::WaitHook {
            after: Duration::from_millis(after_ms),
            notify: Arc::new(move |waiting| sink.lock().unwrap().push(waiting)),
        };
        let mut n = 0;
        for batch in loader.epoch(0).with_wait_hook(hook) {
            n += batch.unwrap().len;
        }
        (n, told(&events))
    };
    // One worker fetching shards 30 ms each: the first window alone keeps the consumer
    // waiting well past 5 ms; every wait reported has its end reported.
    let (n, (started, ended)) = run(30, 5);
    assert_eq!(
        n,
        manifest.splits["train"]
            .shards
            .iter()
            .map(|&i| manifest.shards[i as usize].samples as usize)
            .sum::<usize>()
    );
    assert!(started >= 1, "no wait reported");
    assert_eq!(started, ended);
    // Waits shorter than the threshold are not worth a hand-over.
    let (_, (started, _)) = run(0, 5_000);
    assert_eq!(started, 0);
}
