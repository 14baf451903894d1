//! Before/after timings of the burn-flex patches (vendor/burn-flex/PATCHES.md):
//! conv2d backward and batch-norm training kernels on the DS-CNN's shapes.
//!
//! "before" calls burn-backend's generic default implementations (copied into
//! `burn_flex::ops::reference`), "after" calls the `ModuleOps` methods that
//! the autodiff backend calls, now overridden by the fast kernels. The forward
//! ops are the same flex kernels in both.
//!
//! ```text
//! cargo run --release -p aic-ml --example flex_ops [-- ITERATIONS] [--breakdown] [--after-only]
//! ```
#![allow(missing_docs, clippy::print_stdout)]

use burn_backend::ops::{ConvOptions, ModuleOps};
use burn_backend::TensorData;
use burn_flex::ops::reference;
use burn_flex::{Flex, FlexTensor};
use std::time::Instant;

fn random(shape: &[usize], seed: u64) -> FlexTensor {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let n: usize = shape.iter().product();
    let data: Vec<f32> = (0..n)
        .map(|_| {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            ((s.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    FlexTensor::from_data(TensorData::new(data, shape.to_vec()))
}

fn median_ms(iters: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..iters)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

struct Conv {
    name: &'static str,
    x: FlexTensor,
    w: FlexTensor,
    b: FlexTensor,
    options: ConvOptions<2>,
    /// The input needs a gradient (false for the stem, whose input is data).
    x_grad: bool,
}

impl Conv {
    fn forward(&self) -> FlexTensor {
        Flex::conv2d(
            self.x.clone(),
            self.w.clone(),
            Some(self.b.clone()),
            self.options.clone(),
        )
    }

    fn backward_default(&self, g: &FlexTensor) {
        if self.x_grad {
            let _ = reference::conv2d_x_backward::<Flex>(
                self.x.clone(),
                self.w.clone(),
                g.clone(),
                self.options.clone(),
            );
        }
        let _ = reference::conv2d_weight_backward::<Flex>(
            self.x.clone(),
            self.w.clone(),
            g.clone(),
            self.options.clone(),
        );
        let _ = reference::conv2d_bias_backward::<Flex>(self.x.clone(), self.b.clone(), g.clone());
    }

    fn backward_fast(&self, g: &FlexTensor) {
        if self.x_grad {
            let _ = Flex::conv2d_x_backward(
                self.x.clone(),
                self.w.clone(),
                g.clone(),
                self.options.clone(),
            );
        }
        let _ = Flex::conv2d_weight_backward(
            self.x.clone(),
            self.w.clone(),
            g.clone(),
            self.options.clone(),
        );
        let _ = Flex::conv2d_bias_backward(self.x.clone(), self.b.clone(), g.clone());
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let breakdown = args.iter().any(|a| a == "--breakdown");
    // For profiling: run only the fast paths ("before" is reported as 0).
    let after_only = args.iter().any(|a| a == "--after-only");
    let iters: usize = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map(|s| s.parse().expect("ITERATIONS"))
        .unwrap_or(11);
    let (n, c, h, w) = (64, 64, 51, 20);
    let convs = [
        Conv {
            name: "depthwise 3x3 [64,64,51,20] fwd+bwd",
            x: random(&[n, c, h, w], 1),
            w: random(&[c, 1, 3, 3], 2),
            b: random(&[c], 3),
            options: ConvOptions::new([1, 1], [1, 1], [1, 1], c),
            x_grad: true,
        },
        Conv {
            name: "pointwise 1x1 [64,64,51,20] fwd+bwd",
            x: random(&[n, c, h, w], 4),
            w: random(&[c, c, 1, 1], 5),
            b: random(&[c], 6),
            options: ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
            x_grad: true,
        },
        Conv {
            name: "stem 10x4/2 [64,1,101,40] fwd+wgrad",
            x: random(&[n, 1, 101, 40], 7),
            w: random(&[c, 1, 10, 4], 8),
            b: random(&[c], 9),
            options: ConvOptions::new_with_padding([2, 2], [(4, 5), (1, 2)], [1, 1], 1),
            x_grad: false,
        },
    ];

    println!("median of {iters} runs, ms (rayon threads: {})", threads());
    println!(
        "{:<40} {:>10} {:>10} {:>8}",
        "op", "before", "after", "speedup"
    );
    for conv in &convs {
        let g = random(&conv.forward().layout().shape().to_vec(), 10);
        let before = if after_only {
            0.0
        } else {
            median_ms(iters, || {
                let _ = conv.forward();
                conv.backward_default(&g);
            })
        };
        let after = median_ms(iters, || {
            let _ = conv.forward();
            conv.backward_fast(&g);
        });
        report(conv.name, before, after);
        if breakdown {
            let fwd = median_ms(iters, || {
                let _ = conv.forward();
            });
            println!("  forward {fwd:.1}");
            let (x, w, b, o) = (&conv.x, &conv.w, &conv.b, &conv.options);
            if conv.x_grad {
                let before = median_ms(iters, || {
                    let _ = reference::conv2d_x_backward::<Flex>(
                        x.clone(),
                        w.clone(),
                        g.clone(),
                        o.clone(),
                    );
                });
                let after = median_ms(iters, || {
                    let _ = Flex::conv2d_x_backward(x.clone(), w.clone(), g.clone(), o.clone());
                });
                report("  x grad", before, after);
            }
            let before = median_ms(iters, || {
                let _ = reference::conv2d_weight_backward::<Flex>(
                    x.clone(),
                    w.clone(),
                    g.clone(),
                    o.clone(),
                );
            });
            let after = median_ms(iters, || {
                let _ = Flex::conv2d_weight_backward(x.clone(), w.clone(), g.clone(), o.clone());
            });
            report("  weight grad", before, after);
            let before = median_ms(iters, || {
                let _ = reference::conv2d_bias_backward::<Flex>(x.clone(), b.clone(), g.clone());
            });
            let after = median_ms(iters, || {
                let _ = Flex::conv2d_bias_backward(x.clone(), b.clone(), g.clone());
            });
            report("  bias grad", before, after);
        }
    }

    let x = random(&[n, c, h, w], 11);
    let gamma = random(&[c], 12);
    let beta = random(&[c], 13);
    let g = random(&[n, c, h, w], 14);
    let eps = 1e-5;
    let before = if after_only {
        0.0
    } else {
        median_ms(iters, || {
            let f =
                reference::batch_norm_train::<Flex>(x.clone(), gamma.clone(), beta.clone(), eps);
            let _ = reference::batch_norm_train_backward::<Flex>(
                x.clone(),
                gamma.clone(),
                f.mean,
                f.variance,
                eps,
                g.clone(),
            );
        })
    };
    let after = median_ms(iters, || {
        let f = Flex::batch_norm_train(x.clone(), gamma.clone(), beta.clone(), eps);
        let _ = Flex::batch_norm_train_backward(
            x.clone(),
            gamma.clone(),
            f.mean,
            f.variance,
            eps,
            g.clone(),
        );
    });
    report("batch_norm_train [64,64,51,20] fwd+bwd", before, after);
}

fn report(name: &str, before: f64, after: f64) {
    println!(
        "{name:<40} {before:>10.1} {after:>10.1} {:>7.1}x",
        before / after
    );
}

fn threads() -> String {
    rayon::current_num_threads().to_string()
}
