//! From a model package's manifest and a job's parameters to a concrete run: which built-in
//! architecture, with which hyperparameters, trained on which corpus, scored how. The CLI's
//! `aic model train` and `aic model eval` and the worker's job runner call this.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use aic_data::{DatasetManifest, DirSource, ShardSource, WaitHook};

use aic_model::{Featurizer, Manifest, ParamValue};
use burn::module::Module;
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::checkpoint::{decode_weights, encode_weights, Checkpoint};
use crate::metrics::{ClassificationReport, RankingReport};
use crate::models::kws::{KwsConfig, KwsDsCnn};
use crate::models::textmatch::{TextMatchCnn, TextMatchConfig};
use crate::rng::Rng;
use crate::tasks::answer::{self, AnswerTask};
use crate::tasks::keyword::{self, KeywordTask};
use crate::tasks::TrainSet;
use crate::train::{Control, Event, Outcome, TrainConfig, TrainError, Trainer};

/// Why a job cannot run.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// The manifest names an architecture this runtime does not have.
    #[error("architecture {0:?} is not built in (kws-dscnn, text-match-cnn)")]
    Architecture(String),
    /// A parameter the architecture needs is missing or of the wrong type.
    #[error("parameter {name}: {reason}")]
    Param {
        /// Parameter name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The manifest's featurizer does not suit the architecture.
    #[error("featurizer does not suit {0}")]
    Featurizer(String),
    /// The corpus could not be read.
    #[error("data: {0}")]
    Data(#[from] crate::data::DataError),
    /// A digitized data set could not be used.
    #[error("data set: {0}")]
    Digitized(#[from] crate::digitized::DigitizedError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// Weights do not fit the architecture.
    #[error("weights: {0}")]
    Weights(String),
    /// A label of the data is not one of the model's classes.
    #[error("split {split}: label {label} is outside the model's {classes} classes")]
    Label {
        /// The split.
        split: &'static str,
        /// The label found.
        label: usize,
        /// The model's class count.
        classes: usize,
    },
}

fn int(params: &BTreeMap<String, ParamValue>, name: &str) -> Result<i64, JobError> {
    match params.get(name) {
        Some(ParamValue::Int(i)) => Ok(*i),
        other => Err(JobError::Param {
            name: name.into(),
            reason: format!("needs an integer, found {other:?}"),
        }),
    }
}

fn float(params: &BTreeMap<String, ParamValue>, name: &str) -> Result<f64, JobError> {
    match params.get(name) {
        Some(ParamValue::Float(f)) => Ok(*f),
        Some(ParamValue::Int(i)) => Ok(*i as f64),
        other => Err(JobError::Param {
            name: name.into(),
            reason: format!("needs a number, found {other:?}"),
        }),
    }
}

fn usize_param(params: &BTreeMap<String, ParamValue>, name: &str) -> Result<usize, JobError> {
    usize::try_from(int(params, name)?).map_err(|_| JobError::Param {
        name: name.into(),
        reason: "must not be negative".into(),
    })
}

/// The training configuration from resolved parameters.
pub fn train_config(params: &BTreeMap<String, ParamValue>) -> Result<TrainConfig, JobError> {
    Ok(TrainConfig {
        epochs: u32::try_from(int(params, "epochs")?).unwrap_or(u32::MAX),
        batch_size: usize_param(params, "batch_size")?,
        learning_rate: float(params, "learning_rate")?,
        warmup_steps: int(params, "warmup_steps")?.max(0) as u64,
        weight_decay: float(params, "weight_decay")? as f32,
        clip_norm: float(params, "clip_norm")? as f32,
        seed: int(params, "seed")?.max(0) as u64,
        patience: u32::try_from(int(params, "patience")?).unwrap_or(0),
        checkpoint_every: int(params, "checkpoint_every")?.max(0) as u64,
        constant_lr: match params.get("lr_schedule") {
            Some(ParamValue::String(s)) if s == "constant" => true,
            Some(ParamValue::String(s)) if s == "cosine" => false,
            other => {
                return Err(JobError::Param {
                    name: "lr_schedule".into(),
                    reason: format!("needs cosine or constant, found {other:?}"),
                })
            }
        },
    })
}

/// The keyword-spotting architecture from the manifest and resolved parameters.
pub fn kws_config(
    manifest: &Manifest,
    params: &BTreeMap<String, ParamValue>,
) -> Result<KwsConfig, JobError> {
    let Featurizer::LogMel(mel) = &manifest.data.featurizer else {
        return Err(JobError::Featurizer("kws-dscnn (needs log-mel)".into()));
    };
    let classes = manifest
        .interface
        .outputs
        .first()
        .map(|o| o.labels.len())
        .unwrap_or(0);
    let stride = usize_param(params, "stem_stride")?;
    Ok(KwsConfig {
        frames: mel.frames() as usize,
        mels: mel.n_mels as usize,
        classes,
        channels: usize_param(params, "channels")?,
        blocks: usize_param(params, "blocks")?,
        stem_kernel: [10, 4],
        stem_stride: [stride, stride],
    })
}

/// A scorecard: one model scored on one split of one data set, comparable with any other
/// scorecard of the same dataset id and split.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// Model name from the manifest.
    pub model: String,
    /// Model version from the manifest.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub model_version: String,
    /// Id of the package scored, when it was read from a package file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_id: Option<String>,
    /// BLAKE3 of the weights file scored.
    pub weights_blake3: String,
    /// Architecture.
    pub architecture: String,
    /// Data set name.
    pub dataset: String,
    /// BLAKE3 over the names and BLAKE3s of the raw files read (sorted).
    pub dataset_id: String,
    /// Split scored.
    pub split: String,
    /// Examples scored.
    pub examples: u64,
    /// Classification metrics (keyword spotting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub classification: Option<ClassificationReport>,
    /// Ranking metrics (answer selection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking: Option<RankingReport>,
    /// The runtime that produced it.
    pub runtime: String,
    /// The CPU kernel family it ran on ([`crate::family::kernel_family`]).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kernel_family: String,
}

/// The runtime's name in scorecards.
pub const RUNTIME: &str = concat!("aic-ml ", env!("CARGO_PKG_VERSION"), " (burn 0.22.1, flex)");

/// The id of a set of files: BLAKE3 over `name \0 blake3(bytes) \n` lines in name order.
pub fn files_id(files: &[(String, Vec<u8>)]) -> String {
    let mut sorted: Vec<(&String, blake3::Hash)> =
        files.iter().map(|(n, b)| (n, blake3::hash(b))).collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut h = blake3::Hasher::new();
    for (name, hash) in sorted {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(hash.to_hex().as_bytes());
        h.update(b"\n");
    }
    h.finalize().to_hex().to_string()
}

/// [`files_id`] of the files directly in `dir` whose names pass `filter`.
pub fn dir_id(dir: &Path, filter: impl Fn(&str) -> bool) -> Result<String, JobError> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(crate::data::DataError::Io)? {
        let path = entry.map_err(crate::data::DataError::Io)?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if path.is_file() && filter(&name) {
            files.push((
                name,
                std::fs::read(&path).map_err(crate::data::DataError::Io)?,
            ));
        }
    }
    Ok(files_id(&files))
}

/// The result of a training job.
pub struct Trained {
    /// The safetensors weights of the best validated epoch.
    pub weights: Vec<u8>,
    /// The loop's outcome (last checkpoint, transcript).
    pub outcome: Outcome,
    /// Scorecards of the best weights: validation, and test where the corpus has one.
    pub scorecards: Vec<Scorecard>,
    /// Extra files for the package (the vocabulary of a text model).
    pub vocabulary: Option<Vec<u8>>,
    /// False when `on_event` stopped the run before its end (a preempted job): `weights` are
    /// then the best so far, `scorecards` is empty, and `outcome.last` is the checkpoint to
    /// resume from.
    pub complete: bool,
}

/// How a job's training loop starts and reports.
pub struct Session<'a> {
    /// Resume from this checkpoint (a preempted run's last state) instead of a fresh model.
    pub resume: Option<&'a Checkpoint>,
    /// Called for every event, with the checkpoint on [`Event::Checkpoint`]; returning
    /// [`Control::Stop`] stops the run after checkpointing (see [`Trained::complete`]).
    pub on_event: &'a mut dyn FnMut(&Event, Option<&Checkpoint>) -> Control,
    /// Told of long waits for streamed training data (a digitized data set's shards), so a
    /// worker can lend the device to mining meanwhile; `None`: not told.
    pub data_wait: Option<WaitHook>,
}

impl<'a> Session<'a> {
    /// A fresh run reporting to `on_event`.
    pub fn fresh(on_event: &'a mut dyn FnMut(&Event, Option<&Checkpoint>) -> Control) -> Self {
        Self {
            resume: None,
            on_event,
            data_wait: None,
        }
    }
}

/// Whether a run got to its end (all epochs, or early stopping) rather than being stopped.
fn finished(outcome: &Outcome, cfg: &TrainConfig) -> bool {
    outcome.last.progress.epoch >= cfg.epochs
}

/// Where a keyword job's clips come from.
pub enum KeywordData<'a> {
    /// An FSDD folder of WAV files, or a directory digitized by `aic data digitize` (with a
    /// `manifest.json`).
    Path(&'a Path),
    /// A digitized data set whose shards come from `source` (a worker cache fetching them
    /// from nodes as training reaches them).
    Shards {
        /// The data set's manifest.
        manifest: Box<DatasetManifest>,
        /// Its id, the BLAKE3 of the manifest's bytes: the caller has checked it (a blob
        /// store or cache verifies what it holds), and scorecards name the data set by it.
        id: String,
        /// Where its shards are read.
        source: Arc<dyn ShardSource>,
    },
}

/// A keyword job's network, training configuration, task (training and validation data),
/// test split and data set id.
struct KeywordJob {
    config: KwsConfig,
    cfg: TrainConfig,
    task: KeywordTask,
    test: crate::tasks::Examples,
    dataset_id: String,
}

/// Reads a keyword job's data as `manifest` and `params` ask (training and replay alike).
fn keyword_job(
    manifest: &Manifest,
    params: &BTreeMap<String, ParamValue>,
    data: KeywordData<'_>,
    data_wait: Option<WaitHook>,
) -> Result<KeywordJob, JobError> {
    let arch = manifest.runtime.architecture.as_str();
    if arch != "kws-dscnn" {
        return Err(JobError::Architecture(arch.into()));
    }
    let config = kws_config(manifest, params)?;
    let cfg = train_config(params)?;
    let Featurizer::LogMel(mel) = &manifest.data.featurizer else {
        return Err(JobError::Featurizer(arch.into()));
    };
    let (train, valid, test, dataset_id) = match data {
        KeywordData::Path(dir) if !crate::digitized::is_dataset(dir) => {
            let data = crate::data::fsdd(dir, mel)?;
            let id = dir_id(dir, |n| n.ends_with(".wav"))?;
            (TrainSet::Memory(data.train), data.valid, data.test, id)
        }
        data => {
            let (manifest, id, source) = match data {
                KeywordData::Path(dir) => {
                    let (manifest, id) = crate::digitized::manifest(dir)?;
                    let source: Arc<dyn ShardSource> = Arc::new(DirSource::new(dir));
                    (manifest, id, source)
                }
                KeywordData::Shards {
                    manifest,
                    id,
                    source,
                } => (*manifest, id, source),
            };
            let mut data = crate::digitized::fsdd_from(manifest, source, mel)?;
            if let Some(hook) = data_wait {
                data.train.set_wait_hook(hook);
            }
            (
                TrainSet::Stream(Box::new(data.train)),
                data.valid,
                data.test,
                id,
            )
        }
    };
    // Training batches are checked as they stream; the evaluation splits here, before any
    // work is done on them.
    for (split, examples) in [("valid", &valid), ("test", &test)] {
        if let Some(&label) = examples.labels.iter().find(|&&l| l >= config.classes) {
            return Err(JobError::Label {
                split,
                label,
                classes: config.classes,
            });
        }
    }
    let task = KeywordTask {
        config: config.clone(),
        train,
        valid,
    };
    Ok(KeywordJob {
        config,
        cfg,
        task,
        test,
        dataset_id,
    })
}

/// Re-executes one segment of a keyword job's transcript: from the checkpoint `from` to the
/// next checkpoint of the job's grid (or the run's end), as a verifier does; the checkpoint
/// returned is compared by id with the transcript's next entry.
pub fn replay_keyword(
    manifest: &Manifest,
    params: &BTreeMap<String, ParamValue>,
    data: KeywordData<'_>,
    from: &Checkpoint,
) -> Result<Checkpoint, JobError> {
    let job = keyword_job(manifest, params, data, None)?;
    let device = Device::flex().autodiff();
    // The fresh network only gives the shapes: `replay` writes the checkpoint's tensors in.
    let model = KwsDsCnn::new(&job.config, &mut Rng::stream(job.cfg.seed, "init"), &device);
    Ok(Trainer::new(&job.task, job.cfg.clone(), device).replay(model, from)?)
}

/// Trains a keyword-spotting model on FSDD: WAV files featurized now, or log-mel shards
/// digitized by `aic data digitize`, whose training split streams through the loader.
pub fn train_keyword(
    manifest: &Manifest,
    params: &BTreeMap<String, ParamValue>,
    data: KeywordData<'_>,
    session: Session<'_>,
) -> Result<Trained, JobError> {
    let arch = manifest.runtime.architecture.as_str();
    let KeywordJob {
        config,
        cfg,
        task,
        test,
        dataset_id,
    } = keyword_job(manifest, params, data, session.data_wait.clone())?;
    let device = Device::flex().autodiff();
    let model = KwsDsCnn::new(&config, &mut Rng::stream(cfg.seed, "init"), &device);
    let outcome =
        Trainer::new(&task, cfg.clone(), device).run(model, session.resume, session.on_event)?;
    let weights = encode_weights(&outcome.best_model);
    if !finished(&outcome, &cfg) {
        return Ok(Trained {
            weights,
            outcome,
            scorecards: Vec::new(),
            vocabulary: None,
            complete: false,
        });
    }
    let inner = Device::flex();
    let best = load_kws(&config, &weights, &inner)?;
    let card = |split: &str, ex: &crate::tasks::Examples| {
        let report = keyword::evaluate(&config, &best, ex, &inner);
        Scorecard {
            model: manifest.model.name.clone(),
            model_version: manifest.model.version.clone(),
            package_id: None,
            weights_blake3: blake3::hash(&weights).to_hex().to_string(),
            architecture: arch.into(),
            dataset: "fsdd".into(),
            dataset_id: dataset_id.clone(),
            split: split.into(),
            examples: report.count,
            classification: Some(report),
            ranking: None,
            runtime: RUNTIME.into(),
            kernel_family: crate::family::kernel_family(),
        }
    };
    let scorecards = vec![card("valid", &task.valid), card("test", &test)];
    Ok(Trained {
        weights,
        outcome,
        scorecards,
        vocabulary: None,
        complete: true,
    })
}

/// A keyword model with `weights`, ready for inference on `device`.
pub fn load_kws(config: &KwsConfig, weights: &[u8], device: &Device) -> Result<KwsDsCnn, JobError> {
    let tensors = decode_weights(weights).map_err(|e| JobError::Weights(e.to_string()))?;
    let model = KwsDsCnn::new(config, &mut Rng::new(0), device);
    crate::state::apply(model, &tensors)
        .map(|m| m.valid())
        .map_err(|e| JobError::Weights(e.to_string()))
}

/// The text-matching architecture from resolved parameters and the id space.
pub fn text_config(
    params: &BTreeMap<String, ParamValue>,
    vocab: usize,
    max_len: usize,
) -> Result<TextMatchConfig, JobError> {
    Ok(TextMatchConfig {
        vocab,
        embed: usize_param(params, "embed")?,
        filters: usize_param(params, "filters")?,
        question_len: max_len,
        answer_len: max_len,
        hidden: usize_param(params, "hidden")?,
    })
}

/// Trains a text-matching model on a WikiQA folder (`train/`, `dev/`).
pub fn train_text_match(
    manifest: &Manifest,
    params: &BTreeMap<String, ParamValue>,
    wikiqa_dir: &Path,
    session: Session<'_>,
) -> Result<Trained, JobError> {
    let arch = manifest.runtime.architecture.as_str();
    if arch != "text-match-cnn" {
        return Err(JobError::Architecture(arch.into()));
    }
    let Featurizer::Tokenizer(tok) = &manifest.data.featurizer else {
        return Err(JobError::Featurizer(arch.into()));
    };
    let data = crate::data::wikiqa(wikiqa_dir, tok.max_len, tok.oov_buckets)?;
    let vocab = data.params.id_space() as usize;
    let config = text_config(params, vocab, tok.max_len as usize)?;
    let cfg = train_config(params)?;
    let device = Device::flex().autodiff();
    let idf = answer::idf_table(&data.train, vocab);
    let model = TextMatchCnn::new(&config, idf, &mut Rng::stream(cfg.seed, "init"), &device);
    let task = AnswerTask {
        config: config.clone(),
        train: data.train,
        valid: data.dev.clone(),
    };
    let outcome =
        Trainer::new(&task, cfg.clone(), device).run(model, session.resume, session.on_event)?;
    let weights = encode_weights(&outcome.best_model);
    if !finished(&outcome, &cfg) {
        return Ok(Trained {
            weights,
            outcome,
            scorecards: Vec::new(),
            vocabulary: Some(data.vocabulary.to_file_bytes()),
            complete: false,
        });
    }
    let inner = Device::flex();
    let best = load_text_match(&config, &weights, &inner)?;
    let report = answer::evaluate(&best, &data.dev, &inner);
    let scorecards = vec![Scorecard {
        model: manifest.model.name.clone(),
        model_version: manifest.model.version.clone(),
        package_id: None,
        weights_blake3: blake3::hash(&weights).to_hex().to_string(),
        architecture: arch.into(),
        dataset: "wikiqa".into(),
        dataset_id: dir_id(&wikiqa_dir.join("dev"), |_| true)?,
        split: "dev".into(),
        examples: data.dev.len() as u64,
        classification: None,
        ranking: Some(report),
        runtime: RUNTIME.into(),
        kernel_family: crate::family::kernel_family(),
    }];
    let mut scorecards = scorecards;
    let (dev_raw, _) = aic_data::corpora::wikiqa_split(&wikiqa_dir.join("dev"))
        .map_err(crate::data::DataError::Io)?;
    let (position, count) = answer::baselines(&dev_raw, 1);
    for (name, report) in [
        ("baseline-list-position", position),
        ("baseline-shared-word-count", count),
    ] {
        let mut card = scorecards[0].clone();
        card.model = name.into();
        card.weights_blake3 = String::new();
        card.architecture = "baseline".into();
        card.ranking = Some(report);
        scorecards.push(card);
    }
    Ok(Trained {
        weights,
        outcome,
        scorecards,
        vocabulary: Some(data.vocabulary.to_file_bytes()),
        complete: true,
    })
}

/// A text-matching model with `weights` (the IDF table is one of its tensors).
pub fn load_text_match(
    config: &TextMatchConfig,
    weights: &[u8],
    device: &Device,
) -> Result<TextMatchCnn, JobError> {
    let tensors = decode_weights(weights).map_err(|e| JobError::Weights(e.to_string()))?;
    let model = TextMatchCnn::new(config, vec![0.0; config.vocab], &mut Rng::new(0), device);
    crate::state::apply(model, &tensors)
        .map(|m| m.valid())
        .map_err(|e| JobError::Weights(e.to_string()))
}
