//! Useful device time under a replayed trace (issue 6, point 3): AI jobs arrive, compute in
//! bursts, wait for data, pause between epochs, sit idle while their renter is away, and end,
//! over a few minutes; the same trace is replayed against the switcher (mining fills every
//! gap) and against a plain policy that switches only between whole jobs (an assigned job
//! holds the device through its waits). Useful time = mining threads hashing + the AI job
//! computing, summed from each run's timeline.
//!
//! The trace is drawn from `--seed`; job lengths and the gaps between jobs scale with
//! `--seconds`, the structure inside a job (bursts of 50-800 ms, data waits of 5-80 ms,
//! epoch pauses of 0.2-1.5 s, renter idle of 1-5 s) does not. Jobs are real processes (this
//! binary with `--job`) training small MLPs on the device's cores and speaking the job
//! protocol over the worker's Unix socket.
//!
//! `cargo run --release -p aic-worker --example trace_replay [-- --seconds 180 --seed 1 --threads 2]`
#![allow(missing_docs, clippy::print_stdout)]

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_miner::{impossible_work, SearchConfig, DEFAULT_BATCH};
use aic_worker::switcher::{
    JobListener, MiningSetup, OfferDecision, Policy, Sharing, SwitchKind, Switcher, SwitcherError,
    TransitionError, WaitReason,
};
use common::{quantile, us, JobReport, Step};

fn arg(args: &[String], name: &str, default: f64) -> f64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect(name))
}

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn ms(&mut self, lo: f64, hi: f64) -> Duration {
        Duration::from_secs_f64((lo + (hi - lo) * self.unit()) / 1000.0)
    }
}

struct TraceJob {
    arrival: Duration,
    id: String,
    price: f64,
    steps: Vec<Step>,
}

fn script_len(steps: &[Step]) -> Duration {
    steps
        .iter()
        .map(|s| match s {
            Step::Compute(d) | Step::Wait(_, d) => *d,
        })
        .sum()
}

/// A deterministic trace of `seconds` seconds.
fn trace(seed: u64, seconds: f64) -> Vec<TraceJob> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let total = Duration::from_secs_f64(seconds);
    let mut jobs = Vec::new();
    let mut t = rng.ms(10.0 * seconds, 40.0 * seconds);
    while t < total {
        let length = rng.ms(100.0 * seconds, 250.0 * seconds);
        let mut steps = Vec::new();
        let mut bursts = 0;
        while script_len(&steps) < length {
            steps.push(Step::Compute(rng.ms(50.0, 800.0)));
            bursts += 1;
            let roll = rng.unit();
            steps.push(if bursts % 6 == 0 {
                Step::Wait(WaitReason::Epoch, rng.ms(200.0, 1500.0))
            } else if roll < 0.08 {
                Step::Wait(WaitReason::Idle, rng.ms(1000.0, 5000.0))
            } else {
                Step::Wait(WaitReason::Data, rng.ms(5.0, 80.0))
            });
        }
        steps.pop();
        let price = 0.05 + 0.95 * rng.unit();
        jobs.push(TraceJob {
            arrival: t,
            id: format!("job-{}", jobs.len()),
            price,
            steps,
        });
        t += length + rng.ms(20.0 * seconds, 60.0 * seconds);
    }
    jobs
}

struct Outcome {
    name: &'static str,
    wall: Duration,
    usage: aic_worker::switcher::Usage,
    job_compute: Duration,
    releases: Vec<Duration>,
    resumes: Vec<Duration>,
    hashes: u64,
    run: usize,
    refused: usize,
    accuracy: Vec<f64>,
}

fn replay(
    name: &'static str,
    sharing: Sharing,
    jobs: &[TraceJob],
    seconds: f64,
    threads: usize,
) -> Outcome {
    let mining = MiningSetup {
        kernel: Arc::from(aic_miner::best()),
        work: impossible_work(),
        config: SearchConfig {
            threads,
            batch: DEFAULT_BATCH,
        },
    };
    let policy = Policy {
        sharing,
        ..Policy::switching(0.1)
    };
    let switcher = Switcher::start(policy, mining, |_| {}).unwrap();
    let handle = switcher.handle();
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("worker.sock");
    let _listener = JobListener::bind(&socket, handle.clone()).unwrap();
    let start = Instant::now();
    let mut children: Vec<Child> = Vec::new();
    let mut refused = 0;
    for job in jobs {
        if let Some(wait) = job.arrival.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        // One job at a time per device: a job that arrives while another is assigned queues.
        let decision = loop {
            match handle.offer(&job.id, job.price) {
                Err(SwitcherError::Transition(TransitionError::JobAlreadyAssigned)) => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other.unwrap(),
            }
        };
        if decision != OfferDecision::Accept {
            refused += 1;
            continue;
        }
        children.push(
            Command::new(std::env::current_exe().unwrap())
                .args(["--job", socket.to_str().unwrap(), &job.id])
                .arg(common::format_script(&job.steps))
                .arg(threads.to_string())
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
    }
    let mut reports = Vec::new();
    for mut child in children {
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let line = out.lines().next().unwrap().unwrap();
        reports.push(serde_json::from_str::<JobReport>(&line).unwrap());
        assert!(child.wait().unwrap().success());
    }
    while handle.state().unwrap().job.is_some() {
        std::thread::sleep(Duration::from_millis(1));
    }
    if let Some(rest) = Duration::from_secs_f64(seconds).checked_sub(start.elapsed()) {
        std::thread::sleep(rest);
    }
    let report = switcher.stop();
    let of = |kind| {
        report
            .switches
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.latency)
            .collect::<Vec<_>>()
    };
    Outcome {
        name,
        wall: start.elapsed(),
        usage: report.timeline.usage(),
        job_compute: Duration::from_micros(reports.iter().map(|r| r.compute_us).sum()),
        releases: of(SwitchKind::Release),
        resumes: of(SwitchKind::Resume),
        hashes: report.hashes,
        run: reports.len(),
        refused,
        accuracy: reports.iter().flat_map(|r| r.accuracy.clone()).collect(),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--job") {
        let steps = common::parse_script(&args[4]);
        let report = common::run_job(args[2].as_ref(), &args[3], &steps, args[5].parse().unwrap());
        println!("{}", serde_json::to_string(&report).unwrap());
        return;
    }
    let seconds = arg(&args, "--seconds", 180.0);
    let seed = arg(&args, "--seed", 1.0) as u64;
    let threads = arg(&args, "--threads", 2.0) as usize;
    let jobs = trace(seed, seconds);
    let compute: Duration = jobs
        .iter()
        .flat_map(|j| &j.steps)
        .filter_map(|s| match s {
            Step::Compute(d) => Some(*d),
            Step::Wait(..) => None,
        })
        .sum();
    let waits = jobs.iter().map(|j| script_len(&j.steps)).sum::<Duration>() - compute;
    let signals: usize = jobs.iter().map(|j| j.steps.len()).sum();
    println!(
        "trace seed {seed}, {seconds} s: {} jobs, {:.1} s of compute and {:.1} s of waits \
         scripted, {signals} steps; {threads} mining threads ({})",
        jobs.len(),
        compute.as_secs_f64(),
        waits.as_secs_f64(),
        aic_miner::best().name()
    );
    let outcomes = [
        replay(
            "switcher (fill gaps)",
            Sharing::FillGaps,
            &jobs,
            seconds,
            threads,
        ),
        replay(
            "whole-job policy",
            Sharing::WholeJob,
            &jobs,
            seconds,
            threads,
        ),
    ];
    println!();
    println!(
        "| policy | wall s | useful | mining s | AI s (timeline) | AI s (jobs' clocks) | lost s | \
         releases p50/p99 µs | resumes p50/p99 µs | MH | jobs run/refused |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for mut o in outcomes {
        println!(
            "| {} | {:.1} | {:.4} | {:.2} | {:.2} | {:.2} | {:.3} | {} ({}) / {} | {} ({}) / {} | {:.0} | {}/{} |",
            o.name,
            o.wall.as_secs_f64(),
            o.usage.useful_fraction(),
            o.usage.mining.as_secs_f64(),
            o.usage.ai.as_secs_f64(),
            o.job_compute.as_secs_f64(),
            o.usage.lost.as_secs_f64(),
            us(quantile(&mut o.releases, 0.5)),
            o.releases.len(),
            us(quantile(&mut o.releases, 0.99)),
            us(quantile(&mut o.resumes, 0.5)),
            o.resumes.len(),
            us(quantile(&mut o.resumes, 0.99)),
            o.hashes as f64 / 1e6,
            o.run,
            o.refused,
        );
        let mean = o.accuracy.iter().sum::<f64>() / o.accuracy.len().max(1) as f64;
        println!(
            "<!-- {}: mean accuracy of the jobs' models {mean:.4} -->",
            o.name
        );
    }
}
