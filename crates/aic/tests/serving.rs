//! `aic model eval` and `aic model infer` through the real binary, on the 3-clip FSDD fixture
//! of `aic-data` with freshly initialized weights (no shared data needed).

use std::path::{Path, PathBuf};
use std::process::Command;

use aic_model::{fill_weights, ParamValue, Task, MANIFEST_FILE, WEIGHTS_FILE};
use serde_json::Value;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../aic-data/tests/data/fsdd")
}

fn kws_dir(dir: &Path) {
    let mut m = aic_model::template(Task::KeywordSpotting);
    let arch = &mut m.parameters.architecture;
    arch.get_mut("channels").unwrap().default = ParamValue::Int(8);
    arch.get_mut("blocks").unwrap().default = ParamValue::Int(1);
    let weights = aic_ml::builtin::init_weights(&m, 5).unwrap();
    let text = fill_weights(&m.to_toml_string(), &weights).unwrap();
    std::fs::write(dir.join(MANIFEST_FILE), text).unwrap();
    std::fs::write(dir.join(WEIGHTS_FILE), weights).unwrap();
}

fn aic_json(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_aic"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "aic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn eval_writes_a_scorecard_and_infer_labels_clips() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("kws");
    std::fs::create_dir(&dir).unwrap();
    kws_dir(&dir);
    let (d, data) = (dir.to_str().unwrap(), fixture());
    let out = tmp.path().join("card.json");
    let card = aic_json(&[
        "model",
        "eval",
        d,
        "--data",
        data.to_str().unwrap(),
        "--split",
        "test",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(card, written);
    assert_eq!(card["split"], "test");
    assert_eq!(card["examples"], 1);
    assert_eq!(card["dataset"], "fsdd");
    assert_eq!(card["dataset_id"].as_str().unwrap().len(), 64);
    assert_eq!(card["weights_blake3"].as_str().unwrap().len(), 64);
    assert!(card["runtime"].as_str().unwrap().starts_with("aic-ml"));
    assert_eq!(
        card["classification"]["confusion"]
            .as_array()
            .unwrap()
            .len(),
        10
    );

    let clip = data.join("7_jackson_12.wav");
    let r = aic_json(&["model", "infer", d, clip.to_str().unwrap(), "--json"]);
    let probs = r[0]["probabilities"].as_object().unwrap();
    assert_eq!(probs.len(), 10);
    let sum: f64 = probs.values().map(|p| p.as_f64().unwrap()).sum();
    assert!((sum - 1.0).abs() < 1e-4, "{sum}");
    assert!(probs.contains_key(r[0]["label"].as_str().unwrap()));
}
