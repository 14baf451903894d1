//! The on-chain market as JSON, under `/api/v1/market`.
//!
//! Market ids (jobs, models, datasets, results, transcript roots) are 64 hex digits in byte
//! order, as the blob store prints content ids. Amounts are integer base units. Fixed-point
//! values (hyperparameters, metrics) are integers scaled by 10^6.

use serde::{Deserialize, Serialize};

/// A provider's track record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reputation {
    /// Jobs settled with the provider paid.
    pub completed: u32,
    /// Results that failed verification.
    pub failed: u32,
    /// Deadlines missed.
    pub missed: u32,
    /// Verdicts that stood.
    pub verdicts: u32,
    /// Verdicts overturned.
    pub overturned: u32,
    /// Draws as a verifier without a verdict.
    pub silent: u32,
    /// The score tiers and award ties use.
    pub score: u64,
}

/// `GET /api/v1/market/providers/{address}`: a registered provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provider {
    /// Account address.
    pub address: String,
    /// Stake at risk, base units.
    pub stake_units: u64,
    /// Stake unbonding, base units.
    pub unbonding_units: u64,
    /// First height at which the unbonding stake can be withdrawn.
    pub release_height: u64,
    /// SHA-256 of the devices' standard descriptors (hex).
    pub devices: String,
    /// `cpu`, `gpu`, `fpga` or `asic`.
    pub device_class: String,
    /// Number of devices.
    pub device_count: u16,
    /// Memory of the largest device, MiB.
    pub memory_mib: u32,
    /// Throughput of the fastest device, GFLOP/s.
    pub gflops: u32,
    /// Endpoint for direct data transfer.
    pub endpoint: String,
    /// Height of registration.
    pub registered_height: u64,
    /// Jobs it works on or verifies now.
    pub active_jobs: u32,
    /// Track record.
    pub reputation: Reputation,
}

/// One hyperparameter of a model's schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParamSpec {
    /// Name.
    pub name: String,
    /// Least value (fixed point).
    pub min: i64,
    /// Most value (fixed point).
    pub max: i64,
    /// Whole numbers only.
    pub integer: bool,
}

/// `GET /api/v1/market/models/{id}`: a published model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    /// Content id (hex).
    pub id: String,
    /// Owner's address (receives the royalty).
    pub owner: String,
    /// Task label.
    pub task: String,
    /// Royalty, basis points of a job's price.
    pub royalty_bps: u16,
    /// Hyperparameter schema.
    pub params: Vec<ParamSpec>,
    /// Height of publication.
    pub published_height: u64,
    /// Jobs settled with it.
    pub jobs: u32,
}

/// `GET /api/v1/market/datasets/{id}`: a published dataset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    /// Content id (hex).
    pub id: String,
    /// Owner's address.
    pub owner: String,
    /// Task label.
    pub task: String,
    /// Royalty, basis points of a job's price.
    pub royalty_bps: u16,
    /// Size of the shards, bytes.
    pub bytes: u64,
    /// Height of publication.
    pub published_height: u64,
    /// Jobs settled with it.
    pub jobs: u32,
}

/// A named fixed-point value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedValue {
    /// Name.
    pub name: String,
    /// Value scaled by 10^6.
    pub value: i64,
}

/// A bid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bid {
    /// Provider's address.
    pub provider: String,
    /// Price, base units.
    pub price_units: u64,
    /// Height of the bid.
    pub height: u64,
}

/// The award of a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Award {
    /// Provider's address.
    pub provider: String,
    /// Price, base units.
    pub price_units: u64,
    /// Last height for the result.
    pub deadline_height: u64,
}

/// A posted result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobResult {
    /// Content id of the result (hex).
    pub result: String,
    /// Merkle root of the checkpoint hashes (hex).
    pub transcript_root: String,
    /// Checkpoint segments covered.
    pub segments: u32,
    /// The scorecard.
    pub metrics: Vec<NamedValue>,
}

/// A verdict.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// Verifier's address.
    pub verifier: String,
    /// Whether the replayed segments matched.
    pub pass: bool,
    /// SHA-256 of the replay report (hex).
    pub evidence: String,
    /// Round.
    pub round: u8,
}

/// The verification of a result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// 0, or 1 after an escalation.
    pub round: u8,
    /// Verifiers of the current round.
    pub verifiers: Vec<String>,
    /// Segments to replay.
    pub segments: Vec<u32>,
    /// Last height for verdicts.
    pub challenge_end_height: u64,
    /// Verdicts so far.
    pub verdicts: Vec<Verdict>,
}

/// One movement of value caused by a job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Recipient.
    pub to: String,
    /// Slashed account, absent when paid from the escrow.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub from: Option<String>,
    /// Amount, base units.
    pub amount_units: u64,
    /// `price`, `model-royalty`, `dataset-royalty`, `verifier-fee`, `refund`,
    /// `slash-to-consumer`, `slash-to-verifier` or `verifier-slash`.
    pub kind: String,
    /// Height.
    pub height: u64,
}

/// `GET /api/v1/market/jobs/{id}`: a job and its whole history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Job id (hex).
    pub id: String,
    /// Consumer's address.
    pub consumer: String,
    /// `open`, `awarded`, `verifying`, `settled`, `cancelled`, `no-bids`, `expired`, `failed`.
    pub status: String,
    /// `train`, `fine-tune`, `evaluate` or `infer`.
    pub kind: String,
    /// Model content id.
    pub model: String,
    /// Dataset content id.
    pub dataset: String,
    /// Hyperparameters.
    pub params: Vec<NamedValue>,
    /// Device class needed.
    pub device_class: String,
    /// Device memory needed, MiB.
    pub min_memory_mib: u32,
    /// Budget escrowed at posting, base units.
    pub budget_units: u64,
    /// Escrow left, base units.
    pub escrow_units: u64,
    /// Highest price accepted, base units.
    pub max_price_units: u64,
    /// Bid window, blocks.
    pub bid_blocks: u32,
    /// Time from award to result, blocks.
    pub deadline_blocks: u32,
    /// Verifiers in the first round.
    pub verifiers: u8,
    /// Segments each verifier replays.
    pub segments: u8,
    /// Challenge window, blocks.
    pub challenge_blocks: u32,
    /// Fee per standing verdict, base units.
    pub verifier_fee_units: u64,
    /// Service tier.
    pub tier: u8,
    /// Height of posting.
    pub posted_height: u64,
    /// Last height of the current bid window.
    pub window_end_height: u64,
    /// Times it reopened after a failed result.
    pub reopens: u8,
    /// Bids of the current window.
    pub bids: Vec<Bid>,
    /// Providers excluded after failed results.
    pub excluded: Vec<String>,
    /// The current award.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub award: Option<Award>,
    /// The current result.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub result: Option<JobResult>,
    /// The current verification.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub verification: Option<Verification>,
    /// Every movement of value, in order.
    pub payments: Vec<Payment>,
}

/// One model's place on a leaderboard: its best settled result for the board's metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderboardEntry {
    /// 1 for the best.
    pub rank: u32,
    /// Model content id (hex).
    pub model: String,
    /// The model owner's address.
    pub model_owner: String,
    /// The metric's best value among the model's settled jobs (fixed point).
    pub value: i64,
    /// The job that reached it (hex).
    pub job: String,
    /// Its kind: `train`, `fine-tune`, `evaluate` or `infer`.
    pub kind: String,
    /// The provider paid for it.
    pub provider: String,
    /// Its hyperparameters.
    pub params: Vec<NamedValue>,
    /// Its whole scorecard.
    pub metrics: Vec<NamedValue>,
    /// Height at which it settled.
    pub settled_height: u64,
    /// Settled jobs of this model on this board.
    pub runs: u32,
}

/// The models of one task scored on one dataset by one metric, best first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaderboard {
    /// Task label.
    pub task: String,
    /// Dataset content id (hex).
    pub dataset: String,
    /// Metric name.
    pub metric: String,
    /// Whether a higher value ranks first (false for losses, errors and times).
    pub higher_is_better: bool,
    /// Settled jobs that reported the metric.
    pub jobs: u32,
    /// One entry per model, best first.
    pub entries: Vec<LeaderboardEntry>,
}

/// `GET /api/v1/market/leaderboard`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leaderboards {
    /// By task, dataset, then the most reported metric first.
    pub boards: Vec<Leaderboard>,
}
