//! The agent a device owner runs (`aic worker run`): the config file ([`WorkerConfig`]), the
//! device's switcher driving a miner that a Stratum pool feeds, the owner's load watched and
//! fed to the switcher ([`Agent`]), and the control endpoints ([`control_router`]).

mod config;
mod http;
mod run;

pub use config::{ConfigError, JobsConfig, MiningConfig, WorkerConfig};
pub use http::{control_router, serve_worker, SWITCHES_SHOWN};
pub use run::{Agent, AgentError, PoolStatus};
