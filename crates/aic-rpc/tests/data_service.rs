//! The worker's data service end to end, on real sockets: a node's blob route on 127.0.0.1
//! over a temp store, the data service on a Unix socket in a temp dir over a worker cache,
//! and `aic_blob`'s client with a `unix:` base URL, as a sandboxed job uses it.
#![cfg(feature = "data-service")]

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aic_blob::{
    BlobCache, BlobError, BlobId, BlobStore, CacheConfig, CacheSource, FetchConfig, Fetcher,
};
use aic_data::{Compression, ShardEntry, ShardSource};
use aic_rpc::RpcAuth;
use axum::extract::Request;
use axum::middleware::Next;

/// Requests the node saw, by method, for blob ids.
#[derive(Default)]
struct Counts {
    gets: AtomicUsize,
    heads: AtomicUsize,
}

struct Rig {
    _rt: tokio::runtime::Runtime,
    dirs: Vec<tempfile::TempDir>,
    node_store: BlobStore,
    counts: Arc<Counts>,
    socket: PathBuf,
    base: String,
}

fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

fn config() -> FetchConfig {
    FetchConfig {
        concurrency: 2,
        attempts_per_source: 1,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        min_bytes_per_sec: 0,
        grace: Duration::from_secs(1),
    }
}

/// A node with `blobs` in its store, and the data service over an empty worker cache.
fn rig(blobs: &[&[u8]]) -> Rig {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (node_dir, cache_dir, run_dir) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let node_store = BlobStore::open(node_dir.path()).unwrap();
    for b in blobs {
        node_store.put_bytes(b).unwrap();
    }
    let counts = Arc::new(Counts::default());
    let router = aic_rpc::blob_router(node_store.clone(), RpcAuth::new("u", "p")).layer(
        axum::middleware::from_fn({
            let counts = counts.clone();
            move |req: Request, next: Next| {
                let counts = counts.clone();
                async move {
                    let c = if req.method() == axum::http::Method::HEAD {
                        &counts.heads
                    } else {
                        &counts.gets
                    };
                    c.fetch_add(1, Ordering::SeqCst);
                    next.run(req).await
                }
            }
        }),
    );
    let node_url = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, router).await });
        url
    });
    let cache = BlobCache::open(
        cache_dir.path(),
        CacheConfig {
            budget_bytes: 64 << 20,
            fetch: config(),
        },
    )
    .unwrap();
    let socket = run_dir.path().join("data.sock");
    rt.block_on(async {
        let l = aic_rpc::bind_data_socket(&socket).unwrap();
        tokio::spawn(aic_rpc::serve_data_service(
            l,
            cache,
            vec![node_url],
            std::future::pending(),
        ));
    });
    let base = format!("unix:{}", socket.display());
    Rig {
        _rt: rt,
        dirs: vec![node_dir, cache_dir, run_dir],
        node_store,
        counts,
        socket,
        base,
    }
}

impl Rig {
    fn gets(&self) -> usize {
        self.counts.gets.load(Ordering::SeqCst)
    }

    /// A job's own client: a fresh store fetching through the socket.
    fn job(&self) -> (tempfile::TempDir, Fetcher) {
        let dir = tempfile::tempdir().unwrap();
        let f = Fetcher::new(BlobStore::open(dir.path()).unwrap(), config());
        (dir, f)
    }

    /// A raw request over the socket: the status code and the body's bytes.
    fn raw_bytes(&self, request: &str) -> (u16, Vec<u8>) {
        let mut s = UnixStream::connect(&self.socket).unwrap();
        s.write_all(request.as_bytes()).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).unwrap();
        let status = String::from_utf8_lossy(&answer[9..12]).parse().unwrap();
        let end = answer.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        (status, answer[end..].to_vec())
    }

    /// [`Rig::raw_bytes`] with the body as text.
    fn raw(&self, request: &str) -> (u16, String) {
        let (status, body) = self.raw_bytes(request);
        (status, String::from_utf8_lossy(&body).into_owned())
    }
}

#[test]
fn blobs_come_through_the_socket_once_then_from_the_cache() {
    let big = bytes(1, 6 << 20);
    let small = bytes(2, 1000);
    let rig = rig(&[&big, &small]);
    let ids = [BlobId::of(&big), BlobId::of(&small)];
    let mode = std::fs::metadata(&rig.socket).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, aic_rpc::DATA_SOCKET_MODE);

    let (_d, job) = rig.job();
    let report = job
        .fetch(&ids, std::slice::from_ref(&rig.base), &|_| {})
        .unwrap();
    assert_eq!(report.bytes(), (big.len() + small.len()) as u64);
    assert_eq!(job.store().get(&ids[0]).unwrap(), big);
    assert_eq!(job.store().get(&ids[1]).unwrap(), small);
    assert_eq!(report.blobs[0].source.as_deref(), Some(rig.base.as_str()));
    assert_eq!(rig.gets(), 2, "one upstream GET per blob");

    // A second job: every byte through the socket, none upstream.
    let (_d2, job2) = rig.job();
    let report = job2
        .fetch(&ids, std::slice::from_ref(&rig.base), &|_| {})
        .unwrap();
    assert_eq!(report.bytes(), (big.len() + small.len()) as u64);
    assert_eq!(job2.store().get(&ids[0]).unwrap(), big);
    assert_eq!(rig.gets(), 2, "served from the worker cache");

    // HEAD over the socket gives the size.
    assert_eq!(
        job2.remote_len(&ids[0], std::slice::from_ref(&rig.base))
            .unwrap(),
        big.len() as u64
    );
}

#[test]
fn a_part_file_resumes_with_a_range_through_the_socket() {
    let big = bytes(3, 3 << 20);
    let id = BlobId::of(&big);
    let rig = rig(&[&big]);
    let (dir, job) = rig.job();
    let half = big.len() / 2;
    let part = dir.path().join("partial").join(format!("{id}.part"));
    std::fs::write(&part, &big[..half]).unwrap();
    let report = job
        .fetch(&[id], std::slice::from_ref(&rig.base), &|_| {})
        .unwrap();
    assert_eq!(report.blobs[0].resumed_from, half as u64);
    assert_eq!(report.blobs[0].bytes, (big.len() - half) as u64);
    assert_eq!(job.store().get(&id).unwrap(), big);
    assert!(!part.exists());

    // A raw range request: 206 with the tail.
    let (status, body) = rig.raw_bytes(&format!(
        "GET /api/v1/blobs/{id} HTTP/1.1\r\nHost: x\r\nRange: bytes=-5\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 206);
    assert_eq!(body, &big[big.len() - 5..]);
}

#[test]
fn unknown_malformed_and_refused_requests() {
    let small = bytes(4, 5000);
    let rig = rig(&[&small]);
    let (_d, job) = rig.job();
    let unknown = BlobId::of(b"nobody has this");
    let err = job
        .fetch(&[unknown], std::slice::from_ref(&rig.base), &|_| {})
        .unwrap_err();
    let BlobError::AllSourcesFailed { errors, .. } = &err else {
        panic!("{err}");
    };
    assert!(errors[0].ends_with("HTTP 404"), "{err}");
    assert!(matches!(
        job.remote_len(&unknown, std::slice::from_ref(&rig.base)),
        Err(BlobError::NotFound(_))
    ));

    let (status, body) =
        rig.raw("GET /api/v1/blobs/ABC HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bad-blob-id"), "{body}");
    let id = BlobId::of(&small);
    let (status, _) = rig.raw(&format!(
        "PUT /api/v1/blobs/{id} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 405, "read-only");
    let (status, _) =
        rig.raw("GET /api/v1/status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 404);

    // A missing socket is a connection error naming it.
    let gone = format!("unix:{}", Path::new("/nonexistent/data.sock").display());
    let err = job.fetch(&[id], &[gone], &|_| {}).unwrap_err();
    assert!(
        err.to_string()
            .contains("connecting to /nonexistent/data.sock"),
        "{err}"
    );
}

#[test]
fn a_tampered_upstream_blob_is_refused_and_never_cached() {
    let good = bytes(5, 200_000);
    let id = BlobId::of(&good);
    let rig = rig(&[&good]);
    let path = rig.node_store.path(&id);
    let mut bad = good.clone();
    bad[100_000] ^= 1;
    std::fs::write(&path, &bad).unwrap();

    let (status, body) = rig.raw(&format!(
        "GET /api/v1/blobs/{id} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    ));
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("hash mismatch"), "{body}");

    let (_d, job) = rig.job();
    let err = job
        .fetch(&[id], std::slice::from_ref(&rig.base), &|_| {})
        .unwrap_err();
    assert!(err.to_string().contains("HTTP 502"), "{err}");
    assert!(!job.store().has(&id));

    // Repaired upstream: now it comes through.
    std::fs::write(&path, &good).unwrap();
    job.fetch(&[id], std::slice::from_ref(&rig.base), &|_| {})
        .unwrap();
    assert_eq!(job.store().get(&id).unwrap(), good);
}

#[test]
fn concurrent_jobs_asking_for_one_missing_blob_fetch_it_once() {
    let big = bytes(6, 4 << 20);
    let id = BlobId::of(&big);
    let rig = rig(&[&big]);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                let (_d, job) = rig.job();
                job.fetch(&[id], std::slice::from_ref(&rig.base), &|_| {})
                    .unwrap();
                assert_eq!(job.store().get(&id).unwrap(), big);
            });
        }
    });
    assert_eq!(rig.gets(), 1, "one upstream GET for four jobs");
}

#[test]
fn a_cache_source_reads_shards_through_the_socket() {
    let shards: Vec<Vec<u8>> = (10..14).map(|i| bytes(i, 300_000)).collect();
    let refs: Vec<&[u8]> = shards.iter().map(Vec::as_slice).collect();
    let rig = rig(&refs);
    // The job's own cache inside the sandbox, fed only by the socket.
    let dir = tempfile::tempdir().unwrap();
    let cache = BlobCache::open(
        dir.path(),
        CacheConfig {
            budget_bytes: 1 << 30,
            fetch: config(),
        },
    )
    .unwrap();
    let source = CacheSource::new(cache, vec![rig.base.clone()]);
    for s in &shards {
        let entry = ShardEntry {
            blake3: BlobId::of(s).to_hex(),
            bytes: s.len() as u64,
            raw_bytes: 0,
            raw_blake3: String::new(),
            samples: 1,
            compression: Compression::Zstd,
        };
        assert_eq!(&source.shard(&entry).unwrap(), s);
    }
    assert_eq!(source.shards_fetched(), 4);
    assert_eq!(source.bytes_moved(), 1_200_000);
    assert_eq!(rig.gets(), 4);
}

#[test]
fn rot_in_the_worker_cache_is_never_passed_on_and_heals() {
    let blob = bytes(7, 1 << 20);
    let id = BlobId::of(&blob);
    let rig = rig(&[&blob]);
    let (_d, job) = rig.job();
    job.fetch(&[id], std::slice::from_ref(&rig.base), &|_| {})
        .unwrap();
    assert_eq!(rig.gets(), 1);
    // Rot in the data service's cache (its `blobs/` store) after the blob was verified.
    let cached = BlobStore::open(rig.dirs[1].path().join("blobs")).unwrap();
    let mut rotten = std::fs::read(cached.path(&id)).unwrap();
    rotten[1000] ^= 0x40;
    std::fs::write(cached.path(&id), rotten).unwrap();

    // The full read aborts and quarantines; later attempts get the blob fetched afresh.
    let dir = tempfile::tempdir().unwrap();
    let patient = Fetcher::new(
        BlobStore::open(dir.path()).unwrap(),
        FetchConfig {
            attempts_per_source: 3,
            ..config()
        },
    );
    patient
        .fetch(&[id], std::slice::from_ref(&rig.base), &|_| {})
        .unwrap();
    assert_eq!(patient.store().get(&id).unwrap(), blob);
    assert_eq!(rig.gets(), 2, "fetched once more from the node");
    assert_eq!(cached.get(&id).unwrap(), blob);
}
