//! The dashboard's files as served by a real node: `GET /` and `/dashboard/...` with their
//! content types, validators and security headers, while `POST /` stays JSON-RPC.

mod common;

use common::TestNode;

fn get(n: &TestNode, path: &str, etag: Option<&str>) -> ureq::Response {
    let mut req = ureq::get(&format!("{}{path}", n.base));
    if let Some(tag) = etag {
        req = req.set("If-None-Match", tag);
    }
    match req.call() {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn pages_are_served_with_types_validators_and_policy() {
    let n = TestNode::start();
    let index = get(&n, "/", None);
    assert_eq!(index.status(), 200);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert_eq!(index.header("x-content-type-options"), Some("nosniff"));
    assert!(index
        .header("content-security-policy")
        .unwrap()
        .contains("script-src 'self'"));
    let etag = index.header("etag").unwrap().to_owned();
    assert!(index.into_string().unwrap().contains("/dashboard/app.js"));
    assert_eq!(get(&n, "/", Some(&etag)).status(), 304);
    assert_eq!(get(&n, "/dashboard/", None).status(), 200);

    for (path, ty) in [
        ("/dashboard/app.js", "text/javascript; charset=utf-8"),
        ("/dashboard/pages/home.js", "text/javascript; charset=utf-8"),
        ("/dashboard/style.css", "text/css; charset=utf-8"),
        ("/dashboard/favicon.svg", "image/svg+xml"),
    ] {
        let r = get(&n, path, None);
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.header("content-type"), Some(ty), "{path}");
        let tag = r.header("etag").unwrap().to_owned();
        assert_ne!(tag, etag, "{path} has its own ETag");
        assert_eq!(get(&n, path, Some(&tag)).status(), 304, "{path}");
    }
    for path in [
        "/dashboard/nope.js",
        "/dashboard/../Cargo.toml",
        "/dashboard/pages/",
    ] {
        assert_eq!(get(&n, path, None).status(), 404, "{path}");
    }

    // POST / is still JSON-RPC.
    let node = n.node.as_ref().unwrap();
    let r = ureq::post(&format!("{}/", n.base))
        .set("Authorization", &node.rpc_auth.header_value())
        .send_json(
            serde_json::json!({"jsonrpc": "1.0", "id": 1, "method": "getblockcount", "params": []}),
        )
        .unwrap();
    let body: serde_json::Value = r.into_json().unwrap();
    assert_eq!(body["result"], 0);
}
