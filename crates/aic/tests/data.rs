//! `aic data` end to end through the real binary on the committed demo sample: digitize, info,
//! verify (and refusal of a tampered shard), publish to a real node over loopback, fetch into a
//! fresh cache (every byte), fetch again (none), and train from the fetched data set.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{aic, json, TINY_KWS};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd")
}

struct Node(Child);

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn digitize_verify_tamper_publish_fetch_train() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = sample();
    let d = json(
        dir,
        &[
            "data",
            "digitize",
            sample.to_str().unwrap(),
            "--out",
            "ds",
            "--json",
        ],
    );
    assert_eq!(d["samples"]["train"], 30);
    assert_eq!(d["samples"]["valid"], 10);
    assert_eq!(d["samples"]["test"], 10);
    let id = d["id"].as_str().unwrap().to_owned();
    // Same input, same bytes: digitizing again gives the same id.
    let again = json(
        dir,
        &[
            "data",
            "digitize",
            sample.to_str().unwrap(),
            "--out",
            "ds2",
            "--json",
        ],
    );
    assert_eq!(again["id"], d["id"]);
    let info = json(dir, &["data", "info", "ds", "--json"]);
    assert_eq!(info["id"], d["id"]);
    assert_eq!(json(dir, &["data", "verify", "ds", "--json"])["ok"], true);
    // A wrong expected id is refused.
    let out = aic(dir, &["data", "verify", "ds", "--id", &"0".repeat(64)]);
    assert!(!out.status.success());

    // One flipped byte in a shard: verify names it and fails.
    let shard = std::fs::read_dir(dir.join("ds2/shards"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&shard).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&shard, bytes).unwrap();
    let out = aic(dir, &["data", "verify", "ds2", "--json"]);
    assert!(!out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["errors"].as_array().unwrap().len(), 1);

    // Publish to a real node and fetch it back through a fresh cache.
    let port = free_port();
    let node_dir = dir.join("node");
    let _node = Node(
        Command::new(env!("CARGO_BIN_EXE_aic"))
            .args(["node", "--network", "devnet", "--no-p2p", "--data-dir"])
            .arg(&node_dir)
            .args(["--api-addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    let start = Instant::now();
    while ureq::get(&format!("{base}/api/v1/status")).call().is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "node did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let cookie = node_dir.join(".cookie");
    // Without credentials the node refuses the upload.
    let out = aic(dir, &["data", "publish", "ds", "--node", &base]);
    assert!(!out.status.success());
    let p = json(
        dir,
        &[
            "data",
            "publish",
            "ds",
            "--node",
            &base,
            "--cookie",
            cookie.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(p["id"].as_str().unwrap(), id);
    let dataset_bytes = d["dataset_bytes"].as_u64().unwrap();
    assert_eq!(p["bytes"].as_u64().unwrap(), dataset_bytes);
    let fetch = [
        "data", "fetch", &id, "--source", &base, "--cache", "cache", "--out", "got", "--json",
    ];
    let first = json(dir, &fetch);
    assert_eq!(first["bytes_moved"].as_u64().unwrap(), dataset_bytes);
    let second = json(dir, &fetch);
    assert_eq!(second["bytes_moved"], 0);
    assert_eq!(json(dir, &["data", "verify", "got", "--json"])["ok"], true);

    // Train from the fetched shards: the scorecard names the data set by its id.
    json(
        dir,
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
    let train = |data: &str, extra: &[&str]| -> Value {
        let mut args = vec!["model", "train", "kws", "--data", data, "--json"];
        args.extend_from_slice(&TINY_KWS);
        args.extend_from_slice(extra);
        json(dir, &args)
    };
    let local = train("got", &[]);
    let wait = local["data_wait_fraction"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&wait), "{wait}");

    // The same job straight from the node: shards fetched into an empty cache as the loader
    // reaches them give the same bits; a second job moves nothing.
    let shard_bytes = dataset_bytes
        - std::fs::metadata(dir.join("got/manifest.json"))
            .unwrap()
            .len();
    let remote = ["--source", base.as_str(), "--cache", "cache2"];
    let streamed = train(&id, &remote);
    assert_eq!(streamed["weights_blake3"], local["weights_blake3"]);
    assert_eq!(streamed["bytes_fetched"].as_u64().unwrap(), shard_bytes);
    let again = train(&id, &remote);
    assert_eq!(again["bytes_fetched"], 0);
    assert_eq!(again["weights_blake3"], local["weights_blake3"]);
    let cards: Value =
        serde_json::from_slice(&std::fs::read(dir.join("kws/scorecards.json")).unwrap()).unwrap();
    assert!(cards
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["dataset_id"].as_str() == Some(id.as_str())));
}

#[test]
fn digitize_reports_bad_records_and_refuses_an_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let raw = dir.join("raw");
    std::fs::create_dir(&raw).unwrap();
    let good = std::fs::read(sample().join("3_jackson_10.wav")).unwrap();
    std::fs::write(raw.join("3_jackson_10.wav"), &good).unwrap();
    std::fs::write(raw.join("4_jackson_10.wav"), &good[..60]).unwrap();
    let d = json(
        dir,
        &[
            "data", "digitize", "raw", "--kind", "speech", "--out", "ds", "--json",
        ],
    );
    let skipped = d["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0]["path"]
        .as_str()
        .unwrap()
        .ends_with("4_jackson_10.wav"));
    std::fs::create_dir(dir.join("empty")).unwrap();
    let out = aic(
        dir,
        &[
            "data", "digitize", "empty", "--kind", "speech", "--out", "x",
        ],
    );
    assert!(!out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}
