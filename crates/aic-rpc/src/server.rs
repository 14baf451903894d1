//! The router and the server loop.

use std::future::Future;
use std::sync::Arc;

use aic_blob::BlobStore;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use crate::auth::RpcAuth;
use crate::handle::NodeHandle;
use crate::{jsonrpc, rest};

/// Largest request body: a maximal block in hex inside JSON.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What every handler sees.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    pub(crate) handle: Arc<NodeHandle>,
    pub(crate) auth: Arc<RpcAuth>,
}

/// The API's routes: REST under `/api/v1`, JSON-RPC at `/rpc` (HTTP Basic auth with `auth`),
/// and, with a store, the blob routes of [`crate::blob_router`].
pub fn router(handle: Arc<NodeHandle>, auth: RpcAuth, blobs: Option<BlobStore>) -> Router {
    let blob_routes = blobs.map(|store| crate::blob_router(store, auth.clone()));
    let state = AppState {
        handle,
        auth: Arc::new(auth),
    };
    let api = Router::new()
        .route("/api/v1/status", get(rest::status))
        .route("/api/v1/blocks", post(rest::submit_block))
        .route("/api/v1/blocks/{id}", get(rest::block))
        .route("/api/v1/txs", post(rest::submit_tx))
        .route("/api/v1/txs/{txid}", get(rest::tx))
        .route("/api/v1/accounts/{address}", get(rest::account))
        .route("/api/v1/mining/workers", get(rest::mining_workers))
        .route("/api/v1/openapi.json", get(rest::openapi))
        .route("/rpc", post(jsonrpc::handle))
        .route("/", post(jsonrpc::handle))
        .fallback(rest::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state);
    match blob_routes {
        Some(b) => api.merge(b),
        None => api,
    }
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    handle: Arc<NodeHandle>,
    auth: RpcAuth,
    blobs: Option<BlobStore>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(handle, auth, blobs))
        .with_graceful_shutdown(shutdown)
        .await
}
