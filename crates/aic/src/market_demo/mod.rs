//! `aic devnet --demo`: a whole local economy on one machine. Beside the devnet's node and
//! its miner, two workers (`aic worker run --market`, processes of this binary) mine through
//! the node's Stratum pool; a model owner publishes the keyword-spotting model and the
//! embedded FSDD sample with royalties; both workers register as providers; a consumer posts
//! a training job. The job is bid on, awarded, trained (the provider's device leaves mining
//! for it and comes back), replayed in part by the drawn verifier, and settled. The consumer
//! downloads the weights, checks them against the chain and scores them on the test split;
//! at the end every participant's balance is explained line by line from the chain.

mod accounts;
mod workers;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aic_api::market as wire;
use aic_api::rest;
use aic_node::KeyFile;
use aic_primitives::{
    Action, Amount, DeviceClass, JobKind, JobSpec, MarketAction, Network, ProviderRegistration,
    VerificationPolicy,
};
use anyhow::{anyhow, bail, Context, Result};
use serde_json::{json, Value};

use crate::client::NodeClient;
use crate::submit::{load_wallet, send, wait_for_block};
use accounts::{signed_aic, Statement};
use workers::{Worker, WorkerSpec};

/// Fee of every demo transaction.
const FEE: Amount = Amount::from_units(10_000);
/// What the devnet wallet sends each participant, AIC.
const FUNDS: [(Role, u64); 4] = [
    (Role::Owner, 5),
    (Role::Provider, 40),
    (Role::Verifier, 40),
    (Role::Consumer, 30),
];
/// Each provider's stake, AIC (devnet's minimum is 10).
const STAKE: u64 = 20;
/// The consumer's budget and highest price, AIC.
const BUDGET: u64 = 20;
const MAX_PRICE: u64 = 10;
/// The provider's bid, AIC (its config's price).
const PRICE: &str = "6";
/// Royalties, basis points: the model's and the data set's.
const MODEL_ROYALTY_BPS: u16 = 500;
const DATASET_ROYALTY_BPS: u16 = 200;
/// The job's hyperparameters: the small keyword model of `aic devnet --ai-demo`, with a
/// checkpoint every 20 steps for the transcript (120 steps: 30 training clips in batches of
/// 10, 40 epochs).
const JOB_PARAMS: [&str; 8] = [
    "channels=16",
    "blocks=2",
    "epochs=40",
    "patience=40",
    "batch_size=10",
    "warmup_steps=5",
    "learning_rate=0.01",
    "checkpoint_every=20",
];
/// Bid window, deadline and challenge window, blocks (devnet blocks come every 2 s, faster
/// while the difficulty is still rising).
const BID_BLOCKS: u32 = 15;
const DEADLINE_BLOCKS: u32 = 600;
const CHALLENGE_BLOCKS: u32 = 10;
/// Segments the verifier replays, and its fee.
const SEGMENTS: u8 = 2;
const VERIFIER_FEE: Amount = Amount::from_units(10_000_000);
/// The whole job, posting to settlement, must end within this.
const JOB_LIMIT: Duration = Duration::from_secs(900);
/// A progress line this often while the job runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);

/// The demo's participants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Owner,
    Provider,
    Verifier,
    Consumer,
}

impl Role {
    const ALL: [Role; 4] = [Role::Owner, Role::Provider, Role::Verifier, Role::Consumer];

    fn name(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Provider => "provider",
            Role::Verifier => "verifier",
            Role::Consumer => "consumer",
        }
    }
}

/// Where the demo runs.
pub(crate) struct Setup {
    /// Node 0's data directory: its cookie and the funded devnet wallet.
    pub(crate) node_dir: PathBuf,
    /// Its API.
    pub(crate) api: SocketAddr,
    /// Its Stratum pool, which the workers mine through.
    pub(crate) stratum: SocketAddr,
    /// The demo's own directory: wallets, model, data set, workers, the consumer's download.
    pub(crate) root: PathBuf,
}

/// Progress, as text or one JSON object per line (`{"event": "demo", "step": ...}`).
struct Say {
    json: bool,
}

impl Say {
    fn step(&self, step: &str, detail: Value, text: &str) {
        if self.json {
            println!(
                "{}",
                json!({"event": "demo", "step": step, "detail": detail})
            );
        } else {
            for line in text.lines() {
                println!("  demo  {line}");
            }
        }
    }
}

/// The participants' wallets, created under `dir`.
struct Wallets {
    keys: Vec<(Role, PathBuf, KeyFile)>,
}

impl Wallets {
    fn create(dir: &Path) -> Result<Wallets> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut keys = Vec::new();
        for role in Role::ALL {
            let path = dir.join(format!("{}.key", role.name()));
            let key = KeyFile::generate(Network::Devnet);
            key.create(&path)
                .with_context(|| format!("creating {}", path.display()))?;
            keys.push((role, path, key));
        }
        Ok(Wallets { keys })
    }

    fn get(&self, role: Role) -> (&Path, &KeyFile) {
        let (_, path, key) = self
            .keys
            .iter()
            .find(|(r, _, _)| *r == role)
            .expect("every role has a wallet");
        (path, key)
    }

    fn key(&self, role: Role) -> &KeyFile {
        self.get(role).1
    }

    fn address(&self, role: Role) -> String {
        let k = self.key(role);
        k.address().to_bech32(k.network)
    }

    /// `address` as a role's name where it is one of ours.
    fn name(&self, address: &str) -> String {
        Role::ALL
            .into_iter()
            .find(|r| self.address(*r) == address)
            .map_or_else(|| short(address), |r| r.name().to_owned())
    }
}

fn short(address: &str) -> String {
    if address.len() > 16 {
        format!("{}…{}", &address[..10], &address[address.len() - 4..])
    } else {
        address.to_owned()
    }
}

fn aic(n: u64) -> Amount {
    Amount::from_units(n * Amount::UNITS_PER_AIC)
}

/// Sends `action` from `key` and waits for its block: its txid and height.
fn act(client: &NodeClient, key: &KeyFile, action: Action) -> Result<(String, u64)> {
    let sent = send(client, key, FEE, action, true)?;
    let height = sent.block.map_or(0, |b| b.1);
    Ok((sent.txid, height))
}

/// Runs the demo against a running devnet.
pub(crate) fn run(setup: &Setup, json: bool) -> Result<()> {
    let say = Say { json };
    let node = format!("http://{}", setup.api);
    let client = NodeClient::new(&node);
    let cookie_path = setup.node_dir.join(aic_rpc::COOKIE_FILE);
    let cookie = aic_rpc::RpcAuth::read_cookie(&cookie_path)
        .with_context(|| format!("reading the node's cookie {}", cookie_path.display()))?;
    let root = &setup.root;
    if root.exists() {
        bail!(
            "{} exists: the market demo runs once per devnet (start one with a new --data-dir)",
            root.display()
        );
    }
    let started = Instant::now();

    // Wallets, funded from the devnet wallet once its miner has mined enough.
    let wallets = Wallets::create(&root.join("wallets"))?;
    let funder = load_wallet(&setup.node_dir.join(aic_node::devnet::WALLET_FILE))?;
    let funder_address = funder.address().to_bech32(funder.network);
    let needed: u64 = FUNDS.iter().map(|(_, n)| n).sum();
    let mut last_said = Instant::now();
    loop {
        let a: rest::Account = client.get(&format!("/accounts/{funder_address}"))?;
        if a.balance_units >= aic(needed).to_units() + 4 * FEE.to_units() {
            break;
        }
        if last_said.elapsed() > PROGRESS_EVERY {
            say.step(
                "waiting",
                json!({"balance_units": a.balance_units}),
                &format!(
                    "waiting for the miner: the devnet wallet has {} of {needed} AIC",
                    Amount::from_units(a.balance_units)
                ),
            );
            last_said = Instant::now();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let mut last = None;
    for (role, n) in FUNDS {
        let to = wallets.key(role).address();
        let sent = send(
            &client,
            &funder,
            FEE,
            Action::Transfer { to, amount: aic(n) },
            false,
        )?;
        last = Some(sent.txid);
    }
    let (_, height) = wait_for_block(&client, &last.unwrap_or_default())?;
    say.step(
        "funded",
        json!({"height": height, "wallets": Role::ALL.iter().map(|r| json!({
            "role": r.name(), "address": wallets.address(*r),
            "wallet": wallets.get(*r).0, "funds": FUNDS.iter().find(|(x, _)| x == r).map(|f| f.1),
        })).collect::<Vec<_>>()}),
        &format!(
            "funded from the devnet wallet by block {height}: owner 5, provider 40, verifier 40, consumer 30 AIC (wallets in {})",
            root.join("wallets").display()
        ),
    );

    // The owner publishes the model (an architecture to train) and the data set, with
    // royalties; their bytes go to the node's blob store, where workers fetch them.
    let model_dir = root.join("owner/kws");
    crate::model::write_template("keyword-spotting", &model_dir, None, true)?;
    let model = crate::market::model_publication(&model_dir, MODEL_ROYALTY_BPS)?;
    aic_worker::market::NodeApi::new(&node, Some(cookie.header_value()))
        .put_blob(&model.blob)
        .context("storing the model in the node's blob store")?;
    let (txid, height) = act(
        &client,
        wallets.key(Role::Owner),
        Action::Market(model.action),
    )?;
    say.step(
        "model",
        json!({"id": model.id.to_hex(), "task": model.task, "royalty_bps": MODEL_ROYALTY_BPS, "txid": txid, "height": height}),
        &format!(
            "owner published the keyword-spotting model {} (royalty 5 %) in block {height}",
            model.id.to_hex()
        ),
    );
    let (data_dir, report) = crate::ai_demo::digitize_sample(&root.join("owner"))?;
    let published = aic_blob::publish(&data_dir, &node, Some(&cookie.header_value()))?;
    let (dataset, action) =
        crate::market::dataset_publication(&data_dir, "keyword-spotting", DATASET_ROYALTY_BPS)?;
    let (txid, height) = act(&client, wallets.key(Role::Owner), Action::Market(action))?;
    say.step(
        "dataset",
        json!({"id": dataset.to_hex(), "samples": report.samples, "bytes": published.bytes,
               "royalty_bps": DATASET_ROYALTY_BPS, "txid": txid, "height": height}),
        &format!(
            "owner digitized {} FSDD clips ({}) into {} bytes of shards and published the data set {} (royalty 2 %) in block {height}",
            report.samples.values().sum::<u64>(),
            report
                .samples
                .iter()
                .map(|(split, n)| format!("{split} {n}"))
                .collect::<Vec<_>>()
                .join(", "),
            report.dataset_bytes,
            dataset.to_hex()
        ),
    );

    // Both workers' wallets register as providers with a stake.
    let (summary, devices) = crate::market::device_summary(Some("cpu"), Some(2048), None)?;
    let mut sent = Vec::new();
    for role in [Role::Provider, Role::Verifier] {
        let action = MarketAction::RegisterProvider(ProviderRegistration {
            stake: aic(STAKE),
            devices,
            summary,
            endpoint: String::new(),
        });
        sent.push(
            send(
                &client,
                wallets.key(role),
                FEE,
                Action::Market(action),
                false,
            )?
            .txid,
        );
    }
    let mut height = 0;
    for txid in &sent {
        height = height.max(wait_for_block(&client, txid)?.1);
    }
    say.step(
        "registered",
        json!({"stake_units": aic(STAKE).to_units(), "height": height}),
        &format!("provider and verifier registered their CPUs with {STAKE} AIC of stake each by block {height}"),
    );

    // The workers: mining through the pool until the market gives them work.
    let mut workers = Vec::new();
    for (role, price) in [(Role::Provider, Some(PRICE)), (Role::Verifier, None)] {
        let (path, _) = wallets.get(role);
        let address = wallets.address(role);
        let worker = Worker::start(
            &WorkerSpec {
                name: role.name(),
                wallet: path,
                address: &address,
                price,
            },
            root,
            &node,
            &cookie_path,
            setup.stratum,
        )?;
        say.step(
            "worker",
            json!({"role": role.name(), "status": format!("http://{}/api/v1/worker/switcher", worker.listen),
                   "log": worker.log, "price": price}),
            &format!(
                "{} worker started: mining through stratum+tcp://{}, {}; status http://{}/api/v1/worker/switcher, log {}",
                role.name(),
                setup.stratum,
                price.map_or("verifying, not bidding".to_owned(), |p| format!("bidding {p} AIC")),
                worker.listen,
                worker.log.display()
            ),
        );
        workers.push(worker);
    }
    wait_for_mining(&mut workers)?;

    // The consumer posts the job.
    let consumer = wallets.key(Role::Consumer);
    let params = JOB_PARAMS
        .iter()
        .map(|p| {
            let (name, value) = p.split_once('=').expect("NAME=VALUE");
            Ok((name.to_owned(), crate::market::parse_fixed(value)?))
        })
        .collect::<Result<Vec<_>>>()?;
    let spec = JobSpec {
        kind: JobKind::Train,
        model: model.id,
        dataset,
        params,
        device_class: DeviceClass::Cpu,
        min_memory_mib: 1024,
        budget: aic(BUDGET),
        max_price: aic(MAX_PRICE),
        bid_blocks: BID_BLOCKS,
        deadline_blocks: DEADLINE_BLOCKS,
        policy: VerificationPolicy {
            verifiers: 1,
            segments: SEGMENTS,
            challenge_blocks: CHALLENGE_BLOCKS,
            verifier_fee: VERIFIER_FEE,
        },
        tier: 0,
    };
    let account: rest::Account =
        client.get(&format!("/accounts/{}", wallets.address(Role::Consumer)))?;
    let job = aic_ledger::market::job_id(&consumer.address(), account.next_nonce).to_hex();
    let (txid, height) = act(
        &client,
        consumer,
        Action::Market(MarketAction::PostJob(spec)),
    )?;
    say.step(
        "posted",
        json!({"job": job, "txid": txid, "height": height, "budget_units": aic(BUDGET).to_units(),
               "max_price_units": aic(MAX_PRICE).to_units(), "params": JOB_PARAMS}),
        &format!(
            "consumer posted training job {job} in block {height}: budget {BUDGET} AIC in escrow, at most {MAX_PRICE} AIC, bids for {BID_BLOCKS} blocks, {SEGMENTS} segments replayed by 1 verifier, {CHALLENGE_BLOCKS}-block challenge window"
        ),
    );

    let settled = follow(&client, &job, &mut workers, &wallets, &say)?;

    // The consumer's side: the result checked against the chain, then scored.
    let got = crate::job_result::download(&job, true, &node)?;
    let consumer_dir = root.join("consumer/kws");
    let manifest = std::fs::read_to_string(model_dir.join(aic_model::MANIFEST_FILE))?;
    let set: Vec<String> = JOB_PARAMS.iter().map(|s| (*s).to_owned()).collect();
    crate::train::write_trained_package(&consumer_dir, &manifest, &got.weights, &set)?;
    let loaded = aic_ml::load::load_model(&consumer_dir, None)?;
    // Scored on the test clips themselves (the WAVs), apart from the provider's own scorecard,
    // which it computed on the data set's shards.
    let card = aic_ml::eval::evaluate(&loaded, &root.join("owner/raw"), "test")?;
    let reported = got
        .manifest
        .metrics
        .get("test_accuracy")
        .map(|v| *v as f64 / aic_primitives::FIXED_POINT_SCALE as f64);
    let accuracy = card
        .classification
        .as_ref()
        .map(|c| c.accuracy)
        .ok_or_else(|| anyhow!("the scorecard has no accuracy"))?;
    say.step(
        "result",
        json!({"verified": true, "result": got.result, "weights": got.manifest.weights,
               "bytes": got.weights.len(), "package": consumer_dir, "split": "test",
               "examples": card.examples, "accuracy": accuracy,
               "provider_test_accuracy": reported, "provider_metrics": got.manifest.metrics}),
        &format!(
            "consumer downloaded the weights ({} bytes) and checked them against the chain: the manifest is the committed result, its transcript the committed root, the weights the manifest's\nconsumer scored them on the test split's {} clips: accuracy {:.2} (chance: 0.10; the provider reported {}); model in {}",
            got.weights.len(),
            card.examples,
            accuracy,
            reported.map_or("nothing".to_owned(), |r| format!("{r:.2}")),
            consumer_dir.display()
        ),
    );

    // The devices: mining and AI time, and what each worker says its device earned. Each is
    // paused first, so that its books close: nothing mined after this is counted on either
    // side.
    let mut devices = Vec::new();
    let mut earned = Vec::new();
    for w in &workers {
        w.pause()?;
    }
    // Answers to shares sent just before the pause arrive within milliseconds.
    std::thread::sleep(Duration::from_millis(500));
    for w in &mut workers {
        earned.push((w.name.clone(), w.address.clone(), w.earnings()?));
        let s = w.switcher().unwrap_or(Value::Null);
        let usage = &s["usage"];
        devices.push(
            json!({"worker": w.name, "mining_s": usage["mining_s"], "ai_s": usage["ai_s"],
            "useful_fraction": usage["useful_fraction"], "shares": s["shares"],
            "accepted": s["pool"]["accepted"], "switches": s["switch_count"]}),
        );
        say.step(
            "device",
            devices.last().cloned().unwrap_or_default(),
            &format!(
                "{} device: mined {:.0} s, trained {:.0} s, {} hand-overs, {} shares accepted by the pool",
                w.name,
                usage["mining_s"].as_f64().unwrap_or(0.0),
                usage["ai_s"].as_f64().unwrap_or(0.0),
                s["switch_count"],
                s["pool"]["accepted"]
            ),
        );
        w.stop();
    }

    // Every balance, explained.
    let name = |a: &str| {
        if a == funder_address {
            "the devnet wallet".to_owned()
        } else {
            wallets.name(a)
        }
    };
    let mut statements = Vec::new();
    for role in Role::ALL {
        statements.push(accounts::read(
            &client,
            role.name(),
            &wallets.address(role),
            &settled.payments,
            &name,
        )?);
    }
    say_accounts(&say, &statements, &settled);
    if let Some(s) = statements.iter().find(|s| !s.adds_up()) {
        bail!(
            "the {}'s lines add up to {} but the chain holds {}",
            s.role,
            signed_aic(s.total_units),
            Amount::from_units(s.balance_units)
        );
    }
    say_device_books(&say, &earned, &statements)?;
    say.step(
        "done",
        json!({"job": job, "seconds": started.elapsed().as_secs_f64(), "accuracy": accuracy}),
        &format!(
            "done in {:.0} s: the job settled, the consumer holds weights scoring {accuracy:.2}, every balance adds up",
            started.elapsed().as_secs_f64()
        ),
    );
    Ok(())
}

/// Waits until both workers' devices mine through the pool.
fn wait_for_mining(workers: &mut [Worker]) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut mining = 0;
        for w in workers.iter_mut() {
            if !w.alive() {
                bail!("the {} worker stopped:\n{}", w.name, w.log_tail());
            }
            if w.switcher().is_some_and(|s| s["state"]["task"] == "mining") {
                mining += 1;
            }
        }
        if mining == workers.len() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the workers did not start mining within 60 s");
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Follows the job to a final state, saying each change and, every few seconds, what the
/// devices do; the settled job.
fn follow(
    client: &NodeClient,
    id: &str,
    workers: &mut [Worker],
    wallets: &Wallets,
    say: &Say,
) -> Result<wire::Job> {
    let deadline = Instant::now() + JOB_LIMIT;
    let mut last_progress = Instant::now();
    let mut seen = JobView::default();
    loop {
        let job: wire::Job = client.get(&format!("/market/jobs/{id}"))?;
        seen.report(&job, wallets, say);
        match job.status.as_str() {
            "settled" => return Ok(job),
            "cancelled" | "no-bids" | "expired" | "failed" => {
                bail!("the job ended {} instead of settling", job.status)
            }
            _ => {}
        }
        for w in workers.iter_mut() {
            if !w.alive() {
                bail!("the {} worker stopped:\n{}", w.name, w.log_tail());
            }
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            let status: rest::Status = client.get("/status")?;
            let states: Vec<Value> = workers
                .iter()
                .map(|w| {
                    let s = w.switcher().unwrap_or(Value::Null);
                    json!({"worker": w.name, "task": s["state"]["task"], "steps": w.steps(id),
                           "mining_s": s["usage"]["mining_s"], "ai_s": s["usage"]["ai_s"]})
                })
                .collect();
            let text = states
                .iter()
                .map(|s| {
                    let task = s["task"].as_str().unwrap_or("?");
                    let steps = s["steps"].as_u64().unwrap_or(0);
                    if task == "ai_job" || steps > 0 {
                        format!(
                            "{} {task} (step {steps} of 120)",
                            s["worker"].as_str().unwrap_or("?")
                        )
                    } else {
                        format!("{} {task}", s["worker"].as_str().unwrap_or("?"))
                    }
                })
                .collect::<Vec<_>>()
                .join(", ");
            say.step(
                "progress",
                json!({"height": status.height, "job": job.status, "workers": states}),
                &format!("height {}  job {}  {text}", status.height, job.status),
            );
            last_progress = Instant::now();
        }
        if Instant::now() > deadline {
            bail!(
                "the job did not settle within {JOB_LIMIT:?} (it is {})",
                job.status
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// What of a job has been said already.
#[derive(Default)]
struct JobView {
    status: String,
    bids: usize,
    result: bool,
    verdicts: usize,
}

impl JobView {
    fn report(&mut self, job: &wire::Job, wallets: &Wallets, say: &Say) {
        for b in job.bids.iter().skip(self.bids) {
            say.step(
                "bid",
                json!({"provider": b.provider, "price_units": b.price_units, "height": b.height}),
                &format!(
                    "{} bid {} AIC in block {}",
                    wallets.name(&b.provider),
                    Amount::from_units(b.price_units),
                    b.height
                ),
            );
        }
        self.bids = self.bids.max(job.bids.len());
        if let (false, Some(r)) = (self.result, &job.result) {
            say.step(
                "submitted",
                json!({"result": r.result, "transcript_root": r.transcript_root, "segments": r.segments}),
                &format!(
                    "provider submitted its result: manifest {}, {} checkpoint segments under transcript root {}",
                    r.result, r.segments, r.transcript_root
                ),
            );
            self.result = true;
        }
        if job.status != self.status {
            let text = match (job.status.as_str(), &job.award) {
                ("awarded", Some(a)) => format!(
                    "the bid window closed: awarded to the {} at {} AIC; its device leaves mining to train",
                    wallets.name(&a.provider),
                    Amount::from_units(a.price_units)
                ),
                ("verifying", _) => {
                    let drawn: Vec<String> = job
                        .verification
                        .as_ref()
                        .map(|v| v.verifiers.iter().map(|a| wallets.name(a)).collect())
                        .unwrap_or_default();
                    format!(
                        "result on chain; verifier drawn from the block hash: {}",
                        drawn.join(", ")
                    )
                }
                ("settled", _) => "the challenge window closed: settled".to_owned(),
                (other, _) => format!("job {other}"),
            };
            say.step("status", json!({"status": job.status, "job": job}), &text);
            self.status.clone_from(&job.status);
        }
        if let Some(v) = &job.verification {
            for verdict in v.verdicts.iter().skip(self.verdicts) {
                say.step(
                    "verdict",
                    json!({"verifier": verdict.verifier, "pass": verdict.pass}),
                    &format!(
                        "{} replayed {SEGMENTS} drawn segments and gave its verdict: {}",
                        wallets.name(&verdict.verifier),
                        if verdict.pass { "PASS" } else { "FAIL" }
                    ),
                );
            }
            self.verdicts = self.verdicts.max(v.verdicts.len());
        }
    }
}

/// Each worker's own account of its device's earnings, held against the chain's statement of
/// its wallet: the blocks it says it mined paid what the coinbases to the wallet paid, and
/// what it says the market paid is what the job paid the wallet. Fails where they differ.
fn say_device_books(
    say: &Say,
    earned: &[(String, String, workers::DeviceEarnings)],
    statements: &[Statement],
) -> Result<()> {
    for (name, address, e) in earned {
        let Some(s) = statements.iter().find(|s| &s.address == address) else {
            bail!("no statement for the {name} worker's wallet {address}");
        };
        let chain_mined: i64 = s
            .lines
            .iter()
            .filter(|l| l.kind == "mined")
            .map(|l| l.units)
            .sum();
        let chain_blocks = s.lines.iter().filter(|l| l.kind == "mined").count() as u64;
        // Job payments are the lines that are no transaction.
        let chain_market: i64 = s
            .lines
            .iter()
            .filter(|l| l.txid.is_none())
            .map(|l| l.units)
            .sum();
        let agrees = i64::try_from(e.mined_units) == Ok(chain_mined)
            && e.in_chain == chain_blocks
            && i64::try_from(e.market_units) == Ok(chain_market);
        say.step(
            "device-books",
            json!({"worker": name, "address": address, "worker_says": e,
                   "chain_says": {"blocks": chain_blocks, "mined_units": chain_mined,
                                  "market_units": chain_market},
                   "agree": agrees}),
            &format!(
                "{name} worker's page: mined {} AIC in {} of its {} blocks, the market paid {} AIC; the chain: {} AIC in {} blocks, {} AIC from the job ({})",
                Amount::from_units(e.mined_units),
                e.in_chain,
                e.found,
                Amount::from_units(e.market_units),
                signed_aic(chain_mined),
                chain_blocks,
                signed_aic(chain_market),
                if agrees { "they agree" } else { "THEY DISAGREE" }
            ),
        );
        if !agrees {
            bail!("the {name} worker's earnings disagree with the chain: {e:?} against {chain_blocks} blocks, {chain_mined} mined and {chain_market} market units");
        }
    }
    Ok(())
}

/// The closing statement: each participant's lines and the escrow's.
fn say_accounts(say: &Say, statements: &[Statement], job: &wire::Job) {
    let escrow_out: u64 = job
        .payments
        .iter()
        .filter(|p| p.from.is_none())
        .map(|p| p.amount_units)
        .sum();
    let mut text = String::from("where every AIC went:");
    for s in statements {
        text.push_str(&format!("\n  {} {}", s.role, s.address));
        // Blocks mined through the pool, one line each in JSON, read better as one here.
        let mined: Vec<&accounts::Line> = s.lines.iter().filter(|l| l.kind == "mined").collect();
        let mut mined_said = false;
        for l in &s.lines {
            let (units, what) = match (l.kind.as_str(), mined.as_slice()) {
                ("mined", [first, .., last]) if !mined_said => {
                    mined_said = true;
                    (
                        mined.iter().map(|m| m.units).sum(),
                        format!(
                            "mined {} blocks through the pool, {} to {} (coinbase and fees)",
                            mined.len(),
                            first.height,
                            last.height
                        ),
                    )
                }
                ("mined", [_, _, ..]) => continue,
                _ => (l.units, l.what.clone()),
            };
            text.push_str(&format!(
                "\n    {:>6}  {:>20}  {what}",
                l.height,
                signed_aic(units),
            ));
        }
        text.push_str(&format!(
            "\n    {:>6}  {:>20}  balance on chain {} ({})",
            "",
            signed_aic(s.total_units),
            Amount::from_units(s.balance_units),
            if s.adds_up() {
                "adds up"
            } else {
                "DOES NOT ADD UP"
            }
        ));
    }
    text.push_str(&format!(
        "\n  escrow of job {}: {} AIC in, {} AIC paid out, {} AIC left",
        job.id,
        Amount::from_units(job.budget_units),
        Amount::from_units(escrow_out),
        Amount::from_units(job.escrow_units)
    ));
    text.push_str("\n  fees went to the miners of the blocks that carried the transactions; stakes stay locked until unstaked");
    say.step(
        "accounts",
        json!({"statements": statements, "escrow": {"budget_units": job.budget_units,
               "paid_units": escrow_out, "left_units": job.escrow_units}}),
        &text,
    );
}
