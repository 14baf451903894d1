//! Running the `aic` binary from integration tests.

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

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

/// A child process killed when the test ends, pass or fail.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A loopback port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET url` as JSON, `None` on any failure.
pub fn get(url: &str) -> Option<Value> {
    ureq::get(url)
        .timeout(Duration::from_secs(5))
        .call()
        .ok()?
        .into_json()
        .ok()
}

/// Polls `f` every 100 ms until it gives a value, for at most `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Starts `aic ARGS` in `dir` in the background, output discarded.
pub fn spawn(dir: &Path, args: &[&str]) -> Guard {
    Guard(
        Command::new(env!("CARGO_BIN_EXE_aic"))
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// `aic wallet new` for devnet into `dir/NAME`: the new address.
pub fn new_wallet(dir: &Path, name: &str) -> String {
    json(
        dir,
        &[
            "wallet",
            "new",
            "--network",
            "devnet",
            "--wallet",
            name,
            "--json",
        ],
    )["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A devnet node alone (no network) in `dir/node`, its API on `api` and a Stratum pool on
/// `stratum`, both on loopback.
pub fn spawn_pool_node(dir: &Path, api: u16, stratum: u16) -> Guard {
    spawn(
        dir,
        &[
            "node",
            "--network",
            "devnet",
            "--no-p2p",
            "--data-dir",
            "node",
            "--api-addr",
            &format!("127.0.0.1:{api}"),
            "--stratum-addr",
            &format!("127.0.0.1:{stratum}"),
        ],
    )
}
