//! `aic worker run --market`: the market agent of `aic_worker::market` started beside the job
//! runner, with the ML runtime's part (the transcript's root, model blobs unpacked).

use std::path::{Path, PathBuf};
use std::time::Duration;

use aic_worker::agent::{JobQueue, MarketBook};
use aic_worker::market::{
    MarketAgent, MarketConfig, MarketEvent, MarketSetup, NodeApi, ReplayConfig, Runtime,
};
use aic_worker::provider::Identity;
use aic_worker::sandbox::Sandbox;
use anyhow::{anyhow, Context, Result};

/// `aic_ml::transcript::root` over `(step, checkpoint id)` pairs.
pub(crate) fn transcript_root(entries: &[(u64, [u8; 32])]) -> Option<[u8; 32]> {
    let entries: Vec<aic_ml::transcript::Entry> = entries
        .iter()
        .map(|(step, id)| aic_ml::transcript::Entry {
            step: *step,
            id: blake3::Hash::from_bytes(*id),
        })
        .collect();
    aic_ml::transcript::root(&entries).map(|h| *h.as_bytes())
}

/// A model blob as published (`aic model publish --cookie`): the manifest of an architecture
/// to train, or a whole package.
fn unpack_model(bytes: &[u8], dir: &Path) -> Result<(), String> {
    if aic_model::parse_manifest(bytes).is_ok() {
        return std::fs::write(dir.join(aic_model::MANIFEST_FILE), bytes)
            .map_err(|e| e.to_string());
    }
    let unpacked = aic_model::unpack(bytes).map_err(|e| e.to_string())?;
    unpacked.files.write_dir(dir).map_err(|e| e.to_string())
}

/// The ML runtime's part of the agent.
pub(crate) const RUNTIME: Runtime = Runtime {
    transcript_root,
    unpack_model,
};

/// Starts the agent over the runner's `queue` and `sandbox`; with it, where its earnings are
/// read from (for `GET /api/v1/worker/earnings`).
pub(crate) fn start(
    cfg: &MarketConfig,
    network: aic_primitives::Network,
    jobs_dir: &Path,
    queue: JobQueue,
    sandbox: Sandbox,
    replay: ReplayConfig,
) -> Result<(MarketAgent, MarketBook)> {
    let wallet = cfg
        .wallet
        .as_ref()
        .ok_or_else(|| anyhow!("[market] wallet is required"))?;
    let identity = Identity::load(wallet, network)
        .with_context(|| format!("the market wallet {}", wallet.display()))?;
    let auth = match &cfg.cookie {
        Some(path) => Some(
            aic_rpc::RpcAuth::read_cookie(path)
                .with_context(|| format!("reading the node's cookie {}", path.display()))?
                .header_value(),
        ),
        None => None,
    };
    let dir: PathBuf = cfg.dir.clone().unwrap_or_else(|| jobs_dir.join("market"));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    let node = NodeApi::new(&cfg.node, auth);
    let book = MarketBook {
        dir: dir.clone(),
        node: node.clone(),
        address: identity.address_text(),
    };
    let setup = MarketSetup {
        dir,
        node,
        price: cfg.price_amount().map_err(anyhow::Error::msg)?,
        fee: cfg.fee_amount().map_err(anyhow::Error::msg)?,
        bid: cfg.bid,
        verify: cfg.verify,
        poll: Duration::from_millis(cfg.poll_ms),
        queue,
        sandbox,
        replay,
        runtime: RUNTIME,
        identity,
    };
    eprintln!(
        "worker: market agent for {} on {} ({}{}, price {} AIC)",
        setup.identity.address_text(),
        cfg.node,
        if cfg.bid { "bidding" } else { "not bidding" },
        if cfg.verify { ", verifying" } else { "" },
        cfg.price
    );
    let agent = MarketAgent::start(
        setup,
        Box::new(|e: &MarketEvent| eprintln!("worker: market: {e}")),
    )?;
    Ok((agent, book))
}
