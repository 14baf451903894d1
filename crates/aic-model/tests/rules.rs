//! Every rule of the standard, broken once: each case changes a valid template in one way and
//! expects exactly the rules listed (usually one) to be reported, at the path given.

use std::collections::BTreeSet;

use aic_model::safetensors::write_tensors;
use aic_model::{
    check_files, fill_weights, template, validate, ColumnRole, Determinism, Dim, Featurizer,
    Manifest, PackageFiles, ParamValue, Rule, Task, TensorDtype, WeightTensor,
};

fn kws() -> Manifest {
    template(Task::KeywordSpotting)
}

struct Case {
    rule: Rule,
    path: &'static str,
    also: &'static [Rule],
    manifest: Manifest,
}

fn case(rule: Rule, path: &'static str, change: impl FnOnce(&mut Manifest)) -> Case {
    case_also(rule, path, &[], change)
}

fn case_also(
    rule: Rule,
    path: &'static str,
    also: &'static [Rule],
    change: impl FnOnce(&mut Manifest),
) -> Case {
    let mut manifest = kws();
    change(&mut manifest);
    Case {
        rule,
        path,
        also,
        manifest,
    }
}

fn manifest_cases() -> Vec<Case> {
    use Rule::*;
    vec![
        case(UnsupportedFormat, "format", |m| {
            m.format = "aicmodel/2".into()
        }),
        case(Empty, "model.description", |m| {
            m.model.description = " ".into()
        }),
        case(BadName, "model.name", |m| m.model.name = "Bad Name".into()),
        case(BadVersion, "model.version", |m| {
            m.model.version = "1.0".into()
        }),
        case(UnknownTask, "model.task", |m| {
            m.model.task = "translation".into()
        }),
        case(UnknownMetric, "model.metrics[0].name", |m| {
            m.model.metrics[0].name = "bleu".into()
        }),
        case(DuplicateMetric, "model.metrics[2].name", |m| {
            let first = m.model.metrics[0].clone();
            m.model.metrics.push(first)
        }),
        case(MetricNotFinite, "model.metrics[0].value", |m| {
            m.model.metrics[0].value = Some(f64::NAN)
        }),
        case(UnknownDataset, "model.metrics[0].dataset", |m| {
            m.model.metrics[0].dataset = Some("librispeech".into())
        }),
        case(DuplicateDataset, "model.datasets[1].name", |m| {
            let first = m.model.datasets[0].clone();
            m.model.datasets.push(first)
        }),
        case(MalformedHash, "weights.blake3", |m| {
            m.weights.blake3 = "ABC".into()
        }),
        case(DuplicateTensorName, "interface.outputs[0].name", |m| {
            m.interface.outputs[0].name = "mel".into()
        }),
        case(BadDim, "interface.inputs[0].shape[1]", |m| {
            m.interface.inputs[0].shape[1] = Dim::Named("Frames!".into())
        }),
        case(BadDim, "data.columns[1].shape[0]", |m| {
            m.data.columns[1].shape = vec![Dim::Fixed(-1)]
        }),
        case(BadDim, "interface.outputs[0].shape[0]", |m| {
            m.interface.outputs[0].shape[0] = Dim::Named("a b".into())
        }),
        case(BatchDimNotVariable, "interface.outputs[0].shape", |m| {
            m.interface.outputs[0].shape[0] = Dim::Fixed(1)
        }),
        case(LabelsOnInput, "interface.inputs[0].labels", |m| {
            m.interface.inputs[0].labels = vec!["x".into()]
        }),
        case(LabelCountMismatch, "interface.outputs[0].labels", |m| {
            m.interface.outputs[0].labels.pop();
        }),
        case(DuplicateLabel, "interface.outputs[0].labels[1]", |m| {
            m.interface.outputs[0].labels[1] = "0".into()
        }),
        case(MissingLabels, "interface.outputs[0].labels", |m| {
            m.interface.outputs[0].labels.clear()
        }),
        case(DuplicateParamName, "parameters.training.channels", |m| {
            let spec = m.parameters.architecture["channels"].clone();
            m.parameters.training.insert("channels".into(), spec);
        }),
        case(
            ParamTypeMismatch,
            "parameters.training.learning_rate.default",
            |m| {
                m.parameters
                    .training
                    .get_mut("learning_rate")
                    .unwrap()
                    .default = ParamValue::String("fast".into())
            },
        ),
        case(
            ParamNotFinite,
            "parameters.training.learning_rate.max",
            |m| m.parameters.training.get_mut("learning_rate").unwrap().max = Some(f64::INFINITY),
        ),
        case(
            ParamRangeNotNumeric,
            "parameters.training.lr_schedule.min",
            |m| m.parameters.training.get_mut("lr_schedule").unwrap().min = Some(0.0),
        ),
        case_also(
            ParamRangeInverted,
            "parameters.training.learning_rate.min",
            // No default lies in an inverted range.
            &[ParamDefaultOutOfRange],
            |m| {
                let p = m.parameters.training.get_mut("learning_rate").unwrap();
                (p.min, p.max) = (Some(1.0), Some(1e-6));
            },
        ),
        case(
            ParamChoicesEmpty,
            "parameters.training.lr_schedule.choices",
            |m| {
                m.parameters
                    .training
                    .get_mut("lr_schedule")
                    .unwrap()
                    .choices = Some(Vec::new())
            },
        ),
        case(
            ParamDefaultOutOfRange,
            "parameters.training.epochs.default",
            |m| m.parameters.training.get_mut("epochs").unwrap().default = ParamValue::Int(0),
        ),
        case(
            ParamDefaultNotAChoice,
            "parameters.training.lr_schedule.default",
            |m| {
                m.parameters
                    .training
                    .get_mut("lr_schedule")
                    .unwrap()
                    .default = ParamValue::String("rmsprop".into())
            },
        ),
        case(UnknownEngine, "runtime.engine", |m| {
            m.runtime.engine = "onnxruntime".into()
        }),
        case(UnknownArchitecture, "runtime.architecture", |m| {
            m.runtime.architecture = "resnet50".into()
        }),
        case(EngineWeightsMismatch, "weights.format", |m| {
            m.weights.format = aic_model::WeightsFormat::Onnx
        }),
        case(EngineDeterminismMismatch, "runtime.determinism", |m| {
            m.runtime.engine = "onnx".into();
            m.runtime.architecture = "onnx".into();
            m.weights.format = aic_model::WeightsFormat::Onnx;
            m.runtime.determinism = Determinism::BitwiseCpuFlex;
        }),
        case(ArchitectureTaskMismatch, "runtime.architecture", |m| {
            m.runtime.architecture = "mlp".into()
        }),
        case(UnknownDevice, "runtime.devices[3]", |m| {
            m.runtime.devices.push("tpu".into())
        }),
        case(DuplicateDevice, "runtime.devices[3]", |m| {
            m.runtime.devices.push("cpu".into())
        }),
        case(DeterminismDeviceMismatch, "runtime.determinism", |m| {
            m.runtime.devices = vec!["cuda".into()]
        }),
        case(MissingTolerance, "runtime.tolerance", |m| {
            m.runtime.determinism = Determinism::Tolerance;
            m.runtime.tolerance = None;
        }),
        case(BadTolerance, "runtime.tolerance.rel", |m| {
            m.runtime.tolerance.as_mut().unwrap().rel = -1.0
        }),
        case(ZeroMaxBatch, "runtime.max_batch", |m| {
            m.runtime.max_batch = 0
        }),
        case(DuplicateColumnName, "data.columns[2].name", |m| {
            let label = m.data.columns[1].clone();
            m.data.columns.push(label)
        }),
        case(DataColumnMismatch, "data.columns[0].name", |m| {
            m.data.columns[0].name = "mel2".into()
        }),
        case(NoTargetColumn, "data.columns", |m| {
            m.data.columns[1].role = ColumnRole::Group
        }),
        case(FeaturizerTaskMismatch, "data.featurizer.kind", |m| {
            m.data.featurizer = Featurizer::Identity
        }),
        case(FeaturizerParamInvalid, "data.featurizer.win_length", |m| {
            let Featurizer::LogMel(p) = &mut m.data.featurizer else {
                unreachable!()
            };
            p.win_length = 512;
        }),
        case(FeaturizerShapeMismatch, "data.columns[0]", |m| {
            let Featurizer::LogMel(p) = &mut m.data.featurizer else {
                unreachable!()
            };
            p.n_mels = 64;
        }),
        case(DuplicateWeightTensor, "weights.tensors[1].name", |m| {
            let t = WeightTensor {
                name: "w".into(),
                dtype: TensorDtype::F32,
                shape: vec![1],
            };
            m.weights.tensors = vec![t.clone(), t];
        }),
    ]
}

fn rules_of(errors: &[aic_model::ManifestError]) -> BTreeSet<Rule> {
    errors.iter().map(|e| e.rule).collect()
}

fn check_case(c: &Case, errors: Vec<aic_model::ManifestError>) {
    let mut want: BTreeSet<Rule> = c.also.iter().copied().collect();
    want.insert(c.rule);
    let got = rules_of(&errors);
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(got, want, "breaking {:?}: {shown:#?}", c.rule);
    assert!(
        errors.iter().any(|e| e.rule == c.rule && e.path == c.path),
        "{:?} not reported at {}: {shown:#?}",
        c.rule,
        c.path
    );
    let printed = errors
        .iter()
        .find(|e| e.rule == c.rule)
        .unwrap()
        .to_string();
    assert!(
        printed.starts_with(&format!("{}: {}: ", c.path, c.rule.code())),
        "{printed}"
    );
}

#[test]
fn each_manifest_rule_broken_once_is_reported_alone_at_its_path() {
    for c in manifest_cases() {
        let errors = validate(&c.manifest).expect_err(&format!("{:?} not caught", c.rule));
        check_case(&c, errors);
    }
}

#[test]
fn parse_errors_name_the_field() {
    let text = kws().to_toml_string().replace("\"FP32\"", "\"FP33\"");
    let e = Manifest::from_toml_str(&text).unwrap_err();
    assert_eq!(
        (e.rule, e.path.as_str()),
        (Rule::Parse, "interface.inputs[0].datatype")
    );
    let text = kws()
        .to_toml_string()
        .replace("max_batch", "max_batch_size");
    let e = Manifest::from_toml_str(&text).unwrap_err();
    assert_eq!(
        (e.rule, e.path.as_str()),
        (Rule::Parse, "runtime.max_batch_size")
    );
    let e = Manifest::from_toml_str("format = ").unwrap_err();
    assert_eq!(e.rule, Rule::Parse);
}

fn weights() -> Vec<u8> {
    let t = WeightTensor {
        name: "classifier.weight".into(),
        dtype: TensorDtype::F32,
        shape: vec![2, 2],
    };
    write_tensors(&[(t, &[7u8; 16])]).unwrap()
}

/// The files of a valid package built from `m`.
fn files(m: &Manifest) -> PackageFiles {
    let weights = weights();
    let text = fill_weights(&m.to_toml_string(), &weights).unwrap();
    PackageFiles {
        manifest: text.into_bytes(),
        card: None,
        vocab: None,
        weights,
    }
}

fn parse(f: &PackageFiles) -> Manifest {
    Manifest::from_toml_str(std::str::from_utf8(&f.manifest).unwrap()).unwrap()
}

fn file_cases() -> Vec<(Rule, &'static str, Manifest, PackageFiles)> {
    use Rule::*;
    let mut out = Vec::new();
    let good = files(&kws());
    let m = parse(&good);
    assert_eq!(check_files(&m, &good), Ok(()));

    let mut unhashed = m.clone();
    unhashed.weights.blake3.clear();
    out.push((WeightsHashMissing, "weights.blake3", unhashed, good.clone()));

    let mut flipped = good.clone();
    *flipped.weights.last_mut().unwrap() ^= 1;
    out.push((WeightsHashMismatch, "weights.blake3", m.clone(), flipped));

    let mut longer = m.clone();
    longer.weights.size += 1;
    out.push((WeightsSizeMismatch, "weights.size", longer, good.clone()));

    let junk = b"not safetensors".to_vec();
    let mut junk_m = m.clone();
    junk_m.weights.blake3 = blake3::hash(&junk).to_hex().to_string();
    junk_m.weights.size = junk.len() as u64;
    let junk_files = PackageFiles {
        weights: junk,
        ..good.clone()
    };
    out.push((BadSafetensors, "weights", junk_m, junk_files));

    let mut reshaped = m.clone();
    reshaped.weights.tensors[0].shape = vec![4];
    out.push((
        WeightsTensorMismatch,
        "weights.tensors",
        reshaped,
        good.clone(),
    ));

    let vocab = b"what\nis\nthe\n".to_vec();
    let text = files(&template(Task::TextMatching));
    let mut tm = parse(&text);
    let Featurizer::Tokenizer(p) = &mut tm.data.featurizer else {
        unreachable!()
    };
    p.vocab_blake3 = blake3::hash(&vocab).to_hex().to_string();
    p.vocab_size = 5;
    let with_vocab = PackageFiles {
        vocab: Some(vocab.clone()),
        ..text.clone()
    };
    assert_eq!(check_files(&tm, &with_vocab), Ok(()));
    out.push((
        VocabMissing,
        "data.featurizer.vocab_blake3",
        tm.clone(),
        text.clone(),
    ));
    let other = PackageFiles {
        vocab: Some(b"who\nwhen\nwhy\n".to_vec()),
        ..text.clone()
    };
    out.push((
        VocabHashMismatch,
        "data.featurizer.vocab_blake3",
        tm.clone(),
        other,
    ));
    let mut bigger = tm.clone();
    let Featurizer::Tokenizer(p) = &mut bigger.data.featurizer else {
        unreachable!()
    };
    p.vocab_size = 6;
    out.push((
        VocabSizeMismatch,
        "data.featurizer.vocab_size",
        bigger,
        with_vocab,
    ));
    out
}

#[test]
fn each_file_rule_broken_once_is_reported_alone_at_its_path() {
    for (rule, path, m, f) in file_cases() {
        assert_eq!(
            validate(&m),
            Ok(()),
            "{rule:?}: the manifest alone is valid"
        );
        let errors = check_files(&m, &f).expect_err(&format!("{rule:?} not caught"));
        check_case(
            &Case {
                rule,
                path,
                also: &[],
                manifest: m,
            },
            errors,
        );
    }
}

#[test]
fn every_rule_has_a_case() {
    let mut covered: BTreeSet<Rule> = manifest_cases().iter().map(|c| c.rule).collect();
    covered.extend(file_cases().iter().map(|c| c.0));
    covered.insert(Rule::Parse);
    let all: BTreeSet<Rule> = Rule::ALL.into_iter().collect();
    let missing: Vec<&Rule> = all.difference(&covered).collect();
    assert!(missing.is_empty(), "rules without a test: {missing:?}");
}

/// An ONNX model: valid with tolerance, its weights file is `weights.onnx` and lists no tensors,
/// and a built-in architecture name is refused.
#[test]
fn onnx_models() {
    let mut m = template(Task::Classification);
    m.runtime.engine = "onnx".into();
    m.runtime.architecture = "onnx".into();
    m.runtime.determinism = Determinism::Tolerance;
    m.weights.format = aic_model::WeightsFormat::Onnx;
    assert_eq!(validate(&m), Ok(()));
    let graph = b"\x08\x07 an onnx protobuf".to_vec();
    let text = fill_weights(&m.to_toml_string(), &graph).unwrap();
    let files = PackageFiles {
        manifest: text.into_bytes(),
        card: None,
        vocab: None,
        weights: graph,
    };
    let filled = parse(&files);
    assert!(filled.weights.tensors.is_empty());
    assert_eq!(check_files(&filled, &files), Ok(()));
    let package = aic_model::pack(&files).unwrap();
    let names: Vec<String> = tar::Archive::new(package.bytes.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert_eq!(names, ["aicmodel.toml", "weights.onnx"]);
    assert_eq!(aic_model::unpack(&package.bytes).unwrap().files, files);
    let dir = std::env::temp_dir().join(format!("aic-onnx-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    files.write_dir(&dir).unwrap();
    assert_eq!(PackageFiles::read_dir(&dir).unwrap(), files);
    std::fs::remove_dir_all(&dir).unwrap();

    m.runtime.architecture = "mlp".into();
    let e = validate(&m).unwrap_err();
    assert_eq!(
        (e[0].rule, e[0].path.as_str()),
        (Rule::UnknownArchitecture, "runtime.architecture")
    );
}

#[test]
fn every_template_is_valid() {
    for task in Task::ALL {
        assert_eq!(validate(&template(task)), Ok(()), "{task}");
    }
}

#[test]
fn the_example_in_the_standard_is_valid() {
    let doc = include_str!("../../../docs/model-standard.md");
    let start = doc.find("```toml\n").unwrap() + "```toml\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let text = doc[start..end].replace("…64 hex digits…", &"0".repeat(64));
    let m = Manifest::from_toml_str(&text).unwrap();
    assert_eq!(validate(&m), Ok(()));
    assert_eq!(m.interface.outputs[0].shape[0], Dim::Named("batch".into()));
}
