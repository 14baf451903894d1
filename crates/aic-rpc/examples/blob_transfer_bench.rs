//! Blob transfer over loopback against plain file copy over a raw TCP socket.
//!
//! ```sh
//! cargo run --release -p aic-rpc --example blob_transfer_bench -- [runs]
//! ```
//!
//! Data: 64 MiB of pseudo-random bytes, as 16 shards of 4 MiB and as 1 blob of 64 MiB, stored
//! in a node-side `BlobStore` served by the node's real blob route (`aic_rpc::blob_router`,
//! axum, in-process). Each run writes into a fresh directory under `$AIC_BENCH_DIR` (default:
//! the system temp dir) and is timed end to end:
//! - `plain`: a raw TCP server sends each file with `std::io::copy` (sendfile); the client
//!   writes it to a file; `plain+fsync` also fsyncs each file.
//! - `fetch`: `aic_blob::Fetcher` over HTTP: Range-capable GET, BLAKE3 while writing the part
//!   file, verification, fsync, rename, directory fsync.
//! - `fetch, 1 of 2 sources corrupt`: a second node has one byte of the middle blob flipped on
//!   disk and serves it as is; every blob is tried there first, so the client receives the
//!   corrupt blob whole, finds the mismatch, discards it and fetches it from the good node.
//!
//! The same concurrency (4 transfers in flight) is used for plain copy and fetch. Medians of
//! `runs` (default 5) are printed. Prints to stdout: this is a benchmark binary.
#![allow(clippy::print_stdout, missing_docs)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use aic_blob::{BlobId, BlobStore, FetchConfig, Fetcher, Progress};
use aic_rpc::RpcAuth;

const MIB: usize = 1 << 20;
const CONCURRENCY: usize = 4;

/// A label, the timed body (given a fresh output directory) and its rates.
type Case<'a> = (&'static str, Box<dyn FnMut(&Path) + 'a>, Vec<f64>);

fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Serves the file named by the request line (`<path>\n`) raw, then closes.
fn plain_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                let mut name = Vec::new();
                let mut b = [0u8; 1];
                while conn.read_exact(&mut b).is_ok() && b[0] != b'\n' {
                    name.push(b[0]);
                }
                let mut f = std::fs::File::open(String::from_utf8(name).unwrap()).unwrap();
                std::io::copy(&mut f, &mut conn).unwrap();
            });
        }
    });
    addr
}

fn plain_copy(addr: &str, files: &[PathBuf], out: &Path, fsync: bool) {
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..CONCURRENCY.min(files.len()) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(src) = files.get(i) else { break };
                let mut c = TcpStream::connect(addr).unwrap();
                c.write_all(format!("{}\n", src.display()).as_bytes())
                    .unwrap();
                let mut f = std::fs::File::create(out.join(i.to_string())).unwrap();
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = c.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    f.write_all(&buf[..n]).unwrap();
                }
                if fsync {
                    f.sync_all().unwrap();
                }
            });
        }
    });
}

fn serve_store(rt: &tokio::runtime::Runtime, store: BlobStore) -> String {
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = aic_rpc::blob_router(store, RpcAuth::new("u", "p"));
    rt.spawn(async move { axum::serve(listener, router).await });
    base
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let root = std::env::var_os("AIC_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let work = tempfile::tempdir_in(&root).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server_store = BlobStore::open(work.path().join("node")).unwrap();
    let base = serve_store(&rt, server_store.clone());
    let plain = plain_server();
    let quiet = |_: Progress| {};
    println!(
        "blob transfer over loopback, {runs} runs each, medians; dir {}",
        root.display()
    );
    println!("{:<44} {:>10} {:>10}", "case", "MB/s", "vs plain+fsync");
    for (label, count, size) in [
        ("16 x 4 MiB", 16usize, 4 * MIB),
        ("1 x 64 MiB", 1, 64 * MIB),
    ] {
        let blobs: Vec<Vec<u8>> = (0..count).map(|i| bytes(i as u64 + 1, size)).collect();
        let ids: Vec<BlobId> = blobs
            .iter()
            .map(|b| server_store.put_bytes(b).unwrap())
            .collect();
        let files: Vec<PathBuf> = ids.iter().map(|id| server_store.path(id)).collect();
        let total = (count * size) as f64 / 1e6;
        let cfg = FetchConfig {
            concurrency: CONCURRENCY,
            ..FetchConfig::default()
        };
        // A second node whose copy of the middle blob rotted on disk; re-rotted every run.
        let bad_store = BlobStore::open(work.path().join(format!("bad-{count}"))).unwrap();
        for b in &blobs {
            bad_store.put_bytes(b).unwrap();
        }
        let bad_base = serve_store(&rt, bad_store.clone());
        let victim = ids[ids.len() / 2];
        let failovers = AtomicUsize::new(0);
        let count_failures = |p: Progress| {
            if matches!(p, Progress::Failed { .. }) {
                failovers.fetch_add(1, Ordering::Relaxed);
            }
        };
        let mut cases: [Case<'_>; 4] = [
            (
                "plain copy",
                Box::new(|out| plain_copy(&plain, &files, out, false)),
                Vec::new(),
            ),
            (
                "plain copy + fsync",
                Box::new(|out| plain_copy(&plain, &files, out, true)),
                Vec::new(),
            ),
            (
                "fetch (verify, fsync, rename)",
                Box::new(|out| {
                    let store = BlobStore::open(out).unwrap();
                    Fetcher::new(store, cfg.clone())
                        .fetch(&ids, std::slice::from_ref(&base), &quiet)
                        .unwrap();
                }),
                Vec::new(),
            ),
            (
                "fetch, 1 of 2 sources corrupt",
                Box::new(|out| {
                    let mut rotten = blobs[ids.len() / 2].clone();
                    rotten[size / 2] ^= 0xff;
                    std::fs::write(bad_store.path(&victim), &rotten).unwrap();
                    let store = BlobStore::open(out).unwrap();
                    // The corrupt source first for every blob, so the rotten one is tried there.
                    Fetcher::new(store.clone(), cfg.clone())
                        .fetch(&ids, &[bad_base.clone(), base.clone()], &count_failures)
                        .unwrap();
                    assert_eq!(store.get(&victim).unwrap(), blobs[ids.len() / 2]);
                }),
                Vec::new(),
            ),
        ];
        // Cases interleave run by run, so load from other processes hits them alike.
        for r in 0..runs {
            for (_, f, rates) in cases.iter_mut() {
                let out = work.path().join(format!("out-{r}"));
                std::fs::create_dir_all(&out).unwrap();
                let t = Instant::now();
                f(&out);
                rates.push(total / t.elapsed().as_secs_f64());
                std::fs::remove_dir_all(&out).unwrap();
            }
        }
        let [plain_rate, plain_sync, fetch_rate, corrupt_rate] =
            cases.map(|(_, _, rates)| median(rates));
        let pct = |r: f64| format!("{:.0}%", 100.0 * r / plain_sync);
        println!(
            "{:<44} {:>10.0} {:>10}",
            format!("{label}: plain copy"),
            plain_rate,
            pct(plain_rate)
        );
        println!(
            "{:<44} {:>10.0} {:>10}",
            format!("{label}: plain copy + fsync"),
            plain_sync,
            pct(plain_sync)
        );
        println!(
            "{:<44} {:>10.0} {:>10}",
            format!("{label}: fetch (verify, fsync, rename)"),
            fetch_rate,
            pct(fetch_rate)
        );
        println!(
            "{:<44} {:>10.0} {:>10}   ({} failed attempts over {runs} runs)",
            format!("{label}: fetch, 1 of 2 sources corrupt"),
            corrupt_rate,
            pct(corrupt_rate),
            failovers.load(Ordering::Relaxed)
        );
        for id in &ids {
            server_store.remove(id).unwrap();
        }
    }
}
