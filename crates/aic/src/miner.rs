//! `aic miner`: mine through a Stratum pool, or benchmark the kernels.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aic_miner::{ClientEvent, Kernel, PoolConfig, SearchConfig, DEFAULT_BATCH};
use anyhow::{bail, Context, Result};
use serde_json::json;

use crate::cli::{MinerArgs, MinerCommand};

/// The kernel asked for by name, or the fastest this CPU runs.
fn pick_kernel(name: Option<&str>) -> Result<Arc<dyn Kernel>> {
    let all = aic_miner::kernels();
    match name {
        None => all
            .into_iter()
            .next()
            .map(Arc::from)
            .context("no kernel available"),
        Some(n) => {
            let names: Vec<&str> = all.iter().map(|k| k.name()).collect();
            let list = names.join(", ");
            all.into_iter()
                .find(|k| k.name() == n)
                .map(Arc::from)
                .with_context(|| format!("no kernel {n:?} on this CPU; available: {list}"))
        }
    }
}

fn threads_or_cores(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
}

pub(crate) fn run(args: MinerArgs) -> Result<()> {
    match args.command {
        Some(MinerCommand::Bench {
            seconds,
            threads,
            kernel,
            json,
        }) => bench(seconds, threads, kernel.as_deref(), json),
        Some(MinerCommand::Tune {
            seconds,
            grid,
            json,
        }) => tune(&args.data_dir, seconds, grid, json),
        None => mine(args),
    }
}

fn mine(args: MinerArgs) -> Result<()> {
    if args.pool.is_empty() {
        bail!("give at least one --pool stratum+tcp://HOST:PORT (see `aic miner --help`)");
    }
    let Some(user) = args.user else {
        bail!("give --user ADDRESS[.worker]: the payout address, optionally with a worker name");
    };
    // Flags win; then the tuned profile for this machine; then the fastest kernel on every core.
    let profile = aic_miner::Profile::load(&args.data_dir);
    let kernel_name = args
        .kernel
        .clone()
        .or_else(|| profile.as_ref().map(|p| p.kernel.clone()));
    let kernel = pick_kernel(kernel_name.as_deref())?;
    let threads = match (args.threads, &profile) {
        (0, Some(p)) => p.threads,
        (t, _) => threads_or_cores(t),
    };
    let batch = profile.as_ref().map_or(DEFAULT_BATCH, |p| p.batch);
    let config = PoolConfig {
        urls: args.pool,
        user,
        password: "x".to_owned(),
        search: SearchConfig { threads, batch },
    };
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the signal handler")?;
        std::thread::spawn(move || {
            let _ = rt.block_on(crate::node::shutdown_signal());
            stop.store(true, Ordering::Relaxed);
        });
    }
    let json_out = args.json;
    let kernel_name = kernel.name();
    if !json_out {
        println!(
            "mining with {kernel_name} on {} threads; Ctrl-C stops",
            config.search.threads
        );
    }
    let stats = aic_miner::run_pool_client(&config, kernel, stop, |e| {
        let line = if json_out {
            event_json(&e).to_string()
        } else {
            event_text(&e)
        };
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    });
    if json_out {
        println!(
            "{}",
            json!({"event": "stopped", "hashes": stats.hashes, "submitted": stats.submitted,
                   "accepted": stats.accepted, "rejected": stats.rejected})
        );
    } else {
        println!(
            "stopped: {} hashes, {} shares submitted, {} accepted, {} rejected",
            stats.hashes, stats.submitted, stats.accepted, stats.rejected
        );
    }
    Ok(())
}

fn event_text(e: &ClientEvent) -> String {
    match e {
        ClientEvent::Connected(url) => format!("connected to {url}"),
        ClientEvent::Authorized { extranonce1 } => {
            format!("authorized (extranonce1 {extranonce1})")
        }
        ClientEvent::Difficulty(d) => format!("share difficulty {d}"),
        ClientEvent::Job { id, clean } => {
            format!("job {id}{}", if *clean { " (clean)" } else { "" })
        }
        ClientEvent::Accepted { block: None } => "share accepted".to_owned(),
        ClientEvent::Accepted { block: Some(hash) } => {
            format!("share accepted: it is block {hash}")
        }
        ClientEvent::Rejected { code, message } => format!("share rejected: {code} {message}"),
        ClientEvent::Disconnected { reason, retry_in } => {
            format!("disconnected: {reason}; retrying in {retry_in:?}")
        }
    }
}

fn event_json(e: &ClientEvent) -> serde_json::Value {
    match e {
        ClientEvent::Connected(url) => json!({"event": "connected", "url": url}),
        ClientEvent::Authorized { extranonce1 } => {
            json!({"event": "authorized", "extranonce1": extranonce1})
        }
        ClientEvent::Difficulty(d) => json!({"event": "difficulty", "difficulty": d}),
        ClientEvent::Job { id, clean } => json!({"event": "job", "id": id, "clean": clean}),
        ClientEvent::Accepted { block } => json!({"event": "accepted", "block": block}),
        ClientEvent::Rejected { code, message } => {
            json!({"event": "rejected", "code": code, "message": message})
        }
        ClientEvent::Disconnected { reason, retry_in } => {
            json!({"event": "disconnected", "reason": reason, "retry_in_ms": retry_in.as_millis() as u64})
        }
    }
}

fn bench(seconds: f64, threads: Vec<usize>, kernel: Option<&str>, json_out: bool) -> Result<()> {
    let kernels: Vec<Arc<dyn Kernel>> = match kernel {
        Some(name) => vec![pick_kernel(Some(name))?],
        None => aic_miner::kernels().into_iter().map(Arc::from).collect(),
    };
    let threads = if threads.is_empty() {
        (1..=threads_or_cores(0)).collect()
    } else {
        threads
    };
    let duration = Duration::from_secs_f64(seconds.max(0.1));
    let mut rows = Vec::new();
    if !json_out {
        println!(
            "{:<14} {:>7} {:>14} {:>16} {:>14} {:>10}",
            "kernel", "threads", "MH/s", "MH/CPU-s", "MH/s/thread", "stop"
        );
    }
    for k in &kernels {
        for &t in &threads {
            let row = aic_miner::measure(k.clone(), t, duration)?;
            if !json_out {
                println!(
                    "{:<14} {:>7} {:>14.2} {:>16} {:>14.2} {:>10}",
                    row.kernel,
                    row.threads,
                    row.hashes_per_sec / 1e6,
                    row.hashes_per_cpu_sec
                        .map_or("n/a".to_owned(), |h| format!("{:.2}", h / 1e6)),
                    row.hashes_per_sec / 1e6 / row.threads as f64,
                    format!("{:.2?}", row.stop_latency),
                );
            }
            rows.push(row);
        }
    }
    if json_out {
        let out: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({"kernel": r.kernel, "threads": r.threads, "hashes_per_sec": r.hashes_per_sec,
                       "hashes_per_cpu_sec": r.hashes_per_cpu_sec, "seconds": r.seconds,
                       "stop_latency_us": r.stop_latency.as_micros() as u64})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
    }
    Ok(())
}

fn tune(dir: &std::path::Path, seconds: f64, grid: bool, json_out: bool) -> Result<()> {
    let kernels: Vec<Arc<dyn Kernel>> = aic_miner::kernels().into_iter().map(Arc::from).collect();
    let per = Duration::from_secs_f64(seconds.max(0.1));
    if !json_out {
        println!(
            "tuning on {} ({} search)",
            aic_miner::machine_key(),
            if grid { "grid" } else { "guided" }
        );
    }
    let profile = aic_miner::tune(&kernels, threads_or_cores(0), per, grid, |t| {
        if !json_out {
            println!(
                "  {:<12} threads {:>2}  batch {:>6}  {:>8.2} MH/s",
                t.kernel,
                t.threads,
                t.batch,
                t.hashes_per_sec / 1e6
            );
        }
    })?;
    profile
        .save(dir)
        .with_context(|| format!("saving the profile in {}", dir.display()))?;
    if json_out {
        println!("{}", serde_json::to_string_pretty(&profile.to_json())?);
    } else {
        println!(
            "best: {} on {} threads, batch {}: {:.2} MH/s ({} trials; the full grid has {}); saved in {}",
            profile.kernel,
            profile.threads,
            profile.batch,
            profile.hashes_per_sec / 1e6,
            profile.trials,
            profile.grid_size,
            dir.join(aic_miner::PROFILE_FILE).display()
        );
    }
    Ok(())
}
