//! Starting points for `aic model init`: a complete, valid manifest for each task, and a model
//! card generated from a manifest.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::featurizer::{Featurizer, LogMelParams, TokenizerKind, TokenizerParams};
use crate::interface::{shape_string, Datatype, Dim, TensorSpec};
use crate::manifest::{
    Column, ColumnRole, DataFormat, DatasetRef, Determinism, Interface, Manifest, MetricSpec,
    ModelCard, Runtime, Tolerance, Weights, WeightsFormat, FORMAT,
};
use crate::params::{ParamSpec, ParamType, ParamValue, Parameters};
use crate::task::Task;

/// The engine version the templates name.
pub const BURN_VERSION: &str = "0.22.1";

/// Token sequences of the text-matching template are cut to this length (WikiQA answers are
/// truncated to 40 tokens).
pub const TEXT_MAX_LEN: u32 = 40;

fn int(default: i64, min: i64, max: i64, description: &str) -> ParamSpec {
    ParamSpec {
        kind: ParamType::Int,
        default: ParamValue::Int(default),
        min: Some(min as f64),
        max: Some(max as f64),
        choices: None,
        description: description.into(),
    }
}

fn float(default: f64, min: f64, max: f64, description: &str) -> ParamSpec {
    ParamSpec {
        kind: ParamType::Float,
        default: ParamValue::Float(default),
        min: Some(min),
        max: Some(max),
        choices: None,
        description: description.into(),
    }
}

fn training(epochs: i64, learning_rate: f64, weight_decay: f64) -> BTreeMap<String, ParamSpec> {
    let lr_schedule = ParamSpec {
        kind: ParamType::String,
        default: ParamValue::String("cosine".into()),
        min: None,
        max: None,
        choices: Some(
            ["cosine", "constant"]
                .map(|s| ParamValue::String(s.into()))
                .to_vec(),
        ),
        description: "Learning rate after warm-up: cosine decay to 2 % of the peak, or constant."
            .into(),
    };
    BTreeMap::from([
        (
            "learning_rate".into(),
            float(learning_rate, 1e-6, 1.0, "Peak step size of AdamW."),
        ),
        (
            "batch_size".into(),
            int(64, 2, 1024, "Examples per training step."),
        ),
        (
            "epochs".into(),
            int(epochs, 1, 1000, "Passes over the training split."),
        ),
        (
            "weight_decay".into(),
            float(
                weight_decay,
                0.0,
                1.0,
                "Decoupled (AdamW) weight decay on matrices and kernels.",
            ),
        ),
        (
            "clip_norm".into(),
            float(5.0, 0.0, 1e6, "Global gradient-norm clip (0: none)."),
        ),
        (
            "warmup_steps".into(),
            int(50, 0, 100_000, "Steps of linear learning-rate warm-up."),
        ),
        (
            "patience".into(),
            int(
                5,
                0,
                1000,
                "Stop after this many epochs without a better validation metric (0: never).",
            ),
        ),
        (
            "checkpoint_every".into(),
            int(
                100,
                1,
                1_000_000,
                "Steps between checkpoints of the training transcript.",
            ),
        ),
        (
            "seed".into(),
            int(
                42,
                0,
                u32::MAX.into(),
                "Seed of initialization and data order.",
            ),
        ),
        ("lr_schedule".into(), lr_schedule),
    ])
}

fn tensor(name: &str, datatype: Datatype, shape: &[i64], description: &str) -> TensorSpec {
    TensorSpec {
        name: name.into(),
        datatype,
        shape: shape.iter().map(|d| Dim::Fixed(*d)).collect(),
        description: description.into(),
        labels: Vec::new(),
    }
}

fn column(
    name: &str,
    dtype: Datatype,
    shape: &[i64],
    role: ColumnRole,
    description: &str,
) -> Column {
    Column {
        name: name.into(),
        dtype,
        shape: shape.iter().map(|d| Dim::Fixed(*d)).collect(),
        role,
        description: description.into(),
    }
}

fn metric(name: &str, dataset: Option<&str>) -> MetricSpec {
    MetricSpec {
        name: name.into(),
        dataset: dataset.map(Into::into),
        split: dataset.map(|_| "test".into()),
        value: None,
    }
}

fn digits() -> Vec<String> {
    (0..10).map(|d| d.to_string()).collect()
}

/// A complete, valid manifest for `task` with untrained weights (`weights.blake3` empty).
pub fn template(task: Task) -> Manifest {
    let runtime = |min_memory_mib| Runtime {
        engine: "burn".into(),
        engine_version: BURN_VERSION.into(),
        architecture: task.architecture().into(),
        determinism: Determinism::BitwiseCpuFlex,
        tolerance: Some(Tolerance {
            rel: 1e-4,
            abs: 1e-5,
        }),
        devices: vec!["cpu".into(), "cuda".into(), "wgpu".into()],
        min_memory_mib,
        threads: 0,
        max_batch: 1024,
    };
    let weights = Weights {
        format: WeightsFormat::Safetensors,
        blake3: String::new(),
        size: 0,
        tensors: Vec::new(),
    };
    let target = |d: &str| column("label", Datatype::Int64, &[], ColumnRole::Target, d);
    match task {
        Task::KeywordSpotting => {
            let mel = LogMelParams::speech_8khz();
            let (frames, mels) = (i64::from(mel.frames()), i64::from(mel.n_mels));
            let mut logits = tensor(
                "logits",
                Datatype::Fp32,
                &[-1, 10],
                "Unnormalized class scores.",
            );
            logits.labels = digits();
            Manifest {
                format: FORMAT.into(),
                model: ModelCard {
                    name: "kws-dscnn-fsdd".into(),
                    version: "0.1.0".into(),
                    task: task.name().into(),
                    description: "Spoken digit recognition (0-9) from one second of 8 kHz audio: a depthwise-separable CNN over 40 log-mel bands.".into(),
                    license: "MIT".into(),
                    authors: vec!["AIC developers".into()],
                    tags: vec!["audio".into(), "speech".into(), "keyword-spotting".into()],
                    datasets: vec![DatasetRef {
                        name: "fsdd".into(),
                        id: String::new(),
                        source: "Free Spoken Digit Dataset (Jakobovski), 8 kHz WAV".into(),
                    }],
                    metrics: vec![metric("accuracy", Some("fsdd")), metric("macro_f1", Some("fsdd"))],
                },
                interface: Interface {
                    inputs: vec![tensor("mel", Datatype::Fp32, &[-1, frames, mels], "Log-mel frames, time by band.")],
                    outputs: vec![logits],
                },
                parameters: Parameters {
                    architecture: BTreeMap::from([
                        ("channels".into(), int(64, 8, 512, "Channels of every separable block.")),
                        ("blocks".into(), int(4, 1, 8, "Depthwise-separable blocks.")),
                        ("stem_stride".into(), int(4, 1, 4, "Stride of the stem convolution in time and frequency (4 gives 26 x 10 maps from 101 x 40 frames, the map size of Hello Edge's DS-CNN).")),
                    ]),
                    training: training(30, 1e-2, 1e-4),
                },
                runtime: runtime(256),
                data: DataFormat {
                    columns: vec![
                        column("mel", Datatype::Fp32, &[frames, mels], ColumnRole::Input, "Log-mel frames of the clip."),
                        target("The spoken digit, 0 to 9."),
                    ],
                    featurizer: Featurizer::LogMel(mel),
                },
                weights,
            }
        }
        Task::TextMatching => {
            let len = i64::from(TEXT_MAX_LEN);
            Manifest {
                format: FORMAT.into(),
                model: ModelCard {
                    name: "text-match-cnn-wikiqa".into(),
                    version: "0.1.0".into(),
                    task: task.name().into(),
                    description: "Answer selection: scores how well a candidate sentence answers a question, with convolutional encoders over word embeddings.".into(),
                    license: "MIT".into(),
                    authors: vec!["AIC developers".into()],
                    tags: vec!["text".into(), "question-answering".into(), "answer-selection".into()],
                    datasets: vec![DatasetRef {
                        name: "wikiqa".into(),
                        id: String::new(),
                        source: "WikiQA (Microsoft Research), tokenized".into(),
                    }],
                    metrics: vec![metric("map", Some("wikiqa")), metric("mrr", Some("wikiqa"))],
                },
                interface: Interface {
                    inputs: vec![
                        tensor("question", Datatype::Int64, &[-1, len], "Token ids of the question, padded with 0."),
                        tensor("answer", Datatype::Int64, &[-1, len], "Token ids of the candidate answer, padded with 0."),
                    ],
                    outputs: vec![tensor("score", Datatype::Fp32, &[-1], "Relevance score; larger is better.")],
                },
                parameters: Parameters {
                    architecture: BTreeMap::from([
                        ("embed".into(), int(64, 8, 1024, "Width of the word embeddings.")),
                        ("filters".into(), int(64, 8, 1024, "Filters of the width-3 convolutional encoder.")),
                        ("hidden".into(), int(64, 8, 1024, "Hidden units of the scoring MLP.")),
                    ]),
                    training: training(6, 3e-4, 1e-4),
                },
                runtime: runtime(512),
                data: DataFormat {
                    columns: vec![
                        column("question", Datatype::Int64, &[len], ColumnRole::Input, "Token ids of the question."),
                        column("answer", Datatype::Int64, &[len], ColumnRole::Input, "Token ids of the answer."),
                        target("1 if the answer answers the question, else 0."),
                        column("question_id", Datatype::Int64, &[], ColumnRole::Group, "Groups the candidates of one question for MAP and MRR."),
                    ],
                    featurizer: Featurizer::Tokenizer(TokenizerParams {
                        tokenizer: TokenizerKind::Whitespace,
                        lowercase: true,
                        vocab_size: 30_000,
                        vocab_blake3: String::new(),
                        max_len: TEXT_MAX_LEN,
                        oov_buckets: 4_096,
                    }),
                },
                weights,
            }
        }
        Task::Classification => {
            let mut logits = tensor(
                "logits",
                Datatype::Fp32,
                &[-1, 10],
                "Unnormalized class scores.",
            );
            logits.labels = digits();
            Manifest {
                format: FORMAT.into(),
                model: ModelCard {
                    name: "mlp-classifier".into(),
                    version: "0.1.0".into(),
                    task: task.name().into(),
                    description: "A multilayer perceptron classifying a vector of 64 features into 10 classes; edit the interface and data columns to fit your data.".into(),
                    license: "MIT".into(),
                    authors: vec!["AIC developers".into()],
                    tags: vec!["tabular".into()],
                    datasets: Vec::new(),
                    metrics: vec![metric("accuracy", None), metric("macro_f1", None)],
                },
                interface: Interface {
                    inputs: vec![tensor("features", Datatype::Fp32, &[-1, 64], "The feature vector.")],
                    outputs: vec![logits],
                },
                parameters: Parameters {
                    architecture: BTreeMap::from([
                        ("hidden_dim".into(), int(128, 1, 8192, "Width of each hidden layer.")),
                        ("layers".into(), int(2, 1, 16, "Hidden layers.")),
                    ]),
                    training: training(20, 1e-3, 1e-4),
                },
                runtime: runtime(64),
                data: DataFormat {
                    columns: vec![
                        column("features", Datatype::Fp32, &[64], ColumnRole::Input, "The feature vector."),
                        target("The class index."),
                    ],
                    featurizer: Featurizer::Identity,
                },
                weights,
            }
        }
    }
}

/// The template's TOML text, with a header comment.
pub fn template_toml(task: Task) -> String {
    format!(
        "# AIC model manifest ({FORMAT}); the standard is docs/model-standard.md.\n\
         # Check it with `aic model check`; after training, pack it with\n\
         # `aic model pack --update-weights`.\n\n{}",
        template(task).to_toml_string()
    )
}

/// A model card (`README.md`) for a manifest: Hugging Face style YAML front matter, then the
/// interface, parameters, data and metrics as tables. Authors extend it by hand.
pub fn model_card(m: &Manifest) -> String {
    let c = &m.model;
    let list = |v: Vec<&str>| format!("[{}]", v.join(", "));
    let mut s = String::new();
    let _ = writeln!(s, "---");
    let _ = writeln!(s, "license: {}", c.license);
    let _ = writeln!(s, "library_name: {}", m.runtime.engine);
    let _ = writeln!(
        s,
        "tags: {}",
        list(c.tags.iter().map(String::as_str).collect())
    );
    let _ = writeln!(
        s,
        "datasets: {}",
        list(c.datasets.iter().map(|d| d.name.as_str()).collect())
    );
    let _ = writeln!(
        s,
        "metrics: {}",
        list(c.metrics.iter().map(|x| x.name.as_str()).collect())
    );
    let _ = writeln!(
        s,
        "---\n\n# {} {}\n\n{}\n",
        c.name, c.version, c.description
    );
    let _ = writeln!(s, "- task: `{}`", c.task);
    let _ = writeln!(
        s,
        "- architecture: `{}` on {} {}",
        m.runtime.architecture, m.runtime.engine, m.runtime.engine_version
    );
    let _ = writeln!(s, "- authors: {}\n", c.authors.join(", "));
    let _ = writeln!(
        s,
        "## Interface\n\n| | name | datatype | shape |\n|---|---|---|---|"
    );
    for (kind, ts) in [
        ("input", &m.interface.inputs),
        ("output", &m.interface.outputs),
    ] {
        for t in ts {
            let _ = writeln!(
                s,
                "| {kind} | `{}` | {} | {} |",
                t.name,
                t.datatype,
                shape_string(&t.shape)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n## Parameters\n\n| name | type | default | range | description |\n|---|---|---|---|---|"
    );
    for (_, name, p) in m.parameters.iter() {
        let range = match (&p.choices, p.min, p.max) {
            (Some(c), _, _) => c
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            (None, lo, hi) => format!(
                "{} .. {}",
                lo.map_or(String::new(), |x| x.to_string()),
                hi.map_or(String::new(), |x| x.to_string())
            ),
        };
        let _ = writeln!(
            s,
            "| `{name}` | {} | {} | {range} | {} |",
            p.kind, p.default, p.description
        );
    }
    let _ = writeln!(
        s,
        "\n## Training data\n\n| column | dtype | shape | role |\n|---|---|---|---|"
    );
    for col in &m.data.columns {
        let role = serde_json::to_value(col.role)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {role} |",
            col.name,
            col.dtype,
            shape_string(&col.shape)
        );
    }
    let _ = writeln!(
        s,
        "\n## Evaluation\n\n| metric | data set | split | value |\n|---|---|---|---|"
    );
    for x in &c.metrics {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            x.name,
            x.dataset.as_deref().unwrap_or("-"),
            x.split.as_deref().unwrap_or("-"),
            x.value
                .map_or("not measured".to_string(), |v| v.to_string())
        );
    }
    let _ = writeln!(
        s,
        "\n## Limitations\n\nDescribe what the model is not good at, and the data it has not seen."
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_is_valid_and_round_trips_through_toml() {
        for task in Task::ALL {
            let m = template(task);
            assert_eq!(crate::validate(&m), Ok(()), "{task}");
            let back = Manifest::from_toml_str(&template_toml(task)).unwrap();
            assert_eq!(back, m, "{task}");
            assert!(model_card(&m).contains(&m.model.name));
        }
    }
}
