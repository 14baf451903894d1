//! AdamW with decoupled weight decay and global-norm gradient clipping, keyed by parameter
//! path.
//!
//! burn's own optimizers key their state by `ParamId`, which is drawn at random when a module
//! is created and is not part of a safetensors checkpoint. A verifier that rebuilds the model
//! from a checkpoint must find the same moments under the same names, so this optimizer keys
//! its state by the parameter's path in the module tree (`blocks.2.pointwise.weight`) and keeps
//! it in a `BTreeMap`, whose order is the order of the checkpoint.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleMapper, Param};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

/// AdamW hyperparameters.
#[derive(Clone, Debug, PartialEq)]
pub struct AdamWConfig {
    /// First-moment decay.
    pub beta1: f32,
    /// Second-moment decay.
    pub beta2: f32,
    /// Added to the root of the second moment.
    pub epsilon: f32,
    /// Decoupled weight decay, applied to parameters of rank two or more (not to biases and
    /// normalization scales).
    pub weight_decay: f32,
    /// Gradients are scaled down so their global L2 norm is at most this (0: no clipping).
    pub clip_norm: f32,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
            weight_decay: 1e-4,
            clip_norm: 5.0,
        }
    }
}

/// The first and second moments of one parameter, flattened.
#[derive(Clone, Debug)]
pub struct Moments {
    /// First moment.
    pub m: Tensor<1>,
    /// Second moment.
    pub v: Tensor<1>,
}

/// The optimizer and its state.
#[derive(Clone, Debug)]
pub struct AdamW {
    config: AdamWConfig,
    /// Steps taken so far.
    pub step: u64,
    /// Moments by parameter path.
    pub state: BTreeMap<String, Moments>,
}

impl AdamW {
    /// A fresh optimizer.
    pub fn new(config: AdamWConfig) -> Self {
        Self {
            config,
            step: 0,
            state: BTreeMap::new(),
        }
    }

    /// The hyperparameters.
    pub fn config(&self) -> &AdamWConfig {
        &self.config
    }

    /// One update of every parameter that has a gradient in `grads`. Returns the global
    /// gradient norm before clipping (the training loop watches it for NaN).
    pub fn step<M: Module>(&mut self, lr: f64, module: M, grads: GradientsParams) -> (M, f32) {
        let norm = global_norm(&module, &grads);
        let scale = if self.config.clip_norm > 0.0 && norm > self.config.clip_norm {
            self.config.clip_norm / norm
        } else {
            1.0
        };
        self.step += 1;
        let mut mapper = Mapper {
            opt: self,
            grads,
            lr,
            scale,
            path: Vec::new(),
        };
        let module = module.map(&mut mapper);
        (module, norm)
    }
}

fn global_norm<M: Module>(module: &M, grads: &GradientsParams) -> f32 {
    struct Norm<'a> {
        grads: &'a GradientsParams,
        sum: f64,
    }
    impl burn::module::ModuleVisitor for Norm<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if let Some(g) = self.grads.get::<D>(param.id) {
                let s: f32 = g.square().sum().into_scalar();
                self.sum += f64::from(s);
            }
        }
    }
    let mut v = Norm { grads, sum: 0.0 };
    module.visit(&mut v);
    v.sum.sqrt() as f32
}

struct Mapper<'a> {
    opt: &'a mut AdamW,
    grads: GradientsParams,
    lr: f64,
    scale: f32,
    path: Vec<String>,
}

impl ModuleMapper for Mapper<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let (id, tensor, mapper) = param.consume();
        let Some(grad) = self.grads.remove::<D>(id) else {
            return Param::from_mapped_value(id, tensor, mapper);
        };
        let cfg = self.opt.config.clone();
        let shape = tensor.shape();
        let n = shape.num_elements();
        let path = self.path.join(".");
        let grad = grad.reshape([n]).mul_scalar(self.scale);
        let value = tensor.inner().reshape([n]);
        let moments = self.opt.state.remove(&path).unwrap_or_else(|| Moments {
            m: Tensor::zeros([n], &value.device()),
            v: Tensor::zeros([n], &value.device()),
        });
        let m = moments
            .m
            .mul_scalar(cfg.beta1)
            .add(grad.clone().mul_scalar(1.0 - cfg.beta1));
        let v = moments
            .v
            .mul_scalar(cfg.beta2)
            .add(grad.square().mul_scalar(1.0 - cfg.beta2));
        let t = self.opt.step as i32;
        let bc1 = 1.0 - f64::from(cfg.beta1).powi(t);
        let bc2 = 1.0 - f64::from(cfg.beta2).powi(t);
        let update = m.clone().div_scalar(bc1 as f32).div(
            v.clone()
                .div_scalar(bc2 as f32)
                .sqrt()
                .add_scalar(cfg.epsilon),
        );
        // p <- p - lr * (update + wd * p), decay only on matrices and kernels.
        let value = if D >= 2 && cfg.weight_decay > 0.0 {
            value.mul_scalar(1.0 - (self.lr as f32) * cfg.weight_decay)
        } else {
            value
        };
        let value = value.sub(update.mul_scalar(self.lr as f32));
        self.opt.state.insert(path, Moments { m, v });
        let value = Tensor::from_inner(value.reshape(shape)).require_grad();
        Param::from_mapped_value(id, value, mapper)
    }
}
