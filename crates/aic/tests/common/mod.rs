//! Running the `aic` binary from integration tests.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

/// Job parameters of a keyword model small enough to train in a test (seconds at most).
pub const TINY_KWS: [&str; 10] = [
    "--set",
    "channels=8",
    "--set",
    "blocks=1",
    "--set",
    "epochs=2",
    "--set",
    "batch_size=10",
    "--set",
    "warmup_steps=1",
];

/// `aic ARGS` in `dir`, quiet logs.
pub fn aic(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_aic"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .args(args)
        .output()
        .unwrap()
}

/// `aic ARGS` in `dir`, which must succeed; its stdout.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = aic(dir, args);
    assert!(
        out.status.success(),
        "aic {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The last line of a successful `aic ARGS --json` as JSON.
pub fn json(dir: &Path, args: &[&str]) -> Value {
    let text = ok(dir, args);
    serde_json::from_str(text.lines().last().unwrap()).unwrap()
}
