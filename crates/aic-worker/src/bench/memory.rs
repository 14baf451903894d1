//! Memory bandwidth, STREAM-style: copy (`c = a`) and triad (`a = b + s·c`) over three f64
//! arrays much larger than the caches, each thread on its own slice. Bytes counted as STREAM
//! counts them: 2 per element and array byte for copy, 3 for triad (write-allocate traffic not
//! counted). The best pass is reported, as STREAM does.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::BenchError;

/// One memory-bandwidth measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryResult {
    /// Bytes of each array.
    pub array_bytes: usize,
    /// Threads.
    pub threads: usize,
    /// Passes (one copy and one triad each).
    pub passes: usize,
    /// Best copy pass, 10^9 bytes/s.
    pub copy_gbytes_per_sec: f64,
    /// Best triad pass, 10^9 bytes/s.
    pub triad_gbytes_per_sec: f64,
    /// Wall-clock seconds of all passes.
    pub seconds: f64,
}

/// The largest CPU cache, bytes, from `/sys/devices/system/cpu/cpu0/cache` (None if absent).
pub fn largest_cache_bytes() -> Option<usize> {
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path().join("size")).ok())
        .filter_map(|s| {
            let s = s.trim();
            let (digits, unit) =
                s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
            let n: usize = digits.parse().ok()?;
            n.checked_mul(match unit {
                "K" => 1 << 10,
                "M" => 1 << 20,
                "G" => 1 << 30,
                _ => 1,
            })
        })
        .max()
}

/// Four times the largest cache, at least 64 MiB and at most 1 GiB, per array.
pub fn default_array_bytes() -> usize {
    largest_cache_bytes()
        .unwrap_or(0)
        .saturating_mul(4)
        .clamp(64 << 20, 1 << 30)
}

/// Runs copy and triad passes over three arrays of `array_bytes` each until the next pass
/// would pass `budget` (at least one pass; at most 1000).
pub fn memory_bandwidth(
    array_bytes: usize,
    threads: usize,
    budget: Duration,
) -> Result<MemoryResult, BenchError> {
    let len = array_bytes / 8;
    if len < threads || threads == 0 {
        return Err(BenchError::Parameter(
            "need at least one thread and one f64 per thread",
        ));
    }
    let chunk = len.div_ceil(threads);
    let (mut a, mut b, mut c) = (vec![0f64; len], vec![0f64; len], vec![0f64; len]);
    // First touch on the threads that will use the pages.
    par(&mut a, &mut b, &mut c, chunk, |a, b, c| {
        a.fill(1.0);
        b.fill(2.0);
        c.fill(0.5);
    });
    let bytes = (len * 8) as f64;
    let (mut copy, mut triad, mut passes) = (0f64, 0f64, 0);
    let started = Instant::now();
    let mut last = Duration::ZERO;
    while passes == 0 || (started.elapsed() + last <= budget && passes < 1000) {
        let t = Instant::now();
        par(&mut a, &mut b, &mut c, chunk, |a, _, c| {
            c.copy_from_slice(a)
        });
        let copy_time = t.elapsed();
        let t2 = Instant::now();
        par(&mut a, &mut b, &mut c, chunk, |a, b, c| {
            for ((a, b), c) in a.iter_mut().zip(b.iter()).zip(c.iter()) {
                *a = b + 3.0 * c;
            }
        });
        let triad_time = t2.elapsed();
        std::hint::black_box((&a, &c));
        last = t.elapsed();
        copy = copy.max(2.0 * bytes / copy_time.as_secs_f64().max(1e-9) / 1e9);
        triad = triad.max(3.0 * bytes / triad_time.as_secs_f64().max(1e-9) / 1e9);
        passes += 1;
    }
    Ok(MemoryResult {
        array_bytes: len * 8,
        threads,
        passes,
        copy_gbytes_per_sec: copy,
        triad_gbytes_per_sec: triad,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Runs `f` on matching slices of the three arrays, one thread per slice.
fn par(
    a: &mut [f64],
    b: &mut [f64],
    c: &mut [f64],
    chunk: usize,
    f: impl Fn(&mut [f64], &mut [f64], &mut [f64]) + Sync,
) {
    std::thread::scope(|s| {
        for ((a, b), c) in a
            .chunks_mut(chunk)
            .zip(b.chunks_mut(chunk))
            .zip(c.chunks_mut(chunk))
        {
            let f = &f;
            s.spawn(move || f(a, b, c));
        }
    });
}
