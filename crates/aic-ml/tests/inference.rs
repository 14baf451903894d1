//! Loading a package, inference through the [`Predictor`] and `eval` scorecards, on the
//! 3-clip FSDD fixture of `aic-data` with freshly initialized weights (no shared data needed).

use std::path::{Path, PathBuf};

use aic_ml::builtin::{featurize_wavs, init_weights};
use aic_ml::infer::{InferError, Predictor};
use aic_ml::load::{load_model, LoadError};
use aic_ml::tensor::NamedTensor;
use aic_model::{fill_weights, ParamValue, Task, MANIFEST_FILE, WEIGHTS_FILE};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../aic-data/tests/data/fsdd")
}

/// A keyword-spotting package directory with small, untrained weights.
fn kws_dir(dir: &Path) {
    let mut m = aic_model::template(Task::KeywordSpotting);
    let arch = &mut m.parameters.architecture;
    arch.get_mut("channels").unwrap().default = ParamValue::Int(8);
    arch.get_mut("blocks").unwrap().default = ParamValue::Int(1);
    let weights = init_weights(&m, 7).unwrap();
    let text = fill_weights(&m.to_toml_string(), &weights).unwrap();
    std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), weights).unwrap();
}

fn clips() -> Vec<Vec<u8>> {
    ["0_george_0.wav", "7_jackson_12.wav", "9_theo_28.wav"]
        .iter()
        .map(|n| std::fs::read(fixture().join(n)).unwrap())
        .collect()
}

#[test]
fn predictor_runs_featurized_clips() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path());
    let model = load_model(tmp.path(), None).unwrap();
    assert_eq!(model.id(), model.manifest.weights.blake3);
    let p = Predictor::burn(&model).unwrap();
    assert_eq!(p.platform(), "aic-burn");
    let mel = featurize_wavs(&model.manifest, &clips()).unwrap();
    assert_eq!(mel.shape(), &[3, 101, 40]);
    let out = p.predict(std::slice::from_ref(&mel)).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name(), "logits");
    assert_eq!(out[0].shape(), &[3, 10]);
    // Deterministic: the same request gives the same bits.
    assert_eq!(p.predict(std::slice::from_ref(&mel)).unwrap(), out);
    // A NaN is refused before it reaches the network.
    let mut bad = mel.as_f32().unwrap().to_vec();
    bad[5] = f32::NAN;
    let bad = NamedTensor::f32("mel", vec![3, 101, 40], bad).unwrap();
    assert!(matches!(p.predict(&[bad]), Err(InferError::Value { .. })));
    // Output selection.
    let e = p.predict_selected(&[mel], &["probs".into()]).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown output \"probs\" (the model's outputs: logits)"
    );
}

#[test]
fn tampered_weights_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path());
    let path = tmp.path().join(WEIGHTS_FILE);
    let mut w = std::fs::read(&path).unwrap();
    let last = w.len() - 1;
    w[last] ^= 1;
    std::fs::write(&path, w).unwrap();
    let e = load_model(tmp.path(), None).unwrap_err();
    assert!(matches!(e, LoadError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("weights.blake3"), "{e}");
}

#[test]
fn scorecard_names_model_data_and_runtime() {
    let tmp = tempfile::tempdir().unwrap();
    kws_dir(tmp.path());
    let model = load_model(tmp.path(), None).unwrap();
    let card = aic_ml::eval::evaluate(&model, &fixture(), "test").unwrap();
    assert_eq!(card.model, "kws-dscnn-fsdd");
    assert_eq!(card.model_version, "0.1.0");
    assert_eq!(card.weights_blake3, model.manifest.weights.blake3);
    assert_eq!(card.package_id, None);
    assert_eq!(card.dataset, "fsdd");
    assert_eq!(
        card.dataset_id,
        aic_ml::jobs::dir_id(&fixture(), |n| n.ends_with(".wav")).unwrap()
    );
    assert_eq!(card.split, "test");
    assert_eq!(card.examples, 1, "only 0_george_0 is in the test split");
    assert_eq!(card.runtime, aic_ml::jobs::RUNTIME);
    assert_eq!(card.kernel_family, aic_ml::family::kernel_family());
    let c = card.classification.as_ref().unwrap();
    assert_eq!(c.confusion.len(), 10);
    assert_eq!(c.confusion[0].iter().sum::<u64>(), 1);
    assert!(card.ranking.is_none());
    let json = serde_json::to_value(&card).unwrap();
    for key in ["model", "weights_blake3", "dataset_id", "split", "runtime"] {
        assert!(json.get(key).is_some(), "{key} missing from {json}");
    }

    // The same model packed: the scorecard names the package and agrees on every metric.
    let files = aic_model::PackageFiles::read_dir(tmp.path()).unwrap();
    let package = aic_model::pack(&files).unwrap();
    let pkg = tmp.path().join("m.aicpkg");
    std::fs::write(&pkg, &package.bytes).unwrap();
    let packed = load_model(&pkg, Some(&package.id)).unwrap();
    let card2 = aic_ml::eval::evaluate(&packed, &fixture(), "test").unwrap();
    assert_eq!(card2.package_id, Some(package.id.to_string()));
    assert_eq!(card2.classification, card.classification);

    let e = aic_ml::eval::evaluate(&model, &fixture(), "dev").unwrap_err();
    assert!(e.to_string().contains("\"dev\" is not a split"), "{e}");
}

/// A text-matching package directory with a tiny vocabulary and untrained weights, and a
/// 2-question WikiQA-format split under `dir/data/test`.
fn text_dir(dir: &Path) {
    use aic_data::{Vocabulary, VocabularyConfig};
    let lines = [
        "what is the capital of france",
        "paris is the capital of france",
        "bananas are yellow",
    ];
    let config = VocabularyConfig {
        lowercase: true,
        min_count: 1,
        max_size: u32::MAX,
    };
    let vocab = Vocabulary::build(lines.iter().copied(), &config);
    let mut m = aic_model::template(Task::TextMatching);
    for p in ["embed", "filters", "hidden"] {
        m.parameters.architecture.get_mut(p).unwrap().default = ParamValue::Int(8);
    }
    let aic_model::Featurizer::Tokenizer(t) = &mut m.data.featurizer else {
        unreachable!()
    };
    t.vocab_size = vocab.size();
    t.vocab_blake3 = vocab.blake3_hex();
    t.oov_buckets = 16;
    let weights = init_weights(&m, 3).unwrap();
    let text = fill_weights(&m.to_toml_string(), &weights).unwrap();
    std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), weights).unwrap();
    std::fs::write(dir.join(aic_model::VOCAB_FILE), vocab.to_file_bytes()).unwrap();
    let split = dir.join("data/test");
    std::fs::create_dir_all(&split).unwrap();
    for (name, body) in [
        ("a.toks", "what is the capital of france\nwhat is the capital of france\nwhat is yellow\nwhat is yellow\n"),
        ("b.toks", "paris is the capital of france\nbananas are yellow\nparis is the capital of france\nbananas are yellow\n"),
        ("sim.txt", "1\n0\n0\n1\n"),
        ("id.txt", "1\n1\n2\n2\n"),
    ] {
        std::fs::write(split.join(name), body).unwrap();
    }
}

#[test]
fn text_matching_predicts_and_scores_with_the_package_vocabulary() {
    use aic_ml::builtin::TextEncoder;
    let tmp = tempfile::tempdir().unwrap();
    text_dir(tmp.path());
    let model = load_model(tmp.path(), None).unwrap();
    let p = Predictor::burn(&model).unwrap();
    let enc = TextEncoder::new(&model).unwrap();
    let candidates = [
        "paris is the capital of france".to_string(),
        "bananas are yellow".into(),
    ];
    let inputs = enc
        .candidates("What is the capital of France", &candidates)
        .unwrap();
    assert_eq!(inputs[0].shape(), &[2, 40]);
    assert_eq!(inputs[1].name(), "answer");
    let out = p.predict(&inputs).unwrap();
    assert_eq!((out[0].name(), out[0].shape()), ("score", &[2][..]));
    // A token id outside the id space is refused, naming the input.
    let mut ids = inputs[1].as_i64().unwrap().to_vec();
    ids[3] = 1_000_000;
    let bad = NamedTensor::i64("answer", vec![2, 40], ids).unwrap();
    let e = p.predict(&[inputs[0].clone(), bad]).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("input \"answer\": token id 1000000 at element 3"),
        "{e}"
    );

    let card = aic_ml::eval::evaluate(&model, &tmp.path().join("data"), "test").unwrap();
    assert_eq!((card.dataset.as_str(), card.examples), ("wikiqa", 4));
    let r = card.ranking.unwrap();
    assert_eq!((r.questions, r.questions_without_answer), (2, 0));
    assert!(r.map > 0.0 && r.map <= 1.0);
}
