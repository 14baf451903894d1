//! The real trainer as an AI job under the real switcher: `aic model train --job-socket`
//! asks the worker for the device, the worker's miner (real SHA-256d search threads) yields,
//! training runs, and mining fills the device again when the job ends.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_miner::{impossible_work, SearchConfig, DEFAULT_BATCH};
use aic_worker::switcher::{
    overlaps, JobListener, MiningSetup, OfferDecision, Policy, SwitchKind, Switcher, Task,
};

mod common;

use common::{ok, TINY_KWS};

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn training_under_the_switcher_takes_the_device_from_mining_and_gives_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    ok(
        dir,
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    ok(
        dir,
        &[
            "model",
            "init",
            "--task",
            "keyword-spotting",
            "--dir",
            "kws",
        ],
    );

    let mining = MiningSetup {
        kernel: Arc::from(aic_miner::best()),
        work: impossible_work(),
        config: SearchConfig {
            threads: 2,
            batch: DEFAULT_BATCH,
        },
    };
    let switcher = Switcher::start(Policy::switching(0.1), mining, |_| {}).unwrap();
    let handle = switcher.handle();
    let socket = dir.join("worker.sock");
    let _listener = JobListener::bind(&socket, handle.clone()).unwrap();
    assert_eq!(handle.offer("kws-1", 0.5).unwrap(), OfferDecision::Accept);
    wait_for("mining", || switcher.hashes() > 0);

    let mut train = vec!["model", "train", "kws", "--data", "ds", "--json"];
    train.extend_from_slice(&TINY_KWS);
    train.extend_from_slice(&[
        "--job-socket",
        socket.to_str().unwrap(),
        "--job-id",
        "kws-1",
    ]);
    ok(dir, &train);
    assert!(dir.join("kws/weights.safetensors").is_file());
    wait_for("the job's end", || handle.state().unwrap().job.is_none());
    let after = switcher.hashes();
    wait_for("mining again", || switcher.hashes() > after);
    let report = switcher.stop();

    // One hand-over each way, and the trainer held the device for a real stretch.
    let kinds: Vec<SwitchKind> = report.switches.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [SwitchKind::Release, SwitchKind::Resume],
        "{kinds:?}"
    );
    let intervals = report.timeline.intervals();
    let training: Vec<_> = intervals
        .iter()
        .filter(|i| i.task == Task::AiJob && i.working)
        .collect();
    assert_eq!(training.len(), 1, "{intervals:?}");
    // The tiny job trains 6 steps (tens of milliseconds, fewer on a quiet machine): a bound
    // of 50 ms failed once in three runs here.
    assert!(training[0].end - training[0].start > Duration::from_millis(1));
    assert!(intervals
        .iter()
        .any(|i| i.task == Task::Mining && i.start >= training[0].end));
    // Never mining and training at once.
    assert!(overlaps(intervals, intervals).is_empty());
}
