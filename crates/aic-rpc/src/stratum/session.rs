//! One Stratum connection.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_api::stratum::{Notification, RejectCode, Response, MAX_LINE_BYTES};
use aic_primitives::{Address, Target};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::TcpStream;

use super::difficulty::{hash_difficulty, share_target, Vardiff};
use super::job::{Job, Submission, EXTRANONCE1_BYTES, EXTRANONCE2_BYTES};
use super::parse::{params_list, parse_request, SubmitFields};
use super::Shared;

/// Jobs kept per connection: shares for older ones are stale.
const JOBS_KEPT: usize = 8;
/// Malformed lines tolerated in a row before the connection is closed.
const MAX_BAD_LINES: u32 = 20;

struct State {
    extranonce1: [u8; EXTRANONCE1_BYTES],
    subscribed: bool,
    /// Payout address and the worker name as given (`ADDRESS[.worker]`).
    authorized: Option<(Address, String)>,
    version_mask: u32,
    vardiff: Vardiff,
    jobs: VecDeque<Arc<Job>>,
    seen: HashSet<(String, Submission)>,
    job_made: Instant,
    bad_lines: u32,
}

/// Lines to send back, and whether to close afterwards.
type Out = Vec<String>;

fn line<T: serde::Serialize>(v: &T) -> String {
    let mut s = serde_json::to_string(v).unwrap_or_default();
    s.push('\n');
    s
}

fn answer(id: Value, result: Value) -> String {
    line(&Response {
        id,
        result,
        error: Value::Null,
    })
}

fn reject(id: Value, code: RejectCode, message: &str) -> String {
    line(&Response {
        id,
        result: Value::Null,
        error: code.error(message),
    })
}

fn notification(method: &str, params: Value) -> String {
    line(&Notification {
        id: Value::Null,
        method: method.to_owned(),
        params,
    })
}

pub(crate) async fn run(shared: Arc<Shared>, stream: TcpStream) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let c = &shared.config;
    let mut state = State {
        extranonce1: shared.next_extranonce1(),
        subscribed: false,
        authorized: None,
        version_mask: 0,
        vardiff: Vardiff::new(
            c.initial_difficulty,
            c.min_difficulty,
            c.max_difficulty,
            c.target_share_secs,
            Duration::from_secs_f64(c.retarget_secs),
        ),
        jobs: VecDeque::new(),
        seen: HashSet::new(),
        job_made: Instant::now(),
        bad_lines: 0,
    };
    let mut events = shared.handle.subscribe();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut buf = Vec::new();
    loop {
        let out: Out = tokio::select! {
            read = read_line(&mut reader, &mut buf) => match read {
                Ok(true) => {
                    let text = std::mem::take(&mut buf);
                    let out = state.on_line(&shared, &text).await;
                    if state.bad_lines > MAX_BAD_LINES {
                        let _ = send(&mut write, &out).await;
                        break;
                    }
                    out
                }
                // End of stream, an over-long line or an IO error.
                _ => break,
            },
            changed = events.changed() => {
                if changed.is_err() {
                    break;
                }
                let tip = events.borrow_and_update().hash;
                match state.jobs.back() {
                    Some(j) if j.is_stale(&tip) => state.new_job(&shared, true).await,
                    _ => Vec::new(),
                }
            }
            _ = tick.tick() => state.on_tick(&shared).await,
            () = shared.handle.closed() => break,
        };
        if send(&mut write, &out).await.is_err() {
            break;
        }
    }
    if let Some((_, worker)) = &state.authorized {
        shared.handle.mining().disconnected(worker);
    }
}

async fn send(write: &mut OwnedWriteHalf, out: &Out) -> std::io::Result<()> {
    for l in out {
        write.write_all(l.as_bytes()).await?;
    }
    Ok(())
}

/// Reads one line into `buf`; false at the end of the stream or for a line longer than
/// [`MAX_LINE_BYTES`]. Cancel-safe: a partial line stays in `buf`.
async fn read_line<R: tokio::io::AsyncBufRead + Unpin>(
    reader: &mut R,
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let room = (MAX_LINE_BYTES + 1).saturating_sub(buf.len()) as u64;
    let n = (&mut *reader).take(room).read_until(b'\n', buf).await?;
    if buf.last() == Some(&b'\n') {
        return Ok(true);
    }
    // No newline: the stream ended (n may be 0) or the line is too long.
    let _ = n;
    Ok(false)
}

impl State {
    async fn on_line(&mut self, shared: &Shared, text: &[u8]) -> Out {
        let trimmed = text.trim_ascii();
        if trimmed.is_empty() {
            return Vec::new();
        }
        let req = match parse_request(trimmed) {
            Ok(r) => r,
            Err(e) => {
                self.bad_lines += 1;
                return vec![reject(Value::Null, RejectCode::Other, &e)];
            }
        };
        let params = params_list(&req.params);
        let id = req.id.clone();
        if req.method.starts_with("mining.") {
            // MAX_BAD_LINES counts malformed lines in a row.
            self.bad_lines = 0;
        }
        match req.method.as_str() {
            "mining.subscribe" => {
                self.subscribed = true;
                let sub = hex::encode(self.extranonce1);
                vec![answer(
                    id,
                    json!([
                        [["mining.set_difficulty", sub], ["mining.notify", sub]],
                        hex::encode(self.extranonce1),
                        EXTRANONCE2_BYTES
                    ]),
                )]
            }
            "mining.authorize" => self.authorize(shared, id, &params).await,
            "mining.configure" => vec![answer(id, self.configure(shared, &params))],
            "mining.extranonce.subscribe" => vec![answer(id, json!(true))],
            "mining.suggest_difficulty" => match params.first().and_then(Value::as_f64) {
                Some(d) if d > 0.0 => {
                    let c = &shared.config;
                    self.vardiff.difficulty = d.clamp(c.min_difficulty, c.max_difficulty);
                    let mut out = vec![answer(id, json!(true))];
                    if self.authorized.is_some() {
                        out.extend(self.new_job(shared, false).await);
                    }
                    out
                }
                _ => vec![reject(
                    id,
                    RejectCode::Other,
                    "expected a positive difficulty",
                )],
            },
            "mining.submit" => vec![self.submit(shared, id, &params).await],
            other => {
                self.bad_lines += 1;
                vec![reject(
                    id,
                    RejectCode::Other,
                    &format!("unknown method {other}"),
                )]
            }
        }
    }

    async fn authorize(&mut self, shared: &Shared, id: Value, params: &[Value]) -> Out {
        if !self.subscribed {
            return vec![reject(id, RejectCode::NotSubscribed, "subscribe first")];
        }
        let user = params.first().and_then(Value::as_str).unwrap_or_default();
        let address_text = user.split('.').next().unwrap_or_default();
        let network = shared.network;
        let address = match Address::parse(address_text, network) {
            Ok(a) => a,
            Err(e) => {
                return vec![line(&Response {
                    id,
                    result: json!(false),
                    error: RejectCode::Unauthorized.error(&format!(
                    "the user name must be a payout address ({network}), optionally .worker: {e}"
                )),
                })]
            }
        };
        if let Some((_, old)) = &self.authorized {
            shared.handle.mining().disconnected(old);
        }
        shared
            .handle
            .mining()
            .connected(user, self.vardiff.difficulty);
        self.authorized = Some((address, user.to_owned()));
        let mut out = vec![answer(id, json!(true))];
        out.extend(self.new_job(shared, true).await);
        out
    }

    fn configure(&mut self, shared: &Shared, params: &[Value]) -> Value {
        let names: Vec<&str> = params
            .first()
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let options = params.get(1).cloned().unwrap_or(Value::Null);
        let mut result = serde_json::Map::new();
        for name in names {
            if name == "version-rolling" {
                let asked = options
                    .get("version-rolling.mask")
                    .and_then(Value::as_str)
                    .and_then(|s| u32::from_str_radix(s, 16).ok())
                    .unwrap_or(u32::MAX);
                self.version_mask = asked & shared.config.version_mask;
                result.insert("version-rolling".to_owned(), json!(true));
                result.insert(
                    "version-rolling.mask".to_owned(),
                    json!(format!("{:08x}", self.version_mask)),
                );
            } else {
                result.insert(name.to_owned(), json!(false));
            }
        }
        Value::Object(result)
    }

    /// A new job (with `set_difficulty` first), if authorized.
    async fn new_job(&mut self, shared: &Shared, clean: bool) -> Out {
        let Some((address, _)) = self.authorized.clone() else {
            return Vec::new();
        };
        let Some(job) = shared.job(address).await else {
            return Vec::new();
        };
        let network = job.network_target;
        // Never ask for more than a block: where the network target is easier than the
        // vardiff one (a young devnet), shares are blocks and the announced difficulty is the
        // network's.
        let network_difficulty = share_difficulty(&network);
        let (difficulty, target) = if self.vardiff.difficulty >= network_difficulty {
            (network_difficulty, network)
        } else {
            (
                self.vardiff.difficulty,
                share_target(self.vardiff.difficulty, &network),
            )
        };
        let job = job.with_share_target(target);
        if clean {
            self.jobs.clear();
            self.seen.clear();
        }
        if let Some((_, w)) = &self.authorized {
            shared.handle.mining().difficulty(w, difficulty);
        }
        let out = vec![
            notification("mining.set_difficulty", json!([difficulty])),
            notification("mining.notify", job.notify_params(clean)),
        ];
        self.jobs.push_back(Arc::new(job));
        while self.jobs.len() > JOBS_KEPT {
            self.jobs.pop_front();
        }
        self.job_made = Instant::now();
        out
    }

    async fn on_tick(&mut self, shared: &Shared) -> Out {
        if self.authorized.is_none() {
            return Vec::new();
        }
        if self.vardiff.maybe_retarget().is_some() {
            return self.new_job(shared, false).await;
        }
        if self.job_made.elapsed() >= Duration::from_secs(shared.config.refresh_secs) {
            return self.new_job(shared, false).await;
        }
        Vec::new()
    }

    async fn submit(&mut self, shared: &Shared, id: Value, params: &[Value]) -> String {
        let worker = self
            .authorized
            .as_ref()
            .map(|(_, w)| w.clone())
            .unwrap_or_default();
        let stats = shared.handle.mining();
        let fail = |code: RejectCode, message: &str| {
            if !worker.is_empty() {
                stats.rejected(&worker, code);
            }
            reject(id.clone(), code, message)
        };
        if !self.subscribed {
            return fail(RejectCode::NotSubscribed, "subscribe first");
        }
        if self.authorized.is_none() {
            return fail(RejectCode::Unauthorized, "authorize first");
        }
        let job_id = params.get(1).and_then(Value::as_str).unwrap_or_default();
        // The newest job of that id: a given job is sent again under its id when the share
        // difficulty changes, and shares answer the latest target.
        let Some(job) = self.jobs.iter().rev().find(|j| j.id == job_id).cloned() else {
            return fail(RejectCode::JobNotFound, "job not found");
        };
        let tip = shared.handle.subscribe().borrow().hash;
        if job.is_stale(&tip) {
            return fail(RejectCode::JobNotFound, "stale job: the chain moved on");
        }
        let Some(SubmitFields {
            extranonce2,
            ntime,
            nonce,
            version_bits,
        }) = SubmitFields::parse(params)
        else {
            return fail(
                RejectCode::Other,
                "expected worker, job id, 4-byte extranonce2, ntime and nonce as hex",
            );
        };
        let max_time = shared.handle.now().saturating_add(shared.max_future_secs);
        if ntime < job.min_time || u64::from(ntime) > max_time {
            return fail(RejectCode::Other, "ntime out of range");
        }
        let base = job.version;
        let version = match version_bits {
            None => base,
            Some(bits) if bits & !self.version_mask == 0 => (base & !self.version_mask) | bits,
            Some(_) => {
                return fail(
                    RejectCode::Other,
                    "version bits outside the negotiated mask",
                )
            }
        };
        let submission = Submission {
            extranonce2,
            ntime,
            nonce,
            version,
        };
        if !self.seen.insert((job.id.clone(), submission)) {
            return fail(RejectCode::Duplicate, "duplicate share");
        }
        let (header, extranonce) = job.header(&self.extranonce1, &submission);
        let hash = header.hash();
        if !job.share_target.is_met_by(&hash) {
            return fail(RejectCode::LowDifficulty, "low difficulty share");
        }
        let mut found_block = false;
        if job.network_target.is_met_by(&hash) {
            match job.block(header, extranonce) {
                Some(block) => found_block = submit_block(shared, &worker, block).await,
                // A given job's block is not this chain's: report it to whoever gave the job.
                None => shared.block_candidate(header),
            }
        }
        let difficulty = share_difficulty(&job.share_target).min(hash_difficulty(&hash));
        stats.accepted(&worker, difficulty, found_block);
        self.vardiff.on_share();
        answer(id, json!(true))
    }
}

/// Submits a share's block to the chain; whether it became the tip.
async fn submit_block(shared: &Shared, worker: &str, block: aic_primitives::Block) -> bool {
    let handle = shared.handle.clone();
    match tokio::task::spawn_blocking(move || handle.submit_block(block)).await {
        Ok(Ok(a)) => {
            tracing::info!(target: "stratum", %worker, height = a.height.0, hash = %a.hash, "block found");
            a.is_tip
        }
        Ok(Err(e)) => {
            tracing::warn!(target: "stratum", %worker, error = %e, "block refused");
            false
        }
        Err(e) => {
            tracing::warn!(target: "stratum", error = %e, "block submission failed");
            false
        }
    }
}

/// The difficulty a share target stands for.
fn share_difficulty(target: &Target) -> f64 {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&target.0.to_little_endian());
    hash_difficulty(&aic_primitives::Hash256(bytes))
}
