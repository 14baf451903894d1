//! The agent's thread: one pass over the chain's market every poll, each step's failure
//! reported and retried at the next pass.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aic_primitives::{Amount, Hash256};

use super::error::MarketError;
use super::node::NodeApi;
use super::replay::ReplayConfig;
use super::state::StateFile;
use super::Runtime;
use crate::agent::JobQueue;
use crate::provider::Identity;
use crate::sandbox::Sandbox;

/// Everything the agent works with.
#[derive(Debug)]
pub struct MarketSetup {
    /// The agent's directory (absolute): `state.json`, `models/`, `results/`, `reports/`.
    pub dir: PathBuf,
    /// The provider's wallet.
    pub identity: Identity,
    /// The node.
    pub node: NodeApi,
    /// The price it bids.
    pub price: Amount,
    /// The fee of each transaction.
    pub fee: Amount,
    /// Bid on open jobs.
    pub bid: bool,
    /// Verify when drawn.
    pub verify: bool,
    /// Between two passes.
    pub poll: Duration,
    /// The worker's job queue (its runner trains awarded jobs).
    pub queue: JobQueue,
    /// The runner's sandbox: job directories, and replays.
    pub sandbox: Sandbox,
    /// How replays run.
    pub replay: ReplayConfig,
    /// The ML runtime's part.
    pub runtime: Runtime,
}

/// Something the agent did or could not do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MarketEvent {
    /// A bid was sent.
    Bid {
        /// The job.
        job: String,
        /// The price, base units.
        price_units: u64,
        /// Its transaction.
        txid: String,
    },
    /// An awarded job was queued to train.
    Queued {
        /// The job.
        job: String,
    },
    /// A trained job's manifest, weights and checkpoints are in the node's blob store.
    Published {
        /// The job.
        job: String,
        /// The manifest's id.
        manifest: String,
    },
    /// Its `SubmitResult` was sent.
    Submitted {
        /// The job.
        job: String,
        /// Its transaction.
        txid: String,
    },
    /// A verdict was sent.
    Verdict {
        /// The job.
        job: String,
        /// Whether it passed.
        pass: bool,
        /// Its transaction.
        txid: String,
    },
    /// The node refused an action, or the job could not run: not tried again.
    GaveUp {
        /// The job.
        job: String,
        /// What was refused.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A step failed; it is tried again at the next pass.
    Failed {
        /// The job, when the step was about one.
        job: Option<String>,
        /// Why.
        error: String,
    },
}

impl std::fmt::Display for MarketEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MarketEvent::Bid {
                job,
                price_units,
                txid,
            } => write!(
                f,
                "bid {} AIC on job {job} (tx {txid})",
                Amount::from_units(*price_units)
            ),
            MarketEvent::Queued { job } => write!(f, "job {job} awarded here: queued to train"),
            MarketEvent::Published { job, manifest } => {
                write!(f, "job {job} trained: result manifest {manifest} published")
            }
            MarketEvent::Submitted { job, txid } => {
                write!(f, "job {job}: result submitted (tx {txid})")
            }
            MarketEvent::Verdict { job, pass, txid } => write!(
                f,
                "job {job}: verdict {} (tx {txid})",
                if *pass { "pass" } else { "FAIL" }
            ),
            MarketEvent::GaveUp { job, what, reason } => {
                write!(f, "job {job}: {what} given up: {reason}")
            }
            MarketEvent::Failed {
                job: Some(job),
                error,
            } => {
                write!(f, "job {job}: {error} (trying again)")
            }
            MarketEvent::Failed { job: None, error } => write!(f, "{error} (trying again)"),
        }
    }
}

/// Called with every event (the worker prints them).
pub type OnMarketEvent = Box<dyn Fn(&MarketEvent) + Send>;

/// The agent's state during a pass.
pub(super) struct Market {
    pub(super) setup: MarketSetup,
    pub(super) state: StateFile,
    on_event: OnMarketEvent,
    /// The last failure reported per job (`""`: none), so a failure repeated every pass is
    /// reported once.
    failures: BTreeMap<String, String>,
}

/// Parses a market id of the API.
pub(super) fn hash(job: &str, text: &str) -> Result<Hash256, MarketError> {
    Hash256::from_hex(text).map_err(|e| MarketError::Job {
        job: job.into(),
        message: e.to_string(),
    })
}

impl Market {
    pub(super) fn event(&self, e: MarketEvent) {
        (self.on_event)(&e);
    }

    fn failed(&mut self, job: Option<&str>, e: &MarketError) {
        let error = e.to_string();
        let key = job.unwrap_or_default().to_owned();
        if self.failures.get(&key) != Some(&error) {
            self.failures.insert(key, error.clone());
            self.event(MarketEvent::Failed {
                job: job.map(str::to_owned),
                error,
            });
        }
    }

    /// One pass: bids, awarded jobs, verifications.
    fn pass(&mut self) {
        let me = self.setup.identity.address_text();
        let provider = match self.setup.node.provider(&me) {
            Ok(Some(p)) => p,
            Ok(None) => {
                self.failed(None, &MarketError::NotRegistered(me));
                return;
            }
            Err(e) => {
                self.failed(None, &e);
                return;
            }
        };
        self.failures.remove("");
        if self.setup.bid {
            if let Err(e) = self.bid_open(&me, &provider) {
                self.failed(None, &e);
            }
        }
        match self.setup.node.jobs("awarded") {
            Ok(jobs) => {
                for job in jobs {
                    if job.award.as_ref().is_some_and(|a| a.provider == me) {
                        match self.run_awarded(&job) {
                            Ok(()) => {
                                self.failures.remove(&job.id);
                            }
                            Err(e) => self.failed(Some(&job.id), &e),
                        }
                    }
                }
            }
            Err(e) => self.failed(None, &e),
        }
        if !self.setup.verify {
            return;
        }
        match self.setup.node.jobs("verifying") {
            Ok(jobs) => {
                for job in jobs {
                    match self.verify_job(&job, &me) {
                        Ok(()) => {
                            self.failures.remove(&job.id);
                        }
                        Err(e) => self.failed(Some(&job.id), &e),
                    }
                }
            }
            Err(e) => self.failed(None, &e),
        }
    }
}

/// The running agent.
pub struct MarketAgent {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MarketAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MarketAgent").finish_non_exhaustive()
    }
}

impl MarketAgent {
    /// Opens the agent's state and starts its thread.
    pub fn start(setup: MarketSetup, on_event: OnMarketEvent) -> Result<Self, MarketError> {
        let state = StateFile::open(&setup.dir)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut market = Market {
            setup,
            state,
            on_event,
            failures: BTreeMap::new(),
        };
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("aic-market".into())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    market.pass();
                    while started.elapsed() < market.setup.poll && !flag.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            })
            .map_err(MarketError::Thread)?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops after the pass under way.
    pub fn stop(mut self) {
        self.halt();
    }

    fn halt(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for MarketAgent {
    fn drop(&mut self) {
        self.halt();
    }
}
