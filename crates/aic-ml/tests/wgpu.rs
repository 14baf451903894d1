//! The wgpu backend against its oracle, flex: the same DS-CNN (weights drawn from our own
//! generator on the host, so equal on both devices) gives the same logits in inference and in
//! training mode, and the same loss and gradient after backward, within a tolerance (GPU
//! kernels reorder sums). Built only with `--features wgpu`:
//!
//! ```text
//! cargo test --release -p aic-ml --features wgpu --test wgpu
//! ```
//!
//! Without a GPU this runs on a software Vulkan device (Mesa's llvmpipe, Debian package
//! `mesa-vulkan-drivers`), which exercises the wgpu code path and its shaders but says nothing of
//! a real GPU's speed or rounding. With no adapter at all the test says so and skips.
#![cfg(feature = "wgpu")]
#![allow(missing_docs, clippy::print_stderr)]

use aic_ml::models::kws::{KwsConfig, KwsDsCnn};
use aic_ml::rng::Rng;
use aic_ml::tasks::cross_entropy;
use burn::optim::GradientsParams;
use burn::tensor::{Device, DeviceKind, Tensor, TensorData};

fn values(t: Tensor<2>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn assert_close(what: &str, a: &[f32], b: &[f32], abs: f32, rel: f32) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    let mut worst = 0.0f32;
    for (x, y) in a.iter().zip(b) {
        let err = (x - y).abs();
        assert!(
            err <= abs + rel * y.abs(),
            "{what}: wgpu {x} against flex {y} (error {err})"
        );
        worst = worst.max(err);
    }
    eprintln!("{what}: {} values, largest difference {worst:e}", a.len());
}

fn adapter() -> Option<Device> {
    let device = Device::wgpu(DeviceKind::DefaultDevice);
    // wgpu panics when it finds no adapter; that is a skip, not a failure.
    let probe = std::panic::catch_unwind(|| {
        let t = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &device);
        t.sum().into_scalar::<f32>()
    });
    match probe {
        Ok(_) => Some(device),
        Err(_) => {
            eprintln!("skipped: no wgpu adapter on this machine (install mesa-vulkan-drivers for a software one)");
            None
        }
    }
}

#[test]
fn ds_cnn_on_wgpu_matches_flex() {
    let Some(gpu) = adapter() else { return };
    let cpu = Device::flex();
    let config = KwsConfig {
        channels: 16,
        blocks: 2,
        stem_stride: [4, 4],
        ..KwsConfig::default()
    };
    let batch = 8;
    let x = Rng::stream(3, "input").uniform_vec(batch * config.frames * config.mels, 2.0);
    let labels: Vec<usize> = (0..batch).map(|i| i % config.classes).collect();
    let input = |device: &Device| {
        Tensor::<3>::from_data(
            TensorData::new(x.clone(), [batch, config.frames, config.mels]),
            device,
        )
    };

    // Inference (running statistics).
    let on = |device: &Device| {
        let model = KwsDsCnn::new(&config, &mut Rng::stream(7, "init"), device);
        values(model.forward(input(device)))
    };
    assert_close("inference logits", &on(&gpu), &on(&cpu), 1e-4, 1e-3);

    // Training mode: batch statistics, loss, backward, and one parameter's gradient.
    let train = |device: &Device| {
        let device = device.clone().autodiff();
        let model = KwsDsCnn::new(&config, &mut Rng::stream(7, "init"), &device);
        let logits = model.forward(input(&device));
        let loss = cross_entropy(logits.clone(), &labels);
        let loss_value: f32 = loss.clone().inner().into_scalar();
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        let mut grad = Vec::new();
        if let Some(g) = grads.get::<2>(model.head.weight.id) {
            grad = g.into_data().try_into_vec_as::<f32>().unwrap();
        }
        (values(logits.inner()), loss_value, grad)
    };
    let (gl, gloss, ggrad) = train(&gpu);
    let (cl, closs, cgrad) = train(&cpu);
    assert_close("training logits", &gl, &cl, 1e-4, 1e-3);
    assert_close("loss", &[gloss], &[closs], 1e-5, 1e-4);
    assert!(!cgrad.is_empty(), "the head's weight has a gradient");
    assert_close("head weight gradient", &ggrad, &cgrad, 1e-5, 1e-3);
}
