//! `aic devnet --demo` runs to settlement, and its closing statement is checked line by line
//! against the chain: every transaction line against the account's history, every payment
//! line against the job's payments, every total against the balance, and the amounts against
//! the market's rules (the awarded price, the royalties, the verifier fee, the refund).
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;

use common::{free_port, get, Guard};

const LIMIT: Duration = Duration::from_secs(900);
const AIC: i64 = 100_000_000;
const FEE: i64 = 10_000;

/// The whole history of `address`, every page.
fn history(node: &str, address: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut url = format!("{node}/api/v1/accounts/{address}/txs?limit=100");
    loop {
        let page = get(&url).unwrap();
        assert!(page["pending"].as_array().unwrap().is_empty(), "{page}");
        all.extend(page["txs"].as_array().unwrap().iter().cloned());
        match page["next_before"].as_u64() {
            Some(b) => url = format!("{node}/api/v1/accounts/{address}/txs?limit=100&before={b}"),
            None => return all,
        }
    }
}

/// The units of the lines of `statement` of `kind`.
fn of_kind(statement: &Value, kind: &str) -> Vec<i64> {
    statement["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["kind"] == kind)
        .map(|l| l["units"].as_i64().unwrap())
        .collect()
}

#[test]
fn the_demo_settles_a_job_and_every_balance_adds_up_line_by_line() {
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let node = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_aic"))
        .current_dir(tmp.path())
        .env("RUST_LOG", "warn")
        .args(["devnet", "--demo", "--json", "--data-dir", "d"])
        .args(["--api-addr", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();
    let _guard = Guard(child);
    let (tx, rx) = mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if let Ok(v) = serde_json::from_str::<Value>(&line) {
                if v["event"] == "demo" && tx.send(v).is_err() {
                    break;
                }
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    // The demo's steps, in order, until it is done.
    let mut steps: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut order = Vec::new();
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(v) => {
                let step = v["step"].as_str().unwrap().to_owned();
                eprintln!("{step}: {}", v["detail"]);
                if order.last() != Some(&step) {
                    order.push(step.clone());
                }
                steps
                    .entry(step.clone())
                    .or_default()
                    .push(v["detail"].clone());
                if step == "done" {
                    break;
                }
            }
            Err(_) => {
                drop(_guard);
                panic!(
                    "the demo ended or stalled before it was done; steps {order:?}\n{}",
                    errors.join().unwrap()
                );
            }
        }
    }
    let one = |s: &str| steps[s].last().cloned().unwrap();
    for s in [
        "funded",
        "model",
        "dataset",
        "registered",
        "posted",
        "bid",
        "submitted",
        "verdict",
        "result",
        "accounts",
    ] {
        assert!(steps.contains_key(s), "no {s} step: {order:?}");
    }
    let job_id = one("posted")["job"].as_str().unwrap().to_owned();
    let job = get(&format!("{node}/api/v1/market/jobs/{job_id}")).unwrap();
    assert_eq!(job["status"], "settled", "{job}");
    let verdicts = job["verification"]["verdicts"].as_array().unwrap();
    assert_eq!(verdicts.len(), 1, "{job}");
    assert_eq!(verdicts[0]["pass"], true);

    // The consumer's download was checked against the chain and scored on the test split.
    let result = one("result");
    assert_eq!(result["verified"], true);
    assert_eq!(result["result"], job["result"]["result"]);
    let accuracy = result["accuracy"].as_f64().unwrap();
    assert!(accuracy >= 0.5, "test accuracy {accuracy} (chance is 0.1)");

    // The provider's device left mining to train and came back; both devices mined.
    let devices = &steps["device"];
    assert_eq!(devices.len(), 2);
    let provider_device = devices.iter().find(|d| d["worker"] == "provider").unwrap();
    assert!(
        provider_device["ai_s"].as_f64().unwrap() > 0.0,
        "{provider_device}"
    );
    assert!(
        provider_device["mining_s"].as_f64().unwrap() > 0.0,
        "{provider_device}"
    );
    assert!(
        provider_device["switches"].as_u64().unwrap() >= 2,
        "{provider_device}"
    );

    // Line by line: each transaction's lines are its change of balance in the account's
    // history, each payment line is one of the job's payments, and they add up to the balance.
    let accounts = one("accounts");
    let statements = accounts["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 4);
    let payments = job["payments"].as_array().unwrap();
    let mut payments_seen = 0;
    let mut by_role = BTreeMap::new();
    for s in statements {
        let address = s["address"].as_str().unwrap();
        let account = get(&format!("{node}/api/v1/accounts/{address}")).unwrap();
        let balance = account["balance_units"].as_i64().unwrap();
        assert_eq!(s["balance_units"].as_i64().unwrap(), balance, "{s}");
        let lines = s["lines"].as_array().unwrap();
        let total: i64 = lines.iter().map(|l| l["units"].as_i64().unwrap()).sum();
        assert_eq!(total, balance, "{} does not add up: {s}", s["role"]);
        assert_eq!(s["total_units"].as_i64().unwrap(), total);
        let txs = history(&node, address);
        let mut by_tx: BTreeMap<&str, i64> = BTreeMap::new();
        for l in lines.iter().filter(|l| l["txid"].is_string()) {
            *by_tx.entry(l["txid"].as_str().unwrap()).or_default() += l["units"].as_i64().unwrap();
        }
        assert_eq!(
            by_tx.len(),
            txs.len(),
            "every transaction explained once: {s}"
        );
        for t in &txs {
            let txid = t["txid"].as_str().unwrap();
            assert_eq!(
                by_tx.get(txid).copied(),
                t["delta_units"].as_i64(),
                "transaction {txid} of the {}",
                s["role"]
            );
        }
        for l in lines.iter().filter(|l| l["txid"].is_null()) {
            let found = payments.iter().any(|p| {
                p["to"] == address
                    && p["kind"] == l["kind"]
                    && p["amount_units"].as_i64() == l["units"].as_i64()
                    && p["height"] == l["height"]
            });
            assert!(found, "payment line {l} is not one of the job's: {job}");
            payments_seen += 1;
        }
        by_role.insert(s["role"].as_str().unwrap().to_owned(), s.clone());
    }
    assert_eq!(
        payments_seen,
        payments.len(),
        "every payment reached a participant"
    );

    // The amounts follow the market's rules.
    let price = job["award"]["price_units"].as_i64().unwrap();
    assert_eq!(price, 6 * AIC);
    let budget = job["budget_units"].as_i64().unwrap();
    let verifier_fee = job["verifier_fee_units"].as_i64().unwrap();
    let model_royalty = price * 500 / 10_000;
    let dataset_royalty = price * 200 / 10_000;
    let refund = budget - price - model_royalty - dataset_royalty - verifier_fee;
    let consumer = &by_role["consumer"];
    assert_eq!(of_kind(consumer, "transfer-in"), [30 * AIC]);
    assert_eq!(of_kind(consumer, "escrow"), [-budget]);
    assert_eq!(of_kind(consumer, "fee"), [-FEE]);
    assert_eq!(of_kind(consumer, "refund"), [refund]);
    let provider = &by_role["provider"];
    assert_eq!(of_kind(provider, "transfer-in"), [40 * AIC]);
    assert_eq!(of_kind(provider, "stake"), [-20 * AIC]);
    // Register, bid, result: three fees, sent once each.
    assert_eq!(of_kind(provider, "fee"), [-FEE; 3]);
    assert_eq!(of_kind(provider, "price"), [price]);
    let verifier = &by_role["verifier"];
    assert_eq!(of_kind(verifier, "transfer-in"), [40 * AIC]);
    assert_eq!(of_kind(verifier, "stake"), [-20 * AIC]);
    // Register, verdict.
    assert_eq!(of_kind(verifier, "fee"), [-FEE; 2]);
    assert_eq!(of_kind(verifier, "verifier-fee"), [verifier_fee]);
    let owner = &by_role["owner"];
    assert_eq!(of_kind(owner, "transfer-in"), [5 * AIC]);
    assert_eq!(of_kind(owner, "fee"), [-FEE; 2]);
    assert_eq!(of_kind(owner, "model-royalty"), [model_royalty]);
    assert_eq!(of_kind(owner, "dataset-royalty"), [dataset_royalty]);
    // Nothing else moved their balances but blocks their devices mined through the pool.
    for s in statements {
        for l in s["lines"].as_array().unwrap() {
            let kind = l["kind"].as_str().unwrap();
            assert!(
                [
                    "transfer-in",
                    "escrow",
                    "fee",
                    "refund",
                    "stake",
                    "price",
                    "verifier-fee",
                    "model-royalty",
                    "dataset-royalty",
                    "mined"
                ]
                .contains(&kind),
                "unexpected line {l}"
            );
            if kind == "mined" {
                assert!(["provider", "verifier"].contains(&s["role"].as_str().unwrap()));
            }
        }
    }
    // The escrow is spent to the last unit.
    assert_eq!(accounts["escrow"]["budget_units"].as_i64(), Some(budget));
    assert_eq!(accounts["escrow"]["paid_units"].as_i64(), Some(budget));
    assert_eq!(accounts["escrow"]["left_units"].as_i64(), Some(0));
    assert_eq!(job["escrow_units"], 0);

    // Each worker's own account of its device (GET /api/v1/worker/earnings, what its page
    // shows) is the chain's: blocks mined and their pay, and the job's pay.
    let books = &steps["device-books"];
    assert_eq!(books.len(), 2, "{books:?}");
    for b in books {
        assert_eq!(b["agree"], true, "{b}");
        let says = &b["worker_says"];
        let chain = &b["chain_says"];
        assert_eq!(says["in_chain"], chain["blocks"], "{b}");
        assert_eq!(says["mined_units"], chain["mined_units"], "{b}");
        assert_eq!(says["market_units"], chain["market_units"], "{b}");
        assert!(
            says["in_chain"].as_u64() >= Some(1),
            "the device mined no block: {b}"
        );
        let statement = statements
            .iter()
            .find(|s| s["address"] == b["address"])
            .unwrap();
        let market: i64 = ["price", "verifier-fee"]
            .iter()
            .flat_map(|k| of_kind(statement, k))
            .sum();
        assert_eq!(says["market_units"].as_i64(), Some(market), "{b}");
        assert!(market > 0, "{b}");
    }
}
