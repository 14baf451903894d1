//! Initialization from our own generator, and the small layers the models share.

use burn::module::{Module, Param};
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
