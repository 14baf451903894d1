//! Digitizes the shared FSDD and WikiQA corpora and prints what it costs and gives: raw and
//! digitized bytes, digitize time, time to the first batch, loader throughput and the error of
//! each feature encoding. `cargo run --release -p aic-data --example digitize_report --
//! /work/shared/datasets` (the results are in `docs/benchmarks.md`).

#![allow(clippy::print_stdout, clippy::print_stderr)] // an example that prints a table

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use aic_data::{
    digitize_fsdd, digitize_wikiqa, read_manifest, DigitizeOptions, DigitizeReport, DirSource,
    FeatureEncoding, Loader, LoaderConfig,
};
use aic_model::{LogMelParams, TokenizerKind, TokenizerParams};

fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        total += if p.is_dir() {
            dir_bytes(&p)
        } else {
            e.metadata().map_or(0, |m| m.len())
        };
    }
    total
}

/// Seconds to the first batch and samples per second over the whole training split.
fn load(out: &Path, report: &DigitizeReport) -> (f64, f64) {
    let start = Instant::now();
    let manifest = read_manifest(out, Some(&report.manifest_blake3)).expect("manifest");
    let loader = Loader::new(
        &manifest,
        "train",
        Arc::new(DirSource::new(out)),
        LoaderConfig {
            batch_size: 32,
            ..LoaderConfig::default()
        },
    )
    .expect("loader");
    let mut batches = loader.epoch(0);
    let mut n = batches.next().expect("a batch").expect("batch").len;
    let first = start.elapsed().as_secs_f64();
    for b in batches {
        n += b.expect("batch").len;
    }
    (first, n as f64 / start.elapsed().as_secs_f64())
}

fn row(name: &str, raw: u64, out: &Path, report: &DigitizeReport, secs: f64) {
    let (first, rate) = load(out, report);
    println!(
        "| {name} | {raw} | {} | 1/{:.2} | {secs:.2} s | {:.1} ms | {rate:.0} | {:.2e} | {} |",
        report.dataset_bytes,
        raw as f64 / report.dataset_bytes as f64,
        first * 1e3,
        report.max_abs_error,
        report.skipped.len(),
    );
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/datasets".into()),
    );
    let tmp = tempfile::tempdir().expect("temporary directory");
    println!("| data set | raw bytes | digitized bytes | ratio | digitize | first batch | samples/s | max abs error | skipped |");
    println!("|---|---|---|---|---|---|---|---|---|");
    let fsdd = root.join("fsdd/recordings");
    if fsdd.is_dir() {
        let raw = dir_bytes(&fsdd);
        for (name, encoding) in [
            ("FSDD f32", FeatureEncoding::F32),
            ("FSDD f16", FeatureEncoding::F16),
            ("FSDD q8", FeatureEncoding::Q8),
        ] {
            let out = tmp.path().join(name.replace(' ', "-"));
            let start = Instant::now();
            let report = digitize_fsdd(
                &fsdd,
                &out,
                &LogMelParams::speech_8khz(),
                &DigitizeOptions {
                    encoding,
                    ..DigitizeOptions::default()
                },
                &mut |_| {},
            )
            .expect("digitize fsdd");
            row(name, raw, &out, &report, start.elapsed().as_secs_f64());
        }
    } else {
        eprintln!("skipped FSDD: {} is absent", fsdd.display());
    }
    let wikiqa = root.join("wikiqa");
    if wikiqa.is_dir() {
        let raw = dir_bytes(&wikiqa);
        let out = tmp.path().join("wikiqa");
        let template = TokenizerParams {
            tokenizer: TokenizerKind::Whitespace,
            lowercase: true,
            vocab_size: 0,
            vocab_blake3: String::new(),
            max_len: 40,
            oov_buckets: 4_096,
        };
        let start = Instant::now();
        let report = digitize_wikiqa(
            &wikiqa,
            &out,
            &template,
            &DigitizeOptions::default(),
            &mut |_| {},
        )
        .expect("digitize wikiqa");
        row(
            "WikiQA u16 ids",
            raw,
            &out,
            &report,
            start.elapsed().as_secs_f64(),
        );
    } else {
        eprintln!("skipped WikiQA: {} is absent", wikiqa.display());
    }
}
