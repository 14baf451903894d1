//! The market agent (`aic worker run --market`, `[market]` in the worker's config): the
//! worker's side of the on-chain market. Once per poll it reads the node's market and
//!
//! - **bids** its configured price on every open job its registered devices fit (class,
//!   memory) whose highest price covers it ([`bid`](self));
//! - **runs** each job awarded to its provider address through the worker's job queue and
//!   sandboxed runner (`aic model train` with the job's model, data streamed from the node,
//!   parameters from the chain, every transcript checkpoint kept);
//! - **publishes** the trained job: weights, every checkpoint and the [`ResultManifest`] into
//!   the node's blob store, then the `SubmitResult` transaction whose `result` is the
//!   manifest's id;
//! - **verifies** when drawn: checks the manifest against the chain, replays each drawn segment
//!   in the sandbox (`aic model replay`) and posts the verdict, pass iff every replayed
//!   checkpoint has the committed id, with the SHA-256 of its replay report as evidence.
//!
//! Every step is recorded in `DIR/state.json` ([`StateFile`]) before and after it acts, and
//! every decision starts from the chain, so a worker killed at any point resumes where it was
//! without bidding, queueing or submitting twice. Transactions are signed with the wallet
//! (`[market] wallet`) at the account's next nonce as the node reports it.
//!
//! This crate does not link the ML runtime: the caller gives the transcript's Merkle root and
//! the unpacking of a model blob ([`Runtime`]); replays run the `aic` binary in the sandbox.

mod agent;
mod bid;
mod config;
mod earnings;
mod error;
mod manifest;
mod model;
mod node;
mod publish;
mod replay;
mod state;
mod verify;

use std::path::{Path, PathBuf};

pub use agent::{MarketAgent, MarketEvent, MarketSetup, OnMarketEvent};
pub use config::MarketConfig;
pub use earnings::{market_earnings, JobEarnings, MarketEarnings, EARNINGS_JOBS};
pub use error::MarketError;
pub use manifest::{ResultManifest, TranscriptEntry, TranscriptRoot, MANIFEST_VERSION};
pub use node::{blob_id, NodeApi};
pub use replay::ReplayConfig;
pub use state::{AgentState, Judged, Run, Sent, StateFile, STATE_FILE};

/// The directory, under a training job's state directory, where every transcript checkpoint
/// is kept (`aic model train --keep-checkpoints`).
pub const KEPT_CHECKPOINTS_DIR: &str = "checkpoints";

/// The file name of the kept checkpoint of `step` in [`KEPT_CHECKPOINTS_DIR`].
pub fn kept_checkpoint_file(step: u64) -> String {
    format!("{step:012}.safetensors")
}

/// What the agent needs from the ML runtime, which this crate does not link.
#[derive(Clone, Copy)]
pub struct Runtime {
    /// The transcript's Merkle root (`aic_ml::transcript::root`).
    pub transcript_root: TranscriptRoot,
    /// Writes a model blob (a manifest or a package, as published) as a package directory.
    pub unpack_model: fn(bytes: &[u8], dir: &Path) -> Result<(), String>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

/// Where the agent keeps what it fetched and wrote under its directory.
fn models_dir(dir: &Path) -> PathBuf {
    dir.join("models")
}
