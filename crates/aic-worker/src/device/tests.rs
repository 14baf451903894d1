//! Descriptor round trips, mining-worker mapping and discovery on this machine.

use std::collections::BTreeMap;

use aic_api::stratum::WorkerStats;

use super::*;

#[test]
fn descriptor_json_round_trips_and_carries_schema_version() {
    let mut d = cpu_descriptor();
    d.scores = Some(Scores {
        sha256d_hashes_per_sec: Some(1.5e7),
        matmul_gflops: Some(42.0),
        memory_gbytes_per_sec: None,
        measured_at: 1_800_000_000,
        source: ScoreSource::Benchmark,
    });
    let json = d.to_json();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["schema_version"], SCHEMA_VERSION);
    assert_eq!(value["kind"], "cpu");
    assert_eq!(value["scores"]["source"], "benchmark");
    assert_eq!(DeviceDescriptor::from_json(&json).unwrap(), d);
}

#[test]
fn other_schema_versions_and_bad_json_are_refused() {
    let mut v: serde_json::Value = serde_json::from_str(&cpu_descriptor().to_json()).unwrap();
    v["schema_version"] = 2.into();
    let err = DeviceDescriptor::from_json(&v.to_string()).unwrap_err();
    assert!(
        matches!(err, DescriptorError::Version { found: 2 }),
        "{err}"
    );
    assert!(DeviceDescriptor::from_json("{\"id\": 3}").is_err());
}

#[test]
fn kinds_have_their_wire_names() {
    for kind in [
        DeviceKind::Cpu,
        DeviceKind::Gpu,
        DeviceKind::Asic,
        DeviceKind::Fpga,
        DeviceKind::UnknownMiner,
    ] {
        let json = serde_json::to_string(&kind).unwrap();
        assert_eq!(json, format!("\"{}\"", kind.as_str()));
    }
    assert!(DeviceKind::Gpu.runs_ai_jobs() && !DeviceKind::Asic.runs_ai_jobs());
}

fn worker(name: &str, accepted: u64, hash_rate: f64, last_share: Option<u64>) -> WorkerStats {
    WorkerStats {
        worker: name.to_owned(),
        connections: 1,
        difficulty: 1024.0,
        accepted,
        rejected: BTreeMap::from([("stale".to_owned(), 2)]),
        blocks: 0,
        hash_rate,
        last_share,
    }
}

#[test]
fn mining_workers_response_maps_to_descriptors() {
    let addr = "aic1qexampleaddressxxxxxxxxxxxxxxxxxxxxxxxxx";
    // The body exactly as the node serves it: a JSON array of aic-api's WorkerStats.
    let body = serde_json::to_string(&vec![
        worker(
            &format!("{addr}.antminer-s19"),
            120,
            9.5e13,
            Some(1_800_000_100),
        ),
        worker(&format!("{addr}.rig7"), 3, 2.0e9, Some(1_800_000_050)),
        worker(&format!("{addr}.fpga-0"), 0, 0.0, None),
        worker(addr, 0, 0.0, None),
    ])
    .unwrap();
    let ds = miners_from_json(&body).unwrap();
    assert_eq!(ds.len(), 4);
    let kinds: Vec<_> = ds.iter().map(|d| d.kind).collect();
    assert_eq!(
        kinds,
        [
            DeviceKind::Asic,
            DeviceKind::UnknownMiner,
            DeviceKind::Fpga,
            DeviceKind::UnknownMiner
        ]
    );
    assert_eq!(ds[0].id, format!("miner:{addr}.antminer-s19"));
    assert_eq!(ds[0].vendor, "Bitmain");
    assert_eq!(ds[0].model, "antminer-s19");
    let s = ds[0].scores.as_ref().unwrap();
    assert_eq!(s.sha256d_hashes_per_sec, Some(9.5e13));
    assert_eq!(s.source, ScoreSource::StratumShares);
    assert_eq!(s.measured_at, 1_800_000_100);
    assert_eq!((s.matmul_gflops, s.memory_gbytes_per_sec), (None, None));
    // No shares in the window: no score, rather than a zero.
    assert!(ds[2].scores.is_none() && ds[3].scores.is_none());
    for d in &ds {
        assert!(d.has("sha256d") && d.has("stratum-v1"));
        assert_eq!(d.schema_version, SCHEMA_VERSION);
    }
    assert!(miners_from_json("{\"not\": \"a list\"}").is_err());
}

#[test]
fn worker_name_hints() {
    assert_eq!(
        hint_from_worker_name("a.Whatsminer-M30"),
        Some((DeviceKind::Asic, "MicroBT"))
    );
    assert_eq!(
        hint_from_worker_name("a.my-gpu"),
        Some((DeviceKind::Gpu, "unknown"))
    );
    assert_eq!(hint_from_worker_name("a.rig"), None);
    // The address alone hints nothing, even if it happens to contain a fragment.
    assert_eq!(hint_from_worker_name("aic1asic"), None);
}

#[test]
fn discovery_finds_the_cpu_and_explains_missing_gpus() {
    let found = discover();
    assert_eq!(found.devices[0].kind, DeviceKind::Cpu);
    if found.gpus.devices().is_empty() {
        assert_eq!(found.devices.len(), 1);
        assert_eq!(found.notes.len(), 1, "{:?}", found.notes);
    }
}
