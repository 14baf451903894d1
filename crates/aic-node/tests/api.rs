//! The HTTP API against a real node on a loopback port: REST, JSON-RPC and a standard
//! getblocktemplate mining flow, and malformed input answered 4xx with nothing changed.

mod common;

use aic_primitives::{
    Action, Amount, ChainParams, CompactSize, Encode, Network, Transaction, TxBody,
};
use common::*;
use serde_json::{json, Value};

#[test]
fn getblocktemplate_miner_flow_and_bip22_reasons() {
    let n = TestNode::start();
    let (code, _) = answer(
        ureq::post(&format!("{}/rpc", n.base))
            .send_json(json!({"method": "getblockcount", "params": []})),
    );
    assert_eq!(code, 401, "JSON-RPC needs credentials");

    let t = template(&n);
    assert_eq!(t["height"], 1);
    let first = mine_template(&t, false);
    assert_eq!(submit(&n, &first), Value::Null);
    assert_eq!(n.rpc("getblockcount", json!([])).1["result"], 1);
    let best = n.rpc("getbestblockhash", json!([])).1["result"].clone();
    assert_eq!(n.rpc("getblockhash", json!([1])).1["result"], best);
    assert_eq!(submit(&n, &first), json!("duplicate"));

    // The block served over REST is byte for byte what the miner built.
    let b = n.get("/api/v1/blocks/1").1;
    assert_eq!(b["header_hex"].as_str().unwrap(), hex::encode(&first[..80]));
    assert_eq!(b["hash"], best);

    let t2 = template(&n);
    assert_eq!(
        submit(&n, &mine_template(&t2, true)),
        json!("bad-txnmrklroot")
    );
    let high = missing_target(&t2);
    assert_eq!(submit(&n, &high), json!("high-hash"));
    let second = mine_template(&t2, false);
    assert_eq!(submit(&n, &second), Value::Null);
    // A block on the old template (parent = block 0) now only makes a side chain.
    let mut stale_t = t.clone();
    stale_t["curtime"] = json!(t["curtime"].as_u64().unwrap() + 1);
    assert_eq!(
        submit(&n, &mine_template(&stale_t, false)),
        json!("stale-prevblk")
    );
    assert_eq!(n.status()["height"], 2);

    let (code, r) = n.rpc("getblockhash", json!([99]));
    assert_eq!(code, 500);
    assert_eq!(r["error"]["code"], -8);
    let (code, r) = n.rpc("nosuchmethod", json!([]));
    assert_eq!(code, 404);
    assert_eq!(r["error"]["code"], -32601);
    let (_, r) = n.rpc("submitblock", json!(["zz"]));
    assert_eq!(r["error"]["code"], -22);
    let info = n.rpc("getmininginfo", json!([])).1["result"].clone();
    assert_eq!(info["blocks"], 2);
    assert_eq!(info["chain"], "devnet");
    assert!(
        n.rpc("getdifficulty", json!([])).1["result"]
            .as_f64()
            .unwrap()
            >= 1.0
    );
}

#[test]
fn a_transfer_is_mined_and_both_balances_show_it() {
    let n = TestNode::start();
    assert_eq!(
        submit(&n, &mine_template(&template(&n), false)),
        Value::Null
    );
    let from = addr(1).to_bech32(Network::Devnet);
    let to = addr(2).to_bech32(Network::Devnet);
    let before = n.get(&format!("/api/v1/accounts/{from}")).1;
    assert_eq!(before["balance_units"], 50 * 100_000_000u64);

    let tx = transfer(1, 0, addr(2), 7 * 100_000_000, 2_000);
    let (code, r) = n.post("/api/v1/txs", json!({"hex": hex::encode(tx.to_bytes())}));
    assert_eq!(code, 201, "{r}");
    assert_eq!(r["txid"], tx.txid().to_string());
    // Replacement: a lower fee for the same nonce is refused, a higher one replaces.
    let cheaper = transfer(1, 0, addr(2), 7 * 100_000_000, 2_100);
    let (code, r) = n.post(
        "/api/v1/txs",
        json!({"hex": hex::encode(cheaper.to_bytes())}),
    );
    assert_eq!(
        (code, r["code"].as_str()),
        (400, Some("replacement-underpriced"))
    );
    let better = transfer(1, 0, addr(2), 7 * 100_000_000, 5_000);
    let (code, _) = n.post(
        "/api/v1/txs",
        json!({"hex": hex::encode(better.to_bytes())}),
    );
    assert_eq!(code, 201);
    assert_eq!(n.get(&format!("/api/v1/txs/{}", tx.txid())).0, 404);
    assert_eq!(n.status()["mempool_size"], 1);

    let t = template(&n);
    assert_eq!(t["transactions"].as_array().unwrap().len(), 1);
    assert_eq!(submit(&n, &mine_template(&t, false)), Value::Null);
    let a = n.get(&format!("/api/v1/accounts/{from}")).1;
    let b = n.get(&format!("/api/v1/accounts/{to}")).1;
    assert_eq!(b["balance_units"], 7 * 100_000_000u64);
    // 50 + 50 mined (the second block pays the fee back too) - 7 sent - fee + fee.
    assert_eq!(a["balance_units"], 93 * 100_000_000u64);
    assert_eq!(a["nonce"], 1);
    let mined = n.get(&format!("/api/v1/txs/{}", better.txid())).1;
    assert_eq!(mined["block_height"], 2);
    assert_eq!(mined["from"], from.as_str());
}

#[test]
fn malformed_input_gets_4xx_with_a_reason_and_changes_nothing() {
    let n = TestNode::start();
    assert_eq!(
        submit(&n, &mine_template(&template(&n), false)),
        Value::Null
    );
    let before = n.status();

    let good = transfer(1, 0, addr(2), 1_000, 1_000).to_bytes();
    let mut bad_sig = good.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 1;
    let wrong_chain = Transaction::Signed(
        TxBody {
            chain_id: ChainParams::mainnet().chain_id,
            sender: key(1).public_key(),
            nonce: 0,
            fee: Amount::from_units(1_000),
            action: Action::Transfer {
                to: addr(2),
                amount: Amount::from_units(1),
            },
        }
        .sign(&key(1)),
    );
    let coinbase = n.get("/api/v1/blocks/1").1["txs"][0]["hex"].clone();
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({"hex": "zz"}), 400, "malformed"),
        (
            json!({"hex": hex::encode(&good[..good.len() - 3])}),
            400,
            "malformed",
        ),
        (
            json!({"hex": format!("{}00", hex::encode(&good))}),
            400,
            "malformed",
        ),
        (json!({"nohex": 1}), 400, "malformed"),
        (json!({"hex": hex::encode(&bad_sig)}), 400, "bad-signature"),
        (
            json!({"hex": hex::encode(wrong_chain.to_bytes())}),
            400,
            "wrong-chain-id",
        ),
        (json!({"hex": coinbase}), 400, "standalone-coinbase"),
        (
            json!({"hex": hex::encode(transfer(3, 0, addr(2), 1, 1_000).to_bytes())}),
            400,
            "insufficient-balance",
        ),
        (
            json!({"hex": hex::encode(transfer(1, 5, addr(2), 1, 1_000).to_bytes())}),
            400,
            "nonce-gap",
        ),
        (
            json!({"hex": hex::encode(transfer(1, 0, addr(2), 1, 0).to_bytes())}),
            400,
            "fee-rate-too-low",
        ),
    ];
    for (body, status, code) in cases {
        let (got, r) = n.post("/api/v1/txs", body.clone());
        assert_eq!(
            (got, r["code"].as_str()),
            (status, Some(code)),
            "{body} -> {r}"
        );
        assert!(!r["message"].as_str().unwrap().is_empty());
    }
    for (path, status, code) in [
        ("/api/v1/blocks/xyz", 400, "bad-block-id"),
        ("/api/v1/blocks/999", 404, "not-found"),
        ("/api/v1/txs/12", 400, "bad-txid"),
        ("/api/v1/accounts/aic1notanaddress", 400, "bad-address"),
        ("/api/v1/nothing", 404, "not-found"),
    ] {
        let (got, r) = n.get(path);
        assert_eq!(
            (got, r["code"].as_str()),
            (status, Some(code)),
            "{path} -> {r}"
        );
    }
    // Malformed and invalid blocks over JSON-RPC.
    let t = template(&n);
    let mut block = mine_template(&t, false);
    block.truncate(block.len() - 1);
    let (_, r) = n.rpc("submitblock", json!([hex::encode(&block)]));
    assert_eq!(r["error"]["code"], -22);
    let mut no_cb = t.clone();
    no_cb["coinbasetxn"]["data"] = json!(hex::encode(&good));
    assert_eq!(
        submit(&n, &mine_template(&no_cb, false)),
        json!("bad-cb-missing")
    );

    // The same over REST: 4xx with the rule's code.
    for (body, status, code) in [
        (json!({"hex": "00"}), 400, "malformed"),
        (json!({"hex": hex::encode(&block)}), 400, "malformed"),
        (
            json!({"hex": hex::encode(mine_template(&t, true))}),
            400,
            "bad-merkle-root",
        ),
        (
            json!({"hex": hex::encode(mine_template(&no_cb, false))}),
            400,
            "no-coinbase",
        ),
        (json!({"hex": hex::encode(n_block_1(&n))}), 409, "duplicate"),
    ] {
        let (got, r) = n.post("/api/v1/blocks", body.clone());
        assert_eq!((got, r["code"].as_str()), (status, Some(code)), "{r}");
    }
    let high = missing_target(&t);
    let (got, r) = n.post("/api/v1/blocks", json!({"hex": hex::encode(&high)}));
    assert_eq!((got, r["code"].as_str()), (400, Some("high-hash")), "{r}");

    let after = n.status();
    assert_eq!(after, before, "nothing changed");
    // A valid block over REST is accepted.
    let (got, r) = n.post(
        "/api/v1/blocks",
        json!({"hex": hex::encode(mine_template(&t, false))}),
    );
    assert_eq!(got, 201, "{r}");
    assert_eq!(r["height"], 2);
    assert_eq!(r["is_tip"], true);
    let doc = n.get("/api/v1/openapi.json").1;
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/blocks/{id}"].is_object());
}

/// The bytes of block 1 as served (canonical bytes re-assembled from the REST answer).
fn n_block_1(n: &TestNode) -> Vec<u8> {
    let b = n.get("/api/v1/blocks/1").1;
    let mut bytes = hex::decode(b["header_hex"].as_str().unwrap()).unwrap();
    let txs = b["txs"].as_array().unwrap();
    CompactSize(txs.len() as u64).encode_to(&mut bytes);
    for t in txs {
        bytes.extend(hex::decode(t["hex"].as_str().unwrap()).unwrap());
    }
    bytes
}

#[test]
fn a_long_poll_answers_when_a_transaction_arrives() {
    let n = TestNode::start();
    assert_eq!(
        submit(&n, &mine_template(&template(&n), false)),
        Value::Null
    );
    let t = template(&n);
    let id = t["longpollid"].as_str().unwrap().to_owned();
    let (url, auth) = (format!("{}/rpc", n.base), n.auth.clone());
    let started = std::time::Instant::now();
    let poll = std::thread::spawn(move || {
        answer(ureq::post(&url).set("Authorization", &auth).send_json(
            json!({"id": 1, "method": "getblocktemplate", "params": [{"longpollid": id}]}),
        ))
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let tx = transfer(1, 0, addr(2), 1_000, 1_000);
    let (code, _) = n.post("/api/v1/txs", json!({"hex": hex::encode(tx.to_bytes())}));
    assert_eq!(code, 201);
    let (code, r) = poll.join().unwrap();
    assert_eq!(code, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(r["result"]["transactions"].as_array().unwrap().len(), 1);
    assert_ne!(r["result"]["longpollid"], t["longpollid"]);
}

#[test]
fn the_node_serves_the_provider_registry() {
    let n = TestNode::start();
    let (status, body) = n.get("/api/v1/providers?online=true");
    assert_eq!(status, 200);
    assert_eq!(body["heartbeat_interval_ms"], 10_000);
    assert_eq!(body["expiry_ms"], 30_000);
    assert_eq!(body["providers"], json!([]));
    assert!(n.node.as_ref().unwrap().providers.is_empty());
    let (status, body) = n.post("/api/v1/providers/announce", json!({"version": 1}));
    assert_eq!((status, body["code"].as_str()), (400, Some("malformed")));
}
