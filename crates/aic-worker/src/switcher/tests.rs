//! The switcher run for real: the real miner on real threads, jobs over the real socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_miner::{impossible_work, SearchConfig, DEFAULT_BATCH};

use super::*;

fn mining(threads: usize) -> MiningSetup {
    MiningSetup {
        kernel: Arc::from(aic_miner::best()),
        work: impossible_work(),
        config: SearchConfig {
            threads,
            batch: DEFAULT_BATCH,
        },
    }
}

/// Real work for the test job: a few thousand steps of a linear recurrence.
fn compute(for_how_long: Duration) -> f64 {
    let start = Instant::now();
    let mut x = 0.5f64;
    while start.elapsed() < for_how_long {
        for _ in 0..1000 {
            x = 3.9 * x * (1.0 - x);
        }
    }
    x
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn mining_and_an_ai_job_never_overlap_on_the_device() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("worker.sock");
    let switcher = Arc::new(Switcher::start(Policy::switching(0.1), mining(2), |_| {}).unwrap());
    let handle = switcher.handle();
    let _listener = JobListener::bind(&socket, handle.clone()).unwrap();
    assert_eq!(
        handle.offer("low", 0.05).unwrap(),
        OfferDecision::BelowFloor
    );
    assert_eq!(handle.offer("kws-1", 0.2).unwrap(), OfferDecision::Accept);
    wait_for("mining", || switcher.hashes() > 0);

    let origin = Instant::now();
    let miner = Arc::clone(&switcher);
    let job = std::thread::spawn(move || {
        let mut link = JobLink::connect(&socket, "kws-1").unwrap();
        let mut computed = Vec::new();
        let reasons = [WaitReason::Data, WaitReason::Epoch, WaitReason::Idle];
        for round in 0..30 {
            link.need().unwrap();
            let (h0, t0) = (miner.hashes(), Instant::now());
            compute(Duration::from_millis(3));
            let (h1, t1) = (miner.hashes(), Instant::now());
            link.wait(reasons[round % 3]).unwrap();
            computed.push((t0, t1, h0, h1));
            // Mining fills the gap.
            let before = miner.hashes();
            wait_for("mining in the gap", || miner.hashes() > before);
        }
        link.end().unwrap();
        computed
    });
    let computed = job.join().unwrap();
    wait_for("the end", || handle.state().unwrap().job.is_none());
    let switcher = Arc::try_unwrap(switcher).unwrap();
    let report = switcher.stop();

    // From the miner's own counter: not one batch completed while the job computed.
    for &(_, _, h0, h1) in &computed {
        assert_eq!(h0, h1, "mining hashed while the job computed");
    }
    // From the timelines: the job's computing intervals never meet mining's.
    let base = report.timeline.origin();
    let job_intervals: Vec<Interval> = computed
        .iter()
        .map(|&(t0, t1, _, _)| Interval {
            task: Task::AiJob,
            working: true,
            start: t0.saturating_duration_since(base),
            end: t1.saturating_duration_since(base),
        })
        .collect();
    let mining: Vec<Interval> = report
        .timeline
        .intervals()
        .iter()
        .copied()
        .filter(|i| i.task == Task::Mining)
        .collect();
    assert!(overlaps(&mining, &job_intervals).is_empty());
    assert!(overlaps(report.timeline.intervals(), report.timeline.intervals()).is_empty());
    // And the switcher's own view holds each job interval inside one of its AI intervals.
    for j in &job_intervals {
        assert!(
            report
                .timeline
                .intervals()
                .iter()
                .any(|i| i.task == Task::AiJob
                    && i.working
                    && i.start <= j.start
                    && j.end <= i.end),
            "{j:?}"
        );
    }
    // 30 needs released mining and 30 waits resumed it, each well within a loose bound.
    let releases: Vec<_> = report
        .switches
        .iter()
        .filter(|s| s.kind == SwitchKind::Release)
        .collect();
    let resumes = report.switches.len() - releases.len();
    assert_eq!((releases.len(), resumes), (30, 30));
    for s in &report.switches {
        assert!(s.latency < Duration::from_secs(2), "{s:?}");
    }
    assert_eq!(report.refused, 0);
    let usage = report.timeline.usage();
    assert!(usage.mining > Duration::ZERO && usage.ai >= Duration::from_millis(90));
    assert!(origin.elapsed() >= usage.ai);
}

#[test]
fn switching_off_keeps_the_device_on_the_owners_choice() {
    let switcher = Switcher::start(Policy::default(), mining(1), |_| {}).unwrap();
    let handle = switcher.handle();
    assert_eq!(handle.offer("job", 100.0).unwrap(), OfferDecision::AiOff);
    assert!(matches!(
        handle.signal("job", AiJobSignal::Needs, Instant::now()),
        Ok(())
    ));
    for _ in 0..50 {
        handle.owner_load(1.0).unwrap();
    }
    wait_for("mining", || switcher.hashes() > 0);
    let state = handle.state().unwrap();
    assert_eq!(state.task, Task::Mining);
    let report = switcher.stop();
    // The stray signal was refused; the device mined throughout.
    assert_eq!(report.refused, 1);
    assert!(report.switches.is_empty());
    assert!(report
        .timeline
        .intervals()
        .iter()
        .all(|i| i.task == Task::Mining));

    // AI jobs chosen: the miner never runs.
    let policy = Policy {
        owner_choice: OwnerChoice::AiJobs,
        ..Policy::default()
    };
    let switcher = Switcher::start(policy, mining(1), |_| {}).unwrap();
    std::thread::sleep(Duration::from_millis(20));
    let handle = switcher.handle();
    assert_eq!(handle.state().unwrap().task, Task::Idle);
    let before = switcher.hashes();
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(switcher.hashes(), before);
    let report = switcher.stop();
    assert!(report.switches.is_empty());
}

#[test]
fn owner_pause_holds_the_job_and_stops_mining() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("w.sock");
    let switcher = Switcher::start(Policy::switching(0.0), mining(1), |_| {}).unwrap();
    let handle = switcher.handle();
    let _listener = JobListener::bind(&socket, handle.clone()).unwrap();
    handle.owner_pause().unwrap();
    assert_eq!(handle.state().unwrap().task, Task::Paused);
    assert!(matches!(
        handle.owner_pause(),
        Err(SwitcherError::Transition(TransitionError::AlreadyPaused(
            PauseCause::Command
        )))
    ));
    let before = switcher.hashes();
    handle.owner_resume().unwrap();
    wait_for("mining after resume", || switcher.hashes() > before);

    assert_eq!(handle.offer("j", 1.0).unwrap(), OfferDecision::Accept);
    let mut link = JobLink::connect(&socket, "j").unwrap();
    link.need().unwrap();
    handle.owner_pause().unwrap();
    wait_for("hold", || link.hold_requested());
    link.wait(WaitReason::Held).unwrap();
    wait_for("paused", || handle.state().unwrap().task == Task::Paused);
    let resumer = handle.clone();
    let later = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        resumer.owner_resume().unwrap();
    });
    // `go` comes only when the owner's pause ends.
    link.need().unwrap();
    later.join().unwrap();
    assert_eq!(handle.state().unwrap().task, Task::AiJob);
    // A job that dies without `end` frees the device.
    drop(link);
    wait_for("mining after the job died", || {
        handle.state().unwrap().task == Task::Mining
    });
    let report = switcher.stop();
    assert!(report
        .timeline
        .intervals()
        .iter()
        .any(|i| i.task == Task::Paused));
}
