//! `kws-dscnn`: the keyword-spotting network of "Hello Edge" (Zhang et al., 2017), a
//! depthwise-separable CNN on log-mel frames: a strided stem convolution, blocks of depthwise
//! 3x3 and pointwise 1x1 convolutions each followed by batch normalization and ReLU, global
//! average pooling and a linear classifier. Built from burn-nn's `Conv2d` and `BatchNorm`; all
//! initial weights come from our generator.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{activation::relu, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::layers::{kaiming, Dense};
use crate::rng::Rng;

/// Architecture hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KwsConfig {
    /// Input frames (time).
    pub frames: usize,
    /// Mel bands per frame.
    pub mels: usize,
    /// Output classes.
    pub classes: usize,
    /// Channels of every layer.
    pub channels: usize,
    /// Depthwise-separable blocks.
    pub blocks: usize,
    /// Stem kernel (time, frequency).
    pub stem_kernel: [usize; 2],
    /// Stem stride (time, frequency).
    pub stem_stride: [usize; 2],
}

impl Default for KwsConfig {
    fn default() -> Self {
        Self {
            frames: 101,
            mels: 40,
            classes: 10,
            channels: 64,
            blocks: 4,
            stem_kernel: [10, 4],
            stem_stride: [2, 2],
        }
    }
}

/// One depthwise-separable block.
#[derive(Module, Debug)]
pub struct DsBlock {
    /// Depthwise 3x3.
    pub depthwise: Conv2d,
    /// Normalization after the depthwise convolution.
    pub dw_norm: BatchNorm,
    /// Pointwise 1x1.
    pub pointwise: Conv2d,
    /// Normalization after the pointwise convolution.
    pub pw_norm: BatchNorm,
}

/// The network.
#[derive(Module, Debug)]
pub struct KwsDsCnn {
    /// Per-mel-band normalization of the input (log-mel values are far from zero mean and
    /// unit variance, and silence sits at the log floor).
    pub input_norm: BatchNorm,
    /// Stem convolution.
    pub stem: Conv2d,
    /// Normalization after the stem.
    pub stem_norm: BatchNorm,
    /// Depthwise-separable blocks.
    pub blocks: Vec<DsBlock>,
    /// Classifier.
    pub head: Dense,
}

fn conv(
    rng: &mut Rng,
    channels: [usize; 2],
    kernel: [usize; 2],
    stride: [usize; 2],
    groups: usize,
    device: &Device,
) -> Conv2d {
    let mut c = Conv2dConfig::new(channels, kernel)
        .with_stride(stride)
        .with_groups(groups)
        .with_padding(PaddingConfig2d::Same)
        .with_bias(false)
        .init(device);
    let fan_in = channels[0] / groups * kernel[0] * kernel[1];
    c.weight = kaiming(
        rng,
        [channels[1], channels[0] / groups, kernel[0], kernel[1]],
        fan_in,
        device,
    );
    c
}

impl KwsDsCnn {
    /// A network with weights drawn from `rng`.
    pub fn new(config: &KwsConfig, rng: &mut Rng, device: &Device) -> Self {
        let c = config.channels;
        Self {
            input_norm: BatchNormConfig::new(config.mels).init(device),
            stem: conv(
                rng,
                [1, c],
                config.stem_kernel,
                config.stem_stride,
                1,
                device,
            ),
            stem_norm: BatchNormConfig::new(c).init(device),
            blocks: (0..config.blocks)
                .map(|_| DsBlock {
                    depthwise: conv(rng, [c, c], [3, 3], [1, 1], c, device),
                    dw_norm: BatchNormConfig::new(c).init(device),
                    pointwise: conv(rng, [c, c], [1, 1], [1, 1], 1, device),
                    pw_norm: BatchNormConfig::new(c).init(device),
                })
                .collect(),
            head: Dense::new(rng, c, config.classes, device),
        }
    }

    /// `[batch, frames, mels]` log-mel frames to `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, t, m] = x.dims();
        let x = self.input_norm.forward(x.swap_dims(1, 2)).swap_dims(1, 2);
        let mut h = relu(
            self.stem_norm
                .forward(self.stem.forward(x.reshape([b, 1, t, m]))),
        );
        for block in &self.blocks {
            h = relu(block.dw_norm.forward(block.depthwise.forward(h)));
            h = relu(block.pw_norm.forward(block.pointwise.forward(h)));
        }
        let [_, c, _, _] = h.dims();
        let pooled = h.mean_dims(&[2, 3]).reshape([b, c]);
        self.head.forward(pooled)
    }
}
