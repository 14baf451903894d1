//! Hand-over latency of the switcher, with the real miner and a real AI job process (issue 6,
//! point 3): from a job's `need` arriving to mining having released the device (every mining
//! thread parked), and from the job's `wait` arriving to mining running again (every thread
//! woken and back in its search loop; also: to the first search batch completed).
//!
//! The job is this binary re-run with `--job`: it trains small MLPs (one per device core) in
//! 2 ms bursts separated by 3 ms data waits, `--switches` times. Then, for comparison, the
//! miner alone: park/wake against stopping and respawning its threads.
//!
//! `cargo run --release -p aic-worker --example switch_latency [-- --switches 500 --threads 2]`
#![allow(missing_docs, clippy::print_stdout)]

mod common;

use std::io::BufRead;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_miner::{impossible_work, SearchConfig, Searcher, DEFAULT_BATCH};
use aic_worker::switcher::{JobListener, MiningSetup, Policy, SwitchKind, Switcher, WaitReason};
use common::{quantile, us, JobReport, Step};

/// Polling by sleeping, not spinning: a spinning poller takes a core from the miner.
const POLL: Duration = Duration::from_micros(20);

fn arg(args: &[String], name: &str, default: f64) -> f64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect(name))
}

fn row(name: &str, mut v: Vec<Duration>) {
    let n = v.len();
    let p50 = quantile(&mut v, 0.5);
    let p99 = quantile(&mut v, 0.99);
    let max = v.last().copied().unwrap_or_default();
    println!("| {name} | {n} | {} | {} | {} |", us(p50), us(p99), us(max));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--job") {
        let steps = common::parse_script(&args[4]);
        let report = common::run_job(args[2].as_ref(), &args[3], &steps, args[5].parse().unwrap());
        println!("{}", serde_json::to_string(&report).unwrap());
        return;
    }
    let switches = arg(&args, "--switches", 500.0) as usize;
    let threads = arg(&args, "--threads", 2.0) as usize;
    let compute = Duration::from_secs_f64(arg(&args, "--compute-ms", 2.0) / 1000.0);
    let gap = Duration::from_secs_f64(arg(&args, "--gap-ms", 3.0) / 1000.0);
    let kernel: Arc<dyn aic_miner::Kernel> = Arc::from(aic_miner::best());
    let config = SearchConfig {
        threads,
        batch: DEFAULT_BATCH,
    };
    println!(
        "kernel {}, {threads} mining threads, batch {DEFAULT_BATCH}, {switches} switches",
        kernel.name()
    );

    let mining = MiningSetup {
        kernel: Arc::clone(&kernel),
        work: impossible_work(),
        config,
    };
    let switcher = Switcher::measure_first_batch(Policy::switching(0.0), mining, |_| {}).unwrap();
    let handle = switcher.handle();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("worker.sock");
    let _listener = JobListener::bind(&socket, handle.clone()).unwrap();
    handle.offer("bench", 1.0).unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let steps: Vec<Step> = (0..switches)
        .flat_map(|_| [Step::Compute(compute), Step::Wait(WaitReason::Data, gap)])
        .collect();
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--job", socket.to_str().unwrap(), "bench"])
        .arg(common::format_script(&steps))
        .arg(threads.to_string())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let line = out.lines().next().unwrap().unwrap();
    let job: JobReport = serde_json::from_str(&line).unwrap();
    assert!(child.wait().unwrap().success());
    while handle.state().unwrap().job.is_some() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let wall = started.elapsed();
    let report = switcher.stop();

    let of = |kind| -> Vec<Duration> {
        report
            .switches
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.latency)
            .collect()
    };
    let first: Vec<Duration> = report
        .switches
        .iter()
        .filter_map(|s| s.first_batch)
        .collect();
    let go: Vec<Duration> = job
        .need_to_go_us
        .iter()
        .map(|&u| Duration::from_micros(u))
        .collect();
    println!("\nWith the AI job process ({:.1} s):\n", wall.as_secs_f64());
    println!("| hand-over | n | p50 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    row(
        "job `need` read → mining released (all threads parked)",
        of(SwitchKind::Release),
    );
    row(
        "job `wait` read → mining running (all threads woken)",
        of(SwitchKind::Resume),
    );
    row("job `wait` read → first mining batch done", first);
    row("job side: `need` sent → `go` read", go);
    let usage = report.timeline.usage();
    println!(
        "\njob: {} SGD steps, accuracy {:?}, computed {:.3} s by its clock; switcher timeline: \
         mining {:.3} s, AI {:.3} s, lost {:.3} s of {:.3} s ({:.4} useful); {} hashes",
        job.steps,
        job.accuracy,
        job.compute_us as f64 / 1e6,
        usage.mining.as_secs_f64(),
        usage.ai.as_secs_f64(),
        usage.lost.as_secs_f64(),
        usage.total.as_secs_f64(),
        usage.useful_fraction(),
        report.hashes
    );

    // The miner alone: park and wake (what the switcher does) against stop and respawn.
    let rounds = switches.min(200);
    let searcher = Searcher::start(Arc::clone(&kernel), impossible_work(), config, |_| {}).unwrap();
    let (mut park, mut wake, mut wake_batch) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        std::thread::sleep(Duration::from_millis(2));
        park.push(searcher.pause());
        std::thread::sleep(Duration::from_millis(1));
        let h = searcher.hashes();
        let t = Instant::now();
        wake.push(searcher.resume());
        while searcher.hashes() == h {
            std::thread::sleep(POLL);
        }
        wake_batch.push(t.elapsed());
    }
    drop(searcher);
    let (mut stop, mut spawn) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let t = Instant::now();
        let s = Searcher::start(Arc::clone(&kernel), impossible_work(), config, |_| {}).unwrap();
        while s.hashes() == 0 {
            std::thread::sleep(POLL);
        }
        spawn.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(2));
        stop.push(s.stop().stop_latency);
    }
    println!("\nThe miner alone, {rounds} rounds:\n");
    println!("| operation | n | p50 µs | p99 µs | max µs |");
    println!("|---|---|---|---|---|");
    row("pause (park) → all parked", park);
    row("resume (wake) → all woken", wake);
    row("resume (wake) → first batch done", wake_batch);
    row("stop + join threads", stop);
    row("spawn threads → first batch done", spawn);
}
