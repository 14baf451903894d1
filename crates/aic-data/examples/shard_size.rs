//! Writes FSDD (q8) and WikiQA at several target shard sizes and prints, for each, the shard
//! count, the bytes on the wire, the digitize time, the time to open one shard at random and
//! read a sample from it, the time to the first batch and the loader's throughput.
//! `cargo run --release -p aic-data --example shard_size -- /work/shared/datasets`
//! (the results, and the default chosen from them, are in `docs/benchmarks.md`).

#![allow(clippy::print_stdout, clippy::print_stderr)] // an example that prints a table

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use aic_data::{
    digitize_fsdd, digitize_wikiqa, read_manifest, shard_path, DigitizeOptions, DigitizeReport,
    DirSource, Loader, LoaderConfig, Shard, Xoshiro256,
};
use aic_model::{LogMelParams, TokenizerKind, TokenizerParams};

fn measure(name: &str, target: usize, out: &Path, report: &DigitizeReport, secs: f64) {
    let manifest = read_manifest(out, Some(&report.manifest_blake3)).expect("manifest");
    // Random access: fetch, check and decompress a random shard, read a random sample.
    let mut rng = Xoshiro256::for_stream(1, 0, 0);
    let picks = 20;
    let start = Instant::now();
    for _ in 0..picks {
        let entry = &manifest.shards[rng.below(manifest.shards.len() as u64) as usize];
        let bytes = std::fs::read(shard_path(out, &entry.blake3)).expect("shard");
        let shard = Shard::open(&bytes, entry, &manifest.columns).expect("open");
        let _ = shard.sample(rng.below(shard.samples())).expect("sample");
    }
    let random = start.elapsed().as_secs_f64() / f64::from(picks);
    let start = Instant::now();
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
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "| {name} | {} KiB | {} | {} | {secs:.2} s | {:.2} ms | {:.1} ms | {rate:.0} |",
        target >> 10,
        manifest.shards.len(),
        report.dataset_bytes,
        random * 1e3,
        first * 1e3,
    );
}

fn main() {
    let root = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "../shared/datasets".into()),
    );
    let tmp = tempfile::tempdir().expect("temporary directory");
    let targets = [256 << 10, 1 << 20, 4 << 20, 16 << 20, 64 << 20];
    println!("| data set | target | shards | bytes | digitize | random sample | first batch | samples/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let fsdd = root.join("fsdd/recordings");
    let wikiqa = root.join("wikiqa");
    for &target in &targets {
        let options = DigitizeOptions {
            shard_bytes: target,
            ..DigitizeOptions::default()
        };
        if fsdd.is_dir() {
            let out = tmp.path().join(format!("fsdd-{target}"));
            let start = Instant::now();
            let report = digitize_fsdd(
                &fsdd,
                &out,
                &LogMelParams::speech_8khz(),
                &options,
                &mut |_| {},
            )
            .expect("digitize fsdd");
            measure(
                "FSDD q8",
                target,
                &out,
                &report,
                start.elapsed().as_secs_f64(),
            );
        }
        if wikiqa.is_dir() {
            let out = tmp.path().join(format!("wikiqa-{target}"));
            let template = TokenizerParams {
                tokenizer: TokenizerKind::Whitespace,
                lowercase: true,
                vocab_size: 0,
                vocab_blake3: String::new(),
                max_len: 40,
                oov_buckets: 4_096,
            };
            let start = Instant::now();
            let report = digitize_wikiqa(&wikiqa, &out, &template, &options, &mut |_| {})
                .expect("digitize wikiqa");
            measure(
                "WikiQA",
                target,
                &out,
                &report,
                start.elapsed().as_secs_f64(),
            );
        }
    }
    if !fsdd.is_dir() || !wikiqa.is_dir() {
        eprintln!("skipped: a corpus under {} is absent", root.display());
    }
}
