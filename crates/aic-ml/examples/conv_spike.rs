//! Spike: DS-CNN training step, burn-nn Conv2d vs composed ops.
#![allow(missing_docs, clippy::print_stdout)]
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::tensor::{activation::relu, Device, Distribution, Tensor};
use std::time::Instant;

#[derive(Module, Debug)]
struct Native {
    c0: Conv2d,
    b0: BatchNorm,
    dw: Vec<Conv2d>,
    bd: Vec<BatchNorm>,
    pw: Vec<Conv2d>,
    bp: Vec<BatchNorm>,
}

impl Native {
    fn new(c: usize, d: &Device) -> Self {
        let mut dw = vec![];
        let mut pw = vec![];
        let mut bd = vec![];
        let mut bp = vec![];
        for _ in 0..4 {
            dw.push(
                Conv2dConfig::new([c, c], [3, 3])
                    .with_groups(c)
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(d),
            );
            pw.push(Conv2dConfig::new([c, c], [1, 1]).init(d));
            bd.push(BatchNormConfig::new(c).init(d));
            bp.push(BatchNormConfig::new(c).init(d));
        }
        Self {
            c0: Conv2dConfig::new([1, c], [10, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(4, 1, 5, 2))
                .init(d),
            b0: BatchNormConfig::new(c).init(d),
            dw,
            bd,
            pw,
            bp,
        }
    }
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut h = relu(self.b0.forward(self.c0.forward(x)));
        for i in 0..4 {
            h = relu(self.bd[i].forward(self.dw[i].forward(h)));
            h = relu(self.bp[i].forward(self.pw[i].forward(h)));
        }
        h.mean_dims(&[2, 3]).flatten(1, 3)
    }
}

fn main() {
    let d = Device::flex().autodiff();
    let c: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().unwrap())
        .unwrap_or(64);
    let x = Tensor::<4>::random([64, 1, 101, 40], Distribution::Normal(0.0, 1.0), &d);
    let native = Native::new(c, &d);
    let mut rng = aic_ml::rng::Rng::new(1);
    let composed = aic_ml::models::kws::KwsDsCnn::new(
        &aic_ml::models::kws::KwsConfig {
            channels: c,
            ..Default::default()
        },
        &mut rng,
        &d,
    );
    let x3 = x.clone().reshape([64, 101, 40]);
    for round in 0..3 {
        let t = Instant::now();
        let y = native.forward(x.clone());
        let tf = t.elapsed();
        let g = y.sum().backward();
        let _ = g;
        println!(
            "native c={c} round {round}: fwd {:?} total {:?}",
            tf,
            t.elapsed()
        );
        let t = Instant::now();
        let y = composed.forward(x3.clone());
        let tf = t.elapsed();
        let g = y.sum().backward();
        let _ = g;
        println!(
            "composed c={c} round {round}: fwd {:?} total {:?}",
            tf,
            t.elapsed()
        );
    }
}
