//! The dashboard in a real browser: headless Chromium (the system's), driven by Playwright
//! (`tests/browser/dashboard.mjs`) against a real node this test starts, with the built-in
//! miner making blocks and a Stratum worker connected over loopback. For the market pages the
//! test funds users, registers two providers and publishes two models and a dataset; the
//! browser script then submits the signed job posts, bids, results and verdicts it is handed
//! and watches the jobs settle. Screenshots of every page are kept under the cargo target
//! directory (the path is printed).
//!
//! Without Node.js, Chromium or `tests/browser/node_modules` the test says so loudly and
//! passes, unless `AIC_REQUIRE_BROWSER=1` (as `.ci/run` sets), when it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aic_ledger::market::job_id;
use aic_primitives::{sha256, Action, Encode, MarketAction, ResultCommit, Transaction};
use common::market::{aic, dataset, market_tx, model, registration, signed, with};
use common::{addr, bech, transfer, tx_hex, StratumClient, TestNode};
use serde_json::{json, Value};

/// The whole browser run may take this long.
const BROWSER_TIMEOUT: Duration = Duration::from_secs(360);

// Market users: 10 owns the models and the dataset, 11 is the provider who works, 12 the
// provider drawn to verify (the only other one), 13 the consumer.
const OWNER: u8 = 10;
const WORKER: u8 = 11;
const VERIFIER: u8 = 12;
const CONSUMER: u8 = 13;

fn post_all(node: &TestNode, txs: &[Transaction]) {
    for t in txs {
        let (code, r) = node.post_tx(t);
        assert_eq!(code, 201, "{r}");
    }
}

/// Waits until every one of `txs` is in a main-chain block.
fn wait_mined(node: &TestNode, txs: &[Transaction]) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for t in txs {
        let path = format!("/api/v1/txs/{}", t.txid());
        while node.get(&path).1["block_height"].is_null() {
            assert!(
                Instant::now() < deadline,
                "{} was not mined in time",
                t.txid()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Funds the market's users from the miner's rewards, registers the two providers and
/// publishes two keyword-spotting models and a dataset, mined while the built-in miner runs.
/// Returns what the browser script submits itself, each step's transactions signed now:
/// two job posts (one per model), the provider's bids and results (the second model scores
/// the better accuracy, the first the lower loss) and the verifier's verdicts.
fn market_setup(node: &TestNode) -> Value {
    let account = |u: u8| node.get(&format!("/api/v1/accounts/{}", bech(u))).1;
    let deadline = Instant::now() + Duration::from_secs(60);
    while account(1)["balance_units"].as_u64().unwrap_or(0) < aic(150).to_units() {
        assert!(Instant::now() < deadline, "the miner earned too little");
        std::thread::sleep(Duration::from_millis(100));
    }
    let nonce = account(1)["next_nonce"].as_u64().unwrap();
    let funding: Vec<Transaction> = [(OWNER, 5), (WORKER, 30), (VERIFIER, 30), (CONSUMER, 50)]
        .into_iter()
        .zip(nonce..)
        .map(|((to, n), nonce)| {
            let amount = aic(n);
            signed(
                1,
                nonce,
                Action::Transfer {
                    to: addr(to),
                    amount,
                },
            )
        })
        .collect();
    post_all(node, &funding);
    wait_mined(node, &funding);
    let (kws, wide, fsdd) = (&b"kws-dash"[..], &b"kws-dash-wide"[..], &b"fsdd-dash"[..]);
    let registry = [
        market_tx(
            OWNER,
            0,
            MarketAction::PublishModel(model(kws, "keyword-spotting")),
        ),
        market_tx(
            OWNER,
            1,
            MarketAction::PublishModel(model(wide, "keyword-spotting")),
        ),
        market_tx(
            OWNER,
            2,
            MarketAction::PublishDataset(dataset(fsdd, "keyword-spotting", 200)),
        ),
        market_tx(WORKER, 0, registration(aic(20), "")),
        market_tx(VERIFIER, 0, registration(aic(20), "")),
    ];
    post_all(node, &registry);
    wait_mined(node, &registry);
    let jobs = [job_id(&addr(CONSUMER), 0), job_id(&addr(CONSUMER), 1)];
    let mut steps: [Vec<String>; 4] = Default::default();
    for (i, (m, accuracy, loss)) in [(kws, 875_000, 290_000), (wide, 912_500, 330_000)]
        .into_iter()
        .enumerate()
    {
        let job = jobs[i];
        let i = i as u64;
        let spec = with(|s| {
            s.model = sha256(m);
            s.dataset = sha256(fsdd);
            s.bid_blocks = 8;
            s.deadline_blocks = 40;
            s.policy.challenge_blocks = 3;
        });
        let result = ResultCommit {
            job,
            result: sha256(job.as_bytes()),
            transcript_root: sha256(b"transcript"),
            segments: 8,
            metrics: vec![
                ("accuracy".to_owned(), accuracy),
                ("val_loss".to_owned(), loss),
            ],
        };
        let verdict = MarketAction::Verdict {
            job,
            pass: true,
            evidence: sha256(b"replay report"),
        };
        let bid = MarketAction::Bid { job, price: aic(6) };
        for (list, t) in steps.iter_mut().zip([
            market_tx(CONSUMER, i, MarketAction::PostJob(spec)),
            market_tx(WORKER, 1 + i, bid),
            market_tx(WORKER, 3 + i, MarketAction::SubmitResult(result)),
            market_tx(VERIFIER, 1 + i, verdict),
        ]) {
            list.push(tx_hex(&t));
        }
    }
    let [posts, bids, results, verdicts] = steps;
    json!({
        "jobs": jobs.map(|j| j.to_hex()),
        "results": jobs.map(|j| sha256(j.as_bytes()).to_hex()),
        "models": [sha256(kws).to_hex(), sha256(wide).to_hex()],
        "dataset": sha256(fsdd).to_hex(),
        "owner": bech(OWNER),
        "worker": bech(WORKER),
        "verifier": bech(VERIFIER),
        "consumer": bech(CONSUMER),
        "txs": {"posts": posts, "bids": bids, "results": results, "verdicts": verdicts},
    })
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("AIC_CHROMIUM") {
        return Some(PathBuf::from(p)).filter(|p| p.exists());
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// Node.js, Chromium and the installed `playwright-core`, or why not.
fn prerequisites() -> Result<PathBuf, String> {
    let node = Command::new("node").arg("--version").output();
    if !node.is_ok_and(|o| o.status.success()) {
        return Err("node (Node.js) is not installed".to_owned());
    }
    let chromium = find_chromium()
        .ok_or("chromium is not installed (apt-get install chromium, or set AIC_CHROMIUM)")?;
    if !browser_dir().join("node_modules/playwright-core").is_dir() {
        return Err(format!("run `npm ci` in {}", browser_dir().display()));
    }
    Ok(chromium)
}

/// `<target>/dashboard-screenshots`: the target directory is the test binary's grandparent's
/// parent (`<target>/<profile>/deps/<binary>`), or `CARGO_TARGET_DIR`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_owned())
        })
        .unwrap_or_else(std::env::temp_dir);
    target.join("dashboard-screenshots")
}

/// Writes a line straight to the process's stderr, past the test harness's capture: the skip
/// and the screenshots' path must be seen without `--nocapture`.
fn say(line: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
}

#[test]
fn the_dashboard_in_a_real_browser() {
    let chromium = match prerequisites() {
        Ok(c) => c,
        Err(why) if std::env::var("AIC_REQUIRE_BROWSER").as_deref() == Ok("1") => {
            panic!("browser test required (AIC_REQUIRE_BROWSER=1) but {why}")
        }
        Err(why) => {
            say(&format!(
                "\n!!!!!!!! SKIPPED the dashboard browser test: {why} !!!!!!!!\n"
            ));
            return;
        }
    };
    let mut node = TestNode::start();
    // A Stratum worker mines the first three blocks (shares that meet the easy devnet target)
    // and has one share refused, then stays connected.
    let worker = format!("{}.rig1", bech(3));
    let stratum = node.n().stratum_addr.unwrap();
    let (mut client, mut job) = StratumClient::login(stratum, &worker);
    for _ in 0..3 {
        let r = client.solve(&worker, &job, true);
        assert_eq!(r["result"], true, "{r}");
        job = client.next_notify();
    }
    let r = client.solve(&worker, &job, false);
    assert_eq!(r["error"][0], 23, "{r}");
    let _worker = client.drain();
    // The built-in miner keeps blocks coming while the browser looks.
    node.n().start_miner(addr(1), None);
    let market = market_setup(&node);
    let tx = transfer(3, 0, addr(2), 7 * 100_000_000, 1_000);
    let shots = screenshot_dir();
    let _ = std::fs::remove_dir_all(&shots);
    say(&format!("dashboard screenshots: {}", shots.display()));
    let mut child = Command::new("node")
        .arg("dashboard.mjs")
        .current_dir(browser_dir())
        .env("AIC_URL", &node.base)
        .env("AIC_CHROMIUM", &chromium)
        .env("AIC_SCREENSHOTS", &shots)
        .env("AIC_TRANSFER_HEX", hex::encode(tx.to_bytes()))
        .env("AIC_TRANSFER_TXID", tx.txid().to_string())
        .env("AIC_SENDER", bech(3))
        .env("AIC_RECIPIENT", bech(2))
        .env("AIC_WORKER", &worker)
        .env("AIC_MARKET", market.to_string())
        .stdout(Stdio::inherit())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("starting node");
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > BROWSER_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the browser run took more than {BROWSER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    node.shutdown_within(20);
    assert!(
        status.success(),
        "the browser checks failed ({status}); screenshots in {}",
        shots.display()
    );
    say(&format!("dashboard screenshots: {}", shots.display()));
}
