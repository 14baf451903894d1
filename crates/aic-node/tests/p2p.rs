//! Real nodes (redb in temp dirs, the built-in miner, the network on loopback) in one
//! process: a 2,000-block sync from an empty data dir, during which gossip between the nodes
//! in step goes on, and a restart that catches up through the peer store; five nodes
//! partitioned 2/3, each side mining, healed, converging on the most-work chain with exactly
//! one of two conflicting spends; a peer gossiping an invalid block banned while the others go
//! on; a three-node devnet cluster. Every wait is bounded.

use std::path::Path;
use std::time::{Duration, Instant};

use aic_chain::BlockTemplate;
use aic_node::{NodeConfig, P2pSection, RunningNode};
use aic_p2p::P2pEvent;
use aic_primitives::{
    Action, Address, Amount, Block, ChainParams, Hash256, Height, SecretKey, Transaction, TxBody,
};
use aic_rpc::NodeHandle;

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

async fn start(dir: &Path, bootnodes: Vec<String>) -> RunningNode {
    let config = NodeConfig {
        network: "devnet".to_owned(),
        data_dir: dir.to_owned(),
        api_addr: "127.0.0.1:0".parse().unwrap(),
        miner_threads: 1,
        p2p: P2pSection {
            enabled: true,
            listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
            bootnodes,
            mdns: false,
            ..P2pSection::default()
        },
        ..NodeConfig::default()
    };
    RunningNode::start(&config).await.unwrap()
}

fn boot(n: &RunningNode) -> Vec<String> {
    n.p2p
        .as_ref()
        .unwrap()
        .listen_addrs()
        .iter()
        .map(|a| a.to_string())
        .collect()
}

fn tip(n: &RunningNode) -> (Height, Hash256) {
    let t = n.handle.chain().tip();
    (t.entry.height, t.hash)
}

/// Polls `f` every 50 ms until it holds or `limit` passes.
async fn until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(
            start.elapsed() < limit,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn mine(t: &BlockTemplate, time: u32) -> Block {
    let target = t.bits.to_target().unwrap();
    let mut header = t.header([9; 8], time, 0);
    while !target.is_met_by(&header.hash()) {
        header.nonce += 1;
    }
    t.assemble([9; 8], header)
}

/// Mines `n` blocks on the node's chain with on-schedule timestamps (two seconds apart
/// from genesis, so the difficulty stays at the devnet limit), submitted as the node's own.
fn mine_on_schedule(handle: &NodeHandle, n: usize, payout: Address) {
    let genesis_time = handle.chain().params().genesis_time;
    for _ in 0..n {
        let t = handle.chain().block_template(payout, handle.now());
        let b = mine(&t, genesis_time + 2 * t.height.0 as u32);
        handle.submit_block(b).unwrap();
    }
}

async fn peer_count(n: &RunningNode) -> usize {
    n.p2p.as_ref().unwrap().peers().await.unwrap().len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_node_syncs_2000_blocks_and_a_restarted_node_catches_up() {
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start(da.path(), Vec::new()).await;
    let h = a.handle.clone();
    tokio::task::spawn_blocking(move || mine_on_schedule(&h, 2_000, addr(1)))
        .await
        .unwrap();
    assert_eq!(tip(&a).0, Height(2_000));

    // C is in step with A before B arrives.
    let dc = tempfile::tempdir().unwrap();
    let c = start(dc.path(), boot(&a)).await;
    until(Duration::from_secs(180), "C in step with A", || {
        tip(&c) == tip(&a)
    })
    .await;

    let started = Instant::now();
    let b = start(db.path(), boot(&a)).await;
    // While B downloads, a block A mines reaches C at once: a far-behind node does not
    // stall the others.
    until(Duration::from_secs(30), "B syncing", || {
        tip(&b).0 > Height(50)
    })
    .await;
    let h = a.handle.clone();
    tokio::task::spawn_blocking(move || mine_on_schedule(&h, 1, addr(1)))
        .await
        .unwrap();
    let mined = Instant::now();
    until(
        Duration::from_secs(5),
        "gossip to C during B's sync",
        || tip(&c) == tip(&a),
    )
    .await;
    let gossip = mined.elapsed();
    let b_height = tip(&b).0;
    assert!(
        b_height < Height(2_001),
        "B finished before the check ({gossip:?}); the test proves nothing"
    );
    until(Duration::from_secs(180), "2,000-block sync", || {
        tip(&b) == tip(&a)
    })
    .await;
    let secs = started.elapsed().as_secs_f64();
    assert!(secs < 180.0);
    c.shutdown().await;
    let b_peer = b.p2p.as_ref().unwrap().peer_id();
    b.shutdown().await;

    // The peer store remembers A; the restarted node has no bootnodes and finds A there.
    let stored = std::fs::read_to_string(db.path().join(aic_node::network::PEER_STORE)).unwrap();
    let a_peer = a.p2p.as_ref().unwrap().peer_id().to_string();
    assert!(stored.contains(&a_peer), "{stored}");
    let h = a.handle.clone();
    tokio::task::spawn_blocking(move || mine_on_schedule(&h, 50, addr(1)))
        .await
        .unwrap();
    let b = start(db.path(), Vec::new()).await;
    // The same network key: the same peer id.
    assert_eq!(b.p2p.as_ref().unwrap().peer_id(), b_peer);
    until(Duration::from_secs(60), "catch-up after restart", || {
        tip(&b) == tip(&a)
    })
    .await;
    assert_eq!(tip(&b).0, Height(2_051));
    b.shutdown().await;
    a.shutdown().await;
}

fn transfer(from: u8, nonce: u64, to: Address) -> Transaction {
    Transaction::Signed(
        TxBody {
            chain_id: ChainParams::devnet().chain_id,
            sender: key(from).public_key(),
            nonce,
            fee: Amount::from_units(1_000),
            action: Action::Transfer {
                to,
                amount: Amount::from_units(5 * Amount::UNITS_PER_AIC),
            },
        }
        .sign(&key(from)),
    )
}

/// How many times each of `txids` appears on the node's main chain.
fn spends_on_main_chain(n: &RunningNode, txids: &[Hash256]) -> Vec<usize> {
    let chain = n.handle.chain();
    let mut counts = vec![0; txids.len()];
    for h in 0..=chain.height().0 {
        let hash = chain.hash_at(Height(h)).unwrap();
        let block = chain.block(&hash).unwrap().unwrap();
        for tx in &block.txs {
            let id = tx.txid();
            for (i, t) in txids.iter().enumerate() {
                if *t == id {
                    counts[i] += 1;
                }
            }
        }
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_nodes_partitioned_mine_apart_heal_and_keep_one_spend() {
    let dirs: Vec<_> = (0..5).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut nodes: Vec<RunningNode> = Vec::new();
    for d in &dirs {
        let boots = nodes.iter().flat_map(boot).collect();
        nodes.push(start(d.path(), boots).await);
    }
    let ids: Vec<_> = nodes
        .iter()
        .map(|n| n.p2p.as_ref().unwrap().peer_id())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(20);
    for n in &nodes {
        while peer_count(n).await < 4 {
            assert!(Instant::now() < deadline, "full mesh within 20 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    // Node 0 mines five blocks paying key 7, which will spend twice.
    nodes[0].start_miner(addr(7), Some(Height(5)));
    until(
        Duration::from_secs(30),
        "five shared blocks everywhere",
        || {
            nodes
                .iter()
                .all(|n| tip(n) == tip(&nodes[0]) && tip(n).0 == Height(5))
        },
    )
    .await;
    nodes[0].stop_miner();

    // Partition {0, 2} | {1, 3, 4}: every link across is closed and refused.
    let (side_a, side_b) = ([0usize, 2], [1usize, 3, 4]);
    for &i in &side_a {
        for &j in &side_b {
            nodes[i].p2p.as_ref().unwrap().block(ids[j]).await.unwrap();
            nodes[j].p2p.as_ref().unwrap().block(ids[i]).await.unwrap();
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    for (side, want) in [(&side_a[..], 1), (&side_b[..], 2)] {
        for &i in side {
            while peer_count(&nodes[i]).await != want {
                assert!(Instant::now() < deadline, "partition within 10 s");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    // The same nonce spent to different recipients on each side.
    let tx_a = transfer(7, 0, addr(20));
    let tx_b = transfer(7, 0, addr(21));
    let (id_a, id_b) = (tx_a.txid(), tx_b.txid());
    nodes[0].handle.submit_tx(tx_a).unwrap();
    nodes[1].handle.submit_tx(tx_b).unwrap();
    until(
        Duration::from_secs(10),
        "each spend gossiped on its side",
        || {
            nodes[2].handle.chain().mempool().get(&id_a).is_some()
                && nodes[3].handle.chain().mempool().get(&id_b).is_some()
                && nodes[4].handle.chain().mempool().get(&id_b).is_some()
        },
    )
    .await;

    // Each side mines: three blocks on side A, six on side B (more work).
    nodes[0].start_miner(addr(10), Some(Height(8)));
    nodes[1].start_miner(addr(11), Some(Height(11)));
    until(
        Duration::from_secs(60),
        "each side on its own chain",
        || {
            side_a
                .iter()
                .all(|&i| tip(&nodes[i]) == tip(&nodes[0]) && tip(&nodes[i]).0 == Height(8))
                && side_b
                    .iter()
                    .all(|&i| tip(&nodes[i]) == tip(&nodes[1]) && tip(&nodes[i]).0 == Height(11))
        },
    )
    .await;
    assert_eq!(spends_on_main_chain(&nodes[0], &[id_a, id_b]), vec![1, 0]);
    assert_eq!(spends_on_main_chain(&nodes[1], &[id_a, id_b]), vec![0, 1]);
    let winner = tip(&nodes[1]);

    // Heal: every block lifted; all five converge on the most-work chain.
    let healed = Instant::now();
    for &i in &side_a {
        for &j in &side_b {
            nodes[i]
                .p2p
                .as_ref()
                .unwrap()
                .unblock(ids[j])
                .await
                .unwrap();
            nodes[j]
                .p2p
                .as_ref()
                .unwrap()
                .unblock(ids[i])
                .await
                .unwrap();
        }
    }
    until(
        Duration::from_secs(30),
        "convergence after the heal",
        || nodes.iter().all(|n| tip(n) == winner),
    )
    .await;
    assert!(healed.elapsed() < Duration::from_secs(30));
    for n in &nodes {
        assert_eq!(spends_on_main_chain(n, &[id_a, id_b]), vec![0, 1]);
        assert_eq!(n.handle.chain().account(&addr(7)).nonce, 1);
    }
    for mut n in nodes {
        n.stop_miner();
        n.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_gossiping_an_invalid_block_is_banned_and_the_network_goes_on() {
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let honest = start(dirs[0].path(), Vec::new()).await;
    let other = start(dirs[1].path(), boot(&honest)).await;
    let evil = start(dirs[2].path(), boot(&honest)).await;
    let h = honest.handle.clone();
    tokio::task::spawn_blocking(move || mine_on_schedule(&h, 3, addr(1)))
        .await
        .unwrap();
    until(Duration::from_secs(20), "everyone synced", || {
        tip(&other) == tip(&honest) && tip(&evil) == tip(&honest)
    })
    .await;
    let mut events = honest.p2p.as_ref().unwrap().events();
    let evil_id = evil.p2p.as_ref().unwrap().peer_id();

    // A block whose header does not commit to its transactions, with valid proof of work.
    let t = evil
        .handle
        .chain()
        .block_template(addr(66), evil.handle.now());
    let genesis_time = ChainParams::devnet().genesis_time;
    let mut bad = mine(&t, genesis_time + 2 * t.height.0 as u32);
    bad.header.merkle_root = Hash256([5; 32]);
    let target = bad.header.bits.to_target().unwrap();
    while !target.is_met_by(&bad.header.hash()) {
        bad.header.nonce += 1;
    }
    // Give the gossip mesh a heartbeat to form.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    evil.p2p.as_ref().unwrap().publish_block(bad).await.unwrap();
    let banned = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(P2pEvent::PeerBanned { peer, .. }) = events.recv().await {
                if peer == evil_id {
                    return peer;
                }
            }
        }
    })
    .await
    .expect("the invalid block's sender banned within 10 s");
    assert_eq!(banned, evil_id);
    let p2p = honest.p2p.as_ref().unwrap();
    until(
        Duration::from_secs(10),
        "the banned peer disconnected",
        || !futures_peers(p2p).contains(&evil_id),
    )
    .await;

    // The honest pair goes on: a new block reaches the other node.
    let h = honest.handle.clone();
    tokio::task::spawn_blocking(move || mine_on_schedule(&h, 1, addr(1)))
        .await
        .unwrap();
    until(Duration::from_secs(10), "gossip after the ban", || {
        tip(&other) == tip(&honest)
    })
    .await;
    // The ban is in the peer store, so it outlives a restart.
    honest.shutdown().await;
    let stored =
        std::fs::read_to_string(dirs[0].path().join(aic_node::network::PEER_STORE)).unwrap();
    assert!(stored.contains(&format!("ban {evil_id}")), "{stored}");
    other.shutdown().await;
    evil.shutdown().await;
}

/// The connected peer ids (blocking on the handle from a sync closure).
fn futures_peers(p2p: &aic_p2p::P2pHandle) -> Vec<aic_p2p::PeerId> {
    let p2p = p2p.clone();
    let peers = std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(p2p.peers())
    })
    .join()
    .unwrap()
    .unwrap_or_default();
    peers.into_iter().map(|p| p.peer).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_devnet_cluster_of_three_shares_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let cluster = aic_node::devnet::Cluster::start(&aic_node::devnet::ClusterOptions {
        data_dir: dir.path().to_owned(),
        nodes: 3,
        miners: 1,
        miner_threads: 1,
        max_height: Some(10),
        api_addr: "127.0.0.1:0".parse().unwrap(),
    })
    .await
    .unwrap();
    let n = &cluster.nodes;
    until(Duration::from_secs(30), "three nodes at height 10", || {
        n.iter()
            .all(|x| tip(x) == tip(&n[0]) && tip(x).0 == Height(10))
    })
    .await;
    cluster.shutdown().await;
}
