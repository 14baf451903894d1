//! The switcher with the real trainer (issue 6's measurement): keyword-spotting training jobs
//! (`aic model train --job-socket`, the burn trainer in its own process) arrive over a few
//! minutes by a seeded trace, each of a different size; the worker's real miner threads fill
//! every moment no job computes. The same trace runs twice: with the switcher (mining fills
//! the gaps, including each job's start-up before its first `need`) and with a plain policy
//! that switches only between whole jobs (an accepted job holds the device from its arrival
//! to its end). Reports useful time (mining hashing + the trainer computing) from each run's
//! timeline, and the release/resume latencies of every hand-over.
//!
//! ```text
//! cargo build --release -p aic --examples
//! target/release/examples/trainer_trace [--seconds 180] [--seed 1] [--threads 2] [--aic target/release/aic]
//! ```
#![allow(missing_docs, clippy::print_stdout)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_miner::{impossible_work, SearchConfig, DEFAULT_BATCH};
use aic_worker::switcher::{
    JobListener, MiningSetup, OfferDecision, Policy, Sharing, SwitchKind, Switcher, SwitcherError,
    TransitionError, Usage,
};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

struct Rng(u64);

impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct TraceJob {
    arrival: Duration,
    epochs: u32,
    channels: u32,
}

fn trace(seed: u64, seconds: f64) -> Vec<TraceJob> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut jobs = Vec::new();
    let mut t = 1.0 + 4.0 * rng.unit();
    // Leave the last 15 % for the tail of the last job.
    while t < seconds * 0.85 {
        jobs.push(TraceJob {
            arrival: Duration::from_secs_f64(t),
            epochs: 20 + (rng.unit() * 180.0) as u32,
            channels: if rng.unit() < 0.5 { 8 } else { 16 },
        });
        t += 2.0 + 10.0 * rng.unit();
    }
    jobs
}

fn aic(bin: &Path, dir: &Path, args: &[&str]) {
    let out = Command::new(bin)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .expect("running aic");
    assert!(
        out.status.success(),
        "aic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

struct Outcome {
    name: &'static str,
    wall: Duration,
    usage: Usage,
    releases: Vec<Duration>,
    resumes: Vec<Duration>,
    hashes: u64,
    jobs: usize,
}

fn replay(
    name: &'static str,
    sharing: Sharing,
    jobs: &[TraceJob],
    seconds: f64,
    threads: usize,
    bin: &Path,
    work: &Path,
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
    let socket = work.join(format!("{}.sock", sharing_name(sharing)));
    let _ = std::fs::remove_file(&socket);
    let _listener = JobListener::bind(&socket, handle.clone()).unwrap();
    let start = Instant::now();
    let mut running: Option<Child> = None;
    for (i, job) in jobs.iter().enumerate() {
        if let Some(wait) = job.arrival.checked_sub(start.elapsed()) {
            std::thread::sleep(wait);
        }
        let id = format!("{}-{i}", sharing_name(sharing));
        let pkg = work.join(&id);
        aic(
            bin,
            work,
            &["model", "init", "--task", "keyword-spotting", "--dir", &id],
        );
        // One job at a time per device: a job arriving while another runs waits its turn.
        let decision = loop {
            match handle.offer(&id, 1.0) {
                Err(SwitcherError::Transition(TransitionError::JobAlreadyAssigned)) => {
                    std::thread::sleep(Duration::from_millis(1));
                }
                other => break other.unwrap(),
            }
        };
        assert_eq!(decision, OfferDecision::Accept);
        if let Some(mut c) = running.take() {
            assert!(c.wait().unwrap().success());
        }
        let epochs = format!("epochs={}", job.epochs);
        let channels = format!("channels={}", job.channels);
        running = Some(
            Command::new(bin)
                .current_dir(work)
                .env("RUST_LOG", "warn")
                .args(["model", "train"])
                .arg(&pkg)
                .args([
                    "--data",
                    "ds",
                    "--json",
                    "--set",
                    "patience=0",
                    "--set",
                    "blocks=1",
                ])
                .args(["--set", &epochs, "--set", &channels])
                .args(["--set", "batch_size=10", "--set", "warmup_steps=1"])
                .arg("--job-socket")
                .arg(&socket)
                .args(["--job-id", &id])
                .stdout(Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    if let Some(mut c) = running.take() {
        assert!(c.wait().unwrap().success());
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
        releases: of(SwitchKind::Release),
        resumes: of(SwitchKind::Resume),
        hashes: report.hashes,
        jobs: jobs.len(),
    }
}

fn sharing_name(s: Sharing) -> &'static str {
    match s {
        Sharing::FillGaps => "fill",
        Sharing::WholeJob => "whole",
    }
}

fn quantile(values: &mut [Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort();
    let i = ((values.len() - 1) as f64 * q).round() as usize;
    values[i]
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1e3)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = arg(&args, "--seconds").map_or(180.0, |v| v.parse().unwrap());
    let seed: u64 = arg(&args, "--seed").map_or(1, |v| v.parse().unwrap());
    let threads: usize = arg(&args, "--threads").map_or(2, |v| v.parse().unwrap());
    let bin = arg(&args, "--aic").map_or_else(
        || {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("aic")
        },
        PathBuf::from,
    );
    assert!(bin.is_file(), "no aic binary at {} (--aic)", bin.display());
    let work = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    aic(
        &bin,
        work.path(),
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    let jobs = trace(seed, seconds);
    println!(
        "trace seed {seed}, {seconds} s: {} keyword-spotting training jobs (epochs 20-199 of \
         batch 10, channels 8 or 16, FSDD sample digitized), {threads} mining threads ({})",
        jobs.len(),
        aic_miner::best().name()
    );
    let outcomes = [
        replay(
            "switcher (fill gaps)",
            Sharing::FillGaps,
            &jobs,
            seconds,
            threads,
            &bin,
            work.path(),
        ),
        replay(
            "whole-job policy",
            Sharing::WholeJob,
            &jobs,
            seconds,
            threads,
            &bin,
            work.path(),
        ),
    ];
    println!();
    println!(
        "| policy | wall s | useful | mining s | trainer s | lost s | releases n, p50/p99 ms | \
         resumes n, p50/p99 ms | MH | jobs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for mut o in outcomes {
        println!(
            "| {} | {:.1} | {:.4} | {:.2} | {:.2} | {:.3} | {}, {} / {} | {}, {} / {} | {:.0} | {} |",
            o.name,
            o.wall.as_secs_f64(),
            o.usage.useful_fraction(),
            o.usage.mining.as_secs_f64(),
            o.usage.ai.as_secs_f64(),
            o.usage.lost.as_secs_f64(),
            o.releases.len(),
            ms(quantile(&mut o.releases, 0.5)),
            ms(quantile(&mut o.releases, 0.99)),
            o.resumes.len(),
            ms(quantile(&mut o.resumes, 0.5)),
            ms(quantile(&mut o.resumes, 0.99)),
            o.hashes as f64 / 1e6,
            o.jobs,
        );
    }
}
