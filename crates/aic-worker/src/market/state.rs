//! What the agent did, on disk: `DIR/state.json`, replaced atomically after every change, so a
//! worker killed at any point resumes without bidding, queueing or submitting twice. The chain
//! stays the authority: a recorded transaction the node no longer knows (dropped from its
//! mempool) is sent again only if the chain does not show its effect.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::{io, MarketError};

/// The state file's name in the agent's directory.
pub const STATE_FILE: &str = "state.json";

/// A transaction sent, or the node's refusal of it (never sent again).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// Its txid.
    pub txid: Option<String>,
    /// The node's refusal.
    pub refused: Option<String>,
}

/// A job awarded to this provider.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Queued on the worker's job queue.
    pub queued: bool,
    /// The result manifest's id, once published with its blobs.
    pub manifest: Option<String>,
    /// The `SubmitResult` transaction.
    pub submitted: Sent,
    /// Why it cannot be completed (training failed).
    pub failed: Option<String>,
}

/// A verdict worked out for one round of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judged {
    /// Whether every drawn segment replayed to the committed checkpoint.
    pub pass: bool,
    /// SHA-256 of the replay report (hex).
    pub evidence: String,
    /// The replay report's file.
    pub report: PathBuf,
    /// The `Verdict` transaction.
    pub sent: Sent,
}

/// Everything the agent remembers.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AgentState {
    /// Bids, by job.
    pub bids: BTreeMap<String, Sent>,
    /// Jobs awarded to this provider, by job.
    pub runs: BTreeMap<String, Run>,
    /// Verdicts, by `JOB/ROUND`.
    pub verdicts: BTreeMap<String, Judged>,
}

/// The state and its file.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    /// The state.
    pub state: AgentState,
}

impl StateFile {
    /// Opens `dir/state.json` (an empty state when there is none).
    pub fn open(dir: &Path) -> Result<StateFile, MarketError> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(STATE_FILE);
        let state = match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| MarketError::State {
                path: path.clone(),
                message: e.to_string(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => AgentState::default(),
            Err(e) => return Err(io(&path)(e)),
        };
        Ok(StateFile { path, state })
    }

    /// Writes the state so that a crash leaves the old file or the new one.
    pub fn save(&self) -> Result<(), MarketError> {
        let tmp = self.path.with_extension("part");
        let bytes = serde_json::to_vec_pretty(&self.state).expect("the state serializes");
        let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(io(&tmp))?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(io(&self.path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_survives_a_restart() {
        let tmp = tempfile::tempdir().unwrap();
        let mut s = StateFile::open(tmp.path()).unwrap();
        assert_eq!(s.state, AgentState::default());
        s.state.bids.insert(
            "j".into(),
            Sent {
                txid: Some("t".into()),
                refused: None,
            },
        );
        s.state.runs.entry("j".into()).or_default().queued = true;
        s.save().unwrap();
        let again = StateFile::open(tmp.path()).unwrap();
        assert_eq!(again.state, s.state);
        std::fs::write(tmp.path().join(STATE_FILE), b"{").unwrap();
        assert!(matches!(
            StateFile::open(tmp.path()),
            Err(MarketError::State { .. })
        ));
    }
}
