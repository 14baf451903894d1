//! The `aic` binary end to end, as a user runs it: devnet, wallet, node restarts after
//! `kill -9`. Every process is a real child process on loopback ports.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn aic() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_aic"));
    c.env("RUST_LOG", "warn");
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn get(base: &str, path: &str) -> Option<Value> {
    ureq::get(&format!("{base}/api/v1{path}"))
        .timeout(Duration::from_secs(5))
        .call()
        .ok()?
        .into_json()
        .ok()
}

/// Polls until `f` answers `Some`, or panics after `limit`.
fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

struct Guard(Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn node(dir: &Path, port: u16, mine: Option<&str>) -> Guard {
    let mut c = aic();
    c.args([
        "node",
        "--network",
        "devnet",
        "--no-p2p",
        "--miner-threads",
        "1",
    ])
    .arg("--data-dir")
    .arg(dir)
    .args(["--api-addr", &format!("127.0.0.1:{port}")])
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    if let Some(a) = mine {
        c.args(["--mine", a]);
    }
    Guard(c.spawn().unwrap())
}

fn height(base: &str) -> Option<u64> {
    get(base, "/status").and_then(|s| s["height"].as_u64())
}

#[test]
fn devnet_mines_the_requested_blocks_and_a_restarted_node_serves_them() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let out = aic()
        .args([
            "devnet",
            "--blocks",
            "12",
            "--exit",
            "--json",
            "--threads",
            "1",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--api-addr", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.first().unwrap()["event"], "started");
    assert_eq!(events.last().unwrap()["event"], "done");
    assert_eq!(events.last().unwrap()["height"], 12);
    let blocks = events.iter().filter(|e| e["event"] == "block").count();
    assert_eq!(blocks, 12);
    assert!(events.iter().any(|e| e["event"] == "transfer"));

    let _node = node(dir.path(), port, None);
    let base = format!("http://127.0.0.1:{port}");
    let h = wait_for(Duration::from_secs(30), "the node", || height(&base));
    assert_eq!(h, 12);
    // A transfer the devnet sent was mined into one of the blocks.
    let mined_transfers: usize = (1..=12)
        .map(|i| {
            get(&base, &format!("/blocks/{i}")).unwrap()["txs"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["kind"] == "transfer")
                .count()
        })
        .sum();
    assert!(mined_transfers >= 1);
    // The independent checker, when Python is there (it is on CI).
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/check_chain.py");
    if let Ok(out) = Command::new("python3")
        .arg(&script)
        .args(["--node", &base, "--min-height", "12"])
        .output()
    {
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_wallet_transfer_is_mined_and_both_balances_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _devnet = Guard(
        aic()
            .args(["devnet", "--no-transfers", "--threads", "1", "--json"])
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--api-addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let wallet = dir.path().join("wallet.key");
    wait_for(Duration::from_secs(60), "a funded wallet", || {
        let out = aic()
            .args(["wallet", "balance", "--json", "--node", &base])
            .arg("--wallet")
            .arg(&wallet)
            .output()
            .ok()?;
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        (v["balance_units"].as_u64()? >= 10 * 100_000_000).then_some(())
    });
    let bob = dir.path().join("bob.key");
    let out = aic()
        .args(["wallet", "new", "--network", "devnet", "--json"])
        .arg("--wallet")
        .arg(&bob)
        .output()
        .unwrap();
    assert!(out.status.success());
    let bob_addr = serde_json::from_slice::<Value>(&out.stdout).unwrap()["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let sent = aic()
        .args([
            "wallet", "send", "--amount", "1.5", "--wait", "--json", "--node", &base,
        ])
        .args(["--to", &bob_addr])
        .arg("--wallet")
        .arg(&wallet)
        .output()
        .unwrap();
    assert!(
        sent.status.success(),
        "{}",
        String::from_utf8_lossy(&sent.stderr)
    );
    let sent: Value = serde_json::from_slice(&sent.stdout).unwrap();
    assert!(sent["block_height"].as_u64().unwrap() >= 1);
    let bob_balance = aic()
        .args(["wallet", "balance", "--json", "--node", &base])
        .arg("--wallet")
        .arg(&bob)
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&bob_balance.stdout).unwrap();
    assert_eq!(v["balance_units"], 150_000_000u64);
    assert_eq!(v["balance"], "1.50000000");
    // The sender's nonce moved and the transfer shows in its block.
    let tx = get(&base, &format!("/txs/{}", sent["txid"].as_str().unwrap())).unwrap();
    assert_eq!(tx["to"], bob_addr.as_str());
    assert_eq!(tx["amount_units"], 150_000_000u64);
    let from = get(
        &base,
        &format!("/accounts/{}", sent["from"].as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(from["nonce"], 1);
}

#[test]
fn kill_9_while_importing_blocks_loses_no_accepted_block() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let miner = new_devnet_address();
    let mut seen: Vec<(u64, String)> = Vec::new();
    for round in 0..3 {
        let mut child = node(dir.path(), port, Some(&miner));
        let start = seen.last().map_or(0, |s| s.0);
        // Watch blocks being imported, recording each one the API acknowledged.
        let target = start + 15;
        wait_for(Duration::from_secs(120), "mining progress", || {
            let h = height(&base)?;
            for i in seen.last().map_or(0, |s| s.0 + 1)..=h {
                let b = get(&base, &format!("/blocks/{i}"))?;
                seen.push((i, b["hash"].as_str()?.to_owned()));
            }
            (h >= target).then_some(())
        });
        // SIGKILL in the middle of mining and importing.
        child.0.kill().unwrap();
        child.0.wait().unwrap();
        drop(child);
        let _restarted = node(dir.path(), port, None);
        let h = wait_for(Duration::from_secs(30), "the restarted node", || {
            height(&base)
        });
        assert!(
            h >= seen.last().unwrap().0,
            "round {round}: restarted at {h}, below acknowledged {}",
            seen.last().unwrap().0
        );
        for (i, hash) in &seen {
            let b = get(&base, &format!("/blocks/{i}")).unwrap();
            assert_eq!(
                b["hash"].as_str().unwrap(),
                hash,
                "round {round}, height {i}"
            );
        }
        // Keep what the restarted node has beyond what we saw, to check next round.
        for i in seen.last().unwrap().0 + 1..=h {
            let b = get(&base, &format!("/blocks/{i}")).unwrap();
            seen.push((i, b["hash"].as_str().unwrap().to_owned()));
        }
    }
}

/// A fresh devnet address, made by the CLI.
fn new_devnet_address() -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.key");
    let out = aic()
        .args(["wallet", "new", "--network", "devnet", "--json"])
        .arg("--wallet")
        .arg(&path)
        .output()
        .unwrap();
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn every_command_has_help_with_examples() {
    for args in [
        vec!["--help"],
        vec!["node", "--help"],
        vec!["devnet", "--help"],
        vec!["wallet", "--help"],
        vec!["wallet", "send", "--help"],
        vec!["wallet", "balance", "--help"],
        vec!["miner", "--help"],
        vec!["miner", "bench", "--help"],
        vec!["miner", "tune", "--help"],
        vec!["data", "--help"],
        vec!["data", "digitize", "--help"],
        vec!["data", "publish", "--help"],
        vec!["data", "fetch", "--help"],
        vec!["data", "verify", "--help"],
    ] {
        let out = aic().args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains("Usage"), "{args:?}");
    }
    for cmd in [
        &["devnet"][..],
        &["node"],
        &["miner"],
        &["data", "digitize"],
        &["data", "publish"],
        &["data", "fetch"],
        &["data", "info"],
        &["data", "verify"],
        &["worker", "devices"],
        &["worker", "bench"],
        &["worker", "run"],
        &["worker", "status"],
        &["worker", "pause"],
        &["worker", "resume"],
        &["net", "status"],
        &["net", "block"],
        &["net", "unblock"],
        &["net", "dial"],
    ] {
        let out = aic().args(cmd).arg("--help").output().unwrap();
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("Examples"),
            "{cmd:?}"
        );
    }
    // `aic miner` without a pool says what is missing.
    let out = aic().args(["miner"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("--pool"));
    // Bad input to the CLI is a clear error, not a panic.
    let out = aic()
        .args(["wallet", "address", "--wallet", "/nonexistent/w.key"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr)
        .unwrap()
        .contains("aic wallet new"));
}

/// `aic worker`: the CPU in the standard descriptor, a running worker's metrics and status
/// over loopback, and the live view's one-shot form.
#[test]
fn the_worker_describes_the_cpu_and_serves_its_status() {
    let out = aic()
        .args(["worker", "devices", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let devices: Value = serde_json::from_slice(&out.stdout).unwrap();
    let cpu = &devices["devices"][0];
    assert_eq!(cpu["kind"], "cpu");
    assert_eq!(cpu["schema_version"], 1);
    assert!(cpu["threads"].as_u64().unwrap() >= 1);

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _worker = Guard(
        aic()
            .args(["worker", "run", "--seconds", "30", "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let status = wait_for(Duration::from_secs(20), "a worker sample", || {
        get(&base, "/worker/status").filter(|s| !s["latest"].is_null())
    });
    assert_eq!(
        status["devices"][0]["id"],
        status["latest"]["devices"][0]["device"]
    );
    let metrics = ureq::get(&format!("{base}/metrics"))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(metrics.contains("# TYPE aic_worker_device_utilization_ratio gauge"));
    let out = aic()
        .args(["worker", "status", "--once", "--worker", &base])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8(out.stdout).unwrap().contains("per core"));
}
