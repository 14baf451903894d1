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
use crate::providers::ProviderRegistry;
use crate::{jsonrpc, rest};

/// Largest request body: a maximal block in hex inside JSON.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// What every handler sees.
#[derive(Clone, Debug)]
pub(crate) struct AppState {
    pub(crate) handle: Arc<NodeHandle>,
    pub(crate) auth: Arc<RpcAuth>,
}

/// The API's routes: REST under `/api/v1` (with the explorer's routes and the event stream
/// at `/api/v1/events`), JSON-RPC at `/rpc` and `POST /` (HTTP Basic auth with `auth`), the
/// dashboard at `GET /` and `/dashboard/`, the provider routes of [`crate::provider_router`]
/// and, with a store, the blob routes of [`crate::blob_router`].
pub fn router(
    handle: Arc<NodeHandle>,
    auth: RpcAuth,
    blobs: Option<BlobStore>,
    providers: Arc<ProviderRegistry>,
) -> Router {
    let blob_routes =
        blobs.map(|store| crate::blobs::node_blob_router(store, auth.clone(), handle.clone()));
    let events = crate::events::router(handle.clone(), providers.clone());
    let state = AppState {
        handle,
        auth: Arc::new(auth),
    };
    let api = Router::new()
        .route("/api/v1/status", get(rest::status))
        .route("/api/v1/network", get(crate::network::info))
        .route("/api/v1/blocks", post(rest::submit_block))
        .route("/api/v1/blocks/{id}", get(rest::block))
        .route("/api/v1/txs", post(rest::submit_tx))
        .route("/api/v1/txs/{txid}", get(rest::tx))
        .route("/api/v1/accounts/{address}", get(rest::account))
        .route("/api/v1/mining/workers", get(rest::mining_workers))
        .route("/api/v1/openapi.json", get(rest::openapi))
        .route("/rpc", post(jsonrpc::handle))
        .route("/", post(jsonrpc::handle))
        .merge(crate::market::routes())
        .merge(crate::explorer::routes())
        .fallback(rest::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        .merge(crate::provider_router(providers))
        .merge(events)
        .merge(crate::dashboard::router());
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
    providers: Arc<ProviderRegistry>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(handle, auth, blobs, providers))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    /// Every route of this file and of the provider routes is in the OpenAPI document.
    #[test]
    fn every_route_is_documented() {
        let doc = crate::openapi::document();
        let paths = doc["paths"].as_object().unwrap();
        let sources = [
            include_str!("server.rs"),
            include_str!("providers/routes.rs"),
            include_str!("blobs.rs"),
            include_str!("market.rs"),
            include_str!("explorer.rs"),
            include_str!("events.rs"),
        ];
        let mut seen = 0;
        for source in sources {
            for chunk in source.split(".route(").skip(1) {
                let Some(path) = chunk.trim_start().strip_prefix('"') else {
                    continue;
                };
                let path = path.split('"').next().unwrap();
                if !path.starts_with('/') || path == "/" || path == "/rpc" {
                    continue; // JSON-RPC, described in the document's info.
                }
                seen += 1;
                assert!(
                    paths.get(path).is_some_and(Value::is_object),
                    "route {path} is not in the OpenAPI document"
                );
            }
        }
        assert!(seen >= 12, "found only {seen} routes");
    }
}
