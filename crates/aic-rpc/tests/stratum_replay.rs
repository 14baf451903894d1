//! The Stratum server replaying a real third-party miner: pooler's cpuminer 2.5.1's recorded
//! session (`tests/data/`) is sent line for line to our server, on a loopback socket, serving
//! the job the recorded pool served; our answers must be the recorded pool's, and the same
//! session's bad shares must get the standard reject codes.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use aic_api::stratum::RejectCode;
use aic_chain::{Chain, ChainConfig};
use aic_primitives::{sha256d, Address, ChainParams, Encode, Network, SecretKey};
use aic_rpc::{serve_given_job, GivenJob, NodeHandle, StratumConfig};
use serde_json::{json, Value};

const LOG: &str = include_str!("data/minerd_stratum.log");
const VECTOR: &str = include_str!("data/stub_log_minerd.json");

/// The recorded session: what the miner sent (verbatim text) and what the pool answered.
struct Recording {
    sent: Vec<String>,
    received: Vec<Value>,
    vector: Value,
}

fn recording() -> Recording {
    let mut sent = Vec::new();
    let mut received = Vec::new();
    for l in LOG.lines() {
        // "[2026-11-29 02:53:53] > {...}": the miner's line; "< {...}": the pool's.
        if let Some((_, text)) = l.split_once("] > ") {
            sent.push(text.to_owned());
        } else if let Some((_, text)) = l.split_once("] < ") {
            received.push(serde_json::from_str(text).unwrap());
        }
    }
    Recording {
        sent,
        received,
        vector: serde_json::from_str(VECTOR).unwrap(),
    }
}

impl Recording {
    /// The recorded `mining.submit` lines, in order.
    fn submits(&self) -> Vec<&str> {
        let s: Vec<&str> = self
            .sent
            .iter()
            .map(String::as_str)
            .filter(|l| l.contains("mining.submit"))
            .collect();
        assert_eq!(s.len(), 15);
        s
    }

    fn line(&self, method: &str) -> &str {
        self.sent.iter().find(|l| l.contains(method)).unwrap()
    }

    /// The job of `stub_log_minerd.json` as `mining.notify` parameters, `nbits` replaced if
    /// asked.
    fn notify_params(&self, nbits: Option<&str>) -> Value {
        let j = &self.vector["job"];
        json!([
            j["job_id"],
            j["prevhash"],
            j["coinb1"],
            j["coinb2"],
            j["merkle_branch"],
            j["version"],
            nbits.map_or(j["nbits"].clone(), Value::from),
            j["ntime"],
            j["clean"],
        ])
    }

    fn given_job(&self, nbits: Option<&str>) -> Arc<GivenJob> {
        let extranonce1 = self.vector["extranonce1"].as_str().unwrap();
        Arc::new(GivenJob::from_notify(&self.notify_params(nbits), extranonce1).unwrap())
    }
}

/// Our server on a loopback port, serving one given job on a devnet node.
struct Server {
    addr: SocketAddr,
    handle: Arc<NodeHandle>,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Serves `job` at a share difficulty held at `difficulty`.
    fn start(job: Arc<GivenJob>, difficulty: f64) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let chain = Chain::open(
            ChainParams::devnet(),
            &dir.path().join("chain.redb"),
            ChainConfig::default(),
        )
        .unwrap();
        let handle = Arc::new(NodeHandle::new(chain, None));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let config = StratumConfig {
            initial_difficulty: difficulty,
            min_difficulty: difficulty,
            max_difficulty: difficulty,
            refresh_secs: 3600,
            ..StratumConfig::default()
        };
        rt.spawn(serve_given_job(
            listener,
            handle.clone(),
            config,
            job,
            std::future::pending(),
        ));
        Server {
            addr,
            handle,
            _rt: rt,
            _dir: dir,
        }
    }

    fn connect(&self) -> Client {
        let stream = TcpStream::connect(self.addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        Client {
            reader: BufReader::new(stream.try_clone().unwrap()),
            stream,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.handle.close();
    }
}

struct Client {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Client {
    fn send(&mut self, line: &str) {
        self.stream.write_all(line.as_bytes()).unwrap();
        self.stream.write_all(b"\n").unwrap();
    }

    fn read(&mut self) -> Value {
        let mut l = String::new();
        self.reader.read_line(&mut l).unwrap();
        serde_json::from_str(&l).unwrap_or_else(|e| panic!("{e}: {l:?}"))
    }

    fn call(&mut self, line: &str) -> Value {
        self.send(line);
        self.read()
    }
}

/// A devnet payout address: our `mining.authorize` takes `ADDRESS[.worker]`.
fn payout() -> String {
    Address::from_public_key(&SecretKey::from_seed([7; 32]).public_key()).to_bech32(Network::Devnet)
}

/// The recorded authorize line with the worker name made `ADDRESS.testworker`. This is the
/// one change to the miner's lines: the recorded pool took any name ("testworker"), ours pays
/// the address the user name starts with, so the name must begin with one. The submits still
/// say "testworker", verbatim: the server counts shares under the authorized name and
/// ignores the one in a submit.
fn authorize_line(rec: &Recording) -> (String, String) {
    let worker = format!("{}.testworker", payout());
    let recorded = rec.line("mining.authorize");
    assert!(recorded.contains(r#""testworker""#));
    (
        recorded.replace(r#""testworker""#, &serde_json::to_string(&worker).unwrap()),
        worker,
    )
}

fn error_code(answer: &Value) -> i64 {
    assert_eq!(answer["result"], Value::Null, "{answer}");
    answer["error"][0].as_i64().unwrap()
}

/// Subscribes and authorizes with the recorded lines; checks every answer against the
/// recorded pool's (subscription ids aside: they are opaque to the miner).
fn open_recorded_session(server: &Server, rec: &Recording) -> (Client, String) {
    let mut c = server.connect();
    let sub = c.call(rec.line("mining.subscribe"));
    let recorded_sub = &rec.received[0];
    assert_eq!(sub["id"], recorded_sub["id"]);
    assert_eq!(sub["error"], Value::Null);
    // extranonce1 "f000000f" and extranonce2_size 4, as the recorded pool said.
    assert_eq!(sub["result"][1], recorded_sub["result"][1]);
    assert_eq!(sub["result"][2], recorded_sub["result"][2]);
    assert_eq!(sub["result"][1], rec.vector["extranonce1"]);
    assert_eq!(sub["result"][2], rec.vector["extranonce2_size"]);
    let (line, worker) = authorize_line(rec);
    assert_eq!(c.call(&line), rec.received[1]);
    (c, worker)
}

#[test]
fn the_recorded_miners_shares_are_accepted_as_the_recorded_pool_accepted_them() {
    let rec = recording();
    let job = rec.given_job(None);
    let server = Server::start(job.clone(), rec.vector["difficulty"].as_f64().unwrap());
    let (mut c, worker) = open_recorded_session(&server, &rec);
    // set_difficulty 0.001 and the notify, byte for byte the recorded pool's job.
    assert_eq!(c.read(), rec.received[2]);
    assert_eq!(c.read(), rec.received[3]);
    assert_eq!(rec.received[3]["method"], "mining.notify");

    let submits = rec.submits();
    let recorded_answers = &rec.received[4..];
    assert_eq!(recorded_answers.len(), submits.len());
    for (line, recorded) in submits.iter().zip(recorded_answers) {
        assert_eq!(recorded["result"], true);
        assert_eq!(&c.call(line), recorded, "{line}");
    }
    // No recorded share meets the job's network target (nbits 1a02b098): no block.
    assert!(job.block_candidates().is_empty());

    // The same session's bad shares, against the recorded job.
    let first = submits[0];
    assert_eq!(error_code(&c.call(first)), RejectCode::Duplicate.code());
    let changed_nonce = first.replace(r#""d0832600""#, r#""d0832601""#);
    assert_ne!(changed_nonce, first);
    assert_eq!(
        error_code(&c.call(&changed_nonce)),
        RejectCode::LowDifficulty.code()
    );
    let unknown_job = first.replace(r#""4ca""#, r#""4cb""#);
    assert_ne!(unknown_job, first);
    assert_eq!(
        error_code(&c.call(&unknown_job)),
        RejectCode::JobNotFound.code()
    );

    let stats = server.handle.mining().snapshot();
    let w = stats.iter().find(|w| w.worker == worker).unwrap();
    assert_eq!(w.accepted, 15);
    assert_eq!(w.blocks, 0);
    let rejected: Vec<(&str, u64)> = w.rejected.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut expected = vec![
        (RejectCode::Duplicate.name(), 1),
        (RejectCode::LowDifficulty.name(), 1),
        (RejectCode::JobNotFound.name(), 1),
    ];
    expected.sort();
    assert_eq!(rejected, expected);
}

#[test]
fn the_recorded_submit_is_refused_before_subscribe_and_before_authorize() {
    let rec = recording();
    let server = Server::start(rec.given_job(None), 0.001);
    let first = rec.submits()[0];
    let mut c = server.connect();
    assert_eq!(error_code(&c.call(first)), RejectCode::NotSubscribed.code());
    assert_eq!(c.call(rec.line("mining.subscribe"))["error"], Value::Null);
    assert_eq!(error_code(&c.call(first)), RejectCode::Unauthorized.code());
    // Authorized, the same line is a share.
    let (line, _) = authorize_line(&rec);
    assert_eq!(c.call(&line)["result"], true);
    let _set_difficulty = c.read();
    let _notify = c.read();
    assert_eq!(c.call(first)["result"], true);
}

#[test]
fn shares_that_meet_a_given_jobs_network_target_are_reported_not_submitted() {
    // The recorded job with an easy network target (devnet's limit): about half the recorded
    // shares now make a block; each must be accepted and reported, the others refused.
    let rec = recording();
    let job = rec.given_job(Some("207fffff"));
    let server = Server::start(job.clone(), 0.001);
    let (mut c, _) = open_recorded_session(&server, &rec);
    // The network's difficulty is below the configured 0.001: shares are blocks.
    let set_difficulty = c.read();
    assert!(set_difficulty["params"][0].as_f64().unwrap() < 1e-9);
    let notify = c.read();
    assert_eq!(notify["params"][6], "207fffff");

    let tip = server.handle.chain().tip().hash;
    let mut accepted_nonces = Vec::new();
    for line in rec.submits() {
        let answer = c.call(line);
        if answer["result"] == true {
            let nonce = serde_json::from_str::<Value>(line).unwrap()["params"][4].clone();
            accepted_nonces.push(u32::from_str_radix(nonce.as_str().unwrap(), 16).unwrap());
        } else {
            assert_eq!(error_code(&answer), RejectCode::LowDifficulty.code());
        }
    }
    let candidates = job.block_candidates();
    assert!(!candidates.is_empty() && candidates.len() < 15);
    assert_eq!(
        candidates.iter().map(|h| h.nonce).collect::<Vec<_>>(),
        accepted_nonces
    );
    let target = candidates[0].bits.to_target().unwrap();
    for h in &candidates {
        assert!(target.is_met_by(&sha256d(&h.to_bytes())));
        assert_eq!(h.bits.0, 0x207f_ffff);
    }
    // Nothing reached the chain.
    assert_eq!(server.handle.chain().tip().hash, tip);
}
