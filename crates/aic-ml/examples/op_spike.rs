#![allow(missing_docs, clippy::print_stdout)]
use burn::tensor::{Device, Distribution, Tensor};
use std::time::Instant;

fn t<F: FnMut() -> R, R>(name: &str, mut f: F) {
    let _ = f();
    let s = Instant::now();
    for _ in 0..5 {
        let _ = f();
    }
    println!(
        "{name:40} {:>8.2} ms",
        s.elapsed().as_secs_f64() * 1000.0 / 5.0
    );
}

fn main() {
    let d = Device::flex();
    let x4 = Tensor::<4>::random([64, 51, 20, 64], Distribution::Normal(0.0, 1.0), &d);
    let x2 = x4.clone().reshape([65280, 64]);
    let w = Tensor::<2>::random([64, 64], Distribution::Normal(0.0, 1.0), &d);
    let v = Tensor::<2>::random([1, 64], Distribution::Normal(0.0, 1.0), &d);
    let v4 = v.clone().reshape([1, 1, 1, 64]);
    t("add x2+x2", || (x2.clone() + x2.clone()).into_data());
    t("add no data", || {
        let y = x2.clone() + x2.clone();
        y.dims()
    });
    t("mul bcast row", || {
        let y = x2.clone() * v.clone();
        let _ = y.clone().slice([0..1, 0..1]).into_data();
    });
    t("mean_dim(0)", || x2.clone().mean_dim(0).into_data());
    t("sum_dim(0)", || x2.clone().sum_dim(0).into_data());
    t("square", || {
        let y = x2.clone().square();
        let _ = y.slice([0..1, 0..1]).into_data();
    });
    t("matmul [65280,64]x[64,64]", || {
        let y = x2.clone().matmul(w.clone());
        let _ = y.slice([0..1, 0..1]).into_data();
    });
    t("matmul T [64,65280]x[65280,64]", || {
        let y = x2.clone().transpose().matmul(x2.clone());
        let _ = y.into_data();
    });
    t("pad 4d", || {
        let y = x4.clone().pad(
            [(1, 1), (1, 1), (0, 0)],
            burn::tensor::ops::PadMode::Constant(0.0),
        );
        let _ = y.slice([0..1, 0..1, 0..1, 0..1]).into_data();
    });
    let p = x4.clone().pad(
        [(1, 1), (1, 1), (0, 0)],
        burn::tensor::ops::PadMode::Constant(0.0),
    );
    t("slice shifted * w", || {
        let y = p.clone().slice([0..64, 1..52, 1..21, 0..64]) * v4.clone();
        let _ = y.slice([0..1, 0..1, 0..1, 0..1]).into_data();
    });
    t("slice shifted contiguous", || {
        let y = p.clone().slice([0..64, 1..52, 1..21, 0..64]) + 0.0;
        let _ = y.slice([0..1, 0..1, 0..1, 0..1]).into_data();
    });
    t("relu", || {
        let y = burn::tensor::activation::relu(x2.clone());
        let _ = y.slice([0..1, 0..1]).into_data();
    });
    t("reshape 4->2", || {
        let y = x4.clone().reshape([65280, 64]);
        let _ = y.slice([0..1, 0..1]).into_data();
    });
    t("zeros + slice_assign", || {
        let z = Tensor::<4>::zeros([64, 53, 22, 64], &d);
        let y = z.slice_assign([0..64, 1..52, 1..21, 0..64], x4.clone());
        let _ = y.slice([0..1, 0..1, 0..1, 0..1]).into_data();
    });
    t("mean_dim(1) of [64,1020,64]", || {
        x4.clone().reshape([64, 1020, 64]).mean_dim(1).into_data()
    });
}
