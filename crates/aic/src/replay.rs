//! `aic model replay`: one segment of a training transcript re-executed, as a market verifier
//! does (`docs/market.md`, "The agent"): the package, data and parameters of the job, the
//! checkpoint the segment starts from; the id of the checkpoint it ends at.

use std::path::Path;

use aic_ml::checkpoint::Checkpoint;
use aic_ml::jobs::{self, KeywordData};
use aic_model::{parse_manifest, resolve_params, Task, MANIFEST_FILE};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::train::{parse_set, remote_keyword_data, Remote};

pub(crate) fn replay(
    dir: &Path,
    data: &Path,
    remote: Option<&Remote>,
    from: &Path,
    set: &[String],
    json: bool,
) -> Result<()> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest_path)
        .with_context(|| format!("reading {}", manifest_path.display()))?;
    let manifest = parse_manifest(text.as_bytes()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let params = resolve_params(&manifest, &parse_set(set)?).map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("job parameters refused:\n  {}", lines.join("\n  "))
    })?;
    let bytes = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    let start = Checkpoint::decode(&bytes)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("reading the checkpoint {}", from.display()))?;
    let task: Task = manifest.model.task.parse()?;
    let end = match (task, remote) {
        (Task::KeywordSpotting, None) => {
            jobs::replay_keyword(&manifest, &params, KeywordData::Path(data), &start)?
        }
        (Task::KeywordSpotting, Some(remote)) => {
            let (shards, _manifest_pin, _source) =
                remote_keyword_data(&data.to_string_lossy(), remote)?;
            jobs::replay_keyword(&manifest, &params, shards, &start)?
        }
        (other, _) => bail!("replay of task {} is not built in yet", other.name()),
    };
    let from_id = blake3::hash(&bytes).to_hex().to_string();
    let id = end.id().to_hex().to_string();
    if json {
        println!(
            "{}",
            json!({"event": "replayed", "from_step": start.progress.step, "from": from_id,
                   "step": end.progress.step, "id": id})
        );
    } else {
        println!(
            "replayed steps {}..{}: checkpoint {id}",
            start.progress.step, end.progress.step
        );
    }
    Ok(())
}
