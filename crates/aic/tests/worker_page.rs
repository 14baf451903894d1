//! The worker's own page in a real browser: headless Chromium (the system's), driven by
//! Playwright (`crates/aic-node/tests/browser/worker.mjs`, beside the node dashboard's script
//! and its `node_modules`) against a worker this test starts. The worker mines through a real
//! node's Stratum pool and runs an AI training job from its queue; while the job runs, the
//! page's timeline must show mining and AI segments side by side, the hand-over latencies, the
//! device's utilization and its earnings; the node's Devices page then shows the worker as a
//! provider with its devices and a link to its page. Screenshots go to
//! `<target>/dashboard-screenshots` (`worker.png`, `phone-worker.png`, `devices.png`), beside
//! the node dashboard's.
//!
//! Without Node.js, Chromium or the browser script's `node_modules` the test says so loudly
//! and passes, unless `AIC_REQUIRE_BROWSER=1`, when it fails.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{free_port, get, ok, spawn, wait_for};

/// The whole browser run may take this long.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(180);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../aic-node/tests/browser")
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AIC_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Node.js, Chromium and the installed `playwright-core`, or why not.
fn prerequisites() -> Result<PathBuf, String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node (Node.js) is not installed".to_owned());
    }
    let chromium = find_chromium()
        .ok_or("chromium is not installed (apt-get install chromium, or set AIC_CHROMIUM)")?;
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Err(format!("run `npm ci` in {}", browser_dir().display()));
    }
    Ok(chromium)
}

/// `<target>/dashboard-screenshots` (see `crates/aic-node/tests/dashboard.rs`).
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_owned())
        })
        .unwrap_or_else(std::env::temp_dir);
    target.join("dashboard-screenshots")
}

/// Past the test harness's capture: the skip and the screenshots' path must be seen.
fn say(line: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
}

/// The highest training step the job's output shows.
fn steps_done(out: &Path) -> u64 {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["event"] == "step")
        .filter_map(|v| v["step"].as_u64())
        .max()
        .unwrap_or(0)
}

#[test]
fn the_worker_page_shows_mining_and_ai_segments_while_a_job_runs() {
    let chromium = match prerequisites() {
        Ok(c) => c,
        Err(why) if std::env::var("AIC_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("browser test required (AIC_REQUIRE_BROWSER=1) but {why}")
        }
        Err(why) => {
            say(&format!("SKIPPED the worker page browser test: {why}"));
            return;
        }
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    ok(
        dir,
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    ok(
        dir,
        &[
            "model",
            "init",
            "--task",
            "keyword-spotting",
            "--dir",
            "kws",
        ],
    );
    let address = common::new_wallet(dir, "w.key");
    let (api, stratum, listen) = (free_port(), free_port(), free_port());
    let node = format!("http://127.0.0.1:{api}");
    let _node = common::spawn_pool_node(dir, api, stratum);
    let limit = Duration::from_secs(60);
    wait_for("the node", limit, || get(&format!("{node}/api/v1/status")));
    let worker = format!("http://127.0.0.1:{listen}");
    let _worker = spawn(
        dir,
        &[
            "worker",
            "run",
            "--listen",
            &format!("127.0.0.1:{listen}"),
            "--pool",
            &format!("stratum+tcp://127.0.0.1:{stratum}"),
            "--user",
            &format!("{address}.rig1"),
            "--threads",
            "1",
            "--switching",
            "--no-owner-activity",
            "--jobs",
            "jobs",
            "--node",
            &node,
            "--data-dir",
            "worker",
            "--seconds",
            "400",
        ],
    );
    let switcher = format!("{worker}/api/v1/worker/switcher");
    let device = wait_for("shares accepted by the node's pool", limit, || {
        get(&switcher).filter(|s| s["pool"]["accepted"].as_u64() >= Some(1))
    })["device"]
        .as_str()
        .unwrap()
        .to_owned();
    // A training job long enough to be seen running (15,000 steps, about two minutes; the
    // worker is stopped with the test).
    ok(
        dir,
        &[
            "worker",
            "submit",
            "--jobs",
            "jobs",
            "--id",
            "page-job",
            "--model",
            "kws",
            "--data",
            "ds",
            "--set",
            "epochs=1000",
            "--set",
            "patience=0",
            "--set",
            "channels=16",
            "--set",
            "blocks=1",
            "--set",
            "batch_size=2",
            "--set",
            "warmup_steps=1",
        ],
    );
    let out = dir.join("jobs/work/page-job/out.jsonl");
    wait_for("the job's first steps", limit, || {
        (steps_done(&out) >= 3).then_some(())
    });
    let s = wait_for("an AI segment on the switcher's timeline", limit, || {
        get(&switcher).filter(|s| s.to_string().contains("\"ai_job\""))
    });
    assert!(s["timeline"].to_string().contains("\"mining\""), "{s}");

    let shots = screenshot_dir();
    let script = browser_dir().join("worker.mjs");
    let mut child = Command::new("node")
        .arg(&script)
        .current_dir(browser_dir())
        .env("AIC_WORKER_URL", &worker)
        .env("AIC_NODE_URL", &node)
        .env("AIC_CHROMIUM", &chromium)
        .env("AIC_SCREENSHOTS", &shots)
        .env("AIC_JOB", "page-job")
        .env("AIC_DEVICE", &device)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + BROWSER_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser checks took over {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    say(&format!("worker page screenshots: {}", shots.display()));
    assert!(status.success(), "the browser checks failed ({status})");
    // The job was still running when the page was checked.
    let jobs = get(&format!("{worker}/api/v1/worker/jobs")).unwrap();
    assert_eq!(jobs["current"], "page-job", "{jobs}");
}
