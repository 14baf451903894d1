//! Any bytes as every message the peer-to-peer network decodes (`aic_p2p::wire`), and as the
//! peer-store file (`aic_p2p::peer_store`): the first byte chooses the decoder, the rest is the
//! message. Decoding must never panic, and whatever decodes must encode back to exactly the
//! bytes it came from (every wire message has one canonical encoding). Headers that decode as
//! a `SyncResponse::Headers` also go through `check_headers`, as they come and linked into a
//! chain. The peer-store text must parse to what it parses to again once saved (see
//! `peer_store`); run it with `-dict=p2p_wire.dict`, the file's words.
#![no_main]

use std::path::Path;

use aic_p2p::peer_store::PeerStore;
use aic_p2p::wire::{
    check_headers, decode_block, decode_tx, Announcement, BlobRequest, BlobResponse, Status,
    SyncRequest, SyncResponse, WireError,
};
use aic_primitives::{BlockHeader, CompactTarget, Decode, Encode, Target, U256};
use libfuzzer_sys::fuzz_target;

/// The size limit given to the decoders that take one: larger than any input (`-max_len` is
/// 64 KiB), so what decides is the content, not the length.
const MAX: usize = 1 << 24;

/// The easiest target the headers may claim (regtest's, `0x207fffff`): about every second
/// hash meets it, so the fuzzer reaches the work sums.
fn pow_limit() -> Target {
    CompactTarget(0x207f_ffff).to_target().expect("valid bits")
}

/// What `check_headers` promises, on headers as they came and on the same headers with each
/// `prev_hash` rewritten to its predecessor's hash (random bytes almost never link by
/// themselves, and only linked headers reach the later checks and the work sum).
fn headers(headers: &[BlockHeader]) {
    let limit = pow_limit();
    if let Ok(work) = check_headers(headers, &limit) {
        // Every header adds at least one unit of work.
        assert!(work.0 >= U256::from(headers.len()));
    }
    let mut linked = headers.to_vec();
    for i in 1..linked.len() {
        linked[i].prev_hash = linked[i - 1].hash();
    }
    match check_headers(&linked, &limit) {
        Err(WireError::Unlinked { index }) => panic!("linked headers unlinked at {index}"),
        Ok(work) => {
            assert!(work.0 >= U256::from(linked.len()));
            // A prefix of a valid chain is valid and adds no more work.
            if let Some((_, prefix)) = linked.split_last() {
                let less = check_headers(prefix, &limit).expect("a prefix of valid headers");
                assert!(less <= work);
            }
        }
        Err(_) => {}
    }
}

/// The peer-store file as the store would save it (`PeerStore::save`'s format).
fn render(store: &PeerStore) -> String {
    let mut text = String::from("aic-peers 1\n");
    for (id, rec) in store.peers() {
        for a in &rec.addrs {
            text.push_str(&format!("peer {id} {} {a}\n", rec.last_seen));
        }
    }
    for (id, until) in store.bans(0) {
        text.push_str(&format!("ban {id} {until}\n"));
    }
    text
}

/// Valid peer ids that the bytes 0x01 and 0x02 of a peer-store file stand for: random bytes
/// almost never spell the base58 of a multihash, and without one no `peer` or `ban` line parses.
const PEER_IDS: [&str; 2] = [
    "QmPqyt5s1Yx5JYhPrjuD2geCJHX5RkokaaoZin5uF85cnM",
    "12D3KooW9pP4Seg3kZYhySpuVjn1RPdQBsUFZKiFxGMGQN5MeL6A",
];

/// The peer store's text is not canonical by design: it is a list of facts that the store
/// merges (a peer's addresses deduplicated and capped at eight, its last-seen time the
/// latest, at most 1,024 peers, blank lines skipped, numbers as `u64::from_str` reads them,
/// peer ids and addresses in any form libp2p parses). What holds instead: what parses, saved
/// again, parses to the same peers and bans.
fn peer_store(text: &str) {
    let path = Path::new("peers.txt");
    let Ok(store) = PeerStore::parse(text, path) else {
        return;
    };
    let again = render(&store);
    let reread = PeerStore::parse(&again, path).expect("a saved store parses");
    assert_eq!(reread.peers(), store.peers());
    assert_eq!(
        reread.bans(0).collect::<Vec<_>>(),
        store.bans(0).collect::<Vec<_>>()
    );
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, msg)) = data.split_first() else {
        return;
    };
    match which % 9 {
        0 => {
            if let Ok(m) = SyncRequest::decode(msg) {
                assert_eq!(m.to_bytes(), msg);
            }
        }
        1 => {
            if let Ok(m) = SyncResponse::decode(msg, MAX) {
                assert_eq!(m.to_bytes(), msg);
                if let SyncResponse::Headers(h) = &m {
                    headers(h);
                }
            }
        }
        2 => {
            if let Ok(m) = BlobRequest::decode(msg) {
                assert_eq!(m.to_bytes(), msg);
            }
        }
        3 => {
            if let Ok(m) = BlobResponse::decode(msg) {
                assert_eq!(m.to_bytes(), msg);
            }
        }
        4 => {
            if let Ok(m) = Announcement::decode(msg) {
                assert_eq!(m.to_bytes(), msg);
            }
        }
        5 => {
            if let Ok(block) = decode_block(msg, MAX) {
                assert_eq!(block.to_bytes(), msg);
            }
        }
        6 => {
            if let Ok(tx) = decode_tx(msg, MAX) {
                assert_eq!(tx.to_bytes(), msg);
            }
        }
        7 => {
            if let Ok(status) = Status::from_bytes(msg) {
                assert_eq!(status.to_bytes(), msg);
            }
        }
        _ => {
            if let Ok(text) = std::str::from_utf8(msg) {
                let text = text
                    .replace('\u{1}', PEER_IDS[0])
                    .replace('\u{2}', PEER_IDS[1]);
                peer_store(&text);
            }
        }
    }
});
