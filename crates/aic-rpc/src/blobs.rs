//! Blob serving under `/api/v1/blobs/{id}`: `GET` and `HEAD` with single byte ranges, and
//! `PUT`, stored only if the body hashes to the id.
//!
//! Reads are public (blobs are content-addressed: whoever knows an id may fetch it); writes take
//! the node's HTTP Basic credentials, as JSON-RPC does, because they cost the node disk.
//!
//! What is verified where: the node verified every blob when it was written (a `PUT` whose body
//! does not hash to the id stores nothing). Serving (200 or 206) does not hash again: a range
//! cannot be checked against a whole-blob hash, every client verifies the whole blob it
//! assembles anyway (and fails over to another source on a mismatch), and a second hash pass
//! per download would cost the node a core per ~2 GB/s served. Bit rot on the node is found by
//! clients and by [`aic_blob::BlobStore::verify`] (a scrub, which quarantines). Bodies stream
//! from disk in 64 KiB chunks on a blocking thread; nothing is buffered whole.

use std::io::{Read, Write};
use std::sync::Arc;

use aic_api::rest;
use aic_blob::{BlobError, BlobId, BlobStore};
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;

use crate::auth::RpcAuth;
use crate::handle::NodeHandle;
use crate::rest::Failure;

/// Largest blob a `PUT` may store.
pub const MAX_BLOB_BYTES: u64 = 4 << 30;
/// Body chunk: below glibc's mmap threshold, so chunk buffers come from the heap and are reused
/// instead of being mapped, faulted in and zeroed for every chunk.
const CHUNK: usize = 64 * 1024;

/// How long a `GET` of a blob the node lacks waits for the network to deliver it.
const NETWORK_FETCH_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone, Debug)]
struct BlobState {
    store: BlobStore,
    auth: Arc<RpcAuth>,
    /// The node, whose network (if it runs one) is asked for blobs the store lacks.
    node: Option<Arc<NodeHandle>>,
}

/// The blob routes alone, serving `store`; `PUT` requires `auth`.
pub fn blob_router(store: BlobStore, auth: RpcAuth) -> Router {
    blob_routes(store, auth, None)
}

/// The blob routes of a node: as [`blob_router`], and a `GET` or `HEAD` of a blob the store
/// lacks first fetches it from the node's peers (verified by its hash, for at most 60 s), so a
/// transfer client reaches every blob on the network through its own node. [`crate::router`]
/// merges them in when the node has a store.
pub fn node_blob_router(store: BlobStore, auth: RpcAuth, node: Arc<NodeHandle>) -> Router {
    blob_routes(store, auth, Some(node))
}

fn blob_routes(store: BlobStore, auth: RpcAuth, node: Option<Arc<NodeHandle>>) -> Router {
    Router::new()
        .route(
            "/api/v1/blobs/{id}",
            get(get_blob).head(get_blob).put(put_blob),
        )
        .with_state(BlobState {
            store,
            auth: Arc::new(auth),
            node,
        })
}

/// Asks the node's network for `id` if the store lacks it; true if it arrived.
async fn fetch_from_network(s: &BlobState, id: BlobId) -> bool {
    let Some(net) = s.node.as_ref().and_then(|n| n.network()) else {
        return false;
    };
    if s.store.has(&id) {
        return false;
    }
    match tokio::time::timeout(NETWORK_FETCH_WAIT, net.fetch_blob(id)).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            tracing::debug!(target: "rpc::blobs", %id, error = %e, "not on the network");
            false
        }
        Err(_) => false,
    }
}

/// What a `Range` header asks for, given the blob's length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Range {
    /// No usable range (absent, malformed, several ranges): the whole blob, 200.
    Full,
    /// Bytes `start..end` (end exclusive), 206.
    Part(u64, u64),
    /// 416.
    Unsatisfiable,
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` (RFC 9110 §14.1.2). Malformed or multi-range headers
/// are ignored, which the RFC allows.
fn parse_range(header: Option<&str>, len: u64) -> Range {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Range::Full;
    };
    if spec.contains(',') {
        return Range::Full;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Range::Full;
    };
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| {
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse::<u64>().ok()
        } else {
            None
        }
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Range::Full,
        (true, false) => match num(b) {
            None => Range::Full,
            Some(0) => Range::Unsatisfiable,
            Some(_) if len == 0 => Range::Unsatisfiable,
            Some(n) => Range::Part(len.saturating_sub(n), len),
        },
        (false, true) => match num(a) {
            None => Range::Full,
            Some(start) if start >= len => Range::Unsatisfiable,
            Some(start) => Range::Part(start, len),
        },
        (false, false) => match (num(a), num(b)) {
            (Some(start), Some(last)) if last >= start => {
                if start >= len {
                    Range::Unsatisfiable
                } else {
                    Range::Part(start, last.saturating_add(1).min(len))
                }
            }
            _ => Range::Full,
        },
    }
}

/// The answer for a store error.
pub(crate) fn failure(e: BlobError) -> Failure {
    match &e {
        BlobError::BadId(_) => Failure::new(400, "bad-blob-id", e.to_string()),
        BlobError::NotFound(_) => Failure::new(404, "not-found", e.to_string()),
        BlobError::HashMismatch { expected, actual } => Failure::new(
            400,
            "hash-mismatch",
            format!("the body hashes to {actual}, not {expected}; nothing stored"),
        ),
        BlobError::TooLarge { .. } => Failure::new(413, "too-large", e.to_string()),
        BlobError::RangeNotSatisfiable { .. } => {
            Failure::new(416, "range-not-satisfiable", e.to_string())
        }
        _ => Failure::new(500, "storage", e.to_string()),
    }
}

/// Streams `reader` from a blocking thread; a read error aborts the body mid-way.
fn stream_body(mut reader: impl Read + Send + 'static, id: BlobId) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(16);
    tokio::task::spawn_blocking(move || loop {
        // `read_to_end` into spare capacity: no zeroing of the buffer.
        let mut buf = Vec::with_capacity(CHUNK);
        match (&mut reader).take(CHUNK as u64).read_to_end(&mut buf) {
            Ok(0) => break,
            Ok(_) => {
                if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                    break; // the client went away
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                tracing::warn!(target: "rpc::blobs", %id, error = %e, "blob read failed mid-body");
                let _ = tx.blocking_send(Err(e));
                break;
            }
        }
    });
    Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }))
}

async fn get_blob(
    State(s): State<BlobState>,
    method: Method,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Failure> {
    let id: BlobId = id.parse().map_err(failure)?;
    fetch_from_network(&s, id).await;
    serve_blob(s.store, id, &method, &headers, false).await
}

/// Answers `GET` or `HEAD` for blob `id` of `store`: 200, or 206/416 for a `Range`, with
/// `ETag`, `Accept-Ranges` and an immutable `Cache-Control`. The body streams from disk. With
/// `verify_full`, a full (200) body is read through the verifying [`aic_blob::BlobReader`]: a
/// blob that rotted on disk is quarantined and its body aborted before the last chunk, so the
/// client sees a broken transfer, not a complete wrong one. Ranges are never verified.
pub(crate) async fn serve_blob(
    store: BlobStore,
    id: BlobId,
    method: &Method,
    headers: &HeaderMap,
    verify_full: bool,
) -> Result<Response, Failure> {
    let len = {
        let store = store.clone();
        tokio::task::spawn_blocking(move || store.len(&id))
            .await
            .map_err(|e| Failure::new(500, "internal", e.to_string()))?
            .map_err(failure)?
    };
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let mut out = HeaderMap::new();
    let etag = format!("\"{id}\"");
    for (k, v) in [
        (header::ETAG, etag.as_str()),
        (header::ACCEPT_RANGES, "bytes"),
        (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
    ] {
        if let Ok(v) = HeaderValue::from_str(v) {
            out.insert(k, v);
        }
    }
    let head = *method == Method::HEAD;
    let (status, body) = match range {
        Range::Unsatisfiable => {
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                out.insert(header::CONTENT_RANGE, v);
            }
            let f = Failure::new(
                416,
                "range-not-satisfiable",
                format!("blob {id} has {len} bytes"),
            );
            return Ok((out, f).into_response());
        }
        Range::Full => {
            let body = if head {
                Body::empty()
            } else if verify_full {
                stream_body(store.open_blob(&id).map_err(failure)?, id)
            } else {
                stream_body(store.open_range(&id, 0, len).map_err(failure)?, id)
            };
            out.insert(header::CONTENT_LENGTH, len.into());
            (StatusCode::OK, body)
        }
        Range::Part(start, end) => {
            let body = if head {
                Body::empty()
            } else {
                let reader = store.open_range(&id, start, end).map_err(failure)?;
                stream_body(reader, id)
            };
            out.insert(header::CONTENT_LENGTH, (end - start).into());
            if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{len}", end - 1)) {
                out.insert(header::CONTENT_RANGE, v);
            }
            (StatusCode::PARTIAL_CONTENT, body)
        }
    };
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    Ok((status, out, body).into_response())
}

async fn put_blob(
    State(s): State<BlobState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Failure> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !s.auth.check(auth) {
        return Ok((
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"aic\"")],
            Json(rest::ApiError {
                code: "unauthorized".to_owned(),
                message: "PUT needs the node's RPC credentials (HTTP Basic)".to_owned(),
            }),
        )
            .into_response());
    }
    let id: BlobId = id.parse().map_err(failure)?;
    if let Ok(bytes) = s.store.len(&id) {
        let stored = rest::BlobStored {
            id: id.to_hex(),
            bytes,
        };
        return Ok((StatusCode::OK, Json(stored)).into_response());
    }
    let mut writer = s
        .store
        .writer(Some(id))
        .map_err(failure)?
        .with_limit(MAX_BLOB_BYTES);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, String>>(8);
    let write = tokio::task::spawn_blocking(move || {
        while let Some(chunk) = rx.blocking_recv() {
            let chunk = chunk.map_err(|m| BlobError::Io {
                what: "receiving the body".to_owned(),
                source: std::io::Error::other(m),
            })?;
            writer.write_all(&chunk).map_err(|e| writer.take_error(e))?;
        }
        let bytes = writer.len();
        writer.finish().map(|id| (id, bytes))
    });
    let mut stream = body.into_data_stream();
    while let Some(frame) = stream.next().await {
        let item = frame.map_err(|e| e.to_string());
        let stop = item.is_err();
        if tx.send(item).await.is_err() || stop {
            break; // the writer failed (its error is the answer), or the body broke
        }
    }
    drop(tx);
    let (id, bytes) = write
        .await
        .map_err(|e| Failure::new(500, "internal", e.to_string()))?
        .map_err(|e| match e {
            BlobError::Io { what, source } if what == "receiving the body" => {
                Failure::new(400, "malformed", format!("the body broke off: {source}"))
            }
            other => failure(other),
        })?;
    tracing::debug!(target: "rpc::blobs", %id, bytes, "blob stored");
    let stored = rest::BlobStored {
        id: id.to_hex(),
        bytes,
    };
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_forms() {
        assert_eq!(parse_range(None, 10), Range::Full);
        assert_eq!(parse_range(Some("bytes=2-5"), 10), Range::Part(2, 6));
        assert_eq!(parse_range(Some("bytes=2-"), 10), Range::Part(2, 10));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Range::Part(7, 10));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Range::Part(0, 10));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Range::Part(5, 10));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=10-12"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Range::Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=5-2"), 10), Range::Full);
        assert_eq!(parse_range(Some("bytes=0-1,4-5"), 10), Range::Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Range::Full);
        assert_eq!(parse_range(Some("bytes=+1-2"), 10), Range::Full);
    }
}
