//! `GET /api/v1/worker/events`: the worker's state pushed as server-sent events, so its page
//! (and any client) follows it without polling.
//!
//! Every [`EVENT_EVERY`] the stream sends one `snapshot` event whose data is a JSON object
//! holding exactly what the worker's endpoints answer at that moment: `status` (the monitor,
//! `GET /api/v1/worker/status?history=120`), `switcher` (`GET /api/v1/worker/switcher`) and
//! `jobs` (`GET /api/v1/worker/jobs`); an endpoint this worker does not serve (no agent, no
//! job queue) is `null`. Every [`EARNINGS_EVERY`] it also sends one `earnings` event, what
//! `GET /api/v1/worker/earnings` answers (`null` where not served); that answer may wait on
//! the node, so it runs beside the snapshots and never holds them up. Both are read through
//! the worker's own router, so the stream can never disagree with the endpoints. A comment
//! line every [`KEEP_ALIVE`] keeps proxies from closing an idle stream; the stream ends with
//! the worker.

use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream};
use serde_json::{Map, Value};
use tower::ServiceExt;

/// Time between two snapshots: the monitor's default sampling interval.
pub const EVENT_EVERY: Duration = Duration::from_secs(1);
/// Time between two `earnings` events (the answer may ask the node about every unsettled
/// block the device found).
pub const EARNINGS_EVERY: Duration = Duration::from_secs(5);
/// The endpoint an `earnings` event reads.
pub const EARNINGS_PATH: &str = "/api/v1/worker/earnings";
/// Interval of keep-alive comments.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The largest endpoint answer read into a snapshot.
const MAX_BODY: usize = 4 << 20;

/// What a snapshot holds: its key and the endpoint it reads.
pub const SNAPSHOT_PARTS: [(&str, &str); 3] = [
    ("status", "/api/v1/worker/status?history=120"),
    ("switcher", "/api/v1/worker/switcher"),
    ("jobs", "/api/v1/worker/jobs"),
];

/// The events route over `api`, the worker's other routes.
pub(crate) fn events_router(api: Router) -> Router {
    Router::new()
        .route("/api/v1/worker/events", get(events))
        .with_state(api)
}

/// One endpoint's answer as JSON; `null` where it is not served or did not answer 200.
async fn read(api: &Router, path: &str) -> Value {
    let Ok(request) = Request::get(path).body(Body::empty()) else {
        return Value::Null;
    };
    let Ok(response) = api.clone().oneshot(request).await;
    if response.status() != StatusCode::OK {
        return Value::Null;
    }
    match axum::body::to_bytes(response.into_body(), MAX_BODY).await {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

/// The worker's state now, as the endpoints answer it.
pub(crate) async fn snapshot(api: &Router) -> Value {
    let mut out = Map::new();
    for (key, path) in SNAPSHOT_PARTS {
        out.insert(key.to_owned(), read(api, path).await);
    }
    Value::Object(out)
}

async fn events(State(api): State<Router>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut tick = tokio::time::interval(EVENT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let snapshots = stream::unfold((api.clone(), tick), |(api, mut tick)| async move {
        tick.tick().await;
        let data = snapshot(&api).await.to_string();
        let event = Event::default().event("snapshot").data(data);
        Some((Ok(event), (api, tick)))
    });
    let mut slow = tokio::time::interval(EARNINGS_EVERY);
    slow.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let earnings = stream::unfold((api, slow), |(api, mut slow)| async move {
        slow.tick().await;
        let data = read(&api, EARNINGS_PATH).await.to_string();
        let event = Event::default().event("earnings").data(data);
        Some((Ok(event), (api, slow)))
    });
    Sse::new(stream::select(snapshots, earnings)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Json;
    use futures_util::StreamExt;
    use serde_json::json;

    #[tokio::test]
    async fn a_snapshot_holds_each_endpoint_and_null_for_the_missing() {
        let api = Router::new().route(
            "/api/v1/worker/switcher",
            get(|| async { Json(serde_json::json!({"state": {"task": "mining"}})) }),
        );
        let s = snapshot(&api).await;
        assert_eq!(s["switcher"]["state"]["task"], "mining");
        assert!(s["status"].is_null());
        assert!(s["jobs"].is_null());
    }

    /// The data of the first `name` event in the SSE `text`.
    fn data_of(text: &str, name: &str) -> Option<Value> {
        let block = text
            .split("\n\n")
            .find(|b| b.lines().any(|l| l == format!("event: {name}")))?;
        let data = block.lines().find_map(|l| l.strip_prefix("data: "))?;
        serde_json::from_str(data).ok()
    }

    #[tokio::test]
    async fn the_stream_carries_each_endpoint_and_earnings_beside_them() {
        // The worker's routes as a worker without a job queue serves them: no jobs route.
        let api = Router::new()
            .route(
                "/api/v1/worker/status",
                get(|| async { Json(json!({"devices": ["cpu"]})) }),
            )
            .route(
                "/api/v1/worker/switcher",
                get(|| async { Json(json!({"device": "cpu"})) }),
            )
            .route(
                EARNINGS_PATH,
                get(|| async { Json(json!({"devices": [{"device": "cpu", "paid_units": 7}]})) }),
            );
        let request = Request::get("/api/v1/worker/events")
            .body(Body::empty())
            .unwrap();
        let Ok(response) = events_router(api).oneshot(request).await;
        assert_eq!(response.status(), StatusCode::OK);
        let kind = response.headers()["content-type"].to_str().unwrap();
        assert!(kind.starts_with("text/event-stream"), "{kind}");
        let mut body = response.into_body().into_data_stream();
        let mut text = String::new();
        // Both streams tick at once when the connection opens.
        while data_of(&text, "snapshot").is_none() || data_of(&text, "earnings").is_none() {
            let chunk = tokio::time::timeout(Duration::from_secs(10), body.next())
                .await
                .expect("an event within 10 s")
                .expect("the stream goes on")
                .unwrap();
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
        let snapshot = data_of(&text, "snapshot").unwrap();
        assert_eq!(snapshot["status"], json!({"devices": ["cpu"]}));
        assert_eq!(snapshot["switcher"], json!({"device": "cpu"}));
        assert_eq!(snapshot["jobs"], Value::Null, "not served: null");
        let earnings = data_of(&text, "earnings").unwrap();
        assert_eq!(earnings["devices"][0]["paid_units"], 7);
    }
}
