//! `GET /api/v1/worker/earnings`: what each device earned, mining and AI work side by side.
//!
//! Mining: the switcher's hashes and shares found, the pool's accepted and rejected shares
//! and its share difficulty (the pool credits work by accepted shares), and the time spent
//! hashing. AI: the time spent computing jobs, the runner's recent outcomes by status and,
//! where the market agent runs, what the chain paid the provider for each job it ran or
//! verified (read from the node: [`market_earnings`]). The agent drives one device, so the
//! list has one entry; the market's payments are the provider's and shown beside it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

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

#[derive(Clone)]
struct EarningsState {
    device: String,
    switcher: SwitcherHandle,
    pool: Arc<Mutex<PoolStatus>>,
    runner: Option<RunnerControl>,
    market: Option<MarketBook>,
}

async fn earnings(State(s): State<EarningsState>) -> Response {
    let Ok(report) = s.switcher.report() else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "the worker is stopping"})),
        )
            .into_response();
    };
    let pool = s.pool.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let usage = report.timeline.usage();
    let outcomes = s.runner.as_ref().map(|r| r.status().outcomes);
    let count = |want: JobStatus| {
        outcomes
            .as_ref()
            .map(|o| o.iter().filter(|o| o.status == want).count())
    };
    let (market, market_error) = match s.market.clone() {
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
    Json(json!({
        "devices": [{
            "device": s.device,
            "mining": {
                "seconds": usage.mining.as_secs_f64(),
                "hashes": report.hashes,
                "shares_found": report.shares,
                "shares_accepted": pool.accepted,
                "shares_rejected": pool.rejected,
                "share_difficulty": pool.difficulty,
            },
            "ai": {
                "seconds": usage.ai.as_secs_f64(),
                "recent_jobs": outcomes.as_ref().map(Vec::len),
                "succeeded": count(JobStatus::Succeeded),
                "failed": count(JobStatus::Failed),
                "preempted": count(JobStatus::Preempted),
                "paid_units": market.get("total_units"),
            },
        }],
        "market": market,
        "market_error": market_error,
    }))
    .into_response()
}

/// `GET /api/v1/worker/earnings` for `switcher` of `device`, its `pool`, the job `runner`
/// where one runs and the market agent's `market` book where it runs.
pub fn earnings_router(
    device: String,
    switcher: SwitcherHandle,
    pool: Arc<Mutex<PoolStatus>>,
    runner: Option<RunnerControl>,
    market: Option<MarketBook>,
) -> Router {
    Router::new()
        .route("/api/v1/worker/earnings", get(earnings))
        .with_state(EarningsState {
            device,
            switcher,
            pool,
            runner,
            market,
        })
}
