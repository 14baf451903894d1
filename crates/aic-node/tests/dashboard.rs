//! The dashboard in a real browser: headless Chromium (the system's), driven by Playwright
//! (`tests/browser/dashboard.mjs`) against a real node this test starts, with the built-in
//! miner making blocks and a Stratum worker connected over loopback. Screenshots of every page
//! are kept under the cargo target directory (the path is printed).
//!
//! Without Node.js, Chromium or `tests/browser/node_modules` the test says so loudly and
//! passes, unless `AIC_REQUIRE_BROWSER=1` (as `.ci/run` sets), when it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aic_primitives::Encode;
use common::{addr, bech, transfer, StratumClient, TestNode};

/// The whole browser run may take this long.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(240);

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
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

/// `<target>/dashboard-screenshots`: the target directory is the test binary's grandparent's
/// parent (`<target>/<profile>/deps/<binary>`), or `CARGO_TARGET_DIR`.
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

/// Writes a line straight to the process's stderr, past the test harness's capture: the skip
/// and the screenshots' path must be seen without `--nocapture`.
fn say(line: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
}

#[test]
fn the_dashboard_in_a_real_browser() {
    let chromium = match prerequisites() {
        Ok(c) => c,
        Err(why) if std::env::var("AIC_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("browser test required (AIC_REQUIRE_BROWSER=1) but {why}")
        }
        Err(why) => {
            say(&format!(
                "\n!!!!!!!! SKIPPED the dashboard browser test: {why} !!!!!!!!\n"
            ));
            return;
        }
    };
    let mut node = TestNode::start();
    // A Stratum worker mines the first three blocks (shares that meet the easy devnet target)
    // and has one share refused, then stays connected.
    let worker = format!("{}.rig1", bech(3));
    let stratum = node.n().stratum_addr.unwrap();
    let (mut client, mut job) = StratumClient::login(stratum, &worker);
    for _ in 0..3 {
        let r = client.solve(&worker, &job, true);
        assert_eq!(r["result"], true, "{r}");
        job = client.next_notify();
    }
    let r = client.solve(&worker, &job, false);
    assert_eq!(r["error"][0], 23, "{r}");
    let _worker = client.drain();
    // The built-in miner keeps blocks coming while the browser looks.
    node.n().start_miner(addr(1), None);
    let tx = transfer(3, 0, addr(2), 7 * 100_000_000, 1_000);
    let shots = screenshot_dir();
    let _ = std::fs::remove_dir_all(&shots);
    say(&format!("dashboard screenshots: {}", shots.display()));
    let mut child = Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(browser_dir())
        .env("AIC_URL", &node.base)
        .env("AIC_CHROMIUM", &chromium)
        .env("AIC_SCREENSHOTS", &shots)
        .env("AIC_TRANSFER_HEX", hex::encode(tx.to_bytes()))
        .env("AIC_TRANSFER_TXID", tx.txid().to_string())
        .env("AIC_SENDER", bech(3))
        .env("AIC_RECIPIENT", bech(2))
        .env("AIC_WORKER", &worker)
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting node");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser run took more than {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    node.shutdown_within(20);
    assert!(
        status.success(),
        "the browser checks failed ({status}); screenshots in {}",
        shots.display()
    );
    say(&format!("dashboard screenshots: {}", shots.display()));
}
