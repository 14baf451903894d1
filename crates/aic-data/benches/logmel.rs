//! Log-mel of one one-second 8 kHz clip with the speech defaults.

#![allow(missing_docs)]

use aic_data::LogMel;
use aic_model::LogMelParams;
use criterion::{black_box, criterion_group, criterion_main, Criterion};

fn logmel(c: &mut Criterion) {
    let lm = LogMel::new(&LogMelParams::speech_8khz()).expect("valid parameters");
    let clip: Vec<f32> = (0..8000)
        .map(|i| ((i as f32 * 0.37).sin() + (i as f32 * 0.011).cos()) * 0.3)
        .collect();
    c.bench_function("logmel_speech_8khz_1s", |b| {
        b.iter(|| lm.compute(black_box(&clip)))
    });
}

criterion_group!(benches, logmel);
criterion_main!(benches);
