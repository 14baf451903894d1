//! What the node's API tests share: a real node on loopback ports with a temporary data
//! directory, keys, signed transfers, HTTP and JSON-RPC helpers, a standard miner's
//! getblocktemplate flow, a small Stratum client, and signed market transactions ([`market`]).

#![allow(dead_code)] // Each test binary uses a different part.

pub(crate) mod market;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use aic_node::{NodeConfig, RunningNode};
use aic_primitives::{
    merkle_root, sha256d, Action, Address, Amount, ChainParams, CompactSize, Encode, Hash256,
    Height, Network, SecretKey, Target, Transaction, TxBody, U256,
};
use serde_json::{json, Value};

pub(crate) fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

pub(crate) fn addr(i: u8) -> Address {
    Address::from_public_key(&key(i).public_key())
}

pub(crate) fn bech(i: u8) -> String {
    addr(i).to_bech32(Network::Devnet)
}

/// A signed devnet transfer.
pub(crate) fn transfer(from: u8, nonce: u64, to: Address, amount: u64, fee: u64) -> Transaction {
    Transaction::Signed(
        TxBody {
            chain_id: ChainParams::devnet().chain_id,
            sender: key(from).public_key(),
            nonce,
            fee: Amount::from_units(fee),
            action: Action::Transfer {
                to,
                amount: Amount::from_units(amount),
            },
        }
        .sign(&key(from)),
    )
}

pub(crate) fn tx_hex(tx: &Transaction) -> String {
    hex::encode(tx.to_bytes())
}

/// A devnet node with a Stratum listener and a one-thread miner that is off until asked;
/// templates pay user 1.
pub(crate) struct TestNode {
    pub(crate) node: Option<RunningNode>,
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) base: String,
    /// The `Authorization` value JSON-RPC accepts.
    pub(crate) auth: String,
    _dir: tempfile::TempDir,
}

impl TestNode {
    pub(crate) fn start() -> TestNode {
        TestNode::start_with(|_| {})
    }

    /// Like [`TestNode::start`], with `change` applied to the configuration first.
    pub(crate) fn start_with(change: impl FnOnce(&mut NodeConfig)) -> TestNode {
        let dir = tempfile::tempdir().unwrap();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let mut config = NodeConfig {
            network: "devnet".to_owned(),
            data_dir: dir.path().to_owned(),
            api_addr: "127.0.0.1:0".parse().unwrap(),
            stratum_addr: Some("127.0.0.1:0".parse().unwrap()),
            miner_threads: 1,
            payout_address: Some(addr(1).to_bech32(Network::Devnet)),
            ..NodeConfig::default()
        };
        change(&mut config);
        let node = rt.block_on(RunningNode::start(&config)).unwrap();
        let base = format!("http://{}", node.api_addr);
        let auth = node.rpc_auth.header_value();
        TestNode {
            node: Some(node),
            rt,
            base,
            auth,
            _dir: dir,
        }
    }

    pub(crate) fn post(&self, path: &str, body: Value) -> (u16, Value) {
        answer(ureq::post(&format!("{}{path}", self.base)).send_json(body))
    }

    pub(crate) fn rpc(&self, method: &str, params: Value) -> (u16, Value) {
        answer(
            ureq::post(&format!("{}/rpc", self.base))
                .set("Authorization", &self.auth)
                .send_json(
                    json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params}),
                ),
        )
    }

    pub(crate) fn status(&self) -> Value {
        self.get("/api/v1/status").1
    }

    pub(crate) fn n(&mut self) -> &mut RunningNode {
        self.node.as_mut().unwrap()
    }

    pub(crate) fn height(&self) -> u64 {
        self.get("/api/v1/status").1["height"].as_u64().unwrap()
    }

    /// Mines until the tip is at `height` (within 60 s), paying `payout`, then stops mining.
    pub(crate) fn mine_to(&mut self, payout: u8, height: u64) {
        self.n().start_miner(addr(payout), Some(Height(height)));
        let deadline = Instant::now() + Duration::from_secs(60);
        while self.height() < height {
            assert!(
                Instant::now() < deadline,
                "mining to {height} took too long"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.n().stop_miner();
    }

    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        answer(ureq::get(&format!("{}{path}", self.base)).call())
    }

    pub(crate) fn post_tx(&self, tx: &Transaction) -> (u16, Value) {
        answer(
            ureq::post(&format!("{}/api/v1/txs", self.base)).send_json(json!({"hex": tx_hex(tx)})),
        )
    }

    /// Shuts the node down, failing if it takes more than `secs`.
    pub(crate) fn shutdown_within(&mut self, secs: u64) {
        let node = self.node.take().unwrap();
        self.rt.block_on(async {
            tokio::time::timeout(Duration::from_secs(secs), node.shutdown())
                .await
                .expect("the node did not shut down in time");
        });
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        if let Some(n) = self.node.take() {
            self.rt.block_on(n.shutdown());
        }
    }
}

pub(crate) fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport error: {e}"),
    }
}

/// Asserts a 4xx answer with `code`.
pub(crate) fn assert_refused(got: (u16, Value), status: u16, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
    assert!(!got.1["message"].as_str().unwrap_or("").is_empty());
}

/// A Stratum v1 connection speaking as a standard miner does.
pub(crate) struct StratumClient {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
    pub(crate) extranonce1: Vec<u8>,
    next_id: i64,
    /// Notifications read while waiting for an answer.
    notes: Vec<Value>,
}

impl StratumClient {
    /// Connects, subscribes and authorizes as `user`; returns the client and the first job.
    pub(crate) fn login(addr: std::net::SocketAddr, user: &str) -> (StratumClient, Value) {
        let stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let mut c = StratumClient {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
            extranonce1: Vec::new(),
            next_id: 1,
            notes: Vec::new(),
        };
        let sub = c.call("mining.subscribe", json!(["aic-test/1"]));
        c.extranonce1 = hex::decode(sub["result"][1].as_str().unwrap()).unwrap();
        assert_eq!(
            c.call("mining.authorize", json!([user, "x"]))["result"],
            true
        );
        let job = c.next_notify();
        (c, job)
    }

    fn recv(&mut self) -> Value {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    /// Sends a request and returns its answer, keeping notifications that come before it.
    pub(crate) fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let line = json!({"id": id, "method": method, "params": params}).to_string();
        self.stream.write_all(line.as_bytes()).unwrap();
        self.stream.write_all(b"\n").unwrap();
        loop {
            let v = self.recv();
            if v["id"] == json!(id) {
                return v;
            }
            self.notes.push(v);
        }
    }

    /// The newest `mining.notify` already read, else the next one.
    pub(crate) fn next_notify(&mut self) -> Value {
        let notes = std::mem::take(&mut self.notes);
        if let Some(job) = notes
            .into_iter()
            .rev()
            .find(|n| n["method"] == "mining.notify")
        {
            return job;
        }
        loop {
            let v = self.recv();
            if v["method"] == "mining.notify" {
                return v;
            }
        }
    }

    /// Solves `job` (a nonce meeting, or with `meet = false` missing, the network target) and
    /// submits it as `user`; returns the answer.
    pub(crate) fn solve(&mut self, user: &str, job: &Value, meet: bool) -> Value {
        let p = &job["params"];
        let unhex = |v: &Value| hex::decode(v.as_str().unwrap()).unwrap();
        let hex_u32 = |v: &Value| u32::from_str_radix(v.as_str().unwrap(), 16).unwrap();
        let mut prev: [u8; 32] = unhex(&p[1]).try_into().unwrap();
        for word in prev.chunks_mut(4) {
            word.reverse();
        }
        let w = aic_miner::WorkTemplate {
            version: hex_u32(&p[5]),
            version_mask: 0,
            prev_hash: prev,
            coinbase1: unhex(&p[2]),
            extranonce1: self.extranonce1.clone(),
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
        };
        let en2 = [0u8, 0, 0, 7];
        let target = aic_primitives::CompactTarget(w.nbits).to_target().unwrap();
        let mut header = w.header(&en2, w.ntime, w.version);
        let nonce = (0u32..)
            .find(|n| {
                header[76..].copy_from_slice(&n.to_le_bytes());
                target.is_met_by(&aic_primitives::sha256d(&header)) == meet
            })
            .unwrap();
        self.call(
            "mining.submit",
            json!([
                user,
                p[0],
                hex::encode(en2),
                format!("{:08x}", w.ntime),
                format!("{nonce:08x}")
            ]),
        )
    }

    /// Reads and drops everything the server sends until it closes (keeps a long-lived
    /// connection from filling its buffers).
    pub(crate) fn drain(self) -> std::thread::JoinHandle<()> {
        let mut reader = self.reader;
        let stream = self.stream;
        // Bounded: the thread ends within this even if the node never closes the socket.
        let _ = stream.set_read_timeout(Some(Duration::from_secs(300)));
        std::thread::spawn(move || {
            let _keep_open = stream;
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
                line.clear();
            }
        })
    }
}

pub(crate) fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

pub(crate) fn display_hash(v: &Value) -> Hash256 {
    v.as_str().unwrap().parse().unwrap()
}

/// Builds and mines a block from a getblocktemplate answer the way a standard miner does:
/// the coinbase and transactions from their `data`, Bitcoin's merkle tree over their txids,
/// the header from the template's fields, a nonce search, and the block bytes.
pub(crate) fn mine_template(t: &Value, mutate_merkle: bool) -> Vec<u8> {
    let mut txs = vec![unhex(&t["coinbasetxn"]["data"])];
    for tx in t["transactions"].as_array().unwrap() {
        txs.push(unhex(&tx["data"]));
    }
    let ids: Vec<Hash256> = txs.iter().map(|b| sha256d(b)).collect();
    let mut root = merkle_root(&ids).0;
    if mutate_merkle {
        root.0[0] ^= 1;
    }
    let bits = u32::from_str_radix(t["bits"].as_str().unwrap(), 16).unwrap();
    let target = Target(U256::from_str_radix(t["target"].as_str().unwrap(), 16).unwrap());
    let mut header = Vec::with_capacity(80);
    header.extend_from_slice(&(t["version"].as_i64().unwrap() as i32).to_le_bytes());
    header.extend_from_slice(display_hash(&t["previousblockhash"]).as_bytes());
    header.extend_from_slice(root.as_bytes());
    header.extend_from_slice(&(t["curtime"].as_u64().unwrap() as u32).to_le_bytes());
    header.extend_from_slice(&bits.to_le_bytes());
    header.extend_from_slice(&0u32.to_le_bytes());
    for nonce in 0u32.. {
        header[76..].copy_from_slice(&nonce.to_le_bytes());
        if target.is_met_by(&sha256d(&header)) {
            break;
        }
    }
    let mut block = header;
    CompactSize(txs.len() as u64).encode_to(&mut block);
    for tx in txs {
        block.extend_from_slice(&tx);
    }
    block
}

/// A block from template `t` whose header misses the target.
pub(crate) fn missing_target(t: &Value) -> Vec<u8> {
    let mut block = mine_template(t, false);
    let target = Target(U256::from_str_radix(t["target"].as_str().unwrap(), 16).unwrap());
    for nonce in 0u32.. {
        block[76..80].copy_from_slice(&nonce.to_le_bytes());
        if !target.is_met_by(&sha256d(&block[..80])) {
            break;
        }
    }
    block
}

pub(crate) fn template(n: &TestNode) -> Value {
    let (code, r) = n.rpc("getblocktemplate", json!([{"rules": []}]));
    assert_eq!(code, 200, "{r}");
    r["result"].clone()
}

pub(crate) fn submit(n: &TestNode, block: &[u8]) -> Value {
    let (code, r) = n.rpc("submitblock", json!([hex::encode(block)]));
    assert_eq!(code, 200, "{r}");
    r["result"].clone()
}
