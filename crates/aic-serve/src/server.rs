//! The HTTP server: Open Inference Protocol v2 REST routes over a set of [`Predictor`]s.
//! Inference runs on tokio's blocking pool, never on the reactor.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use aic_ml::infer::{InferError, Predictor};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

use crate::oip::{
    ErrorBody, InferRequest, InferResponse, ModelMetadata, ResponseOutput, ServerMetadata,
};

/// Largest request body accepted (a full batch of log-mel frames as JSON is tens of MB).
pub const BODY_LIMIT: usize = 256 << 20;

/// Why a server could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Two models share a name.
    #[error("two models are named {0:?}; model names must be unique")]
    DuplicateName(String),
    /// A model could not be loaded.
    #[error("{0}")]
    Load(String),
}

/// The models served, by name.
#[derive(Clone, Debug)]
struct AppState {
    models: Arc<BTreeMap<String, Arc<Predictor>>>,
}

/// An error answer: `{"error": "..."}` with its status.
struct ApiError(StatusCode, String);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

impl From<InferError> for ApiError {
    fn from(e: InferError) -> Self {
        let status = if e.is_request_error() {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        ApiError(status, e.to_string())
    }
}

impl AppState {
    fn model(&self, name: &str) -> Result<Arc<Predictor>, ApiError> {
        self.models.get(name).cloned().ok_or_else(|| {
            let known: Vec<&str> = self.models.keys().map(String::as_str).collect();
            ApiError(
                StatusCode::NOT_FOUND,
                format!("unknown model {name:?} (served: {})", known.join(", ")),
            )
        })
    }

    fn versioned(&self, name: &str, version: &str) -> Result<Arc<Predictor>, ApiError> {
        let p = self.model(name)?;
        if p.manifest().model.version != version {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!(
                    "model {name:?} has no version {version:?} (served: {})",
                    p.manifest().model.version
                ),
            ));
        }
        Ok(p)
    }
}

/// The router of the protocol's routes over `models` (named by their manifests).
pub fn router(models: Vec<Predictor>) -> Result<Router, ServeError> {
    let mut map = BTreeMap::new();
    for p in models {
        let name = p.manifest().model.name.clone();
        if map.insert(name.clone(), Arc::new(p)).is_some() {
            return Err(ServeError::DuplicateName(name));
        }
    }
    let state = AppState {
        models: Arc::new(map),
    };
    Ok(Router::new()
        .route(
            "/v2/health/live",
            get(|| async { Json(json!({"live": true})) }),
        )
        .route(
            "/v2/health/ready",
            get(|| async { Json(json!({"ready": true})) }),
        )
        .route("/v2", get(server_metadata))
        .route("/v2/models/{name}", get(model_metadata))
        .route(
            "/v2/models/{name}/versions/{version}",
            get(version_metadata),
        )
        .route("/v2/models/{name}/ready", get(model_ready))
        .route(
            "/v2/models/{name}/versions/{version}/ready",
            get(version_ready),
        )
        .route("/v2/models/{name}/infer", post(infer))
        .route(
            "/v2/models/{name}/versions/{version}/infer",
            post(version_infer),
        )
        .fallback(|| async { ApiError(StatusCode::NOT_FOUND, "no such route (see /v2)".into()) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state))
}

async fn server_metadata() -> Json<ServerMetadata> {
    Json(ServerMetadata {
        name: "aic-serve".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        extensions: Vec::new(),
    })
}

fn metadata(p: &Arc<Predictor>) -> Json<ModelMetadata> {
    Json(ModelMetadata::from_manifest(p.manifest(), p.platform()))
}

async fn model_metadata(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ModelMetadata>, ApiError> {
    Ok(metadata(&s.model(&name)?))
}

async fn version_metadata(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<ModelMetadata>, ApiError> {
    Ok(metadata(&s.versioned(&name, &version)?))
}

async fn model_ready(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    s.model(&name)?;
    Ok(Json(json!({"name": name, "ready": true})))
}

async fn version_ready(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, String)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    s.versioned(&name, &version)?;
    Ok(Json(json!({"name": name, "ready": true})))
}

async fn infer(
    State(s): State<AppState>,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<Json<InferResponse>, ApiError> {
    run(s.model(&name)?, &body).await
}

async fn version_infer(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<InferResponse>, ApiError> {
    run(s.versioned(&name, &version)?, &body).await
}

async fn run(p: Arc<Predictor>, body: &[u8]) -> Result<Json<InferResponse>, ApiError> {
    let bad = |m: String| ApiError(StatusCode::BAD_REQUEST, m);
    let req: InferRequest =
        serde_json::from_slice(body).map_err(|e| bad(format!("invalid request JSON: {e}")))?;
    let inputs = req
        .inputs
        .iter()
        .map(|i| i.to_tensor())
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let select: Vec<String> = req.outputs.iter().map(|o| o.name.clone()).collect();
    let model = p.clone();
    let outputs = tokio::task::spawn_blocking(move || model.predict_selected(&inputs, &select))
        .await
        .map_err(|e| {
            ApiError(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("inference task: {e}"),
            )
        })??;
    Ok(Json(InferResponse {
        model_name: p.manifest().model.name.clone(),
        model_version: Some(p.manifest().model.version.clone()),
        id: req.id,
        outputs: outputs.iter().map(ResponseOutput::from_tensor).collect(),
    }))
}

/// Serves `app` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}
