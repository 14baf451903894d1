//! Every market rule broken over the HTTP API of a real node: the transaction is refused with
//! 400 and the rule's code, and the state root and the mempool are unchanged. The market state
//! is built with real transactions in blocks mined through getblocktemplate. Two rules need a
//! longer history than this test builds (`too-many-bids`: 64 bids; `provider-excluded`: a
//! slashed provider); they are broken in `aic-ledger/tests/market_rules.rs` and `market_flow.rs`.

mod common;

use aic_ledger::market::job_id;
use aic_primitives::{
    sha256, Action, Amount, DeviceClass, Hash256, JobSpec, MarketAction, Network, ResultCommit,
    Transaction, FIXED_POINT_SCALE,
};
use common::market::{aic, dataset, model, registration, signed, spec, with};
use common::*;
use serde_json::{json, Value};

// Users: 1 is paid by the node's blocks; 2 owns the model; 3, 4, 5 and 8 are providers;
// 6 is the consumer (also registered, for the self-dealing rule); 7 only has coins.
const FUNDER: u8 = 1;
const OWNER: u8 = 2;
const CONSUMER: u8 = 6;
const PLAIN: u8 = 7;

fn a(user: u8) -> String {
    addr(user).to_bech32(Network::Devnet)
}

fn next_nonce(n: &TestNode, user: u8) -> u64 {
    n.get(&format!("/api/v1/accounts/{}", a(user))).1["next_nonce"]
        .as_u64()
        .unwrap()
}

fn tx(n: &TestNode, user: u8, action: Action) -> Transaction {
    signed(user, next_nonce(n, user), action)
}

fn send(n: &TestNode, user: u8, action: MarketAction) {
    let t = tx(n, user, Action::Market(action));
    let (code, r) = n.post("/api/v1/txs", json!({"hex": tx_hex(&t)}));
    assert_eq!(code, 201, "{r}");
}

fn mine(n: &TestNode) {
    assert_eq!(submit(n, &mine_template(&template(n), false)), Value::Null);
    assert_eq!(n.status()["mempool_size"], 0, "every transaction was mined");
}

fn job(n: &TestNode, id: &Hash256) -> Value {
    n.get(&format!("/api/v1/market/jobs/{}", id.to_hex())).1
}

/// Sends `action` by `user` and expects 400 with `code`, nothing changed.
fn refused(n: &TestNode, user: u8, action: MarketAction, code: &str) {
    let before = n.status();
    let t = tx(n, user, Action::Market(action));
    let (status, r) = n.post("/api/v1/txs", json!({"hex": tx_hex(&t)}));
    assert_eq!((status, r["code"].as_str()), (400, Some(code)), "{r}");
    let after = n.status();
    assert_eq!(after["state_root"], before["state_root"]);
    assert_eq!(after["mempool_size"], before["mempool_size"]);
    assert_eq!(after["height"], before["height"]);
}

#[test]
fn every_market_rule_is_refused_over_the_api_and_changes_nothing() {
    let n = TestNode::start();
    for _ in 0..6 {
        mine(&n);
    }
    for (to, amount) in [
        (OWNER, 20),
        (3, 40),
        (4, 40),
        (5, 80),
        (CONSUMER, 200),
        (PLAIN, 20),
        (8, 40),
    ] {
        let t = tx(
            &n,
            FUNDER,
            Action::Transfer {
                to: addr(to),
                amount: aic(amount),
            },
        );
        let (code, r) = n.post("/api/v1/txs", json!({"hex": tx_hex(&t)}));
        assert_eq!(code, 201, "{r}");
        mine(&n);
    }
    send(
        &n,
        OWNER,
        MarketAction::PublishModel(model(b"kws", "keyword-spotting")),
    );
    mine(&n);
    send(
        &n,
        OWNER,
        MarketAction::PublishDataset(dataset(b"fsdd", "keyword-spotting", 200)),
    );
    mine(&n);
    send(
        &n,
        OWNER,
        MarketAction::PublishDataset(dataset(b"wikiqa", "answer-selection", 0)),
    );
    mine(&n);
    for p in [3, 4, 5, CONSUMER] {
        send(&n, p, registration(aic(20), ""));
    }
    mine(&n);
    send(&n, 5, MarketAction::TopUpStake { amount: aic(40) });
    mine(&n);
    // Jobs: A open (bid by 3), C for a GPU, D with much memory, E of tier 1; then B, to be
    // verified, and F, to be awarded to 4, both with a two-block window.
    let post = |s: JobSpec, mine_now: bool| {
        let id = job_id(&addr(CONSUMER), next_nonce(&n, CONSUMER));
        send(&n, CONSUMER, MarketAction::PostJob(s));
        if mine_now {
            mine(&n);
        }
        id
    };
    let ja = post(spec(), true);
    let jc = post(with(|s| s.device_class = DeviceClass::Gpu), true);
    let jd = post(with(|s| s.min_memory_mib = 8192), true);
    let je = post(with(|s| s.tier = 1), true);
    let jb = post(with(|s| s.bid_blocks = 2), false);
    let jf = post(with(|s| s.bid_blocks = 2), true);
    send(
        &n,
        3,
        MarketAction::Bid {
            job: ja,
            price: aic(5),
        },
    );
    send(
        &n,
        3,
        MarketAction::Bid {
            job: jb,
            price: aic(5),
        },
    );
    send(
        &n,
        4,
        MarketAction::Bid {
            job: jf,
            price: aic(5),
        },
    );
    mine(&n);
    while job(&n, &jb)["status"] == "open" || job(&n, &jf)["status"] == "open" {
        mine(&n);
    }
    assert_eq!(job(&n, &jb)["status"], "awarded");
    assert_eq!(job(&n, &jf)["status"], "awarded");
    send(
        &n,
        3,
        MarketAction::SubmitResult(ResultCommit {
            job: jb,
            result: sha256(b"weights"),
            transcript_root: sha256(b"transcript"),
            segments: 8,
            metrics: vec![("accuracy".to_owned(), 900_000)],
        }),
    );
    mine(&n);
    let b = job(&n, &jb);
    assert_eq!(b["status"], "verifying");
    let drawn = b["verification"]["verifiers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let verifier = [4, 5, 8]
        .into_iter()
        .find(|u| a(*u) == drawn)
        .expect("a provider");
    let outsider = [4, 5].into_iter().find(|u| *u != verifier).unwrap();
    let verdict = MarketAction::Verdict {
        job: jb,
        pass: true,
        evidence: sha256(b"report"),
    };
    send(&n, verifier, verdict.clone());
    mine(&n);
    // Provider 8 registers now (after the draw) and starts unbonding.
    send(&n, 8, registration(aic(20), ""));
    mine(&n);
    send(&n, 8, MarketAction::Unstake { amount: aic(20) });
    mine(&n);

    // Providers.
    refused(&n, 3, registration(aic(10), ""), "already-registered");
    refused(
        &n,
        PLAIN,
        MarketAction::TopUpStake { amount: aic(1) },
        "not-registered",
    );
    refused(&n, PLAIN, registration(aic(9), ""), "stake-below-minimum");
    refused(
        &n,
        outsider,
        MarketAction::TopUpStake {
            amount: Amount::ZERO,
        },
        "zero-amount",
    );
    refused(
        &n,
        PLAIN,
        registration(aic(10), "http://a b"),
        "bad-endpoint",
    );
    refused(
        &n,
        CONSUMER,
        MarketAction::Unstake { amount: aic(21) },
        "unstake-exceeds-stake",
    );
    refused(
        &n,
        3,
        MarketAction::Unstake { amount: aic(20) },
        "stake-locked",
    );
    refused(
        &n,
        CONSUMER,
        MarketAction::WithdrawStake,
        "nothing-unbonding",
    );
    refused(&n, 8, MarketAction::WithdrawStake, "still-unbonding");
    // Models and datasets.
    refused(
        &n,
        OWNER,
        MarketAction::PublishModel(model(b"x", "Bad Task")),
        "bad-label",
    );
    let mut twice = model(b"y", "keyword-spotting");
    twice.params.push(twice.params[0].clone());
    refused(
        &n,
        OWNER,
        MarketAction::PublishModel(twice),
        "duplicate-name",
    );
    refused(
        &n,
        PLAIN,
        MarketAction::PublishModel(model(b"kws", "keyword-spotting")),
        "model-exists",
    );
    refused(
        &n,
        PLAIN,
        MarketAction::PublishDataset(dataset(b"fsdd", "keyword-spotting", 0)),
        "dataset-exists",
    );
    refused(
        &n,
        OWNER,
        MarketAction::PublishDataset(dataset(b"z", "keyword-spotting", 2_001)),
        "royalty-too-high",
    );
    let mut range = model(b"w", "keyword-spotting");
    range.params[0].min = 2 * FIXED_POINT_SCALE;
    refused(
        &n,
        OWNER,
        MarketAction::PublishModel(range),
        "bad-param-range",
    );
    // Posting.
    let post = |f: fn(&mut JobSpec), code: &str| {
        refused(&n, CONSUMER, MarketAction::PostJob(with(f)), code);
    };
    post(|s| s.model = sha256(b"none"), "unknown-model");
    post(|s| s.dataset = sha256(b"none"), "unknown-dataset");
    post(|s| s.dataset = sha256(b"wikiqa"), "task-mismatch");
    post(
        |s| s.params.push(("momentum".to_owned(), 1)),
        "unknown-param",
    );
    post(
        |s| s.params[0].1 = 200 * FIXED_POINT_SCALE,
        "param-out-of-range",
    );
    post(
        |s| s.params[0].1 = 3 * FIXED_POINT_SCALE + 1,
        "param-not-integer",
    );
    post(|s| s.bid_blocks = 0, "bid-window-out-of-range");
    post(|s| s.deadline_blocks = 0, "deadline-out-of-range");
    post(
        |s| s.policy.challenge_blocks = 0,
        "challenge-window-out-of-range",
    );
    post(|s| s.policy.verifiers = 8, "too-many-verifiers");
    post(|s| s.policy.segments = 0, "no-segments-to-check");
    post(|s| s.tier = 3, "unknown-tier");
    post(|s| s.budget = aic(11), "budget-too-low");
    post(|s| s.max_price = Amount::from_units(u64::MAX), "overflow");
    refused(
        &n,
        CONSUMER,
        MarketAction::CancelJob {
            job: sha256(b"none"),
        },
        "unknown-job",
    );
    refused(&n, 4, MarketAction::CancelJob { job: ja }, "not-consumer");
    refused(
        &n,
        CONSUMER,
        MarketAction::CancelJob { job: jb },
        "wrong-job-state",
    );
    // Bids.
    refused(
        &n,
        outsider,
        MarketAction::Bid {
            job: ja,
            price: aic(11),
        },
        "price-above-max",
    );
    refused(
        &n,
        3,
        MarketAction::Bid {
            job: ja,
            price: aic(4),
        },
        "duplicate-bid",
    );
    refused(
        &n,
        CONSUMER,
        MarketAction::Bid {
            job: ja,
            price: aic(4),
        },
        "self-dealing",
    );
    refused(
        &n,
        outsider,
        MarketAction::Bid {
            job: jc,
            price: aic(4),
        },
        "device-class-mismatch",
    );
    refused(
        &n,
        outsider,
        MarketAction::Bid {
            job: jd,
            price: aic(4),
        },
        "insufficient-memory",
    );
    refused(
        &n,
        3,
        MarketAction::Bid {
            job: je,
            price: aic(4),
        },
        "tier-stake",
    );
    refused(
        &n,
        5,
        MarketAction::Bid {
            job: je,
            price: aic(4),
        },
        "tier-reputation",
    );
    // Results and verdicts.
    let result = |segments| {
        MarketAction::SubmitResult(ResultCommit {
            job: jf,
            result: sha256(b"w"),
            transcript_root: sha256(b"t"),
            segments,
            metrics: vec![],
        })
    };
    refused(&n, 3, result(8), "not-awarded-provider");
    refused(&n, 4, result(0), "zero-segments");
    refused(&n, 8, verdict.clone(), "not-drawn-verifier");
    refused(&n, verifier, verdict, "duplicate-verdict");
}
