//! The worker's own page, served at `GET /` of its listen address: its devices, the switcher's
//! timeline, earnings per device and its jobs, pushed by the worker's event stream
//! (`GET /api/v1/worker/events`, see `agent::events`). HTML, CSS and JavaScript modules with no build step, embedded in the binary.
//!
//! The node dashboard's stylesheet and helpers (`style.css`, `dom.js`, `format.js`, `chart.js`,
//! the icon) are embedded from `aic-rpc`'s `src/dashboard/` so both pages share one look and
//! one set of helpers without the worker depending on the node's crate; the worker's own files
//! are in `src/page/`. Assets are under `/dashboard/` as on the node, so imports resolve alike.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// The node dashboard's files this page shares.
macro_rules! shared {
    ($file:literal) => {
        include_str!(concat!("../../aic-rpc/src/dashboard/", $file))
    };
}

/// Every file of the page: path under `/dashboard/`, content type, body.
static ASSETS: &[(&str, &str, &str)] = &[
    ("index.html", HTML, include_str!("page/index.html")),
    ("worker.js", JS, include_str!("page/worker.js")),
    ("timeline.js", JS, include_str!("page/timeline.js")),
    ("worker.css", CSS, include_str!("page/worker.css")),
    ("style.css", CSS, shared!("style.css")),
    ("dom.js", JS, shared!("dom.js")),
    ("format.js", JS, shared!("format.js")),
    ("chart.js", JS, shared!("chart.js")),
    ("favicon.svg", SVG, shared!("favicon.svg")),
];

/// Only this origin's scripts, styles and connections.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /`, `GET /dashboard/{file}` and the API's description,
/// `GET /api/v1/worker/openapi.json`.
pub fn page_router() -> Router {
    Router::new()
        .route("/", get(|| async { serve("index.html") }))
        .route(
            "/api/v1/worker/openapi.json",
            get(|| async { axum::Json(crate::openapi::document()) }),
        )
        .route(
            "/dashboard/{*path}",
            get(|Path(path): Path<String>| async move { serve(&path) }),
        )
}

fn serve(path: &str) -> Response {
    let Some((_, content_type, body)) = ASSETS.iter().find(|(p, _, _)| *p == path) else {
        return (StatusCode::NOT_FOUND, "no such page file\n").into_response();
    };
    let mut r = (*body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
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
    fn every_module_and_file_the_page_names_is_served() {
        for (path, _, body) in ASSETS
            .iter()
            .filter(|(p, _, _)| p.ends_with(".js") || p.ends_with(".html"))
        {
            let named = body
                .split(" from \"./")
                .skip(1)
                .chain(body.split("=\"/dashboard/").skip(1));
            for chunk in named {
                let target = chunk.split('"').next().unwrap();
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == target),
                    "{path} names {target}, which is not served"
                );
            }
        }
    }

    #[test]
    fn the_page_and_its_files_are_served_with_their_types() {
        let r = serve("index.html");
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], HTML);
        assert!(r.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        assert_eq!(serve("worker.js").headers()[header::CONTENT_TYPE], JS);
        assert_eq!(serve("../Cargo.toml").status(), StatusCode::NOT_FOUND);
    }
}
