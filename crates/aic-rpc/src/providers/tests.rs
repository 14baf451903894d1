//! The registry with the clock passed in: expiry at its boundary, retention, the byte budget.

use aic_api::provider::ProviderAnnouncement;
use aic_primitives::{Address, Network, SecretKey};
use serde_json::json;

use super::{ProviderConfig, ProviderError, ProviderRegistry};

const T0: u64 = 1_800_000_000_000;

pub(crate) fn announcement(i: u8, seq: u64, at_ms: u64, pad: usize) -> ProviderAnnouncement {
    let key = SecretKey::from_seed([i; 32]);
    let mut a = ProviderAnnouncement {
        version: 1,
        address: Address::from_public_key(&key.public_key()).to_bech32(Network::Devnet),
        public_key: hex::encode(key.public_key().to_bytes()),
        devices: vec![json!({"id": "cpu", "pad": "x".repeat(pad)})],
        endpoint: None,
        seq,
        sent_at_ms: at_ms,
        signature: String::new(),
    };
    a.signature = hex::encode(key.sign(&a.signing_bytes()).0);
    a
}

#[test]
fn online_until_exactly_three_intervals_then_listed_offline_then_forgotten() {
    let config = ProviderConfig {
        heartbeat_interval_ms: 1000,
        retention_ms: 20 * 60 * 1000,
        ..ProviderConfig::default()
    };
    let r = ProviderRegistry::new(Network::Devnet, config);
    let accepted = r.announce(&announcement(1, 1, T0, 0), T0).unwrap();
    assert_eq!(accepted.expires_at_ms, T0 + 3000);
    let a = accepted.address;
    assert!(r.get(&a, T0 + 3000).unwrap().online);
    assert!(!r.get(&a, T0 + 3001).unwrap().online);
    assert_eq!(r.list(true, T0 + 3001).providers.len(), 0);
    assert_eq!(r.list(false, T0 + 3001).providers.len(), 1);
    // Listing after the retention forgets it.
    assert_eq!(r.list(false, T0 + 20 * 60 * 1000 + 1).providers.len(), 0);
    assert!(matches!(
        r.get(&a, T0),
        Err(ProviderError::UnknownProvider(_))
    ));
}

#[test]
fn the_byte_budget_refuses_while_online_and_evicts_offline() {
    let config = ProviderConfig {
        heartbeat_interval_ms: 1000,
        max_total_bytes: 3000,
        ..ProviderConfig::default()
    };
    let r = ProviderRegistry::new(Network::Devnet, config);
    r.announce(&announcement(1, 1, T0, 2000), T0).unwrap();
    // A second provider of 2000 bytes does not fit while the first is online.
    assert!(matches!(
        r.announce(&announcement(2, 1, T0, 2000), T0),
        Err(ProviderError::RegistryFull(_))
    ));
    assert_eq!(r.len(), 1);
    // A provider may grow within the budget, not past it.
    r.announce(&announcement(1, 2, T0, 2500), T0).unwrap();
    assert!(matches!(
        r.announce(&announcement(1, 3, T0, 3500), T0),
        Err(ProviderError::RegistryFull(_))
    ));
    // Once the first is offline, the second takes its place.
    let later = T0 + 3001;
    r.announce(&announcement(2, 1, later, 2000), later).unwrap();
    assert_eq!(r.len(), 1);
    assert_eq!(r.list(false, later).providers[0].heartbeats, 1);
}
