//! The network through the API: `GET /api/v1/network` and the operator's JSON-RPC methods
//! (`getnetworkinfo`, `getpeerinfo`, `blockpeer`, `unblockpeer`, `addnode`) on real nodes
//! joined over loopback. Bad arguments get their error and change nothing; a node without the
//! network says so. A blob held by any peer reaches a transfer client through its own node.

use std::time::{Duration, Instant};

use aic_node::P2pSection;
use serde_json::{json, Value};

mod common;

use common::TestNode;

fn networked(bootnodes: Vec<String>) -> TestNode {
    TestNode::start_with(|c| {
        c.p2p = P2pSection {
            enabled: true,
            listen: vec!["/ip4/127.0.0.1/tcp/0".to_owned()],
            bootnodes,
            mdns: false,
            ..P2pSection::default()
        }
    })
}

fn network(n: &TestNode) -> Value {
    let (status, body) = n.get("/api/v1/network");
    assert_eq!(status, 200, "{body}");
    body
}

fn peer_ids(n: &TestNode) -> Vec<String> {
    network(n)["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["peer_id"].as_str().unwrap().to_owned())
        .collect()
}

fn until(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn peers_are_shown_blocked_unblocked_and_dialled_through_the_api() {
    let a = networked(Vec::new());
    let a_info = network(&a);
    let a_id = a_info["peer_id"].as_str().unwrap().to_owned();
    let a_addr = a_info["listen"][0].as_str().unwrap().to_owned();
    assert!(a_addr.starts_with("/ip4/127.0.0.1/tcp/") && a_addr.ends_with(&a_id));
    let b = networked(vec![a_addr.clone()]);
    let b_id = network(&b)["peer_id"].as_str().unwrap().to_owned();
    until("a and b connected", || {
        peer_ids(&a) == [b_id.clone()] && peer_ids(&b) == [a_id.clone()]
    });

    // JSON-RPC shows the same.
    let (status, info) = a.rpc("getnetworkinfo", json!([]));
    assert_eq!(status, 200);
    assert_eq!(info["result"]["peer_id"], a_id.as_str());
    let (_, peers) = a.rpc("getpeerinfo", json!([]));
    assert_eq!(peers["result"][0]["peer_id"], b_id.as_str());
    assert_eq!(peers["result"][0]["outbound"], false);

    // Bad arguments: an error each, and the connection stays.
    for (method, params, code) in [
        ("blockpeer", json!(["not-a-peer-id"]), -8),
        ("blockpeer", json!([]), -32602),
        ("unblockpeer", json!([7]), -32602),
        ("addnode", json!(["/ip4/999.0.0.1/tcp/1"]), -8),
    ] {
        let (status, body) = a.rpc(method, params.clone());
        assert_eq!(status, 500, "{method} {params}: {body}");
        assert_eq!(body["error"]["code"], code, "{method} {params}: {body}");
    }
    assert_eq!(peer_ids(&a), std::slice::from_ref(&b_id));
    // The operator's methods need the operator's credentials.
    let refused = ureq::post(&format!("{}/rpc", a.base))
        .send_json(json!({"id": 1, "method": "blockpeer", "params": [b_id]}));
    assert!(matches!(refused, Err(ureq::Error::Status(401, _))));

    // Blocked: disconnected, and b's redials (a is its bootnode) are refused.
    let (_, body) = a.rpc("blockpeer", json!([b_id]));
    assert_eq!(body["error"], Value::Null, "{body}");
    until("b disconnected", || {
        peer_ids(&a).is_empty() && peer_ids(&b).is_empty()
    });
    std::thread::sleep(Duration::from_secs(2));
    assert!(peer_ids(&a).is_empty(), "a blocked peer stays out");

    // Unblocked: a dials b again.
    let (_, body) = a.rpc("unblockpeer", json!([b_id]));
    assert_eq!(body["error"], Value::Null, "{body}");
    until("b back", || peer_ids(&a) == [b_id.clone()]);

    // addnode: a third node, dialled by a.
    let c = networked(Vec::new());
    let c_info = network(&c);
    let (_, body) = a.rpc("addnode", json!([c_info["listen"][0]]));
    assert_eq!(body["error"], Value::Null, "{body}");
    let c_id = c_info["peer_id"].as_str().unwrap().to_owned();
    until("c dialled", || peer_ids(&a).contains(&c_id));
}

#[test]
fn a_node_without_the_network_says_so() {
    let n = TestNode::start();
    let (status, body) = n.get("/api/v1/network");
    assert_eq!(status, 503);
    assert_eq!(body["code"], "network-off");
    for method in ["getnetworkinfo", "getpeerinfo", "blockpeer"] {
        let (_, body) = n.rpc(method, json!(["x"]));
        assert_eq!(body["error"]["code"], -9, "{method}: {body}");
    }
}

#[test]
fn a_blob_held_by_any_peer_reaches_a_transfer_client_through_its_own_node() {
    let holder = networked(Vec::new());
    let addr = network(&holder)["listen"][0].as_str().unwrap().to_owned();
    let gateway = networked(vec![addr]);
    until("connected", || !peer_ids(&gateway).is_empty());
    // Three and a half MiB of data only the holder has.
    let bytes: Vec<u8> = (0..(7u32 << 19))
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let id = holder
        .node
        .as_ref()
        .unwrap()
        .blobs
        .put_bytes(&bytes)
        .unwrap();
    let gateway_store = &gateway.node.as_ref().unwrap().blobs;
    assert!(!gateway_store.has(&id));

    // A worker's transfer client, with its own cache, asks only its own node.
    let cache = tempfile::tempdir().unwrap();
    let store = aic_blob::BlobStore::open(cache.path()).unwrap();
    let fetcher = aic_blob::Fetcher::new(store.clone(), aic_blob::FetchConfig::default());
    let report = fetcher
        .fetch(
            &[id],
            std::slice::from_ref(&gateway.base),
            &|_: aic_blob::Progress| {},
        )
        .unwrap();
    assert_eq!(report.bytes(), bytes.len() as u64);
    assert_eq!(store.get(&id).unwrap(), bytes);
    assert!(gateway_store.has(&id), "the node keeps what it fetched");

    // A blob no peer has: 404, promptly.
    let missing = aic_blob::BlobId::of(b"nobody has this");
    let started = Instant::now();
    let (status, body) = gateway.get(&format!("/api/v1/blobs/{missing}"));
    assert_eq!(status, 404, "{body}");
    assert!(started.elapsed() < Duration::from_secs(20));
}
