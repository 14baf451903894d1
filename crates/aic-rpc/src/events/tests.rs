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
