//! The worker's config file (TOML): the owner's switching policy, where to mine, the job queue.
//!
//! ```toml
//! [switcher]                      # see switcher::Policy
//! enabled = true                  # the owner opts in to switching
//! price_floor_aic_per_hour = 0.5
//!
//! [mining]
//! pools = ["stratum+tcp://127.0.0.1:3333"]
//! user = "daic1...rig1"           # payout address, optionally .worker
//! threads = 2                     # default: every logical CPU
//!
//! [jobs]
//! dir = "jobs"                    # queue/, running/, done/, failed/ under it
//! grace_ms = 10000                # SIGTERM to SIGKILL when a job is preempted
//!
//! [market]                        # see market::MarketConfig
//! enabled = true
//! wallet = "prov.key"
//! node = "http://127.0.0.1:7450"
//! cookie = "node/.cookie"
//! price = "5"
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::market::MarketConfig;
use crate::switcher::Policy;

/// Where and how the device mines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MiningConfig {
    /// Stratum v1 pools, in order of preference (`stratum+tcp://HOST:PORT`).
    pub pools: Vec<String>,
    /// The pool user: the payout address, optionally `.worker`.
    pub user: String,
    /// Search threads (default: one per logical CPU).
    pub threads: Option<usize>,
}

/// The local job queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JobsConfig {
    /// The queue's directory.
    pub dir: Option<PathBuf>,
    /// Milliseconds between SIGTERM and SIGKILL when a job is preempted.
    pub grace_ms: u64,
    /// Memory limit of each job, MiB (0: none).
    pub memory_mib: u64,
}

impl Default for JobsConfig {
    fn default() -> Self {
        Self {
            dir: None,
            grace_ms: 10_000,
            memory_mib: 0,
        }
    }
}

/// The whole config file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkerConfig {
    /// `[switcher]`: the owner's policy.
    pub switcher: Policy,
    /// `[mining]`.
    pub mining: MiningConfig,
    /// `[jobs]`.
    pub jobs: JobsConfig,
    /// `[market]`: the on-chain market agent.
    pub market: MarketConfig,
}

/// Why a config file was refused.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML for this schema (unknown keys are refused).
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with its place.
        message: String,
    },
    /// A value out of range.
    #[error("{path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl WorkerConfig {
    /// Parses and checks a config file's text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: WorkerConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        config.check().map_err(|message| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(config)
    }

    /// Reads and checks a config file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(&text, path)
    }

    /// The ranges the types do not enforce.
    pub fn check(&self) -> Result<(), String> {
        let p = &self.switcher;
        if !(p.price_floor_aic_per_hour.is_finite() && p.price_floor_aic_per_hour >= 0.0) {
            return Err("switcher.price_floor_aic_per_hour must be a number >= 0".into());
        }
        let t = p.owner_activity.load_threshold;
        if !(0.0..=1.0).contains(&t) {
            return Err("switcher.owner_activity.load_threshold must be within 0..=1".into());
        }
        if self.mining.threads == Some(0) {
            return Err("mining.threads must be at least 1".into());
        }
        if !self.mining.pools.is_empty() && self.mining.user.is_empty() {
            return Err("mining.user (the payout address) is required with mining.pools".into());
        }
        self.market.check()?;
        if self.market.enabled && self.jobs.dir.is_none() {
            return Err(
                "market.enabled needs [jobs] dir (or --jobs): awarded jobs run there".into(),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::switcher::{OwnerChoice, Sharing};

    #[test]
    fn the_documented_example_parses() {
        let text = "[switcher]\nenabled = true\nprice_floor_aic_per_hour = 0.5\n\n[mining]\npools = [\"stratum+tcp://127.0.0.1:3333\"]\nuser = \"daic1x.rig1\"\nthreads = 2\n\n[jobs]\ndir = \"jobs\"\ngrace_ms = 10000\n";
        let c = WorkerConfig::parse(text, Path::new("w.toml")).unwrap();
        assert!(c.switcher.enabled);
        assert_eq!(c.switcher.sharing, Sharing::FillGaps);
        assert_eq!(c.switcher.owner_choice, OwnerChoice::Mining);
        assert_eq!(c.mining.threads, Some(2));
        assert_eq!(c.jobs.dir.as_deref(), Some(Path::new("jobs")));
        // An empty file is the defaults: switching off, mining.
        assert_eq!(
            WorkerConfig::parse("", Path::new("e.toml")).unwrap(),
            WorkerConfig::default()
        );
    }

    #[test]
    fn each_bad_value_is_refused_with_its_name() {
        for (text, needle) in [
            ("[switcher]\nenabeld = true\n", "enabeld"),
            (
                "[switcher]\nprice_floor_aic_per_hour = -1.0\n",
                "price_floor",
            ),
            (
                "[switcher.owner_activity]\nload_threshold = 1.5\n",
                "load_threshold",
            ),
            ("[mining]\nthreads = 0\n", "mining.threads"),
            ("[mining]\npools = [\"stratum+tcp://a:1\"]\n", "mining.user"),
            ("[switcher]\nsharing = \"sometimes\"\n", "sharing"),
            ("[market]\nenabled = true\n", "market.wallet"),
            (
                "[market]\nenabled = true\nwallet = \"w.key\"\nnode = \"http://n\"\nbid = false\nprice = \"0\"\n",
                "market.price",
            ),
            (
                "[market]\nenabled = true\nwallet = \"w.key\"\nnode = \"http://n\"\n",
                "market.cookie",
            ),
            (
                "[market]\nenabled = true\nwallet = \"w.key\"\nnode = \"http://n\"\nbid = false\n",
                "[jobs] dir",
            ),
        ] {
            let err = WorkerConfig::parse(text, Path::new("w.toml"))
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
