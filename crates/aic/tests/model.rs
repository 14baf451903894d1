//! `aic model` end to end through the real binary: init, check, pack twice (same bytes), info,
//! unpack, and refusal of a broken manifest and of a tampered package.

use std::path::Path;

use aic_model::safetensors::write_tensors;
use aic_model::{TensorDtype, WeightTensor};
use serde_json::Value;

mod common;

use common::{aic, ok};

fn json(dir: &Path, args: &[&str]) -> Value {
    serde_json::from_str(ok(dir, args).trim()).unwrap()
}

fn weights() -> Vec<u8> {
    let w = WeightTensor {
        name: "classifier.weight".into(),
        dtype: TensorDtype::F32,
        shape: vec![10, 8],
    };
    write_tensors(&[(w, &[3u8; 320])]).unwrap()
}

#[test]
fn init_check_pack_twice_info() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let init = json(
        d,
        &[
            "model",
            "init",
            "--task",
            "keyword-spotting",
            "--dir",
            "kws",
            "--json",
        ],
    );
    assert_eq!(init["architecture"], "kws-dscnn");
    assert!(ok(d, &["model", "check", "kws"]).starts_with("ok: kws-dscnn-fsdd 0.1.0"));
    assert!(
        aic(
            d,
            &[
                "model",
                "init",
                "--task",
                "keyword-spotting",
                "--dir",
                "kws"
            ]
        )
        .status
        .code()
            != Some(0)
    );

    std::fs::write(d.join("kws/weights.safetensors"), weights()).unwrap();
    // The weights are there but not named by the manifest yet.
    let out = aic(d, &["model", "check", "kws"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("weights.blake3: weights-hash-missing: "));

    let a = json(
        d,
        &[
            "model",
            "pack",
            "kws",
            "--update-weights",
            "--out",
            "a.aicpkg",
            "--json",
        ],
    );
    let b = json(d, &["model", "pack", "kws", "--out", "b.aicpkg", "--json"]);
    assert_eq!(a["id"], b["id"]);
    let (pa, pb) = (
        std::fs::read(d.join("a.aicpkg")).unwrap(),
        std::fs::read(d.join("b.aicpkg")).unwrap(),
    );
    assert_eq!(pa, pb);
    assert_eq!(a["id"], blake3::hash(&pa).to_hex().as_str());
    assert!(ok(d, &["model", "check", "kws"]).starts_with("ok: "));

    let id = a["id"].as_str().unwrap();
    let info = json(d, &["model", "info", "a.aicpkg", "--id", id, "--json"]);
    assert_eq!(info["name"], "kws-dscnn-fsdd");
    assert_eq!(info["package_id"], id);
    assert_eq!(info["parameter_count"], 80);
    assert_eq!(info["inputs"][0]["shape"], "[-1, 101, 40]");
    assert!(ok(d, &["model", "info", "a.aicpkg"]).contains("verified"));
    assert!(ok(d, &["model", "info", "kws"]).contains("kws-dscnn"));

    ok(d, &["model", "unpack", "a.aicpkg", "--dir", "out"]);
    assert_eq!(
        std::fs::read(d.join("out/weights.safetensors")).unwrap(),
        weights()
    );

    // A wrong id, and a flipped weights byte, are refused.
    let other = "0".repeat(64);
    assert!(!aic(d, &["model", "info", "a.aicpkg", "--id", &other])
        .status
        .success());
    let mut bad = pa.clone();
    let w = weights();
    let at = bad
        .windows(w.len())
        .position(|x| x == w.as_slice())
        .unwrap();
    bad[at + w.len() - 1] ^= 1; // the last byte of the weights' data
    std::fs::write(d.join("bad.aicpkg"), bad).unwrap();
    let out = aic(d, &["model", "info", "bad.aicpkg"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("weights-hash-mismatch"),
        "{out:?}"
    );
}

#[test]
fn check_prints_every_broken_rule_with_its_path() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    ok(d, &["model", "init", "--task", "text-matching"]);
    let text = std::fs::read_to_string(d.join("aicmodel.toml")).unwrap();
    let text = text
        .replace("version = \"0.1.0\"", "version = \"one\"")
        .replace("max_batch = 1024", "max_batch = 0");
    std::fs::write(d.join("aicmodel.toml"), text).unwrap();
    let out = aic(d, &["model", "check"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("model.version: bad-version: "), "{stdout}");
    assert!(
        stdout.contains("runtime.max_batch: zero-max-batch: "),
        "{stdout}"
    );
    let v: Value =
        serde_json::from_str(ok_or_fail(d, &["model", "check", "--json"]).trim()).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"].as_array().unwrap().len(), 2);
}

/// Stdout of a command expected to fail.
fn ok_or_fail(dir: &Path, args: &[&str]) -> String {
    String::from_utf8(aic(dir, args).stdout).unwrap()
}
