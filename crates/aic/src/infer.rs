//! `aic model infer`: run a model on WAV files (keyword spotting), on a question and candidate
//! sentences (text matching), or on an Open Inference Protocol request (any model).

use std::path::{Path, PathBuf};

use aic_ml::builtin::{featurize_wavs, TextEncoder};
use aic_ml::infer::{softmax, Predictor};
use aic_ml::load::{load_model, LoadedModel};
use aic_model::Task;
use aic_serve::oip::{InferRequest, InferResponse, ResponseOutput};
use anyhow::{bail, Context, Result};
use serde_json::json;

/// What to run the model on.
pub(crate) struct InferInput {
    pub(crate) files: Vec<PathBuf>,
    pub(crate) question: Option<String>,
    pub(crate) candidates: Option<PathBuf>,
    pub(crate) request: Option<PathBuf>,
}

pub(crate) fn infer(path: &Path, input: InferInput, json: bool) -> Result<()> {
    let model = load_model(path, None)?;
    let predictor = aic_serve::predictor(&model)?;
    if let Some(request) = &input.request {
        return oip_request(&predictor, request);
    }
    let task: Task = model.manifest.model.task.parse()?;
    match task {
        Task::KeywordSpotting if !input.files.is_empty() => {
            keywords(&model, &predictor, &input.files, json)
        }
        Task::TextMatching => {
            let (Some(q), Some(c)) = (&input.question, &input.candidates) else {
                bail!(
                    "a text-matching model needs --question and --candidates FILE (or --request)"
                );
            };
            rank(&model, &predictor, q, c, json)
        }
        _ => bail!(
            "give WAV files for a keyword-spotting model, --question and --candidates for a \
             text-matching one, or --request REQUEST.json for any model"
        ),
    }
}

fn oip_request(predictor: &Predictor, request: &Path) -> Result<()> {
    let text = std::fs::read_to_string(request)
        .with_context(|| format!("reading {}", request.display()))?;
    let req: InferRequest = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an inference request", request.display()))?;
    let inputs = req
        .inputs
        .iter()
        .map(|i| i.to_tensor())
        .collect::<Result<Vec<_>, _>>()
        .map_err(anyhow::Error::msg)?;
    let select: Vec<String> = req.outputs.iter().map(|o| o.name.clone()).collect();
    let outputs = predictor.predict_selected(&inputs, &select)?;
    let m = predictor.manifest();
    let resp = InferResponse {
        model_name: m.model.name.clone(),
        model_version: Some(m.model.version.clone()),
        id: req.id,
        outputs: outputs.iter().map(ResponseOutput::from_tensor).collect(),
    };
    println!("{}", serde_json::to_string(&resp)?);
    Ok(())
}

fn keywords(model: &LoadedModel, p: &Predictor, files: &[PathBuf], json: bool) -> Result<()> {
    let labels = &model.manifest.interface.outputs[0].labels;
    let mut results = Vec::new();
    for chunk in files.chunks(p.max_batch().max(1)) {
        let clips = chunk
            .iter()
            .map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display())))
            .collect::<Result<Vec<_>>>()?;
        let mel = featurize_wavs(&model.manifest, &clips)?;
        let out = p.predict(&[mel])?;
        let logits = out[0].as_f32().context("the model's output is not FP32")?;
        for (file, row) in chunk.iter().zip(logits.chunks(labels.len().max(1))) {
            let probs = softmax(row);
            let best = probs
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map_or(0, |(i, _)| i);
            results.push((file.clone(), best, probs));
        }
    }
    if json {
        let v: Vec<_> = results
            .iter()
            .map(|(f, best, probs)| {
                json!({"file": f, "label": labels[*best],
                       "probabilities": labels.iter().zip(probs).map(|(l, p)| (l.clone(), json!(p))).collect::<serde_json::Map<_, _>>()})
            })
            .collect();
        println!("{}", serde_json::to_string(&v)?);
        return Ok(());
    }
    for (f, best, probs) in &results {
        let mut order: Vec<usize> = (0..probs.len()).collect();
        order.sort_by(|&a, &b| probs[b].total_cmp(&probs[a]));
        let top: Vec<String> = order
            .iter()
            .take(3)
            .map(|&i| format!("{} {:.3}", labels[i], probs[i]))
            .collect();
        println!(
            "{}: {} (p {:.3}; top: {})",
            f.display(),
            labels[*best],
            probs[*best],
            top.join(", ")
        );
    }
    Ok(())
}

fn rank(
    model: &LoadedModel,
    p: &Predictor,
    question: &str,
    candidates: &Path,
    json: bool,
) -> Result<()> {
    let text = std::fs::read_to_string(candidates)
        .with_context(|| format!("reading {}", candidates.display()))?;
    let lines: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if lines.is_empty() {
        bail!("{} holds no candidate sentences", candidates.display());
    }
    let encoder = TextEncoder::new(model)?;
    let mut scores = Vec::with_capacity(lines.len());
    for chunk in lines.chunks(p.max_batch().max(1)) {
        let out = p.predict(&encoder.candidates(question, chunk)?)?;
        scores.extend_from_slice(out[0].as_f32().context("the model's output is not FP32")?);
    }
    let mut order: Vec<usize> = (0..lines.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    if json {
        let v: Vec<_> = order
            .iter()
            .enumerate()
            .map(|(rank, &i)| json!({"rank": rank + 1, "index": i, "score": scores[i], "candidate": lines[i]}))
            .collect();
        println!("{}", serde_json::to_string(&v)?);
        return Ok(());
    }
    for (rank, &i) in order.iter().enumerate() {
        println!("{:>3}. {:>9.4}  {}", rank + 1, scores[i], lines[i]);
    }
    Ok(())
}
