//! The market agent against a real node: `aic worker run --market` processes bid on a posted
//! training job, the cheapest is awarded it and trains it for real (killed with SIGKILL in
//! the middle and started again, the node too), publishes its weights, checkpoints and
//! result manifest, and submits the result; the other, drawn as verifier, replays the drawn
//! segments for real and passes it; the job settles with every balance as expected and the
//! consumer downloads and checks the weights. A provider that publishes a transcript with a
//! skipped segment gets a FAIL verdict from the agent verifier and is slashed.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use aic_worker::market::{ResultManifest, TranscriptEntry, MANIFEST_VERSION};
use serde_json::Value;

mod common;

use common::{free_port, get, json};

/// Every wait of a scenario step is bounded by this.
const LIMIT: Duration = Duration::from_secs(300);
const FEE_UNITS: u64 = 10_000;

/// A worker process, killed when dropped; its output in `NAME.log`.
struct Worker {
    child: Option<Child>,
}

impl Worker {
    fn start(dir: &Path, name: &str) -> Worker {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(format!("{name}.log")))
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_aic"))
            .current_dir(dir)
            .env("RUST_LOG", "warn")
            .args(["worker", "run", "--market", "--no-owner-activity"])
            .args(["--config", &format!("{name}.toml")])
            .args(["--listen", &format!("127.0.0.1:{}", free_port())])
            .args(["--data-dir", name, "--seconds", "1200"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        Worker { child: Some(child) }
    }

    /// SIGKILL: no chance to checkpoint or to save anything.
    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The node, the wallets, the published model and data set, the registered providers.
struct World {
    tmp: tempfile::TempDir,
    node: String,
    /// The node process and the arguments that start it (again, on the same data dir).
    node_process: Option<common::Guard>,
    node_args: Vec<String>,
    owner: String,
    p1: String,
    p2: String,
    consumer: String,
    model: String,
    dataset: String,
}

fn spawn_node(dir: &Path, args: &[String]) -> common::Guard {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::spawn(dir, &args)
}

impl World {
    /// SIGKILLs the node and starts it again on its data dir: whatever it accepted is kept.
    fn restart_node(&mut self) {
        drop(self.node_process.take());
        self.node_process = Some(spawn_node(self.dir(), &self.node_args));
        let node = self.node.clone();
        common::wait_for("the node back", LIMIT, || {
            get(&format!("{node}/api/v1/status")).map(|_| ())
        });
    }

    fn dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `aic ARGS --node NODE`, which must succeed; its last line as JSON.
    fn cli(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend_from_slice(&["--node", &self.node]);
        json(self.dir(), &all)
    }

    fn account(&self, address: &str) -> Value {
        get(&format!("{}/api/v1/accounts/{address}", self.node)).unwrap()
    }

    fn balance(&self, address: &str) -> u64 {
        self.account(address)["balance_units"].as_u64().unwrap()
    }

    fn job(&self, id: &str) -> Value {
        get(&format!("{}/api/v1/market/jobs/{id}", self.node)).unwrap()
    }

    /// Waits for `f`, for at most `limit`; on time out, fails with the workers' logs.
    fn wait<T>(&self, what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = f() {
                return v;
            }
            if Instant::now() > deadline {
                let mut logs = String::new();
                for name in ["w1", "w2"] {
                    let text = std::fs::read_to_string(self.dir().join(format!("{name}.log")))
                        .unwrap_or_default();
                    logs.push_str(&format!("--- {name}.log\n{text}\n"));
                }
                panic!("timed out waiting for {what}\n{logs}");
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn wait_status(&self, id: &str, status: &str) -> Value {
        self.wait(&format!("job {status}"), LIMIT, || {
            let j = self.job(id);
            (j["status"] == status).then_some(j)
        })
    }

    /// A worker config: the market agent of `wallet` bidding `price` (or not bidding).
    fn worker_config(&self, name: &str, wallet: &str, price: Option<&str>) {
        let bid = match price {
            Some(p) => format!("bid = true\nprice = \"{p}\"\n"),
            None => "bid = false\n".to_owned(),
        };
        let text = format!(
            "[jobs]\ndir = \"{name}-jobs\"\n\n[market]\nenabled = true\nwallet = \"{wallet}\"\nnode = \"{}\"\ncookie = \"node/.cookie\"\n{bid}verify = true\npoll_ms = 300\n",
            self.node
        );
        std::fs::write(self.dir().join(format!("{name}.toml")), text).unwrap();
    }

    /// The consumer posts a training job of the tiny keyword model; its id.
    fn post(&self, epochs: &str, every: &str, segments: &str, challenge: &str) -> String {
        let posted = self.cli(&[
            "job",
            "post",
            "--wallet",
            "c.key",
            "--model",
            &self.model,
            "--dataset",
            &self.dataset,
            "--param",
            "channels=8",
            "--param",
            "blocks=1",
            "--param",
            "batch_size=10",
            "--param",
            "warmup_steps=1",
            "--param",
            "patience=0",
            "--param",
            &format!("epochs={epochs}"),
            "--param",
            &format!("checkpoint_every={every}"),
            "--budget",
            "20",
            "--max-price",
            "10",
            "--bid-blocks",
            "6",
            "--deadline-blocks",
            "600",
            "--verifiers",
            "1",
            "--segments",
            segments,
            "--challenge-blocks",
            challenge,
            "--wait",
            "--json",
        ]);
        posted["job"].as_str().unwrap().to_owned()
    }
}

fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let miner = common::new_wallet(dir, "m.key");
    let owner = common::new_wallet(dir, "o.key");
    let p1 = common::new_wallet(dir, "p1.key");
    let p2 = common::new_wallet(dir, "p2.key");
    let consumer = common::new_wallet(dir, "c.key");
    let api = free_port();
    let node = format!("http://127.0.0.1:{api}");
    let node_args: Vec<String> = [
        "node",
        "--network",
        "devnet",
        "--no-p2p",
        "--data-dir",
        "node",
        "--api-addr",
        &format!("127.0.0.1:{api}"),
        "--mine",
        &miner,
        "--miner-threads",
        "1",
    ]
    .iter()
    .map(|a| (*a).to_owned())
    .collect();
    let guard = spawn_node(dir, &node_args);
    common::wait_for("coins to spend", LIMIT, || {
        (get(&format!("{node}/api/v1/status"))?["height"].as_u64()? >= 8).then_some(())
    });
    for (to, amount, wait) in [
        (&owner, "5", false),
        (&p1, "100", false),
        (&p2, "100", false),
        (&consumer, "100", true),
    ] {
        let mut args = vec![
            "wallet",
            "send",
            "--wallet",
            "m.key",
            "--to",
            to.as_str(),
            "--amount",
            amount,
            "--node",
            node.as_str(),
        ];
        if wait {
            args.push("--wait");
        }
        common::ok(dir, &args);
    }
    // The owner publishes the model (an architecture to train) and the data set, on chain and
    // in the node's blob store, where workers fetch them.
    common::ok(
        dir,
        &[
            "model",
            "init",
            "--task",
            "keyword-spotting",
            "--dir",
            "kws",
        ],
    );
    let cookie = dir.join("node/.cookie");
    let cookie = cookie.to_str().unwrap();
    let model = json(
        dir,
        &[
            "model",
            "publish",
            "kws",
            "--wallet",
            "o.key",
            "--royalty-bps",
            "500",
            "--cookie",
            cookie,
            "--wait",
            "--json",
            "--node",
            &node,
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    common::ok(
        dir,
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    let dataset = json(
        dir,
        &[
            "data",
            "publish",
            "ds",
            "--cookie",
            cookie,
            "--task",
            "keyword-spotting",
            "--royalty-bps",
            "200",
            "--wallet",
            "o.key",
            "--wait",
            "--json",
            "--node",
            &node,
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for key in ["p1.key", "p2.key"] {
        json(
            dir,
            &[
                "provider",
                "register",
                "--wallet",
                key,
                "--stake",
                "20",
                "--class",
                "cpu",
                "--memory-mib",
                "2048",
                "--wait",
                "--json",
                "--node",
                &node,
            ],
        );
    }
    World {
        tmp,
        node,
        node_process: Some(guard),
        node_args,
        owner,
        p1,
        p2,
        consumer,
        model,
        dataset,
    }
}

/// Lines of a training job's output that are steps.
fn steps(out: &Path) -> usize {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains("\"event\":\"step\""))
        .count()
}

#[test]
fn agents_bid_train_publish_verify_and_settle_and_a_killed_provider_and_node_resume() {
    let mut w = world();
    let dir = w.dir().to_path_buf();
    let dir = dir.as_path();
    w.worker_config("w1", "p1.key", Some("5"));
    w.worker_config("w2", "p2.key", Some("8"));
    let mut w1 = Worker::start(dir, "w1");
    let _w2 = Worker::start(dir, "w2");
    let before: Vec<u64> = [&w.owner, &w.p1, &w.p2, &w.consumer]
        .iter()
        .map(|a| w.balance(a))
        .collect();

    let id = w.post("60", "20", "2", "60");
    // Both agents bid; the cheaper one is awarded the job when the window closes.
    let awarded = w.wait_status(&id, "awarded");
    assert_eq!(awarded["award"]["provider"], w.p1.as_str(), "{awarded}");
    let bidders: Vec<&str> = awarded["bids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["provider"].as_str().unwrap())
        .collect();
    assert!(bidders.contains(&w.p2.as_str()), "{awarded}");

    // Killed in the middle of training, started again: it resumes and ends settled.
    let out = dir.join(format!("w1-jobs/work/{id}/out.jsonl"));
    w.wait("the provider's training steps", LIMIT, || {
        (steps(&out) >= 10).then_some(())
    });
    assert!(
        !dir.join(format!("w1-jobs/done/{id}.json")).exists(),
        "training ended before the kill: make the job longer"
    );
    w1.kill();
    // The node too, while the verifier's agent keeps polling it: what it accepted is on disk.
    w.restart_node();
    assert_eq!(w.job(&id)["status"], "awarded");
    let _w1 = Worker::start(dir, "w1");

    let verifying = w.wait_status(&id, "verifying");
    assert_eq!(
        verifying["verification"]["verifiers"][0],
        w.p2.as_str(),
        "{verifying}"
    );
    let settled = w.wait_status(&id, "settled");
    let verdicts = settled["verification"]["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 1, "{settled}");
    assert_eq!(verdicts[0]["verifier"], w.p2.as_str());
    assert_eq!(verdicts[0]["pass"], true);
    let kinds: Vec<(&str, &str, u64)> = settled["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["kind"].as_str().unwrap(),
                p["to"].as_str().unwrap(),
                p["amount_units"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("price", w.p1.as_str(), 500_000_000),
            ("model-royalty", w.owner.as_str(), 25_000_000),
            ("dataset-royalty", w.owner.as_str(), 10_000_000),
            ("verifier-fee", w.p2.as_str(), 10_000_000),
            ("refund", w.consumer.as_str(), 1_455_000_000),
        ]
    );
    // Every balance: the provider's price less its bid and result fees, the verifier's fee
    // less its bid and verdict fees, the royalties, the consumer's budget less the refund.
    let after: Vec<u64> = [&w.owner, &w.p1, &w.p2, &w.consumer]
        .iter()
        .map(|a| w.balance(a))
        .collect();
    assert_eq!(after[0], before[0] + 35_000_000);
    assert_eq!(after[1], before[1] + 500_000_000 - 2 * FEE_UNITS);
    assert_eq!(after[2], before[2] + 10_000_000 - 2 * FEE_UNITS);
    assert_eq!(after[3], before[3] - 545_000_000 - FEE_UNITS);
    // Nothing was sent twice across the kill: register, bid, result; register, bid, verdict.
    assert_eq!(w.account(&w.p1)["nonce"], 3);
    assert_eq!(w.account(&w.p2)["nonce"], 3);

    // The consumer fetches the manifest and the weights and checks both against the chain.
    let got = w.cli(&[
        "job",
        "result",
        &id,
        "--out",
        "w.safetensors",
        "--manifest",
        "result.json",
        "--verify",
        "--json",
    ]);
    assert_eq!(got["verified"], true);
    let manifest = ResultManifest::parse(&std::fs::read(dir.join("result.json")).unwrap()).unwrap();
    let weights = std::fs::read(dir.join("w.safetensors")).unwrap();
    assert_eq!(blake3::hash(&weights).to_hex().as_str(), manifest.weights);
    assert_eq!(
        manifest.transcript_root,
        settled["result"]["transcript_root"].as_str().unwrap()
    );
    assert_eq!(
        settled["result"]["segments"].as_u64().unwrap(),
        u64::from(manifest.segments())
    );
    assert!(
        manifest.metrics.contains_key("valid_accuracy"),
        "{manifest:?}"
    );
    // The verifier's evidence is the SHA-256 of the report it kept.
    let report = std::fs::read(dir.join(format!("w2-jobs/market/reports/{id}-0.json"))).unwrap();
    assert_eq!(
        verdicts[0]["evidence"].as_str().unwrap(),
        aic_primitives::sha256(&report).to_hex()
    );
    let report: Value = serde_json::from_slice(&report).unwrap();
    assert_eq!(report["segments"].as_array().unwrap().len(), 2, "{report}");
    assert!(report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["matches"] == true));
}

/// Trains the job's model locally as a dishonest provider would, keeping its checkpoints;
/// returns the state directory and the trainer's `done` line.
fn train_locally(dir: &Path, epochs: &str, every: &str) -> (PathBuf, Value) {
    std::fs::create_dir_all(dir.join("cheat")).unwrap();
    std::fs::copy(
        dir.join("kws/aicmodel.toml"),
        dir.join("cheat/aicmodel.toml"),
    )
    .unwrap();
    let done = json(
        dir,
        &[
            "model",
            "train",
            "cheat",
            "--data",
            "ds",
            "--state-dir",
            "cheat-state",
            "--keep-checkpoints",
            "--json",
            "--set",
            "channels=8",
            "--set",
            "blocks=1",
            "--set",
            "batch_size=10",
            "--set",
            "warmup_steps=1",
            "--set",
            "patience=0",
            "--set",
            &format!("epochs={epochs}"),
            "--set",
            &format!("checkpoint_every={every}"),
        ],
    );
    (dir.join("cheat-state"), done)
}

#[test]
fn a_provider_that_skipped_a_segment_gets_a_fail_verdict_from_the_agent() {
    let w = world();
    let dir = w.dir();
    // Only p2 runs an agent, and only to verify; p1 works by hand.
    w.worker_config("w2", "p2.key", None);
    let _w2 = Worker::start(dir, "w2");
    let id = w.post("2", "2", "8", "40");
    w.cli(&[
        "job", "bid", &id, "--price", "5", "--wallet", "p1.key", "--json",
    ]);
    w.wait_status(&id, "awarded");

    // p1 trains for real, then publishes checkpoint 0 again in place of checkpoint 1, as if
    // it had skipped the first segment; the transcript and its root are consistent with that.
    let (state, done) = train_locally(dir, "2", "2");
    let cookie = aic_rpc::RpcAuth::read_cookie(&dir.join("node/.cookie")).unwrap();
    let put = |bytes: &[u8]| {
        let id = blake3::hash(bytes).to_hex().to_string();
        ureq::put(&format!("{}/api/v1/blobs/{id}", w.node))
            .set("Authorization", &cookie.header_value())
            .send_bytes(bytes)
            .unwrap();
        id
    };
    let mut kept: Vec<(u64, Vec<u8>)> = std::fs::read_dir(state.join("checkpoints"))
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let step: u64 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
            (step, std::fs::read(&path).unwrap())
        })
        .collect();
    kept.sort_by_key(|(step, _)| *step);
    assert!(kept.len() >= 3, "{} checkpoints", kept.len());
    kept[1].1 = kept[0].1.clone();
    let transcript: Vec<TranscriptEntry> = kept
        .iter()
        .map(|(step, bytes)| TranscriptEntry {
            step: *step,
            checkpoint: put(bytes),
        })
        .collect();
    let entries: Vec<aic_ml::transcript::Entry> = transcript
        .iter()
        .map(|e| aic_ml::transcript::Entry {
            step: e.step,
            id: blake3::Hash::from_hex(&e.checkpoint).unwrap(),
        })
        .collect();
    let root = aic_ml::transcript::root(&entries)
        .unwrap()
        .to_hex()
        .to_string();
    let weights = std::fs::read(dir.join("cheat/weights.safetensors")).unwrap();
    let manifest = ResultManifest {
        version: MANIFEST_VERSION,
        job: id.clone(),
        weights: put(&weights),
        transcript_root: root.clone(),
        transcript,
        metrics: [("valid_accuracy".to_owned(), 500_000)].into(),
        scorecards: done["scorecards"].clone(),
    };
    let manifest_id = put(&manifest.to_bytes());
    let segments = manifest.segments().to_string();
    w.cli(&[
        "job",
        "submit-result",
        &id,
        "--result",
        &manifest_id,
        "--transcript-root",
        &root,
        "--segments",
        &segments,
        "--metric",
        "valid_accuracy=0.5",
        "--wallet",
        "p1.key",
        "--wait",
        "--json",
    ]);

    // The agent replays every drawn segment (all of them: the job asks for 8) and fails it.
    let judged = w.wait("the agent's verdict", LIMIT, || {
        let j = w.job(&id);
        let verdicts = j["verification"]["verdicts"].as_array()?.clone();
        (!verdicts.is_empty()).then_some(verdicts)
    });
    assert_eq!(judged[0]["verifier"], w.p2.as_str());
    assert_eq!(judged[0]["pass"], false, "{judged:?}");
    let report: Value = serde_json::from_slice(
        &std::fs::read(dir.join(format!("w2-jobs/market/reports/{id}-0.json"))).unwrap(),
    )
    .unwrap();
    assert_eq!(report["pass"], false);
    let first = &report["segments"][0];
    assert_eq!(first["segment"], 0);
    assert_eq!(first["matches"], false, "{report}");
    // No other provider can be drawn for the second round: the fail stands, p1 is slashed
    // and excluded.
    let rejected = w.wait("the result rejected", LIMIT, || {
        let j = w.job(&id);
        j["excluded"]
            .as_array()?
            .iter()
            .any(|e| e == w.p1.as_str())
            .then_some(j)
    });
    assert!(
        rejected["payments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["kind"] == "slash-to-verifier" && p["to"] == w.p2.as_str()),
        "{rejected}"
    );
}
