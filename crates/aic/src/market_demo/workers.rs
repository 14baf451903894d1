//! The demo's two workers: `aic worker run --market` processes of this binary, each mining
//! through the devnet's Stratum pool in the gaps and running the market agent of its wallet.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::Value;

/// The longest a worker runs.
const LIFETIME: Duration = Duration::from_secs(3_600);

/// What one worker is for.
pub(super) struct WorkerSpec<'a> {
    /// Its name: its config `NAME.toml`, log `NAME.log`, directories `NAME/` and `NAME-jobs/`.
    pub(super) name: &'a str,
    /// The wallet its market agent signs with (and its pool payout address).
    pub(super) wallet: &'a Path,
    pub(super) address: &'a str,
    /// Its bid price, AIC; `None`: it does not bid (it only verifies).
    pub(super) price: Option<&'a str>,
}

/// A running worker process; killed when dropped.
pub(super) struct Worker {
    pub(super) name: String,
    /// Its wallet's address: its pool payout address and its market identity.
    pub(super) address: String,
    pub(super) listen: SocketAddr,
    pub(super) log: PathBuf,
    pub(super) jobs_dir: PathBuf,
    child: Option<Child>,
    agent: ureq::Agent,
}

/// A free loopback port (bound and released: the worker binds it a moment later).
fn free_port() -> Result<SocketAddr> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(l.local_addr()?)
}

/// The worker's config file: the switcher on, mining through `pool` paying its own address,
/// one search thread, the job queue, and the market agent.
fn config_text(
    spec: &WorkerSpec<'_>,
    root: &Path,
    node: &str,
    cookie: &Path,
    pool: SocketAddr,
) -> String {
    let bid = match spec.price {
        Some(p) => format!("bid = true\nprice = \"{p}\"\n"),
        None => "bid = false\n".to_owned(),
    };
    format!(
        "[switcher]\nenabled = true\n\n[mining]\npools = [\"stratum+tcp://{pool}\"]\nuser = \"{}.{}\"\nthreads = 1\n\n[jobs]\ndir = {:?}\n\n[market]\nenabled = true\nwallet = {:?}\nnode = \"{node}\"\ncookie = {:?}\n{bid}verify = true\npoll_ms = 300\n",
        spec.address,
        spec.name,
        root.join(format!("{}-jobs", spec.name)),
        spec.wallet,
        cookie,
    )
}

impl Worker {
    /// Writes the worker's config under `root` and starts it.
    pub(super) fn start(
        spec: &WorkerSpec<'_>,
        root: &Path,
        node: &str,
        cookie: &Path,
        pool: SocketAddr,
    ) -> Result<Worker> {
        let config = root.join(format!("{}.toml", spec.name));
        std::fs::write(&config, config_text(spec, root, node, cookie, pool))
            .with_context(|| format!("writing {}", config.display()))?;
        let log = root.join(format!("{}.log", spec.name));
        let out =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let listen = free_port()?;
        let exe = std::env::current_exe().context("finding the aic binary")?;
        let child = Command::new(exe)
            .args(["worker", "run", "--market", "--no-owner-activity", "--json"])
            .arg("--config")
            .arg(&config)
            .arg("--listen")
            .arg(listen.to_string())
            .arg("--data-dir")
            .arg(root.join(spec.name))
            // A bound, should the devnet die without stopping it (Ctrl-C reaches it anyway).
            .args(["--seconds", &LIFETIME.as_secs().to_string()])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting a worker")?;
        Ok(Worker {
            name: spec.name.to_owned(),
            address: spec.address.to_owned(),
            listen,
            log,
            jobs_dir: root.join(format!("{}-jobs", spec.name)),
            child: Some(child),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(5))
                .build(),
        })
    }

    /// The switcher's status (`GET /api/v1/worker/switcher`): what holds the device, the time
    /// it mined and computed, its shares. `None` while the worker is not answering.
    pub(super) fn switcher(&self) -> Option<Value> {
        let url = format!("http://{}/api/v1/worker/switcher", self.listen);
        self.agent.get(&url).call().ok()?.into_json().ok()
    }

    /// Pauses the device (`POST /api/v1/worker/pause`): mining stops, so what it earned
    /// stands still.
    pub(super) fn pause(&self) -> Result<()> {
        let url = format!("http://{}/api/v1/worker/pause", self.listen);
        self.agent
            .post(&url)
            .call()
            .with_context(|| format!("pausing the {} worker", self.name))?;
        Ok(())
    }

    /// What the worker says its device earned (`GET /api/v1/worker/earnings`): the blocks it
    /// mined, checked with the node, and what the market paid its wallet.
    pub(super) fn earnings(&self) -> Result<DeviceEarnings> {
        let url = format!("http://{}/api/v1/worker/earnings", self.listen);
        let e: Value = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build()
            .get(&url)
            .call()
            .with_context(|| format!("reading the {} worker's earnings", self.name))?
            .into_json()?;
        if let Some(err) = e["mined_blocks"]["error"].as_str() {
            anyhow::bail!("the {} worker could not check its blocks: {err}", self.name);
        }
        if let Some(err) = e["market_error"].as_str() {
            anyhow::bail!(
                "the {} worker could not read its market pay: {err}",
                self.name
            );
        }
        let blocks = &e["devices"][0]["mining"]["blocks"];
        let units = |v: &Value| v.as_u64().unwrap_or(0);
        Ok(DeviceEarnings {
            found: units(&blocks["found"]),
            in_chain: units(&blocks["in_chain"]),
            mined_units: units(&blocks["paid_units"]),
            market_units: units(&e["market"]["total_units"]),
        })
    }

    /// Whether the process is still running.
    pub(super) fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// The last lines of its log, for errors.
    pub(super) fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Training steps of `job` the worker's trainer has logged.
    pub(super) fn steps(&self, job: &str) -> usize {
        std::fs::read_to_string(self.jobs_dir.join("work").join(job).join("out.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"event\":\"step\""))
            .count()
    }

    /// Stops the process (its market state is on disk; nothing of a finished job is lost).
    pub(super) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A device's earnings as its worker reports them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub(super) struct DeviceEarnings {
    /// Blocks it found.
    pub(super) found: u64,
    /// Of them, on the main chain.
    pub(super) in_chain: u64,
    /// What their coinbases paid its address, base units.
    pub(super) mined_units: u64,
    /// What the market paid its wallet, base units.
    pub(super) market_units: u64,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop();
    }
}
