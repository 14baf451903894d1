//! `GET /api/v1/events`: the node's changes as server-sent events, for the dashboard and any
//! client that would otherwise poll.
//!
//! One hub task per router turns the node's [`Notice`]s, the Stratum statistics' changes and
//! the provider registry's (announcements, reports, a provider going offline) into events, serialized once, and broadcasts them to every connected client. Each client
//! reads from a bounded buffer ([`CLIENT_BUFFER`] events): a client that falls further behind
//! gets a `lagged` event saying how many it missed (and should reload what it shows) rather
//! than making the node hold more. A comment line every [`KEEP_ALIVE`] keeps proxies from
//! closing an idle stream. Streams end when the node shuts down.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

use aic_api::events::{
    HelloEvent, LaggedEvent, MiningEvent, ProvidersEvent, TipEvent, EVENT_TYPES,
};
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use futures_util::stream::{self, Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::Instant;

use crate::convert::tx_json;
use crate::explorer::{summary_of, Params};
use crate::handle::{NodeHandle, Notice};
use crate::providers::{unix_ms, ProviderRegistry};
use crate::rest::Failure;

/// Events a client may fall behind by before it is told it lagged.
pub const CLIENT_BUFFER: usize = 256;
/// Most clients streaming at once; more are answered 503 `too-many-subscribers`.
pub const MAX_SUBSCRIBERS: usize = 256;
/// Interval of keep-alive comments.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Least time between two `mining` events.
const MINING_EVERY: Duration = Duration::from_secs(1);
/// Least time between two `providers` events.
const PROVIDERS_EVERY: Duration = Duration::from_secs(1);

/// An event as sent: its name, sequence number and JSON body.
#[derive(Debug)]
struct Published {
    kind: &'static str,
    /// The hub's sequence number; none on a client's own `lagged`.
    id: Option<u64>,
    data: String,
}

/// Fans the node's changes out to the connected clients.
#[derive(Debug)]
pub(crate) struct Hub {
    handle: Arc<NodeHandle>,
    providers: Arc<ProviderRegistry>,
    out: broadcast::Sender<Arc<Published>>,
    started: Once,
    subscribers: AtomicUsize,
    max_subscribers: usize,
}

/// A client's place among the subscribers, given back when its stream is dropped.
#[derive(Debug)]
struct Subscription(Arc<Hub>);

impl Drop for Subscription {
    fn drop(&mut self) {
        self.0.subscribers.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Hub {
    pub(crate) fn new(
        handle: Arc<NodeHandle>,
        providers: Arc<ProviderRegistry>,
        max_subscribers: usize,
    ) -> Hub {
        Hub {
            handle,
            providers,
            out: broadcast::channel(CLIENT_BUFFER).0,
            started: Once::new(),
            subscribers: AtomicUsize::new(0),
            max_subscribers,
        }
    }

    /// Takes a place among the subscribers, or 503 when they are full.
    fn subscribe(
        self: &Arc<Hub>,
    ) -> Result<(Subscription, broadcast::Receiver<Arc<Published>>), Failure> {
        let taken = self.subscribers.fetch_add(1, Ordering::Relaxed);
        let sub = Subscription(self.clone());
        if taken >= self.max_subscribers {
            return Err(Failure::new(
                503,
                "too-many-subscribers",
                format!(
                    "{} event streams are open; try again later",
                    self.max_subscribers
                ),
            ));
        }
        // Started on first use, inside the server's runtime.
        self.started.call_once(|| {
            tokio::spawn(self.clone().run());
        });
        Ok((sub, self.out.subscribe()))
    }

    fn publish(&self, seq: &mut u64, kind: &'static str, body: &impl Serialize) {
        let Ok(data) = serde_json::to_string(body) else {
            return;
        };
        *seq += 1;
        let _ = self.out.send(Arc::new(Published {
            kind,
            id: Some(*seq),
            data,
        }));
    }

    /// Turns notices into events until the node closes.
    async fn run(self: Arc<Hub>) {
        let mut notices = self.handle.notices();
        let mut mining = self.handle.mining().changes();
        let mut seq = 0u64;
        let mut mining_due: Option<Instant> = None;
        let mut last_mining = Instant::now() - MINING_EVERY;
        let mut providers = self.providers.changes();
        // What changed before the hub started is sent at once.
        providers.mark_changed();
        let mut providers_due: Option<Instant> = None;
        let mut last_providers = Instant::now() - PROVIDERS_EVERY;
        // When the next online provider goes offline unless it announces again.
        let mut expiry_due = self.next_expiry();
        let closed = self.handle.closed();
        tokio::pin!(closed);
        loop {
            tokio::select! {
                () = &mut closed => break,
                notice = notices.recv() => match notice {
                    Ok(n) if self.out.receiver_count() > 0 => {
                        if let Some((kind, data)) = self.describe(n).await {
                            seq += 1;
                            let _ = self.out.send(Arc::new(Published { kind, id: Some(seq), data }));
                        }
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(missed)) => {
                        tracing::debug!(target: "rpc::events", missed, "event hub lagged");
                        self.publish(&mut seq, "lagged", &LaggedEvent { missed });
                    }
                    Err(RecvError::Closed) => break,
                },
                changed = mining.changed(), if mining_due.is_none() => {
                    if changed.is_err() {
                        break;
                    }
                    mining_due = Some((last_mining + MINING_EVERY).max(Instant::now()));
                }
                () = sleep_until(mining_due) => {
                    mining_due = None;
                    last_mining = Instant::now();
                    mining.borrow_and_update();
                    let workers = self.handle.mining().snapshot();
                    let total = workers.len();
                    let workers = workers.into_iter().take(MiningEvent::MAX_WORKERS).collect();
                    self.publish(&mut seq, "mining", &MiningEvent { workers, total });
                }
                changed = providers.changed(), if providers_due.is_none() => {
                    if changed.is_err() {
                        break;
                    }
                    providers_due = Some((last_providers + PROVIDERS_EVERY).max(Instant::now()));
                }
                () = sleep_until(earliest(providers_due, expiry_due)) => {
                    providers_due = None;
                    last_providers = Instant::now();
                    providers.borrow_and_update();
                    let mut list = self.providers.list(false, unix_ms());
                    let total = list.providers.len();
                    list.providers.truncate(ProvidersEvent::MAX_PROVIDERS);
                    self.publish(&mut seq, "providers", &ProvidersEvent { list, total });
                    expiry_due = self.next_expiry();
                }
            }
        }
        tracing::debug!(target: "rpc::events", "event hub stopped");
    }

    /// When the next online provider goes offline, just after its expiry.
    fn next_expiry(&self) -> Option<Instant> {
        let now_ms = unix_ms();
        let at_ms = self.providers.next_expiry(now_ms)?;
        Some(Instant::now() + Duration::from_millis(at_ms.saturating_sub(now_ms) + 1))
    }

    /// The event of a notice, read from the chain on a blocking thread; `None` when what it
    /// names is already gone (a transaction mined or evicted at once).
    async fn describe(&self, notice: Notice) -> Option<(&'static str, String)> {
        let handle = self.handle.clone();
        tokio::task::spawn_blocking(move || {
            let chain = handle.chain();
            match notice {
                Notice::Tip {
                    hash, reorg_depth, ..
                } => {
                    let block = summary_of(&chain, hash).ok()?;
                    let body = TipEvent { block, reorg_depth };
                    Some(("tip", serde_json::to_string(&body).ok()?))
                }
                Notice::Tx { txid } => {
                    let found = chain.find_tx(&txid).ok()??;
                    let body = tx_json(&found.tx, chain.params().network, found.block);
                    Some(("tx", serde_json::to_string(&body).ok()?))
                }
            }
        })
        .await
        .ok()?
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(t) => tokio::time::sleep_until(t).await,
        None => std::future::pending().await,
    }
}

/// The event-stream route, merged into [`crate::router`].
pub(crate) fn router(handle: Arc<NodeHandle>, providers: Arc<ProviderRegistry>) -> Router {
    Router::new()
        .route("/api/v1/events", get(events))
        .with_state(Arc::new(Hub::new(handle, providers, MAX_SUBSCRIBERS)))
}

/// The event names asked for with `?types=a,b`: all of them by default.
fn event_types(p: &Params) -> Result<Vec<&'static str>, Failure> {
    let Some(text) = p.text("types") else {
        return Ok(EVENT_TYPES.to_vec());
    };
    text.split(',')
        .map(|t| {
            EVENT_TYPES
                .iter()
                .copied()
                .find(|k| *k == t.trim())
                .ok_or_else(|| {
                    Failure::new(
                        400,
                        "bad-event-type",
                        format!(
                            "unknown event type {t:?}; known: {}",
                            EVENT_TYPES.join(", ")
                        ),
                    )
                })
        })
        .collect()
}

/// What one client is sent after `hello`: the hub's events of the `types` it asked for (and
/// `lagged` always), and a `lagged` of its own when it fell more than [`CLIENT_BUFFER`]
/// behind. Holds the client's place among the subscribers until dropped.
fn client_events(
    rx: broadcast::Receiver<Arc<Published>>,
    subscription: Subscription,
    types: Vec<&'static str>,
) -> impl Stream<Item = Arc<Published>> {
    stream::unfold(
        (rx, subscription, types),
        |(mut rx, sub, types)| async move {
            loop {
                let event = match rx.recv().await {
                    Ok(p) if p.kind == "lagged" || types.contains(&p.kind) => p,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(missed)) => Arc::new(Published {
                        kind: "lagged",
                        id: None,
                        data: serde_json::to_string(&LaggedEvent { missed }).unwrap_or_default(),
                    }),
                    Err(RecvError::Closed) => return None,
                };
                return Some((event, (rx, sub, types)));
            }
        },
    )
}

fn sse_event(kind: &str, id: Option<u64>, data: &str) -> Event {
    let e = Event::default().event(kind).data(data);
    match id {
        Some(id) => e.id(id.to_string()),
        None => e,
    }
}

async fn events(
    State(hub): State<Arc<Hub>>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Failure> {
    let p = Params::new(query, &["types"])?;
    let types = event_types(&p)?;
    let (subscription, rx) = hub.subscribe()?;
    let handle = hub.handle.clone();
    let names: Vec<String> = types.iter().map(|t| (*t).to_owned()).collect();
    let hello = tokio::task::spawn_blocking(move || {
        let chain = handle.chain();
        let tip = chain.tip();
        HelloEvent {
            network: chain.params().network.to_string(),
            height: tip.entry.height.0,
            tip_hash: tip.hash.to_string(),
            types: names,
            keep_alive_secs: KEEP_ALIVE.as_secs(),
        }
    })
    .await
    .map_err(|e| Failure::new(500, "internal", e.to_string()))?;
    let hello = sse_event(
        "hello",
        None,
        &serde_json::to_string(&hello).unwrap_or_default(),
    )
    .retry(Duration::from_secs(3));
    let live = client_events(rx, subscription, types).map(|p| Ok(sse_event(p.kind, p.id, &p.data)));
    let handle = hub.handle.clone();
    let stream = stream::once(async move { Ok(hello) })
        .chain(live)
        .take_until(async move { handle.closed().await });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive")))
}

#[cfg(test)]
mod tests;
