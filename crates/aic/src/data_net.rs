//! `aic data publish` and `aic data fetch`: data sets over the nodes' blob API and the
//! machine's shared cache.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use aic_blob::{
    publish as publish_dir, BlobCache, BlobId, CacheConfig, FetchConfig, FetchReport, Pins,
    Progress, Want,
};
use aic_data::DatasetManifest;
use aic_model::Featurizer;
use anyhow::{bail, Context, Result};
use serde_json::json;

pub(crate) fn publish(
    dir: &Path,
    node: &str,
    auth: Option<aic_rpc::RpcAuth>,
    json: bool,
) -> Result<()> {
    let header = auth.map(|a| a.header_value());
    let report = publish_dir(dir, node, header.as_deref())?;
    if json {
        println!(
            "{}",
            json!({"id": report.dataset.to_hex(), "node": node,
                   "uploaded": report.uploaded.len(), "skipped": report.skipped.len(),
                   "bytes": report.bytes})
        );
    } else {
        println!(
            "published {} to {node}: {} blobs sent ({} bytes), {} already there",
            report.dataset,
            report.uploaded.len(),
            report.bytes,
            report.skipped.len()
        );
    }
    Ok(())
}

fn default_cache() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("aic").join("blobs")
}

/// What [`fetch_dataset`] did.
pub(crate) struct Fetched {
    /// The data set's manifest.
    pub(crate) manifest: DatasetManifest,
    /// Bytes received over the network (0 when the cache had everything).
    pub(crate) bytes_moved: u64,
    /// Blobs delivered per source.
    pub(crate) by_source: BTreeMap<String, u64>,
    /// Wall time.
    pub(crate) seconds: f64,
}

/// The manifest of data set `dataset`, fetched into `cache` unless there, pinned while the
/// returned [`Pins`] live; its id is its BLAKE3, checked by the cache.
pub(crate) fn fetch_manifest(
    dataset: &BlobId,
    sources: &[String],
    cache: &BlobCache,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<(DatasetManifest, Pins, FetchReport)> {
    // Its size is not known before it arrives.
    let want = Want {
        id: *dataset,
        bytes: 0,
    };
    let (pin, report) = cache.ensure(&[want], sources, progress)?;
    let bytes = cache.store().get(dataset)?;
    let manifest = DatasetManifest::from_json(&bytes)
        .map_err(|e| anyhow::anyhow!("data set {dataset}: {e}"))?;
    Ok((manifest, pin, report))
}

/// Makes data set `dataset` present (and pinned while this runs) in `cache`, fetching what is
/// missing from `sources`; with `out`, lays it out as a data set directory.
pub(crate) fn fetch_dataset(
    dataset: &BlobId,
    sources: &[String],
    cache: &BlobCache,
    out: Option<&Path>,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Fetched> {
    let started = std::time::Instant::now();
    let (manifest, _manifest_pin, first) = fetch_manifest(dataset, sources, cache, progress)?;
    let mut wants = Vec::with_capacity(manifest.shards.len() + 1);
    for s in &manifest.shards {
        wants.push(Want {
            id: s.blake3.parse()?,
            bytes: s.bytes,
        });
    }
    let mut side = Vec::new();
    if let Featurizer::Tokenizer(t) = &manifest.provenance.featurizer.params {
        if !t.vocab_blake3.is_empty() {
            let vocab: BlobId = t.vocab_blake3.parse()?;
            // A vocabulary is small; its size is not in the manifest.
            wants.push(Want {
                id: vocab,
                bytes: 0,
            });
            side.push(vocab);
        }
    }
    let (_pins, report) = cache.ensure(&wants, sources, progress)?;
    if let Some(out) = out {
        lay_out(cache, out, dataset, &manifest, &side)?;
    }
    let mut by_source = BTreeMap::<String, u64>::new();
    for b in first.blobs.iter().chain(&report.blobs) {
        if let Some(s) = &b.source {
            *by_source.entry(s.clone()).or_default() += 1;
        }
    }
    Ok(Fetched {
        manifest,
        bytes_moved: first.bytes() + report.bytes(),
        by_source,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Opens the machine's shared cache (`~/.cache/aic/blobs` unless given).
pub(crate) fn open_cache(dir: Option<PathBuf>, budget_mib: u64) -> Result<(BlobCache, PathBuf)> {
    let dir = dir.unwrap_or_else(default_cache);
    let cache = BlobCache::open(
        &dir,
        CacheConfig {
            budget_bytes: budget_mib.saturating_mul(1 << 20),
            fetch: FetchConfig::default(),
        },
    )
    .with_context(|| format!("opening the cache {}", dir.display()))?;
    Ok((cache, dir))
}

pub(crate) fn fetch(
    id: &str,
    sources: &[String],
    cache: Option<PathBuf>,
    budget_mib: u64,
    out: Option<&Path>,
    json: bool,
) -> Result<()> {
    let dataset: BlobId = id.parse().with_context(|| format!("data set id {id}"))?;
    let (cache, dir) = open_cache(cache, budget_mib)?;
    let progress = |p: Progress| {
        if json {
            return;
        }
        match p {
            Progress::Failed { id, source, error } => {
                eprintln!("  {source}: {id}: {error} (trying another source)");
            }
            Progress::Finished(r) => {
                eprint!("\r  {} verified ({} bytes)        ", r.id, r.bytes);
                let _ = std::io::stderr().flush();
            }
            _ => {}
        }
    };
    let f = fetch_dataset(&dataset, sources, &cache, out, &progress)?;
    let total: u64 = f.manifest.shards.iter().map(|s| s.bytes).sum();
    if json {
        println!(
            "{}",
            json!({"id": dataset.to_hex(), "name": f.manifest.name,
                   "shards": f.manifest.shards.len(), "dataset_bytes": total,
                   "bytes_moved": f.bytes_moved, "blobs_by_source": f.by_source,
                   "cache": dir, "out": out, "seconds": f.seconds})
        );
    } else {
        eprintln!();
        println!(
            "{} ({}): {} shards, {total} bytes; moved {} bytes in {:.2} s",
            f.manifest.name,
            dataset,
            f.manifest.shards.len(),
            f.bytes_moved,
            f.seconds
        );
        for (s, n) in &f.by_source {
            println!("  {n} blobs from {s}");
        }
        if let Some(out) = out {
            println!("  data set at {}", out.display());
        }
    }
    Ok(())
}

/// Writes `out/manifest.json`, `out/shards/<id>` and `out/blobs/<id>`, hard-linked from the
/// cache where the file system allows (copied otherwise); every blob was verified on arrival.
fn lay_out(
    cache: &BlobCache,
    out: &Path,
    dataset: &BlobId,
    manifest: &DatasetManifest,
    side: &[BlobId],
) -> Result<()> {
    let link = |id: &BlobId, to: PathBuf| -> Result<()> {
        if to.exists() {
            if std::fs::metadata(&to)?.len() == cache.store().len(id)? {
                return Ok(());
            }
            std::fs::remove_file(&to)?;
        }
        let from = cache.store().path(id);
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to)
                .with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
        }
        Ok(())
    };
    std::fs::create_dir_all(out.join("shards"))?;
    for s in &manifest.shards {
        link(&s.blake3.parse()?, out.join("shards").join(&s.blake3))?;
    }
    if !side.is_empty() {
        std::fs::create_dir_all(out.join("blobs"))?;
        for id in side {
            link(id, out.join("blobs").join(id.to_hex()))?;
        }
    }
    link(dataset, out.join("manifest.json"))?;
    let id = blake3::hash(&std::fs::read(out.join("manifest.json"))?);
    if id.as_bytes() != dataset.as_bytes() {
        bail!("{}: manifest changed while laying out", out.display());
    }
    Ok(())
}
