//! `aic worker`: the device owner's agent: devices, benchmarks, the monitor and its endpoints.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use aic_api::provider::JobStatus as ProviderJobStatus;
use aic_rpc::{bind_data_socket, serve_data_service};
use aic_worker::agent::JobStatus;
use aic_worker::agent::{
    control_router, earnings_router, jobs_router, serve_worker, Agent, EarningsSources, JobOutcome,
    JobQueue, JobRunner, QueuedJob, RunnerConfig, WorkerConfig,
};
use aic_worker::bench::{self, BenchConfig};
use aic_worker::device::{self, DeviceDescriptor, DeviceKind};
use aic_worker::monitor::{Monitor, MonitorConfig, Snapshot};
use aic_worker::provider::{
    Heartbeat, Identity, JobOutcome as ProviderOutcome, ProviderClient, IDENTITY_FILE,
};
use aic_worker::sandbox::{Sandbox, SandboxConfig};
use aic_worker::switcher::{JobListener, OwnerChoice};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cli::WorkerCommand;

pub(crate) fn run(cmd: WorkerCommand) -> Result<()> {
    match cmd {
        WorkerCommand::Devices { node, json } => devices(node.as_deref(), json),
        WorkerCommand::Bench {
            seconds,
            threads,
            json,
        } => bench(seconds, threads, json),
        WorkerCommand::Run {
            listen,
            seconds,
            config,
            pools,
            user,
            threads,
            switching,
            price_floor,
            no_owner_activity,
            job_socket,
            jobs,
            node,
            data_dir,
            network,
            market,
            json,
        } => {
            let mut cfg = match &config {
                Some(path) => WorkerConfig::load(path)?,
                None => WorkerConfig::default(),
            };
            if !pools.is_empty() {
                cfg.mining.pools = pools;
            }
            if let Some(u) = user {
                cfg.mining.user = u;
            }
            if threads.is_some() {
                cfg.mining.threads = threads;
            }
            if switching {
                cfg.switcher.enabled = true;
            }
            if let Some(p) = price_floor {
                cfg.switcher.price_floor_aic_per_hour = p;
            }
            if no_owner_activity {
                cfg.switcher.owner_activity.enabled = false;
            }
            if jobs.is_some() {
                cfg.jobs.dir = jobs;
            }
            if market {
                cfg.market.enabled = true;
            }
            cfg.check().map_err(anyhow::Error::msg)?;
            // The market agent's node is the worker's node unless --node names another.
            let node = node.or_else(|| cfg.market.enabled.then(|| cfg.market.node.clone()));
            let provider = match node {
                Some(url) => Some((provider_client(&url, &data_dir, &network)?, data_dir)),
                None => None,
            };
            let network: aic_primitives::Network = network
                .parse()
                .map_err(|e| anyhow::anyhow!("--network {network:?}: {e}"))?;
            serve(listen, seconds, cfg, job_socket, provider, network, json)
        }
        WorkerCommand::Submit {
            jobs,
            id,
            model,
            data,
            sources,
            price,
            set,
            memory_mib,
        } => submit(&jobs, id, &model, data, sources, price, &set, memory_mib),
        WorkerCommand::Preempt { id, worker } => preempt(&worker, &id),
        WorkerCommand::Pause { worker } => control(&worker, "pause"),
        WorkerCommand::Resume { worker } => control(&worker, "resume"),
        WorkerCommand::Status { worker, once, json } => status(&worker, once, json),
    }
}

fn gib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "-".to_owned(),
        |b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
    )
}

fn print_descriptor(d: &DeviceDescriptor) {
    println!(
        "{:<24} {:<13} {} {} ({} cores, {} threads, {})",
        d.id,
        serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        d.vendor,
        d.model,
        d.cores.map_or_else(|| "-".to_owned(), |c| c.to_string()),
        d.threads.map_or_else(|| "-".to_owned(), |c| c.to_string()),
        gib(d.memory_bytes)
    );
    if !d.capabilities.is_empty() {
        println!("{:<24} capabilities: {}", "", d.capabilities.join(", "));
    }
    if let Some(s) = &d.scores {
        println!(
            "{:<24} scores: {}",
            "",
            serde_json::to_string(s).unwrap_or_default()
        );
    }
}

fn devices(node: Option<&str>, json: bool) -> Result<()> {
    let found = device::discover();
    let mut all = found.devices.clone();
    if let Some(node) = node {
        let url = format!("{}/api/v1/mining/workers", node.trim_end_matches('/'));
        let body = ureq::get(&url)
            .call()
            .with_context(|| format!("asking {url} for its Stratum workers"))?
            .into_string()?;
        all.extend(device::miners_from_json(&body).context("reading the node's workers")?);
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"devices": all, "notes": found.notes}))?
        );
        return Ok(());
    }
    for d in &all {
        print_descriptor(d);
    }
    for note in &found.notes {
        println!("note: {note}");
    }
    Ok(())
}

fn bench(seconds: f64, threads: Option<usize>, json: bool) -> Result<()> {
    let per = Duration::from_secs_f64(seconds.max(0.05));
    let defaults = BenchConfig::default();
    let config = BenchConfig {
        threads: threads.unwrap_or(defaults.threads).max(1),
        hash_duration: per,
        matmul_budget: per,
        memory_budget: per,
        ..defaults
    };
    if !json {
        eprintln!(
            "measuring hashing, matrix multiply and memory bandwidth, {seconds} s each on {} threads...",
            config.threads
        );
    }
    let report = bench::run_cpu(&config)?;
    let mut cpu = device::cpu_descriptor();
    cpu.scores = Some(report.scores());
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"device": cpu, "report": report}))?
        );
        return Ok(());
    }
    print_descriptor(&cpu);
    Ok(())
}

/// Starts the switcher's agent where there is something to switch: a pool to mine through,
/// or a job socket to take AI jobs on.
fn start_agent(
    cfg: &mut WorkerConfig,
    job_socket: Option<&Path>,
    monitor: &Monitor,
    device: &str,
    book: Option<PathBuf>,
) -> Result<Option<Agent>> {
    if cfg.mining.pools.is_empty() {
        if job_socket.is_none() {
            eprintln!("worker: no pool configured (--pool or [mining] pools): monitoring only");
            return Ok(None);
        }
        // AI jobs only: nothing to mine in the gaps.
        eprintln!("worker: no pool configured: taking AI jobs, idle between them");
        cfg.switcher.enabled = false;
        cfg.switcher.owner_choice = OwnerChoice::AiJobs;
    }
    // The fastest kernel here; the batch bounds the release latency (one batch).
    let (kernel, batch) = (aic_miner::best(), aic_miner::DEFAULT_BATCH);
    let agent = Agent::start(
        cfg,
        Arc::from(kernel),
        batch,
        monitor.handle(),
        device.to_owned(),
        book,
    )?;
    Ok(Some(agent))
}

/// The file name of the book of blocks mined as pool user `user` (`ADDRESS[.worker]`).
fn mined_book_name(user: &str) -> String {
    let safe: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("mined-{safe}.json")
}

/// The worker's identity (made on first use) and its client for `node`.
fn provider_client(node: &str, data_dir: &Path, network: &str) -> Result<ProviderClient> {
    let network: aic_primitives::Network = network
        .parse()
        .map_err(|e| anyhow::anyhow!("--network {network:?}: {e}"))?;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join(IDENTITY_FILE);
    let identity = Identity::load_or_create(&path, network)
        .with_context(|| format!("the worker's identity {}", path.display()))?;
    Ok(ProviderClient::new(node, identity))
}

/// A runner's outcome as the node's job report.
fn report_of(o: &JobOutcome) -> Option<ProviderOutcome> {
    let status = match o.status {
        JobStatus::Succeeded => ProviderJobStatus::Succeeded,
        JobStatus::Failed => ProviderJobStatus::Failed,
        JobStatus::Preempted => ProviderJobStatus::Preempted,
        JobStatus::Refused => return None,
    };
    let text = |k: &str| o.result[k].as_str().map(str::to_owned);
    let mut metrics = serde_json::Map::new();
    for key in ["seconds", "data_wait_fraction", "first_step_s", "step"] {
        if !o.result[key].is_null() {
            metrics.insert(key.into(), o.result[key].clone());
        }
    }
    if let Some(cards) = o.result["scorecards"].as_array() {
        for c in cards {
            if let (Some(split), Some(acc)) = (
                c["split"].as_str(),
                c["classification"]["accuracy"].as_f64(),
            ) {
                metrics.insert(format!("{split}_accuracy"), acc.into());
            }
        }
    }
    if let Some(r) = &o.reason {
        metrics.insert("reason".into(), r.clone().into());
    }
    Some(ProviderOutcome {
        job_id: o.id.clone(),
        status,
        result: text("weights_blake3"),
        transcript_root: text("transcript_root"),
        metrics,
        started_ms: o.started_ms,
        ended_ms: o.ended_ms,
    })
}

fn serve(
    listen: std::net::SocketAddr,
    seconds: Option<u64>,
    mut cfg: WorkerConfig,
    job_socket: Option<PathBuf>,
    provider: Option<(ProviderClient, PathBuf)>,
    network: aic_primitives::Network,
    json: bool,
) -> Result<()> {
    // With a node, the worker's directory also keeps the book of the blocks mined for each
    // pool user (the node says what they earned).
    let (provider, data_dir) = provider.unzip();
    let mined_book = data_dir
        .filter(|_| !cfg.mining.user.is_empty())
        .map(|d| d.join(mined_book_name(&cfg.mining.user)));
    let found = device::discover();
    let heartbeat = provider.as_ref().map(|client| {
        eprintln!(
            "worker: announcing {} to {} as {}",
            found.devices.len(),
            client.node_url(),
            client
                .identity()
                .address()
                .to_bech32(client.identity().network())
        );
        Heartbeat::start(
            client.clone(),
            &found.devices,
            Some(format!("http://{listen}")),
            Duration::from_secs(10),
        )
    });
    let cpu = found
        .devices
        .iter()
        .find(|d| d.kind == DeviceKind::Cpu)
        .map(|d| d.id.clone())
        .context("no CPU device found")?;
    let monitor =
        Monitor::from_discovery(found, MonitorConfig::default()).context("starting the monitor")?;
    let handle = monitor.handle();
    let jobs_dir = match &cfg.jobs.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            Some(d.canonicalize()?)
        }
        None => None,
    };
    let job_socket = match (job_socket, &jobs_dir) {
        (Some(s), _) => Some(std::path::absolute(s)?),
        (None, Some(d)) => Some(d.join("worker.sock")),
        (None, None) => None,
    };
    let agent = start_agent(
        &mut cfg,
        job_socket.as_deref(),
        &monitor,
        &cpu,
        mined_book.clone(),
    )?;
    let _listener = match (&agent, &job_socket) {
        (Some(a), Some(path)) => {
            let _ = std::fs::remove_file(path);
            Some(
                JobListener::bind(path, a.handle())
                    .with_context(|| format!("listening for AI jobs on {}", path.display()))?,
            )
        }
        _ => None,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    // The jobs' only way to the network: the worker's data service on a Unix socket, reading
    // through the worker's cache from its node.
    let data_service = match (&jobs_dir, &provider) {
        (Some(dir), Some(client)) => {
            let (cache, _) = crate::data_net::open_cache(Some(dir.join("cache")), 10_240)?;
            let path = dir.join("data.sock");
            let listener = {
                let _in_runtime = runtime.enter();
                bind_data_socket(&path)
                    .with_context(|| format!("binding the data service {}", path.display()))?
            };
            runtime.spawn(serve_data_service(
                listener,
                cache,
                vec![client.node_url().to_owned()],
                std::future::pending(),
            ));
            Some(path)
        }
        _ => None,
    };
    let runner = match (&agent, &jobs_dir, &job_socket) {
        (Some(a), Some(dir), Some(socket)) => {
            let sandbox = Sandbox::new(SandboxConfig::new(dir.join("work")))
                .context("setting up the job sandbox")?;
            let runner = start_runner(
                a,
                dir,
                socket,
                &cfg.jobs,
                provider.clone(),
                data_service.clone(),
                sandbox.clone(),
            )?;
            Some((runner, sandbox))
        }
        _ => None,
    };
    let market = match (&runner, &jobs_dir) {
        (Some((r, sandbox)), Some(dir)) if cfg.market.enabled => {
            let replay = aic_worker::market::ReplayConfig {
                program: std::env::current_exe().context("finding the aic binary")?,
                data_service: data_service.clone(),
                memory_mib: cfg.jobs.memory_mib,
            };
            Some(crate::worker_market::start(
                &cfg.market,
                network,
                dir,
                r.control().queue().clone(),
                sandbox.clone(),
                replay,
            )?)
        }
        _ if cfg.market.enabled => bail!("the market agent needs the job queue (--jobs DIR)"),
        _ => None,
    };
    let (market, book) = market.unzip();
    let runner = runner.map(|(r, _)| r);
    // The blocks the device mines are paid to the pool user's address; the worker's node
    // says which of them the chain kept.
    let payout = cfg.mining.user.split('.').next().unwrap_or_default();
    let mined_chain = match &provider {
        Some(client) if !payout.is_empty() => Some((
            aic_worker::market::NodeApi::new(client.node_url(), None),
            payout.to_owned(),
        )),
        _ => None,
    };
    let mut control = agent.as_ref().map(|a| {
        control_router(cpu.clone(), a.handle(), a.policy(), a.pool_status_cell()).merge(
            earnings_router(EarningsSources {
                device: cpu.clone(),
                switcher: a.handle(),
                pool: a.pool_status_cell(),
                mined: a.mined_blocks(),
                chain: mined_chain.clone(),
                runner: runner.as_ref().map(JobRunner::control),
                market: book,
            }),
        )
    });
    if let Some(r) = &runner {
        control = control.map(|c| c.merge(jobs_router(r.control())));
    }
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        eprintln!(
            "worker: page at http://{listen}/, metrics at http://{listen}/metrics, status at http://{listen}/api/v1/worker/status (Ctrl-C stops)"
        );
        let shutdown = async move {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        serve_worker(listener, handle, control, shutdown).await?;
        anyhow::Ok(())
    })?;
    if let Some(m) = market {
        m.stop();
    }
    if let Some(r) = runner {
        // A running job is preempted: it checkpoints and resumes at the next start.
        r.stop();
    }
    if let Some(hb) = heartbeat {
        let stats = hb.stop();
        eprintln!(
            "worker: {} announcements accepted by the node, {} failed",
            stats.accepted, stats.failures
        );
    }
    if let Some(agent) = agent {
        let pool = agent.pool_status();
        let mined = agent.mined_blocks();
        let report = agent.stop();
        // The blocks found, checked with the node one last time, and the book saved.
        let checked = mined_chain
            .as_ref()
            .map(|(node, address)| aic_worker::agent::check_with_node(&mined, node, address));
        if let Some(Err(e)) = &checked {
            eprintln!("worker: could not check the blocks found with the node: {e}");
        }
        if let Some(path) = &mined_book {
            if let Err(e) = mined.lock().unwrap_or_else(|p| p.into_inner()).save(path) {
                eprintln!("worker: saving the blocks found: {e}");
            }
        }
        let blocks = mined.lock().unwrap_or_else(|p| p.into_inner()).totals();
        let usage = report.timeline.usage();
        let summary = json!({
            "hashes": report.hashes,
            "shares": report.shares,
            "pool": pool,
            "blocks": blocks,
            "switches": report.switches.len(),
            "useful_fraction": usage.useful_fraction(),
            "mining_s": usage.mining.as_secs_f64(),
            "ai_s": usage.ai.as_secs_f64(),
        });
        if json {
            println!("{summary}");
        } else {
            eprintln!(
                "worker: {} hashes, {} shares ({} accepted by the pool), {} hand-overs, useful {:.2} %",
                report.hashes,
                report.shares,
                pool.accepted,
                report.switches.len(),
                100.0 * usage.useful_fraction()
            );
            let paid = if mined_chain.is_some() {
                format!(
                    "{} in the chain paying {} AIC",
                    blocks.in_chain,
                    aic_primitives::Amount::from_units(blocks.paid_units)
                )
            } else {
                "not checked: no node (--node)".to_owned()
            };
            eprintln!("worker: {} blocks found, {paid}", blocks.found);
        }
    }
    monitor.stop();
    Ok(())
}

/// The job queue's runner: jobs sandboxed under DIR/work, outcomes printed as they come.
fn start_runner(
    agent: &Agent,
    dir: &Path,
    socket: &Path,
    jobs: &aic_worker::agent::JobsConfig,
    provider: Option<ProviderClient>,
    data_service: Option<PathBuf>,
    sandbox: Sandbox,
) -> Result<JobRunner> {
    let queue = JobQueue::open(dir)?;
    eprintln!(
        "worker: jobs from {}/queue, limits by {}, isolation: {}",
        dir.display(),
        sandbox.backend().name(),
        if sandbox.isolation().is_isolated() {
            "bubblewrap (no network, only the job's own files)".to_owned()
        } else {
            format!("NONE ({:?})", sandbox.isolation())
        }
    );
    let config = RunnerConfig {
        program: std::env::current_exe().context("finding the aic binary")?,
        job_socket: socket.to_path_buf(),
        data_service,
        grace: Duration::from_millis(jobs.grace_ms),
        memory_mib: jobs.memory_mib,
    };
    let runner = JobRunner::start(
        queue,
        sandbox,
        agent.handle(),
        config,
        Box::new(move |o: &JobOutcome| {
            if let (Some(client), Some(report)) = (&provider, report_of(o)) {
                if let Err(e) = client.report(&report) {
                    eprintln!("worker: reporting job {} to the node: {e}", o.id);
                }
            }
            eprintln!(
                "worker: job {} {}{}",
                o.id,
                serde_json::to_value(o.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                o.reason
                    .as_ref()
                    .map_or_else(String::new, |r| format!(": {r}"))
            );
        }),
    )?;
    Ok(runner)
}

/// `aic worker submit`.
#[allow(clippy::too_many_arguments)]
fn submit(
    jobs: &Path,
    id: String,
    model: &Path,
    data: String,
    sources: Vec<String>,
    price: f64,
    set: &[String],
    memory_mib: Option<u64>,
) -> Result<()> {
    let mut params = std::collections::BTreeMap::new();
    for item in set {
        let Some((k, v)) = item.split_once('=') else {
            bail!("--set {item:?}: expected NAME=VALUE");
        };
        params.insert(k.trim().to_owned(), v.to_owned());
    }
    let model = std::path::absolute(model)?;
    let data = if sources.is_empty() {
        std::path::absolute(&data)?.to_string_lossy().into_owned()
    } else {
        data
    };
    let job = QueuedJob {
        id,
        aic_per_hour: price,
        model,
        data,
        sources,
        params,
        memory_mib,
        keep_checkpoints: false,
    };
    let queue = JobQueue::open(jobs)?;
    queue.submit(&job)?;
    println!("queued {} in {}", job.id, jobs.display());
    Ok(())
}

/// `aic worker preempt`.
fn preempt(worker: &str, id: &str) -> Result<()> {
    post_to_worker(worker, &format!("jobs/{id}/preempt"))?;
    println!("preempting {id}: it checkpoints and resumes from the queue");
    Ok(())
}

/// `aic worker pause|resume`.
fn control(worker: &str, what: &str) -> Result<()> {
    let v = post_to_worker(worker, what)?;
    println!("{}", v["state"]);
    Ok(())
}

/// `POST {worker}/api/v1/worker/{path}`: the answer, or the worker's refusal as the error.
fn post_to_worker(worker: &str, path: &str) -> Result<serde_json::Value> {
    let url = format!("{}/api/v1/worker/{path}", worker.trim_end_matches('/'));
    match ureq::post(&url).call() {
        Ok(r) => Ok(r.into_json()?),
        Err(ureq::Error::Status(code, r)) => {
            let v: serde_json::Value = r.into_json().unwrap_or_default();
            bail!(
                "the worker refused ({code}): {}",
                v["error"].as_str().unwrap_or("?")
            )
        }
        Err(e) => Err(e).with_context(|| {
            format!("cannot reach the worker at {worker} (is `aic worker run` running?)")
        }),
    }
}

fn opt(v: Option<f64>, unit: &str, scale: f64) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.0}{unit}", v * scale))
}

fn render(snapshot: &Snapshot) {
    println!(
        "{:<24} {:<8} {:>6} {:>20} {:>7} {:>8}",
        "device", "task", "util", "memory", "temp", "power"
    );
    let Some(latest) = &snapshot.latest else {
        println!("(no sample yet)");
        return;
    };
    for d in &latest.devices {
        let memory = match (d.memory_used_bytes, d.memory_total_bytes) {
            (Some(u), Some(t)) => format!("{} / {}", gib(Some(u)), gib(Some(t))),
            _ => "-".to_owned(),
        };
        println!(
            "{:<24} {:<8} {:>6} {:>20} {:>7} {:>8}",
            d.device,
            d.task.as_str(),
            opt(d.utilization, " %", 100.0),
            memory,
            opt(d.temperature_celsius, " C", 1.0),
            opt(d.power_watts, " W", 1.0)
        );
        if !d.core_utilization.is_empty() {
            let cores: Vec<String> = d
                .core_utilization
                .iter()
                .map(|u| format!("{:.0}", u * 100.0))
                .collect();
            println!("{:<24} per core %: {}", "", cores.join(" "));
        }
    }
    println!(
        "{} samples every {} ms",
        snapshot.samples_taken, snapshot.interval_ms
    );
}

fn status(worker: &str, once: bool, json: bool) -> Result<()> {
    let url = format!(
        "{}/api/v1/worker/status?history=0",
        worker.trim_end_matches('/')
    );
    loop {
        let body = ureq::get(&url)
            .call()
            .with_context(|| {
                format!("cannot reach the worker at {worker} (is `aic worker run` running?)")
            })?
            .into_string()?;
        if json {
            let v: serde_json::Value = serde_json::from_str(&body)?;
            println!("{}", serde_json::to_string(&v)?);
        } else {
            let snapshot: Snapshot =
                serde_json::from_str(&body).context("reading the worker's status")?;
            if !once {
                // Clear the terminal and home the cursor: a live view.
                print!("\x1b[2J\x1b[H");
            }
            render(&snapshot);
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
