//! The node's built-in miner: block templates from the node's own chain, searched with the
//! fastest SHA-256d kernel of `aic-miner` this CPU runs (SHA-NI, AVX2 or the portable one).
//!
//! It checks for a stop request, a new tip or a stale template between batches of [`BATCH`]
//! nonces. Mining hardware joins through the Stratum server instead.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use aic_chain::BlockTemplate;
use aic_miner::{Job, Kernel};
use aic_primitives::{Address, Hash256, Height, Target};
use aic_rpc::NodeHandle;

/// Nonces tried between checks for a stop, a new tip or a stale template.
pub const BATCH: u32 = 1 << 16;
/// A template older than this is rebuilt to pick up new transactions and time.
const TEMPLATE_MAX_AGE: Duration = Duration::from_secs(2);

/// Counters shared by the miner's threads.
#[derive(Debug, Default)]
pub struct MinerStats {
    /// Headers hashed.
    pub hashes: AtomicU64,
    /// Blocks found and accepted as the new tip.
    pub blocks: AtomicU64,
}

/// Searches `count` nonces from `start` with `kernel` for one whose header hash meets
/// `target`; returns the first found. `header` is the 80-byte header (its nonce is ignored).
pub fn search_nonce(
    kernel: &dyn Kernel,
    header: &[u8; 80],
    target: &Target,
    start: u32,
    count: u32,
) -> Option<u32> {
    let mut job_target = [0u8; 32];
    job_target.copy_from_slice(&target.0.to_little_endian());
    let job = Job {
        header: *header,
        target: job_target,
    };
    let mut found = Vec::new();
    kernel.search(&job, start, count, &mut found);
    found.first().map(|f| f.nonce)
}

/// A running miner. Dropping it stops it.
#[derive(Debug)]
pub struct Miner {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

/// What the miner's threads share.
struct Shared {
    handle: Arc<NodeHandle>,
    payout: Address,
    max_height: Option<Height>,
    stop: AtomicBool,
    stats: Arc<MinerStats>,
    /// Random per miner, so that two miners paying one address never hash the same header.
    salt: u32,
    /// The search kernel (the fastest this CPU runs).
    kernel: Arc<dyn Kernel>,
    /// One template per tip and refresh period, shared by every thread.
    cache: Mutex<Option<(Instant, Arc<BlockTemplate>)>>,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("payout", &self.payout)
            .field("max_height", &self.max_height)
            .field("kernel", &self.kernel.name())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Miner {
    /// Starts `threads` mining threads (at least one) paying `payout`. With `max_height`, no
    /// block above that height is mined.
    pub fn start(
        handle: Arc<NodeHandle>,
        payout: Address,
        threads: usize,
        max_height: Option<Height>,
    ) -> Miner {
        let shared = Arc::new(Shared {
            handle,
            payout,
            max_height,
            stop: AtomicBool::new(false),
            stats: Arc::new(MinerStats::default()),
            salt: rand::random(),
            kernel: Arc::from(aic_miner::best()),
            cache: Mutex::new(None),
        });
        let threads = (0..threads.max(1))
            .map(|id| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("aic-miner-{id}"))
                    .spawn(move || shared.run(id as u32))
                    .expect("spawning a miner thread")
            })
            .collect();
        Miner { shared, threads }
    }

    /// The miner's counters.
    pub fn stats(&self) -> Arc<MinerStats> {
        self.shared.stats.clone()
    }

    /// Stops every thread (within one batch) and waits for them.
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Miner {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Shared {
    /// The current template: the cached one while the tip is unchanged and it is fresh,
    /// else a new one (so new transactions are picked up within [`TEMPLATE_MAX_AGE`]).
    fn template(&self, tip: Hash256) -> Arc<BlockTemplate> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((made, t)) = cache.as_ref() {
            if t.prev_hash == tip && made.elapsed() < TEMPLATE_MAX_AGE {
                return t.clone();
            }
        }
        let t = Arc::new(
            self.handle
                .chain()
                .block_template(self.payout, self.handle.now()),
        );
        *cache = Some((Instant::now(), t.clone()));
        t
    }

    fn run(&self, id: u32) {
        let mut events = self.handle.subscribe();
        let mut round: u32 = 0;
        while !self.stop.load(Ordering::Relaxed) {
            let tip = events.borrow_and_update().hash;
            let template = self.template(tip);
            if self.max_height.is_some_and(|max| template.height > max) {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            let Ok(target) = template.bits.to_target() else {
                return;
            };
            round = round.wrapping_add(1);
            let mut extranonce = [0u8; 8];
            extranonce[..4].copy_from_slice(&self.salt.wrapping_add(id).to_le_bytes());
            extranonce[4..].copy_from_slice(&round.to_le_bytes());
            let mut header = template.header(extranonce, template.cur_time, 0);
            let bytes = header.to_array();
            let started = Instant::now();
            let mut start: u64 = 0;
            while start <= u64::from(u32::MAX) {
                // A new tip ends the round at once; new transactions wait for the refresh.
                let new_tip = events.has_changed().unwrap_or(true)
                    && events.borrow().hash != template.prev_hash;
                if self.stop.load(Ordering::Relaxed)
                    || new_tip
                    || started.elapsed() > TEMPLATE_MAX_AGE
                {
                    break;
                }
                let found = search_nonce(&*self.kernel, &bytes, &target, start as u32, BATCH);
                let tried = found.map_or(BATCH, |n| n.wrapping_sub(start as u32) + 1);
                self.stats
                    .hashes
                    .fetch_add(u64::from(tried), Ordering::Relaxed);
                if let Some(nonce) = found {
                    header.nonce = nonce;
                    let block = template.assemble(extranonce, header);
                    match self.handle.submit_block(block) {
                        Ok(a) if a.is_tip => {
                            self.stats.blocks.fetch_add(1, Ordering::Relaxed);
                            tracing::debug!(target: "miner", height = a.height.0, hash = %a.hash, "mined a block");
                        }
                        Ok(_) => {}
                        Err(e) => {
                            tracing::debug!(target: "miner", error = %e, "mined block refused")
                        }
                    }
                    break;
                }
                start += u64::from(BATCH);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aic_primitives::{ChainParams, CompactTarget};

    #[test]
    fn search_finds_the_genesis_nonce() {
        let p = ChainParams::mainnet();
        let g = p.genesis_block().header;
        let target = p.pow_limit.to_target().unwrap();
        let kernel = aic_miner::best();
        let found = search_nonce(&*kernel, &g.to_array(), &target, 0, g.nonce + 1);
        // The first nonce that meets the target is at most the genesis nonce, and meets it.
        let n = found.unwrap();
        let mut h = g;
        h.nonce = n;
        assert!(target.is_met_by(&h.hash()));
        assert!(n <= g.nonce);
        // An impossible target finds nothing.
        let hard = CompactTarget(0x0300_0001).to_target().unwrap();
        assert_eq!(search_nonce(&*kernel, &g.to_array(), &hard, 0, 1000), None);
    }
}
