//! `aic devnet --ai-demo`: the data plane and the runtime end to end against the devnet node,
//! on the embedded sample (`crates/aic/demo/fsdd`): digitize the WAVs, publish the data set
//! into the node's blob store, train a small keyword model on it with the shards streamed
//! through a worker cache as training reaches them, and show that a second job on the same
//! data set moves nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use aic_blob::BlobId;
use aic_data::{digitize_fsdd, DigitizeOptions, DigitizeReport, FeatureEncoding};
use aic_model::LogMelParams;
use anyhow::{Context, Result};
use serde_json::json;

use crate::demo_sample::FSDD_SAMPLE;

/// Job parameters of the demo model: small and quick (about a second of training here; on
/// 30 training clips of one speaker it reached 0.7 test accuracy, 10 clips, one run).
const DEMO_SET: [&str; 7] = [
    "channels=16",
    "blocks=2",
    "epochs=40",
    "patience=40",
    "batch_size=10",
    "warmup_steps=5",
    "learning_rate=0.01",
];

fn say(json: bool, step: &str, value: serde_json::Value, line: String) {
    if json {
        println!(
            "{}",
            json!({"event": "ai-demo", "step": step, "detail": value})
        );
    } else {
        println!("  ai-demo  {line}");
    }
}

/// Writes the embedded FSDD sample's WAVs under `root/raw` and digitizes them into q8 log-mel
/// shards in `root/fsdd-sample-q8`: that directory and the report.
pub(crate) fn digitize_sample(root: &Path) -> Result<(PathBuf, DigitizeReport)> {
    let raw = root.join("raw");
    std::fs::create_dir_all(&raw).with_context(|| format!("creating {}", raw.display()))?;
    for (name, bytes) in FSDD_SAMPLE {
        std::fs::write(raw.join(name), bytes)?;
    }
    let digitized = root.join("fsdd-sample-q8");
    let options = DigitizeOptions {
        encoding: FeatureEncoding::Q8,
        ..DigitizeOptions::default()
    };
    let report = digitize_fsdd(
        &raw,
        &digitized,
        &LogMelParams::speech_8khz(),
        &options,
        &mut |_| {},
    )?;
    Ok((digitized, report))
}

pub(crate) fn run(data_dir: &Path, api: SocketAddr, json: bool) -> Result<()> {
    let root = data_dir.join("ai-demo");
    let (digitized, report) = digitize_sample(&root)?;
    say(
        json,
        "digitized",
        json!({"id": report.manifest_blake3, "samples": report.samples,
               "source_bytes": report.source_bytes, "dataset_bytes": report.dataset_bytes}),
        format!(
            "digitized {} WAV bytes into {} bytes of q8 log-mel shards (data set {})",
            report.source_bytes, report.dataset_bytes, report.manifest_blake3
        ),
    );

    let node = format!("http://{api}");
    let cookie = aic_rpc::RpcAuth::read_cookie(&data_dir.join(aic_rpc::COOKIE_FILE))
        .context("reading the node's cookie")?;
    let published = aic_blob::publish(&digitized, &node, Some(&cookie.header_value()))?;
    say(
        json,
        "published",
        json!({"uploaded": published.uploaded.len(), "bytes": published.bytes}),
        format!(
            "published to {node}/api/v1/blobs: {} blobs, {} bytes",
            published.uploaded.len(),
            published.bytes
        ),
    );

    // A worker's training job on the published data set: the manifest and the small
    // validation and test splits first, then the training shards through the worker cache as
    // the loader reaches them. A second job on the same data set finds everything cached.
    let cache_dir = root.join("cache");
    let model_dir = root.join("kws");
    crate::model::init("keyword-spotting", &model_dir, None, true, json)?;
    let set: Vec<String> = DEMO_SET.iter().map(|s| (*s).to_owned()).collect();
    let remote = crate::train::Remote {
        sources: vec![node.clone()],
        cache: Some(cache_dir.clone()),
        budget_mib: 256,
    };
    crate::train::train(
        &model_dir,
        Path::new(&report.manifest_blake3),
        Some(&remote),
        None,
        None,
        &set,
        json,
    )?;
    say(
        json,
        "trained",
        json!({"package": model_dir}),
        format!(
            "trained kws-dscnn on shards streamed from the node: {} (scorecards.json, transcript.json)",
            model_dir.display()
        ),
    );

    let id: BlobId = report.manifest_blake3.parse()?;
    let (cache, _) = crate::data_net::open_cache(Some(cache_dir), 256)?;
    let fetched = root.join("fetched");
    let f = crate::data_net::fetch_dataset(&id, &[node], &cache, Some(&fetched), &|_| {})?;
    say(
        json,
        "refetched",
        json!({"bytes_moved": f.bytes_moved, "seconds": f.seconds}),
        format!(
            "a second job on the same data set: {} bytes moved in {:.3} s (all in the worker cache)",
            f.bytes_moved, f.seconds
        ),
    );
    Ok(())
}
