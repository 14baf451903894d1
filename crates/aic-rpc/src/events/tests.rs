use std::sync::Arc;

use aic_chain::{Chain, ChainConfig};
use aic_primitives::ChainParams;

use super::*;

fn handle(dir: &tempfile::TempDir) -> Arc<NodeHandle> {
    let chain = Chain::open(
        ChainParams::devnet(),
        &dir.path().join("chain.redb"),
        ChainConfig::default(),
    )
    .unwrap();
    Arc::new(NodeHandle::new(chain, None))
}

fn params(pairs: &[(&str, &str)]) -> Params {
    let map = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    Params::new(map, &["types"]).unwrap()
}

#[test]
fn event_types_default_to_all_and_refuse_unknown_names() {
    assert_eq!(event_types(&params(&[])).unwrap(), EVENT_TYPES.to_vec());
    assert_eq!(
        event_types(&params(&[("types", "tip, tx")])).unwrap(),
        vec!["tip", "tx"]
    );
    let e = event_types(&params(&[("types", "tip,blocks")])).unwrap_err();
    assert_eq!(e.code(), "bad-event-type");
}

#[tokio::test]
async fn subscribers_beyond_the_limit_get_503_and_places_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Arc::new(Hub::new(handle(&dir), 2));
    let a = hub.subscribe().unwrap();
    let b = hub.subscribe().unwrap();
    let refused = hub.subscribe().unwrap_err();
    assert_eq!(refused.code(), "too-many-subscribers");
    assert_eq!(refused.status(), 503);
    drop(a);
    let c = hub.subscribe().unwrap();
    drop((b, c));
    assert_eq!(hub.subscribers.load(Ordering::Relaxed), 0);
    hub.handle.close();
}

fn published(kind: &'static str, id: u64) -> Arc<Published> {
    Arc::new(Published {
        kind,
        id: Some(id),
        data: format!("{{\"n\":{id}}}"),
    })
}

#[tokio::test]
async fn a_client_that_falls_behind_gets_lagged_then_the_newest_events() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Arc::new(Hub::new(handle(&dir), 4));
    let (sub, rx) = hub.subscribe().unwrap();
    let events = client_events(rx, sub, EVENT_TYPES.to_vec());
    tokio::pin!(events);
    // The client reads nothing while 300 events go out: its buffer keeps the newest 256.
    for id in 1..=300 {
        hub.out.send(published("tip", id)).unwrap();
    }
    let first = events.next().await.unwrap();
    assert_eq!(first.kind, "lagged");
    assert_eq!(first.id, None);
    assert_eq!(first.data, r#"{"missed":44}"#);
    let next = events.next().await.unwrap();
    assert_eq!((next.kind, next.id), ("tip", Some(45)));
    let rest: Vec<_> = events.take(255).map(|p| p.id.unwrap()).collect().await;
    assert_eq!(rest, (46..=300).collect::<Vec<_>>());
    hub.handle.close();
}

#[tokio::test]
async fn a_client_gets_only_the_types_it_asked_for_and_lagged() {
    let dir = tempfile::tempdir().unwrap();
    let hub = Arc::new(Hub::new(handle(&dir), 4));
    let (sub, rx) = hub.subscribe().unwrap();
    let events = client_events(rx, sub, vec!["tx"]);
    tokio::pin!(events);
    for (kind, id) in [
        ("tip", 1),
        ("tx", 2),
        ("mining", 3),
        ("lagged", 4),
        ("tx", 5),
    ] {
        hub.out.send(published(kind, id)).unwrap();
    }
    let got: Vec<_> = events
        .take(3)
        .map(|p| (p.kind, p.id.unwrap()))
        .collect()
        .await;
    assert_eq!(got, vec![("tx", 2), ("lagged", 4), ("tx", 5)]);
    hub.handle.close();
}
