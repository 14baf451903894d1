//! Whole networks of swarms in one process, on loopback, over the in-memory test chain:
//! sync from empty, gossip of blocks, transactions and announcements, blob exchange, and a
//! misbehaving peer banned while the others go on. Every wait is bounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_p2p::testkit::{mine_child, MemChain};
use aic_p2p::wire::Announcement;
use aic_p2p::{start, ChainView, Keypair, Multiaddr, P2pConfig, P2pEvent, P2pHandle};
use aic_primitives::{Action, Amount, ChainParams, SecretKey, Transaction, TxBody};

mod support;

fn config(bootnodes: Vec<Multiaddr>) -> P2pConfig {
    let mut c = P2pConfig::new(&ChainParams::devnet());
    c.listen = vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()];
    c.bootnodes = bootnodes;
    c.mdns = false;
    c.heartbeat = Duration::from_millis(200);
    c
}

async fn node(chain: Arc<MemChain>, bootnodes: Vec<Multiaddr>) -> P2pHandle {
    start(config(bootnodes), Keypair::generate_ed25519(), chain)
        .await
        .unwrap()
        .0
}

/// Polls `f` every 50 ms until it holds or `limit` passes.
async fn until(limit: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tx(nonce: u64) -> Transaction {
    let key = SecretKey::from_seed([3; 32]);
    Transaction::Signed(
        TxBody {
            chain_id: ChainParams::devnet().chain_id,
            sender: key.public_key(),
            nonce,
            fee: Amount::from_units(1_000),
            action: Action::Transfer {
                to: aic_primitives::Address::from_public_key(&key.public_key()),
                amount: Amount::from_units(1),
            },
        }
        .sign(&key),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_nodes_sync_then_follow_gossip_and_fetch_blobs() {
    let a_chain = Arc::new(MemChain::new());
    a_chain.mine(500, 1);
    let a = node(a_chain.clone(), Vec::new()).await;
    let boot = a.listen_addrs();
    let b_chain = Arc::new(MemChain::new());
    let c_chain = Arc::new(MemChain::new());
    let b = node(b_chain.clone(), boot.clone()).await;
    let c = node(c_chain.clone(), boot.clone()).await;
    let target = a_chain.tip();
    until(Duration::from_secs(30), "sync of 500 blocks", || {
        b_chain.tip() == target && c_chain.tip() == target
    })
    .await;

    // A new block propagates by gossip.
    let next = mine_child(&a_chain.tip_header(), 9_999, Vec::new());
    assert!(matches!(
        aic_p2p::ChainSink::submit_block(&*a_chain, next.clone()),
        aic_p2p::BlockVerdict::Accepted { is_tip: true }
    ));
    // Wait for the gossip mesh to form before publishing.
    tokio::time::sleep(Duration::from_millis(800)).await;
    a.publish_block(next.clone()).await.unwrap();
    until(Duration::from_secs(10), "block gossip", || {
        b_chain.tip().hash == next.hash() && c_chain.tip().hash == next.hash()
    })
    .await;

    // A transaction gossiped by B reaches A and C (C through A).
    let t = tx(0);
    aic_p2p::ChainSink::submit_tx(&*b_chain, t.clone());
    b.publish_tx(t.clone()).await.unwrap();
    until(Duration::from_secs(10), "tx gossip", || {
        a_chain.in_mempool(&t.txid()) && c_chain.in_mempool(&t.txid())
    })
    .await;

    // A market announcement reaches B.
    let mut events = b.events();
    let ann = Announcement {
        kind: 1,
        body: b"job 7 posted".to_vec(),
    };
    a.announce(ann.clone()).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(P2pEvent::Announcement { announcement, .. }) = events.recv().await {
                return announcement;
            }
        }
    })
    .await
    .expect("announcement within 10 s");
    assert_eq!(got, ann);

    // A 3 MiB blob (four chunks) published on A is fetched by C, verified, stored.
    let blob: Vec<u8> = (0..3 * 1024 * 1024 + 17)
        .map(|i| (i * 7 % 251) as u8)
        .collect();
    let id = a_chain.add_blob(&blob);
    let len = tokio::time::timeout(Duration::from_secs(20), c.fetch_blob(id))
        .await
        .expect("blob within 20 s")
        .unwrap();
    assert_eq!(len, blob.len() as u64);
    assert_eq!(c_chain.blob(&id).unwrap(), blob);
    // A blob nobody has is an error, not a hang.
    let missing = aic_blob::BlobId::of(b"nobody has this");
    assert!(c.fetch_blob(missing).await.is_err());

    let stats = b.stats().await.unwrap();
    assert!(stats.sync.blocks >= 500, "{stats:?}");
    for h in [a, b, c] {
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_sending_invalid_blocks_or_garbage_is_banned_and_the_network_goes_on() {
    let a_chain = Arc::new(MemChain::new());
    a_chain.mine(20, 1);
    let a = node(a_chain.clone(), Vec::new()).await;
    let boot = a.listen_addrs();
    let c_chain = Arc::new(MemChain::new());
    let c = node(c_chain.clone(), boot.clone()).await;
    until(Duration::from_secs(20), "honest sync", || {
        c_chain.tip() == a_chain.tip()
    })
    .await;
    let mut a_events = a.events();

    // 1. An attacker gossips a block whose body does not match its header.
    let evil_chain = Arc::new(MemChain::new());
    let evil = node(evil_chain.clone(), boot.clone()).await;
    until(Duration::from_secs(10), "attacker connected", || {
        futures::executor::block_on(a.peers())
            .unwrap()
            .iter()
            .any(|p| p.peer == evil.peer_id())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut bad = mine_child(&a_chain.tip_header(), 4_242, Vec::new());
    bad.header.merkle_root = aic_primitives::Hash256([1; 32]);
    let target = bad.header.bits.to_target().unwrap();
    while !target.is_met_by(&bad.header.hash()) {
        bad.header.nonce += 1;
    }
    evil.publish_block(bad).await.unwrap();
    let banned = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(P2pEvent::PeerBanned { peer, .. }) = a_events.recv().await {
                return peer;
            }
        }
    })
    .await
    .expect("ban within 10 s");
    assert_eq!(banned, evil.peer_id());
    until(Duration::from_secs(10), "attacker disconnected", || {
        !futures::executor::block_on(a.peers())
            .unwrap()
            .iter()
            .any(|p| p.peer == evil.peer_id())
    })
    .await;
    // It cannot come back.
    evil.dial(boot[0].clone()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!futures::executor::block_on(a.peers())
        .unwrap()
        .iter()
        .any(|p| p.peer == evil.peer_id()));

    // 2. A raw libp2p peer sends random bytes as sync requests: charged twice, banned.
    let garbage_peer = support::send_garbage(boot[0].clone(), a.peer_id(), 3).await;
    let banned = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(P2pEvent::PeerBanned { peer, .. }) = a_events.recv().await {
                return peer;
            }
        }
    })
    .await
    .expect("garbage ban within 10 s");
    assert_eq!(banned, garbage_peer);

    // 3. The honest network goes on: a new block reaches C.
    let next = a_chain.mine(1, 10_000).pop().unwrap();
    a.publish_block(next.clone()).await.unwrap();
    until(Duration::from_secs(10), "gossip after the bans", || {
        c_chain.tip().hash == next.hash()
    })
    .await;
    assert_eq!(a.stats().await.unwrap().bans, 2);
    for h in [a, c, evil] {
        h.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_blob_and_an_invalid_tx_are_charged_and_the_good_copy_is_fetched() {
    let blob: Vec<u8> = (0..200_000u32).map(|i| (i % 253) as u8).collect();
    let id = aic_blob::BlobId::of(&blob);
    // A serves bytes that do not hash to the id; B serves the real blob.
    let a_chain = Arc::new(MemChain::new());
    let mut corrupt = blob.clone();
    corrupt[1_000] ^= 1;
    a_chain.add_corrupt_blob(id, &corrupt);
    let a = node(a_chain.clone(), Vec::new()).await;
    let b_chain = Arc::new(MemChain::new());
    b_chain.add_blob(&blob);
    let b = node(b_chain.clone(), a.listen_addrs()).await;
    let c_chain = Arc::new(MemChain::new());
    let c = node(
        c_chain.clone(),
        [a.listen_addrs(), b.listen_addrs()].concat(),
    )
    .await;
    let mut events = c.events();
    until(Duration::from_secs(10), "C connected to A and B", || {
        futures::executor::block_on(c.peers()).unwrap().len() == 2
    })
    .await;
    let len = tokio::time::timeout(Duration::from_secs(20), c.fetch_blob(id))
        .await
        .expect("blob within 20 s")
        .unwrap();
    assert_eq!(len, blob.len() as u64);
    assert_eq!(c_chain.blob(&id).unwrap(), blob);
    // Whichever holder was tried first, A's bytes never verify: if A was asked, A was charged.
    let mut charged = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let P2pEvent::PeerPenalized { peer, offence, .. } = e {
            charged.push((peer, offence));
        }
    }
    assert!(
        charged
            .iter()
            .all(|(p, o)| *p == a.peer_id() && *o == aic_p2p::score::Offence::InvalidBlob),
        "{charged:?}"
    );
    // Ask A alone: its copy is refused and it is charged.
    let other = aic_blob::BlobId::of(b"another blob");
    a_chain.add_corrupt_blob(other, b"not another blob");
    assert!(c.fetch_blob(other).await.is_err());
    assert!(c_chain.blob(&other).is_none());
    let got = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Ok(P2pEvent::PeerPenalized { peer, offence, .. }) = events.recv().await {
                return (peer, offence);
            }
        }
    })
    .await
    .expect("the corrupt holder charged");
    assert_eq!(got, (a.peer_id(), aic_p2p::score::Offence::InvalidBlob));

    // A transaction that can never be valid (a standalone coinbase) gossiped by B.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let coinbase = mine_child(&c_chain.tip_header(), 5, Vec::new()).txs[0].clone();
    b.publish_tx(coinbase).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Ok(P2pEvent::PeerPenalized {
                peer,
                offence: aic_p2p::score::Offence::InvalidTx,
                ..
            }) = events.recv().await
            {
                return peer;
            }
        }
    })
    .await
    .expect("the invalid tx's sender charged");
    assert_eq!(got, b.peer_id());
    for h in [a, b, c] {
        h.shutdown().await;
    }
}

#[cfg(feature = "quic")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sync_over_quic() {
    let quic = |boot: Vec<Multiaddr>| {
        let mut c = config(boot);
        c.listen = vec!["/ip4/127.0.0.1/udp/0/quic-v1".parse().unwrap()];
        c
    };
    let a_chain = Arc::new(MemChain::new());
    a_chain.mine(50, 1);
    let (a, _) = start(
        quic(Vec::new()),
        Keypair::generate_ed25519(),
        a_chain.clone(),
    )
    .await
    .unwrap();
    assert!(a.listen_addrs()[0].to_string().contains("/quic-v1/"));
    let b_chain = Arc::new(MemChain::new());
    let (b, _) = start(
        quic(a.listen_addrs()),
        Keypair::generate_ed25519(),
        b_chain.clone(),
    )
    .await
    .unwrap();
    until(Duration::from_secs(20), "sync over QUIC", || {
        b_chain.tip() == a_chain.tip()
    })
    .await;
    a.shutdown().await;
    b.shutdown().await;
}
