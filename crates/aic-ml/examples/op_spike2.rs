#![allow(missing_docs, clippy::print_stdout)]
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;

fn t<F: FnMut() -> R, R>(name: &str, mut f: F) {
    let _ = f();
    let s = Instant::now();
    for _ in 0..3 {
        let _ = f();
    }
    println!(
        "{name:50} {:>8.2} ms",
        s.elapsed().as_secs_f64() * 1000.0 / 3.0
    );
}

fn main() {
    let d = Device::flex();
    let a = d.clone().autodiff();
    let x = Tensor::<4>::random([64, 64, 51, 20], Distribution::Normal(0.0, 1.0), &d);
    let wd = Tensor::<4>::random([64, 1, 3, 3], Distribution::Normal(0.0, 1.0), &d);
    let wp = Tensor::<4>::random([64, 64, 1, 1], Distribution::Normal(0.0, 1.0), &d);
    let dw = ConvOptions::new([1, 1], [1, 1], [1, 1], 64);
    let pw = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    t("native depthwise fwd", || {
        conv2d(x.clone(), wd.clone(), None, dw.clone())
            .slice([0..1, 0..1, 0..1, 0..1])
            .into_data()
    });
    t("native pointwise fwd", || {
        conv2d(x.clone(), wp.clone(), None, pw.clone())
            .slice([0..1, 0..1, 0..1, 0..1])
            .into_data()
    });
    let xa = Tensor::<4>::from_inner(x.clone()).require_grad();
    let wda = Tensor::<4>::from_inner(wd.clone()).require_grad();
    let wpa = Tensor::<4>::from_inner(wp.clone()).require_grad();
    let _ = a;
    t("native depthwise fwd+bwd", || {
        let g = conv2d(xa.clone(), wda.clone(), None, dw.clone())
            .sum()
            .backward();
        xa.grad(&g)
            .unwrap()
            .slice([0..1, 0..1, 0..1, 0..1])
            .into_data()
    });
    t("native pointwise fwd+bwd", || {
        let g = conv2d(xa.clone(), wpa.clone(), None, pw.clone())
            .sum()
            .backward();
        xa.grad(&g)
            .unwrap()
            .slice([0..1, 0..1, 0..1, 0..1])
            .into_data()
    });
    let x2 = x.clone().reshape([64, 64, 1020]);
    let w2 = Tensor::<2>::random([64, 64], Distribution::Normal(0.0, 1.0), &d);
    t("batched matmul W[1,64,64] x X[64,64,1020]", || {
        w2.clone()
            .unsqueeze::<3>()
            .matmul(x2.clone())
            .slice([0..1, 0..1, 0..1])
            .into_data()
    });
    let xc = x.clone().reshape([64, 65280]);
    t("W[64,64] x X[64,65280] (channels-first flat)", || {
        w2.clone()
            .matmul(xc.clone())
            .slice([0..1, 0..1])
            .into_data()
    });
    let xr = x.clone().reshape([65280, 64]);
    t("X[65280,64] x W[64,64]", || {
        xr.clone()
            .matmul(w2.clone())
            .slice([0..1, 0..1])
            .into_data()
    });
    t("X^T: [64,65280]x[65280,64]", || {
        xc.clone()
            .matmul(xr.clone())
            .slice([0..1, 0..1])
            .into_data()
    });
}
