//! The provider agent against a node's real provider routes (`aic_rpc::provider_router`) on a
//! loopback port: announce and report, a heartbeat seen online and then offline once stopped,
//! and a heartbeat that outlives its node going down and recovers when a fresh node (an empty
//! registry, as after a restart) comes up on the same port.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aic_api::provider::JobStatus;
use aic_primitives::{Network, SecretKey};
use aic_rpc::{provider_router, ProviderConfig, ProviderRegistry};
use aic_worker::device::cpu_descriptor;
use aic_worker::provider::{
    ClientError, Heartbeat, Identity, IdentityError, JobOutcome, ProviderClient, IDENTITY_FILE,
};
use tokio::sync::oneshot;

/// A node serving only the provider routes.
struct Node {
    rt: tokio::runtime::Runtime,
    addr: SocketAddr,
    registry: Arc<ProviderRegistry>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Node {
    /// Starts on `addr` (port 0: any free port) with this heartbeat interval.
    fn start(addr: SocketAddr, heartbeat_interval_ms: u64) -> Node {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let registry = Arc::new(ProviderRegistry::new(
            Network::Devnet,
            ProviderConfig {
                heartbeat_interval_ms,
                ..ProviderConfig::default()
            },
        ));
        let listener = rt.block_on(tokio::net::TcpListener::bind(addr)).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let router = provider_router(registry.clone());
        let server = rt.spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Node {
            rt,
            addr,
            registry,
            stop: Some(stop),
            server: Some(server),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving and waits until the port is closed.
    fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = self
                .rt
                .block_on(async { tokio::time::timeout(Duration::from_secs(5), server).await });
        }
    }
}

fn identity(i: u8) -> Identity {
    Identity::new(Network::Devnet, SecretKey::from_seed([i; 32]))
}

/// Waits up to 10 s for `cond`.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn announce_report_and_query() {
    let node = Node::start("127.0.0.1:0".parse().unwrap(), 10_000);
    let id = identity(1);
    let devices = vec![cpu_descriptor()];
    let accepted =
        aic_worker::provider::announce(&node.url(), &id, &devices, Some("http://127.0.0.1:7460"))
            .unwrap();
    assert_eq!(accepted.address, id.address_text());
    assert_eq!(accepted.heartbeat_interval_ms, 10_000);

    let client = ProviderClient::new(&node.url(), id.clone());
    let me = client.provider(None).unwrap();
    assert!(me.online);
    assert_eq!(me.devices[0]["id"], "cpu");
    assert_eq!(me.devices[0]["kind"], "cpu");
    assert_eq!(me.endpoint.as_deref(), Some("http://127.0.0.1:7460"));
    assert_eq!(client.providers(true).unwrap().providers.len(), 1);

    let outcome = JobOutcome {
        job_id: "job-1".to_owned(),
        status: JobStatus::Succeeded,
        result: Some("0f".repeat(32)),
        transcript_root: None,
        metrics: serde_json::json!({"accuracy": 0.98})
            .as_object()
            .unwrap()
            .clone(),
        started_ms: 1,
        ended_ms: 2,
    };
    client.report(&outcome).unwrap();
    // The free function shares the process-wide counter: no reuse within a millisecond.
    aic_worker::provider::report(&node.url(), &id, &outcome).unwrap();
    let reports = client.reports().unwrap().reports;
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].job_id, "job-1");
    assert!(reports[0].seq < reports[1].seq);

    // A refusal comes back with the node's code.
    let stranger = ProviderClient::new(&node.url(), identity(2));
    match stranger.report(&outcome) {
        Err(ClientError::Refused { status, code, .. }) => {
            assert_eq!((status, code.as_str()), (404, "unknown-provider"))
        }
        other => panic!("expected unknown-provider, got {other:?}"),
    }
    node.shutdown();
}

#[test]
fn heartbeat_keeps_online_and_stopping_lets_it_expire() {
    let node = Node::start("127.0.0.1:0".parse().unwrap(), 100);
    let client = ProviderClient::new(&node.url(), identity(3));
    let address = client.identity().address_text();
    let hb = Heartbeat::start(
        client.clone(),
        &[cpu_descriptor()],
        None,
        Duration::from_millis(100),
    );
    wait_for("three accepted heartbeats", || hb.stats().accepted >= 3);
    let seen = client.provider(None).unwrap();
    assert!(seen.online);
    assert!(seen.heartbeats >= 3);
    assert_eq!(hb.stats().failures, 0);
    // Later ticks announce the devices set now.
    let mut gpu = cpu_descriptor();
    gpu.id = "gpu:test".to_owned();
    hb.set_devices(&[cpu_descriptor(), gpu]);
    wait_for("the new devices", || {
        client.provider(None).unwrap().devices.len() == 2
    });

    let t = Instant::now();
    let stats = hb.stop();
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "stop took {:?}",
        t.elapsed()
    );
    assert!(stats.accepted >= 3);
    // Three missed intervals (300 ms) later the node shows it offline, still listed.
    wait_for("offline", || !client.provider(None).unwrap().online);
    assert!(client.providers(true).unwrap().providers.is_empty());
    assert_eq!(
        client.providers(false).unwrap().providers[0].address,
        address
    );
    node.shutdown();
}

#[test]
fn heartbeat_survives_the_node_going_down_and_recovers() {
    let node = Node::start("127.0.0.1:0".parse().unwrap(), 100);
    let addr = node.addr;
    let url = node.url();
    let hb = Heartbeat::start(
        ProviderClient::new(&url, identity(4)),
        &[cpu_descriptor()],
        None,
        Duration::from_millis(100),
    );
    wait_for("an accepted heartbeat", || hb.stats().accepted >= 1);
    node.shutdown();
    wait_for("two failures", || hb.stats().consecutive_failures >= 2);
    let stats = hb.stats();
    assert!(
        matches!(stats.last_error, Some(ClientError::Transport(_))),
        "{stats:?}"
    );
    assert!(hb.is_running());

    // A fresh node on the same port: an empty registry, as after a restart.
    let node = Node::start(addr, 100);
    assert!(node.registry.is_empty());
    wait_for("the heartbeat to recover", || {
        hb.stats().consecutive_failures == 0 && node.registry.len() == 1
    });
    let client = ProviderClient::new(&url, identity(4));
    assert!(client.provider(None).unwrap().online);
    let stats = hb.stop();
    assert!(stats.failures >= 2);
    assert!(
        stats.last_error.is_some(),
        "the last error is kept after recovery"
    );
    node.shutdown();
}

#[test]
fn identity_file_is_created_private_and_reloaded() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("worker").join(IDENTITY_FILE);
    let created = Identity::load_or_create(&path, Network::Devnet).unwrap();
    let loaded = Identity::load_or_create(&path, Network::Devnet).unwrap();
    assert_eq!(created.address(), loaded.address());
    assert!(loaded.address_text().starts_with("daic1"));
    assert!(!format!("{loaded:?}").contains(&hex::encode(loaded.key().to_seed())));
    assert!(matches!(
        Identity::load(&path, Network::Mainnet),
        Err(IdentityError::WrongNetwork { .. })
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            Identity::load(&path, Network::Devnet),
            Err(IdentityError::Permissions { mode: 0o644, .. })
        ));
    }
}
