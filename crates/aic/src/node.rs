//! `aic node`.

use aic_node::{NodeConfig, RunningNode};
use anyhow::{Context, Result};

use crate::cli::NodeArgs;

pub(crate) fn config_from(args: NodeArgs) -> Result<NodeConfig> {
    let mut c = match &args.config {
        Some(path) => NodeConfig::from_file(path)?,
        None => NodeConfig::default(),
    };
    if let Some(v) = args.network {
        c.network = v;
    }
    if let Some(v) = args.data_dir {
        c.data_dir = v;
    } else if args.config.is_none() {
        c.data_dir = std::path::PathBuf::from(format!(".aic-{}", c.network));
    }
    if let Some(v) = args.api_addr {
        c.api_addr = v;
    }
    if args.stratum_addr.is_some() {
        c.stratum_addr = args.stratum_addr;
    }
    if args.mine.is_some() {
        c.mine = args.mine;
    }
    if let Some(v) = args.miner_threads {
        c.miner_threads = v;
    }
    if args.payout_address.is_some() {
        c.payout_address = args.payout_address;
    }
    if args.rpc_user.is_some() {
        c.rpc_user = args.rpc_user;
    }
    if args.rpc_password.is_some() {
        c.rpc_password = args.rpc_password;
    }
    if args.no_p2p {
        c.p2p.enabled = false;
    } else if args.p2p || args.config.is_none() {
        c.p2p.enabled = true;
    }
    if !args.listen.is_empty() {
        c.p2p.listen = args.listen;
    }
    if !args.bootnode.is_empty() {
        c.p2p.bootnodes = args.bootnode;
    }
    if args.no_mdns {
        c.p2p.mdns = false;
    }
    if let Some(v) = args.max_peers {
        c.p2p.max_peers = v;
    }
    Ok(c)
}

pub(crate) fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub(crate) fn run(args: NodeArgs) -> Result<()> {
    init_logging();
    let config = config_from(args)?;
    let rt = tokio::runtime::Runtime::new().context("starting the runtime")?;
    rt.block_on(async move {
        let node = RunningNode::start(&config).await?;
        let tip = node.handle.chain().tip();
        tracing::info!(
            target: "node",
            height = tip.entry.height.0,
            tip = %tip.hash,
            api = %node.api_addr,
            stratum = ?node.stratum_addr,
            data_dir = %config.data_dir.display(),
            mining = config.mine.is_some(),
            p2p = ?node.p2p.as_ref().map(|p| p.listen_addrs().iter().map(ToString::to_string).collect::<Vec<_>>()),
            "ready"
        );
        shutdown_signal().await?;
        tracing::info!(target: "node", "shutting down");
        node.shutdown().await;
        Ok(())
    })
}

/// Ctrl-C or, on Unix, SIGTERM (what service managers send).
pub(crate) async fn shutdown_signal() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}
