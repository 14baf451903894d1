//! `GET /api/v1/worker/earnings`: what each device earned, mining and AI work side by side.
//!
//! Mining: the switcher's hashes and shares found, the pool's accepted and rejected shares
//! and its share difficulty, the time spent hashing and, in AIC, the blocks the device found:
//! which of them the node holds on its main chain and what their coinbases paid the payout
//! address ([`MinedBlocks`], checked with the node on each call). AI: the time spent
//! computing jobs, the runner's recent outcomes by status and, where the market agent runs,
//! what the chain paid the provider for each job it ran or verified (read from the node:
//! [`market_earnings`]). The agent drives one device, so the list has one entry; the market's
//! payments are the provider's and counted to it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::mined::{check_with_node, MinedBlocks};
use super::run::PoolStatus;
use super::runner::{JobStatus, RunnerControl};
use crate::market::{market_earnings, NodeApi};
use crate::switcher::SwitcherHandle;

/// Where the market agent keeps its state and whom it works for.
#[derive(Clone, Debug)]
pub struct MarketBook {
    /// The agent's directory (its `state.json`).
    pub dir: PathBuf,
    /// The node the agent uses.
    pub node: NodeApi,
    /// The provider's address (bech32m).
    pub address: String,
}

/// What the earnings are read from.
#[derive(Clone)]
pub struct EarningsSources {
    /// The device's id.
    pub device: String,
    /// Its switcher.
    pub switcher: SwitcherHandle,
    /// Its pool client's status.
    pub pool: Arc<Mutex<PoolStatus>>,
    /// The blocks it found.
    pub mined: Arc<Mutex<MinedBlocks>>,
    /// The node asked what the chain paid for those blocks, and the payout address; without
    /// one the blocks are counted but not paid.
    pub chain: Option<(NodeApi, String)>,
    /// The job runner, where one runs.
    pub runner: Option<RunnerControl>,
    /// The market agent's book, where it runs.
    pub market: Option<MarketBook>,
}

#[derive(Clone)]
struct EarningsState {
    sources: EarningsSources,
    /// Held while the node is asked about the blocks, so overlapping calls do not ask twice.
    checking: Arc<Mutex<()>>,
}

/// Asks the node about the unsettled blocks; the error, if it could not.
fn check_blocks(s: &EarningsState) -> Option<String> {
    let (node, address) = s.sources.chain.as_ref()?;
    let _one_at_a_time = s.checking.lock().unwrap_or_else(|p| p.into_inner());
    check_with_node(&s.sources.mined, node, address)
        .err()
        .map(|e| e.to_string())
}

async fn earnings(State(s): State<EarningsState>) -> Response {
    let src = &s.sources;
    let Ok(report) = src.switcher.report() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "the worker is stopping"})),
        )
            .into_response();
    };
    let pool = src.pool.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let usage = report.timeline.usage();
    let outcomes = src.runner.as_ref().map(|r| r.status().outcomes);
    let count = |want: JobStatus| {
        outcomes
            .as_ref()
            .map(|o| o.iter().filter(|o| o.status == want).count())
    };
    let checked = {
        let s = s.clone();
        tokio::task::spawn_blocking(move || check_blocks(&s)).await
    };
    let mined_error = match checked {
        Ok(e) => e,
        Err(e) => Some(e.to_string()),
    };
    let (totals, recent) = {
        let m = src.mined.lock().unwrap_or_else(|p| p.into_inner());
        (m.totals(), m.recent())
    };
    let (market, market_error) = match src.market.clone() {
        None => (Value::Null, Value::Null),
        Some(book) => {
            let found = tokio::task::spawn_blocking(move || {
                market_earnings(&book.dir, &book.node, &book.address)
            })
            .await;
            match found {
                Ok(Ok(m)) => (json!(m), Value::Null),
                Ok(Err(e)) => (Value::Null, json!(e.to_string())),
                Err(e) => (Value::Null, json!(e.to_string())),
            }
        }
    };
    let market_units = market.get("total_units").and_then(Value::as_u64);
    Json(json!({
        "devices": [{
            "device": src.device,
            "paid_units": totals.paid_units.saturating_add(market_units.unwrap_or(0)),
            "mining": {
                "seconds": usage.mining.as_secs_f64(),
                "hashes": report.hashes,
                "shares_found": report.shares,
                "shares_accepted": pool.accepted,
                "shares_rejected": pool.rejected,
                "share_difficulty": pool.difficulty,
                "blocks": totals,
                "paid_units": totals.paid_units,
            },
            "ai": {
                "seconds": usage.ai.as_secs_f64(),
                "recent_jobs": outcomes.as_ref().map(Vec::len),
                "succeeded": count(JobStatus::Succeeded),
                "failed": count(JobStatus::Failed),
                "preempted": count(JobStatus::Preempted),
                "paid_units": market_units,
            },
        }],
        "mined_blocks": {
            "node": src.chain.as_ref().map(|(n, _)| n.base()),
            "payout_address": src.chain.as_ref().map(|(_, a)| a),
            "error": mined_error,
            "recent": recent,
        },
        "market": market,
        "market_error": market_error,
    }))
    .into_response()
}

/// `GET /api/v1/worker/earnings` over `sources`.
pub fn earnings_router(sources: EarningsSources) -> Router {
    Router::new()
        .route("/api/v1/worker/earnings", get(earnings))
        .with_state(EarningsState {
            sources,
            checking: Arc::new(Mutex::new(())),
        })
}
