//! The explorer routes against a real node: block and transaction lists, an account's
//! history, the difficulty series, search, and every bad query answered 4xx with its code.

mod common;

use common::{addr, assert_refused, bech, transfer, TestNode};
use serde_json::Value;

/// A node with blocks 1..=6 paying account 1, a confirmed transfer 1 → 2 in block 7..=8 and a
/// pending transfer 1 → 2.
fn chain_with_history() -> (TestNode, String, String) {
    let mut n = TestNode::start();
    n.mine_to(1, 6);
    let confirmed = transfer(1, 0, addr(2), 300_000_000, 1_000);
    assert_eq!(n.post_tx(&confirmed).0, 201);
    n.mine_to(1, 8);
    let pending = transfer(1, 1, addr(2), 100_000_000, 2_000);
    assert_eq!(n.post_tx(&pending).0, 201);
    (n, confirmed.txid().to_string(), pending.txid().to_string())
}

#[test]
fn explorer_routes_answer_from_the_chain() {
    let (n, confirmed, pending) = chain_with_history();
    let tip = n.height();
    assert!(tip >= 8);

    // Blocks: newest first, paged with before.
    let (code, page) = n.get("/api/v1/blocks?limit=3");
    assert_eq!(code, 200, "{page}");
    let heights: Vec<u64> = page["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["height"].as_u64().unwrap())
        .collect();
    assert_eq!(heights, vec![tip, tip - 1, tip - 2]);
    assert_eq!(page["tip_height"], tip);
    assert_eq!(page["next_before"], tip - 2);
    let b = &page["blocks"][0];
    let full = n.get(&format!("/api/v1/blocks/{tip}")).1;
    assert_eq!(b["hash"], full["hash"]);
    assert_eq!(
        b["tx_count"].as_u64().unwrap() as usize,
        full["txs"].as_array().unwrap().len()
    );
    assert_eq!(b["miner"], bech(1));
    assert!(b["reward_units"].as_u64().unwrap() >= 50 * 100_000_000);
    let last = n.get("/api/v1/blocks?before=2&limit=5").1;
    let heights: Vec<u64> = last["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["height"].as_u64().unwrap())
        .collect();
    assert_eq!(heights, vec![1, 0]);
    assert_eq!(
        last["next_before"],
        Value::Null,
        "genesis is on the last page"
    );
    assert_eq!(
        n.get("/api/v1/blocks?before=0").1["blocks"],
        serde_json::json!([])
    );

    // Latest transactions: the pending one first.
    let txs = n.get("/api/v1/txs?limit=5").1;
    assert_eq!(txs["txs"][0]["txid"], pending);
    assert_eq!(txs["txs"][0]["block_height"], Value::Null);
    assert!(txs["txs"][1]["block_height"].as_u64().is_some());
    assert_eq!(txs["txs"].as_array().unwrap().len(), 5);

    // History: the recipient sees +3 AIC confirmed and +1 AIC pending; the sender pays fees.
    let h2 = n.get(&format!("/api/v1/accounts/{}/txs", bech(2))).1;
    assert_eq!(h2["pending"][0]["txid"], pending);
    assert_eq!(h2["pending"][0]["delta_units"], 100_000_000);
    assert_eq!(h2["txs"].as_array().unwrap().len(), 1);
    assert_eq!(h2["txs"][0]["txid"], confirmed);
    assert_eq!(h2["txs"][0]["delta_units"], 300_000_000);
    assert_eq!(h2["scanned_to"], 0);
    assert_eq!(h2["next_before"], Value::Null);
    let h1 = n
        .get(&format!("/api/v1/accounts/{}/txs?limit=2", bech(1)))
        .1;
    let rows = h1["txs"].as_array().unwrap();
    assert!(rows.len() >= 2);
    assert!(rows
        .iter()
        .all(|t| t["kind"] == "coinbase" || t["delta_units"] == -300_001_000));
    let next = h1["next_before"].as_u64().unwrap();
    let older = n
        .get(&format!(
            "/api/v1/accounts/{}/txs?limit=2&before={next}",
            bech(1)
        ))
        .1;
    assert!(older["txs"][0]["block_height"].as_u64().unwrap() < next);
    assert_eq!(
        older["pending"],
        serde_json::json!([]),
        "pending only on the first page"
    );
    // Paging to genesis finds every block reward and the transfer exactly once.
    let mut all: Vec<Value> = Vec::new();
    let mut before = String::new();
    loop {
        let page = n
            .get(&format!("/api/v1/accounts/{}/txs?limit=2{before}", bech(1)))
            .1;
        all.extend(page["txs"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_u64() {
            Some(b) => before = format!("&before={b}"),
            None => break,
        }
    }
    assert_eq!(
        all.iter().filter(|t| t["kind"] == "coinbase").count() as u64,
        tip
    );
    let sent: Vec<&Value> = all.iter().filter(|t| t["txid"] == confirmed).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["delta_units"], -300_001_000);

    // Series: one point per block up to the tip.
    let s = n.get("/api/v1/chain/series?blocks=5").1;
    let points = s["points"].as_array().unwrap();
    assert_eq!(points.len(), 5);
    assert_eq!(points[4]["height"], tip);
    assert!(points
        .iter()
        .all(|p| p["difficulty"].as_f64().unwrap() > 0.0));
    assert!(points[4]["hash_rate"].as_f64().unwrap() > 0.0);
    assert_eq!(s["window"], 10);
    assert_eq!(
        n.get("/api/v1/chain/series?blocks=1000").1["points"]
            .as_array()
            .unwrap()
            .len() as u64,
        tip + 1
    );

    // Search: height, block hash, txid, address.
    let by_height = n.get("/api/v1/search?q=1").1;
    assert_eq!(by_height["kind"], "block");
    assert_eq!(by_height["id"], n.get("/api/v1/blocks/1").1["hash"]);
    let hash = by_height["id"].as_str().unwrap().to_owned();
    assert_eq!(
        n.get(&format!("/api/v1/search?q={}", hash.to_uppercase()))
            .1["height"],
        1
    );
    let by_txid = n.get(&format!("/api/v1/search?q={confirmed}")).1;
    assert_eq!(
        (by_txid["kind"].as_str(), by_txid["id"].as_str()),
        (Some("tx"), Some(confirmed.as_str()))
    );
    assert!(by_txid["height"].as_u64().is_some());
    let by_pending = n.get(&format!("/api/v1/search?q={pending}")).1;
    assert_eq!(by_pending["kind"], "tx");
    assert_eq!(by_pending["height"], Value::Null);
    let by_addr = n.get(&format!("/api/v1/search?q=%20{}%20", bech(2))).1;
    assert_eq!(
        (by_addr["kind"].as_str(), by_addr["id"].as_str()),
        (Some("account"), Some(bech(2).as_str()))
    );
}

#[test]
fn bad_explorer_queries_get_4xx_with_their_code() {
    let n = TestNode::start();
    for path in [
        "/api/v1/blocks?limit=0",
        "/api/v1/blocks?limit=101",
        "/api/v1/blocks?limit=ten",
        "/api/v1/blocks?before=-1",
        "/api/v1/blocks?page=2",
        "/api/v1/txs?limit=1000",
        "/api/v1/chain/series?blocks=0",
        "/api/v1/chain/series?blocks=1001",
        "/api/v1/search",
        "/api/v1/search?q=%20",
        "/api/v1/search?query=1",
    ] {
        assert_refused(n.get(path), 400, "bad-query");
    }
    let a = bech(1);
    assert_refused(
        n.get(&format!("/api/v1/accounts/{a}/txs?before=0")),
        400,
        "bad-query",
    );
    assert_refused(
        n.get(&format!("/api/v1/accounts/{a}/txs?limit=x")),
        400,
        "bad-query",
    );
    assert_refused(n.get("/api/v1/accounts/daic1nope/txs"), 400, "bad-address");
    let mainnet = addr(1).to_bech32(aic_primitives::Network::Mainnet);
    assert_refused(
        n.get(&format!("/api/v1/accounts/{mainnet}/txs")),
        400,
        "bad-address",
    );
    for q in ["hello", "12ab", &"f".repeat(63), &"x".repeat(200), &mainnet] {
        assert_refused(n.get(&format!("/api/v1/search?q={q}")), 400, "bad-search");
    }
    assert_refused(n.get("/api/v1/search?q=999999"), 404, "not-found");
    assert_refused(
        n.get(&format!("/api/v1/search?q={}", "ab".repeat(32))),
        404,
        "not-found",
    );
}
