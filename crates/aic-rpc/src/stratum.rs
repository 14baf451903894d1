//! The Stratum v1 server: the standard interface through which any SHA-256d miner (ASIC,
//! FPGA, GPU, CPU) mines this chain.
//!
//! Each connection subscribes (getting a 4-byte `extranonce1`), authorizes with a payout
//! address (`ADDRESS` or `ADDRESS.worker`), and receives jobs built from a block template that
//! pays that address (solo mining: the block pays whoever found it). Shares are checked
//! against the connection's variable difficulty; a share that meets the network target is
//! submitted as a block at once. Rejections use the standard codes (21 job not found or
//! stale, 22 duplicate, 23 low difficulty, 24 unauthorized, 25 not subscribed, 20 other).
//! Per-worker statistics are kept in [`MiningStats`] and served at
//! `GET /api/v1/mining/workers`.
//!
//! [`serve_given_job`] serves one job given in wire form instead of the node's templates (a
//! third-party pool's recorded job, say), with the same sessions and share checks: how the
//! server is tested against a real miner's recorded traffic.

mod difficulty;
mod given;
mod job;
mod parse;
mod session;
mod workers;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aic_chain::BlockTemplate;
use aic_primitives::{Address, Hash256};
use tokio::net::TcpListener;

pub use given::{GivenJob, GivenJobError};
pub use parse::{params_list, parse_request, SubmitFields};
pub use workers::MiningStats;

use crate::handle::NodeHandle;
use job::Job;

/// Stratum server settings.
#[derive(Clone, Debug, PartialEq)]
pub struct StratumConfig {
    /// Share difficulty of a new connection (Bitcoin difficulty-1 units).
    pub initial_difficulty: f64,
    /// Lowest share difficulty vardiff sets.
    pub min_difficulty: f64,
    /// Highest share difficulty vardiff sets.
    pub max_difficulty: f64,
    /// Vardiff aims at one share per this many seconds per connection.
    pub target_share_secs: f64,
    /// Vardiff looks at the share rate this often.
    pub retarget_secs: f64,
    /// Version bits miners may roll (BIP 310), offered in `mining.configure`.
    pub version_mask: u32,
    /// A job older than this is replaced (clean_jobs = false) to carry new transactions.
    pub refresh_secs: u64,
}

impl Default for StratumConfig {
    fn default() -> Self {
        StratumConfig {
            initial_difficulty: 0.001,
            min_difficulty: 1e-9,
            max_difficulty: 1e15,
            target_share_secs: 5.0,
            retarget_secs: 30.0,
            version_mask: 0x1fff_e000,
            refresh_secs: 30,
        }
    }
}

/// Where the connections' jobs come from.
#[derive(Debug)]
pub(crate) enum JobSource {
    /// Templates of this node's chain, each paying its connection's address: the node's server.
    Node,
    /// One job given from outside, the same for every connection.
    Given(Arc<GivenJob>),
}

/// What every connection shares.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) handle: Arc<NodeHandle>,
    pub(crate) config: StratumConfig,
    source: JobSource,
    next_extranonce1: AtomicU32,
    next_job: AtomicU64,
    /// Templates per payout address: the tip and mempool sequence they were built for.
    templates: Mutex<HashMap<Address, CachedTemplate>>,
    /// Held while a template is built, so that a new tip seen by a thousand connections at
    /// once builds each template once rather than a thousand times.
    building: tokio::sync::Mutex<()>,
    /// The network (constant; read once rather than under the chain lock per share).
    pub(crate) network: aic_primitives::Network,
    /// How far a share's time may run ahead of the clock.
    pub(crate) max_future_secs: u64,
}

/// A template with the tip and mempool sequence it was built for, and when.
type CachedTemplate = (Hash256, u64, Instant, Arc<BlockTemplate>);

impl Shared {
    fn new(handle: Arc<NodeHandle>, config: StratumConfig, source: JobSource) -> Shared {
        let (network, max_future_secs) = {
            let chain = handle.chain();
            (chain.params().network, chain.params().max_future_block_secs)
        };
        Shared {
            handle,
            config,
            source,
            building: tokio::sync::Mutex::new(()),
            network,
            max_future_secs,
            next_extranonce1: AtomicU32::new(rand::random()),
            next_job: AtomicU64::new(1),
            templates: Mutex::new(HashMap::new()),
        }
    }

    /// A new connection's `extranonce1`: from a counter, or the given job's.
    pub(crate) fn next_extranonce1(&self) -> [u8; 4] {
        match &self.source {
            JobSource::Node => self
                .next_extranonce1
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                .to_be_bytes(),
            JobSource::Given(given) => given.extranonce1(),
        }
    }

    /// A new job for a connection paying `payout`, its share target still the network's.
    pub(crate) async fn job(&self, payout: Address) -> Option<Job> {
        match &self.source {
            JobSource::Node => {
                let template = self.template(payout).await?;
                let id = self
                    .next_job
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                Job::from_template(format!("{id:x}"), template)
            }
            JobSource::Given(given) => Some(given.job()),
        }
    }

    /// Reports the header of a share that meets a given job's network target.
    pub(crate) fn block_candidate(&self, header: aic_primitives::BlockHeader) {
        if let JobSource::Given(given) = &self.source {
            given.block_candidate(header);
        }
    }

    /// A template paying `payout` for the current tip, shared between connections with the
    /// same payout address and rebuilt when the tip moves or it is older than the refresh.
    async fn template(&self, payout: Address) -> Option<Arc<BlockTemplate>> {
        if let Some(t) = self.cached(payout) {
            return Some(t);
        }
        let _building = self.building.lock().await;
        // Another connection may have built it while this one waited.
        if let Some(t) = self.cached(payout) {
            return Some(t);
        }
        let event = *self.handle.subscribe().borrow();
        let handle = self.handle.clone();
        let t = tokio::task::spawn_blocking(move || {
            let now = handle.now();
            Arc::new(handle.chain().block_template(payout, now))
        })
        .await
        .ok()?;
        let mut cache = self.templates.lock().unwrap_or_else(|p| p.into_inner());
        if cache.len() > 10_000 {
            cache.clear();
        }
        cache.insert(
            payout,
            (t.prev_hash, event.mempool_seq, Instant::now(), t.clone()),
        );
        Some(t)
    }
}

impl Shared {
    /// The cached template for `payout`, if it is still current.
    fn cached(&self, payout: Address) -> Option<Arc<BlockTemplate>> {
        let event = *self.handle.subscribe().borrow();
        let refresh = Duration::from_secs(self.config.refresh_secs);
        let cache = self.templates.lock().unwrap_or_else(|p| p.into_inner());
        let (tip, seq, made, t) = cache.get(&payout)?;
        (*tip == event.hash && (*seq == event.mempool_seq || made.elapsed() < refresh))
            .then(|| t.clone())
    }
}

/// Serves Stratum on `listener` until `shutdown` completes or the node closes.
pub async fn serve_stratum(
    listener: TcpListener,
    handle: Arc<NodeHandle>,
    config: StratumConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Shared::new(handle, config, JobSource::Node);
    accept_loop(listener, Arc::new(shared), shutdown).await
}

/// Serves `job` on `listener` until `shutdown` completes or the node closes: every connection
/// gets the job's `extranonce1` and, once authorized, the job itself, and its shares are
/// checked as the node's own jobs' shares are (the user name must still be a payout address
/// of the node's network). The share difficulty is the configuration's: set
/// `min_difficulty` and `max_difficulty` to `initial_difficulty` to hold it. The job never
/// goes stale; shares that meet its network target are kept in
/// [`GivenJob::block_candidates`], not submitted to the chain.
pub async fn serve_given_job(
    listener: TcpListener,
    handle: Arc<NodeHandle>,
    config: StratumConfig,
    job: Arc<GivenJob>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let shared = Shared::new(handle, config, JobSource::Given(job));
    accept_loop(listener, Arc::new(shared), shutdown).await
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = shared.handle.closed() => return Ok(()),
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, peer)) => {
                        let _ = stream.set_nodelay(true);
                        tracing::debug!(target: "stratum", %peer, "connection");
                        tokio::spawn(session::run(shared.clone(), stream));
                    }
                    // Out of file descriptors and the like: wait a little, keep serving.
                    Err(e) => {
                        tracing::warn!(target: "stratum", error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                }
            }
        }
    }
}
