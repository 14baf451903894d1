//! Measures the peer-to-peer network with real nodes on loopback (redb in temp dirs):
//!
//! - **sync**: an empty node syncs `blocks` blocks, from one peer and then from three;
//!   blocks per second from the first dial to the last block stored.
//! - **propagation**: five fully connected nodes; node 0 mines `rounds` blocks one at a
//!   time; the latency from node 0's submit to each other node's new tip (p50, p99).
//!
//! `cargo run -p aic-node --release --example p2p_bench -- bench [blocks] [rounds]`
//! (defaults 2000 and 200). Without `bench` it runs a short smoke version.

#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aic_node::{NodeConfig, P2pSection, RunningNode};
use aic_primitives::{Address, Hash256, SecretKey};
use aic_rpc::NodeHandle;

async fn start(dir: &Path, bootnodes: Vec<String>) -> RunningNode {
    let config = NodeConfig {
        network: "devnet".to_owned(),
        data_dir: dir.to_owned(),
        api_addr: "127.0.0.1:0".parse().expect("an address"),
        p2p: P2pSection {
            enabled: true,
            listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
            bootnodes,
            mdns: false,
            ..P2pSection::default()
        },
        ..NodeConfig::default()
    };
    RunningNode::start(&config).await.expect("node starts")
}

fn boot(n: &RunningNode) -> Vec<String> {
    n.p2p
        .as_ref()
        .map(|p| p.listen_addrs().iter().map(|a| a.to_string()).collect())
        .unwrap_or_default()
}

fn payout() -> Address {
    Address::from_public_key(&SecretKey::from_seed([1; 32]).public_key())
}

/// Mines one block on schedule (difficulty stays at the devnet limit); returns its hash.
fn mine_one(handle: &NodeHandle) -> Hash256 {
    let genesis_time = handle.chain().params().genesis_time;
    let t = handle.chain().block_template(payout(), handle.now());
    let target = t.bits.to_target().expect("valid bits");
    let mut header = t.header([3; 8], genesis_time + 2 * t.height.0 as u32, 0);
    while !target.is_met_by(&header.hash()) {
        header.nonce += 1;
    }
    let block = t.assemble([3; 8], header);
    let hash = block.hash();
    handle.submit_block(block).expect("block accepted");
    hash
}

async fn wait_for(target: &RunningNode, tip: Hash256, limit: Duration) -> Duration {
    let started = Instant::now();
    while target.handle.chain().tip().hash != tip {
        assert!(started.elapsed() < limit, "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bench = args.get(1).is_some_and(|a| a == "bench");
    let blocks: usize = args
        .get(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(if bench { 2_000 } else { 200 });
    let rounds: usize = args
        .get(3)
        .and_then(|a| a.parse().ok())
        .unwrap_or(if bench { 200 } else { 20 });
    let dirs: Vec<_> = (0..6)
        .map(|_| tempfile::tempdir().expect("temp dir"))
        .collect();

    // Sync from one peer, then from three.
    let a = start(dirs[0].path(), Vec::new()).await;
    let h = a.handle.clone();
    tokio::task::spawn_blocking(move || {
        for _ in 0..blocks {
            mine_one(&h);
        }
    })
    .await
    .expect("mining");
    let tip = a.handle.chain().tip().hash;
    let started = Instant::now();
    let b = start(dirs[1].path(), boot(&a)).await;
    wait_for(&b, tip, Duration::from_secs(600)).await;
    let one = started.elapsed().as_secs_f64();
    let c = start(dirs[2].path(), boot(&a)).await;
    wait_for(&c, tip, Duration::from_secs(600)).await;
    let started = Instant::now();
    let d = start(dirs[3].path(), [boot(&a), boot(&b), boot(&c)].concat()).await;
    wait_for(&d, tip, Duration::from_secs(600)).await;
    let three = started.elapsed().as_secs_f64();
    println!(
        "sync {blocks} blocks from 1 peer: {one:.2} s, {:.0} blocks/s",
        blocks as f64 / one
    );
    println!(
        "sync {blocks} blocks from 3 peers: {three:.2} s, {:.0} blocks/s",
        blocks as f64 / three
    );

    // Propagation across five nodes (a, b, c, d and a fresh e).
    let e = start(
        dirs[4].path(),
        [boot(&a), boot(&b), boot(&c), boot(&d)].concat(),
    )
    .await;
    wait_for(&e, tip, Duration::from_secs(600)).await;
    let nodes = [a, b, c, d, e];
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in &nodes {
        while n.p2p.as_ref().map_or(0, futures_peers) < 4 {
            assert!(Instant::now() < deadline, "full mesh");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Let the gossip mesh settle (a few heartbeats).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let seen: Arc<Mutex<HashMap<(usize, Hash256), Instant>>> = Arc::default();
    let mut watchers = Vec::new();
    for (i, n) in nodes.iter().enumerate().skip(1) {
        let mut rx = n.handle.subscribe();
        let seen = seen.clone();
        watchers.push(tokio::spawn(async move {
            while rx.changed().await.is_ok() {
                let hash = rx.borrow_and_update().hash;
                let now = Instant::now();
                seen.lock().expect("lock").entry((i, hash)).or_insert(now);
            }
        }));
    }
    let mut latencies = Vec::new();
    let mut fallbacks = 0usize;
    for _ in 0..rounds {
        let h = nodes[0].handle.clone();
        let sent = Instant::now();
        let hash = tokio::task::spawn_blocking(move || mine_one(&h))
            .await
            .expect("mining");
        let mut polled = Vec::new();
        for n in nodes.iter().skip(1) {
            wait_for(n, hash, Duration::from_secs(30)).await;
            polled.push(sent.elapsed());
        }
        // Let the watchers record what they saw.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let seen = seen.lock().expect("lock");
        for (i, upper) in (1..nodes.len()).zip(polled) {
            // The watcher's time; if it missed the change (two tips between its wake-ups),
            // the polling loop's, which is at most 5 ms late.
            let t = match seen.get(&(i, hash)) {
                Some(t) => t.saturating_duration_since(sent),
                None => {
                    fallbacks += 1;
                    upper
                }
            };
            latencies.push(t.as_secs_f64() * 1_000.0);
        }
    }
    latencies.sort_by(|x, y| x.total_cmp(y));
    println!(
        "block propagation over 5 nodes, {} samples ({rounds} blocks x 4 nodes, {fallbacks} timed by polling): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(0.0)
    );
    for w in watchers {
        w.abort();
    }
    for n in nodes {
        n.shutdown().await;
    }
}

fn futures_peers(p2p: &aic_p2p::P2pHandle) -> usize {
    let p2p = p2p.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .map(|rt| rt.block_on(p2p.peers()).map_or(0, |v| v.len()))
            .unwrap_or(0)
    })
    .join()
    .unwrap_or(0)
}
