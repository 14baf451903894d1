//! A Stratum v1 client: connects to a pool, turns its jobs into work for a [`Searcher`], and
//! submits the shares found. Reconnects with backoff and fails over along a list of pools.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::kernel::{meets_target, Kernel};
use crate::search::{SearchConfig, Searcher, Share};
use crate::shared::SharedSearch;
use crate::work::WorkTemplate;

/// Where and how to mine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolConfig {
    /// Pools in order of preference, `stratum+tcp://HOST:PORT` (or `HOST:PORT`).
    pub urls: Vec<String>,
    /// The user name: for AIC's pool, the payout address, optionally `.worker`.
    pub user: String,
    /// The password (AIC's pool ignores it).
    pub password: String,
    /// Search threads and batch size.
    pub search: SearchConfig,
}

/// What the client reports as it runs.
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// Connected to a pool.
    Connected(String),
    /// The pool accepted the subscription and the user.
    Authorized {
        /// The pool's extranonce1, hex.
        extranonce1: String,
    },
    /// A new share difficulty.
    Difficulty(f64),
    /// A new job; `clean` means earlier work is void.
    Job {
        /// Job id.
        id: String,
        /// Clean jobs.
        clean: bool,
    },
    /// The pool accepted a share.
    Accepted {
        /// The share's header hash (display order hex) where it also met the network target
        /// of its job: a block, which the pool submits to its node. Whether the chain keeps it
        /// is the node's to say.
        block: Option<String>,
    },
    /// The pool rejected a share.
    Rejected {
        /// Stratum error code.
        code: i64,
        /// Message.
        message: String,
    },
    /// The connection ended; the client reconnects after `retry_in`.
    Disconnected {
        /// Why.
        reason: String,
        /// Backoff before the next attempt.
        retry_in: Duration,
    },
}

/// Totals when the client stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// Hashes computed.
    pub hashes: u64,
    /// Shares found and submitted.
    pub submitted: u64,
    /// Shares the pool accepted.
    pub accepted: u64,
    /// Shares the pool rejected.
    pub rejected: u64,
}

/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How often a blocked read wakes up to look at the stop flag.
const POLL: Duration = Duration::from_millis(100);

fn host_port(url: &str) -> &str {
    url.trim_start_matches("stratum+tcp://")
        .trim_end_matches('/')
}

/// Bitcoin's difficulty-1 target scaled by `1/difficulty`, as 32 little-endian bytes.
pub fn difficulty_target(difficulty: f64) -> [u8; 32] {
    // diff1 = 0xffff * 2^208; target = diff1 / d, computed as (0xffff * 2^40 / d) * 2^168.
    let mut out = [0u8; 32];
    if difficulty.is_nan() || difficulty <= 0.0 || difficulty.is_infinite() {
        return [0xff; 32];
    }
    let scaled = 65_535.0 * 1_099_511_627_776.0 / difficulty; // 0xffff * 2^40 / d
    if scaled >= 2f64.powi(88) {
        return [0xff; 32];
    }
    let v = scaled as u128;
    // Place v * 2^168: byte 21 is bit 168.
    for (i, b) in v.to_le_bytes().iter().enumerate() {
        if let Some(slot) = out.get_mut(21 + i) {
            *slot = *b;
        }
    }
    out
}

/// Mines until `stop` is set: connects to the pools in turn, follows their jobs and submits
/// shares. Returns the totals.
pub fn run(
    config: &PoolConfig,
    kernel: Arc<dyn Kernel>,
    stop: Arc<AtomicBool>,
    on_event: impl FnMut(ClientEvent),
) -> ClientStats {
    run_on(config, &Feed::Own(kernel), stop, on_event)
}

/// As [`run`], feeding a searcher that outlives the sessions (the worker's switcher parks and
/// wakes its threads): each job replaces its work, each session routes its shares. The
/// returned hashes are 0; the searcher counts its own.
pub fn run_shared(
    config: &PoolConfig,
    search: &SharedSearch,
    stop: Arc<AtomicBool>,
    on_event: impl FnMut(ClientEvent),
) -> ClientStats {
    run_on(config, &Feed::Shared(search), stop, on_event)
}

/// Where the sessions' work goes.
enum Feed<'a> {
    /// A searcher of each session's own, started on its first job, stopped at its end.
    Own(Arc<dyn Kernel>),
    /// One searcher for all sessions.
    Shared(&'a SharedSearch),
}

/// A session's searcher: its own, or the shared one.
enum Target<'a> {
    Own(Option<Searcher>),
    Shared(&'a SharedSearch),
}

impl Target<'_> {
    /// Switches to `work`, routing shares to `route`; the generation of `work`.
    fn set_work(
        &mut self,
        feed: &Feed<'_>,
        config: &PoolConfig,
        work: WorkTemplate,
        route: impl Fn(Share) + Send + Sync + 'static,
    ) -> Result<u64, String> {
        match (self, feed) {
            (Target::Own(Some(s)), _) => s.replace_work(work).map_err(|e| e.to_string()),
            (Target::Own(slot), Feed::Own(kernel)) => {
                let s = Searcher::start(kernel.clone(), work, config.search, route)
                    .map_err(|e| e.to_string())?;
                *slot = Some(s);
                Ok(0)
            }
            (Target::Own(_), Feed::Shared(_)) => unreachable!("a shared feed has a shared target"),
            (Target::Shared(s), _) => s.set_work(work, Arc::new(route)).map_err(|e| e.to_string()),
        }
    }

    /// Ends the session's use of the searcher; hashes of a searcher it owned.
    fn finish(self) -> u64 {
        match self {
            Target::Own(s) => s.map_or(0, |s| s.stop().hashes),
            Target::Shared(s) => {
                s.detach();
                0
            }
        }
    }
}

fn run_on(
    config: &PoolConfig,
    feed: &Feed<'_>,
    stop: Arc<AtomicBool>,
    mut on_event: impl FnMut(ClientEvent),
) -> ClientStats {
    let totals = Arc::new(Totals::default());
    let mut backoff = Duration::from_millis(250);
    let mut attempt = 0usize;
    let mut hashes = 0;
    while !stop.load(Ordering::Relaxed) && !config.urls.is_empty() {
        // In order of preference: after a pool fails, the next; after a session that worked
        // for a while ends, the first again.
        let url = &config.urls[attempt % config.urls.len()];
        let started = Instant::now();
        let (reason, searched) = match session(config, url, feed, &stop, &totals, &mut on_event) {
            Ok(h) => ("stopped".to_owned(), h),
            Err((e, h)) => (e, h),
        };
        hashes += searched;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        // A session that lasted a while resets the backoff and the preference order.
        if started.elapsed() > Duration::from_secs(60) {
            backoff = Duration::from_millis(250);
            attempt = 0;
        } else {
            attempt += 1;
        }
        on_event(ClientEvent::Disconnected {
            reason,
            retry_in: backoff,
        });
        let until = Instant::now() + backoff;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(POLL.min(until.saturating_duration_since(Instant::now())));
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
    ClientStats {
        hashes,
        submitted: totals.submitted.load(Ordering::Relaxed),
        accepted: totals.accepted.load(Ordering::Relaxed),
        rejected: totals.rejected.load(Ordering::Relaxed),
    }
}

#[derive(Debug, Default)]
struct Totals {
    submitted: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
}

/// Jobs by the search generation they were given to, so a share names the right job.
#[derive(Debug, Default)]
struct Jobs {
    /// Generation, job id, the job's network target.
    by_generation: Vec<(u64, String, [u8; 32])>,
    /// Shares of generations before this one are stale and not sent: those before the last
    /// clean job, and those of a job one of whose shares was a block (the block moves the
    /// chain on, so the pool would only call the rest stale).
    clean_from: u64,
    /// Submissions in flight whose share is a block: request id to block hash (display
    /// order hex). The pool's answer takes them out.
    blocks: HashMap<u64, String>,
}

/// One connection. Returns the hashes searched, with the reason it ended on error.
fn session(
    config: &PoolConfig,
    url: &str,
    feed: &Feed<'_>,
    stop: &Arc<AtomicBool>,
    totals: &Arc<Totals>,
    on_event: &mut impl FnMut(ClientEvent),
) -> Result<u64, (String, u64)> {
    let addr = host_port(url)
        .to_socket_addrs()
        .map_err(|e| (format!("{url}: {e}"), 0))?
        .next()
        .ok_or_else(|| (format!("{url}: no address"), 0))?;
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(10))
        .map_err(|e| (format!("{url}: {e}"), 0))?;
    let _ = stream.set_nodelay(true);
    stream
        .set_read_timeout(Some(POLL))
        .map_err(|e| (e.to_string(), 0))?;
    on_event(ClientEvent::Connected(url.to_owned()));
    let writer = Arc::new(Mutex::new(
        stream.try_clone().map_err(|e| (e.to_string(), 0))?,
    ));
    let send = |w: &Arc<Mutex<TcpStream>>, v: Value| -> std::io::Result<()> {
        let mut line = v.to_string();
        line.push('\n');
        w.lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(line.as_bytes())
    };
    send(
        &writer,
        json!({"id": 1, "method": "mining.subscribe", "params": ["aic-miner/0.1"]}),
    )
    .map_err(|e| (e.to_string(), 0))?;
    send(
        &writer,
        json!({"id": 2, "method": "mining.authorize", "params": [config.user, config.password]}),
    )
    .map_err(|e| (e.to_string(), 0))?;

    let mut reader = BufReader::new(stream);
    let mut extranonce1 = Vec::new();
    let mut extranonce2_size = 4usize;
    let mut difficulty = 1.0f64;
    let jobs = Arc::new(Mutex::new(Jobs::default()));
    let mut target = match feed {
        Feed::Own(_) => Target::Own(None),
        Feed::Shared(s) => Target::Shared(s),
    };
    let next_id = Arc::new(AtomicU64::new(100));
    let mut line = String::new();
    let result = loop {
        if stop.load(Ordering::Relaxed) {
            break Ok(());
        }
        match reader.read_line(&mut line) {
            Ok(0) => break Err("the pool closed the connection".to_owned()),
            Ok(_) if line.ends_with('\n') => {}
            Ok(_) => continue,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue
            }
            Err(e) => break Err(e.to_string()),
        }
        let msg: Value = match serde_json::from_str(line.trim()) {
            Ok(v) => v,
            Err(e) => break Err(format!("malformed line from the pool: {e}")),
        };
        line.clear();
        match msg["method"].as_str() {
            Some("mining.set_difficulty") => {
                if let Some(d) = msg["params"][0].as_f64() {
                    difficulty = d;
                    on_event(ClientEvent::Difficulty(d));
                }
            }
            Some("mining.set_extranonce") => {
                if let (Some(e1), Some(size)) =
                    (msg["params"][0].as_str(), msg["params"][1].as_u64())
                {
                    extranonce1 = hex::decode(e1).unwrap_or_default();
                    extranonce2_size = size as usize;
                }
            }
            Some("mining.notify") => {
                let Some(work) =
                    work_from_notify(&msg["params"], &extranonce1, extranonce2_size, difficulty)
                else {
                    break Err("malformed mining.notify".to_owned());
                };
                let id = msg["params"][0].as_str().unwrap_or_default().to_owned();
                let network_target = work.network_target();
                let clean = msg["params"][8].as_bool().unwrap_or(false);
                let route = share_sender(
                    writer.clone(),
                    jobs.clone(),
                    next_id.clone(),
                    totals.clone(),
                    config.user.clone(),
                );
                let generation = match target.set_work(feed, config, work, route) {
                    Ok(g) => g,
                    Err(e) => break Err(e),
                };
                let mut j = jobs.lock().unwrap_or_else(|p| p.into_inner());
                j.by_generation
                    .push((generation, id.clone(), network_target));
                if clean {
                    j.clean_from = generation;
                }
                if j.by_generation.len() > 64 {
                    j.by_generation.remove(0);
                }
                drop(j);
                on_event(ClientEvent::Job { id, clean });
            }
            Some(_) => {}
            None => match msg["id"].as_u64() {
                Some(1) => {
                    extranonce1 = hex::decode(msg["result"][1].as_str().unwrap_or_default())
                        .unwrap_or_default();
                    extranonce2_size = msg["result"][2].as_u64().unwrap_or(4) as usize;
                }
                Some(2) => {
                    if msg["result"] != json!(true) {
                        break Err(format!("not authorized: {}", msg["error"]));
                    }
                    on_event(ClientEvent::Authorized {
                        extranonce1: hex::encode(&extranonce1),
                    });
                }
                Some(id) => {
                    let block = jobs
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .blocks
                        .remove(&id);
                    if msg["result"] == json!(true) {
                        totals.accepted.fetch_add(1, Ordering::Relaxed);
                        on_event(ClientEvent::Accepted { block });
                    } else {
                        totals.rejected.fetch_add(1, Ordering::Relaxed);
                        on_event(ClientEvent::Rejected {
                            code: msg["error"][0].as_i64().unwrap_or(20),
                            message: msg["error"][1].as_str().unwrap_or_default().to_owned(),
                        });
                    }
                }
                None => {}
            },
        }
    };
    let hashes = target.finish();
    result.map(|()| hashes).map_err(|e| (e, hashes))
}

/// The callback the search threads call for each share: submits it for its job.
fn share_sender(
    writer: Arc<Mutex<TcpStream>>,
    jobs: Arc<Mutex<Jobs>>,
    next_id: Arc<AtomicU64>,
    totals: Arc<Totals>,
    user: String,
) -> impl Fn(Share) + Send + Sync + 'static {
    move |share: Share| {
        let id = next_id.fetch_add(1, Ordering::Relaxed);
        let job = {
            let mut j = jobs.lock().unwrap_or_else(|p| p.into_inner());
            if share.generation < j.clean_from {
                // Found on work a clean job replaced: the pool would only call it stale.
                return;
            }
            let Some((job, block)) = j
                .by_generation
                .iter()
                .rev()
                .find(|(g, _, _)| *g == share.generation)
                .map(|(_, job, target)| (job.clone(), meets_target(&share.hash, target)))
            else {
                return;
            };
            if block {
                let mut display = share.hash;
                display.reverse();
                j.blocks.insert(id, hex::encode(display));
                j.clean_from = j.clean_from.max(share.generation + 1);
            }
            job
        };
        let msg = json!({"id": id, "method": "mining.submit", "params": [
            user, job, hex::encode(&share.extranonce2),
            format!("{:08x}", share.ntime), format!("{:08x}", share.nonce)
        ]});
        let mut line = msg.to_string();
        line.push('\n');
        let sent = writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .write_all(line.as_bytes());
        if sent.is_ok() {
            totals.submitted.fetch_add(1, Ordering::Relaxed);
        } else {
            jobs.lock()
                .unwrap_or_else(|p| p.into_inner())
                .blocks
                .remove(&id);
        }
    }
}

/// A work template from `mining.notify` parameters, for a session with `extranonce1` and
/// `extranonce2_size` at share `difficulty`; `None` if the parameters are malformed.
pub fn work_from_notify(
    p: &Value,
    extranonce1: &[u8],
    extranonce2_size: usize,
    difficulty: f64,
) -> Option<WorkTemplate> {
    let unhex = |v: &Value| hex::decode(v.as_str()?).ok();
    let hex_u32 = |v: &Value| u32::from_str_radix(v.as_str()?, 16).ok();
    let mut prev: [u8; 32] = unhex(&p[1])?.try_into().ok()?;
    // Stratum sends the previous hash with each 4-byte word reversed.
    for word in prev.chunks_mut(4) {
        word.reverse();
    }
    let merkle_branches = p[4]
        .as_array()?
        .iter()
        .map(|b| unhex(b)?.try_into().ok())
        .collect::<Option<Vec<[u8; 32]>>>()?;
    Some(WorkTemplate {
        version: hex_u32(&p[5])?,
        version_mask: 0,
        prev_hash: prev,
        coinbase1: unhex(&p[2])?,
        extranonce1: extranonce1.to_vec(),
        extranonce2_size,
        coinbase2: unhex(&p[3])?,
        merkle_branches,
        ntime: hex_u32(&p[7])?,
        ntime_max_roll: 0,
        nbits: hex_u32(&p[6])?,
        target: difficulty_target(difficulty),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    fn share(generation: u64, nonce: u32) -> Share {
        Share {
            generation,
            extranonce2: vec![0; 4],
            ntime: 0,
            version: 0x2000_0000,
            nonce,
            hash: [0x11; 32],
        }
    }

    /// The lines `send` writes to a real loopback socket for `shares`, with one job of
    /// generation 0 whose network target is `network_target`; and the blocks still awaiting
    /// the pool's answer.
    fn sent(network_target: [u8; 32], shares: &[Share]) -> (Vec<Value>, usize) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        let jobs = Arc::new(Mutex::new(Jobs {
            by_generation: vec![(0, "j0".to_owned(), network_target)],
            ..Jobs::default()
        }));
        let send = share_sender(
            Arc::new(Mutex::new(client)),
            jobs.clone(),
            Arc::new(AtomicU64::new(100)),
            Arc::new(Totals::default()),
            "user".to_owned(),
        );
        for s in shares {
            send(s.clone());
        }
        drop(send);
        let mut text = String::new();
        server
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(n) = server.read(&mut buf) {
            if n == 0 {
                break;
            }
            text.push_str(std::str::from_utf8(&buf[..n]).unwrap());
        }
        let lines = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let blocks = jobs.lock().unwrap().blocks.len();
        (lines, blocks)
    }

    #[test]
    fn a_share_that_is_a_block_is_marked_and_ends_its_job() {
        // Every hash meets this network target: the first share is a block, and the job's
        // later shares would only be stale.
        let (lines, blocks) = sent([0xff; 32], &[share(0, 1), share(0, 2)]);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert_eq!(lines[0]["method"], "mining.submit");
        assert_eq!(lines[0]["params"][4], "00000001", "the block itself goes");
        assert_eq!(blocks, 1, "the block awaits the pool's answer");
    }

    #[test]
    fn shares_that_are_no_block_all_go_and_none_is_marked() {
        let (lines, blocks) = sent([0; 32], &[share(0, 1), share(0, 2)]);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(blocks, 0);
    }

    #[test]
    fn difficulty_one_is_bitcoins_diff1_target() {
        let t = difficulty_target(1.0);
        let mut expected = [0u8; 32];
        expected[26] = 0xff;
        expected[27] = 0xff;
        assert_eq!(t, expected);
        let half = difficulty_target(2.0);
        assert_eq!(half[26], 0xff);
        assert_eq!(half[27], 0x7f);
        assert_eq!(difficulty_target(0.0), [0xff; 32]);
        assert_eq!(difficulty_target(1e-30), [0xff; 32]);
    }
}
