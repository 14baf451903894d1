//! The agent's control endpoints, served beside the monitor's:
//!
//! - `POST /api/v1/worker/pause`, `POST /api/v1/worker/resume`: the owner's pause
//!   (`aic worker pause|resume`); `409` with the reason when illegal in the device's state
//!   (paused twice, resumed when not paused);
//! - `GET /api/v1/worker/switcher`: the device's id and state, the policy, the pool, hash and
//!   share counts, time spent per task, the hand-overs with their latencies (the last
//!   [`SWITCHES_SHOWN`]) and the timeline's last [`TIMELINE_SHOWN`] segments, the open one
//!   ending now (`now_s`), all on the timeline's clock (seconds since the switcher started).

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use super::run::PoolStatus;
use super::runner::RunnerControl;
use crate::switcher::{Policy, SwitcherError, SwitcherHandle};

/// Hand-overs listed by `GET /api/v1/worker/switcher`.
pub const SWITCHES_SHOWN: usize = 100;

/// Timeline segments listed by `GET /api/v1/worker/switcher` (the open one included).
pub const TIMELINE_SHOWN: usize = 200;

#[derive(Clone)]
struct ControlState {
    device: String,
    switcher: SwitcherHandle,
    policy: Policy,
    pool: Arc<Mutex<PoolStatus>>,
}

fn answer(result: Result<(), SwitcherError>, switcher: &SwitcherHandle) -> Response {
    match result {
        Ok(()) => Json(json!({"state": switcher.state().ok()})).into_response(),
        Err(SwitcherError::Stopped) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "the worker is stopping"})),
        )
            .into_response(),
        Err(e) => (StatusCode::CONFLICT, Json(json!({"error": e.to_string()}))).into_response(),
    }
}

async fn pause(State(s): State<ControlState>) -> Response {
    answer(s.switcher.owner_pause(), &s.switcher)
}

async fn resume(State(s): State<ControlState>) -> Response {
    answer(s.switcher.owner_resume(), &s.switcher)
}

async fn status(State(s): State<ControlState>) -> Response {
    let (Ok(state), Ok(report)) = (s.switcher.state(), s.switcher.report()) else {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "the worker is stopping"})),
        )
            .into_response();
    };
    let pool = s.pool.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let usage = report.timeline.usage();
    let skip = report.switches.len().saturating_sub(SWITCHES_SHOWN);
    // The report's timeline is closed at now: its last interval is the one open now.
    let intervals = report.timeline.intervals();
    let now = intervals.last().map_or(0.0, |i| i.end.as_secs_f64());
    let shown = intervals
        .iter()
        .filter(|i| !i.is_empty())
        .collect::<Vec<_>>();
    let from = shown.len().saturating_sub(TIMELINE_SHOWN);
    Json(json!({
        "device": s.device,
        "state": state,
        "policy": s.policy,
        "pool": pool,
        "hashes": report.hashes,
        "shares": report.shares,
        "refused_signals": report.refused,
        "usage": {
            "total_s": usage.total.as_secs_f64(),
            "mining_s": usage.mining.as_secs_f64(),
            "ai_s": usage.ai.as_secs_f64(),
            "lost_s": usage.lost.as_secs_f64(),
            "useful_fraction": usage.useful_fraction(),
        },
        "switch_count": report.switches.len(),
        "switches": report.switches[skip..].iter().map(|r| json!({
            "kind": r.kind,
            "at_s": r.at.as_secs_f64(),
            "latency_us": r.latency.as_secs_f64() * 1e6,
        })).collect::<Vec<_>>(),
        "now_s": now,
        "timeline": shown[from..].iter().map(|i| json!({
            "task": i.task,
            "working": i.working,
            "start_s": i.start.as_secs_f64(),
            "end_s": i.end.as_secs_f64(),
        })).collect::<Vec<_>>(),
    }))
    .into_response()
}

async fn jobs(State(r): State<RunnerControl>) -> Response {
    Json(r.status()).into_response()
}

async fn preempt(State(r): State<RunnerControl>, Path(id): Path<String>) -> Response {
    if r.preempt(&id) {
        (StatusCode::ACCEPTED, Json(json!({"preempting": id}))).into_response()
    } else {
        (
            StatusCode::CONFLICT,
            Json(json!({"error": format!("job {id:?} is not running on this worker")})),
        )
            .into_response()
    }
}

/// The job queue's routes: `GET /api/v1/worker/jobs` (the job on the device, the queue,
/// recent outcomes) and `POST /api/v1/worker/jobs/{id}/preempt` (the job checkpoints, is
/// queued again and resumes; `409` if it is not running here).
pub fn jobs_router(runner: RunnerControl) -> Router {
    Router::new()
        .route("/api/v1/worker/jobs", get(jobs))
        .route("/api/v1/worker/jobs/{id}/preempt", post(preempt))
        .with_state(runner)
}

/// The control routes for `switcher` of `device` (running under `policy`, mining through
/// `pool`).
pub fn control_router(
    device: String,
    switcher: SwitcherHandle,
    policy: Policy,
    pool: Arc<Mutex<PoolStatus>>,
) -> Router {
    Router::new()
        .route("/api/v1/worker/pause", post(pause))
        .route("/api/v1/worker/resume", post(resume))
        .route("/api/v1/worker/switcher", get(status))
        .with_state(ControlState {
            device,
            switcher,
            policy,
            pool,
        })
}

/// Serves the worker's page ([`crate::page`]), the monitor's routes and, where an agent runs,
/// its `control` routes on `listener` until `shutdown` completes.
pub async fn serve_worker(
    listener: tokio::net::TcpListener,
    monitor: crate::monitor::MonitorHandle,
    control: Option<Router>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut router = crate::monitor::status_router(monitor).merge(crate::page::page_router());
    if let Some(c) = control {
        router = router.merge(c);
    }
    // The event stream reads the other routes: it pushes what they answer.
    let router = router.clone().merge(super::events::events_router(router));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}
