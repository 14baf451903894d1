//! What the dashboard's market pages read, over the HTTP API of a real node: jobs filtered by
//! several statuses at once with a limit, the leaderboard built from settled jobs' scorecards
//! (best first, lower first for a loss) with its filters and refusals, and the job a market
//! transaction names. The jobs go from posting to settlement in blocks mined through
//! getblocktemplate.

mod common;

use aic_ledger::market::job_id;
use aic_primitives::{sha256, Action, Hash256, MarketAction, Network, ResultCommit};
use common::market::{aic, dataset, market_tx, model, registration, signed, with};
use common::*;
use serde_json::Value;

// Users: 1 is paid by the blocks; 2 owns the models and the dataset; 3 is the provider who
// works, 4 the provider drawn to verify; 6 the consumer.
const OWNER: u8 = 2;
const WORKER: u8 = 3;
const VERIFIER: u8 = 4;
const CONSUMER: u8 = 6;

fn next_nonce(n: &TestNode, user: u8) -> u64 {
    let a = addr(user).to_bech32(Network::Devnet);
    n.get(&format!("/api/v1/accounts/{a}")).1["next_nonce"]
        .as_u64()
        .unwrap()
}

fn send(n: &TestNode, user: u8, action: MarketAction) {
    let (code, r) = n.post_tx(&market_tx(user, next_nonce(n, user), action));
    assert_eq!(code, 201, "{r}");
}

fn mine(n: &TestNode) {
    assert_eq!(submit(n, &mine_template(&template(n), false)), Value::Null);
}

fn status_of(n: &TestNode, id: &Hash256) -> String {
    let (_, j) = n.get(&format!("/api/v1/market/jobs/{}", id.to_hex()));
    j["status"].as_str().unwrap().to_owned()
}

fn mine_until(n: &TestNode, ids: &[Hash256], status: &str) {
    for _ in 0..20 {
        if ids.iter().all(|id| status_of(n, id) == status) {
            return;
        }
        mine(n);
    }
    panic!("the jobs did not become {status}");
}

fn ids(list: &Value) -> Vec<String> {
    let mut v: Vec<String> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// The jobs named by `user`'s transactions of `kind`, sorted.
fn jobs_named(n: &TestNode, user: u8, kind: &str) -> Vec<String> {
    let a = addr(user).to_bech32(Network::Devnet);
    let (_, history) = n.get(&format!("/api/v1/accounts/{a}/txs"));
    let mut v: Vec<String> = history["txs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == kind)
        .map(|t| t["job"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

fn sorted(ids: &[Hash256]) -> Vec<String> {
    let mut v: Vec<String> = ids.iter().map(Hash256::to_hex).collect();
    v.sort();
    v
}

#[test]
fn leaderboards_rank_settled_results_and_job_lists_take_several_statuses() {
    let n = TestNode::start();
    for _ in 0..5 {
        mine(&n);
    }
    for (i, (to, amount)) in [(OWNER, 20), (WORKER, 40), (VERIFIER, 40), (CONSUMER, 100)]
        .into_iter()
        .enumerate()
    {
        let t = signed(
            1,
            i as u64,
            Action::Transfer {
                to: addr(to),
                amount: aic(amount),
            },
        );
        assert_eq!(n.post_tx(&t).0, 201);
    }
    mine(&n);
    send(
        &n,
        OWNER,
        MarketAction::PublishModel(model(b"kws", "keyword-spotting")),
    );
    send(
        &n,
        OWNER,
        MarketAction::PublishModel(model(b"kws-wide", "keyword-spotting")),
    );
    send(
        &n,
        OWNER,
        MarketAction::PublishDataset(dataset(b"fsdd", "keyword-spotting", 200)),
    );
    send(&n, WORKER, registration(aic(20), ""));
    send(&n, VERIFIER, registration(aic(20), ""));
    mine(&n);
    // Job a trains kws, b kws-wide; c stays open.
    let short = |m: &[u8]| {
        with(|s| {
            s.model = sha256(m);
            s.bid_blocks = 2;
            s.policy.challenge_blocks = 2;
        })
    };
    let mut jobs = Vec::new();
    for spec in [short(b"kws"), short(b"kws-wide"), with(|_| {})] {
        jobs.push(job_id(&addr(CONSUMER), next_nonce(&n, CONSUMER)));
        send(&n, CONSUMER, MarketAction::PostJob(spec));
    }
    let [a, b, c] = [jobs[0], jobs[1], jobs[2]];
    mine(&n);
    for job in [a, b] {
        send(&n, WORKER, MarketAction::Bid { job, price: aic(5) });
    }
    mine(&n);
    mine_until(&n, &[a, b], "awarded");
    for (job, accuracy, loss) in [(a, 800_000, 500_000), (b, 900_000, 600_000)] {
        send(
            &n,
            WORKER,
            MarketAction::SubmitResult(ResultCommit {
                job,
                result: sha256(job.as_bytes()),
                transcript_root: sha256(b"transcript"),
                segments: 4,
                metrics: vec![
                    ("accuracy".to_owned(), accuracy),
                    ("val_loss".to_owned(), loss),
                ],
            }),
        );
    }
    mine(&n);
    for job in [a, b] {
        send(
            &n,
            VERIFIER,
            MarketAction::Verdict {
                job,
                pass: true,
                evidence: sha256(b"replay"),
            },
        );
    }
    mine(&n);
    mine_until(&n, &[a, b], "settled");

    // Jobs by several statuses, and a limit.
    let list = |q: &str| n.get(&format!("/api/v1/market/jobs{q}"));
    assert_eq!(ids(&list("?status=open,settled").1), sorted(&[a, b, c]));
    assert_eq!(ids(&list("?status=settled").1), sorted(&[a, b]));
    assert_eq!(ids(&list("?status=open, awarded").1), sorted(&[c]));
    assert_eq!(list("?limit=1").1.as_array().unwrap().len(), 1);
    assert_refused(list("?status=open,bogus"), 400, "bad-status");
    assert_refused(list("?limit=0"), 400, "bad-query");
    assert_refused(list("?limit=201"), 400, "bad-query");

    // The leaderboard: one board per metric, each model once, best first.
    let board = |q: &str| n.get(&format!("/api/v1/market/leaderboard{q}"));
    let (code, all) = board("");
    assert_eq!(code, 200, "{all}");
    let boards = all["boards"].as_array().unwrap();
    assert_eq!(boards.len(), 2, "{all}");
    let fsdd = sha256(b"fsdd").to_hex();
    let (kws, wide) = (sha256(b"kws").to_hex(), sha256(b"kws-wide").to_hex());
    let acc = &boards[0];
    assert_eq!(
        (
            acc["task"].as_str(),
            acc["dataset"].as_str(),
            acc["metric"].as_str()
        ),
        (
            Some("keyword-spotting"),
            Some(fsdd.as_str()),
            Some("accuracy")
        )
    );
    assert_eq!(acc["higher_is_better"], true);
    assert_eq!(acc["jobs"], 2);
    let entries = acc["entries"].as_array().unwrap();
    assert_eq!(entries[0]["model"], wide.as_str());
    assert_eq!(entries[0]["value"], 900_000);
    assert_eq!(entries[0]["rank"], 1);
    assert_eq!(entries[0]["job"], b.to_hex().as_str());
    assert_eq!(entries[0]["runs"], 1);
    assert_eq!(
        entries[0]["provider"],
        addr(WORKER).to_bech32(Network::Devnet).as_str()
    );
    assert_eq!(
        entries[0]["model_owner"],
        addr(OWNER).to_bech32(Network::Devnet).as_str()
    );
    assert!(entries[0]["settled_height"].as_u64().unwrap() > 0);
    assert_eq!(entries[1]["model"], kws.as_str());
    assert_eq!(entries[1]["rank"], 2);
    let loss = &boards[1];
    assert_eq!(loss["metric"], "val_loss");
    assert_eq!(loss["higher_is_better"], false);
    assert_eq!(
        loss["entries"][0]["model"],
        kws.as_str(),
        "the lower loss first"
    );

    // Filters, limit and refusals.
    let only = board("?metric=val_loss").1;
    assert_eq!(only["boards"].as_array().unwrap().len(), 1);
    let only = board(&format!("?task=keyword-spotting&dataset={fsdd}&limit=1")).1;
    assert_eq!(only["boards"][0]["entries"].as_array().unwrap().len(), 1);
    assert_eq!(only["boards"][0]["jobs"], 2);
    let none = board("?task=answer-selection").1;
    assert!(none["boards"].as_array().unwrap().is_empty());
    assert_refused(board("?dataset=zz"), 400, "bad-id");
    assert_refused(board("?limit=0"), 400, "bad-query");
    assert_refused(board("?sort=up"), 400, "bad-query");
    // A posting names the job it creates, a bid the job it is for, as the market routes take
    // their ids.
    assert_eq!(jobs_named(&n, CONSUMER, "post-job"), sorted(&[a, b, c]));
    assert_eq!(jobs_named(&n, WORKER, "bid"), sorted(&[a, b]));
    // Each model counts its settled job.
    let (_, m) = n.get(&format!("/api/v1/market/models/{wide}"));
    assert_eq!(m["jobs"], 1);
}
