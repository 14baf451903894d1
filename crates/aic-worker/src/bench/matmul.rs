//! Dense f32 matrix multiply, C = A·B with n×n matrices: `matrixmultiply`'s blocked SGEMM
//! (through `ndarray`'s safe `general_mat_mul`), the rows of C split among the threads.
//! One multiply is 2n³ floating-point operations.

use std::time::{Duration, Instant};

use ndarray::{linalg::general_mat_mul, Array2, Axis};
use serde::{Deserialize, Serialize};

use super::{median, BenchError};

/// One matrix-multiply measurement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MatmulResult {
    /// Matrix size.
    pub n: usize,
    /// Threads.
    pub threads: usize,
    /// Multiplies timed.
    pub runs: usize,
    /// Median over the runs, 10^9 flop/s.
    pub median_gflops: f64,
    /// Best run, 10^9 flop/s.
    pub best_gflops: f64,
    /// Wall-clock seconds of all runs.
    pub seconds: f64,
}

/// Multiplies n×n matrices on `threads` threads until the next run would pass `budget`
/// (at least one run; at most 101), and reports the median and best rate.
pub fn matmul(n: usize, threads: usize, budget: Duration) -> Result<MatmulResult, BenchError> {
    if n == 0 || threads == 0 {
        return Err(BenchError::Parameter(
            "matrix size and threads must be at least 1",
        ));
    }
    // Values in [-1, 1) from a fixed LCG: no denormals, nothing the compiler can fold.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 23) as f32) - 1.0
    };
    let a = Array2::from_shape_simple_fn((n, n), &mut next);
    let b = Array2::from_shape_simple_fn((n, n), &mut next);
    let mut c = Array2::<f32>::ones((n, n));
    let rows = n.div_ceil(threads);
    let flops = 2.0 * (n as f64).powi(3);
    let mut rates = Vec::new();
    let started = Instant::now();
    let mut last = Duration::ZERO;
    while rates.is_empty() || (started.elapsed() + last <= budget && rates.len() < 101) {
        let t = Instant::now();
        std::thread::scope(|s| {
            for (a_rows, mut c_rows) in a
                .axis_chunks_iter(Axis(0), rows)
                .zip(c.axis_chunks_iter_mut(Axis(0), rows))
            {
                let b = &b;
                s.spawn(move || general_mat_mul(1.0, &a_rows, b, 0.0, &mut c_rows));
            }
        });
        last = t.elapsed();
        std::hint::black_box(&c);
        rates.push(flops / last.as_secs_f64().max(1e-9) / 1e9);
    }
    let best = rates.iter().copied().fold(0.0, f64::max);
    Ok(MatmulResult {
        n,
        threads: threads.min(n),
        runs: rates.len(),
        median_gflops: median(&mut rates),
        best_gflops: best,
        seconds: started.elapsed().as_secs_f64(),
    })
}
