use super::*;
use crate::testkit::{mine_child, MemChain, TEST_BITS};
use crate::traits::{ChainSink, ChainView};

fn sync() -> Sync {
    Sync::new(SyncConfig::default(), TEST_BITS.to_target().unwrap())
}

fn status(chain: &MemChain) -> Status {
    let t = chain.tip();
    Status {
        genesis: chain.genesis(),
        tip: t.hash,
        height: t.height,
        work: t.work,
    }
}

/// Answers every request in `actions` from `server` (as peer `peer` would), feeding the
/// answers back, until nothing is left to ask; `order` shuffles which answer comes first.
fn drive(
    s: &mut Sync,
    local: &MemChain,
    servers: &HashMap<PeerId, &MemChain>,
    mut actions: Vec<Action>,
) -> (Vec<(PeerId, Offence)>, HashMap<PeerId, usize>) {
    let mut penalties = Vec::new();
    let mut blocks_served: HashMap<PeerId, usize> = HashMap::new();
    let now = Instant::now();
    let mut rounds = 0;
    while !actions.is_empty() {
        rounds += 1;
        assert!(rounds < 10_000, "sync does not converge");
        // Mostly first come first served, every third answer the newest: answers arrive
        // out of order.
        let a = if rounds % 3 == 0 {
            actions.pop().unwrap()
        } else {
            actions.remove(0)
        };
        match a {
            Action::Penalize { peer, offence } => penalties.push((peer, offence)),
            Action::Request { peer, request } => {
                let server = servers[&peer];
                let more = match request {
                    SyncRequest::Status => s.on_status(peer, status(server), local, now),
                    SyncRequest::Headers { locator, max } => {
                        let h = server.headers_after(&locator, max as usize);
                        s.on_headers(peer, h, local, now)
                    }
                    SyncRequest::Blocks(asked) => {
                        let blocks: Vec<Block> =
                            asked.iter().filter_map(|h| server.block(h)).collect();
                        *blocks_served.entry(peer).or_default() += blocks.len();
                        s.on_blocks(peer, &asked, blocks, local, now)
                    }
                };
                // Status refreshes are not due again within this test's instant.
                actions.extend(more);
            }
        }
    }
    (penalties, blocks_served)
}

#[test]
fn headers_first_then_blocks_from_several_peers_in_parallel() {
    let server = MemChain::new();
    server.mine(300, 1);
    let local = MemChain::new();
    let (a, b) = (PeerId::random(), PeerId::random());
    let servers = HashMap::from([(a, &server), (b, &server)]);
    let mut s = sync();
    let now = Instant::now();
    let mut actions = s.on_connected(a, now);
    actions.extend(s.on_connected(b, now));
    let (penalties, served) = drive(&mut s, &local, &servers, actions);
    assert!(penalties.is_empty(), "{penalties:?}");
    assert_eq!(local.tip(), server.tip());
    assert_eq!(s.queued(), 0);
    // Both peers served blocks.
    assert!(served.get(&a).copied().unwrap_or(0) > 0, "{served:?}");
    assert!(served.get(&b).copied().unwrap_or(0) > 0, "{served:?}");
    assert_eq!(s.stats().headers, 300);
    assert_eq!(s.stats().blocks, 300);
}

#[test]
fn a_lagging_node_on_a_fork_switches_to_the_chain_with_more_work() {
    let server = MemChain::new();
    let shared = server.mine(20, 1);
    server.mine(30, 100);
    let local = MemChain::new();
    for b in &shared {
        local.submit_block(b.clone());
    }
    local.mine(10, 500);
    let a = PeerId::random();
    let mut s = sync();
    let actions = s.on_connected(a, Instant::now());
    let (penalties, _) = drive(&mut s, &local, &HashMap::from([(a, &server)]), actions);
    assert!(penalties.is_empty());
    assert_eq!(local.tip(), server.tip());
}

#[test]
fn a_peer_without_the_blocks_is_not_asked_again_and_another_serves_them() {
    let server = MemChain::new();
    server.mine(40, 1);
    let empty = MemChain::new();
    let local = MemChain::new();
    let (liar, honest) = (PeerId::random(), PeerId::random());
    let mut s = sync();
    let now = Instant::now();
    // The liar claims the server's status but has no blocks.
    let mut actions = s.on_connected(liar, now);
    actions.retain(|a| !matches!(a, Action::Request { .. }));
    actions.extend(s.on_status(liar, status(&server), &local, now));
    // Take the liar's header request and answer it from the real chain.
    let Some(Action::Request {
        request: SyncRequest::Headers { locator, .. },
        ..
    }) = actions.pop()
    else {
        panic!("expected a header request")
    };
    let headers = server.headers_after(&locator, 2_000);
    let asks = s.on_headers(liar, headers, &local, now);
    // Every block request goes to the liar, which answers with nothing.
    let mut asks: Vec<Action> = asks;
    let mut guard = 0;
    while let Some(Action::Request {
        peer,
        request: SyncRequest::Blocks(asked),
    }) = asks.pop()
    {
        guard += 1;
        assert!(guard < 100);
        assert_eq!(peer, liar);
        asks.extend(s.on_blocks(liar, &asked, Vec::new(), &local, now));
    }
    // The liar lacked the front block and was the only peer: the queue was dropped.
    assert_eq!(s.queued(), 0);
    // The liar leaves (its last header request unanswered); an honest peer arrives and
    // everything comes from it.
    s.on_disconnected(&liar);
    let servers = HashMap::from([(honest, &server), (liar, &empty)]);
    let actions = s.on_connected(honest, now);
    let (_, served) = drive(&mut s, &local, &servers, actions);
    assert_eq!(local.tip(), server.tip());
    assert_eq!(served.get(&honest), Some(&40));
}

#[test]
fn invalid_headers_and_invalid_blocks_are_charged_to_the_sender() {
    let server = MemChain::new();
    let blocks = server.mine(5, 1);
    let local = MemChain::new();
    let p = PeerId::random();
    let mut s = sync();
    let now = Instant::now();
    s.on_connected(p, now);
    // Headers that do not link.
    let unlinked = vec![blocks[0].header, blocks[2].header];
    assert_eq!(
        s.on_headers(p, unlinked, &local, now),
        vec![Action::Penalize {
            peer: p,
            offence: Offence::InvalidHeaders
        }]
    );
    // Headers that attach to nothing we know.
    let detached = vec![blocks[1].header, blocks[2].header];
    assert_eq!(
        s.on_headers(p, detached, &local, now),
        vec![Action::Penalize {
            peer: p,
            offence: Offence::Unsolicited
        }]
    );
    // Good headers, then a block whose body does not match its header's merkle root: its
    // header is valid, so it is asked for, and the sender is charged when it fails.
    let mut bad = mine_child(&local.tip_header(), 77, Vec::new());
    bad.header.merkle_root = Hash256([9; 32]);
    let target = TEST_BITS.to_target().unwrap();
    while !target.is_met_by(&bad.header.hash()) {
        bad.header.nonce += 1;
    }
    s.on_status(p, status(&server), &local, now);
    let asks = s.on_headers(p, vec![bad.header], &local, now);
    let asked = asks
        .iter()
        .find_map(|a| match a {
            Action::Request {
                request: SyncRequest::Blocks(h),
                ..
            } => Some(h.clone()),
            _ => None,
        })
        .expect("the block is asked for");
    let after = s.on_blocks(p, &asked, vec![bad], &local, now);
    assert!(after.contains(&Action::Penalize {
        peer: p,
        offence: Offence::InvalidBlock
    }));
    assert_eq!(s.queued(), 0);
    // Blocks not asked for are charged too.
    let stray = mine_child(&local.tip_header(), 88, Vec::new());
    let after = s.on_blocks(p, &[], vec![stray], &local, now);
    assert!(after.contains(&Action::Penalize {
        peer: p,
        offence: Offence::Unsolicited
    }));
}

#[test]
fn a_gossiped_orphan_fetches_its_ancestors_and_is_connected_after_them() {
    let server = MemChain::new();
    let blocks = server.mine(12, 1);
    let local = MemChain::new();
    let p = PeerId::random();
    let mut s = sync();
    let now = Instant::now();
    s.on_connected(p, now);
    let tip = blocks.last().unwrap().clone();
    let (verdict, actions) = s.on_gossip_block(p, tip.clone(), &local, now);
    assert_eq!(verdict, BlockVerdict::Orphan);
    assert_eq!(s.orphans(), 1);
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::Request {
            request: SyncRequest::Headers { .. },
            ..
        }
    )));
    // The same orphan again is not resubmitted.
    assert_eq!(
        s.on_gossip_block(p, tip, &local, now).0,
        BlockVerdict::Orphan
    );
    let (penalties, _) = drive(&mut s, &local, &HashMap::from([(p, &server)]), actions);
    assert!(penalties.is_empty());
    assert_eq!(local.tip(), server.tip());
    // The orphan was either connected from the pool or fetched by sync; the pool is empty.
    assert_eq!(s.orphans(), 0);
}

#[test]
fn a_peer_on_another_chain_is_refused() {
    let local = MemChain::new();
    let p = PeerId::random();
    let mut s = sync();
    let now = Instant::now();
    s.on_connected(p, now);
    let mut st = status(&local);
    st.genesis = Hash256([1; 32]);
    assert_eq!(
        s.on_status(p, st, &local, now),
        vec![Action::Penalize {
            peer: p,
            offence: Offence::WrongChain
        }]
    );
}

#[test]
fn a_timed_out_request_is_charged_and_its_blocks_asked_elsewhere() {
    let server = MemChain::new();
    server.mine(3, 1);
    let local = MemChain::new();
    let (slow, fast) = (PeerId::random(), PeerId::random());
    let mut s = sync();
    let now = Instant::now();
    s.on_connected(slow, now);
    s.on_status(slow, status(&server), &local, now);
    let headers = server.headers_after(&local.locator(), 2_000);
    let asks = s.on_headers(slow, headers, &local, now);
    let asked = asks
        .iter()
        .find_map(|a| match a {
            Action::Request {
                request: r @ SyncRequest::Blocks(_),
                ..
            } => Some(r.clone()),
            _ => None,
        })
        .expect("blocks asked of the only peer");
    assert_eq!(
        s.on_request_failed(slow, &asked, true),
        vec![Action::Penalize {
            peer: slow,
            offence: Offence::Timeout
        }]
    );
    // A failure that is no one's fault (a closed connection) costs nothing.
    assert!(s
        .on_request_failed(slow, &SyncRequest::Status, false)
        .is_empty());
    // Another peer arrives; the blocks are asked again (of either) and the chain completes.
    let actions = s.on_connected(fast, now);
    let (_, served) = drive(
        &mut s,
        &local,
        &HashMap::from([(fast, &server), (slow, &server)]),
        actions,
    );
    assert_eq!(local.tip(), server.tip());
    assert_eq!(served.values().sum::<usize>(), 3);
}
