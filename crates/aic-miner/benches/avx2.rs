//! One-thread hash rate of the AVX2 kernel.
//!
//! `avx2-8way`: 2^20 nonces of one header against an impossible (zero) target, so the
//! early exit rejects every lane and nothing is found; throughput is in SHA-256d per second.
//!
//! Run: `cargo bench -p aic-miner --bench avx2`.
#![allow(missing_docs)]

use aic_miner::{Avx2x8, Job, Kernel};
use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use std::time::Duration;

const COUNT: u32 = 1 << 20;

fn avx2(c: &mut Criterion) {
    let Some(kernel) = Avx2x8::new() else {
        return;
    };
    let job = Job {
        header: core::array::from_fn(|i| i as u8),
        target: [0; 32],
    };
    let mut g = c.benchmark_group("sha256d");
    g.throughput(Throughput::Elements(u64::from(COUNT)));
    g.sample_size(10);
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let mut found = Vec::new();
    g.bench_function("avx2-8way", |b| {
        b.iter(|| {
            kernel.search(black_box(&job), black_box(0), COUNT, &mut found);
            assert!(found.is_empty());
        })
    });
    g.finish();
}

criterion_group!(benches, avx2);
criterion_main!(benches);
