//! What the market paid this provider: the jobs in the agent's state (awarded runs and
//! verdicts) looked up on the node, and every payment of theirs to the provider's address
//! summed by kind. The node is the authority; the state file only says which jobs to ask about.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Serialize;

use super::error::MarketError;
use super::node::NodeApi;
use super::state::StateFile;

/// Most jobs looked up per call (the most recent by id order are kept).
pub const EARNINGS_JOBS: usize = 200;

/// One job's payments to the provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct JobEarnings {
    /// The job (hex).
    pub job: String,
    /// Its status on the chain (`open`, `awarded`, `settled`...), `unknown` when the node
    /// does not know it.
    pub status: String,
    /// Whether the provider ran it (awarded) rather than only verified it.
    pub ran: bool,
    /// Base units paid to the provider, by payment kind (`price`, `verifier-fee`...).
    pub paid_units: BTreeMap<String, u64>,
}

/// Everything the market paid the provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MarketEarnings {
    /// The provider's address.
    pub address: String,
    /// Sum over [`Self::jobs`], base units.
    pub total_units: u64,
    /// Per job.
    pub jobs: Vec<JobEarnings>,
}

/// Reads the agent's state in `dir` and asks `node` for each job's payments to `address`.
pub fn market_earnings(
    dir: &Path,
    node: &NodeApi,
    address: &str,
) -> Result<MarketEarnings, MarketError> {
    let state = StateFile::open(dir)?.state;
    let ran: BTreeSet<&str> = state.runs.keys().map(String::as_str).collect();
    let mut ids: BTreeSet<&str> = ran.clone();
    ids.extend(state.verdicts.keys().filter_map(|k| k.split('/').next()));
    let skip = ids.len().saturating_sub(EARNINGS_JOBS);
    let mut out = MarketEarnings {
        address: address.to_owned(),
        ..MarketEarnings::default()
    };
    for id in ids.into_iter().skip(skip) {
        let mut e = JobEarnings {
            job: id.to_owned(),
            status: "unknown".into(),
            ran: ran.contains(id),
            paid_units: BTreeMap::new(),
        };
        if let Some(job) = node.job(id)? {
            e.status = job.status.clone();
            for p in job.payments.iter().filter(|p| p.to == address) {
                *e.paid_units.entry(p.kind.clone()).or_default() += p.amount_units;
                out.total_units = out.total_units.saturating_add(p.amount_units);
            }
        }
        out.jobs.push(e);
    }
    Ok(out)
}
