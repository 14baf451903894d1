//! `aic job result`: a job's trained weights fetched through its result manifest, and with
//! `--verify` checked against the chain: the job settled, the manifest is the committed
//! result (BLAKE3), its transcript is the committed one, the weights are the manifest's.

use std::path::Path;

use aic_api::market as wire;
use aic_worker::market::{MarketError, NodeApi, ResultManifest};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;

use crate::client::NodeClient;

/// A blob from the node; the node API checks that its BLAKE3 is `id`.
fn blob(node: &NodeApi, id: &str, what: &str) -> Result<Vec<u8>> {
    node.blob(id).map_err(|e| match e {
        MarketError::BlobMismatch { got, .. } => anyhow!(
            "the node served {what} bytes with BLAKE3 {got}, the chain (or the manifest) committed to {id}"
        ),
        other => anyhow!("fetching {what} {id}: {other}"),
    })
}

/// A job's result as the consumer gets it.
pub(crate) struct Downloaded {
    pub(crate) job: wire::Job,
    /// The result manifest's id on chain.
    pub(crate) result: String,
    pub(crate) manifest: ResultManifest,
    pub(crate) manifest_bytes: Vec<u8>,
    pub(crate) weights: Vec<u8>,
}

/// Fetches job `id`'s result manifest and weights from `node`; with `verify`, checks them
/// against the chain first (the job settled, the manifest is the committed result with its
/// transcript, the weights are the manifest's).
pub(crate) fn download(id: &str, verify: bool, node: &str) -> Result<Downloaded> {
    let job: wire::Job = NodeClient::new(node).get(&format!("/market/jobs/{id}"))?;
    let committed = job
        .result
        .as_ref()
        .ok_or_else(|| anyhow!("job {id} has no result yet (it is {})", job.status))?;
    if verify && job.status != "settled" {
        bail!(
            "job {id} is {}, not settled: its result is not verified yet",
            job.status
        );
    }
    let api = NodeApi::new(node, None);
    let manifest_bytes = blob(&api, &committed.result, "the result manifest")?;
    let manifest = ResultManifest::parse(&manifest_bytes)
        .map_err(|e| anyhow!("the result {}: {e}", committed.result))?;
    if verify {
        manifest
            .check_against(id, committed, crate::worker_market::transcript_root)
            .map_err(|e| anyhow!("the result manifest does not match the chain: {e}"))?;
    }
    let weights = blob(&api, &manifest.weights, "the weights")?;
    Ok(Downloaded {
        result: committed.result.clone(),
        job,
        manifest,
        manifest_bytes,
        weights,
    })
}

pub(crate) fn fetch(
    id: &str,
    out: &Path,
    manifest_out: Option<&Path>,
    verify: bool,
    node: &str,
    json_out: bool,
) -> Result<()> {
    let Downloaded {
        job,
        result,
        manifest,
        manifest_bytes,
        weights,
    } = download(id, verify, node)?;
    std::fs::write(out, &weights).with_context(|| format!("writing {}", out.display()))?;
    if let Some(path) = manifest_out {
        std::fs::write(path, &manifest_bytes)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    if json_out {
        println!(
            "{}",
            json!({"job": id, "result": result, "weights": manifest.weights,
                   "bytes": weights.len(), "segments": manifest.segments(),
                   "metrics": manifest.metrics, "verified": verify, "out": out,
                   "status": job.status})
        );
    } else {
        println!(
            "wrote {} ({} bytes, weights {})",
            out.display(),
            weights.len(),
            manifest.weights
        );
        if verify {
            println!("verified: the job settled; the manifest is the result the chain committed to, with its transcript; the weights are the manifest's");
        }
    }
    Ok(())
}
