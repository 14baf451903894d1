//! The worker's HTTP endpoints: `GET /metrics` (Prometheus text) and
//! `GET /api/v1/worker/status[?history=N]` (the [`Snapshot`](super::Snapshot) as JSON).

use std::future::Future;

use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{render_prometheus, MonitorHandle};

/// Samples of history in a status answer when the request does not say.
pub const DEFAULT_STATUS_HISTORY: usize = 60;

#[derive(Deserialize)]
struct StatusQuery {
    history: Option<usize>,
}

async fn metrics(State(m): State<MonitorHandle>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render_prometheus(&m.snapshot(0)),
    )
}

async fn status(State(m): State<MonitorHandle>, Query(q): Query<StatusQuery>) -> impl IntoResponse {
    Json(m.snapshot(q.history.unwrap_or(DEFAULT_STATUS_HISTORY)))
}

/// The routes, for mounting in a larger server.
pub fn status_router(monitor: MonitorHandle) -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .route("/api/v1/worker/status", get(status))
        .with_state(monitor)
}

/// Serves [`status_router`] on `listener` until `shutdown` completes, then finishes the
/// requests in flight and returns.
pub async fn serve_status(
    listener: tokio::net::TcpListener,
    monitor: MonitorHandle,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, status_router(monitor))
        .with_graceful_shutdown(shutdown)
        .await
}
