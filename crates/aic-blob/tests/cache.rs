//! The shared worker cache: budget, LRU order across reopen, pins, zero-byte second ensure.

mod common;

use std::time::Duration;

use aic_blob::{BlobCache, BlobError, BlobId, Progress, Want};
use common::{bytes, serve, Behavior};

const KB: usize = 1000;

fn open(dir: &std::path::Path, budget: u64) -> BlobCache {
    common::cache(dir, budget)
}

fn want(b: &[u8]) -> Want {
    Want {
        id: BlobId::of(b),
        bytes: b.len() as u64,
    }
}

fn quiet(_: Progress) {}

fn pause() {
    std::thread::sleep(Duration::from_millis(20));
}

#[test]
fn a_second_job_on_the_same_data_moves_zero_bytes() {
    let blobs: Vec<Vec<u8>> = (0..6).map(|i| bytes(i, 100 * KB)).collect();
    let server = serve(&blobs, Behavior::Good);
    let dir = tempfile::tempdir().unwrap();
    let cache = open(dir.path(), 10_000_000);
    let wants: Vec<Want> = blobs.iter().map(|b| want(b)).collect();
    let sources = [server.base.clone()];
    let (pins1, first) = cache.ensure(&wants, &sources, &quiet).unwrap();
    assert_eq!(first.bytes(), 600_000);
    let requests = server.requests().len();
    // A second job, another cache handle on the same directory (as another process would).
    let other = open(dir.path(), 10_000_000);
    let (pins2, second) = other.ensure(&wants, &sources, &quiet).unwrap();
    assert_eq!(second.bytes(), 0);
    assert_eq!(server.requests().len(), requests);
    assert_eq!(pins1.ids().len(), 6);
    drop((pins1, pins2));
}

#[test]
fn eviction_keeps_pinned_blobs_and_refuses_what_cannot_fit() {
    let blobs: Vec<Vec<u8>> = (0..5).map(|i| bytes(20 + i, 100 * KB)).collect();
    let server = serve(&blobs, Behavior::Good);
    let sources = [server.base.clone()];
    let dir = tempfile::tempdir().unwrap();
    let cache = open(dir.path(), 300_000);
    let w: Vec<Want> = blobs.iter().map(|b| want(b)).collect();

    let (job_a, _) = cache.ensure(&w[0..1], &sources, &quiet).unwrap(); // pinned, oldest
    pause();
    let (job_b, _) = cache.ensure(&w[1..3], &sources, &quiet).unwrap();
    drop(job_b); // 1 and 2 unpinned
    pause();
    // Needs room for one: the oldest unpinned (1) goes, the pinned oldest (0) stays.
    let (job_c, _) = cache.ensure(&w[3..4], &sources, &quiet).unwrap();
    let store = cache.store();
    assert!(store.has(&w[0].id) && !store.has(&w[1].id));
    assert!(store.has(&w[2].id) && store.has(&w[3].id));
    assert!(cache.used_bytes().unwrap() <= 300_000);

    // 0 and 3 are pinned; 2 can go, but 4 and 1 (200 KB more) cannot fit beside 300 KB of pins.
    let err = cache.ensure(&[w[4], w[1]], &sources, &quiet).unwrap_err();
    assert!(
        matches!(
            err,
            BlobError::BudgetExceeded {
                budget: 300_000,
                pinned: 400_000
            }
        ),
        "{err}"
    );
    assert!(store.has(&w[2].id), "a refused request evicts nothing");
    drop((job_a, job_c));
    // With the pins gone it fits.
    let (_job_d, report) = cache.ensure(&[w[4], w[1]], &sources, &quiet).unwrap();
    assert_eq!(report.bytes(), 200_000);
    assert!(cache.used_bytes().unwrap() <= 300_000);
}

#[test]
fn lru_order_survives_reopen() {
    let blobs: Vec<Vec<u8>> = (0..4).map(|i| bytes(40 + i, 50 * KB)).collect();
    let server = serve(&blobs, Behavior::Good);
    let sources = [server.base.clone()];
    let dir = tempfile::tempdir().unwrap();
    let w: Vec<Want> = blobs.iter().map(|b| want(b)).collect();
    {
        let cache = open(dir.path(), 150_000);
        for x in &w[0..3] {
            cache
                .ensure(std::slice::from_ref(x), &sources, &quiet)
                .unwrap();
            pause();
        }
        // Use 0 again: now 1 is the least recently used.
        cache.ensure(&w[0..1], &sources, &quiet).unwrap();
        pause();
    }
    let cache = open(dir.path(), 150_000);
    let order: Vec<BlobId> = cache.lru().unwrap().into_iter().map(|(id, _)| id).collect();
    assert_eq!(order, vec![w[1].id, w[2].id, w[0].id]);
    cache.ensure(&w[3..4], &sources, &quiet).unwrap();
    let store = cache.store();
    assert!(!store.has(&w[1].id));
    assert!(store.has(&w[0].id) && store.has(&w[2].id) && store.has(&w[3].id));
}
