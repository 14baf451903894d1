//! Command-line definitions of the market: `aic provider`, `aic job`, `aic model publish`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use crate::cli::{NodeUrl, WalletFile};

/// Options of every command that sends a market transaction.
#[derive(Debug, Args)]
pub(crate) struct TxOpts {
    #[command(flatten)]
    pub(crate) wallet: WalletFile,
    #[command(flatten)]
    pub(crate) node: NodeUrl,
    /// Fee in AIC.
    #[arg(long, default_value = "0.0001")]
    pub(crate) fee: String,
    /// Wait until the transaction is in a block.
    #[arg(long)]
    pub(crate) wait: bool,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ProviderCommand {
    /// Register this machine as a provider on chain: stake AIC and publish a summary of its
    /// devices (class, count, memory, GFLOP/s) with the hash of their descriptors.
    #[command(after_help = "Examples:
  aic provider register --wallet prov.key --stake 20 --wait
  aic provider register --wallet prov.key --stake 20 --class cpu --memory-mib 4096 \\
      --endpoint http://203.0.113.5:7460")]
    Register {
        /// Stake in AIC (at least the network's minimum: 10 on devnet, 100 on mainnet).
        #[arg(long)]
        stake: String,
        /// Device class to offer: cpu or gpu (default: gpu if this machine has one).
        #[arg(long)]
        class: Option<String>,
        /// Memory of the largest device in MiB (default: detected).
        #[arg(long)]
        memory_mib: Option<u32>,
        /// Measured GFLOP/s of the fastest device (default: from `aic worker bench`, else 0).
        #[arg(long)]
        gflops: Option<u32>,
        /// Endpoint for direct data transfer.
        #[arg(long, default_value = "")]
        endpoint: String,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Show a provider's stake, devices and reputation.
    #[command(after_help = "Examples:
  aic provider status --wallet prov.key
  aic provider status daic1... --json")]
    Status {
        /// Address (default: the wallet's).
        address: Option<String>,
        #[command(flatten)]
        wallet: WalletFile,
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add AIC to the stake.
    #[command(after_help = "Example:\n  aic provider top-up --amount 50 --wallet prov.key --wait")]
    TopUp {
        /// Amount in AIC.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Start unbonding part of the stake (none while the provider has active jobs).
    #[command(after_help = "Example:\n  aic provider unstake --amount 20 --wallet prov.key")]
    Unstake {
        /// Amount in AIC.
        #[arg(long)]
        amount: String,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Move the unbonded stake back to the balance once the unbonding period is over.
    #[command(after_help = "Example:\n  aic provider withdraw --wallet prov.key")]
    Withdraw {
        #[command(flatten)]
        tx: TxOpts,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum JobCommand {
    /// Post a job: its budget goes into escrow until the job ends.
    #[command(after_help = "Examples:
  aic job post --wallet me.key --model 3f2a... --dataset 9c1b... --budget 20 --max-price 10 --wait
  aic job post --wallet me.key --model 3f2a... --dataset 9c1b... --param learning_rate=0.01 \\
      --param epochs=3 --budget 20 --max-price 10 --verifiers 1 --segments 2 --json")]
    Post {
        /// Model content id (from `aic model publish`).
        #[arg(long)]
        model: String,
        /// Dataset content id (from `aic data publish --wallet`).
        #[arg(long)]
        dataset: String,
        /// train, fine-tune, evaluate or infer.
        #[arg(long, default_value = "train")]
        kind: String,
        /// A hyperparameter as NAME=VALUE (repeat); checked against the model's schema.
        #[arg(long = "param")]
        params: Vec<String>,
        /// Budget in AIC, held in escrow.
        #[arg(long)]
        budget: String,
        /// Highest price in AIC.
        #[arg(long)]
        max_price: String,
        /// Device class: cpu or gpu.
        #[arg(long, default_value = "cpu")]
        class: String,
        /// Device memory needed, MiB.
        #[arg(long, default_value_t = 512)]
        memory_mib: u32,
        /// Blocks during which bids are taken.
        #[arg(long, default_value_t = 5)]
        bid_blocks: u32,
        /// Blocks from award to result.
        #[arg(long, default_value_t = 60)]
        deadline_blocks: u32,
        /// Verifiers drawn to replay the result (0: trust the provider).
        #[arg(long, default_value_t = 1)]
        verifiers: u8,
        /// Checkpoint segments each verifier replays.
        #[arg(long, default_value_t = 2)]
        segments: u8,
        /// Blocks during which verdicts are taken.
        #[arg(long, default_value_t = 5)]
        challenge_blocks: u32,
        /// Fee per standing verdict, AIC.
        #[arg(long, default_value = "0.1")]
        verifier_fee: String,
        /// Service tier (0: any registered provider).
        #[arg(long, default_value_t = 0)]
        tier: u8,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// List jobs on chain, newest first.
    #[command(after_help = "Examples:
  aic job list
  aic job list --status open --json")]
    List {
        /// Only jobs in this state (open, awarded, verifying, settled, ...).
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a job: its state, bids, award, result, verdicts and every payment.
    #[command(after_help = "Example:\n  aic job status 5d0e... --json")]
    Status {
        /// Job id.
        id: String,
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Cancel an open job (before its award); the escrow comes back.
    #[command(after_help = "Example:\n  aic job cancel 5d0e... --wallet me.key --wait")]
    Cancel {
        /// Job id.
        id: String,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Bid on an open job as a registered provider.
    #[command(after_help = "Example:\n  aic job bid 5d0e... --price 4.5 --wallet prov.key")]
    Bid {
        /// Job id.
        id: String,
        /// Price in AIC.
        #[arg(long)]
        price: String,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Post the result of a job awarded to this provider.
    #[command(after_help = "Example:
  aic job submit-result 5d0e... --result 77ab... --transcript-root 01cd... --segments 8 \\
      --metric accuracy=0.93 --wallet prov.key")]
    SubmitResult {
        /// Job id.
        id: String,
        /// BLAKE3 of the result: the result manifest's blob id (`docs/market.md`), which
        /// names the weights and the transcript's checkpoints.
        #[arg(long)]
        result: String,
        /// The training transcript's root.
        #[arg(long)]
        transcript_root: String,
        /// Checkpoint segments in the transcript.
        #[arg(long)]
        segments: u32,
        /// A metric as NAME=VALUE (repeat).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Give a drawn verifier's verdict on a job's result.
    #[command(after_help = "Examples:
  aic job verdict 5d0e... --pass --evidence 9a8b... --wallet verifier.key
  aic job verdict 5d0e... --fail --evidence 9a8b... --wallet verifier.key")]
    Verdict {
        /// Job id.
        id: String,
        /// The replayed segments matched.
        #[arg(long, conflicts_with = "fail", required_unless_present = "fail")]
        pass: bool,
        /// They did not.
        #[arg(long)]
        fail: bool,
        /// SHA-256 of the replay report (hex).
        #[arg(long)]
        evidence: String,
        #[command(flatten)]
        tx: TxOpts,
    },
    /// Download a job's trained weights from a node's blob store, through its result
    /// manifest; with --verify, check that the job settled, that the manifest is the one the
    /// chain committed to (BLAKE3), that its transcript is the committed one, and that the
    /// weights are the manifest's (BLAKE3).
    #[command(after_help = "Examples:
  aic job result 5d0e... --out weights.safetensors --verify
  aic job result 5d0e... --out weights.safetensors --manifest result.json --verify --json")]
    Result {
        /// Job id.
        id: String,
        /// Where to write the weights.
        #[arg(long)]
        out: PathBuf,
        /// Where to write the result manifest too.
        #[arg(long)]
        manifest: Option<PathBuf>,
        /// Check the BLAKE3 against the chain and that the job settled.
        #[arg(long)]
        verify: bool,
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `aic model publish`.
#[derive(Debug, Args)]
pub(crate) struct ModelPublishArgs {
    /// The package directory (`aicmodel.toml` and its weights).
    pub(crate) dir: PathBuf,
    /// Royalty in basis points of every job's price (at most 2000).
    #[arg(long, default_value_t = 500)]
    pub(crate) royalty_bps: u16,
    /// Also store the model (its package, or the manifest of an architecture to train) in
    /// the node's blob store under its id, with this cookie file of the node: market workers
    /// fetch it from there to train.
    #[arg(long, value_name = "FILE")]
    pub(crate) cookie: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) tx: TxOpts,
}
