//! Discovers this machine's devices, benchmarks the CPU with the default bounds and prints
//! the descriptors (with scores) and the full report as JSON: what `aic worker devices` and
//! `aic worker bench` will show, until the CLI has them.
//!
//! `cargo run --release -p aic-worker --example devices_bench`
#![allow(clippy::print_stdout)]

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut found = aic_worker::device::discover();
    let report = aic_worker::bench::run_cpu(&aic_worker::bench::BenchConfig::default())?;
    if let Some(cpu) = found.devices.first_mut() {
        cpu.scores = Some(report.scores());
    }
    println!("{}", serde_json::to_string_pretty(&found.devices)?);
    println!("notes: {:?}", found.notes);
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
