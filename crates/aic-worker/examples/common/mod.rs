//! Shared by the switcher's examples: the AI job process (a real, if small, training run that
//! speaks the job protocol) and percentile helpers.
#![allow(dead_code, unreachable_pub, clippy::needless_range_loop)]

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aic_worker::switcher::{JobLink, WaitReason};

/// One step of a job's script.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Compute (train) for this long once granted the device.
    Compute(Duration),
    /// Stop computing for this long, for this reason.
    Wait(WaitReason, Duration),
}

/// `c12.5,d3,e40,i200`: compute / wait data / wait epoch / renter idle, in milliseconds.
pub fn format_script(steps: &[Step]) -> String {
    let parts: Vec<String> = steps
        .iter()
        .map(|s| match s {
            Step::Compute(d) => format!("c{}", d.as_micros() as f64 / 1000.0),
            Step::Wait(r, d) => {
                let tag = match r {
                    WaitReason::Data => 'd',
                    WaitReason::Epoch => 'e',
                    WaitReason::Idle | WaitReason::Held => 'i',
                };
                format!("{tag}{}", d.as_micros() as f64 / 1000.0)
            }
        })
        .collect();
    parts.join(",")
}

/// Parses [`format_script`]'s form.
pub fn parse_script(script: &str) -> Vec<Step> {
    script
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let ms: f64 = s[1..].parse().expect("milliseconds");
            let d = Duration::from_secs_f64(ms / 1000.0);
            match &s[..1] {
                "c" => Step::Compute(d),
                "d" => Step::Wait(WaitReason::Data, d),
                "e" => Step::Wait(WaitReason::Epoch, d),
                "i" => Step::Wait(WaitReason::Idle, d),
                other => panic!("unknown step {other:?}"),
            }
        })
        .collect()
}

/// A two-layer perceptron (2 → 32 tanh → 1 sigmoid) trained by SGD on two interleaved
/// spirals: small, but real training whose accuracy the job reports.
pub struct Mlp {
    w1: Vec<[f32; 2]>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: f32,
    lr: f32,
    rng: u64,
    pub steps: u64,
}

const HIDDEN: usize = 32;

fn next(rng: &mut u64) -> f32 {
    *rng ^= *rng << 13;
    *rng ^= *rng >> 7;
    *rng ^= *rng << 17;
    (*rng >> 40) as f32 / (1u64 << 24) as f32
}

/// Point `i` of the two-spiral set (deterministic in `i`): input and label.
fn spiral(rng: &mut u64) -> ([f32; 2], f32) {
    let t = next(rng) * 3.0 * std::f32::consts::PI;
    let label = if next(rng) < 0.5 { 0.0 } else { 1.0 };
    let r = t / (3.0 * std::f32::consts::PI);
    let angle = t + label * std::f32::consts::PI;
    ([r * angle.cos(), r * angle.sin()], label)
}

impl Mlp {
    pub fn new(seed: u64, lr: f32) -> Self {
        let mut rng = seed | 1;
        let mut w = || (next(&mut rng) - 0.5) * 4.0;
        let w1 = (0..HIDDEN).map(|_| [w(), w()]).collect();
        let b1 = (0..HIDDEN).map(|_| w()).collect();
        let w2 = (0..HIDDEN).map(|_| w() * 0.5).collect();
        Self {
            w1,
            b1,
            w2,
            b2: 0.0,
            lr,
            rng: seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1,
            steps: 0,
        }
    }

    fn forward(&self, x: [f32; 2], h: &mut [f32; HIDDEN]) -> f32 {
        let mut z = self.b2;
        for j in 0..HIDDEN {
            h[j] = (self.w1[j][0] * x[0] + self.w1[j][1] * x[1] + self.b1[j]).tanh();
            z += self.w2[j] * h[j];
        }
        1.0 / (1.0 + (-z).exp())
    }

    /// One SGD step on a minibatch of 32 fresh samples.
    pub fn step(&mut self) {
        let mut h = [0f32; HIDDEN];
        for _ in 0..32 {
            let (x, y) = spiral(&mut self.rng);
            let p = self.forward(x, &mut h);
            let dz = (p - y) * self.lr;
            for j in 0..HIDDEN {
                let dh = dz * self.w2[j] * (1.0 - h[j] * h[j]);
                self.w2[j] -= dz * h[j];
                self.w1[j][0] -= dh * x[0];
                self.w1[j][1] -= dh * x[1];
                self.b1[j] -= dh;
            }
            self.b2 -= dz;
        }
        self.steps += 1;
    }

    /// Accuracy on 2,000 held-out points.
    pub fn accuracy(&self) -> f64 {
        let mut rng = 0xdead_beef_u64;
        let mut h = [0f32; HIDDEN];
        let hits = (0..2000)
            .filter(|_| {
                let (x, y) = spiral(&mut rng);
                (self.forward(x, &mut h) > 0.5) == (y > 0.5)
            })
            .count();
        hits as f64 / 2000.0
    }
}

/// What a job process did, printed as one JSON line on stdout.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct JobReport {
    pub id: String,
    pub steps: u64,
    pub accuracy: Vec<f64>,
    /// Computing time by the job's own clock, microseconds.
    pub compute_us: u64,
    /// From sending `need` to reading `go`, microseconds, each time.
    pub need_to_go_us: Vec<u64>,
}

/// The job process: connects as `id`, runs `steps` training `threads` models (a learning-rate
/// sweep, one per core of the device) in its compute phases, yields on `hold`.
pub fn run_job(socket: &Path, id: &str, steps: &[Step], threads: usize) -> JobReport {
    let mut link = JobLink::connect(socket, id).expect("connect to the worker");
    let mut models: Vec<Mlp> = (0..threads)
        .map(|i| Mlp::new(7 + i as u64, 0.05 * (i + 1) as f32))
        .collect();
    let mut report = JobReport {
        id: id.to_owned(),
        ..JobReport::default()
    };
    let mut granted = false;
    for step in steps {
        match *step {
            Step::Compute(duration) => {
                let mut left = duration;
                while left > Duration::ZERO {
                    if !granted {
                        let asked = Instant::now();
                        link.need().expect("need");
                        report
                            .need_to_go_us
                            .push(asked.elapsed().as_micros() as u64);
                        granted = true;
                    }
                    let start = Instant::now();
                    let held = train_for(&mut models, left, &link);
                    let spent = start.elapsed();
                    report.compute_us += spent.as_micros() as u64;
                    left = left.saturating_sub(spent);
                    if held {
                        link.wait(WaitReason::Held).expect("wait");
                        granted = false;
                    }
                }
            }
            Step::Wait(reason, duration) => {
                if granted {
                    link.wait(reason).expect("wait");
                    granted = false;
                }
                std::thread::sleep(duration);
            }
        }
    }
    report.steps = models.iter().map(|m| m.steps).sum();
    report.accuracy = models.iter().map(Mlp::accuracy).collect();
    link.end().expect("end");
    report
}

/// Trains every model on its own thread until `budget` is spent or the worker asks for the
/// device back; returns true in the second case.
fn train_for(models: &mut [Mlp], budget: Duration, link: &JobLink) -> bool {
    let stop = AtomicBool::new(false);
    let deadline = Instant::now() + budget;
    std::thread::scope(|scope| {
        for model in models.iter_mut() {
            let stop = &stop;
            scope.spawn(move || {
                while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                    model.step();
                }
            });
        }
        while Instant::now() < deadline {
            if link.hold_requested() {
                stop.store(true, Ordering::Relaxed);
                return true;
            }
            std::thread::sleep(Duration::from_micros(200).min(budget));
        }
        false
    })
}

/// The `q` quantile (0..=1) of `values` (sorted in place), nearest rank.
pub fn quantile(values: &mut [Duration], q: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Microseconds with one decimal.
pub fn us(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e6)
}
