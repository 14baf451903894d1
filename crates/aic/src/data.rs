//! `aic data`: digitize raw corpora into shard sets, inspect and verify them.

use std::io::Write;
use std::path::{Path, PathBuf};

use aic_data::{
    digitize_fsdd, digitize_wikiqa, open_dataset, read_manifest, shard_path, DigitizeOptions,
    DigitizeReport, FeatureEncoding, Progress, Shard,
};
use aic_model::{Featurizer, LogMelParams, Manifest, Task, TokenizerParams, MANIFEST_FILE};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cli::DataCommand;

pub(crate) fn run(cmd: DataCommand) -> Result<()> {
    match cmd {
        DataCommand::Digitize {
            src,
            out,
            kind,
            model,
            encoding,
            shard_kib,
            json,
        } => digitize(
            &src,
            &out,
            kind.as_deref(),
            model.as_deref(),
            &encoding,
            shard_kib,
            json,
        ),
        DataCommand::Publish {
            dir,
            node,
            cookie,
            rpc_user,
            rpc_password,
            task,
            royalty_bps,
            wallet,
            wait,
            json,
        } => {
            let auth = match (cookie, rpc_user, rpc_password) {
                (Some(path), _, _) => Some(
                    aic_rpc::RpcAuth::read_cookie(&path)
                        .with_context(|| format!("reading {}", path.display()))?,
                ),
                (None, Some(u), Some(p)) => Some(aic_rpc::RpcAuth::new(u, p)),
                _ => None,
            };
            crate::data_net::publish(&dir, &node, auth, json)?;
            let Some(task) = task else {
                return Ok(());
            };
            let tx = crate::cli_market::TxOpts {
                wallet: crate::cli::WalletFile { wallet },
                node: crate::cli::NodeUrl { node },
                fee: "0.0001".to_owned(),
                wait,
                json,
            };
            crate::market::publish_dataset(&dir, &task, royalty_bps, &tx)
        }
        DataCommand::Fetch {
            id,
            sources,
            cache,
            budget_mib,
            out,
            json,
        } => crate::data_net::fetch(&id, &sources, cache, budget_mib, out.as_deref(), json),
        DataCommand::Info { dir, json } => info(&dir, json),
        DataCommand::Verify { dir, id, json } => verify(&dir, id.as_deref(), json),
    }
}

/// `speech` for a folder of WAVs (or one with `recordings/`), `text` for a folder with
/// `train/` and `dev/`.
fn detect_kind(src: &Path) -> Result<&'static str> {
    if src.join("train").is_dir() && src.join("dev").is_dir() {
        return Ok("text");
    }
    let wavs = std::fs::read_dir(src)
        .with_context(|| format!("reading {}", src.display()))?
        .filter_map(|e| e.ok())
        .any(|e| e.path().extension().is_some_and(|x| x == "wav"));
    if wavs {
        return Ok("speech");
    }
    bail!(
        "{}: neither WAV files nor train/ and dev/ folders; pass --kind speech|text",
        src.display()
    )
}

fn model_featurizer(model: Option<&Path>) -> Result<Option<Featurizer>> {
    let Some(path) = model else { return Ok(None) };
    let file = if path.is_dir() {
        path.join(MANIFEST_FILE)
    } else {
        path.to_path_buf()
    };
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let m =
        Manifest::from_toml_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    Ok(Some(m.data.featurizer))
}

fn digitize(
    src: &Path,
    out: &Path,
    kind: Option<&str>,
    model: Option<&Path>,
    encoding: &str,
    shard_kib: Option<usize>,
    json: bool,
) -> Result<()> {
    let src = if src.join("recordings").is_dir() {
        src.join("recordings")
    } else {
        src.to_path_buf()
    };
    let kind = match kind {
        Some("speech") => "speech",
        Some("text") => "text",
        Some(other) => bail!("--kind {other}: expected speech or text"),
        None => detect_kind(&src)?,
    };
    let mut options = DigitizeOptions {
        encoding: match encoding {
            "f32" => FeatureEncoding::F32,
            "f16" => FeatureEncoding::F16,
            "q8" => FeatureEncoding::Q8,
            other => bail!("--encoding {other}: expected f32, f16 or q8"),
        },
        ..DigitizeOptions::default()
    };
    if let Some(kib) = shard_kib {
        options.shard_bytes = kib * 1024;
    }
    let featurizer = model_featurizer(model)?;
    let started = std::time::Instant::now();
    let mut progress = |p: Progress| {
        if !json {
            eprint!("\r  {:<9} {:>6}/{:<6}", p.stage, p.done, p.total);
            let _ = std::io::stderr().flush();
        }
    };
    let report = if kind == "speech" {
        let params = match featurizer {
            Some(Featurizer::LogMel(p)) => p,
            Some(_) => bail!("the model's featurizer is not log-mel"),
            None => LogMelParams::speech_8khz(),
        };
        digitize_fsdd(&src, out, &params, &options, &mut progress)?
    } else {
        let params: TokenizerParams = match featurizer {
            Some(Featurizer::Tokenizer(p)) => p,
            Some(_) => bail!("the model's featurizer is not a tokenizer"),
            None => match aic_model::template(Task::TextMatching).data.featurizer {
                Featurizer::Tokenizer(p) => p,
                _ => bail!("the text-matching template has no tokenizer"),
            },
        };
        digitize_wikiqa(&src, out, &params, &options, &mut progress)?
    };
    if !json {
        eprintln!();
    }
    print_report(
        &report,
        out,
        kind,
        encoding,
        started.elapsed().as_secs_f64(),
        json,
    );
    Ok(())
}

fn print_report(r: &DigitizeReport, out: &Path, kind: &str, encoding: &str, secs: f64, json: bool) {
    let ratio = r.source_bytes as f64 / r.dataset_bytes.max(1) as f64;
    if json {
        let skipped: Vec<_> = r
            .skipped
            .iter()
            .map(|s| json!({"path": s.path, "reason": s.reason}))
            .collect();
        println!(
            "{}",
            json!({"dir": out, "id": r.manifest_blake3, "kind": kind, "encoding": encoding,
                   "samples": r.samples, "shards": r.manifest.shards.len(),
                   "source_bytes": r.source_bytes, "dataset_bytes": r.dataset_bytes,
                   "max_abs_error": r.max_abs_error, "clamped": r.clamped,
                   "skipped": skipped, "seconds": secs})
        );
        return;
    }
    for s in &r.skipped {
        println!("  skipped {}: {}", s.path.display(), s.reason);
    }
    let samples: Vec<String> = r.samples.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "digitized {} ({kind}, {encoding}) into {} in {secs:.1} s",
        samples.join(", "),
        out.display()
    );
    println!(
        "  {} shards, {} bytes from {} source bytes (1/{ratio:.2}); max abs error {:.3e}, {} clamped",
        r.manifest.shards.len(),
        r.dataset_bytes,
        r.source_bytes,
        r.max_abs_error,
        r.clamped
    );
    println!("  id {}", r.manifest_blake3);
}

fn info(dir: &Path, json: bool) -> Result<()> {
    let (m, id) = open_dataset(dir)?;
    let bytes: u64 = m.shards.iter().map(|s| s.bytes).sum();
    let raw: u64 = m.shards.iter().map(|s| s.raw_bytes).sum();
    if json {
        let columns: Vec<_> = m
            .columns
            .iter()
            .map(|c| json!({"name": c.name, "dtype": c.dtype, "shape": c.shape}))
            .collect();
        let splits: serde_json::Map<String, serde_json::Value> = m
            .splits
            .iter()
            .map(|(name, s)| {
                let n: u64 = s.shards.iter().map(|&i| m.shards[i as usize].samples).sum();
                (
                    name.clone(),
                    json!({"shards": s.shards.len(), "samples": n}),
                )
            })
            .collect();
        println!(
            "{}",
            json!({"id": id, "name": m.name, "columns": columns, "splits": splits,
                   "shards": m.shards.len(), "bytes": bytes, "raw_bytes": raw,
                   "sources": m.provenance.sources.len(), "license": m.provenance.license,
                   "featurizer": m.provenance.featurizer})
        );
        return Ok(());
    }
    println!("{} ({})", m.name, id);
    for c in &m.columns {
        println!("  column {:<10} {:?} {:?}", c.name, c.dtype, c.shape);
    }
    for (name, s) in &m.splits {
        let n: u64 = s.shards.iter().map(|&i| m.shards[i as usize].samples).sum();
        println!("  split {name:<6} {n} samples in {} shards", s.shards.len());
    }
    println!(
        "  {} shards, {bytes} bytes ({raw} uncompressed), {} source files",
        m.shards.len(),
        m.provenance.sources.len()
    );
    if !m.provenance.license.is_empty() {
        println!("  license: {}", m.provenance.license);
    }
    Ok(())
}

fn verify(dir: &Path, expected: Option<&str>, json: bool) -> Result<()> {
    let (m, id) = match expected {
        Some(e) => (read_manifest(dir, Some(e))?, e.to_ascii_lowercase()),
        None => open_dataset(dir)?,
    };
    let mut bad: Vec<(PathBuf, String)> = Vec::new();
    for entry in &m.shards {
        let path = shard_path(dir, &entry.blake3);
        let result = std::fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                Shard::open(&bytes, entry, &m.columns)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            });
        if let Err(reason) = result {
            bad.push((path, reason));
        }
    }
    if json {
        let errors: Vec<_> = bad
            .iter()
            .map(|(p, r)| json!({"path": p, "error": r}))
            .collect();
        println!(
            "{}",
            json!({"id": id, "ok": bad.is_empty(), "shards": m.shards.len(), "errors": errors})
        );
    } else {
        for (p, r) in &bad {
            println!("  {}: {r}", p.display());
        }
        if bad.is_empty() {
            println!("ok: {} shards of {} match {}", m.shards.len(), m.name, id);
        }
    }
    if !bad.is_empty() {
        bail!("{} of {} shards are bad", bad.len(), m.shards.len());
    }
    Ok(())
}
