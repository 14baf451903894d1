//! `GET /api/v1/events` against a real node: the hello, a `tip` for each new block, a `tx`
//! for each accepted transaction, `mining` when a Stratum worker connects, the `types` filter,
//! bad input, and a node that shuts down promptly with streams open.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::time::{Duration, Instant};

use common::{addr, assert_refused, bech, transfer, StratumClient, TestNode};
use serde_json::Value;

/// An open event stream.
struct Stream {
    lines: BufReader<Box<dyn Read + Send + Sync>>,
}

impl Stream {
    fn open(n: &TestNode, query: &str) -> Stream {
        let resp = ureq::get(&format!("{}/api/v1/events{query}", n.base))
            .timeout(Duration::from_secs(30))
            .call()
            .unwrap();
        assert_eq!(resp.header("content-type"), Some("text/event-stream"));
        Stream {
            lines: BufReader::new(resp.into_reader()),
        }
    }

    /// The next event: its name and JSON data (skipping keep-alive comments).
    fn next(&mut self) -> Option<(String, Value)> {
        let (mut name, mut data) = (String::new(), String::new());
        loop {
            let mut line = String::new();
            if self.lines.read_line(&mut line).ok()? == 0 {
                return None;
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if !name.is_empty() {
                    return Some((name, serde_json::from_str(&data).unwrap()));
                }
                continue;
            }
            if let Some(v) = line.strip_prefix("event: ") {
                name = v.to_owned();
            } else if let Some(v) = line.strip_prefix("data: ") {
                data.push_str(v);
            }
        }
    }

    /// The next event called `name`, within `secs`.
    fn wait_for(&mut self, name: &str, secs: u64, mut want: impl FnMut(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            let (n, data) = self.next().expect("the stream ended");
            if n == name && want(&data) {
                return data;
            }
        }
        panic!("no {name} event within {secs} s");
    }
}

#[test]
fn events_follow_blocks_transactions_and_workers() {
    let mut n = TestNode::start();
    let mut all = Stream::open(&n, "");
    let (name, hello) = all.next().unwrap();
    assert_eq!(name, "hello");
    assert_eq!(hello["network"], "devnet");
    assert_eq!(hello["height"], 0);
    assert_eq!(
        hello["types"],
        serde_json::json!(["tip", "tx", "mining", "providers"])
    );
    let mut only_tx = Stream::open(&n, "?types=tx");
    assert_eq!(
        only_tx.next().unwrap().1["types"],
        serde_json::json!(["tx"])
    );

    // Blocks: one tip event per block, in order, with the block's summary.
    n.mine_to(1, 3);
    for height in 1..=3u64 {
        let tip = all.wait_for("tip", 20, |_| true);
        assert_eq!(tip["height"], height);
        assert_eq!(tip["miner"], bech(1));
        assert_eq!(tip["tx_count"], 1);
        assert_eq!(tip["reorg_depth"], 0);
        assert_eq!(
            tip["hash"],
            n.get(&format!("/api/v1/blocks/{height}")).1["hash"]
        );
    }

    // A transaction: a tx event on both streams; the filtered one saw no tips before it.
    let tx = transfer(1, 0, addr(2), 5_000, 1_000);
    assert_eq!(n.post_tx(&tx).0, 201);
    let seen = all.wait_for("tx", 20, |_| true);
    assert_eq!(seen["txid"], tx.txid().to_string());
    assert_eq!(seen["from"], bech(1));
    assert_eq!(seen["amount_units"], 5_000);
    let (name, filtered) = only_tx.next().unwrap();
    assert_eq!(name, "tx", "a types=tx stream carries no tip events");
    assert_eq!(filtered["txid"], tx.txid().to_string());

    // A Stratum worker connecting is a mining event.
    let worker = format!("{}.events", bech(4));
    let (client, _job) = StratumClient::login(n.n().stratum_addr.unwrap(), &worker);
    let m = all.wait_for("mining", 20, |m| {
        m["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["worker"] == worker.as_str())
    });
    assert!(m["total"].as_u64().unwrap() >= 1);
    drop(client);

    // Open streams do not hold the node up at shutdown; they end.
    n.shutdown_within(10);
    let deadline = Instant::now() + Duration::from_secs(10);
    while all.next().is_some() {
        assert!(Instant::now() < deadline, "the stream did not end");
    }
}

#[test]
fn bad_event_queries_get_400() {
    let n = TestNode::start();
    let get = |q: &str| common::answer(ureq::get(&format!("{}/api/v1/events{q}", n.base)).call());
    assert_refused(get("?types=tip,blocks"), 400, "bad-event-type");
    assert_refused(get("?types="), 400, "bad-event-type");
    assert_refused(get("?since=3"), 400, "bad-query");
}
