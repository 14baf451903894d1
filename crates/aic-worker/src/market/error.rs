//! Why a step of the market agent failed. A failure is reported and the step is tried again at
//! the next poll, except where the chain refused it (then the agent records the refusal).

use std::path::PathBuf;

use crate::agent::QueueError;
use crate::provider::IdentityError;
use crate::sandbox::SandboxError;

/// A failed step of the market agent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MarketError {
    /// The node could not be reached, or answered what is not the API's JSON.
    #[error("node {url}: {message}")]
    Node {
        /// What was asked.
        url: String,
        /// Why it failed.
        message: String,
    },
    /// The node refused a request with its rule (`{code, message}`).
    #[error("node refused ({code}): {message}")]
    Refused {
        /// The rule.
        code: String,
        /// Its explanation.
        message: String,
    },
    /// The wallet's address is not a registered provider (`aic provider register`).
    #[error("{0} is not a registered provider: register it with `aic provider register`")]
    NotRegistered(String),
    /// The node has no blob with this id.
    #[error("blob {0} is not in the node's blob store")]
    BlobMissing(String),
    /// The node served bytes that are not the blob asked for.
    #[error("blob {id}: the node served bytes with BLAKE3 {got}")]
    BlobMismatch {
        /// The id asked for.
        id: String,
        /// The BLAKE3 of what came.
        got: String,
    },
    /// Blob uploads need the node's cookie (`[market] cookie`).
    #[error("uploading to the node's blob store needs its cookie ([market] cookie)")]
    NoCookie,
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The agent's state file is not what it wrote.
    #[error("the market state {path}: {message}")]
    State {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The wallet could not be loaded.
    #[error("the market wallet: {0}")]
    Wallet(#[from] IdentityError),
    /// The job queue refused.
    #[error("the job queue: {0}")]
    Queue(#[from] QueueError),
    /// A replay could not be started in the sandbox.
    #[error("the sandbox: {0}")]
    Sandbox(#[from] SandboxError),
    /// The job's model could not be made into a package directory.
    #[error("model {id}: {message}")]
    Model {
        /// The model id.
        id: String,
        /// Why.
        message: String,
    },
    /// A trained job's outputs are not what the runner leaves.
    #[error("job {job}: its outputs: {message}")]
    Outputs {
        /// The job.
        job: String,
        /// What is missing or wrong.
        message: String,
    },
    /// A job record of the chain that the agent cannot act on.
    #[error("job {job}: {message}")]
    Job {
        /// The job.
        job: String,
        /// What is wrong.
        message: String,
    },
    /// The agent's thread could not start.
    #[error("starting the market agent: {0}")]
    Thread(std::io::Error),
}

/// Maps an IO error on `path`.
pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> MarketError + '_ {
    move |source| MarketError::Io {
        path: path.to_path_buf(),
        source,
    }
}
