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

fn registry() -> Arc<ProviderRegistry> {
    Arc::new(ProviderRegistry::new(
        aic_primitives::Network::Devnet,
        crate::providers::ProviderConfig::default(),
    ))
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
    let hub = Arc::new(Hub::new(handle(&dir), registry(), 2));
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
    let hub = Arc::new(Hub::new(handle(&dir), registry(), 4));
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
    let hub = Arc::new(Hub::new(handle(&dir), registry(), 4));
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

/// The next event, which must be a `providers` one within 5 s.
async fn next_providers(
    events: &mut (impl Stream<Item = Arc<Published>> + Unpin),
) -> ProvidersEvent {
    let p = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .expect("a providers event within 5 s")
        .unwrap();
    assert_eq!(p.kind, "providers");
    serde_json::from_str(&p.data).unwrap()
}

#[tokio::test]
async fn an_announcement_and_the_expiry_after_it_are_providers_events() {
    let dir = tempfile::tempdir().unwrap();
    // Offline 3 s after the last announcement.
    let config = crate::providers::ProviderConfig {
        heartbeat_interval_ms: 1000,
        ..crate::providers::ProviderConfig::default()
    };
    let providers = Arc::new(ProviderRegistry::new(
        aic_primitives::Network::Devnet,
        config,
    ));
    let hub = Arc::new(Hub::new(handle(&dir), providers.clone(), 4));
    let (sub, rx) = hub.subscribe().unwrap();
    let events = client_events(rx, sub, vec!["providers"]);
    tokio::pin!(events);
    // The hub starts with what it holds: nobody yet.
    assert_eq!(next_providers(&mut events).await.total, 0);
    let now = unix_ms();
    let a = crate::providers::tests::announcement(7, 1, now, 0);
    let address = providers.announce(&a, now).unwrap().address;
    let announced = next_providers(&mut events).await;
    assert_eq!(announced.total, 1);
    assert_eq!(announced.list.providers[0].address, address);
    assert!(announced.list.providers[0].online, "{announced:?}");
    // No announcement follows: the hub says so when the provider goes offline.
    let expired = next_providers(&mut events).await;
    assert!(!expired.list.providers[0].online, "{expired:?}");
    assert!(expired.list.now_ms > now + 3000);
    hub.handle.close();
}
