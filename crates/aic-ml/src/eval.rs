//! `aic model eval`: a trained model scored on one split of its task's corpus with the standard
//! metrics, as a [`Scorecard`] that names the model, the data and the runtime, so that two
//! scorecards of the same dataset id and split compare.
//!
//! The data set id is the one training writes (see [`crate::jobs::files_id`]): for FSDD the
//! BLAKE3 over every `.wav` of the folder (the split is a fixed function of the file names),
//! for WikiQA over the files of the split's folder.

use std::path::Path;

use aic_model::Featurizer;
use burn::tensor::Device;

use crate::data::DataError;
use crate::jobs::{
    dir_id, kws_config, load_kws, load_text_match, text_config, JobError, Scorecard,
};
use crate::load::LoadedModel;
use crate::tasks::answer::{self, Pairs};
use crate::tasks::keyword;

/// The splits each task's corpus has.
pub fn splits(task: aic_model::Task) -> &'static [&'static str] {
    match task {
        aic_model::Task::KeywordSpotting => &["test", "valid", "train"],
        aic_model::Task::TextMatching => &["test", "dev", "train"],
        aic_model::Task::Classification => &[],
    }
}

fn unknown_split(task: aic_model::Task, split: &str) -> JobError {
    JobError::Param {
        name: "split".into(),
        reason: format!(
            "{split:?} is not a split of {task} data (known: {})",
            splits(task).join(", ")
        ),
    }
}

/// Scores `model` on `split` of the corpus at `data`: an FSDD recordings folder (splits
/// `test`, `valid`, `train`) for keyword spotting, a WikiQA folder holding one folder per
/// split (`test`, `dev`, `train`) for text matching.
pub fn evaluate(model: &LoadedModel, data: &Path, split: &str) -> Result<Scorecard, JobError> {
    let m = &model.manifest;
    let task: aic_model::Task = m
        .model
        .task
        .parse()
        .map_err(|e: aic_model::UnknownTaskError| JobError::Architecture(e.to_string()))?;
    if !splits(task).contains(&split) {
        return Err(unknown_split(task, split));
    }
    let params =
        aic_model::resolve_params(m, &Default::default()).map_err(|e| JobError::Param {
            name: "parameters".into(),
            reason: format!("{} error(s) resolving the manifest's defaults", e.len()),
        })?;
    let device = Device::flex();
    let mut card = Scorecard {
        model: m.model.name.clone(),
        model_version: m.model.version.clone(),
        package_id: model.package_id.map(|id| id.to_string()),
        weights_blake3: model.weights_blake3().to_string(),
        architecture: m.runtime.architecture.clone(),
        dataset: String::new(),
        dataset_id: String::new(),
        split: split.into(),
        examples: 0,
        classification: None,
        ranking: None,
        runtime: crate::jobs::RUNTIME.into(),
        kernel_family: crate::family::kernel_family(),
    };
    match task {
        aic_model::Task::KeywordSpotting => {
            let Featurizer::LogMel(mel) = &m.data.featurizer else {
                return Err(JobError::Featurizer("kws-dscnn (needs log-mel)".into()));
            };
            let config = kws_config(m, &params)?;
            let net = load_kws(&config, &model.files.weights, &device)?;
            let corpus = crate::data::fsdd(data, mel)?;
            let examples = match split {
                "test" => corpus.test,
                "valid" => corpus.valid,
                _ => corpus.train,
            };
            let report = keyword::evaluate(&config, &net, &examples, &device);
            card.dataset = "fsdd".into();
            card.dataset_id = dir_id(data, |n| n.ends_with(".wav"))?;
            card.examples = report.count;
            card.classification = Some(report);
        }
        aic_model::Task::TextMatching => {
            let dir = data.join(split);
            let inputs = text_pairs(model, &dir)?;
            let Featurizer::Tokenizer(tok) = &m.data.featurizer else {
                return Err(JobError::Featurizer(
                    "text-match-cnn (needs a tokenizer)".into(),
                ));
            };
            let config = text_config(&params, tok.id_space() as usize, tok.max_len as usize)?;
            let net = load_text_match(&config, &model.files.weights, &device)?;
            card.dataset = "wikiqa".into();
            card.dataset_id = dir_id(&dir, |_| true)?;
            card.examples = inputs.len() as u64;
            card.ranking = Some(answer::evaluate(&net, &inputs, &device));
        }
        aic_model::Task::Classification => {
            return Err(JobError::Data(DataError::Featurizer(
                "classification has no standard corpus reader yet; nothing to evaluate on".into(),
            )))
        }
    }
    Ok(card)
}

/// A WikiQA split folder tokenized with the package's own vocabulary (not one rebuilt from
/// the data, which would not match the weights).
fn text_pairs(model: &LoadedModel, dir: &Path) -> Result<Pairs, JobError> {
    let (raw, _skipped) = aic_data::corpora::wikiqa_split(dir).map_err(DataError::Io)?;
    let encoder =
        crate::builtin::TextEncoder::new(model).map_err(|e| JobError::Featurizer(e.to_string()))?;
    let len = match &model.manifest.data.featurizer {
        Featurizer::Tokenizer(t) => t.max_len as usize,
        _ => 0,
    };
    let mut pairs = Pairs {
        question_len: len,
        answer_len: len,
        ..Pairs::default()
    };
    for p in raw {
        pairs.questions.extend(encoder.ids(&p.question));
        pairs.answers.extend(encoder.ids(&p.answer));
        pairs.relevant.push(p.relevant);
        pairs.groups.push(p.question_id);
    }
    Ok(pairs)
}
