//! `aic worker`: the device owner's agent: devices, benchmarks, the monitor and its endpoints.

use std::time::Duration;

use aic_worker::bench::{self, BenchConfig};
use aic_worker::device::{self, DeviceDescriptor};
use aic_worker::monitor::{Monitor, MonitorConfig, Snapshot};
use anyhow::{Context, Result};
use serde_json::json;

use crate::cli::WorkerCommand;

pub(crate) fn run(cmd: WorkerCommand) -> Result<()> {
    match cmd {
        WorkerCommand::Devices { node, json } => devices(node.as_deref(), json),
        WorkerCommand::Bench {
            seconds,
            threads,
            json,
        } => bench(seconds, threads, json),
        WorkerCommand::Run { listen, seconds } => serve(listen, seconds),
        WorkerCommand::Status { worker, once, json } => status(&worker, once, json),
    }
}

fn gib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "-".to_owned(),
        |b| format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
    )
}

fn print_descriptor(d: &DeviceDescriptor) {
    println!(
        "{:<24} {:<13} {} {} ({} cores, {} threads, {})",
        d.id,
        serde_json::to_value(d.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        d.vendor,
        d.model,
        d.cores.map_or_else(|| "-".to_owned(), |c| c.to_string()),
        d.threads.map_or_else(|| "-".to_owned(), |c| c.to_string()),
        gib(d.memory_bytes)
    );
    if !d.capabilities.is_empty() {
        println!("{:<24} capabilities: {}", "", d.capabilities.join(", "));
    }
    if let Some(s) = &d.scores {
        println!(
            "{:<24} scores: {}",
            "",
            serde_json::to_string(s).unwrap_or_default()
        );
    }
}

fn devices(node: Option<&str>, json: bool) -> Result<()> {
    let found = device::discover();
    let mut all = found.devices.clone();
    if let Some(node) = node {
        let url = format!("{}/api/v1/mining/workers", node.trim_end_matches('/'));
        let body = ureq::get(&url)
            .call()
            .with_context(|| format!("asking {url} for its Stratum workers"))?
            .into_string()?;
        all.extend(device::miners_from_json(&body).context("reading the node's workers")?);
    }
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"devices": all, "notes": found.notes}))?
        );
        return Ok(());
    }
    for d in &all {
        print_descriptor(d);
    }
    for note in &found.notes {
        println!("note: {note}");
    }
    Ok(())
}

fn bench(seconds: f64, threads: Option<usize>, json: bool) -> Result<()> {
    let per = Duration::from_secs_f64(seconds.max(0.05));
    let defaults = BenchConfig::default();
    let config = BenchConfig {
        threads: threads.unwrap_or(defaults.threads).max(1),
        hash_duration: per,
        matmul_budget: per,
        memory_budget: per,
        ..defaults
    };
    if !json {
        eprintln!(
            "measuring hashing, matrix multiply and memory bandwidth, {seconds} s each on {} threads...",
            config.threads
        );
    }
    let report = bench::run_cpu(&config)?;
    let mut cpu = device::cpu_descriptor();
    cpu.scores = Some(report.scores());
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"device": cpu, "report": report}))?
        );
        return Ok(());
    }
    print_descriptor(&cpu);
    Ok(())
}

fn serve(listen: std::net::SocketAddr, seconds: Option<u64>) -> Result<()> {
    let monitor = Monitor::from_discovery(device::discover(), MonitorConfig::default())
        .context("starting the monitor")?;
    let handle = monitor.handle();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("binding {listen}"))?;
        eprintln!(
            "worker: metrics at http://{listen}/metrics, status at http://{listen}/api/v1/worker/status (Ctrl-C stops)"
        );
        let shutdown = async move {
            match seconds {
                Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        };
        aic_worker::monitor::serve_status(listener, handle, shutdown).await?;
        anyhow::Ok(())
    })?;
    monitor.stop();
    Ok(())
}

fn opt(v: Option<f64>, unit: &str, scale: f64) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{:.0}{unit}", v * scale))
}

fn render(snapshot: &Snapshot) {
    println!(
        "{:<24} {:<8} {:>6} {:>20} {:>7} {:>8}",
        "device", "task", "util", "memory", "temp", "power"
    );
    let Some(latest) = &snapshot.latest else {
        println!("(no sample yet)");
        return;
    };
    for d in &latest.devices {
        let memory = match (d.memory_used_bytes, d.memory_total_bytes) {
            (Some(u), Some(t)) => format!("{} / {}", gib(Some(u)), gib(Some(t))),
            _ => "-".to_owned(),
        };
        println!(
            "{:<24} {:<8} {:>6} {:>20} {:>7} {:>8}",
            d.device,
            d.task.as_str(),
            opt(d.utilization, " %", 100.0),
            memory,
            opt(d.temperature_celsius, " C", 1.0),
            opt(d.power_watts, " W", 1.0)
        );
        if !d.core_utilization.is_empty() {
            let cores: Vec<String> = d
                .core_utilization
                .iter()
                .map(|u| format!("{:.0}", u * 100.0))
                .collect();
            println!("{:<24} per core %: {}", "", cores.join(" "));
        }
    }
    println!(
        "{} samples every {} ms",
        snapshot.samples_taken, snapshot.interval_ms
    );
}

fn status(worker: &str, once: bool, json: bool) -> Result<()> {
    let url = format!(
        "{}/api/v1/worker/status?history=0",
        worker.trim_end_matches('/')
    );
    loop {
        let body = ureq::get(&url)
            .call()
            .with_context(|| {
                format!("cannot reach the worker at {worker} (is `aic worker run` running?)")
            })?
            .into_string()?;
        if json {
            let v: serde_json::Value = serde_json::from_str(&body)?;
            println!("{}", serde_json::to_string(&v)?);
        } else {
            let snapshot: Snapshot =
                serde_json::from_str(&body).context("reading the worker's status")?;
            if !once {
                // Clear the terminal and home the cursor: a live view.
                print!("\x1b[2J\x1b[H");
            }
            render(&snapshot);
        }
        if once {
            return Ok(());
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}
