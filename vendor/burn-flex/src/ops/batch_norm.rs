//! Fused f32 kernels for batch normalization in training mode (forward with
//! batch statistics, and its backward).
//!
//! burn-backend's generic defaults build both out of ~10 separate tensor ops
//! (swap_dims, reshape, mean_dim, sub, mul, ...), each a full pass over the
//! activation with its own allocation. Here the forward is two passes for the
//! statistics (sum, then centred sum of squares, both with f64 accumulation
//! across blocks) plus one pass to normalize; the backward is one pass for the
//! per-channel sums of `grad` and `grad * (x - mean)` plus one pass for the
//! input gradient.
//!
//! Inputs are `[batch, channels, ...]` (any rank >= 2). Other dtypes fall back
//! to the generic default in [`super::reference`].
//!
//! # Determinism
//!
//! Per-channel reductions run as one task per channel, summing planes in
//! batch order; the elementwise passes write disjoint `(batch, channel)`
//! planes. Results are bit-identical for any number of rayon threads.

use alloc::vec::Vec;
use burn_backend::{
    DType,
    ops::{BatchNormTrain, BatchNormTrainBackward},
};
use burn_std::{Bytes, Shape};

use super::det::{dev_f64, grad_dev_f64, par_chunks_mut, par_map, sum_f64};
use super::reference;
use crate::{Flex, FlexTensor, Layout};

fn f32_tensor(data: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::contiguous(shape),
        DType::F32,
    )
}

/// `(batch, channels, plane)` of a `[batch, channels, ...]` tensor.
fn dims(x: &FlexTensor) -> Option<(usize, usize, usize)> {
    let s = x.layout().shape();
    if s.num_dims() < 2 {
        return None;
    }
    let plane = s[2..].iter().product();
    Some((s[0], s[1], plane))
}

/// Batch normalization with batch statistics. Returns the output, the batch
/// mean and the biased batch variance (both `[channels]`).
pub fn batch_norm_train(
    x: FlexTensor,
    gamma: FlexTensor,
    beta: FlexTensor,
    epsilon: f64,
) -> BatchNormTrain<Flex> {
    let all_f32 = [&x, &gamma, &beta].iter().all(|t| t.dtype() == DType::F32);
    let Some((n, c, plane)) = dims(&x).filter(|_| all_f32) else {
        return reference::batch_norm_train::<Flex>(x, gamma, beta, epsilon);
    };
    let count = n * plane;
    if count == 0 {
        return reference::batch_norm_train::<Flex>(x, gamma, beta, epsilon);
    }
    let shape = x.layout().shape().clone();
    let x = x.into_contiguous();
    let gamma = gamma.into_contiguous();
    let beta = beta.into_contiguous();
    let xs: &[f32] = x.storage();
    let gs: &[f32] = gamma.storage();
    let bs: &[f32] = beta.storage();
    let inv_count = 1.0 / count as f64;

    // Per channel: mean (pass 1), then variance about the f32 mean with the
    // usual correction for the rounding of that mean (pass 2).
    let stats = par_map(c, |ch| {
        let plane_of = |b: usize| &xs[(b * c + ch) * plane..(b * c + ch + 1) * plane];
        let mut s = 0.0f64;
        for b in 0..n {
            s += sum_f64(plane_of(b));
        }
        let mean = (s * inv_count) as f32;
        let (mut d1, mut d2) = (0.0f64, 0.0f64);
        for b in 0..n {
            let (a, a2) = dev_f64(plane_of(b), mean);
            d1 += a;
            d2 += a2;
        }
        let shift = d1 * inv_count;
        let var = (d2 * inv_count - shift * shift).max(0.0);
        let mean_exact = mean as f64 + shift;
        (mean_exact as f32, var as f32)
    });

    // out = (x - mean) * (gamma / sqrt(var + eps)) + beta
    let coef: Vec<(f32, f32, f32)> = stats
        .iter()
        .enumerate()
        .map(|(ch, &(mean, var))| {
            let inv_std = 1.0 / (var as f64 + epsilon).sqrt();
            (mean, (gs[ch] as f64 * inv_std) as f32, bs[ch])
        })
        .collect();
    let mut out = alloc::vec![0.0f32; xs.len()];
    if plane > 0 {
        par_chunks_mut(&mut out, plane, |bc, dst| {
            let (mean, scale, shift) = coef[bc % c];
            let src = &xs[bc * plane..(bc + 1) * plane];
            for (d, &v) in dst.iter_mut().zip(src) {
                *d = (v - mean) * scale + shift;
            }
        });
    }

    let mean: Vec<f32> = stats.iter().map(|s| s.0).collect();
    let var: Vec<f32> = stats.iter().map(|s| s.1).collect();
    BatchNormTrain::new(
        f32_tensor(out, shape),
        f32_tensor(mean, Shape::new([c])),
        f32_tensor(var, Shape::new([c])),
    )
}

/// Gradients of [`batch_norm_train`] with respect to the input, `gamma` and
/// `beta`, given the output gradient and the statistics it returned.
pub fn batch_norm_train_backward(
    x: FlexTensor,
    gamma: FlexTensor,
    mean: FlexTensor,
    variance: FlexTensor,
    epsilon: f64,
    output_grad: FlexTensor,
) -> BatchNormTrainBackward<Flex> {
    let all_f32 = [&x, &gamma, &mean, &variance, &output_grad]
        .iter()
        .all(|t| t.dtype() == DType::F32);
    let same_shape = x.layout().shape() == output_grad.layout().shape();
    let Some((n, c, plane)) = dims(&x).filter(|_| all_f32 && same_shape) else {
        return reference::batch_norm_train_backward::<Flex>(
            x,
            gamma,
            mean,
            variance,
            epsilon,
            output_grad,
        );
    };
    let count = n * plane;
    if count == 0 {
        return reference::batch_norm_train_backward::<Flex>(
            x,
            gamma,
            mean,
            variance,
            epsilon,
            output_grad,
        );
    }
    let shape = x.layout().shape().clone();
    let x = x.into_contiguous();
    let output_grad = output_grad.into_contiguous();
    let gamma = gamma.into_contiguous();
    let mean = mean.into_contiguous();
    let variance = variance.into_contiguous();
    let xs: &[f32] = x.storage();
    let go: &[f32] = output_grad.storage();
    let gs: &[f32] = gamma.storage();
    let ms: &[f32] = mean.storage();
    let vs: &[f32] = variance.storage();
    let inv_count = 1.0 / count as f64;

    // Per channel: sum(g) and sum(g * (x - mean)) in one pass.
    let sums = par_map(c, |ch| {
        let (mut sg, mut sgx) = (0.0f64, 0.0f64);
        for b in 0..n {
            let r = (b * c + ch) * plane..(b * c + ch + 1) * plane;
            let (a, a2) = grad_dev_f64(&go[r.clone()], &xs[r], ms[ch]);
            sg += a;
            sgx += a2;
        }
        (sg, sgx)
    });

    // xhat = (x - mean) * inv_std
    // dgamma = sum(g * xhat), dbeta = sum(g)
    // dx = gamma * inv_std * (g - mean(g) - xhat * mean(g * xhat))
    //    = a * (g - mean(g)) - k * (x - mean)
    //   with a = gamma * inv_std, k = a * inv_std * dgamma / count.
    let mut gamma_grad = Vec::with_capacity(c);
    let mut beta_grad = Vec::with_capacity(c);
    let mut coef = Vec::with_capacity(c);
    for (ch, &(sg, sgx)) in sums.iter().enumerate() {
        let inv_std = 1.0 / (vs[ch] as f64 + epsilon).sqrt();
        let dgamma = sgx * inv_std;
        let a = gs[ch] as f64 * inv_std;
        let k = a * inv_std * dgamma * inv_count;
        gamma_grad.push(dgamma as f32);
        beta_grad.push(sg as f32);
        coef.push((a as f32, (sg * inv_count) as f32, k as f32, ms[ch]));
    }

    let mut dx = alloc::vec![0.0f32; xs.len()];
    if plane > 0 {
        par_chunks_mut(&mut dx, plane, |bc, dst| {
            let (a, mg, k, m) = coef[bc % c];
            let r = bc * plane..(bc + 1) * plane;
            for ((d, &gv), &xv) in dst.iter_mut().zip(&go[r.clone()]).zip(&xs[r]) {
                *d = a * (gv - mg) - k * (xv - m);
            }
        });
    }

    BatchNormTrainBackward::new(
        f32_tensor(dx, shape),
        f32_tensor(gamma_grad, Shape::new([c])),
        f32_tensor(beta_grad, Shape::new([c])),
    )
}
