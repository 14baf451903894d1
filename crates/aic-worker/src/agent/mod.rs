//! The agent a device owner runs (`aic worker run`): the config file ([`WorkerConfig`]), the
//! device's switcher driving a miner that a Stratum pool feeds, the owner's load watched and
//! fed to the switcher ([`Agent`]), the local job queue ([`JobQueue`]) and its runner
//! ([`JobRunner`]: each job sandboxed, preempted with notice, resumed), and the control
//! endpoints ([`control_router`], [`jobs_router`], [`earnings_router`]) with their event
//! stream (`GET /api/v1/worker/events`).

mod config;
mod earnings;
mod events;
mod http;
mod mined;
mod queue;
mod run;
mod runner;

pub use config::{ConfigError, JobsConfig, MiningConfig, WorkerConfig};
pub use earnings::{earnings_router, EarningsSources, MarketBook};
pub use events::{EARNINGS_EVERY, EARNINGS_PATH, EVENT_EVERY, SNAPSHOT_PARTS};
pub use http::{control_router, jobs_router, serve_worker, SWITCHES_SHOWN, TIMELINE_SHOWN};
pub use mined::{
    ask_node, check_with_node, Answers, BlockState, MinedBlock, MinedBlocks, MinedBookError,
    MinedTotals, NodeAnswer, NodeBlock, FINAL_CONFIRMATIONS, LOST_AFTER, MAX_OPEN, RECENT_SHOWN,
};
pub use queue::{JobQueue, QueueError, QueuedJob, Stage};
pub use run::{Agent, AgentError, PoolStatus};
pub use runner::{
    JobOutcome, JobRunner, JobStatus, OnOutcome, RunnerConfig, RunnerControl, RunnerStatus,
    PREEMPTED_EXIT,
};
