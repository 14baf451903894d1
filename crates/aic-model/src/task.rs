//! The vocabularies the standard knows: tasks, built-in architectures, metrics, engines and
//! device kinds. A manifest naming anything else is refused by [`crate::validate`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A task the standard knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Task {
    /// Spoken keyword (digit) recognition from log-mel frames; FSDD.
    KeywordSpotting,
    /// Answer selection: score a (question, answer) pair of token-id sequences; WikiQA.
    TextMatching,
    /// Classification of a fixed-size numeric vector (a plain MLP).
    Classification,
}

/// Names of the tasks, as manifests write them.
pub const TASKS: [&str; 3] = ["keyword-spotting", "text-matching", "classification"];

impl Task {
    /// Every task.
    pub const ALL: [Task; 3] = [
        Task::KeywordSpotting,
        Task::TextMatching,
        Task::Classification,
    ];

    /// The name a manifest writes.
    pub fn name(self) -> &'static str {
        match self {
            Task::KeywordSpotting => TASKS[0],
            Task::TextMatching => TASKS[1],
            Task::Classification => TASKS[2],
        }
    }

    /// The built-in architecture that solves it.
    pub fn architecture(self) -> &'static str {
        match self {
            Task::KeywordSpotting => "kws-dscnn",
            Task::TextMatching => "text-match-cnn",
            Task::Classification => "mlp",
        }
    }

    /// Whether its outputs are class scores that need a label map.
    pub fn has_labels(self) -> bool {
        matches!(self, Task::KeywordSpotting | Task::Classification)
    }
}

impl fmt::Display for Task {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A task name the standard does not know.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown task {0:?} (known: keyword-spotting, text-matching, classification)")]
pub struct UnknownTaskError(pub String);

impl FromStr for Task {
    type Err = UnknownTaskError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Task::ALL
            .into_iter()
            .find(|t| t.name() == s)
            .ok_or_else(|| UnknownTaskError(s.to_string()))
    }
}

/// The built-in architectures (`aic-ml`'s model families) and the task each solves.
pub const ARCHITECTURES: [(&str, Task); 3] = [
    ("kws-dscnn", Task::KeywordSpotting),
    ("text-match-cnn", Task::TextMatching),
    ("mlp", Task::Classification),
];

/// Whether a larger value of a metric is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Goal {
    /// Larger is better.
    Maximize,
    /// Smaller is better.
    Minimize,
}

/// The standard metrics and their goals: `accuracy`, `macro_f1` (unweighted mean of per-class
/// F1), `map` and `mrr` (mean average precision and mean reciprocal rank over the answers of
/// each question), `loss` (mean training objective).
pub const METRICS: [(&str, Goal); 5] = [
    ("accuracy", Goal::Maximize),
    ("macro_f1", Goal::Maximize),
    ("map", Goal::Maximize),
    ("mrr", Goal::Maximize),
    ("loss", Goal::Minimize),
];

/// The goal of a standard metric.
pub fn metric_goal(name: &str) -> Option<Goal> {
    METRICS.iter().find(|(n, _)| *n == name).map(|(_, g)| *g)
}

/// Execution engines: `burn` runs a built-in architecture from safetensors weights; `onnx`
/// runs the graph of an ONNX weights file (`runtime.architecture = "onnx"`).
pub const ENGINES: [&str; 2] = ["burn", "onnx"];

/// The `runtime.architecture` of an `onnx` model: the graph is the weights file.
pub const ONNX_ARCHITECTURE: &str = "onnx";

/// Device kinds.
pub const DEVICES: [&str; 4] = ["cpu", "cuda", "rocm", "wgpu"];
