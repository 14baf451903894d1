//! `kws-dscnn`: the keyword-spotting network of "Hello Edge" (Zhang et al., 2017), a
//! depthwise-separable CNN on log-mel frames: a strided stem convolution, blocks of depthwise
//! 3x3 and pointwise 1x1 convolutions with batch normalization and ReLU, global average
//! pooling and a linear classifier.

use burn::module::Module;
use burn::tensor::{activation::relu, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::layers::{BatchNorm, Dense, Depthwise3x3, Stem};
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
}

impl Default for KwsConfig {
    fn default() -> Self {
        Self {
            frames: 101,
            mels: 40,
            classes: 10,
            channels: 64,
            blocks: 4,
        }
    }
}

/// One depthwise-separable block.
#[derive(Module, Debug)]
pub struct DsBlock {
    /// Depthwise 3x3.
    pub depthwise: Depthwise3x3,
    /// Normalization after the depthwise convolution.
    pub dw_norm: BatchNorm,
    /// Pointwise 1x1 (a matrix multiplication in channels-last layout).
    pub pointwise: Dense,
    /// Normalization after the pointwise convolution.
    pub pw_norm: BatchNorm,
}

/// The network.
#[derive(Module, Debug)]
pub struct KwsDsCnn {
    /// Stem convolution, kernel 10x4 (time x frequency), stride 2x2.
    pub stem: Stem,
    /// Normalization after the stem.
    pub stem_norm: BatchNorm,
    /// Depthwise-separable blocks.
    pub blocks: Vec<DsBlock>,
    /// Classifier.
    pub head: Dense,
}

impl KwsDsCnn {
    /// A network with weights drawn from `rng`.
    pub fn new(config: &KwsConfig, rng: &mut Rng, device: &Device) -> Self {
        let c = config.channels;
        Self {
            stem: Stem::new(rng, [10, 4], [2, 2], c, device),
            stem_norm: BatchNorm::new(c, device),
            blocks: (0..config.blocks)
                .map(|_| DsBlock {
                    depthwise: Depthwise3x3::new(rng, c, device),
                    dw_norm: BatchNorm::new(c, device),
                    pointwise: Dense::new(rng, c, c, device),
                    pw_norm: BatchNorm::new(c, device),
                })
                .collect(),
            head: Dense::new(rng, c, config.classes, device),
        }
    }

    /// `[batch, frames, mels]` log-mel frames to `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<3>) -> Tensor<2> {
        let [b, _, _] = x.dims();
        let h = self.stem.forward(x);
        let [_, oh, ow, c] = h.dims();
        let n = b * oh * ow;
        let mut h = relu(self.stem_norm.forward(h.reshape([n, c])));
        for block in &self.blocks {
            let d = block.depthwise.forward(h.reshape([b, oh, ow, c]));
            let d = relu(block.dw_norm.forward(d.reshape([n, c])));
            h = relu(block.pw_norm.forward(block.pointwise.forward(d)));
        }
        let pooled = h.reshape([b, oh * ow, c]).mean_dim(1).reshape([b, c]);
        self.head.forward(pooled)
    }
}
