//! The provider endpoints under `/api/v1/providers`.

use std::sync::Arc;

use aic_api::provider::{
    AnnounceAccepted, JobReport, ProviderAnnouncement, ProviderList, ProviderStatus,
    ReportAccepted, ReportList,
};
use aic_api::rest::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::{unix_ms, ProviderError, ProviderRegistry};

type Registry = State<Arc<ProviderRegistry>>;

impl IntoResponse for ProviderError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let body = ApiError {
            code: self.code().to_owned(),
            message: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

/// The JSON body of a message, with the body limit and the shape errors as [`ProviderError`]s.
fn parse<T: DeserializeOwned>(
    registry: &ProviderRegistry,
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ProviderError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ProviderError::TooLarge {
                limit: registry.config().max_body_bytes,
            }
        } else {
            ProviderError::Malformed(e.body_text())
        }
    })?;
    serde_json::from_slice(&body).map_err(|e| ProviderError::Malformed(e.to_string()))
}

async fn announce(
    State(r): Registry,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AnnounceAccepted>, ProviderError> {
    let a: ProviderAnnouncement = parse(&r, body)?;
    Ok(Json(r.announce(&a, unix_ms())?))
}

#[derive(Deserialize)]
struct ListQuery {
    online: Option<bool>,
}

async fn list(
    State(r): Registry,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<ProviderList>, ProviderError> {
    let Query(q) = query.map_err(|e| ProviderError::Malformed(e.body_text()))?;
    Ok(Json(r.list(q.online.unwrap_or(false), unix_ms())))
}

async fn one(
    State(r): Registry,
    Path(address): Path<String>,
) -> Result<Json<ProviderStatus>, ProviderError> {
    Ok(Json(r.get(&address, unix_ms())?))
}

async fn post_report(
    State(r): Registry,
    Path(address): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ReportAccepted>), ProviderError> {
    let report: JobReport = parse(&r, body)?;
    let accepted = r.report(&address, &report, unix_ms())?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

async fn reports(
    State(r): Registry,
    Path(address): Path<String>,
) -> Result<Json<ReportList>, ProviderError> {
    Ok(Json(r.reports(&address)?))
}

/// The provider routes, for merging into the node's API (as [`crate::router`] does) or serving
/// alone: `POST /api/v1/providers/announce`, `GET /api/v1/providers[?online=true]`,
/// `GET /api/v1/providers/{address}`, `POST` and `GET /api/v1/providers/{address}/reports`.
/// Request bodies are limited to the registry's `max_body_bytes`.
pub fn provider_router(registry: Arc<ProviderRegistry>) -> Router {
    let limit = registry.config().max_body_bytes;
    Router::new()
        .route("/api/v1/providers/announce", post(announce))
        .route("/api/v1/providers", get(list))
        .route("/api/v1/providers/{address}", get(one))
        .route(
            "/api/v1/providers/{address}/reports",
            get(reports).post(post_report),
        )
        .layer(DefaultBodyLimit::max(limit))
        .with_state(registry)
}
