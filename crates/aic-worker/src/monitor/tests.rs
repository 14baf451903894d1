//! The monitor on this machine: real /proc and /sys, a real loopback socket.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::prometheus_parse::parse_exposition;
use super::*;
use crate::device::{cpu_descriptor, discover, miners_from_workers, DeviceKind};

fn cpu_only(interval_ms: u64, history: usize) -> Monitor {
    let config = MonitorConfig {
        interval: Duration::from_millis(interval_ms),
        history,
    };
    Monitor::start(vec![cpu_descriptor()], Gpus::open(), config).unwrap()
}

#[test]
fn samples_arrive_at_the_interval_and_history_is_bounded() {
    let monitor = cpu_only(100, 5);
    let h = monitor.handle();
    let started = Instant::now();
    std::thread::sleep(Duration::from_millis(1250));
    let snap = h.snapshot(100);
    let elapsed = started.elapsed();
    monitor.stop();
    // About 12 samples in 1.25 s at 100 ms; tolerant of a loaded machine.
    let expected = elapsed.as_millis() as u64 / 100;
    assert!(
        (expected.saturating_sub(4)..=expected).contains(&snap.samples_taken),
        "{} in {elapsed:?}",
        snap.samples_taken
    );
    assert_eq!(snap.history.len(), 5, "history keeps only its capacity");
    let gaps: Vec<u64> = snap
        .history
        .windows(2)
        .map(|w| w[1].at_ms - w[0].at_ms)
        .collect();
    let mean = gaps.iter().sum::<u64>() as f64 / gaps.len() as f64;
    assert!((70.0..=200.0).contains(&mean), "{gaps:?}");
    let s = &snap.latest.unwrap().devices[0];
    assert_eq!(s.device, "cpu");
    let u = s.utilization.unwrap();
    assert!((0.0..=1.0).contains(&u));
    // One entry per `cpuN` line of /proc/stat.
    assert_eq!(s.core_utilization.len(), procfs::read_stat().len() - 1);
    assert!(s.core_utilization.iter().all(|u| (0.0..=1.0).contains(u)));
    assert!(s.memory_used_bytes.unwrap() <= s.memory_total_bytes.unwrap());
    if let Some(t) = s.temperature_celsius {
        assert!((-40.0..=150.0).contains(&t));
    }
}

#[test]
fn utilization_rises_while_threads_spin() {
    let monitor = cpu_only(200, 50);
    let h = monitor.handle();
    let threads = std::thread::available_parallelism().unwrap().get();
    let before = h.snapshot(0).samples_taken;
    let spin_until = Instant::now() + Duration::from_millis(1200);
    let spinners: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut x = 1u64;
                while Instant::now() < spin_until {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
                x
            })
        })
        .collect();
    for s in spinners {
        s.join().unwrap();
    }
    let snap = h.snapshot(50);
    monitor.stop();
    let during: Vec<f64> = snap
        .history
        .iter()
        .skip(before as usize + 1)
        .filter_map(|s| s.devices[0].utilization)
        .collect();
    assert!(!during.is_empty());
    let peak = during.iter().copied().fold(0.0, f64::max);
    // Every logical CPU spun: whatever else runs, the machine was mostly busy.
    assert!(peak >= 0.6, "peak utilization {peak} in {during:?}");
}

#[test]
fn stop_returns_at_once_even_with_a_long_interval() {
    let monitor = cpu_only(60_000, 3);
    let t = Instant::now();
    drop(monitor);
    assert!(t.elapsed() < Duration::from_secs(1));
}

#[test]
fn tasks_are_set_through_the_handle_and_sampled() {
    let monitor = cpu_only(50, 10);
    let h = monitor.handle();
    assert_eq!(h.task("cpu"), Some(Task::Idle));
    assert!(h.set_task("cpu", Task::Mining));
    assert!(!h.set_task("gpu:nope", Task::AiJob));
    assert_eq!(h.task("gpu:nope"), None);
    let deadline = Instant::now() + Duration::from_secs(3);
    while h.latest().is_none_or(|s| s.devices[0].task != Task::Mining) {
        assert!(Instant::now() < deadline, "no sample carried the task");
        std::thread::sleep(Duration::from_millis(20));
    }
    let text = render_prometheus(&h.snapshot(0));
    assert!(
        text.contains("aic_worker_device_task{device=\"cpu\",task=\"mining\"} 1\n"),
        "{text}"
    );
    assert!(text.contains("aic_worker_device_task{device=\"cpu\",task=\"idle\"} 0\n"));
}

#[test]
fn prometheus_text_of_every_kind_of_device_parses() {
    let mut devices = discover().devices;
    let w = aic_api::stratum::WorkerStats {
        worker: "aic1addr.antminer \"s19\"\\x\ny".to_owned(),
        connections: 1,
        difficulty: 1.0,
        accepted: 1,
        rejected: Default::default(),
        blocks: 0,
        hash_rate: 1e14,
        last_share: Some(1),
    };
    devices.extend(miners_from_workers(&[w]));
    let miner = devices.last().unwrap().id.clone();
    let monitor = Monitor::start(
        devices,
        Gpus::open(),
        MonitorConfig {
            interval: Duration::from_millis(50),
            history: 4,
        },
    )
    .unwrap();
    let h = monitor.handle();
    while h.latest().is_none() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let text = render_prometheus(&h.snapshot(0));
    monitor.stop();
    let samples = parse_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let find = |name: &str, device: &str| {
        samples
            .iter()
            .find(|(n, l, _)| n == name && l.iter().any(|(k, v)| k == "device" && v == device))
            .map(|s| s.2)
    };
    assert_eq!(
        find("aic_worker_device_score_sha256d_hashes_per_second", &miner),
        Some(1e14)
    );
    assert_eq!(find("aic_worker_device_info", &miner), Some(1.0));
    let u = find("aic_worker_device_utilization_ratio", "cpu").unwrap();
    assert!((0.0..=1.0).contains(&u));
    assert!(find("aic_worker_device_memory_total_bytes", "cpu").unwrap() > 0.0);
    // A remote miner reports no utilization: the line is absent, not zero.
    assert_eq!(find("aic_worker_device_utilization_ratio", &miner), None);
    assert!(samples
        .iter()
        .any(|(n, _, v)| n == "aic_worker_samples_total" && *v >= 1.0));
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_owned(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_status_over_loopback() {
    let monitor = cpu_only(50, 20);
    let h = monitor.handle();
    h.set_task("cpu", Task::AiJob);
    while h.snapshot(0).samples_taken < 3 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_status(listener, h.clone(), async {
        let _ = rx.await;
    }));

    let (head, body) = get(addr, "/metrics").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    let samples = parse_exposition(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
    assert!(samples.iter().any(|(n, l, v)| n == "aic_worker_device_task"
        && l.contains(&("task".to_owned(), "ai_job".to_owned()))
        && *v == 1.0));

    let (head, body) = get(addr, "/api/v1/worker/status?history=2").await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    let status: Snapshot = serde_json::from_str(&body).unwrap();
    assert_eq!(status.schema_version, STATUS_SCHEMA_VERSION);
    assert_eq!(status.interval_ms, 50);
    assert_eq!(status.history.len(), 2);
    assert_eq!(status.devices[0].kind, DeviceKind::Cpu);
    assert_eq!(status.tasks["cpu"], Task::AiJob);
    assert!(status.samples_taken >= 3);

    let (head, _) = get(addr, "/api/v1/worker/status").await;
    assert!(head.starts_with("HTTP/1.1 200"));
    let (head, _) = get(addr, "/nope").await;
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    monitor.stop();
}
