//! The Prometheus text exposition format (version 0.0.4) of a [`Snapshot`].

use std::fmt::Write;

use super::sample::{DeviceSample, Snapshot, Task};

/// Renders the snapshot's devices, tasks and latest sample as Prometheus text: one `# HELP`
/// and one `# TYPE` line per metric, then its samples. Values a device does not report are
/// left out, never written as zero.
pub fn render_prometheus(snapshot: &Snapshot) -> String {
    let mut out = String::new();
    let latest: Vec<&DeviceSample> = snapshot.latest.iter().flat_map(|s| &s.devices).collect();

    metric(
        &mut out,
        "aic_worker_device_info",
        "gauge",
        "Device descriptor (always 1): kind, vendor, model.",
    );
    for d in &snapshot.devices {
        let labels = [
            ("device", d.id.as_str()),
            ("kind", d.kind.as_str()),
            ("vendor", &d.vendor),
            ("model", &d.model),
        ];
        line(&mut out, "aic_worker_device_info", &labels, 1.0);
    }
    metric(
        &mut out,
        "aic_worker_device_task",
        "gauge",
        "1 for the task holding the device (idle, mining, ai_job, paused), 0 for the others.",
    );
    for (device, &task) in &snapshot.tasks {
        for t in Task::ALL {
            let value = if t == task { 1.0 } else { 0.0 };
            line(
                &mut out,
                "aic_worker_device_task",
                &[("device", device), ("task", t.as_str())],
                value,
            );
        }
    }
    type Reading = fn(&DeviceSample) -> Option<f64>;
    let gauges: [(&str, &str, Reading); 5] = [
        (
            "aic_worker_device_utilization_ratio",
            "Busy fraction over the last interval (0 to 1).",
            |s| s.utilization,
        ),
        (
            "aic_worker_device_memory_used_bytes",
            "Memory in use, bytes.",
            |s| s.memory_used_bytes.map(|b| b as f64),
        ),
        (
            "aic_worker_device_memory_total_bytes",
            "Memory in all, bytes.",
            |s| s.memory_total_bytes.map(|b| b as f64),
        ),
        (
            "aic_worker_device_temperature_celsius",
            "Temperature, degrees Celsius.",
            |s| s.temperature_celsius,
        ),
        (
            "aic_worker_device_power_watts",
            "Power draw over the last interval, watts.",
            |s| s.power_watts,
        ),
    ];
    for (name, help, get) in gauges {
        metric(&mut out, name, "gauge", help);
        for s in &latest {
            if let Some(v) = get(s) {
                line(&mut out, name, &[("device", &s.device)], v);
            }
        }
    }
    metric(
        &mut out,
        "aic_worker_cpu_core_utilization_ratio",
        "gauge",
        "Busy fraction of each logical CPU over the last interval.",
    );
    for s in &latest {
        for (i, v) in s.core_utilization.iter().enumerate() {
            line(
                &mut out,
                "aic_worker_cpu_core_utilization_ratio",
                &[("device", &s.device), ("core", &i.to_string())],
                *v,
            );
        }
    }
    type Score = fn(&crate::device::Scores) -> Option<f64>;
    let scores: [(&str, &str, Score); 3] = [
        (
            "aic_worker_device_score_sha256d_hashes_per_second",
            "Measured (or share-estimated) SHA-256d hash rate.",
            |s| s.sha256d_hashes_per_sec,
        ),
        (
            "aic_worker_device_score_matmul_flops_per_second",
            "Measured f32 matrix-multiply rate, flop/s.",
            |s| s.matmul_gflops.map(|g| g * 1e9),
        ),
        (
            "aic_worker_device_score_memory_bytes_per_second",
            "Measured memory bandwidth (STREAM triad), bytes/s.",
            |s| s.memory_gbytes_per_sec.map(|g| g * 1e9),
        ),
    ];
    for (name, help, get) in scores {
        metric(&mut out, name, "gauge", help);
        for d in &snapshot.devices {
            if let Some(v) = d.scores.as_ref().and_then(get) {
                line(&mut out, name, &[("device", &d.id)], v);
            }
        }
    }
    metric(
        &mut out,
        "aic_worker_samples_total",
        "counter",
        "Samples taken since the monitor started.",
    );
    line(
        &mut out,
        "aic_worker_samples_total",
        &[],
        snapshot.samples_taken as f64,
    );
    metric(
        &mut out,
        "aic_worker_last_sample_timestamp_seconds",
        "gauge",
        "Unix time of the latest sample.",
    );
    if let Some(s) = &snapshot.latest {
        line(
            &mut out,
            "aic_worker_last_sample_timestamp_seconds",
            &[],
            s.at_ms as f64 / 1000.0,
        );
    }
    out
}

fn metric(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn line(out: &mut String, name: &str, labels: &[(&str, &str)], value: f64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{k}=\"{}\"", escape(v));
        }
        out.push('}');
    }
    let _ = writeln!(out, " {}", number(value));
}

/// Label values escape backslash, double quote and newline.
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        format!("{v}")
    }
}
