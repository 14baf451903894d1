//! The search loop against reference kernels built on the `sha2` crate.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aic_miner::{
    measure_stop_latency, meets_target, sha256d, Found, Job, Kernel, SearchConfig, SearchError,
    Searcher, Share, WorkTemplate,
};

/// Straightforward reference: SHA-256d per nonce.
struct Reference;

impl Kernel for Reference {
    fn name(&self) -> &'static str {
        "test-reference"
    }

    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        let mut header = job.header;
        for nonce in u64::from(start)..u64::from(start) + u64::from(count) {
            let nonce = nonce as u32;
            header[76..].copy_from_slice(&nonce.to_le_bytes());
            let hash = sha256d(&header);
            if meets_target(&hash, &job.target) {
                found.push(Found { nonce, hash });
            }
        }
    }
}

/// Hashes only the first `self.0` nonces of each call, so that tests can walk the whole
/// extranonce2 / version / ntime space with huge batches.
struct Sparse(u32);

impl Kernel for Sparse {
    fn name(&self) -> &'static str {
        "test-sparse"
    }

    fn search(&self, job: &Job, start: u32, count: u32, found: &mut Vec<Found>) {
        Reference.search(job, start, count.min(self.0), found);
    }
}

/// A target met by about one hash in 2^`bits`.
fn easy_target(bits: u32) -> [u8; 32] {
    let mut target = [0xff; 32];
    target[31] = 0xff >> bits.min(8);
    target
}

fn template(tag: u8) -> WorkTemplate {
    WorkTemplate {
        version: 0x2000_0000 | 0x0000_0004,
        version_mask: 0x1fff_e000,
        prev_hash: [tag; 32],
        coinbase1: vec![1, 0, 0, 0, tag, 0xff],
        extranonce1: vec![0xf0, 0, 0, 0x0f],
        extranonce2_size: 4,
        coinbase2: vec![0xee, tag, 0, 0, 0, 0],
        merkle_branches: vec![[tag ^ 0x55; 32], [7; 32]],
        ntime: 0x5e14_8a8c,
        ntime_max_roll: 600,
        nbits: 0x1a02_b098,
        target: easy_target(6),
    }
}

/// Rebuilds the share's header from `work` and checks everything a pool would.
fn check_share(work: &WorkTemplate, share: &Share) {
    assert_eq!(share.extranonce2.len(), work.extranonce2_size);
    let mut header = work.header(&share.extranonce2, share.ntime, share.version);
    header[76..].copy_from_slice(&share.nonce.to_le_bytes());
    assert_eq!(sha256d(&header), share.hash, "{share:?}");
    assert!(meets_target(&share.hash, &work.target), "{share:?}");
    assert_eq!(
        share.version & !work.version_mask,
        work.version & !work.version_mask
    );
    assert!(share.ntime >= work.ntime && share.ntime - work.ntime <= work.ntime_max_roll);
}

type Collected = Arc<Mutex<Vec<Share>>>;

fn collect(
    kernel: Arc<dyn Kernel>,
    work: WorkTemplate,
    config: SearchConfig,
) -> (Searcher, Collected) {
    let shares: Collected = Arc::default();
    let sink = Arc::clone(&shares);
    let searcher = Searcher::start(kernel, work, config, move |share| {
        sink.lock().unwrap().push(share);
    })
    .unwrap();
    (searcher, shares)
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn extranonce2_index(share: &Share) -> u64 {
    let mut le = [0u8; 8];
    le[..share.extranonce2.len()].copy_from_slice(&share.extranonce2);
    u64::from_le_bytes(le)
}

#[test]
fn shares_are_valid_and_threads_never_repeat_work() {
    let work = template(1);
    let threads = 4;
    let config = SearchConfig {
        threads,
        batch: 512,
    };
    let (searcher, shares) = collect(Arc::new(Reference), work.clone(), config);
    // At least 200 shares, and some from every thread (a loaded machine may start one late).
    wait_until("shares from every thread", || {
        let shares = shares.lock().unwrap();
        let slices: HashSet<u64> = shares
            .iter()
            .map(|s| extranonce2_index(s) % threads as u64)
            .collect();
        shares.len() >= 200 && slices.len() == threads
    });
    let stats = searcher.stop();
    let shares = shares.lock().unwrap();
    assert_eq!(stats.shares, shares.len() as u64);
    assert!(stats.hashes >= stats.shares);
    let mut seen = HashSet::new();
    let mut slices = HashSet::new();
    for share in shares.iter() {
        check_share(&work, share);
        assert_eq!(share.generation, 0);
        assert!(seen.insert((
            share.extranonce2.clone(),
            share.ntime,
            share.version,
            share.nonce
        )));
        slices.insert(extranonce2_index(share) % threads as u64);
    }
    // Every thread found shares, each in its own extranonce2 slice.
    assert_eq!(slices.len(), threads);
}

#[test]
fn rolling_walks_extranonce2_then_version_then_ntime_and_then_idles() {
    // Every hash meets this target; the sparse kernel hashes 2 nonces per call and a batch of
    // 2^31 makes 2 calls per header, so the whole space gives a known number of shares.
    let work = WorkTemplate {
        extranonce2_size: 1,
        version_mask: 0x0000_6000,
        ntime_max_roll: 2,
        target: [0xff; 32],
        ..template(2)
    };
    let threads = 2;
    let config = SearchConfig {
        threads,
        batch: 1 << 31,
    };
    let (searcher, shares) = collect(Arc::new(Sparse(2)), work.clone(), config);
    wait_until("exhaustion", || searcher.exhausted());
    let stats = searcher.stop();
    let shares = shares.lock().unwrap();
    let expected = 256 * 4 * 3 * 2 * 2;
    assert_eq!(shares.len(), expected);
    assert_eq!(stats.shares, expected as u64);
    assert_eq!(stats.hashes, 256 * 4 * 3 * (1 << 32));

    let unique: HashSet<_> = shares
        .iter()
        .map(|s| (s.extranonce2.clone(), s.ntime, s.version, s.nonce))
        .collect();
    assert_eq!(unique.len(), expected);
    let versions: HashSet<u32> = shares.iter().map(|s| s.version).collect();
    assert_eq!(
        versions,
        HashSet::from([0x2000_0004, 0x2000_2004, 0x2000_4004, 0x2000_6004])
    );
    let ntimes: HashSet<u32> = shares.iter().map(|s| s.ntime).collect();
    assert_eq!(
        ntimes,
        HashSet::from([work.ntime, work.ntime + 1, work.ntime + 2])
    );
    for share in shares.iter() {
        check_share(&work, share);
    }
    // Each thread (its extranonce2 slice) reports in order: ntime outermost, then
    // extranonce2, then version, then nonce.
    for t in 0..threads as u64 {
        let order: Vec<_> = shares
            .iter()
            .filter(|s| extranonce2_index(s) % threads as u64 == t)
            .map(|s| (s.ntime, extranonce2_index(s), s.version, s.nonce))
            .collect();
        assert_eq!(order.len(), expected / threads);
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "thread {t} out of order"
        );
    }
}

#[test]
fn no_version_mask_means_no_version_rolling() {
    let work = WorkTemplate {
        extranonce2_size: 1,
        version_mask: 0,
        ntime_max_roll: 0,
        target: [0xff; 32],
        ..template(3)
    };
    let config = SearchConfig {
        threads: 1,
        batch: u32::MAX,
    };
    let (searcher, shares) = collect(Arc::new(Sparse(1)), work.clone(), config);
    wait_until("exhaustion", || searcher.exhausted());
    searcher.stop();
    let shares = shares.lock().unwrap();
    // Batches of 2^32 - 1 nonces: two calls per header.
    assert_eq!(shares.len(), 256 * 2);
    assert!(shares
        .iter()
        .all(|s| s.version == work.version && s.ntime == work.ntime));
}

#[test]
fn replacing_the_template_switches_every_thread() {
    let old = template(4);
    let new = WorkTemplate {
        version_mask: 0,
        ntime: old.ntime + 30,
        ..template(5)
    };
    let threads = 3;
    let batch = 256;
    let config = SearchConfig { threads, batch };
    let (searcher, shares) = collect(Arc::new(Reference), old.clone(), config);
    wait_until("old shares", || shares.lock().unwrap().len() >= 30);
    let generation = searcher.replace_work(new.clone()).unwrap();
    assert_eq!(generation, 1);
    let before = shares.lock().unwrap().len();
    // Wait for new-work shares from every thread (on a loaded machine one thread may be
    // scheduled late; that is not what this test is about).
    wait_until("new shares from every thread", || {
        let shares = shares.lock().unwrap();
        (0..threads as u64).all(|t| {
            shares
                .iter()
                .any(|s| s.generation == 1 && extranonce2_index(s) % threads as u64 == t)
        })
    });
    searcher.stop();
    let shares = shares.lock().unwrap();
    for share in shares.iter() {
        check_share(if share.generation == 0 { &old } else { &new }, share);
    }
    // Old work ends within one batch per thread of the replacement.
    let late = shares[before..]
        .iter()
        .filter(|s| s.generation == 0)
        .count();
    assert!(late <= threads * batch as usize);
    for t in 0..threads as u64 {
        let generations: Vec<u64> = shares
            .iter()
            .filter(|s| extranonce2_index(s) % threads as u64 == t)
            .map(|s| s.generation)
            .collect();
        assert!(
            generations.windows(2).all(|w| w[0] <= w[1]),
            "thread {t} went back"
        );
        assert_eq!(generations.last(), Some(&1), "thread {t} never switched");
    }
}

#[test]
fn stop_returns() {
    // Nothing meets a zero target (in practice), so threads only hash.
    let work = WorkTemplate {
        target: [0; 32],
        ..template(6)
    };
    let config = SearchConfig {
        threads: 2,
        ..SearchConfig::default()
    };
    let (searcher, _) = collect(Arc::new(Reference), work.clone(), config);
    wait_until("hashing", || {
        searcher.hashes_per_thread().iter().all(|&h| h > 0)
    });
    let handle = searcher.stop_handle();
    assert!(!handle.is_stopped());
    std::thread::spawn(move || handle.stop()).join().unwrap();
    let stats = searcher.stop();
    assert!(stats.hashes > 0 && stats.elapsed >= stats.stop_latency);

    measure_stop_latency(
        Arc::new(Reference),
        work.clone(),
        config,
        Duration::from_millis(5),
    )
    .unwrap();
    // Dropping also stops and joins, including threads idle on exhausted work.
    drop(collect(Arc::new(Reference), work, config).0);
}

#[test]
fn invalid_configurations_are_refused() {
    let kernel: Arc<dyn Kernel> = Arc::new(Reference);
    let one_value = WorkTemplate {
        extranonce2_size: 0,
        ..template(7)
    };
    let start = |work: &WorkTemplate, threads, batch| {
        Searcher::start(
            Arc::clone(&kernel),
            work.clone(),
            SearchConfig { threads, batch },
            |_| {},
        )
    };
    assert!(matches!(
        start(&one_value, 2, 64),
        Err(SearchError::TooManyThreads {
            threads: 2,
            space: 1
        })
    ));
    let byte = WorkTemplate {
        extranonce2_size: 1,
        ..template(7)
    };
    assert!(matches!(
        start(&byte, 257, 64),
        Err(SearchError::TooManyThreads { .. })
    ));
    assert!(matches!(start(&byte, 0, 64), Err(SearchError::NoThreads)));
    assert!(matches!(start(&byte, 1, 0), Err(SearchError::EmptyBatch)));

    let searcher = start(&byte, 2, 64).unwrap();
    assert!(matches!(
        searcher.replace_work(one_value.clone()),
        Err(SearchError::TooManyThreads { .. })
    ));
    searcher.stop();
    let single = start(&one_value, 1, 64).unwrap();
    single.stop();
}

#[test]
#[should_panic(expected = "callback failed")]
fn a_panicking_callback_surfaces_at_stop() {
    let work = WorkTemplate {
        target: [0xff; 32],
        ..template(8)
    };
    let searcher = Searcher::start(Arc::new(Reference), work, SearchConfig::default(), |_| {
        panic!("callback failed")
    })
    .unwrap();
    wait_until("the panic", || searcher.shares() > 0);
    searcher.stop();
}

#[test]
fn pause_parks_every_thread_and_resume_continues_without_repeating_work() {
    let work = template(9);
    let config = SearchConfig {
        threads: 3,
        batch: 256,
    };
    let (searcher, shares) = collect(Arc::new(Reference), work.clone(), config);
    let mut seen = HashSet::new();
    for round in 0..5 {
        wait_until("hashing", || searcher.hashes() > (round + 1) * 3 * 256);
        let released = searcher.pause();
        assert!(released < Duration::from_secs(30), "{released:?}");
        assert!(searcher.is_paused());
        assert_eq!(searcher.parked(), 3);
        // Nothing is hashed while paused.
        let before = searcher.hashes();
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(searcher.hashes(), before);
        searcher.resume();
        assert!(!searcher.is_paused());
        assert_eq!(searcher.parked(), 0);
    }
    let stats = searcher.stop();
    let shares = shares.lock().unwrap();
    assert!(!shares.is_empty());
    assert_eq!(stats.shares, shares.len() as u64);
    for share in shares.iter() {
        check_share(&work, share);
        // Resuming continues where each thread stood: no header and nonce twice.
        assert!(seen.insert((
            share.extranonce2.clone(),
            share.ntime,
            share.version,
            share.nonce
        )));
    }
}

#[test]
fn stop_while_paused_returns() {
    let config = SearchConfig {
        threads: 2,
        batch: 256,
    };
    let (searcher, _shares) = collect(Arc::new(Reference), template(3), config);
    searcher.pause();
    let stats = searcher.stop();
    assert!(stats.stop_latency < Duration::from_secs(30));
}
