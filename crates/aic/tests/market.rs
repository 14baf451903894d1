//! The market from the command line against a real node: a model and a dataset published on
//! chain, two providers registered with stakes, a job posted with escrow, bid on, awarded,
//! its result posted and verified by the drawn verifier, settled with every payment, and the
//! result downloaded and checked against the chain. Bad input is refused with its rule and
//! changes nothing.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

mod common;

use common::{free_port, get, json, spawn, wait_for};

const LIMIT: Duration = Duration::from_secs(120);

fn balance(node: &str, address: &str) -> u64 {
    get(&format!("{node}/api/v1/accounts/{address}")).unwrap()["balance_units"]
        .as_u64()
        .unwrap()
}

fn job(node: &str, id: &str) -> Value {
    get(&format!("{node}/api/v1/market/jobs/{id}")).unwrap()
}

fn wait_status(node: &str, id: &str, status: &str) -> Value {
    wait_for(&format!("job {status}"), LIMIT, || {
        let j = job(node, id);
        (j["status"] == status).then_some(j)
    })
}

#[test]
fn a_job_is_posted_bid_awarded_verified_and_settled_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let miner = common::new_wallet(dir, "m.key");
    let owner = common::new_wallet(dir, "o.key");
    let p1 = common::new_wallet(dir, "p1.key");
    let p2 = common::new_wallet(dir, "p2.key");
    let consumer = common::new_wallet(dir, "c.key");
    let api = free_port();
    let node = format!("http://127.0.0.1:{api}");
    let _node = spawn(
        dir,
        &[
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
        ],
    );
    wait_for("coins to spend", LIMIT, || {
        (get(&format!("{node}/api/v1/status"))?["height"].as_u64()? >= 8).then_some(())
    });
    let n = ["--node", node.as_str()];
    let send = |to: &str, amount: &str, wait: bool| {
        let mut args = vec![
            "wallet", "send", "--wallet", "m.key", "--to", to, "--amount", amount,
        ];
        args.extend_from_slice(&n);
        if wait {
            args.push("--wait");
        }
        common::ok(dir, &args);
    };
    send(&owner, "5", false);
    send(&p1, "100", false);
    send(&p2, "100", false);
    send(&consumer, "100", true);

    // The owner publishes a model (an architecture to train) and a dataset, on chain.
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
    let mut args = vec![
        "model",
        "publish",
        "kws",
        "--wallet",
        "o.key",
        "--royalty-bps",
        "500",
        "--wait",
        "--json",
    ];
    args.extend_from_slice(&n);
    let model = json(dir, &args)["id"].as_str().unwrap().to_owned();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/fsdd");
    common::ok(
        dir,
        &["data", "digitize", sample.to_str().unwrap(), "--out", "ds"],
    );
    let cookie = dir.join("node/.cookie");
    let mut args = vec![
        "data",
        "publish",
        "ds",
        "--cookie",
        cookie.to_str().unwrap(),
        "--task",
        "keyword-spotting",
        "--royalty-bps",
        "200",
        "--wallet",
        "o.key",
        "--wait",
        "--json",
    ];
    args.extend_from_slice(&n);
    let dataset = json(dir, &args)["id"].as_str().unwrap().to_owned();
    let m = get(&format!("{node}/api/v1/market/models/{model}")).unwrap();
    assert_eq!(m["owner"], owner.as_str());
    assert_eq!(m["task"], "keyword-spotting");
    assert!(get(&format!("{node}/api/v1/market/datasets/{dataset}")).is_some());

    // Two providers register with stakes.
    for key in ["p1.key", "p2.key"] {
        let mut args = vec![
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
        ];
        args.extend_from_slice(&n);
        json(dir, &args);
    }
    let mut args = vec!["provider", "status", "--wallet", "p1.key", "--json"];
    args.extend_from_slice(&n);
    let status = json(dir, &args);
    assert_eq!(status["stake_units"], 2_000_000_000u64);
    assert_eq!(status["reputation"]["score"], 100);

    // A job whose budget cannot cover its price is refused with its rule; nothing changes.
    let before = balance(&node, &consumer);
    let post = |budget: &str| {
        let mut args = vec![
            "job",
            "post",
            "--wallet",
            "c.key",
            "--model",
            &model,
            "--dataset",
            &dataset,
            "--param",
            "epochs=2",
            "--budget",
            budget,
            "--max-price",
            "10",
            "--bid-blocks",
            "12",
            "--deadline-blocks",
            "400",
            "--verifiers",
            "1",
            "--segments",
            "1",
            "--challenge-blocks",
            "12",
            "--wait",
            "--json",
        ];
        args.extend_from_slice(&n);
        common::aic(dir, &args)
    };
    let refused = post("5");
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("budget-too-low"), "{stderr}");
    assert_eq!(balance(&node, &consumer), before);

    let out = post("20");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let posted: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).lines().last().unwrap()).unwrap();
    let id = posted["job"].as_str().unwrap().to_owned();
    assert_eq!(job(&node, &id)["escrow_units"], 2_000_000_000u64);

    // p1 bids lower than p2 and wins when the window closes.
    for (key, price) in [("p1.key", "5"), ("p2.key", "6")] {
        let mut args = vec![
            "job", "bid", &id, "--price", price, "--wallet", key, "--json",
        ];
        args.extend_from_slice(&n);
        json(dir, &args);
    }
    let awarded = wait_status(&node, &id, "awarded");
    assert_eq!(awarded["award"]["provider"], p1.as_str());

    // p1 stores its weights and its result manifest in the node's blob store and posts the
    // manifest's id as the result (by hand here; `market_agent.rs` has the agent do it).
    let weights = b"trained weights of the test".to_vec();
    let auth = aic_rpc::RpcAuth::read_cookie(&cookie).unwrap();
    let put = |bytes: &[u8]| {
        let id = blake3::hash(bytes).to_hex().to_string();
        ureq::put(&format!("{node}/api/v1/blobs/{id}"))
            .set("Authorization", &auth.header_value())
            .send_bytes(bytes)
            .unwrap();
        id
    };
    let transcript: Vec<aic_worker::market::TranscriptEntry> = (0..5u64)
        .map(|i| aic_worker::market::TranscriptEntry {
            step: i * 4,
            checkpoint: blake3::hash(&i.to_le_bytes()).to_hex().to_string(),
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
    let manifest = aic_worker::market::ResultManifest {
        version: aic_worker::market::MANIFEST_VERSION,
        job: id.clone(),
        weights: put(&weights),
        transcript_root: root.clone(),
        transcript,
        metrics: [("accuracy".to_owned(), 900_000)].into(),
        scorecards: Value::Null,
    };
    let result = put(&manifest.to_bytes());
    let mut args = vec![
        "job",
        "submit-result",
        &id,
        "--result",
        &result,
        "--transcript-root",
        &root,
        "--segments",
        "4",
        "--metric",
        "accuracy=0.9",
        "--wallet",
        "p1.key",
        "--wait",
        "--json",
    ];
    args.extend_from_slice(&n);
    json(dir, &args);
    let verifying = wait_status(&node, &id, "verifying");
    assert_eq!(
        verifying["verification"]["verifiers"][0],
        p2.as_str(),
        "the only other provider"
    );

    // Nobody else may judge it; the drawn verifier passes it.
    let evidence = "22".repeat(32);
    let mut args = vec![
        "job",
        "verdict",
        &id,
        "--pass",
        "--evidence",
        &evidence,
        "--wallet",
        "p1.key",
    ];
    args.extend_from_slice(&n);
    let out = common::aic(dir, &args);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-drawn-verifier"));
    let mut args = vec![
        "job",
        "verdict",
        &id,
        "--pass",
        "--evidence",
        &evidence,
        "--wallet",
        "p2.key",
        "--json",
    ];
    args.extend_from_slice(&n);
    json(dir, &args);

    let settled = wait_status(&node, &id, "settled");
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
            ("price", p1.as_str(), 500_000_000),
            ("model-royalty", owner.as_str(), 25_000_000),
            ("dataset-royalty", owner.as_str(), 10_000_000),
            ("verifier-fee", p2.as_str(), 10_000_000),
            ("refund", consumer.as_str(), 1_455_000_000),
        ]
    );
    assert_eq!(settled["escrow_units"], 0);

    // The consumer downloads the weights through the manifest and checks both against the
    // chain.
    let mut args = vec!["job", "result", &id, "--out", "w.bin", "--verify", "--json"];
    args.extend_from_slice(&n);
    let got = json(dir, &args);
    assert_eq!(got["verified"], true);
    assert_eq!(std::fs::read(dir.join("w.bin")).unwrap(), weights);

    let mut args = vec!["provider", "status", "--wallet", "p1.key", "--json"];
    args.extend_from_slice(&n);
    let status = json(dir, &args);
    assert_eq!(status["reputation"]["completed"], 1);
    assert_eq!(status["active_jobs"], 0);
    let mut args = vec!["job", "list", "--status", "settled", "--json"];
    args.extend_from_slice(&n);
    let list = json(dir, &args);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let mut args = vec!["job", "status", &id];
    args.extend_from_slice(&n);
    let text = common::ok(dir, &args);
    assert!(
        text.contains("settled") && text.contains("model-royalty"),
        "{text}"
    );
}
