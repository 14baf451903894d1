//! Fast f32 kernels for the conv2d backward pass (input, weight and bias
//! gradients).
//!
//! burn-backend's generic defaults compute the input gradient through
//! `conv_transpose2d`, the weight gradient through a forward conv of the
//! swapped input by the swapped output gradient (one conv per group for
//! grouped convs), and the bias gradient through swap_dims + reshape + sum.
//! On flex these cost 5-10x the forward pass. The kernels here:
//!
//! - groups == 1: im2col + gemm. Weight grad = `grad_out_b [C_out, HW_out] x
//!   cols_b^T` accumulated over the batch; input grad = `W^T x grad_out_b`
//!   followed by col2im. For 1x1 / stride 1 / no padding the input itself is
//!   the column matrix (no im2col, no col2im).
//! - depthwise (groups == C_in == C_out): direct loops over NCHW planes.
//! - everything else (other group counts, other dtypes) falls back to the
//!   generic default in [`super::reference`].
//!
//! # Determinism
//!
//! gemm is always called with `Parallelism::None`. Parallelism (rayon) is only
//! over independent outputs (batch items for the input grad, channels for
//! depthwise grads) or over a *fixed* chunking of the batch for the weight
//! grad, whose partial sums are then combined in chunk order. Results are
//! therefore bit-identical for any number of rayon threads.

use alloc::vec;
use alloc::vec::Vec;
use burn_backend::{DType, ops::ConvOptions};
use burn_std::{Bytes, Shape};

use super::det::{dot_f64, par_chunks_mut, par_map, sum_f64};
use super::reference;
use crate::{Flex, FlexTensor, Layout};

/// Batch items per partial sum of the weight gradient. A fixed constant (not
/// derived from the thread count) so that the summation order only depends
/// on the batch size.
const WEIGHT_GRAD_BATCH_CHUNK: usize = 4;

/// Geometry of one conv2d, taken from the input, weight and output-gradient
/// shapes. Output sizes come from the output gradient, which accounts for
/// asymmetric padding.
#[derive(Debug, Clone, Copy)]
struct Geom {
    n: usize,
    cin: usize,
    h: usize,
    w: usize,
    cout: usize,
    cpg: usize,
    kh: usize,
    kw: usize,
    oh: usize,
    ow: usize,
    sh: usize,
    sw: usize,
    ph: usize,
    pw: usize,
    dh: usize,
    dw: usize,
    groups: usize,
}

impl Geom {
    /// `None` unless all three tensors are rank-4 f32 with consistent shapes.
    fn f32(
        x: &FlexTensor,
        weight: &FlexTensor,
        output_grad: &FlexTensor,
        options: &ConvOptions<2>,
    ) -> Option<Self> {
        if x.dtype() != DType::F32
            || weight.dtype() != DType::F32
            || output_grad.dtype() != DType::F32
        {
            return None;
        }
        let xs = x.layout().shape();
        let ws = weight.layout().shape();
        let gs = output_grad.layout().shape();
        if xs.num_dims() != 4 || ws.num_dims() != 4 || gs.num_dims() != 4 {
            return None;
        }
        let [ph, pw] = options.padding_begin();
        let g = Geom {
            n: xs[0],
            cin: xs[1],
            h: xs[2],
            w: xs[3],
            cout: ws[0],
            cpg: ws[1],
            kh: ws[2],
            kw: ws[3],
            oh: gs[2],
            ow: gs[3],
            sh: options.stride[0],
            sw: options.stride[1],
            ph,
            pw,
            dh: options.dilation[0],
            dw: options.dilation[1],
            groups: options.groups,
        };
        let consistent = gs[0] == g.n
            && gs[1] == g.cout
            && g.groups > 0
            && g.cin == g.cpg * g.groups
            && g.cout % g.groups == 0
            && g.sh > 0
            && g.sw > 0
            && g.kh > 0
            && g.kw > 0;
        consistent.then_some(g)
    }

    fn is_depthwise(&self) -> bool {
        self.groups == self.cin && self.cout == self.cin && self.cpg == 1
    }

    /// Depthwise with stride 1 and a non-empty output: the flattened kernels.
    fn is_depthwise_s1(&self) -> bool {
        self.is_depthwise() && self.sh == 1 && self.sw == 1 && self.out_plane() > 0
    }

    /// 1x1, stride 1, no padding: the input planes are the columns.
    fn is_pointwise(&self) -> bool {
        self.groups == 1
            && self.kh == 1
            && self.kw == 1
            && self.sh == 1
            && self.sw == 1
            && self.ph == 0
            && self.pw == 0
            && self.oh == self.h
            && self.ow == self.w
    }

    fn in_plane(&self) -> usize {
        self.h * self.w
    }

    fn out_plane(&self) -> usize {
        self.oh * self.ow
    }

    /// Rows of the column matrix (groups == 1): `cin * kh * kw`.
    fn ckk(&self) -> usize {
        self.cin * self.kh * self.kw
    }

    /// For each kernel row `ki`, the output rows `[start, end)` that read
    /// an input row inside the image.
    fn oh_ranges(&self) -> Vec<(usize, usize)> {
        (0..self.kh)
            .map(|k| valid_out_range(k, self.dh, self.ph, self.sh, self.h, self.oh))
            .collect()
    }

    /// For each kernel column `kj`, the output columns `[start, end)` that
    /// read an input column inside the image.
    fn ow_ranges(&self) -> Vec<(usize, usize)> {
        (0..self.kw)
            .map(|k| valid_out_range(k, self.dw, self.pw, self.sw, self.w, self.ow))
            .collect()
    }
}

/// Half-open range `[out_start, out_end)` of output positions `o` for which
/// the input index `o * stride + k * dilation - pad` lies in `[0, in_size)`.
/// (Same as the helper of the forward depthwise kernel in `conv.rs`.)
#[inline]
fn valid_out_range(
    k: usize,
    dilation: usize,
    pad: usize,
    stride: usize,
    in_size: usize,
    out_size: usize,
) -> (usize, usize) {
    let offset = k * dilation;
    let out_start = if offset >= pad {
        0
    } else {
        (pad - offset).div_ceil(stride)
    };
    let threshold = in_size + pad;
    let out_end = if offset >= threshold {
        0
    } else {
        (threshold - offset).div_ceil(stride)
    };
    let out_end = out_end.min(out_size);
    let out_start = out_start.min(out_end);
    (out_start, out_end)
}

fn f32_tensor(data: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::new(
        Bytes::from_elems(data),
        Layout::contiguous(shape),
        DType::F32,
    )
}

// ============================================================================
// Entry points (called from `ModuleOps for Flex`)
// ============================================================================

/// Gradient of conv2d with respect to its input.
pub fn conv2d_x_backward(
    x: FlexTensor,
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: ConvOptions<2>,
) -> FlexTensor {
    if let Some(g) = Geom::f32(&x, &weight, &output_grad, &options)
        && (g.groups == 1 || g.is_depthwise())
    {
        let x_shape = x.layout().shape().clone();
        let weight = weight.into_contiguous();
        let output_grad = output_grad.into_contiguous();
        let w: &[f32] = weight.storage();
        let go: &[f32] = output_grad.storage();
        let dx = if g.is_depthwise_s1() {
            depthwise_s1_x_grad(&g, w, go)
        } else if g.is_depthwise() {
            depthwise_x_grad(&g, w, go)
        } else {
            gemm_x_grad(&g, w, go)
        };
        return f32_tensor(dx, x_shape);
    }
    reference::conv2d_x_backward::<Flex>(x, weight, output_grad, options)
}

/// Gradient of conv2d with respect to its weight.
pub fn conv2d_weight_backward(
    x: FlexTensor,
    weight: FlexTensor,
    output_grad: FlexTensor,
    options: ConvOptions<2>,
) -> FlexTensor {
    if let Some(g) = Geom::f32(&x, &weight, &output_grad, &options)
        && (g.groups == 1 || g.is_depthwise())
    {
        let w_shape = weight.layout().shape().clone();
        let x = x.into_contiguous();
        let output_grad = output_grad.into_contiguous();
        let xs: &[f32] = x.storage();
        let go: &[f32] = output_grad.storage();
        let dw = if g.is_depthwise_s1() {
            depthwise_s1_weight_grad(&g, xs, go)
        } else if g.is_depthwise() {
            depthwise_weight_grad(&g, xs, go)
        } else {
            gemm_weight_grad(&g, xs, go)
        };
        return f32_tensor(dw, w_shape);
    }
    reference::conv2d_weight_backward::<Flex>(x, weight, output_grad, options)
}

/// Gradient of conv2d with respect to its bias.
pub fn conv2d_bias_backward(
    x: FlexTensor,
    bias: FlexTensor,
    output_grad: FlexTensor,
) -> FlexTensor {
    let gs = output_grad.layout().shape();
    if output_grad.dtype() == DType::F32 && bias.dtype() == DType::F32 && gs.num_dims() == 4 {
        let (n, cout, plane) = (gs[0], gs[1], gs[2] * gs[3]);
        let b_shape = bias.layout().shape().clone();
        let output_grad = output_grad.into_contiguous();
        let go: &[f32] = output_grad.storage();
        let db = par_map(cout, |c| {
            let mut s = 0.0f64;
            for b in 0..n {
                let start = (b * cout + c) * plane;
                s += sum_f64(&go[start..start + plane]);
            }
            s as f32
        });
        return f32_tensor(db, b_shape);
    }
    reference::conv2d_bias_backward::<Flex>(x, bias, output_grad)
}

// ============================================================================
// groups == 1: im2col + gemm
// ============================================================================

/// Fills `cols` (`[cin * kh * kw, oh * ow]`, row-major) with the receptive
/// fields of one batch item `xb` (`[cin, h, w]`); out-of-image taps are 0.
fn im2col(
    g: &Geom,
    xb: &[f32],
    cols: &mut [f32],
    oh_r: &[(usize, usize)],
    ow_r: &[(usize, usize)],
) {
    let ohw = g.out_plane();
    for c in 0..g.cin {
        let xp = &xb[c * g.in_plane()..(c + 1) * g.in_plane()];
        for ki in 0..g.kh {
            let (o0, o1) = oh_r[ki];
            for kj in 0..g.kw {
                let (q0, q1) = ow_r[kj];
                let r = (c * g.kh + ki) * g.kw + kj;
                let row = &mut cols[r * ohw..(r + 1) * ohw];
                row[..o0 * g.ow].fill(0.0);
                row[o1 * g.ow..].fill(0.0);
                for o in o0..o1 {
                    let ih = o * g.sh + ki * g.dh - g.ph;
                    let xrow = &xp[ih * g.w..(ih + 1) * g.w];
                    let dst = &mut row[o * g.ow..(o + 1) * g.ow];
                    dst[..q0].fill(0.0);
                    dst[q1..].fill(0.0);
                    if q0 < q1 {
                        let iw0 = q0 * g.sw + kj * g.dw - g.pw;
                        if g.sw == 1 {
                            dst[q0..q1].copy_from_slice(&xrow[iw0..iw0 + (q1 - q0)]);
                        } else {
                            for (d, q) in dst[q0..q1].iter_mut().zip(0..) {
                                *d = xrow[iw0 + q * g.sw];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Adds the column gradient `cols` (`[cin * kh * kw, oh * ow]`) back onto the
/// input gradient `dxb` (`[cin, h, w]`) of one batch item. Fixed order.
fn col2im_add(
    g: &Geom,
    cols: &[f32],
    dxb: &mut [f32],
    oh_r: &[(usize, usize)],
    ow_r: &[(usize, usize)],
) {
    let ohw = g.out_plane();
    let plane = g.in_plane();
    for c in 0..g.cin {
        let dp = &mut dxb[c * plane..(c + 1) * plane];
        for ki in 0..g.kh {
            let (o0, o1) = oh_r[ki];
            for kj in 0..g.kw {
                let (q0, q1) = ow_r[kj];
                if q0 >= q1 {
                    continue;
                }
                let r = (c * g.kh + ki) * g.kw + kj;
                let row = &cols[r * ohw..(r + 1) * ohw];
                for o in o0..o1 {
                    let ih = o * g.sh + ki * g.dh - g.ph;
                    let drow = &mut dp[ih * g.w..(ih + 1) * g.w];
                    let src = &row[o * g.ow + q0..o * g.ow + q1];
                    let iw0 = q0 * g.sw + kj * g.dw - g.pw;
                    if g.sw == 1 {
                        for (d, &s) in drow[iw0..iw0 + src.len()].iter_mut().zip(src) {
                            *d += s;
                        }
                    } else {
                        for (q, &s) in src.iter().enumerate() {
                            drow[iw0 + q * g.sw] += s;
                        }
                    }
                }
            }
        }
    }
}

/// `dst[m, n] (=|+=) lhs[m, k] * rhs[k, n]` with explicit strides
/// (`*_rs`: row stride, `*_cs`: column stride), single-threaded.
///
/// # Safety
/// All pointers must be valid for the given shapes and strides, and `dst`
/// must not alias `lhs` or `rhs`.
#[allow(clippy::too_many_arguments)]
unsafe fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    dst: *mut f32,
    dst_rs: usize,
    dst_cs: usize,
    accumulate: bool,
    lhs: *const f32,
    lhs_rs: usize,
    lhs_cs: usize,
    rhs: *const f32,
    rhs_rs: usize,
    rhs_cs: usize,
) {
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst,
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs,
            lhs_cs as isize,
            lhs_rs as isize,
            rhs,
            rhs_cs as isize,
            rhs_rs as isize,
            1.0f32,
            1.0f32,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// Weight gradient, groups == 1: `dW[co, ckk] = sum_b grad_b[co, p] * cols_b[ckk, p]`.
fn gemm_weight_grad(g: &Geom, x: &[f32], go: &[f32]) -> Vec<f32> {
    let ckk = g.ckk();
    let ohw = g.out_plane();
    let xb_len = g.cin * g.in_plane();
    let gb_len = g.cout * ohw;
    let out_len = g.cout * ckk;
    if g.n == 0 || ohw == 0 || out_len == 0 {
        return vec![0.0; out_len];
    }
    let pointwise = g.is_pointwise();
    let (oh_r, ow_r) = (g.oh_ranges(), g.ow_ranges());
    let chunks = g.n.div_ceil(WEIGHT_GRAD_BATCH_CHUNK);

    let partials = par_map(chunks, |chunk| {
        let b0 = chunk * WEIGHT_GRAD_BATCH_CHUNK;
        let b1 = (b0 + WEIGHT_GRAD_BATCH_CHUNK).min(g.n);
        let mut acc = vec![0.0f32; out_len];
        let mut cols = if pointwise {
            Vec::new()
        } else {
            vec![0.0f32; ckk * ohw]
        };
        for b in b0..b1 {
            let xb = &x[b * xb_len..(b + 1) * xb_len];
            let colsb: &[f32] = if pointwise {
                xb
            } else {
                im2col(g, xb, &mut cols, &oh_r, &ow_r);
                &cols
            };
            let gb = &go[b * gb_len..(b + 1) * gb_len];
            // acc[co, j] += sum_p gb[co, p] * colsb[j, p]
            // SAFETY: acc is [cout, ckk], gb is [cout, ohw], colsb is [ckk, ohw];
            // the strides below stay inside those buffers.
            unsafe {
                sgemm(
                    g.cout,
                    ckk,
                    ohw,
                    acc.as_mut_ptr(),
                    ckk,
                    1,
                    b > b0,
                    gb.as_ptr(),
                    ohw,
                    1,
                    colsb.as_ptr(),
                    1,
                    ohw,
                );
            }
        }
        acc
    });

    let mut partials = partials.into_iter();
    let mut total = partials.next().unwrap_or_else(|| vec![0.0; out_len]);
    for p in partials {
        for (t, v) in total.iter_mut().zip(&p) {
            *t += *v;
        }
    }
    total
}

/// Input gradient, groups == 1: `cols_b = W^T grad_b`, then col2im.
fn gemm_x_grad(g: &Geom, w: &[f32], go: &[f32]) -> Vec<f32> {
    let ckk = g.ckk();
    let ohw = g.out_plane();
    let xb_len = g.cin * g.in_plane();
    let gb_len = g.cout * ohw;
    let mut dx = vec![0.0f32; g.n * xb_len];
    if ohw == 0 || g.cout == 0 || xb_len == 0 {
        return dx;
    }
    let pointwise = g.is_pointwise();
    let (oh_r, ow_r) = (g.oh_ranges(), g.ow_ranges());

    par_chunks_mut(&mut dx, xb_len, |b, dxb| {
        let gb = &go[b * gb_len..(b + 1) * gb_len];
        if pointwise {
            // dxb[ci, p] = sum_co w[co, ci] * gb[co, p]
            // SAFETY: dxb is [cin, ohw] (h == oh, w == ow), w is [cout, cin],
            // gb is [cout, ohw].
            unsafe {
                sgemm(
                    g.cin,
                    ohw,
                    g.cout,
                    dxb.as_mut_ptr(),
                    ohw,
                    1,
                    false,
                    w.as_ptr(),
                    1,
                    g.cin,
                    gb.as_ptr(),
                    ohw,
                    1,
                );
            }
        } else {
            let mut cols = vec![0.0f32; ckk * ohw];
            // cols[j, p] = sum_co w[co, j] * gb[co, p]
            // SAFETY: cols is [ckk, ohw], w is [cout, ckk], gb is [cout, ohw].
            unsafe {
                sgemm(
                    ckk,
                    ohw,
                    g.cout,
                    cols.as_mut_ptr(),
                    ohw,
                    1,
                    false,
                    w.as_ptr(),
                    1,
                    ckk,
                    gb.as_ptr(),
                    ohw,
                    1,
                );
            }
            col2im_add(g, &cols, dxb, &oh_r, &ow_r);
        }
    });
    dx
}

// ============================================================================
// Depthwise: direct loops on NCHW planes
// ============================================================================

/// Weight gradient of a depthwise conv: one task per channel, each summing
/// over the batch in order; within a plane, products are accumulated into a
/// per-(tap, output column) f32 row buffer (vectorizable, at most `oh` terms
/// per element), which is reduced into f64 per plane.
fn depthwise_weight_grad(g: &Geom, x: &[f32], go: &[f32]) -> Vec<f32> {
    let c = g.cin;
    let taps = g.kh * g.kw;
    let (ip, op) = (g.in_plane(), g.out_plane());
    let (oh_r, ow_r) = (g.oh_ranges(), g.ow_ranges());

    let per_channel = par_map(c, |ch| {
        let mut acc = vec![0.0f64; taps];
        let mut rows = vec![0.0f32; taps * g.ow];
        for b in 0..g.n {
            let xp = &x[(b * c + ch) * ip..(b * c + ch + 1) * ip];
            let gp = &go[(b * c + ch) * op..(b * c + ch + 1) * op];
            rows.fill(0.0);
            for ki in 0..g.kh {
                let (o0, o1) = oh_r[ki];
                for o in o0..o1 {
                    let ih = o * g.sh + ki * g.dh - g.ph;
                    let xrow = &xp[ih * g.w..(ih + 1) * g.w];
                    let grow = &gp[o * g.ow..(o + 1) * g.ow];
                    for kj in 0..g.kw {
                        let (q0, q1) = ow_r[kj];
                        if q0 >= q1 {
                            continue;
                        }
                        let t = ki * g.kw + kj;
                        let r = &mut rows[t * g.ow + q0..t * g.ow + q1];
                        let gs = &grow[q0..q1];
                        let iw0 = q0 * g.sw + kj * g.dw - g.pw;
                        if g.sw == 1 {
                            let xs = &xrow[iw0..iw0 + gs.len()];
                            for ((r, &gv), &xv) in r.iter_mut().zip(gs).zip(xs) {
                                *r += gv * xv;
                            }
                        } else {
                            for (q, (r, &gv)) in r.iter_mut().zip(gs).enumerate() {
                                *r += gv * xrow[iw0 + q * g.sw];
                            }
                        }
                    }
                }
            }
            for (t, a) in acc.iter_mut().enumerate() {
                *a += sum_f64(&rows[t * g.ow..(t + 1) * g.ow]);
            }
        }
        acc
    });

    let mut dw = Vec::with_capacity(c * taps);
    for acc in per_channel {
        dw.extend(acc.into_iter().map(|v| v as f32));
    }
    dw
}

/// Input gradient of a depthwise conv: one task per (batch, channel) plane,
/// scattering `w[c, tap] * grad` onto the input plane in a fixed order.
fn depthwise_x_grad(g: &Geom, w: &[f32], go: &[f32]) -> Vec<f32> {
    let c = g.cin;
    let taps = g.kh * g.kw;
    let (ip, op) = (g.in_plane(), g.out_plane());
    let (oh_r, ow_r) = (g.oh_ranges(), g.ow_ranges());
    let mut dx = vec![0.0f32; g.n * c * ip];

    par_chunks_mut(&mut dx, ip, |bc, dp| {
        let ch = bc % c;
        let wc = &w[ch * taps..(ch + 1) * taps];
        let gp = &go[bc * op..(bc + 1) * op];
        for ki in 0..g.kh {
            let (o0, o1) = oh_r[ki];
            for o in o0..o1 {
                let ih = o * g.sh + ki * g.dh - g.ph;
                let drow = &mut dp[ih * g.w..(ih + 1) * g.w];
                let grow = &gp[o * g.ow..(o + 1) * g.ow];
                for kj in 0..g.kw {
                    let (q0, q1) = ow_r[kj];
                    if q0 >= q1 {
                        continue;
                    }
                    let wv = wc[ki * g.kw + kj];
                    let gs = &grow[q0..q1];
                    let iw0 = q0 * g.sw + kj * g.dw - g.pw;
                    if g.sw == 1 {
                        for (d, &gv) in drow[iw0..iw0 + gs.len()].iter_mut().zip(gs) {
                            *d += wv * gv;
                        }
                    } else {
                        for (q, &gv) in gs.iter().enumerate() {
                            drow[iw0 + q * g.sw] += wv * gv;
                        }
                    }
                }
            }
        }
    });
    dx
}

// ----------------------------------------------------------------------------
// Depthwise, stride 1: flattened padded planes
// ----------------------------------------------------------------------------
//
// With stride 1, copy the input plane into a zero-padded plane of width
// `wp = ow + (kw - 1) * dw` and the output-gradient plane into a plane of the
// same width whose extra columns are zero. Every tap `(ki, kj)` then pairs
// gradient element `p` with padded-input element `p + ki * dh * wp + kj * dw`
// over the whole flattened plane: one long dot product (weight grad) or axpy
// (input grad) per tap instead of one short loop per row. Terms that wrap
// into the next row meet a zero gradient column and contribute nothing.

/// Padded-plane geometry for the stride-1 depthwise kernels:
/// `(padded rows, padded width, tail)`. The buffer holds
/// `rows * width + tail` elements so the last tap's window stays in bounds.
fn padded_dims(g: &Geom) -> (usize, usize, usize) {
    let hp = g.oh + (g.kh - 1) * g.dh;
    let wp = g.ow + (g.kw - 1) * g.dw;
    (hp, wp, (g.kw - 1) * g.dw)
}

/// Row/column ranges of the real input inside the padded plane:
/// `(input rows, first padded row, input cols, first padded col)`, where
/// input row `ih` sits at padded row `ih + ph` (and likewise for columns),
/// clipped to the padded plane.
fn interior(g: &Geom, hp: usize, wp: usize) -> (core::ops::Range<usize>, core::ops::Range<usize>) {
    let rows = 0..g.h.min(hp.saturating_sub(g.ph));
    let cols = 0..g.w.min(wp.saturating_sub(g.pw));
    (rows, cols)
}

/// Copies gradient plane `src` (`[oh, ow]`) into `dst` (`[oh, wp]`, whose
/// columns `ow..wp` stay zero).
fn spread_rows(src: &[f32], dst: &mut [f32], ow: usize, wp: usize) {
    for (s, d) in src.chunks_exact(ow).zip(dst.chunks_exact_mut(wp)) {
        d[..ow].copy_from_slice(s);
    }
}

fn depthwise_s1_weight_grad(g: &Geom, x: &[f32], go: &[f32]) -> Vec<f32> {
    let c = g.cin;
    let taps = g.kh * g.kw;
    let (ip, op) = (g.in_plane(), g.out_plane());
    let (hp, wp, tail) = padded_dims(g);
    let (rows, cols) = interior(g, hp, wp);
    let span = g.oh * wp;

    let per_channel = par_map(c, |ch| {
        let mut acc = vec![0.0f64; taps];
        let mut xp = vec![0.0f32; hp * wp + tail];
        let mut gp = vec![0.0f32; span];
        for b in 0..g.n {
            let bc = b * c + ch;
            let xs = &x[bc * ip..(bc + 1) * ip];
            for ih in rows.clone() {
                let dst = (ih + g.ph) * wp + g.pw;
                xp[dst..dst + cols.len()].copy_from_slice(&xs[ih * g.w..ih * g.w + cols.len()]);
            }
            spread_rows(&go[bc * op..(bc + 1) * op], &mut gp, g.ow, wp);
            for ki in 0..g.kh {
                for kj in 0..g.kw {
                    let off = ki * g.dh * wp + kj * g.dw;
                    acc[ki * g.kw + kj] += dot_f64(&gp, &xp[off..off + span]);
                }
            }
        }
        acc
    });

    let mut dw = Vec::with_capacity(c * taps);
    for acc in per_channel {
        dw.extend(acc.into_iter().map(|v| v as f32));
    }
    dw
}

fn depthwise_s1_x_grad(g: &Geom, w: &[f32], go: &[f32]) -> Vec<f32> {
    let c = g.cin;
    let taps = g.kh * g.kw;
    let (ip, op) = (g.in_plane(), g.out_plane());
    let (hp, wp, tail) = padded_dims(g);
    let (rows, cols) = interior(g, hp, wp);
    let span = g.oh * wp;
    let mut dx = vec![0.0f32; g.n * c * ip];

    par_chunks_mut(&mut dx, ip, |bc, dp| {
        let ch = bc % c;
        let wc = &w[ch * taps..(ch + 1) * taps];
        let mut gp = vec![0.0f32; span];
        let mut dxp = vec![0.0f32; hp * wp + tail];
        spread_rows(&go[bc * op..(bc + 1) * op], &mut gp, g.ow, wp);
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let wv = wc[ki * g.kw + kj];
                let off = ki * g.dh * wp + kj * g.dw;
                for (d, &gv) in dxp[off..off + span].iter_mut().zip(&gp) {
                    *d += wv * gv;
                }
            }
        }
        for ih in rows.clone() {
            let src = (ih + g.ph) * wp + g.pw;
            dp[ih * g.w..ih * g.w + cols.len()].copy_from_slice(&dxp[src..src + cols.len()]);
        }
    });
    dx
}
