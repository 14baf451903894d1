//! The built-in architectures as an inference [`Backend`] on burn's CPU backend, and the
//! featurizers that turn raw inputs (WAV clips, text) into their input tensors with the same
//! code training used.

use std::collections::BTreeMap;

use aic_data::{LogMel, Tokenizer, Vocabulary};
use aic_model::{resolve_params, Featurizer, Manifest, ParamValue, TokenizerParams};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::checkpoint::encode_weights;
use crate::infer::{Backend, InferError, Predictor};
use crate::jobs::{kws_config, load_kws, load_text_match, text_config, JobError};
use crate::load::LoadedModel;
use crate::models::kws::{KwsConfig, KwsDsCnn};
use crate::models::mlp::{Mlp, MlpConfig};
use crate::models::textmatch::{TextMatchCnn, TextMatchConfig};
use crate::rng::Rng;
use crate::tensor::NamedTensor;

/// The platform name of the built-in engine.
pub const PLATFORM: &str = "aic-burn";

// One per loaded model: the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
enum Net {
    Kws(KwsConfig, KwsDsCnn),
    Text(TextMatchConfig, TextMatchCnn),
    Mlp(MlpConfig, Mlp),
}

/// A built-in architecture with its weights, on burn's `flex` CPU backend.
pub struct BurnBackend {
    net: Net,
    outputs: Vec<String>,
    device: Device,
}

/// The architecture's parameters as the manifest pins them (the defaults, which `aic model
/// train` sets to the values the weights were trained with).
fn pinned_params(manifest: &Manifest) -> Result<BTreeMap<String, ParamValue>, JobError> {
    resolve_params(manifest, &BTreeMap::new()).map_err(|errors| JobError::Param {
        name: errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "parameters".into()),
        reason: "the manifest's defaults do not resolve".into(),
    })
}

fn mlp_config(
    manifest: &Manifest,
    params: &BTreeMap<String, ParamValue>,
) -> Result<MlpConfig, JobError> {
    let int = |name: &str| match params.get(name) {
        Some(ParamValue::Int(i)) if *i >= 0 => Ok(*i as usize),
        other => Err(JobError::Param {
            name: name.into(),
            reason: format!("needs a non-negative integer, found {other:?}"),
        }),
    };
    let inputs = manifest
        .interface
        .inputs
        .first()
        .and_then(|t| t.shape.get(1))
        .and_then(aic_model::Dim::fixed)
        .unwrap_or(0) as usize;
    let classes = manifest
        .interface
        .outputs
        .first()
        .map_or(0, |o| o.labels.len());
    Ok(MlpConfig {
        inputs,
        hidden: vec![int("hidden_dim")?; int("layers")?],
        classes,
    })
}

fn tokenizer_params(manifest: &Manifest) -> Result<&TokenizerParams, JobError> {
    match &manifest.data.featurizer {
        Featurizer::Tokenizer(p) => Ok(p),
        _ => Err(JobError::Featurizer(
            "text-match-cnn (needs a tokenizer)".into(),
        )),
    }
}

impl BurnBackend {
    /// The manifest's architecture with the package's weights.
    pub fn load(model: &LoadedModel) -> Result<Self, JobError> {
        let m = &model.manifest;
        let params = pinned_params(m)?;
        let device = Device::flex();
        let weights = &model.files.weights;
        let net = match m.runtime.architecture.as_str() {
            "kws-dscnn" => {
                let config = kws_config(m, &params)?;
                let net = load_kws(&config, weights, &device)?;
                Net::Kws(config, net)
            }
            "text-match-cnn" => {
                let tok = tokenizer_params(m)?;
                let config = text_config(&params, tok.id_space() as usize, tok.max_len as usize)?;
                let net = load_text_match(&config, weights, &device)?;
                Net::Text(config, net)
            }
            "mlp" => {
                let config = mlp_config(m, &params)?;
                let tensors = crate::checkpoint::decode_weights(weights)
                    .map_err(|e| JobError::Weights(e.to_string()))?;
                let net =
                    crate::state::apply(Mlp::new(&config, &mut Rng::new(0), &device), &tensors)
                        .map_err(|e| JobError::Weights(e.to_string()))?;
                Net::Mlp(config, net)
            }
            other => return Err(JobError::Architecture(other.into())),
        };
        Ok(Self {
            net,
            outputs: m.interface.outputs.iter().map(|o| o.name.clone()).collect(),
            device,
        })
    }

    fn out(&self, shape: Vec<usize>, data: Vec<f32>) -> Result<Vec<NamedTensor>, InferError> {
        let name = self.outputs.first().cloned().unwrap_or_default();
        NamedTensor::f32(name, shape, data)
            .map(|t| vec![t])
            .map_err(|e| InferError::Engine(e.to_string()))
    }
}

fn floats(t: &NamedTensor) -> Result<Vec<f32>, InferError> {
    t.as_f32()
        .map(<[f32]>::to_vec)
        .ok_or_else(|| InferError::Engine(format!("input {:?} is not FP32", t.name())))
}

/// Token ids, refused unless each is in `[0, vocab)`.
fn ids(t: &NamedTensor, vocab: usize) -> Result<Vec<i64>, InferError> {
    let v = t
        .as_i64()
        .ok_or_else(|| InferError::Engine(format!("input {:?} is not integer", t.name())))?;
    if let Some((i, id)) = v
        .iter()
        .enumerate()
        .find(|(_, &id)| id < 0 || id as u64 >= vocab as u64)
    {
        return Err(InferError::Value {
            name: t.name().into(),
            reason: format!("token id {id} at element {i} is outside [0, {vocab})"),
        });
    }
    Ok(v.to_vec())
}

fn to_vec(t: Tensor<2>) -> Result<Vec<f32>, InferError> {
    t.into_data()
        .try_into_vec_as::<f32>()
        .map_err(|e| InferError::Engine(format!("{e:?}")))
}

impl Backend for BurnBackend {
    fn run(&self, inputs: &[&NamedTensor], batch: usize) -> Result<Vec<NamedTensor>, InferError> {
        let d = &self.device;
        match (&self.net, inputs) {
            (Net::Kws(c, net), [mel]) => {
                let x = TensorData::new(floats(mel)?, [batch, c.frames, c.mels]);
                let logits = net.forward(Tensor::<3>::from_data(x, d));
                self.out(vec![batch, c.classes], to_vec(logits)?)
            }
            (Net::Mlp(c, net), [x]) => {
                let x = TensorData::new(floats(x)?, [batch, c.inputs]);
                let logits = net.forward(Tensor::<2>::from_data(x, d));
                self.out(vec![batch, c.classes], to_vec(logits)?)
            }
            (Net::Text(c, net), [q, a]) => {
                let q = TensorData::new(ids(q, c.vocab)?, [batch, c.question_len]);
                let a = TensorData::new(ids(a, c.vocab)?, [batch, c.answer_len]);
                let score = net.forward(
                    Tensor::<2, Int>::from_data(q, d),
                    Tensor::<2, Int>::from_data(a, d),
                );
                self.out(vec![batch], to_vec(score.reshape([batch, 1]))?)
            }
            _ => Err(InferError::Engine(format!(
                "the architecture takes another number of inputs than {}",
                inputs.len()
            ))),
        }
    }

    fn platform(&self) -> &'static str {
        PLATFORM
    }
}

impl Predictor {
    /// A predictor for a built-in architecture (`runtime.engine = "burn"`).
    pub fn burn(model: &LoadedModel) -> Result<Self, JobError> {
        let backend = BurnBackend::load(model)?;
        Ok(Self::new(
            model.manifest.clone(),
            model.id(),
            Box::new(backend),
        ))
    }
}

/// The first input's name, for featurized tensors.
fn input_name(manifest: &Manifest, i: usize) -> String {
    manifest
        .interface
        .inputs
        .get(i)
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

/// WAV clips as the model's input batch `[clips, frames, mels]`, featurized by the manifest's
/// log-mel featurizer (the code `aic model train` featurizes with).
pub fn featurize_wavs(manifest: &Manifest, clips: &[Vec<u8>]) -> Result<NamedTensor, InferError> {
    let Featurizer::LogMel(mel) = &manifest.data.featurizer else {
        return Err(InferError::Featurize {
            what: "audio".into(),
            reason: "the manifest's featurizer is not log-mel".into(),
        });
    };
    let logmel = LogMel::new(mel).map_err(|e| InferError::Featurize {
        what: "audio".into(),
        reason: e.to_string(),
    })?;
    let mut values = Vec::with_capacity(clips.len() * logmel.len());
    for (i, clip) in clips.iter().enumerate() {
        let f = logmel
            .compute_wav(clip)
            .map_err(|e| InferError::Featurize {
                what: format!("clip {i}"),
                reason: e.to_string(),
            })?;
        values.extend(f);
    }
    let shape = vec![clips.len(), mel.frames() as usize, mel.n_mels as usize];
    NamedTensor::f32(input_name(manifest, 0), shape, values)
        .map_err(|e| InferError::Engine(e.to_string()))
}

/// Text to the model's token-id inputs: the package's vocabulary with the manifest's
/// tokenizer, as training tokenized.
pub struct TextEncoder {
    tokenizer: Tokenizer,
    names: [String; 2],
}

impl TextEncoder {
    /// The encoder of a text-matching package (needs its `vocab.txt`).
    pub fn new(model: &LoadedModel) -> Result<Self, InferError> {
        let m = &model.manifest;
        let fail = |reason: String| InferError::Featurize {
            what: "text".into(),
            reason,
        };
        let params = tokenizer_params(m).map_err(|e| fail(e.to_string()))?;
        let vocab = model
            .files
            .vocab
            .as_deref()
            .ok_or_else(|| fail("the package has no vocab.txt".into()))?;
        let vocab = Vocabulary::from_file_bytes(vocab).map_err(|e| fail(e.to_string()))?;
        let tokenizer = Tokenizer::new(params, vocab).map_err(|e| fail(e.to_string()))?;
        Ok(Self {
            tokenizer,
            names: [input_name(m, 0), input_name(m, 1)],
        })
    }

    /// Token ids of `text`, cut or padded to the manifest's `max_len`.
    pub fn ids(&self, text: &str) -> Vec<i64> {
        self.tokenizer
            .encode(text)
            .into_iter()
            .map(i64::from)
            .collect()
    }

    /// A question and its candidate sentences as the `(question, answer)` input batch.
    pub fn candidates(
        &self,
        question: &str,
        candidates: &[String],
    ) -> Result<Vec<NamedTensor>, InferError> {
        let len = self.tokenizer.params().max_len as usize;
        let q = self.ids(question);
        let mut qs = Vec::with_capacity(candidates.len() * len);
        let mut answers = Vec::with_capacity(candidates.len() * len);
        for c in candidates {
            qs.extend_from_slice(&q);
            answers.extend(self.ids(c));
        }
        let n = candidates.len();
        let t = |name: &str, v| {
            NamedTensor::i64(name, vec![n, len], v).map_err(|e| InferError::Engine(e.to_string()))
        };
        Ok(vec![t(&self.names[0], qs)?, t(&self.names[1], answers)?])
    }
}

/// Freshly initialized weights (safetensors) of the manifest's built-in architecture with its
/// pinned parameters and `seed`: a model to smoke-test a package or a server before training.
pub fn init_weights(manifest: &Manifest, seed: u64) -> Result<Vec<u8>, JobError> {
    let params = pinned_params(manifest)?;
    let device = Device::flex();
    let mut rng = Rng::stream(seed, "init");
    let map = match manifest.runtime.architecture.as_str() {
        "kws-dscnn" => crate::state::collect(&KwsDsCnn::new(
            &kws_config(manifest, &params)?,
            &mut rng,
            &device,
        )),
        "mlp" => crate::state::collect(&Mlp::new(
            &mlp_config(manifest, &params)?,
            &mut rng,
            &device,
        )),
        "text-match-cnn" => {
            let tok = tokenizer_params(manifest)?;
            let config = text_config(&params, tok.id_space() as usize, tok.max_len as usize)?;
            let idf = vec![1.0; config.vocab];
            crate::state::collect(&TextMatchCnn::new(&config, idf, &mut rng, &device))
        }
        other => return Err(JobError::Architecture(other.into())),
    };
    Ok(encode_weights(&map))
}
