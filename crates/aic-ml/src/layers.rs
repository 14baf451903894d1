//! Layers built from burn's tensor operations so that their backward passes are matrix
//! multiplications and element-wise work, the operations burn's `flex` CPU backend does fast.
//!
//! Activations are kept channels-last: a feature map is `[batch, height, width, channels]`,
//! and a pointwise (1x1) convolution is one matrix multiplication of `[batch*height*width,
//! channels]` by `[channels, out]`. Measured against burn-nn's `Conv2d` in
//! `docs/benchmarks.md` (bench `train_step`).

use burn::module::{Module, Param, RunningState};
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::Rng;

/// Kaiming-uniform initial values (`bound = sqrt(6 / fan_in)`, for ReLU layers) drawn from our
/// own generator.
pub fn kaiming<const D: usize>(
    rng: &mut Rng,
    shape: [usize; D],
    fan_in: usize,
    device: &Device,
) -> Param<Tensor<D>> {
    let n: usize = shape.iter().product();
    let bound = (6.0 / fan_in as f64).sqrt() as f32;
    let data = TensorData::new(rng.uniform_vec(n, bound), shape);
    Param::from_tensor(Tensor::from_data(data, device))
}

/// A parameter of constant value.
pub fn constant<const D: usize>(
    value: f32,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    Param::from_tensor(Tensor::<D>::ones(shape, device).mul_scalar(value))
}

/// `y = x W + b` over the last dimension.
#[derive(Module, Debug)]
pub struct Dense {
    /// `[in, out]`.
    pub weight: Param<Tensor<2>>,
    /// `[out]`.
    pub bias: Param<Tensor<1>>,
}

impl Dense {
    /// Kaiming-initialized weights, zero bias.
    pub fn new(rng: &mut Rng, d_in: usize, d_out: usize, device: &Device) -> Self {
        Self {
            weight: kaiming(rng, [d_in, d_out], d_in, device),
            bias: constant(0.0, [d_out], device),
        }
    }

    /// Applies the layer to `[n, in]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        x.matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>()
    }
}

/// Batch normalization over the rows of `[n, channels]` (channels-last feature maps are
/// flattened to this). In training (autodiff device) it normalizes by the batch's statistics
/// and updates the running ones; otherwise it uses the running statistics.
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Scale, `[channels]`.
    pub gamma: Param<Tensor<1>>,
    /// Shift, `[channels]`.
    pub beta: Param<Tensor<1>>,
    /// Running mean.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (biased) variance.
    pub running_var: RunningState<Tensor<1>>,
}

const BN_EPS: f64 = 1e-5;
const BN_MOMENTUM: f32 = 0.1;

impl BatchNorm {
    /// Unit scale, zero shift, running statistics of a standard normal.
    pub fn new(channels: usize, device: &Device) -> Self {
        Self {
            gamma: constant(1.0, [channels], device),
            beta: constant(0.0, [channels], device),
            running_mean: RunningState::new(Tensor::zeros([channels], device)),
            running_var: RunningState::new(Tensor::ones([channels], device)),
        }
    }

    /// Normalizes `[n, channels]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let device = x.device();
        if device.is_autodiff() {
            let mean = x.clone().mean_dim(0);
            let centered = x - mean.clone();
            let var = centered.clone().square().mean_dim(0);
            let inv = var.clone().add_scalar(BN_EPS).sqrt().recip();
            let scale = inv * self.gamma.val().unsqueeze::<2>();
            let y = centered * scale + self.beta.val().unsqueeze::<2>();
            let [c] = self.gamma.dims();
            let upd = |state: &RunningState<Tensor<1>>, batch: Tensor<2>| {
                let old = state.value_sync().to_device(&device.clone().inner());
                let new = old.mul_scalar(1.0 - BN_MOMENTUM)
                    + batch.inner().reshape([c]).mul_scalar(BN_MOMENTUM);
                state.update(new);
            };
            upd(&self.running_mean, mean.detach());
            upd(&self.running_var, var.detach());
            y
        } else {
            let mean = self
                .running_mean
                .value()
                .to_device(&device)
                .unsqueeze::<2>();
            let var = self.running_var.value().to_device(&device).unsqueeze::<2>();
            let scale = var.add_scalar(BN_EPS).sqrt().recip() * self.gamma.val().unsqueeze::<2>();
            (x - mean) * scale + self.beta.val().unsqueeze::<2>()
        }
    }
}

/// A 3x3 depthwise convolution with "same" zero padding and stride 1 on `[b, h, w, c]`,
/// computed as nine shifted slices of the padded map times per-channel weights.
#[derive(Module, Debug)]
pub struct Depthwise3x3 {
    /// `[9, channels]`: the kernel, row-major over the 3x3 window.
    pub weight: Param<Tensor<2>>,
    /// `[channels]`.
    pub bias: Param<Tensor<1>>,
}

impl Depthwise3x3 {
    /// Kaiming-initialized (fan-in 9).
    pub fn new(rng: &mut Rng, channels: usize, device: &Device) -> Self {
        Self {
            weight: kaiming(rng, [9, channels], 9, device),
            bias: constant(0.0, [channels], device),
        }
    }

    /// Applies the convolution.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, h, w, c] = x.dims();
        let padded = x.pad(
            [(1, 1), (1, 1), (0, 0)],
            burn::tensor::ops::PadMode::Constant(0.0),
        );
        let kernel = self.weight.val();
        let mut acc = self.bias.val().reshape([1, 1, 1, c]);
        for k in 0..9 {
            let (dy, dx) = (k / 3, k % 3);
            let shifted = padded.clone().slice([0..b, dy..dy + h, dx..dx + w, 0..c]);
            let wk = kernel.clone().slice([k..k + 1, 0..c]).reshape([1, 1, 1, c]);
            acc = acc + shifted * wk;
        }
        acc
    }
}

/// A 2-D convolution with one input channel (the log-mel image) as im2col and one matrix
/// multiplication; the input needs no gradient, so the unfold is never differentiated.
#[derive(Module, Debug)]
pub struct Stem {
    /// `[kh * kw, channels]`.
    pub weight: Param<Tensor<2>>,
    /// `[channels]`.
    pub bias: Param<Tensor<1>>,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    /// Stride in height and width.
    pub stride: [usize; 2],
}

impl Stem {
    /// Kaiming-initialized.
    pub fn new(
        rng: &mut Rng,
        kernel: [usize; 2],
        stride: [usize; 2],
        channels: usize,
        device: &Device,
    ) -> Self {
        let fan_in = kernel[0] * kernel[1];
        Self {
            weight: kaiming(rng, [fan_in, channels], fan_in, device),
            bias: constant(0.0, [channels], device),
            kernel,
            stride,
        }
    }

    /// Output height and width for an input of `h` by `w` ("same" padding: `ceil(n / stride)`).
    pub fn output_size(&self, h: usize, w: usize) -> [usize; 2] {
        [h.div_ceil(self.stride[0]), w.div_ceil(self.stride[1])]
    }

    /// `[b, h, w]` to `[b, h', w', channels]`.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<4> {
        let [b, h, w] = x.dims();
        let [oh, ow] = self.output_size(h, w);
        let [kh, kw] = self.kernel;
        let pad = |n: usize, o: usize, k: usize, s: usize| {
            let total = ((o - 1) * s + k).saturating_sub(n);
            (total / 2, total - total / 2)
        };
        let ph = pad(h, oh, kh, self.stride[0]);
        let pw = pad(w, ow, kw, self.stride[1]);
        let x = x.pad([ph, pw], burn::tensor::ops::PadMode::Constant(0.0));
        // [b, oh, W, kh] -> [b, oh, ow, kh, kw]
        let cols = x
            .unfold::<4, _>(1, kh, self.stride[0])
            .unfold::<5, _>(2, kw, self.stride[1]);
        let cols = cols.reshape([b * oh * ow, kh * kw]);
        let c = self.bias.dims()[0];
        let y = cols.matmul(self.weight.val()) + self.bias.val().unsqueeze::<2>();
        y.reshape([b, oh, ow, c])
    }
}
