//! A small HTTP/1.1 blob server for tests, with ways to misbehave, that records every request.

#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aic_blob::BlobId;

/// How the server answers.
#[derive(Clone, Copy, Debug)]
pub enum Behavior {
    /// Correct bytes.
    Good,
    /// One byte flipped in every body.
    Corrupt,
    /// The first `times` answers announce the full length but stop after `after` bytes.
    CloseAfter { after: usize, times: usize },
    /// Sends 1 KiB every `every_ms` milliseconds.
    Slow { every_ms: u64 },
}

/// One request the server saw.
#[derive(Clone, Debug)]
pub struct Seen {
    pub path: String,
    pub range: Option<String>,
}

pub struct Server {
    pub base: String,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    pub bytes_sent: Arc<AtomicUsize>,
}

impl Server {
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

pub fn serve(blobs: &[Vec<u8>], behavior: Behavior) -> Server {
    let map: HashMap<String, Vec<u8>> = blobs
        .iter()
        .map(|b| (BlobId::of(b).to_hex(), b.clone()))
        .collect();
    let map = Arc::new(map);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let bytes_sent = Arc::new(AtomicUsize::new(0));
    let served = Arc::new(AtomicUsize::new(0));
    {
        let seen = seen.clone();
        let bytes_sent = bytes_sent.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (map, seen, sent, served) = (
                    map.clone(),
                    seen.clone(),
                    bytes_sent.clone(),
                    served.clone(),
                );
                std::thread::spawn(move || {
                    let _ = answer(conn, &map, behavior, &seen, &sent, &served);
                });
            }
        });
    }
    Server {
        base,
        seen,
        bytes_sent,
    }
}

fn answer(
    mut conn: TcpStream,
    map: &HashMap<String, Vec<u8>>,
    behavior: Behavior,
    seen: &Mutex<Vec<Seen>>,
    sent: &AtomicUsize,
    served: &AtomicUsize,
) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
    let mut range = None;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        if h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_owned());
            }
        }
    }
    seen.lock().unwrap().push(Seen {
        path: path.clone(),
        range: range.clone(),
    });
    let id = path.rsplit('/').next().unwrap_or("");
    let Some(blob) = map.get(id) else {
        conn.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        )?;
        return Ok(());
    };
    let mut body = blob.clone();
    if matches!(behavior, Behavior::Corrupt) && !body.is_empty() {
        let mid = body.len() / 2;
        body[mid] ^= 0xff;
    }
    let start: usize = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let total = body.len();
    let part = &body[start.min(total)..];
    let head = if range.is_some() {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{total}\r\nConnection: close\r\n\r\n",
            part.len(),
            total - 1
        )
    } else {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n")
    };
    conn.write_all(head.as_bytes())?;
    match behavior {
        Behavior::CloseAfter { after, times } if served.fetch_add(1, Ordering::SeqCst) < times => {
            let n = after.min(part.len());
            conn.write_all(&part[..n])?;
            sent.fetch_add(n, Ordering::SeqCst);
            conn.flush()?;
            return Ok(()); // dropping the stream closes the connection mid-body
        }
        Behavior::Slow { every_ms } => {
            for chunk in part.chunks(1024) {
                conn.write_all(chunk)?;
                sent.fetch_add(chunk.len(), Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(every_ms));
            }
        }
        _ => {
            conn.write_all(part)?;
            sent.fetch_add(part.len(), Ordering::SeqCst);
        }
    }
    conn.flush()
}

/// Deterministic pseudo-random bytes.
pub fn bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A worker cache in `dir` with `budget` bytes, fetching with a 3 s read timeout and no rate
/// floor (test servers may be slow on a busy machine).
#[cfg(feature = "client")]
pub fn cache(dir: &std::path::Path, budget: u64) -> aic_blob::BlobCache {
    let fetch = aic_blob::FetchConfig {
        read_timeout: Duration::from_secs(3),
        min_bytes_per_sec: 0,
        ..aic_blob::FetchConfig::default()
    };
    aic_blob::BlobCache::open(
        dir,
        aic_blob::CacheConfig {
            budget_bytes: budget,
            fetch,
        },
    )
    .unwrap()
}
