//! The worker's local job queue end to end, with real processes: `aic worker submit` queues a
//! training job, `aic worker run --jobs` runs it as `aic model train` in its own sandbox under
//! the switcher, `aic worker preempt` stops it with a checkpoint and it resumes to the weights
//! of an uninterrupted run; a job over its memory limit is killed and reported while the worker
//! goes on with the next.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{json, ok, TINY_KWS};

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Long enough (240 steps) for a preemption to land mid-run.
const PARAMS: [&str; 6] = [
    "epochs=80",
    "patience=0",
    "checkpoint_every=8",
    "channels=8",
    "blocks=1",
    "batch_size=10",
];

fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// The highest step the job's output shows.
fn steps_done(out: &Path) -> u64 {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "step")
        .filter_map(|v| v["step"].as_u64())
        .max()
        .unwrap_or(0)
}

fn submit(dir: &Path, id: &str, extra: &[&str]) {
    let mut args = vec![
        "worker",
        "submit",
        "--jobs",
        "jobs",
        "--id",
        id,
        "--model",
        "kws",
        "--data",
        "ds",
        "--set",
        "warmup_steps=1",
    ];
    for p in PARAMS {
        args.extend_from_slice(&["--set", p]);
    }
    args.extend_from_slice(extra);
    ok(dir, &args);
}

#[test]
fn queued_jobs_run_sandboxed_resume_after_preemption_and_a_job_over_its_memory_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    ok(
        dir,
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    for p in ["kws", "reference"] {
        ok(
            dir,
            &["model", "init", "--task", "keyword-spotting", "--dir", p],
        );
    }
    // The uninterrupted run to compare with.
    let mut args = vec![
        "model",
        "train",
        "reference",
        "--data",
        "ds",
        "--json",
        "--set",
        "warmup_steps=1",
    ];
    for p in PARAMS {
        args.extend_from_slice(&["--set", p]);
    }
    let reference = json(dir, &args);
    let _ = TINY_KWS;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let worker = format!("http://127.0.0.1:{port}");
    // A node the worker announces itself to and reports its jobs to.
    let api = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let node = format!("http://127.0.0.1:{api}");
    let _node = Guard(
        Command::new(env!("CARGO_BIN_EXE_aic"))
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .args([
                "node",
                "--network",
                "devnet",
                "--no-p2p",
                "--data-dir",
                "node",
            ])
            .args(["--api-addr", &format!("127.0.0.1:{api}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for("the node", Duration::from_secs(30), || {
        ureq::get(&format!("{node}/api/v1/status")).call().ok()
    });
    let _w = Guard(
        Command::new(env!("CARGO_BIN_EXE_aic"))
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .args([
                "worker",
                "run",
                "--jobs",
                "jobs",
                "--no-owner-activity",
                "--seconds",
                "300",
            ])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--node", &node, "--data-dir", "worker"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    submit(dir, "a", &[]);
    let out = dir.join("jobs/work/a/out.jsonl");
    wait_for("job a's steps", Duration::from_secs(60), || {
        (steps_done(&out) >= 10).then_some(())
    });
    ok(dir, &["worker", "preempt", "a", "--worker", &worker]);
    let done = wait_for("job a done", Duration::from_secs(120), || {
        read_json(&dir.join("jobs/done/a.json"))
    });
    assert_eq!(
        done["result"]["weights_blake3"], reference["weights_blake3"],
        "{done}"
    );
    assert_eq!(
        done["result"]["transcript_root"],
        reference["transcript_root"]
    );
    // The file moves to done/ before the outcome is recorded: wait for both outcomes.
    let status: Value = wait_for("job a's outcomes", Duration::from_secs(10), || {
        let v: Value = ureq::get(&format!("{worker}/api/v1/worker/jobs"))
            .call()
            .ok()?
            .into_json()
            .ok()?;
        (v["outcomes"].as_array()?.len() >= 2).then_some(v)
    });
    let seen: Vec<(&str, &str)> = status["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o["status"].as_str().unwrap()))
        .collect();
    assert_eq!(seen, [("a", "preempted"), ("a", "succeeded")], "{status}");

    // The node knows the worker, its devices, and what became of job a.
    let providers: Value = ureq::get(&format!("{node}/api/v1/providers?online=true"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let me = &providers["providers"][0];
    assert_eq!(me["online"], true, "{providers}");
    assert_eq!(me["devices"][0]["kind"], "cpu");
    let address = me["address"].as_str().unwrap();
    let reports = wait_for(
        "job a's reports at the node",
        Duration::from_secs(10),
        || {
            let r: Value = ureq::get(&format!("{node}/api/v1/providers/{address}/reports"))
                .call()
                .ok()?
                .into_json()
                .ok()?;
            (r["reports"].as_array()?.len() >= 2).then_some(r)
        },
    );
    let statuses: Vec<&str> = reports["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(
        statuses.contains(&"preempted") && statuses.contains(&"succeeded"),
        "{reports}"
    );
    let succeeded = reports["reports"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["status"] == "succeeded")
        .unwrap();
    assert_eq!(succeeded["result"], reference["weights_blake3"]);

    // Over its memory limit: killed, reported, and the worker runs the next job.
    submit(dir, "b", &["--memory-mib", "8"]);
    submit(dir, "c", &[]);
    let failed = wait_for("job b failed", Duration::from_secs(60), || {
        read_json(&dir.join("jobs/failed/b.json"))
    });
    let reason = failed["reason"].as_str().unwrap();
    assert!(reason.contains("memory"), "{failed}");
    let c = wait_for("job c done", Duration::from_secs(120), || {
        read_json(&dir.join("jobs/done/c.json"))
    });
    assert_eq!(c["result"]["weights_blake3"], reference["weights_blake3"]);

    // Streamed from the node: the sandboxed job has no network, only the worker's data
    // service on a Unix socket, which reads through the worker's cache.
    let cookie = dir.join("node/.cookie");
    let published = json(
        dir,
        &[
            "data",
            "publish",
            "ds",
            "--node",
            &node,
            "--cookie",
            cookie.to_str().unwrap(),
            "--json",
        ],
    );
    let id = published["id"].as_str().unwrap();
    ok(
        dir,
        &[
            "worker",
            "submit",
            "--jobs",
            "jobs",
            "--id",
            "d",
            "--model",
            "kws",
            "--data",
            id,
            "--source",
            &node,
            "--set",
            "warmup_steps=1",
            "--set",
            PARAMS[0],
            "--set",
            PARAMS[1],
            "--set",
            PARAMS[2],
            "--set",
            PARAMS[3],
            "--set",
            PARAMS[4],
            "--set",
            PARAMS[5],
        ],
    );
    let d = wait_for("job d done", Duration::from_secs(120), || {
        read_json(&dir.join("jobs/done/d.json"))
            .or_else(|| read_json(&dir.join("jobs/failed/d.json")).map(|f| panic!("{f}")))
    });
    assert_eq!(
        d["result"]["weights_blake3"], reference["weights_blake3"],
        "{d}"
    );
    assert!(d["result"]["bytes_fetched"].as_u64().unwrap() > 0, "{d}");
}
