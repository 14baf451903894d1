//! The rules of the standard: one [`Rule`] variant per rule, and [`validate`], which reports
//! every rule a manifest breaks with the path of the offending field.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use crate::featurizer::Featurizer;
use crate::interface::{shape_string, Datatype, Dim, TensorSpec};
use crate::manifest::{ColumnRole, Determinism, Manifest, WeightsFormat, FORMAT};
use crate::task::{Task, ARCHITECTURES, DEVICES, ENGINES, ONNX_ARCHITECTURE};

/// A rule of the standard. Enumerating the variants enumerates the rules; the kebab-case name
/// (`label-count-mismatch`) is what `aic model check` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Rule {
    /// The text is not TOML, a field is unknown or missing, or a value has the wrong type.
    Parse,
    /// `format` is not `"aicmodel/1"`.
    UnsupportedFormat,
    /// A required text or list is empty.
    Empty,
    /// A name is not 1 to 64 of `a-z 0-9 _ - .`, starting with a letter or digit.
    BadName,
    /// A version is not a semantic version.
    BadVersion,
    /// `model.task` is not a known task.
    UnknownTask,
    /// A metric is not a standard metric.
    UnknownMetric,
    /// The same metric is reported twice for the same data set and split.
    DuplicateMetric,
    /// A metric value is NaN or infinite.
    MetricNotFinite,
    /// A metric names a data set `model.datasets` does not list.
    UnknownDataset,
    /// Two data sets have the same name.
    DuplicateDataset,
    /// A BLAKE3 hash is not 64 lower-case hex digits.
    MalformedHash,
    /// Two inputs or outputs have the same name.
    DuplicateTensorName,
    /// A dimension is 0, below -1, or a bad name (or, in a data column, not fixed).
    BadDim,
    /// An input or output has no first dimension, or it is fixed: the first is the batch.
    BatchDimNotVariable,
    /// An input has labels.
    LabelsOnInput,
    /// The number of labels differs from the output's last (class) dimension, or it varies.
    LabelCountMismatch,
    /// A label appears twice.
    DuplicateLabel,
    /// A classifying task has no output with labels.
    MissingLabels,
    /// A parameter name is in both the architecture and the training table.
    DuplicateParamName,
    /// A parameter's default, bound or choice is not of its type.
    ParamTypeMismatch,
    /// A float default or bound is NaN or infinite.
    ParamNotFinite,
    /// A bool or string parameter has `min` or `max`.
    ParamRangeNotNumeric,
    /// `min` is greater than `max`.
    ParamRangeInverted,
    /// `choices` is given and empty.
    ParamChoicesEmpty,
    /// A default or choice is outside `[min, max]`.
    ParamDefaultOutOfRange,
    /// The default is not one of the choices.
    ParamDefaultNotAChoice,
    /// `runtime.engine` is not a known engine.
    UnknownEngine,
    /// `runtime.architecture` is not a built-in architecture (`burn`), or not `onnx` (`onnx`).
    UnknownArchitecture,
    /// `weights.format` is not the engine's (`burn`: safetensors, `onnx`: onnx), or an ONNX
    /// model lists `weights.tensors`.
    EngineWeightsMismatch,
    /// An `onnx` model declares `bitwise-cpu-flex` (only burn's `flex` backend gives it).
    EngineDeterminismMismatch,
    /// The architecture solves another task.
    ArchitectureTaskMismatch,
    /// A device kind is unknown.
    UnknownDevice,
    /// A device kind is listed twice.
    DuplicateDevice,
    /// `bitwise-cpu-flex` is declared but `cpu` is not among the devices.
    DeterminismDeviceMismatch,
    /// `determinism = "tolerance"` without `runtime.tolerance`.
    MissingTolerance,
    /// A tolerance is negative or not finite.
    BadTolerance,
    /// `runtime.max_batch` is 0.
    ZeroMaxBatch,
    /// Two data columns have the same name.
    DuplicateColumnName,
    /// The input columns and the interface's inputs do not match one to one by name, datatype
    /// and shape.
    DataColumnMismatch,
    /// No data column has the role `target`.
    NoTargetColumn,
    /// The featurizer does not fit the task (keyword spotting needs log-mel, text matching a
    /// tokenizer).
    FeaturizerTaskMismatch,
    /// A featurizer parameter is out of its domain (window longer than the FFT, `f_max` above
    /// Nyquist, zero mels).
    FeaturizerParamInvalid,
    /// An input column's datatype or shape is not what the featurizer produces (log-mel: FP32
    /// `[frames, n_mels]`; tokenizer: INT64 or INT32 `[max_len]`).
    FeaturizerShapeMismatch,
    /// Two weight tensors have the same name.
    DuplicateWeightTensor,
    /// The package is packed with no `weights.blake3`.
    WeightsHashMissing,
    /// The weights file's BLAKE3 differs from `weights.blake3`.
    WeightsHashMismatch,
    /// The weights file's size differs from `weights.size`.
    WeightsSizeMismatch,
    /// The weights file is not valid safetensors.
    BadSafetensors,
    /// The tensors in the weights file differ from `weights.tensors`.
    WeightsTensorMismatch,
    /// The tokenizer names a vocabulary hash and the package has no `vocab.txt`.
    VocabMissing,
    /// `vocab.txt`'s BLAKE3 differs from the tokenizer's `vocab_blake3`.
    VocabHashMismatch,
    /// `vocab.txt` does not hold `vocab_size - 2` lines.
    VocabSizeMismatch,
}

/// Converts a `CamelCase` name to `kebab-case`.
pub(crate) fn kebab(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

impl Rule {
    /// Every rule, in declaration order.
    pub const ALL: [Rule; 53] = [
        Rule::Parse,
        Rule::UnsupportedFormat,
        Rule::Empty,
        Rule::BadName,
        Rule::BadVersion,
        Rule::UnknownTask,
        Rule::UnknownMetric,
        Rule::DuplicateMetric,
        Rule::MetricNotFinite,
        Rule::UnknownDataset,
        Rule::DuplicateDataset,
        Rule::MalformedHash,
        Rule::DuplicateTensorName,
        Rule::BadDim,
        Rule::BatchDimNotVariable,
        Rule::LabelsOnInput,
        Rule::LabelCountMismatch,
        Rule::DuplicateLabel,
        Rule::MissingLabels,
        Rule::DuplicateParamName,
        Rule::ParamTypeMismatch,
        Rule::ParamNotFinite,
        Rule::ParamRangeNotNumeric,
        Rule::ParamRangeInverted,
        Rule::ParamChoicesEmpty,
        Rule::ParamDefaultOutOfRange,
        Rule::ParamDefaultNotAChoice,
        Rule::UnknownEngine,
        Rule::UnknownArchitecture,
        Rule::EngineWeightsMismatch,
        Rule::EngineDeterminismMismatch,
        Rule::ArchitectureTaskMismatch,
        Rule::UnknownDevice,
        Rule::DuplicateDevice,
        Rule::DeterminismDeviceMismatch,
        Rule::MissingTolerance,
        Rule::BadTolerance,
        Rule::ZeroMaxBatch,
        Rule::DuplicateColumnName,
        Rule::DataColumnMismatch,
        Rule::NoTargetColumn,
        Rule::FeaturizerTaskMismatch,
        Rule::FeaturizerParamInvalid,
        Rule::FeaturizerShapeMismatch,
        Rule::DuplicateWeightTensor,
        Rule::WeightsHashMissing,
        Rule::WeightsHashMismatch,
        Rule::WeightsSizeMismatch,
        Rule::BadSafetensors,
        Rule::WeightsTensorMismatch,
        Rule::VocabMissing,
        Rule::VocabHashMismatch,
        Rule::VocabSizeMismatch,
    ];

    /// The kebab-case name (`label-count-mismatch`).
    pub fn code(self) -> String {
        kebab(&format!("{self:?}"))
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// A broken rule: where, which, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{path}: {rule}: {message}")]
pub struct ManifestError {
    /// Path of the offending field (`interface.inputs[0].shape[1]`); empty for the whole file.
    pub path: String,
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, with the offending value (lower case).
    pub message: String,
}

pub(crate) const NAME_RULE: &str =
    "names are 1 to 64 of a-z, 0-9, `_`, `-`, `.`, starting with a letter or digit";

/// Whether `s` is a valid name ([`Rule::BadName`]).
pub(crate) fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"_-.".contains(c))
}

/// Whether `s` is a BLAKE3 hash as manifests write it: 64 lower-case hex digits.
pub fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
}

/// Collects errors.
struct Report(Vec<ManifestError>);

impl Report {
    fn push(&mut self, path: impl Into<String>, rule: Rule, message: impl Into<String>) {
        self.0.push(ManifestError {
            path: path.into(),
            rule,
            message: message.into(),
        });
    }

    fn name(&mut self, path: &str, name: &str) {
        if name.is_empty() {
            self.push(path, Rule::Empty, "a name is required");
        } else if !is_name(name) {
            self.push(path, Rule::BadName, format!("{name:?}: {NAME_RULE}"));
        }
    }

    fn text(&mut self, path: &str, text: &str) {
        if text.trim().is_empty() {
            self.push(path, Rule::Empty, "this text is required");
        }
    }

    fn hash(&mut self, path: &str, h: &str) {
        if !h.is_empty() && !is_hash(h) {
            self.push(
                path,
                Rule::MalformedHash,
                format!("{h:?} is not 64 lower-case hex digits"),
            );
        }
    }

    fn version(&mut self, path: &str, v: &str) {
        if let Err(e) = semver::Version::parse(v) {
            self.push(
                path,
                Rule::BadVersion,
                format!("{v:?} is not a semantic version: {e}"),
            );
        }
    }
}

/// Checks every rule a manifest alone can break, and returns every error found (in manifest
/// order). Rules about the files of a package (the weights' hash, the vocabulary) are checked
/// by [`crate::check_files`] and [`crate::pack`].
pub fn validate(m: &Manifest) -> Result<(), Vec<ManifestError>> {
    let mut r = Report(Vec::new());
    if m.format != FORMAT {
        r.push(
            "format",
            Rule::UnsupportedFormat,
            format!("{:?} is not {FORMAT:?}", m.format),
        );
    }
    let task = card(&mut r, m);
    interface(&mut r, m, task);
    let mut errors = r.0;
    crate::params::check_specs(&m.parameters, &mut errors);
    let mut r = Report(errors);
    runtime(&mut r, m, task);
    data(&mut r, m, task);
    weights(&mut r, m);
    if r.0.is_empty() {
        Ok(())
    } else {
        Err(r.0)
    }
}

fn card(r: &mut Report, m: &Manifest) -> Option<Task> {
    let c = &m.model;
    r.name("model.name", &c.name);
    r.version("model.version", &c.version);
    let task = c.task.parse::<Task>().ok();
    if task.is_none() {
        r.push(
            "model.task",
            Rule::UnknownTask,
            format!("{:?} is not one of {}", c.task, crate::TASKS.join(", ")),
        );
    }
    r.text("model.description", &c.description);
    r.text("model.license", &c.license);
    if c.authors.is_empty() {
        r.push(
            "model.authors",
            Rule::Empty,
            "at least one author is required",
        );
    }
    for (i, a) in c.authors.iter().enumerate() {
        r.text(&format!("model.authors[{i}]"), a);
    }
    let mut names = BTreeSet::new();
    for (i, d) in c.datasets.iter().enumerate() {
        let at = format!("model.datasets[{i}]");
        r.name(&format!("{at}.name"), &d.name);
        if !names.insert(d.name.as_str()) {
            r.push(
                format!("{at}.name"),
                Rule::DuplicateDataset,
                format!("data set {:?} is listed twice", d.name),
            );
        }
        r.hash(&format!("{at}.id"), &d.id);
    }
    let mut seen = BTreeSet::new();
    for (i, x) in c.metrics.iter().enumerate() {
        let at = format!("model.metrics[{i}]");
        if crate::metric_goal(&x.name).is_none() {
            let known: Vec<&str> = crate::METRICS.iter().map(|(n, _)| *n).collect();
            r.push(
                format!("{at}.name"),
                Rule::UnknownMetric,
                format!("{:?} is not one of {}", x.name, known.join(", ")),
            );
        }
        if !seen.insert((&x.name, &x.dataset, &x.split)) {
            r.push(
                format!("{at}.name"),
                Rule::DuplicateMetric,
                format!(
                    "{:?} is reported twice for the same data set and split",
                    x.name
                ),
            );
        }
        if let Some(d) = &x.dataset {
            if !names.contains(d.as_str()) {
                r.push(
                    format!("{at}.dataset"),
                    Rule::UnknownDataset,
                    format!("{d:?} is not in model.datasets"),
                );
            }
        }
        if let Some(v) = x.value {
            if !v.is_finite() {
                r.push(
                    format!("{at}.value"),
                    Rule::MetricNotFinite,
                    format!("{v} is not finite"),
                );
            }
        }
    }
    task
}

fn tensor(r: &mut Report, at: &str, t: &TensorSpec, names: &mut BTreeSet<String>) {
    r.name(&format!("{at}.name"), &t.name);
    if !names.insert(t.name.clone()) {
        r.push(
            format!("{at}.name"),
            Rule::DuplicateTensorName,
            format!("{:?} names another input or output", t.name),
        );
    }
    match t.shape.first() {
        Some(d) if d.is_variable() => {}
        _ => r.push(
            format!("{at}.shape"),
            Rule::BatchDimNotVariable,
            format!(
                "the first dimension is the batch and must be -1 or named, not {}",
                shape_string(&t.shape)
            ),
        ),
    }
    for (j, d) in t.shape.iter().enumerate() {
        let bad = match d {
            Dim::Fixed(n) => *n == 0 || *n < -1,
            Dim::Named(s) => !is_name(s),
        };
        if bad {
            r.push(
                format!("{at}.shape[{j}]"),
                Rule::BadDim,
                format!("`{d}` is not -1, a size of at least 1, or a name"),
            );
        }
    }
}

fn interface(r: &mut Report, m: &Manifest, task: Option<Task>) {
    let i = &m.interface;
    let mut names = BTreeSet::new();
    if i.inputs.is_empty() {
        r.push(
            "interface.inputs",
            Rule::Empty,
            "at least one input is required",
        );
    }
    if i.outputs.is_empty() {
        r.push(
            "interface.outputs",
            Rule::Empty,
            "at least one output is required",
        );
    }
    for (k, t) in i.inputs.iter().enumerate() {
        let at = format!("interface.inputs[{k}]");
        tensor(r, &at, t, &mut names);
        if !t.labels.is_empty() {
            r.push(
                format!("{at}.labels"),
                Rule::LabelsOnInput,
                "only outputs have labels",
            );
        }
    }
    for (k, t) in i.outputs.iter().enumerate() {
        let at = format!("interface.outputs[{k}]");
        tensor(r, &at, t, &mut names);
        if t.labels.is_empty() {
            continue;
        }
        let classes = if t.shape.len() >= 2 {
            t.shape.last().and_then(Dim::fixed)
        } else {
            None
        };
        if classes != Some(t.labels.len() as u64) {
            r.push(
                format!("{at}.labels"),
                Rule::LabelCountMismatch,
                format!(
                    "{} labels, but the class dimension of {} is {}",
                    t.labels.len(),
                    shape_string(&t.shape),
                    classes.map_or("not fixed".to_string(), |c| c.to_string())
                ),
            );
        }
        let mut seen = BTreeSet::new();
        for (j, l) in t.labels.iter().enumerate() {
            r.text(&format!("{at}.labels[{j}]"), l);
            if !seen.insert(l) {
                r.push(
                    format!("{at}.labels[{j}]"),
                    Rule::DuplicateLabel,
                    format!("label {l:?} appears twice"),
                );
            }
        }
    }
    if task.is_some_and(Task::has_labels)
        && !i.outputs.is_empty()
        && i.outputs.iter().all(|t| t.labels.is_empty())
    {
        r.push(
            "interface.outputs[0].labels",
            Rule::MissingLabels,
            format!("a {} model labels its class output", m.model.task),
        );
    }
}

fn runtime(r: &mut Report, m: &Manifest, task: Option<Task>) {
    let rt = &m.runtime;
    if !ENGINES.contains(&rt.engine.as_str()) {
        r.push(
            "runtime.engine",
            Rule::UnknownEngine,
            format!("{:?} is not one of {}", rt.engine, ENGINES.join(", ")),
        );
    }
    r.version("runtime.engine_version", &rt.engine_version);
    if rt.engine == "onnx" {
        onnx_runtime(r, m);
    } else {
        builtin_architecture(r, m, task);
    }
    if rt.devices.is_empty() {
        r.push(
            "runtime.devices",
            Rule::Empty,
            "at least one device kind is required",
        );
    }
    let mut seen = BTreeSet::new();
    for (i, d) in rt.devices.iter().enumerate() {
        if !DEVICES.contains(&d.as_str()) {
            r.push(
                format!("runtime.devices[{i}]"),
                Rule::UnknownDevice,
                format!("{d:?} is not one of {}", DEVICES.join(", ")),
            );
        }
        if !seen.insert(d) {
            r.push(
                format!("runtime.devices[{i}]"),
                Rule::DuplicateDevice,
                format!("{d:?} is listed twice"),
            );
        }
    }
    if rt.determinism == Determinism::BitwiseCpuFlex && !rt.devices.iter().any(|d| d == "cpu") {
        r.push(
            "runtime.determinism",
            Rule::DeterminismDeviceMismatch,
            "bitwise-cpu-flex needs `cpu` among the devices",
        );
    }
    match &rt.tolerance {
        None if rt.determinism == Determinism::Tolerance => r.push(
            "runtime.tolerance",
            Rule::MissingTolerance,
            "determinism `tolerance` needs runtime.tolerance = { rel, abs }",
        ),
        None => {}
        Some(t) => {
            for (k, v) in [("rel", t.rel), ("abs", t.abs)] {
                if !(v.is_finite() && v >= 0.0) {
                    r.push(
                        format!("runtime.tolerance.{k}"),
                        Rule::BadTolerance,
                        format!("{v} is not a finite number at least 0"),
                    );
                }
            }
        }
    }
    if rt.max_batch == 0 {
        r.push(
            "runtime.max_batch",
            Rule::ZeroMaxBatch,
            "the largest batch is at least 1",
        );
    }
}

fn data(r: &mut Report, m: &Manifest, task: Option<Task>) {
    let d = &m.data;
    let inputs = &m.interface.inputs;
    if d.columns.is_empty() {
        r.push(
            "data.columns",
            Rule::Empty,
            "at least one column is required",
        );
    }
    let mut names = BTreeSet::new();
    for (i, c) in d.columns.iter().enumerate() {
        let at = format!("data.columns[{i}]");
        r.name(&format!("{at}.name"), &c.name);
        if !names.insert(c.name.as_str()) {
            r.push(
                format!("{at}.name"),
                Rule::DuplicateColumnName,
                format!("{:?} names another column", c.name),
            );
        }
        for (j, dim) in c.shape.iter().enumerate() {
            if dim.fixed().is_none() {
                r.push(
                    format!("{at}.shape[{j}]"),
                    Rule::BadDim,
                    format!("{dim} is not a fixed size of at least 1 (columns have fixed shapes)"),
                );
            }
        }
        if c.role != ColumnRole::Input {
            continue;
        }
        let Some(input) = inputs.iter().find(|t| t.name == c.name) else {
            r.push(
                format!("{at}.name"),
                Rule::DataColumnMismatch,
                format!("input column {:?} feeds no interface input", c.name),
            );
            continue;
        };
        if c.dtype != input.datatype {
            r.push(
                format!("{at}.dtype"),
                Rule::DataColumnMismatch,
                format!(
                    "{} but input {:?} is {}",
                    c.dtype, input.name, input.datatype
                ),
            );
        }
        let fits = input.shape.len() == c.shape.len() + 1
            && input.shape[1..]
                .iter()
                .zip(&c.shape)
                .all(|(a, b)| a.is_variable() || a == b);
        if !fits {
            r.push(
                format!("{at}.shape"),
                Rule::DataColumnMismatch,
                format!(
                    "{} does not fit input {:?} {} (the input's shape less its batch dimension)",
                    shape_string(&c.shape),
                    input.name,
                    shape_string(&input.shape)
                ),
            );
        }
    }
    for (k, t) in inputs.iter().enumerate() {
        if !d
            .columns
            .iter()
            .any(|c| c.role == ColumnRole::Input && c.name == t.name)
        {
            r.push(
                format!("interface.inputs[{k}].name"),
                Rule::DataColumnMismatch,
                format!("no input column feeds input {:?}", t.name),
            );
        }
    }
    if !d.columns.iter().any(|c| c.role == ColumnRole::Target) {
        r.push(
            "data.columns",
            Rule::NoTargetColumn,
            "a column with role \"target\" holds what the model learns",
        );
    }
    featurizer(r, m, task);
}

fn featurizer(r: &mut Report, m: &Manifest, task: Option<Task>) {
    let f = &m.data.featurizer;
    let fits_task = match (task, f) {
        (Some(Task::KeywordSpotting), Featurizer::LogMel(_)) => true,
        (Some(Task::KeywordSpotting), _) => false,
        (Some(Task::TextMatching), Featurizer::Tokenizer(_)) => true,
        (Some(Task::TextMatching), _) => false,
        _ => true,
    };
    if !fits_task {
        r.push(
            "data.featurizer.kind",
            Rule::FeaturizerTaskMismatch,
            format!(
                "{} needs the {} featurizer",
                m.model.task,
                if task == Some(Task::KeywordSpotting) {
                    "log-mel"
                } else {
                    "tokenizer"
                }
            ),
        );
    }
    let mut bad = |field: &str, message: String| {
        r.push(
            format!("data.featurizer.{field}"),
            Rule::FeaturizerParamInvalid,
            message,
        )
    };
    let expected: Option<(Vec<Datatype>, Vec<u64>)> = match f {
        Featurizer::Identity => None,
        Featurizer::LogMel(p) => {
            if p.sample_rate == 0 {
                bad("sample_rate", "the sample rate is at least 1 Hz".into());
            }
            if p.n_fft == 0 {
                bad("n_fft", "the FFT size is at least 1".into());
            }
            if p.win_length == 0 || p.win_length > p.n_fft {
                bad(
                    "win_length",
                    format!("window {} is not in 1..=n_fft ({})", p.win_length, p.n_fft),
                );
            }
            if p.hop_length == 0 {
                bad("hop_length", "the hop is at least 1 sample".into());
            }
            if p.n_mels == 0 {
                bad("n_mels", "at least one mel band".into());
            }
            if !(p.f_min.is_finite() && p.f_min >= 0.0) {
                bad(
                    "f_min",
                    format!("{} is not a frequency of at least 0", p.f_min),
                );
            }
            let nyquist = p.sample_rate as f32 / 2.0;
            if !(p.f_max.is_finite() && p.f_max > p.f_min && p.f_max <= nyquist) {
                bad(
                    "f_max",
                    format!("{} is not above f_min and at most {nyquist} Hz", p.f_max),
                );
            }
            if !(p.log_floor.is_finite() && p.log_floor > 0.0) {
                bad("log_floor", format!("{} is not above 0", p.log_floor));
            }
            if p.hop_length > 0 && p.frames() == 0 {
                bad(
                    "clip_samples",
                    format!("{} samples give no frame", p.clip_samples),
                );
            }
            Some((
                vec![Datatype::Fp32],
                vec![u64::from(p.frames()), u64::from(p.n_mels)],
            ))
        }
        Featurizer::Tokenizer(p) => {
            if p.vocab_size < 3 {
                bad(
                    "vocab_size",
                    format!(
                        "{} leaves no room beside the padding and unknown ids",
                        p.vocab_size
                    ),
                );
            }
            if p.max_len == 0 {
                bad("max_len", "sequences hold at least one token".into());
            }
            r.hash("data.featurizer.vocab_blake3", &p.vocab_blake3);
            Some((
                vec![Datatype::Int64, Datatype::Int32],
                vec![u64::from(p.max_len)],
            ))
        }
    };
    let Some((dtypes, shape)) = expected else {
        return;
    };
    for (i, c) in m.data.columns.iter().enumerate() {
        if c.role != ColumnRole::Input {
            continue;
        }
        let dims: Vec<Option<u64>> = c.shape.iter().map(Dim::fixed).collect();
        let want: Vec<Option<u64>> = shape.iter().copied().map(Some).collect();
        if !dtypes.contains(&c.dtype) || dims != want {
            let names: Vec<&str> = dtypes.iter().map(|d| d.name()).collect();
            r.push(
                format!("data.columns[{i}]"),
                Rule::FeaturizerShapeMismatch,
                format!(
                    "the featurizer makes {} {:?}, not {} {}",
                    names.join(" or "),
                    shape,
                    c.dtype,
                    shape_string(&c.shape)
                ),
            );
        }
    }
}

fn builtin_architecture(r: &mut Report, m: &Manifest, task: Option<Task>) {
    let rt = &m.runtime;
    match ARCHITECTURES.iter().find(|(a, _)| *a == rt.architecture) {
        None => {
            let known: Vec<&str> = ARCHITECTURES.iter().map(|(a, _)| *a).collect();
            r.push(
                "runtime.architecture",
                Rule::UnknownArchitecture,
                format!("{:?} is not one of {}", rt.architecture, known.join(", ")),
            );
        }
        Some((a, t)) => {
            if task.is_some_and(|task| task != *t) {
                r.push(
                    "runtime.architecture",
                    Rule::ArchitectureTaskMismatch,
                    format!("{a} solves {t}, not {}", m.model.task),
                );
            }
        }
    }
    if m.weights.format != WeightsFormat::Safetensors {
        r.push(
            "weights.format",
            Rule::EngineWeightsMismatch,
            "the burn engine reads safetensors weights",
        );
    }
}

/// An ONNX model: the graph is the weights file, so the architecture is `onnx`, the weights
/// are ONNX and list no tensors, and results agree only within a tolerance.
fn onnx_runtime(r: &mut Report, m: &Manifest) {
    let rt = &m.runtime;
    if rt.architecture != ONNX_ARCHITECTURE {
        r.push(
            "runtime.architecture",
            Rule::UnknownArchitecture,
            format!(
                "{:?}: an onnx model's architecture is {ONNX_ARCHITECTURE:?} (the graph is the weights file)",
                rt.architecture
            ),
        );
    }
    if m.weights.format != WeightsFormat::Onnx {
        r.push(
            "weights.format",
            Rule::EngineWeightsMismatch,
            "the onnx engine reads onnx weights (weights.onnx)",
        );
    }
    if !m.weights.tensors.is_empty() {
        r.push(
            "weights.tensors",
            Rule::EngineWeightsMismatch,
            "an onnx model lists no tensors (the graph holds them)",
        );
    }
    if rt.determinism == Determinism::BitwiseCpuFlex {
        r.push(
            "runtime.determinism",
            Rule::EngineDeterminismMismatch,
            "only burn's flex backend is bitwise-cpu-flex; an onnx model declares tolerance",
        );
    }
}

fn weights(r: &mut Report, m: &Manifest) {
    let w = &m.weights;
    r.hash("weights.blake3", &w.blake3);
    let mut seen = BTreeSet::new();
    for (i, t) in w.tensors.iter().enumerate() {
        r.text(&format!("weights.tensors[{i}].name"), &t.name);
        if !seen.insert(&t.name) {
            r.push(
                format!("weights.tensors[{i}].name"),
                Rule::DuplicateWeightTensor,
                format!("tensor {:?} is listed twice", t.name),
            );
        }
    }
}
