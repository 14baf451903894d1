//! The Stratum v1 server on a loopback port, driven the way a standard miner drives it: the
//! recorded cpuminer's opening lines, jobs turned into headers with `aic-miner`'s assembly
//! (written independently of the server's), shares that become blocks, and every standard
//! rejection.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use aic_miner::WorkTemplate;
use aic_node::{NodeConfig, RunningNode};
use aic_primitives::{sha256d, Address, Network, SecretKey};
use serde_json::{json, Value};

struct Node {
    node: Option<RunningNode>,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start() -> Node {
        Node::start_on("devnet")
    }

    fn start_on(network: &str) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = NodeConfig {
            network: network.to_owned(),
            data_dir: dir.path().to_owned(),
            api_addr: "127.0.0.1:0".parse().unwrap(),
            stratum_addr: Some("127.0.0.1:0".parse().unwrap()),
            ..NodeConfig::default()
        };
        let node = rt.block_on(RunningNode::start(&config)).unwrap();
        Node {
            node: Some(node),
            rt,
            _dir: dir,
        }
    }

    fn n(&self) -> &RunningNode {
        self.node.as_ref().unwrap()
    }

    fn connect(&self) -> Client {
        let stream = TcpStream::connect(self.n().stratum_addr.unwrap()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        }
    }

    /// The `/mining/workers` entry of `worker`.
    fn worker(&self, worker: &str) -> Value {
        self.get("/mining/workers")
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["worker"] == worker)
            .unwrap()
            .clone()
    }

    fn get(&self, path: &str) -> Value {
        ureq::get(&format!("http://{}/api/v1{path}", self.n().api_addr))
            .call()
            .unwrap()
            .into_json()
            .unwrap()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(n) = self.node.take() {
            self.rt.block_on(n.shutdown());
        }
    }
}

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn send_raw(&mut self, line: &str) {
        self.stream.write_all(line.as_bytes()).unwrap();
        self.stream.write_all(b"\n").unwrap();
    }

    fn send(&mut self, v: Value) {
        self.send_raw(&v.to_string());
    }

    fn recv(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    /// Reads until the answer to `id`, keeping notifications.
    fn answer(&mut self, id: i64, notes: &mut Vec<Value>) -> Value {
        loop {
            let v = self.recv();
            if v["id"] == json!(id) {
                return v;
            }
            notes.push(v);
        }
    }

    /// Reads until a `mining.notify`.
    fn notify(&mut self, notes: &mut Vec<Value>) -> Value {
        if let Some(i) = notes.iter().position(|n| n["method"] == "mining.notify") {
            return notes.remove(i);
        }
        loop {
            let v = self.recv();
            if v["method"] == "mining.notify" {
                return v;
            }
        }
    }
}

fn address() -> (Address, String) {
    let a = Address::from_public_key(&SecretKey::from_seed([4; 32]).public_key());
    (a, a.to_bech32(Network::Devnet))
}

/// Subscribes and authorizes; returns extranonce1 and the first job.
fn login(c: &mut Client, user: &str) -> (Vec<u8>, Value) {
    // The recorded cpuminer's first line, byte for byte.
    c.send_raw(r#"{"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}"#);
    let mut notes = Vec::new();
    let sub = c.answer(1, &mut notes);
    assert_eq!(sub["error"], Value::Null);
    let en1 = hex::decode(sub["result"][1].as_str().unwrap()).unwrap();
    assert_eq!(en1.len(), 4);
    assert_eq!(sub["result"][2], 4);
    c.send(json!({"id": 2, "method": "mining.authorize", "params": [user, "x"]}));
    assert_eq!(c.answer(2, &mut notes)["result"], true);
    let job = c.notify(&mut notes);
    (en1, job)
}

/// The miner's view of a job: `aic-miner`'s work template.
fn work(en1: &[u8], job: &Value) -> WorkTemplate {
    let p = &job["params"];
    let unhex = |v: &Value| hex::decode(v.as_str().unwrap()).unwrap();
    let mut prev: [u8; 32] = unhex(&p[1]).try_into().unwrap();
    for word in prev.chunks_mut(4) {
        word.reverse();
    }
    let hex_u32 = |v: &Value| u32::from_str_radix(v.as_str().unwrap(), 16).unwrap();
    WorkTemplate {
        version: hex_u32(&p[5]),
        version_mask: 0,
        prev_hash: prev,
        coinbase1: unhex(&p[2]),
        extranonce1: en1.to_vec(),
        extranonce2_size: 4,
        coinbase2: unhex(&p[3]),
        merkle_branches: p[4]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| unhex(b).try_into().unwrap())
            .collect(),
        ntime: hex_u32(&p[7]),
        ntime_max_roll: 0,
        nbits: hex_u32(&p[6]),
        target: [0xff; 32],
    }
}

/// A nonce whose header meets (or, with `meet = false`, misses) the network target.
fn find_nonce(w: &WorkTemplate, en2: &[u8], version: u32, meet: bool) -> u32 {
    let target = aic_primitives::CompactTarget(w.nbits).to_target().unwrap();
    let mut header = w.header(en2, w.ntime, version);
    for nonce in 0u32.. {
        header[76..].copy_from_slice(&nonce.to_le_bytes());
        if target.is_met_by(&sha256d(&header)) == meet {
            return nonce;
        }
    }
    unreachable!()
}

fn submit(
    c: &mut Client,
    id: i64,
    user: &str,
    job: &Value,
    en2: &[u8],
    ntime: u32,
    nonce: u32,
) -> Value {
    c.send(json!({"id": id, "method": "mining.submit", "params": [
        user, job["params"][0], hex::encode(en2), format!("{ntime:08x}"), format!("{nonce:08x}")
    ]}));
    c.answer(id, &mut Vec::new())
}

#[test]
fn shares_from_a_standard_miner_become_blocks_paying_the_worker() {
    let node = Node::start();
    let (addr, text) = address();
    let user = format!("{text}.rig1");
    let mut c = node.connect();
    let (en1, job) = login(&mut c, &user);
    assert_eq!(job["params"][8], true, "the first job is clean");
    let w = work(&en1, &job);
    let en2 = [0, 0, 0, 1];
    let nonce = find_nonce(&w, &en2, w.version, true);
    let r = submit(&mut c, 10, &user, &job, &en2, w.ntime, nonce);
    assert_eq!(r["result"], true, "{r}");
    assert_eq!(r["error"], Value::Null);
    // The share met the network target: block 1 exists and pays the worker's address.
    let block = node.get("/blocks/1");
    let header = hex::decode(block["header_hex"].as_str().unwrap()).unwrap();
    let mut expected = w.header(&en2, w.ntime, w.version);
    expected[76..].copy_from_slice(&nonce.to_le_bytes());
    assert_eq!(header, expected.to_vec());
    assert_eq!(
        block["txs"][0]["payouts"][0]["to"].as_str().unwrap(),
        addr.to_bech32(Network::Devnet)
    );
    // The same share again: duplicate (22). The new tip brings a clean job; shares of the
    // old one are stale (21).
    let mut notes = Vec::new();
    let next = c.notify(&mut notes);
    assert_eq!(next["params"][8], true);
    let r = submit(&mut c, 11, &user, &job, &en2, w.ntime, nonce);
    assert_eq!(r["error"][0], 21, "{r}");
    let w2 = work(&en1, &next);
    let n2 = find_nonce(&w2, &en2, w2.version, true);
    assert_eq!(
        submit(&mut c, 12, &user, &next, &en2, w2.ntime, n2)["result"],
        true
    );
    let next3 = c.notify(&mut notes);
    let w3 = work(&en1, &next3);
    let miss = find_nonce(&w3, &en2, w3.version, false);
    assert_eq!(
        submit(&mut c, 13, &user, &next3, &en2, w3.ntime, miss)["error"][0],
        23
    );
    let n3 = find_nonce(&w3, &en2, w3.version, true);
    // A share that is also a block, then the same share again.
    assert_eq!(
        submit(&mut c, 14, &user, &next3, &en2, w3.ntime, n3)["result"],
        true
    );
    let dup = submit(&mut c, 15, &user, &next3, &en2, w3.ntime, n3);
    assert!(dup["error"][0] == 22 || dup["error"][0] == 21, "{dup}");

    let me = node.worker(&user);
    assert_eq!(me["accepted"], 3);
    assert_eq!(me["blocks"], 3);
    assert_eq!(
        me["rejected"]["job-not-found"].as_u64().unwrap()
            + me["rejected"]["duplicate"].as_u64().unwrap_or(0),
        2
    );
    assert_eq!(me["rejected"]["low-difficulty"], 1);
    assert!(me["last_share"].as_u64().is_some());
    assert_eq!(node.get("/status")["height"], 3);
}

#[test]
fn version_rolling_is_negotiated_and_enforced() {
    let node = Node::start();
    let (_, user) = address();
    let mut c = node.connect();
    c.send(json!({"id": 1, "method": "mining.configure", "params": [["version-rolling"], {"version-rolling.mask": "ffffffff", "version-rolling.min-bit-count": 2}]}));
    let r = c.answer(1, &mut Vec::new());
    assert_eq!(r["result"]["version-rolling"], true);
    assert_eq!(r["result"]["version-rolling.mask"], "1fffe000");
    let (en1, job) = login(&mut c, &user);
    let w = work(&en1, &job);
    let en2 = [9, 9, 9, 9];
    let bits = 0x0000_6000u32;
    let version = (w.version & !0x1fff_e000) | bits;
    let nonce = find_nonce(&w, &en2, version, true);
    c.send(json!({"id": 20, "method": "mining.submit", "params": [
        user, job["params"][0], hex::encode(en2), format!("{:08x}", w.ntime), format!("{nonce:08x}"), format!("{bits:08x}")
    ]}));
    assert_eq!(c.answer(20, &mut Vec::new())["result"], true);
    let block = node.get("/blocks/1");
    let header = hex::decode(block["header_hex"].as_str().unwrap()).unwrap();
    assert_eq!(u32::from_le_bytes(header[..4].try_into().unwrap()), version);
    // Bits outside the mask are refused.
    let mut notes = Vec::new();
    let next = c.notify(&mut notes);
    c.send(json!({"id": 21, "method": "mining.submit", "params": [
        user, next["params"][0], "00000000", next["params"][7], "00000000", "80000000"
    ]}));
    assert_eq!(c.answer(21, &mut notes)["error"][0], 20);
}

#[test]
fn protocol_errors_get_standard_codes_and_never_affect_other_connections() {
    let node = Node::start();
    let (_, user) = address();
    let mut bystander = node.connect();
    let (_, job) = login(&mut bystander, &user);

    let mut c = node.connect();
    // Not subscribed (25), then not authorized (24), then a bad payout address.
    c.send(json!({"id": 1, "method": "mining.authorize", "params": [user, "x"]}));
    assert_eq!(c.answer(1, &mut Vec::new())["error"][0], 25);
    c.send(json!({"id": 2, "method": "mining.submit", "params": [user, "1", "00000000", "00000000", "00000000"]}));
    assert_eq!(c.answer(2, &mut Vec::new())["error"][0], 25);
    c.send(json!({"id": 3, "method": "mining.subscribe", "params": []}));
    c.answer(3, &mut Vec::new());
    c.send(json!({"id": 4, "method": "mining.submit", "params": [user, "1", "00000000", "00000000", "00000000"]}));
    assert_eq!(c.answer(4, &mut Vec::new())["error"][0], 24);
    c.send(json!({"id": 5, "method": "mining.authorize", "params": ["bc1notours", "x"]}));
    let r = c.answer(5, &mut Vec::new());
    assert_eq!(
        (r["result"].clone(), r["error"][0].clone()),
        (json!(false), json!(24))
    );
    // Malformed lines and wrong parameters answer with an error and keep the connection.
    for bad in ["{", "[]", "null", "{\"id\": 6}", "\u{0}\u{1}garbage"] {
        c.send_raw(bad);
        let r = c.recv();
        assert_eq!(r["error"][0], 20, "{bad:?} -> {r}");
    }
    c.send(json!({"id": 7, "method": "mining.authorize", "params": [user, "x"]}));
    assert_eq!(c.answer(7, &mut Vec::new())["result"], true);
    for params in [
        json!([user]),
        json!([user, "nojob", "00", "00000000", "00000000"]),
        json!([user, job["params"][0], "zz", 1, 2]),
    ] {
        c.send(json!({"id": 8, "method": "mining.submit", "params": params}));
        let code = c.answer(8, &mut Vec::new())["error"][0].as_i64().unwrap();
        assert!(code == 20 || code == 21, "{params}: {code}");
    }
    // A line longer than the limit closes that connection only.
    let huge = "x".repeat(aic_api::stratum::MAX_LINE_BYTES + 10);
    c.send_raw(&huge);
    let mut rest = String::new();
    assert_eq!(c.reader.read_line(&mut rest).unwrap_or(0), 0, "closed");
    // The bystander still mines.
    bystander.send(json!({"id": 9, "method": "mining.extranonce.subscribe", "params": []}));
    assert_eq!(bystander.answer(9, &mut Vec::new())["result"], true);
}

/// A straightforward kernel for the test: SHA-256d per nonce.
struct ReferenceKernel;

impl aic_miner::Kernel for ReferenceKernel {
    fn name(&self) -> &'static str {
        "reference"
    }

    fn search(
        &self,
        job: &aic_miner::Job,
        start: u32,
        count: u32,
        found: &mut Vec<aic_miner::Found>,
    ) {
        let mut header = job.header;
        for i in 0..count {
            let nonce = start + i;
            header[76..].copy_from_slice(&nonce.to_le_bytes());
            let hash = sha256d(&header).0;
            if aic_miner::meets_target(&hash, &job.target) {
                found.push(aic_miner::Found { nonce, hash });
            }
        }
    }
}

#[test]
fn the_stratum_client_mines_real_blocks_through_the_node_and_fails_over() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let node = Node::start();
    let (addr, text) = address();
    // The first pool refuses connections: the client must move on to the second.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead_url = format!("stratum+tcp://{}", dead.local_addr().unwrap());
    drop(dead);
    let config = aic_miner::PoolConfig {
        urls: vec![
            dead_url,
            format!("stratum+tcp://{}", node.n().stratum_addr.unwrap()),
        ],
        user: format!("{text}.client"),
        password: "x".to_owned(),
        // On devnet nearly every other hash meets the network target, so every batch holds
        // many shares; small batches keep the flood of (then stale) submissions small.
        search: aic_miner::SearchConfig {
            threads: 2,
            batch: 16,
        },
    };
    let stop = Arc::new(AtomicBool::new(false));
    let events = Arc::new(std::sync::Mutex::new(Vec::new()));
    let client = {
        let (stop, events) = (stop.clone(), events.clone());
        std::thread::spawn(move || {
            aic_miner::run_pool_client(&config, Arc::new(ReferenceKernel), stop, |e| {
                events.lock().unwrap().push(e)
            })
        })
    };
    let started = std::time::Instant::now();
    // The node reaches a height before the client reads the answer to the share that made
    // it: wait for both, or the client may be stopped one answer short.
    let accepted = || {
        events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| matches!(e, aic_miner::ClientEvent::Accepted { .. }))
            .count()
    };
    // The shares the client itself calls blocks (their hash met the job's network target).
    let blocks = || -> Vec<String> {
        events
            .lock()
            .unwrap()
            .iter()
            .filter_map(|e| match e {
                aic_miner::ClientEvent::Accepted { block } => block.clone(),
                _ => None,
            })
            .collect()
    };
    while node.get("/status")["height"].as_u64().unwrap() < 3
        || accepted() < 3
        || blocks().is_empty()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no blocks mined"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let stats = client.join().unwrap();
    assert!(stats.accepted >= 3, "{stats:?}");
    // Each block the client reported is one the node holds, its coinbase paying this user.
    for hash in blocks() {
        let block = node.get(&format!("/blocks/{hash}"));
        assert_eq!(block["hash"], hash, "{block}");
        let coinbase = block["txs"][0]["payouts"].to_string();
        assert!(coinbase.contains(&text), "{block}");
    }
    assert!(stats.hashes > 0);
    let events = events.lock().unwrap();
    assert!(
        matches!(events[0], aic_miner::ClientEvent::Disconnected { .. }),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, aic_miner::ClientEvent::Authorized { .. })));
    for h in 1..=3 {
        let b = node.get(&format!("/blocks/{h}"));
        assert_eq!(
            b["txs"][0]["payouts"][0]["to"].as_str().unwrap(),
            addr.to_bech32(Network::Devnet)
        );
    }
}

#[test]
fn random_lines_get_an_error_or_a_close_and_never_hurt_the_server() {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestRunner};

    let node = Node::start();
    let (_, user) = address();
    let mut bystander = node.connect();
    login(&mut bystander, &user);
    let mut runner = TestRunner::new(Config {
        cases: 64,
        ..Config::default()
    });
    // Arbitrary bytes (no newline), and JSON-shaped lines with random methods and params.
    let lines = prop_oneof![
        prop::collection::vec(
            any::<u8>().prop_filter("no newline", |b| *b != b'\n'),
            0..300
        )
        .prop_map(|b| String::from_utf8_lossy(&b).replace('\n', " ")),
        ("[a-z.]{0,20}", prop::collection::vec(any::<i64>(), 0..6)).prop_map(|(m, p)| {
            json!({"id": 5, "method": format!("mining.{m}"), "params": p}).to_string()
        }),
        prop::collection::vec("[0-9a-z]{0,12}", 0..7)
            .prop_map(|p| json!({"id": 6, "method": "mining.submit", "params": p}).to_string()),
    ];
    runner
        .run(&lines, |line| {
            if line.trim().is_empty() {
                // Blank lines get no answer at all (as in other pools); nothing to wait for.
                return Ok(());
            }
            let mut c = node.connect();
            c.send_raw(&line);
            let mut answer = String::new();
            // Either one answer line (an error, or a result for a harmless request), or a close.
            let n = c.reader.read_line(&mut answer).unwrap_or(0);
            if n > 0 {
                let v: Value = serde_json::from_str(&answer).expect("the answer is JSON");
                prop_assert!(v.get("error").is_some() || v.get("method").is_some(), "{v}");
            }
            Ok(())
        })
        .unwrap();
    // The server still serves the connection that was there all along.
    bystander.send(json!({"id": 99, "method": "mining.extranonce.subscribe", "params": []}));
    assert_eq!(bystander.answer(99, &mut Vec::new())["result"], true);
}

#[test]
fn a_share_submitted_twice_is_a_duplicate_and_counted() {
    // Mainnet parameters: the network target is harder than a low share target, so a share
    // is usually not a block and its job stays current.
    let node = Node::start_on("mainnet");
    let a = Address::from_public_key(&SecretKey::from_seed([4; 32]).public_key());
    let user = format!("{}.dup", a.to_bech32(Network::Mainnet));
    let mut c = node.connect();
    c.send_raw(r#"{"id": 1, "method": "mining.subscribe", "params": []}"#);
    let mut notes = Vec::new();
    let sub = c.answer(1, &mut notes);
    let en1 = hex::decode(sub["result"][1].as_str().unwrap()).unwrap();
    c.send(json!({"id": 2, "method": "mining.suggest_difficulty", "params": [1e-6]}));
    assert_eq!(c.answer(2, &mut notes)["result"], true);
    c.send(json!({"id": 3, "method": "mining.authorize", "params": [user, "x"]}));
    assert_eq!(c.answer(3, &mut notes)["result"], true);
    let job = c.notify(&mut notes);
    let w = work(&en1, &job);
    let share_target = aic_miner::difficulty_target(1e-6);
    let network = aic_primitives::CompactTarget(w.nbits).to_target().unwrap();
    let en2 = [1, 2, 3, 4];
    let mut header = w.header(&en2, w.ntime, w.version);
    let nonce = (0u32..)
        .find(|n| {
            header[76..].copy_from_slice(&n.to_le_bytes());
            let h = sha256d(&header);
            aic_miner::meets_target(&h.0, &share_target) && !network.is_met_by(&h)
        })
        .unwrap();
    assert_eq!(
        submit(&mut c, 10, &user, &job, &en2, w.ntime, nonce)["result"],
        true
    );
    let again = submit(&mut c, 11, &user, &job, &en2, w.ntime, nonce);
    assert_eq!(again["error"][0], 22, "{again}");
    let me = node.worker(&user);
    assert_eq!(me["accepted"], 1);
    assert_eq!(me["rejected"]["duplicate"], 1);
    assert_eq!(me["blocks"], 0);
    // The announced difficulty is what the worker's statistics show.
    assert_eq!(me["difficulty"], 1e-6);
}
