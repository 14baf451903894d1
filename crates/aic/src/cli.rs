//! Command-line definitions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// AIC: a proof-of-work chain whose token pays for deep-learning work on pooled mining hardware.
#[derive(Debug, Parser)]
#[command(name = "aic", version, propagate_version = true)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run a node: the chain, the HTTP API (REST and JSON-RPC) and optionally a CPU miner.
    #[command(after_help = "Examples:
  aic node --network devnet --data-dir ./node --mine daic1...
  aic node --network devnet --stratum-addr 127.0.0.1:3333   # a pool for any SHA-256d miner
  aic node --config node.toml
  aic node --network testnet --api-addr 127.0.0.1:8450 --rpc-user me --rpc-password secret
  aic node --network devnet --data-dir ./b --api-addr 127.0.0.1:7460 \\
      --listen /ip4/127.0.0.1/tcp/7461 --bootnode /ip4/127.0.0.1/tcp/7451/p2p/12D3KooW...
  aic node --network devnet --no-p2p                       # a node alone
The node joins the peer-to-peer network unless --no-p2p; `aic net` shows and steers it.")]
    Node(NodeArgs),
    /// Create a key, show its address and balance, send AIC.
    #[command(subcommand)]
    Wallet(WalletCommand),
    /// Mine through a Stratum v1 pool (such as `aic node --stratum-addr`), or benchmark kernels.
    #[command(after_help = "Examples:
  aic miner --pool stratum+tcp://127.0.0.1:3333 --user daic1....rig1
  aic miner --pool stratum+tcp://a:3333 --pool stratum+tcp://b:3333 --user daic1... --threads 2
  aic miner bench                      # every kernel, 1..cores threads, as a table
  aic miner bench --threads 1 --json   # one thread, for scripts
  aic miner tune                       # measure and keep the best kernel, threads and batch")]
    Miner(MinerArgs),
    /// Start a fresh local devnet: a node, a CPU miner paying a new wallet, demo transfers.
    #[command(after_help = "Examples:
  aic devnet                               # mine until Ctrl-C, in a new temporary data dir
  aic devnet --blocks 30 --exit            # mine 30 blocks, then exit (for scripts)
  aic devnet --data-dir ./devnet --json    # one JSON object per event
  aic devnet --blocks 30 --exit --ai-demo  # plus digitize, publish, train streamed from the node
  aic devnet --demo                        # the market: a job bid, trained, verified, settled
  aic devnet --demo --exit --json          # the same for scripts, ending when it settles
  aic devnet --nodes 5 --miners 2          # five nodes on loopback, two of them mining")]
    Devnet(DevnetArgs),
    /// Write, check, pack and inspect standard model packages (`aicmodel.toml` + weights).
    #[command(subcommand)]
    Model(ModelCommand),
    /// Digitize raw corpora into content-addressed shard sets; inspect and verify them.
    #[command(subcommand)]
    Data(DataCommand),
    /// The worker agent: this machine's devices, their benchmarks, live monitoring.
    #[command(subcommand)]
    Worker(WorkerCommand),
    /// The market as a provider: register with a stake, top up, unstake, withdraw, status.
    #[command(subcommand)]
    Provider(crate::cli_market::ProviderCommand),
    /// The market's jobs: post with escrow, list, status, cancel, bid, submit a result, give a
    /// verdict, download and verify a result.
    #[command(subcommand)]
    Job(crate::cli_market::JobCommand),
    /// The node's peer-to-peer network: status and peers; block, unblock or dial a peer.
    #[command(subcommand)]
    Net(crate::net::NetCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum WorkerCommand {
    /// List this machine's devices in the standard descriptor form (and, with --node, the
    /// mining-only devices attached to that node's Stratum server).
    #[command(after_help = "Examples:
  aic worker devices
  aic worker devices --json
  aic worker devices --node http://127.0.0.1:7450   # plus ASICs/FPGAs seen through Stratum")]
    Devices {
        /// A node whose Stratum workers to describe too.
        #[arg(long)]
        node: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure the CPU's scores: SHA-256d hash rate, f32 matrix-multiply GFLOP/s, memory
    /// bandwidth; prints the descriptor with them.
    #[command(after_help = "Examples:
  aic worker bench
  aic worker bench --seconds 1 --threads 1 --json")]
    Bench {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Threads (default: every CPU this process may use).
        #[arg(long)]
        threads: Option<usize>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the worker: mine through a Stratum pool on the CPU, hand the device to AI jobs
    /// in milliseconds and back (the switcher, by the owner's policy), sample every device
    /// each second, and serve /metrics, /api/v1/worker/status, /api/v1/worker/switcher and
    /// the pause/resume controls until Ctrl-C. Without a pool it only monitors (or, with
    /// --job-socket, takes AI jobs and idles between them).
    #[command(after_help = "Examples:
  aic worker run                                     # monitor only
  aic worker run --pool stratum+tcp://127.0.0.1:3333 --user daic1...rig1 --switching \
      --job-socket /tmp/aic-worker.sock
  aic worker run --config worker.toml               # [switcher], [mining], [jobs]: docs/worker.md
  aic worker run --jobs jobs --node http://127.0.0.1:7450   # queue, announce, report
  aic worker run --market --config worker.toml      # [market]: bid, train, publish, verify
  aic worker pause; aic worker resume
  curl -s http://127.0.0.1:7460/api/v1/worker/switcher")]
    Run {
        /// Address of the worker's status, metrics and control endpoints.
        #[arg(long, default_value = "127.0.0.1:7460")]
        listen: std::net::SocketAddr,
        /// Stop after this many seconds (default: run until Ctrl-C).
        #[arg(long)]
        seconds: Option<u64>,
        /// The worker's config file (TOML: [switcher], [mining], [jobs], [market]); flags win.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Stratum pool to mine through (repeat for failover), such as `aic node
        /// --stratum-addr`.
        #[arg(long = "pool")]
        pools: Vec<String>,
        /// Pool user: the payout address, optionally `.worker`.
        #[arg(long)]
        user: Option<String>,
        /// Mining threads (default: every CPU).
        #[arg(long)]
        threads: Option<usize>,
        /// Switch on (the owner opts in): mine when there is no AI work, take AI jobs above
        /// the price floor.
        #[arg(long)]
        switching: bool,
        /// Take AI work paying at least this many AIC an hour (with --switching).
        #[arg(long)]
        price_floor: Option<f64>,
        /// Do not pause for other processes' load on the device.
        #[arg(long)]
        no_owner_activity: bool,
        /// Listen for AI jobs on this Unix socket (`aic model train --job-socket`); default
        /// with --jobs: DIR/worker.sock.
        #[arg(long)]
        job_socket: Option<PathBuf>,
        /// Run the local job queue in DIR (`aic worker submit`): each job sandboxed, offered
        /// to the switcher, preempted with notice and resumed; outcomes in DIR/done, failed.
        #[arg(long, value_name = "DIR")]
        jobs: Option<PathBuf>,
        /// Announce this worker and its devices to this node (signed, every heartbeat) and
        /// report each job's outcome there.
        #[arg(long, value_name = "URL")]
        node: Option<String>,
        /// The worker's directory: its identity key (provider.key, mode 0600).
        #[arg(long, default_value_os_t = default_miner_dir().join("worker"))]
        data_dir: PathBuf,
        /// The network of the worker's identity: mainnet, testnet or devnet.
        #[arg(long, default_value = "devnet")]
        network: String,
        /// Run the market agent of the config's [market] section: bid on open jobs this
        /// worker's registered devices fit, train the ones awarded to it, publish their
        /// results, replay drawn segments and give verdicts (needs --jobs or [jobs] dir).
        #[arg(long)]
        market: bool,
        /// At the end, print a summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Queue a training job for a worker's local job queue (`aic worker run --jobs DIR`).
    #[command(after_help = "Examples:
  aic worker submit --jobs jobs --id kws-1 --model kws --data fsdd-q8 --price 0.5
  aic worker submit --jobs jobs --id kws-2 --model kws --data 6ebf10... \
      --source http://127.0.0.1:7450 --set epochs=5 --memory-mib 2048
  aic worker preempt kws-1      # checkpoint, queue again, resume")]
    Submit {
        /// The queue's directory.
        #[arg(long, value_name = "DIR")]
        jobs: PathBuf,
        /// The job's id (1-64 of A-Z a-z 0-9 . _ -).
        #[arg(long)]
        id: String,
        /// The model package directory to train.
        #[arg(long)]
        model: PathBuf,
        /// A digitized data set directory, or with --source a data set id.
        #[arg(long)]
        data: String,
        /// Node to stream the data set from (repeatable).
        #[arg(long = "source")]
        sources: Vec<String>,
        /// What the job pays, AIC an hour (the owner's price floor decides).
        #[arg(long, default_value_t = 1.0)]
        price: f64,
        /// A job parameter, NAME=VALUE (repeatable).
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Memory limit of the job, MiB.
        #[arg(long)]
        memory_mib: Option<u64>,
    },
    /// Preempt a worker's running job: it checkpoints (SIGTERM, a grace period), goes back to
    /// the queue and resumes from its checkpoint.
    #[command(after_help = "Examples:
  aic worker preempt kws-1
  aic worker preempt kws-1 --worker http://127.0.0.1:7460")]
    Preempt {
        /// The job's id.
        id: String,
        /// The worker's base URL.
        #[arg(long, default_value = "http://127.0.0.1:7460")]
        worker: String,
    },
    /// Pause a running worker's device: mining stops, a running AI job is told to hold.
    #[command(after_help = "Examples:
  aic worker pause
  aic worker pause --worker http://127.0.0.1:7460")]
    Pause {
        /// The worker's base URL.
        #[arg(long, default_value = "http://127.0.0.1:7460")]
        worker: String,
    },
    /// Resume a worker paused with `aic worker pause`.
    #[command(after_help = "Examples:
  aic worker resume
  aic worker resume --worker http://127.0.0.1:7460")]
    Resume {
        /// The worker's base URL.
        #[arg(long, default_value = "http://127.0.0.1:7460")]
        worker: String,
    },
    /// Show a running worker's devices live: task, utilization, memory, temperature, power.
    #[command(after_help = "Examples:
  aic worker status                                 # redraws every second until Ctrl-C
  aic worker status --once
  aic worker status --worker http://127.0.0.1:7460 --json --once")]
    Status {
        /// The worker's base URL.
        #[arg(long, default_value = "http://127.0.0.1:7460")]
        worker: String,
        /// Print once and exit.
        #[arg(long)]
        once: bool,
        /// Print the status JSON (one object per refresh).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// TOML file with the same keys as these flags (flags win).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// mainnet, testnet or devnet.
    #[arg(long)]
    pub(crate) network: Option<String>,
    /// Data directory.
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// HTTP API listen address (REST and JSON-RPC).
    #[arg(long)]
    pub(crate) api_addr: Option<SocketAddr>,
    /// Serve Stratum v1 for mining hardware on this address (e.g. 127.0.0.1:3333).
    #[arg(long)]
    pub(crate) stratum_addr: Option<SocketAddr>,
    /// Run the built-in CPU miner paying ADDRESS.
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) mine: Option<String>,
    /// Miner threads (0: one per core).
    #[arg(long)]
    pub(crate) miner_threads: Option<usize>,
    /// Address paid by getblocktemplate templates (defaults to --mine).
    #[arg(long, value_name = "ADDRESS")]
    pub(crate) payout_address: Option<String>,
    /// JSON-RPC user (default: a random cookie in DATA_DIR/.cookie).
    #[arg(long)]
    pub(crate) rpc_user: Option<String>,
    /// JSON-RPC password.
    #[arg(long)]
    pub(crate) rpc_password: Option<String>,
    /// Join the peer-to-peer network (the default without --config; with one, its
    /// `[p2p] enabled` decides unless this or --no-p2p is given).
    #[arg(long, conflicts_with = "no_p2p")]
    pub(crate) p2p: bool,
    /// Run without the peer-to-peer network: a node alone.
    #[arg(long)]
    pub(crate) no_p2p: bool,
    /// Network listen multiaddr (repeatable; default /ip4/0.0.0.0/tcp/7451).
    #[arg(long, value_name = "MULTIADDR")]
    pub(crate) listen: Vec<String>,
    /// A peer to dial at start and whenever none is left, `/ip4/H/tcp/P/p2p/ID` (repeatable).
    #[arg(long, value_name = "MULTIADDR")]
    pub(crate) bootnode: Vec<String>,
    /// Do not look for peers on the local network by mDNS.
    #[arg(long)]
    pub(crate) no_mdns: bool,
    /// Most established peer connections.
    #[arg(long)]
    pub(crate) max_peers: Option<u32>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum WalletCommand {
    /// Create a new key file (mode 0600).
    #[command(after_help = "Example:\n  aic wallet new --network devnet --wallet alice.key")]
    New {
        /// mainnet, testnet or devnet.
        #[arg(long, default_value = "mainnet")]
        network: String,
        #[command(flatten)]
        wallet: WalletFile,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the wallet's address.
    #[command(after_help = "Example:\n  aic wallet address --wallet alice.key")]
    Address {
        #[command(flatten)]
        wallet: WalletFile,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show a balance, asking a node.
    #[command(
        after_help = "Examples:\n  aic wallet balance --wallet alice.key\n  aic wallet balance --address daic1... --node http://127.0.0.1:7450 --json"
    )]
    Balance {
        #[command(flatten)]
        wallet: WalletFile,
        /// An address to look up instead of the wallet's.
        #[arg(long)]
        address: Option<String>,
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Sign a transfer and submit it to a node.
    #[command(
        after_help = "Examples:\n  aic wallet send --wallet alice.key --to daic1... --amount 2.5\n  aic wallet send --wallet alice.key --to daic1... --amount 1 --fee 0.0001 --wait --json"
    )]
    Send {
        #[command(flatten)]
        wallet: WalletFile,
        /// Recipient address.
        #[arg(long)]
        to: String,
        /// Amount in AIC (up to 8 decimals).
        #[arg(long)]
        amount: String,
        /// Fee in AIC.
        #[arg(long, default_value = "0.00001")]
        fee: String,
        /// Wait until the transfer is in a block.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        node: NodeUrl,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct WalletFile {
    /// Key file.
    #[arg(long, default_value = "wallet.key", env = "AIC_WALLET")]
    pub(crate) wallet: PathBuf,
}

#[derive(Debug, Args)]
pub(crate) struct NodeUrl {
    /// Node API base URL.
    #[arg(long, default_value = "http://127.0.0.1:7450", env = "AIC_NODE")]
    pub(crate) node: String,
}

#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// Data directory (default: a new directory under the system's temporary directory).
    #[arg(long)]
    pub(crate) data_dir: Option<PathBuf>,
    /// Mine this many blocks, then stop mining.
    #[arg(long)]
    pub(crate) blocks: Option<u64>,
    /// Exit once --blocks are mined, or with --demo once the demo ends (instead of serving
    /// the API on).
    #[arg(long)]
    pub(crate) exit: bool,
    /// HTTP API listen address.
    #[arg(long, default_value = "127.0.0.1:7450")]
    pub(crate) api_addr: SocketAddr,
    /// Miner threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Do not send demo transfers.
    #[arg(long)]
    pub(crate) no_transfers: bool,
    /// Also run the AI demo on the embedded FSDD sample: digitize, publish to the node's blob
    /// store, train a small keyword model on shards streamed from the node through a worker
    /// cache, then show a second job moving no bytes. With --exit, the
    /// devnet exits when both the blocks and the demo are done.
    #[arg(long)]
    pub(crate) ai_demo: bool,
    /// Run the market demo: a Stratum pool on the node, two workers (a provider and a
    /// verifier) mining through it, a model owner publishing the keyword model and the
    /// embedded FSDD sample, a consumer posting a training job; the job is bid, awarded,
    /// trained, verified and settled, the consumer scores the weights, and every balance
    /// movement is explained. The devnet's miner mines on (one thread unless --threads).
    #[arg(long, conflicts_with_all = ["ai_demo", "blocks", "nodes", "miners"])]
    pub(crate) demo: bool,
    /// Run this many nodes joined over loopback (node-0 .. node-N-1 in the data dir; node 0
    /// serves --api-addr, the others free ports); 1 is a node alone, without the network.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) nodes: u16,
    /// How many of the nodes mine (the first ones), with --nodes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub(crate) miners: u16,
    /// One JSON object per line instead of text.
    #[arg(long)]
    pub(crate) json: bool,
}

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct MinerArgs {
    #[command(subcommand)]
    pub(crate) command: Option<MinerCommand>,
    /// Pool URL, `stratum+tcp://HOST:PORT`; repeat for failover, in order of preference.
    #[arg(long)]
    pub(crate) pool: Vec<String>,
    /// User name: the payout address, optionally `.worker`.
    #[arg(long)]
    pub(crate) user: Option<String>,
    /// Search threads (0: one per core).
    #[arg(long, default_value_t = 0)]
    pub(crate) threads: usize,
    /// Kernel name (default: the tuned profile's, else the fastest this CPU runs).
    #[arg(long)]
    pub(crate) kernel: Option<String>,
    /// Where `aic miner tune` keeps its profile.
    #[arg(long, default_value_os_t = default_miner_dir(), global = true)]
    pub(crate) data_dir: std::path::PathBuf,
    /// One JSON object per event.
    #[arg(long)]
    pub(crate) json: bool,
}

/// `$HOME/.aic`, or `.aic` without a home directory.
fn default_miner_dir() -> std::path::PathBuf {
    std::env::var_os("HOME")
        .map(|h| std::path::PathBuf::from(h).join(".aic"))
        .unwrap_or_else(|| std::path::PathBuf::from(".aic"))
}

#[derive(Debug, Subcommand)]
pub(crate) enum MinerCommand {
    /// Hashes per second of every kernel at each thread count, and per CPU-second.
    Bench {
        /// Seconds per measurement.
        #[arg(long, default_value_t = 3.0)]
        seconds: f64,
        /// Thread counts to measure (default: 1 to the number of cores).
        #[arg(long, value_delimiter = ',')]
        threads: Vec<usize>,
        /// Only this kernel.
        #[arg(long)]
        kernel: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure kernel, threads and batch size, and keep the best in the data directory
    /// (re-run when the CPU or the build changes; `aic miner` then uses it).
    Tune {
        /// Seconds per trial.
        #[arg(long, default_value_t = 1.0)]
        seconds: f64,
        /// Try every combination instead of the guided search.
        #[arg(long)]
        grid: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Publish a package on chain by its content id, with its task, hyperparameter schema and
    /// the owner's royalty, so jobs can name it.
    #[command(after_help = "Examples:
  aic model publish kws --wallet owner.key --royalty-bps 500 --wait
  aic model publish kws --wallet owner.key --cookie node/.cookie --wait   # workers fetch it
  aic model publish kws --wallet owner.key --node http://127.0.0.1:7450 --json")]
    Publish(crate::cli_market::ModelPublishArgs),
    /// Write a valid manifest (`aicmodel.toml`) and model card (`README.md`) for a task.
    #[command(after_help = "Examples:
  aic model init --task keyword-spotting --dir kws     # kws-dscnn on 40 log-mel bands (FSDD)
  aic model init --task text-matching --dir qa         # text-match-cnn on token ids (WikiQA)
  aic model init --task classification --name my-mlp   # a plain MLP, in the current directory")]
    Init {
        /// keyword-spotting, text-matching or classification.
        #[arg(long)]
        task: String,
        /// Directory to write into (created if missing).
        #[arg(long, default_value = ".")]
        dir: PathBuf,
        /// Model name (default: the template's).
        #[arg(long)]
        name: Option<String>,
        /// Replace existing files.
        #[arg(long)]
        force: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check a manifest against every rule of the standard (and the weights, when present);
    /// prints each broken rule as `path: rule: message` and exits 1 if any.
    #[command(after_help = "Examples:
  aic model check                  # ./aicmodel.toml (and ./weights.safetensors if there)
  aic model check kws/aicmodel.toml
  aic model check kws --json       # {\"ok\": false, \"errors\": [{\"path\", \"rule\", \"message\"}]}")]
    Check {
        /// A package directory or a manifest file.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Pack a directory into a reproducible archive named by its BLAKE3 (same files, same bytes).
    #[command(after_help = "Examples:
  aic model pack kws --update-weights   # set weights.blake3/size/tensors from the file, then pack
  aic model pack kws --out kws.aicpkg --json")]
    Pack {
        /// Directory holding aicmodel.toml, weights.safetensors, and optionally README.md and
        /// vocab.txt.
        #[arg(default_value = ".")]
        dir: PathBuf,
        /// Output file (default: NAME-VERSION.aicpkg in the current directory).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Rewrite aicmodel.toml's [weights] from weights.safetensors before packing.
        #[arg(long)]
        update_weights: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Verify a package and write its files into a directory.
    #[command(
        after_help = "Example:\n  aic model unpack kws-dscnn-fsdd-0.1.0.aicpkg --dir out --id 3f1c..."
    )]
    Unpack {
        /// The package file.
        package: PathBuf,
        /// Directory to write into (created if missing).
        #[arg(long)]
        dir: PathBuf,
        /// Refuse the package unless its id is this.
        #[arg(long)]
        id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Summarize a package (verifying it) or a manifest.
    #[command(after_help = "Examples:
  aic model info kws-dscnn-fsdd-0.1.0.aicpkg
  aic model info kws --json        # a directory or aicmodel.toml: the manifest only
  aic model info pkg.aicpkg --id 3f1c...   # refuse unless the package has this id")]
    Info {
        /// A package file, a package directory or a manifest file.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Refuse a package unless its id is this.
        #[arg(long)]
        id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Train a package directory's model on a corpus; writes weights.safetensors, fills the
    /// manifest's [weights], and writes transcript.json and scorecards.json beside them.
    #[command(after_help = "Examples:
  aic model init --task keyword-spotting --dir kws
  aic model train kws --data ../shared/datasets/fsdd/recordings
  aic model train kws --data fsdd/recordings --set epochs=5 --set channels=32 --json
  aic model init --task text-matching --dir qa
  aic model train qa --data ../shared/datasets/wikiqa   # train/ and dev/ inside
  aic data digitize ../shared/datasets/fsdd --out fsdd-q8   # log-mel shards, once
  aic model train kws --data fsdd-q8                        # streams the training split
  aic model train kws --data 6ebf10... --source http://127.0.0.1:7450   # shards fetched as used
  aic model train kws --data fsdd-q8 --job-socket /run/aic/worker.sock --job-id kws-1
  aic model train kws --data fsdd-q8 --state-dir kws.state   # SIGTERM: checkpoint, exit 75
  aic model train kws --data fsdd-q8 --state-dir kws.state   # again: resumes there
  aic model train kws --data fsdd-q8 --state-dir st --keep-checkpoints --set checkpoint_every=4")]
    Train {
        /// Package directory (aicmodel.toml).
        dir: PathBuf,
        /// The corpus: an FSDD recordings folder or a data set digitized from one (keyword
        /// spotting), a WikiQA folder with train/ and dev/ (text matching); with --source, a
        /// data set id.
        #[arg(long)]
        data: PathBuf,
        /// Train on the digitized data set whose id --data gives, from this node's API (repeat
        /// for more): its shards go through the machine's cache, fetched as training reaches
        /// them, so the first step does not wait for the whole set (keyword spotting).
        #[arg(long = "source")]
        sources: Vec<String>,
        /// The cache directory shared by all jobs on this machine (default: ~/.cache/aic/blobs);
        /// only with --source.
        #[arg(long, requires = "sources")]
        cache: Option<PathBuf>,
        /// Byte budget of the cache in MiB; only with --source.
        #[arg(long, default_value_t = 10240)]
        budget_mib: u64,
        /// Run as an AI job of a worker (`docs/switcher.md`): ask the worker's switcher for the
        /// device on this Unix socket before training (mining yields), give it back between
        /// steps while the worker says hold, and say when training ends.
        #[arg(long, requires = "job_id")]
        job_socket: Option<PathBuf>,
        /// The job's id at the worker (offered and accepted there).
        #[arg(long, requires = "job_socket")]
        job_id: Option<String>,
        /// Make the job preemptible: checkpoints go into this directory, SIGTERM or Ctrl-C stop
        /// training at the next step with a checkpoint there (exit status 75), and the same
        /// command run again resumes from it, ending with the same weights and transcript as
        /// an uninterrupted run.
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
        /// Keep every checkpoint of the transcript (the grid's and the final one) as
        /// STATE_DIR/checkpoints/STEP.safetensors, as a market provider publishes them.
        #[arg(long, requires = "state_dir")]
        keep_checkpoints: bool,
        /// A job parameter, NAME=VALUE (repeatable); checked against the manifest.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// One JSON object per event on stdout instead of a progress line.
        #[arg(long)]
        json: bool,
    },
    /// Re-execute one segment of a training transcript, as a market verifier does: from a
    /// checkpoint to the next checkpoint of the job's grid (or the run's end); prints the
    /// replayed checkpoint's id (BLAKE3), to compare with the transcript's next entry.
    #[command(after_help = "Examples:
  aic model replay kws --data fsdd-q8 --from st/checkpoints/000000000004.safetensors \
      --set checkpoint_every=4 --set epochs=2
  aic model replay kws --data 6ebf10... --source http://127.0.0.1:7450 --from c.safetensors --json
The package, data and parameters must be the job's: a replay of another job never matches.")]
    Replay {
        /// Package directory (aicmodel.toml).
        dir: PathBuf,
        /// The corpus, as for `aic model train` (with --source, a data set id).
        #[arg(long)]
        data: PathBuf,
        /// Node to stream the data set from (repeatable).
        #[arg(long = "source")]
        sources: Vec<String>,
        /// The cache directory (default: ~/.cache/aic/blobs); only with --source.
        #[arg(long, requires = "sources")]
        cache: Option<PathBuf>,
        /// Byte budget of the cache in MiB; only with --source.
        #[arg(long, default_value_t = 10240)]
        budget_mib: u64,
        /// The checkpoint the segment starts from (a transcript checkpoint file).
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// A job parameter, NAME=VALUE (repeatable), as the job was trained with.
        #[arg(long = "set", value_name = "NAME=VALUE")]
        set: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Score a trained model on one split of its corpus with the task's standard metrics;
    /// prints them and writes a scorecard (JSON) naming the model id (package or weights
    /// BLAKE3), the data set id, the split, the runtime and the CPU kernel family.
    #[command(after_help = "Examples:
  aic model eval kws --data ../shared/datasets/fsdd/recordings              # test split
  aic model eval kws-dscnn-fsdd-0.1.0.aicpkg --data fsdd/recordings --split valid --out card.json
  aic model eval qa --data ../shared/datasets/wikiqa --split dev --json     # wikiqa/dev/
Splits: keyword spotting test|valid|train (FSDD indices 0-4, 5-9, 10-49); text matching
test|dev|train (a folder of that name under --data). Two scorecards with the same dataset_id and
split compare.")]
    Eval {
        /// A package file (verified whole), a package directory or its aicmodel.toml (the
        /// weights must hash to the manifest's weights.blake3).
        path: PathBuf,
        /// The corpus: an FSDD recordings folder or a WikiQA folder.
        #[arg(long)]
        data: PathBuf,
        /// Split to score.
        #[arg(long, default_value = "test")]
        split: String,
        /// Refuse a package unless its id is this.
        #[arg(long)]
        id: Option<String>,
        /// Write the scorecard (pretty JSON) to this file.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print the scorecard as one JSON object instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run a model: keyword spotting on WAV files (featurized as in training), text matching on
    /// a question and candidate sentences, or any model on an Open Inference Protocol request.
    #[command(after_help = "Examples:
  aic model infer kws clip1.wav clip2.wav            # label and top probabilities per clip
  aic model infer kws.aicpkg 7_theo_3.wav --json     # {file, label, probabilities} per clip
  aic model infer qa --question \"how tall is the eiffel tower\" --candidates sentences.txt
  aic model infer mlp-onnx --request request.json    # OIP v2 request in, response out
A request file is the body of POST /v2/models/NAME/infer, e.g.
  {\"inputs\": [{\"name\": \"features\", \"shape\": [1, 64], \"datatype\": \"FP32\", \"data\": [...]}]}")]
    Infer {
        /// A package file, a package directory or its aicmodel.toml.
        path: PathBuf,
        /// WAV files (keyword spotting).
        files: Vec<PathBuf>,
        /// The question (text matching).
        #[arg(long)]
        question: Option<String>,
        /// A file of candidate sentences, one per line (text matching).
        #[arg(long, value_name = "FILE")]
        candidates: Option<PathBuf>,
        /// An Open Inference Protocol v2 request (JSON); prints the response.
        #[arg(long, value_name = "REQUEST.json", conflicts_with_all = ["files", "question", "candidates"])]
        request: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Serve models over the Open Inference Protocol v2 (KServe v2 REST): health, server and
    /// model metadata, and inference on the blocking thread pool.
    #[command(after_help = "Examples:
  aic model serve kws                                  # http://127.0.0.1:8000
  aic model serve kws.aicpkg qa --listen 0.0.0.0:9000  # several models, by manifest name
  curl -s localhost:8000/v2/models/kws-dscnn-fsdd      # metadata from the manifest
  curl -s -X POST localhost:8000/v2/models/kws-dscnn-fsdd/infer -d @request.json
ONNX models (runtime.engine = \"onnx\") need a binary built with `--features onnx`.")]
    Serve {
        /// Package files or directories; each model is served under its manifest's name.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        listen: SocketAddr,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum DataCommand {
    /// Featurize a raw corpus once into shards of exactly the numbers a model consumes:
    /// WAV folders (FSDD naming gives the label and split) to log-mel frames, WikiQA
    /// (`train/`, `dev/`) to token ids. Bad records are reported and skipped.
    #[command(after_help = "Examples:
  aic data digitize ../shared/datasets/fsdd --out fsdd-q8                 # log-mel, 8-bit
  aic data digitize ../shared/datasets/fsdd --out fsdd-f16 --encoding f16
  aic data digitize ../shared/datasets/wikiqa --out wikiqa --model qa     # the model's tokenizer
  aic data digitize recordings --out d --model kws --json                 # kws/aicmodel.toml's log-mel")]
    Digitize {
        /// The raw corpus: a folder of WAVs (or one holding `recordings/`), or a WikiQA folder.
        src: PathBuf,
        /// Output directory (manifest.json, shards/, blobs/).
        #[arg(long)]
        out: PathBuf,
        /// speech or text (default: detected from the folder).
        #[arg(long)]
        kind: Option<String>,
        /// A model package directory or aicmodel.toml whose featurizer to use (default: the
        /// template's: 8 kHz log-mel with 40 bands, or the text-matching tokenizer).
        #[arg(long)]
        model: Option<PathBuf>,
        /// Storage of real-valued features: f32, f16 or q8 (8-bit with the scale kept).
        #[arg(long, default_value = "q8")]
        encoding: String,
        /// Target shard size in KiB before compression (default: 1024, chosen by measurement;
        /// see docs/data-format.md).
        #[arg(long)]
        shard_kib: Option<usize>,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Put a digitized data set into a node's blob store (shards, vocabulary, then the
    /// manifest, whose BLAKE3 is the data set id); blobs the node has are skipped.
    #[command(after_help = "Examples:
  aic data publish fsdd-q8 --cookie /tmp/aic-devnet-.../.cookie
  aic data publish fsdd-q8 --node http://10.0.0.5:7450 --rpc-user u --rpc-password p --json
  aic data publish fsdd-q8 --cookie DATA_DIR/.cookie --task keyword-spotting --royalty-bps 200 \
      --wallet owner.key --wait                 # and on chain, so jobs can name it")]
    Publish {
        /// The data set directory.
        dir: PathBuf,
        /// The node's API.
        #[arg(long, default_value = "http://127.0.0.1:7450")]
        node: String,
        /// The node's JSON-RPC cookie file (uploads need the node's credentials).
        #[arg(long)]
        cookie: Option<PathBuf>,
        /// JSON-RPC user (instead of --cookie).
        #[arg(long, requires = "rpc_password")]
        rpc_user: Option<String>,
        /// JSON-RPC password.
        #[arg(long, env = "AIC_RPC_PASSWORD")]
        rpc_password: Option<String>,
        /// Also publish the data set on chain for this task (e.g. keyword-spotting), so jobs
        /// can name it; signed with --wallet.
        #[arg(long)]
        task: Option<String>,
        /// Royalty on chain, basis points of every job's price (with --task).
        #[arg(long, default_value_t = 0)]
        royalty_bps: u16,
        /// Key file that signs the on-chain publication (with --task).
        #[arg(long, default_value = "wallet.key", env = "AIC_WALLET")]
        wallet: PathBuf,
        /// Wait for the on-chain publication's block (with --task).
        #[arg(long)]
        wait: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Fetch a published data set by id into this machine's shared cache (only the shards it
    /// lacks, from several nodes in parallel, every shard verified), and optionally lay it out
    /// as a data set directory for `aic model train --data`.
    #[command(after_help = "Examples:
  aic data fetch 9b1e... --source http://127.0.0.1:7450 --out fsdd-q8
  aic data fetch 9b1e... --source http://a:7450 --source http://b:7450 --json
  aic data fetch 9b1e... --source http://a:7450 --cache /var/cache/aic --budget-mib 4096")]
    Fetch {
        /// The data set id (BLAKE3 of its manifest).
        id: String,
        /// A node's API to fetch from (repeat for more; a bad or slow one is left for the next).
        #[arg(long = "source", required = true)]
        sources: Vec<String>,
        /// The cache directory shared by all jobs on this machine (default: ~/.cache/aic/blobs).
        #[arg(long)]
        cache: Option<PathBuf>,
        /// Byte budget of the cache in MiB; least recently used blobs are evicted beyond it.
        #[arg(long, default_value_t = 10240)]
        budget_mib: u64,
        /// Write the data set here (manifest.json, shards/, blobs/), linked from the cache.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Summarize a digitized data set: columns, splits, shards, bytes, provenance.
    #[command(after_help = "Examples:
  aic data info fsdd-q8
  aic data info fsdd-q8 --json")]
    Info {
        /// The data set directory.
        dir: PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Check every shard of a data set against its manifest (size, BLAKE3 before and after
    /// decompression, layout); exits 1 if any is bad.
    #[command(after_help = "Examples:
  aic data verify fsdd-q8
  aic data verify fsdd-q8 --id 9b1e...   # also refuse a manifest with another BLAKE3")]
    Verify {
        /// The data set directory.
        dir: PathBuf,
        /// The data set id (the manifest's BLAKE3) it must have.
        #[arg(long)]
        id: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}
