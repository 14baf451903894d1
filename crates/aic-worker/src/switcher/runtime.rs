//! The switcher at run time: per device, the miner's threads (parked and woken, never
//! respawned) and the state that drives them; each event is applied on the thread that
//! delivers it, which carries out [`transition`]'s actions, answers the job, and records a
//! [`Timeline`] and the latency of every hand-over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aic_miner::{Kernel, SearchConfig, SearchError, Searcher, Share, WorkTemplate};

use super::activity::ActivityGate;
use super::machine::{transition, Action, DeviceState, Event, JobPhase, PauseCause, Task};
use super::policy::{OfferDecision, Policy};
use super::signal::{AiJobSignal, Reply};
use super::timeline::Timeline;

/// The real miner a switcher drives on its device's cores.
#[derive(Clone)]
pub struct MiningSetup {
    /// The kernel (see [`aic_miner::best`]).
    pub kernel: Arc<dyn Kernel>,
    /// What to search (from the pool or the node).
    pub work: WorkTemplate,
    /// Threads (one per core of the device) and batch size (bounds the release latency).
    pub config: SearchConfig,
}

impl std::fmt::Debug for MiningSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiningSetup")
            .field("kernel", &self.kernel.name())
            .field("config", &self.config)
            .finish()
    }
}

/// How the switcher answers a job: writes a [`Reply`] to it (a socket, or a channel in tests).
pub type JobSink = Box<dyn FnMut(&Reply) -> std::io::Result<()> + Send>;

/// Why a switcher call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SwitcherError {
    /// The miner could not start.
    #[error("starting the miner: {0}")]
    Search(#[from] SearchError),
    /// The event is illegal in the device's state.
    #[error(transparent)]
    Transition(#[from] super::machine::TransitionError),
    /// A signal or attachment names a job that is not the one assigned.
    #[error("job {0:?} is not the job assigned to this device")]
    UnknownJob(String),
    /// The switcher has stopped.
    #[error("the switcher has stopped")]
    Stopped,
}

/// Which hand-over a [`SwitchRecord`] measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SwitchKind {
    /// From the event (a job's `need`, an owner pause) to every mining thread parked.
    Release,
    /// From the event (a job's `wait`/`end`, the end of a pause) to every mining thread
    /// woken and back in its search loop.
    Resume,
}

/// One measured hand-over.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct SwitchRecord {
    /// Which hand-over.
    pub kind: SwitchKind,
    /// When the event arrived, from the timeline's origin.
    pub at: Duration,
    /// From the event's arrival to the hand-over done (see [`SwitchKind`]).
    pub latency: Duration,
    /// Resume only, when measured ([`Switcher::measure_first_batch`]): from the event's
    /// arrival to the first search batch completed after it.
    pub first_batch: Option<Duration>,
}

/// What a switcher did, returned by [`Switcher::stop`].
#[derive(Debug)]
pub struct SwitchReport {
    /// Who held the device when.
    pub timeline: Timeline,
    /// Every hand-over between mining and anything else, measured.
    pub switches: Vec<SwitchRecord>,
    /// Nonces hashed by the miner.
    pub hashes: u64,
    /// Shares the miner found.
    pub shares: u64,
    /// Signals refused as illegal (answered `error`).
    pub refused: u64,
}

/// The shared core: the control state behind a mutex, applied by whichever thread delivers
/// an event (a job's connection, the CLI, the monitor), so no extra thread hop sits between an
/// event's arrival and the miner's release.
struct Inner {
    control: Mutex<Control>,
    searcher: Arc<Searcher>,
    stopped: AtomicBool,
}

impl Inner {
    fn with<T>(&self, f: impl FnOnce(&mut Control) -> T) -> Result<T, SwitcherError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(SwitcherError::Stopped);
        }
        let mut control = self
            .control
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.stopped.load(Ordering::SeqCst) {
            return Err(SwitcherError::Stopped);
        }
        Ok(f(&mut control))
    }
}

/// Delivers events to a running [`Switcher`]; cheap to clone, usable from any thread. Each
/// call applies its event on the calling thread (a release blocks it until mining has
/// released the device: at most about one search batch).
#[derive(Clone)]
pub struct SwitcherHandle {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SwitcherHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SwitcherHandle")
    }
}

impl SwitcherHandle {
    /// Offers job `id` paying `aic_per_hour`; on [`OfferDecision::Accept`] it is assigned to
    /// the device (one at a time) and may attach and signal.
    pub fn offer(&self, id: &str, aic_per_hour: f64) -> Result<OfferDecision, SwitcherError> {
        self.inner.with(|c| c.offer(id.to_owned(), aic_per_hour))?
    }

    /// Connects the assigned job `id` to `sink`, where `go`, `hold` and `error` are written.
    pub fn attach(&self, id: &str, sink: JobSink) -> Result<(), SwitcherError> {
        self.inner.with(|c| match &mut c.job {
            Some(job) if job.id == id => {
                job.sink = Some(sink);
                Ok(())
            }
            _ => Err(SwitcherError::UnknownJob(id.to_owned())),
        })?
    }

    /// Delivers a job's signal that arrived at `at`; the answer (`go`, or `error` for an
    /// illegal signal) goes to the job's sink.
    pub fn signal(&self, id: &str, signal: AiJobSignal, at: Instant) -> Result<(), SwitcherError> {
        self.inner.with(|c| c.signal(id, signal, at))
    }

    /// Ends job `id` if it is still assigned (its process died without saying `end`, or
    /// never connected): mining takes the device back. True if it was assigned.
    pub fn end_job(&self, id: &str) -> Result<bool, SwitcherError> {
        self.inner.with(|c| {
            if c.job.as_ref().is_some_and(|job| job.id == id) {
                c.apply(Event::JobEnded, Instant::now()).map(|()| true)
            } else {
                Ok(false)
            }
        })?
    }

    /// `aic worker pause`.
    pub fn owner_pause(&self) -> Result<(), SwitcherError> {
        let event = Event::OwnerPause(PauseCause::Command);
        self.inner.with(|c| c.apply(event, Instant::now()))?
    }

    /// `aic worker resume`.
    pub fn owner_resume(&self) -> Result<(), SwitcherError> {
        let event = Event::OwnerResume(PauseCause::Command);
        self.inner.with(|c| c.apply(event, Instant::now()))?
    }

    /// A sample of the owner's load on the device (0..=1, other processes), for the
    /// owner-activity rule.
    pub fn owner_load(&self, load: f64) -> Result<(), SwitcherError> {
        let at = Instant::now();
        self.inner.with(|c| {
            let now = at.saturating_duration_since(c.timeline.origin());
            if let Some(event) = c.gate.sample(now, load) {
                // The gate tracks its own pause, so its events are always legal.
                let _ = c.apply(event, at);
            }
        })
    }

    /// The device's state now.
    pub fn state(&self) -> Result<DeviceState, SwitcherError> {
        self.inner.with(|c| c.state)
    }

    /// What the switcher has done so far (the timeline closed at now, every hand-over),
    /// without stopping it: for status endpoints.
    pub fn report(&self) -> Result<SwitchReport, SwitcherError> {
        let searcher = Arc::clone(&self.inner.searcher);
        self.inner.with(|c| {
            let mut timeline = c.timeline.clone();
            timeline.close(Instant::now());
            SwitchReport {
                timeline,
                switches: c.switches.clone(),
                hashes: searcher.hashes(),
                shares: searcher.shares(),
                refused: c.refused,
            }
        })
    }
}

/// A device's switcher: the miner's threads and the state that drives them.
pub struct Switcher {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Switcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switcher")
            .field("searcher", &self.inner.searcher)
            .finish()
    }
}

impl Switcher {
    /// Starts the miner on the device's cores (parked at once where the policy does not mine).
    /// `on_share` is called from a mining thread for every share.
    pub fn start<F>(policy: Policy, mining: MiningSetup, on_share: F) -> Result<Self, SwitcherError>
    where
        F: Fn(Share) + Send + Sync + 'static,
    {
        Self::start_with(policy, mining, on_share, false)
    }

    /// As [`Switcher::start`], and after every resume the resuming thread polls the miner's
    /// hash counter until the first batch completes, to record [`SwitchRecord::first_batch`].
    /// The polling holds the switcher for up to one batch: for benchmarks.
    pub fn measure_first_batch<F>(
        policy: Policy,
        mining: MiningSetup,
        on_share: F,
    ) -> Result<Self, SwitcherError>
    where
        F: Fn(Share) + Send + Sync + 'static,
    {
        Self::start_with(policy, mining, on_share, true)
    }

    fn start_with<F>(
        policy: Policy,
        mining: MiningSetup,
        on_share: F,
        first_batch: bool,
    ) -> Result<Self, SwitcherError>
    where
        F: Fn(Share) + Send + Sync + 'static,
    {
        let searcher = Searcher::start(mining.kernel, mining.work, mining.config, on_share)?;
        Ok(Self::drive(policy, Arc::new(searcher), first_batch))
    }

    /// Drives a searcher that something else feeds (a Stratum client through
    /// [`aic_miner::SharedSearch`]): the switcher parks and wakes its threads, the feeder
    /// changes their work. Parked at once where the policy does not mine.
    pub fn drive_shared(policy: Policy, searcher: Arc<Searcher>) -> Self {
        Self::drive(policy, searcher, false)
    }

    fn drive(policy: Policy, searcher: Arc<Searcher>, first_batch: bool) -> Self {
        let state = DeviceState::initial(&policy);
        if state.task != Task::Mining {
            searcher.pause();
        }
        let origin = Instant::now();
        let control = Control {
            policy,
            state,
            gate: ActivityGate::new(&policy),
            searcher: Arc::clone(&searcher),
            timeline: Timeline::new(origin, state.task, state.task == Task::Mining),
            switches: Vec::new(),
            job: None,
            refused: 0,
            first_batch,
        };
        Self {
            inner: Arc::new(Inner {
                control: Mutex::new(control),
                searcher,
                stopped: AtomicBool::new(false),
            }),
        }
    }

    /// A handle for the provider agent, the job listener and the CLI.
    pub fn handle(&self) -> SwitcherHandle {
        SwitcherHandle {
            inner: Arc::clone(&self.inner),
        }
    }

    /// Nonces hashed so far by the miner.
    pub fn hashes(&self) -> u64 {
        self.inner.searcher.hashes()
    }

    /// Stops the miner (its threads end; they are joined when the last handle drops) and
    /// returns what happened. Handles answer [`SwitcherError::Stopped`] from then on.
    pub fn stop(self) -> SwitchReport {
        let mut control = self
            .inner
            .control
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        self.inner.stopped.store(true, Ordering::SeqCst);
        let searcher = &self.inner.searcher;
        searcher.pause();
        control.timeline.close(Instant::now());
        searcher.stop_handle().stop();
        SwitchReport {
            timeline: control.timeline.clone(),
            switches: std::mem::take(&mut control.switches),
            hashes: searcher.hashes(),
            shares: searcher.shares(),
            refused: control.refused,
        }
    }
}

impl Drop for Switcher {
    fn drop(&mut self) {
        self.inner.stopped.store(true, Ordering::SeqCst);
        self.inner.searcher.stop_handle().stop();
    }
}

struct AssignedJob {
    id: String,
    sink: Option<JobSink>,
}

struct Control {
    policy: Policy,
    state: DeviceState,
    gate: ActivityGate,
    searcher: Arc<Searcher>,
    timeline: Timeline,
    switches: Vec<SwitchRecord>,
    job: Option<AssignedJob>,
    refused: u64,
    first_batch: bool,
}

impl Control {
    fn offer(&mut self, id: String, price: f64) -> Result<OfferDecision, SwitcherError> {
        let decision = self.policy.decide_offer(price);
        if decision == OfferDecision::Accept {
            self.apply(Event::JobAccepted, Instant::now())?;
            self.job = Some(AssignedJob { id, sink: None });
        }
        Ok(decision)
    }

    fn signal(&mut self, id: &str, signal: AiJobSignal, at: Instant) {
        let assigned = self.job.as_ref().is_some_and(|job| job.id == id);
        let result = if assigned {
            self.apply(signal.event(), at)
        } else {
            Err(SwitcherError::UnknownJob(id.to_owned()))
        };
        if let Err(error) = result {
            self.refused += 1;
            if assigned {
                self.reply(&Reply::Error(error.to_string()));
            }
        }
    }

    fn reply(&mut self, reply: &Reply) {
        if let Some(sink) = self.job.as_mut().and_then(|job| job.sink.as_mut()) {
            // A job that cannot be written to has died; its reader reports the end.
            let _ = sink(reply);
        }
    }

    fn apply(&mut self, event: Event, at: Instant) -> Result<(), SwitcherError> {
        let before = self.state;
        let t = transition(before, event, &self.policy)?;
        let origin = self.timeline.origin();
        let job_was_computing = matches!(before.job, Some(JobPhase::Running | JobPhase::Holding));
        let job_computing = matches!(t.state.job, Some(JobPhase::Running | JobPhase::Holding));
        if job_was_computing && !job_computing {
            // The job stopped computing before it said so: the gap starts at its signal.
            let holder = if t.state.task == Task::AiJob {
                Task::AiJob
            } else {
                Task::Idle
            };
            self.timeline.record(at, holder, false);
        }
        for action in &t.actions {
            match action {
                Action::PauseMining => {
                    self.searcher.pause();
                    let done = Instant::now();
                    self.timeline.record(done, Task::Idle, false);
                    self.switches.push(SwitchRecord {
                        kind: SwitchKind::Release,
                        at: at.saturating_duration_since(origin),
                        latency: done.saturating_duration_since(at),
                        first_batch: None,
                    });
                }
                Action::Grant => {
                    // Recorded before `go` is written: the job may start at once.
                    self.timeline.record(Instant::now(), Task::AiJob, true);
                    self.reply(&Reply::Go);
                }
                Action::Hold => self.reply(&Reply::Hold),
                Action::ResumeMining => {
                    let hashes = self.searcher.hashes();
                    self.searcher.resume();
                    let done = Instant::now();
                    self.timeline.record(done, Task::Mining, true);
                    let first_batch = self.first_batch.then(|| self.wait_first_batch(hashes, at));
                    self.switches.push(SwitchRecord {
                        kind: SwitchKind::Resume,
                        at: at.saturating_duration_since(origin),
                        latency: done.saturating_duration_since(at),
                        first_batch: first_batch.flatten(),
                    });
                }
            }
        }
        let working = match t.state.task {
            Task::Mining => true,
            Task::AiJob => job_computing,
            Task::Idle | Task::Paused => false,
        };
        self.timeline.record(Instant::now(), t.state.task, working);
        if event == Event::JobEnded {
            self.job = None;
        }
        self.state = t.state;
        Ok(())
    }

    fn wait_first_batch(&self, hashes: u64, at: Instant) -> Option<Duration> {
        let deadline = Instant::now() + Duration::from_millis(50);
        while Instant::now() < deadline {
            if self.searcher.hashes() > hashes {
                return Some(at.elapsed());
            }
            // Sleep, not spin: a spinning poller would take a core from the miner it waits for.
            std::thread::sleep(Duration::from_micros(20));
        }
        None
    }
}
