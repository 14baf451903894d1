//! `CacheSource`, the loader's shard source over the worker cache, against a real HTTP source
//! on 127.0.0.1: a data set larger than the budget streams through it, a shard evicted since
//! its last read is fetched again, and a corrupt cached copy is replaced, never returned.
#![cfg(feature = "client")]

mod common;

use aic_blob::{BlobId, CacheSource};
use aic_data::{Compression, ShardEntry, ShardSource};
use common::{bytes, cache, serve, Behavior};

const KB: usize = 1000;

fn entry(b: &[u8]) -> ShardEntry {
    ShardEntry {
        blake3: BlobId::of(b).to_hex(),
        bytes: b.len() as u64,
        raw_bytes: 0,
        raw_blake3: String::new(),
        samples: 1,
        compression: Compression::Zstd,
    }
}

#[test]
fn a_data_set_larger_than_the_budget_streams_through_the_cache() {
    let shards: Vec<Vec<u8>> = (0..6).map(|i| bytes(i, 100 * KB)).collect();
    let server = serve(&shards, Behavior::Good);
    let dir = tempfile::tempdir().unwrap();
    // Room for two and a half shards of the six.
    let source = CacheSource::new(cache(dir.path(), 250_000), vec![server.base.clone()]);
    for s in &shards {
        assert_eq!(&source.shard(&entry(s)).unwrap(), s);
    }
    assert_eq!(source.bytes_moved(), 600_000);
    assert_eq!(source.shards_fetched(), 6);
    // The last shard is still cached: reading it again moves nothing.
    assert_eq!(source.shard(&entry(&shards[5])).unwrap(), shards[5]);
    assert_eq!(source.bytes_moved(), 600_000);
    // The first was evicted to make room: it is fetched again.
    assert_eq!(source.shard(&entry(&shards[0])).unwrap(), shards[0]);
    assert_eq!(source.bytes_moved(), 700_000);
}

#[test]
fn a_corrupt_cached_shard_is_fetched_again_and_never_returned() {
    let shards: Vec<Vec<u8>> = (10..12).map(|i| bytes(i, 50 * KB)).collect();
    let server = serve(&shards, Behavior::Good);
    let dir = tempfile::tempdir().unwrap();
    let c = cache(dir.path(), 10_000_000);
    let path = c.store().path(&BlobId::of(&shards[0]));
    let source = CacheSource::new(c, vec![server.base.clone()]);
    assert_eq!(source.shard(&entry(&shards[0])).unwrap(), shards[0]);
    // Rot on disk after the shard was verified and cached.
    let mut rotten = std::fs::read(&path).unwrap();
    rotten[1234] ^= 0x10;
    std::fs::write(&path, rotten).unwrap();
    assert_eq!(source.shard(&entry(&shards[0])).unwrap(), shards[0]);
    assert_eq!(source.bytes_moved(), 100_000, "fetched twice");
}

#[test]
fn a_shard_no_source_has_is_an_error() {
    let shards = vec![bytes(20, 10 * KB)];
    let server = serve(&shards, Behavior::Good);
    let dir = tempfile::tempdir().unwrap();
    let source = CacheSource::new(cache(dir.path(), 10_000_000), vec![server.base.clone()]);
    let missing = bytes(21, 10 * KB);
    assert!(source.shard(&entry(&missing)).is_err());
    assert_eq!(source.bytes_moved(), 0);
}
