//! The worker's data service: the blob API (`GET`/`HEAD /api/v1/blobs/{id}`, single ranges)
//! served from the worker's [`BlobCache`] on a Unix socket, for jobs in a sandbox without a
//! network. A job's `aic_blob` client reaches it with the base URL `unix:/path/to.sock`.
//!
//! - A cached blob is served as the node serves blobs ([`crate::blobs`], the same range and
//!   header code); a full (200) read is verified while streamed, so rot in the cache aborts
//!   the body and quarantines the file instead of passing wrong bytes on.
//! - A missing blob is first fetched from `sources` (nodes' base URLs) into the cache by the
//!   cache's own [`aic_blob::Fetcher`]: verified by BLAKE3 before it becomes visible, room made
//!   in the budget (its size comes from a `HEAD` at the sources), pinned while served. Requests
//!   for the same missing blob, from this process or another sharing the cache, fetch it once:
//!   the others wait on its partial file's lock and then find it present.
//! - Read-only: there is no `PUT` (axum answers 405). Answers: 400 for a malformed id, 404 when
//!   every source answers 404, 502 naming each source's failure when the fetch fails, 507 when
//!   the pinned blobs leave no room in the budget.
//!
//! # Architecture
//! The server lives here rather than in `aic-blob` because `aic-blob` sits below `aic-rpc` and
//! has no async runtime; it needs `aic-blob`'s `client` feature (the cache), which this
//! crate's `data-service` feature turns on.

use std::future::Future;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path as FsPath;
use std::sync::Arc;

use aic_blob::{BlobCache, BlobError, BlobId, Pins, Want};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use tokio::net::UnixListener;

use crate::blobs::{failure, serve_blob};
use crate::rest::Failure;

/// Mode of the socket file: owner read and write only. A job reaches it through a bind mount
/// and runs as the worker's user (bubblewrap maps the same uid), so nobody else needs it.
pub const DATA_SOCKET_MODE: u32 = 0o600;

#[derive(Clone, Debug)]
struct ServiceState {
    cache: BlobCache,
    sources: Arc<Vec<String>>,
}

/// The data service's routes: `GET`/`HEAD /api/v1/blobs/{id}` from `cache`, missing blobs
/// fetched from `sources` first. Everything else is 404 (405 for other methods on a blob).
pub fn data_service_router(cache: BlobCache, sources: Vec<String>) -> Router {
    Router::new()
        .route("/api/v1/blobs/{id}", get(get_cached).head(get_cached))
        .fallback(crate::rest::not_found)
        .with_state(ServiceState {
            cache,
            sources: Arc::new(sources),
        })
}

/// Binds the data service's socket at `path` with mode [`DATA_SOCKET_MODE`]. A socket file
/// left there by an earlier run is replaced; any other file is an error. The mode is set right
/// after `bind` (std has no way to bind under a umask without `unsafe`): put the socket in a
/// directory only the worker can enter (mode 0700) so the moment between the two does not
/// matter. Call inside a Tokio runtime.
pub fn bind_data_socket(path: &FsPath) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => std::fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(DATA_SOCKET_MODE))?;
    Ok(listener)
}

/// Serves [`data_service_router`] on `listener` until `shutdown` completes.
pub async fn serve_data_service(
    listener: UnixListener,
    cache: BlobCache,
    sources: Vec<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    axum::serve(listener, data_service_router(cache, sources))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn get_cached(
    State(s): State<ServiceState>,
    method: Method,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let id: BlobId = id.parse().map_err(failure)?;
    let cache = s.cache.clone();
    let pins = tokio::task::spawn_blocking(move || fill(&cache, &s.sources, id))
        .await
        .map_err(|e| Failure::new(500, "internal", e.to_string()))?
        .map_err(fill_failure)?;
    // Pinned until the body's file is open: eviction after that cannot take it away.
    let answer = serve_blob(s.cache.store().clone(), id, &method, &headers, true).await;
    drop(pins);
    answer
}

/// Makes `id` present in the cache and pinned.
fn fill(cache: &BlobCache, sources: &[String], id: BlobId) -> Result<Pins, BlobError> {
    let bytes = if cache.store().has(&id) {
        0
    } else {
        cache.fetcher().remote_len(&id, sources)?
    };
    let (pins, report) = cache.ensure(&[Want { id, bytes }], sources, &|_| {})?;
    if let Some(b) = report.blobs.first().filter(|b| b.bytes > 0) {
        tracing::debug!(
            target: "rpc::data_service",
            %id,
            bytes = b.bytes,
            source = b.source.as_deref().unwrap_or(""),
            "blob fetched into the worker cache"
        );
    }
    Ok(pins)
}

fn fill_failure(e: BlobError) -> Failure {
    match &e {
        BlobError::NotFound(id) => {
            Failure::new(404, "not-found", format!("no source has blob {id}"))
        }
        BlobError::NoSources => Failure::new(
            502,
            "upstream",
            "the blob is not cached and the data service has no source",
        ),
        BlobError::BudgetExceeded { .. } => Failure::new(507, "cache-full", e.to_string()),
        BlobError::AllSourcesFailed { .. }
        | BlobError::Connection { .. }
        | BlobError::Http { .. }
        | BlobError::BadResponse { .. }
        | BlobError::TooSlow { .. }
        | BlobError::HashMismatch { .. } => Failure::new(502, "upstream", e.to_string()),
        _ => failure(e),
    }
}
