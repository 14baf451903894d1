//! The dashboard: static pages (HTML, CSS, JavaScript modules, no build step) embedded in the
//! binary and served at `GET /` and `GET /dashboard/...`. The pages read only the public API
//! (`/api/v1/...`) and its event stream; see `docs/dashboard.md`.
//!
//! Every asset is answered with its content type, a strong `ETag` (a hash of its bytes fixed
//! at compile time) and `Cache-Control: no-cache`, so browsers revalidate (a cheap 304) and
//! never run a stale page against a newer node. A content security policy allows only this
//! origin's scripts, styles and connections.

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// One embedded file.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static str,
    etag: &'static str,
}

/// FNV-1a, 64 bits: a stable fingerprint of an asset's bytes.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    h
}

/// The quoted hex of `h`, as an ETag.
const fn etag_of(h: u64) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = HEX[((h >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

macro_rules! asset {
    ($path:literal, $type:expr) => {{
        const BODY: &str = include_str!(concat!("dashboard/", $path));
        const TAG: [u8; 18] = etag_of(fnv1a(BODY.as_bytes()));
        Asset {
            path: $path,
            content_type: $type,
            body: BODY,
            etag: match std::str::from_utf8(&TAG) {
                Ok(s) => s,
                Err(_) => "\"0\"",
            },
        }
    }};
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// Every file of the dashboard.
static ASSETS: &[Asset] = &[
    asset!("index.html", HTML),
    asset!("style.css", CSS),
    asset!("favicon.svg", SVG),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("format.js", JS),
    asset!("chart.js", JS),
    asset!("dom.js", JS),
    asset!("pages/common.js", JS),
    asset!("pages/home.js", JS),
    asset!("pages/block.js", JS),
    asset!("pages/tx.js", JS),
    asset!("pages/account.js", JS),
    asset!("pages/mining.js", JS),
    asset!("pages/search.js", JS),
    asset!("pages/market-common.js", JS),
    asset!("pages/market.js", JS),
    asset!("pages/job.js", JS),
    asset!("pages/models.js", JS),
    asset!("pages/devices.js", JS),
];

/// The policy every dashboard answer carries.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; \
                   frame-ancestors 'none'";

/// The dashboard's routes, merged into [`crate::router`].
pub(crate) fn router() -> Router {
    Router::new()
        .route("/", get(index))
        .route(
            "/dashboard",
            get(|| async { Redirect::permanent("/dashboard/") }),
        )
        .route("/dashboard/", get(index))
        .route("/dashboard/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers)
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    serve(&path, &headers)
}

fn serve(path: &str, headers: &HeaderMap) -> Response {
    let Some(a) = ASSETS.iter().find(|a| a.path == path) else {
        let mut r = (StatusCode::NOT_FOUND, "no such dashboard file\n").into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        return r;
    };
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == a.etag || t.trim() == "*"));
    let mut r = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        a.body.into_response()
    };
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(a.content_type),
    );
    h.insert(header::ETAG, HeaderValue::from_static(a.etag));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_listed_once_with_a_fitting_type() {
        for (i, a) in ASSETS.iter().enumerate() {
            assert!(
                ASSETS[..i].iter().all(|b| b.path != a.path),
                "{} twice",
                a.path
            );
            let ext = a.path.rsplit('.').next().unwrap();
            let want = match ext {
                "html" => HTML,
                "js" => JS,
                "css" => CSS,
                "svg" => SVG,
                other => panic!("unexpected extension {other}"),
            };
            assert_eq!(a.content_type, want, "{}", a.path);
            assert_eq!(a.etag.len(), 18);
        }
    }

    #[test]
    fn every_module_a_page_imports_is_served() {
        for a in ASSETS
            .iter()
            .filter(|a| a.path.ends_with(".js") || a.path.ends_with(".html"))
        {
            let base = a.path.rsplit_once('/').map_or("", |(d, _)| d);
            for chunk in a
                .body
                .split(" from \"")
                .skip(1)
                .chain(a.body.split("src=\"").skip(1))
            {
                let target = chunk.split('"').next().unwrap();
                let resolved = if let Some(abs) = target.strip_prefix("/dashboard/") {
                    abs.to_owned()
                } else if let Some(rel) = target.strip_prefix("./") {
                    if base.is_empty() {
                        rel.to_owned()
                    } else {
                        format!("{base}/{rel}")
                    }
                } else if let Some(up) = target.strip_prefix("../") {
                    up.to_owned()
                } else {
                    continue;
                };
                assert!(
                    ASSETS.iter().any(|b| b.path == resolved),
                    "{} imports {target}, which is not served",
                    a.path
                );
            }
        }
    }

    #[test]
    fn etags_differ_between_assets() {
        assert_ne!(fnv1a(b"a"), fnv1a(b"b"));
        assert_eq!(&etag_of(0x0123_4567_89ab_cdef), b"\"0123456789abcdef\"");
    }
}
