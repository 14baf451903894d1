//! The benchmarks on this machine: positive, finite, within their time bound.

use std::time::{Duration, Instant};

use super::*;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn sha256d_rate_is_measured_within_its_duration() {
    let t = Instant::now();
    let r = sha256d(1, Duration::from_millis(300)).unwrap();
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert!(
        r.hashes_per_sec.is_finite() && r.hashes_per_sec > 10_000.0,
        "{r:?}"
    );
    assert_eq!(r.kernel, aic_miner::best().name());
    assert!(sha256d(0, Duration::from_millis(1)).is_err());
}

#[test]
fn matmul_rate_is_measured_within_its_budget() {
    let budget = Duration::from_millis(800);
    let t = Instant::now();
    let r = matmul(512, threads(), budget).unwrap();
    // The budget, plus at most one multiply of 512 (well under a second on any CPU here).
    assert!(
        t.elapsed() < budget + Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
    assert!(
        r.runs >= 1 && r.median_gflops.is_finite() && r.median_gflops > 0.1,
        "{r:?}"
    );
    assert!(r.best_gflops >= r.median_gflops);
    assert!(matmul(0, 1, budget).is_err());
}

#[test]
fn matmul_computes_the_product() {
    // The benchmark's multiply is a real one: check a tiny case through the same call path.
    let r = matmul(3, 2, Duration::ZERO).unwrap();
    assert_eq!(r.runs, 1);
    let a = ndarray::arr2(&[[1f32, 2.0], [3.0, 4.0]]);
    let mut c = ndarray::Array2::<f32>::zeros((2, 2));
    ndarray::linalg::general_mat_mul(1.0, &a, &a, 0.0, &mut c);
    assert_eq!(c, ndarray::arr2(&[[7f32, 10.0], [15.0, 22.0]]));
}

#[test]
fn memory_bandwidth_is_measured_within_its_budget() {
    let budget = Duration::from_millis(800);
    let bytes = default_array_bytes();
    assert!(bytes >= 64 << 20);
    if let Some(cache) = largest_cache_bytes() {
        assert!(bytes >= (4 * cache).min(1 << 30));
    }
    let t = Instant::now();
    let r = memory_bandwidth(bytes, threads(), budget).unwrap();
    assert!(
        t.elapsed() < budget + Duration::from_secs(3),
        "{:?}",
        t.elapsed()
    );
    for v in [r.copy_gbytes_per_sec, r.triad_gbytes_per_sec] {
        assert!(v.is_finite() && v > 0.1, "{r:?}");
    }
    assert!(memory_bandwidth(8, 2, budget).is_err());
}

#[test]
fn median_of_odd_even_and_empty() {
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
    assert!(median(&mut []).is_nan());
}

#[test]
fn report_scores_are_the_measurements() {
    let config = BenchConfig {
        threads: 1,
        hash_duration: Duration::from_millis(100),
        matmul_n: 256,
        matmul_budget: Duration::from_millis(100),
        memory_array_bytes: 64 << 20,
        memory_budget: Duration::from_millis(100),
    };
    let report = run_cpu(&config).unwrap();
    let s = report.scores();
    assert_eq!(
        s.sha256d_hashes_per_sec,
        Some(report.hashing.hashes_per_sec)
    );
    assert_eq!(s.matmul_gflops, Some(report.matmul.median_gflops));
    assert_eq!(
        s.memory_gbytes_per_sec,
        Some(report.memory.triad_gbytes_per_sec)
    );
    assert_eq!(s.source, crate::device::ScoreSource::Benchmark);
    assert!(s.measured_at > 1_600_000_000);
}
