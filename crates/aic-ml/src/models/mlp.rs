//! `mlp`: a plain multilayer perceptron classifier over fixed-size feature vectors.

use burn::module::Module;
use burn::tensor::{activation::relu, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::layers::Dense;
use crate::rng::Rng;

/// Architecture hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MlpConfig {
    /// Input features.
    pub inputs: usize,
    /// Width of each hidden layer.
    pub hidden: Vec<usize>,
    /// Output classes.
    pub classes: usize,
}

/// The network.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Hidden layers, each followed by ReLU.
    pub layers: Vec<Dense>,
    /// Output layer.
    pub head: Dense,
}

impl Mlp {
    /// A network with weights drawn from `rng`.
    pub fn new(config: &MlpConfig, rng: &mut Rng, device: &Device) -> Self {
        let mut layers = Vec::new();
        let mut width = config.inputs;
        for &h in &config.hidden {
            layers.push(Dense::new(rng, width, h, device));
            width = h;
        }
        Self {
            layers,
            head: Dense::new(rng, width, config.classes, device),
        }
    }

    /// `[batch, inputs]` to `[batch, classes]` logits.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let mut h = x;
        for layer in &self.layers {
            h = relu(layer.forward(h));
        }
        self.head.forward(h)
    }
}
