//! One-thread hash rate of each kernel this CPU can run.
//!
//! `cargo bench -p aic-miner --bench kernels`; throughput is in SHA-256d hashes per second.
#![allow(missing_docs)] // criterion_group! defines an undocumented public function.

use std::hint::black_box;
use std::time::Duration;

use aic_miner::{kernels, Job};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn bench(c: &mut Criterion) {
    let mut header = [0u8; 80];
    for (i, b) in header.iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(7);
    }
    // A zero target: no hash meets it, so the search never leaves its fast path.
    let job = Job {
        header,
        target: [0; 32],
    };
    let mut group = c.benchmark_group("kernels");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for kernel in kernels() {
        let count: u32 = if kernel.name() == "portable" {
            1 << 16
        } else {
            1 << 20
        };
        group.throughput(Throughput::Elements(u64::from(count)));
        group.bench_function(kernel.name(), |b| {
            b.iter(|| {
                let mut found = Vec::new();
                kernel.search(black_box(&job), black_box(0), count, &mut found);
                found
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
