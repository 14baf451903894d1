//! A bounded load test of the node's Stratum server on loopback.
//!
//! Starts a node (mainnet parameters, fresh temp dir, Stratum on 127.0.0.1:0), opens
//! `--connections` Stratum connections, and has each one mine and submit shares at a low
//! share difficulty for `--seconds`. Reports accepted shares per second and the submit
//! latency (request written to answer read) percentiles. Every loop is bounded by the
//! deadline; only loopback addresses are used.
//!
//! ```sh
//! cargo run --release -p aic-node --example stratum_load -- --connections 1000 --seconds 20
//! ```
#![allow(missing_docs, clippy::print_stdout, clippy::print_stderr)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_miner::{Job, Kernel, WorkTemplate};
use aic_node::{NodeConfig, RunningNode};
use aic_primitives::{Address, Network, SecretKey};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Share difficulty the clients ask for: about 2^12 hashes per share.
const SHARE_DIFFICULTY: f64 = 1e-6;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[derive(Default)]
struct Totals {
    accepted: AtomicU64,
    stale: AtomicU64,
    other_rejects: AtomicU64,
    connected: AtomicU64,
}

async fn connection(
    addr: std::net::SocketAddr,
    user: String,
    kernel: Arc<dyn Kernel>,
    deadline: Instant,
    totals: Arc<Totals>,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    let Ok(stream) = TcpStream::connect(addr).await else {
        return latencies;
    };
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let send = |v: Value| {
        let mut s = v.to_string();
        s.push('\n');
        s
    };
    let _ = write
        .write_all(send(json!({"id": 1, "method": "mining.subscribe", "params": []})).as_bytes())
        .await;
    let _ = write
        .write_all(send(json!({"id": 2, "method": "mining.suggest_difficulty", "params": [SHARE_DIFFICULTY]})).as_bytes())
        .await;
    let _ = write
        .write_all(
            send(json!({"id": 3, "method": "mining.authorize", "params": [user, "x"]})).as_bytes(),
        )
        .await;
    totals.connected.fetch_add(1, Ordering::Relaxed);
    let target = aic_miner::difficulty_target(SHARE_DIFFICULTY);
    let mut en1 = Vec::new();
    let mut current: Option<(String, WorkTemplate)> = None;
    let mut en2: u32 = 0;
    let mut pending: Option<(u64, Instant)> = None;
    let mut next_id = 100u64;
    while Instant::now() < deadline {
        // Mine and submit one share when nothing is pending.
        if pending.is_none() {
            if let Some((job_id, w)) = &current {
                en2 = en2.wrapping_add(1);
                let mut header = w.header(&en2.to_le_bytes(), w.ntime, w.version);
                header[76..].fill(0);
                let job = Job { header, target };
                let k = kernel.clone();
                let found = tokio::task::spawn_blocking(move || {
                    let mut found = Vec::new();
                    let mut start = 0u32;
                    // Small chunks: a kernel searches its whole chunk, and a share takes about
                    // 4,096 hashes.
                    while found.is_empty() && start < u32::MAX - 1024 {
                        k.search(&job, start, 1024, &mut found);
                        start += 1024;
                    }
                    found.first().map(|f| f.nonce)
                })
                .await
                .ok()
                .flatten();
                if let Some(nonce) = found {
                    let msg = json!({"id": next_id, "method": "mining.submit", "params": [
                        user, job_id, hex::encode(en2.to_le_bytes()), format!("{:08x}", w.ntime), format!("{nonce:08x}")
                    ]});
                    pending = Some((next_id, Instant::now()));
                    next_id += 1;
                    if write.write_all(send(msg).as_bytes()).await.is_err() {
                        break;
                    }
                }
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let line = match tokio::time::timeout(left, lines.next_line()).await {
            Ok(Ok(Some(l))) => l,
            _ => break,
        };
        let Ok(msg) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        if msg["method"] == "mining.notify" {
            if let Some(w) = aic_miner::work_from_notify(&msg["params"], &en1, 4, SHARE_DIFFICULTY)
            {
                current = Some((msg["params"][0].as_str().unwrap_or_default().to_owned(), w));
            }
        } else if msg["id"] == 1 {
            en1 = hex::decode(msg["result"][1].as_str().unwrap_or_default()).unwrap_or_default();
        } else if let Some((id, sent)) = pending {
            if msg["id"] == id {
                latencies.push(sent.elapsed());
                pending = None;
                if msg["result"] == true {
                    totals.accepted.fetch_add(1, Ordering::Relaxed);
                } else if msg["error"][0] == 21 {
                    totals.stale.fetch_add(1, Ordering::Relaxed);
                } else {
                    totals.other_rejects.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() {
    let connections = arg("--connections", 1000).min(5000) as usize;
    let seconds = arg("--seconds", 20).min(300);
    let dir = tempfile::tempdir().expect("temp dir");
    let config = NodeConfig {
        network: "mainnet".to_owned(),
        data_dir: dir.path().to_owned(),
        api_addr: "127.0.0.1:0".parse().expect("addr"),
        stratum_addr: Some("127.0.0.1:0".parse().expect("addr")),
        ..NodeConfig::default()
    };
    let node = RunningNode::start(&config).await.expect("node");
    let addr = node.stratum_addr.expect("stratum");
    let payout = Address::from_public_key(&SecretKey::from_seed([9; 32]).public_key())
        .to_bech32(Network::Mainnet);
    let kernel: Arc<dyn Kernel> = Arc::from(aic_miner::best());
    let totals = Arc::new(Totals::default());
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let tasks: Vec<_> = (0..connections)
        .map(|i| {
            tokio::spawn(connection(
                addr,
                format!("{payout}.w{i}"),
                kernel.clone(),
                deadline,
                totals.clone(),
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        if let Ok(l) = t.await {
            latencies.extend(l);
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort();
    let accepted = totals.accepted.load(Ordering::Relaxed);
    let height = node.handle.chain().height().0;
    let workers = node.handle.mining().snapshot();
    let result = json!({
        "kernel": kernel.name(),
        "connections": connections,
        "connected": totals.connected.load(Ordering::Relaxed),
        "workers_seen_by_server": workers.len(),
        "seconds": elapsed,
        "accepted": accepted,
        "accepted_per_sec": accepted as f64 / elapsed,
        "stale": totals.stale.load(Ordering::Relaxed),
        "other_rejects": totals.other_rejects.load(Ordering::Relaxed),
        "blocks_found": height,
        "submit_latency_ms": {
            "p50": percentile(&latencies, 0.50).as_secs_f64() * 1e3,
            "p99": percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            "max": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        }
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&result).unwrap_or_default()
    );
    node.shutdown().await;
}
