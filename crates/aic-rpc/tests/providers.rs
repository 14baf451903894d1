//! The provider endpoints over real HTTP on a loopback port, served by the node's whole router:
//! announcements and reports accepted, each rule broken once (with its status and code, and
//! the registry unchanged), the online filter and the expiry.

use std::sync::Arc;
use std::time::Duration;

use aic_api::provider::{JobReport, JobStatus, ProviderAnnouncement};
use aic_chain::{Chain, ChainConfig};
use aic_primitives::{Address, ChainParams, Network, SecretKey};
use aic_rpc::{NodeHandle, ProviderConfig, ProviderRegistry, RpcAuth};
use serde_json::{json, Value};

struct Node {
    _rt: tokio::runtime::Runtime,
    base: String,
    _dir: tempfile::TempDir,
}

impl Node {
    fn start(config: ProviderConfig) -> Node {
        let dir = tempfile::tempdir().unwrap();
        let chain = Chain::open(
            ChainParams::devnet(),
            &dir.path().join("chain.redb"),
            ChainConfig::default(),
        )
        .unwrap();
        let handle = Arc::new(NodeHandle::new(chain, None));
        let registry = Arc::new(ProviderRegistry::new(Network::Devnet, config));
        let rt = tokio::runtime::Runtime::new().unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        rt.spawn(aic_rpc::serve(
            listener,
            handle,
            RpcAuth::new("u", "p"),
            None,
            registry,
            std::future::pending(),
        ));
        Node {
            _rt: rt,
            base,
            _dir: dir,
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        answer(ureq::get(&format!("{}{path}", self.base)).call())
    }

    fn post(&self, path: &str, body: &impl serde::Serialize) -> (u16, Value) {
        answer(ureq::post(&format!("{}{path}", self.base)).send_json(body))
    }

    fn post_raw(&self, path: &str, body: &str) -> (u16, Value) {
        answer(
            ureq::post(&format!("{}{path}", self.base))
                .set("Content-Type", "application/json")
                .send_string(body),
        )
    }

    fn announce(&self, a: &ProviderAnnouncement) -> (u16, Value) {
        self.post("/api/v1/providers/announce", a)
    }

    fn report(&self, r: &JobReport) -> (u16, Value) {
        self.post(&format!("/api/v1/providers/{}/reports", r.address), r)
    }

    /// Everything the registry shows: every provider and every provider's reports.
    fn snapshot(&self) -> Value {
        let (status, list) = self.get("/api/v1/providers");
        assert_eq!(status, 200);
        let mut reports = Vec::new();
        for p in list["providers"].as_array().unwrap() {
            let a = p["address"].as_str().unwrap();
            reports.push(self.get(&format!("/api/v1/providers/{a}/reports")).1);
        }
        json!({"providers": list["providers"], "reports": reports})
    }
}

fn answer(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(resp) => (resp.status(), resp.into_json().unwrap_or(Value::Null)),
        Err(ureq::Error::Status(code, resp)) => (code, resp.into_json().unwrap_or(Value::Null)),
        Err(e) => panic!("transport: {e}"),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn key(i: u8) -> SecretKey {
    SecretKey::from_seed([i; 32])
}

fn address(i: u8) -> String {
    Address::from_public_key(&key(i).public_key()).to_bech32(Network::Devnet)
}

fn device(id: &str) -> Value {
    json!({"schema_version": 1, "id": id, "kind": "cpu", "vendor": "v", "model": "m",
           "memory_bytes": 1024, "cores": 2, "threads": 4, "capabilities": ["avx2"], "scores": null})
}

/// An unsigned announcement by key `i`.
fn unsigned(i: u8, seq: u64) -> ProviderAnnouncement {
    ProviderAnnouncement {
        version: 1,
        address: address(i),
        public_key: hex::encode(key(i).public_key().to_bytes()),
        devices: vec![device("cpu")],
        endpoint: Some("http://127.0.0.1:7460".to_owned()),
        seq,
        sent_at_ms: now_ms(),
        signature: String::new(),
    }
}

fn sign_a(mut a: ProviderAnnouncement, signer: u8) -> ProviderAnnouncement {
    a.signature = hex::encode(key(signer).sign(&a.signing_bytes()).0);
    a
}

fn announcement(i: u8, seq: u64) -> ProviderAnnouncement {
    sign_a(unsigned(i, seq), i)
}

fn unsigned_report(i: u8, seq: u64) -> JobReport {
    let now = now_ms();
    JobReport {
        version: 1,
        address: address(i),
        public_key: hex::encode(key(i).public_key().to_bytes()),
        job_id: format!("job-{seq}"),
        status: JobStatus::Succeeded,
        result: Some("ab".repeat(32)),
        transcript_root: None,
        metrics: json!({"accuracy": 0.97, "steps": 600})
            .as_object()
            .unwrap()
            .clone(),
        started_ms: now - 1000,
        ended_ms: now,
        seq,
        signature: String::new(),
    }
}

fn sign_r(mut r: JobReport, signer: u8) -> JobReport {
    r.signature = hex::encode(key(signer).sign(&r.signing_bytes()).0);
    r
}

fn report(i: u8, seq: u64) -> JobReport {
    sign_r(unsigned_report(i, seq), i)
}

/// Sends `attempt`, expects `status` and `code`, and that the registry did not change.
fn refused(n: &Node, attempt: impl FnOnce(&Node) -> (u16, Value), status: u16, code: &str) {
    let before = n.snapshot();
    let (got, body) = attempt(n);
    assert_eq!((got, body["code"].as_str()), (status, Some(code)), "{body}");
    assert!(!body["message"].as_str().unwrap().is_empty());
    assert_eq!(
        n.snapshot(),
        before,
        "a refused {code} changed the registry"
    );
}

#[test]
fn announce_list_get_and_reports() {
    let n = Node::start(ProviderConfig::default());
    let (s, body) = n.announce(&announcement(1, 10));
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["address"], address(1));
    assert_eq!(body["seq"], 10);
    assert_eq!(body["heartbeat_interval_ms"], 10_000);
    let (s, _) = n.announce(&announcement(1, 11));
    assert_eq!(s, 200);

    let (s, list) = n.get("/api/v1/providers?online=true");
    assert_eq!(s, 200);
    assert_eq!(list["expiry_ms"], 30_000);
    let p = &list["providers"][0];
    assert_eq!(p["address"], address(1));
    assert_eq!(p["online"], true);
    assert_eq!(p["heartbeats"], 2);
    assert_eq!(p["seq"], 11);
    assert_eq!(p["devices"][0]["id"], "cpu");
    assert_eq!(p["endpoint"], "http://127.0.0.1:7460");
    let (s, one) = n.get(&format!("/api/v1/providers/{}", address(1)));
    assert_eq!(s, 200);
    assert_eq!(&one, p);

    let posted = report(1, 1);
    let (s, body) = n.report(&posted);
    assert_eq!(s, 201, "{body}");
    assert_eq!(body["job_id"], "job-1");
    let (s, list) = n.get(&format!("/api/v1/providers/{}/reports", address(1)));
    assert_eq!(s, 200);
    let kept: JobReport = serde_json::from_value(list["reports"][0].clone()).unwrap();
    assert_eq!(kept, posted);

    // Queries for what is not there.
    assert_eq!(n.get(&format!("/api/v1/providers/{}", address(2))).0, 404);
    let (s, body) = n.get("/api/v1/providers/aic1notanaddress");
    assert_eq!((s, body["code"].as_str()), (400, Some("bad-address")));
    let (s, body) = n.get("/api/v1/providers?online=maybe");
    assert_eq!((s, body["code"].as_str()), (400, Some("malformed")));
    // The routes are in the OpenAPI document.
    let doc = n.get("/api/v1/openapi.json").1;
    assert!(doc["paths"]["/api/v1/providers/announce"]["post"].is_object());
}

#[test]
fn every_announcement_rule_refuses_and_changes_nothing() {
    let n = Node::start(ProviderConfig {
        max_body_bytes: 8 * 1024,
        max_devices: 4,
        max_providers: 2,
        ..ProviderConfig::default()
    });
    assert_eq!(n.announce(&announcement(1, 100)).0, 200);
    let announce = |a: ProviderAnnouncement| move |n: &Node| n.announce(&a);

    refused(
        &n,
        |n| n.post_raw("/api/v1/providers/announce", "{not json"),
        400,
        "malformed",
    );
    let mut extra = serde_json::to_value(announcement(1, 101)).unwrap();
    extra["extra"] = json!(1);
    refused(
        &n,
        |n| n.post("/api/v1/providers/announce", &extra),
        400,
        "malformed",
    );
    let big = ProviderAnnouncement {
        devices: vec![json!({"id": "cpu", "pad": "x".repeat(10_000)})],
        ..unsigned(1, 101)
    };
    refused(&n, announce(sign_a(big, 1)), 413, "too-large");
    refused(
        &n,
        announce(sign_a(
            ProviderAnnouncement {
                version: 2,
                ..unsigned(1, 101)
            },
            1,
        )),
        400,
        "unsupported-version",
    );
    let mainnet = Address::from_public_key(&key(1).public_key()).to_bech32(Network::Mainnet);
    refused(
        &n,
        announce(sign_a(
            ProviderAnnouncement {
                address: mainnet,
                ..unsigned(1, 101)
            },
            1,
        )),
        400,
        "bad-address",
    );
    let mut identity_point = [0u8; 32];
    identity_point[0] = 1;
    refused(
        &n,
        announce(sign_a(
            ProviderAnnouncement {
                public_key: hex::encode(identity_point),
                ..unsigned(1, 101)
            },
            1,
        )),
        400,
        "bad-public-key",
    );
    // Key 2 signs an announcement claiming key 1's address.
    refused(
        &n,
        announce(sign_a(
            ProviderAnnouncement {
                public_key: hex::encode(key(2).public_key().to_bytes()),
                ..unsigned(1, 101)
            },
            2,
        )),
        400,
        "address-mismatch",
    );
    // Key 2 signs key 1's announcement; then a field changed after signing.
    refused(
        &n,
        announce(sign_a(unsigned(1, 101), 2)),
        403,
        "bad-signature",
    );
    let mut tampered = announcement(1, 101);
    tampered.devices.push(device("gpu:0"));
    refused(&n, announce(tampered), 403, "bad-signature");
    // Replays: the accepted message again, and an older one.
    refused(&n, announce(announcement(1, 100)), 409, "stale-seq");
    refused(&n, announce(announcement(1, 99)), 409, "stale-seq");
    for sent_at_ms in [now_ms() - 6 * 60_000, now_ms() + 6 * 60_000] {
        refused(
            &n,
            announce(sign_a(
                ProviderAnnouncement {
                    sent_at_ms,
                    ..unsigned(1, 101)
                },
                1,
            )),
            400,
            "clock-skew",
        );
    }
    let five = (0..5).map(|i| device(&format!("d{i}"))).collect();
    refused(
        &n,
        announce(sign_a(
            ProviderAnnouncement {
                devices: five,
                ..unsigned(1, 101)
            },
            1,
        )),
        400,
        "too-many-devices",
    );
    for devices in [
        vec![json!("cpu")],
        vec![json!({"kind": "cpu"})],
        vec![json!({"id": ""})],
        vec![device("cpu"), device("cpu")],
    ] {
        refused(
            &n,
            announce(sign_a(
                ProviderAnnouncement {
                    devices,
                    ..unsigned(1, 101)
                },
                1,
            )),
            400,
            "bad-device",
        );
    }
    for endpoint in [
        "ftp://host",
        "http://",
        "http://a b",
        &format!("http://{}", "a".repeat(300)),
    ] {
        refused(
            &n,
            announce(sign_a(
                ProviderAnnouncement {
                    endpoint: Some(endpoint.to_owned()),
                    ..unsigned(1, 101)
                },
                1,
            )),
            400,
            "bad-endpoint",
        );
    }
    // Two providers online fill this registry; a third is refused, a known one still announces.
    assert_eq!(n.announce(&announcement(2, 1)).0, 200);
    refused(&n, announce(announcement(3, 1)), 503, "registry-full");
    assert_eq!(n.announce(&announcement(1, 101)).0, 200);
}

#[test]
fn every_report_rule_refuses_and_changes_nothing() {
    let n = Node::start(ProviderConfig {
        max_reports: 3,
        max_metrics_bytes: 256,
        max_body_bytes: 8 * 1024,
        ..ProviderConfig::default()
    });
    // Not announced yet.
    refused(&n, |n| n.report(&report(1, 1)), 404, "unknown-provider");
    assert_eq!(n.announce(&announcement(1, 1)).0, 200);
    assert_eq!(n.report(&report(1, 5)).0, 201);
    let post = |r: JobReport| move |n: &Node| n.report(&r);
    let with = |f: fn(&mut JobReport)| {
        let mut r = unsigned_report(1, 6);
        f(&mut r);
        sign_r(r, 1)
    };

    refused(
        &n,
        |n| n.post_raw(&format!("/api/v1/providers/{}/reports", address(1)), "[]"),
        400,
        "malformed",
    );
    refused(
        &n,
        post(with(|r| {
            r.metrics = json!({"pad": "x".repeat(10_000)})
                .as_object()
                .unwrap()
                .clone()
        })),
        413,
        "too-large",
    );
    refused(
        &n,
        post(with(|r| r.version = 0)),
        400,
        "unsupported-version",
    );
    // Key 1's report posted under key 2's address.
    refused(
        &n,
        |n| {
            n.post(
                &format!("/api/v1/providers/{}/reports", address(2)),
                &report(1, 6),
            )
        },
        400,
        "path-mismatch",
    );
    refused(
        &n,
        |n| n.post("/api/v1/providers/daic1bad/reports", &report(1, 6)),
        400,
        "bad-address",
    );
    refused(
        &n,
        post(with(|r| r.public_key = "zz".to_owned())),
        400,
        "bad-public-key",
    );
    refused(
        &n,
        post(with(|r| {
            r.public_key = hex::encode(key(2).public_key().to_bytes())
        })),
        400,
        "address-mismatch",
    );
    refused(
        &n,
        post(sign_r(unsigned_report(1, 6), 2)),
        403,
        "bad-signature",
    );
    refused(&n, post(report(1, 5)), 409, "stale-seq");
    refused(
        &n,
        post(with(|r| r.job_id = String::new())),
        400,
        "bad-job-id",
    );
    refused(
        &n,
        post(with(|r| r.job_id = "x".repeat(129))),
        400,
        "bad-job-id",
    );
    refused(
        &n,
        post(with(|r| r.result = Some("AB".repeat(32)))),
        400,
        "bad-hash",
    );
    refused(
        &n,
        post(with(|r| r.transcript_root = Some("ab".to_owned()))),
        400,
        "bad-hash",
    );
    refused(
        &n,
        post(with(|r| r.ended_ms = r.started_ms - 1)),
        400,
        "bad-time-range",
    );
    refused(
        &n,
        post(with(|r| r.ended_ms += 10 * 60_000)),
        400,
        "clock-skew",
    );
    refused(
        &n,
        post(with(|r| {
            r.metrics = json!({"pad": "x".repeat(300)}).as_object().unwrap().clone()
        })),
        400,
        "metrics-too-large",
    );

    // The last three are kept, oldest first; failed and preempted jobs are reported too.
    for (seq, status) in [
        (6, JobStatus::Failed),
        (7, JobStatus::Preempted),
        (8, JobStatus::Succeeded),
        (9, JobStatus::Succeeded),
    ] {
        let mut r = unsigned_report(1, seq);
        r.status = status;
        assert_eq!(n.report(&sign_r(r, 1)).0, 201);
    }
    let (_, list) = n.get(&format!("/api/v1/providers/{}/reports", address(1)));
    let seqs: Vec<u64> = list["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [7, 8, 9]);
    assert_eq!(list["reports"][0]["status"], "preempted");
    assert_eq!(
        n.get(&format!("/api/v1/providers/{}", address(1))).1["reports"],
        3
    );
}

#[test]
fn silent_providers_go_offline_and_make_room() {
    let n = Node::start(ProviderConfig {
        heartbeat_interval_ms: 100,
        max_providers: 2,
        ..ProviderConfig::default()
    });
    assert_eq!(n.announce(&announcement(1, 1)).0, 200);
    assert_eq!(n.announce(&announcement(2, 1)).0, 200);
    let online = |n: &Node| {
        n.get("/api/v1/providers?online=true").1["providers"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(online(&n), 2);
    // Provider 2 keeps announcing; provider 1 falls silent for more than 3 intervals.
    for seq in 2..8 {
        std::thread::sleep(Duration::from_millis(70));
        assert_eq!(n.announce(&announcement(2, seq)).0, 200);
    }
    assert_eq!(online(&n), 1);
    let one = n.get(&format!("/api/v1/providers/{}", address(1))).1;
    assert_eq!(one["online"], false);
    assert_eq!(
        n.get("/api/v1/providers").1["providers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // A newcomer takes the offline provider's place.
    assert_eq!(n.announce(&announcement(3, 1)).0, 200);
    assert_eq!(n.get(&format!("/api/v1/providers/{}", address(1))).0, 404);
    assert_eq!(online(&n), 2);
    // Now both places are held by online providers.
    let (s, body) = n.announce(&announcement(1, 1));
    assert_eq!((s, body["code"].as_str()), (503, Some("registry-full")));
}
