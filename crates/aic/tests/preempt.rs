//! Preemption of the real trainer: SIGTERM stops `aic model train --state-dir` at the next step
//! with a checkpoint (exit status 75), the same command resumes, and the run ends with the
//! weights and the transcript of one that was never interrupted; after `kill -9` it resumes
//! from the last grid checkpoint, with the same result.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

mod common;

use common::{aic, json, ok, TINY_KWS};

/// Longer than `TINY_KWS` alone (later `--set`s win), so a signal lands mid-run.
const MORE: [&str; 6] = [
    "--set",
    "epochs=40",
    "--set",
    "patience=0",
    "--set",
    "checkpoint_every=4",
];

fn prepare(dir: &Path, packages: &[&str]) {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    ok(
        dir,
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    for p in packages {
        ok(
            dir,
            &["model", "init", "--task", "keyword-spotting", "--dir", p],
        );
    }
}

fn train_args<'a>(package: &'a str, state: Option<&'a str>) -> Vec<&'a str> {
    let mut args = vec!["model", "train", package, "--data", "ds", "--json"];
    args.extend_from_slice(&TINY_KWS);
    args.extend_from_slice(&MORE);
    if let Some(s) = state {
        args.extend_from_slice(&["--state-dir", s]);
    }
    args
}

/// Starts training and sends `signal` once `after_step` steps are done; returns the exit
/// status and the last JSON line.
fn interrupt(dir: &Path, args: &[&str], signal: &str, after_step: u64) -> (Option<i32>, Value) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_aic"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut sent = false;
    let mut last = Value::Null;
    for line in stdout.lines() {
        let line = line.unwrap();
        let Ok(v) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if !sent && v["event"] == "step" && v["step"].as_u64().unwrap() >= after_step {
            let status = Command::new("kill")
                .args([signal, &child.id().to_string()])
                .status()
                .unwrap();
            assert!(status.success());
            sent = true;
        }
        last = v;
    }
    assert!(sent, "the run ended before step {after_step}");
    (child.wait().unwrap().code(), last)
}

#[test]
fn sigterm_then_resume_ends_with_the_weights_of_an_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    prepare(dir, &["whole", "parted"]);
    let whole = json(dir, &train_args("whole", None));
    assert_eq!(whole["event"], "done");

    let args = train_args("parted", Some("state"));
    let (code, last) = interrupt(dir, &args, "-TERM", 6);
    assert_eq!(code, Some(75), "preempted exit status; last line {last}");
    assert_eq!(last["event"], "preempted");
    let step = last["step"].as_u64().unwrap();
    // Stopped at the next step after the signal: off the grid of 4 is likely, and the
    // checkpoint must exist either way.
    assert!(step >= 6, "{last}");
    assert!(dir.join("state/checkpoint.safetensors").is_file());
    assert!(!dir.join("parted/weights.safetensors").exists());

    let resumed = json(dir, &args);
    assert_eq!(resumed["event"], "done");
    assert_eq!(resumed["weights_blake3"], whole["weights_blake3"]);
    assert_eq!(resumed["transcript_root"], whole["transcript_root"]);
    assert_eq!(
        std::fs::read(dir.join("parted/weights.safetensors")).unwrap(),
        std::fs::read(dir.join("whole/weights.safetensors")).unwrap()
    );
}

#[test]
fn kill_9_resumes_from_the_last_grid_checkpoint_with_the_same_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    prepare(dir, &["whole", "crashed"]);
    let whole = json(dir, &train_args("whole", None));

    let args = train_args("crashed", Some("state"));
    let (code, _) = interrupt(dir, &args, "-KILL", 10);
    assert_eq!(code, None, "killed by a signal");
    let resumed = json(dir, &args);
    assert_eq!(resumed["weights_blake3"], whole["weights_blake3"]);
    assert_eq!(resumed["transcript_root"], whole["transcript_root"]);
}

#[test]
fn a_state_dir_of_another_job_is_refused_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    prepare(dir, &["kws"]);
    let args = train_args("kws", Some("state"));
    let (code, _) = interrupt(dir, &args, "-TERM", 2);
    assert_eq!(code, Some(75));
    let before = std::fs::read(dir.join("state/checkpoint.safetensors")).unwrap();

    let mut other = args.clone();
    other.extend_from_slice(&["--set", "seed=7"]);
    let out = aic(dir, &other);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds the state of another job"), "{err}");
    assert_eq!(
        std::fs::read(dir.join("state/checkpoint.safetensors")).unwrap(),
        before
    );
}
