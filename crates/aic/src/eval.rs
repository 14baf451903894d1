//! `aic model eval`: a model scored on one split of its corpus; the scorecard as JSON.

use std::path::{Path, PathBuf};

use aic_model::PackageId;
use anyhow::{Context, Result};

pub(crate) fn eval(
    path: &Path,
    data: &Path,
    split: &str,
    id: Option<&str>,
    out: Option<PathBuf>,
    json: bool,
) -> Result<()> {
    let expected = id.map(str::parse::<PackageId>).transpose()?;
    let model = aic_ml::load::load_model(path, expected.as_ref())?;
    let card = aic_ml::eval::evaluate(&model, data, split)?;
    let text = serde_json::to_string_pretty(&card)?;
    if let Some(out) = &out {
        std::fs::write(out, format!("{text}\n"))
            .with_context(|| format!("writing {}", out.display()))?;
    }
    if json {
        println!("{}", serde_json::to_string(&card)?);
        return Ok(());
    }
    let model_id = card.package_id.as_deref().unwrap_or(&card.weights_blake3);
    println!(
        "{} {} on {} {} ({} examples)",
        card.model, card.model_version, card.dataset, card.split, card.examples
    );
    if let Some(c) = &card.classification {
        println!("accuracy:     {:.4}", c.accuracy);
        println!("macro-F1:     {:.4}", c.macro_f1);
        println!("confusion (rows: true class, columns: predicted):");
        for (i, row) in c.confusion.iter().enumerate() {
            let cells: Vec<String> = row.iter().map(|n| format!("{n:>4}")).collect();
            println!("  {i:>3} {}", cells.join(""));
        }
    }
    if let Some(r) = &card.ranking {
        println!("MAP:          {:.4}", r.map);
        println!("MRR:          {:.4}", r.mrr);
        println!(
            "questions:    {} ({} without a correct answer left out)",
            r.questions, r.questions_without_answer
        );
    }
    let kind = if card.package_id.is_some() {
        "package"
    } else {
        "weights"
    };
    println!("model id:     {model_id} ({kind})");
    println!("dataset id:   {}", card.dataset_id);
    println!("runtime:      {} on {}", card.runtime, card.kernel_family);
    if let Some(out) = out {
        println!("scorecard:    {}", out.display());
    }
    Ok(())
}
