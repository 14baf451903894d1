//! Deterministic parallel helpers and lane-blocked f32 reductions shared by
//! the backward and batch-norm kernels.
//!
//! Every reduction here is split by a *fixed* partition of the data (never by
//! the number of threads), and partial results are always combined in index
//! order, so results are bit-identical for any rayon thread count.

use alloc::vec::Vec;

/// Number of f32 lanes in the blocked accumulators. Eight independent
/// accumulators let LLVM vectorize the loops (f32 addition is not
/// associative, so a single accumulator would force a serial chain).
const LANES: usize = 8;

/// Elements summed in f32 lanes before the block sum is added into an f64
/// accumulator. Bounds the f32 rounding error growth on long reductions.
const BLOCK: usize = 1024;

/// `(0..n).map(f).collect()`, in parallel when rayon is enabled. The output
/// order is the index order either way.
pub(crate) fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        (0..n).into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "rayon"))]
    {
        (0..n).map(f).collect()
    }
}

/// Calls `f(i, chunk)` for each `chunk_len`-sized chunk of `data`, in parallel
/// when rayon is enabled. Chunks are disjoint, so any schedule writes the same
/// result.
pub(crate) fn par_chunks_mut<T: Send>(
    data: &mut [T],
    chunk_len: usize,
    f: impl Fn(usize, &mut [T]) + Sync + Send,
) {
    if chunk_len == 0 || data.is_empty() {
        return;
    }
    #[cfg(feature = "rayon")]
    {
        use rayon::prelude::*;
        data.par_chunks_mut(chunk_len)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }
    #[cfg(not(feature = "rayon"))]
    {
        data.chunks_mut(chunk_len)
            .enumerate()
            .for_each(|(i, c)| f(i, c));
    }
}

#[inline(always)]
fn fold_lanes(acc: [f32; LANES]) -> f32 {
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

#[inline(always)]
fn sum_block(a: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let mut it = a.chunks_exact(LANES);
    for c in &mut it {
        for i in 0..LANES {
            acc[i] += c[i];
        }
    }
    let mut s = fold_lanes(acc);
    for &v in it.remainder() {
        s += v;
    }
    s
}

#[inline(always)]
fn dot_block(a: &[f32], b: &[f32]) -> f32 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0f32; LANES];
    let mut ia = a.chunks_exact(LANES);
    let mut ib = b.chunks_exact(LANES);
    for (ca, cb) in (&mut ia).zip(&mut ib) {
        for i in 0..LANES {
            acc[i] += ca[i] * cb[i];
        }
    }
    let mut s = fold_lanes(acc);
    for (&x, &y) in ia.remainder().iter().zip(ib.remainder()) {
        s += x * y;
    }
    s
}

/// Returns `(sum(a - c), sum((a - c)^2))` over one block.
#[inline(always)]
fn dev_block(a: &[f32], c: f32) -> (f32, f32) {
    let mut acc = [0.0f32; LANES];
    let mut acc2 = [0.0f32; LANES];
    let mut it = a.chunks_exact(LANES);
    for ch in &mut it {
        for i in 0..LANES {
            let d = ch[i] - c;
            acc[i] += d;
            acc2[i] += d * d;
        }
    }
    let mut s = fold_lanes(acc);
    let mut s2 = fold_lanes(acc2);
    for &v in it.remainder() {
        let d = v - c;
        s += d;
        s2 += d * d;
    }
    (s, s2)
}

/// Returns `(sum(g), sum(g * (a - c)))` over one block.
#[inline(always)]
fn grad_dev_block(g: &[f32], a: &[f32], c: f32) -> (f32, f32) {
    debug_assert_eq!(a.len(), g.len());
    let mut acc = [0.0f32; LANES];
    let mut acc2 = [0.0f32; LANES];
    let mut ig = g.chunks_exact(LANES);
    let mut ia = a.chunks_exact(LANES);
    for (cg, ca) in (&mut ig).zip(&mut ia) {
        for i in 0..LANES {
            acc[i] += cg[i];
            acc2[i] += cg[i] * (ca[i] - c);
        }
    }
    let mut s = fold_lanes(acc);
    let mut s2 = fold_lanes(acc2);
    for (&gv, &av) in ig.remainder().iter().zip(ia.remainder()) {
        s += gv;
        s2 += gv * (av - c);
    }
    (s, s2)
}

/// Sum of `a`, f32 lanes within fixed blocks, f64 across blocks.
pub(crate) fn sum_f64(a: &[f32]) -> f64 {
    let mut s = 0.0f64;
    for blk in a.chunks(BLOCK) {
        s += sum_block(blk) as f64;
    }
    s
}

/// Dot product of `a` and `b` (same length), f32 lanes within fixed blocks,
/// f64 across blocks.
pub(crate) fn dot_f64(a: &[f32], b: &[f32]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut s = 0.0f64;
    for (ba, bb) in a.chunks(BLOCK).zip(b.chunks(BLOCK)) {
        s += dot_block(ba, bb) as f64;
    }
    s
}

/// `(sum(a - c), sum((a - c)^2))`, f32 lanes within fixed blocks, f64 across blocks.
pub(crate) fn dev_f64(a: &[f32], c: f32) -> (f64, f64) {
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    for blk in a.chunks(BLOCK) {
        let (x, y) = dev_block(blk, c);
        s += x as f64;
        s2 += y as f64;
    }
    (s, s2)
}

/// `(sum(g), sum(g * (a - c)))`, f32 lanes within fixed blocks, f64 across blocks.
pub(crate) fn grad_dev_f64(g: &[f32], a: &[f32], c: f32) -> (f64, f64) {
    let (mut s, mut s2) = (0.0f64, 0.0f64);
    for (bg, ba) in g.chunks(BLOCK).zip(a.chunks(BLOCK)) {
        let (x, y) = grad_dev_block(bg, ba, c);
        s += x as f64;
        s2 += y as f64;
    }
    (s, s2)
}
