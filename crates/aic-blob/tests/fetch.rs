//! The transfer client against real sockets on 127.0.0.1: resume, corruption, slowness.

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aic_blob::{BlobError, BlobId, BlobStore, FetchConfig, Fetcher, Progress};
use common::{bytes, serve, Behavior};

fn config() -> FetchConfig {
    FetchConfig {
        concurrency: 2,
        attempts_per_source: 1,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(3),
        min_bytes_per_sec: 0,
        grace: Duration::from_millis(200),
    }
}

fn quiet(_: Progress) {}

#[test]
fn many_blobs_from_two_sources() {
    let blobs: Vec<Vec<u8>> = (0..8).map(|i| bytes(i, 100_000 + i as usize)).collect();
    let (a, b) = (serve(&blobs, Behavior::Good), serve(&blobs, Behavior::Good));
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let ids: Vec<BlobId> = blobs.iter().map(|b| BlobId::of(b)).collect();
    let f = Fetcher::new(store.clone(), config());
    let report = f
        .fetch(&ids, &[a.base.clone(), b.base.clone()], &quiet)
        .unwrap();
    assert_eq!(report.blobs.len(), 8);
    assert_eq!(
        report.bytes(),
        blobs.iter().map(|b| b.len() as u64).sum::<u64>()
    );
    for (id, blob) in ids.iter().zip(&blobs) {
        assert_eq!(&store.get(id).unwrap(), blob);
    }
    // Load is spread: each source served some.
    assert!(!a.requests().is_empty() && !b.requests().is_empty());
    // Present blobs move nothing.
    assert_eq!(
        f.fetch(&ids, std::slice::from_ref(&a.base), &quiet)
            .unwrap()
            .bytes(),
        0
    );
}

#[test]
fn a_killed_download_resumes_from_the_part_offset() {
    let blob = bytes(1, 1_000_000);
    let id = BlobId::of(&blob);
    let server = serve(
        std::slice::from_ref(&blob),
        Behavior::CloseAfter {
            after: 300_000,
            times: 1,
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let f = Fetcher::new(store.clone(), config());
    let err = f
        .fetch(&[id], std::slice::from_ref(&server.base), &quiet)
        .unwrap_err();
    assert!(matches!(err, BlobError::AllSourcesFailed { .. }), "{err}");
    // Nothing complete-looking: no blob, only the part file.
    assert!(!store.has(&id) && store.list().unwrap().is_empty());
    let part = store.root().join("partial").join(format!("{id}.part"));
    assert_eq!(std::fs::metadata(&part).unwrap().len(), 300_000);

    // A new client (as after a restart) continues where the part ends.
    let store = BlobStore::open(dir.path()).unwrap();
    let report = Fetcher::new(store.clone(), config())
        .fetch(&[id], std::slice::from_ref(&server.base), &quiet)
        .unwrap();
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].range, None);
    assert_eq!(seen[1].range.as_deref(), Some("bytes=300000-"));
    assert_eq!(report.blobs[0].resumed_from, 300_000);
    assert_eq!(report.blobs[0].bytes, 700_000);
    assert_eq!(store.get(&id).unwrap(), blob);
    assert!(!part.exists());
}

#[test]
fn corrupt_bytes_never_become_visible_and_another_source_serves() {
    let blobs: Vec<Vec<u8>> = (0..4).map(|i| bytes(10 + i, 200_000)).collect();
    let ids: Vec<BlobId> = blobs.iter().map(|b| BlobId::of(b)).collect();
    let bad = serve(&blobs, Behavior::Corrupt);
    let good = serve(&blobs, Behavior::Good);
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let f = Fetcher::new(store.clone(), config());

    // Only the corrupt source: every blob fails, and nothing is stored.
    let err = f
        .fetch(&ids[..1], std::slice::from_ref(&bad.base), &quiet)
        .unwrap_err();
    assert!(err.to_string().contains("hash mismatch"), "{err}");
    assert!(store.list().unwrap().is_empty());

    let failed = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        if let Progress::Failed { source, .. } = p {
            failed.lock().unwrap().push(source);
        }
    };
    let sources = [bad.base.clone(), good.base.clone()];
    let report = f.fetch(&ids, &sources, &progress).unwrap();
    for (b, blob) in report.blobs.iter().zip(&blobs) {
        assert_eq!(b.source.as_deref(), Some(good.base.as_str()));
        assert_eq!(store.get(&b.id).unwrap(), *blob);
    }
    let failed = failed.into_inner().unwrap();
    assert!(!failed.is_empty() && failed.iter().all(|s| *s == bad.base));
}

#[test]
fn a_slow_source_fails_over() {
    let blob = bytes(3, 400_000);
    let id = BlobId::of(&blob);
    let slow = serve(std::slice::from_ref(&blob), Behavior::Slow { every_ms: 50 });
    let good = serve(std::slice::from_ref(&blob), Behavior::Good);
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let cfg = FetchConfig {
        min_bytes_per_sec: 200_000, // the slow source sends about 20 KB/s
        ..config()
    };
    let started = Instant::now();
    let report = Fetcher::new(store.clone(), cfg)
        .fetch(&[id], &[slow.base.clone(), good.base.clone()], &quiet)
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    let b = &report.blobs[0];
    assert_eq!(b.source.as_deref(), Some(good.base.as_str()));
    assert_eq!(b.attempts, 2);
    // The good source resumed after the bytes the slow one delivered.
    let ranges: Vec<_> = good.requests().into_iter().map(|r| r.range).collect();
    assert_eq!(ranges.len(), 1);
    assert!(
        ranges[0]
            .as_deref()
            .is_some_and(|r| r.starts_with("bytes=") && r != "bytes=0-"),
        "{ranges:?}"
    );
    assert_eq!(b.resumed_from, 0);
    assert_eq!(store.get(&id).unwrap(), blob);
}

#[test]
fn http_errors_and_dead_sources_fail_over() {
    let blob = bytes(4, 50_000);
    let id = BlobId::of(&blob);
    let empty = serve(&[], Behavior::Good); // answers 404
    let good = serve(std::slice::from_ref(&blob), Behavior::Good);
    // A port nothing listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let report = Fetcher::new(store.clone(), config())
        .fetch(
            &[id],
            &[dead, empty.base.clone(), good.base.clone()],
            &quiet,
        )
        .unwrap();
    assert_eq!(report.blobs[0].source.as_deref(), Some(good.base.as_str()));
    assert_eq!(report.blobs[0].attempts, 3);
    assert!(matches!(
        Fetcher::new(store, config()).fetch(&[id], &[], &quiet),
        Err(BlobError::NoSources)
    ));
}
